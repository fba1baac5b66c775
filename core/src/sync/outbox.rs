//! What this device seals for its team: the team state it seals with (settings, the verified
//! roster, the epoch keys it holds), who may read each case, its own case keys granted to
//! exactly those devices, and each of its own changes as a signed envelope in the outbox, in
//! the same transaction as the change itself.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::crypto::{self, DeviceIdentity, SecretKey};
use crate::model::{fold, CaseSummary};
use crate::store::{OwnChain, Store, StoreTx};
use crate::sync::envelope::{Envelope, EnvelopeHeader, EnvelopeKind};
use crate::team::epoch::{CaseKey, EpochKey};
use crate::team::grant::{CaseKeyGrant, GrantScope};
use crate::team::names::{self, NamesKey};
use crate::team::roster::{Role, Roster, RosterEntry};
use crate::{Error, Result};

/// Where the team's settings are kept in the store (sealed).
pub(crate) const META_TEAM: &str = "team";

/// Where the team lives; stored sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TeamSettings {
    pub team_id: String,
    pub relay_url: String,
    /// Hex of the team's names key (`team::names`); none for a team made before names were
    /// sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names_key: Option<String>,
}

/// The payload of a key envelope, sealed under the epoch key's key for the case: a case key
/// version granted to the devices that may read the case, each grant sealed to one device.
#[derive(Serialize, Deserialize)]
pub(crate) struct CaseKeyAnnouncement {
    pub version: u32,
    /// The key itself, readable by every device of the epoch: how keys travelled before
    /// need-to-know. Still read, for cases keyed then; never written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The epoch the key was minted in; a grant made later travels under a later epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<CaseKeyGrant>,
    /// For a key just minted: every device that may read the case now, as its minter saw it.
    /// From an active supervisor's device it tells a device left out that it lost access,
    /// also when the change that removed it was compacted away at the relay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readers: Option<Vec<String>>,
}

pub(crate) struct TeamState {
    pub settings: TeamSettings,
    pub roster: Roster,
    pub epoch_keys: BTreeMap<u32, EpochKey>,
    /// The team's policy says every member reads every case (`TeamPolicy::shared_caseload`).
    pub shared_caseload: bool,
    /// The team's policy lets a case's worker add a backup (`TeamPolicy::workers_add_backups`).
    pub workers_add_backups: bool,
}

impl TeamState {
    pub fn load(store: &Store) -> Result<Option<TeamState>> {
        let Some(json) = store.meta(META_TEAM)? else { return Ok(None) };
        let settings: TeamSettings = serde_json::from_slice(&json)
            .map_err(|e| Error::Corrupt(format!("team settings: {e}")))?;
        let entries = store
            .roster_entries()?
            .iter()
            .map(|json| {
                serde_json::from_slice(json)
                    .map_err(|e| Error::Corrupt(format!("roster entry: {e}")))
            })
            .collect::<Result<Vec<RosterEntry>>>()?;
        let roster = Roster::from_entries(entries)?;
        let epoch_keys = store
            .epoch_keys()?
            .into_iter()
            .map(|(epoch, key)| Ok((epoch, EpochKey::from_bytes(epoch, &key)?)))
            .collect::<Result<_>>()?;
        Ok(Some(TeamState {
            settings,
            roster,
            epoch_keys,
            shared_caseload: false,
            workers_add_backups: false,
        }))
    }

    /// The team's names key, when it has one.
    pub fn names(&self) -> Option<NamesKey> {
        self.settings.names_key.as_deref().and_then(|k| NamesKey::from_hex(k).ok())
    }

    /// A name from the roster as people read it.
    pub fn shown(&self, text: &str) -> String {
        names::shown(self.names().as_ref(), text)
    }

    pub fn team_id_bytes(&self) -> Result<[u8; 16]> {
        id16(&self.settings.team_id, "team id")
    }

    pub fn current_epoch_key(&self) -> Option<&EpochKey> {
        self.epoch_keys.get(&self.roster.epoch())
    }

    /// Seals `payload` (automerge changes made by this device) for `doc_id` into the outbox,
    /// first announcing a fresh case key when the case has none for the current epoch.
    /// Without the current epoch key (not yet received) nothing is sealed: the change stays
    /// in the local store and is published by the next sync that has the key.
    pub fn publish(
        &self,
        tx: &StoreTx<'_>,
        identity: &DeviceIdentity,
        doc_id: &str,
        payload: &[u8],
    ) -> Result<bool> {
        let Some(epoch_key) = self.current_epoch_key() else {
            tx.mark_unpublished(doc_id)?;
            return Ok(false);
        };
        let case_key = self.case_key_for_writing(tx, identity, epoch_key, doc_id)?;
        let sealing =
            Sealing { kind: EnvelopeKind::Changes, key_version: case_key.version, covers: None };
        self.seal_into_outbox(tx, identity, doc_id, sealing, case_key.secret(), payload)?;
        Ok(true)
    }

