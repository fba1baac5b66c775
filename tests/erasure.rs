//! Erasure is crypto-shredding: once a supervisor erases a case, no device's files (the
//! database, its WAL, its shared-memory index) still hold the case's keys or any sealed copy
//! of the case, whether rows, free pages or WAL frames; and what a backup of the relay still
//! holds opens with no key any device holds afterwards.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use eropaf_core::crypto::SecretKey;
use eropaf_core::model::{NewVisit, Resident};
use eropaf_core::sync::envelope::{Envelope, EnvelopeKind};
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::team::epoch::EpochKey;
use eropaf_core::team::roster::Role;
use eropaf_core::Eropaf;
use eropaf_tests::{case_key, fast_tempdir, files_containing, open_store, outbox, Team, TestRelay};

fn sync(device: &mut Eropaf, http: &HttpTransport) {
    device.sync(http, &mut |_| {}).unwrap();
}

/// Everything sealed for `case` that the device's database holds now: the document's
/// snapshot and changes, its summary and its (store-sealed) case keys.
fn sealed_rows(db: &std::path::Path, case: &str) -> Vec<Vec<u8>> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut rows = Vec::new();
    for sql in [
        "SELECT snapshot FROM doc_snapshots WHERE doc_id = ?1",
        "SELECT summary FROM docs WHERE doc_id = ?1",
        "SELECT bytes FROM doc_changes WHERE doc_id = ?1",
        "SELECT key FROM case_keys WHERE doc_id = ?1",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let found = stmt.query_map([case], |r| r.get::<_, Option<Vec<u8>>>(0)).unwrap();
        rows.extend(found.filter_map(Result::unwrap));
    }
    rows
}

/// Pieces that show a sealed value is still on disk: its first 32 bytes (the nonce and the
/// start of the ciphertext, which sit together in one page whatever the value's length).
fn markers(values: &[Vec<u8>]) -> Vec<Vec<u8>> {
    values.iter().filter(|v| v.len() >= 32).map(|v| v[..32].to_vec()).collect()
}

#[test]
fn an_erased_case_leaves_no_key_or_sealed_copy_in_any_devices_files() {
    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 1, fast_tempdir);
    let resident = Resident::named("Fenna de Graaf");
    let case = team.workers[0].new_case(&resident, None).unwrap();
    for n in 0..3 {
        let visit = NewVisit { note: format!("Bezoek {n}"), ..NewVisit::default() };
        team.workers[0].record_visit(&case, &visit).unwrap();
    }
    // A second case stays: erasure takes one case, not the store.
    let kept = team.workers[0].new_case(&Resident::named("Gerrit Smit"), None).unwrap();
    // What the worker's device sealed to send: these bytes must not outlive the case either.
    let sent = markers(&outbox(team.dirs[1].path(), &team.key));
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    sync(&mut team.workers[0], &http);
    let mut secrets = Vec::new();
    for dir in &team.dirs {
        secrets.extend(markers(&sealed_rows(&dir.path().join("eropaf.db"), &case)));
    }
    assert!(secrets.len() >= 3 * team.dirs.len(), "the case left sealed rows to look for");
    // The scan can see them: each live sealed row is in its device's files.
    for secret in &secrets {
        let seen = team.dirs.iter().any(|dir| !files_containing(dir.path(), secret).is_empty());
        assert!(seen, "a sealed row of the case is not where the scan looks");
    }
    secrets.extend(sent);
    // The epoch keys as they were: punctured at the case, the unpunctured ones must go too.
    for dir in &team.dirs {
        let conn = rusqlite::Connection::open(dir.path().join("eropaf.db")).unwrap();
        let mut stmt = conn.prepare("SELECT key FROM epoch_keys").unwrap();
        let rows: Vec<Vec<u8>> =
            stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        secrets.extend(markers(&rows));
    }
    // The case keys themselves: the store only ever holds them sealed.
    for dir in &team.dirs {
        let (_, key) = case_key(dir.path(), &team.key, &case);
        secrets.push(key.as_bytes().to_vec());
    }

    team.supervisor.erase_case(Some(&http), &case).unwrap();
    sync(&mut team.workers[0], &http);

    for device in team.devices_mut() {
        assert!(device.case(&case).is_err(), "the erased case is gone");
        assert!(device.cases().unwrap().iter().any(|c| c.id == kept), "the other case stays");
    }
    // Files first: opening a store handle to look at its keys must not tidy up beforehand.
    let scan = |when: &str| {
        for dir in &team.dirs {
            for secret in &secrets {
                let found = files_containing(dir.path(), secret);
                assert!(found.is_empty(), "{when}: the erased case lingers in {found:?}");
            }
        }
    };
    scan("with the devices open");
    for dir in &team.dirs {
        let keys = open_store(dir.path(), &team.key).case_keys(&case).unwrap();
        assert!(keys.is_empty(), "a key of the erased case is left");
    }
    let Team { supervisor, workers, dirs, key, .. } = team;
    drop((supervisor, workers));
    // The closed stores' files, as a thief would find them.
    for dir in &dirs {
        for secret in &secrets {
            let found = files_containing(dir.path(), secret);
            assert!(found.is_empty(), "after closing: the erased case lingers in {found:?}");
        }
        assert!(open_store(dir.path(), &key).case_keys(&case).unwrap().is_empty());
    }
}

