//! The exported API driven from Rust as an app drives it from Kotlin or Swift: unlocking
//! through a `KeyStore`, typed errors, the checklist view, and async sync against the real
//! relay on loopback with progress and change notifications.

#![allow(clippy::unwrap_used, reason = "tests: a failed unwrap is a failed test")]

use std::sync::{Arc, Mutex};

use eropaf_ffi::{
    measure_native_calls, ChangeObserver, ChecklistItem, Eropaf, EropafError, KeyStore,
    MeasuredCall, NewObservation, NewVisit, Resident, Role, SyncListener, SyncProgress, Unlock,
    Verdict,
};
use eropaf_tests::TestRelay;

#[derive(Default)]
struct MemoryKeyStore(Mutex<Option<Vec<u8>>>);

impl KeyStore for MemoryKeyStore {
    fn load_key(&self) -> Result<Option<Vec<u8>>, EropafError> {
        Ok(self.0.lock().unwrap().clone())
    }

    fn save_key(&self, key: Vec<u8>) -> Result<(), EropafError> {
        *self.0.lock().unwrap() = Some(key);
        Ok(())
    }
}

/// A keystore that needs the user to authenticate first.
struct LockedKeyStore;

impl KeyStore for LockedKeyStore {
    fn load_key(&self) -> Result<Option<Vec<u8>>, EropafError> {
        Err(EropafError::Locked { message_nl: "Ontgrendel de telefoon".into() })
    }

    fn save_key(&self, _: Vec<u8>) -> Result<(), EropafError> {
        Err(EropafError::Locked { message_nl: "Ontgrendel de telefoon".into() })
    }
}

#[derive(Default)]
struct Recorder {
    progress: Mutex<Vec<SyncProgress>>,
    changed: Mutex<Vec<String>>,
}

impl SyncListener for Recorder {
    fn on_progress(&self, progress: SyncProgress) {
        self.progress.lock().unwrap().push(progress);
    }
}

impl ChangeObserver for Recorder {
    fn cases_changed(&self, case_ids: Vec<String>) {
        self.changed.lock().unwrap().extend(case_ids);
    }
}

fn device(dir: &tempfile::TempDir, name: &str) -> (Arc<Eropaf>, Arc<MemoryKeyStore>) {
    let keys = Arc::new(MemoryKeyStore::default());
    let unlock = Unlock::PlatformKeyStore { key_store: keys.clone() };
    let eropaf = Eropaf::create(dir.path().display().to_string(), unlock, name.into()).unwrap();
    (eropaf, keys)
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
}

#[test]
fn the_key_store_unlocks_and_its_refusals_keep_their_case() {
    let dir = tempfile::tempdir().unwrap();
    let (eropaf, keys) = device(&dir, "Sanne");
    let case_id = eropaf.new_case(Resident { name: "Willem".into(), ..Resident::default() }, None);
    drop(eropaf);
    let path = dir.path().display().to_string();
    let reopened =
        Eropaf::open(path.clone(), Unlock::PlatformKeyStore { key_store: keys.clone() }).unwrap();
    assert_eq!(reopened.cases().unwrap()[0].id, case_id.unwrap());

    let wrong = Eropaf::open(path.clone(), Unlock::Key { key: vec![9; 32] });
    assert!(matches!(wrong, Err(EropafError::Locked { .. })));
    let locked = Eropaf::open(
        path.clone(),
        Unlock::PlatformKeyStore { key_store: Arc::new(LockedKeyStore) },
    );
    assert!(matches!(locked, Err(EropafError::Locked { .. })));
    let short = Eropaf::open(path, Unlock::Key { key: vec![1; 16] });
    assert!(matches!(short, Err(EropafError::InvalidInput { ref field, .. }) if field == "key"));
}

#[test]
fn bad_input_names_the_field_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (eropaf, _) = device(&dir, "Sanne");
    let case_id =
        eropaf.new_case(Resident { name: "Willem".into(), ..Resident::default() }, None).unwrap();
    let visit = NewVisit {
        note: "Bezoek".into(),
        observations: vec![NewObservation {
            text: "Schulden".into(),
            domain: None,
            score: Some(9),
        }],
        ..NewVisit::default()
    };
    let error = eropaf.record_visit(case_id.clone(), visit).unwrap_err();
    assert!(matches!(error, EropafError::InvalidInput { ref field, .. } if field == "score"));
    assert!(eropaf.case_detail(case_id.clone()).unwrap().visits.is_empty());
    let question = eropaf.start_assessment(case_id, "  ".into(), None).unwrap_err();
    assert!(matches!(question, EropafError::InvalidInput { ref field, .. } if field == "question"));
}

