//! The team: its signed roster, enrolment, epoch keys and case keys, erasure orders and
//! sealed names. All of it is protocol (`eropaf_protocol::team`), shared with the relay.

pub use eropaf_protocol::team::{epoch, erasure, grant, invitation, names, request, roster, wipe};
