//! Team-level acts need a supervisor's signature that every device checks against the roster:
//! the relay's operator, who writes its own database, or a worker's device cannot make the
//! team erase a case. A refused order is reported and the case stays.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use eropaf_core::model::{NewVisit, Resident};
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::sync::transport::Transport;
use eropaf_core::team::erasure;
use eropaf_core::{Eropaf, Error};
use eropaf_tests::{device_identity, fast_tempdir, relay_db, Team, TestRelay};

fn sync(device: &mut Eropaf, http: &HttpTransport) -> eropaf_core::SyncReport {
    device.sync(http, &mut |_| {}).unwrap()
}

/// What the operator does to its own database: a tombstone for `doc_id`, in `author`'s
/// name, with `signature`, as the next entry of the team's log.
fn plant_tombstone(relay: &TestRelay, team_id: &str, doc_id: &str, author: &str, signature: &[u8]) {
    let conn = relay_db(&relay.db);
    let seq: i64 = conn
        .query_row("SELECT last_seq + 1 FROM teams WHERE team_id = ?1", [team_id], |r| r.get(0))
        .unwrap();
    conn.execute(
        "INSERT INTO envelopes (team_id, server_seq, hash, doc_id, author, kind, bytes, tombstoned)
         VALUES (?1, ?2, NULL, ?3, ?4, 'erased', ?5, 1)",
        rusqlite::params![
            team_id,
            seq,
            hex::decode(doc_id).unwrap(),
            hex::decode(author).unwrap(),
            signature
        ],
    )
    .unwrap();
    conn.execute(
        "UPDATE teams SET last_seq = ?2 WHERE team_id = ?1",
        rusqlite::params![team_id, seq],
    )
    .unwrap();
}

#[test]
fn an_erasure_planted_by_the_relay_or_signed_by_a_worker_is_refused_and_the_case_stays() {
    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 1, fast_tempdir);
    let case = team.workers[0].new_case(&Resident::named("Willem Bakker"), None).unwrap();
    let visit = NewVisit { note: "Eerste bezoek".into(), ..NewVisit::default() };
    team.workers[0].record_visit(&case, &visit).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    let supervisor_id = team.supervisor.device_id().to_hex();
    let worker_id = team.workers[0].device_id().to_hex();

    // 1. The operator plants tombstones in the supervisor's name: without a signature, and
    //    with a signature the operator makes with a key of its own.
    let own_key = eropaf_core::crypto::DeviceIdentity::generate().unwrap();
    let forged = erasure::sign(&own_key, &team.team_id, &case);
    plant_tombstone(&relay, &team.team_id, &case, &supervisor_id, &[]);
    plant_tombstone(&relay, &team.team_id, &case, &supervisor_id, &forged);
    // 2. A worker's device signs an order (the relay refuses it; a colluding operator plants it).
    let worker_key = device_identity(team.dirs[1].path(), &team.key);
    let by_worker = erasure::sign(&worker_key, &team.team_id, &case);
    plant_tombstone(&relay, &team.team_id, &case, &worker_id, &by_worker);

    for device in team.devices_mut() {
        let report = device.sync(&http, &mut |_| {}).unwrap();
        let refused: Vec<_> = report.refused.iter().filter(|r| r.contains("wisopdracht")).collect();
        assert_eq!(refused.len(), 3, "{report:?}");
        assert_eq!(device.case(&case).unwrap().visits.len(), 1, "the case stays");
    }

    // A supervisor's own order is carried out everywhere.
    team.supervisor.erase_case(Some(&http), &case).unwrap();
    sync(&mut team.workers[0], &http);
    assert!(matches!(team.workers[0].case(&case), Err(Error::NotFound { .. })));
}

/// Joost, a supervisor, makes an epoch key for the epoch after this one while he still can,
/// and seals it to Sanne; then he is revoked. Had Sanne taken it, everything she writes after
/// his revocation would be under a key he knows.
#[test]
fn a_key_made_ahead_by_a_supervisor_who_is_revoked_since_is_never_used() {
    use eropaf_core::team::epoch::{EpochKey, KeyPackage};
    use eropaf_core::team::roster::Role;

    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 1, fast_tempdir);
    let joost_dir = fast_tempdir();
    let mut joost = eropaf_tests::create_device(joost_dir.path(), &team.key, "Joost");
    eropaf_tests::enrol(&mut team.supervisor, &mut joost, &http, Role::Supervisor);
    let joost_key = device_identity(joost_dir.path(), &team.key);
    let sanne = team.workers[0].device_card(Role::Worker).unwrap();

    let ahead = EpochKey::generate(2).unwrap();
    let agreement = hex::decode(&sanne.agreement_key).unwrap();
    let package =
        KeyPackage::create(&team.team_id, &ahead, &sanne.device_id, &agreement, &joost_key)
            .unwrap();
    // The relay refuses a package for an epoch that has not begun...
    let refused = http.put_key_packages(&joost_key, &team.team_id, std::slice::from_ref(&package));
    assert!(refused.is_err(), "the relay took a key for a later epoch");
    // ...but a colluding operator plants it, and Sanne syncs before the revocation...
    let conn = relay_db(&relay.db);
    conn.execute(
        "INSERT INTO key_packages (team_id, recipient, epoch, json) VALUES (?1, ?2, 2, ?3)",
        rusqlite::params![team.team_id, sanne.device_id, serde_json::to_string(&package).unwrap()],
    )
    .unwrap();
    sync(&mut team.workers[0], &http);
    // ...and after it, when the operator serves Joost's package in place of Marieke's.
    team.supervisor.revoke(&http, &joost.device_id().to_hex()).unwrap();
    conn.execute(
        "UPDATE key_packages SET json = ?3 WHERE team_id = ?1 AND recipient = ?2 AND epoch = 2",
        rusqlite::params![team.team_id, sanne.device_id, serde_json::to_string(&package).unwrap()],
    )
    .unwrap();
    let report = sync(&mut team.workers[0], &http);
    assert!(report.refused.iter().any(|r| r.contains("epoch 2")), "{report:?}");

    let sannes_keys =
        eropaf_tests::open_store(team.dirs[1].path(), &team.key).epoch_keys().unwrap();
    assert!(
        sannes_keys.iter().all(|(_, key)| key[..] != ahead.to_bytes()[..]),
        "Sanne holds the key Joost made ahead"
    );
}

