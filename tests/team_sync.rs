//! Team sync over the real relay on loopback: a supervisor and two workers enrol, record
//! visits to the same case while offline, sync, and all see everything; a revoked device reads
//! nothing written after its revocation; an invitation works once; the relay's database holds
//! no case text.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use eropaf_core::model::{NewVisit, Resident, TeamPolicy};
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::team::roster::Role;
use eropaf_core::{Eropaf, Error, Invitation};
use eropaf_tests::{create_device, enrol, files_containing, new_key, TestRelay};

fn sync(device: &mut Eropaf, relay: &HttpTransport) -> eropaf_core::SyncReport {
    device.sync(relay, &mut |_| {}).unwrap()
}

fn visit(note: &str) -> NewVisit {
    NewVisit { note: note.into(), ..NewVisit::default() }
}

struct Team {
    _dirs: Vec<tempfile::TempDir>,
    key: eropaf_core::crypto::SecretKey,
    relay: TestRelay,
    transport: HttpTransport,
    supervisor: Eropaf,
    workers: Vec<Eropaf>,
}

/// A supervisor and `workers` enrolled workers of a team with a shared caseload, all synced.
fn team(workers: usize) -> Team {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(relay_dir.path());
    let transport = HttpTransport::new(&relay.url).unwrap();
    let key = new_key();
    let mut dirs = vec![relay_dir];
    let supervisor_dir = tempfile::tempdir().unwrap();
    let mut supervisor = create_device(supervisor_dir.path(), &key, "Marieke (leidinggevende)");
    dirs.push(supervisor_dir);
    supervisor.create_team("Wijkteam Noord", &relay.url, &relay.registration_code()).unwrap();
    // These scenarios are about sync, not about who reads a case: everyone reads everything
    // (need-to-know has its own, `need_to_know.rs`).
    let shared = TeamPolicy { shared_caseload: true, ..supervisor.policy().unwrap() };
    supervisor.set_policy(&shared).unwrap();
    sync(&mut supervisor, &transport);
    let mut enrolled = Vec::new();
    for n in 0..workers {
        let dir = tempfile::tempdir().unwrap();
        let mut worker = create_device(dir.path(), &key, &format!("Werker {n}"));
        dirs.push(dir);
        let invitation = supervisor.invite(&transport, Role::Worker).unwrap();
        let code = Invitation::parse(&invitation.code).unwrap();
        let shown = worker.join(&transport, &code).unwrap();
        assert!(sync(&mut worker, &transport).waiting_for_approval);
        assert_eq!(sync(&mut supervisor, &transport).waiting_joiners, 1);
        assert!(sync(&mut worker, &transport).waiting_for_approval, "nobody is admitted by a sync");
        supervisor.admit(&transport, &worker.device_id().to_hex(), &shown).unwrap();
        let report = sync(&mut worker, &transport);
        assert!(!report.waiting_for_approval);
        enrolled.push(worker);
    }
    Team { _dirs: dirs, key, relay, transport, supervisor, workers: enrolled }
}

#[test]
fn concurrent_offline_visits_to_one_case_reach_every_device() {
    let mut t = team(2);
    let case = t.workers[0].new_case(&Resident::named("Aïsha El Amrani"), None).unwrap();
    sync(&mut t.workers[0], &t.transport);
    sync(&mut t.workers[1], &t.transport);
    assert_eq!(t.workers[1].case(&case).unwrap().resident.name, "Aïsha El Amrani");

    // Both offline: each records a visit to the same case.
    t.workers[0]
        .record_visit(&case, &visit("Huurachterstand besproken, 750 euro per maand"))
        .unwrap();
    t.workers[1]
        .record_visit(&case, &visit("Samen naar het loket voor bijzondere bijstand"))
        .unwrap();
    for worker in t.workers.iter_mut() {
        sync(worker, &t.transport);
    }
    sync(&mut t.supervisor, &t.transport);
    sync(&mut t.workers[0], &t.transport);

    let expected = t.workers[0].case(&case).unwrap();
    assert_eq!(expected.visits.len(), 2);
    assert_eq!(t.workers[1].case(&case).unwrap(), expected);
    assert_eq!(t.supervisor.case(&case).unwrap(), expected);

    // Syncing again moves nothing and changes nothing.
    let again = sync(&mut t.workers[1], &t.transport);
    assert_eq!((again.pushed, again.applied), (0, 0));
    assert_eq!(t.workers[1].case(&case).unwrap(), expected);

    let relay_dir = t.relay.db.parent().unwrap().to_path_buf();
    for marker in ["Aïsha", "Huurachterstand", "bijzondere bijstand"] {
        let found = files_containing(&relay_dir, marker.as_bytes());
        assert!(found.is_empty(), "{marker:?} readable at the relay: {found:?}");
    }
}

