//! Part 2 of the demo: a relay on a loopback port, Marieke (supervisor) and two workers, Sanne
//! and Daan, each on their own store (`DIR/supervisor`, `DIR/sanne`, `DIR/daan`, the relay in
//! `DIR/relay.db`). Everything goes through the same core calls and HTTP as `eropaf sync`.

use std::collections::HashMap;
use std::path::Path;

use eropaf_core::model::{
    AssignmentRole, Case, CaseType, LifeDomain, NewAttachment, NewVisit, Observation, Resident,
    Score,
};
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::team::roster::Role;
use eropaf_core::{Eropaf, Error, Invitation, Unlock};

use super::{at, files_contain, heading, sync, Dutch, PASSPHRASE};
use eropaf_relay::Spawned;
use eropaf_terminal::{self as print, describe_relay, local, outln};

const AFTER_REVOCATION: &str =
    "Betalingsregeling getekend: 50 euro per maand. Aïsha begint in januari aan een mbo-opleiding.";

/// Tells the team's story; returns the running relay and the supervisor's device, for the
/// console.
pub fn story(dir: &Path) -> Result<(Spawned, Eropaf), String> {
    heading("6. De relay op kantoor start");
    let db = dir.join("relay.db");
    let relay =
        eropaf_relay::spawn(&db).map_err(|e| format!("De relay van de demo start niet: {e}"))?;
    let transport = HttpTransport::new(&relay.url).nl()?;
    outln!("Relay luistert op {} (database: {}).", relay.url, db.display());
    outln!("De relay bewaart alleen ondertekende, versleutelde enveloppen: lezen kan hij ze niet.");

    heading("7. Marieke, leidinggevende, maakt het team aan");
    let mut marieke =
        Eropaf::create(&dir.join("supervisor"), Unlock::Passphrase(PASSPHRASE), "Marieke").nl()?;
    let code = relay
        .registration_code()
        .map_err(|e| format!("De registratiecode kon niet worden aangemaakt: {e}"))?;
    let info = marieke.create_team("Wijkteam Noord", &relay.url, &code).nl()?;
    sync(&mut marieke, &transport)?;
    outln!(
        "Team {} (id {}); Marieke is de eerste leidinggevende.",
        info.team_name,
        print::short(&info.team_id)
    );

    heading("8. Sanne en Daan worden uitgenodigd en sluiten aan");
    let mut sanne = enrol(dir, "Sanne", &mut marieke, &transport)?;
    let mut daan = enrol(dir, "Daan", &mut marieke, &transport)?;
    outln!("\nDe teamlijst op Mariekes apparaat:");
    print::members(&marieke.members(), &marieke.device_id().to_hex());

    heading("9. Sanne legt de casus van Aïsha aan");
    let resident = Resident {
        household: Some("Woont alleen; haar vader is in september overleden".into()),
        ..Resident::named("Aïsha El Amrani")
    };
    let aisha = sanne.new_case(&resident, Some(CaseType::Schuldhulp)).nl()?;
    let first_visit = sanne
        .record_visit(
            &aisha,
            &NewVisit {
                at: Some(at(2026, 11, 3, 9)),
                place: Some("Thuis".into()),
                present: vec!["Aïsha".into()],
                note: "Aïsha is achttien. Haar vader is in september overleden; hij betaalde de \
                       huur. De huur is 750 euro per maand en die kan ze niet betalen."
                    .into(),
                observations: vec![
                    Observation::new(
                        "Geen eigen inkomen; de huur van oktober en november is niet betaald.",
                        Some(LifeDomain::Financien),
                        Some(Score::new(1).nl()?),
                    )
                    .nl()?,
                    Observation::new(
                        "Het huurcontract staat nog op naam van haar vader.",
                        Some(LifeDomain::Huisvesting),
                        Some(Score::new(2).nl()?),
                    )
                    .nl()?,
                ],
            },
        )
        .nl()?;
    // The letter Aïsha got, photographed on the spot: kept with the visit, sealed in chunks.
    let letter = NewAttachment {
        name: "brief-woonbron.pdf".into(),
        media_type: "application/pdf".into(),
        caption: Some("Aanmaning van woningcorporatie Woonbron".into()),
        visit_id: Some(first_visit),
    };
    let attached = sanne.attach(&aisha, &letter, LETTER.as_bytes()).nl()?;
    let sealed = !files_contain(&dir.join("sanne"), "", b"Aanmaning huurachterstand");
    outln!(
        "Sanne fotografeert de aanmaning van Woonbron en bewaart hem bij het bezoek ({}, {} bytes); \
         op haar telefoon staat hij alleen versleuteld: {}.",
        attached.name,
        attached.size,
        if sealed { "geen woord ervan leesbaar" } else { "LEESBAAR" }
    );
    expect(sealed, "de brief staat leesbaar op Sannes telefoon")?;
    let report = sync(&mut sanne, &transport)?;
    outln!("Sanne legt het eerste bezoek vast en synchroniseert: {} verstuurd.", report.pushed);
    sync(&mut marieke, &transport)?;
    marieke.assign(&aisha, "Daan", AssignmentRole::Backup, None).nl()?;
    sync(&mut marieke, &transport)?;
    outln!(
        "Marieke zet Daan als achtervang op de casus. Alleen Sanne, Daan en de leidinggevenden \
         krijgen de sleutel van deze casus; andere collega's kunnen hem niet openen."
    );
    let report = sync(&mut daan, &transport)?;
    outln!(
        "Daan synchroniseert: {} opgehaald; de casus staat nu ook op zijn telefoon.",
        report.pulled
    );

    heading("10. Offline gaan Sanne en Daan allebei langs");
    let by_sanne = "Samen de woningcorporatie gebeld: het huurcontract kan op Aïsha's naam, de \
                    achterstand wordt een betalingsregeling.";
    let by_daan = "Met Aïsha naar het Jongerenloket: bijstand aangevraagd, en bijzondere bijstand \
                   voor de kosten van de begrafenis.";
    sanne.record_visit(&aisha, &visit(at(2026, 11, 10, 8), "Thuis", by_sanne)).nl()?;
    daan.record_visit(&aisha, &visit(at(2026, 11, 10, 14), "Jongerenloket", by_daan)).nl()?;
    outln!("Sanne, 's ochtends: {by_sanne}");
    outln!("Daan, 's middags: {by_daan}");
    outln!(
        "Geen van beide telefoons had verbinding: elk bezoek staat alleen op het eigen toestel."
    );

    heading("11. Terug op kantoor synchroniseert iedereen");
    for (name, device) in [("Sanne", &mut sanne), ("Daan", &mut daan), ("Marieke", &mut marieke)] {
        let r = sync(device, &transport)?;
        outln!("{name}: {} verstuurd, {} opgehaald, {} toegepast.", r.pushed, r.pulled, r.applied);
    }
    let names = member_names(&marieke);
    let merged = marieke.case(&aisha).nl()?;
    outln!("\nOp Mariekes apparaat:");
    show_case(&merged, &names);
    expect(merged.visits.len() == 3, "Mariekes apparaat heeft niet alle drie de bezoeken")?;
    // On the office's scanner: Aïsha's signed consent for contacting her creditor.
    let consent = NewAttachment {
        name: "toestemming-schuldeiser.txt".into(),
        media_type: "text/plain".into(),
        caption: Some("Getekende toestemming om Woonbron te benaderen".into()),
        visit_id: None,
    };
    marieke.attach(&aisha, &consent, CONSENT.as_bytes()).nl()?;
    outln!(
        "Marieke scant Aïsha's getekende toestemming in en bewaart hem bij de casus. De brief \
         die Sanne bewaarde, staat bij Marieke in de lijst; de inhoud zelf reist nog niet mee."
    );

    super::assessments::story(&transport, &mut marieke, &mut sanne, &mut daan, &aisha)?;

    heading("16. Daans telefoon is kwijt: Marieke trekt hem in");
    let daan_id = daan.device_id().to_hex();
    marieke.revoke(&transport, &daan_id).map_err(|e| describe_relay(&e))?;
    let epoch = marieke.team_info().nl()?.map(|i| i.epoch).unwrap_or_default();
    outln!("Ingetrokken: Daan ({}), telefoon verloren.", print::short(&daan_id));
    outln!(
        "Nieuw tijdvak {epoch}: de nieuwe teamsleutel gaat naar Sanne, niet naar Daans telefoon."
    );
    print::members(&marieke.members(), &marieke.device_id().to_hex());

    heading("17. Sanne gaat weer langs");
    sync(&mut sanne, &transport)?;
    outln!("Sanne synchroniseert en krijgt de sleutel van tijdvak {epoch}.");
    let sannes: Vec<String> = sanne.cases().nl()?.into_iter().map(|c| c.resident.name).collect();
    outln!(
        "Op Sannes telefoon staan alleen haar eigen casussen: {}. Willems casus is van Daan: \
         die kan haar telefoon niet openen.",
        sannes.join(", ")
    );
    expect(!sannes.iter().any(|n| n.contains("Willem")), "Sanne ziet een casus van Daan")?;
    sanne.record_visit(&aisha, &visit(at(2026, 11, 17, 9), "Thuis", AFTER_REVOCATION)).nl()?;
    let report = sync(&mut sanne, &transport)?;
    outln!("Sanne legt het bezoek vast: {AFTER_REVOCATION}");
    outln!("Sanne synchroniseert: {} verstuurd.", report.pushed);
    sync(&mut marieke, &transport)?;
    let on_marieke = marieke.case(&aisha).nl()?;
    outln!("Op Mariekes apparaat: {} bezoeken.", on_marieke.visits.len());

    heading("18. Daans telefoon komt weer online en wist zichzelf");
    let report = daan.sync(&transport, &mut |_| {}).map_err(|e| describe_relay(&e))?;
    let Some(wiped_at) = report.wiped_at else {
        return Err("de ingetrokken telefoon van Daan wiste zichzelf niet".into());
    };
    outln!(
        "De relay laat de ingetrokken telefoon alleen de ondertekende teamlijst zien. Daarin \
         staat dat hij is ingetrokken: om {} wist hij zichzelf (casussen, sleutels, wachtrij) \
         en meldt dat, ondertekend.",
        local(wiped_at).format("%H:%M")
    );
    let left = daan.cases().nl()?.len();
    outln!("Op Daans telefoon: {left} casussen.");
    expect(left == 0 && daan.case(&aisha).is_err(), "de ingetrokken telefoon heeft nog casussen")?;
    sync(&mut marieke, &transport)?;
    outln!("Marieke ziet op haar teamlijst:");
    print::members(&marieke.members(), &marieke.device_id().to_hex());

    heading("19. Niets leesbaars bij de relay");
    let markers = ["Aïsha", "Jongerenloket", "betalingsregeling", "Samir", "bakkerij", "Akkoord"];
    let readable = markers.iter().filter(|m| files_contain(dir, "relay.db", m.as_bytes())).count();
    outln!(
        "De relaydatabase bevat {readable} van de {} gezochte woorden in leesbare vorm.",
        markers.len()
    );
    heading("20. Inzage voor Aïsha (AVG artikel 15)");
    // Sanne's photo of the Woonbron letter comes from the relay first: the export holds it.
    let files = marieke.case(&aisha).nl()?.attachments;
    for file in files.iter().filter(|file| !file.on_device) {
        marieke.download_attachment(&transport, &aisha, &file.id, &mut |_| {}).nl()?;
    }
    let path = dir.join("inzage-aisha.html");
    let export =
        marieke.export_inzage_with_files(&aisha, Some("inzageverzoek bewoner"), &path).nl()?;
    let html = std::fs::read_to_string(&path)
        .map_err(|e| format!("kan {} niet lezen: {e}", path.display()))?;
    let foreign = ["Samir", "Willem"].iter().filter(|name| html.contains(*name)).count();
    outln!(
        "{} ({} kB): bezoeken, afwegingen met onderbouwing, beoordelingen en wie het dossier inzag; \
         {} namen uit andere casussen.",
        path.display(),
        html.len() / 1024,
        foreign
    );
    expect(foreign == 0, "de inzage bevat gegevens uit een andere casus")?;
    outln!("Met {} bijlagen in een map ernaast, gelinkt vanuit de inzage.", export.files.len());
    expect(export.files.len() == files.len(), "de inzage mist bijlagen van de casus")?;
    sync(&mut marieke, &transport)?;
    Ok((relay, marieke))
}

