//! The unlocked store and when it locks again: the app's `Eropaf` holds the core (and with it
//! the store key) only while in use. After the team's idle time, or when the app says so, the
//! core is dropped and every call answers `Locked` until the app unlocks through its key
//! store again; a sync in flight keeps its own handle until it ends.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

use eropaf_core::Eropaf as Core;

use crate::boundary::lock;
use crate::error::{EropafError, Result};

/// A moment on both clocks. Phones stop the monotonic clock while asleep (`Instant` is
/// CLOCK_MONOTONIC on Android, mach_absolute_time on iOS), and a user can set the wall clock
/// back: the store locks when either clock says the idle time passed, or when the wall clock
/// went backwards further than a clock correction would.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stamp {
    monotonic: Instant,
    wall: SystemTime,
}

/// How far back the wall clock may step without locking: network time corrections.
const WALL_CLOCK_SLACK: Duration = Duration::from_secs(60);

impl Stamp {
    pub(crate) fn now() -> Stamp {
        Stamp { monotonic: Instant::now(), wall: SystemTime::now() }
    }

    /// Whether `idle` has passed between `self` and `later`.
    fn idle_for(&self, later: &Stamp, idle: Duration) -> bool {
        let monotonic = later.monotonic.saturating_duration_since(self.monotonic);
        let wall = match later.wall.duration_since(self.wall) {
            Ok(forward) => forward,
            Err(backwards) if backwards.duration() > WALL_CLOCK_SLACK => return true,
            Err(_) => Duration::ZERO,
        };
        monotonic >= idle || wall >= idle
    }

    #[cfg(test)]
    fn plus(&self, monotonic: Duration, wall: Duration) -> Stamp {
        Stamp { monotonic: self.monotonic + monotonic, wall: self.wall + wall }
    }
}

pub(crate) struct Session {
    dir: PathBuf,
    state: Mutex<State>,
}

struct State {
    /// `None` while locked.
    core: Option<Arc<Mutex<Core>>>,
    /// The core last handed out, kept weakly: while a sync still holds it, unlocking waits
    /// for it rather than open the store twice.
    previous: Weak<Mutex<Core>>,
    last_used: Stamp,
    idle_after: Duration,
    /// Whether the app itself locked (rather than the idle time): for the message.
    locked_by_app: bool,
}

impl Session {
    pub(crate) fn new(dir: PathBuf, core: Core) -> Arc<Session> {
        let idle_after = idle_after(&core);
        let core = Arc::new(Mutex::new(core));
        Arc::new(Session {
            dir,
            state: Mutex::new(State {
                previous: Arc::downgrade(&core),
                core: Some(core),
                last_used: Stamp::now(),
                idle_after,
                locked_by_app: false,
            }),
        })
    }

    pub(crate) fn dir(&self) -> &PathBuf {
        &self.dir
    }

    /// The core for one call, or `Locked`. A call counts as use and restarts the idle time.
    pub(crate) fn core(&self) -> Result<Arc<Mutex<Core>>> {
        self.core_at(Stamp::now())
    }

    /// The core for work nobody is waiting for (the background syncer): `Locked` when the
    /// idle time passed, and never counted as use, so syncing keeps no phone unlocked.
    pub(crate) fn core_in_background(&self) -> Result<Arc<Mutex<Core>>> {
        let mut state = lock(&self.state)?;
        state.lock_if_idle(&Stamp::now());
        state.core.clone().ok_or_else(|| state.locked_error())
    }

    fn core_at(&self, now: Stamp) -> Result<Arc<Mutex<Core>>> {
        let mut state = lock(&self.state)?;
        state.lock_if_idle(&now);
        let core = state.core.clone().ok_or_else(|| state.locked_error())?;
        state.last_used = now;
        Ok(core)
    }

    /// Drops the core when the idle time passed; returns how long until it may pass, or none
    /// when locked. The idle watch calls this.
    pub(crate) fn check_idle(&self) -> Option<Duration> {
        let now = Stamp::now();
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.lock_if_idle(&now);
        state.core.as_ref()?;
        let idle_for = now.monotonic.saturating_duration_since(state.last_used.monotonic);
        Some(state.idle_after.saturating_sub(idle_for))
    }

    /// The app locks now: when it goes to the background, or the worker taps "vergrendel".
    pub(crate) fn lock(&self) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.core.take().is_some() {
            state.locked_by_app = true;
        }
    }

    pub(crate) fn is_locked(&self) -> bool {
        self.check_idle().is_none()
    }

    /// The core a sync still holds after the store locked, if any: unlocking waits until it
    /// is done so the store is never open twice.
    pub(crate) fn still_in_use(&self) -> Option<Arc<Mutex<Core>>> {
        let state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.core.is_some() {
            return None;
        }
        state.previous.upgrade()
    }

    /// Installs a freshly opened core; the caller checked it is this store's.
    pub(crate) fn unlocked(&self, core: Core) {
        let idle_after = idle_after(&core);
        let core = Arc::new(Mutex::new(core));
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.previous = Arc::downgrade(&core);
        state.core = Some(core);
        state.last_used = Stamp::now();
        state.idle_after = idle_after;
        state.locked_by_app = false;
    }

    /// Reads the idle time again (a sync may have brought a new team policy).
    pub(crate) fn refresh_idle_after(&self, core: &Core) {
        let idle_after = idle_after(core);
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.idle_after = idle_after;
    }

    pub(crate) fn idle_after(&self) -> Duration {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).idle_after
    }
}