#[test]
fn the_assessment_view_walks_the_framework_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (eropaf, _) = device(&dir, "Sanne");
    let case_id =
        eropaf.new_case(Resident { name: "Willem".into(), ..Resident::default() }, None).unwrap();
    let id = eropaf.start_assessment(case_id.clone(), "Auto meetellen?".into(), None).unwrap();
    loop {
        let view = eropaf.assessment(case_id.clone(), id.clone()).unwrap();
        match view.progress.next {
            None => break,
            Some(ChecklistItem::Value { key }) => eropaf
                .set_verdict(case_id.clone(), id.clone(), key, Verdict::InTension, "Schuurt".into())
                .unwrap(),
            Some(item) => {
                eropaf.answer(case_id.clone(), id.clone(), item, "Antwoord".into()).unwrap()
            }
        }
    }
    let done = eropaf.assessment(case_id, id).unwrap();
    assert!(done.progress.complete);
    assert_eq!(done.steps.iter().map(|s| s.step.number).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert!(done.values.iter().all(|v| v.verdict_label.as_deref() == Some("Op gespannen voet")));
    assert!(done.justification.contains("Schuurt"));
}

#[test]
fn two_devices_sync_through_the_relay_with_progress_and_change_notices() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(relay_dir.path());
    let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (supervisor, _) = device(&a_dir, "Fatima");
    let (worker, _) = device(&b_dir, "Sanne");
    let recorder = Arc::new(Recorder::default());
    block_on(async {
        supervisor
            .create_team("Wijkteam Noord".into(), relay.url.clone(), relay.registration_code())
            .unwrap();
        supervisor.sync(None).await.unwrap();
        let invitation = supervisor.invite(Role::Worker).await.unwrap();
        let shown = worker.join(invitation.code).await.unwrap();
        assert_eq!(worker.join_safety_code().unwrap().as_deref(), Some(shown.as_str()));
        assert!(worker.sync(None).await.unwrap().waiting_for_approval);
        assert_eq!(supervisor.sync(None).await.unwrap().waiting_joiners, 1);
        let waiting = supervisor.pending_joiners().await.unwrap();
        assert_eq!((waiting.len(), waiting[0].code.as_str()), (1, shown.as_str()));
        let wrong = supervisor.admit(waiting[0].device_id.clone(), "0000 0000 0000".into());
        assert!(matches!(wrong.await.unwrap_err(), EropafError::Refused { .. }));
        assert!(
            worker.sync(None).await.unwrap().waiting_for_approval,
            "a wrong code admits nobody"
        );
        supervisor.admit(waiting[0].device_id.clone(), shown).await.unwrap();
        assert!(!worker.sync(None).await.unwrap().waiting_for_approval);

        let case_id = worker
            .new_case(Resident { name: "Aïsha".into(), ..Resident::default() }, None)
            .unwrap();
        worker
            .record_visit(
                case_id.clone(),
                NewVisit { note: "Eerste bezoek".into(), ..NewVisit::default() },
            )
            .unwrap();
        let pushed = worker.sync(Some(recorder.clone())).await.unwrap();
        assert!(pushed.pushed >= 1);
        let progress = recorder.progress.lock().unwrap().clone();
        assert_eq!(progress.first(), Some(&SyncProgress::Roster));
        assert!(progress.iter().any(|p| matches!(p, SyncProgress::Pushing { .. })));

        supervisor.set_change_observer(Some(recorder.clone()));
        supervisor.sync(None).await.unwrap();
        assert_eq!(*recorder.changed.lock().unwrap(), std::slice::from_ref(&case_id));
        assert_eq!(
            supervisor.case_detail(case_id.clone()).unwrap(),
            worker.case_detail(case_id).unwrap()
        );

        let refused = worker.invite(Role::Worker).await.unwrap_err();
        assert!(matches!(refused, EropafError::Unauthorised { .. }));
    });
}

#[test]
fn native_calls_are_measured_on_the_same_object() {
    let dir = tempfile::tempdir().unwrap();
    let (eropaf, _) = device(&dir, "Sanne");
    let case_id =
        eropaf.new_case(Resident { name: "Willem".into(), ..Resident::default() }, None).unwrap();
    measure_native_calls(eropaf.clone(), MeasuredCall::RecordVisit, case_id.clone(), 3).unwrap();
    measure_native_calls(eropaf.clone(), MeasuredCall::ListCases, case_id.clone(), 3).unwrap();
    assert_eq!(eropaf.case_detail(case_id).unwrap().visits.len(), 3);
}