/// A new worker's device: Marieke invites it, it joins with the code and shows a safety code,
/// Marieke's sync lists it with the same code and she admits it, and its own sync brings it
/// the roster and the team key.
fn enrol(
    dir: &Path,
    name: &str,
    supervisor: &mut Eropaf,
    transport: &HttpTransport,
) -> Result<Eropaf, String> {
    let home = dir.join(name.to_lowercase());
    let mut device = Eropaf::create(&home, Unlock::Passphrase(PASSPHRASE), name).nl()?;
    let invitation = supervisor.invite(transport, Role::Worker).map_err(|e| describe_relay(&e))?;
    outln!(
        "Marieke nodigt {name} uit: {}… (eenmalig, geldig tot {})",
        invitation.code.get(..16).unwrap_or(&invitation.code),
        invitation.expires_at.map(|t| local(t).format("%d-%m-%Y").to_string()).unwrap_or_default()
    );
    let code = Invitation::parse(&invitation.code).map_err(Error::from).nl()?;
    let shown = device.join(transport, &code).map_err(|e| describe_relay(&e))?;
    let waiting = sync(&mut device, transport)?.waiting_for_approval;
    outln!(
        "{name} meldt zich aan met de code{}; haar scherm toont veiligheidscode {shown}.",
        if waiting { " en wacht op toelating" } else { "" }
    );
    sync(supervisor, transport)?;
    let device_id = device.device_id().to_hex();
    let joiner = supervisor
        .pending_joiners()
        .nl()?
        .into_iter()
        .find(|p| p.device_id == device_id)
        .ok_or_else(|| format!("{name} staat niet in Mariekes lijst van aanmeldingen"))?;
    outln!(
        "Marieke synchroniseert en ziet {} wachten met veiligheidscode {}: dezelfde als op het \
         scherm van {name}, dus ze laat het apparaat toe.",
        joiner.member,
        joiner.code
    );
    supervisor.admit(transport, &device_id, &shown).map_err(|e| describe_relay(&e))?;
    let report = sync(&mut device, transport)?;
    let has_key = device.team_info().nl()?.is_some_and(|i| i.has_current_key);
    expect(!report.waiting_for_approval && has_key, &format!("{name} is niet toegelaten"))?;
    outln!("{name} synchroniseert: lid van het team, met de teamsleutel.");
    Ok(device)
}

