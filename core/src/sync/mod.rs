//! Sync: the order of a sync's steps (`engine`), what a device sends (`outbox`), takes in
//! (`inbox`) and reports (`report`), the files kept with cases (`files`), when to sync (`schedule`) and doing so (`auto`), a sync that lets go of the device while the relay answers (`shared`), who may read each case afterwards (`access`), a revoked device wiping itself (`wipe`), the envelope payload checks, the transport to the relay
//! and the limits on what is received.

pub(crate) mod access;
pub mod auto;
pub(crate) mod engine;
pub mod envelope;
pub mod files;
pub mod http;
pub(crate) mod inbox;
pub(crate) mod limits;
pub(crate) mod outbox;
pub mod report;
pub mod schedule;
pub mod shared;
pub use eropaf_protocol::request;
pub mod transport;
pub(crate) mod wipe;
