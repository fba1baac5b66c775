//! The resident's inzage (AVG art. 15): one self-contained HTML document with everything held
//! about one case — the resident's details, visits and observations, the assessments with
//! their justifications, the supervisors' reviews, and who accessed the file when. Nothing of
//! any other case goes in: the document is built from this case alone.

use std::collections::HashMap;
use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::checklist::{self, Framework};
use crate::model::Case;

/// Who and when, for the document's heading.
pub struct InzageContext<'a> {
    pub team_name: &'a str,
    pub generated_at: DateTime<Utc>,
    pub generated_by: &'a str,
    /// Device id (hex) to the member's name, for authors, reviewers and the access log.
    pub members: &'a HashMap<String, String>,
    /// Every framework version the case's assessments were weighed against.
    pub frameworks: &'a [Framework],
    /// For an export with its files: attachment id to the file's path beside the HTML
    /// (relative, for a link). A file without one is named as not in the export.
    pub file_links: Option<&'a HashMap<String, String>>,
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A time as people in the Netherlands read it (UTC, labelled, so the document means the
/// same wherever it is opened).
pub fn when(at: DateTime<Utc>) -> String {
    at.format("%d-%m-%Y %H:%M UTC").to_string()
}

pub fn render_html(case: &Case, context: &InzageContext<'_>) -> String {
    let name_of = |device: &str| -> String {
        context
            .members
            .get(device)
            .cloned()
            .unwrap_or_else(|| format!("apparaat {}", device.get(..8).unwrap_or(device)))
    };
    let mut h = String::with_capacity(8 * 1024);
    let title = format!("Inzage in het dossier van {}", case.resident.name);
    // Writing to a String cannot fail; the results are ignored for that reason.
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>{STYLE}</style></head><body>\n<h1>{}</h1>\n<p class=\"meta\">Opgesteld voor \
         de bewoner op grond van artikel 15 AVG door {} ({}), {}. Casusnummer {}.</p>\n",
        escape(&title),
        escape(&title),
        escape(context.generated_by),
        escape(context.team_name),
        when(context.generated_at),
        escape(&case.id),
    );
    let _ = write!(h, "<h2>Gegevens van de bewoner</h2>\n<dl>");
    let mut field = |label: &str, value: &str| {
        let _ = write!(h, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(value));
    };
    field("Naam", &case.resident.name);
    if let Some(v) = &case.resident.address {
        field("Adres", v);
    }
    if let Some(v) = &case.resident.phone {
        field("Telefoon", v);
    }
    if let Some(v) = &case.resident.household {
        field("Huishouden", v);
    }
    field("Status", case.status.label());
    field("Soort casus", case.case_type.map_or("Niet vastgelegd", |t| t.label()));
    field("Aangemaakt", &when(case.created_at));
    if let Some(closed) = case.closed_at {
        field("Gesloten", &when(closed));
    }
    h.push_str("</dl>\n");

    let _ = writeln!(h, "<h2>Bezoeken ({})</h2>", case.visits.len());
    if case.visits.is_empty() {
        h.push_str("<p>Er zijn geen bezoeken vastgelegd.</p>\n");
    }
    for visit in &case.visits {
        let place = visit.place.as_deref().map(|p| format!(" — {}", escape(p))).unwrap_or_default();
        let _ = write!(
            h,
            "<section class=\"visit\"><h3>{}{place}</h3><p class=\"meta\">Vastgelegd door {}",
            when(visit.at),
            escape(&name_of(&visit.author_device)),
        );
        if !visit.present.is_empty() {
            let _ = write!(h, "; aanwezig: {}", escape(&visit.present.join(", ")));
        }
        let _ = write!(h, "</p><p>{}</p>", escape(&visit.note));
        if !visit.observations.is_empty() {
            h.push_str("<ul>");
            for o in &visit.observations {
                let domain = o.domain.map(|d| format!("{}: ", d.label())).unwrap_or_default();
                let score = o
                    .score
                    .map(|s| format!(" (zelfredzaamheid {} — {})", s.value(), s.label()))
                    .unwrap_or_default();
                let _ =
                    write!(h, "<li>{}{}{}</li>", escape(&domain), escape(&o.text), escape(&score));
            }
            h.push_str("</ul>");
        }
        h.push_str("</section>\n");
    }

    let _ = writeln!(h, "<h2>Bijlagen ({})</h2>", case.attachments.len());
    if case.attachments.is_empty() {
        h.push_str("<p>Er zijn geen bijlagen bewaard.</p>\n");
    } else {
        h.push_str(
            "<table><thead><tr><th>Wanneer</th><th>Bestand</th><th>Omschrijving</th>\
             <th>Grootte</th><th>Bewaard door</th></tr></thead><tbody>",
        );
        for file in &case.attachments {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} kB</td><td>{}</td></tr>",
                when(file.at),
                match context.file_links.map(|links| links.get(&file.id)) {
                    None => escape(&file.name),
                    Some(Some(path)) => {
                        format!("<a href=\"{}\">{}</a>", escape(path), escape(&file.name))
                    }
                    Some(None) => format!(
                        "{} (niet in deze export: nog niet op dit apparaat)",
                        escape(&file.name)
                    ),
                },
                escape(file.caption.as_deref().unwrap_or("—")),
                file.size.div_ceil(1024),
                escape(&name_of(&file.author_device)),
            );
        }
        h.push_str("</tbody></table>\n");
    }

    let _ = writeln!(h, "<h2>Afwegingen en besluiten ({})</h2>", case.assessments.len());
    if case.assessments.is_empty() {
        h.push_str("<p>Er zijn geen afwegingen vastgelegd.</p>\n");
    }
    for assessment in &case.assessments {
        let framework = context
            .frameworks
            .iter()
            .find(|f| f.id == assessment.framework_id && f.version == assessment.framework_version);
        let text = match framework {
            Some(f) => checklist::justification(f, &assessment.answers),
            None => format!(
                "Onderbouwing: {}\n\nVoorgesteld besluit:\n{}\n",
                assessment.answers.question, assessment.answers.decision
            ),
        };
        let submitted = assessment
            .submitted_at
            .map(|t| format!(", ingediend {}", when(t)))
            .unwrap_or_else(|| ", nog niet ingediend".into());
        let _ = write!(
            h,
            "<section class=\"assessment\"><p class=\"meta\">Afweging door {}, begonnen {}{submitted}</p>\
             <pre>{}</pre>",
            escape(&name_of(&assessment.author_device)),
            when(assessment.created_at),
            escape(&text),
        );
        let reviews: Vec<_> =
            case.reviews.iter().filter(|r| r.assessment_id == assessment.id).collect();
        if !reviews.is_empty() {
            h.push_str("<h3>Beoordelingen</h3><ul>");
            for r in reviews {
                let rung = r.escalated_to.as_deref().map(|k| {
                    let title = framework
                        .and_then(|f| f.rung(k))
                        .map_or(k.to_string(), |rung| rung.title.clone());
                    format!(" naar {}", escape(&title))
                });
                let _ = write!(
                    h,
                    "<li>{} — {}{} door {}{}</li>",
                    when(r.at),
                    escape(r.verdict.label()),
                    rung.unwrap_or_default(),
                    escape(&name_of(&r.reviewer_device)),
                    if r.note.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", escape(&r.note))
                    },
                );
            }
            h.push_str("</ul>");
        }
        h.push_str("</section>\n");
    }

    let _ = writeln!(h, "<h2>Wie heeft het dossier ingezien ({})</h2>", case.access_log.len());
    h.push_str(
        "<table><thead><tr><th>Wanneer</th><th>Wie</th><th>Handeling</th><th>Namens</th></tr>\
         </thead><tbody>",
    );
    for entry in &case.access_log {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            when(entry.at),
            escape(&entry.member),
            escape(entry.action.label()),
            escape(entry.on_behalf.as_deref().unwrap_or("—")),
        );
    }
    h.push_str("</tbody></table>\n");
    h.push_str(
        "<p class=\"meta\">Herhaalde keren openen door dezelfde persoon binnen een kwartier staan \
         als één regel in dit overzicht.</p>\n</body></html>\n",
    );
    h
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;\
padding:0 1rem;color:#1d2430;line-height:1.45}h1{font-size:1.6rem}h2{margin-top:2rem;\
border-bottom:1px solid #ccd;padding-bottom:.2rem}.meta{color:#556;font-size:.9rem}\
dt{font-weight:600;float:left;clear:left;width:9rem}dd{margin:0 0 .3rem 10rem}\
pre{white-space:pre-wrap;background:#f5f6f8;padding:.8rem;border-radius:4px;font-family:inherit}\
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccd;padding:.3rem .5rem;\
text-align:left}section{margin-bottom:1.2rem}@media print{body{margin:0}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_case_text_is_shown_not_run() {
        assert_eq!(escape("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
    }
}
