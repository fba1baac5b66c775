//! A sync, step by step: bring the roster and this device's epoch keys up to date, push the
//! outbox (`sync::outbox`), then pull and take in what others wrote (`sync::inbox`). Every
//! step can be cut off and run again: pushed envelopes leave the outbox only after the relay
//! took them, the pull cursor moves only after a page was applied, and applying the same
//! changes twice changes nothing.

use std::collections::{BTreeSet, HashSet};

use chrono::Utc;

use crate::crypto::DeviceIdentity;
use crate::store::{DocKind, OwnChain};
use crate::sync::envelope::{Envelope, EnvelopeKind};
use crate::sync::inbox::{
    on_all_cores, puncture_epoch_keys, refresh_case, short, Applied, Inbox, Rights, Verified,
};
use crate::sync::report::{SyncProgress, SyncReport};
use crate::sync::shared::{self, Held};
use crate::sync::transport::{DocReaders, Pulled, Transport};
use crate::team::erasure;
use crate::team::roster::{Role, RosterEntry};
use crate::{Error, Result};

use crate::device::membership::META_REGISTRATION_CODE;
use crate::device::Device;

const META_CURSOR: &str = "sync_cursor";
/// Cases this device forgot and has not yet told the relay it left (JSON list of doc ids).
const META_TO_LEAVE: &str = "docs_to_leave";
const META_REGISTERED: &str = "team_registered";
/// The epoch whose key sealed everything in the outbox when it was last checked: whatever is
/// sealed afterwards is sealed under the epoch of its day, so the outbox is read only again
/// once a new epoch began.
const META_OUTBOX_EPOCH: &str = "outbox_sealed_epoch";
pub(crate) const PUSH_BATCH: usize = 200;
pub(crate) const PULL_PAGE: u32 = 500;
/// A device snapshots a case at the relay once this many envelopes piled up since the last.
pub(crate) const SNAPSHOT_AFTER: u32 = 64;

impl Device {
    /// A sync, holding the device throughout (`Eropaf::sync_sharing` lets go of it while the
    /// relay answers).
    pub fn sync(
        &mut self,
        transport: &dyn Transport,
        progress: &mut dyn FnMut(SyncProgress),
    ) -> Result<SyncReport> {
        shared::sync(&Held::new(self), transport, progress)
    }

    pub(crate) fn team_id(&self) -> Result<String> {
        self.team
            .as_ref()
            .map(|t| t.settings.team_id.clone())
            .ok_or_else(|| Error::invalid("team", "dit apparaat hoort nog niet bij een team"))
    }

