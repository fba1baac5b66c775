//! eropaf-relay: the office relay. A blind, append-only store of signed envelopes per team,
//! with the signed roster, key packages and join requests; it checks signatures against the
//! roster and never holds a key or plaintext. Run it with `serve` on a `Storage`.

pub mod api;
pub mod auth;
pub mod error;
pub mod log;
pub mod signing;
mod spawn;
pub mod storage;

use std::future::Future;
use std::sync::Arc;

pub use api::{router, RelayState};
pub use error::{RelayError, Result};
pub use signing::{canonical_request, sign_request, verify_join};
pub use spawn::{spawn, Spawned};
pub use storage::{PostgresStorage, SqliteStorage, Storage};

/// A new one-time registration code for a team, kept at the relay by its hash; the text to
/// hand to the supervisor who founds the team.
pub fn issue_registration_code(storage: &dyn Storage) -> Result<String> {
    let mut bytes = [0u8; 16];
    eropaf_protocol::crypto::fill_random(&mut bytes).map_err(RelayError::storage)?;
    let code = hex::encode(bytes);
    storage.add_registration_code(
        &eropaf_protocol::crypto::sha256(code.as_bytes()),
        api::now_millis(),
    )?;
    Ok(code)
}

/// Serves the relay on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, storage: Arc<dyn Storage>) -> Result<()> {
    serve_with_shutdown(listener, storage, std::future::pending()).await
}

/// Serves the relay until `shutdown` completes, then finishes the requests in flight.
pub async fn serve_with_shutdown(
    listener: tokio::net::TcpListener,
    storage: Arc<dyn Storage>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let app = router(RelayState::new(storage));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| RelayError::Server(format!("the relay's listener failed: {e}")))
}
