//! A document's identity comes from the envelope header and the store row, never from what a
//! member can write into the document. Mallory, an enrolled worker, writes valid changes signed
//! by her own device that rename a case (to another case's id, or to garbage) or make one of
//! her visits claim a colleague's visit id; over the real relay, every other device keeps
//! syncing and opening its cases, and nothing she wrote moves to another case or visit.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use eropaf_core::crypto::session_actor;
use eropaf_core::model::{NewVisit, Resident};
use eropaf_core::sync::envelope::EnvelopeKind;
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::sync::transport::Transport;
use eropaf_core::{Eropaf, SyncReport};
use eropaf_tests::{fast_tempdir, Forger, Team, TestRelay};

fn sync(device: &mut Eropaf, transport: &dyn Transport) -> SyncReport {
    device.sync(transport, &mut |_| {}).unwrap()
}

fn note(text: &str) -> NewVisit {
    NewVisit { note: text.into(), ..NewVisit::default() }
}

/// The changes `edit` makes to Mallory's copy of the case, under her own actor.
fn change(mallory: &Forger, edit: impl FnOnce(&mut AutoCommit)) -> Vec<u8> {
    let actor = session_actor(mallory.identity.id()).unwrap();
    let mut doc = AutoCommit::load(&mallory.exported).unwrap().with_actor(ActorId::from(actor));
    let heads = doc.get_heads();
    edit(&mut doc);
    doc.commit();
    doc.save_after(&heads)
}

/// Sealed as her next envelope and pushed.
fn push(mallory: &mut Forger, http: &HttpTransport, team_id: &str, payload: &[u8]) {
    let envelope = mallory.seal(EnvelopeKind::Changes, payload);
    mallory.push(http, team_id, envelope);
}

struct Setup {
    _relay_dir: tempfile::TempDir,
    _relay: TestRelay,
    http: HttpTransport,
    team: Team,
}

/// Mallory (`workers[0]`) creates Esther's and Bram's cases, which everyone syncs; Victor is
/// `workers[1]`. Returns (Esther's case, Bram's case).
fn two_cases() -> (Setup, String, String) {
    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 2, fast_tempdir);
    let esther = team.workers[0].new_case(&Resident::named("Esther Mulder"), None).unwrap();
    let bram = team.workers[0].new_case(&Resident::named("Bram Visser"), None).unwrap();
    team.workers[0].record_visit(&esther, &note("Kennismaking")).unwrap();
    for device in team.devices_mut() {
        sync(device, &http);
    }
    (Setup { _relay_dir: relay_dir, _relay: relay, http, team }, esther, bram)
}

/// Each listed case's resident name, by case id.
fn listed(device: &Eropaf) -> Vec<(String, String)> {
    let mut cases: Vec<(String, String)> =
        device.cases().unwrap().into_iter().map(|c| (c.id, c.resident.name)).collect();
    cases.sort();
    cases
}

/// What every device but Mallory's must still show after her change: both cases under their
/// own ids and names, each opening as itself, and a visit recorded now reaching the others.
fn assert_cases_intact(setup: &mut Setup, esther: &str, bram: &str) {
    let Setup { http, team, .. } = setup;
    let mut expected = vec![
        (esther.to_string(), "Esther Mulder".to_string()),
        (bram.to_string(), "Bram Visser".into()),
    ];
    expected.sort();
    for device in std::iter::once(&mut team.supervisor).chain(team.workers[1..].iter_mut()) {
        let name = device.device_name().to_string();
        let report = device.sync(http, &mut |_| {});
        assert!(report.is_ok(), "{name}: the sync fails after Mallory's change: {report:?}");
        assert_eq!(listed(device), expected, "{name}: a case's list entry moved");
        for (id, resident) in &expected {
            let case = device.case(id);
            assert!(case.is_ok(), "{name}: case {id} no longer opens: {case:?}");
            let case = case.unwrap();
            assert_eq!(&case.id, id, "{name}: case {id} opens as another case");
            assert_eq!(&case.resident.name, resident);
        }
    }
    team.supervisor.record_visit(esther, &note("Na de aanval")).unwrap();
    sync(&mut team.supervisor, http);
    let victor = &mut team.workers[1];
    sync(victor, http);
    assert!(victor.case(esther).unwrap().visits.iter().any(|v| v.note == "Na de aanval"));
    assert_eq!(listed(victor), expected);
}

