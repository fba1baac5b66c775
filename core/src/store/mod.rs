//! The encrypted local store: one SQLite file (WAL, full fsync) whose rows that could identify
//! a resident are sealed with the store key before they reach SQLite. Owns unlocking, the
//! numbered migrations, and durable writes through [`StoreTx`].

mod file_check;
mod team_state;

use std::cell::Cell;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};

use crate::crypto::{KeyStore, PassphraseParams, Sealer, SecretKey};
use crate::model::CaseSummary;
use crate::{Error, Result};
pub use team_state::OwnChain;

pub const DB_FILE: &str = "eropaf.db";
/// The store row of the team document.
pub(crate) const TEAM_DOC_ID: &str = "team";

/// Numbered migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_team_sync.sql"),
    include_str!("migrations/0003_stale_summaries.sql"),
    include_str!("migrations/0004_author_chains.sql"),
    include_str!("migrations/0005_refused_changes.sql"),
    include_str!("migrations/0006_need_to_know.sql"),
    include_str!("migrations/0007_snapshots_apart.sql"),
    include_str!("migrations/0008_attachment_chunks.sql"),
    include_str!("migrations/0009_attachment_uploads.sql"),
];

const META_PASSPHRASE: &str = "passphrase_params";
const META_KEY_CHECK: &str = "key_check";
/// Unsealed (read before the store is open): wrong passphrases in a row, the team's limit for
/// them, and when the store was destroyed for reaching it. No case data.
const META_UNLOCK_FAILURES: &str = "unlock_failures";
const META_UNLOCK_LIMIT: &str = "unlock_failure_limit";
const META_DESTROYED: &str = "destroyed_at";
const KEY_CHECK_PLAINTEXT: &[u8] = b"eropaf store v1";

/// How the store key is obtained.
pub enum Unlock<'a> {
    /// Desktop: Argon2id over a passphrase; the salt lives in the store.
    Passphrase(&'a str),
    /// Phones: the platform key store keeps a random key.
    KeyStore(&'a dyn KeyStore),
    /// A key the caller already holds (tests, benchmarks, tools).
    Key(SecretKey),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocKind {
    Case,
    Team,
}

impl DocKind {
    fn as_str(self) -> &'static str {
        match self {
            DocKind::Case => "case",
            DocKind::Team => "team",
        }
    }
}

/// A document as stored: the snapshot, then the incremental changes written since.
pub struct StoredDoc {
    pub chunks: Vec<Vec<u8>>,
}

/// What a cached copy needs to know to tell whether it is still current.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocState {
    pub version: i64,
    pub snapshot_len: usize,
    pub changes_len: usize,
}

/// Below this many bytes of changes a document is not compacted, whatever its snapshot's
/// size: a small case loads as fast from a few chunks, and compacting it on every other write
/// cost a whole save, seal and snapshot write each time.
const COMPACT_AFTER_BYTES: usize = 16 * 1024;

impl DocState {
    /// Whether the changes beside the snapshot have outgrown it, so that a write should store a
    /// new snapshot: loading stays one snapshot plus some chunks, and a write stays one small
    /// insert in between.
    pub fn compaction_due(&self) -> bool {
        self.changes_len > self.snapshot_len.max(COMPACT_AFTER_BYTES)
    }
}

pub struct Store {
    conn: Connection,
    sealer: Sealer,
    dir: PathBuf,
    /// An erasure was committed but its WAL frames are not yet wiped (a reader held the WAL
    /// when the checkpoint ran): every later commit tries again.
    shred_pending: Cell<bool>,
    /// Commits that gave the team something to receive (an envelope in the outbox, a file
    /// to upload), counted since the store was opened: how the sync scheduler notices a
    /// local change.
    outgoing_commits: Cell<u64>,
}

