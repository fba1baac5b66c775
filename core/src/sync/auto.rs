//! Sync when connected (issue 16): the scheduler's decisions (`schedule`) put to work on a
//! device shared with the worker (`shared`). A caller (the FFI's background thread, a test
//! with its own clock) reports events and calls `run_if_due` when the scheduler says to look;
//! local changes are noticed from the store's count of commits that queued something for the
//! team, so no write call has to remember to report itself.

use std::sync::Mutex;

use crate::sync::report::{SyncProgress, SyncReport};
use crate::sync::schedule::{Event, Outcome, Scheduler, State, Timing};
use crate::sync::transport::Transport;
use crate::{Eropaf, Error, Result};

/// The scheduler, and how many outgoing commits it has seen.
#[derive(Debug)]
pub struct AutoSync {
    scheduler: Scheduler,
    seen_commits: u64,
}

impl AutoSync {
    pub fn new(timing: Timing) -> AutoSync {
        AutoSync { scheduler: Scheduler::new(timing), seen_commits: 0 }
    }

    pub fn event(&mut self, event: Event, now: u64) {
        self.scheduler.on(event, now);
    }

    pub fn state(&self) -> State {
        self.scheduler.state()
    }

    /// When to call `run_if_due` again if nothing is reported before.
    pub fn next_check(&self, now: u64) -> Option<u64> {
        self.scheduler.next_check(now)
    }

    /// A change the team should get was committed since the last look.
    fn notice(&mut self, commits: u64, now: u64) {
        if commits != self.seen_commits {
            self.seen_commits = commits;
            self.scheduler.on(Event::LocalChange, now);
        }
    }
}

/// Runs a sync of the device behind `shared` when one is due at `clock()`, letting go of the
/// device while the relay answers; `None` when none was due. Never two at once: a call while
/// one runs returns `None`.
pub fn run_if_due(
    auto: &Mutex<AutoSync>,
    shared: &Mutex<Eropaf>,
    transport: &dyn Transport,
    clock: &dyn Fn() -> u64,
    progress: &mut dyn FnMut(SyncProgress),
) -> Option<Result<SyncReport>> {
    let commits = match shared.lock() {
        Ok(core) => core.outgoing_commits(),
        Err(_) => return Some(Err(poisoned())),
    };
    {
        let Ok(mut auto) = auto.lock() else { return Some(Err(poisoned())) };
        let now = clock();
        auto.notice(commits, now);
        if !auto.scheduler.due(now) {
            return None;
        }
        auto.scheduler.started();
    }
    let result = Eropaf::sync_sharing(shared, transport, progress);
    // What the sync queued itself (grants, snapshots) it sent; what the worker wrote
    // meanwhile may not have left: whatever still waits asks for the next sync.
    let after = shared.lock().map_err(|_| poisoned()).and_then(|core| {
        let unsent = core.unsent()?;
        Ok((unsent.changes + unsent.files > 0, core.outgoing_commits()))
    });
    let Ok(mut auto) = auto.lock() else { return Some(Err(poisoned())) };
    let (still_unsent, commits) = after.unwrap_or((true, auto.seen_commits));
    auto.seen_commits = commits;
    let outcome = match &result {
        Ok(_) => Outcome::Synced,
        Err(_) => Outcome::Failed { retry_after: None },
    };
    auto.scheduler.finished(outcome, clock(), still_unsent);
    Some(result)
}

fn poisoned() -> Error {
    Error::Storage("a call on this device failed halfway earlier".into())
}
