//! What the relay stores, behind one trait with two backends: SQLite (one office, the
//! default) and PostgreSQL (several relay processes on one database). Methods are synchronous: the HTTP layer calls them inside `tokio::task::spawn_blocking`,
//! so a slow disk never stalls the async runtime. Every method is atomic: on error, nothing.

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod postgres;
mod sqlite;

pub use postgres::PostgresStorage;
pub use sqlite::SqliteStorage;

use eropaf_protocol::team::roster::RosterEntry;
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, RelayError, Result};

/// A verified envelope, ready to append. The relay has checked it; storage does not.
#[derive(Clone, Debug)]
pub struct NewEnvelope {
    pub hash: [u8; 32],
    pub doc_id: [u8; 16],
    pub author: [u8; 16],
    pub kind: StoredKind,
    /// `Some` for a snapshot that states the relay sequence it covers.
    pub covers_server_seq: Option<u64>,
    pub bytes: Vec<u8>,
    /// Devices (hex ids) the pusher says may read this envelope's document from now on:
    /// added to its readers in the same transaction. Empty adds none.
    pub readers: Vec<String>,
}

/// A signed request's signature to record as seen (replay protection) in the same transaction
/// as the push it carries: one commit, and on SQLite one fsync, for both.
#[derive(Clone, Debug)]
pub struct SeenRequest {
    pub device: String,
    /// SHA-256 of the request's signature.
    pub signature_hash: [u8; 32],
    /// Unix milliseconds after which the request's timestamp is refused anyway.
    pub expires_at: i64,
    pub now: i64,
}

/// What one pull asks for: the log entries `reader` may fetch after `after`, of one document
/// or all, up to `until`, at most `limit` of them and about `max_bytes` of envelope bytes.
#[derive(Clone, Debug)]
pub struct Feed<'a> {
    /// The pulling device (hex id): it gets the documents without readers (the whole team's)
    /// and those it reads.
    pub reader: &'a str,
    pub doc: Option<[u8; 16]>,
    pub after: u64,
    pub until: Option<u64>,
    pub limit: usize,
    pub max_bytes: usize,
}

/// One page of a pull.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub entries: Vec<Pulled>,
    /// More entries follow `next_after`.
    pub more: bool,
    /// Where the next pull starts: past the last entry, or, when nothing more follows, past
    /// everything the reader was not served either, so that it is not scanned again.
    pub next_after: u64,
}

/// One entry of a team's log as a backend reads it for a pull.
pub(crate) struct LogRow {
    pub server_seq: u64,
    pub doc_id: Vec<u8>,
    /// The envelope; for a tombstone, the erasure order's signature (none before signed
    /// orders).
    pub bytes: Option<Vec<u8>>,
    pub tombstoned: bool,
    pub author: Vec<u8>,
}

/// The page a pull returns, from the rows a backend fetched in order (up to `feed.limit + 1`,
/// bounded by `until`): the same paging on every backend.
pub(crate) fn page_of(
    rows: impl IntoIterator<Item = Result<LogRow>>,
    feed: &Feed<'_>,
    until: u64,
) -> Result<Page> {
    let mut entries = Vec::new();
    let mut bytes_total = 0usize;
    let mut more = false;
    for row in rows {
        if entries.len() >= feed.limit || (!entries.is_empty() && bytes_total >= feed.max_bytes) {
            more = true;
            break;
        }
        let row = row?;
        if row.tombstoned {
            let doc_id = row
                .doc_id
                .try_into()
                .map_err(|_| RelayError::storage("a stored doc id is not 16 bytes"))?;
            let erased_by = row
                .author
                .try_into()
                .map_err(|_| RelayError::storage("a stored author is not 16 bytes"))?;
            entries.push(Pulled::Erased {
                server_seq: row.server_seq,
                doc_id,
                erased_by,
                signature: row.bytes.unwrap_or_default(),
            });
        } else {
            let bytes = row.bytes.unwrap_or_default();
            bytes_total += bytes.len();
            entries.push(Pulled::Envelope { server_seq: row.server_seq, bytes });
        }
    }
    let next_after = match entries.last() {
        Some(last) if more => last.server_seq(),
        _ => until.max(feed.after),
    };
    Ok(Page { entries, more, next_after })
}