impl State {
    fn lock_if_idle(&mut self, now: &Stamp) {
        if self.core.is_some() && self.last_used.idle_for(now, self.idle_after) {
            self.core = None;
            self.locked_by_app = false;
        }
    }

    fn locked_error(&self) -> EropafError {
        let message_nl = if self.locked_by_app {
            "Eropaf is vergrendeld. Ontgrendel om verder te gaan."
        } else {
            "Eropaf is vergrendeld na een tijd zonder gebruik. Ontgrendel om verder te gaan."
        };
        EropafError::Locked { message_nl: message_nl.into() }
    }
}

/// The team's idle time; a store whose policy cannot be read locks soonest rather than never.
fn idle_after(core: &Core) -> Duration {
    core.idle_lock_after().unwrap_or(Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn session() -> (tempfile::TempDir, Arc<Session>) {
        let dir = tempfile::tempdir().unwrap();
        let key = eropaf_core::crypto::SecretKey::generate().unwrap();
        let core = Core::create(dir.path(), eropaf_core::Unlock::Key(key), "Test").unwrap();
        let session = Session::new(dir.path().to_path_buf(), core);
        (dir, session)
    }

    fn is_locked(result: Result<Arc<Mutex<Core>>>) -> bool {
        matches!(result, Err(EropafError::Locked { .. }))
    }

    #[test]
    fn use_restarts_the_idle_time_and_five_idle_minutes_lock() {
        let (_dir, session) = session();
        assert_eq!(session.idle_after(), 5 * MINUTE);
        let start = lock(&session.state).unwrap().last_used;
        let four = start.plus(4 * MINUTE, 4 * MINUTE);
        assert!(session.core_at(four).is_ok());
        let eight = start.plus(8 * MINUTE, 8 * MINUTE);
        assert!(session.core_at(eight).is_ok(), "four minutes since the last call");
        let thirteen = start.plus(13 * MINUTE, 13 * MINUTE);
        assert!(is_locked(session.core_at(thirteen)));
        assert!(is_locked(session.core_at(start)), "locked stays locked");
        assert!(session.still_in_use().is_none(), "nothing holds the dropped core");
    }

    #[test]
    fn a_phone_asleep_or_a_clock_set_back_locks_too() {
        let (_dir, session) = session();
        let start = lock(&session.state).unwrap().last_used;
        // Asleep for an hour: the monotonic clock stood still, the wall clock did not.
        assert!(is_locked(session.core_at(start.plus(Duration::ZERO, 60 * MINUTE))));

        let (_dir, session) = session_with_core_at(start);
        let back = Stamp { monotonic: start.monotonic, wall: start.wall - 2 * MINUTE };
        assert!(is_locked(session.core_at(back)), "the wall clock went back two minutes");

        let (_dir, session) = session_with_core_at(start);
        let corrected =
            Stamp { monotonic: start.monotonic, wall: start.wall - Duration::from_secs(5) };
        assert!(session.core_at(corrected).is_ok(), "a time correction of seconds is not idle");
    }

    fn session_with_core_at(stamp: Stamp) -> (tempfile::TempDir, Arc<Session>) {
        let (dir, session) = session();
        lock(&session.state).unwrap().last_used = stamp;
        (dir, session)
    }

    #[test]
    fn the_idle_watch_drops_the_store_key_without_any_call() {
        let (_dir, session) = session();
        lock(&session.state).unwrap().idle_after = Duration::from_millis(300);
        crate::boundary::spawn_idle_watch(Arc::downgrade(&session));
        std::thread::sleep(Duration::from_millis(1500));
        assert!(lock(&session.state).unwrap().core.is_none(), "the core was dropped");
        assert!(session.still_in_use().is_none(), "and nothing else holds it");
    }

    #[test]
    fn a_core_in_use_outlives_the_lock_and_then_goes() {
        let (_dir, session) = session();
        let held = session.core().unwrap();
        session.lock();
        assert!(is_locked(session.core()));
        match session.core() {
            Err(EropafError::Locked { message_nl }) => assert!(message_nl.contains("vergrendeld")),
            other => panic!("expected Locked, got {:?}", other.map(|_| ())),
        }
        assert!(session.still_in_use().is_some(), "the sync's handle keeps the store open");
        drop(held);
        assert!(session.still_in_use().is_none(), "its end drops the store key");
    }
}
