//! The console's pages as HTML strings: one layout, one function per page, every text from
//! a case escaped. Dutch throughout.

use std::collections::HashMap;
use std::fmt::Write;

use chrono::{DateTime, Local, Utc};
use eropaf_core::checklist::{format_euro, Framework};
use eropaf_core::inzage::escape;
use eropaf_core::model::TeamPolicy;
use eropaf_core::model::{AccessRequest, AssignmentRole, Case, CaseSummary, CaseType};
use eropaf_core::records::Erasure;
use eropaf_core::reports::TeamReport;
use eropaf_core::retention::RetentionItem;
use eropaf_core::review::ReviewState;
use eropaf_core::CaseAccess;
use eropaf_core::{AssessmentView, Eropaf, Member, PendingJoiner, QueueItem};

use super::access::{Session, FORM_TOKEN_FIELD};
use super::charts;

/// Times are stored in UTC and shown in the supervisor's own time zone.
fn local(at: DateTime<Utc>) -> DateTime<Local> {
    at.with_timezone(&Local)
}

/// A message for the top of a page after an action.
#[derive(Default)]
pub struct Flash {
    pub message: Option<String>,
    pub warning: Option<String>,
}

/// What every page shows around its content.
pub struct Frame {
    team: String,
    member: String,
    flash_html: String,
    /// The hidden field with the session's form token, for every form on the page: the
    /// console refuses a form without it (see `access`).
    form_field: String,
}

impl Frame {
    pub fn of(
        device: &Eropaf,
        flash: &Flash,
        session: &Session,
    ) -> Result<Frame, eropaf_core::Error> {
        let team = device.team_info()?.map(|t| t.team_name).unwrap_or_else(|| "Geen team".into());
        let mut flash_html = String::new();
        if let Some(m) = &flash.message {
            let _ = write!(flash_html, "<p class=\"flash ok\" role=\"status\">{}</p>", escape(m));
        }
        if let Some(w) = &flash.warning {
            let _ = write!(
                flash_html,
                "<p class=\"flash warn\" role=\"alert\">Opgeslagen op dit apparaat, maar \
                 synchroniseren lukte niet: {}</p>",
                escape(w)
            );
        }
        let form_field = format!(
            "<input type=\"hidden\" name=\"{FORM_TOKEN_FIELD}\" value=\"{}\">",
            escape(&session.form_token)
        );
        Ok(Frame { team, member: device.member_name(), flash_html, form_field })
    }
}

fn when(at: DateTime<Utc>) -> String {
    local(at).format("%d-%m-%Y %H:%M").to_string()
}

fn day(at: DateTime<Utc>) -> String {
    local(at).format("%d-%m-%Y").to_string()
}

fn layout(frame: &Frame, active: &str, title: &str, body: &str) -> String {
    let nav = [
        ("/", "Wachtrij"),
        ("/casussen", "Casussen"),
        ("/rapportage", "Rapportage"),
        ("/waardenkader", "Waardenkader"),
        ("/team", "Team"),
    ]
    .iter()
    .map(|(href, label)| {
        let current = if *href == active { " aria-current=\"page\"" } else { "" };
        format!("<a href=\"{href}\"{current}>{label}</a>")
    })
    .collect::<String>();
    format!(
        "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — Eropaf</title><link rel=\"stylesheet\" href=\"/stijl.css\"></head><body>\
         <header><div class=\"brand\">Eropaf <span>console</span></div><nav>{nav}</nav>\
         <div class=\"who\">{team} · {member}\
         <form method=\"post\" action=\"/sync\">{form_field}<button class=\"small\">Synchroniseren</button></form></div>\
         </header><main>{flash}<h1>{title}</h1>{body}</main></body></html>",
        title = escape(title),
        team = escape(&frame.team),
        member = escape(&frame.member),
        flash = frame.flash_html,
        form_field = frame.form_field,
    )
}

pub fn error_page(message: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>Fout — Eropaf</title>\
         <link rel=\"stylesheet\" href=\"/stijl.css\"></head><body><main><h1>Dat lukte niet</h1><p class=\"flash warn\">{}</p>\
         <p><a href=\"/\">Naar de wachtrij</a> · <a href=\"/casussen\">Naar de casussen</a></p>\
         </main></body></html>",
        escape(message)
    )
}

fn state_badge(state: &ReviewState) -> String {
    let class = match state {
        ReviewState::Waiting => "wait",
        ReviewState::Conflict { .. } => "conflict",
        ReviewState::Decided { review } => match review.verdict {
            eropaf_core::model::ReviewVerdict::Approved => "ok",
            eropaf_core::model::ReviewVerdict::ChangesRequested => "changes",
            eropaf_core::model::ReviewVerdict::Escalated => "escalated",
        },
        ReviewState::Draft | ReviewState::NoReviewNeeded => "neutral",
    };
    format!("<span class=\"badge {class}\">{}</span>", escape(state.label()))
}

fn case_type(t: Option<CaseType>) -> &'static str {
    t.map_or("—", |t| t.label())
}

fn money(cents: Option<u64>) -> String {
    cents.map_or("—".into(), format_euro)
}

