//! Part 1 of the demo: two replicas of one worker's store record a home visit to Willem
//! offline and merge; then the worker weighs the decision about his car against the team's
//! values and reads the justification. Stores in `DIR/telefoon` and `DIR/laptop`.

use std::path::Path;

use eropaf_core::checklist::{Item, Verdict};
use eropaf_core::model::{CaseType, LifeDomain, NewVisit, Observation, Resident, Score};
use eropaf_core::{Eropaf, Error, Unlock};

use super::{at, dir_contains, heading, PASSPHRASE};
use eropaf_terminal::{self as print, outln};

pub fn story(dir: &Path) -> Result<(), Error> {
    let phone_dir = dir.join("telefoon");
    let laptop_dir = dir.join("laptop");
    heading("1. Sanne, buurtwerker, legt een casus aan op haar telefoon");
    let mut phone = Eropaf::create(&phone_dir, Unlock::Passphrase(PASSPHRASE), "Sanne (telefoon)")?;
    let willem =
        phone.new_case(&Resident::named("Willem Bakker"), Some(CaseType::Participatiewet))?;
    phone.record_visit(
        &willem,
        &NewVisit {
            at: Some(at(2026, 11, 2, 10)),
            place: Some("Thuis, Dorpsstraat".into()),
            present: vec!["Willem".into()],
            note: "Willem heeft een bijstandsuitkering aangevraagd. Op zijn naam staat een auto.".into(),
            observations: vec![Observation::new(
                "Auto staat op zijn naam, zijn vader betaalt alles en laat hem ermee naar zijn werk rijden.",
                Some(LifeDomain::Financien),
                Some(Score::new(2)?),
            )?],
        },
    )?;
    outln!("Casus {} voor Willem, één bezoek vastgelegd.", print::short(&willem));
    drop(phone);

    heading("2. Twee kopieën van dezelfde opslag werken offline verder");
    copy_dir(&phone_dir, &laptop_dir)?;
    let mut phone = Eropaf::open(&phone_dir, Unlock::Passphrase(PASSPHRASE))?;
    let mut laptop = Eropaf::open(&laptop_dir, Unlock::Passphrase(PASSPHRASE))?;
    let first_visit = phone.case(&willem)?.visits[0].id.clone();

    phone.record_visit(
        &willem,
        &NewVisit {
            at: Some(at(2026, 11, 9, 8)),
            place: Some("Bij de bakkerij".into()),
            present: vec!["Willem".into(), "zijn vader".into()],
            note: "Vader bevestigt: hij rijdt zelf niet meer, Willem heeft de auto nodig om om vijf uur bij de bakkerij te zijn.".into(),
            observations: vec![Observation::new("Vaste baan, 32 uur, vroege diensten.", Some(LifeDomain::WerkOpleiding), Some(Score::new(4)?))?],
        },
    )?;
    phone.edit_visit_note(
        &willem,
        &first_visit,
        "Willem heeft een bijstandsuitkering aangevraagd. Op zijn naam staat een auto van ongeveer 4.000 euro.",
    )?;
    laptop.record_visit(
        &willem,
        &NewVisit {
            at: Some(at(2026, 11, 9, 14)),
            note: "Telefonisch overleg met de consulent inkomen over de vermogenstoets.".into(),
            ..NewVisit::default()
        },
    )?;
    laptop.edit_visit_note(
        &willem,
        &first_visit,
        "Willem heeft een bijstandsuitkering aangevraagd. Op zijn naam staat een auto. Zonder auto verliest hij zijn baan.",
    )?;
    phone.set_status(&willem, eropaf_core::model::CaseStatus::Escalated)?;
    laptop.set_status(&willem, eropaf_core::model::CaseStatus::Closed)?;
    outln!("Telefoon: een bezoek bij de bakkerij, notitie aangevuld, status 'geëscaleerd'.");
    outln!("Laptop: een telefoongesprek, dezelfde notitie anders aangevuld, status 'gesloten'.");

    heading("3. Samenvoegen: niemands werk gaat verloren");
    let from_laptop = laptop.export_case(&willem)?;
    let from_phone = phone.export_case(&willem)?;
    phone.merge_case(&from_laptop)?;
    laptop.merge_case(&from_phone)?;
    let merged = phone.case(&willem)?;
    print::case_detail(&merged);
    assert_same(&merged, &laptop.case(&willem)?)?;
    for conflict in &merged.conflicts {
        outln!("\nSanne kiest bij '{}' voor 'open': de casus loopt nog.", conflict.path);
        phone.resolve_conflict(&willem, &conflict.path, "open")?;
    }

    heading("4. De afweging: telt de auto mee als vermogen?");
    let question = "Telt de auto op Willems naam mee als vermogen voor zijn bijstandsuitkering?";
    let assessment = phone.start_assessment(&willem, question, None)?;
    let answers = [
        ("effect", "Willem wil zijn baan bij de bakkerij houden en op eigen benen staan; daarvoor moet hij om vijf uur 's ochtends op zijn werk zijn."),
        ("doel_wet", "De bijstand is een vangnet dat mensen naar werk helpt. Willem werkt al; hem dwingen de auto te verkopen zet dat werk op het spel."),
        ("ethische_afweging", "Op korte termijn scheelt het weinig vermogen, op lange termijn kost het verlies van zijn baan veel meer. Willem kan zonder auto niet op tijd komen; zijn vader betaalt de auto en gebruikt hem niet."),
    ];
    for (step, text) in answers {
        phone.answer(&willem, &assessment, &Item::Step(step.into()), text)?;
    }
    let framework = phone
        .frameworks()?
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found("framework", "any"))?;
    for value in &framework.values {
        let (verdict, motivation) = match value.key.as_str() {
            "rechtmatig" => (Verdict::InTension, "De auto staat op zijn naam en telt formeel als vermogen; de wet biedt ruimte voor afwijken bij dringende redenen."),
            "doelmatig" => (Verdict::Supports, "Een baan behouden is goedkoper dan een uitkering zonder werk."),
            "betrokken" => (Verdict::Supports, "We kijken naar Willems situatie, niet alleen naar het kenteken."),
            "werk_boven_inkomen" => (Verdict::Supports, "De auto houdt Willem aan het werk."),
            "resultaatgericht" => (Verdict::Supports, "Het resultaat is dat Willem zelfstandig blijft werken."),
            _ => (Verdict::NotRelevant, ""),
        };
        phone.set_verdict(&willem, &assessment, &value.key, verdict, motivation)?;
    }
    for step in framework.steps.iter().skip(3) {
        phone.answer(&willem, &assessment, &Item::Step(step.key.clone()), "Artikel 18 lid 1 Participatiewet: afstemming op de omstandigheden van de persoon. Artikel 34: vermogen wordt getoetst, met ruimte voor maatwerk bij dringende redenen.")?;
    }
    phone.answer(&willem, &assessment, &Item::Decision, "De auto wordt niet meegeteld als vermogen zolang Willem hem nodig heeft voor zijn werk; over een jaar kijken we opnieuw.")?;
    phone.set_maatwerk(&willem, &assessment, true, None)?;
    let view = phone.assessment(&willem, &assessment)?;
    print::assessment(&view);

    heading("5. Niets leesbaars op schijf");
    let readable = ["Willem", "bakkerij", "vermogen"]
        .iter()
        .filter(|marker| dir_contains(&phone_dir, marker.as_bytes()))
        .count();
    outln!(
        "De opslag in {} bevat {} van de 3 gezochte woorden in leesbare vorm.",
        phone_dir.display(),
        readable
    );
    Ok(())
}

fn assert_same(a: &eropaf_core::model::Case, b: &eropaf_core::model::Case) -> Result<(), Error> {
    if a.visits == b.visits {
        outln!("\nTelefoon en laptop tonen nu precies hetzelfde dossier.");
        Ok(())
    } else {
        Err(Error::Document("the replicas did not converge".into()))
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        std::fs::copy(entry.path(), to.join(entry.file_name()))?;
    }
    Ok(())
}
