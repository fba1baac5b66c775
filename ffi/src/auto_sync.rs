//! Sync when connected, for the apps: a background thread that asks the core's scheduler
//! (`eropaf_core::sync::auto`) when to sync and runs the sync on the shared core, so the
//! worker's calls go on meanwhile. The shell reports only the network and whether the app is
//! in use, and shows the state it is told ("laatst gesynchroniseerd 10:42", "3 wijzigingen
//! wachten op verbinding").

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

use eropaf_core::sync::auto::{run_if_due, AutoSync};
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::sync::schedule::{Event, State, Timing};

use crate::boundary::notify;
use crate::session::Session;

/// The sync state for the app's status line.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SyncState {
    pub online: bool,
    pub syncing: bool,
    /// Changes and files waiting on this phone for a connection.
    pub unsent_changes: u64,
    pub unsent_files: u64,
    /// Syncs that failed in a row (0 after one that succeeded).
    pub failures: u32,
    pub last_synced_at: Option<SystemTime>,
    /// Why the last sync failed, in Dutch, until one succeeds.
    pub last_error: Option<String>,
}

/// Told the sync state whenever it changes: a sync started or ended, the network came or went,
/// work began or stopped waiting.
#[uniffi::export(with_foreign)]
pub trait SyncStateObserver: Send + Sync {
    fn on_state(&self, state: SyncState);
}

/// The scheduler's intervals, in milliseconds; `None` fields take the defaults (5 s after
/// the last change, every 5 minutes while in use, backoff from 10 s to 10 minutes).
#[derive(Clone, Debug, Default, PartialEq, Eq, uniffi::Record)]
pub struct SyncTiming {
    pub debounce_ms: Option<u64>,
    pub periodic_ms: Option<u64>,
    pub first_backoff_ms: Option<u64>,
    pub max_backoff_ms: Option<u64>,
}

impl From<SyncTiming> for Timing {
    fn from(t: SyncTiming) -> Timing {
        let d = Timing::default();
        let ms = |v: Option<u64>, default: Duration| v.map_or(default, Duration::from_millis);
        Timing {
            debounce: ms(t.debounce_ms, d.debounce),
            periodic: ms(t.periodic_ms, d.periodic),
            first_backoff: ms(t.first_backoff_ms, d.first_backoff),
            max_backoff: ms(t.max_backoff_ms, d.max_backoff),
        }
    }
}

/// Told which cases a sync changed (the app's change observer).
pub(crate) type OnChanged = Box<dyn Fn(&[String]) + Send + Sync>;

/// The background syncer of one app: its scheduler and how to wake its thread.
pub(crate) struct Runner {
    auto: Mutex<AutoSync>,
    started: Instant,
    /// The wall-clock time at `started`, taken once so a state read twice reads the same.
    started_wall: SystemTime,
    /// Set when something happened the thread should look at (an event, a call).
    woken: Mutex<bool>,
    wake: Condvar,
    stop: AtomicBool,
    last_error: Mutex<Option<String>>,
    /// What the observer was last told, so it is told again only what changed.
    told: Mutex<Told>,
}

/// What a told state was made from, cheap to read again, and when it was told.
#[derive(Default)]
struct Told {
    /// The scheduler's state and the store's count of commits that queued work for the team.
    from: Option<(State, u64)>,
    at: Option<Instant>,
    /// Local work changed within a second of the last telling: tell it when that second is up.
    due: bool,
}

/// How often at most the count of waiting work is told while the worker types: counting it
/// reads the store, and every keystroke queues a change.
const LOCAL_CHANGE_TELL_INTERVAL: Duration = Duration::from_secs(1);

impl Runner {
    pub(crate) fn start(
        session: Weak<Session>,
        timing: Timing,
        observer: Option<Arc<dyn SyncStateObserver>>,
        on_changed: OnChanged,
    ) -> Arc<Runner> {
        let runner = Arc::new(Runner {
            auto: Mutex::new(AutoSync::new(timing)),
            started: Instant::now(),
            started_wall: SystemTime::now(),
            woken: Mutex::new(true),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            last_error: Mutex::new(None),
            told: Mutex::new(Told::default()),
        });
        let thread_runner = Arc::clone(&runner);
        std::thread::spawn(move || thread_runner.run(&session, observer, &*on_changed));
        runner
    }

    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Something happened: the thread looks again.
    pub(crate) fn wake(&self) {
        if let Ok(mut woken) = self.woken.lock() {
            *woken = true;
            self.wake.notify_all();
        }
    }