#[test]
fn a_revoked_device_reads_nothing_written_after_its_revocation() {
    let mut t = team(2);
    let case = t.supervisor.new_case(&Resident::named("Willem Bakker"), None).unwrap();
    sync(&mut t.supervisor, &t.transport);
    for worker in t.workers.iter_mut() {
        sync(worker, &t.transport);
        assert_eq!(worker.case(&case).unwrap().visits.len(), 0);
    }
    let lost = t.workers[1].device_id().to_hex();
    t.supervisor.revoke(&t.transport, &lost).unwrap();
    sync(&mut t.workers[0], &t.transport); // receives the new epoch key
    t.workers[0].record_visit(&case, &visit("Na de intrekking: nieuwe afspraken")).unwrap();
    sync(&mut t.workers[0], &t.transport);
    sync(&mut t.supervisor, &t.transport);
    assert_eq!(t.supervisor.case(&case).unwrap().visits.len(), 1);

    // The revoked phone is served only the roster: it learns its revocation there and wipes
    // itself, the new visit unread.
    let report = sync(&mut t.workers[1], &t.transport);
    assert!(report.wiped_at.is_some(), "{report:?}");
    assert_eq!((report.pulled, report.applied), (0, 0), "{report:?}");
    assert!(t.workers[1].case(&case).is_err());
    let members = t.supervisor.members();
    assert!(members.iter().any(|m| m.device_id == lost && m.revoked));
}

#[test]
fn an_invitation_works_once() {
    let mut t = team(0);
    let invitation = t.supervisor.invite(&t.transport, Role::Worker).unwrap();
    let code = Invitation::parse(&invitation.code).unwrap();
    let key = new_key();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut first = create_device(a.path(), &key, "Eerste");
    let mut second = create_device(b.path(), &key, "Tweede");
    first.join(&t.transport, &code).unwrap();
    let err = second.join(&t.transport, &code).unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. } | Error::Refused(_)), "{err:?}");
    assert!(Invitation::parse("eropaf1|kapot").is_err());
}

#[test]
fn an_erased_case_disappears_from_every_device_at_its_next_sync() {
    let mut t = team(1);
    let case = t.workers[0].new_case(&Resident::named("Te wissen bewoner"), None).unwrap();
    t.workers[0].record_visit(&case, &visit("Eerste bezoek")).unwrap();
    sync(&mut t.workers[0], &t.transport);
    sync(&mut t.supervisor, &t.transport);
    assert!(t.supervisor.case(&case).is_ok());

    let err = t.workers[0].erase_case(Some(&t.transport), &case).unwrap_err();
    assert!(matches!(err, Error::Unauthorised(_)), "workers cannot erase: {err:?}");
    t.supervisor.erase_case(Some(&t.transport), &case).unwrap();
    assert!(matches!(t.supervisor.case(&case), Err(Error::NotFound { .. })));

    sync(&mut t.workers[0], &t.transport);
    assert!(matches!(t.workers[0].case(&case), Err(Error::NotFound { .. })));
    assert!(t.workers[0].cases().unwrap().is_empty());

    // A new device bootstrapping later never sees it either.
    let dir = tempfile::tempdir().unwrap();
    let mut late = create_device(dir.path(), &new_key(), "Later");
    enrol(&mut t.supervisor, &mut late, &t.transport, Role::Worker);
    assert!(late.cases().unwrap().is_empty());
}

#[test]
fn a_device_that_joins_later_reads_the_whole_history() {
    let mut t = team(2);
    let case = t.workers[0].new_case(&Resident::named("Willem Bakker"), None).unwrap();
    t.workers[0].record_visit(&case, &visit("In het eerste tijdvak")).unwrap();
    sync(&mut t.workers[0], &t.transport);
    // A revocation starts epoch 2: the newcomer must read both epochs' envelopes.
    let lost = t.workers[1].device_id().to_hex();
    t.supervisor.revoke(&t.transport, &lost).unwrap();
    sync(&mut t.workers[0], &t.transport);
    t.workers[0].record_visit(&case, &visit("In het tweede tijdvak")).unwrap();
    sync(&mut t.workers[0], &t.transport);

    let dir = tempfile::tempdir().unwrap();
    let mut newcomer = create_device(dir.path(), &new_key(), "Nieuwe collega");
    enrol(&mut t.supervisor, &mut newcomer, &t.transport, Role::Worker);
    let report = sync(&mut newcomer, &t.transport);
    assert_eq!(report.unreadable, 0, "{report:?}");
    assert_eq!(newcomer.case(&case).unwrap().visits.len(), 2);
}

