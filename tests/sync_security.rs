//! Security properties of team sync, over the real relay on loopback: the relay's files hold
//! no case text; an envelope tampered with at the relay, replayed requests, another team's
//! envelopes, and changes written under another device's automerge actor are all refused,
//! and a refused envelope never changes a case.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use chrono::Utc;
use eropaf_core::crypto::{session_actor, DeviceId};
use eropaf_core::doc::CaseDoc;
use eropaf_core::model::{
    CaseStatus, LifeDomain, NewVisit, Observation, Resident, ReviewVerdict, Score,
};
use eropaf_core::review::ReviewAction::{Approve, RequestChanges};
use eropaf_core::review::ReviewState;
use eropaf_core::sync::envelope::EnvelopeKind;
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::sync::request::sign_request;
use eropaf_core::sync::transport::Transport;
use eropaf_core::{Eropaf, Error, SyncReport};
use eropaf_tests::{
    case_key, device_identity, fast_tempdir, files_containing, outbox, relay_db, Forger, Team,
    TestRelay,
};
use reqwest::StatusCode;

fn sync(device: &mut Eropaf, transport: &dyn Transport) -> SyncReport {
    device.sync(transport, &mut |_| {}).unwrap()
}

fn note(text: &str) -> NewVisit {
    NewVisit { note: text.into(), ..NewVisit::default() }
}

struct Setup {
    relay_dir: tempfile::TempDir,
    relay: TestRelay,
    http: HttpTransport,
    team: Team,
}

fn setup(workers: usize) -> Setup {
    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let team = Team::enrol(&http, &relay.url, &relay.registration_code(), workers, fast_tempdir);
    Setup { relay_dir, relay, http, team }
}

/// Where the last byte of an envelope's sequence number lies: version, team id, doc id, key
/// version, author, then the 8-byte sequence number.
const SEQ_LAST_BYTE: usize = 1 + 16 + 16 + 4 + 16 + 7;

/// The relay's server sequence so far.
fn last_seq(db: &std::path::Path) -> i64 {
    relay_db(db).query_row("SELECT MAX(last_seq) FROM teams", [], |r| r.get(0)).unwrap()
}

#[test]
fn the_relays_files_hold_none_of_the_case_text() {
    let Setup { relay_dir, relay, http, mut team } = setup(2);
    let resident = Resident {
        name: "Kwartelkoning Jansen".into(),
        address: Some("Zonnebloemstraat 77".into()),
        phone: Some("06-98765432".into()),
        household: Some("Gezin Roerdomp".into()),
    };
    let case = team.workers[0].new_case(&resident, None).unwrap();
    let visit = NewVisit {
        note: "Huurachterstand bij Zwaluwnest Wonen".into(),
        place: Some("Pimpelmeesplein".into()),
        present: vec!["Grutto (buurvrouw)".into()],
        observations: vec![Observation::new(
            "Kievitschulden bij drie schuldeisers",
            Some(LifeDomain::Financien),
            Some(Score::new(2).unwrap()),
        )
        .unwrap()],
        ..NewVisit::default()
    };
    let visit_id = team.workers[0].record_visit(&case, &visit).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.workers[1], &http);
    team.workers[1]
        .edit_visit_note(&case, &visit_id, "Huurachterstand bij Zwaluwnest Wonen; Tureluurregeling")
        .unwrap();
    let observation = Observation::new("Wulpzorgen om de kinderen", None, None).unwrap();
    team.workers[1].add_observation(&case, &visit_id, &observation).unwrap();
    for _ in 0..2 {
        for device in team.devices_mut() {
            sync(device, &http);
        }
    }

    // The text did travel through this relay: the supervisor reads all of it.
    let seen = team.supervisor.case(&case).unwrap();
    assert_eq!(seen.resident, resident);
    assert!(seen.visits[0].note.ends_with("Tureluurregeling"));
    assert_eq!(seen.visits[0].observations.len(), 2);
    let stored: i64 = relay_db(&relay.db)
        .query_row("SELECT COUNT(*) FROM envelopes WHERE bytes IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    assert!(stored >= 4, "the relay holds the case's envelopes ({stored})");

    let markers = [
        "Kwartelkoning",
        "Zonnebloemstraat",
        "98765432",
        "Roerdomp",
        "Zwaluwnest",
        "Pimpelmees",
        "Grutto",
        "Kievitschulden",
        "Tureluur",
        "Wulpzorgen",
    ];
    let scan = |when: &str| {
        for marker in markers {
            for needle in [marker.to_string(), hex::encode(marker)] {
                let found = files_containing(relay_dir.path(), needle.as_bytes());
                assert!(found.is_empty(), "{when}: {needle:?} is readable at the relay: {found:?}");
            }
        }
    };
    scan("while the relay runs");
    drop(relay); // stops it; SQLite folds the WAL into the database file
    scan("after the relay stopped");
}

