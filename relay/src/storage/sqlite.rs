//! The SQLite backend: one file in WAL mode with `synchronous=FULL` (an acknowledged push
//! survives a power cut), numbered migrations, and `secure_delete` so compacted and erased
//! envelopes are overwritten rather than left in free pages. One writing connection behind a
//! mutex; pulls read through connections of their own, which WAL lets run beside a write.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex, MutexGuard};

use eropaf_protocol::team::roster::RosterEntry;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::{
    doc_erased, page_of, quota_exceeded, Appended, ChunkKey, Feed, Invitation, JoinRequest,
    KeyPackageRow, LogRow, NewEnvelope, Page, SeenRequest, Storage,
};
use crate::error::{ErrorCode, RelayError, Result};

/// Migration `n` (1-based) takes the schema from `user_version` n-1 to n. Append only.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_invitation_keys.sql"),
    include_str!("migrations/0003_registration_codes.sql"),
    include_str!("migrations/0004_wipe_reports.sql"),
    include_str!("migrations/0005_doc_readers.sql"),
    include_str!("migrations/0006_attachment_chunks.sql"),
];

/// SQLite storage. SQLite serialises writers anyway, so one writing connection behind a
/// `Mutex` loses little; every call holds the lock only for its own statements, and callers
/// run it on tokio's blocking pool. Pulls, the bulk of the traffic, read through idle
/// connections kept in `readers` and record their signature in a file of its own, so they
/// never wait for a write's fsync.
pub struct SqliteStorage {
    conn: Mutex<Connection>,
    /// The database file; `None` in memory, where every call uses the one connection.
    path: Option<PathBuf>,
    readers: Mutex<Vec<Connection>>,
    /// Pushes waiting for the writing connection, to be committed together.
    queued_pushes: Mutex<Vec<QueuedPush>>,
    /// The signatures of requests other than pushes (replay protection), in a file of their
    /// own beside the database (`relay.db-seen`): every pull records one, and in the main
    /// file it would wait for the writer, pushes' fsyncs included. A push records its own in
    /// its transaction, in the main file.
    seen: Mutex<Connection>,
}

/// The replay records' own file: not migrated, as it holds nothing that outlives the few
/// minutes a signature stays fresh.
const SEEN_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS seen_requests (
    signature_hash  BLOB PRIMARY KEY NOT NULL,
    team_id         TEXT NOT NULL,
    device          TEXT NOT NULL,
    expires_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS seen_requests_by_expiry ON seen_requests (expires_at);";

struct QueuedPush {
    team: String,
    batch: Vec<NewEnvelope>,
    seen: Option<SeenRequest>,
    reply: mpsc::Sender<Result<Vec<Appended>>>,
}

/// Idle read connections kept open; more may be open at a busy moment.
const IDLE_READERS: usize = 4;

impl SqliteStorage {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStorage> {
        let conn = Connection::open(path)?;
        SqliteStorage::setup(conn, Some(path.to_path_buf()))
    }

    /// An in-memory database, for tests.
    pub fn open_in_memory() -> Result<SqliteStorage> {
        SqliteStorage::setup(Connection::open_in_memory()?, None)
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>) -> Result<SqliteStorage> {
        let seen = match &path {
            Some(path) => {
                let mut name = path.as_os_str().to_owned();
                name.push("-seen");
                Connection::open(PathBuf::from(name))?
            }
            None => Connection::open_in_memory()?,
        };
        seen.busy_timeout(std::time::Duration::from_secs(5))?;
        let _mode: String = seen.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        // Not fsynced: a power cut may forget the last few signatures seen, and a request
        // replayed in the minutes after it would then be served. Every such request is
        // idempotent or serves ciphertext to its signer's team; a killed process loses
        // nothing (the WAL is in the OS's hands at commit).
        seen.pragma_update(None, "synchronous", "NORMAL")?;
        seen.execute_batch(SEEN_SCHEMA)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // journal_mode answers with a row, so it is queried rather than updated.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(RelayError::storage(format!(
                "the database has schema version {version}; this relay knows up to {known}"
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
        }
        Ok(SqliteStorage {
            conn: Mutex::new(conn),
            path,
            readers: Mutex::new(Vec::new()),
            queued_pushes: Mutex::new(Vec::new()),
            seen: Mutex::new(seen),
        })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn.lock().map_err(|_| RelayError::storage("a storage call panicked earlier"))
    }

    /// Runs `read` on a read-only connection of its own (the writer's, in memory).
    fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let Some(path) = &self.path else { return read(&*self.conn()?) };
        let idle = self.readers.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                conn
            }
        };
        let result = read(&conn);
        if let Ok(mut idle) = self.readers.lock() {
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
        }
        result
    }
}

