//! Taking in what others wrote: every envelope verified (team, roster, signature, the
//! author's epoch and revocation, change authors), opened, its author's chain followed, and
//! its changes stored as they arrived; then each case that took in changes read back once,
//! with every change held to its writer's role (`doc::authority`) and what breaks a rule
//! refused whole.

use std::borrow::Cow;
use std::collections::HashSet;

use automerge::ChangeHash;

use crate::crypto::{AgreementKey, DeviceId, SecretKey};
use crate::doc::authority::Breach;
use crate::doc::case::MISSING_DEPENDENCIES;
use crate::doc::{CaseDoc, TeamDoc};
use crate::model::CaseSummary;
use crate::store::{DocKind, OwnChain, StoreTx, TEAM_DOC_ID};
use crate::sync::envelope::{self, Envelope, EnvelopeHeader, EnvelopeKind};
use crate::sync::outbox::{id16, CaseKeyAnnouncement, TeamState};
use crate::sync::report::SyncReport;
use crate::team::grant::GrantScope;
use crate::team::roster::Role;
use crate::{Error, Result};

pub(crate) enum Applied {
    Done(Option<String>),
    Waiting(String),
    Refused(Option<String>),
}

enum Opened {
    Own {
        doc_id: String,
    },
    Unreadable {
        doc_id: String,
    },
    /// A key envelope: the key when it was granted to this device, and who holds it.
    CaseKey {
        doc_id: String,
        version: u32,
        epoch: u32,
        key: Option<SecretKey>,
        holders: Vec<String>,
        /// An active supervisor's word on whether this device reads the case: the
        /// supervisor's device, the envelope's place in its chain, the word.
        declared: Option<(String, u64, bool)>,
    },
    Changes {
        doc_id: String,
        author: DeviceId,
        payload: Vec<u8>,
    },
}

/// What a pull needs to open envelopes, apart from the store transaction it writes into.
pub(crate) struct Inbox<'a> {
    pub team: &'a TeamState,
    pub me: DeviceId,
    pub actor: &'a [u8],
    /// Case-key grants are sealed to it.
    pub agreement: &'a AgreementKey,
    /// Envelopes (by the hash of their bytes) whose signature this sync already checked.
    pub verified: &'a Verified,
}

/// The envelopes of a sync whose signatures checked out, by the SHA-256 of their bytes. A
/// device id is the hash of its public key, so the same bytes verify the same way every time:
/// an envelope that waits for its case key, or is served again as a case's history, is
/// checked once, not once per retry. Checking a page is spread over every core first.
#[derive(Default)]
pub(crate) struct Verified(HashSet<[u8; 32]>);

impl Verified {
    /// Checks the signatures of a page's envelopes on all cores and remembers those that
    /// verify. What does not (unknown author, bad signature, malformed bytes) is left for
    /// `Inbox::take_in` to refuse with its reason.
    pub fn check_page(&mut self, team: &TeamState, envelopes: &[&[u8]]) {
        let digests = on_all_cores(envelopes, |bytes| {
            let digest = crate::crypto::sha256(bytes);
            if self.0.contains(&digest) {
                return None;
            }
            let envelope = Envelope::from_bytes(bytes).ok()?;
            let key = team.roster.signing_key(&envelope.header.author.to_hex())?;
            envelope.verify(&key).ok().map(|()| digest)
        });
        self.0.extend(digests.into_iter().flatten());
    }

    fn contains(&self, bytes: &[u8]) -> bool {
        self.0.contains(&crate::crypto::sha256(bytes))
    }
}