pub fn queue(frame: &Frame, queue: &[QueueItem], names: &HashMap<String, String>) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<p class=\"lead\">{}</p>",
        match queue.len() {
            0 => "Er wacht niets op een leidinggevende. Goed bezig.".to_string(),
            1 => "Eén afweging wacht op een leidinggevende.".to_string(),
            n => format!("{n} afwegingen wachten op een leidinggevende."),
        }
    );
    if !queue.is_empty() {
        body.push_str(
            "<div class=\"scroll\"><table class=\"queue\"><thead><tr><th>Ingediend</th><th>Bewoner</th><th>Soort</th>\
             <th>Vraag</th><th>Door</th><th>Maatwerk</th><th>Bedrag</th><th>Status</th><th>Trede</th>\
             <th></th></tr></thead><tbody>",
        );
        for item in queue {
            let author = names.get(&item.author_device).map_or("?", String::as_str);
            let _ = write!(
                body,
                "<tr data-assessment=\"{aid}\"><td class=\"nowrap\">{submitted}</td><td><a href=\"/casus/{case}\">{resident}</a></td>\
                 <td>{kind}</td><td class=\"question\">{question}</td><td>{author}</td><td>{maatwerk}</td>\
                 <td class=\"num\">{budget}</td><td>{state}</td><td>{rung}</td>\
                 <td><a class=\"button\" href=\"/casus/{case}#afweging-{aid}\">Beoordelen</a></td></tr>",
                aid = escape(&item.assessment_id),
                submitted = when(item.submitted_at),
                case = escape(&item.case_id),
                resident = escape(&item.resident),
                kind = case_type(item.case_type),
                question = escape(&item.question),
                author = escape(author),
                maatwerk = if item.maatwerk { "ja" } else { "nee" },
                budget = money(item.budget_cents),
                state = state_badge(&item.state),
                rung = escape(&item.rung),
            );
        }
        body.push_str("</tbody></table></div>");
    }
    body.push_str(
        "<p class=\"hint\">In de wachtrij staan ingediende afwegingen die afwijken van het \
         standaardbeleid of meer maatwerkbudget vragen dan de drempel van het team, \
         geëscaleerde afwegingen, en afwegingen waarover twee leidinggevenden tegelijk anders \
         oordeelden.</p>",
    );
    layout(frame, "/", "Beoordelingswachtrij", &body)
}

