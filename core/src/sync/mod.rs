//! Sync: envelopes (the unit of sync), and later the outbox, inbox and transport.

pub mod envelope;
pub mod http;
pub mod limits;
pub use eropaf_protocol::request;
pub mod transport;
