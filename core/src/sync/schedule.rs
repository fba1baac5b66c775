//! When to sync, decided in the core (issue 16): shortly after a local change (debounced, so a
//! worker typing a note causes one sync, not one a keystroke), as soon as the network comes
//! back, periodically while the app is in use, and at once when it goes to the background
//! with work unsent. After a failure it waits longer each time (or as long as the relay asked),
//! and never starts a sync while one runs. The shells only report events and the time; the
//! scheduler answers whether a sync is due and when to look again, so tests drive the clock.

use std::time::Duration;

/// The intervals a scheduler works with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Quiet time after the last local change before it is sent.
    pub debounce: Duration,
    /// Between syncs while the app is in use and nothing else asks for one.
    pub periodic: Duration,
    /// The first wait after a failed sync; doubled after each further failure.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            debounce: Duration::from_secs(5),
            periodic: Duration::from_secs(5 * 60),
            first_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(10 * 60),
        }
    }
}

/// What a shell (or the core itself) reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Something was written on this device that the team should get.
    LocalChange,
    NetworkUp,
    NetworkDown,
    /// The app came to the foreground (is in use).
    Foreground,
    /// The app went to the background: what is unsent should leave now, the app may be gone
    /// soon.
    Background,
}

/// How the last sync ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Synced,
    /// Failed; `retry_after` is the relay's hint, when it gave one.
    Failed {
        retry_after: Option<Duration>,
    },
}

/// What the scheduler knows, for the shell to show ("laatst gesynchroniseerd 10:42").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct State {
    pub online: bool,
    pub in_use: bool,
    pub syncing: bool,
    /// A local change waits to be sent.
    pub unsent: bool,
    /// Failures in a row since the last sync that succeeded.
    pub failures: u32,
    /// Milliseconds (on the scheduler's clock) of the last sync that succeeded.
    pub last_synced_at: Option<u64>,
}

/// The scheduler's decisions, on a clock of milliseconds the caller passes in.
#[derive(Clone, Debug)]
pub struct Scheduler {
    timing: Timing,
    state: State,
    /// When the last local change was made (for the debounce).
    changed_at: Option<u64>,
    /// A sync is wanted as soon as allowed (network back, background).
    wanted_now: bool,
    /// Not before this (after a failure).
    not_before: u64,
    /// When the last sync, successful or not, ended.
    ended_at: Option<u64>,
}

