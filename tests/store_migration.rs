//! A store written by an earlier schema version (4, before `0005_refused_changes`) opens
//! with today's code: the migrations run once, and every sealed row it held still reads.
//!
//! The fixture (`tests/fixtures/store-v4/eropaf.db`) is a supervisor's device made with the
//! `eropaf` command: a team registered at a relay on loopback, one case with a visit that was
//! synced and one that still waits in the outbox. Passphrase: `fixture-passphrase`.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use eropaf_core::store::Unlock;
use eropaf_core::Eropaf;

const CASE: &str = "7c3483ffc556e012b0d60f91b7e26668";

#[test]
fn a_store_of_the_previous_schema_opens_and_keeps_every_sealed_row() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/store-v4/eropaf.db");
    std::fs::copy(fixture, dir.path().join("eropaf.db")).unwrap();
    let version = |dir: &std::path::Path| -> i64 {
        let conn = rusqlite::Connection::open(dir.join("eropaf.db")).unwrap();
        conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
    };
    assert_eq!(version(dir.path()), 4);

    let mut device = Eropaf::open(dir.path(), Unlock::Passphrase("fixture-passphrase")).unwrap();
    assert_eq!(version(dir.path()), 9, "the migrations ran");
    // The case, its summary and both visits (one synced, one waiting) read back.
    let listed = device.cases().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, CASE);
    let case = device.case(CASE).unwrap();
    assert_eq!(case.resident.name, "Fenna Fixture");
    let notes: Vec<&str> = case.visits.iter().map(|v| v.note.as_str()).collect();
    assert!(notes.contains(&"Eerste bezoek: huurachterstand besproken"), "{notes:?}");
    assert!(notes.contains(&"Tweede bezoek, nog niet gesynchroniseerd"), "{notes:?}");
    // The team: the roster with its sealed names, the epoch key, the waiting envelope.
    let team = device.team_info().unwrap().expect("the device is in its team");
    assert_eq!(team.team_name, "Wijkteam Fixture");
    assert_eq!(device.members().len(), 1);
    drop(device);
    let store =
        eropaf_core::store::Store::open(dir.path(), Unlock::Passphrase("fixture-passphrase"))
            .unwrap();
    assert_eq!(store.epoch_keys().unwrap().len(), 1);
    assert_eq!(store.outbox(10).unwrap().len(), 1, "the waiting visit is still to be sent");
    // Opening again runs nothing twice.
    drop(store);
    let mut device = Eropaf::open(dir.path(), Unlock::Passphrase("fixture-passphrase")).unwrap();
    assert_eq!(version(dir.path()), 9);
    // Its notes were written as text objects (case schema 1); they still edit, and a visit
    // recorded now (a string note) sits beside them.
    let first = case.visits.iter().find(|v| v.note.starts_with("Eerste")).unwrap();
    let edited = format!("{}; afspraak gemaakt", first.note);
    device.edit_visit_note(CASE, &first.id, &edited).unwrap();
    let visit = eropaf_core::model::NewVisit { note: "Derde bezoek".into(), ..Default::default() };
    let third = device.record_visit(CASE, &visit).unwrap();
    let case = device.case(CASE).unwrap();
    assert_eq!(case.visit(&first.id).unwrap().note, edited);
    assert_eq!(case.visit(&third).unwrap().note, "Derde bezoek");
}
