//! The bytes a device signs for a relay request and the proof a joining device gives: one
//! definition, in the core, shared by the relay and its clients.

pub use eropaf_protocol::request::{
    canonical_request, sign_request, HEADER_DEVICE, HEADER_SIGNATURE, HEADER_TIMESTAMP,
    REQUEST_DOMAIN,
};
pub use eropaf_protocol::team::invitation::{verify_join, JOIN_DOMAIN};
