//! Fuzz targets for the decoders that take bytes from other devices or the relay: envelopes,
//! automerge payloads and document import, roster entries, key packages (and the punctured
//! epoch keys they carry), invitation codes, and the vetting of received changes.
//! proptest over arbitrary bytes and over mutations of valid inputs (cargo-fuzz needs a
//! nightly compiler).
//! The property is the same everywhere: no panic, and a refusal rather than a crash or an
//! unbounded allocation (automerge payloads are held to `sync::limits` first).
//!
//! `cargo test` runs a smoke batch of each in seconds. A long run (see README, "Fuzzing"):
//! `EROPAF_FUZZ_SECS=600` repeats batches of `EROPAF_FUZZ_CASES` (default 64) fresh random
//! cases until the budget is spent, per target.

#![allow(clippy::unwrap_used)] // fixtures; a failure here is a failed test

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::crypto::{DeviceIdentity, SecretKey};
use crate::doc::CaseDoc;
use crate::model::Resident;
use crate::sync::envelope::{self, Envelope, EnvelopeHeader, EnvelopeKind};
use crate::sync::limits;
use crate::team::epoch::KeyPackage;
use crate::team::roster::{Roster, RosterEntry};

/// Runs `test` over `strategy` in batches until `EROPAF_FUZZ_SECS` is spent (one batch when
/// unset). Each batch draws fresh random cases; a failure is shrunk and reported by proptest.
pub(crate) fn fuzz<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let number = |name: &str, default: u64| {
        std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
    };
    let cases = u32::try_from(number("EROPAF_FUZZ_CASES", 64)).unwrap_or(u32::MAX);
    let deadline = Instant::now() + Duration::from_secs(number("EROPAF_FUZZ_SECS", 0));
    loop {
        let config = Config { cases, failure_persistence: None, ..Config::default() };
        let mut runner = TestRunner::new(config);
        if let Err(failure) = runner.run(&strategy, &test) {
            panic!("{failure}");
        }
        if Instant::now() >= deadline {
            return;
        }
    }
}

/// Arbitrary bytes, and mutations (flipped bytes, cuts, splices) of `seeds`.
fn bytes_near(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let mutated = (
        proptest::sample::select(seeds),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        any::<prop::sample::Index>(),
        proptest::collection::vec(any::<u8>(), 0..16),
    )
        .prop_map(|(mut seed, flips, cut, splice)| {
            if seed.is_empty() {
                return splice;
            }
            for (at, value) in flips {
                let i = at.index(seed.len());
                seed[i] ^= value;
            }
            if splice.len() % 3 == 1 {
                seed.truncate(cut.index(seed.len()));
            } else if splice.len() % 3 == 2 {
                let at = cut.index(seed.len());
                seed.splice(at..at, splice);
            }
            seed
        });
    prop_oneof![proptest::collection::vec(any::<u8>(), 0..512), mutated]
}

struct Seeds {
    device: DeviceIdentity,
    key: SecretKey,
    envelopes: Vec<Vec<u8>>,
    automerge: Vec<Vec<u8>>,
    roster: Vec<Vec<u8>>,
    packages: Vec<Vec<u8>>,
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let device = DeviceIdentity::generate().unwrap();
        let key = SecretKey::generate().unwrap();
        let actor = crate::crypto::session_actor(device.id()).unwrap();
        let mut doc = CaseDoc::create(
            &actor,
            "0123456789abcdef0123456789abcdef",
            &Resident::named("Aïsha Yilmaz"),
            None,
            chrono::Utc::now(),
        )
        .unwrap();
        let heads = doc.heads();
        let visit = crate::model::NewVisit { note: "Huurachterstand".into(), ..Default::default() };
        doc.add_visit("v1", &visit, chrono::Utc::now()).unwrap();
        let automerge = vec![doc.save(), doc.save_after(&[]), doc.save_after(&heads)];
        let header =
            EnvelopeHeader::new([1; 16], [2; 16], 3, device.id(), 1, None, EnvelopeKind::Changes)
                .unwrap();
        let envelopes = automerge
            .iter()
            .map(|payload| Envelope::seal(header.clone(), &key, payload, &device).unwrap())
            .map(|e| e.to_bytes())
            .collect();
        let agreement = crate::crypto::AgreementKey::generate().unwrap();
        let card = crate::team::roster::DeviceCard::for_identity(
            &device,
            &agreement.public_key(),
            "Marieke",
            crate::team::roster::Role::Supervisor,
        )
        .unwrap();
        let roster = Roster::create("Wijkteam Noord", &device, card).unwrap();
        let entries: Vec<Vec<u8>> =
            roster.entries().iter().map(|e| serde_json::to_vec(e).unwrap()).collect();
        let epoch_key = crate::team::epoch::EpochKey::generate(1).unwrap();
        let package = KeyPackage::create(
            roster.team_id(),
            &epoch_key,
            &device.id().to_hex(),
            &agreement.public_key(),
            &device,
        )
        .unwrap();
        let packages = vec![serde_json::to_vec(&package).unwrap()];
        Seeds { device, key, envelopes, automerge, roster: entries, packages }
    })
}

