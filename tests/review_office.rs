//! The office side over the real relay on loopback: a worker submits a decision that departs
//! from policy, the supervisor finds it in the queue and approves it, and the worker sees the
//! verdict after sync; two supervisors disagreeing at the same time both see the conflict;
//! access-log entries, framework versions, the team's policy and erasures reach every device;
//! the relay's database holds no resident name.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use eropaf_core::checklist;
use eropaf_core::model::{NewVisit, Resident, ReviewVerdict};
use eropaf_core::review::{ReviewAction, ReviewState};
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::team::roster::Role;
use eropaf_core::{Eropaf, Error};
use eropaf_tests::{create_device, files_containing, weighed, Team, TestRelay};

fn sync(device: &mut Eropaf, transport: &HttpTransport) {
    let report = device.sync(transport, &mut |_| {}).unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
}

fn setup() -> (tempfile::TempDir, TestRelay, HttpTransport, Team) {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(relay_dir.path());
    let transport = HttpTransport::new(&relay.url).unwrap();
    let team = Team::enrol(&transport, &relay.url, &relay.registration_code(), 1, || {
        tempfile::tempdir().unwrap()
    });
    (relay_dir, relay, transport, team)
}

#[test]
fn a_worker_sees_the_supervisors_verdict_after_sync() {
    let (relay_dir, _relay, transport, mut team) = setup();
    let worker = &mut team.workers[0];
    let case = worker.new_case(&Resident::named("Aïsha El Amrani"), None).unwrap();
    worker
        .record_visit(&case, &NewVisit { note: "Huur 750 euro".into(), ..NewVisit::default() })
        .unwrap();
    let id = weighed(worker, &case, "Betalen we de huur uit het maatwerkbudget?", Some(75_000));
    assert_eq!(worker.submit_assessment(&case, &id).unwrap(), ReviewState::Waiting);
    worker.open_case(&case, None).unwrap();
    sync(worker, &transport);

    let supervisor = &mut team.supervisor;
    sync(supervisor, &transport);
    let queue = supervisor.review_queue().unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].resident, "Aïsha El Amrani");
    let opened = supervisor.open_case(&case, None).unwrap();
    let members: Vec<&str> = opened.access_log.iter().map(|e| e.member.as_str()).collect();
    assert_eq!(members, ["Werker 0", "Marieke (leidinggevende)"], "the log travels with the case");
    supervisor.review_assessment(&case, &id, ReviewAction::Approve, "Akkoord").unwrap();
    assert!(supervisor.review_queue().unwrap().is_empty());
    sync(supervisor, &transport);

    let worker = &mut team.workers[0];
    sync(worker, &transport);
    match worker.review_state(&case, &id).unwrap() {
        ReviewState::Decided { review } => {
            assert_eq!(review.verdict, ReviewVerdict::Approved);
            assert_eq!(review.note, "Akkoord");
        }
        other => panic!("the worker sees {other:?}"),
    }
    assert!(files_containing(relay_dir.path(), "Aïsha".as_bytes()).is_empty());
    assert!(files_containing(relay_dir.path(), b"Akkoord").is_empty());
}

#[test]
fn two_supervisors_disagreeing_concurrently_both_see_the_conflict() {
    let (_relay_dir, _relay, transport, mut team) = setup();
    let dir = tempfile::tempdir().unwrap();
    let mut joost = create_device(dir.path(), &team.key, "Joost");
    eropaf_tests::enrol(&mut team.supervisor, &mut joost, &transport, Role::Supervisor);

    let worker = &mut team.workers[0];
    let case = worker.new_case(&Resident::named("Willem Bakker"), None).unwrap();
    let id = weighed(worker, &case, "Telt de auto mee als vermogen?", None);
    worker.submit_assessment(&case, &id).unwrap();
    sync(worker, &transport);
    sync(&mut team.supervisor, &transport);
    sync(&mut joost, &transport);

    team.supervisor.review_assessment(&case, &id, ReviewAction::Approve, "").unwrap();
    joost.review_assessment(&case, &id, ReviewAction::Escalate, "Naar de doorbraak").unwrap();
    sync(&mut team.supervisor, &transport);
    sync(&mut joost, &transport);
    sync(&mut team.supervisor, &transport);
    for device in [&mut team.supervisor, &mut joost] {
        let conflicts = device.case(&case).unwrap().conflicts;
        assert_eq!(conflicts.len(), 1, "{conflicts:?}");
        assert_eq!(conflicts[0].values, ["approved", "escalated"]);
        let queue = device.review_queue().unwrap();
        assert!(matches!(queue[0].state, ReviewState::Conflict { .. }));
    }
    let worker = &mut team.workers[0];
    sync(worker, &transport);
    assert!(matches!(worker.review_state(&case, &id).unwrap(), ReviewState::Conflict { .. }));
}

#[test]
fn frameworks_policy_and_erasures_reach_the_team() {
    let (relay_dir, _relay, transport, mut team) = setup();
    let source = checklist::Framework::builtin_source()
        .replacen("version = 1", "version = 2", 1)
        .replacen("title = \"Waardenkader wijkteam\"", "title = \"Waardenkader wijkteam 2027\"", 1);
    let worker = &mut team.workers[0];
    assert!(matches!(worker.install_framework(&source), Err(Error::Unauthorised(_))));
    let case = worker.new_case(&Resident::named("Yusuf Haddad"), None).unwrap();
    sync(worker, &transport);

    let supervisor = &mut team.supervisor;
    supervisor.install_framework(&source).unwrap();
    let mut policy = supervisor.policy().unwrap();
    policy.review_threshold_cents = 10_000;
    supervisor.set_policy(&policy).unwrap();
    sync(supervisor, &transport);
    supervisor
        .erase_case_logged(Some(&transport), &case, Some("verzoek tot verwijdering"))
        .unwrap();
    sync(supervisor, &transport);

    let worker = &mut team.workers[0];
    sync(worker, &transport);
    let frameworks = worker.frameworks().unwrap();
    assert_eq!(frameworks[0].version, 2);
    assert_eq!(frameworks[0].title, "Waardenkader wijkteam 2027");
    assert_eq!(worker.policy().unwrap().review_threshold_cents, 10_000);
    assert!(matches!(worker.case(&case), Err(Error::NotFound { .. })), "erased everywhere");
    let erasures = worker.erasures().unwrap();
    assert_eq!(erasures.len(), 1);
    assert_eq!(erasures[0].case_id, case);
    assert_eq!(erasures[0].entry.member, "Marieke (leidinggevende)");
    assert_eq!(erasures[0].entry.on_behalf.as_deref(), Some("verzoek tot verwijdering"));
    assert!(files_containing(relay_dir.path(), b"Yusuf").is_empty());
    assert!(files_containing(team.dirs[1].path(), b"Yusuf").is_empty());
}
