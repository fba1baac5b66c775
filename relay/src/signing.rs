//! The bytes a device signs for a relay request and the proof a joining device gives: one
//! definition, in the core, shared by the relay and its clients.

pub use eropaf_core::sync::request::{
    canonical_request, join_proof, secret_hash, sign_request, verify_join_proof, HEADER_DEVICE,
    HEADER_SIGNATURE, HEADER_TIMESTAMP, JOIN_DOMAIN, REQUEST_DOMAIN,
};