/// Every key a device's store holds that could open an announcement of a case key: each
/// epoch key as the device derives it for the case, and, to be thorough, every 32 bytes of
/// every stored epoch key taken as a key in its own right.
fn candidate_keys(dir: &std::path::Path, key: &SecretKey, case: &str) -> Vec<SecretKey> {
    let mut candidates = Vec::new();
    for (epoch, stored) in open_store(dir, key).epoch_keys().unwrap() {
        let epoch_key = EpochKey::from_bytes(epoch, &stored).unwrap();
        candidates.extend(epoch_key.for_case(case));
        candidates.extend(stored.windows(32).map(|w| SecretKey::from_slice(w).unwrap()));
    }
    candidates
}

/// The case keys that `candidates` open from the relay's envelopes for `case` in `db`.
fn case_keys_opened(db: &std::path::Path, case: &str, candidates: &[SecretKey]) -> usize {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare("SELECT bytes FROM envelopes WHERE doc_id = ?1").unwrap();
    let all: Vec<Vec<u8>> = stmt
        .query_map([hex::decode(case).unwrap()], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    all.iter()
        .filter_map(|bytes| Envelope::from_bytes(bytes).ok())
        .filter(|envelope| envelope.header.kind == EnvelopeKind::KeyPackage)
        .filter(|envelope| candidates.iter().any(|key| envelope.open(key).is_ok()))
        .count()
}

/// The relay's operator kept a backup from before the erasure. A member's phone, stolen and
/// unlocked afterwards, or the phone of a worker who joins afterwards, holds the team's epoch
/// keys: with the backup, they would open the case's key announcements and then the case.
/// Erasing punctures every epoch key at the case, so nothing any device holds opens them.
#[test]
fn a_relay_backup_with_a_members_phone_reads_no_erased_case() {
    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 1, fast_tempdir);
    let case = team.workers[0].new_case(&Resident::named("Fenna de Graaf"), None).unwrap();
    let kept = team.workers[0].new_case(&Resident::named("Gerrit Smit"), None).unwrap();
    sync(&mut team.workers[0], &http);
    sync(&mut team.supervisor, &http);
    let backup = relay_dir.path().join("backup.db");
    rusqlite::Connection::open(&relay.db)
        .unwrap()
        .execute("VACUUM INTO ?1", [backup.to_str().unwrap()])
        .unwrap();
    let sannes = candidate_keys(team.dirs[1].path(), &team.key, &case);
    assert!(case_keys_opened(&backup, &case, &sannes) > 0, "the backup holds the case's keys");

    team.supervisor.erase_case(Some(&http), &case).unwrap();
    sync(&mut team.workers[0], &http);
    let newcomer_dir = fast_tempdir();
    let mut newcomer = eropaf_tests::create_device(newcomer_dir.path(), &team.key, "Nieuw");
    eropaf_tests::enrol(&mut team.supervisor, &mut newcomer, &http, Role::Worker);
    sync(&mut newcomer, &http);
    assert!(newcomer.case(&kept).is_ok(), "the newcomer reads the case that stays");

    let mut dirs: Vec<&std::path::Path> = team.dirs.iter().map(|d| d.path()).collect();
    dirs.push(newcomer_dir.path());
    for dir in dirs {
        let candidates = candidate_keys(dir, &team.key, &case);
        assert_eq!(case_keys_opened(&backup, &case, &candidates), 0, "{dir:?} opens the case");
        let other = candidate_keys(dir, &team.key, &kept);
        assert!(case_keys_opened(&backup, &kept, &other) > 0, "{dir:?} lost the other case");
    }
}