fn seq_to_sql(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn seq_from_sql(seq: i64) -> u64 {
    u64::try_from(seq).unwrap_or(0)
}

/// `Storage::compact` inside the caller's transaction.
fn compact_in(tx: &Connection, team: &str, doc_id: &[u8; 16], covers: u64) -> Result<usize> {
    let covers = seq_to_sql(covers);
    let keep: Option<i64> = tx.query_row(
        "SELECT MAX(server_seq) FROM envelopes
         WHERE team_id = ?1 AND doc_id = ?2 AND kind = 'snapshot' AND tombstoned = 0
           AND server_seq <= ?3",
        params![team, &doc_id[..], covers],
        |row| row.get(0),
    )?;
    Ok(tx.execute(
        "DELETE FROM envelopes
         WHERE team_id = ?1 AND doc_id = ?2 AND kind IN ('changes', 'snapshot')
           AND tombstoned = 0 AND server_seq <= ?3 AND server_seq != ?4",
        params![team, &doc_id[..], covers, keep.unwrap_or(-1)],
    )?)
}

/// Records a request's signature as seen inside the caller's transaction; `false` when it
/// was seen before and has not expired. An expired row is taken over in place.
fn record_seen_in(tx: &Connection, team: &str, seen: &SeenRequest) -> Result<bool> {
    let recorded = tx
        .prepare_cached(
            "INSERT INTO seen_requests (signature_hash, team_id, device, expires_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (signature_hash) DO UPDATE
            SET team_id = excluded.team_id, device = excluded.device,
                expires_at = excluded.expires_at
            WHERE seen_requests.expires_at < ?5",
        )?
        .execute(params![&seen.signature_hash[..], team, seen.device, seen.expires_at, seen.now])?;
    Ok(recorded == 1)
}

fn replayed() -> RelayError {
    RelayError::conflict(
        ErrorCode::ReplayedRequest,
        "This exact request was received before; sign a new one.",
    )
}

/// Appends one push's batch inside the caller's transaction (see `Storage::push_envelopes`).
fn push_in(
    tx: &Connection,
    team: &str,
    batch: &[NewEnvelope],
    seen: Option<&SeenRequest>,
) -> Result<Vec<Appended>> {
    if let Some(seen) = seen {
        if !record_seen_in(tx, team, seen)? {
            return Err(replayed());
        }
    }
    let mut last_seq: i64 = tx
        .query_row("SELECT last_seq FROM teams WHERE team_id = ?1", [team], |row| row.get(0))
        .optional()?
        .ok_or_else(|| RelayError::not_found(ErrorCode::TeamNotFound, "No such team."))?;
    let mut out = Vec::with_capacity(batch.len());
    {
        let mut find =
            tx.prepare_cached("SELECT server_seq FROM envelopes WHERE team_id = ?1 AND hash = ?2")?;
        let mut erased = tx.prepare_cached(
            "SELECT server_seq FROM envelopes
             WHERE team_id = ?1 AND doc_id = ?2 AND tombstoned = 1",
        )?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO envelopes (team_id, server_seq, hash, doc_id, author, kind, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut add_reader = tx.prepare_cached(
            "INSERT INTO doc_readers (team_id, doc_id, device, active) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT (team_id, doc_id, device) DO UPDATE SET active = 1",
        )?;
        for envelope in batch {
            let existing: Option<i64> =
                find.query_row(params![team, &envelope.hash[..]], |row| row.get(0)).optional()?;
            let tombstone: Option<i64> = erased
                .query_row(params![team, &envelope.doc_id[..]], |row| row.get(0))
                .optional()?;
            // Erased documents keep no readers: their tombstone is everyone's.
            if tombstone.is_none() {
                for device in &envelope.readers {
                    add_reader.execute(params![team, &envelope.doc_id[..], device])?;
                }
            }
            if let Some(seq) = existing {
                out.push(Appended {
                    hash: envelope.hash,
                    server_seq: seq_from_sql(seq),
                    duplicate: true,
                    erased: false,
                });
                continue;
            }
            if let Some(seq) = tombstone {
                out.push(Appended {
                    hash: envelope.hash,
                    server_seq: seq_from_sql(seq),
                    duplicate: false,
                    erased: true,
                });
                continue;
            }
            last_seq += 1;
            insert.execute(params![
                team,
                last_seq,
                &envelope.hash[..],
                &envelope.doc_id[..],
                &envelope.author[..],
                envelope.kind.as_str(),
                &envelope.bytes,
            ])?;
            if let Some(covers) = envelope.covers_server_seq {
                // A snapshot cannot cover itself or anything after it.
                let covers = covers.min(seq_from_sql(last_seq - 1));
                compact_in(tx, team, &envelope.doc_id, covers)?;
            }
            out.push(Appended {
                hash: envelope.hash,
                server_seq: seq_from_sql(last_seq),
                duplicate: false,
                erased: false,
            });
        }
    }
    tx.execute("UPDATE teams SET last_seq = ?2 WHERE team_id = ?1", params![team, last_seq])?;
    Ok(out)
}

/// `Storage::pull_envelopes` inside the caller's read transaction.
/// What a pull selects, and which entries the reader (`?6`) may have: those of documents
/// without readers (the whole team's) and of documents it reads.
macro_rules! pull_sql {
    ($from:literal, $filter:literal) => {
        concat!(
            "SELECT e.server_seq, e.doc_id, e.bytes, e.tombstoned, e.author FROM ",
            $from,
            " WHERE e.team_id = ?1 AND e.server_seq > ?2 AND e.server_seq <= ?3 AND ",
            $filter,
            " AND (NOT EXISTS (SELECT 1 FROM doc_readers r
                               WHERE r.team_id = e.team_id AND r.doc_id = e.doc_id)
                   OR EXISTS (SELECT 1 FROM doc_readers r
                              WHERE r.team_id = e.team_id AND r.doc_id = e.doc_id
                                AND r.device = ?6 AND r.active = 1))
             ORDER BY e.server_seq LIMIT ?4"
        )
    };
}
/// Whether device `?3` may read document `?2`: the same rule a pull applies.
const MAY_READ: &str = "SELECT NOT EXISTS (SELECT 1 FROM doc_readers
                                          WHERE team_id = ?1 AND doc_id = ?2)
                        OR EXISTS (SELECT 1 FROM doc_readers
                                   WHERE team_id = ?1 AND doc_id = ?2 AND device = ?3
                                     AND active = 1)";

