//! Need-to-know, by cryptography: a case's keys reach only the devices of its assigned
//! members and of the team's supervisors. Each attack uses what the attacker really has: a
//! colleague's own device store (its identity, agreement key, epoch keys and every case key
//! it ever held) and a copy of the relay's database.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use std::path::Path;

use eropaf_core::access_log::AccessAction;
use eropaf_core::crypto::{AgreementKey, DeviceIdentity, SecretKey};
use eropaf_core::doc::TeamDoc;
use eropaf_core::model::{AssignmentRole, NewVisit, Resident};
use eropaf_core::sync::envelope::{Envelope, EnvelopeKind};
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::sync::transport::{PullPage, Pulled, Transport};
use eropaf_core::team::epoch::EpochKey;
use eropaf_core::team::grant::{CaseKeyGrant, GrantScope};
use eropaf_core::team::request::{open_reason, RequestScope};
use eropaf_core::Eropaf;
use eropaf_tests::{
    device_identity, fast_tempdir, open_store, relay_db, Intercept, Intercepted, Team, TestRelay,
};

fn sync(device: &mut Eropaf, http: &HttpTransport) -> eropaf_core::SyncReport {
    device.sync(http, &mut |_| {}).unwrap()
}

fn visit(note: &str) -> NewVisit {
    NewVisit { note: note.into(), ..NewVisit::default() }
}

/// The relay's envelopes for `doc_id`, in the order it stored them.
fn relay_envelopes(relay: &TestRelay, team_id: &str, doc_id: &str) -> Vec<(i64, Envelope)> {
    let conn = relay_db(&relay.db);
    let mut stmt = conn
        .prepare(
            "SELECT server_seq, bytes FROM envelopes
             WHERE team_id = ?1 AND doc_id = ?2 AND bytes IS NOT NULL ORDER BY server_seq",
        )
        .unwrap();
    let rows = stmt
        .query_map(rusqlite::params![team_id, hex::decode(doc_id).unwrap()], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
        })
        .unwrap();
    rows.map(|row| {
        let (seq, bytes) = row.unwrap();
        (seq, Envelope::from_bytes(&bytes).unwrap())
    })
    .collect()
}

/// Every case key of `doc_id` a device's own material opens: what its store holds, what it
/// captured earlier (`kept`), and what the key envelopes at the relay give up to its epoch
/// keys and agreement key.
fn keys_an_insider_gets(
    dir: &Path,
    store_key: &SecretKey,
    relay: &TestRelay,
    team_id: &str,
    doc_id: &str,
    kept: &[SecretKey],
) -> Vec<SecretKey> {
    let me = device_identity(dir, store_key).id().to_hex();
    let store = open_store(dir, store_key);
    let mut keys: Vec<SecretKey> = kept.to_vec();
    keys.extend(store.case_keys(doc_id).unwrap().into_iter().map(|k| k.key));
    let agreement =
        AgreementKey::from_bytes(&store.meta("device_agreement_key").unwrap().unwrap()).unwrap();
    let epochs: Vec<EpochKey> = store
        .epoch_keys()
        .unwrap()
        .into_iter()
        .map(|(epoch, bytes)| EpochKey::from_bytes(epoch, &bytes).unwrap())
        .collect();
    for (_, envelope) in relay_envelopes(relay, team_id, doc_id) {
        if envelope.header.kind != EnvelopeKind::KeyPackage {
            continue;
        }
        let Some(epoch) = epochs.iter().find(|e| e.epoch == envelope.header.key_version) else {
            continue;
        };
        let Some(announcing) = epoch.for_case(doc_id) else { continue };
        let payload: serde_json::Value =
            serde_json::from_slice(&envelope.open(&announcing).unwrap()).unwrap();
        let version = payload["version"].as_u64().unwrap() as u32;
        if let Some(key) = payload["key"].as_str() {
            keys.push(SecretKey::from_slice(&hex::decode(key).unwrap()).unwrap());
        }
        let scope = GrantScope { team_id, doc_id, version };
        for grant in payload["grants"].as_array().into_iter().flatten() {
            let grant: CaseKeyGrant = serde_json::from_value(grant.clone()).unwrap();
            // Every grant tried, as sealed and relabelled as hers: the label proves nothing.
            for recipient in [grant.recipient.clone(), me.clone()] {
                let relabelled = CaseKeyGrant { recipient, ..grant.clone() };
                if let Ok(key) = relabelled.open(scope, &agreement) {
                    keys.push(key);
                }
            }
        }
    }
    keys
}

