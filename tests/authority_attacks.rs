//! Team-level acts need a supervisor's signature that every device checks against the roster:
//! the relay's operator, who writes its own database, or a worker's device cannot make the
//! team erase a case. A refused order is reported and the case stays.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use eropaf_core::model::{NewVisit, Resident};
use eropaf_core::sync::http::HttpTransport;
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
    let mut team = Team::enrol(&http, &relay.url, 1, fast_tempdir);
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
    team.supervisor.erase_case(&http, &case).unwrap();
    sync(&mut team.workers[0], &http);
    assert!(matches!(team.workers[0].case(&case), Err(Error::NotFound { .. })));
}