impl Store {
    /// Creates a new store in `dir` (made if missing). Fails if one is there already.
    pub fn create(dir: &Path, unlock: Unlock<'_>) -> Result<Store> {
        let path = dir.join(DB_FILE);
        if path.exists() {
            return Err(Error::AlreadyExists(dir.display().to_string()));
        }
        std::fs::create_dir_all(dir)?;
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let result = Self::initialise(conn, dir, unlock);
        if result.is_err() {
            // Nothing usable was made; leave no half-created store behind.
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        result
    }

    fn initialise(conn: Connection, dir: &Path, unlock: Unlock<'_>) -> Result<Store> {
        configure(&conn)?;
        migrate(&conn)?;
        let (key, params) = match unlock {
            Unlock::Passphrase(passphrase) => {
                let params = PassphraseParams::recommended()?;
                (params.derive(passphrase)?, Some(params))
            }
            Unlock::KeyStore(key_store) => {
                let key = match key_store.load_key()? {
                    Some(existing) => SecretKey::from_slice(&existing)?,
                    None => {
                        let key = SecretKey::generate()?;
                        key_store.save_key(key.as_bytes())?;
                        key
                    }
                };
                (key, None)
            }
            Unlock::Key(key) => (key, None),
        };
        let sealer = Sealer::new(&key);
        let mut store = Store {
            conn,
            sealer,
            dir: dir.to_path_buf(),
            shred_pending: Cell::new(false),
            outgoing_commits: Cell::new(0),
        };
        let tx = store.transaction()?;
        if let Some(params) = params {
            let json = serde_json::to_vec(&params).map_err(|e| Error::Storage(e.to_string()))?;
            tx.put_meta_clear(META_PASSPHRASE, &json)?;
        }
        tx.put_meta(META_KEY_CHECK, KEY_CHECK_PLAINTEXT)?;
        tx.commit()?;
        Ok(store)
    }

    /// Opens an existing store. A wrong key or passphrase, or a damaged file, gives an error
    /// and writes nothing.
    pub fn open(dir: &Path, unlock: Unlock<'_>) -> Result<Store> {
        let path = dir.join(DB_FILE);
        if !path.exists() {
            return Err(Error::NoStore(dir.display().to_string()));
        }
        file_check::check(&path)?;
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        if meta_clear(&conn, META_DESTROYED)?.is_some() {
            return Err(Error::Destroyed);
        }
        let by_passphrase = matches!(unlock, Unlock::Passphrase(_));
        let key = match unlock {
            Unlock::Passphrase(passphrase) => {
                let json: Vec<u8> = meta_clear(&conn, META_PASSPHRASE)?.ok_or(Error::WrongKey)?;
                let params: PassphraseParams = serde_json::from_slice(&json)
                    .map_err(|e| Error::Corrupt(format!("passphrase parameters: {e}")))?;
                params.derive(passphrase)?
            }
            Unlock::KeyStore(key_store) => {
                let key = key_store.load_key()?.ok_or_else(|| {
                    Error::KeyStore("the key store holds no key for this store".into())
                })?;
                SecretKey::from_slice(&key)?
            }
            Unlock::Key(key) => key,
        };
        let sealer = Sealer::new(&key);
        let check = meta_clear(&conn, META_KEY_CHECK)?
            .ok_or_else(|| Error::Corrupt("the store has no key check".into()))?;
        match sealer.open(META_KEY_CHECK.as_bytes(), &check) {
            Ok(plain) if plain == KEY_CHECK_PLAINTEXT => {}
            _ if by_passphrase => return Err(count_wrong_passphrase(&conn)?),
            _ => return Err(Error::WrongKey),
        }
        if by_passphrase && meta_clear(&conn, META_UNLOCK_FAILURES)?.is_some() {
            conn.execute("DELETE FROM meta WHERE key = ?1", [META_UNLOCK_FAILURES])?;
        }
        migrate(&conn)?;
        // An erasure whose checkpoint was cut off (a crash right after its commit) still has
        // sealed copies in the WAL: wipe them before anything else happens.
        let shredded = checkpoint_truncate(&conn)?;
        Ok(Store {
            conn,
            sealer,
            dir: dir.to_path_buf(),
            shred_pending: Cell::new(!shredded),
            outgoing_commits: Cell::new(0),
        })
    }

    /// After how many wrong passphrases in a row the store destroys itself; 0: never.
    pub fn unlock_limit(&self) -> Result<u32> {
        meta_clear_u32(&self.conn, META_UNLOCK_LIMIT)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// All writes go through a transaction; nothing is visible or durable until `commit`.
    pub fn transaction(&mut self) -> Result<StoreTx<'_>> {
        // Unchecked only in that it borrows the connection shared, so `commit` can still reach
        // it after the transaction ends; `&mut self` keeps transactions from nesting.
        let tx = Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?;
        Ok(StoreTx {
            tx,
            conn: &self.conn,
            sealer: &self.sealer,
            erased: Cell::new(false),
            shred_pending: &self.shred_pending,
            outgoing: Cell::new(false),
            outgoing_commits: &self.outgoing_commits,
        })
    }

    /// Commits so far that queued something for the team (see `outgoing_commits`).
    pub fn outgoing_commits(&self) -> u64 {
        self.outgoing_commits.get()
    }

    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(meta_clear(&self.conn, key)?
            .map(|sealed| self.sealer.open(meta_aad(key).as_bytes(), &sealed))
            .transpose()?)
    }