/// How many of the relay's change and snapshot envelopes for `doc_id` after server sequence
/// `after`, written by others than `reader`, open with `keys`.
fn envelopes_opened(
    relay: &TestRelay,
    team_id: &str,
    doc_id: &str,
    after: i64,
    keys: &[SecretKey],
    reader: &str,
) -> (usize, usize) {
    let mut total = 0;
    let mut opened = 0;
    for (seq, envelope) in relay_envelopes(relay, team_id, doc_id) {
        if seq <= after
            || envelope.header.kind == EnvelopeKind::KeyPackage
            || envelope.header.author.to_hex() == reader
        {
            continue;
        }
        total += 1;
        if keys.iter().any(|key| envelope.open(key).is_ok()) {
            opened += 1;
        }
    }
    (opened, total)
}

fn last_seq(relay: &TestRelay, team_id: &str) -> i64 {
    relay_db(&relay.db)
        .query_row("SELECT last_seq FROM teams WHERE team_id = ?1", [team_id], |r| r.get(0))
        .unwrap()
}

fn setup(workers: usize) -> (tempfile::TempDir, TestRelay, HttpTransport, Team) {
    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let team = Team::enrol_need_to_know(
        &http,
        &relay.url,
        &relay.registration_code(),
        workers,
        fast_tempdir,
    );
    (relay_dir, relay, http, team)
}

#[test]
fn an_unassigned_worker_holds_no_key_and_opens_nothing_even_from_the_relays_database() {
    let (_relay_dir, relay, http, mut team) = setup(2);
    let case = team.workers[0].new_case(&Resident::named("Willem Bakker"), None).unwrap();
    team.workers[0].record_visit(&case, &visit("Schulden, zoon helpt")).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    sync(&mut team.workers[1], &http);

    // The supervisor reads it; the colleague's phone does not even list it.
    assert_eq!(team.supervisor.case(&case).unwrap().visits.len(), 1);
    assert!(team.workers[1].cases().unwrap().iter().all(|c| c.id != case));
    assert!(team.workers[1].case(&case).is_err());

    // The colleague, with her own device's keys and the relay's database, opens nothing.
    let keys =
        keys_an_insider_gets(team.dirs[2].path(), &team.key, &relay, &team.team_id, &case, &[]);
    assert!(keys.is_empty(), "an unassigned device came by {} key(s) of the case", keys.len());
    let colleague = team.workers[1].device_id().to_hex();
    let (opened, total) = envelopes_opened(&relay, &team.team_id, &case, 0, &keys, &colleague);
    assert!(total > 0, "the case is at the relay");
    assert_eq!(opened, 0);

    // The case's own worker, with the same means, opens everything: the attack is real.
    let keys =
        keys_an_insider_gets(team.dirs[1].path(), &team.key, &relay, &team.team_id, &case, &[]);
    let (opened, _) = envelopes_opened(&relay, &team.team_id, &case, 0, &keys, &colleague);
    assert_eq!(opened, total);
}