fn is_erased(conn: &Connection, team: &str, doc_id: &[u8; 16]) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM envelopes
             WHERE team_id = ?1 AND doc_id = ?2 AND tombstoned = 1)",
        )?
        .query_row(params![team, &doc_id[..]], |row| row.get(0))?)
}

const PULL_TEAM: &str = pull_sql!("envelopes e", "?5 IS NULL");
const PULL_DOC: &str = pull_sql!("envelopes e INDEXED BY envelopes_by_doc", "e.doc_id = ?5");

fn pull_in(conn: &Connection, team: &str, feed: &Feed<'_>) -> Result<Page> {
    let last_seq: i64 = conn
        .query_row("SELECT last_seq FROM teams WHERE team_id = ?1", [team], |row| row.get(0))
        .optional()?
        .unwrap_or(0);
    let until = feed.until.map_or(last_seq, |until| seq_to_sql(until).min(last_seq));
    // One document's history by its own index, named: otherwise SQLite (3.54) prefers the
    // log's order for the ORDER BY and LIMIT and walks the team's whole log up to `until`
    // for every case asked about.
    let mut stmt = conn.prepare_cached(if feed.doc.is_some() { PULL_DOC } else { PULL_TEAM })?;
    let fetch = i64::try_from(feed.limit).unwrap_or(i64::MAX - 1).saturating_add(1);
    let doc = feed.doc.map(|d| d.to_vec());
    let rows = stmt.query_map(
        params![team, seq_to_sql(feed.after), until, fetch, doc, feed.reader],
        |row| {
            Ok(LogRow {
                server_seq: seq_from_sql(row.get(0)?),
                doc_id: row.get(1)?,
                bytes: row.get(2)?,
                tombstoned: row.get(3)?,
                author: row.get(4)?,
            })
        },
    )?;
    page_of(rows.map(|row| row.map_err(RelayError::from)), feed, seq_from_sql(until))
}

