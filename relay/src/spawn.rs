//! The relay in the background: on its own thread and tokio runtime, on a free loopback port,
//! until the handle is dropped. What the demo and the multi-device tests run against; the
//! office runs `serve` in the foreground instead.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{RelayError, Result};
use crate::storage::SqliteStorage;

/// A running background relay on the SQLite database `db`. Dropping it stops the relay after
/// the requests in flight.
pub struct Spawned {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub db: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Starts the relay on `db` (created if missing) on a free loopback port.
pub fn spawn(db: &Path) -> Result<Spawned> {
    let storage = SqliteStorage::open(db)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| RelayError::Server(format!("no runtime for the relay: {e}")))?;
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        runtime.block_on(async move {
            let bound = tokio::net::TcpListener::bind("127.0.0.1:0").await;
            let listener = match bound.and_then(|l| l.local_addr().map(|address| (l, address))) {
                Ok((listener, address)) => {
                    let _ = address_tx.send(Ok(address));
                    listener
                }
                Err(e) => {
                    let _ = address_tx.send(Err(e.to_string()));
                    return;
                }
            };
            let shutdown = async move {
                let _ = shutdown_rx.await;
            };
            if let Err(e) = crate::serve_with_shutdown(listener, Arc::new(storage), shutdown).await
            {
                eprintln!("eropaf-relay: the background relay stopped: {e}");
            }
        });
    });
    let address = address_rx
        .recv()
        .map_err(|_| RelayError::Server("the relay's thread ended before it listened".into()))?
        .map_err(|e| RelayError::Server(format!("the relay cannot listen on loopback: {e}")))?;
    Ok(Spawned {
        url: format!("http://{address}"),
        db: db.to_path_buf(),
        shutdown: Some(shutdown_tx),
        thread: Some(thread),
    })
}

impl Spawned {
    /// A one-time code for registering a team here, as the relay's operator issues one.
    pub fn registration_code(&self) -> Result<String> {
        crate::issue_registration_code(&SqliteStorage::open(&self.db)?)
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