#[test]
fn an_assigned_backup_gets_the_history_and_both_workers_converge() {
    let (_relay_dir, _relay, http, mut team) = setup(2);
    let case = team.workers[0].new_case(&Resident::named("Fatima El Amrani"), None).unwrap();
    team.workers[0].record_visit(&case, &visit("Kennismaking")).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    team.supervisor.assign(&case, "Werker 1", AssignmentRole::Backup, None).unwrap();
    sync(&mut team.supervisor, &http);

    sync(&mut team.workers[1], &http);
    let seen = team.workers[1].case(&case).expect("the backup reads the case");
    assert_eq!(seen.visits.len(), 1, "with its history");
    team.workers[1].record_visit(&case, &visit("Waarneming achtervang")).unwrap();
    team.workers[0].record_visit(&case, &visit("Tweede bezoek")).unwrap();
    for _ in 0..2 {
        for device in team.devices_mut() {
            sync(device, &http);
        }
    }
    let notes = |device: &mut Eropaf| {
        let mut notes: Vec<String> =
            device.case(&case).unwrap().visits.into_iter().map(|v| v.note).collect();
        notes.sort();
        notes
    };
    let expected = notes(&mut team.supervisor);
    assert_eq!(expected.len(), 3);
    assert_eq!(notes(&mut team.workers[0]), expected);
    assert_eq!(notes(&mut team.workers[1]), expected);
    let access = team.supervisor.case_access(&case).unwrap();
    assert_eq!(access.readers.len(), 3, "{access:?}");
}

#[test]
fn a_handover_moves_the_history_and_the_old_holder_forgets_and_reads_nothing_after() {
    let (_relay_dir, relay, http, mut team) = setup(2);
    let case = team.workers[0].new_case(&Resident::named("Joop de Vries"), None).unwrap();
    team.workers[0].record_visit(&case, &visit("Eerste bezoek")).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    // A phone that means to keep reading copies every key it holds before the handover.
    let kept: Vec<SecretKey> = open_store(team.dirs[1].path(), &team.key)
        .case_keys(&case)
        .unwrap()
        .into_iter()
        .map(|k| k.key)
        .collect();
    assert!(!kept.is_empty());
    // Offline, the old holder records one more visit; it must not be lost.
    team.workers[0].record_visit(&case, &visit("Nog niet verstuurd")).unwrap();

    let handed = team.supervisor.handover("Werker 0", "Werker 1", &[]).unwrap();
    assert_eq!(handed, std::slice::from_ref(&case));
    sync(&mut team.supervisor, &http);
    let handover_at = last_seq(&relay, &team.team_id);

    let report = sync(&mut team.workers[0], &http);
    assert_eq!(report.forgotten_cases, std::slice::from_ref(&case), "{report:?}");
    assert!(team.workers[0].cases().unwrap().is_empty(), "the old holder's copy is gone");
    assert!(open_store(team.dirs[1].path(), &team.key).case_keys(&case).unwrap().is_empty());

    team.supervisor.record_visit(&case, &visit("Na de overdracht")).unwrap();
    sync(&mut team.supervisor, &http);
    sync(&mut team.workers[1], &http);
    team.workers[1].record_visit(&case, &visit("Nieuwe regisseur")).unwrap();
    sync(&mut team.workers[1], &http);
    sync(&mut team.supervisor, &http);
    sync(&mut team.workers[1], &http);

    let mut notes: Vec<String> =
        team.workers[1].case(&case).unwrap().visits.into_iter().map(|v| v.note).collect();
    notes.sort();
    assert_eq!(
        notes,
        ["Eerste bezoek", "Na de overdracht", "Nieuwe regisseur", "Nog niet verstuurd"],
        "the new holder has the history and the old holder's last visit"
    );

    // The old holder, with every key she kept and the relay's database, reads nothing
    // written after the handover.
    let keys =
        keys_an_insider_gets(team.dirs[1].path(), &team.key, &relay, &team.team_id, &case, &kept);
    let old_holder = team.workers[0].device_id().to_hex();
    let (opened, total) =
        envelopes_opened(&relay, &team.team_id, &case, handover_at, &keys, &old_holder);
    assert!(total >= 2, "writes after the handover are at the relay");
    assert_eq!(opened, 0, "the old holder opened {opened} of {total} later envelopes");
}

