//! What a sync tells the worker: progress while it runs, and what it did, refused and
//! noticed once it is done.

use serde::Serialize;

/// Where a sync is, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum SyncProgress {
    Roster,
    Pushing {
        done: u64,
        total: u64,
    },
    Pulling {
        applied: u64,
    },
    /// Chunks of files attached here, sent to the relay.
    Uploading {
        done: u64,
        total: u64,
    },
}

/// What a sync moved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub pushed: u64,
    /// Chunks of files attached on this device that the relay lacked and now holds.
    pub chunks_uploaded: u64,
    pub pulled: u64,
    /// Envelopes whose content changed a case on this device.
    pub applied: u64,
    /// Envelopes this device holds no key for (written after its revocation, say).
    pub unreadable: u64,
    /// Envelopes refused as forged, foreign or malformed, with the reason; never applied.
    pub refused: Vec<String>,
    pub changed_cases: Vec<String>,
    pub epoch: u32,
    /// This device asked to join and no supervisor has admitted it yet.
    pub waiting_for_approval: bool,
    /// Signs that the relay held envelopes back (an author's chain skipped numbers that no
    /// supervisor snapshot explains), or that a device signed two different envelopes in one
    /// place of its chain. What arrived is applied either way.
    pub warnings: Vec<String>,
    /// The longest roster a received envelope's signer had (its length), to hold against
    /// the roster the relay serves once the sync has pulled everything.
    #[serde(skip)]
    pub(crate) roster_claimed: u64,
    /// Devices that asked to join with this supervisor's invitations and wait for it to
    /// compare safety codes and admit them (`team pending`, `team admit`).
    pub waiting_joiners: u64,
    /// Cases this device may no longer read (handed over, unassigned, access ended) and
    /// therefore forgot: document, summary and keys. Its own work in them was pushed first.
    pub forgotten_cases: Vec<String>,
    /// This device found itself revoked from the team and wiped its store, at this time.
    pub wiped_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Cases whose key versions arrived in this sync, to settle who holds them.
    #[serde(skip)]
    pub(crate) keys_received: Vec<String>,
}

/// What waits on this device for the next sync, for the shell to show ("3 wijzigingen wachten
/// op verbinding") and the case list to mark.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Unsent {
    /// Signed changes waiting in the outbox.
    pub changes: u64,
    /// Files attached here that the relay does not hold whole yet.
    pub files: u64,
    /// The cases with a change or a file waiting, sorted.
    pub case_ids: Vec<String>,
}