#[test]
fn fuzz_envelope_decode() {
    let s = seeds();
    fuzz(bytes_near(s.envelopes.clone()), |bytes| {
        if let Ok(envelope) = Envelope::from_bytes(&bytes) {
            // Canonical: what decodes re-encodes to the same bytes.
            prop_assert_eq!(envelope.to_bytes(), bytes);
            if envelope.verify(s.device.public_key()).is_ok() {
                let _ = envelope.open(&s.key);
            }
        }
        Ok(())
    });
}

#[test]
fn fuzz_automerge_payload() {
    fuzz(bytes_near(seeds().automerge.clone()), |bytes| {
        // What a receiver runs on an opened envelope: the bounds, then automerge's parse.
        let _ = envelope::change_actors(&bytes);
        Ok(())
    });
}

#[test]
fn fuzz_document_import() {
    fuzz(bytes_near(seeds().automerge.clone()), |bytes| {
        // As `Eropaf::merge_case` and a sync taking in a new case: bounded first.
        if limits::check_automerge(&bytes).is_ok() {
            if let Ok(doc) = CaseDoc::load(std::slice::from_ref(&bytes), &[1; 32]) {
                let _ = doc.read(&"0".repeat(32));
            }
            if let Ok(mut doc) = CaseDoc::from_arrival(&bytes, &[1; 32]) {
                let _ = doc.summary(&"0".repeat(32));
            }
        }
        Ok(())
    });
}

#[test]
fn fuzz_roster_entry_decode() {
    fuzz(bytes_near(seeds().roster.clone()), |bytes| {
        if let Ok(entry) = serde_json::from_slice::<RosterEntry>(&bytes) {
            let _ = Roster::from_entries(vec![entry]);
        }
        Ok(())
    });
}

#[test]
fn fuzz_key_package_decode() {
    let s = seeds();
    fuzz(bytes_near(s.packages.clone()), |bytes| {
        if let Ok(package) = serde_json::from_slice::<KeyPackage>(&bytes) {
            let _ = package.verify(s.device.public_key());
        }
        Ok(())
    });
}

#[test]
fn fuzz_invitation_parse() {
    let expires = chrono::Utc::now() + chrono::Duration::days(7);
    let head = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let names_key = crate::team::names::NamesKey::generate().unwrap();
    let seeds: Vec<Vec<u8>> =
        ["https://relay.example.nl", "http://127.0.0.1:7300", "http://[::1]:1"]
            .iter()
            .map(|relay| {
                let team = "0123456789abcdef0123456789abcdef";
                let made = crate::Invitation::generate(
                    team,
                    relay,
                    crate::team::roster::Role::Worker,
                    head,
                    relay.starts_with("https").then_some(&names_key),
                    expires,
                )
                .unwrap();
                made.code.into_bytes()
            })
            .collect();
    fuzz(bytes_near(seeds), |bytes| {
        let Ok(text) = std::str::from_utf8(&bytes) else { return Ok(()) };
        if let Ok(invitation) = crate::Invitation::parse(text) {
            // Whatever parses points at a relay the transport accepts, and yields a key.
            prop_assert!(crate::sync::http::check_relay_url(&invitation.relay_url).is_ok());
            prop_assert!(invitation.public_key().is_ok());
        }
        Ok(())
    });
}

