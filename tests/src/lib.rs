//! Shared fixtures for the scenario tests: devices on real stores in temporary directories,
//! and a scan of every file a store leaves on disk.

use std::path::Path;

use eropaf_core::crypto::SecretKey;
use eropaf_core::{Eropaf, Unlock};

/// The store key travels to child processes in this variable, as hex.
pub const KEY_ENV: &str = "EROPAF_TEST_STORE_KEY";

pub fn new_key() -> SecretKey {
    SecretKey::generate().expect("randomness")
}

pub fn key_from_hex(hex_key: &str) -> SecretKey {
    let bytes: Vec<u8> = (0..hex_key.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex_key[i..i + 2], 16).expect("hex key"))
        .collect();
    SecretKey::from_slice(&bytes).expect("32-byte key")
}

pub fn key_to_hex(key: &SecretKey) -> String {
    key.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn create_device(dir: &Path, key: &SecretKey, name: &str) -> Eropaf {
    Eropaf::create(dir, Unlock::Key(key.clone()), name).expect("create device store")
}

pub fn open_device(dir: &Path, key: &SecretKey) -> Eropaf {
    Eropaf::open(dir, Unlock::Key(key.clone())).expect("open device store")
}

/// The real relay on a loopback port, backed by SQLite in `dir`, running on its own thread
/// until the value is dropped.
pub struct TestRelay {
    pub url: String,
    pub db: std::path::PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestRelay {
    pub fn start(dir: &Path) -> TestRelay {
        let db = dir.join("relay.db");
        let storage = eropaf_relay::SqliteStorage::open(&db).expect("relay database");
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
                address_tx.send(listener.local_addr().expect("address")).expect("report address");
                let shutdown = async move {
                    let _ = shutdown_rx.await;
                };
                eropaf_relay::serve_with_shutdown(listener, std::sync::Arc::new(storage), shutdown)
                    .await
                    .expect("relay runs");
            });
        });
        let address = address_rx.recv().expect("relay started");
        TestRelay {
            url: format!("http://{address}"),
            db,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Every file under `dir` (recursively) that contains `marker`.
pub fn files_containing(dir: &Path, marker: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read dir").flatten() {
                pending.push(entry.path());
            }
        } else if let Ok(bytes) = std::fs::read(&path) {
            if bytes.windows(marker.len()).any(|w| w == marker) {
                found.push(path.display().to_string());
            }
        }
    }
    found
}