/// A worker's device writes the team document itself (a maatwerkbudget threshold so high that
/// nothing needs a verdict any more), sealed and signed as its own valid envelope.
#[test]
fn a_worker_cannot_rewrite_the_team_policy() {
    use eropaf_core::sync::envelope::{Envelope, EnvelopeHeader, EnvelopeKind};

    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 1, fast_tempdir);
    let mut policy = team.supervisor.policy().unwrap();
    policy.review_threshold_cents = 75_000;
    team.supervisor.set_policy(&policy).unwrap();
    sync(&mut team.supervisor, &http);
    sync(&mut team.workers[0], &http);
    assert_eq!(team.workers[0].policy().unwrap(), policy);

    // The worker's device, with its own keys and its copy of the team document.
    let (dir, key) = (team.dirs[1].path(), &team.key);
    let identity = device_identity(dir, key);
    // The store keeps its team document under the local id "team".
    let stored = eropaf_tests::open_store(dir, key).load_doc("team").unwrap().unwrap();
    let actor = eropaf_core::crypto::session_actor(identity.id()).unwrap();
    // Built on what the team has of the document (the worker's device holds it all), so that
    // the change applies on the supervisor's device without waiting for anything.
    let teams = eropaf_tests::open_store(team.dirs[0].path(), key).load_doc("team").unwrap();
    let mut teams = automerge::AutoCommit::load(&teams.unwrap().chunks.concat()).unwrap();
    let heads = teams.get_heads();
    let mut doc = automerge::AutoCommit::load(&stored.chunks.concat())
        .unwrap()
        .fork_at(&heads)
        .unwrap()
        .with_actor(automerge::ActorId::from(actor));
    let (_, policy_map) =
        automerge::ReadDoc::get(&doc, automerge::ROOT, "policy").unwrap().unwrap();
    automerge::transaction::Transactable::put(
        &mut doc,
        &policy_map,
        "review_threshold_cents",
        1_000_000_000_u64,
    )
    .unwrap();
    let payload = doc.save_after(&heads);
    let (version, case_key) = eropaf_tests::case_key(dir, key, &team.team_id);
    let team_id: [u8; 16] = hex::decode(&team.team_id).unwrap().try_into().unwrap();
    let header = EnvelopeHeader::new(
        team_id,
        team_id,
        version,
        identity.id(),
        1,
        None,
        EnvelopeKind::Changes,
    )
    .unwrap();
    let envelope = Envelope::seal(header, &case_key, &payload, &identity).unwrap();
    http.push(&identity, &team.team_id, &[envelope.to_bytes()], &[]).unwrap();

    let report = sync(&mut team.supervisor, &http);
    assert!(report.refused.iter().any(|r| r.contains("teamdocument")), "{report:?}");
    assert_eq!(team.supervisor.policy().unwrap(), policy, "the worker's policy was applied");
}

/// Marieke revokes Daan's lost phone. The relay keeps showing Sanne's device the roster from
/// before, so her device would go on treating Daan's phone as a member. Sanne's device hears of
/// the longer roster from what colleagues sealed, and says the relay holds entries back.
#[test]
fn a_relay_that_hides_a_revocation_is_noticed() {
    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 2, fast_tempdir);
    let before = team.supervisor.members().len(); // the genesis and one entry per device added
    let case = team.supervisor.new_case(&Resident::named("Esther"), None).unwrap();
    sync(&mut team.supervisor, &http);
    sync(&mut team.workers[0], &http);
    let daan = team.workers[1].device_id().to_hex();
    team.supervisor.revoke(&http, &daan).unwrap();
    let visit = NewVisit { note: "Na de intrekking".into(), ..NewVisit::default() };
    team.supervisor.record_visit(&case, &visit).unwrap();
    sync(&mut team.supervisor, &http);

    let hiding = eropaf_tests::roster_relay(&http, move |mut entries| {
        entries.truncate(before);
        entries
    });
    let report = team.workers[0].sync(&hiding, &mut |_| {}).unwrap();
    assert!(report.warnings.iter().any(|w| w.contains("teamlijst achter")), "{report:?}");
    assert!(!team.workers[0].members().iter().any(|m| m.revoked), "the relay hid it");
    // An honest relay again: the revocation arrives and nothing is said.
    let report = sync(&mut team.workers[0], &http);
    assert!(report.warnings.is_empty(), "{report:?}");
    assert!(team.workers[0].members().iter().any(|m| m.device_id == daan && m.revoked));
}