    /// Seals a whole document as a snapshot that covers the relay's log up to `covers`, so the
    /// relay may drop the envelopes it replaces. Only called by a device that applied every
    /// envelope of the document up to there.
    pub fn publish_snapshot(
        &self,
        tx: &StoreTx<'_>,
        identity: &DeviceIdentity,
        doc_id: &str,
        snapshot: &[u8],
        covers: u64,
    ) -> Result<bool> {
        let Some(epoch_key) = self.current_epoch_key() else { return Ok(false) };
        let case_key = self.case_key_for_writing(tx, identity, epoch_key, doc_id)?;
        let sealing = Sealing {
            kind: EnvelopeKind::Snapshot,
            key_version: case_key.version,
            covers: Some(covers),
        };
        self.seal_into_outbox(tx, identity, doc_id, sealing, case_key.secret(), snapshot)?;
        Ok(true)
    }

    /// The devices that may read `doc_id` at `now`: the active devices of the team's
    /// supervisors and of the members the case is assigned to (of the member whose device
    /// created it, while nobody was assigned; `me` when the case does not say). The team
    /// document is every active device's.
    pub fn readers(
        &self,
        doc_id: &str,
        summary: Option<&CaseSummary>,
        me: &str,
        now: DateTime<Utc>,
    ) -> BTreeSet<String> {
        let active = self.roster.active_devices();
        let mut readers = BTreeSet::new();
        if doc_id == self.settings.team_id || self.shared_caseload {
            readers.extend(active.iter().map(|d| d.card.device_id.clone()));
            return readers;
        }
        let members: Vec<String> = match summary.and_then(|s| s.assignments.as_ref()) {
            Some(assignments) => assignments
                .iter()
                .filter(|a| a.in_force(now))
                .map(|a| fold(a.member.trim()))
                .collect(),
            None => summary
                .and_then(|s| s.created_by.as_deref())
                .or(Some(me))
                .and_then(|creator| self.member_of(creator))
                .map(|member| fold(&member))
                .into_iter()
                .collect(),
        };
        for device in active {
            if device.card.role == Role::Supervisor
                || members.contains(&fold(&self.shown(&device.card.member)))
            {
                readers.insert(device.card.device_id.clone());
            }
        }
        readers
    }

    /// The member a device belongs to, as people read the name.
    pub fn member_of(&self, device_id: &str) -> Option<String> {
        self.roster.device(device_id).map(|d| self.shown(&d.card.member).trim().to_owned())
    }

    /// Seals grants of case key `key` (version `version`, minted in `minted_in`) to
    /// `recipients` into one key envelope; notes each as holding it. `readers` declares the
    /// case's readers, for a key just minted.
    #[allow(clippy::too_many_arguments)]
    pub fn grant(
        &self,
        tx: &StoreTx<'_>,
        identity: &DeviceIdentity,
        doc_id: &str,
        version: u32,
        minted_in: u32,
        key: &SecretKey,
        recipients: &[String],
        readers: Option<&[String]>,
    ) -> Result<bool> {
        let Some(epoch_key) = self.current_epoch_key() else { return Ok(false) };
        // An erased case gets no grant: nothing may be read in it again.
        let Some(announcing) = epoch_key.for_case(doc_id) else { return Ok(false) };
        let scope = GrantScope { team_id: &self.settings.team_id, doc_id, version };
        let mut grants = Vec::new();
        for recipient in recipients {
            let Some(device) = self.roster.device(recipient).filter(|d| d.is_active()) else {
                continue;
            };
            let agreement = hex::decode(&device.card.agreement_key)
                .map_err(|_| Error::Corrupt("an agreement key in the roster".into()))?;
            grants.push(CaseKeyGrant::seal(scope, key, recipient, &agreement)?);
        }
        // A declaration of readers goes out even to nobody: it tells the ones left out.
        if grants.is_empty() && readers.is_none() {
            return Ok(false);
        }
        for grant in &grants {
            tx.put_grant_seen(doc_id, version, &grant.recipient)?;
        }
        let announcement = CaseKeyAnnouncement {
            version,
            key: None,
            epoch: Some(minted_in),
            grants,
            readers: readers.map(<[String]>::to_vec),
        };
        let payload =
            serde_json::to_vec(&announcement).map_err(|e| Error::Crypto(e.to_string()))?;
        let sealed =
            Sealing { kind: EnvelopeKind::KeyPackage, key_version: epoch_key.epoch, covers: None };
        self.seal_into_outbox(tx, identity, doc_id, sealed, &announcing, &payload)?;
        Ok(true)
    }