impl Scheduler {
    /// A scheduler for an app that starts in use and online, wanting a first sync.
    pub fn new(timing: Timing) -> Scheduler {
        Scheduler {
            timing,
            state: State { online: true, in_use: true, ..State::default() },
            changed_at: None,
            wanted_now: true,
            not_before: 0,
            ended_at: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn on(&mut self, event: Event, now: u64) {
        match event {
            Event::LocalChange => {
                self.state.unsent = true;
                self.changed_at = Some(now);
            }
            Event::NetworkUp => {
                if !self.state.online {
                    // A new network: the backoff of the old one says nothing about it.
                    self.not_before = 0;
                    self.wanted_now = true;
                }
                self.state.online = true;
            }
            Event::NetworkDown => self.state.online = false,
            Event::Foreground => {
                if !self.state.in_use {
                    self.wanted_now = true;
                }
                self.state.in_use = true;
            }
            Event::Background => {
                self.state.in_use = false;
                if self.state.unsent {
                    self.wanted_now = true;
                }
            }
        }
    }

    /// Whether a sync should start at `now`: online, none running, past any backoff, and
    /// something asks for one.
    pub fn due(&self, now: u64) -> bool {
        self.state.online
            && !self.state.syncing
            && now >= self.not_before
            && self.wanted_at().is_some_and(|at| now >= at)
    }

    /// The sync the caller was told is due has started.
    pub fn started(&mut self) {
        self.state.syncing = true;
        self.wanted_now = false;
    }

    /// The sync ended at `now`. `changed_during` says a local change was made while it ran
    /// (it may not have been sent).
    pub fn finished(&mut self, outcome: Outcome, now: u64, changed_during: bool) {
        self.state.syncing = false;
        self.ended_at = Some(now);
        match outcome {
            Outcome::Synced => {
                self.state.failures = 0;
                self.state.last_synced_at = Some(now);
                self.not_before = 0;
                if !changed_during {
                    self.state.unsent = false;
                    self.changed_at = None;
                }
            }
            Outcome::Failed { retry_after } => {
                self.state.failures = self.state.failures.saturating_add(1);
                let doubling = 2u32.saturating_pow(self.state.failures - 1);
                let backoff =
                    self.timing.first_backoff.saturating_mul(doubling).min(self.timing.max_backoff);
                let wait = retry_after.map_or(backoff, |hint| hint.max(backoff));
                self.not_before = now.saturating_add(millis(wait));
                // Whatever asked for this sync still asks.
                self.wanted_now = true;
            }
        }
    }

    /// When the caller should look again (`due`) if nothing is reported before: the earliest
    /// moment a sync can become due; `None` while offline or syncing (an event or the end of
    /// the sync comes first).
    pub fn next_check(&self, now: u64) -> Option<u64> {
        if !self.state.online || self.state.syncing {
            return None;
        }
        Some(self.wanted_at()?.max(self.not_before).max(now))
    }

    /// When a sync is wanted, whatever stops it: now, after the debounce of a change, or the
    /// next periodic one while the app is in use.
    fn wanted_at(&self) -> Option<u64> {
        let mut at: Option<u64> = None;
        let mut want = |t: u64| at = Some(at.map_or(t, |a| a.min(t)));
        if self.wanted_now {
            want(0);
        }
        if let Some(changed) = self.changed_at.filter(|_| self.state.unsent) {
            want(changed.saturating_add(millis(self.timing.debounce)));
        }
        if self.state.in_use {
            let last = self.ended_at.unwrap_or(0);
            want(last.saturating_add(millis(self.timing.periodic)));
        }
        at
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1000;

    /// A scheduler past its first sync at time 0.
    fn settled() -> Scheduler {
        let mut s = Scheduler::new(Timing::default());
        assert!(s.due(0), "a first sync when the app starts");
        s.started();
        s.finished(Outcome::Synced, 0, false);
        s
    }

    #[test]
    fn typing_causes_one_sync_after_the_worker_stops() {
        let mut s = settled();
        for t in [10, 11, 12, 13] {
            s.on(Event::LocalChange, t * S);
            assert!(!s.due(t * S + 4 * S), "still typing");
        }
        assert_eq!(s.next_check(13 * S), Some(18 * S));
        assert!(s.due(18 * S), "5 s after the last keystroke");
        s.started();
        assert!(!s.due(19 * S), "never two at once");
        s.on(Event::LocalChange, 19 * S);
        s.finished(Outcome::Synced, 20 * S, true);
        assert!(s.state().unsent, "a change made during the sync is still to send");
        assert!(s.due(24 * S));
    }

    #[test]
    fn offline_nothing_is_due_and_the_network_coming_back_syncs_at_once() {
        let mut s = settled();
        s.on(Event::NetworkDown, S);
        s.on(Event::LocalChange, 2 * S);
        assert!(!s.due(60 * S) && s.next_check(60 * S).is_none(), "no network, no sync");
        s.on(Event::NetworkUp, 61 * S);
        assert!(s.due(61 * S), "at once when the network is back");
    }

    #[test]
    fn failures_wait_longer_each_time_and_the_relays_hint_is_kept() {
        let mut s = settled();
        s.on(Event::LocalChange, 0);
        let mut at = 5 * S;
        for expected in [10, 20, 40, 80, 160, 320, 600, 600] {
            assert!(s.due(at));
            s.started();
            s.finished(Outcome::Failed { retry_after: None }, at, false);
            assert!(!s.due(at + expected * S - 1));
            assert_eq!(s.next_check(at), Some(at + expected * S), "backoff {expected} s");
            at += expected * S;
        }
        s.started();
        s.finished(Outcome::Failed { retry_after: Some(Duration::from_secs(3600)) }, at, false);
        assert_eq!(s.next_check(at), Some(at + 3600 * S), "the relay asked for an hour");
        s.on(Event::NetworkDown, at + S);
        s.on(Event::NetworkUp, at + 2 * S);
        assert!(s.due(at + 2 * S), "another network: tried at once");
        s.started();
        s.finished(Outcome::Synced, at + 3 * S, false);
        assert_eq!(s.state().failures, 0);
        assert!(!s.state().unsent);
    }

    #[test]
    fn in_use_it_syncs_every_five_minutes_and_in_the_background_only_to_send() {
        let mut s = settled();
        assert_eq!(s.next_check(S), Some(300 * S));
        assert!(s.due(300 * S));
        s.on(Event::Background, 10 * S);
        assert_eq!(s.next_check(10 * S), None, "nothing to send, not in use: no sync");
        s.on(Event::LocalChange, 20 * S);
        s.on(Event::Background, 21 * S);
        assert!(s.due(21 * S), "going to the background with work unsent sends it now");
        s.started();
        s.finished(Outcome::Synced, 22 * S, false);
        assert_eq!(s.next_check(23 * S), None);
        s.on(Event::Foreground, 400 * S);
        assert!(s.due(400 * S), "back in use: what the team did meanwhile comes in");
    }
}