    pub(crate) fn event(&self, event: Event) {
        if let Ok(mut auto) = self.auto.lock() {
            auto.event(event, self.now());
        }
        self.wake();
    }

    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake();
    }

    fn run(
        &self,
        session: &Weak<Session>,
        observer: Option<Arc<dyn SyncStateObserver>>,
        on_changed: &dyn Fn(&[String]),
    ) {
        let mut relay: Option<(String, HttpTransport)> = None;
        while !self.stop.load(Ordering::SeqCst) {
            let Some(session) = session.upgrade() else { return };
            // A locked store (the app idle, in the background) is not synced: it waits for
            // the next call, which unlocks it.
            if let Ok(core) = session.core_in_background() {
                let url = core.lock().ok().and_then(|c| c.relay_url().ok().flatten());
                if let Some(url) = url {
                    if relay.as_ref().is_none_or(|(known, _)| *known != url) {
                        relay = HttpTransport::new(&url).ok().map(|t| (url, t));
                    }
                }
                if let Some((_, transport)) = &relay {
                    self.sync_if_due(&core, transport, observer.as_deref(), on_changed);
                }
                // The network going, or work waiting, shows without a sync (none runs
                // offline, and none outside a team).
                self.tell_if_changed(&core, observer.as_deref());
            }
            drop(session);
            self.sleep_until_next_check();
        }
    }

    fn sync_if_due(
        &self,
        core: &Mutex<eropaf_core::Eropaf>,
        transport: &HttpTransport,
        observer: Option<&dyn SyncStateObserver>,
        on_changed: &dyn Fn(&[String]),
    ) {
        let clock = || self.now();
        let mut told_start = false;
        let ran = run_if_due(&self.auto, core, transport, &clock, &mut |_| {
            if !told_start {
                told_start = true;
                self.tell(core, observer);
            }
        });
        let Some(result) = ran else { return };
        if let Ok(mut last) = self.last_error.lock() {
            *last = result.as_ref().err().map(eropaf_core::Error::message_nl);
        }
        if let Ok(report) = &result {
            on_changed(&report.changed_cases);
        }
        self.tell(core, observer);
    }

    fn tell(&self, core: &Mutex<eropaf_core::Eropaf>, observer: Option<&dyn SyncStateObserver>) {
        let Some(observer) = observer else { return };
        let from = self.told_from(core);
        let state = self.state(core);
        if let Ok(mut told) = self.told.lock() {
            *told = Told { from: Some(from), at: Some(Instant::now()), due: false };
        }
        notify(|| observer.on_state(state));
    }

    /// Tells the observer when what it would be told changed: at once for the network, a sync
    /// or a failure; at most once a second for work queued by the worker's own writes.
    fn tell_if_changed(
        &self,
        core: &Mutex<eropaf_core::Eropaf>,
        observer: Option<&dyn SyncStateObserver>,
    ) {
        let from = self.told_from(core);
        let Ok(mut told) = self.told.lock() else { return };
        let Some((scheduler, _)) = told.from else {
            drop(told);
            return self.tell(core, observer);
        };
        if told.from == Some(from) {
            return;
        }
        let only_local = scheduler == from.0;
        if only_local && told.at.is_some_and(|at| at.elapsed() < LOCAL_CHANGE_TELL_INTERVAL) {
            told.due = true;
            return;
        }
        drop(told);
        self.tell(core, observer);
    }

    fn told_from(&self, core: &Mutex<eropaf_core::Eropaf>) -> (State, u64) {
        let scheduler = self.auto.lock().map(|a| a.state()).unwrap_or_default();
        let commits = core.lock().map(|c| c.outgoing_commits()).unwrap_or_default();
        (scheduler, commits)
    }

    fn state(&self, core: &Mutex<eropaf_core::Eropaf>) -> SyncState {
        let state = self.auto.lock().map(|a| a.state()).unwrap_or_default();
        let unsent = core.lock().ok().and_then(|c| c.unsent().ok()).unwrap_or_default();
        let last_error = self.last_error.lock().ok().and_then(|e| e.clone());
        let started = self.started_wall;
        SyncState {
            online: state.online,
            syncing: state.syncing,
            unsent_changes: unsent.changes,
            unsent_files: unsent.files,
            failures: state.failures,
            last_synced_at: state.last_synced_at.map(|ms| started + Duration::from_millis(ms)),
            last_error,
        }
    }

    /// Waits until the scheduler's next check, or until woken; at most a minute, so a store
    /// unlocked again is noticed even without a call.
    fn sleep_until_next_check(&self) {
        let now = self.now();
        let next = self.auto.lock().ok().and_then(|a| a.next_check(now));
        let mut wait = next.map_or(60_000, |at| at.saturating_sub(now)).min(60_000);
        if self.told.lock().is_ok_and(|told| told.due) {
            wait = wait.min(u64::try_from(LOCAL_CHANGE_TELL_INTERVAL.as_millis()).unwrap_or(1000));
        }
        let Ok(woken) = self.woken.lock() else { return };
        let timeout = Duration::from_millis(wait);
        if let Ok((mut woken, _)) = self.wake.wait_timeout_while(woken, timeout, |w| !*w) {
            *woken = false;
        }
    }
}
