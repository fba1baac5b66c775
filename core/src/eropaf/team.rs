//! This device's team: the verified roster, the epoch keys it holds, and sealing its own
//! changes into signed envelopes in the same transaction as the change itself.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Eropaf;
use crate::crypto::{DeviceIdentity, SecretKey};
use crate::store::{OwnChain, Store, StoreTx};
use crate::sync::envelope::{Envelope, EnvelopeHeader, EnvelopeKind};
use crate::team::epoch::{CaseKey, EpochKey};
use crate::team::roster::{DeviceCard, Role, Roster, RosterEntry};
use crate::{Error, Result};

const META_TEAM: &str = "team";

/// Where the team lives; stored sealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TeamSettings {
    pub team_id: String,
    pub relay_url: String,
}

/// What a caller sees of the team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TeamInfo {
    pub team_id: String,
    pub team_name: String,
    pub relay_url: String,
    pub epoch: u32,
    pub role: Option<Role>,
    /// This device holds the key of the current epoch (a revoked device does not).
    pub has_current_key: bool,
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
            .map(|(epoch, key)| (epoch, EpochKey::from_parts(epoch, key)))
            .collect();
        Ok(Some(TeamState { settings, roster, epoch_keys }))
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
        self.seal_into_outbox(
            tx,
            identity,
            doc_id,
            EnvelopeKind::Changes,
            case_key.version,
            case_key.secret(),
            payload,
        )?;
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
        // A new epoch (after a revocation) starts a new case key version: what is written from
        // now on cannot be read with any key a revoked device may hold.
        let version = keys.last().map(|k| k.version + 1).unwrap_or(1);
        let case_key = CaseKey::generate(version)?;
        tx.put_case_key(doc_id, version, epoch_key.epoch, case_key.secret())?;
        let announcement =
            CaseKeyAnnouncement { version, key: hex::encode(case_key.secret().as_bytes()) };
        let payload =
            serde_json::to_vec(&announcement).map_err(|e| Error::Crypto(e.to_string()))?;
        self.seal_into_outbox(
            tx,
            identity,
            doc_id,
            EnvelopeKind::KeyPackage,
            epoch_key.epoch,
            epoch_key.secret(),
            &payload,
        )?;
        Ok(case_key)
    }

    #[allow(clippy::too_many_arguments)]
    fn seal_into_outbox(
        &self,
        tx: &StoreTx<'_>,
        identity: &DeviceIdentity,
        doc_id: &str,
        kind: EnvelopeKind,
        key_version: u32,
        key: &SecretKey,
        payload: &[u8],
    ) -> Result<()> {
        let chain = tx.own_chain(doc_id)?;
        let header = EnvelopeHeader::new(
            self.team_id_bytes()?,
            id16(doc_id, "case id")?,
            key_version,
            identity.id(),
            chain.seq + 1,
            chain.prev,
            kind,
        )?;
        let envelope = Envelope::seal(header, key, payload, identity)?;
        tx.push_outbox(doc_id, &envelope.to_bytes())?;
        tx.put_own_chain(doc_id, &OwnChain { seq: chain.seq + 1, prev: Some(envelope.hash()) })
    }
}

impl Eropaf {
    /// Makes this device the first supervisor of a new team, whose relay is at `relay_url`.
    /// Local only; the next sync registers the team at the relay.
    pub fn create_team(&mut self, team_name: &str, relay_url: &str) -> Result<TeamInfo> {
        if self.team.is_some() {
            return Err(Error::invalid("team", "dit apparaat hoort al bij een team"));
        }
        let relay_url = relay_url.trim().trim_end_matches('/');
        if !(relay_url.starts_with("http://") || relay_url.starts_with("https://")) {
            return Err(Error::invalid(
                "relay",
                "het adres van de relay begint met http:// of https://",
            ));
        }
        let card = self.device_card(Role::Supervisor)?;
        let roster = Roster::create(team_name, &self.identity, card)?;
        let epoch_key = EpochKey::generate(roster.epoch())?;
        let settings = TeamSettings {
            team_id: roster.team_id().to_string(),
            relay_url: relay_url.to_string(),
        };
        let tx = self.store.transaction()?;
        for entry in roster.entries() {
            let json = serde_json::to_vec(entry).map_err(|e| Error::Storage(e.to_string()))?;
            tx.put_roster_entry(entry.index, &json)?;
        }
        tx.put_epoch_key(epoch_key.epoch, epoch_key.secret())?;
        let json = serde_json::to_vec(&settings).map_err(|e| Error::Storage(e.to_string()))?;
        tx.put_meta(META_TEAM, &json)?;
        tx.commit()?;
        let mut epoch_keys = BTreeMap::new();
        epoch_keys.insert(epoch_key.epoch, epoch_key);
        self.team = Some(TeamState { settings, roster, epoch_keys });
        self.publish_existing_cases()?;
        self.team_info()?.ok_or_else(|| Error::Storage("team not stored".into()))
    }

    pub fn team_info(&self) -> Result<Option<TeamInfo>> {
        Ok(self.team.as_ref().map(|team| TeamInfo {
            team_id: team.settings.team_id.clone(),
            team_name: team.roster.team_name().to_string(),
            relay_url: team.settings.relay_url.clone(),
            epoch: team.roster.epoch(),
            role: team.roster.role(&self.device_id().to_hex()),
            has_current_key: team.current_epoch_key().is_some(),
        }))
    }

    /// The card this device publishes: its keys, its name, the role asked for.
    pub fn device_card(&self, role: Role) -> Result<DeviceCard> {
        DeviceCard::for_identity(
            &self.identity,
            &self.agreement.public_key(),
            &self.device_name,
            role,
        )
    }

    /// Cases recorded before joining a team, or while this device lacked the epoch key, are
    /// sealed for the team now: all of this device's own changes, as one envelope per case.
    pub(crate) fn publish_existing_cases(&mut self) -> Result<()> {
        let ready = self.team.as_ref().is_some_and(|team| team.current_epoch_key().is_some());
        if !ready {
            return Ok(());
        }
        let device = *self.device_id().as_bytes();
        for case_id in self.store.unpublished_docs()? {
            let own = self.with_case(&case_id, |doc| Ok(doc.own_changes(&device)))?;
            let tx = self.store.transaction()?;
            if let (Some(team), false) = (&self.team, own.is_empty()) {
                team.publish(&tx, &self.identity, &case_id, &own)?;
            }
            tx.clear_unpublished(&case_id)?;
            tx.commit()?;
        }
        Ok(())
    }
}

/// A 32-hex-character id as the 16 bytes envelopes carry.
pub(crate) fn id16(hex_id: &str, what: &str) -> Result<[u8; 16]> {
    hex::decode(hex_id).ok().and_then(|bytes| <[u8; 16]>::try_from(bytes).ok()).ok_or_else(|| {
        Error::invalid(what, format!("{hex_id:?} is geen id van 32 hexadecimale tekens"))
    })
}