/// Aïsha's consent, as the office's scanner reads it.
const CONSENT: &str = "Ik, Aïsha El Amrani, geef het wijkteam toestemming om namens mij contact \
     op te nemen met Woonbron over mijn huurachterstand. Getekend, 12 november 2026.";

/// The text of the letter from the woningcorporatie, as its scan would hold it.
const LETTER: &str = "Woonbron, Postbus 2346, Rotterdam. Aanmaning huurachterstand. Geachte \
     heer El Amrani, de huur van oktober en november (samen 1.500 euro) is niet ontvangen. \
     Betaalt u niet binnen veertien dagen, dan dragen wij de vordering over aan de deurwaarder.";

fn visit(at: chrono::DateTime<chrono::Utc>, place: &str, note: &str) -> NewVisit {
    NewVisit {
        at: Some(at),
        place: Some(place.into()),
        present: vec!["Aïsha".into()],
        note: note.into(),
        observations: Vec::new(),
    }
}

fn member_names(device: &Eropaf) -> HashMap<String, String> {
    device.members().into_iter().map(|m| (m.device_id, m.member)).collect()
}

/// A case with who recorded each visit.
fn show_case(case: &Case, names: &HashMap<String, String>) {
    outln!("Casus {}  {}  ({})", print::short(&case.id), case.resident.name, case.status.label());
    if let Some(household) = &case.resident.household {
        outln!("Huishouden: {household}");
    }
    outln!("Bezoeken ({}):", case.visits.len());
    for visit in &case.visits {
        let author = names.get(&visit.author_device).map_or("?", String::as_str);
        let place = visit.place.as_deref().map(|p| format!(" — {p}")).unwrap_or_default();
        outln!("- {}{place}, door {author}", local(visit.at).format("%d-%m-%Y %H:%M"));
        outln!("  {}", visit.note);
        for o in &visit.observations {
            let domain = o.domain.map(|d| format!("{}: ", d.label())).unwrap_or_default();
            outln!("  • {domain}{}", o.text);
        }
    }
}

fn expect(holds: bool, problem: &str) -> Result<(), String> {
    if holds {
        Ok(())
    } else {
        Err(format!("de demo liep anders dan verwacht: {problem}"))
    }
}
