//! Where calls cross from the app into Rust: panics are caught and become
//! `EropafError::Internal`, a poisoned lock becomes an error instead of a second panic, and
//! network work runs on a blocking thread of one tokio runtime, never on the caller's thread
//! (the core's HTTP client is blocking and must not run on an async worker).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;

use crate::error::{EropafError, Result};
use crate::session::Session;

/// Runs `work`, turning a panic into an error.
pub(crate) fn guard<T>(work: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(work))
        .unwrap_or_else(|panic| Err(EropafError::from_panic(&*panic)))
}

/// Runs a callback into the app whose failure must not stop the work it reports on (a
/// progress bar or a refresh); a throwing callback surfaces as a panic in the bindings.
pub(crate) fn notify(callback: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(callback));
}

/// A lock held while a panic unwound may guard half-updated memory: report it rather than
/// go on. Reopening the store starts from what is on disk, which is always whole.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    mutex
        .lock()
        .map_err(|_| EropafError::internal("een eerdere fout liet de opslag half bijgewerkt"))
}

fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    // Built once, even when the first calls race: a second runtime dropped inside an async
    // caller would panic. A failure to build is kept, and reported to every caller.
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            // One worker is plenty: the runtime only hands work to its blocking pool.
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("eropaf")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| EropafError::internal(format!("tokio runtime: {e}")))
}

/// Runs blocking `work` on the runtime's blocking pool and awaits it, so an async caller
/// (a Kotlin coroutine, a Swift task) never waits on a thread of its own.
pub(crate) async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let handle = runtime()?.spawn_blocking(move || guard(work));
    handle.await.map_err(|e| EropafError::internal(format!("achtergrondtaak: {e}")))?
}

/// Watches an unlocked store and drops its core when the idle time passes, so the store key
/// leaves memory even when the app makes no further call. Ends with the session. Calls check
/// the idle time themselves too: a phone asleep stops this timer, not the wall clock.
pub(crate) fn spawn_idle_watch(session: Weak<Session>) {
    // Without a runtime the calls' own check still locks the store, just not in between.
    let Ok(runtime) = runtime() else { return };
    runtime.spawn(async move {
        loop {
            let wait = match session.upgrade() {
                None => return,
                // Locked: look again later in case the app unlocked.
                Some(session) => session.check_idle().unwrap_or(IDLE_WATCH_MAX),
            };
            // At most half a minute: a policy that shortened the idle time, or an unlock
            // after a lock, shows at the next look.
            tokio::time::sleep(wait.clamp(IDLE_WATCH_MIN, IDLE_WATCH_MAX)).await;
        }
    });
}

const IDLE_WATCH_MAX: Duration = Duration::from_secs(30);
const IDLE_WATCH_MIN: Duration = Duration::from_millis(500);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let result: Result<()> = guard(|| panic!("kapot"));
        match result {
            Err(EropafError::Internal { detail, message_nl }) => {
                assert_eq!(detail, "kapot");
                assert!(message_nl.contains("open hem opnieuw"));
            }
            other => panic!("expected Internal, got {other:?}"),
        }
    }

    #[test]
    fn blocking_work_runs_off_the_calling_thread() {
        let caller = std::thread::current().id();
        let executor = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let worker = executor.block_on(off_thread(|| Ok(std::thread::current().id()))).unwrap();
        assert_ne!(worker, caller);
        let panicked: Result<()> = executor.block_on(off_thread(|| panic!("in de achtergrond")));
        assert!(matches!(panicked, Err(EropafError::Internal { .. })));
    }
}
