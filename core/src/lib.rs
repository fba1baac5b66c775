//! eropaf-core: everything an Eropaf device does, shared by the phone apps (through UniFFI)
//! and the desktop command. Case documents are automerge CRDTs; the local store holds them
//! sealed with AES-256-GCM.

pub mod access_log;
pub mod checklist;
pub mod crypto;
pub mod doc;
mod eropaf;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod inzage;
pub mod model;
pub mod reports;
pub mod retention;
pub mod review;
pub mod store;
pub mod sync;
pub mod team;

pub use eropaf::{
    parse_time, AssessmentView, Eropaf, Member, PendingJoiner, QueueItem, SyncProgress, SyncReport,
    TeamInfo,
};
pub use error::{Error, Result};
pub use store::Unlock;
pub use team::invitation::Invitation;
