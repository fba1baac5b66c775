//! Eropaf's protocol, sans I/O: what devices and the relay say to each other and how they
//! check it. No automerge, no SQLite, no HTTP client, no clock or randomness beyond what
//! signing and sealing need; the core (on phones) and the relay both stand on it.
//!
//! - `attachment`: photos and scans sealed in chunks under a key derived from the case key.
//! - `crypto`: keys, AES-256-GCM sealing, the device identity (Ed25519), HPKE to a device,
//!   puncturable keys.
//! - `team`: the roster chain, epoch keys and key packages, invitations and join proofs,
//!   erasure orders, sealed names.
//! - `envelope`: the signed, sealed unit of sync and its one binary encoding.
//! - `request`: how a device signs a request to the relay.
//! - `api`: the relay's routes, error codes and log entries, and which relay addresses are
//!   acceptable.

pub mod api;
pub mod attachment;
pub mod crypto;
pub mod envelope;
mod error;
pub mod request;
pub mod team;
pub mod text;

pub use error::{Error, Result};