#[test]
fn a_case_renamed_to_another_case_redirects_nothing() {
    let (mut setup, esther, bram) = two_cases();
    let mut mallory = Forger::new(&mut setup.team, &esther);
    let rename = change(&mallory, |doc| doc.put(ROOT, "id", bram.as_str()).unwrap());
    let team_id = setup.team.team_id.clone();
    push(&mut mallory, &setup.http, &team_id, &rename);
    assert_cases_intact(&mut setup, &esther, &bram);
}

#[test]
fn a_case_renamed_to_garbage_keeps_syncing_and_opening() {
    let (mut setup, esther, bram) = two_cases();
    let mut mallory = Forger::new(&mut setup.team, &esther);
    let team_id = setup.team.team_id.clone();
    let garbage = change(&mallory, |doc| doc.put(ROOT, "id", "geen-casus").unwrap());
    push(&mut mallory, &setup.http, &team_id, &garbage);
    assert_cases_intact(&mut setup, &esther, &bram);
    // Nor does an id of the wrong type keep the case from being read.
    let mut mallory = Forger::new(&mut setup.team, &bram);
    let number = change(&mallory, |doc| doc.put(ROOT, "id", 7_i64).unwrap());
    push(&mut mallory, &setup.http, &team_id, &number);
    assert_cases_intact(&mut setup, &esther, &bram);
}

/// A device that joins after the rename still takes the case in under the id it travels as.
#[test]
fn a_device_that_joins_after_a_rename_still_gets_the_case() {
    let (mut setup, esther, bram) = two_cases();
    let mut mallory = Forger::new(&mut setup.team, &esther);
    let rename = change(&mallory, |doc| doc.put(ROOT, "id", bram.as_str()).unwrap());
    let team_id = setup.team.team_id.clone();
    push(&mut mallory, &setup.http, &team_id, &rename);

    let Setup { http, team, .. } = &mut setup;
    let dir = fast_tempdir();
    let mut newcomer = eropaf_tests::create_device(dir.path(), &team.key, "Nieuwe leidinggevende");
    eropaf_tests::enrol(
        &mut team.supervisor,
        &mut newcomer,
        http,
        eropaf_core::team::roster::Role::Supervisor,
    );
    sync(&mut newcomer, http);
    let mut expected =
        vec![(esther.clone(), "Esther Mulder".to_string()), (bram.clone(), "Bram Visser".into())];
    expected.sort();
    assert_eq!(listed(&newcomer), expected);
    assert_eq!(newcomer.case(&esther).unwrap().id, esther);
}

/// A visit's identity is its key in the case, written once by its creator: a visit that
/// names a colleague's visit id in its content does not become (or shadow) that visit.
#[test]
fn a_visit_cannot_take_another_visits_id() {
    let (mut setup, esther, _bram) = two_cases();
    let Setup { http, team, .. } = &mut setup;
    let victors = team.workers[1].record_visit(&esther, &note("Victor: alles rustig")).unwrap();
    sync(&mut team.workers[1], http);
    sync(&mut team.workers[0], http);
    let victor = team.workers[1].device_id().to_hex();

    let mut mallory = Forger::new(team, &esther);
    let own = mallory.identity.id().to_hex();
    let key = eropaf_core::crypto::random_id().unwrap();
    let forged = change(&mallory, |doc| {
        let Some((Value::Object(ObjType::Map), visits)) = doc.get(ROOT, "visits").unwrap() else {
            panic!("the case has its visits map");
        };
        let visit = doc.put_object(&visits, key.as_str(), ObjType::Map).unwrap();
        doc.put(&visit, "id", victors.as_str()).unwrap();
        doc.put(&visit, "author", victor.as_str()).unwrap();
        doc.put(&visit, "at", ScalarValue::Timestamp(chrono::Utc::now().timestamp_millis()))
            .unwrap();
        let text = doc.put_object(&visit, "note", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, "Victor: ik trek mij terug").unwrap();
        doc.put_object(&visit, "present", ObjType::List).unwrap();
        doc.put_object(&visit, "observations", ObjType::List).unwrap();
    });
    let team_id = team.team_id.clone();
    push(&mut mallory, http, &team_id, &forged);

    let report = sync(&mut team.supervisor, http);
    let case = team.supervisor.case(&esther).unwrap();
    let claiming: Vec<_> = case.visits.iter().filter(|v| v.id == victors).collect();
    assert_eq!(claiming.len(), 1, "two visits answer to Victor's visit id: {report:?}");
    assert_eq!(claiming[0].note, "Victor: alles rustig");
    assert_eq!(claiming[0].author_device, victor);
    for visit in &case.visits {
        if visit.note.contains("terug") {
            assert_eq!(visit.id, key, "Mallory's visit answers to another id");
            assert_eq!(visit.author_device, own, "Mallory's visit is shown as Victor's");
        }
    }
}