    /// This device's key for writing the case: its own key of the current epoch, minted for
    /// the readers the case has now. A new epoch (after a revocation) or new readers (after a
    /// handover or unassignment) start a new key, granted to the readers alone: what is
    /// written from now on cannot be read with any key a revoked or unassigned device holds.
    /// Each device writes under a key it minted itself, so a key minted by a member who should
    /// not read the case is never written under by anyone else.
    /// Makes sure this device has a key for writing the case, minted for the readers the
    /// case has before a change: a change to who reads the case must reach those it removes,
    /// or they would never learn to forget it.
    pub fn prepare_writing_key(
        &self,
        tx: &StoreTx<'_>,
        identity: &DeviceIdentity,
        doc_id: &str,
    ) -> Result<()> {
        if let Some(epoch_key) = self.current_epoch_key() {
            self.case_key_for_writing(tx, identity, epoch_key, doc_id)?;
        }
        Ok(())
    }

    fn case_key_for_writing(
        &self,
        tx: &StoreTx<'_>,
        identity: &DeviceIdentity,
        epoch_key: &EpochKey,
        doc_id: &str,
    ) -> Result<CaseKey> {
        if let Some((own, _)) = tx.own_case_key(doc_id, epoch_key.epoch)? {
            return Ok(CaseKey::from_parts(own.version, own.key));
        }
        let keys = tx.case_keys(doc_id)?;
        // Key ids are random, not counted: two devices starting a key for the same case while
        // offline must not both call theirs "version 2", or one of them would be unreadable
        // to everyone else.
        let version = loop {
            let mut bytes = [0u8; 4];
            crypto::fill_random(&mut bytes)?;
            let candidate = u32::from_be_bytes(bytes);
            if candidate != 0 && !keys.iter().any(|k| k.version == candidate) {
                break candidate;
            }
        };
        // An erased case gets no new key: nothing may be written to it again.
        if epoch_key.for_case(doc_id).is_none() {
            return Err(Error::not_found("case", doc_id));
        }
        let me = identity.id().to_hex();
        let mut readers = self.readers(doc_id, tx.summary(doc_id)?.as_ref(), &me, Utc::now());
        readers.insert(me.clone());
        let readers: Vec<String> = readers.into_iter().collect();
        let case_key = CaseKey::generate(version)?;
        tx.put_own_case_key(doc_id, version, epoch_key.epoch, case_key.secret(), &readers)?;
        let others: Vec<String> = readers.iter().filter(|r| **r != me).cloned().collect();
        self.grant(
            tx,
            identity,
            doc_id,
            version,
            epoch_key.epoch,
            case_key.secret(),
            &others,
            Some(&readers),
        )?;
        Ok(case_key)
    }

    fn seal_into_outbox(
        &self,
        tx: &StoreTx<'_>,
        identity: &DeviceIdentity,
        doc_id: &str,
        sealing: Sealing,
        key: &SecretKey,
        payload: &[u8],
    ) -> Result<()> {
        let chain = tx.own_chain(doc_id)?;
        let mut header = EnvelopeHeader::new(
            self.team_id_bytes()?,
            id16(doc_id, "case id")?,
            sealing.key_version,
            identity.id(),
            chain.seq + 1,
            chain.prev,
            sealing.kind,
        )?;
        if let Some(covers) = sealing.covers {
            header = header.covering(covers);
        }
        // Where this device stood in the roster: a receiver whose relay serves less learns
        // that the relay holds roster entries back.
        if let Ok(head) = <[u8; 32]>::try_from(hex::decode(self.roster.head()).unwrap_or_default())
        {
            header = header.at_roster(self.roster.len(), head);
        }
        let envelope = Envelope::seal(header, key, payload, identity)?;
        tx.push_outbox(doc_id, &envelope.to_bytes())?;
        tx.put_own_chain(doc_id, &OwnChain { seq: chain.seq + 1, prev: Some(envelope.hash()) })
    }
}

/// How an envelope is sealed: its kind, which key, and what a snapshot covers.
struct Sealing {
    kind: EnvelopeKind,
    key_version: u32,
    covers: Option<u64>,
}

/// A 32-hex-character id as the 16 bytes envelopes carry.
pub(crate) fn id16(hex_id: &str, what: &str) -> Result<[u8; 16]> {
    hex::decode(hex_id).ok().and_then(|bytes| <[u8; 16]>::try_from(bytes).ok()).ok_or_else(|| {
        Error::invalid(what, format!("{hex_id:?} is geen id van 32 hexadecimale tekens"))
    })
}