#[test]
fn an_envelope_tampered_with_at_the_relay_is_refused_and_never_applied() {
    let Setup { relay_dir: _relay_dir, relay, http, mut team } = setup(1);
    let tampered_case = team.workers[0].new_case(&Resident::named("Ans de Wit"), None).unwrap();
    let other_case = team.workers[0].new_case(&Resident::named("Bram Visser"), None).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    let before = team.supervisor.case(&tampered_case).unwrap();

    let seq_before = last_seq(&relay.db);
    for n in 0..4 {
        team.workers[0].record_visit(&tampered_case, &note(&format!("bezoek {n}"))).unwrap();
    }
    team.workers[0].record_visit(&other_case, &note("Gewoon bezoek")).unwrap();
    sync(&mut team.workers[0], &http);

    // Someone with access to the relay's database changes the four envelopes of the first
    // case, each in another place: a header field, the body, the signature, the length.
    let db = relay_db(&relay.db);
    let rows: Vec<(i64, Vec<u8>)> = db
        .prepare(
            "SELECT server_seq, bytes FROM envelopes WHERE server_seq > ?1 ORDER BY server_seq",
        )
        .unwrap()
        .query_map([seq_before], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(rows.len(), 5, "one envelope per visit");
    let tampers: [fn(&mut Vec<u8>); 4] = [
        |b| b[SEQ_LAST_BYTE] ^= 1,
        |b| {
            let middle = b.len() / 2;
            b[middle] ^= 0x20;
        },
        |b| {
            let last = b.len() - 1;
            b[last] ^= 0x01;
        },
        |b| b.truncate(b.len() - 10),
    ];
    for ((seq, bytes), tamper) in rows.iter().zip(tampers) {
        let mut bytes = bytes.clone();
        tamper(&mut bytes);
        db.execute(
            "UPDATE envelopes SET bytes = ?1 WHERE server_seq = ?2",
            rusqlite::params![bytes, seq],
        )
        .unwrap();
    }

    let report = sync(&mut team.supervisor, &http);
    assert_eq!(report.refused.len(), 4, "each tampered envelope is refused: {report:?}");
    assert_eq!(team.supervisor.case(&tampered_case).unwrap(), before, "nothing of them applied");
    // One bad envelope does not hold back the rest.
    assert_eq!(team.supervisor.case(&other_case).unwrap().visits[0].note, "Gewoon bezoek");
    // Nor do they come back later.
    let again = sync(&mut team.supervisor, &http);
    assert!(again.refused.is_empty() && again.applied == 0, "{again:?}");
    assert_eq!(team.supervisor.case(&tampered_case).unwrap(), before);
}

/// A raw signed request, as `HttpTransport` sends it.
fn send(
    client: &reqwest::blocking::Client,
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&'static str, String)],
    body: &[u8],
) -> StatusCode {
    let url = format!("{base}{path}");
    let mut request = match method {
        "GET" => client.get(url),
        _ => client.post(url).header("content-type", "application/json").body(body.to_vec()),
    };
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().unwrap().status()
}

#[test]
fn a_replayed_or_altered_request_is_refused_by_the_relay() {
    let Setup { relay_dir: _relay_dir, relay, mut team, http } = setup(1);
    let worker_dir = team.dirs[1].path().to_path_buf();
    let case = team.workers[0].new_case(&Resident::named("Cor van Dam"), None).unwrap();
    let identity = device_identity(&worker_dir, &team.key);
    let envelopes = outbox(&worker_dir, &team.key);
    assert_eq!(envelopes.len(), 2, "a case key announcement and the new case");
    let body_of = |envelope: &[u8]| format!(r#"{{"envelopes":["{}"]}}"#, hex::encode(envelope));
    let client = reqwest::blocking::Client::new();
    let now = || Utc::now().timestamp_millis();

    // A push, signed once and sent twice.
    let path = format!("/v1/teams/{}/envelopes", team.team_id);
    let body = body_of(&envelopes[0]);
    let headers = sign_request(&identity, "POST", &path, body.as_bytes(), now());
    assert_eq!(send(&client, &relay.url, "POST", &path, &headers, body.as_bytes()), StatusCode::OK);
    let replayed = send(&client, &relay.url, "POST", &path, &headers, body.as_bytes());
    assert_eq!(replayed, StatusCode::CONFLICT, "the same signed request again");
    // The captured headers on another body.
    let other = body_of(&envelopes[1]);
    let altered = send(&client, &relay.url, "POST", &path, &headers, other.as_bytes());
    assert_eq!(altered, StatusCode::UNAUTHORIZED, "captured headers on another body");
    // A request signed six minutes ago, sent for the first time.
    let stale_headers = sign_request(&identity, "POST", &path, other.as_bytes(), now() - 360_000);
    let stale = send(&client, &relay.url, "POST", &path, &stale_headers, other.as_bytes());
    assert_eq!(stale, StatusCode::UNAUTHORIZED, "a stale request");
    // A pull, signed once and sent twice; and the same headers on another query.
    let pull = format!("/v1/teams/{}/envelopes?after=0&limit=10", team.team_id);
    let headers = sign_request(&identity, "GET", &pull, b"", now());
    assert_eq!(send(&client, &relay.url, "GET", &pull, &headers, b""), StatusCode::OK);
    assert_eq!(send(&client, &relay.url, "GET", &pull, &headers, b""), StatusCode::CONFLICT);
    let elsewhere = format!("/v1/teams/{}/envelopes?after=1&limit=10", team.team_id);
    assert_eq!(
        send(&client, &relay.url, "GET", &elsewhere, &headers, b""),
        StatusCode::UNAUTHORIZED
    );

    // The relay took exactly one envelope so far; the device's own sync is unharmed.
    let stored: i64 = relay_db(&relay.db)
        .query_row(
            "SELECT COUNT(*) FROM envelopes WHERE author = ?1",
            [identity.id().as_bytes().to_vec()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 1);
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    assert_eq!(team.supervisor.case(&case).unwrap().resident.name, "Cor van Dam");
}

#[test]
fn an_envelope_of_another_team_is_refused() {
    let Setup { relay_dir: _relay_dir, relay, http, mut team } = setup(1);
    let mut zuid = Team::enrol(&http, &relay.url, &relay.registration_code(), 0, fast_tempdir);
    let foreign_case = zuid.supervisor.new_case(&Resident::named("Dirk Zuidema"), None).unwrap();
    let foreign = outbox(zuid.dirs[0].path(), &zuid.key);
    let zuid_supervisor = device_identity(zuid.dirs[0].path(), &zuid.key);
    let worker = device_identity(team.dirs[1].path(), &team.key);
    let stored_before = last_seq(&relay.db);

    // The other team's device pushes to this team's log: it is no member here.
    let err = http.push(&zuid_supervisor, &team.team_id, &foreign, &[]).unwrap_err();
    assert!(matches!(err, Error::Unauthorised(_)), "{err:?}");
    // A member of this team relays the other team's envelopes: not its own, not this team's.
    let err = http.push(&worker, &team.team_id, &foreign, &[]).unwrap_err();
    assert!(matches!(err, Error::Unauthorised(_)), "{err:?}");
    assert_eq!(last_seq(&relay.db), stored_before, "the relay stored nothing");

    // A compromised relay serves them in this team's log anyway: the devices refuse them.
    for bytes in &foreign {
        relay.plant(&team.team_id, bytes, "changes");
    }
    let report = sync(&mut team.workers[0], &http);
    assert_eq!(report.refused.len(), foreign.len(), "{report:?}");
    assert!(report.refused.iter().all(|r| r.contains("another team")), "{report:?}");
    assert!(matches!(team.workers[0].case(&foreign_case), Err(Error::NotFound { .. })));
    assert!(team.workers[0].cases().unwrap().is_empty());
}

// ---- a member who writes in another member's name ----

/// What Mallory's device writes on top of her copy of the case (see `eropaf_tests::Forger`).
trait Writes {
    fn visit(&self, actor_device: DeviceId, author: DeviceId, note: &str) -> (String, Vec<u8>);
    fn approval(&self, assessment: &str, reviewer: DeviceId) -> Vec<u8>;
    fn access_in_name_of(&self, device: DeviceId, member: &str) -> Vec<u8>;
    fn snapshot_with_visit(&self, actor_device: DeviceId, note: &str) -> (String, Vec<u8>);
    fn status_as_number(&self) -> Vec<u8>;
    fn message_bomb(&self, len: usize) -> Vec<u8>;
    fn edit(&self, edit: impl FnOnce(&mut automerge::AutoCommit)) -> Vec<u8>;
}

impl Writes for Forger {
    /// A new visit to the case, written by a session of `actor_device`, naming `author` as
    /// the visit's author: the changes alone, or the whole document with them.
    fn visit(&self, actor_device: DeviceId, author: DeviceId, note: &str) -> (String, Vec<u8>) {
        let actor = session_actor(actor_device).unwrap();
        let mut doc = CaseDoc::load(std::slice::from_ref(&self.exported), &actor).unwrap();
        let heads = doc.heads();
        let id = eropaf_core::crypto::random_id().unwrap();
        let visit = NewVisit { note: note.into(), ..NewVisit::default() };
        doc.add_visit(&id, &visit, Utc::now()).unwrap();
        // The app no longer writes who recorded a visit into it, but a forger can: she names
        // `author` there, as schema 1 did.
        use automerge::ReadDoc;
        let mut raw = automerge::AutoCommit::load(&doc.save())
            .unwrap()
            .with_actor(automerge::ActorId::from(actor));
        let visits = match raw.get(automerge::ROOT, "visits").unwrap() {
            Some((automerge::Value::Object(_), obj)) => obj,
            other => panic!("no visits: {other:?}"),
        };
        let record = match raw.get(&visits, id.as_str()).unwrap() {
            Some((automerge::Value::Object(_), obj)) => obj,
            other => panic!("no visit: {other:?}"),
        };
        automerge::transaction::Transactable::put(&mut raw, &record, "author", author.to_hex())
            .unwrap();
        raw.commit();
        (id, raw.save_after(&heads))
    }

    /// An approval of `assessment` written by Mallory's own device, naming `reviewer` (a
    /// supervisor) as the one who gave it: the changes alone.
    fn approval(&self, assessment: &str, reviewer: DeviceId) -> Vec<u8> {
        let actor = session_actor(self.identity.id()).unwrap();
        let mut doc = CaseDoc::load(std::slice::from_ref(&self.exported), &actor).unwrap();
        let heads = doc.heads();
        let review = eropaf_core::model::Review {
            id: eropaf_core::crypto::random_id().unwrap(),
            assessment_id: assessment.into(),
            at: Utc::now(),
            reviewer_device: reviewer.to_hex(),
            verdict: ReviewVerdict::Approved,
            note: "Akkoord".into(),
            escalated_to: None,
            submission: doc.assessment(assessment).unwrap().submitted_at,
            supersedes: Vec::new(),
        };
        doc.add_review(&review).unwrap();
        doc.save_after(&heads)
    }

    /// An access-log entry written by Mallory's own device in `device`'s name.
    fn access_in_name_of(&self, device: DeviceId, member: &str) -> Vec<u8> {
        let actor = session_actor(self.identity.id()).unwrap();
        let mut doc = CaseDoc::load(std::slice::from_ref(&self.exported), &actor).unwrap();
        let heads = doc.heads();
        let entry = eropaf_core::access_log::AccessEntry {
            at: Utc::now(),
            device: device.to_hex(),
            member: member.into(),
            action: eropaf_core::access_log::AccessAction::Export,
            on_behalf: None,
        };
        assert!(doc.log_access(&entry).unwrap());
        doc.save_after(&heads)
    }

    fn snapshot_with_visit(&self, actor_device: DeviceId, note: &str) -> (String, Vec<u8>) {
        let actor = session_actor(actor_device).unwrap();
        let mut doc = CaseDoc::load(std::slice::from_ref(&self.exported), &actor).unwrap();
        let id = eropaf_core::crypto::random_id().unwrap();
        let visit = NewVisit { note: note.into(), ..NewVisit::default() };
        doc.add_visit(&id, &visit, Utc::now()).unwrap();
        (id, doc.save())
    }

    /// A well-formed change under Mallory's own actor that makes the case's status a number,
    /// which no device can read as a case any more.
    fn status_as_number(&self) -> Vec<u8> {
        let actor = session_actor(self.identity.id()).unwrap();
        let mut doc = automerge::AutoCommit::load(&self.exported)
            .unwrap()
            .with_actor(automerge::ActorId::from(actor));
        let heads = doc.get_heads();
        automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "status", 42_i64)
            .unwrap();
        doc.save_after(&heads)
    }

    /// Any well-formed edit of her copy, under Mallory's own actor: the changes alone.
    fn edit(&self, edit: impl FnOnce(&mut automerge::AutoCommit)) -> Vec<u8> {
        let actor = session_actor(self.identity.id()).unwrap();
        let mut doc = automerge::AutoCommit::load(&self.exported)
            .unwrap()
            .with_actor(automerge::ActorId::from(actor));
        let heads = doc.get_heads();
        edit(&mut doc);
        doc.save_after(&heads)
    }

    /// A well-formed change under Mallory's own actor whose commit message is `len` bytes of
    /// one letter, as automerge itself writes it: a compressed change chunk a thousand times
    /// smaller than what it inflates to.
    fn message_bomb(&self, len: usize) -> Vec<u8> {
        let actor = session_actor(self.identity.id()).unwrap();
        let mut doc = automerge::AutoCommit::load(&self.exported)
            .unwrap()
            .with_actor(automerge::ActorId::from(actor));
        let heads = doc.get_heads();
        automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "x", 1_i64).unwrap();
        let message = "a".repeat(len);
        doc.commit_with(automerge::transaction::CommitOptions::default().with_message(message));
        let mut change = doc.get_changes(&heads).into_iter().next().unwrap();
        change.bytes().into_owned()
    }
}

/// Mallory (`workers[0]`) creates a case that everyone syncs; Victor is `workers[1]`.
fn mallory_and_victor() -> (Setup, String) {
    let mut s = setup(2);
    let case = s.team.workers[0].new_case(&Resident::named("Esther Mulder"), None).unwrap();
    s.team.workers[0].record_visit(&case, &note("Kennismaking")).unwrap();
    sync(&mut s.team.workers[0], &s.http);
    sync(&mut s.team.workers[1], &s.http);
    sync(&mut s.team.supervisor, &s.http);
    assert_eq!(s.team.supervisor.case(&case).unwrap().visits.len(), 1);
    (s, case)
}

#[test]
fn changes_made_under_another_devices_actor_are_refused() {
    let (Setup { relay_dir: _relay_dir, relay: _relay, http, mut team }, case) =
        mallory_and_victor();
    let mut mallory = Forger::new(&mut team, &case);
    let victor = team.workers[1].device_id();

    let (forged_id, forged) = mallory.visit(victor, victor, "Victor zegt dat alles in orde is");
    let envelope = mallory.seal(EnvelopeKind::Changes, &forged);
    mallory.push(&http, &team.team_id, envelope); // the relay cannot look inside
    let before = team.supervisor.case(&case).unwrap();
    let victor_before = team.workers[1].case(&case).unwrap();
    let report = sync(&mut team.supervisor, &http);
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert_eq!(team.supervisor.case(&case).unwrap(), before, "the forged visit is not applied");
    let report = sync(&mut team.workers[1], &http);
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert_eq!(team.workers[1].case(&case).unwrap(), victor_before);
    assert!(team.supervisor.case(&case).unwrap().visit(&forged_id).is_err());

    // The same visit written under Mallory's own actor is taken: the actor was the problem.
    let own = mallory.identity.id();
    let (honest_id, honest) = mallory.visit(own, own, "Mallory's eigen bezoek");
    let envelope = mallory.seal(EnvelopeKind::Changes, &honest);
    mallory.push(&http, &team.team_id, envelope);
    let report = sync(&mut team.supervisor, &http);
    assert!(report.refused.is_empty() && report.applied == 1, "{report:?}");
    let visit = team.supervisor.case(&case).unwrap().visit(&honest_id).unwrap().clone();
    assert_eq!(visit.author_device, own.to_hex());
}

/// A snapshot may hold other members' history, so receivers cannot hold it to its signer's
/// actor alone; but a change in it that no member ever sent in their own name is forged.
#[test]
fn a_snapshot_cannot_carry_changes_forged_in_another_members_name() {
    let (Setup { relay_dir: _relay_dir, relay: _relay, http, mut team }, case) =
        mallory_and_victor();
    let mut mallory = Forger::new(&mut team, &case);
    let victor = team.workers[1].device_id();
    let (forged_id, snapshot) = mallory.snapshot_with_visit(victor, "Victor: geen zorgen hier");
    let envelope = mallory.seal(EnvelopeKind::Snapshot, &snapshot);
    mallory.push(&http, &team.team_id, envelope);
    let before = team.supervisor.case(&case).unwrap();
    let report = sync(&mut team.supervisor, &http);
    let after = team.supervisor.case(&case).unwrap();
    assert!(
        after.visit(&forged_id).is_err(),
        "a visit Victor never wrote shows up as his: {:?}\n{report:?}",
        after.visit(&forged_id)
    );
    assert_eq!(after, before);
    assert_eq!(report.refused.len(), 1, "{report:?}");
}

/// Who made a visit is what a supervisor relies on; it must be the device that wrote it.
#[test]
fn a_visit_shows_the_device_that_really_wrote_it() {
    let (Setup { relay_dir: _relay_dir, relay: _relay, http, mut team }, case) =
        mallory_and_victor();
    let mut mallory = Forger::new(&mut team, &case);
    let own = mallory.identity.id();
    let victor = team.workers[1].device_id();
    let (id, changes) = mallory.visit(own, victor, "Afspraak afgezegd");
    let envelope = mallory.seal(EnvelopeKind::Changes, &changes);
    mallory.push(&http, &team.team_id, envelope);
    let report = sync(&mut team.supervisor, &http);
    let shown = team.supervisor.case(&case).unwrap().visit(&id).map(|v| v.author_device.clone());
    assert!(
        shown.as_ref().map_or(true, |author| *author == own.to_hex()),
        "Mallory's visit is shown as Victor's ({shown:?}): {report:?}"
    );
}

/// Mallory wants her own maatwerk decision approved: her device writes the approval into the
/// case itself, in Marieke's name. No supervisor gave it, so no device shows it.
#[test]
fn a_worker_cannot_approve_her_own_decision_in_the_supervisors_name() {
    let (Setup { relay_dir: _relay_dir, relay: _relay, http, mut team }, case) =
        mallory_and_victor();
    let question = "Betalen we de huur uit het maatwerkbudget?";
    let assessment = eropaf_tests::weighed(&mut team.workers[0], &case, question, Some(90_000));
    team.workers[0].submit_assessment(&case, &assessment).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    assert_eq!(team.supervisor.review_queue().unwrap().len(), 1);

    let mut mallory = Forger::new(&mut team, &case);
    let marieke = team.supervisor.device_id();
    let forged = mallory.approval(&assessment, marieke);
    let envelope = mallory.seal(EnvelopeKind::Changes, &forged);
    mallory.push(&http, &team.team_id, envelope);
    for device in [&mut team.supervisor, &mut team.workers[1]] {
        let report = sync(device, &http);
        assert!(report.refused.iter().any(|r| r.contains("beoordeling")), "{report:?}");
        assert!(device.case(&case).unwrap().reviews.is_empty(), "the forged approval shows");
        assert_eq!(device.review_state(&case, &assessment).unwrap(), ReviewState::Waiting);
    }
    assert_eq!(team.supervisor.review_queue().unwrap().len(), 1, "it left the queue");
}

/// Mallory exports the case and writes the log entry in Victor's name: the log would then say
/// Victor took the resident's data home. No device shows an entry that names another device
/// than the one that wrote it.
#[test]
fn an_access_log_entry_in_another_members_name_is_not_shown() {
    let (Setup { relay_dir: _relay_dir, relay: _relay, http, mut team }, case) =
        mallory_and_victor();
    let mut mallory = Forger::new(&mut team, &case);
    let victor = team.workers[1].device_id();
    let forged = mallory.access_in_name_of(victor, "Werker 1");
    let envelope = mallory.seal(EnvelopeKind::Changes, &forged);
    mallory.push(&http, &team.team_id, envelope);
    let report = sync(&mut team.supervisor, &http);
    assert!(report.refused.iter().any(|r| r.contains("logregel")), "{report:?}");
    let log = team.supervisor.case(&case).unwrap().access_log;
    let in_victors_name = log.iter().filter(|e| e.device == victor.to_hex()).count();
    assert_eq!(in_victors_name, 0, "{log:?}");
}

/// The one verdict a device shows for the assessment, if it shows exactly one.
fn verdict(device: &mut Eropaf, case: &str, assessment: &str) -> Option<ReviewVerdict> {
    match device.review_state(case, assessment).unwrap() {
        ReviewState::Decided { review } => Some(review.verdict),
        _ => None,
    }
}

/// The forged approval is refused when it arrives, not only left out when the case is read:
/// when Marieke then asks for changes, nobody sees two verdicts that disagree.
#[test]
fn a_forged_approval_is_refused_on_arrival_and_never_conflicts_with_the_real_verdict() {
    let (Setup { relay_dir: _relay_dir, relay: _relay, http, mut team }, case) =
        mallory_and_victor();
    let question = "Betalen we de huur uit het maatwerkbudget?";
    let assessment = eropaf_tests::weighed(&mut team.workers[0], &case, question, Some(90_000));
    team.workers[0].submit_assessment(&case, &assessment).unwrap();
    sync(&mut team.workers[0], &http);
    let mut mallory = Forger::new(&mut team, &case);
    let marieke = team.supervisor.device_id();
    let forged = mallory.approval(&assessment, marieke);
    let envelope = mallory.seal(EnvelopeKind::Changes, &forged);
    mallory.push(&http, &team.team_id, envelope);

    let report = sync(&mut team.supervisor, &http);
    assert!(report.refused.iter().any(|r| r.contains("geweigerd")), "{report:?}");
    team.supervisor.review_assessment(&case, &assessment, RequestChanges, "Onderbouw").unwrap();
    sync(&mut team.supervisor, &http);
    for device in [&mut team.supervisor, &mut team.workers[1]] {
        sync(device, &http);
        let shown = device.case(&case).unwrap();
        assert!(shown.conflicts.is_empty(), "a review conflict with a forgery: {shown:?}");
        assert_eq!(verdict(device, &case, &assessment), Some(ReviewVerdict::ChangesRequested));
    }
}

/// Marieke approved; Mallory's device then replaces the case's whole review map with an empty
/// one of its own, so that the approval (and any later refusal) would vanish for everyone.
#[test]
fn a_worker_cannot_make_a_supervisors_verdict_vanish() {
    let (Setup { relay_dir: _relay_dir, relay: _relay, http, mut team }, case) =
        mallory_and_victor();
    let assessment =
        eropaf_tests::weighed(&mut team.workers[0], &case, "Huur betalen?", Some(90_000));
    team.workers[0].submit_assessment(&case, &assessment).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    team.supervisor.review_assessment(&case, &assessment, Approve, "Akkoord").unwrap();
    sync(&mut team.supervisor, &http);
    sync(&mut team.workers[0], &http);

    let mut mallory = Forger::new(&mut team, &case);
    let emptied = mallory.edit(|doc| {
        use automerge::transaction::Transactable;
        doc.put_object(automerge::ROOT, "reviews", automerge::ObjType::Map).unwrap();
    });
    let envelope = mallory.seal(EnvelopeKind::Changes, &emptied);
    mallory.push(&http, &team.team_id, envelope);
    for device in [&mut team.supervisor, &mut team.workers[1]] {
        let report = sync(device, &http);
        assert!(report.refused.iter().any(|r| r.contains("geweigerd")), "{report:?}");
        assert_eq!(device.case(&case).unwrap().reviews.len(), 1, "the verdict vanished");
        assert_eq!(verdict(device, &case, &assessment), Some(ReviewVerdict::Approved));
    }
}

/// Victor opened the case; Mallory's device removes his entry from the access log. The log is
/// append-only: the removal is refused and Victor's access still shows.
#[test]
fn an_access_log_entry_cannot_be_removed_by_another_member() {
    let (Setup { relay_dir: _relay_dir, relay: _relay, http, mut team }, case) =
        mallory_and_victor();
    let victor = team.workers[1].device_id().to_hex();
    team.workers[1].open_case(&case, None).unwrap();
    sync(&mut team.workers[1], &http);
    sync(&mut team.workers[0], &http);
    let mut mallory = Forger::new(&mut team, &case);
    let removal = mallory.edit(|doc| {
        use automerge::transaction::Transactable;
        use automerge::ReadDoc;
        let (_, list) = doc.get(automerge::ROOT, "access").unwrap().unwrap();
        let at = (0..doc.length(&list))
            .find(|index| {
                let (_, entry) = doc.get(&list, *index).unwrap().unwrap();
                let named = doc.get(&entry, "device").unwrap().map(|(v, _)| v.into_string());
                matches!(named, Some(Ok(device)) if device == victor)
            })
            .expect("Victor's entry is in Mallory's copy");
        doc.delete(&list, at).unwrap();
    });
    let envelope = mallory.seal(EnvelopeKind::Changes, &removal);
    mallory.push(&http, &team.team_id, envelope);
    let report = sync(&mut team.supervisor, &http);
    assert!(report.refused.iter().any(|r| r.contains("logregel")), "{report:?}");
    let log = team.supervisor.case(&case).unwrap().access_log;
    assert!(log.iter().any(|entry| entry.device == victor), "Victor's access is gone: {log:?}");
}

/// Mallory starts an assessment and names Victor as its author in the document: it shows as
/// hers, the device that made it.
#[test]
fn an_assessment_shows_the_device_that_really_started_it() {
    let (Setup { relay_dir: _relay_dir, relay: _relay, http, mut team }, case) =
        mallory_and_victor();
    let victor = team.workers[1].device_id().to_hex();
    let assessment = team.workers[0].start_assessment(&case, "Schuldhulp inzetten?", None).unwrap();
    sync(&mut team.workers[0], &http);
    let mut mallory = Forger::new(&mut team, &case);
    let renamed = mallory.edit(|doc| {
        use automerge::transaction::Transactable;
        use automerge::ReadDoc;
        let (_, all) = doc.get(automerge::ROOT, "assessments").unwrap().unwrap();
        let (_, record) = doc.get(&all, assessment.as_str()).unwrap().unwrap();
        doc.put(&record, "author", victor.as_str()).unwrap();
    });
    let envelope = mallory.seal(EnvelopeKind::Changes, &renamed);
    mallory.push(&http, &team.team_id, envelope);
    sync(&mut team.supervisor, &http);
    let shown = team.supervisor.case(&case).unwrap();
    let author = &shown.assessment(&assessment).unwrap().author_device;
    assert_eq!(*author, team.workers[0].device_id().to_hex(), "shown as Victor's");
}

/// A member's change that arrives intact but leaves the case unreadable is dropped and
/// reported; the case, and what came with and after it, stays readable for everyone.
#[test]
fn a_change_that_would_make_a_case_unreadable_is_dropped_and_the_rest_applied() {
    let (Setup { relay_dir: _relay_dir, relay: _relay, http, mut team }, case) =
        mallory_and_victor();
    let mut mallory = Forger::new(&mut team, &case);
    let own = mallory.identity.id();
    let breaking = mallory.status_as_number();
    let envelope = mallory.seal(EnvelopeKind::Changes, &breaking);
    mallory.push(&http, &team.team_id, envelope);
    let (honest_id, honest) = mallory.visit(own, own, "Tweede bezoek");
    let envelope = mallory.seal(EnvelopeKind::Changes, &honest);
    mallory.push(&http, &team.team_id, envelope);

    let report = sync(&mut team.supervisor, &http);
    assert_eq!(report.refused.len(), 1, "the breaking change is reported: {report:?}");
    let shown = team.supervisor.case(&case).unwrap();
    assert_eq!(shown.status, CaseStatus::Open, "the status stays readable");
    assert!(shown.visit(&honest_id).is_ok(), "the later visit is applied");
    let listed = team.supervisor.cases().unwrap();
    assert_eq!(listed.iter().find(|c| c.id == case).map(|c| c.visit_count), Some(2));
    // The case keeps working: a visit recorded now reaches the others.
    team.supervisor.record_visit(&case, &note("Na de storing")).unwrap();
    sync(&mut team.supervisor, &http);
    sync(&mut team.workers[1], &http);
    let victor_sees = team.workers[1].case(&case).unwrap();
    assert!(victor_sees.visits.iter().any(|v| v.note == "Na de storing"));
}

/// Since case schema 3 a visit is recorded as one JSON string, and observations added later
/// are JSON strings beside it. A member who writes what does not read as one (an observation
/// that is not JSON or names no life domain we know, a note that is a number, a recorded
/// visit that is not JSON) cannot make the case unreadable for the team: the case opens,
/// what is not an observation or a visit is not shown, and the list counts what is shown.
#[test]
fn what_does_not_read_as_a_visit_or_observation_is_dropped_and_the_case_stays_readable() {
    let (Setup { relay_dir: _relay_dir, relay: _relay, http, mut team }, case) =
        mallory_and_victor();
    let visit_id = team.workers[0].record_visit(&case, &note("Bezoek met observatie")).unwrap();
    let noted_id = team.workers[0].record_visit(&case, &note("Een gewone notitie")).unwrap();
    let broken_id = team.workers[0].record_visit(&case, &note("Wordt overschreven")).unwrap();
    sync(&mut team.workers[0], &http);
    let mut mallory = Forger::new(&mut team, &case);
    let garbage = mallory.edit(|doc| {
        use automerge::transaction::Transactable;
        use automerge::ReadDoc;
        let (_, visits) = doc.get(automerge::ROOT, "visits").unwrap().unwrap();
        let visit =
            |doc: &automerge::AutoCommit, id: &str| doc.get(&visits, id).unwrap().unwrap().1;
        let observed = visit(doc, &visit_id);
        doc.put(&observed, "observation/000001.aa", "{\"text\": niet af").unwrap();
        doc.put(
            &observed,
            "observation/000002.aa",
            "{\"domain\": \"maanreizen\", \"text\": \"x\"}",
        )
        .unwrap();
        let noted = visit(doc, &noted_id);
        doc.put(&noted, "note", 42_i64).unwrap();
        let broken = visit(doc, &broken_id);
        doc.put(&broken, "recorded", "{\"at\": \"gisteren\"").unwrap();
    });
    let envelope = mallory.seal(EnvelopeKind::Changes, &garbage);
    mallory.push(&http, &team.team_id, envelope);

    sync(&mut team.supervisor, &http);
    let shown = team.supervisor.case(&case).unwrap();
    let visit = shown.visit(&visit_id).unwrap();
    assert_eq!(visit.note, "Bezoek met observatie");
    assert!(visit.observations.is_empty(), "{:?}", visit.observations);
    assert_eq!(shown.visit(&noted_id).unwrap().note, "Een gewone notitie");
    assert!(shown.visit(&broken_id).is_err());
    let listed = team.supervisor.cases().unwrap();
    let listed = listed.iter().find(|c| c.id == case).unwrap();
    assert_eq!(listed.visit_count as usize, shown.visits.len());
}

/// A lost phone is revoked; its thief, with the relay's operator, slips in an envelope the
/// phone signs now, sealed with the case key it has held since before the revocation. The
/// revocation says how far the phone's chain for each case stood when it was revoked:
/// whatever lies beyond was signed afterwards, and every device refuses it.
#[test]
fn an_envelope_a_revoked_device_signs_afterwards_under_an_old_key_is_refused() {
    let (Setup { relay_dir: _relay_dir, relay, http, mut team }, case) = mallory_and_victor();
    let mut mallory = Forger::new(&mut team, &case);
    // What the phone wrote before it was lost stands.
    let own = mallory.identity.id();
    let (before_id, before) = mallory.visit(own, own, "Bezoek voor het verlies");
    let envelope = mallory.seal(EnvelopeKind::Changes, &before);
    mallory.push(&http, &team.team_id, envelope);
    team.supervisor.revoke(&http, &own.to_hex()).unwrap();

    let (forged_id, forged) = mallory.visit(own, own, "Alles is opgelost");
    let envelope = mallory.seal(EnvelopeKind::Changes, &forged);
    assert!(http
        .push(&mallory.identity, &team.team_id, std::slice::from_ref(&envelope), &[])
        .is_err());
    relay.plant(&team.team_id, &envelope, "changes");

    for device in [&mut team.supervisor, &mut team.workers[1]] {
        let report = sync(device, &http);
        assert!(report.refused.iter().any(|r| r.contains("after its revocation")), "{report:?}");
        let shown = device.case(&case).unwrap();
        assert!(shown.visit(&forged_id).is_err(), "the visit signed afterwards shows");
        assert!(shown.visit(&before_id).is_ok(), "the visit from before the loss is gone");
    }
}

/// A lost phone is revoked; a relay that colludes with its thief slips in an envelope in the
/// phone's name, sealed with a case key made after the revocation (as if it had leaked). The
/// phone never held that epoch, so the envelope cannot be its own: it is refused.
#[test]
fn an_envelope_in_a_revoked_devices_name_under_a_later_epoch_is_refused() {
    let (Setup { relay_dir: _relay_dir, relay, http, mut team }, case) = mallory_and_victor();
    let mut mallory = Forger::new(&mut team, &case);
    team.supervisor.revoke(&http, &mallory.identity.id().to_hex()).unwrap();
    sync(&mut team.workers[1], &http);
    team.workers[1].record_visit(&case, &note("Na het verlies van de telefoon")).unwrap();
    sync(&mut team.workers[1], &http);
    let (version, key) = case_key(team.dirs[2].path(), &team.key, &case);
    assert_ne!(version, mallory.key_version, "Victor wrote under a case key of the new epoch");
    (mallory.key_version, mallory.case_key) = (version, key);

    let own = mallory.identity.id();
    let (forged_id, forged) = mallory.visit(own, own, "Alles is opgelost");
    let envelope = mallory.seal(EnvelopeKind::Changes, &forged);
    relay.plant(&team.team_id, &envelope, "changes");

    let report = sync(&mut team.supervisor, &http);
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert!(report.refused[0].contains("revocation"), "{report:?}");
    let shown = team.supervisor.case(&case).unwrap();
    assert!(shown.visit(&forged_id).is_err(), "the forged visit is not applied");
    assert!(shown.visits.iter().any(|v| v.note == "Na het verlies van de telefoon"));
}

/// Resets this process's peak resident memory, then returns a closure telling how far the
/// peak rose above the resident memory at the reset, in MiB. `None` where Linux's
/// `/proc/self/clear_refs` is not available.
fn peak_memory_growth() -> Option<impl Fn() -> u64> {
    fn status_kib(field: &str) -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let start = status_kib("VmRSS:")?;
    Some(move || status_kib("VmHWM:").unwrap_or(0).saturating_sub(start) / 1024)
}

/// Mallory, an enrolled worker, seals a valid envelope under her own actor whose automerge
/// change is a deflate bomb: 256 KiB that automerge inflates to 256 MiB (and several times
/// that once parsed; the issue measured 770 MiB of RSS). Victor's honest visit comes in the
/// same page. The supervisor refuses the bomb before inflating it, applies Victor's visit,
/// and moves on: the next sync neither retries nor reports it again.
#[test]
fn a_deflate_bomb_from_a_member_is_refused_before_it_inflates() {
    let (Setup { relay_dir: _relay_dir, relay: _relay, http, mut team }, case) =
        mallory_and_victor();
    let mut mallory = Forger::new(&mut team, &case);
    let bomb = mallory.message_bomb(256 * 1024 * 1024);
    assert!(bomb.len() < 512 * 1024, "the bomb is small on the wire: {} bytes", bomb.len());
    let envelope = mallory.seal(EnvelopeKind::Changes, &bomb);
    drop(bomb);
    mallory.push(&http, &team.team_id, envelope);
    let honest = team.workers[1].record_visit(&case, &note("Victor, na de bom")).unwrap();
    sync(&mut team.workers[1], &http);

    let growth = peak_memory_growth();
    let report = sync(&mut team.supervisor, &http);
    if let Some(growth) = growth {
        // Other tests run in parallel threads of this process, so the bound is loose; the
        // bomb alone would take hundreds of MiB.
        let grown = growth();
        assert!(grown < 128, "the supervisor's sync took {grown} MiB more memory: {report:?}");
    }
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert!(report.refused[0].contains("inflates"), "{report:?}");
    let shown = team.supervisor.case(&case).unwrap();
    assert!(shown.visit(&honest).is_ok(), "the honest visit in the same page is applied");
    let again = sync(&mut team.supervisor, &http);
    assert!(again.refused.is_empty() && again.applied == 0, "the cursor moved on: {again:?}");
}

/// The relay (or its database) spoils the key package that brings a worker the new epoch's
/// key. The worker refuses that package and reports it; its syncs go on and what it can read
/// still arrives. (Before, the bad package stopped every later sync of the device.)
#[test]
fn a_bad_key_package_is_reported_and_the_sync_goes_on() {
    let Setup { relay_dir: _relay_dir, relay, http, mut team } = setup(2);
    let case = team.workers[0].new_case(&Resident::named("Fatima Bakker"), None).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    // Written before the revocation, under the epoch the worker holds; not yet pulled.
    let visit = team.supervisor.record_visit(&case, &note("Voor de intrekking")).unwrap();
    sync(&mut team.supervisor, &http);
    let lost = team.workers[1].device_id().to_hex();
    team.supervisor.revoke(&http, &lost).unwrap();

    let worker = team.workers[0].device_id().to_hex();
    let spoiled = relay_db(&relay.db)
        .execute(
            "UPDATE key_packages SET json = json_set(json, '$.signature', ?1)
             WHERE recipient = ?2 AND epoch = (SELECT MAX(epoch) FROM key_packages)",
            rusqlite::params!["00".repeat(64), worker],
        )
        .unwrap();
    assert_eq!(spoiled, 1, "the worker's package for the new epoch");

    let report = team.workers[0].sync(&http, &mut |_| {});
    let report = report.expect("a bad key package does not stop the sync");
    assert!(
        report.refused.iter().any(|r| r.contains("key package")),
        "the package is reported: {report:?}"
    );
    assert!(team.workers[0].case(&case).unwrap().visit(&visit).is_ok(), "later envelopes arrive");
    let again = team.workers[0].sync(&http, &mut |_| {});
    assert!(again.is_ok(), "and the next sync runs too: {again:?}");
}

/// The relay's operator deletes one of Sanne's envelopes from its database: her second visit
/// never reaches Marieke. Marieke's device notices the hole in Sanne's chain and says so.
#[test]
fn an_envelope_the_relay_holds_back_is_noticed() {
    let Setup { relay_dir: _relay_dir, relay, http, mut team } = setup(1);
    let case = team.workers[0].new_case(&Resident::named("Esther Mulder"), None).unwrap();
    team.workers[0].record_visit(&case, &note("Eerste bezoek")).unwrap();
    sync(&mut team.workers[0], &http);
    assert!(sync(&mut team.supervisor, &http).warnings.is_empty());
    let before = last_seq(&relay.db);
    team.workers[0].record_visit(&case, &note("Tweede bezoek")).unwrap();
    team.workers[0].record_visit(&case, &note("Derde bezoek")).unwrap();
    sync(&mut team.workers[0], &http);
    let deleted = relay_db(&relay.db)
        .execute(
            "DELETE FROM envelopes WHERE server_seq = (SELECT MIN(server_seq) FROM envelopes
             WHERE server_seq > ?1)",
            [before],
        )
        .unwrap();
    assert_eq!(deleted, 1);
    let report = sync(&mut team.supervisor, &http);
    let sanne = team.workers[0].device_id().to_hex();
    assert!(
        report.warnings.iter().any(|w| w.contains("achter") && w.contains(&sanne[..8])),
        "{report:?}"
    );
    // Said once; a later sync that finds nothing new says nothing.
    assert!(sync(&mut team.supervisor, &http).warnings.is_empty());
}

