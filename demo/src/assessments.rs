//! Part 3 of the demo: three decisions well known from the Dutch maatwerk literature, each
//! taken through the team's checklist — Aïsha's rent, the statushouder who wants to study to
//! practise his profession here, and Willem's car. Two are submitted for review; Marieke
//! approves one and escalates the other one rung up the ladder.

use eropaf_core::checklist::{Item, Verdict};
use eropaf_core::model::{CaseType, LifeDomain, NewVisit, Observation, Resident, Score};
use eropaf_core::review::{ReviewAction, ReviewState};
use eropaf_core::Eropaf;

use super::{at, heading, sync, Dutch};
use eropaf_core::sync::http::HttpTransport;
use eropaf_terminal::outln;

/// One decision to weigh: the step answers in order, the values that matter (the rest do
/// not apply), the decision, and whether it is maatwerk with what budget.
struct Decision<'a> {
    question: &'a str,
    steps: [&'a str; 4],
    values: &'a [(&'a str, Verdict, &'a str)],
    decision: &'a str,
    budget_cents: Option<u64>,
}

pub fn story(
    transport: &HttpTransport,
    marieke: &mut Eropaf,
    sanne: &mut Eropaf,
    daan: &mut Eropaf,
    aisha: &str,
) -> Result<(), String> {
    heading("12. Sanne weegt de huur van Aïsha af");
    let rent = weigh(
        sanne,
        aisha,
        &Decision {
            question: "Betalen we twee maanden huur (samen 1.500 euro) uit het maatwerkbudget, tot Aïsha's bijstand loopt?",
            steps: [
                "Aïsha wil in haar ouderlijk huis blijven wonen en haar opleiding afmaken.",
                "Ja: een dak boven het hoofd is de basis voor zelfredzaamheid; zonder woning stopt ook haar opleiding.",
                "Op korte termijn voorkomt het een ontruiming, op lange termijn houdt het haar op school. Aïsha kan het zelf niet: haar vader betaalde alles.",
                "Bijzondere bijstand (art. 35 Participatiewet) komt pas over zes weken; het maatwerkbudget overbrugt. Huurcontract gaat op haar naam.",
            ],
            values: &[
                ("rechtmatig", Verdict::InTension, "Er is nog geen besluit over bijstand; we lopen erop vooruit."),
                ("doelmatig", Verdict::Supports, "Twee maanden huur is veel goedkoper dan een ontruiming en opvang."),
                ("betrokken", Verdict::Supports, "Aïsha is achttien en rouwt; wij nemen de zorg over de huur even over."),
                ("in_actie", Verdict::Supports, "Ze kan het zelf echt niet en heeft geen familie die kan bijspringen."),
                ("betrouwbaar", Verdict::Supports, "Zo doen we het bij elke jongere zonder inkomen die dakloos dreigt te raken."),
            ],
            decision: "We betalen de huur van november en december (1.500 euro) uit het maatwerkbudget en helpen Aïsha de bijstand en het huurcontract op haar naam te regelen.",
            budget_cents: Some(150_000),
        },
    )?;
    let state = sanne.submit_assessment(aisha, &rent).nl()?;
    outln!("Ingediend: {} (maatwerk, € 1.500 — boven de drempel van het team).", state.label());

    heading("13. Sanne legt de casus van een statushouder aan en weegt zijn studie af");
    let statushouder = sanne
        .new_case(
            &Resident {
                household: Some("Statushouder, woont met zijn vrouw en twee kinderen".into()),
                ..Resident::named("Samir Haddad")
            },
            Some(CaseType::Participatiewet),
        )
        .nl()?;
    sanne.record_visit(
        &statushouder,
        &NewVisit {
            at: Some(at(2026, 11, 4, 10)),
            place: Some("Thuis".into()),
            present: vec!["Samir".into(), "zijn vrouw".into()],
            note: "Samir was in Syrië huisarts. Hij wil de opleiding volgen die nodig is om zijn diploma hier erkend te krijgen; met een bijstandsuitkering mag dat niet zomaar.".into(),
            observations: vec![
                Observation::new("Spreekt al goed Nederlands (B2), werkt als vrijwilliger bij de huisartsenpost.", Some(LifeDomain::WerkOpleiding), Some(Score::new(3).nl()?)).nl()?,
            ],
        },
    )
    .nl()?;
    let study = weigh(
        sanne,
        &statushouder,
        &Decision {
            question: "Mag Samir met behoud van bijstand de opleiding volgen om als arts in Nederland te werken?",
            steps: [
                "Samir wil weer als arts werken en zijn gezin zelf onderhouden.",
                "Ja: de wet wil mensen duurzaam aan het werk helpen; als arts is hij straks helemaal onafhankelijk van bijstand.",
                "Op korte termijn kost het twee jaar uitkering zonder sollicitatieplicht; op lange termijn levert het een arts en een zelfstandig gezin op.",
                "De Participatiewet staat studeren met behoud van uitkering niet toe, behalve met een ontheffing van de arbeidsverplichting (art. 9 lid 2).",
            ],
            values: &[
                ("rechtmatig", Verdict::Conflicts, "Zonder ontheffing is studeren met behoud van uitkering niet toegestaan."),
                ("doelmatig", Verdict::Supports, "Twee jaar studie tegenover een leven lang zonder uitkering."),
                ("werk_boven_inkomen", Verdict::InTension, "Hij kan nu ongeschoold werk doen, maar dat houdt hem ver onder zijn niveau."),
                ("vernieuwend", Verdict::Supports, "Een opleidingstraject met behoud van uitkering hebben we nog niet eerder gedaan."),
                ("resultaatgericht", Verdict::Supports, "Het resultaat is een erkende arts binnen twee jaar."),
            ],
            decision: "Samir krijgt een ontheffing van de arbeidsverplichting voor twee jaar om de opleiding te volgen; we betalen het collegegeld uit het maatwerkbudget.",
            budget_cents: Some(240_000),
        },
    )?;
    let state = sanne.submit_assessment(&statushouder, &study).nl()?;
    outln!("Ingediend: {} (maatwerk, € 2.400 collegegeld).", state.label());

    heading("14. Daan weegt ook Willems auto af, maar dient nog niet in");
    let willem =
        daan.new_case(&Resident::named("Willem Bakker"), Some(CaseType::Participatiewet)).nl()?;
    daan.record_visit(
        &willem,
        &NewVisit {
            at: Some(at(2026, 11, 5, 9)),
            place: Some("Bij de bakkerij".into()),
            present: vec!["Willem".into()],
            note: "De auto staat op Willems naam; zijn vader betaalt alles en laat hem ermee om vijf uur naar de bakkerij rijden.".into(),
            observations: Vec::new(),
        },
    )
    .nl()?;
    weigh(
        daan,
        &willem,
        &Decision {
            question: "Telt de auto op Willems naam mee als vermogen voor zijn bijstandsuitkering?",
            steps: [
                "Willem wil zijn baan bij de bakkerij houden.",
                "De bijstand helpt mensen naar werk; Willem werkt al.",
                "Zonder auto verliest hij zijn baan; de auto is eigenlijk van zijn vader.",
                "Art. 34 Participatiewet: vermogen telt mee, met ruimte voor maatwerk bij dringende redenen.",
            ],
            values: &[
                ("rechtmatig", Verdict::InTension, "De auto telt formeel als vermogen."),
                ("werk_boven_inkomen", Verdict::Supports, "De auto houdt Willem aan het werk."),
            ],
            decision: "De auto telt niet mee zolang Willem hem voor zijn werk nodig heeft.",
            budget_cents: None,
        },
    )?;
    outln!("Compleet, maar Daan wil het eerst met Willems vader bespreken: nog niet ingediend.");

    heading("15. Marieke beoordeelt");
    for (name, device) in [("Sanne", &mut *sanne), ("Daan", &mut *daan)] {
        let r = sync(device, transport)?;
        outln!("{name} synchroniseert: {} verstuurd.", r.pushed);
    }
    sync(marieke, transport)?;
    let queue = marieke.review_queue().nl()?;
    outln!("In Mariekes wachtrij: {} afwegingen.", queue.len());
    for item in &queue {
        outln!("- {}: {}", item.resident, item.question);
    }
    marieke.open_case(aisha, None).nl()?;
    marieke
        .review_assessment(
            aisha,
            &rent,
            ReviewAction::Approve,
            "Akkoord; zet de bijstandsaanvraag vandaag door.",
        )
        .nl()?;
    outln!("Aïsha: goedgekeurd.");
    marieke.open_case(&statushouder, None).nl()?;
    let escalation = marieke
        .review_assessment(
            &statushouder,
            &study,
            ReviewAction::Escalate,
            "Een ontheffing voor twee jaar studie gaat verder dan ons mandaat; bespreek het met de waardendriehoek erbij.",
        )
        .nl()?;
    let rung = marieke
        .frameworks()
        .nl()?
        .into_iter()
        .find_map(|f| f.rung(escalation.escalated_to.as_deref().unwrap_or("")).cloned())
        .map_or_else(|| "?".to_string(), |r| r.title);
    outln!("Samir: geëscaleerd, één trede hoger: {rung}.");
    sync(marieke, transport)?;
    sync(sanne, transport)?;
    match sanne.review_state(aisha, &rent).nl()? {
        ReviewState::Decided { review } => {
            outln!("Sanne synchroniseert en ziet: {} — \"{}\"", review.verdict.label(), review.note)
        }
        other => outln!("Sanne ziet: {}", other.label()),
    }
    Ok(())
}

/// Takes a decision through every item of the team's first framework.
fn weigh(device: &mut Eropaf, case: &str, decision: &Decision<'_>) -> Result<String, String> {
    let id = device.start_assessment(case, decision.question, None).nl()?;
    let framework = device.frameworks().nl()?.into_iter().next().ok_or("geen waardenkader")?;
    let mut steps = decision.steps.iter();
    for item in eropaf_core::checklist::flow(&framework) {
        match &item {
            Item::Step(_) => {
                let text = steps.next().copied().unwrap_or("Zie hierboven.");
                device.answer(case, &id, &item, text).nl()?;
            }
            Item::Value(key) => {
                let (verdict, motivation) = decision
                    .values
                    .iter()
                    .find(|(k, _, _)| k == key)
                    .map_or((Verdict::NotRelevant, ""), |(_, v, m)| (*v, *m));
                device.set_verdict(case, &id, key, verdict, motivation).nl()?;
            }
            Item::Decision => device.answer(case, &id, &item, decision.decision).nl()?,
        }
    }
    device.set_maatwerk(case, &id, true, decision.budget_cents).nl()?;
    Ok(id)
}
