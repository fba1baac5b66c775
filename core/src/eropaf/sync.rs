//! The sync engine: bring the roster and this device's epoch keys up to date, push the
//! outbox, then pull, verify, decrypt and apply what others wrote. Every step can be cut off
//! and run again: pushed envelopes leave the outbox only after the relay took them, the pull
//! cursor moves only after a page was applied, and applying the same changes twice changes
//! nothing.

use serde::Serialize;

use super::team::{id16, CaseKeyAnnouncement};
use super::{Eropaf, Publish};
use crate::crypto::SecretKey;
use crate::doc::case::MISSING_DEPENDENCIES;
use crate::doc::CaseDoc;
use crate::store::DocKind;
use crate::sync::envelope::{self, Envelope, EnvelopeKind};
use crate::sync::transport::{Pulled, Transport};
use crate::team::roster::{Role, RosterEntry};
use crate::{Error, Result};

const META_CURSOR: &str = "sync_cursor";
const META_REGISTERED: &str = "team_registered";
const PUSH_BATCH: usize = 200;
const PULL_PAGE: u32 = 500;
/// A device snapshots a case at the relay once this many envelopes piled up since the last.
const SNAPSHOT_AFTER: u32 = 64;

/// Where a sync is, for a progress bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum SyncProgress {
    Roster,
    Pushing { done: u64, total: u64 },
    Pulling { applied: u64 },
}

/// What a sync moved.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub pushed: u64,
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
    /// Devices this (supervisor) device admitted during the sync.
    pub approved: u64,
}

