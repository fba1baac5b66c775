//! Property test of merging: two or three replicas of one case make random concurrent edits
//! and exchange them in random order, some deliveries duplicated; in the end every replica
//! shows the same case and no visit or observation that anyone recorded is missing. Along
//! the way, after every step, each replica's summary (the sealed row the case list shows,
//! kept between writes rather than read afresh) equals the summary of a fresh read.

use std::collections::BTreeSet;

use chrono::Utc;
use proptest::prelude::*;

use super::CaseDoc;
use crate::model::{CaseStatus, CaseSummary, NewVisit, Observation, Resident};

#[derive(Clone, Debug)]
enum Op {
    AddVisit {
        replica: usize,
        note: String,
    },
    EditNote {
        replica: usize,
        visit: usize,
        note: String,
    },
    Observe {
        replica: usize,
        visit: usize,
        text: String,
    },
    SetStatus {
        replica: usize,
        status: CaseStatus,
    },
    /// Settles the note of a visit (in conflict or not) with one text.
    SettleNote {
        replica: usize,
        visit: usize,
        note: String,
    },
    Rename {
        replica: usize,
        name: String,
    },
    /// `from` sends everything it has to `to`, possibly twice.
    Deliver {
        from: usize,
        to: usize,
        twice: bool,
    },
}

fn op(replicas: usize) -> impl Strategy<Value = Op> {
    let r = 0..replicas;
    let text = "[a-z ]{0,12}";
    prop_oneof![
        (r.clone(), text).prop_map(|(replica, note)| Op::AddVisit { replica, note }),
        (r.clone(), 0..4usize, text).prop_map(|(replica, visit, note)| Op::EditNote {
            replica,
            visit,
            note
        }),
        (r.clone(), 0..4usize, "[a-z]{1,8}").prop_map(|(replica, visit, text)| Op::Observe {
            replica,
            visit,
            text
        }),
        (r.clone(), prop::sample::select(CaseStatus::ALL.to_vec()))
            .prop_map(|(replica, status)| Op::SetStatus { replica, status }),
        (r.clone(), 0..4usize, text).prop_map(|(replica, visit, note)| Op::SettleNote {
            replica,
            visit,
            note
        }),
        (r.clone(), "[A-Z][a-z]{1,8}").prop_map(|(replica, name)| Op::Rename { replica, name }),
        (r.clone(), r, any::<bool>()).prop_map(|(from, to, twice)| Op::Deliver { from, to, twice }),
    ]
}

fn actor(n: usize) -> Vec<u8> {
    let mut id = vec![u8::try_from(n).unwrap_or(0) + 1; 16];
    id.extend_from_slice(&[7; 8]);
    id
}

fn scenario() -> impl Strategy<Value = (usize, Vec<Op>)> {
    (2..=3usize).prop_flat_map(|n| (Just(n), prop::collection::vec(op(n), 1..40)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn replicas_converge_and_keep_every_visit_and_observation((replicas, ops) in scenario()) {
        let mut base = CaseDoc::create(&actor(9), "c", &Resident::named("Aïsha"), None, Utc::now()).unwrap();
        let mut docs: Vec<CaseDoc> = (0..replicas).map(|n| base.fork(&actor(n))).collect();
        let mut recorded_visits = BTreeSet::new();
        let mut recorded_observations = BTreeSet::new();
        for (step, op) in ops.into_iter().enumerate() {
            match op {
                Op::AddVisit { replica, note } => {
                    let id = format!("v{step}");
                    let visit = NewVisit { note, ..NewVisit::default() };
                    docs[replica].add_visit(&id, &visit, Utc::now()).unwrap();
                    recorded_visits.insert(id);
                }
                Op::EditNote { replica, visit, note } => {
                    if let Some(v) = docs[replica].read("c").unwrap().visits.get(visit) {
                        docs[replica].edit_visit_note(&v.id, &note).unwrap();
                        let shown = docs[replica].read("c").unwrap().visit(&v.id).unwrap().note.clone();
                        prop_assert_eq!(shown, note.trim(), "the note as typed, after step {}", step);
                    }
                }
                Op::Observe { replica, visit, text } => {
                    if let Some(v) = docs[replica].read("c").unwrap().visits.get(visit) {
                        let observation = Observation::new(&text, None, None).unwrap();
                        docs[replica].add_observation(&v.id, &observation).unwrap();
                        recorded_observations.insert(text);
                    }
                }
                Op::SetStatus { replica, status } => docs[replica].set_status(status).unwrap(),
                Op::SettleNote { replica, visit, note } => {
                    if let Some(v) = docs[replica].read("c").unwrap().visits.get(visit) {
                        docs[replica].settle_visit_note(&v.id, &note).unwrap();
                    }
                }
                Op::Rename { replica, name } => {
                    docs[replica].update_resident(&Resident::named(&name)).unwrap();
                }
                Op::Deliver { from, to, twice } => {
                    let bytes = docs[from].save();
                    docs[to].merge_bytes(&bytes).unwrap();
                    if twice {
                        prop_assert!(!docs[to].merge_bytes(&bytes).unwrap(), "a duplicate changed something");
                    }
                }
            }
            for (replica, doc) in docs.iter_mut().enumerate() {
                let kept = CaseSummary { created_by: None, ..doc.summary("c").unwrap() };
                let fresh = doc.read("c").unwrap().summary();
                prop_assert_eq!(kept, fresh, "replica {}'s summary after step {}", replica, step);
            }
        }
        // Everyone finally hears from everyone, in reverse order for good measure.
        for from in (0..replicas).rev() {
            let bytes = docs[from].save();
            for doc in docs.iter_mut() {
                doc.merge_bytes(&bytes).unwrap();
            }
        }
        let first = docs[0].read("c").unwrap();
        for doc in &docs[1..] {
            prop_assert_eq!(&doc.read("c").unwrap(), &first);
        }
        let visits: BTreeSet<String> = first.visits.iter().map(|v| v.id.clone()).collect();
        prop_assert_eq!(&visits, &recorded_visits);
        let observations: BTreeSet<String> =
            first.visits.iter().flat_map(|v| v.observations.iter().map(|o| o.text.clone())).collect();
        prop_assert!(recorded_observations.is_subset(&observations));
    }
}
