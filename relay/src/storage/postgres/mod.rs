//! The PostgreSQL backend, for a relay that outgrows one process and one disk: several relay
//! processes share one database and nothing else. Numbered migrations; every write that hands
//! out server sequences locks its team's row until it commits, so the sequences of a team
//! become visible in order and a reader's cursor never passes one that commits later.

#[cfg(any(test, feature = "conformance"))]
pub mod test_server;

use std::future::Future;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use eropaf_protocol::team::roster::RosterEntry;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, NoTls};

use super::{
    doc_erased, page_of, quota_exceeded, Appended, ChunkKey, Feed, Invitation, JoinRequest,
    KeyPackageRow, LogRow, NewEnvelope, Page, SeenRequest, Storage,
};
use crate::error::{ErrorCode, RelayError, Result};

/// Migration `n` (1-based) takes the schema from version n-1 to n. Append only.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_envelopes_uncompressed.sql"),
    include_str!("migrations/0003_attachment_chunks.sql"),
];

/// Held while migrating, so that two relay processes starting together migrate once.
const MIGRATION_LOCK: i64 = 0x6572_6f70_6166;

/// Connections per relay process. Each pull or push holds one for its transaction; more
/// would only queue inside Postgres.
const POOL_SIZE: usize = 16;

/// How long a call waits for a connection to the database before it fails (and the device
/// retries later): a restarting server must not hold requests for minutes.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a call waits for one of the pool's connections before it fails.
const POOL_WAIT: Duration = Duration::from_secs(60);

/// How often `record_request` also clears expired request signatures.
const PRUNE_SEEN_EVERY: u64 = 256;

/// PostgreSQL storage. The `Storage` trait is synchronous (the HTTP layer calls it on tokio's
/// blocking pool), so calls run their async queries to completion on the calling thread,
/// while the pool's connections are driven by a small runtime of the storage's own: it
/// works the same under the relay's runtime, the CLI's and a plain test.
pub struct PostgresStorage {
    pool: Pool,
    /// `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    requests_recorded: std::sync::atomic::AtomicU64,
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://user@host:port/db`, or key=value
    /// form) and brings its schema up to date.
    pub fn connect(url: &str) -> Result<PostgresStorage> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| RelayError::storage(format!("not a PostgreSQL address: {e}")))?;
        config.connect_timeout(CONNECT_TIMEOUT);
        config.application_name("eropaf-relay");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("eropaf-postgres")
            .enable_all()
            .build()
            .map_err(|e| RelayError::storage(format!("no runtime for PostgreSQL: {e}")))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = {
            let _entered = runtime.enter();
            Pool::builder(manager)
                .max_size(POOL_SIZE)
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .create_timeout(Some(CONNECT_TIMEOUT))
                // A burst of pulls (a thousand phones syncing at nine) queues for the pool
                // rather than failing: at 1,000 devices a 10 s wait answered hundreds of pulls
                // with an error.
                .wait_timeout(Some(POOL_WAIT))
                .build()
                .map_err(|e| RelayError::storage(format!("PostgreSQL pool: {e}")))?
        };
        let storage = PostgresStorage {
            pool,
            runtime: Some(runtime),
            requests_recorded: std::sync::atomic::AtomicU64::new(0),
        };
        storage.migrate()?;
        Ok(storage)
    }

    /// Where `url` points, for a status line or an error: hosts, ports and database, never
    /// the user's password.
    pub fn describe(url: &str) -> String {
        let Ok(config) = url.parse::<tokio_postgres::Config>() else {
            return "(geen geldig PostgreSQL-adres)".into();
        };
        let hosts: Vec<String> = config
            .get_hosts()
            .iter()
            .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
            .map(|(host, port)| match host {
                tokio_postgres::config::Host::Tcp(name) => format!("{name}:{port}"),
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        format!("{}/{}", hosts.join(","), config.get_dbname().unwrap_or("(standaard)"))
    }

    fn run<T>(&self, work: impl Future<Output = Result<T>>) -> Result<T> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| RelayError::storage("the PostgreSQL storage is closing"))?;
        runtime.block_on(work)
    }

    fn migrate(&self) -> Result<()> {
        self.run(async {
            let mut client = self.pool.get().await?;
            client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await?;
            let migrated = async {
                client
                    .batch_execute(
                        "CREATE TABLE IF NOT EXISTS schema_migrations (
                             version    BIGINT PRIMARY KEY,
                             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                    )
                    .await?;
                let row =
                    client.query_one("SELECT MAX(version) FROM schema_migrations", &[]).await?;
                let version: i64 = row.get::<_, Option<i64>>(0).unwrap_or(0);
                let known = MIGRATIONS.len() as i64;
                if version > known {
                    return Err(RelayError::storage(format!(
                        "the database has schema version {version}; this relay knows up to {known}"
                    )));
                }
                for (i, sql) in
                    MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0))
                {
                    let tx = client.transaction().await?;
                    tx.batch_execute(sql).await?;
                    tx.execute(
                        "INSERT INTO schema_migrations (version) VALUES ($1)",
                        &[&(i as i64 + 1)],
                    )
                    .await?;
                    tx.commit().await?;
                }
                Ok(())
            }
            .await;
            client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await?;
            migrated
        })
    }
}

