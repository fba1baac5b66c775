//! Output: Dutch text for people, JSON for scripts. Nothing here decides anything; the core
//! already sorted, validated and worded what is shown.

use eropaf_core::model::{Case, CaseSummary};
use eropaf_core::{AssessmentView, Error};
use serde::Serialize;

pub fn describe(error: &Error) -> String {
    error.message_nl()
}

pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

pub fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

pub fn case_list(cases: &[CaseSummary]) {
    if cases.is_empty() {
        println!("Geen casussen.");
        return;
    }
    for case in cases {
        let last = case
            .last_visit_at
            .map(|t| t.format("%d-%m-%Y").to_string())
            .unwrap_or_else(|| "-".into());
        let conflicts = if case.conflict_count > 0 { "  (conflict: kies een waarde)" } else { "" };
        println!(
            "{}  {:<28} {:<10} bezoeken: {:<3} laatste: {}{}",
            short(&case.id),
            case.resident.name,
            case.status.label(),
            case.visit_count,
            last,
            conflicts
        );
    }
}

pub fn case_detail(case: &Case) {
    println!("Casus {}  {}", short(&case.id), case.resident.name);
    println!("Status: {}", case.status.label());
    if let Some(t) = case.case_type {
        println!("Soort: {}", t.label());
    }
    for (label, value) in [
        ("Adres", &case.resident.address),
        ("Telefoon", &case.resident.phone),
        ("Huishouden", &case.resident.household),
    ] {
        if let Some(value) = value {
            println!("{label}: {value}");
        }
    }
    for conflict in &case.conflicts {
        println!(
            "Conflict in {}: {} (kies een waarde)",
            conflict.path,
            conflict.values.join(" / ")
        );
    }
    println!("\nBezoeken ({}):", case.visits.len());
    for visit in &case.visits {
        let place = visit.place.as_deref().map(|p| format!(" — {p}")).unwrap_or_default();
        println!("- {}{}  [{}]", visit.at.format("%d-%m-%Y %H:%M"), place, short(&visit.id));
        if !visit.present.is_empty() {
            println!("  Aanwezig: {}", visit.present.join(", "));
        }
        if !visit.note.is_empty() {
            println!("  {}", visit.note);
        }
        for o in &visit.observations {
            let domain = o.domain.map(|d| format!("{}: ", d.label())).unwrap_or_default();
            let score =
                o.score.map(|s| format!(" ({} – {})", s.value(), s.label())).unwrap_or_default();
            println!("  • {domain}{}{score}", o.text);
        }
    }
    println!("\nAfwegingen ({}):", case.assessments.len());
    for a in &case.assessments {
        let maatwerk = if a.answers.maatwerk { "  [maatwerk]" } else { "" };
        println!("- {}  {}{}", short(&a.id), a.answers.question, maatwerk);
    }
    if !case.reviews.is_empty() {
        println!("\nBeoordelingen ({}):", case.reviews.len());
        for r in &case.reviews {
            println!("- {} {}: {}", r.at.format("%d-%m-%Y"), r.verdict.label(), r.note);
        }
    }
}

pub fn assessment(view: &AssessmentView) {
    let p = &view.progress;
    println!(
        "Afweging {} — {} ({} van {} beantwoord)",
        short(&view.assessment.id),
        view.framework_title,
        p.answered,
        p.total
    );
    if p.complete {
        println!("Compleet.");
    } else {
        for missing in &p.missing {
            println!("Ontbreekt: {}", missing.reason);
        }
    }
    println!("\n{}", view.justification);
}
