//! The store's team and sync state: the roster, epoch keys and case keys (all sealed), the
//! outbox of signed envelopes waiting for the relay, and this device's envelope chain per
//! document.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension};
use zeroize::Zeroizing;

use super::{Store, StoreTx};
use crate::crypto::{Sealer, SecretKey};
use crate::{Error, Result};

/// A case key as stored: which version, under which epoch it was wrapped.
pub struct StoredCaseKey {
    pub version: u32,
    pub epoch: u32,
    pub key: SecretKey,
}

/// This device's position in its own chain of envelopes for one document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnChain {
    pub seq: u64,
    pub prev: Option<[u8; 32]>,
}

impl Store {
    /// Roster entries as stored (JSON), in order.
    pub fn roster_entries(&self) -> Result<Vec<Vec<u8>>> {
        roster_entries(&self.conn, &self.sealer)
    }

    /// Each epoch key in its stored form (`EpochKey::to_bytes`), by epoch.
    pub fn epoch_keys(&self) -> Result<Vec<(u32, Zeroizing<Vec<u8>>)>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT epoch, key FROM epoch_keys ORDER BY epoch")?;
        let mut rows = stmt.query([])?;
        let mut keys = Vec::new();
        while let Some(row) = rows.next()? {
            let epoch: u32 = row.get(0)?;
            let sealed: Vec<u8> = row.get(1)?;
            let key = self.sealer.open(epoch_aad(epoch).as_bytes(), &sealed)?;
            keys.push((epoch, Zeroizing::new(key)));
        }
        Ok(keys)
    }

    /// Whether this device has taken in anything of the document: its content, a key, an
    /// envelope waiting, or a place in an author's chain. A document it knows nothing of
    /// that shows up in a pull past the start is one it was just made a reader of, and its
    /// history is fetched.
    pub fn knows_doc(&self, doc_id: &str) -> Result<bool> {
        let known: bool = self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM docs WHERE doc_id = ?1)
                 OR EXISTS (SELECT 1 FROM case_keys WHERE doc_id = ?1)
                 OR EXISTS (SELECT 1 FROM pending_envelopes WHERE doc_id = ?1)
                 OR EXISTS (SELECT 1 FROM author_chains WHERE doc_id = ?1)",
            )?
            .query_row([doc_id], |row| row.get(0))?;
        Ok(known)
    }

    /// Per document, the last envelope of `author`'s chain this device took in.
    pub fn author_chains_of(&self, author: &[u8; 16]) -> Result<Vec<(String, u64)>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT doc_id, seq FROM author_chains WHERE author = ?1")?;
        let rows: Vec<(String, i64)> = stmt
            .query_map([&author[..]], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(doc, seq)| Some((doc, u64::try_from(seq).ok()?)))
            .collect())
    }

    pub fn case_keys(&self, doc_id: &str) -> Result<Vec<StoredCaseKey>> {
        case_keys(&self.conn, &self.sealer, doc_id)
    }

    /// How many chunks of an attachment this device holds.
    pub fn attachment_chunks_held(&self, attachment_id: &[u8; 16]) -> Result<u32> {
        let held: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM attachment_chunks WHERE attachment_id = ?1")?
            .query_row([&attachment_id[..]], |r| r.get(0))?;
        Ok(u32::try_from(held).unwrap_or_default())
    }

    /// Chunk `index` of an attachment, sealed, when this device holds it.
    pub fn attachment_chunk(
        &self,
        attachment_id: &[u8; 16],
        index: u32,
    ) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT sealed FROM attachment_chunks WHERE attachment_id = ?1 AND idx = ?2",
            )?
            .query_row(params![&attachment_id[..], index], |r| r.get(0))
            .optional()?)
    }

    /// Per document, how many envelopes wait in the outbox.
    pub fn outbox_by_doc(&self) -> Result<Vec<(String, u64)>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT doc_id, COUNT(*) FROM outbox GROUP BY doc_id")?;
        let rows: Vec<(String, i64)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows.into_iter().map(|(doc, n)| (doc, u64::try_from(n).unwrap_or(0))).collect())
    }

    /// Files this device attached that the relay may not hold whole yet: (file, case).
    pub fn pending_uploads(&self) -> Result<Vec<([u8; 16], String)>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT attachment_id, doc_id FROM attachment_uploads")?;
        let rows: Vec<(Vec<u8>, String)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows.into_iter().filter_map(|(id, doc)| Some((id.try_into().ok()?, doc))).collect())
    }

    /// The indices of an attachment's chunks this device holds.
    pub fn attachment_chunk_indices(&self, attachment_id: &[u8; 16]) -> Result<Vec<u32>> {
        let mut indices = self
            .conn
            .prepare_cached("SELECT idx FROM attachment_chunks WHERE attachment_id = ?1")?
            .query_map([&attachment_id[..]], |r| r.get::<_, u32>(0))?
            .collect::<rusqlite::Result<Vec<u32>>>()?;
        indices.sort_unstable();
        Ok(indices)
    }

    /// Up to `limit` outbox envelopes, oldest first, with their row ids.
    pub fn outbox(&self, limit: usize) -> Result<Vec<(i64, Vec<u8>)>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT id, envelope FROM outbox ORDER BY id LIMIT ?1")?;
        let rows = stmt
            .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// Cases whose own changes still need sealing for the team: never published, or marked.
    pub fn unpublished_docs(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT doc_id FROM docs WHERE kind = 'case'
               AND (doc_id NOT IN (SELECT doc_id FROM doc_sync) OR doc_id IN (SELECT doc_id FROM unpublished))
             ORDER BY doc_id",
        )?;
        let ids = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// Documents with at least `threshold` envelopes at the relay since their last snapshot.
    pub fn docs_due_for_snapshot(&self, threshold: u32) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT doc_id FROM doc_sync WHERE since_snapshot >= ?1
               AND doc_id IN (SELECT doc_id FROM docs WHERE kind = 'case') ORDER BY doc_id",
        )?;
        let ids = stmt.query_map([threshold], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    /// Up to `limit` cases whose summary waits for changes taken in by a sync.
    pub fn stale_summaries(&self, limit: usize) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT doc_id FROM stale_summaries ORDER BY doc_id LIMIT ?1")?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let ids = stmt.query_map([limit], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    pub fn outbox_len(&self) -> Result<u64> {
        let n: i64 = self.conn.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

impl StoreTx<'_> {
    pub fn put_roster_entry(&self, index: u64, json: &[u8]) -> Result<()> {
        let index =
            i64::try_from(index).map_err(|_| Error::invalid("roster", "te veel wijzigingen"))?;
        let sealed = self.sealer.seal(roster_aad(index).as_bytes(), json)?;
        self.tx
            .prepare_cached("INSERT INTO roster_entries (idx, entry) VALUES (?1, ?2) ON CONFLICT (idx) DO NOTHING")?
            .execute(params![index, sealed])?;
        Ok(())
    }

    /// Keeps an epoch key (its stored form) this device did not have.
    pub fn put_epoch_key(&self, epoch: u32, stored: &[u8]) -> Result<()> {
        let sealed = self.sealer.seal(epoch_aad(epoch).as_bytes(), stored)?;
        self.tx
            .prepare_cached("INSERT INTO epoch_keys (epoch, key) VALUES (?1, ?2) ON CONFLICT (epoch) DO NOTHING")?
            .execute(params![epoch, sealed])?;
        Ok(())
    }

    /// Replaces an epoch key by its punctured form; the old one is shredded with the commit.
    pub fn put_punctured_epoch_key(&self, epoch: u32, stored: &[u8]) -> Result<()> {
        self.erasing();
        let sealed = self.sealer.seal(epoch_aad(epoch).as_bytes(), stored)?;
        self.tx
            .prepare_cached("UPDATE epoch_keys SET key = ?2 WHERE epoch = ?1")?
            .execute(params![epoch, sealed])?;
        Ok(())
    }

    pub fn put_case_key(
        &self,
        doc_id: &str,
        version: u32,
        epoch: u32,
        key: &SecretKey,
    ) -> Result<()> {
        let sealed = self.sealer.seal(case_key_aad(doc_id, version).as_bytes(), key.as_bytes())?;
        self.tx
            .prepare_cached(
                "INSERT INTO case_keys (doc_id, version, epoch, key) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (doc_id, version) DO NOTHING",
            )?
            .execute(params![doc_id, version, epoch, sealed])?;
        Ok(())
    }

    pub fn case_keys(&self, doc_id: &str) -> Result<Vec<StoredCaseKey>> {
        case_keys(&self.tx, self.sealer, doc_id)
    }

    /// A key this device minted for the case, for writing, and the devices it was granted to.
    pub fn put_own_case_key(
        &self,
        doc_id: &str,
        version: u32,
        epoch: u32,
        key: &SecretKey,
        readers: &[String],
    ) -> Result<()> {
        self.put_case_key(doc_id, version, epoch, key)?;
        let json = serde_json::to_vec(readers).map_err(|e| Error::Storage(e.to_string()))?;
        let sealed = self.sealer.seal(minted_for_aad(doc_id, version).as_bytes(), &json)?;
        self.tx
            .prepare_cached(
                "UPDATE case_keys SET minted_for = ?3 WHERE doc_id = ?1 AND version = ?2",
            )?
            .execute(params![doc_id, version, sealed])?;
        Ok(())
    }

    /// This device's key for writing the case in `epoch`, with the devices it was granted to.
    pub fn own_case_key(
        &self,
        doc_id: &str,
        epoch: u32,
    ) -> Result<Option<(StoredCaseKey, Vec<String>)>> {
        // The lowest version, chosen here: see `PER_DOC_READS`.
        let row: Option<(u32, Vec<u8>)> = self
            .tx
            .prepare_cached(OWN_CASE_KEYS_OF)?
            .query_map(params![doc_id, epoch], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<(u32, Vec<u8>)>>>()?
            .into_iter()
            .min_by_key(|(version, _)| *version);
        let Some((version, sealed)) = row else { return Ok(None) };
        let json = self.sealer.open(minted_for_aad(doc_id, version).as_bytes(), &sealed)?;
        let readers: Vec<String> = serde_json::from_slice(&json)
            .map_err(|e| Error::Corrupt(format!("case key readers: {e}")))?;
        let key = self
            .case_keys(doc_id)?
            .into_iter()
            .find(|k| k.version == version)
            .ok_or_else(|| Error::Corrupt("an own case key without its key".into()))?;
        Ok(Some((key, readers)))
    }

    /// The case's readers changed: this device writes under none of its keys again.
    pub fn retire_own_case_keys(&self, doc_id: &str) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE case_keys SET minted_for = NULL WHERE doc_id = ?1")?
            .execute([doc_id])?;
        Ok(())
    }

    /// Notes whether supervisor device `author`'s word on the case's readers, in its envelope
    /// `seq`, names this device; an older envelope of the same author changes nothing.
    pub fn put_declared_access(
        &self,
        doc_id: &str,
        author: &str,
        seq: u64,
        included: bool,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO declared_access (doc_id, author, seq, included) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (doc_id, author) DO UPDATE SET seq = excluded.seq,
                     included = excluded.included
                 WHERE excluded.seq > declared_access.seq",
            )?
            .execute(params![doc_id, author, i64::try_from(seq).unwrap_or(i64::MAX), included])?;
        Ok(())
    }

    /// Whether every supervisor that declared the case's readers left this device out (its
    /// newest word each); `false` when none declared.
    pub fn left_out_by_supervisors(&self, doc_id: &str) -> Result<bool> {
        let (declared, including): (i64, i64) = self
            .tx
            .prepare_cached(
                "SELECT COUNT(*), COALESCE(SUM(included), 0) FROM declared_access WHERE doc_id = ?1",
            )?
            .query_row([doc_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(declared > 0 && including == 0)
    }

    /// Notes that `recipient` holds a grant of key `version` of the case.
    pub fn put_grant_seen(&self, doc_id: &str, version: u32, recipient: &str) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO case_key_grants (doc_id, version, recipient) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![doc_id, version, recipient])?;
        Ok(())
    }

    /// Every (key version, recipient) known to hold a grant for the case.
    pub fn grants_seen(&self, doc_id: &str) -> Result<HashSet<(u32, String)>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT version, recipient FROM case_key_grants WHERE doc_id = ?1")?;
        let seen = stmt
            .query_map([doc_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(seen)
    }

    /// Crypto-shredding on this device: the case's keys, chain and pending envelopes go.
    pub fn forget_case_keys(&self, doc_id: &str) -> Result<()> {
        self.erasing();
        for sql in [
            "DELETE FROM case_keys WHERE doc_id = ?1",
            "DELETE FROM case_key_grants WHERE doc_id = ?1",
            "DELETE FROM declared_access WHERE doc_id = ?1",
            "DELETE FROM outbox WHERE doc_id = ?1",
            "DELETE FROM doc_sync WHERE doc_id = ?1",
            "DELETE FROM pending_envelopes WHERE doc_id = ?1",
            "DELETE FROM stale_summaries WHERE doc_id = ?1",
            "DELETE FROM author_chains WHERE doc_id = ?1",
        ] {
            self.tx.prepare_cached(sql)?.execute([doc_id])?;
        }
        Ok(())
    }

    pub fn put_pending(&self, hash: &[u8], doc_id: &str, envelope: &[u8]) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO pending_envelopes (hash, doc_id, envelope) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )?
            .execute(params![hash, doc_id, envelope])?;
        Ok(())
    }

    pub fn mark_summary_stale(&self, doc_id: &str) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO stale_summaries (doc_id) VALUES (?1) ON CONFLICT DO NOTHING",
            )?
            .execute([doc_id])?;
        Ok(())
    }

    pub fn clear_summary_stale(&self, doc_id: &str) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM stale_summaries WHERE doc_id = ?1")?
            .execute([doc_id])?;
        Ok(())
    }

    pub fn remove_pending(&self, hash: &[u8]) -> Result<()> {
        self.tx.prepare_cached("DELETE FROM pending_envelopes WHERE hash = ?1")?.execute([hash])?;
        Ok(())
    }

    pub fn mark_unpublished(&self, doc_id: &str) -> Result<()> {
        self.tx
            .prepare_cached("INSERT INTO unpublished (doc_id) VALUES (?1) ON CONFLICT DO NOTHING")?
            .execute([doc_id])?;
        Ok(())
    }

    pub fn clear_unpublished(&self, doc_id: &str) -> Result<()> {
        self.tx.prepare_cached("DELETE FROM unpublished WHERE doc_id = ?1")?.execute([doc_id])?;
        Ok(())
    }

    pub fn delete_meta(&self, key: &str) -> Result<()> {
        self.tx.prepare_cached("DELETE FROM meta WHERE key = ?1")?.execute([key])?;
        Ok(())
    }

    /// Removes a document and its changes (an erased case).
    pub fn delete_doc(&self, doc_id: &str) -> Result<()> {
        self.erasing();
        self.tx.prepare_cached("DELETE FROM doc_changes WHERE doc_id = ?1")?.execute([doc_id])?;
        self.tx.prepare_cached("DELETE FROM docs WHERE doc_id = ?1")?.execute([doc_id])?;
        self.tx
            .prepare_cached("DELETE FROM refused_changes WHERE doc_id = ?1")?
            .execute([doc_id])?;
        self.tx
            .prepare_cached("DELETE FROM attachment_chunks WHERE doc_id = ?1")?
            .execute([doc_id])?;
        self.tx
            .prepare_cached("DELETE FROM attachment_uploads WHERE doc_id = ?1")?
            .execute([doc_id])?;
        Ok(())
    }

    /// A file this device attached, to upload at the next sync.
    pub fn queue_upload(&self, doc_id: &str, attachment_id: &[u8; 16]) -> Result<()> {
        self.outgoing.set(true);
        self.tx
            .prepare_cached(
                "INSERT INTO attachment_uploads (attachment_id, doc_id) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![&attachment_id[..], doc_id])?;
        Ok(())
    }

    /// The relay holds the whole file (or it no longer needs uploading).
    pub fn upload_done(&self, attachment_id: &[u8; 16]) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM attachment_uploads WHERE attachment_id = ?1")?
            .execute([&attachment_id[..]])?;
        Ok(())
    }

    /// Forgets the chunks of one attachment: a download that did not match the case's
    /// reference to it.
    pub fn delete_attachment_chunks(&self, attachment_id: &[u8; 16]) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM attachment_chunks WHERE attachment_id = ?1")?
            .execute([&attachment_id[..]])?;
        Ok(())
    }

    /// Stores one sealed chunk of an attachment of `doc_id`; the same chunk again (a resumed
    /// transfer) changes nothing.
    pub fn put_attachment_chunk(
        &self,
        doc_id: &str,
        attachment_id: &[u8; 16],
        index: u32,
        sealed: &[u8],
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO attachment_chunks (attachment_id, idx, doc_id, sealed)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            )?
            .execute(params![&attachment_id[..], index, doc_id, sealed])?;
        Ok(())
    }

    pub fn push_outbox(&self, doc_id: &str, envelope: &[u8]) -> Result<()> {
        self.outgoing.set(true);
        self.tx
            .prepare_cached("INSERT INTO outbox (doc_id, envelope) VALUES (?1, ?2)")?
            .execute(params![doc_id, envelope])?;
        Ok(())
    }

    /// The newest envelope taken in from `author` for the document: its sequence number and
    /// hash.
    pub fn author_chain(&self, doc_id: &str, author: &[u8; 16]) -> Result<Option<(u64, [u8; 32])>> {
        let row: Option<(i64, Vec<u8>)> = self
            .tx
            .prepare_cached(
                "SELECT seq, hash FROM author_chains WHERE doc_id = ?1 AND author = ?2",
            )?
            .query_row(params![doc_id, &author[..]], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(row.and_then(|(seq, hash)| {
            Some((u64::try_from(seq).ok()?, <[u8; 32]>::try_from(hash).ok()?))
        }))
    }

    /// Moves the author's chain on to `seq`/`hash`, adding `skipped` to what is missing.
    pub fn put_author_chain(
        &self,
        doc_id: &str,
        author: &[u8; 16],
        seq: u64,
        hash: &[u8; 32],
        skipped: u64,
    ) -> Result<()> {
        let seq = i64::try_from(seq).map_err(|_| Error::Storage("sequence overflow".into()))?;
        let skipped = i64::try_from(skipped).unwrap_or(i64::MAX);
        self.tx
            .prepare_cached(
                "INSERT INTO author_chains (doc_id, author, seq, hash, missing)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (doc_id, author) DO UPDATE SET seq = excluded.seq,
                     hash = excluded.hash, missing = missing + excluded.missing",
            )?
            .execute(params![doc_id, &author[..], seq, &hash[..], skipped])?;
        Ok(())
    }

    /// A supervisor's snapshot of the document arrived: the relay may drop what it covers, so
    /// envelopes skipped before it are explained, and each author's next envelope starts its
    /// chain afresh.
    pub fn explain_missing(&self, doc_id: &str) -> Result<()> {
        self.tx.prepare_cached("DELETE FROM author_chains WHERE doc_id = ?1")?.execute([doc_id])?;
        Ok(())
    }

    /// What is still missing, per document and author, and starts counting afresh.
    pub fn take_missing(&self) -> Result<Vec<(String, [u8; 16], u64)>> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT doc_id, author, missing FROM author_chains WHERE missing > 0 ORDER BY doc_id",
        )?;
        let rows: Vec<(String, Vec<u8>, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        self.tx
            .prepare_cached("UPDATE author_chains SET missing = 0 WHERE missing > 0")?
            .execute([])?;
        Ok(rows
            .into_iter()
            .filter_map(|(doc, author, missing)| {
                Some((doc, <[u8; 16]>::try_from(author).ok()?, u64::try_from(missing).ok()?))
            })
            .collect())
    }

    /// The changes of the document this device refused.
    pub fn refused_changes(&self, doc_id: &str) -> Result<Vec<[u8; 32]>> {
        let mut stmt =
            self.tx.prepare_cached("SELECT hash FROM refused_changes WHERE doc_id = ?1")?;
        let rows: Vec<Vec<u8>> =
            stmt.query_map([doc_id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        Ok(rows.into_iter().filter_map(|hash| <[u8; 32]>::try_from(hash).ok()).collect())
    }

    pub fn put_refused_change(&self, doc_id: &str, hash: &[u8; 32]) -> Result<()> {
        self.tx
            .prepare_cached("INSERT OR IGNORE INTO refused_changes (doc_id, hash) VALUES (?1, ?2)")?
            .execute(params![doc_id, &hash[..]])?;
        Ok(())
    }

    /// The outbox envelopes of one document, oldest first, with their row ids.
    pub fn outbox_of(&self, doc_id: &str) -> Result<Vec<(i64, Vec<u8>)>> {
        let mut stmt = self.tx.prepare_cached(OUTBOX_OF)?;
        let mut rows: Vec<(i64, Vec<u8>)> = stmt
            .query_map([doc_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.sort_unstable_by_key(|(id, _)| *id);
        Ok(rows)
    }

    pub fn remove_outbox(&self, ids: &[i64]) -> Result<()> {
        let mut stmt = self.tx.prepare_cached("DELETE FROM outbox WHERE id = ?1")?;
        for id in ids {
            stmt.execute([id])?;
        }
        Ok(())
    }

    /// Counts an envelope of the document seen at the relay; `readable: false` rules out
    /// snapshots of it by this device for good.
    pub fn count_relay_envelope(&self, doc_id: &str, readable: bool) -> Result<()> {
        let sql = if readable {
            "INSERT INTO doc_sync (doc_id, own_seq, since_snapshot) VALUES (?1, 0, 1)
             ON CONFLICT (doc_id) DO UPDATE SET since_snapshot = since_snapshot + 1
             WHERE since_snapshot >= 0"
        } else {
            "INSERT INTO doc_sync (doc_id, own_seq, since_snapshot) VALUES (?1, 0, -1)
             ON CONFLICT (doc_id) DO UPDATE SET since_snapshot = -1"
        };
        self.tx.prepare_cached(sql)?.execute([doc_id])?;
        Ok(())
    }

    /// The envelopes of one document that wait, oldest first.
    pub fn pending_envelopes_of(&self, doc_id: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut stmt = self.tx.prepare_cached(PENDING_OF)?;
        let mut rows: Vec<(i64, Vec<u8>, Vec<u8>)> = stmt
            .query_map([doc_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.sort_unstable_by_key(|(rowid, _, _)| *rowid);
        Ok(rows.into_iter().map(|(_, hash, envelope)| (hash, envelope)).collect())
    }

    /// How many envelopes wait, of all documents.
    pub fn pending_total(&self) -> Result<u64> {
        let count: i64 = self
            .tx
            .prepare_cached("SELECT COUNT(*) FROM pending_envelopes")?
            .query_row([], |r| r.get(0))?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// How many envelopes of the document wait for what they need.
    pub fn pending_count(&self, doc_id: &str) -> Result<u64> {
        let count: i64 = self
            .tx
            .prepare_cached("SELECT COUNT(*) FROM pending_envelopes WHERE doc_id = ?1")?
            .query_row([doc_id], |r| r.get(0))?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    /// Every envelope of the document that waited could be read after all (its key came
    /// later, as a grant does to a new reader): the device may snapshot it again.
    pub fn mark_readable_again(&self, doc_id: &str) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE doc_sync SET since_snapshot = 0 WHERE doc_id = ?1 AND since_snapshot < 0",
            )?
            .execute([doc_id])?;
        Ok(())
    }

    /// Makes every document this device can read due for a snapshot at its next sync.
    pub fn snapshot_all_again(&self, threshold: u32) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE doc_sync SET since_snapshot = MAX(since_snapshot, ?1)
                 WHERE since_snapshot >= 0",
            )?
            .execute([threshold])?;
        Ok(())
    }

    pub fn reset_since_snapshot(&self, doc_id: &str) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE doc_sync SET since_snapshot = 0 WHERE doc_id = ?1 AND since_snapshot >= 0",
            )?
            .execute([doc_id])?;
        Ok(())
    }

    pub fn own_chain(&self, doc_id: &str) -> Result<OwnChain> {
        let row: Option<(i64, Option<Vec<u8>>)> = self
            .tx
            .prepare_cached("SELECT own_seq, own_prev FROM doc_sync WHERE doc_id = ?1")?
            .query_row([doc_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(match row {
            None => OwnChain::default(),
            Some((seq, prev)) => OwnChain {
                seq: u64::try_from(seq).unwrap_or(0),
                prev: prev.and_then(|p| p.try_into().ok()),
            },
        })
    }

    pub fn put_own_chain(&self, doc_id: &str, chain: &OwnChain) -> Result<()> {
        let seq =
            i64::try_from(chain.seq).map_err(|_| Error::Storage("sequence overflow".into()))?;
        self.tx
            .prepare_cached(
                "INSERT INTO doc_sync (doc_id, own_seq, own_prev) VALUES (?1, ?2, ?3)
                 ON CONFLICT (doc_id) DO UPDATE SET own_seq = excluded.own_seq, own_prev = excluded.own_prev",
            )?
            .execute(params![doc_id, seq, chain.prev.map(|p| p.to_vec())])?;
        Ok(())
    }
}

fn roster_entries(conn: &Connection, sealer: &Sealer) -> Result<Vec<Vec<u8>>> {
    let mut stmt = conn.prepare_cached("SELECT idx, entry FROM roster_entries ORDER BY idx")?;
    let mut rows = stmt.query([])?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next()? {
        let index: i64 = row.get(0)?;
        let sealed: Vec<u8> = row.get(1)?;
        entries.push(sealer.open(roster_aad(index).as_bytes(), &sealed)?);
    }
    Ok(entries)
}

fn case_keys(conn: &Connection, sealer: &Sealer, doc_id: &str) -> Result<Vec<StoredCaseKey>> {
    // In version order, sorted here: see `PER_DOC_READS`.
    let mut stmt = conn.prepare_cached(CASE_KEYS_OF)?;
    let mut rows = stmt.query([doc_id])?;
    let mut keys = Vec::new();
    while let Some(row) = rows.next()? {
        let version: u32 = row.get(0)?;
        let epoch: u32 = row.get(1)?;
        let sealed: Vec<u8> = row.get(2)?;
        let key = sealer.open(case_key_aad(doc_id, version).as_bytes(), &sealed)?;
        keys.push(StoredCaseKey { version, epoch, key: SecretKey::from_slice(&key)? });
    }
    keys.sort_unstable_by_key(|k| k.version);
    Ok(keys)
}

// Per-document reads, unordered (see `store::PER_DOC_READS`).
pub(crate) const CASE_KEYS_OF: &str = "SELECT version, epoch, key FROM case_keys WHERE doc_id = ?1";
pub(crate) const OWN_CASE_KEYS_OF: &str = "SELECT version, minted_for FROM case_keys
     WHERE doc_id = ?1 AND epoch = ?2 AND minted_for IS NOT NULL";
pub(crate) const OUTBOX_OF: &str = "SELECT id, envelope FROM outbox WHERE doc_id = ?1";
pub(crate) const PENDING_OF: &str =
    "SELECT rowid, hash, envelope FROM pending_envelopes WHERE doc_id = ?1";

fn roster_aad(index: i64) -> String {
    format!("roster_entries/{index}")
}

fn epoch_aad(epoch: u32) -> String {
    format!("epoch_keys/{epoch}")
}

fn minted_for_aad(doc_id: &str, version: u32) -> String {
    format!("case_keys/{doc_id}/{version}/minted_for")
}

fn case_key_aad(doc_id: &str, version: u32) -> String {
    format!("case_keys/{doc_id}/{version}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Unlock;

    #[test]
    fn team_state_round_trips_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store =
            Store::create(dir.path(), Unlock::Key(SecretKey::generate().unwrap())).unwrap();
        let epoch_key = SecretKey::generate().unwrap();
        let case_key = SecretKey::generate().unwrap();
        let tx = store.transaction().unwrap();
        tx.put_roster_entry(0, b"{\"member\":\"Sanne de Vries\"}").unwrap();
        tx.put_epoch_key(1, epoch_key.as_bytes()).unwrap();
        tx.put_case_key("c1", 1, 1, &case_key).unwrap();
        tx.push_outbox("c1", b"envelope").unwrap();
        tx.put_own_chain("c1", &OwnChain { seq: 3, prev: Some([7; 32]) }).unwrap();
        assert_eq!(tx.own_chain("c1").unwrap(), OwnChain { seq: 3, prev: Some([7; 32]) });
        tx.commit().unwrap();

        assert_eq!(
            store.roster_entries().unwrap(),
            vec![b"{\"member\":\"Sanne de Vries\"}".to_vec()]
        );
        assert_eq!(&store.epoch_keys().unwrap()[0].1[..], epoch_key.as_bytes());
        assert_eq!(store.case_keys("c1").unwrap()[0].key.as_bytes(), case_key.as_bytes());
        let outbox = store.outbox(10).unwrap();
        assert_eq!(outbox.len(), 1);

        let tx = store.transaction().unwrap();
        tx.remove_outbox(&[outbox[0].0]).unwrap();
        tx.forget_case_keys("c1").unwrap();
        tx.commit().unwrap();
        assert_eq!(store.outbox_len().unwrap(), 0);
        assert!(store.case_keys("c1").unwrap().is_empty());
        let db = std::fs::read(dir.path().join(crate::store::DB_FILE)).unwrap();
        assert!(!db.windows(5).any(|w| w == b"Sanne"), "roster names are sealed");
    }
}