/// The envelope kinds as the relay stores them (text in SQL, for legibility).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredKind {
    Changes,
    Snapshot,
    Roster,
    KeyPackage,
}

impl StoredKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoredKind::Changes => "changes",
            StoredKind::Snapshot => "snapshot",
            StoredKind::Roster => "roster",
            StoredKind::KeyPackage => "key_package",
        }
    }
}

/// What became of one pushed envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    pub hash: [u8; 32],
    pub server_seq: u64,
    /// The envelope was already stored (its existing sequence is returned).
    pub duplicate: bool,
    /// Its document was erased: the envelope was dropped and `server_seq` is the erasure's.
    pub erased: bool,
}

/// Where one sealed chunk of an attachment lives at the relay: the case it belongs to, the
/// device that attached it (the only one that uploads it), the file and the chunk's place.
/// The relay learns these opaque ids and the chunk's length, nothing more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkKey<'a> {
    pub doc_id: [u8; 16],
    /// The attaching device, hex.
    pub author: &'a str,
    pub attachment: [u8; 16],
    pub index: u32,
}

/// Of a document's stored attachment bytes, the most the relay keeps (all its files together):
/// a bound on what one dishonest member can make it store, far above any team's per-case limit.
pub const MAX_DOC_ATTACHMENT_BYTES: u64 = 2 * 1024 * 1024 * 1024;

pub(crate) fn doc_erased() -> RelayError {
    RelayError::gone(ErrorCode::DocErased, "This case was erased; its files are gone.")
}

pub(crate) fn quota_exceeded() -> RelayError {
    RelayError::too_large(
        ErrorCode::QuotaExceeded,
        "This case's files would take more than the relay keeps for one case.",
    )
}

/// One entry of the team's log, as pulled: the same entry the devices' sync engine reads.
pub use eropaf_protocol::api::Pulled;

/// A one-time invitation. Only the public half of its one-time signing key is kept: enough to
/// check a join proof, never to make one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub invitation_id: String,
    /// Ed25519 public key (32 bytes).
    pub invitation_key: Vec<u8>,
    /// Unix milliseconds.
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// A device's request to join, waiting for a supervisor device to add it to the roster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    pub invitation_id: String,
    /// The `DeviceCard` as JSON, exactly as the joining device proved it.
    pub card_json: String,
    /// Hex Ed25519 signature by the invitation key (see `team::invitation::verify_join`).
    pub proof: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// An epoch key package: opaque JSON, indexed by its recipient and epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPackageRow {
    pub recipient: String,
    pub epoch: u32,
    pub json: String,
}

pub trait Storage: Send + Sync {
    /// The number of the last migration this database has (they run when it is opened).
    fn schema_version(&self) -> Result<i64>;

    /// Keeps a one-time registration code the operator issued, by its SHA-256.
    fn add_registration_code(&self, code_hash: &[u8; 32], now: i64) -> Result<()>;

    /// Creates a team from its verified genesis entry, using up the registration code with
    /// this hash in the same transaction. `Conflict` when the team exists, `Forbidden` when
    /// the code is unknown or used.
    fn create_team(
        &self,
        team: &str,
        genesis: &RosterEntry,
        code_hash: &[u8; 32],
        now: i64,
    ) -> Result<()>;

    /// Roster entries with `index >= from`, in order; `None` when the team does not exist.
    fn roster_entries(&self, team: &str, from: u64) -> Result<Option<Vec<RosterEntry>>>;

    /// Appends verified entries, which must start at the stored length. `Conflict` when another
    /// append got there first (the caller re-verifies against the new roster).
    fn append_roster(&self, team: &str, entries: &[RosterEntry]) -> Result<()>;

    /// Records a request signature as seen until `expires_at`, dropping expired ones. Returns
    /// `false` (and records nothing) when it was seen before: a replay.
    fn record_request(
        &self,
        team: &str,
        device: &str,
        signature_hash: &[u8; 32],
        expires_at: i64,
        now: i64,
    ) -> Result<bool>;

    /// Appends a batch in one transaction, each with the team's next server sequence. An
    /// envelope already stored (same hash) keeps its sequence; one for an erased document is
    /// dropped. A new snapshot with `covers_server_seq` is followed, in the same transaction,
    /// by `compact` with `min(covers, its own sequence - 1)`, so a crash cannot leave a stored
    /// snapshot uncompacted. Returns one `Appended` per input, in order. With `seen`, the
    /// request's signature is recorded in the same transaction: one seen before and not yet
    /// expired refuses the whole push (`ReplayedRequest`) and stores nothing.
    fn push_envelopes(
        &self,
        team: &str,
        batch: &[NewEnvelope],
        seen: Option<&SeenRequest>,
    ) -> Result<Vec<Appended>>;

