//! A child process for the crash test: opens a store and records visits in a loop, printing
//! `recorded <visit id> <n>` after each call returned, until it is killed.

use std::io::Write;

use eropaf_core::model::{NewVisit, Observation};
use eropaf_tests::{key_from_hex, open_device, KEY_ENV};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(case_id), Some(run)) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: crash-writer STORE_DIR CASE_ID RUN");
        std::process::exit(2);
    };
    let key = key_from_hex(&std::env::var(KEY_ENV).expect("store key in the environment"));
    let mut device = open_device(std::path::Path::new(&dir), &key);
    let stdout = std::io::stdout();
    for n in 0.. {
        let visit = NewVisit {
            note: format!("run {run} visit {n}: deur open, post ongeopend op tafel"),
            observations: vec![Observation::new("Huurachterstand", None, None).expect("valid")],
            ..NewVisit::default()
        };
        let id = device.record_visit(&case_id, &visit).expect("record visit");
        let mut out = stdout.lock();
        writeln!(out, "recorded {id} {n}").expect("stdout");
        out.flush().expect("stdout");
    }
}
