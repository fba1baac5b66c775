//! Bad conditions give a clear error and change nothing: a wrong key or passphrase, a
//! truncated or damaged database, an unknown case id, a store created twice.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use std::path::Path;

use eropaf_core::model::{NewVisit, Resident, TeamPolicy};
use eropaf_core::DB_FILE;
use eropaf_core::{Eropaf, Error, Unlock};
use eropaf_tests::{create_device, new_key, open_device};

fn store_with_cases(dir: &Path, key: &eropaf_core::crypto::SecretKey, cases: usize) -> Vec<String> {
    let mut device = create_device(dir, key, "Sanne");
    (0..cases)
        .map(|n| {
            let id = device.new_case(&Resident::named(format!("Bewoner {n}")), None).unwrap();
            let note = "Een lange notitie over het bezoek. ".repeat(40);
            device.record_visit(&id, &NewVisit { note, ..NewVisit::default() }).unwrap();
            id
        })
        .collect()
}

fn file_bytes(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join(DB_FILE)).unwrap()
}

#[test]
fn a_wrong_passphrase_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut device =
        Eropaf::create(dir.path(), Unlock::Passphrase("juist wachtwoord"), "Sanne").unwrap();
    let id = device.new_case(&Resident::named("Aïsha"), None).unwrap();
    drop(device);
    let before = file_bytes(dir.path());
    let err = Eropaf::open(dir.path(), Unlock::Passphrase("fout wachtwoord")).err().unwrap();
    assert!(matches!(err, Error::WrongKey), "{err:?}");
    assert!(err.message_nl().contains("Onjuist wachtwoord"));
    assert_eq!(before, file_bytes(dir.path()));

    let mut device = Eropaf::open(dir.path(), Unlock::Passphrase("juist wachtwoord")).unwrap();
    assert_eq!(device.case(&id).unwrap().resident.name, "Aïsha");
}

#[test]
fn a_thief_guessing_passphrases_in_the_app_destroys_the_store_at_the_teams_limit() {
    let dir = tempfile::tempdir().unwrap();
    let right = Unlock::Passphrase("juist wachtwoord");
    let mut device = Eropaf::create(dir.path(), right, "Sanne").unwrap();
    let id = device.new_case(&Resident::named("Aïsha Bouali"), None).unwrap();
    let policy = device.policy().unwrap();
    let too_few = TeamPolicy { wipe_after_failed_unlocks: 2, ..policy.clone() };
    assert!(device.set_policy(&too_few).is_err(), "a typo must not cost the data");
    device.set_policy(&TeamPolicy { wipe_after_failed_unlocks: 3, ..policy }).unwrap();
    drop(device);
    let wrong = || Eropaf::open(dir.path(), Unlock::Passphrase("raden")).err().unwrap();

    // The owner mistyping twice, then getting it right, starts the count again.
    for _ in 0..2 {
        assert!(matches!(wrong(), Error::WrongKey));
    }
    drop(Eropaf::open(dir.path(), Unlock::Passphrase("juist wachtwoord")).unwrap());
    for _ in 0..2 {
        assert!(matches!(wrong(), Error::WrongKey));
    }
    // The third wrong guess in a row: nothing of the store remains to open.
    let err = wrong();
    assert!(matches!(err, Error::Destroyed), "{err:?}");
    assert!(err.message_nl().contains("vernietigd"));
    let err = Eropaf::open(dir.path(), Unlock::Passphrase("juist wachtwoord")).err().unwrap();
    assert!(matches!(err, Error::Destroyed), "the right passphrase opens nothing now: {err:?}");
    let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
    let rows = |table: &str| -> i64 {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap()
    };
    assert_eq!((rows("docs"), rows("doc_changes"), rows("epoch_keys")), (0, 0, 0));
    let salt: i64 = conn
        .query_row("SELECT COUNT(*) FROM meta WHERE key = 'passphrase_params'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(salt, 0, "without the Argon2 salt no passphrase derives the key");
    assert!(!id.is_empty());
}

#[test]
fn a_wrong_store_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    store_with_cases(dir.path(), &new_key(), 1);
    let err = Eropaf::open(dir.path(), Unlock::Key(new_key())).err().unwrap();
    assert!(matches!(err, Error::WrongKey), "{err:?}");
}

#[test]
fn a_truncated_database_is_reported_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    store_with_cases(dir.path(), &key, 40);
    let full = file_bytes(dir.path());
    assert!(full.len() > 64 * 1024, "the store spans many pages ({} bytes)", full.len());
    let cut = &full[..full.len() / 2];
    std::fs::write(dir.path().join(DB_FILE), cut).unwrap();

    let err = Eropaf::open(dir.path(), Unlock::Key(key.clone())).err().unwrap();
    assert!(matches!(err, Error::Corrupt(ref m) if m.contains("truncated")), "{err:?}");
    assert_eq!(file_bytes(dir.path()), cut, "opening must not touch a damaged file");
}

#[test]
fn a_damaged_database_is_reported_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let ids = store_with_cases(dir.path(), &key, 40);
    let mut bytes = file_bytes(dir.path());
    // Scramble everything after the first pages: schema intact, data pages garbage.
    for (i, b) in bytes.iter_mut().enumerate().skip(3 * 4096) {
        *b = (i as u8).wrapping_mul(31) ^ 0x5A;
    }
    std::fs::write(dir.path().join(DB_FILE), &bytes).unwrap();

    let result = Eropaf::open(dir.path(), Unlock::Key(key.clone())).and_then(|mut device| {
        device.cases()?;
        device.case(&ids[20])
    });
    let err = result.expect_err("damage must not go unnoticed");
    assert!(err.is_corrupt(), "{err:?}");
}

#[test]
fn a_file_that_is_not_a_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DB_FILE), b"dit is geen database").unwrap();
    let err = Eropaf::open(dir.path(), Unlock::Key(new_key())).err().unwrap();
    assert!(err.is_corrupt(), "{err:?}");
}

#[test]
fn unknown_case_ids_are_not_found_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    store_with_cases(dir.path(), &key, 1);
    let mut device = open_device(dir.path(), &key);
    let visit = NewVisit { note: "x".into(), ..NewVisit::default() };
    let err = device.record_visit("0123456789abcdef0123456789abcdef", &visit).unwrap_err();
    assert!(matches!(err, Error::NotFound { what: "case", .. }), "{err:?}");
    assert!(matches!(device.resolve_case_id("ffff"), Err(Error::NotFound { .. })));
    assert_eq!(device.cases().unwrap()[0].visit_count, 1);
}

#[test]
fn creating_over_an_existing_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let ids = store_with_cases(dir.path(), &key, 2);
    let err = Eropaf::create(dir.path(), Unlock::Key(new_key()), "Indringer").err().unwrap();
    assert!(matches!(err, Error::AlreadyExists(_)), "{err:?}");
    let mut device = open_device(dir.path(), &key);
    assert_eq!(device.case(&ids[1]).unwrap().visits.len(), 1);
}

#[test]
fn a_missing_store_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let err = Eropaf::open(&dir.path().join("nergens"), Unlock::Key(new_key())).err().unwrap();
    assert!(matches!(err, Error::NoStore(_)), "{err:?}");
}