#[test]
fn a_busy_case_is_snapshotted_so_newcomers_pull_little() {
    let mut t = team(1);
    let case = t.workers[0].new_case(&Resident::named("Drukke casus"), None).unwrap();
    for n in 0..70 {
        t.workers[0].record_visit(&case, &visit(&format!("bezoek {n}"))).unwrap();
    }
    let report = sync(&mut t.workers[0], &t.transport);
    assert!(report.pushed > 70, "the visits and then a snapshot went out: {report:?}");

    let dir = tempfile::tempdir().unwrap();
    let mut newcomer = create_device(dir.path(), &new_key(), "Nieuwe collega");
    enrol(&mut t.supervisor, &mut newcomer, &t.transport, Role::Worker);
    let report = sync(&mut newcomer, &t.transport);
    assert_eq!(newcomer.case(&case).unwrap().visits.len(), 70);
    assert!(report.pulled < 10, "the relay dropped what the snapshot covers: {report:?}");
}

/// A supervisor sets up the team on the train and invites a colleague as soon as there is a
/// network: no sync needed in between.
#[test]
fn a_team_made_offline_can_invite_at_once() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(relay_dir.path());
    let transport = HttpTransport::new(&relay.url).unwrap();
    let key = new_key();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut supervisor = create_device(a.path(), &key, "Marieke");
    supervisor.create_team("Wijkteam Oost", &relay.url, &relay.registration_code()).unwrap();
    let mut worker = create_device(b.path(), &key, "Sanne");
    enrol(&mut supervisor, &mut worker, &transport, Role::Worker);
    let report = sync(&mut worker, &transport);
    assert!(!report.waiting_for_approval, "{report:?}");
    assert_eq!(supervisor.members().len(), 2);
}

/// Sanne records a visit offline; meanwhile Marieke revokes Daan's lost phone. When Sanne
/// syncs, her visit must not leave under the old epoch's case key, which Daan's phone holds:
/// whoever has that phone and a copy of the relay's database would read it.
#[test]
fn what_waited_in_the_outbox_during_a_revocation_leaves_under_the_new_epoch() {
    let mut t = team(2);
    let case = t.workers[0].new_case(&Resident::named("Willem Bakker"), None).unwrap();
    sync(&mut t.workers[0], &t.transport);
    sync(&mut t.workers[1], &t.transport);
    // What Daan's phone (and so whoever holds it) can open at the relay, before and after.
    let readable_by_daan = |t: &Team| {
        let keys = eropaf_tests::open_store(t._dirs[3].path(), &t.key).case_keys(&case).unwrap();
        let conn = eropaf_tests::relay_db(&t.relay.db);
        let mut stmt = conn.prepare("SELECT bytes FROM envelopes WHERE bytes IS NOT NULL").unwrap();
        let stored: Vec<Vec<u8>> =
            stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
        stored
            .iter()
            .filter_map(|b| eropaf_core::sync::envelope::Envelope::from_bytes(b).ok())
            .filter(|e| keys.iter().any(|k| e.open(&k.key).is_ok()))
            .count()
    };
    let before = readable_by_daan(&t);
    assert!(before >= 1);

    t.workers[0].record_visit(&case, &visit("Offline geschreven, tijdens de intrekking")).unwrap();
    let lost = t.workers[1].device_id().to_hex();
    t.supervisor.revoke(&t.transport, &lost).unwrap();
    sync(&mut t.workers[0], &t.transport);
    sync(&mut t.supervisor, &t.transport);
    assert_eq!(t.supervisor.case(&case).unwrap().visits.len(), 1, "the visit arrived");
    assert_eq!(readable_by_daan(&t), before, "the revoked phone reads the new visit");
}

/// A supervisor's snapshot lets the relay drop the envelopes it covers: a device that was
/// behind finds holes in the authors' chains that the snapshot explains, and raises no alarm.
#[test]
fn envelopes_dropped_for_a_snapshot_raise_no_alarm() {
    let mut t = team(1);
    let case = t.workers[0].new_case(&Resident::named("Drukke casus"), None).unwrap();
    t.workers[0].record_visit(&case, &visit("bezoek 0")).unwrap();
    sync(&mut t.workers[0], &t.transport);
    // A second supervisor who follows along; Marieke stays behind after her first look.
    let dir = tempfile::tempdir().unwrap();
    let mut joost = create_device(dir.path(), &t.key, "Joost");
    enrol(&mut t.supervisor, &mut joost, &t.transport, Role::Supervisor);
    assert!(sync(&mut t.supervisor, &t.transport).warnings.is_empty());
    for n in 1..80 {
        t.workers[0].record_visit(&case, &visit(&format!("bezoek {n}"))).unwrap();
        if n == 70 {
            sync(&mut t.workers[0], &t.transport);
            sync(&mut joost, &t.transport); // snapshots the busy case
        }
    }
    sync(&mut t.workers[0], &t.transport);
    let report = sync(&mut t.supervisor, &t.transport);
    assert!(report.pulled < 40, "the relay dropped what the snapshot covers: {report:?}");
    assert!(report.warnings.is_empty(), "{report:?}");
    assert_eq!(t.supervisor.case(&case).unwrap().visits.len(), 80);
}