impl Inbox<'_> {
    /// Verifies, opens and stores one envelope; says whether it is done with, waits for
    /// something (its case key, or the changes it builds on) or was refused. A refusal is
    /// reported and the sync goes on: one bad envelope must not keep a worker from the rest.
    pub fn take_in(
        &self,
        tx: &StoreTx<'_>,
        bytes: &[u8],
        report: &mut SyncReport,
    ) -> Result<Applied> {
        let opened = match self.open(tx, bytes, report) {
            Ok(opened) => opened,
            Err(e) if e.is_storage_failure() || e.is_corrupt() => return Err(e),
            Err(e) => {
                report.refused.push(e.to_string());
                return Ok(Applied::Refused(None));
            }
        };
        match opened {
            Opened::Own { doc_id } => Ok(Applied::Done(Some(doc_id))),
            Opened::Unreadable { doc_id } => Ok(Applied::Waiting(doc_id)),
            Opened::CaseKey { doc_id, version, epoch, key, holders, declared } => {
                for holder in &holders {
                    tx.put_grant_seen(&doc_id, version, holder)?;
                }
                if let Some((author, seq, included)) = declared {
                    tx.put_declared_access(&doc_id, &author, seq, included)?;
                }
                if let Some(key) = key {
                    tx.put_case_key(&doc_id, version, epoch, &key)?;
                }
                report.keys_received.push(doc_id);
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
                    Err(e) if e.is_storage_failure() || e.is_corrupt() => Err(e),
                    Err(e) => {
                        report.refused.push(format!("case {}: {e}", short(&doc_id)));
                        Ok(Applied::Refused(Some(doc_id)))
                    }
                }
            }
        }
    }

    /// Retries the waiting envelopes of the documents `touched` (which took in a key or
    /// changes) until none makes progress; those still waiting are what this device cannot
    /// read (yet). Only those documents: a device holds, waiting, the envelopes of every case
    /// it may not read, and retrying them all on every page would cost a team's worth of
    /// signature checks per page.
    pub fn retry_pending(
        &self,
        tx: &StoreTx<'_>,
        touched: &HashSet<String>,
        report: &mut SyncReport,
    ) -> Result<()> {
        for doc_id in touched {
            loop {
                let mut progress = false;
                for (hash, bytes) in tx.pending_envelopes_of(doc_id)? {
                    if !matches!(self.take_in(tx, &bytes, report)?, Applied::Waiting(_)) {
                        tx.remove_pending(&hash)?;
                        progress = true;
                    }
                }
                if !progress {
                    break;
                }
            }
        }
        report.unreadable = tx.pending_total()?;
        Ok(())
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
            return Ok(match merge_changes(tx, self.actor, payload) {
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
            if let Some(breach) = doc.breach(&change, supervisor, change.deps().is_empty(), None) {
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
        if !self.verified.contains(bytes) {
            envelope.verify(&signing_key)?;
        }
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
                let version = announcement.version;
                // A key is minted in the epoch its first grant travels in, or earlier.
                let epoch =
                    announcement.epoch.unwrap_or(header.key_version).min(header.key_version);
                let me = self.me.to_hex();
                let scope =
                    GrantScope { team_id: &team.settings.team_id, doc_id: &doc_id, version };
                let key = match (
                    &announcement.key,
                    announcement.grants.iter().find(|g| g.recipient == me),
                ) {
                    (_, Some(grant)) => Some(grant.open(scope, self.agreement)?),
                    (Some(key), None) => Some(
                        hex::decode(key)
                            .ok()
                            .and_then(|k| SecretKey::from_slice(&k).ok())
                            .ok_or_else(|| {
                                Error::Refused("a case key announcement holds no key".into())
                            })?,
                    ),
                    (None, None) => None,
                };
                let holders: Vec<String> =
                    announcement.grants.into_iter().map(|g| g.recipient).collect();
                let declared = trusted_for_snapshots(team, &header.author)
                    .then(|| match &announcement.readers {
                        Some(readers) => Some(readers.contains(&me)),
                        None => holders.contains(&me).then_some(true),
                    })
                    .flatten()
                    .map(|included| (author.clone(), header.seq, included));
                Ok(Opened::CaseKey { doc_id, version, epoch, key, holders, declared })
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
                // supervisor's device writes them. A worker's device writes only its own
                // access requests there; anything else it sends is refused whole.
                if doc_id == team.settings.team_id
                    && team.roster.role(&author) != Some(Role::Supervisor)
                {
                    let breach = if header.kind == EnvelopeKind::Changes {
                        team_doc_in(tx, self.actor)?.worker_breach(&payload)?
                    } else {
                        Some(Breach::TeamDocByWorker)
                    };
                    if let Some(breach) = breach {
                        return Err(Error::Refused(format!(
                            "teamdocument: een wijziging door apparaat {}, dat niet van een \
                             leidinggevende is, {breach}; geweigerd",
                            short(&author)
                        )));
                    }
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
pub(crate) struct Refreshed {
    pub summary: CaseSummary,
    pub snapshot: Option<Vec<u8>>,
    pub kept: Option<Vec<u8>>,
    /// Chunks dropped because the case would not read with them.
    pub unreadable: usize,
    /// Changes refused for writing outside their writer's rights: by whom and why, and the
    /// hashes of every change that went with them.
    pub refusals: Vec<(DeviceId, Breach)>,
    pub refused_hashes: Vec<[u8; 32]>,
    /// Who wrote each review, and how many access-log entries name another device than
    /// their writer: what reading the case leaves out, for the sync report.
    pub review_writers: std::collections::HashMap<String, Vec<String>>,
    pub foreign_access: usize,
    /// Changes that what arrived builds on and that this device does not have.
    pub missing: usize,
}

/// Who may write what, for holding others' changes to `doc::authority`.
pub(crate) struct Rights {
    pub own: DeviceId,
    pub supervisors: HashSet<String>,
    /// When the team's policy lets a case's worker add a backup: each worker device (hex id)
    /// with its member's name. Empty otherwise.
    pub adds_backups: std::collections::HashMap<String, String>,
}

pub(crate) fn refresh_case(
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
        Err(e) if e.is_storage_failure() => return Err(e),
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
        let Ok(doc) = CaseDoc::load(&current, actor) else {
            if let Cow::Owned(kept) = current {
                out.kept = Some(kept);
            }
            return Ok(out);
        };
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
                let adds_backups_as = rights.adds_backups.get(&writer.to_hex()).map(String::as_str);
                if let Some(breach) = doc.breach(change, supervisor, false, adds_backups_as) {
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
            if let Cow::Owned(kept) = current {
                out.kept = Some(kept);
            }
            return Ok(out);
        }
        let kept: Vec<Vec<u8>> = current
            .iter()
            .enumerate()
            .filter(|(index, _)| !dropped.contains(index))
            .map(|(_, chunk)| chunk.clone())
            .collect();
        current = Cow::Owned(kept);
    }
}

/// Runs `work` over `items` on all of the machine's cores; results in the items' order. A
/// panic in a worker is carried over to the caller as if it happened there.
pub(crate) fn on_all_cores<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
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
pub(crate) fn puncture_epoch_keys(
    team: Option<&mut TeamState>,
    tx: &StoreTx<'_>,
    doc_id: &str,
) -> Result<()> {
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

pub(crate) fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn team_doc_in(tx: &StoreTx<'_>, actor: &[u8]) -> Result<TeamDoc> {
    let stored =
        tx.load_doc(TEAM_DOC_ID)?.ok_or_else(|| Error::Corrupt("no team document".into()))?;
    TeamDoc::load(&stored.chunks, actor)
}

/// Merges another device's team-document changes inside a sync's transaction; returns whether
/// anything was new. Changes that wait for others fail with `MISSING_DEPENDENCIES`.
fn merge_changes(tx: &StoreTx<'_>, actor: &[u8], payload: &[u8]) -> Result<bool> {
    let mut doc = team_doc_in(tx, actor)?;
    let heads = doc.heads();
    let changed = doc.merge_bytes(payload)?;
    if changed {
        tx.append_changes(TEAM_DOC_ID, &doc.save_after(&heads))?;
    }
    Ok(changed)
}