#[test]
fn a_revoked_phone_wipes_itself_at_its_next_sync_and_its_supervisor_sees_when() {
    let (_relay_dir, _relay, http, mut team) = setup(1);
    let case = team.workers[0].new_case(&Resident::named("Willem Bakker"), None).unwrap();
    team.workers[0].record_visit(&case, &visit("Schuldhulp aangevraagd")).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    let lost = team.workers[0].device_id().to_hex();
    team.supervisor.revoke(&http, &lost).unwrap();
    let agreement_before =
        open_store(team.dirs[1].path(), &team.key).meta("device_agreement_key").unwrap().unwrap();

    // The phone is found by someone who can unlock it, and goes online.
    let report = sync(&mut team.workers[0], &http);
    let wiped_at = report.wiped_at.expect("the revoked phone wiped itself");
    assert!(team.workers[0].cases().unwrap().is_empty());
    assert!(team.workers[0].case(&case).is_err());
    assert_eq!(team.workers[0].wiped_at().unwrap(), Some(wiped_at));

    // With the store key in hand: no case, no summary, no key of any kind, nothing queued.
    let dir = team.dirs[1].path();
    let store = open_store(dir, &team.key);
    assert!(store.case_summaries().unwrap().is_empty());
    assert!(store.case_keys(&case).unwrap().is_empty());
    assert!(store.epoch_keys().unwrap().is_empty());
    assert!(store.outbox(100).unwrap().is_empty());
    let agreement = store.meta("device_agreement_key").unwrap().expect("a fresh agreement key");
    assert_ne!(agreement, agreement_before, "the old one is gone: grants would open with it");
    drop(store);
    let conn = rusqlite::Connection::open(dir.join(eropaf_core::DB_FILE)).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'meta'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .filter(|name: &String| !name.starts_with("sqlite_"))
        .collect();
    for table in tables {
        let rows: i64 =
            conn.query_row(&format!("SELECT COUNT(*) FROM \"{table}\""), [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 0, "table {table} still holds rows");
    }

    // Its supervisor sees when, from a report the phone signed.
    sync(&mut team.supervisor, &http);
    let member = team.supervisor.members().into_iter().find(|m| m.device_id == lost).unwrap();
    assert!(member.revoked);
    assert_eq!(member.wiped_at, Some(wiped_at));

    // The wiped store still opens, as a device without a team.
    drop(conn);
    let reopened = eropaf_tests::open_device(dir, &team.key);
    assert!(reopened.cases().unwrap().is_empty());
    assert!(reopened.team_info().unwrap().is_none());
}

#[test]
fn access_for_a_period_ends_by_itself_and_what_is_written_after_stays_closed() {
    let (_relay_dir, relay, http, mut team) = setup(2);
    let case = team.workers[0].new_case(&Resident::named("Henk Smit"), None).unwrap();
    team.workers[0].record_visit(&case, &visit("Eerste bezoek")).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    let until = chrono::Utc::now() + chrono::Duration::seconds(2);
    team.supervisor.assign(&case, "Werker 1", AssignmentRole::Temporary, Some(until)).unwrap();
    sync(&mut team.supervisor, &http);
    sync(&mut team.workers[1], &http);
    assert_eq!(team.workers[1].case(&case).unwrap().visits.len(), 1, "granted: she reads it");
    let kept: Vec<SecretKey> = open_store(team.dirs[2].path(), &team.key)
        .case_keys(&case)
        .unwrap()
        .into_iter()
        .map(|k| k.key)
        .collect();

    std::thread::sleep(std::time::Duration::from_millis(2_500));
    sync(&mut team.supervisor, &http);
    sync(&mut team.workers[0], &http);
    let ended_at = last_seq(&relay, &team.team_id);
    team.workers[0].record_visit(&case, &visit("Na afloop van de toegang")).unwrap();
    team.supervisor.record_visit(&case, &visit("Ook na afloop")).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    let report = sync(&mut team.workers[1], &http);
    assert_eq!(report.forgotten_cases, std::slice::from_ref(&case), "{report:?}");
    assert!(team.workers[1].case(&case).is_err());

    let temporary = team.workers[1].device_id().to_hex();
    let keys =
        keys_an_insider_gets(team.dirs[2].path(), &team.key, &relay, &team.team_id, &case, &kept);
    let (opened, total) =
        envelopes_opened(&relay, &team.team_id, &case, ended_at, &keys, &temporary);
    assert!(total >= 2);
    assert_eq!(opened, 0, "after her access ended she opened {opened} of {total}");
}

#[test]
fn devices_that_each_read_a_different_subset_converge_on_what_each_may_read() {
    let (_relay_dir, _relay, http, mut team) = setup(3);
    let mut cases = Vec::new();
    for (n, worker) in team.workers.iter_mut().enumerate() {
        let case = worker.new_case(&Resident::named(format!("Bewoner {n}")), None).unwrap();
        worker.record_visit(&case, &visit(&format!("Bezoek door werker {n}"))).unwrap();
        cases.push(case);
        sync(worker, &http);
    }
    sync(&mut team.supervisor, &http);
    team.supervisor.assign(&cases[0], "Werker 1", AssignmentRole::Backup, None).unwrap();
    team.supervisor.assign(&cases[1], "Werker 2", AssignmentRole::Backup, None).unwrap();
    for _ in 0..2 {
        for device in team.devices_mut() {
            sync(device, &http);
        }
    }
    // Each writes in every case it may read, concurrently.
    for (n, worker) in team.workers.iter_mut().enumerate() {
        for summary in worker.cases().unwrap() {
            worker.record_visit(&summary.id, &visit(&format!("Werker {n} was er"))).unwrap();
        }
    }
    for _ in 0..2 {
        for device in team.devices_mut() {
            sync(device, &http);
        }
    }
    let readable = |device: &Eropaf| -> Vec<String> {
        let mut ids: Vec<String> = device.cases().unwrap().into_iter().map(|c| c.id).collect();
        ids.sort();
        ids
    };
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    assert_eq!(readable(&team.workers[0]), sorted(vec![cases[0].clone()]));
    assert_eq!(readable(&team.workers[1]), sorted(vec![cases[0].clone(), cases[1].clone()]));
    assert_eq!(readable(&team.workers[2]), sorted(vec![cases[1].clone(), cases[2].clone()]));
    assert_eq!(readable(&team.supervisor), sorted(cases.clone()));
    for case in &cases {
        let expected = team.supervisor.case(case).unwrap();
        for worker in team.workers.iter_mut() {
            if let Ok(seen) = worker.case(case) {
                assert_eq!(seen.visits, expected.visits, "one case, the same on every reader");
            }
        }
    }
    let visits: usize = cases.iter().map(|c| team.supervisor.case(c).unwrap().visits.len()).sum();
    assert_eq!(visits, 3 + 5, "three first visits and one per reader per case");
}

/// Counts, per document, the envelopes the relay serves one device.
#[derive(Default)]
struct Downloads(std::cell::RefCell<std::collections::BTreeMap<String, usize>>);

impl Downloads {
    fn count(&self, entries: &[Pulled]) {
        for entry in entries {
            if let Pulled::Envelope { bytes, .. } = entry {
                let doc = hex::encode(Envelope::from_bytes(bytes).unwrap().header.doc_id);
                *self.0.borrow_mut().entry(doc).or_default() += 1;
            }
        }
    }

    fn of(&self, doc_id: &str) -> usize {
        self.0.borrow().get(doc_id).copied().unwrap_or(0)
    }

    fn forget(&self) {
        self.0.borrow_mut().clear();
    }
}

impl Intercept for Downloads {
    fn pull(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        after: u64,
        limit: u32,
    ) -> eropaf_core::Result<PullPage> {
        let page = inner.pull(s, t, after, limit)?;
        self.count(&page.entries);
        Ok(page)
    }

    fn pull_history(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        doc: &str,
        after: u64,
        until: u64,
        limit: u32,
    ) -> eropaf_core::Result<PullPage> {
        let page = inner.pull_history(s, t, doc, after, until, limit)?;
        self.count(&page.entries);
        Ok(page)
    }
}

/// A relay that answers the question which new cases have a history dishonestly: with an
/// error (as a relay without the route does), or naming cases the phone did not ask about.
struct DishonestHistory {
    refuse: bool,
    made_up: String,
    downloads: Downloads,
}

impl Intercept for DishonestHistory {
    fn docs_with_history(
        &self,
        _inner: &dyn Transport,
        _s: &DeviceIdentity,
        _t: &str,
        docs: &[String],
        _until: u64,
    ) -> eropaf_core::Result<Vec<String>> {
        if self.refuse {
            return Err(eropaf_core::Error::Network("404".into()));
        }
        Ok(docs.iter().cloned().chain([self.made_up.clone()]).collect())
    }

    fn pull_history(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        doc: &str,
        after: u64,
        until: u64,
        limit: u32,
    ) -> eropaf_core::Result<PullPage> {
        assert_ne!(doc, self.made_up, "a case the phone never asked about was pulled");
        let page = inner.pull_history(s, t, doc, after, until, limit)?;
        self.downloads.count(&page.entries);
        Ok(page)
    }
}

#[test]
fn a_relay_that_refuses_or_pads_the_history_question_still_delivers_a_handed_over_case() {
    for refuse in [true, false] {
        let (_relay_dir, _relay, http, mut team) = setup(2);
        let annas = team.workers[0].new_case(&Resident::named("Aïsha Bouali"), None).unwrap();
        for n in 0..3 {
            team.workers[0].record_visit(&annas, &visit(&format!("Bezoek {n}"))).unwrap();
        }
        sync(&mut team.workers[0], &http);
        sync(&mut team.supervisor, &http);
        sync(&mut team.workers[1], &http);
        team.supervisor.handover("Werker 0", "Werker 1", &[]).unwrap();
        sync(&mut team.supervisor, &http);
        let brams_phone = Intercepted {
            inner: &http,
            hooks: DishonestHistory {
                refuse,
                made_up: hex::encode([7u8; 16]),
                downloads: Downloads::default(),
            },
        };
        let report = team.workers[1].sync(&brams_phone, &mut |_| {}).unwrap();
        assert!(report.refused.is_empty(), "{report:?}");
        assert!(brams_phone.hooks.downloads.of(&annas) >= 4, "the history came by case");
        assert_eq!(team.workers[1].case(&annas).unwrap().visits.len(), 3, "refuse: {refuse}");
    }
}

#[test]
fn a_phone_downloads_only_the_cases_it_may_read_and_stops_after_a_handover() {
    let (_relay_dir, _relay, http, mut team) = setup(2);
    let annas = team.workers[0].new_case(&Resident::named("Aïsha Bouali"), None).unwrap();
    let brams = team.workers[1].new_case(&Resident::named("Kees Jansen"), None).unwrap();
    for n in 0..3 {
        team.workers[0].record_visit(&annas, &visit(&format!("Bezoek {n}"))).unwrap();
        team.workers[1].record_visit(&brams, &visit(&format!("Bezoek {n}"))).unwrap();
    }
    sync(&mut team.workers[0], &http);
    sync(&mut team.workers[1], &http);
    sync(&mut team.supervisor, &http);

    // A colleague's phone is served nothing of a case it may not read; the attack is a
    // colleague counting what her own phone downloads.
    let brams_phone = Intercepted { inner: &http, hooks: Downloads::default() };
    let report = team.workers[1].sync(&brams_phone, &mut |_| {}).unwrap();
    assert!(report.refused.is_empty(), "{report:?}");
    assert_eq!(brams_phone.hooks.of(&annas), 0, "Bram's phone downloaded Aïsha's case");

    // Handed over to Bram: his phone fetches the history it was not served before.
    team.supervisor.handover("Werker 0", "Werker 1", &[]).unwrap();
    sync(&mut team.supervisor, &http);
    brams_phone.hooks.forget();
    team.workers[1].sync(&brams_phone, &mut |_| {}).unwrap();
    assert!(brams_phone.hooks.of(&annas) >= 4, "the case's history reached the new holder");
    assert_eq!(team.workers[1].case(&annas).unwrap().visits.len(), 3);

    // Anna's phone forgets the case and tells the relay: later writes are not even served.
    let annas_phone = Intercepted { inner: &http, hooks: Downloads::default() };
    let report = team.workers[0].sync(&annas_phone, &mut |_| {}).unwrap();
    assert_eq!(report.forgotten_cases, std::slice::from_ref(&annas));
    team.workers[1].record_visit(&annas, &visit("Na de overdracht")).unwrap();
    sync(&mut team.workers[1], &http);
    annas_phone.hooks.forget();
    team.workers[0].sync(&annas_phone, &mut |_| {}).unwrap();
    assert_eq!(annas_phone.hooks.of(&annas), 0, "the old holder still downloads the case");
    assert!(team.workers[0].cases().unwrap().is_empty());
}

#[test]
fn an_urgent_request_waits_for_a_supervisor_then_is_granted_for_a_period_and_logged() {
    let (_relay_dir, _relay, http, mut team) = setup(2);
    let case = team.workers[0].new_case(&Resident::named("Aïsha Bouali"), None).unwrap();
    team.workers[0].record_visit(&case, &visit("Brief woningcorporatie besproken")).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);

    // Bram is called by the resident while her worker is away; every supervisor is offline.
    let reason = "Mevrouw belde: deurwaarder komt morgen, Werker 0 is ziek";
    assert!(team.workers[1].request_access(&case, "  ", true).is_err(), "a reason is needed");
    let request = team.workers[1].request_access(&case, reason, true).unwrap();
    for _ in 0..2 {
        sync(&mut team.workers[1], &http);
        sync(&mut team.workers[0], &http);
    }
    assert!(team.workers[1].case(&case).is_err(), "queued, not granted by itself");
    let waiting = team.workers[1].access_requests().unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!((waiting[0].reason.as_deref(), &waiting[0].decision), (Some(reason), &None));
    // A colleague sees no request of another member, and her device's key opens no reason.
    assert!(team.workers[0].access_requests().unwrap().is_empty());
    let colleague = team.workers[0].device_id().to_hex();
    let store = open_store(team.dirs[1].path(), &team.key);
    let doc = store.load_doc("team").unwrap().unwrap();
    let stored = TeamDoc::load(&doc.chunks, &[9; 24]).unwrap().access_requests().unwrap();
    assert_eq!(stored.len(), 1, "the colleague's phone holds the request");
    assert!(!stored[0].reasons.contains_key(&colleague), "but no reason sealed to her");
    let agreement =
        AgreementKey::from_bytes(&store.meta("device_agreement_key").unwrap().unwrap()).unwrap();
    let scope = RequestScope { team_id: &team.team_id, request_id: &request };
    for sealed in stored[0].reasons.values() {
        assert!(open_reason(scope, sealed, &colleague, &agreement).is_err());
    }
    // Nor may a worker answer it.
    assert!(team.workers[0].grant_access(&request, 3).is_err());

    sync(&mut team.supervisor, &http);
    let asked = team.supervisor.access_requests().unwrap();
    assert_eq!(asked.len(), 1);
    assert_eq!((asked[0].member.as_str(), asked[0].urgent), ("Werker 1", true));
    assert_eq!(asked[0].reason.as_deref(), Some(reason), "the supervisor reads the reason");
    team.supervisor.grant_access(&request, 3).unwrap();
    assert!(team.supervisor.grant_access(&request, 3).is_err(), "answered once");
    sync(&mut team.supervisor, &http);

    sync(&mut team.workers[1], &http);
    assert_eq!(team.workers[1].case(&case).unwrap().visits.len(), 1, "granted, with history");
    let answered = team.workers[1].access_requests().unwrap();
    let decision = answered[0].decision.clone().expect("answered");
    assert!(decision.granted);
    let until = decision.until.expect("for a period");
    let days = (until - chrono::Utc::now()).num_hours();
    assert!((70..=72).contains(&days), "about three days, not {days} hours");
    let access = team.supervisor.case_access(&case).unwrap();
    assert!(access.assignments.iter().any(|a| a.member == "Werker 1"
        && a.role == AssignmentRole::Temporary
        && a.until == Some(until)));

    // The case's access log and the inzage say who asked, why, and until when.
    let opened = team.supervisor.open_case(&case, None).unwrap();
    let granted = opened
        .access_log
        .iter()
        .find(|e| e.action == AccessAction::GrantAccess)
        .expect("the grant is in the access log");
    let note = granted.on_behalf.as_deref().unwrap();
    assert!(note.contains("Werker 1") && note.contains(reason), "{note}");
    let inzage = team.supervisor.export_inzage(&case, Some("inzageverzoek bewoner")).unwrap();
    assert!(inzage.contains("Toegang verleend") && inzage.contains("deurwaarder"));
}