    pub fn load_doc(&self, doc_id: &str) -> Result<Option<StoredDoc>> {
        load_doc(&self.conn, &self.sealer, doc_id)
    }

    /// The document's write counter and sizes, without reading it.
    pub fn doc_state(&self, doc_id: &str) -> Result<Option<DocState>> {
        doc_state(&self.conn, doc_id)
    }

    pub fn doc_ids(&self, kind: DocKind) -> Result<Vec<String>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT doc_id FROM docs WHERE kind = ?1 ORDER BY doc_id")?;
        let ids =
            stmt.query_map([kind.as_str()], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// The list summary of case `doc_id`, when the store has the case.
    pub fn summary(&self, doc_id: &str) -> Result<Option<CaseSummary>> {
        summary(&self.conn, &self.sealer, doc_id)
    }

    /// Decrypts every case summary; no document is loaded.
    pub fn case_summaries(&self) -> Result<Vec<CaseSummary>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT doc_id, summary FROM docs WHERE kind = 'case'")?;
        let mut rows = stmt.query([])?;
        let mut summaries = Vec::new();
        while let Some(row) = rows.next()? {
            let doc_id: String = row.get(0)?;
            let sealed: Option<Vec<u8>> = row.get(1)?;
            let sealed =
                sealed.ok_or_else(|| Error::Corrupt(format!("case {doc_id} has no summary")))?;
            let plain = self.sealer.open(summary_aad(&doc_id).as_bytes(), &sealed)?;
            let mut summary: CaseSummary = serde_json::from_slice(&plain)
                .map_err(|e| Error::Corrupt(format!("case summary: {e}")))?;
            // The row says which case this is; a summary is only what the document said.
            summary.id = doc_id;
            summaries.push(summary);
        }
        Ok(summaries)
    }
}

/// A write transaction over the store. Dropping it without `commit` rolls everything back.
pub struct StoreTx<'a> {
    tx: Transaction<'a>,
    conn: &'a Connection,
    sealer: &'a Sealer,
    /// This transaction destroys a case or its keys (`delete_doc`, `forget_case_keys`).
    erased: Cell<bool>,
    shred_pending: &'a Cell<bool>,
    /// This transaction queues something for the team (`push_outbox`, `queue_upload`).
    outgoing: Cell<bool>,
    outgoing_commits: &'a Cell<u64>,
}