impl Eropaf {
    pub fn sync(
        &mut self,
        transport: &dyn Transport,
        progress: &mut dyn FnMut(SyncProgress),
    ) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        progress(SyncProgress::Roster);
        if !self.complete_join(transport)? {
            report.waiting_for_approval = true;
            return Ok(report);
        }
        let team_id = self.team_id()?;
        self.register_if_founder(transport)?;
        self.pull_roster(transport, &team_id)?;
        report.approved = self.approve_join_requests(transport)?;
        self.pull_key_packages(transport, &team_id)?;
        self.publish_existing_cases()?;
        self.push_outbox(transport, &team_id, &mut report, progress)?;
        self.pull_envelopes(transport, &team_id, &mut report, progress)?;
        if self.snapshot_due_cases()? > 0 {
            self.push_outbox(transport, &team_id, &mut report, progress)?;
        }
        report.epoch = self.team.as_ref().map(|t| t.roster.epoch()).unwrap_or_default();
        report.changed_cases.sort();
        report.changed_cases.dedup();
        Ok(report)
    }

    fn team_id(&self) -> Result<String> {
        self.team
            .as_ref()
            .map(|t| t.settings.team_id.clone())
            .ok_or_else(|| Error::invalid("team", "dit apparaat hoort nog niet bij een team"))
    }

    fn register_if_founder(&mut self, transport: &dyn Transport) -> Result<()> {
        if self.store.meta(META_REGISTERED)?.is_some() {
            return Ok(());
        }
        let Some(team) = &self.team else { return Ok(()) };
        let genesis = team.roster.entries()[0].clone();
        if genesis.signer == self.device_id().to_hex() {
            transport.register_team(&genesis)?;
        }
        let tx = self.store.transaction()?;
        tx.put_meta(META_REGISTERED, b"1")?;
        tx.commit()
    }

    fn pull_roster(&mut self, transport: &dyn Transport, team_id: &str) -> Result<()> {
        let entries = transport.roster(&self.identity, team_id)?;
        self.apply_roster_entries(entries)
    }

    /// Applies roster entries in order, skipping those already known; each is verified
    /// against the chain before it is stored.
    pub(crate) fn apply_roster_entries(&mut self, entries: Vec<RosterEntry>) -> Result<()> {
        let Some(team) = &mut self.team else { return Ok(()) };
        let mut roster = team.roster.clone();
        let mut fresh = Vec::new();
        for entry in entries {
            if entry.index < roster.len() {
                roster.apply(entry)?; // identical: no-op; different: a fork, refused
                continue;
            }
            roster.apply(entry.clone())?;
            fresh.push(entry);
        }
        if fresh.is_empty() {
            return Ok(());
        }
        let tx = self.store.transaction()?;
        for entry in &fresh {
            let json = serde_json::to_vec(entry).map_err(|e| Error::Storage(e.to_string()))?;
            tx.put_roster_entry(entry.index, &json)?;
        }
        tx.commit()?;
        team.roster = roster;
        Ok(())
    }

    fn pull_key_packages(&mut self, transport: &dyn Transport, team_id: &str) -> Result<()> {
        let me = self.device_id().to_hex();
        let packages = transport.key_packages(&self.identity, team_id)?;
        let Some(team) = &mut self.team else { return Ok(()) };
        let mut fresh = Vec::new();
        for package in packages {
            if package.recipient != me
                || package.team_id != team_id
                || team.epoch_keys.contains_key(&package.epoch)
            {
                continue;
            }
            // Only a supervisor of this team may hand out epoch keys.
            if team.roster.role(&package.signer) != Some(Role::Supervisor) {
                continue;
            }
            let Some(signer_key) = team.roster.signing_key(&package.signer) else { continue };
            package.verify(&signer_key)?;
            fresh.push(package.open(&self.agreement)?);
        }
        if fresh.is_empty() {
            return Ok(());
        }
        let tx = self.store.transaction()?;
        for key in &fresh {
            tx.put_epoch_key(key.epoch, key.secret())?;
        }
        tx.commit()?;
        for key in fresh {
            team.epoch_keys.insert(key.epoch, key);
        }
        Ok(())
    }

    fn push_outbox(
        &mut self,
        transport: &dyn Transport,
        team_id: &str,
        report: &mut SyncReport,
        progress: &mut dyn FnMut(SyncProgress),
    ) -> Result<()> {
        let total = self.store.outbox_len()?;
        loop {
            let batch = self.store.outbox(PUSH_BATCH)?;
            if batch.is_empty() {
                return Ok(());
            }
            let envelopes: Vec<Vec<u8>> = batch.iter().map(|(_, bytes)| bytes.clone()).collect();
            transport.push(&self.identity, team_id, &envelopes)?;
            let ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
            let tx = self.store.transaction()?;
            tx.remove_outbox(&ids)?;
            tx.commit()?;
            report.pushed += ids.len() as u64;
            progress(SyncProgress::Pushing { done: report.pushed, total });
        }
    }

    fn pull_envelopes(
        &mut self,
        transport: &dyn Transport,
        team_id: &str,
        report: &mut SyncReport,
        progress: &mut dyn FnMut(SyncProgress),
    ) -> Result<()> {
        let mut cursor = self.cursor()?;
        loop {
            let page = transport.pull(&self.identity, team_id, cursor, PULL_PAGE)?;
            let mut seen: Vec<(String, bool)> = Vec::new();
            for entry in &page.entries {
                report.pulled += 1;
                match entry {
                    Pulled::Envelope { bytes, .. } => {
                        seen.extend(self.apply_envelope(bytes, report)?)
                    }
                    Pulled::Erased { doc_id, .. } => self.forget_case(&hex::encode(doc_id))?,
                }
            }
            self.retry_pending(report)?;
            cursor = page.next_after.max(cursor);
            let tx = self.store.transaction()?;
            for (doc_id, readable) in &seen {
                if tx.doc_state(doc_id)?.is_some() {
                    tx.count_relay_envelope(doc_id, *readable)?;
                }
            }
            tx.put_meta(META_CURSOR, &cursor.to_be_bytes())?;
            tx.commit()?;
            progress(SyncProgress::Pulling { applied: report.applied });
            if !page.more || page.entries.is_empty() {
                return Ok(());
            }
        }
    }

    fn cursor(&self) -> Result<u64> {
        Ok(self
            .store
            .meta(META_CURSOR)?
            .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0))
    }

    /// Verifies and applies one envelope; returns the case it belonged to and whether this
    /// device could read it. An envelope that arrived before what it needs (its case key, or
    /// changes it builds on) waits in the store and is retried; a refusal is reported and the
    /// sync goes on: one bad envelope must not keep a worker from everything else.
    fn apply_envelope(
        &mut self,
        bytes: &[u8],
        report: &mut SyncReport,
    ) -> Result<Option<(String, bool)>> {
        match self.try_apply(bytes, report)? {
            Applied::Done(doc_id) => Ok(doc_id.map(|d| (d, true))),
            Applied::Waiting(doc_id) => {
                let hash = crate::crypto::sha256(bytes);
                let tx = self.store.transaction()?;
                tx.put_pending(&hash, &doc_id, bytes)?;
                tx.commit()?;
                Ok(Some((doc_id, false)))
            }
            Applied::Refused(doc_id) => Ok(doc_id.map(|d| (d, false))),
        }
    }

    /// Retries the waiting envelopes until none makes progress; those still waiting are
    /// what this device cannot read (yet).
    fn retry_pending(&mut self, report: &mut SyncReport) -> Result<()> {
        loop {
            let mut progress = false;
            for (hash, bytes) in self.store.pending_envelopes()? {
                let done = match self.try_apply(&bytes, report)? {
                    Applied::Waiting(_) => false,
                    Applied::Done(_) | Applied::Refused(_) => true,
                };
                if done {
                    let tx = self.store.transaction()?;
                    tx.remove_pending(&hash)?;
                    tx.commit()?;
                    progress = true;
                }
            }
            if !progress {
                report.unreadable = self.store.pending_envelopes()?.len() as u64;
                return Ok(());
            }
        }
    }

    fn try_apply(&mut self, bytes: &[u8], report: &mut SyncReport) -> Result<Applied> {
        match self.open_envelope(bytes) {
            Ok(Opened::Own { doc_id }) => Ok(Applied::Done(Some(doc_id))),
            Ok(Opened::Unreadable { doc_id }) => Ok(Applied::Waiting(doc_id)),
            Ok(Opened::CaseKey { doc_id, version, epoch, key }) => {
                let tx = self.store.transaction()?;
                tx.put_case_key(&doc_id, version, epoch, &key)?;
                tx.commit()?;
                Ok(Applied::Done(None))
            }
            Ok(Opened::Changes { doc_id, payload }) => {
                match self.apply_case_payload(&doc_id, &payload) {
                    Ok(changed) => {
                        if changed {
                            report.applied += 1;
                            report.changed_cases.push(doc_id.clone());
                        }
                        Ok(Applied::Done(Some(doc_id)))
                    }
                    Err(Error::Document(m)) if m == MISSING_DEPENDENCIES => {
                        Ok(Applied::Waiting(doc_id))
                    }
                    Err(e @ (Error::Storage(_) | Error::Corrupt(_))) => Err(e),
                    Err(e) => {
                        report.refused.push(format!("case {}: {e}", short(&doc_id)));
                        Ok(Applied::Refused(Some(doc_id)))
                    }
                }
            }
            Err(e @ (Error::Storage(_) | Error::Corrupt(_))) => Err(e),
            Err(e) => {
                report.refused.push(e.to_string());
                Ok(Applied::Refused(None))
            }
        }
    }

    /// Snapshots, for the relay, the cases whose envelopes piled up; returns how many.
    fn snapshot_due_cases(&mut self) -> Result<usize> {
        let covers = self.cursor()?;
        let due = self.store.docs_due_for_snapshot(SNAPSHOT_AFTER)?;
        let mut sealed = 0;
        for doc_id in due {
            let snapshot = self.with_case(&doc_id, |doc| Ok(doc.save()))?;
            let tx = self.store.transaction()?;
            if let Some(team) = &self.team {
                if team.publish_snapshot(&tx, &self.identity, &doc_id, &snapshot, covers)? {
                    tx.reset_since_snapshot(&doc_id)?;
                    sealed += 1;
                }
            }
            tx.commit()?;
        }
        Ok(sealed)
    }

    fn open_envelope(&self, bytes: &[u8]) -> Result<Opened> {
        let team = self.team.as_ref().ok_or_else(|| Error::invalid("team", "geen team"))?;
        let envelope = Envelope::from_bytes(bytes)?;
        let header = &envelope.header;
        if header.team_id != team.team_id_bytes()? {
            return Err(Error::Refused("an envelope of another team".into()));
        }
        let author = header.author.to_hex();
        let signing_key = team.roster.signing_key(&author).ok_or_else(|| {
            Error::Refused(format!("an envelope by device {author}, which is not in the roster"))
        })?;
        envelope.verify(&signing_key)?;
        let doc_id = hex::encode(header.doc_id);
        if header.author == self.device_id() {
            return Ok(Opened::Own { doc_id });
        }
        match header.kind {
            EnvelopeKind::KeyPackage => {
                let Some(epoch_key) = team.epoch_keys.get(&header.key_version) else {
                    return Ok(Opened::Unreadable { doc_id });
                };
                let payload = envelope.open(epoch_key.secret())?;
                let announcement: CaseKeyAnnouncement = serde_json::from_slice(&payload)
                    .map_err(|_| Error::Refused("a case key announcement is malformed".into()))?;
                let key = hex::decode(&announcement.key)
                    .ok()
                    .and_then(|k| SecretKey::from_slice(&k).ok())
                    .ok_or_else(|| Error::Refused("a case key announcement holds no key".into()))?;
                Ok(Opened::CaseKey {
                    doc_id,
                    version: announcement.version,
                    epoch: header.key_version,
                    key,
                })
            }
            EnvelopeKind::Changes | EnvelopeKind::Snapshot => {
                let keys = self.store.case_keys(&doc_id)?;
                let Some(case_key) = keys.iter().find(|k| k.version == header.key_version) else {
                    return Ok(Opened::Unreadable { doc_id });
                };
                let payload = envelope.open(&case_key.key)?;
                if header.kind == EnvelopeKind::Changes {
                    envelope::check_change_authors(&payload, header.author)?;
                } else {
                    for device in envelope::change_actors(&payload)? {
                        if team.roster.device(&device.to_hex()).is_none() {
                            return Err(Error::Refused(format!(
                                "a snapshot holds changes by unknown device {device}"
                            )));
                        }
                    }
                }
                Ok(Opened::Changes { doc_id, payload })
            }
            EnvelopeKind::Roster => {
                Err(Error::Refused("roster entries travel through the roster".into()))
            }
        }
    }

    /// Merges a case's changes from another device, or takes in a case new to this device.
    fn apply_case_payload(&mut self, doc_id: &str, payload: &[u8]) -> Result<bool> {
        id16(doc_id, "case id")?;
        if self.is_team_doc(doc_id) {
            return self.merge_team_doc(payload);
        }
        if self.store.doc_state(doc_id)?.is_some() {
            return self.write_case_as(doc_id, Publish::Foreign, |doc| doc.merge_bytes(payload));
        }
        let mut doc = CaseDoc::from_arrival(payload, &self.actor)
            .map_err(|e| Error::Refused(format!("unreadable case document: {e}")))?;
        if doc.lacks_dependencies() {
            return Err(Error::Document(MISSING_DEPENDENCIES.into()));
        }
        let case =
            doc.read().map_err(|e| Error::Refused(format!("unreadable case document: {e}")))?;
        if case.id != doc_id {
            return Err(Error::Refused("an envelope's document belongs to another case".into()));
        }
        let summary = doc.summary()?;
        let tx = self.store.transaction()?;
        tx.put_snapshot(doc_id, DocKind::Case, &doc.save())?;
        tx.put_summary(&summary)?;
        tx.put_own_chain(doc_id, &crate::store::OwnChain::default())?;
        tx.commit()?;
        Ok(true)
    }

    /// Crypto-shredding on this device: the case, its keys and anything queued for it go.
    pub(crate) fn forget_case(&mut self, doc_id: &str) -> Result<()> {
        self.cache.remove(doc_id);
        let tx = self.store.transaction()?;
        tx.forget_case_keys(doc_id)?;
        tx.delete_doc(doc_id)?;
        tx.commit()
    }
}

enum Applied {
    Done(Option<String>),
    Waiting(String),
    Refused(Option<String>),
}

enum Opened {
    Own { doc_id: String },
    Unreadable { doc_id: String },
    CaseKey { doc_id: String, version: u32, epoch: u32, key: SecretKey },
    Changes { doc_id: String, payload: Vec<u8> },
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}