    /// Up to `feed.limit` log entries with `after < server_seq <= until` that `feed.reader`
    /// may fetch (of documents without readers, or whose readers include it), in order,
    /// stopping early once `max_bytes` of envelope bytes are collected (at least one entry is
    /// returned if any).
    fn pull_envelopes(&self, team: &str, feed: &Feed<'_>) -> Result<Page>;

    /// `device` no longer reads `doc_id` (it forgot the case): it is not served the
    /// document's envelopes again unless a pusher names it as a reader anew. Does nothing for
    /// a document without readers.
    fn leave_doc(&self, team: &str, doc_id: &[u8; 16], device: &str) -> Result<()>;

    /// After a snapshot of `doc_id` covering `covers` was stored: deletes that document's
    /// changes and snapshots with `server_seq <= covers`, except the newest snapshot among
    /// them. Returns how many were deleted.
    fn compact(&self, team: &str, doc_id: &[u8; 16], covers: u64) -> Result<usize>;

    /// Erases a document: deletes all its envelopes and its files' chunks, and appends one
    /// tombstone entry that pullers see. Idempotent: erasing again returns the existing tombstone's sequence.
    /// Drops the document's envelopes and leaves a tombstone with the supervisor's signed
    /// order, which every device checks before it forgets the document.
    fn erase_doc(
        &self,
        team: &str,
        doc_id: &[u8; 16],
        author: &[u8; 16],
        signature: &[u8],
    ) -> Result<u64>;

    /// Whether `device` may read `doc_id`'s envelopes and files: the document has no readers
    /// (it is the whole team's) or `device` is an active one. `Gone` (`DocErased`) when the
    /// document was erased.
    fn may_read(&self, team: &str, doc_id: &[u8; 16], device: &str) -> Result<bool>;

    /// Stores one sealed chunk; returns `false`, storing nothing, when that chunk is already
    /// there (a resumed upload). `Gone` when the document was erased, `TooLarge`
    /// (`QuotaExceeded`) when it would take the document's files over
    /// `MAX_DOC_ATTACHMENT_BYTES`.
    fn put_chunk(&self, team: &str, key: &ChunkKey<'_>, bytes: &[u8]) -> Result<bool>;

    /// The indices of the chunks held of one attachment, in order.
    fn chunk_indices(
        &self,
        team: &str,
        doc_id: &[u8; 16],
        author: &str,
        attachment: &[u8; 16],
    ) -> Result<Vec<u32>>;

    /// One sealed chunk, as uploaded.
    fn chunk(&self, team: &str, key: &ChunkKey<'_>) -> Result<Option<Vec<u8>>>;

    /// `Conflict` when the invitation id exists.
    fn put_invitation(&self, team: &str, invitation: &Invitation) -> Result<()>;

    fn invitation(&self, team: &str, invitation_id: &str) -> Result<Option<Invitation>>;

    /// Marks the invitation used and stores the join request, atomically. `Gone` when it was
    /// used or expired in the meantime.
    fn use_invitation(&self, team: &str, request: &JoinRequest, now: i64) -> Result<()>;

    fn join_requests(&self, team: &str) -> Result<Vec<JoinRequest>>;

    fn join_request(&self, team: &str, invitation_id: &str) -> Result<Option<JoinRequest>>;

    /// Stores key packages, replacing one for the same recipient and epoch.
    fn put_key_packages(&self, team: &str, packages: &[KeyPackageRow]) -> Result<()>;

    /// The packages for one recipient, by epoch.
    fn key_packages(&self, team: &str, recipient: &str) -> Result<Vec<KeyPackageRow>>;

    /// Keeps a revoked device's signed report that it wiped itself (JSON), replacing an
    /// earlier one of the same device.
    fn put_wipe_report(&self, team: &str, device: &str, json: &str) -> Result<()>;

    /// The team's wipe reports, oldest device first.
    fn wipe_reports(&self, team: &str) -> Result<Vec<String>>;
}
