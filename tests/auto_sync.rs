//! Sync when connected, decided in the core (issue 16): a worker's phone on a clock the test
//! turns and a network the test takes down and brings back, over the real relay on loopback.
//! What the worker would notice: a visit reaches the office shortly after she stops typing,
//! nothing is tried while the phone says it is offline, a failing relay is asked less and less
//! often, and the moment the network is back what waited leaves.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use eropaf_core::crypto::DeviceIdentity;
use eropaf_core::model::{NewVisit, Resident};
use eropaf_core::sync::auto::{run_if_due, AutoSync};
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::sync::schedule::{Event, Timing};
use eropaf_core::sync::transport::{PullPage, Transport};
use eropaf_core::{Error, Result};
use eropaf_tests::{fast_tempdir, Intercept, Intercepted, Team, TestRelay};

/// A network the test takes down: every pull (the first request of a sync that reaches the
/// relay after the roster) fails while it is down; counts the syncs that tried.
#[derive(Default)]
struct Network {
    down: AtomicBool,
    tries: AtomicUsize,
}

impl Intercept for &Network {
    fn roster(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
    ) -> Result<Vec<eropaf_core::team::roster::RosterEntry>> {
        self.tries.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(Error::Network("geen verbinding".into()));
        }
        inner.roster(s, t)
    }
    fn pull(
        &self,
        inner: &dyn Transport,
        s: &DeviceIdentity,
        t: &str,
        after: u64,
        limit: u32,
    ) -> Result<PullPage> {
        if self.down.load(Ordering::SeqCst) {
            return Err(Error::Network("geen verbinding".into()));
        }
        inner.pull(s, t, after, limit)
    }
}

const S: u64 = 1000;

#[test]
fn the_phone_syncs_after_typing_waits_while_offline_and_backs_off_from_a_failing_relay() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 1, fast_tempdir);
    let case = team.workers[0].new_case(&Resident::named("Aïsha Bouali"), None).unwrap();
    let phone = Mutex::new(team.workers.remove(0));
    let network = Network::default();
    let transport = Intercepted { inner: &http, hooks: &network };
    let auto = Mutex::new(AutoSync::new(Timing::default()));
    let now = Cell::new(0u64);
    let clock = || now.get();
    let tick = |at: u64| {
        now.set(at);
        run_if_due(&auto, &phone, &transport, &clock, &mut |_| {})
    };
    let office_sees = |team: &mut Team| -> usize {
        team.supervisor.sync(&http, &mut |_| {}).unwrap();
        team.supervisor.case(&case).map(|c| c.visits.len()).unwrap_or(0)
    };

    // The app starts: a first sync; the new case reaches the office.
    assert!(tick(0).unwrap().is_ok());
    assert!(tick(S).is_none(), "nothing more to do");

    // She records a visit and types its note: one sync, 5 s after the last keystroke.
    let visit = phone.lock().unwrap().record_visit(&case, &NewVisit::default()).unwrap();
    assert!(tick(10 * S).is_none(), "the change is noticed, not yet sent");
    for (n, at) in [(1, 11), (2, 12), (3, 13)] {
        phone.lock().unwrap().edit_visit_note(&case, &visit, &"Huur".repeat(n)).unwrap();
        assert!(tick(at * S).is_none(), "still typing");
    }
    assert_eq!(auto.lock().unwrap().next_check(13 * S), Some(18 * S));
    assert_eq!(office_sees(&mut team), 0, "not sent while she types");
    assert!(tick(18 * S).unwrap().is_ok());
    assert_eq!(office_sees(&mut team), 1, "5 s after she stopped, the office has it");
    assert!(!auto.lock().unwrap().state().unsent);

    // The phone reports it is offline: nothing is tried, however long she works.
    auto.lock().unwrap().event(Event::NetworkDown, 20 * S);
    network.down.store(true, Ordering::SeqCst);
    let tries = network.tries.load(Ordering::SeqCst);
    phone.lock().unwrap().record_visit(&case, &NewVisit::default()).unwrap();
    for at in (21..200).step_by(7) {
        assert!(tick(at * S).is_none(), "offline: no sync at {at} s");
    }
    assert_eq!(network.tries.load(Ordering::SeqCst), tries, "the relay was not asked");

    // Wi-Fi that does not reach the relay: tried at once, then after 10, 20, 40 s.
    auto.lock().unwrap().event(Event::NetworkUp, 200 * S);
    let mut at = 200 * S;
    for wait in [10, 20, 40] {
        assert!(tick(at).unwrap().is_err(), "the relay cannot be reached");
        assert!(tick(at + wait * S - 1).is_none(), "waits {wait} s");
        at += wait * S;
    }
    assert_eq!(auto.lock().unwrap().state().failures, 3);
    assert_eq!(office_sees(&mut team), 1, "the second visit waits on the phone");

    // The network is back: what waited leaves at the next look, and the failures are over.
    network.down.store(false, Ordering::SeqCst);
    auto.lock().unwrap().event(Event::NetworkDown, at);
    auto.lock().unwrap().event(Event::NetworkUp, at + S);
    assert!(tick(at + S).unwrap().is_ok());
    assert_eq!(office_sees(&mut team), 2, "the visit made offline reached the office");
    let state = auto.lock().unwrap().state();
    assert_eq!((state.failures, state.unsent), (0, false));
    assert_eq!(state.last_synced_at, Some(at + S));
}