impl StoreTx<'_> {
    pub fn load_doc(&self, doc_id: &str) -> Result<Option<StoredDoc>> {
        load_doc(&self.tx, self.sealer, doc_id)
    }

    pub fn doc_state(&self, doc_id: &str) -> Result<Option<DocState>> {
        doc_state(&self.tx, doc_id)
    }

    /// Makes the transaction durable. One that erased something is followed by a checkpoint
    /// that truncates the WAL: secure_delete zeroes the freed pages, but in WAL mode the
    /// zeroed pages are new frames and the old ones, holding the sealed rows and keys, stay
    /// in the -wal file until it is checkpointed and truncated.
    pub fn commit(self) -> Result<()> {
        self.tx.commit()?;
        if self.outgoing.get() {
            self.outgoing_commits.set(self.outgoing_commits.get() + 1);
        }
        if self.erased.get() {
            self.shred_pending.set(true);
        }
        if self.shred_pending.get() && checkpoint_truncate(self.conn)? {
            self.shred_pending.set(false);
        }
        Ok(())
    }

    /// Marks the transaction as destroying case data, for `commit` to wipe the WAL after.
    fn erasing(&self) {
        self.erased.set(true);
    }

    pub fn put_meta(&self, key: &str, plaintext: &[u8]) -> Result<()> {
        let sealed = self.sealer.seal(meta_aad(key).as_bytes(), plaintext)?;
        self.put_meta_clear(key, &sealed)
    }

    /// A revoked device wipes itself: every row of every table goes (case documents and
    /// summaries, case and epoch keys, the roster, the outbox, pending envelopes, caches),
    /// and of the settings only `keep` stays, with what opens the store. Shredded at commit
    /// (`commit`: secure_delete and a truncated WAL).
    pub fn wipe_all_but(&self, keep: &[&str]) -> Result<()> {
        self.erasing();
        empty_tables(&self.tx, &["meta"])?;
        let mut kept: Vec<&str> = vec![META_PASSPHRASE, META_KEY_CHECK];
        kept.extend_from_slice(keep);
        let mut stmt = self.tx.prepare("SELECT key FROM meta")?;
        let keys: Vec<String> =
            stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        for key in keys.iter().filter(|k| !kept.contains(&k.as_str())) {
            self.tx.execute("DELETE FROM meta WHERE key = ?1", [key])?;
        }
        Ok(())
    }

    /// After how many wrong passphrases in a row the store destroys itself (the team's
    /// policy); 0: never. Kept unsealed: it must be read before the store is open.
    pub fn set_unlock_limit(&self, limit: u32) -> Result<()> {
        if limit == 0 {
            self.tx
                .prepare_cached("DELETE FROM meta WHERE key = ?1")?
                .execute([META_UNLOCK_LIMIT])?;
            return Ok(());
        }
        self.put_meta_clear(META_UNLOCK_LIMIT, &limit.to_be_bytes())
    }

    fn put_meta_clear(&self, key: &str, value: &[u8]) -> Result<()> {
        let sql = "INSERT INTO meta (key, value) VALUES (?1, ?2)
                   ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        self.tx.prepare_cached(sql)?.execute(params![key, value])?;
        Ok(())
    }

    /// Writes a whole document: a new one, or a compacted one whose changes fold into it.
    pub fn put_snapshot(&self, doc_id: &str, kind: DocKind, snapshot: &[u8]) -> Result<()> {
        let sealed = self.sealer.seal(snapshot_aad(doc_id).as_bytes(), snapshot)?;
        let sql = "INSERT INTO docs (doc_id, kind, snapshot_len, changes_len) VALUES (?1, ?2, ?3, 0)
                   ON CONFLICT (doc_id) DO UPDATE SET
                       snapshot_len = excluded.snapshot_len, changes_len = 0, version = version + 1";
        let len = to_i64(snapshot.len());
        self.tx.prepare_cached(sql)?.execute(params![doc_id, kind.as_str(), len])?;
        let sql = "INSERT INTO doc_snapshots (doc_id, snapshot) VALUES (?1, ?2)
                   ON CONFLICT (doc_id) DO UPDATE SET snapshot = excluded.snapshot";
        self.tx.prepare_cached(sql)?.execute(params![doc_id, sealed])?;
        self.tx.prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1")?.execute([doc_id])?;
        Ok(())
    }

    /// Appends incremental changes to a stored document; returns its state after them (the
    /// bytes of changes now waiting beside the snapshot, for the caller's compaction decision,
    /// and the version a cached copy of it now has).
    pub fn append_changes(&self, doc_id: &str, changes: &[u8]) -> Result<DocState> {
        let sql = "UPDATE docs SET changes_len = changes_len + ?2, version = version + 1
                   WHERE doc_id = ?1 RETURNING version, snapshot_len, changes_len";
        let mut state = self
            .tx
            .prepare_cached(sql)?
            .query_row(params![doc_id, to_i64(changes.len())], doc_state_row)?;
        // The version goes up with every write and never down, so it numbers the changes in
        // the order they were written without a lookup in doc_changes: such a lookup is
        // prepared again on every call (SQLite's STAT4 planner marks the bound doc_id as one
        // its plan depends on), which was a tenth of recording a visit.
        if !self.insert_change(doc_id, state.version, changes)? {
            // A number at or above the version is taken (a store whose versions lagged):
            // number after the last change, and move the version up to it.
            let last: i64 = self
                .tx
                .prepare_cached(DOC_CHANGE_SEQS_OF)?
                .query_map([doc_id], |r| r.get(0))?
                .try_fold(0, |last: i64, seq| seq.map(|seq| last.max(seq)))?;
            state.version = last + 1;
            self.insert_change(doc_id, state.version, changes)?;
            self.tx
                .prepare_cached("UPDATE docs SET version = ?2 WHERE doc_id = ?1")?
                .execute(params![doc_id, state.version])?;
        }
        Ok(state)
    }

    /// Stores `changes` sealed as change `seq` of `doc_id`; false when that number is taken.
    fn insert_change(&self, doc_id: &str, seq: i64, changes: &[u8]) -> Result<bool> {
        let sealed = self.sealer.seal(change_aad(doc_id, seq).as_bytes(), changes)?;
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO doc_changes (doc_id, seq, bytes) VALUES (?1, ?2, ?3)
                 ON CONFLICT (doc_id, seq) DO NOTHING",
            )?
            .execute(params![doc_id, seq, sealed])?;
        Ok(inserted == 1)
    }

    /// The list summary of case `doc_id`, when the store has the case.
    pub fn summary(&self, doc_id: &str) -> Result<Option<CaseSummary>> {
        summary(&self.tx, self.sealer, doc_id)
    }

    /// Stores the list summary of case `doc_id`. The caller names the row: a summary read
    /// from a document that claims another id (any member can write one) must not land in
    /// another case's row, so it is stored under `doc_id` whatever it says.
    pub fn put_summary(&self, doc_id: &str, summary: &CaseSummary) -> Result<()> {
        let json = if summary.id == doc_id {
            serde_json::to_vec(summary)
        } else {
            serde_json::to_vec(&CaseSummary { id: doc_id.to_string(), ..summary.clone() })
        }
        .map_err(|e| Error::Storage(e.to_string()))?;
        let sealed = self.sealer.seal(summary_aad(doc_id).as_bytes(), &json)?;
        let updated = self
            .tx
            .prepare_cached("UPDATE docs SET summary = ?2 WHERE doc_id = ?1")?
            .execute(params![doc_id, sealed])?;
        if updated != 1 {
            return Err(Error::not_found("case", doc_id));
        }
        Ok(())
    }
}

