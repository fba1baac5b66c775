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
