//! The sync engine: bring the roster and this device's epoch keys up to date, push the
//! outbox, then pull, verify, decrypt and apply what others wrote. Every step can be cut off
//! and run again: pushed envelopes leave the outbox only after the relay took them, the pull
//! cursor moves only after a page was applied, and applying the same changes twice changes
//! nothing.

use std::borrow::Cow;
use std::collections::HashSet;

use automerge::ChangeHash;
use serde::Serialize;

use super::team::{id16, CaseKeyAnnouncement, TeamState, META_REGISTRATION_CODE};
use super::team_doc;
use super::Eropaf;
use crate::crypto::DeviceId;
use crate::crypto::SecretKey;
use crate::doc::authority::Breach;
use crate::doc::case::MISSING_DEPENDENCIES;
use crate::doc::CaseDoc;
use crate::model::CaseSummary;
use crate::store::{DocKind, OwnChain, StoreTx};
use crate::sync::envelope::{self, Envelope, EnvelopeHeader, EnvelopeKind};
use crate::sync::transport::{Pulled, Transport};
use crate::team::erasure;
use crate::team::roster::{Role, RosterEntry};
use crate::{Error, Result};

const META_CURSOR: &str = "sync_cursor";
const META_REGISTERED: &str = "team_registered";
/// The epoch whose key sealed everything in the outbox when it was last checked: whatever is
/// sealed afterwards is sealed under the epoch of its day, so the outbox is read only again
/// once a new epoch began.
const META_OUTBOX_EPOCH: &str = "outbox_sealed_epoch";
const PUSH_BATCH: usize = 200;
const PULL_PAGE: u32 = 500;
/// A device snapshots a case at the relay once this many envelopes piled up since the last.
pub(super) const SNAPSHOT_AFTER: u32 = 64;

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
}