    pub fn set_registration_code(&mut self, code: &str) -> Result<()> {
        let code = crate::device::membership::registration_code_form(code)?;
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

    pub(crate) fn register_if_founder(&mut self, transport: &dyn Transport) -> Result<()> {
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

    pub(crate) fn pull_roster(
        &mut self,
        transport: &dyn Transport,
        team_id: &str,
        report: &mut SyncReport,
    ) -> Result<()> {
        let entries = transport.roster(&self.identity, team_id)?;
        match self.apply_roster_entries(entries) {
            Err(e) if e.is_storage_failure() || e.is_corrupt() => Err(e),
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

    pub(crate) fn pull_key_packages(
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
                Err(e) if e.is_storage_failure() => return Err(e),
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
    pub(crate) fn reseal_outbox_for_new_epoch(&mut self) -> Result<()> {
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

    pub(crate) fn push_outbox(
        &mut self,
        transport: &dyn Transport,
        team_id: &str,
        report: &mut SyncReport,
        progress: &mut dyn FnMut(SyncProgress),
    ) -> Result<()> {
        let signer = DeviceIdentity::from_pkcs8(self.identity.pkcs8())?;
        shared::push(&Held::new(self), transport, &signer, team_id, report, progress)
    }

    /// Pulls pages after the cursor. Each page is verified, decrypted and stored in one
    /// transaction with the cursor that follows it; what others wrote is stored as it
    /// arrived and each case it touched is read back once, at the end.
    pub(crate) fn pull_envelopes(
        &mut self,
        transport: &dyn Transport,
        team_id: &str,
        report: &mut SyncReport,
        progress: &mut dyn FnMut(SyncProgress),
    ) -> Result<()> {
        let signer = DeviceIdentity::from_pkcs8(self.identity.pkcs8())?;
        shared::pull(&Held::new(self), transport, &signer, team_id, report, progress)
    }

    /// After the last page: a skip in an author's chain still unexplained is the relay holding
    /// envelopes back (everything there is has arrived, snapshots included), and the cases the
    /// pages touched are read back.
    pub(crate) fn finish_pull(&mut self, report: &mut SyncReport) -> Result<()> {
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

    /// Per case a batch writes to, the devices that may read it now (and this one, which
    /// writes it): the relay serves them its envelopes and the rest of the team none. A
    /// device only ever adds readers this way; one that forgot a case leaves it itself
    /// (`leave_forgotten`), after it learned from the case that it must.
    pub(crate) fn readers_to_name(&self, envelopes: &[Vec<u8>]) -> Result<Vec<DocReaders>> {
        let Some(team) = &self.team else { return Ok(Vec::new()) };
        let me = self.device_id().to_hex();
        let now = Utc::now();
        let mut docs = BTreeSet::new();
        for bytes in envelopes {
            docs.insert(hex::encode(Envelope::from_bytes(bytes)?.header.doc_id));
        }
        docs.remove(&team.settings.team_id);
        let mut named = Vec::with_capacity(docs.len());
        for doc_id in docs {
            let summary = self.store.summary(&doc_id)?;
            let mut devices = team.readers(&doc_id, summary.as_ref(), &me, now);
            devices.insert(me.clone());
            named.push(DocReaders { doc_id, devices: devices.into_iter().collect() });
        }
        Ok(named)
    }

    /// The cases of a page this device knows nothing of: it was made a reader after its cursor
    /// had passed their earlier envelopes, which the relay did not serve it then. Read from the
    /// store in one step; `with_history` then fetches what they lack without the device.
    pub(crate) fn docs_met_first(
        &self,
        team_id: &str,
        cursor: u64,
        entries: &[Pulled],
    ) -> Result<BTreeSet<String>> {
        let mut new_docs = BTreeSet::new();
        if cursor == 0 {
            return Ok(new_docs);
        }
        for entry in entries {
            let Pulled::Envelope { bytes, .. } = entry else { continue };
            // A malformed entry is the inbox's to refuse and report.
            let Ok(envelope) = Envelope::from_bytes(bytes) else { continue };
            let doc_id = hex::encode(envelope.header.doc_id);
            if doc_id != team_id && !new_docs.contains(&doc_id) && !self.store.knows_doc(&doc_id)? {
                new_docs.insert(doc_id);
            }
        }
        Ok(new_docs)
    }

    /// Tells the relay which cases this device forgot, so that it is not served them again;
    /// those it could not tell yet wait in the store for the next sync. Only the download is
    /// at stake: the device holds no key for what is written in them now.
    pub(crate) fn leave_forgotten(
        &mut self,
        transport: &dyn Transport,
        team_id: &str,
        forgotten: &[String],
    ) -> Result<()> {
        let mut left: BTreeSet<String> = match self.store.meta(META_TO_LEAVE)? {
            Some(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            None => BTreeSet::new(),
        };
        left.extend(forgotten.iter().cloned());
        if left.is_empty() {
            return Ok(());
        }
        let docs: Vec<String> = left.iter().cloned().collect();
        let told = transport.leave(&self.identity, team_id, &docs);
        let tx = self.store.transaction()?;
        match told {
            Ok(()) => tx.delete_meta(META_TO_LEAVE)?,
            Err(e) if e.is_storage_failure() => return Err(e),
            Err(_) => {
                let json = serde_json::to_vec(&left).map_err(|e| Error::Storage(e.to_string()))?;
                tx.put_meta(META_TO_LEAVE, &json)?;
            }
        }
        tx.commit()
    }

    /// A colleague sealed with a longer roster than the relay served: ask again (a
    /// supervisor may have appended during this sync); still shorter, the relay holds roster
    /// entries back, and the sync says so.
    pub(crate) fn check_roster_claims(
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

    pub(crate) fn cursor(&self) -> Result<u64> {
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
    pub(crate) fn take_in_page(
        &mut self,
        entries: &[Pulled],
        cursor: u64,
        verified: &mut Verified,
        report: &mut SyncReport,
    ) -> Result<()> {
        let team = self.team.as_ref().ok_or_else(|| Error::invalid("team", "geen team"))?;
        let envelopes: Vec<&[u8]> = entries
            .iter()
            .filter_map(|entry| match entry {
                Pulled::Envelope { bytes, .. } => Some(bytes.as_slice()),
                Pulled::Erased { .. } => None,
            })
            .collect();
        verified.check_page(team, &envelopes);
        let verified = &*verified;
        let inbox = Inbox {
            team,
            me: self.identity.id(),
            actor: &self.actor,
            agreement: &self.agreement,
            verified,
        };
        let tx = self.store.transaction()?;
        let keys_before = report.keys_received.len();
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
        let inbox = Inbox {
            team,
            me: self.identity.id(),
            actor: &self.actor,
            agreement: &self.agreement,
            verified,
        };
        // What waits becomes readable only when its case takes in a key or changes in this
        // page. A case whose envelope only joined the waiting ones changes nothing for them:
        // retrying those too re-verified every waiting envelope of every case a page named,
        // page after page (a new phone pulling a team's history before its keys was
        // quadratic in it).
        let touched: HashSet<String> = seen
            .iter()
            .filter(|(_, readable)| *readable)
            .map(|(doc_id, _)| doc_id.clone())
            .chain(report.keys_received[keys_before..].iter().cloned())
            .collect();
        inbox.retry_pending(&tx, &touched, report)?;
        for (doc_id, readable) in &seen {
            if tx.doc_state(doc_id)?.is_some() {
                // One that waited and was taken in by the retry (its key came later in the
                // page) was read after all.
                let readable = *readable || tx.pending_count(doc_id)? == 0;
                tx.count_relay_envelope(doc_id, readable)?;
            }
            // The store's copy moved on; the cached one would only be dropped later.
            self.cache.remove(doc_id);
        }
        // A key granted later (to a new reader) makes what waited in earlier pages readable,
        // once nothing of the case waits any more: that changes only in a case this page
        // touched (walking every key of the sync on every page grew with the sync).
        let keyed: HashSet<&str> = report.keys_received.iter().map(String::as_str).collect();
        for doc_id in touched.iter().filter(|doc_id| keyed.contains(doc_id.as_str())) {
            if tx.doc_state(doc_id)?.is_some() && tx.pending_count(doc_id)? == 0 {
                tx.mark_readable_again(doc_id)?;
            }
        }
        tx.put_meta(META_CURSOR, &cursor.to_be_bytes())?;
        tx.commit()
    }

    /// Reads back each case that took in changes: its list summary is recomputed, and it is
    /// compacted when the changes outgrew its snapshot. A change that arrived intact but
    /// leaves the case unreadable is dropped and reported, so no one can lock a case for the
    /// team; everything else of the case stays.
    pub(crate) fn refresh_stale_summaries(&mut self, report: &mut SyncReport) -> Result<()> {
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
                    let compact = state.compaction_due();
                    let refused = tx.refused_changes(&doc_id)?;
                    stale.push((doc_id, stored.chunks, compact, refused));
                }
            }
            // What others wrote is held to their roles (`doc::authority`) once a team says
            // who is a supervisor; a device on its own has nobody else's changes.
            let rights = self.team.as_ref().map(|team| Rights {
                own: self.identity.id(),
                supervisors: team.roster.supervisors().into_iter().collect(),
                adds_backups: if team.workers_add_backups {
                    team.roster
                        .active_devices()
                        .iter()
                        .filter_map(|d| {
                            let id = d.card.device_id.clone();
                            team.member_of(&id).map(|member| (id, member))
                        })
                        .collect()
                } else {
                    Default::default()
                },
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
                    Err(e) if e.is_storage_failure() => return Err(e),
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
    pub(crate) fn snapshot_due_cases(&mut self) -> Result<usize> {
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

/// A page's entries, preceded by the history before `cursor` of each case in `new_docs` (from
/// `docs_met_first`). Only the relay is asked, so a sync runs this without holding the device.
pub(crate) fn with_history(
    transport: &dyn Transport,
    signer: &DeviceIdentity,
    team_id: &str,
    cursor: u64,
    new_docs: &BTreeSet<String>,
    entries: Vec<Pulled>,
) -> Result<Vec<Pulled>> {
    if new_docs.is_empty() {
        return Ok(entries);
    }
    // Most cases met for the first time simply begin in this page: one question for all of
    // them, then a pull only of those with a history (a relay without the question answers
    // each case's pull).
    let asked: Vec<String> = new_docs.iter().cloned().collect();
    // Only cases asked about are pulled, whatever the answer names.
    let with_history: BTreeSet<String> =
        match transport.docs_with_history(signer, team_id, &asked, cursor) {
            Ok(named) => named.into_iter().filter(|doc| new_docs.contains(doc)).collect(),
            Err(_) => new_docs.clone(),
        };
    let mut history = Vec::new();
    for doc_id in with_history {
        let mut after = 0;
        loop {
            let page =
                transport.pull_history(signer, team_id, &doc_id, after, cursor, PULL_PAGE)?;
            // Only what lies before the page: the relay cannot slip entries in twice.
            history.extend(page.entries.into_iter().filter(|e| e.server_seq() <= cursor));
            if !page.more || page.next_after <= after {
                break;
            }
            after = page.next_after;
        }
    }
    if history.is_empty() {
        return Ok(entries);
    }
    history.sort_by_key(Pulled::server_seq);
    history.dedup_by_key(|e| e.server_seq());
    history.extend(entries);
    Ok(history)
}
