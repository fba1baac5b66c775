//! Crash safety: a child process records visits in a loop and is killed with SIGKILL at random
//! moments; after every kill the store opens and every visit whose call had returned is there.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use eropaf_core::model::Resident;
use eropaf_tests::{create_device, key_to_hex, new_key, open_device, KEY_ENV};

const KILLS: usize = 60;

#[test]
fn killed_writers_lose_no_returned_visit() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let case_id = {
        let mut device = create_device(dir.path(), &key, "crash-test");
        device.new_case(&Resident::named("Crash Test"), None).unwrap()
    };
    let mut confirmed: HashSet<String> = HashSet::new();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for run in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash-writer"))
            .args([dir.path().to_str().unwrap(), &case_id, &run.to_string()])
            .env(KEY_ENV, key_to_hex(&key))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines_tx, lines_rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait for the first returned write, then a random extra 0–40 ms: kills land before,
        // during and after commits.
        let first = lines_rx.recv_timeout(Duration::from_secs(30)).expect("the writer started");
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_micros(seed % 40_000));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        for line in std::iter::once(first).chain(lines_rx.try_iter()) {
            let id = line.split_whitespace().nth(1).expect("visit id").to_string();
            confirmed.insert(id);
        }

        let mut device = open_device(dir.path(), &key);
        let present: HashSet<String> =
            device.case(&case_id).unwrap().visits.into_iter().map(|v| v.id).collect();
        let lost: Vec<&String> = confirmed.difference(&present).collect();
        assert!(lost.is_empty(), "run {run}: visits lost after SIGKILL: {lost:?}");
    }
    assert!(confirmed.len() >= KILLS, "every run recorded at least one visit");
}
