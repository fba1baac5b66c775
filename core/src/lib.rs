//! eropaf-core: everything an Eropaf device does, shared by the phone apps (through UniFFI)
//! and the desktop command. Case documents are automerge CRDTs; the local store holds them
//! sealed with AES-256-GCM.
//!
//! By layer, from the bottom: `model` (plain records), `checklist` (value frameworks and the
//! decision flow), `attachments` (files kept with a case: limits, location data out), `doc` (the automerge documents and who may write where in them), `store`
//! (SQLite, sealed rows, migrations), `crypto` and `team` (the protocol's, re-exported),
//! `sync` (the engine, inbox, outbox, envelope payloads, transport), `records` (access log,
//! inzage, retention) and `office` (review, reports); `device` is one unlocked device, and
//! `Eropaf` (`eropaf.rs`) the facade over it that a shell holds.

// The records and enums the apps share with the core, as bindings see them (eropaf-ffi).
#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();

pub mod attachments;
pub mod checklist;
pub mod crypto;
mod device;
// Document internals are the core's own; the attack tests build hostile changes with them
// (`testing`).
#[cfg(feature = "testing")]
pub mod doc;
#[cfg(not(feature = "testing"))]
mod doc;
mod eropaf;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod model;
pub mod office;
pub mod records;
// The store's row API is the core's own. The scenario tests play a stolen phone's owner
// who holds the passphrase and reads rows directly; they turn on `testing` to do so.
#[cfg(feature = "testing")]
pub mod store;
#[cfg(not(feature = "testing"))]
mod store;
pub mod sync;
pub mod team;

pub use office::{reports, review};
pub use records::{access_log, inzage, retention};

pub use device::{
    parse_time, AssessmentView, CaseAccess, InzageExport, Member, PendingJoiner, QueueItem,
    SyncProgress, SyncReport, TeamInfo,
};
pub use eropaf::Eropaf;
pub use error::{Error, Result};
pub use store::{Unlock, DB_FILE};
pub use team::invitation::Invitation;
