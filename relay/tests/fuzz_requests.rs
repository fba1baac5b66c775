//! Fuzz target for the relay's parsing of a signed request: the device, timestamp and
//! signature headers, the path and query, and the body, as arbitrary text and bytes and as
//! mutations of a validly signed request. The property: no panic, and never accepted unless
//! it is the valid request itself. Smoke run in `cargo test`; `EROPAF_FUZZ_SECS=600` for a
//! long run (README, "Fuzzing").
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use eropaf_protocol::crypto::{AgreementKey, DeviceIdentity};
use eropaf_protocol::team::roster::{DeviceCard, Role, Roster};
use eropaf_relay::auth::{authenticate, Admit, SignedRequest};
use eropaf_relay::{sign_request, SqliteStorage};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[test]
fn fuzz_request_parse() {
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(&dir.path().join("relay.db")).unwrap();
    let device = DeviceIdentity::generate().unwrap();
    let agreement = AgreementKey::generate().unwrap();
    let card =
        DeviceCard::for_identity(&device, &agreement.public_key(), "Marieke", Role::Supervisor)
            .unwrap();
    let roster = Roster::create("Wijkteam Noord", &device, card).unwrap();
    let now = 1_700_000_000_000_i64;
    let path = format!("/v1/teams/{}/envelopes?after=0&limit=10", roster.team_id());
    let valid: Vec<(String, String)> = sign_request(&device, "GET", &path, b"", now)
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect();

    let text = || prop_oneof![".{0,80}", "[0-9a-f]{0,140}", "-?[0-9]{0,20}"];
    // Each signed header kept, replaced by arbitrary text, or dropped; the path and body
    // mutated or not.
    let header = |i: usize| {
        let value = valid[i].1.clone();
        prop_oneof![Just(Some(value)), text().prop_map(Some), Just(None)]
    };
    let strategy = (
        header(0),
        header(1),
        header(2),
        prop_oneof![Just(path.clone()), ".{0,100}"],
        proptest::collection::vec(any::<u8>(), 0..64),
    );
    let number = |name: &str, default: u64| {
        std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
    };
    let cases = u32::try_from(number("EROPAF_FUZZ_CASES", 64)).unwrap_or(u32::MAX);
    let deadline = Instant::now() + Duration::from_secs(number("EROPAF_FUZZ_SECS", 0));
    loop {
        let mut runner =
            TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
        let result = runner.run(&strategy, |(a, b, c, path_and_query, body)| {
            let mut headers = HeaderMap::new();
            for (i, value) in [a, b, c].into_iter().enumerate() {
                let Some(value) = value else { continue };
                // Text a client could not send as a header value is not a request at all.
                let Ok(value) = HeaderValue::from_str(&value) else { continue };
                headers.insert(HeaderName::from_bytes(valid[i].0.as_bytes()).unwrap(), value);
            }
            let request = SignedRequest {
                method: "GET",
                path_and_query: &path_and_query,
                headers: &headers,
                body: &body,
            };
            let untouched = path_and_query == path
                && body.is_empty()
                && valid.iter().all(|(n, v)| headers.get(n).is_some_and(|h| h == v.as_str()));
            if authenticate(&storage, &roster, &request, now, Admit::AlsoRevoked).is_ok() {
                prop_assert!(
                    untouched,
                    "a changed request was accepted: {request_debug:?}",
                    request_debug = (&headers, &path_and_query, &body)
                );
            }
            Ok(())
        });
        if let Err(failure) = result {
            panic!("{failure}");
        }
        if Instant::now() >= deadline {
            return;
        }
    }
}
