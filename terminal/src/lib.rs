//! Terminal output for the `eropaf` command and the demo: Dutch text for people, JSON for
//! scripts. Nothing here decides anything; the core already sorted, validated and worded what
//! is shown.

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, Local, Utc};
use eropaf_core::model::{Case, CaseSummary};
use eropaf_core::{AssessmentView, Error, Member, SyncReport};
use serde::Serialize;

/// `println!` that treats a closed pipe (`eropaf case list | head -1`) as the reader being
/// done: everything was already saved before anything is printed, so stop quietly.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => { $crate::write_line(format_args!($($arg)*)) };
}

pub fn write_line(args: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{args}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("eropaf: kan niet naar de uitvoer schrijven: {e}");
        std::process::exit(1);
    }
}

/// Times are stored in UTC and shown in the worker's own time zone.
pub fn local(at: DateTime<Utc>) -> DateTime<Local> {
    at.with_timezone(&Local)
}

pub fn describe(error: &Error) -> String {
    error.message_nl()
}

/// An error from talking to the relay. When the relay refuses this device, say what that
/// most likely means and what to do, in Dutch: the relay's own reason is English.
pub fn describe_relay(error: &Error) -> String {
    error.relay_message_nl()
}

pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    outln!("{text}");
    Ok(())
}

pub fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

pub fn case_list(cases: &[CaseSummary]) {
    if cases.is_empty() {
        outln!("Geen casussen.");
        return;
    }
    for case in cases {
        let last = case
            .last_visit_at
            .map(|t| t.format("%d-%m-%Y").to_string())
            .unwrap_or_else(|| "-".into());
        let conflicts = if case.conflict_count > 0 { "  (conflict: kies een waarde)" } else { "" };
        outln!(
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
    outln!("Casus {}  {}", short(&case.id), case.resident.name);
    outln!("Status: {}", case.status.label());
    if let Some(t) = case.case_type {
        outln!("Soort: {}", t.label());
    }
    for (label, value) in [
        ("Adres", &case.resident.address),
        ("Telefoon", &case.resident.phone),
        ("Huishouden", &case.resident.household),
    ] {
        if let Some(value) = value {
            outln!("{label}: {value}");
        }
    }
    for conflict in &case.conflicts {
        outln!("Conflict in {}: {} (kies een waarde)", conflict.path, conflict.values.join(" / "));
    }
    outln!("\nBezoeken ({}):", case.visits.len());
    for visit in &case.visits {
        let place = visit.place.as_deref().map(|p| format!(" — {p}")).unwrap_or_default();
        outln!("- {}{}  [{}]", local(visit.at).format("%d-%m-%Y %H:%M"), place, short(&visit.id));
        if !visit.present.is_empty() {
            outln!("  Aanwezig: {}", visit.present.join(", "));
        }
        if !visit.note.is_empty() {
            outln!("  {}", visit.note);
        }
        for o in &visit.observations {
            let domain = o.domain.map(|d| format!("{}: ", d.label())).unwrap_or_default();
            let score =
                o.score.map(|s| format!(" ({} – {})", s.value(), s.label())).unwrap_or_default();
            outln!("  • {domain}{}{score}", o.text);
        }
    }
    outln!("\nAfwegingen ({}):", case.assessments.len());
    for a in &case.assessments {
        let maatwerk = if a.answers.maatwerk { "  [maatwerk]" } else { "" };
        outln!("- {}  {}{}", short(&a.id), a.answers.question, maatwerk);
    }
    if !case.reviews.is_empty() {
        outln!("\nBeoordelingen ({}):", case.reviews.len());
        for r in &case.reviews {
            outln!("- {} {}: {}", local(r.at).format("%d-%m-%Y"), r.verdict.label(), r.note);
        }
    }
}

pub fn assessment(view: &AssessmentView) {
    let p = &view.progress;
    outln!(
        "Afweging {} — {} ({} van {} beantwoord)",
        short(&view.assessment.id),
        view.framework_title,
        p.answered,
        p.total
    );
    if p.complete {
        outln!("Compleet.");
    } else {
        for missing in &p.missing {
            outln!("Ontbreekt: {}", missing.reason);
        }
    }
    outln!("\n{}", view.justification);
}

/// The team's devices, one a line, with the full id (`team revoke` takes it or a prefix).
pub fn members(members: &[Member], this_device: &str) {
    for m in members {
        let mut notes = Vec::new();
        if m.device_id == this_device {
            notes.push("dit apparaat");
        }
        let wiped;
        if m.revoked {
            notes.push("ingetrokken");
        }
        if let Some(at) = m.wiped_at {
            wiped = format!("gewist om {}", local(at).format("%H:%M"));
            notes.push(&wiped);
        }
        let notes =
            if notes.is_empty() { String::new() } else { format!("  ({})", notes.join(", ")) };
        outln!("{}  {:<28} {}{}", m.device_id, m.member, m.role.label(), notes);
    }
}

/// What a sync moved, for people. `names` maps case ids to residents' names.
pub fn sync_report(report: &SyncReport, names: &HashMap<String, String>) {
    if let Some(at) = report.wiped_at {
        outln!(
            "Dit apparaat is uit het team ingetrokken en heeft zichzelf gewist om {}: \
             casussen, sleutels en wachtrij zijn weg.",
            local(at).format("%H:%M")
        );
        return;
    }
    if report.waiting_for_approval {
        outln!(
            "Nog niet toegelaten: een leidinggevende moet eerst synchroniseren (`eropaf sync`) \
             om dit apparaat toe te laten. Synchroniseer daarna opnieuw."
        );
        return;
    }
    outln!(
        "Gesynchroniseerd: {} verstuurd, {} opgehaald, {} toegepast.",
        report.pushed,
        report.pulled,
        report.applied
    );
    if report.chunks_uploaded > 0 {
        outln!("Bijlagen: {} delen naar de relay verstuurd.", report.chunks_uploaded);
    }
    if report.waiting_joiners > 0 {
        let noun = if report.waiting_joiners == 1 { "apparaat wacht" } else { "apparaten wachten" };
        outln!(
            "{} {noun} op toelating: vergelijk de veiligheidscode met `eropaf team pending`.",
            report.waiting_joiners
        );
    }
    if !report.changed_cases.is_empty() {
        outln!("Bijgewerkte casussen:");
        for id in &report.changed_cases {
            let name = names.get(id).map(String::as_str).unwrap_or("(gewist)");
            outln!("  {}  {name}", short(id));
        }
    }
    if !report.forgotten_cases.is_empty() {
        outln!(
            "{} casus(sen) van dit apparaat verwijderd: overgedragen of niet meer toegewezen. \
             Eigen werk erin was al verstuurd.",
            report.forgotten_cases.len()
        );
    }
    if report.unreadable > 0 {
        outln!(
            "Niet te lezen: {} (geschreven na een intrekking, of de sleutel is nog niet binnen).",
            report.unreadable
        );
    }
    for reason in &report.refused {
        outln!("Geweigerd (niet toegepast): {reason}");
    }
    for warning in &report.warnings {
        outln!("Let op: {warning}.");
    }
}