fn entry_json(entry: &RosterEntry) -> Result<String> {
    serde_json::to_string(entry).map_err(RelayError::storage)
}

fn gone_used() -> RelayError {
    RelayError::gone(
        ErrorCode::InvitationUsed,
        "This invitation has already been used; ask a supervisor for a new one.",
    )
}

fn gone_expired() -> RelayError {
    RelayError::gone(
        ErrorCode::InvitationExpired,
        "This invitation has expired; ask a supervisor for a new one.",
    )
}

impl Storage for SqliteStorage {
    fn schema_version(&self) -> Result<i64> {
        Ok(self.conn()?.query_row("PRAGMA user_version", [], |row| row.get(0))?)
    }

    fn add_registration_code(&self, code_hash: &[u8; 32], now: i64) -> Result<()> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT OR IGNORE INTO registration_codes (code_hash, created_at) VALUES (?1, ?2)",
            params![&code_hash[..], now],
        )?;
        Ok(())
    }

    fn create_team(
        &self,
        team: &str,
        genesis: &RosterEntry,
        code_hash: &[u8; 32],
        now: i64,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM teams WHERE team_id = ?1)",
            [team],
            |row| row.get(0),
        )?;
        if exists {
            return Err(RelayError::conflict(
                ErrorCode::TeamExists,
                format!("Team {team} already exists."),
            ));
        }
        // The code and the team in one transaction: a code registers exactly one team.
        let used = tx.execute(
            "UPDATE registration_codes SET used_at = ?2, team_id = ?3
             WHERE code_hash = ?1 AND used_at IS NULL",
            params![&code_hash[..], now, team],
        )?;
        if used == 0 {
            return Err(RelayError::forbidden(
                ErrorCode::BadRegistrationCode,
                "Registering a team takes an unused registration code from the relay's operator.",
            ));
        }
        tx.execute("INSERT INTO teams (team_id, created_at) VALUES (?1, ?2)", params![team, now])?;
        tx.execute(
            "INSERT INTO roster_entries (team_id, idx, entry) VALUES (?1, 0, ?2)",
            params![team, entry_json(genesis)?],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn roster_entries(&self, team: &str, from: u64) -> Result<Option<Vec<RosterEntry>>> {
        let conn = self.conn()?;
        let exists: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM teams WHERE team_id = ?1)",
            [team],
            |row| row.get(0),
        )?;
        if !exists {
            return Ok(None);
        }
        let mut stmt = conn.prepare_cached(
            "SELECT entry FROM roster_entries WHERE team_id = ?1 AND idx >= ?2 ORDER BY idx",
        )?;
        let rows =
            stmt.query_map(params![team, seq_to_sql(from)], |row| row.get::<_, String>(0))?;
        let mut entries = Vec::new();
        for json in rows {
            let entry = serde_json::from_str(&json?).map_err(|e| {
                RelayError::storage(format!("a stored roster entry does not parse: {e}"))
            })?;
            entries.push(entry);
        }
        Ok(Some(entries))
    }

    fn append_roster(&self, team: &str, entries: &[RosterEntry]) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let len: i64 = tx.query_row(
            "SELECT COUNT(*) FROM roster_entries WHERE team_id = ?1",
            [team],
            |row| row.get(0),
        )?;
        for (i, entry) in entries.iter().enumerate() {
            if seq_to_sql(entry.index) != len + i as i64 {
                return Err(RelayError::conflict(
                    ErrorCode::RosterChanged,
                    "The roster changed while this request was checked; fetch it and try again.",
                ));
            }
            tx.execute(
                "INSERT INTO roster_entries (team_id, idx, entry) VALUES (?1, ?2, ?3)",
                params![team, seq_to_sql(entry.index), entry_json(entry)?],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn record_request(
        &self,
        team: &str,
        device: &str,
        signature_hash: &[u8; 32],
        expires_at: i64,
        now: i64,
    ) -> Result<bool> {
        let mut conn =
            self.seen.lock().map_err(|_| RelayError::storage("a storage call panicked earlier"))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM seen_requests WHERE expires_at < ?1", [now])?;
        let seen = SeenRequest {
            device: device.to_owned(),
            signature_hash: *signature_hash,
            expires_at,
            now,
        };
        let recorded = record_seen_in(&tx, team, &seen)?;
        tx.commit()?;
        Ok(recorded)
    }

    fn push_envelopes(
        &self,
        team: &str,
        batch: &[NewEnvelope],
        seen: Option<&SeenRequest>,
    ) -> Result<Vec<Appended>> {
        // Group commit: a push queues itself, then waits for the writing connection. Whoever
        // gets it takes every push queued by then into one transaction (each in a savepoint,
        // so one failing push fails alone) and one fsync; the others find their answer ready.
        let (reply, answer) = mpsc::channel();
        self.queued_pushes
            .lock()
            .map_err(|_| RelayError::storage("a storage call panicked earlier"))?
            .push(QueuedPush {
                team: team.to_owned(),
                batch: batch.to_vec(),
                seen: seen.cloned(),
                reply,
            });
        let mut conn = self.conn()?;
        if let Ok(answered) = answer.try_recv() {
            return answered;
        }
        let queued = std::mem::take(
            &mut *self
                .queued_pushes
                .lock()
                .map_err(|_| RelayError::storage("a storage call panicked earlier"))?,
        );
        let mut answers = Vec::with_capacity(queued.len());
        let committed = (|| {
            let mut tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for push in &queued {
                let savepoint = tx.savepoint()?;
                let appended = push_in(&savepoint, &push.team, &push.batch, push.seen.as_ref());
                if appended.is_ok() {
                    savepoint.commit()?;
                } // else dropped: rolled back
                answers.push(appended);
            }
            // The pushes' replay records expire too; clearing them here costs no commit.
            if let Some(now) =
                queued.iter().filter_map(|push| push.seen.as_ref()).map(|s| s.now).max()
            {
                tx.execute("DELETE FROM seen_requests WHERE expires_at < ?1", [now])?;
            }
            tx.commit()
        })();
        for (push, appended) in queued.into_iter().zip(answers) {
            let appended = match &committed {
                Ok(()) => appended,
                Err(e) => Err(RelayError::storage(format!("the push was not stored: {e}"))),
            };
            // The pusher is waiting for this; a send fails only if it went away.
            let _ = push.reply.send(appended);
        }
        answer.try_recv().map_err(|_| RelayError::storage("a queued push got no answer"))?
    }

    fn pull_envelopes(&self, team: &str, feed: &Feed<'_>) -> Result<Page> {
        self.read(|conn| {
            // One read transaction: the bound below and the rows are of the same moment.
            conn.execute_batch("BEGIN DEFERRED")?;
            let page = pull_in(conn, team, feed);
            let end = conn.execute_batch(if page.is_ok() { "COMMIT" } else { "ROLLBACK" });
            let page = page?;
            end?;
            Ok(page)
        })
    }

    fn leave_doc(&self, team: &str, doc_id: &[u8; 16], device: &str) -> Result<()> {
        let conn = self.conn()?;
        conn.execute(
            "UPDATE doc_readers SET active = 0 WHERE team_id = ?1 AND doc_id = ?2 AND device = ?3",
            params![team, &doc_id[..], device],
        )?;
        Ok(())
    }

    fn may_read(&self, team: &str, doc_id: &[u8; 16], device: &str) -> Result<bool> {
        self.read(|conn| {
            if is_erased(conn, team, doc_id)? {
                return Err(doc_erased());
            }
            Ok(conn
                .prepare_cached(MAY_READ)?
                .query_row(params![team, &doc_id[..], device], |row| row.get(0))?)
        })
    }

    fn put_chunk(&self, team: &str, key: &ChunkKey<'_>, bytes: &[u8]) -> Result<bool> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if is_erased(&tx, team, &key.doc_id)? {
            return Err(doc_erased());
        }
        let held: bool = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM attachment_chunks
                 WHERE team_id = ?1 AND doc_id = ?2 AND author = ?3 AND attachment_id = ?4
                   AND idx = ?5)",
            )?
            .query_row(
                params![team, &key.doc_id[..], key.author, &key.attachment[..], key.index],
                |row| row.get(0),
            )?;
        if held {
            return Ok(false);
        }
        let stored: i64 = tx
            .prepare_cached(
                "SELECT COALESCE(SUM(size), 0) FROM attachment_chunks
                 WHERE team_id = ?1 AND doc_id = ?2",
            )?
            .query_row(params![team, &key.doc_id[..]], |row| row.get(0))?;
        let size = bytes.len() as u64;
        if u64::try_from(stored).unwrap_or(u64::MAX).saturating_add(size)
            > super::MAX_DOC_ATTACHMENT_BYTES
        {
            return Err(quota_exceeded());
        }
        tx.prepare_cached(
            "INSERT INTO attachment_chunks
                 (team_id, doc_id, author, attachment_id, idx, size, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            team,
            &key.doc_id[..],
            key.author,
            &key.attachment[..],
            key.index,
            i64::try_from(size).unwrap_or(i64::MAX),
            bytes
        ])?;
        tx.commit()?;
        Ok(true)
    }

    fn chunk_indices(
        &self,
        team: &str,
        doc_id: &[u8; 16],
        author: &str,
        attachment: &[u8; 16],
    ) -> Result<Vec<u32>> {
        self.read(|conn| {
            let mut indices = conn
                .prepare_cached(
                    "SELECT idx FROM attachment_chunks
                     WHERE team_id = ?1 AND doc_id = ?2 AND author = ?3 AND attachment_id = ?4",
                )?
                .query_map(params![team, &doc_id[..], author, &attachment[..]], |row| {
                    row.get::<_, u32>(0)
                })?
                .collect::<rusqlite::Result<Vec<u32>>>()?;
            indices.sort_unstable();
            Ok(indices)
        })
    }

    fn chunk(&self, team: &str, key: &ChunkKey<'_>) -> Result<Option<Vec<u8>>> {
        self.read(|conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT bytes FROM attachment_chunks
                     WHERE team_id = ?1 AND doc_id = ?2 AND author = ?3 AND attachment_id = ?4
                       AND idx = ?5",
                )?
                .query_row(
                    params![team, &key.doc_id[..], key.author, &key.attachment[..], key.index],
                    |row| row.get(0),
                )
                .optional()?)
        })
    }

    fn compact(&self, team: &str, doc_id: &[u8; 16], covers: u64) -> Result<usize> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let deleted = compact_in(&tx, team, doc_id, covers)?;
        tx.commit()?;
        Ok(deleted)
    }

    fn erase_doc(
        &self,
        team: &str,
        doc_id: &[u8; 16],
        author: &[u8; 16],
        signature: &[u8],
    ) -> Result<u64> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The same order again is a no-op; any other tombstone (one without a valid order)
        // gives way to this one.
        let existing: Option<i64> = tx
            .query_row(
                "SELECT server_seq FROM envelopes
                 WHERE team_id = ?1 AND doc_id = ?2 AND tombstoned = 1 AND bytes = ?3",
                params![team, &doc_id[..], signature],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(seq) = existing {
            return Ok(seq_from_sql(seq));
        }
        let last_seq: i64 = tx
            .query_row("SELECT last_seq FROM teams WHERE team_id = ?1", [team], |row| row.get(0))
            .optional()?
            .ok_or_else(|| RelayError::not_found(ErrorCode::TeamNotFound, "No such team."))?;
        tx.execute(
            "DELETE FROM envelopes WHERE team_id = ?1 AND doc_id = ?2",
            params![team, &doc_id[..]],
        )?;
        tx.execute(
            "DELETE FROM attachment_chunks WHERE team_id = ?1 AND doc_id = ?2",
            params![team, &doc_id[..]],
        )?;
        let seq = last_seq + 1;
        tx.execute(
            "INSERT INTO envelopes (team_id, server_seq, hash, doc_id, author, kind, bytes, tombstoned)
             VALUES (?1, ?2, NULL, ?3, ?4, 'erased', ?5, 1)",
            params![team, seq, &doc_id[..], &author[..], signature],
        )?;
        tx.execute("UPDATE teams SET last_seq = ?2 WHERE team_id = ?1", params![team, seq])?;
        tx.commit()?;
        Ok(seq_from_sql(seq))
    }

    fn put_invitation(&self, team: &str, invitation: &Invitation) -> Result<()> {
        let conn = self.conn()?;
        let inserted = conn.execute(
            "INSERT OR IGNORE INTO invitations (team_id, invitation_id, invitation_key, expires_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                team,
                invitation.invitation_id,
                &invitation.invitation_key[..],
                invitation.expires_at
            ],
        )?;
        if inserted == 0 {
            return Err(RelayError::conflict(
                ErrorCode::InvitationExists,
                "An invitation with this id already exists.",
            ));
        }
        Ok(())
    }

    fn invitation(&self, team: &str, invitation_id: &str) -> Result<Option<Invitation>> {
        let conn = self.conn()?;
        let row = conn
            .query_row(
                "SELECT invitation_key, expires_at, used_at FROM invitations
                 WHERE team_id = ?1 AND invitation_id = ?2",
                params![team, invitation_id],
                |row| {
                    Ok((
                        row.get::<_, Vec<u8>>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, Option<i64>>(2)?,
                    ))
                },
            )
            .optional()?;
        let Some((invitation_key, expires_at, used_at)) = row else {
            return Ok(None);
        };
        Ok(Some(Invitation {
            invitation_id: invitation_id.to_owned(),
            invitation_key,
            expires_at,
            used_at,
        }))
    }

    fn use_invitation(&self, team: &str, request: &JoinRequest, now: i64) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let state: Option<(i64, Option<i64>)> = tx
            .query_row(
                "SELECT expires_at, used_at FROM invitations
                 WHERE team_id = ?1 AND invitation_id = ?2",
                params![team, request.invitation_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        match state {
            None => {
                return Err(RelayError::not_found(
                    ErrorCode::InvitationNotFound,
                    "No such invitation for this team.",
                ))
            }
            Some((_, Some(_))) => return Err(gone_used()),
            Some((expires_at, None)) if expires_at <= now => return Err(gone_expired()),
            Some(_) => {}
        }
        tx.execute(
            "UPDATE invitations SET used_at = ?3 WHERE team_id = ?1 AND invitation_id = ?2",
            params![team, request.invitation_id, now],
        )?;
        tx.execute(
            "INSERT INTO join_requests (team_id, invitation_id, card, proof, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                team,
                request.invitation_id,
                request.card_json,
                request.proof,
                request.created_at
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn join_requests(&self, team: &str) -> Result<Vec<JoinRequest>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT invitation_id, card, proof, created_at FROM join_requests
             WHERE team_id = ?1 ORDER BY created_at, invitation_id",
        )?;
        let rows = stmt.query_map([team], |row| {
            Ok(JoinRequest {
                invitation_id: row.get(0)?,
                card_json: row.get(1)?,
                proof: row.get(2)?,
                created_at: row.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn join_request(&self, team: &str, invitation_id: &str) -> Result<Option<JoinRequest>> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT card, proof, created_at FROM join_requests
                 WHERE team_id = ?1 AND invitation_id = ?2",
                params![team, invitation_id],
                |row| {
                    Ok(JoinRequest {
                        invitation_id: invitation_id.to_owned(),
                        card_json: row.get(0)?,
                        proof: row.get(1)?,
                        created_at: row.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn put_key_packages(&self, team: &str, packages: &[KeyPackageRow]) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for p in packages {
            tx.execute(
                "INSERT OR REPLACE INTO key_packages (team_id, recipient, epoch, json)
                 VALUES (?1, ?2, ?3, ?4)",
                params![team, p.recipient, p.epoch, p.json],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn key_packages(&self, team: &str, recipient: &str) -> Result<Vec<KeyPackageRow>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT epoch, json FROM key_packages WHERE team_id = ?1 AND recipient = ?2
             ORDER BY epoch",
        )?;
        let rows = stmt.query_map(params![team, recipient], |row| {
            Ok(KeyPackageRow {
                recipient: recipient.to_owned(),
                epoch: row.get(0)?,
                json: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn put_wipe_report(&self, team: &str, device: &str, json: &str) -> Result<()> {
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO wipe_reports (team_id, device, json) VALUES (?1, ?2, ?3)
             ON CONFLICT (team_id, device) DO UPDATE SET json = excluded.json",
            params![team, device, json],
        )?;
        Ok(())
    }

    fn wipe_reports(&self, team: &str) -> Result<Vec<String>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached("SELECT json FROM wipe_reports WHERE team_id = ?1 ORDER BY device")?;
        let rows = stmt.query_map([team], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reopening_keeps_the_schema_and_a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.db");
        drop(SqliteStorage::open(&path).unwrap());
        drop(SqliteStorage::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let error = SqliteStorage::open(&path).err().unwrap();
        assert!(error.to_string().contains("schema version 99"), "{error}");
    }

    /// Pushes from many devices at once are committed in groups; each gets its own answer,
    /// no sequence is handed out twice, and a push that fails fails alone.
    #[test]
    fn concurrent_pushes_each_get_their_own_answer() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(&dir.path().join("relay.db")).unwrap();
        storage
            .conn()
            .unwrap()
            .execute("INSERT INTO teams (team_id, created_at) VALUES ('t', 0)", [])
            .unwrap();
        let envelope = |device: u8, n: u8| NewEnvelope {
            hash: [
                device, n, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                7, 7, 7, 7, 7, 7,
            ],
            doc_id: [device; 16],
            author: [device; 16],
            kind: crate::storage::StoredKind::Changes,
            covers_server_seq: None,
            bytes: vec![device, n],
            readers: Vec::new(),
        };
        let seqs = std::thread::scope(|scope| {
            let devices: Vec<_> = (0..8u8)
                .map(|device| {
                    let storage = &storage;
                    scope.spawn(move || {
                        let mut seqs = Vec::new();
                        for n in 0..20u8 {
                            let pushed =
                                storage.push_envelopes("t", &[envelope(device, n)], None).unwrap();
                            assert_eq!(pushed[0].hash, envelope(device, n).hash, "its own answer");
                            seqs.push(pushed[0].server_seq);
                            let refused = storage.push_envelopes(
                                "no-such-team",
                                &[envelope(device, n)],
                                None,
                            );
                            assert!(refused.is_err(), "an unknown team fails alone");
                        }
                        seqs
                    })
                })
                .collect();
            devices.into_iter().flat_map(|d| d.join().unwrap()).collect::<Vec<u64>>()
        });
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (1..=160).collect::<Vec<u64>>());
    }

    #[test]
    fn a_seen_request_is_refused_until_it_expires() {
        let storage = SqliteStorage::open_in_memory().unwrap();
        let hash = [3u8; 32];
        assert!(storage.record_request("t", "d", &hash, 1_000, 0).unwrap());
        assert!(!storage.record_request("t", "d", &hash, 1_000, 500).unwrap());
        // Past its expiry the row is dropped (the timestamp check refuses it by then).
        assert!(storage.record_request("t", "d", &hash, 3_000, 2_000).unwrap());
    }
}