impl Drop for PostgresStorage {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which tokio refuses inside another runtime (the relay's
        // serve future owns the storage): let its threads wind down in the background.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn seq_to_sql(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn seq_from_sql(seq: i64) -> u64 {
    u64::try_from(seq).unwrap_or(0)
}

fn no_team() -> RelayError {
    RelayError::not_found(ErrorCode::TeamNotFound, "No such team.")
}

/// Locks the team's row for the rest of the transaction and returns its last sequence.
async fn lock_team(tx: &deadpool_postgres::Transaction<'_>, team: &str) -> Result<i64> {
    let stmt =
        tx.prepare_cached("SELECT last_seq FROM teams WHERE team_id = $1 FOR UPDATE").await?;
    let row = tx.query_opt(&stmt, &[&team]).await?.ok_or_else(no_team)?;
    Ok(row.get(0))
}

/// Records a request's signature as seen inside the caller's transaction; `false` when it
/// was seen before and has not expired. A signature seen before and expired since is taken
/// as new (the timestamp check refuses such a request by then anyway).
async fn record_seen_in(
    tx: &deadpool_postgres::Transaction<'_>,
    team: &str,
    seen: &SeenRequest,
) -> Result<bool> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO seen_requests (signature_hash, team_id, device, expires_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (signature_hash) DO UPDATE
                SET team_id = excluded.team_id, device = excluded.device,
                    expires_at = excluded.expires_at
                WHERE seen_requests.expires_at < $5",
        )
        .await?;
    let hash = &seen.signature_hash[..];
    let recorded =
        tx.execute(&stmt, &[&hash, &team, &seen.device, &seen.expires_at, &seen.now]).await?;
    Ok(recorded == 1)
}

/// `Storage::compact` inside the caller's transaction.
async fn compact_in(
    tx: &deadpool_postgres::Transaction<'_>,
    team: &str,
    doc_id: &[u8; 16],
    covers: u64,
) -> Result<usize> {
    let covers = seq_to_sql(covers);
    let doc = &doc_id[..];
    let keep = tx
        .prepare_cached(
            "SELECT MAX(server_seq) FROM envelopes
             WHERE team_id = $1 AND doc_id = $2 AND kind = 'snapshot' AND NOT tombstoned
               AND server_seq <= $3",
        )
        .await?;
    let keep: Option<i64> = tx.query_one(&keep, &[&team, &doc, &covers]).await?.get(0);
    let delete = tx
        .prepare_cached(
            "DELETE FROM envelopes
             WHERE team_id = $1 AND doc_id = $2 AND kind IN ('changes', 'snapshot')
               AND NOT tombstoned AND server_seq <= $3 AND server_seq != $4",
        )
        .await?;
    let deleted = tx.execute(&delete, &[&team, &doc, &covers, &keep.unwrap_or(-1)]).await?;
    Ok(usize::try_from(deleted).unwrap_or(usize::MAX))
}

