//! What this device seals for its team: the team state it seals with (settings, the verified
//! roster, the epoch keys it holds), a case key announced under the epoch key's key for the
//! case, and each of its own changes as a signed envelope in the outbox, in the same
//! transaction as the change itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::crypto::{self, DeviceIdentity, SecretKey};
use crate::store::{OwnChain, Store, StoreTx};
use crate::sync::envelope::{Envelope, EnvelopeHeader, EnvelopeKind};
use crate::team::epoch::{CaseKey, EpochKey};
use crate::team::names::{self, NamesKey};
use crate::team::roster::{Roster, RosterEntry};
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

/// The payload of a key envelope: a case key version, sealed under the epoch key.
#[derive(Serialize, Deserialize)]
pub(crate) struct CaseKeyAnnouncement {
    pub version: u32,
    pub key: String,
}

pub(crate) struct TeamState {
    pub settings: TeamSettings,
    pub roster: Roster,
    pub epoch_keys: BTreeMap<u32, EpochKey>,
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
        Ok(Some(TeamState { settings, roster, epoch_keys }))
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

    fn case_key_for_writing(
        &self,
        tx: &StoreTx<'_>,
        identity: &DeviceIdentity,
        epoch_key: &EpochKey,
        doc_id: &str,
    ) -> Result<CaseKey> {
        let keys = tx.case_keys(doc_id)?;
        if let Some(current) = keys.iter().rev().find(|k| k.epoch == epoch_key.epoch) {
            return Ok(CaseKey::from_parts(current.version, current.key.clone()));
        }
        // A new epoch (after a revocation) starts a new case key: what is written from now on
        // cannot be read with any key a revoked device may hold. Key ids are random, not
        // counted: two devices starting a key for the same case while offline must not both
        // call theirs "version 2", or one of them would be unreadable to everyone else.
        let version = loop {
            let mut bytes = [0u8; 4];
            crypto::fill_random(&mut bytes)?;
            let candidate = u32::from_be_bytes(bytes);
            if candidate != 0 && !keys.iter().any(|k| k.version == candidate) {
                break candidate;
            }
        };
        // An erased case gets no new key: nothing may be written to it again.
        let announcing =
            epoch_key.for_case(doc_id).ok_or_else(|| Error::not_found("case", doc_id))?;
        let case_key = CaseKey::generate(version)?;
        tx.put_case_key(doc_id, version, epoch_key.epoch, case_key.secret())?;
        let announcement =
            CaseKeyAnnouncement { version, key: hex::encode(case_key.secret().as_bytes()) };
        let payload =
            serde_json::to_vec(&announcement).map_err(|e| Error::Crypto(e.to_string()))?;
        let sealed =
            Sealing { kind: EnvelopeKind::KeyPackage, key_version: epoch_key.epoch, covers: None };
        self.seal_into_outbox(tx, identity, doc_id, sealed, &announcing, &payload)?;
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