#[test]
fn fuzz_punctured_key_decode() {
    use crate::crypto::puncturable::PuncturableKey;
    let whole = PuncturableKey::from_root(&SecretKey::generate().unwrap());
    let mut once = whole.clone();
    once.puncture(b"0123456789abcdef0123456789abcdef");
    let mut twice = once.clone();
    twice.puncture(b"fedcba9876543210fedcba9876543210");
    let seeds = [whole, once, twice].iter().map(|key| key.to_bytes().to_vec()).collect();
    fuzz(bytes_near(seeds), |bytes| {
        // What a key package carries once opened: whatever reads back derives and punctures
        // without a panic, and a punctured name stays underivable.
        if let Ok(mut key) = PuncturableKey::from_bytes(&bytes) {
            let _ = key.derive(b"a case");
            key.puncture(b"a case");
            prop_assert!(key.derive(b"a case").is_none());
        }
        Ok(())
    });
}

/// Every object of `doc` with its type, root first.
fn objects(doc: &automerge::AutoCommit) -> Vec<(automerge::ObjId, automerge::ObjType)> {
    use automerge::{ObjType, ReadDoc, Value};
    let mut found = vec![(automerge::ROOT, ObjType::Map)];
    let mut next = 0;
    while next < found.len() {
        let (obj, typ) = found[next].clone();
        next += 1;
        let props: Vec<automerge::Prop> = match typ {
            ObjType::Map | ObjType::Table => doc.keys(&obj).map(automerge::Prop::Map).collect(),
            ObjType::List => (0..doc.length(&obj)).map(automerge::Prop::Seq).collect(),
            ObjType::Text => Vec::new(),
        };
        for prop in props {
            for (value, id) in doc.get_all(&obj, prop).unwrap_or_default() {
                if let Value::Object(child) = value {
                    found.push((id, child));
                }
            }
        }
    }
    found
}

#[test]
fn fuzz_change_vetting() {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ReadDoc};
    const KEYS: [&str; 10] = [
        "reviews",
        "access",
        "visits",
        "assessments",
        "resident",
        "id",
        "status",
        "device",
        "note",
        "x",
    ];
    let actor = |n: u8| [vec![n; 16], vec![0xAA; 8]].concat();
    let edit = (0u8..6, any::<prop::sample::Index>(), 0..KEYS.len(), any::<i64>());
    fuzz(proptest::collection::vec(edit, 1..12), |edits| {
        // A case with a visit, an access entry and a supervisor's review, as a worker's device
        // (actor 2) holds it; then any edits that device makes, held to the rules.
        let mut doc =
            CaseDoc::create(&actor(1), "c", &Resident::named("Willem"), None, chrono::Utc::now())
                .unwrap();
        let visit = crate::model::NewVisit { note: "Kennismaking".into(), ..Default::default() };
        doc.add_visit("v1", &visit, chrono::Utc::now()).unwrap();
        let mut mine = doc.fork(&actor(2));
        let heads = mine.heads();
        for (kind, at, key, value) in edits {
            let found = objects(mine.raw());
            let (obj, typ) = found[at.index(found.len())].clone();
            let raw = mine.raw();
            let len = raw.length(&obj);
            let index = usize::try_from(value.unsigned_abs() % 64).unwrap_or(0);
            let _ = match (kind, typ) {
                (0, ObjType::Map) => raw.put(&obj, KEYS[key], value),
                (1, ObjType::Map) => raw.put_object(&obj, KEYS[key], ObjType::Map).map(|_| ()),
                (2, ObjType::Map) => raw.delete(&obj, KEYS[key]),
                (3, ObjType::List) => {
                    raw.insert_object(&obj, index % (len + 1), ObjType::Map).map(|_| ())
                }
                (4, ObjType::List | ObjType::Text) if len > 0 => raw.delete(&obj, index % len),
                (5, ObjType::Text) => raw.splice_text(&obj, index % (len + 1), 0, KEYS[key]),
                _ => Ok(()),
            };
            raw.commit();
        }
        for change in mine.changes_after(&heads) {
            for supervisor in [false, true] {
                let _ = mine.breach(&change, supervisor, false, None);
            }
        }
        Ok(())
    });
}