pub fn cases(
    frame: &Frame,
    cases: &[CaseSummary],
    due: &[RetentionItem],
    erasures: &[Erasure],
    can_erase: bool,
) -> String {
    let mut body = String::new();
    body.push_str(
        "<table><thead><tr><th>Bewoner</th><th>Soort</th><th>Status</th><th>Bezoeken</th>\
         <th>Afwegingen</th><th>Laatste bezoek</th><th>Conflicten</th></tr></thead><tbody>",
    );
    for c in cases {
        let _ = write!(
            body,
            "<tr><td><a href=\"/casus/{id}\">{name}</a></td><td>{kind}</td><td>{status}</td>\
             <td class=\"num\">{visits}</td><td class=\"num\">{assessments}</td><td>{last}</td><td class=\"num\">{conflicts}</td></tr>",
            id = escape(&c.id),
            name = escape(&c.resident.name),
            kind = case_type(c.case_type),
            status = c.status.label(),
            visits = c.visit_count,
            assessments = c.assessment_count,
            last = c.last_visit_at.map(day).unwrap_or_else(|| "—".into()),
            conflicts = c.conflict_count,
        );
    }
    body.push_str("</tbody></table>");
    body.push_str("<h2>Bewaartermijn verstreken</h2>");
    if due.is_empty() {
        body.push_str(
            "<p>Geen gesloten casussen voorbij hun bewaartermijn. Een casus telt vanaf het \
             sluiten: Wmo 15 jaar, Jeugd 20 jaar, tenzij het team anders instelde.</p>",
        );
    } else {
        let names: HashMap<&str, &str> =
            cases.iter().map(|c| (c.id.as_str(), c.resident.name.as_str())).collect();
        body.push_str("<table><thead><tr><th>Bewoner</th><th>Soort</th><th>Gesloten</th><th>Wissen na</th><th></th></tr></thead><tbody>");
        for item in due {
            let action = if can_erase {
                format!(
                    "<form method=\"post\" action=\"/casus/{id}/wissen\" class=\"inline\">{form_field}\
                     <input name=\"namens\" placeholder=\"Namens (optioneel)\">\
                     <label><input type=\"checkbox\" name=\"bevestig\" value=\"ja\"> zeker</label>\
                     <button class=\"danger\">Wissen</button></form>",
                    id = escape(&item.case_id),
                    form_field = frame.form_field,
                )
            } else {
                String::new()
            };
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
                escape(names.get(item.case_id.as_str()).copied().unwrap_or("?")),
                item.case_type.label(),
                day(item.closed_at),
                day(item.erase_after),
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("<h2>Gewiste casussen</h2>");
    if erasures.is_empty() {
        body.push_str("<p>Er is nog geen casus gewist.</p>");
    } else {
        body.push_str("<table><thead><tr><th>Casusnummer</th><th>Gewist</th><th>Door</th><th>Namens</th></tr></thead><tbody>");
        for e in erasures {
            let _ = write!(
                body,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(e.case_id.get(..8).unwrap_or(&e.case_id)),
                when(e.entry.at),
                escape(&e.entry.member),
                escape(e.entry.on_behalf.as_deref().unwrap_or("—")),
            );
        }
        body.push_str("</tbody></table><p class=\"hint\">Van een gewiste casus bewaart het team alleen het nummer: de sleutels en gegevens zijn overal vernietigd.</p>");
    }
    layout(frame, "/casussen", "Casussen", &body)
}

/// An assessment with where it stands and what a supervisor can do with it.
pub struct AssessmentCard {
    pub view: AssessmentView,
    pub state: ReviewState,
    pub rung: String,
    pub next_rung: Option<String>,
}

pub fn case(
    frame: &Frame,
    case: &Case,
    access: &CaseAccess,
    cards: &[AssessmentCard],
    names: &HashMap<String, String>,
    members: &[String],
) -> String {
    let name_of = |device: &str| -> String {
        names
            .get(device)
            .cloned()
            .unwrap_or_else(|| format!("apparaat {}", device.get(..8).unwrap_or(device)))
    };
    let mut body = String::new();
    let _ = write!(
        body,
        "<p class=\"meta\">{status} · {kind} · aangemaakt {created}{closed} · casus <code>{short}</code></p>\
         <p class=\"actions\"><a class=\"button\" href=\"/casus/{id}/inzage\" target=\"_blank\">Inzage (AVG art. 15)</a> \
         <a class=\"button\" href=\"/casus/{id}/afdrukken\" target=\"_blank\">Afdrukken</a></p>",
        status = case.status.label(),
        kind = case_type(case.case_type),
        created = day(case.created_at),
        closed = case.closed_at.map(|c| format!(" · gesloten {}", day(c))).unwrap_or_default(),
        short = escape(case.id.get(..8).unwrap_or(&case.id)),
        id = escape(&case.id),
    );
    if let Some(household) = &case.resident.household {
        let _ = write!(body, "<p>Huishouden: {}</p>", escape(household));
    }
    // Need-to-know: who holds this case's keys (`eropaf case assign` changes it).
    let assigned = if access.assignments.is_empty() {
        format!(
            "nog niemand; de casus is van {}, die hem aanlegde",
            access.creator.as_deref().unwrap_or("de medewerker")
        )
    } else {
        access
            .assignments
            .iter()
            .map(|a| {
                let until = a.until.map(|u| format!(" tot {}", day(u))).unwrap_or_default();
                format!("{} ({}{until})", a.member, a.role.label())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = write!(
        body,
        "<p class=\"meta\">Toegewezen: {} · leesbaar voor {}</p>",
        escape(&assigned),
        escape(&access.readers.join(", "))
    );
    assignment_forms(&mut body, frame, case, access, members);
    if !case.conflicts.is_empty() {
        body.push_str("<div class=\"flash warn\"><strong>Tegelijk anders ingevuld — kies wat geldt:</strong><ul>");
        for c in &case.conflicts {
            let _ = write!(
                body,
                "<li><code>{}</code>: {}</li>",
                escape(&c.path),
                escape(&c.values.join(" / "))
            );
        }
        body.push_str("</ul></div>");
    }

    let _ = write!(body, "<h2>Afwegingen ({})</h2>", cards.len());
    for card in cards {
        let a = &card.view.assessment;
        let _ = write!(
            body,
            "<section class=\"card\" id=\"afweging-{id}\"><h3>{question}</h3>\
             <p class=\"meta\">{state} · door {author} · {submitted} · {maatwerk}{budget}{rung}</p>\
             <details{open}><summary>Onderbouwing</summary><pre>{justification}</pre></details>",
            id = escape(&a.id),
            question = escape(&a.answers.question),
            state = state_badge(&card.state),
            author = escape(&name_of(&a.author_device)),
            submitted = a
                .submitted_at
                .map(|t| format!("ingediend {}", when(t)))
                .unwrap_or_else(|| "nog niet ingediend".into()),
            maatwerk = if a.answers.maatwerk { "maatwerk" } else { "standaardbeleid" },
            budget = a
                .answers
                .budget_cents
                .map(|c| format!(" · {}", format_euro(c)))
                .unwrap_or_default(),
            rung = if card.rung.is_empty() {
                String::new()
            } else {
                format!(" · trede: {}", escape(&card.rung))
            },
            open = if card.state.in_queue() { " open" } else { "" },
            justification = escape(&card.view.justification),
        );
        let reviews: Vec<_> = case.reviews.iter().filter(|r| r.assessment_id == a.id).collect();
        if !reviews.is_empty() {
            body.push_str("<h4>Beoordelingen</h4><ul class=\"reviews\">");
            for r in reviews {
                let _ = write!(
                    body,
                    "<li>{} — <strong>{}</strong> door {}{}</li>",
                    when(r.at),
                    escape(r.verdict.label()),
                    escape(&name_of(&r.reviewer_device)),
                    if r.note.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", escape(&r.note))
                    },
                );
            }
            body.push_str("</ul>");
        }
        let reviewable = a.submitted_at.is_some() && a.needs_review;
        if reviewable {
            let escalate = match &card.next_rung {
                Some(rung) => format!(
                    "<button name=\"actie\" value=\"escalate\" class=\"escalate\">Escaleren naar {}</button>",
                    escape(rung)
                ),
                None => "<button disabled>Hoogste trede bereikt</button>".into(),
            };
            let _ = write!(
                body,
                "<form method=\"post\" action=\"/casus/{case}/afweging/{id}\" class=\"review\">{form_field}\
                 <label for=\"notitie-{id}\">Notitie voor de medewerker (nodig bij aanpassing of escalatie)</label>\
                 <textarea id=\"notitie-{id}\" name=\"notitie\" rows=\"2\"></textarea>\
                 <div class=\"buttons\"><button name=\"actie\" value=\"approve\" class=\"approve\">Goedkeuren</button>\
                 <button name=\"actie\" value=\"request_changes\">Aanpassing vragen</button>{escalate}</div></form>",
                case = escape(&case.id),
                id = escape(&a.id),
                form_field = frame.form_field,
            );
        }
        body.push_str("</section>");
    }

    if !case.attachments.is_empty() {
        // Opening one is an access-log entry (a photo's thumbnail too); the console serves
        // them under a sandbox policy, anything but a photo as a download.
        let _ = write!(
            body,
            "<h2>Bijlagen ({})</h2><ul class=\"attachments\">",
            case.attachments.len()
        );
        for file in &case.attachments {
            let href = format!("/casus/{}/bijlage/{}", escape(&case.id), escape(&file.id));
            let thumbnail = if file.on_device && shown_inline(&file.media_type) {
                format!("<img src=\"{href}\" alt=\"\" width=\"160\" loading=\"lazy\"> ")
            } else {
                String::new()
            };
            let name = format!(
                "<a href=\"{href}\"><strong>{}</strong></a>{}",
                escape(&file.name),
                if file.on_device { "" } else { " (wordt bij openen van de relay gehaald)" }
            );
            let _ = write!(
                body,
                "<li>{thumbnail}{} · {name}{} · {} kB · {}</li>",
                when(file.at),
                file.caption.as_deref().map(|c| format!(" — {}", escape(c))).unwrap_or_default(),
                file.size.div_ceil(1024),
                escape(&name_of(&file.author_device)),
            );
        }
        body.push_str("</ul>");
    }

    let _ = write!(body, "<h2>Bezoeken ({})</h2>", case.visits.len());
    for v in &case.visits {
        let _ = write!(
            body,
            "<section class=\"visit\"><p class=\"meta\">{}{} · {}{}</p><p>{}</p>",
            when(v.at),
            v.place.as_deref().map(|p| format!(" — {}", escape(p))).unwrap_or_default(),
            escape(&name_of(&v.author_device)),
            if v.present.is_empty() {
                String::new()
            } else {
                format!(" · aanwezig: {}", escape(&v.present.join(", ")))
            },
            escape(&v.note),
        );
        if !v.observations.is_empty() {
            body.push_str("<ul>");
            for o in &v.observations {
                let _ = write!(
                    body,
                    "<li>{}{}{}</li>",
                    o.domain
                        .map(|d| format!("<strong>{}</strong>: ", d.label()))
                        .unwrap_or_default(),
                    escape(&o.text),
                    o.score
                        .map(|s| format!(
                            " <span class=\"score s{0}\">{0} · {1}</span>",
                            s.value(),
                            s.label()
                        ))
                        .unwrap_or_default(),
                );
            }
            body.push_str("</ul>");
        }
        body.push_str("</section>");
    }

    let _ = write!(body, "<h2>Toegangslog ({})</h2>", case.access_log.len());
    body.push_str("<table class=\"log\"><thead><tr><th>Wanneer</th><th>Wie</th><th>Handeling</th><th>Namens</th><th>Apparaat</th></tr></thead><tbody>");
    for e in case.access_log.iter().rev() {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            when(e.at),
            escape(&e.member),
            e.action.label(),
            escape(e.on_behalf.as_deref().unwrap_or("—")),
            escape(e.device.get(..8).unwrap_or(&e.device)),
        );
    }
    body.push_str("</tbody></table><p class=\"hint\">Elke keer dat iemand deze casus opent, exporteert of afdrukt staat hier (NEN 7513). Herhaald openen binnen een kwartier telt als één keer.</p>");
    layout(frame, "/casussen", &case.resident.name, &body)
}

pub fn reports(frame: &Frame, report: &TeamReport) -> String {
    let mut body = String::new();
    let median = report
        .reviews
        .median_turnaround_hours()
        .map(|h| {
            let text = if h < 1.0 {
                format!("{:.0} min", h * 60.0)
            } else if h < 48.0 {
                format!("{h:.1} uur")
            } else {
                format!("{:.1} dagen", h / 24.0)
            };
            text.replace('.', ",")
        })
        .unwrap_or_else(|| "—".into());
    let _ = write!(
        body,
        "<p class=\"lead\">Zonder namen: voor de reflectie van het team op zijn besluiten.</p>\
         <div class=\"tiles\">\
         <div class=\"tile\"><span class=\"big\">{decisions}</span>besluiten</div>\
         <div class=\"tile\"><span class=\"big\">{share:.0}%</span>wijkt af van beleid ({maatwerk} van {decisions})</div>\
         <div class=\"tile\"><span class=\"big\">{median}</span>mediane doorlooptijd beoordeling ({reviewed} beoordeeld)</div>\
         <div class=\"tile\"><span class=\"big\">{spent}</span>besteed van {budget}</div></div>",
        decisions = report.decisions,
        share = report.maatwerk_share() * 100.0,
        maatwerk = report.maatwerk,
        reviewed = report.reviews.turnaround_hours.len(),
        spent = format_euro(report.budget.spent_cents),
        budget = format_euro(report.budget.budget_cents),
    );
    body.push_str("<h2>Hoe de waarden wogen</h2>");
    body.push_str(&charts::value_bars(&report.values));
    body.push_str("<div class=\"two\"><div><h2>Beoordelingen</h2>");
    body.push_str(&charts::review_bars(&report.reviews));
    body.push_str("</div><div><h2>Maatwerkbudget</h2>");
    body.push_str(&charts::budget_bar(&report.budget));
    body.push_str("</div></div>");
    body.push_str("<h2>Vergelijkbare vragen, verschillende uitkomsten</h2>");
    if report.similar.is_empty() {
        body.push_str("<p>Geen vergelijkbare vragen met een verschillende uitkomst gevonden.</p>");
    } else {
        body.push_str("<p class=\"hint\">Gelijke gevallen gelijk behandelen, ongelijke naar de mate van hun ongelijkheid: bespreek of het verschil uit te leggen is.</p>");
        for pair in &report.similar {
            body.push_str("<div class=\"pair\">");
            for line in [&pair.first, &pair.second] {
                let _ = write!(
                    body,
                    "<div class=\"card\"><p class=\"meta\">{kind} · {outcome}{budget}</p><p><strong>{q}</strong></p><p>{d}</p></div>",
                    kind = case_type(line.case_type),
                    outcome = escape(&line.outcome),
                    budget = line.budget_cents.map(|c| format!(" · {}", format_euro(c))).unwrap_or_default(),
                    q = escape(&line.question),
                    d = escape(&line.decision),
                );
            }
            let _ = write!(
                body,
                "</div><p class=\"hint\">Overeenkomst in de vraag: {:.0}%</p>",
                pair.similarity * 100.0
            );
        }
    }
    layout(frame, "/rapportage", "Rapportage", &body)
}

pub fn framework(
    frame: &Frame,
    versions: &[Framework],
    source: &str,
    error: Option<&str>,
    policy: &TeamPolicy,
) -> String {
    let mut body = String::new();
    body.push_str("<table><thead><tr><th>Waardenkader</th><th>Versie</th><th>Stappen</th><th>Waarden</th><th>Treden</th></tr></thead><tbody>");
    for f in versions.iter().rev() {
        let _ = write!(
            body,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&f.title),
            f.version,
            f.steps.len(),
            f.values.len(),
            f.escalation.len()
        );
    }
    body.push_str("</tbody></table>");
    body.push_str("<h2>Nieuwe versie</h2><p class=\"hint\">Pas de tekst aan en verhoog <code>version</code>. \
        Eerdere versies blijven bewaard: afwegingen blijven leesbaar tegen de versie waarmee ze zijn gemaakt. \
        Na opslaan gaat de nieuwe versie bij de volgende synchronisatie naar iedereen in het team.</p>");
    if let Some(error) = error {
        let _ = write!(body, "<p class=\"flash warn\" role=\"alert\">{}</p>", escape(error));
    }
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/waardenkader\">{}<textarea name=\"bron\" rows=\"24\" class=\"code\" spellcheck=\"false\">{}</textarea>\
         <div class=\"buttons\"><button class=\"approve\">Nieuwe versie opslaan</button></div></form>",
        frame.form_field,
        escape(source)
    );
    body.push_str("<h2>Teambeleid</h2><form method=\"post\" action=\"/beleid\" class=\"policy\">");
    body.push_str(&frame.form_field);
    let _ = write!(
        body,
        "<label>Beoordeling nodig boven (maatwerkbudget, €)<input name=\"drempel\" value=\"{}\"></label>\
         <label>Maatwerkbudget van het team (€)<input name=\"budget\" value=\"{}\"></label>",
        euro_input(policy.review_threshold_cents),
        euro_input(policy.budget_cents)
    );
    let _ = write!(
        body,
        "<label><input type=\"checkbox\" name=\"gedeelde_caseload\" value=\"ja\"{}> Gedeelde \
         caseload: iedereen in het team leest elke casus (anders alleen de toegewezen medewerkers \
         en de leidinggevenden)</label>",
        if policy.shared_caseload { " checked" } else { "" }
    );
    let _ = write!(
        body,
        "<label><input type=\"checkbox\" name=\"eigen_achtervang\" value=\"ja\"{}> De \
         casusregisseur voegt zelf een achtervang toe aan haar casussen</label>",
        if policy.workers_add_backups { " checked" } else { "" }
    );
    let _ = write!(
        body,
        "<label>Bijlagen: hoogstens zoveel MB per bestand (1 tot {})<input name=\"bijlage_mb\" \
         type=\"number\" min=\"1\" max=\"{}\" value=\"{}\"></label>\
         <label>Bijlagen: hoogstens zoveel MB per casus samen<input name=\"casus_bijlagen_mb\" \
         type=\"number\" min=\"1\" max=\"{}\" value=\"{}\"></label>",
        eropaf_core::attachments::CEILING_FILE_MB,
        eropaf_core::attachments::CEILING_FILE_MB,
        policy.attachment_max_mb,
        eropaf_core::attachments::CEILING_CASE_MB,
        policy.case_attachments_max_mb
    );
    let _ = write!(
        body,
        "<label><input type=\"checkbox\" name=\"fotolocatie\" value=\"ja\"{}> Foto's houden de \
         plek waar ze genomen zijn (anders haalt de telefoon die eruit voor het opslaan)</label>\
         <label><input type=\"checkbox\" name=\"bijlagen_wifi\" value=\"ja\"{}> Telefoons halen \
         alle bijlagen van hun casussen op zodra ze wifi hebben (anders pas als een bijlage wordt \
         geopend)</label>",
        if policy.keep_photo_location { " checked" } else { "" },
        if policy.fetch_files_on_wifi { " checked" } else { "" }
    );
    let _ = write!(
        body,
        "<label>Opslag op een apparaat wissen na zoveel verkeerde wachtwoorden op rij (0 = nooit)\
         <input name=\"pogingen\" type=\"number\" min=\"0\" value=\"{}\"></label>",
        policy.wipe_after_failed_unlocks
    );
    let _ = write!(
        body,
        "<label>Telefoons vergrendelen na zoveel minuten zonder gebruik (1 tot 60); ontgrendelen \
         vraagt vingerafdruk, gezicht of pincode<input name=\"vergrendelen\" type=\"number\" \
         min=\"1\" max=\"60\" value=\"{}\"></label>",
        policy.lock_after_idle_minutes
    );
    for (case_type, years) in &policy.retention_years {
        let _ = write!(
            body,
            "<label>Bewaartermijn {} (jaren na sluiten)<input name=\"bewaar_{}\" value=\"{}\"></label>",
            case_type.label(),
            case_type.key(),
            years
        );
    }
    body.push_str(
        "<div class=\"buttons\"><button class=\"approve\">Beleid opslaan</button></div></form>",
    );
    layout(frame, "/waardenkader", "Waardenkader en teambeleid", &body)
}

fn euro_input(cents: u64) -> String {
    if cents.is_multiple_of(100) {
        (cents / 100).to_string()
    } else {
        format!("{},{:02}", cents / 100, cents % 100)
    }
}

/// The console's stylesheet, served as `/stijl.css` so the pages' Content-Security-Policy
/// needs no `'unsafe-inline'`.
pub const STYLE: &str = "\
*{box-sizing:border-box}body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2430;background:#f4f5f7;line-height:1.45}\
header{display:flex;align-items:center;gap:1.5rem;background:#163a5f;color:#fff;padding:.6rem 1.5rem}\
.brand{font-weight:700;font-size:1.15rem}.brand span{font-weight:400;opacity:.75}\
nav{display:flex;gap:.3rem;flex:1}nav a{color:#dbe7f3;text-decoration:none;padding:.35rem .7rem;border-radius:4px}\
nav a[aria-current]{background:#fff;color:#163a5f;font-weight:600}nav a:hover{background:#24507d}\
.who{display:flex;gap:.8rem;align-items:center;font-size:.9rem;opacity:.95}.who form{margin:0}\
main{max-width:90rem;margin:0 auto;padding:1.2rem 1.5rem 3rem}h1{font-size:1.6rem;margin:.6rem 0}\
h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d5dae1;padding-bottom:.25rem}h3{margin:.2rem 0 .4rem}\
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.06)}\
th,td{padding:.45rem .5rem;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}th{background:#eef1f5;font-size:.85rem}\
td.num{text-align:right;white-space:nowrap}td.question{min-width:11rem;max-width:24rem}.scroll{overflow-x:auto}td.nowrap{white-space:nowrap}a{color:#1b5fa8}\
.badge{display:inline-block;padding:.1rem .5rem;border-radius:999px;font-size:.8rem;font-weight:600;white-space:nowrap}\
.badge.wait{background:#fff1c2;color:#6b4e00}.badge.ok{background:#d5f2dc;color:#17602c}.badge.changes{background:#e2e8ff;color:#2b3f94}\
.badge.escalated{background:#ffe0cc;color:#8a3700}.badge.conflict{background:#ffd6d6;color:#8f1313}.badge.neutral{background:#e6e8eb;color:#444}\
.button,button{display:inline-block;font:inherit;font-size:.9rem;padding:.35rem .8rem;border-radius:4px;border:1px solid #9aa7b6;background:#fff;color:#1d2430;cursor:pointer;text-decoration:none;white-space:nowrap}\
button.small{padding:.15rem .6rem;font-size:.8rem}button.approve{background:#1f7a3a;border-color:#1f7a3a;color:#fff}\
button.escalate{background:#b85c00;border-color:#b85c00;color:#fff}button.danger{background:#a31515;border-color:#a31515;color:#fff}\
.flash{padding:.6rem .9rem;border-radius:4px}.flash.ok{background:#d5f2dc}.flash.warn{background:#ffe9c7}\
.lead{font-size:1.05rem}.hint{color:#5a6472;font-size:.88rem}.meta{color:#4d5866;font-size:.9rem}\
.card{background:#fff;padding:.9rem 1.1rem;margin:.8rem 0;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.08)}\
.visit{background:#fff;padding:.6rem 1rem;margin:.5rem 0;border-left:3px solid #8fb3d9}\
pre{white-space:pre-wrap;font-family:inherit;background:#f7f8fa;padding:.7rem;border-radius:4px;margin:.4rem 0}\
form.review{margin-top:.7rem;border-top:1px dashed #d5dae1;padding-top:.6rem}form.review label{display:block;font-size:.85rem;color:#4d5866}\
textarea{width:100%;font:inherit;padding:.4rem;border:1px solid #b7c0cb;border-radius:4px}textarea.code{font-family:ui-monospace,monospace;font-size:.85rem}\
.buttons{display:flex;gap:.5rem;margin-top:.5rem}.inline{display:flex;gap:.4rem;align-items:center}\
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:.8rem}.tile{background:#fff;padding:.8rem 1rem;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.08);font-size:.88rem;color:#4d5866}\
.tile .big{display:block;font-size:1.7rem;font-weight:700;color:#163a5f}\
.two{display:grid;grid-template-columns:1fr 1fr;gap:1.5rem}.pair{display:grid;grid-template-columns:1fr 1fr;gap:1rem}\
.chart{background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:.6rem}.chart svg{display:block;width:100%;height:auto}\
.policy{display:grid;grid-template-columns:repeat(2,1fr);gap:.6rem 1.5rem}.policy label{display:flex;flex-direction:column;font-size:.88rem}\
.policy input{font:inherit;padding:.3rem;border:1px solid #b7c0cb;border-radius:4px}.score{font-size:.8rem;color:#4d5866}\
code{font-size:.85em}";

/// The team: who waits for admission (with the safety code to compare) and who is a member.
pub fn team(
    frame: &Frame,
    waiting: &[PendingJoiner],
    members: &[Member],
    requests: &[AccessRequest],
    active: &[String],
) -> String {
    let mut body = String::new();
    access_requests(&mut body, frame, requests);
    if active.len() > 1 {
        let _ = write!(
            body,
            "<h2>Casussen overdragen</h2><form method=\"post\" action=\"/team/overdragen\" \
             class=\"assign\">{form_field}<label>Alle casussen van <select name=\"van\">{options}\
             </select></label> <label>aan <select name=\"naar\">{options}</select></label> \
             <button>Overdragen</button></form>",
            form_field = frame.form_field,
            options = member_options(active),
        );
    }
    body.push_str("<h2>Wachten op toelating</h2>");
    if waiting.is_empty() {
        body.push_str("<p>Er wacht geen apparaat op toelating.</p>");
    } else {
        body.push_str(
            "<p class=\"lead\">Laat een apparaat pas toe als de veiligheidscode op zijn scherm \
             dezelfde is als hier. Is de code anders, dan is het niet het apparaat van je collega: \
             laat het niet toe.</p>",
        );
    }
    for joiner in waiting {
        let _ = write!(
            body,
            "<section class=\"card\"><p><strong>{member}</strong> ({role}), apparaat \
             <code>{device}</code></p><p>Veiligheidscode: <strong class=\"code\">{code}</strong></p>\
             <form method=\"post\" action=\"/team/toelaten\">{form_field}\
             <input type=\"hidden\" name=\"apparaat\" value=\"{device}\">\
             <label>Code op het scherm van het nieuwe apparaat \
             <input name=\"code\" inputmode=\"numeric\" autocomplete=\"off\" required></label> \
             <button>Toelaten</button></form></section>",
            member = escape(&joiner.member),
            role = escape(&joiner.role.label().to_lowercase()),
            device = escape(&joiner.device_id),
            code = escape(&joiner.code),
            form_field = frame.form_field,
        );
    }
    body.push_str("<h2>Leden</h2><table><thead><tr><th>Naam</th><th>Rol</th><th>Apparaat</th><th></th></tr></thead><tbody>");
    for member in members {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            escape(&member.member),
            escape(&member.role.label().to_lowercase()),
            escape(&member.device_id),
            match (member.revoked, member.wiped_at) {
                (_, Some(at)) =>
                    format!("ingetrokken, gewist om {}", at.with_timezone(&Local).format("%H:%M")),
                (true, None) => "ingetrokken".to_owned(),
                (false, None) => String::new(),
            },
        );
    }
    body.push_str("</tbody></table>");
    layout(frame, "/team", "Team", &body)
}