impl Eropaf {
    pub fn sync(
        &mut self,
        transport: &dyn Transport,
        progress: &mut dyn FnMut(SyncProgress),
    ) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        // Cases a cut-off sync left with an old summary.
        self.refresh_stale_summaries(&mut report)?;
        progress(SyncProgress::Roster);
        if !self.complete_join(transport)? {
            report.waiting_for_approval = true;
            return Ok(report);
        }
        let team_id = self.team_id()?;
        self.register_if_founder(transport)?;
        self.pull_roster(transport, &team_id, &mut report)?;
        report.waiting_joiners = self.refresh_join_requests(transport)?;
        self.pull_key_packages(transport, &team_id, &mut report)?;
        self.publish_existing_cases()?;
        self.reseal_outbox_for_new_epoch()?;
        self.push_outbox(transport, &team_id, &mut report, progress)?;
        self.pull_envelopes(transport, &team_id, &mut report, progress)?;
        self.check_roster_claims(transport, &team_id, &mut report)?;
        if self.snapshot_due_cases()? > 0 {
            self.push_outbox(transport, &team_id, &mut report, progress)?;
        }
        report.epoch = self.team.as_ref().map(|t| t.roster.epoch()).unwrap_or_default();
        report.changed_cases.sort();
        report.changed_cases.dedup();
        Ok(report)
    }

    pub(super) fn team_id(&self) -> Result<String> {
        self.team
            .as_ref()
            .map(|t| t.settings.team_id.clone())
            .ok_or_else(|| Error::invalid("team", "dit apparaat hoort nog niet bij een team"))
    }

    /// For the founder of a team the relay has not registered yet (its code was refused or
    /// already used): the next sync registers it with this new code from the relay's operator.
    pub fn set_registration_code(&mut self, code: &str) -> Result<()> {
        let code = super::team::registration_code_form(code)?;
        let team = self
            .team
            .as_ref()
            .ok_or_else(|| Error::invalid("team", "dit apparaat hoort nog niet bij een team"))?;
        if team.roster.entries()[0].signer != self.device_id().to_hex()
            || self.store.meta(META_REGISTERED)?.is_some()
        {
            return Err(Error::invalid("registratiecode", "het team is al bij de relay bekend"));
        }
        let tx = self.store.transaction()?;
        tx.put_meta(META_REGISTRATION_CODE, code.as_bytes())?;
        tx.commit()
    }

    pub(super) fn register_if_founder(&mut self, transport: &dyn Transport) -> Result<()> {
        if self.store.meta(META_REGISTERED)?.is_some() {
            return Ok(());
        }
        let Some(team) = &self.team else { return Ok(()) };
        let genesis = team.roster.entries()[0].clone();
        if genesis.signer == self.device_id().to_hex() {
            let code = self.store.meta(META_REGISTRATION_CODE)?.unwrap_or_default();
            let code =
                String::from_utf8(code).map_err(|_| Error::Corrupt("registration code".into()))?;
            transport.register_team(&genesis, &code)?;
        }
        let tx = self.store.transaction()?;
        tx.put_meta(META_REGISTERED, b"1")?;
        tx.delete_meta(META_REGISTRATION_CODE)?;
        tx.commit()
    }

    fn pull_roster(
        &mut self,
        transport: &dyn Transport,
        team_id: &str,
        report: &mut SyncReport,
    ) -> Result<()> {
        let entries = transport.roster(&self.identity, team_id)?;
        match self.apply_roster_entries(entries) {
            Err(e @ (Error::Storage(_) | Error::Corrupt(_))) => Err(e),
            // The entries before the bad one are kept; the roster stays where the chain is
            // intact, as if the relay withheld the rest (which it always may), and the sync
            // goes on with it instead of stopping for good.
            Err(e) => {
                report.refused.push(format!("roster entry: {e}"));
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    /// Applies roster entries in order, skipping those already known; each is verified
    /// against the chain before it is stored. At the first entry refused, the ones before it
    /// are stored and its error returned.
    pub(crate) fn apply_roster_entries(&mut self, entries: Vec<RosterEntry>) -> Result<()> {
        let Some(team) = &mut self.team else { return Ok(()) };
        let mut roster = team.roster.clone();
        let mut fresh = Vec::new();
        let mut refused = None;
        for entry in entries {
            let known = entry.index < roster.len();
            // Known: identical is a no-op, different is a fork, refused.
            if let Err(e) = roster.apply(entry.clone()) {
                refused = Some(e);
                break;
            }
            if !known {
                fresh.push(entry);
            }
        }
        if fresh.is_empty() {
            return refused.map_or(Ok(()), |e| Err(e.into()));
        }
        let tx = self.store.transaction()?;
        for entry in &fresh {
            let json = serde_json::to_vec(entry).map_err(|e| Error::Storage(e.to_string()))?;
            tx.put_roster_entry(entry.index, &json)?;
        }
        tx.commit()?;
        team.roster = roster;
        refused.map_or(Ok(()), |e| Err(e.into()))
    }

    fn pull_key_packages(
        &mut self,
        transport: &dyn Transport,
        team_id: &str,
        report: &mut SyncReport,
    ) -> Result<()> {
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
            // Only a supervisor of this team may hand out epoch keys, and only for an epoch
            // that has begun and that it could hold: a package made ahead for a later epoch
            // would outlive its maker's revocation, and the revoked supervisor would know the
            // key the team writes under after it. Such a package waits (the relay keeps it)
            // or is refused once the epoch begins without its maker.
            if package.epoch > team.roster.epoch() {
                continue;
            }
            if team.roster.role(&package.signer) != Some(Role::Supervisor)
                || !team.roster.could_hold_epoch(&package.signer, package.epoch)
            {
                report.refused.push(format!(
                    "key package for epoch {} by device {}: not from a supervisor who holds \
                     that epoch",
                    package.epoch,
                    short(&package.signer)
                ));
                continue;
            }
            let Some(signer_key) = team.roster.signing_key(&package.signer) else { continue };
            // A package that fails is quarantined: reported, not kept, and the sync goes on.
            // The relay may always withhold a package; serving a bad one must not do more harm
            // than that, such as stopping every later sync of this device.
            match package
                .verify(&signer_key)
                .and_then(|()| package.open(&self.agreement))
                .map_err(Error::from)
            {
                Ok(key) => fresh.push(key),
                Err(e @ Error::Storage(_)) => return Err(e),
                Err(e) => report.refused.push(format!(
                    "key package for epoch {} by device {}: {e}",
                    package.epoch,
                    short(&package.signer)
                )),
            }
        }
        if fresh.is_empty() {
            return Ok(());
        }
        let tx = self.store.transaction()?;
        for key in &fresh {
            tx.put_epoch_key(key.epoch, &key.to_bytes())?;
        }
        tx.commit()?;
        for key in fresh {
            team.epoch_keys.insert(key.epoch, key);
        }
        Ok(())
    }

    /// What waits in the outbox sealed under an epoch that has ended (a revocation happened
    /// while this device was offline) is sealed again under the current epoch before it
    /// leaves: otherwise a device revoked in between, which holds the old keys, could read
    /// it at the relay. Per document, in one transaction: the old envelopes go, the chain is
    /// rewound to before them, and their changes are sealed anew (a fresh case key for the
    /// new epoch is announced first). Old snapshots are dropped; a later one replaces them.
    fn reseal_outbox_for_new_epoch(&mut self) -> Result<()> {
        let Some(team) = &self.team else { return Ok(()) };
        if team.current_epoch_key().is_none() {
            return Ok(());
        }
        let epoch = team.roster.epoch();
        if self.store.meta(META_OUTBOX_EPOCH)?.as_deref() == Some(&epoch.to_be_bytes()[..]) {
            return Ok(());
        }
        let mut stale = Vec::new();
        for (_, bytes) in self.store.outbox(usize::MAX)? {
            let header = Envelope::from_bytes(&bytes)?.header;
            let doc_id = hex::encode(header.doc_id);
            let sealed_under = match header.kind {
                EnvelopeKind::KeyPackage => Some(header.key_version),
                _ => self
                    .store
                    .case_keys(&doc_id)?
                    .iter()
                    .find(|k| k.version == header.key_version)
                    .map(|k| k.epoch),
            };
            if sealed_under.is_some_and(|e| e < epoch) && !stale.contains(&doc_id) {
                stale.push(doc_id);
            }
        }
        for doc_id in stale {
            let tx = self.store.transaction()?;
            let rows = tx.outbox_of(&doc_id)?;
            let keys = tx.case_keys(&doc_id)?;
            let mut payloads = Vec::new();
            let mut rewound = None;
            for (_, bytes) in &rows {
                let envelope = Envelope::from_bytes(bytes)?;
                let header = &envelope.header;
                rewound.get_or_insert(OwnChain {
                    seq: header.seq.saturating_sub(1),
                    prev: header.prev,
                });
                if header.kind == EnvelopeKind::Changes {
                    let key = keys
                        .iter()
                        .find(|k| k.version == header.key_version)
                        .ok_or_else(|| Error::Corrupt("an outbox envelope's case key".into()))?;
                    payloads.push(envelope.open(&key.key)?);
                }
            }
            tx.remove_outbox(&rows.iter().map(|(id, _)| *id).collect::<Vec<_>>())?;
            if let Some(chain) = rewound {
                tx.put_own_chain(&doc_id, &chain)?;
            }
            for payload in payloads {
                team.publish(&tx, &self.identity, &doc_id, &payload)?;
            }
            tx.commit()?;
        }
        let tx = self.store.transaction()?;
        tx.put_meta(META_OUTBOX_EPOCH, &epoch.to_be_bytes())?;
        tx.commit()
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

    /// Pulls pages after the cursor. Each page is verified, decrypted and stored in one
    /// transaction with the cursor that follows it; what others wrote is stored as it
    /// arrived and each case it touched is read back once, at the end.
    pub(super) fn pull_envelopes(
        &mut self,
        transport: &dyn Transport,
        team_id: &str,
        report: &mut SyncReport,
        progress: &mut dyn FnMut(SyncProgress),
    ) -> Result<()> {
        let pulled = self.pull_pages(transport, team_id, report, progress);
        if pulled.is_err() {
            // What the pages taken in so far hold is vetted and read back now, not at the
            // next sync: the worker may go on writing in these cases meanwhile.
            self.refresh_stale_summaries(report)?;
        }
        pulled?;
        // Everything there is has arrived, snapshots included: a skip still unexplained is
        // the relay holding envelopes back.
        let tx = self.store.transaction()?;
        for (doc_id, author, missing) in tx.take_missing()? {
            let noun = if missing == 1 { "envelop" } else { "enveloppen" };
            report.warnings.push(format!(
                "de relay hield {missing} {noun} van apparaat {} voor casus {} achter",
                short(&hex::encode(author)),
                short(&doc_id)
            ));
        }
        tx.commit()?;
        self.refresh_stale_summaries(report)
    }

    fn pull_pages(
        &mut self,
        transport: &dyn Transport,
        team_id: &str,
        report: &mut SyncReport,
        progress: &mut dyn FnMut(SyncProgress),
    ) -> Result<()> {
        let mut cursor = self.cursor()?;
        loop {
            let page = transport.pull(&self.identity, team_id, cursor, PULL_PAGE)?;
            cursor = page.next_after.max(cursor);
            self.take_in_page(&page.entries, cursor, report)?;
            progress(SyncProgress::Pulling { applied: report.applied });
            if !page.more || page.entries.is_empty() {
                return Ok(());
            }
        }
    }

    /// A colleague sealed with a longer roster than the relay served: ask again (a
    /// supervisor may have appended during this sync); still shorter, the relay holds roster
    /// entries back, and the sync says so.
    fn check_roster_claims(
        &mut self,
        transport: &dyn Transport,
        team_id: &str,
        report: &mut SyncReport,
    ) -> Result<()> {
        let have = |this: &Self| this.team.as_ref().map_or(0, |t| t.roster.len());
        if report.roster_claimed <= have(self) {
            return Ok(());
        }
        self.pull_roster(transport, team_id, report)?;
        if report.roster_claimed > have(self) {
            report.warnings.push(format!(
                "de relay toont de teamlijst tot wijziging {}, maar een collega kende er {}: de \
                 relay houdt wijzigingen van de teamlijst achter, misschien een intrekking",
                have(self),
                report.roster_claimed
            ));
        }
        Ok(())
    }

    fn cursor(&self) -> Result<u64> {
        Ok(self
            .store
            .meta(META_CURSOR)?
            .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0))
    }

    /// Takes in one page: every envelope verified and opened, case keys kept, changes stored,
    /// envelopes that arrived before what they need set aside (and those set aside earlier
    /// retried), erased cases forgotten, and the cursor moved, all in one transaction.
    fn take_in_page(
        &mut self,
        entries: &[Pulled],
        cursor: u64,
        report: &mut SyncReport,
    ) -> Result<()> {
        let team = self.team.as_ref().ok_or_else(|| Error::invalid("team", "geen team"))?;
        let inbox = Inbox { team, me: self.identity.id(), actor: &self.actor };
        let tx = self.store.transaction()?;
        let mut seen: Vec<(String, bool)> = Vec::new();
        let mut erased = Vec::new();
        for entry in entries {
            report.pulled += 1;
            match entry {
                Pulled::Envelope { bytes, .. } => match inbox.take_in(&tx, bytes, report)? {
                    Applied::Done(doc_id) => seen.extend(doc_id.map(|d| (d, true))),
                    Applied::Waiting(doc_id) => {
                        tx.put_pending(&crate::crypto::sha256(bytes), &doc_id, bytes)?;
                        seen.push((doc_id, false));
                    }
                    Applied::Refused(doc_id) => seen.extend(doc_id.map(|d| (d, false))),
                },
                Pulled::Erased { doc_id, erased_by, signature, .. } => {
                    let doc_id = hex::encode(doc_id);
                    let signer = hex::encode(erased_by);
                    if let Err(why) = erasure::check(&team.roster, &doc_id, &signer, signature) {
                        // The case stays: only a supervisor's signed order destroys it.
                        report.refused.push(format!(
                            "wisopdracht voor casus {doc_id} geweigerd ({why}); de casus blijft"
                        ));
                        continue;
                    }
                    tx.forget_case_keys(&doc_id)?;
                    tx.delete_doc(&doc_id)?;
                    erased.push(doc_id);
                }
            }
        }
        for doc_id in &erased {
            self.cache.remove(doc_id);
            puncture_epoch_keys(self.team.as_mut(), &tx, doc_id)?;
        }
        let team = self.team.as_ref().ok_or_else(|| Error::invalid("team", "geen team"))?;
        let inbox = Inbox { team, me: self.identity.id(), actor: &self.actor };
        inbox.retry_pending(&tx, report)?;
        for (doc_id, readable) in &seen {
            if tx.doc_state(doc_id)?.is_some() {
                tx.count_relay_envelope(doc_id, *readable)?;
            }
            // The store's copy moved on; the cached one would only be dropped later.
            self.cache.remove(doc_id);
        }
        tx.put_meta(META_CURSOR, &cursor.to_be_bytes())?;
        tx.commit()
    }

    /// Reads back each case that took in changes: its list summary is recomputed, and it is
    /// compacted when the changes outgrew its snapshot. A change that arrived intact but
    /// leaves the case unreadable is dropped and reported, so no one can lock a case for the
    /// team; everything else of the case stays.
    pub(super) fn refresh_stale_summaries(&mut self, report: &mut SyncReport) -> Result<()> {
        // Cases per transaction: few fsyncs, yet a bounded amount of work redone if cut off.
        const BATCH: usize = 500;
        loop {
            let ids = self.store.stale_summaries(BATCH)?;
            if ids.is_empty() {
                return Ok(());
            }
            let tx = self.store.transaction()?;
            let mut stale = Vec::with_capacity(ids.len());
            for doc_id in ids {
                tx.clear_summary_stale(&doc_id)?;
                if let (Some(state), Some(stored)) = (tx.doc_state(&doc_id)?, tx.load_doc(&doc_id)?)
                {
                    let compact = state.changes_len > state.snapshot_len;
                    let refused = tx.refused_changes(&doc_id)?;
                    stale.push((doc_id, stored.chunks, compact, refused));
                }
            }
            // What others wrote is held to their roles (`doc::authority`) once a team says
            // who is a supervisor; a device on its own has nobody else's changes.
            let rights = self.team.as_ref().map(|team| Rights {
                own: self.identity.id(),
                supervisors: team.roster.supervisors().into_iter().collect(),
            });
            // Reading a case back is automerge's work and independent per case: every core
            // takes a share while this thread holds the transaction.
            let actor = &self.actor;
            let refreshed = on_all_cores(&stale, |(doc_id, chunks, compact, refused)| {
                refresh_case(doc_id, chunks, actor, *compact, rights.as_ref(), refused)
            });
            for ((doc_id, _, _, _), refreshed) in stale.iter().zip(refreshed) {
                // One case that cannot be read (its own stored snapshot is damaged) must not
                // keep the store from opening or the sync from finishing: it is reported,
                // and opening that case says what is wrong.
                let refreshed = match refreshed {
                    Ok(refreshed) => refreshed,
                    Err(e @ Error::Storage(_)) => return Err(e),
                    Err(e) => {
                        report.refused.push(format!("case {}: {e}", short(doc_id)));
                        continue;
                    }
                };
                for (writer, breach) in &refreshed.refusals {
                    report.refused.push(format!(
                        "casus {}: een wijziging van apparaat {} is geweigerd: die {breach}",
                        short(doc_id),
                        short(&writer.to_hex())
                    ));
                }
                for hash in &refreshed.refused_hashes {
                    tx.put_refused_change(doc_id, hash)?;
                }
                if refreshed.unreadable > 0 {
                    report.refused.push(format!(
                        "case {}: {} change(s) left the case unreadable and were not applied",
                        short(doc_id),
                        refreshed.unreadable
                    ));
                }
                // Everything the relay holds has been pulled, and a colleague's change builds
                // on one that did not come: the relay holds it back (a device's own changes
                // always build on its earlier ones, so this also catches the first envelope
                // after a snapshot, or all of an author's that others built on).
                if refreshed.missing > 0 {
                    report.warnings.push(format!(
                        "casus {}: {} wijziging(en) waarop collega's voortbouwden kwam(en) niet \
                         van de relay; de relay houdt ze achter of levert ze nog",
                        short(doc_id),
                        refreshed.missing
                    ));
                }
                if let Some(kept) = &refreshed.kept {
                    tx.put_snapshot(doc_id, DocKind::Case, kept)?;
                }
                if let Some(snapshot) = &refreshed.snapshot {
                    tx.put_snapshot(doc_id, DocKind::Case, snapshot)?;
                }
                let supervisors =
                    self.team.as_ref().map(|t| t.roster.supervisors()).unwrap_or_default();
                let forged_reviews = refreshed
                    .review_writers
                    .values()
                    .filter(|writers| !matches!(writers.as_slice(), [w] if supervisors.contains(w)))
                    .count();
                if self.team.is_some() && forged_reviews > 0 {
                    report.refused.push(format!(
                        "casus {}: {forged_reviews} beoordeling(en) niet door één leidinggevende \
                         geschreven; niet meegeteld",
                        short(doc_id)
                    ));
                }
                if refreshed.foreign_access > 0 {
                    report.refused.push(format!(
                        "casus {}: {} logregel(s) op naam van een ander apparaat; niet getoond",
                        short(doc_id),
                        refreshed.foreign_access
                    ));
                }
                tx.put_summary(doc_id, &refreshed.summary)?;
            }
            tx.commit()?;
        }
    }

    /// Snapshots, for the relay, the cases whose envelopes piled up; returns how many.
    fn snapshot_due_cases(&mut self) -> Result<usize> {
        // Only a supervisor's snapshots are trusted by the others (see `Inbox::open`).
        let me = self.device_id().to_hex();
        if self.team.as_ref().and_then(|t| t.roster.role(&me)) != Some(Role::Supervisor) {
            return Ok(0);
        }
        let covers = self.cursor()?;
        let due = self.store.docs_due_for_snapshot(SNAPSHOT_AFTER)?;
        let mut sealed = 0;
        for doc_id in due {
            // A snapshot leaves out changes still waiting for what they build on, and the
            // relay may drop what it covers: such a case is not snapshotted until complete.
            let snapshot =
                self.with_case(&doc_id, |doc| Ok((!doc.lacks_dependencies()).then(|| doc.save())))?;
            let Some(snapshot) = snapshot else { continue };
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

    /// Crypto-shredding on this device: the case, its keys and anything queued for it go.
    pub(crate) fn forget_case(&mut self, doc_id: &str) -> Result<()> {
        self.cache.remove(doc_id);
        let tx = self.store.transaction()?;
        tx.forget_case_keys(doc_id)?;
        tx.delete_doc(doc_id)?;
        puncture_epoch_keys(self.team.as_mut(), &tx, doc_id)?;
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
    Changes { doc_id: String, author: DeviceId, payload: Vec<u8> },
}

/// What a pull needs to open envelopes, apart from the store transaction it writes into.
struct Inbox<'a> {
    team: &'a TeamState,
    me: DeviceId,
    actor: &'a [u8],
}

impl Inbox<'_> {
    /// Verifies, opens and stores one envelope; says whether it is done with, waits for
    /// something (its case key, or the changes it builds on) or was refused. A refusal is
    /// reported and the sync goes on: one bad envelope must not keep a worker from the rest.
    fn take_in(&self, tx: &StoreTx<'_>, bytes: &[u8], report: &mut SyncReport) -> Result<Applied> {
        let opened = match self.open(tx, bytes, report) {
            Ok(opened) => opened,
            Err(e @ (Error::Storage(_) | Error::Corrupt(_))) => return Err(e),
            Err(e) => {
                report.refused.push(e.to_string());
                return Ok(Applied::Refused(None));
            }
        };
        match opened {
            Opened::Own { doc_id } => Ok(Applied::Done(Some(doc_id))),
            Opened::Unreadable { doc_id } => Ok(Applied::Waiting(doc_id)),
            Opened::CaseKey { doc_id, version, epoch, key } => {
                tx.put_case_key(&doc_id, version, epoch, &key)?;
                Ok(Applied::Done(None))
            }
            Opened::Changes { doc_id, author, payload } => {
                match self.store_changes(tx, &doc_id, author, &payload) {
                    Ok(Stored::Taken) => {
                        report.applied += 1;
                        report.changed_cases.push(doc_id.clone());
                        Ok(Applied::Done(Some(doc_id)))
                    }
                    Ok(Stored::TeamDoc) => {
                        report.applied += 1;
                        Ok(Applied::Done(None))
                    }
                    Ok(Stored::Waiting) => Ok(Applied::Waiting(doc_id)),
                    Err(e @ (Error::Storage(_) | Error::Corrupt(_))) => Err(e),
                    Err(e) => {
                        report.refused.push(format!("case {}: {e}", short(&doc_id)));
                        Ok(Applied::Refused(Some(doc_id)))
                    }
                }
            }
        }
    }

    /// Retries the waiting envelopes until none makes progress; those still waiting are
    /// what this device cannot read (yet).
    fn retry_pending(&self, tx: &StoreTx<'_>, report: &mut SyncReport) -> Result<()> {
        loop {
            let mut progress = false;
            for (hash, bytes) in tx.pending_envelopes()? {
                if !matches!(self.take_in(tx, &bytes, report)?, Applied::Waiting(_)) {
                    tx.remove_pending(&hash)?;
                    progress = true;
                }
            }
            if !progress {
                report.unreadable = tx.pending_envelopes()?.len() as u64;
                return Ok(());
            }
        }
    }

    /// Stores a case's changes as they arrived. A case this device has gets them appended
    /// (automerge itself holds back changes whose dependencies are still missing, and applies
    /// them once those arrive); a case new to this device must be readable on its own first.
    fn store_changes(
        &self,
        tx: &StoreTx<'_>,
        doc_id: &str,
        author: DeviceId,
        payload: &[u8],
    ) -> Result<Stored> {
        id16(doc_id, "case id")?;
        if doc_id == self.team.settings.team_id {
            return Ok(match team_doc::merge_changes(tx, self.actor, payload) {
                Ok(_) => Stored::TeamDoc,
                Err(Error::Document(m)) if m == MISSING_DEPENDENCIES => Stored::Waiting,
                Err(e) => return Err(e),
            });
        }
        if tx.doc_state(doc_id)?.is_some() {
            tx.append_changes(doc_id, payload)?;
            tx.mark_summary_stale(doc_id)?;
            return Ok(Stored::Taken);
        }
        let mut doc = CaseDoc::from_arrival(payload, self.actor)
            .map_err(|e| Error::Refused(format!("unreadable case document: {e}")))?;
        if doc.lacks_dependencies() {
            return Ok(Stored::Waiting);
        }
        let summary = doc
            .summary(doc_id)
            .map_err(|e| Error::Refused(format!("unreadable case document: {e}")))?;
        // The header names the case; the document must have been created as that case (what
        // its `id` says now is writable by any member and proves nothing).
        if doc.created_as().ok().as_deref() != Some(doc_id) {
            return Err(Error::Refused("an envelope's document belongs to another case".into()));
        }
        // The case's first changes are held to their writer's rights as every later one is
        // (`vet`): the creating change lays down the structure, and nothing more.
        let supervisor = self.team.roster.role(&author.to_hex()) == Some(Role::Supervisor);
        for change in envelope::loose_changes(payload) {
            if let Some(breach) = doc.breach(&change, supervisor, change.deps().is_empty()) {
                return Err(Error::Refused(format!(
                    "een wijziging van apparaat {} is geweigerd: die {breach}",
                    short(&author.to_hex())
                )));
            }
        }
        tx.put_snapshot(doc_id, DocKind::Case, payload)?;
        tx.put_summary(doc_id, &summary)?;
        tx.put_own_chain(doc_id, &OwnChain::default())?;
        Ok(Stored::Taken)
    }

    /// Follows the author's chain for the document: the next number with the previous hash is
    /// the normal case; a jump is counted as missing until a supervisor's snapshot of the
    /// document explains it (the relay drops what a snapshot covers) or the sync ends; the
    /// same number with another envelope is a device signing two histories. An envelope seen
    /// before (a retry of one that waited) changes nothing. The first envelope of an author
    /// for a document is taken as the start: a device that joins later cannot know more.
    fn follow_chain(
        &self,
        tx: &StoreTx<'_>,
        doc_id: &str,
        header: &EnvelopeHeader,
        hash: &[u8; 32],
        report: &mut SyncReport,
    ) -> Result<()> {
        self.compare_rosters(header, report);
        let warnings = &mut report.warnings;
        let author = header.author.as_bytes();
        if header.kind == EnvelopeKind::Snapshot && trusted_for_snapshots(self.team, &header.author)
        {
            return tx.explain_missing(doc_id);
        }
        match tx.author_chain(doc_id, author)? {
            None => tx.put_author_chain(doc_id, author, header.seq, hash, 0),
            Some((seq, last)) if header.seq == seq + 1 && header.prev == Some(last) => {
                tx.put_author_chain(doc_id, author, header.seq, hash, 0)
            }
            Some((seq, last)) if header.seq == seq && last != *hash => {
                warnings.push(format!(
                    "apparaat {} ondertekende twee verschillende enveloppen op plaats {} voor \
                     casus {}",
                    short(&header.author.to_hex()),
                    header.seq,
                    short(doc_id)
                ));
                Ok(())
            }
            Some((seq, _)) if header.seq > seq => {
                tx.put_author_chain(doc_id, author, header.seq, hash, header.seq - seq - 1)
            }
            Some(_) => Ok(()),
        }
    }

    /// The signer's roster position against the roster the relay served this device: a
    /// longer one is noted (checked once the sync has pulled everything: the relay may hold
    /// entries back, a revocation say); the same length with another head means the signer
    /// saw another roster, said once per sync.
    fn compare_rosters(&self, header: &EnvelopeHeader, report: &mut SyncReport) {
        let Some((len, head)) = header.roster else { return };
        let roster = &self.team.roster;
        if len > roster.len() {
            report.roster_claimed = report.roster_claimed.max(len);
            return;
        }
        if roster.head_at(len) != Some(hex::encode(head).as_str()) {
            let signer = short(&header.author.to_hex()).to_owned();
            let warning = format!(
                "apparaat {signer} ondertekende op een andere teamlijst dan deze (splitsing)"
            );
            if !report.warnings.contains(&warning) {
                report.warnings.push(warning);
            }
        }
    }

    fn open(&self, tx: &StoreTx<'_>, bytes: &[u8], report: &mut SyncReport) -> Result<Opened> {
        let team = self.team;
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
        if header.author == self.me {
            return Ok(Opened::Own { doc_id });
        }
        if team.roster.signed_after_revocation(&author, &doc_id, header.seq) {
            return Err(Error::Refused(format!(
                "an envelope in the name of device {author}, signed after its revocation"
            )));
        }
        self.follow_chain(tx, &doc_id, header, &envelope.hash(), report)?;
        match header.kind {
            EnvelopeKind::KeyPackage => {
                if !team.roster.could_hold_epoch(&author, header.key_version) {
                    return Err(revoked_author(&author));
                }
                let Some(epoch_key) = team.epoch_keys.get(&header.key_version) else {
                    return Ok(Opened::Unreadable { doc_id });
                };
                let Some(announcing) = epoch_key.for_case(&doc_id) else {
                    return Err(Error::Refused(format!(
                        "a case key for case {}, which was erased",
                        short(&doc_id)
                    )));
                };
                let payload = envelope.open(&announcing)?;
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
                let keys = tx.case_keys(&doc_id)?;
                let Some(case_key) = keys.iter().find(|k| k.version == header.key_version) else {
                    return Ok(Opened::Unreadable { doc_id });
                };
                if !team.roster.could_hold_epoch(&author, case_key.epoch) {
                    return Err(revoked_author(&author));
                }
                let payload = envelope.open(&case_key.key)?;
                if header.kind == EnvelopeKind::Changes {
                    envelope::check_change_authors(&payload, header.author)?;
                } else {
                    // A snapshot carries other members' changes, which no signature of
                    // theirs covers here: only a supervisor is trusted to speak for them,
                    // and not once revoked (its keys may be a thief's; when it is revoked,
                    // the supervisor who revokes it snapshots the cases again).
                    if !trusted_for_snapshots(team, &header.author) {
                        return Err(Error::Refused(format!(
                            "a snapshot by device {author}, which is not an active \
                             supervisor's"
                        )));
                    }
                    for device in envelope::change_actors(&payload)? {
                        if team.roster.device(&device.to_hex()).is_none() {
                            return Err(Error::Refused(format!(
                                "a snapshot holds changes by unknown device {device}"
                            )));
                        }
                    }
                }
                // The team document holds policy, frameworks and the erasure record: only a
                // supervisor's device writes it, whatever a worker's device sends.
                if doc_id == team.settings.team_id
                    && team.roster.role(&author) != Some(Role::Supervisor)
                {
                    return Err(Error::Refused(format!(
                        "teamdocument: een wijziging door apparaat {}, dat niet van een \
                         leidinggevende is, is geweigerd",
                        short(&author)
                    )));
                }
                Ok(Opened::Changes { doc_id, author: header.author, payload })
            }
            EnvelopeKind::Roster => {
                Err(Error::Refused("roster entries travel through the roster".into()))
            }
        }
    }
}

enum Stored {
    Taken,
    /// Merged into the team document (frameworks, policy, erasures), not a case.
    TeamDoc,
    Waiting,
}

/// What reading back one case gives: its list summary, a compacted snapshot when one is due,
/// and, if some chunks had to be dropped, the chunks kept (concatenated) with why the others
/// went.
struct Refreshed {
    summary: CaseSummary,
    snapshot: Option<Vec<u8>>,
    kept: Option<Vec<u8>>,
    /// Chunks dropped because the case would not read with them.
    unreadable: usize,
    /// Changes refused for writing outside their writer's rights: by whom and why, and the
    /// hashes of every change that went with them.
    refusals: Vec<(DeviceId, Breach)>,
    refused_hashes: Vec<[u8; 32]>,
    /// Who wrote each review, and how many access-log entries name another device than
    /// their writer: what reading the case leaves out, for the sync report.
    review_writers: std::collections::HashMap<String, Vec<String>>,
    foreign_access: usize,
    /// Changes that what arrived builds on and that this device does not have.
    missing: usize,
}

/// Who may write what, for holding others' changes to `doc::authority`.
struct Rights {
    own: DeviceId,
    supervisors: HashSet<String>,
}

fn refresh_case(
    doc_id: &str,
    chunks: &[Vec<u8>],
    actor: &[u8],
    compact: bool,
    rights: Option<&Rights>,
    refused_before: &[[u8; 32]],
) -> Result<Refreshed> {
    let vetted = match rights {
        Some(rights) => vet(chunks, actor, rights, refused_before)?,
        None => Vetted::default(),
    };
    let chunks = vetted.kept.as_deref().unwrap_or(chunks);
    let loaded = match vetted.doc {
        Some(mut doc) => doc.summary(doc_id).map(|summary| (doc, summary)),
        None => readable_case(doc_id, chunks, actor),
    };
    let (mut doc, summary, salvaged) = match loaded {
        Ok((doc, summary)) => (doc, summary, None),
        Err(e @ Error::Storage(_)) => return Err(e),
        Err(_) => {
            let (kept, dropped) = salvage(doc_id, chunks, actor)?;
            let (doc, summary) = readable_case(doc_id, &kept, actor)?;
            (doc, summary, Some((kept.concat(), dropped)))
        }
    };
    let (kept, unreadable) = match salvaged {
        Some((kept, dropped)) => (Some(kept), dropped),
        None => (vetted.kept.as_ref().map(|kept| kept.concat()), 0),
    };
    // Changes still waiting for what they build on are not in `save()`: they stay chunks.
    let snapshot = (compact && !doc.lacks_dependencies()).then(|| doc.save());
    let review_writers = doc.review_writers()?;
    let foreign_access = doc.foreign_access_entries()?;
    let missing = doc.missing_dependencies();
    Ok(Refreshed {
        missing,
        summary,
        snapshot,
        kept,
        unreadable,
        refusals: vetted.refusals,
        refused_hashes: vetted.refused_hashes,
        review_writers,
        foreign_access,
    })
}

#[derive(Default)]
struct Vetted {
    /// The case as loaded from what was kept, when it loaded.
    doc: Option<CaseDoc>,
    /// The chunks kept, when some were refused.
    kept: Option<Vec<Vec<u8>>>,
    refusals: Vec<(DeviceId, Breach)>,
    refused_hashes: Vec<[u8; 32]>,
}

/// Holds every change others wrote since the case's stored snapshot to `doc::authority`,
/// in the case as it stands with them; a chunk (one envelope's changes) with a change that
/// breaks a rule, or builds on a refused one, is refused whole and the case read again
/// without it. This device's own chunks are never dropped: they hold its user's work. What
/// the snapshot holds was vetted when it was written.
fn vet(
    chunks: &[Vec<u8>],
    actor: &[u8],
    rights: &Rights,
    refused_before: &[[u8; 32]],
) -> Result<Vetted> {
    let mut refused: HashSet<ChangeHash> =
        refused_before.iter().map(|hash| ChangeHash(*hash)).collect();
    let mut out = Vetted::default();
    let mut current: Cow<'_, [Vec<u8>]> = Cow::Borrowed(chunks);
    let mut snapshot_alone: Option<Option<CaseDoc>> = None;
    loop {
        // A case that does not load is for `salvage` to mend.
        let Ok(doc) = CaseDoc::load(&current, actor) else { return Ok(out) };
        let mut dropped = Vec::new();
        for (index, chunk) in current.iter().enumerate().skip(1) {
            let changes = envelope::loose_changes(chunk);
            let mut verdict = None;
            for change in &changes {
                let Some(writer) = crate::crypto::actor_device(change.actor_id().to_bytes()) else {
                    continue;
                };
                if writer == rights.own {
                    continue;
                }
                if change.deps().iter().any(|dep| refused.contains(dep)) {
                    verdict = Some((writer, Breach::BuildsOnRefused));
                    break;
                }
                if !doc.holds(change) {
                    continue;
                }
                // The creating change again (a device re-publishing all it wrote) is no
                // second start.
                if change.deps().is_empty() {
                    let alone = snapshot_alone
                        .get_or_insert_with(|| CaseDoc::load(&current[..1], actor).ok());
                    if alone.as_ref().is_some_and(|alone| alone.holds(change)) {
                        continue;
                    }
                }
                let supervisor = rights.supervisors.contains(&writer.to_hex());
                if let Some(breach) = doc.breach(change, supervisor, false) {
                    verdict = Some((writer, breach));
                    break;
                }
            }
            if let Some(verdict) = verdict {
                dropped.push(index);
                for change in &changes {
                    refused.insert(change.hash());
                    out.refused_hashes.push(change.hash().0);
                }
                out.refusals.push(verdict);
            }
        }
        if dropped.is_empty() {
            out.doc = Some(doc);
            return Ok(out);
        }
        let kept: Vec<Vec<u8>> = current
            .iter()
            .enumerate()
            .filter(|(index, _)| !dropped.contains(index))
            .map(|(_, chunk)| chunk.clone())
            .collect();
        out.kept = Some(kept.clone());
        current = Cow::Owned(kept);
    }
}

/// Runs `work` over `items` on all of the machine's cores; results in the items' order. A
/// panic in a worker is carried over to the caller as if it happened there.
fn on_all_cores<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 || items.len() < 2 {
        return items.iter().map(work).collect();
    }
    let share = items.len().div_ceil(cores);
    let work = &work;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(share)
            .map(|part| scope.spawn(move || part.iter().map(work).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// A case from its stored chunks, with the summary that proves it reads.
fn readable_case(doc_id: &str, chunks: &[Vec<u8>], actor: &[u8]) -> Result<(CaseDoc, CaseSummary)> {
    let mut doc = CaseDoc::load(chunks, actor)?;
    let summary = doc.summary(doc_id)?;
    Ok((doc, summary))
}

/// Keeps the stored snapshot and, in order, each later chunk with which the case still
/// reads; returns the chunks kept and how many were dropped.
fn salvage(doc_id: &str, chunks: &[Vec<u8>], actor: &[u8]) -> Result<(Vec<Vec<u8>>, usize)> {
    let (snapshot, rest) = chunks.split_first().ok_or_else(|| Error::Corrupt("no data".into()))?;
    let mut kept = vec![snapshot.clone()];
    readable_case(doc_id, &kept, actor)?;
    let mut dropped = 0;
    for chunk in rest {
        kept.push(chunk.clone());
        if readable_case(doc_id, &kept, actor).is_err() {
            kept.pop();
            dropped += 1;
        }
    }
    Ok((kept, dropped))
}

/// Erasure, for what the relay or a backup of it still holds: every epoch key this device
/// holds is punctured at the case, so the announcements of the case's keys open for nobody.
fn puncture_epoch_keys(team: Option<&mut TeamState>, tx: &StoreTx<'_>, doc_id: &str) -> Result<()> {
    for (epoch, key) in team.map(|team| team.epoch_keys.iter_mut()).into_iter().flatten() {
        if key.puncture(doc_id) {
            tx.put_punctured_epoch_key(*epoch, &key.to_bytes())?;
        }
    }
    Ok(())
}

/// Whether `device`'s snapshots may speak for other members: an active supervisor's only.
fn trusted_for_snapshots(team: &TeamState, device: &DeviceId) -> bool {
    let device = device.to_hex();
    team.roster.role(&device) == Some(Role::Supervisor) && team.roster.is_active(&device)
}

fn revoked_author(author: &str) -> Error {
    Error::Refused(format!(
        "an envelope in the name of device {author}, sealed with a key made after its revocation"
    ))
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}