/// The relay holds back Sanne's newest envelope for the case, so her chain shows no gap; but
/// Victor built on it, and his change arrives: the hole it points at is noticed.
#[test]
fn an_envelope_others_built_on_cannot_be_held_back_unnoticed() {
    let Setup { relay_dir: _relay_dir, relay, http, mut team } = setup(2);
    let case = team.workers[0].new_case(&Resident::named("Esther Mulder"), None).unwrap();
    sync(&mut team.workers[0], &http);
    for device in [&mut team.workers[1], &mut team.supervisor] {
        sync(device, &http);
    }
    team.workers[0].record_visit(&case, &note("Schulden besproken")).unwrap();
    let before = last_seq(&relay.db);
    sync(&mut team.workers[0], &http);
    sync(&mut team.workers[1], &http);
    team.workers[1].record_visit(&case, &note("Vervolg op Sannes bezoek")).unwrap();
    sync(&mut team.workers[1], &http);
    let sanne = team.workers[0].device_id();
    let withheld = relay_db(&relay.db)
        .execute(
            "DELETE FROM envelopes WHERE server_seq > ?1 AND author = ?2",
            rusqlite::params![before, &sanne.as_bytes()[..]],
        )
        .unwrap();
    assert_eq!(withheld, 1);
    let report = sync(&mut team.supervisor, &http);
    assert!(report.warnings.iter().any(|w| w.contains("achter")), "{report:?}");
    assert_eq!(team.supervisor.case(&case).unwrap().visits.len(), 0, "nothing half-applied");
}