/// The members' requests for access: those waiting, each with a form to grant it for some
/// days or refuse it, then those answered.
fn access_requests(body: &mut String, frame: &Frame, requests: &[AccessRequest]) {
    let when = |at: DateTime<Utc>| at.with_timezone(&Local).format("%d-%m-%Y %H:%M").to_string();
    body.push_str("<h2>Verzoeken om toegang</h2>");
    let waiting: Vec<&AccessRequest> = requests.iter().filter(|r| r.decision.is_none()).collect();
    if waiting.is_empty() {
        body.push_str("<p>Er wacht geen verzoek om toegang.</p>");
    }
    for request in waiting {
        let _ = write!(
            body,
            "<section class=\"card\"><p><strong>{member}</strong> vraagt toegang tot casus \
             <a href=\"/casus/{case}\"><code>{short}</code></a> ({at}){urgent}</p>\
             <p>Reden: {reason}</p>\
             <form method=\"post\" action=\"/team/toegang/{id}\">{form_field}\
             <label>Dagen <input name=\"dagen\" type=\"number\" min=\"1\" max=\"90\" \
             value=\"7\" required></label> \
             <button name=\"antwoord\" value=\"verlenen\">Verlenen</button> \
             <button name=\"antwoord\" value=\"weigeren\" formnovalidate>Weigeren</button>\
             </form></section>",
            member = escape(&request.member),
            case = escape(&request.case_id),
            short = escape(request.case_id.get(..8).unwrap_or(&request.case_id)),
            at = when(request.at),
            urgent = if request.urgent { " <strong>spoed</strong>" } else { "" },
            reason = escape(request.reason.as_deref().unwrap_or("(niet leesbaar op dit apparaat)")),
            id = escape(&request.id),
            form_field = frame.form_field,
        );
    }
    let answered: Vec<&AccessRequest> = requests.iter().filter(|r| r.decision.is_some()).collect();
    if answered.is_empty() {
        return;
    }
    body.push_str(
        "<table><thead><tr><th>Gevraagd</th><th>Door</th><th>Casus</th><th>Reden</th>\
         <th>Antwoord</th></tr></thead><tbody>",
    );
    for request in answered {
        let answer = match &request.decision {
            Some(d) if d.granted => format!(
                "verleend door {}{}",
                escape(&d.by),
                d.until.map_or(String::new(), |u| format!(" tot {}", when(u)))
            ),
            Some(d) => format!("geweigerd door {}", escape(&d.by)),
            None => String::new(),
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            when(request.at),
            escape(&request.member),
            escape(request.case_id.get(..8).unwrap_or(&request.case_id)),
            escape(request.reason.as_deref().unwrap_or("—")),
            answer
        );
    }
    body.push_str("</tbody></table>");
}