/// Joost, a supervisor, is revoked: his phone was stolen. The thief, with the relay's
/// operator, slips in a snapshot in his name, sealed with a case key from before the
/// revocation, holding a visit in Sanne's name that she never wrote ("alles in orde"). A
/// revoked supervisor's snapshot speaks for nobody: it is refused and the visit never shows;
/// the case itself stays whole, also for a device that joins afterwards.
#[test]
fn a_revoked_supervisors_snapshot_is_not_trusted() {
    use chrono::Utc;
    use eropaf_core::crypto::session_actor;
    use eropaf_core::doc::CaseDoc;
    use eropaf_core::sync::envelope::{Envelope, EnvelopeHeader, EnvelopeKind};
    use eropaf_core::team::roster::Role;

    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 2, fast_tempdir);
    let joost_dir = fast_tempdir();
    let mut joost = eropaf_tests::create_device(joost_dir.path(), &team.key, "Joost");
    eropaf_tests::enrol(&mut team.supervisor, &mut joost, &http, Role::Supervisor);
    let note = |text: &str| NewVisit { note: text.into(), ..NewVisit::default() };
    let case = team.workers[0].new_case(&Resident::named("Esther Mulder"), None).unwrap();
    team.workers[0].record_visit(&case, &note("Kennismaking")).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut joost, &http);
    // Joost wrote to the case himself: his revocation lets that envelope (number 1 of his
    // chain for the case) stand, so the thief's snapshot claims that place.
    joost.record_visit(&case, &note("Samen met Sanne")).unwrap();
    for device in [&mut joost, &mut team.workers[1], &mut team.supervisor] {
        sync(device, &http);
    }
    assert_eq!(joost.case(&case).unwrap().visits.len(), 2);

    // What the thief has: Joost's device keys, his key for the case, his copy of it.
    let joost_key = device_identity(joost_dir.path(), &team.key);
    let (key_version, case_key) = eropaf_tests::case_key(joost_dir.path(), &team.key, &case);
    let copy = joost.export_case(&case).unwrap();
    team.supervisor.revoke(&http, &joost.device_id().to_hex()).unwrap();
    sync(&mut team.supervisor, &http);

    let sanne = team.workers[0].device_id();
    let mut doc = CaseDoc::load(&[copy], &session_actor(sanne).unwrap()).unwrap();
    let forged = eropaf_core::crypto::random_id().unwrap();
    doc.add_visit(&forged, &note("Alles in orde, dossier kan dicht"), Utc::now()).unwrap();
    let id16 = |id: &str| <[u8; 16]>::try_from(hex::decode(id).unwrap()).unwrap();
    let header = EnvelopeHeader::new(
        id16(&team.team_id),
        id16(&case),
        key_version,
        joost_key.id(),
        1,
        None,
        EnvelopeKind::Snapshot,
    )
    .unwrap();
    let bytes = Envelope::seal(header, &case_key, &doc.save(), &joost_key).unwrap().to_bytes();
    let pushed = http.push(&joost_key, &team.team_id, std::slice::from_ref(&bytes), &[]);
    assert!(matches!(pushed, Err(Error::Revoked)), "{pushed:?}");
    relay.plant(&team.team_id, &bytes, "snapshot");

    let report = sync(&mut team.workers[1], &http);
    assert!(report.refused.iter().any(|r| r.contains("snapshot")), "{report:?}");
    let shown = team.workers[1].case(&case).unwrap();
    assert!(shown.visit(&forged).is_err(), "the thief's visit shows as Sanne's");
    assert_eq!(shown.visits.len(), 2);

    // Revoking him made Marieke snapshot the case again, so nothing rests on his snapshots.
    let marieke = team.supervisor.device_id();
    let snapshots: i64 = relay_db(&relay.db)
        .query_row(
            "SELECT COUNT(*) FROM envelopes WHERE kind = 'snapshot' AND author = ?1
               AND doc_id = ?2 AND tombstoned = 0",
            rusqlite::params![&marieke.as_bytes()[..], &id16(&case)[..]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(snapshots, 1, "Marieke re-snapshotted the case");
    let newcomer_dir = fast_tempdir();
    let mut newcomer = eropaf_tests::create_device(newcomer_dir.path(), &team.key, "Nieuw");
    eropaf_tests::enrol(&mut team.supervisor, &mut newcomer, &http, Role::Worker);
    sync(&mut newcomer, &http);
    let shown = newcomer.case(&case).unwrap();
    assert!(shown.visit(&forged).is_err());
    assert_eq!(shown.visits.len(), 2);
}
