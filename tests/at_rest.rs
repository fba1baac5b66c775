//! At rest: a store holds no readable case data. Records a case with marker texts in every
//! field a worker fills in, then scans every file under the store directory (database, WAL,
//! shared memory, anything else) while the store is open and after it is closed.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use eropaf_core::checklist::{Item, Verdict};
use eropaf_core::model::{LifeDomain, NewVisit, Observation, Resident, Score};
use eropaf_tests::{create_device, files_containing, new_key, open_device};

const MARKERS: [&str; 6] = [
    "Zwaantje Markeerdersma",
    "Markeerstraat 99",
    "MARKER-NOTE-7731",
    "MARKER-OBSERVATION-4410",
    "MARKER-ANSWER-2208",
    "MARKER-MOTIVATION-9145",
];

fn assert_no_marker(dir: &std::path::Path, when: &str) {
    for marker in MARKERS {
        let found = files_containing(dir, marker.as_bytes());
        assert!(found.is_empty(), "{when}: {marker:?} readable in {found:?}");
    }
}

#[test]
fn no_case_text_is_readable_in_any_file_of_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let mut device = create_device(dir.path(), &key, "Sanne");
    let resident = Resident { address: Some(MARKERS[1].into()), ..Resident::named(MARKERS[0]) };
    let case = device.new_case(&resident, None).unwrap();
    for n in 0..30 {
        device
            .record_visit(
                &case,
                &NewVisit {
                    note: format!("{} {n}", MARKERS[2]),
                    observations: vec![Observation::new(
                        MARKERS[3],
                        Some(LifeDomain::Huisvesting),
                        Some(Score::new(3).unwrap()),
                    )
                    .unwrap()],
                    ..NewVisit::default()
                },
            )
            .unwrap();
    }
    let assessment = device.start_assessment(&case, "Huur overnemen?", None).unwrap();
    device.answer(&case, &assessment, &Item::Step("effect".into()), MARKERS[4]).unwrap();
    device.answer(&case, &assessment, &Item::Step("doel_wet".into()), MARKERS[4]).unwrap();
    device.answer(&case, &assessment, &Item::Step("ethische_afweging".into()), MARKERS[4]).unwrap();
    device.set_verdict(&case, &assessment, "rechtmatig", Verdict::Supports, MARKERS[5]).unwrap();

    // The markers really are in the case: the scan below would find plaintext if it were there.
    let stored = device.case(&case).unwrap();
    assert_eq!(stored.resident.name, MARKERS[0]);
    assert_eq!(stored.visits.len(), 30);
    assert_eq!(device.search("markeerders").unwrap().len(), 1);

    assert_no_marker(dir.path(), "while open");
    drop(device);
    assert_no_marker(dir.path(), "after closing");

    let mut reopened = open_device(dir.path(), &key);
    assert_eq!(reopened.case(&case).unwrap().visits.len(), 30);
    assert_no_marker(dir.path(), "after reopening");
}