fn member_options(members: &[String]) -> String {
    members.iter().map(|m| format!("<option value=\"{0}\">{0}</option>", escape(m))).collect()
}

/// A supervisor's forms on the case page: assign a member (as worker, backup, or for some
/// days), and end each assignment.
fn assignment_forms(
    body: &mut String,
    frame: &Frame,
    case: &Case,
    access: &CaseAccess,
    members: &[String],
) {
    if members.is_empty() {
        return;
    }
    let roles: String = [AssignmentRole::Worker, AssignmentRole::Backup, AssignmentRole::Temporary]
        .iter()
        .map(|r| format!("<option value=\"{}\">{}</option>", r.key(), escape(r.label())))
        .collect();
    let _ = write!(
        body,
        "<form method=\"post\" action=\"/casus/{id}/toewijzen\" class=\"assign\">{form_field}\
         <label>Lid <select name=\"lid\">{members}</select></label> \
         <label>Rol <select name=\"rol\">{roles}</select></label> \
         <label>Dagen (leeg: zonder einde) <input name=\"dagen\" type=\"number\" min=\"1\" \
         max=\"365\"></label> <button>Toewijzen</button></form>",
        id = escape(&case.id),
        form_field = frame.form_field,
        members = member_options(members),
    );
    for assignment in &access.assignments {
        let _ = write!(
            body,
            "<form method=\"post\" action=\"/casus/{id}/toewijzing-beeindigen\" class=\"inline\">\
             {form_field}<input type=\"hidden\" name=\"lid\" value=\"{member}\">\
             <button class=\"small\">Toewijzing {member} beëindigen</button></form>",
            id = escape(&case.id),
            form_field = frame.form_field,
            member = escape(&assignment.member),
        );
    }
}

/// Whether a file of this media type is shown in the browser: photos only (a JPEG, PNG or WebP
/// runs nothing); everything else is a download.
pub fn shown_inline(media_type: &str) -> bool {
    matches!(media_type, "image/jpeg" | "image/png" | "image/webp")
}