fn load_doc(conn: &Connection, sealer: &Sealer, doc_id: &str) -> Result<Option<StoredDoc>> {
    let row = conn
        .prepare_cached("SELECT snapshot FROM doc_snapshots WHERE doc_id = ?1")?
        .query_row([doc_id], |r| r.get::<_, Vec<u8>>(0))
        .optional()?;
    let Some(snapshot) = row else { return Ok(None) };
    let mut chunks = vec![sealer.open(snapshot_aad(doc_id).as_bytes(), &snapshot)?];
    // In the key's order, sorted here: see `PER_DOC_READS`.
    let mut stmt = conn.prepare_cached(DOC_CHANGES_OF)?;
    let mut changes: Vec<(i64, Vec<u8>)> = stmt
        .query_map([doc_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    changes.sort_unstable_by_key(|(seq, _)| *seq);
    for (seq, sealed) in changes {
        chunks.push(sealer.open(change_aad(doc_id, seq).as_bytes(), &sealed)?);
    }
    Ok(Some(StoredDoc { chunks }))
}

fn doc_state(conn: &Connection, doc_id: &str) -> Result<Option<DocState>> {
    Ok(conn
        .prepare_cached("SELECT version, snapshot_len, changes_len FROM docs WHERE doc_id = ?1")?
        .query_row([doc_id], doc_state_row)
        .optional()?)
}

/// A `DocState` from a row of `version, snapshot_len, changes_len`.
fn doc_state_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<DocState> {
    Ok(DocState {
        version: row.get(0)?,
        snapshot_len: to_usize(row.get(1)?),
        changes_len: to_usize(row.get(2)?),
    })
}

/// Copies the WAL into the database and truncates it to nothing; false when a reader kept
/// it from finishing (after the busy timeout), so the old frames are still there.
fn checkpoint_truncate(conn: &Connection) -> Result<bool> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    Ok(busy == 0)
}

fn configure(conn: &Connection) -> Result<()> {
    // WAL with FULL sync: a call that returned has reached the disk, even on power loss.
    // Temp tables in memory: SQLite never spills (sealed, but still) rows to temp files.
    // secure_delete: freed pages are zeroed, so erased ciphertext does not linger.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA temp_store = MEMORY;
         PRAGMA secure_delete = ON;
         PRAGMA foreign_keys = ON;",
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Room for every statement the store prepares (65 call sites): with rusqlite's default
    // of 16, one write's statements evicted each other and each call parsed its SQL again.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

/// Prepared statements kept per connection (see `configure`).
const STATEMENT_CACHE: usize = 128;

/// The reads of one document's rows, unordered. With a bound `doc_id = ?1`, an ORDER BY,
/// MIN or MAX makes SQLite prepare the statement again on every call (the plan is marked as
/// depending on the bound value), cached or not: in a new phone's first sync that was a fifth
/// of taking in an envelope. These few rows are sorted in Rust instead;
/// `per_doc_reads_are_prepared_once` holds every read here to it.
#[cfg(test)]
const PER_DOC_READS: &[&str] = &[
    DOC_CHANGES_OF,
    DOC_CHANGE_SEQS_OF,
    team_state::CASE_KEYS_OF,
    team_state::OWN_CASE_KEYS_OF,
    team_state::OUTBOX_OF,
    team_state::PENDING_OF,
];
const DOC_CHANGES_OF: &str = "SELECT seq, bytes FROM doc_changes WHERE doc_id = ?1";
const DOC_CHANGE_SEQS_OF: &str = "SELECT seq FROM doc_changes WHERE doc_id = ?1";

fn migrate(conn: &Connection) -> Result<()> {
    let applied: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let applied = to_usize(applied);
    if applied > MIGRATIONS.len() {
        return Err(Error::Storage(format!(
            "the store was written by a newer Eropaf (schema {applied}); update the app"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", to_i64(index + 1))?;
        tx.commit()?;
    }
    Ok(())
}

/// Counts a wrong passphrase. Once the team's limit is reached, every table is emptied and
/// the Argon2 salt and key check go with it (zeroed on disk: `secure_delete`), so no
/// passphrase opens the store again: what remains is marked destroyed. Returns the error for
/// the caller. Without a limit nothing is written.
fn count_wrong_passphrase(conn: &Connection) -> Result<Error> {
    let limit = meta_clear_u32(conn, META_UNLOCK_LIMIT)?;
    if limit == 0 {
        return Ok(Error::WrongKey);
    }
    let failures = meta_clear_u32(conn, META_UNLOCK_FAILURES)?.saturating_add(1);
    let tx = Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    if failures < limit {
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![META_UNLOCK_FAILURES, &failures.to_be_bytes()[..]],
        )?;
        tx.commit()?;
        return Ok(Error::WrongKey);
    }
    empty_tables(&tx, &[])?;
    let at = chrono::Utc::now().timestamp_millis().to_be_bytes();
    tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![META_DESTROYED, &at[..]])?;
    tx.commit()?;
    // The WAL held the pages just zeroed: fold it into the file and truncate it.
    checkpoint_truncate(conn)?;
    Ok(Error::Destroyed)
}

/// Deletes every row of every table but those in `except`. Table names come from the schema
/// itself, not from input.
fn empty_tables(conn: &Connection, except: &[&str]) -> Result<()> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for table in tables.iter().filter(|t| !except.contains(&t.as_str())) {
        conn.execute(&format!("DELETE FROM \"{table}\""), [])?;
    }
    Ok(())
}

/// An unsealed count kept in `meta` (big-endian u32); 0 when absent.
fn meta_clear_u32(conn: &Connection, key: &str) -> Result<u32> {
    Ok(meta_clear(conn, key)?
        .and_then(|v| <[u8; 4]>::try_from(v).ok())
        .map_or(0, u32::from_be_bytes))
}

fn meta_clear(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>> {
    Ok(conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

// Associated data binds each sealed value to its place: a row copied elsewhere fails to open.
fn meta_aad(key: &str) -> String {
    key.to_string()
}

fn snapshot_aad(doc_id: &str) -> String {
    format!("docs/{doc_id}/snapshot")
}

fn summary_aad(doc_id: &str) -> String {
    format!("docs/{doc_id}/summary")
}

fn change_aad(doc_id: &str, seq: i64) -> String {
    format!("doc_changes/{doc_id}/{seq}")
}

fn summary(conn: &Connection, sealer: &Sealer, doc_id: &str) -> Result<Option<CaseSummary>> {
    let sealed: Option<Option<Vec<u8>>> = conn
        .prepare_cached("SELECT summary FROM docs WHERE doc_id = ?1 AND kind = 'case'")?
        .query_row([doc_id], |r| r.get(0))
        .optional()?;
    let Some(Some(sealed)) = sealed else { return Ok(None) };
    let plain = sealer.open(summary_aad(doc_id).as_bytes(), &sealed)?;
    let summary: CaseSummary =
        serde_json::from_slice(&plain).map_err(|e| Error::Corrupt(format!("case summary: {e}")))?;
    // The row says which case this is; a summary is only what the document said.
    Ok(Some(CaseSummary { id: doc_id.to_string(), ..summary }))
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_usize(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Stands in for the Android Keystore / iOS Keychain.
    #[derive(Default)]
    struct MemoryKeyStore(Mutex<Option<Vec<u8>>>);

    impl KeyStore for MemoryKeyStore {
        fn load_key(&self) -> Result<Option<Vec<u8>>> {
            Ok(self.0.lock().map_err(|_| Error::KeyStore("poisoned".into()))?.clone())
        }

        fn save_key(&self, key: &[u8]) -> Result<()> {
            *self.0.lock().map_err(|_| Error::KeyStore("poisoned".into()))? = Some(key.to_vec());
            Ok(())
        }
    }

    #[test]
    fn the_platform_key_store_supplies_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let platform = MemoryKeyStore::default();
        Store::create(dir.path(), Unlock::KeyStore(&platform)).unwrap();
        assert_eq!(
            platform.load_key().unwrap().map(|k| k.len()),
            Some(32),
            "a key was made and saved"
        );
        Store::open(dir.path(), Unlock::KeyStore(&platform)).unwrap();

        let wiped = MemoryKeyStore::default();
        assert!(matches!(
            Store::open(dir.path(), Unlock::KeyStore(&wiped)),
            Err(Error::KeyStore(_))
        ));
        let other = MemoryKeyStore(Mutex::new(Some(vec![7; 32])));
        assert!(matches!(Store::open(dir.path(), Unlock::KeyStore(&other)), Err(Error::WrongKey)));
    }

    #[test]
    fn per_doc_reads_are_prepared_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path(), Unlock::Key(SecretKey::generate().unwrap())).unwrap();
        for sql in PER_DOC_READS {
            for doc in ["a", "b", "c"] {
                let mut stmt = store.conn.prepare_cached(sql).unwrap();
                let params: &[&dyn rusqlite::ToSql] =
                    if stmt.parameter_count() == 2 { &[&doc, &1] } else { &[&doc] };
                stmt.query(params).unwrap().next().unwrap();
            }
            let stmt = store.conn.prepare_cached(sql).unwrap();
            assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0, "{sql}");
        }
        // The rule holds what it says: the same read ordered is prepared again each call.
        let ordered = format!("{DOC_CHANGES_OF} ORDER BY seq");
        for doc in ["a", "b"] {
            store.conn.prepare_cached(&ordered).unwrap().query([doc]).unwrap().next().unwrap();
        }
        let stmt = store.conn.prepare_cached(&ordered).unwrap();
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 1);
    }

    #[test]
    fn changes_load_in_the_order_written_even_where_a_version_lagged() {
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            Store::create(dir.path(), Unlock::Key(SecretKey::generate().unwrap())).unwrap();
        let tx = store.transaction().unwrap();
        tx.put_snapshot("d", DocKind::Case, b"snapshot").unwrap();
        let first = tx.append_changes("d", b"one").unwrap();
        let second = tx.append_changes("d", b"two").unwrap();
        assert!(second.version > first.version);
        // A version behind the numbers already taken: the next change still goes last.
        tx.tx.execute("UPDATE docs SET version = 1 WHERE doc_id = 'd'", []).unwrap();
        let third = tx.append_changes("d", b"three").unwrap();
        assert!(third.version > second.version, "{third:?} after {second:?}");
        assert_eq!(tx.doc_state("d").unwrap(), Some(third));
        let fourth = tx.append_changes("d", b"four").unwrap();
        assert!(fourth.version > third.version);
        tx.commit().unwrap();
        let chunks = store.load_doc("d").unwrap().unwrap().chunks;
        let chunks: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
        assert_eq!(chunks, [&b"snapshot"[..], b"one", b"two", b"three", b"four"]);
    }

    #[test]
    fn a_store_from_a_newer_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::generate().unwrap();
        let store = Store::create(dir.path(), Unlock::Key(key.clone())).unwrap();
        store.conn.pragma_update(None, "user_version", 99).unwrap();
        drop(store);
        assert!(
            matches!(Store::open(dir.path(), Unlock::Key(key)), Err(Error::Storage(m)) if m.contains("newer"))
        );
    }
}
