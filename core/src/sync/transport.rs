//! The transport the sync engine talks to: the relay's operations, whatever carries them
//! (HTTP to the office relay today; a peer-to-peer link could implement the same trait).
//! Each call that needs it is signed by the device given as `signer`.

use crate::crypto::DeviceIdentity;
use crate::team::epoch::KeyPackage;
use crate::team::roster::{DeviceCard, RosterEntry};
use crate::team::wipe::WipeReport;
use crate::Result;

pub use eropaf_protocol::api::Pulled;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullPage {
    pub entries: Vec<Pulled>,
    /// The cursor to ask after next time.
    pub next_after: u64,
    pub more: bool,
}

/// The devices a push names as readers of one document in it: the relay serves that
/// document's envelopes to them (and the team's other devices none of them). Who can read is
/// decided by the case keys; this decides who downloads.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DocReaders {
    pub doc_id: String,
    pub devices: Vec<String>,
}

/// One attachment at the relay: the case it belongs to, the device that attached it (which
/// alone uploads it) and the file, all hex ids.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FileAt {
    pub doc_id: String,
    pub author: String,
    pub attachment_id: String,
}

/// A device asking to join with an invitation, as the relay holds it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct JoinRequest {
    pub invitation_id: String,
    pub card: DeviceCard,
    pub proof: String,
    /// Unix milliseconds, as the relay says.
    #[serde(default)]
    pub created_at: i64,
}

pub trait Transport {
    /// Registers a new team with its self-signed genesis entry and the one-time code the
    /// relay's operator issued.
    fn register_team(&self, genesis: &RosterEntry, registration_code: &str) -> Result<()>;
    /// Roster entries from index `from` on.
    fn roster(&self, signer: &DeviceIdentity, team_id: &str) -> Result<Vec<RosterEntry>>;
    fn append_roster(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        entries: &[RosterEntry],
    ) -> Result<()>;
    /// Pushes signed envelopes, naming the readers of the cases they write to; returns their
    /// server sequence numbers, in order.
    fn push(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        envelopes: &[Vec<u8>],
        readers: &[DocReaders],
    ) -> Result<Vec<u64>>;
    fn pull(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        after: u64,
        limit: u32,
    ) -> Result<PullPage>;
    /// One document's entries with `after < server_seq <= until`: the history of a case this
    /// device was made a reader of after its cursor had passed them.
    fn pull_history(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        doc_id: &str,
        after: u64,
        until: u64,
        limit: u32,
    ) -> Result<PullPage>;
    /// Of `doc_ids`, those with an entry this device may read at or before `until`: the cases
    /// whose history `pull_history` would find (one request for a page's new cases).
    fn docs_with_history(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        doc_ids: &[String],
        until: u64,
    ) -> Result<Vec<String>>;
    /// This device forgot these cases: the relay stops serving it their envelopes.
    fn leave(&self, signer: &DeviceIdentity, team_id: &str, doc_ids: &[String]) -> Result<()>;
    fn put_key_packages(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        packages: &[KeyPackage],
    ) -> Result<()>;
    /// The key packages sealed to the signing device.
    fn key_packages(&self, signer: &DeviceIdentity, team_id: &str) -> Result<Vec<KeyPackage>>;
    fn create_invitation(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        invitation_id: &str,
        invitation_key: &[u8],
        expires_at_millis: i64,
    ) -> Result<()>;
    /// Unauthenticated: the joining device is not in the roster yet; the proof stands in.
    fn join(
        &self,
        team_id: &str,
        invitation_id: &str,
        card: &DeviceCard,
        proof: &str,
    ) -> Result<()>;
    fn join_requests(&self, signer: &DeviceIdentity, team_id: &str) -> Result<Vec<JoinRequest>>;
    /// Tombstones a document's envelopes (supervisors only).
    fn erase(&self, signer: &DeviceIdentity, team_id: &str, doc_id: &str) -> Result<()>;
    /// A revoked device reports that it wiped itself.
    fn report_wiped(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        report: &WipeReport,
    ) -> Result<()>;
    /// The team's wipe reports (supervisors only), unchecked: the caller checks each against
    /// the roster.
    fn wipe_reports(&self, signer: &DeviceIdentity, team_id: &str) -> Result<Vec<WipeReport>>;
    /// The indices of the chunks of `file` the relay holds: where a transfer continues.
    fn chunks_held(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        file: &FileAt,
    ) -> Result<Vec<u32>>;
    /// Uploads one sealed chunk of a file this device attached; one the relay holds already
    /// changes nothing.
    fn put_chunk(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        file: &FileAt,
        index: u32,
        sealed: &[u8],
    ) -> Result<()>;
    /// One sealed chunk; `NotFound` when the relay does not hold it (yet).
    fn chunk(
        &self,
        signer: &DeviceIdentity,
        team_id: &str,
        file: &FileAt,
        index: u32,
    ) -> Result<Vec<u8>>;
}