/// Appends one push's batch inside the caller's transaction (see `Storage::push_envelopes`).
async fn push_in(
    tx: &deadpool_postgres::Transaction<'_>,
    team: &str,
    batch: &[NewEnvelope],
) -> Result<Vec<Appended>> {
    let mut last_seq = lock_team(tx, team).await?;
    let find =
        tx.prepare_cached("SELECT server_seq FROM envelopes WHERE team_id = $1 AND hash = $2");
    let erased = tx.prepare_cached(
        "SELECT server_seq FROM envelopes WHERE team_id = $1 AND doc_id = $2 AND tombstoned",
    );
    let insert = tx.prepare_cached(
        "INSERT INTO envelopes (team_id, server_seq, hash, doc_id, author, kind, bytes)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    );
    let add_reader = tx.prepare_cached(
        "INSERT INTO doc_readers (team_id, doc_id, device, active) VALUES ($1, $2, $3, TRUE)
         ON CONFLICT (team_id, doc_id, device) DO UPDATE SET active = TRUE",
    );
    let (find, erased, insert, add_reader) =
        (find.await?, erased.await?, insert.await?, add_reader.await?);
    let mut out = Vec::with_capacity(batch.len());
    for envelope in batch {
        let hash = &envelope.hash[..];
        let doc = &envelope.doc_id[..];
        let existing: Option<i64> = tx.query_opt(&find, &[&team, &hash]).await?.map(|r| r.get(0));
        let tombstone: Option<i64> = tx.query_opt(&erased, &[&team, &doc]).await?.map(|r| r.get(0));
        // Erased documents keep no readers: their tombstone is everyone's.
        if tombstone.is_none() {
            for device in &envelope.readers {
                tx.execute(&add_reader, &[&team, &doc, device]).await?;
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
        let author = &envelope.author[..];
        let params: [&(dyn ToSql + Sync); 7] =
            [&team, &last_seq, &hash, &doc, &author, &envelope.kind.as_str(), &envelope.bytes];
        tx.execute(&insert, &params).await?;
        if let Some(covers) = envelope.covers_server_seq {
            // A snapshot cannot cover itself or anything after it.
            let covers = covers.min(seq_from_sql(last_seq - 1));
            compact_in(tx, team, &envelope.doc_id, covers).await?;
        }
        out.push(Appended {
            hash: envelope.hash,
            server_seq: seq_from_sql(last_seq),
            duplicate: false,
            erased: false,
        });
    }
    let update = tx.prepare_cached("UPDATE teams SET last_seq = $2 WHERE team_id = $1").await?;
    tx.execute(&update, &[&team, &last_seq]).await?;
    Ok(out)
}

/// `Storage::pull_envelopes` inside the caller's snapshot.
/// What a pull selects, and which entries the reader (`$6`) may have: those of documents
/// without readers (the whole team's) and of documents it reads.
macro_rules! pull_sql {
    ($filter:literal) => {
        concat!(
            "SELECT e.server_seq, e.doc_id, e.bytes, e.tombstoned, e.author FROM envelopes e
             WHERE e.team_id = $1 AND e.server_seq > $2 AND e.server_seq <= $3 AND ",
            $filter,
            " AND (NOT EXISTS (SELECT 1 FROM doc_readers r
                               WHERE r.team_id = e.team_id AND r.doc_id = e.doc_id)
                   OR EXISTS (SELECT 1 FROM doc_readers r
                              WHERE r.team_id = e.team_id AND r.doc_id = e.doc_id
                                AND r.device = $6 AND r.active))
             ORDER BY e.server_seq LIMIT $4"
        )
    };
}
const PULL_TEAM: &str = pull_sql!("$5::bytea IS NULL");
const PULL_DOC: &str = pull_sql!("e.doc_id = $5");

async fn pull_in(
    tx: &deadpool_postgres::Transaction<'_>,
    team: &str,
    feed: &Feed<'_>,
) -> Result<Page> {
    let last = tx.prepare_cached("SELECT last_seq FROM teams WHERE team_id = $1").await?;
    let last_seq: i64 = tx.query_opt(&last, &[&team]).await?.map_or(0, |row| row.get(0));
    let until = feed.until.map_or(last_seq, |until| seq_to_sql(until).min(last_seq));
    // One document's history by its own index (see the SQLite backend's `pull_in`).
    let select = tx.prepare_cached(if feed.doc.is_some() { PULL_DOC } else { PULL_TEAM }).await?;
    let fetch = i64::try_from(feed.limit).unwrap_or(i64::MAX - 1).saturating_add(1);
    let doc: Option<Vec<u8>> = feed.doc.map(|d| d.to_vec());
    let after = seq_to_sql(feed.after);
    let rows = tx.query(&select, &[&team, &after, &until, &fetch, &doc, &feed.reader]).await?;
    let rows = rows.into_iter().map(|row| {
        Ok(LogRow {
            server_seq: seq_from_sql(row.try_get(0)?),
            doc_id: row.try_get(1)?,
            bytes: row.try_get(2)?,
            tombstoned: row.try_get(3)?,
            author: row.try_get(4)?,
        })
    });
    page_of(rows, feed, seq_from_sql(until))
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

impl Storage for PostgresStorage {
    fn schema_version(&self) -> Result<i64> {
        self.run(async {
            let client = self.pool.get().await?;
            let row = client.query_one("SELECT MAX(version) FROM schema_migrations", &[]).await?;
            Ok(row.get::<_, Option<i64>>(0).unwrap_or(0))
        })
    }

    fn add_registration_code(&self, code_hash: &[u8; 32], now: i64) -> Result<()> {
        self.run(async {
            let client = self.pool.get().await?;
            client
                .execute(
                    "INSERT INTO registration_codes (code_hash, created_at) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING",
                    &[&&code_hash[..], &now],
                )
                .await?;
            Ok(())
        })
    }

    fn create_team(
        &self,
        team: &str,
        genesis: &RosterEntry,
        code_hash: &[u8; 32],
        now: i64,
    ) -> Result<()> {
        let entry = entry_json(genesis)?;
        self.run(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let created = tx
                .execute(
                    "INSERT INTO teams (team_id, created_at) VALUES ($1, $2)
                     ON CONFLICT DO NOTHING",
                    &[&team, &now],
                )
                .await?;
            if created == 0 {
                return Err(RelayError::conflict(
                    ErrorCode::TeamExists,
                    format!("Team {team} already exists."),
                ));
            }
            // The code and the team in one transaction: a code registers exactly one team.
            let used = tx
                .execute(
                    "UPDATE registration_codes SET used_at = $2, team_id = $3
                     WHERE code_hash = $1 AND used_at IS NULL",
                    &[&&code_hash[..], &now, &team],
                )
                .await?;
            if used == 0 {
                return Err(RelayError::forbidden(
                    ErrorCode::BadRegistrationCode,
                    "Registering a team takes an unused registration code from the relay's \
                     operator.",
                ));
            }
            tx.execute(
                "INSERT INTO roster_entries (team_id, idx, entry) VALUES ($1, 0, $2)",
                &[&team, &entry],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn roster_entries(&self, team: &str, from: u64) -> Result<Option<Vec<RosterEntry>>> {
        self.run(async {
            let mut client = self.pool.get().await?;
            // One snapshot: the team's existence and its entries of the same moment.
            let tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let exists =
                tx.query_opt("SELECT 1 FROM teams WHERE team_id = $1", &[&team]).await?.is_some();
            if !exists {
                return Ok(None);
            }
            let stmt = tx
                .prepare_cached(
                    "SELECT entry FROM roster_entries WHERE team_id = $1 AND idx >= $2
                     ORDER BY idx",
                )
                .await?;
            let rows = tx.query(&stmt, &[&team, &seq_to_sql(from)]).await?;
            let mut entries = Vec::with_capacity(rows.len());
            for row in rows {
                let json: String = row.get(0);
                entries.push(serde_json::from_str(&json).map_err(|e| {
                    RelayError::storage(format!("a stored roster entry does not parse: {e}"))
                })?);
            }
            tx.commit().await?;
            Ok(Some(entries))
        })
    }

    fn append_roster(&self, team: &str, entries: &[RosterEntry]) -> Result<()> {
        let jsons = entries.iter().map(entry_json).collect::<Result<Vec<_>>>()?;
        self.run(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            // Two processes appending at once: the second waits here, then sees the first's
            // entries and reports the conflict.
            lock_team(&tx, team).await?;
            let len: i64 = tx
                .query_one("SELECT COUNT(*) FROM roster_entries WHERE team_id = $1", &[&team])
                .await?
                .get(0);
            for (i, (entry, json)) in entries.iter().zip(&jsons).enumerate() {
                if seq_to_sql(entry.index) != len + i as i64 {
                    return Err(RelayError::conflict(
                        ErrorCode::RosterChanged,
                        "The roster changed while this request was checked; fetch it and try \
                         again.",
                    ));
                }
                tx.execute(
                    "INSERT INTO roster_entries (team_id, idx, entry) VALUES ($1, $2, $3)",
                    &[&team, &seq_to_sql(entry.index), json],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn record_request(
        &self,
        team: &str,
        device: &str,
        signature_hash: &[u8; 32],
        expires_at: i64,
        now: i64,
    ) -> Result<bool> {
        let prune = self
            .requests_recorded
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .is_multiple_of(PRUNE_SEEN_EVERY);
        self.run(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            // Not waited for on disk, as on SQLite: a crash may forget the last signatures
            // seen, and every request is idempotent or serves its signer's team ciphertext.
            tx.batch_execute("SET LOCAL synchronous_commit TO OFF").await?;
            let seen = SeenRequest {
                device: device.to_owned(),
                signature_hash: *signature_hash,
                expires_at,
                now,
            };
            let recorded = record_seen_in(&tx, team, &seen).await?;
            if prune {
                // SKIP LOCKED: processes pruning at once take different rows, never wait.
                tx.execute(
                    "DELETE FROM seen_requests WHERE signature_hash IN (
                         SELECT signature_hash FROM seen_requests WHERE expires_at < $1
                         LIMIT 10000 FOR UPDATE SKIP LOCKED)",
                    &[&now],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(recorded)
        })
    }

    fn push_envelopes(
        &self,
        team: &str,
        batch: &[NewEnvelope],
        seen: Option<&SeenRequest>,
    ) -> Result<Vec<Appended>> {
        self.run(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            if let Some(seen) = seen {
                if !record_seen_in(&tx, team, seen).await? {
                    return Err(RelayError::conflict(
                        ErrorCode::ReplayedRequest,
                        "This exact request was received before; sign a new one.",
                    ));
                }
            }
            let appended = push_in(&tx, team, batch).await?;
            tx.commit().await?;
            Ok(appended)
        })
    }

    fn pull_envelopes(&self, team: &str, feed: &Feed<'_>) -> Result<Page> {
        self.run(async {
            let mut client = self.pool.get().await?;
            // One snapshot: the bound and the rows are of the same moment. Sequences become
            // visible in order (see `lock_team`), so the snapshot holds every sequence up to
            // the bound and the reader's next cursor skips none.
            let tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let page = pull_in(&tx, team, feed).await?;
            tx.commit().await?;
            Ok(page)
        })
    }

    fn leave_doc(&self, team: &str, doc_id: &[u8; 16], device: &str) -> Result<()> {
        self.run(async {
            let client = self.pool.get().await?;
            client
                .execute(
                    "UPDATE doc_readers SET active = FALSE
                     WHERE team_id = $1 AND doc_id = $2 AND device = $3",
                    &[&team, &&doc_id[..], &device],
                )
                .await?;
            Ok(())
        })
    }

    fn may_read(&self, team: &str, doc_id: &[u8; 16], device: &str) -> Result<bool> {
        self.run(async {
            let client = self.pool.get().await?;
            let doc = &doc_id[..];
            let row = client
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM envelopes
                                    WHERE team_id = $1 AND doc_id = $2 AND tombstoned),
                            NOT EXISTS (SELECT 1 FROM doc_readers
                                        WHERE team_id = $1 AND doc_id = $2)
                            OR EXISTS (SELECT 1 FROM doc_readers
                                       WHERE team_id = $1 AND doc_id = $2 AND device = $3
                                         AND active)",
                    &[&team, &doc, &device],
                )
                .await?;
            if row.try_get::<_, bool>(0)? {
                return Err(doc_erased());
            }
            Ok(row.try_get(1)?)
        })
    }

    fn put_chunk(&self, team: &str, key: &ChunkKey<'_>, bytes: &[u8]) -> Result<bool> {
        self.run(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            // The team's lock orders this against an erasure of the document.
            lock_team(&tx, team).await?;
            let doc = &key.doc_id[..];
            let file = &key.attachment[..];
            let index = i32::try_from(key.index)
                .map_err(|_| RelayError::bad_request(ErrorCode::BadId, "No such chunk index."))?;
            let row = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM envelopes
                                    WHERE team_id = $1 AND doc_id = $2 AND tombstoned),
                            EXISTS (SELECT 1 FROM attachment_chunks
                                    WHERE team_id = $1 AND doc_id = $2 AND author = $3
                                      AND attachment_id = $4 AND idx = $5),
                            (SELECT COALESCE(SUM(size), 0)::BIGINT FROM attachment_chunks
                             WHERE team_id = $1 AND doc_id = $2)",
                    &[&team, &doc, &key.author, &file, &index],
                )
                .await?;
            if row.try_get::<_, bool>(0)? {
                return Err(doc_erased());
            }
            if row.try_get::<_, bool>(1)? {
                return Ok(false);
            }
            let stored = u64::try_from(row.try_get::<_, i64>(2)?).unwrap_or(u64::MAX);
            let size = bytes.len() as u64;
            if stored.saturating_add(size) > super::MAX_DOC_ATTACHMENT_BYTES {
                return Err(quota_exceeded());
            }
            let size = i64::try_from(size).unwrap_or(i64::MAX);
            tx.execute(
                "INSERT INTO attachment_chunks
                     (team_id, doc_id, author, attachment_id, idx, size, bytes)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&team, &doc, &key.author, &file, &index, &size, &bytes],
            )
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    fn chunk_indices(
        &self,
        team: &str,
        doc_id: &[u8; 16],
        author: &str,
        attachment: &[u8; 16],
    ) -> Result<Vec<u32>> {
        self.run(async {
            let client = self.pool.get().await?;
            let rows = client
                .query(
                    "SELECT idx FROM attachment_chunks
                     WHERE team_id = $1 AND doc_id = $2 AND author = $3 AND attachment_id = $4
                     ORDER BY idx",
                    &[&team, &&doc_id[..], &author, &&attachment[..]],
                )
                .await?;
            rows.iter()
                .map(|row| {
                    let index: i32 = row.try_get(0)?;
                    u32::try_from(index)
                        .map_err(|_| RelayError::storage("a stored chunk index is negative"))
                })
                .collect()
        })
    }

    fn chunk(&self, team: &str, key: &ChunkKey<'_>) -> Result<Option<Vec<u8>>> {
        self.run(async {
            let client = self.pool.get().await?;
            let Ok(index) = i32::try_from(key.index) else { return Ok(None) };
            let row = client
                .query_opt(
                    "SELECT bytes FROM attachment_chunks
                     WHERE team_id = $1 AND doc_id = $2 AND author = $3 AND attachment_id = $4
                       AND idx = $5",
                    &[&team, &&key.doc_id[..], &key.author, &&key.attachment[..], &index],
                )
                .await?;
            Ok(row.map(|row| row.try_get(0)).transpose()?)
        })
    }

    fn compact(&self, team: &str, doc_id: &[u8; 16], covers: u64) -> Result<usize> {
        self.run(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            lock_team(&tx, team).await?;
            let deleted = compact_in(&tx, team, doc_id, covers).await?;
            tx.commit().await?;
            Ok(deleted)
        })
    }

    fn erase_doc(
        &self,
        team: &str,
        doc_id: &[u8; 16],
        author: &[u8; 16],
        signature: &[u8],
    ) -> Result<u64> {
        self.run(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let last_seq = lock_team(&tx, team).await?;
            let doc = &doc_id[..];
            // The same order again is a no-op; any other tombstone gives way to this one.
            let existing = tx
                .query_opt(
                    "SELECT server_seq FROM envelopes
                     WHERE team_id = $1 AND doc_id = $2 AND tombstoned AND bytes = $3",
                    &[&team, &doc, &signature],
                )
                .await?;
            if let Some(row) = existing {
                return Ok(seq_from_sql(row.get(0)));
            }
            tx.execute("DELETE FROM envelopes WHERE team_id = $1 AND doc_id = $2", &[&team, &doc])
                .await?;
            tx.execute(
                "DELETE FROM attachment_chunks WHERE team_id = $1 AND doc_id = $2",
                &[&team, &doc],
            )
            .await?;
            let seq = last_seq + 1;
            let author = &author[..];
            tx.execute(
                "INSERT INTO envelopes
                     (team_id, server_seq, hash, doc_id, author, kind, bytes, tombstoned)
                 VALUES ($1, $2, NULL, $3, $4, 'erased', $5, TRUE)",
                &[&team, &seq, &doc, &author, &signature],
            )
            .await?;
            tx.execute("UPDATE teams SET last_seq = $2 WHERE team_id = $1", &[&team, &seq]).await?;
            tx.commit().await?;
            Ok(seq_from_sql(seq))
        })
    }

    fn put_invitation(&self, team: &str, invitation: &Invitation) -> Result<()> {
        self.run(async {
            let client = self.pool.get().await?;
            let inserted = client
                .execute(
                    "INSERT INTO invitations (team_id, invitation_id, invitation_key, expires_at)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    &[
                        &team,
                        &invitation.invitation_id,
                        &invitation.invitation_key,
                        &invitation.expires_at,
                    ],
                )
                .await?;
            if inserted == 0 {
                return Err(RelayError::conflict(
                    ErrorCode::InvitationExists,
                    "An invitation with this id already exists.",
                ));
            }
            Ok(())
        })
    }

    fn invitation(&self, team: &str, invitation_id: &str) -> Result<Option<Invitation>> {
        self.run(async {
            let client = self.pool.get().await?;
            let row = client
                .query_opt(
                    "SELECT invitation_key, expires_at, used_at FROM invitations
                     WHERE team_id = $1 AND invitation_id = $2",
                    &[&team, &invitation_id],
                )
                .await?;
            Ok(row.map(|row| Invitation {
                invitation_id: invitation_id.to_owned(),
                invitation_key: row.get(0),
                expires_at: row.get(1),
                used_at: row.get(2),
            }))
        })
    }

    fn use_invitation(&self, team: &str, request: &JoinRequest, now: i64) -> Result<()> {
        self.run(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            // FOR UPDATE: a second process using the same invitation waits, then sees it used.
            let state = tx
                .query_opt(
                    "SELECT expires_at, used_at FROM invitations
                     WHERE team_id = $1 AND invitation_id = $2 FOR UPDATE",
                    &[&team, &request.invitation_id],
                )
                .await?
                .map(|row| (row.get::<_, i64>(0), row.get::<_, Option<i64>>(1)));
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
                "UPDATE invitations SET used_at = $3 WHERE team_id = $1 AND invitation_id = $2",
                &[&team, &request.invitation_id, &now],
            )
            .await?;
            tx.execute(
                "INSERT INTO join_requests (team_id, invitation_id, card, proof, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &team,
                    &request.invitation_id,
                    &request.card_json,
                    &request.proof,
                    &request.created_at,
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn join_requests(&self, team: &str) -> Result<Vec<JoinRequest>> {
        self.run(async {
            let client = self.pool.get().await?;
            let rows = client
                .query(
                    "SELECT invitation_id, card, proof, created_at FROM join_requests
                     WHERE team_id = $1 ORDER BY created_at, invitation_id",
                    &[&team],
                )
                .await?;
            Ok(rows
                .into_iter()
                .map(|row| JoinRequest {
                    invitation_id: row.get(0),
                    card_json: row.get(1),
                    proof: row.get(2),
                    created_at: row.get(3),
                })
                .collect())
        })
    }

    fn join_request(&self, team: &str, invitation_id: &str) -> Result<Option<JoinRequest>> {
        self.run(async {
            let client = self.pool.get().await?;
            let row = client
                .query_opt(
                    "SELECT card, proof, created_at FROM join_requests
                     WHERE team_id = $1 AND invitation_id = $2",
                    &[&team, &invitation_id],
                )
                .await?;
            Ok(row.map(|row| JoinRequest {
                invitation_id: invitation_id.to_owned(),
                card_json: row.get(0),
                proof: row.get(1),
                created_at: row.get(2),
            }))
        })
    }

    fn put_key_packages(&self, team: &str, packages: &[KeyPackageRow]) -> Result<()> {
        self.run(async {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            for p in packages {
                tx.execute(
                    "INSERT INTO key_packages (team_id, recipient, epoch, json)
                     VALUES ($1, $2, $3, $4)
                     ON CONFLICT (team_id, recipient, epoch) DO UPDATE SET json = excluded.json",
                    &[&team, &p.recipient, &i64::from(p.epoch), &p.json],
                )
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn key_packages(&self, team: &str, recipient: &str) -> Result<Vec<KeyPackageRow>> {
        self.run(async {
            let client = self.pool.get().await?;
            let rows = client
                .query(
                    "SELECT epoch, json FROM key_packages WHERE team_id = $1 AND recipient = $2
                     ORDER BY epoch",
                    &[&team, &recipient],
                )
                .await?;
            rows.into_iter()
                .map(|row| {
                    Ok(KeyPackageRow {
                        recipient: recipient.to_owned(),
                        epoch: u32::try_from(row.get::<_, i64>(0))
                            .map_err(|_| RelayError::storage("a stored epoch is out of range"))?,
                        json: row.get(1),
                    })
                })
                .collect()
        })
    }

    fn put_wipe_report(&self, team: &str, device: &str, json: &str) -> Result<()> {
        self.run(async {
            let client = self.pool.get().await?;
            client
                .execute(
                    "INSERT INTO wipe_reports (team_id, device, json) VALUES ($1, $2, $3)
                     ON CONFLICT (team_id, device) DO UPDATE SET json = excluded.json",
                    &[&team, &device, &json],
                )
                .await?;
            Ok(())
        })
    }

    fn wipe_reports(&self, team: &str) -> Result<Vec<String>> {
        self.run(async {
            let client = self.pool.get().await?;
            let rows = client
                .query("SELECT json FROM wipe_reports WHERE team_id = $1 ORDER BY device", &[&team])
                .await?;
            Ok(rows.into_iter().map(|row| row.get(0)).collect())
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed step in a test should stop it right there

    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::test_server::TestServer;
    use super::*;
    use crate::storage::StoredKind;

    /// Counts a thread as ended when dropped, also when it unwinds.
    struct Ended<'a>(&'a AtomicUsize);

    impl Drop for Ended<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn team(storage: &PostgresStorage) -> String {
        storage
            .run(async {
                let client = storage.pool.get().await?;
                client
                    .execute("INSERT INTO teams (team_id, created_at) VALUES ('t', 0)", &[])
                    .await?;
                Ok(())
            })
            .unwrap();
        "t".into()
    }

    fn envelope(pusher: u8, n: u32) -> NewEnvelope {
        let mut hash = [0u8; 32];
        hash[0] = pusher;
        hash[1..5].copy_from_slice(&n.to_be_bytes());
        NewEnvelope {
            hash,
            doc_id: [pusher; 16],
            author: [pusher; 16],
            kind: StoredKind::Changes,
            covers_server_seq: None,
            bytes: hash.to_vec(),
            readers: Vec::new(),
        }
    }

    #[test]
    fn migrating_again_keeps_the_schema_and_a_newer_schema_is_refused() {
        let url = TestServer::shared().fresh_database();
        let first = PostgresStorage::connect(&url).unwrap();
        let again = PostgresStorage::connect(&url).unwrap();
        assert_eq!(again.schema_version().unwrap(), MIGRATIONS.len() as i64);
        first
            .run(async {
                let client = first.pool.get().await?;
                client.execute("INSERT INTO schema_migrations (version) VALUES (99)", &[]).await?;
                Ok(())
            })
            .unwrap();
        let error = PostgresStorage::connect(&url).err().unwrap();
        assert!(error.to_string().contains("schema version 99"), "{error}");
    }

    #[test]
    fn a_status_line_never_shows_the_password() {
        let shown = PostgresStorage::describe("postgres://relay:geheim@db.example:6543/eropaf");
        assert_eq!(shown, "db.example:6543/eropaf");
        assert!(!PostgresStorage::describe("host=db password=geheim").contains("geheim"));
    }

    /// The classic gap of sequence-numbered feeds: with concurrent writers, a sequence can
    /// commit after a higher one, and a reader whose cursor already passed it never sees it.
    /// Here four pushers and three readers, each on a storage of its own as separate relay
    /// processes would be (own pool, own runtime, nothing shared but the database), run at
    /// once; every reader must get every envelope exactly once.
    #[test]
    fn concurrent_pushes_through_separate_relays_reach_every_reader_exactly_once() {
        const PUSHERS: u8 = 4;
        const PUSHES: u32 = 60;
        const SECOND: u32 = 1_000_000;
        let url = TestServer::shared().fresh_database();
        let setup = PostgresStorage::connect(&url).unwrap();
        let team = team(&setup);
        // Pushers that ended, panicking or not (a guard counts them), so readers always stop.
        let pushing_done = AtomicUsize::new(0);
        let per_pusher = PUSHES as usize + PUSHES.div_ceil(3) as usize;
        let expected = usize::from(PUSHERS) * per_pusher;
        let (pushed, readers) = std::thread::scope(|scope| {
            let pushers: Vec<_> = (0..PUSHERS)
                .map(|pusher| {
                    let (url, team, done) = (url.clone(), team.clone(), &pushing_done);
                    scope.spawn(move || {
                        let _ended = Ended(done);
                        let relay = PostgresStorage::connect(&url).unwrap();
                        let mut seqs = Vec::new();
                        for n in 0..PUSHES {
                            // Batches of one and two, so transactions differ in length.
                            let batch: Vec<_> = if n % 3 == 0 {
                                vec![envelope(pusher, n), envelope(pusher, n + SECOND)]
                            } else {
                                vec![envelope(pusher, n)]
                            };
                            for appended in relay.push_envelopes(&team, &batch, None).unwrap() {
                                seqs.push(appended.server_seq);
                            }
                        }
                        seqs
                    })
                })
                .collect();
            let readers: Vec<_> = (0..3)
                .map(|_| {
                    let (url, team, done) = (url.clone(), team.clone(), &pushing_done);
                    scope.spawn(move || {
                        let relay = PostgresStorage::connect(&url).unwrap();
                        let mut seen: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
                        let mut after = 0;
                        loop {
                            let finished = done.load(Ordering::SeqCst) == usize::from(PUSHERS);
                            let feed = Feed {
                                reader: "reader",
                                doc: None,
                                after,
                                until: None,
                                limit: 7,
                                max_bytes: 1 << 20,
                            };
                            let page = relay.pull_envelopes(&team, &feed).unwrap();
                            for entry in &page.entries {
                                if let crate::storage::Pulled::Envelope { bytes, .. } = entry {
                                    *seen.entry(bytes.clone()).or_default() += 1;
                                }
                            }
                            after = page.next_after;
                            if finished && !page.more {
                                return seen;
                            }
                        }
                    })
                })
                .collect();
            let pushed: Vec<u64> = pushers.into_iter().flat_map(|p| p.join().unwrap()).collect();
            let readers: Vec<_> = readers.into_iter().map(|r| r.join().unwrap()).collect();
            (pushed, readers)
        });
        let mut sorted = pushed.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (1..=expected as u64).collect::<Vec<_>>(), "no sequence twice");
        for (i, seen) in readers.iter().enumerate() {
            assert_eq!(seen.len(), expected, "reader {i} missed envelopes");
            assert!(seen.values().all(|&n| n == 1), "reader {i} got an envelope twice");
        }
    }
}