#[test]
fn a_refused_request_gives_no_access_and_is_logged() {
    let (_relay_dir, _relay, http, mut team) = setup(2);
    let case = team.workers[0].new_case(&Resident::named("Kees Jansen"), None).unwrap();
    sync(&mut team.workers[0], &http);
    let request = team.workers[1].request_access(&case, "Nieuwsgierig", false).unwrap();
    sync(&mut team.workers[1], &http);
    let report = sync(&mut team.supervisor, &http);
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    team.supervisor.refuse_access(&request).unwrap();
    sync(&mut team.supervisor, &http);
    sync(&mut team.workers[1], &http);
    assert!(team.workers[1].case(&case).is_err());
    let answered = team.workers[1].access_requests().unwrap();
    assert_eq!(answered[0].decision.as_ref().map(|d| d.granted), Some(false));
    let log = team.supervisor.open_case(&case, None).unwrap().access_log;
    assert!(log.iter().any(|e| e.action == AccessAction::RefuseAccess));
}

#[test]
fn a_worker_adds_her_own_backup_only_when_the_teams_policy_allows_it() {
    let (_relay_dir, _relay, http, mut team) = setup(2);
    let case = team.workers[0].new_case(&Resident::named("Fatima El Amrani"), None).unwrap();
    team.workers[0].record_visit(&case, &visit("Kennismaking")).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    team.supervisor.assign(&case, "Werker 0", AssignmentRole::Worker, None).unwrap();
    sync(&mut team.supervisor, &http);
    sync(&mut team.workers[0], &http);
    let refused = team.workers[0].assign(&case, "Werker 1", AssignmentRole::Backup, None);
    assert!(refused.is_err(), "not by default: supervisors assign");

    let policy = team.supervisor.policy().unwrap();
    team.supervisor
        .set_policy(&eropaf_core::model::TeamPolicy { workers_add_backups: true, ..policy })
        .unwrap();
    sync(&mut team.supervisor, &http);
    sync(&mut team.workers[0], &http);
    let forever = Some(chrono::Utc::now() + chrono::Duration::days(3));
    assert!(team.workers[0].assign(&case, "Werker 1", AssignmentRole::Temporary, forever).is_err());
    assert!(team.workers[0].assign(&case, "Werker 1", AssignmentRole::Worker, None).is_err());
    team.workers[0].assign(&case, "Werker 1", AssignmentRole::Backup, None).unwrap();
    for _ in 0..2 {
        for device in team.devices_mut() {
            let report = sync(device, &http);
            assert!(report.refused.is_empty(), "{:?}", report.refused);
        }
    }
    assert_eq!(team.workers[1].case(&case).unwrap().visits.len(), 1, "the backup reads it");
    let access = team.supervisor.case_access(&case).unwrap();
    assert!(access.assignments.iter().any(|a| a.member == "Werker 1"
        && a.role == AssignmentRole::Backup
        && a.by == team.workers[0].device_id().to_hex()));
}
