//! This device's team, as a person manages it: create or join one, invite and admit devices
//! (comparing safety codes), revoke a lost one, erase a case. The team state it seals with
//! and the sealing itself are `sync::outbox`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Device;
use crate::crypto;
use crate::sync::outbox::{TeamSettings, TeamState, META_TEAM};
use crate::sync::transport::Transport;
use crate::team::epoch::{EpochKey, KeyPackage};
use crate::team::invitation::{safety_code, safety_codes_match, Invitation, IssuedInvitation};
use crate::team::names::NamesKey;
use crate::team::roster::{DeviceCard, Role, Roster, RosterChange};
use crate::{Error, Result};

const META_INVITATIONS: &str = "invitations";
const META_PENDING_JOIN: &str = "pending_join";
const META_PENDING_JOINERS: &str = "pending_joiners";
/// The relay operator's one-time code, kept until the team is registered with it.
pub(crate) const META_REGISTRATION_CODE: &str = "registration_code";
/// How long an invitation code works.
const INVITATION_DAYS: i64 = 7;

/// One device in the team, as `team members` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    pub device_id: String,
    pub member: String,
    pub role: Role,
    pub revoked: bool,
    /// When the revoked device reported that it wiped itself (checked against the roster).
    pub wiped_at: Option<chrono::DateTime<chrono::Utc>>,
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

/// What a device that asked to join keeps until a supervisor admits it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct PendingJoin {
    team_id: String,
    relay_url: String,
    invitation_id: String,
    /// The roster head the invitation named: the roster this device accepts must hold it.
    roster_head: String,
    /// The code this device shows, for the supervisor to compare.
    safety_code: String,
    #[serde(default)]
    names_key: Option<String>,
}

/// A device that asked to join with one of this supervisor's invitations, proved it holds
/// the invitation, and waits for the supervisor to compare safety codes and admit it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingJoiner {
    pub device_id: String,
    pub member: String,
    pub role: Role,
    /// The code the newcomer's own screen shows; admit only when the two are the same.
    pub code: String,
    pub invitation_id: String,
    /// When the relay received the request (unix milliseconds).
    pub requested_at_millis: i64,
    /// The keys the newcomer's proof and safety code cover: what the roster will hold.
    card: DeviceCard,
}

impl Device {
    pub fn create_team(
        &mut self,
        team_name: &str,
        relay_url: &str,
        registration_code: &str,
    ) -> Result<TeamInfo> {
        if self.team.is_some() {
            return Err(Error::invalid("team", "dit apparaat hoort al bij een team"));
        }
        let relay_url = relay_url.trim().trim_end_matches('/');
        crate::sync::http::check_relay_url(relay_url)?;
        let registration_code = registration_code_form(registration_code)?;
        // Names reach the relay sealed: the team's name and its members' names are for the
        // team, not for whoever runs or backs up the relay.
        let names = NamesKey::generate()?;
        if team_name.trim().is_empty() {
            return Err(Error::invalid("team", "een team heeft een naam nodig"));
        }
        let card = self.sealed_card(Role::Supervisor, Some(&names))?;
        let roster = Roster::create(&names.seal(team_name)?, &self.identity, card)?;
        let epoch_key = EpochKey::generate(roster.epoch())?;
        let settings = TeamSettings {
            team_id: roster.team_id().to_string(),
            relay_url: relay_url.to_string(),
            names_key: Some(names.to_hex()),
        };
        let tx = self.store.transaction()?;
        for entry in roster.entries() {
            let json = serde_json::to_vec(entry).map_err(|e| Error::Storage(e.to_string()))?;
            tx.put_roster_entry(entry.index, &json)?;
        }
        tx.put_epoch_key(epoch_key.epoch, &epoch_key.to_bytes())?;
        let json = serde_json::to_vec(&settings).map_err(|e| Error::Storage(e.to_string()))?;
        tx.put_meta(META_TEAM, &json)?;
        tx.put_meta(META_REGISTRATION_CODE, registration_code.as_bytes())?;
        tx.commit()?;
        let mut epoch_keys = BTreeMap::new();
        epoch_keys.insert(epoch_key.epoch, epoch_key);
        self.team = Some(TeamState {
            settings,
            roster,
            epoch_keys,
            shared_caseload: false,
            workers_add_backups: false,
        });
        self.publish_existing_cases()?;
        self.team_info()?.ok_or_else(|| Error::Storage("team not stored".into()))
    }

    pub fn invite(&mut self, transport: &dyn Transport, role: Role) -> Result<Invitation> {
        // A team made offline is registered at the relay by the first call that needs it.
        if self.team.is_some() {
            self.register_if_founder(transport)?;
        }
        let team = self.active_supervisor_team("alleen een leidinggevende kan uitnodigen")?;
        let expires_at = chrono::Utc::now() + chrono::Duration::days(INVITATION_DAYS);
        let invitation = Invitation::generate(
            &team.settings.team_id,
            &team.settings.relay_url,
            role,
            team.roster.head(),
            team.names().as_ref(),
            expires_at,
        )?;
        transport.create_invitation(
            &self.identity,
            &invitation.team_id,
            &invitation.invitation_id,
            &invitation.public_key()?,
            expires_at.timestamp_millis(),
        )?;
        let mut issued = self.issued_invitations()?;
        issued.push(IssuedInvitation {
            invitation_id: invitation.invitation_id.clone(),
            secret: hex::encode(invitation.secret()),
            role,
            expires_at_millis: expires_at.timestamp_millis(),
            used: false,
        });
        self.put_issued_invitations(&issued)?;
        Ok(invitation)
    }

    pub fn join(&mut self, transport: &dyn Transport, invitation: &Invitation) -> Result<String> {
        if self.team.is_some() {
            return Err(Error::invalid("team", "dit apparaat hoort al bij een team"));
        }
        let card = self.sealed_card(invitation.role, invitation.names_key()?.as_ref())?;
        let card_json = serde_json::to_vec(&card).map_err(|e| Error::Crypto(e.to_string()))?;
        let proof = invitation.sign_join(&card_json)?;
        transport.join(&invitation.team_id, &invitation.invitation_id, &card, &proof)?;
        let code = safety_code(invitation.secret(), &card);
        let pending = PendingJoin {
            team_id: invitation.team_id.clone(),
            relay_url: invitation.relay_url.clone(),
            invitation_id: invitation.invitation_id.clone(),
            roster_head: invitation.roster_head.clone(),
            safety_code: code.clone(),
            names_key: invitation.names_key()?.map(|k| k.to_hex()),
        };
        let tx = self.store.transaction()?;
        tx.put_meta(
            META_PENDING_JOIN,
            &serde_json::to_vec(&pending).map_err(|e| Error::Storage(e.to_string()))?,
        )?;
        tx.commit()?;
        Ok(code)
    }

    pub fn join_safety_code(&self) -> Result<Option<String>> {
        Ok(self.pending_join()?.map(|p| p.safety_code))
    }

    pub fn relay_url(&self) -> Result<Option<String>> {
        if let Some(team) = &self.team {
            return Ok(Some(team.settings.relay_url.clone()));
        }
        Ok(self.pending_join()?.map(|p| p.relay_url))
    }

    /// For a device that asked to join: once the relay serves it the roster (it was
    /// admitted), take the roster in and become a member. Returns whether it is one now.
    /// A roster that does not hold the head the invitation named is not the inviter's team,
    /// whatever its id says, and is refused.
    pub(crate) fn complete_join(&mut self, transport: &dyn Transport) -> Result<bool> {
        if self.team.is_some() {
            return Ok(true);
        }
        let Some(pending) = self.pending_join()? else { return Ok(false) };
        let entries = match transport.roster(&self.identity, &pending.team_id) {
            Ok(entries) => entries,
            Err(Error::Unauthorised(_)) => return Ok(false),
            Err(e) => return Err(e),
        };
        let roster = Roster::from_entries(entries)?;
        if roster.team_id() != pending.team_id || !roster.holds_head(&pending.roster_head) {
            return Err(Error::Refused(
                "de relay toont een teamlijst die niet van het uitnodigende team is".into(),
            ));
        }
        if !roster.is_active(&self.identity.id().to_hex()) {
            return Ok(false);
        }
        let settings = TeamSettings {
            team_id: pending.team_id.clone(),
            relay_url: pending.relay_url.clone(),
            names_key: pending.names_key.clone(),
        };
        let tx = self.store.transaction()?;
        for entry in roster.entries() {
            let json = serde_json::to_vec(entry).map_err(|e| Error::Storage(e.to_string()))?;
            tx.put_roster_entry(entry.index, &json)?;
        }
        tx.put_meta(
            META_TEAM,
            &serde_json::to_vec(&settings).map_err(|e| Error::Storage(e.to_string()))?,
        )?;
        tx.put_meta("team_registered", b"1")?;
        tx.delete_meta(META_PENDING_JOIN)?;
        tx.commit()?;
        self.team = Some(TeamState {
            settings,
            roster,
            epoch_keys: BTreeMap::new(),
            shared_caseload: false,
            workers_add_backups: false,
        });
        Ok(true)
    }

    /// A supervisor device takes in the join requests made with its own invitations: each
    /// proof is checked with the key this device derives from the invitation secret (never a
    /// key the relay names), and only a proven request waits for admission. Nobody is
    /// admitted here: that takes a person comparing safety codes (`admit`). Returns how many
    /// joiners wait.
    pub(crate) fn refresh_join_requests(&mut self, transport: &dyn Transport) -> Result<u64> {
        let Ok(team) = self.active_supervisor_team("") else { return Ok(0) };
        let team_id = team.settings.team_id.clone();
        let issued = self.issued_invitations()?;
        if !issued.iter().any(|i| !i.used) {
            return self.pending_joiners().map(|p| p.len() as u64);
        }
        let now = chrono::Utc::now().timestamp_millis();
        let mut waiting = Vec::new();
        for request in transport.join_requests(&self.identity, &team_id)? {
            let Some(invitation) = issued.iter().find(|i| i.invitation_id == request.invitation_id)
            else {
                continue;
            };
            if invitation.used || invitation.expires_at_millis < now {
                continue;
            }
            let card_json =
                serde_json::to_vec(&request.card).map_err(|e| Error::Crypto(e.to_string()))?;
            if request.card.check().is_err()
                || !invitation.verifies(&team_id, &card_json, &request.proof)?
                || team.roster.device(&request.card.device_id).is_some()
            {
                continue;
            }
            let mut card = request.card.clone();
            card.role = invitation.role;
            waiting.push(PendingJoiner {
                device_id: card.device_id.clone(),
                member: team.shown(&card.member),
                role: invitation.role,
                code: safety_code(&invitation.secret()?, &card),
                invitation_id: invitation.invitation_id.clone(),
                requested_at_millis: request.created_at,
                card,
            });
        }
        let json = serde_json::to_vec(&waiting).map_err(|e| Error::Storage(e.to_string()))?;
        let tx = self.store.transaction()?;
        tx.put_meta(META_PENDING_JOINERS, &json)?;
        tx.commit()?;
        Ok(waiting.len() as u64)
    }

    pub fn pending_joiners(&self) -> Result<Vec<PendingJoiner>> {
        match self.store.meta(META_PENDING_JOINERS)? {
            None => Ok(Vec::new()),
            Some(json) => serde_json::from_slice(&json)
                .map_err(|e| Error::Corrupt(format!("pending joiners: {e}"))),
        }
    }

    pub fn refresh_pending_joiners(
        &mut self,
        transport: &dyn Transport,
    ) -> Result<Vec<PendingJoiner>> {
        self.active_supervisor_team("alleen een leidinggevende laat apparaten toe")?;
        self.refresh_join_requests(transport)?;
        self.pending_joiners()
    }

    pub fn admit(
        &mut self,
        transport: &dyn Transport,
        device_id: &str,
        typed_code: &str,
    ) -> Result<Member> {
        self.active_supervisor_team("alleen een leidinggevende laat apparaten toe")?;
        let mut waiting = self.pending_joiners()?;
        let position = waiting
            .iter()
            .position(|p| p.device_id == device_id)
            .ok_or_else(|| Error::not_found("aanmelding", device_id))?;
        let joiner = waiting[position].clone();
        if !safety_codes_match(&joiner.code, typed_code) {
            return Err(Error::Refused(
                "de veiligheidscode komt niet overeen: dit is niet het apparaat dat zich \
                 aanmeldde; laat het niet toe"
                    .into(),
            ));
        }
        let mut issued = self.issued_invitations()?;
        let Some(invitation) =
            issued.iter_mut().find(|i| i.invitation_id == joiner.invitation_id && !i.used)
        else {
            return Err(Error::Refused("deze uitnodiging is al gebruikt of ingetrokken".into()));
        };
        if invitation.expires_at_millis < chrono::Utc::now().timestamp_millis() {
            return Err(Error::Refused("deze uitnodiging is verlopen".into()));
        }
        let team_id = self.team_id()?;
        self.take_relays_roster(transport)?;
        let team = self.team.as_mut().ok_or_else(|| Error::invalid("team", "geen team"))?;
        let mut roster = team.roster.clone();
        let card = joiner.card.clone();
        let entry =
            roster.append(RosterChange::AddDevice { card: card.clone() }, &self.identity)?;
        transport.append_roster(&self.identity, &team_id, std::slice::from_ref(&entry))?;
        // Every epoch key this device holds: a newcomer reads the team's history too.
        let agreement =
            hex::decode(&card.agreement_key).map_err(|_| Error::Refused("agreement key".into()))?;
        let packages = team
            .epoch_keys
            .values()
            .map(|key| {
                KeyPackage::create(&team_id, key, &card.device_id, &agreement, &self.identity)
            })
            .collect::<Result<Vec<_>, _>>()?;
        if !packages.is_empty() {
            transport.put_key_packages(&self.identity, &team_id, &packages)?;
        }
        invitation.used = true;
        waiting.remove(position);
        let tx = self.store.transaction()?;
        let json = serde_json::to_vec(&entry).map_err(|e| Error::Storage(e.to_string()))?;
        tx.put_roster_entry(entry.index, &json)?;
        let json = serde_json::to_vec(&issued).map_err(|e| Error::Storage(e.to_string()))?;
        tx.put_meta(META_INVITATIONS, &json)?;
        let json = serde_json::to_vec(&waiting).map_err(|e| Error::Storage(e.to_string()))?;
        tx.put_meta(META_PENDING_JOINERS, &json)?;
        tx.commit()?;
        team.roster = roster;
        let member = Member {
            member: team.shown(&card.member),
            device_id: card.device_id,
            role: card.role,
            revoked: false,
            wiped_at: None,
        };
        // The newcomer's case keys (what it may read: every case for a supervisor, its
        // member's cases for a worker) are granted and sent now, after taking in what the
        // relay holds, so its first sync reads them. A sync that fails here leaves the grants
        // to the next one; the admission stands either way.
        if let Err(e) = self.sync(transport, &mut |_| {}) {
            if e.is_storage_failure() || e.is_corrupt() {
                return Err(e);
            }
        }
        Ok(member)
    }

    /// Brings this device's roster up to the relay's newest: a roster entry appended to an
    /// older one is refused by the relay as stale.
    pub(crate) fn take_relays_roster(&mut self, transport: &dyn Transport) -> Result<()> {
        let team_id = self.team_id()?;
        let entries = transport.roster(&self.identity, &team_id)?;
        self.apply_roster_entries(entries)
    }

    /// This device's team, when this device is an active supervisor in it; otherwise
    /// `Unauthorised` with `why`.
    pub(crate) fn active_supervisor_team(&self, why: &str) -> Result<&TeamState> {
        let team = self
            .team
            .as_ref()
            .ok_or_else(|| Error::invalid("team", "dit apparaat hoort nog niet bij een team"))?;
        let me = self.identity.id().to_hex();
        if team.roster.role(&me) != Some(Role::Supervisor) || !team.roster.is_active(&me) {
            return Err(Error::Unauthorised(why.into()));
        }
        Ok(team)
    }

    pub fn revoke(&mut self, transport: &dyn Transport, device_id: &str) -> Result<()> {
        if device_id == self.identity.id().to_hex() {
            return Err(Error::invalid("device", "een apparaat kan zichzelf niet intrekken"));
        }
        self.take_relays_roster(transport)?;
        // Everything the device pushed before now is taken in first: its revocation lets
        // exactly that stand, and every device refuses anything further in its name.
        let team_id = self.team_id()?;
        self.pull_envelopes(transport, &team_id, &mut Default::default(), &mut |_| {})?;
        let device = hex::decode(device_id)
            .ok()
            .and_then(|bytes| crypto::DeviceId::from_slice(&bytes))
            .ok_or_else(|| Error::invalid("device", "geen apparaat-id"))?;
        let last_taken = self.store.author_chains_of(device.as_bytes())?.into_iter().collect();
        let team = self.team.as_mut().ok_or_else(|| Error::invalid("team", "geen team"))?;
        let mut roster = team.roster.clone();
        let change =
            RosterChange::Revoke { device_id: device_id.to_string(), last_taken: Some(last_taken) };
        let revoke = roster.append(change, &self.identity)?;
        let epoch = roster.epoch() + 1;
        let new_epoch = roster.append(RosterChange::NewEpoch { epoch }, &self.identity)?;
        let epoch_key = EpochKey::generate(epoch)?;
        let me = self.identity.id().to_hex();
        let mut packages = Vec::new();
        for device in roster.active_devices() {
            if device.card.device_id == me {
                continue;
            }
            let agreement = hex::decode(&device.card.agreement_key)
                .map_err(|_| Error::Corrupt("agreement key".into()))?;
            packages.push(KeyPackage::create(
                &team_id,
                &epoch_key,
                &device.card.device_id,
                &agreement,
                &self.identity,
            )?);
        }
        transport.append_roster(&self.identity, &team_id, &[revoke.clone(), new_epoch.clone()])?;
        if !packages.is_empty() {
            transport.put_key_packages(&self.identity, &team_id, &packages)?;
        }
        let tx = self.store.transaction()?;
        for entry in [&revoke, &new_epoch] {
            let json = serde_json::to_vec(entry).map_err(|e| Error::Storage(e.to_string()))?;
            tx.put_roster_entry(entry.index, &json)?;
        }
        tx.put_epoch_key(epoch, &epoch_key.to_bytes())?;
        // Nobody trusts a revoked supervisor's snapshots any more, and the relay may have
        // dropped what they covered: this supervisor's own snapshots take their place.
        if roster.role(device_id) == Some(Role::Supervisor) {
            tx.snapshot_all_again(crate::sync::engine::SNAPSHOT_AFTER)?;
        }
        tx.commit()?;
        team.roster = roster;
        team.epoch_keys.insert(epoch, epoch_key);
        Ok(())
    }

    /// `relay` is the team's relay, told first so no other device fetches the case again;
    /// outside a team there is none and the case is only forgotten here.
    pub fn erase_case(&mut self, relay: Option<&dyn Transport>, case_id: &str) -> Result<()> {
        if self.store.doc_state(case_id)?.is_none() {
            return Err(Error::not_found("case", case_id));
        }
        if let Some(team) = &self.team {
            let me = self.identity.id().to_hex();
            if team.roster.role(&me) != Some(Role::Supervisor) {
                return Err(Error::Unauthorised(
                    "alleen een leidinggevende kan een casus wissen".into(),
                ));
            }
            let relay = relay.ok_or_else(|| {
                Error::invalid("relay", "de relay van het team is nodig om een casus te wissen")
            })?;
            relay.erase(&self.identity, &team.settings.team_id, case_id)?;
        }
        self.forget_case(case_id)
    }

    pub fn members(&self) -> Vec<Member> {
        let Some(team) = &self.team else { return Vec::new() };
        // A damaged list of reports shows no wipes rather than no members.
        let wiped = self.wipe_reports().unwrap_or_default();
        team.roster
            .entries()
            .iter()
            .filter_map(|e| match &e.change {
                RosterChange::Genesis { founder: card, .. } | RosterChange::AddDevice { card } => {
                    Some(card)
                }
                _ => None,
            })
            .map(|card| Member {
                device_id: card.device_id.clone(),
                member: team.shown(&card.member),
                role: card.role,
                revoked: !team.roster.is_active(&card.device_id),
                wiped_at: wiped
                    .iter()
                    .find(|r| r.device_id == card.device_id)
                    .and_then(|r| chrono::DateTime::from_timestamp_millis(r.wiped_at)),
            })
            .collect()
    }

    pub(crate) fn issued_invitations(&self) -> Result<Vec<IssuedInvitation>> {
        match self.store.meta(META_INVITATIONS)? {
            None => Ok(Vec::new()),
            Some(json) => serde_json::from_slice(&json)
                .map_err(|e| Error::Corrupt(format!("invitations: {e}"))),
        }
    }

    pub(crate) fn put_issued_invitations(&mut self, issued: &[IssuedInvitation]) -> Result<()> {
        let json = serde_json::to_vec(issued).map_err(|e| Error::Storage(e.to_string()))?;
        let tx = self.store.transaction()?;
        tx.put_meta(META_INVITATIONS, &json)?;
        tx.commit()
    }

    fn pending_join(&self) -> Result<Option<PendingJoin>> {
        self.store
            .meta(META_PENDING_JOIN)?
            .map(|json| {
                serde_json::from_slice(&json)
                    .map_err(|e| Error::Corrupt(format!("pending join: {e}")))
            })
            .transpose()
    }

    pub fn team_info(&self) -> Result<Option<TeamInfo>> {
        Ok(self.team.as_ref().map(|team| TeamInfo {
            team_id: team.settings.team_id.clone(),
            team_name: team.shown(team.roster.team_name()),
            relay_url: team.settings.relay_url.clone(),
            epoch: team.roster.epoch(),
            role: team.roster.role(&self.device_id().to_hex()),
            has_current_key: team.current_epoch_key().is_some(),
        }))
    }

    pub fn device_card(&self, role: Role) -> Result<DeviceCard> {
        Ok(DeviceCard::for_identity(
            &self.identity,
            &self.agreement.public_key(),
            &self.device_name,
            role,
        )?)
    }

    /// The card as the roster and the relay carry it: with the name sealed when the team has
    /// a names key.
    pub(crate) fn sealed_card(&self, role: Role, names: Option<&NamesKey>) -> Result<DeviceCard> {
        let mut card = self.device_card(role)?;
        if let Some(names) = names {
            card.member = names.seal(&card.member)?;
        }
        card.check()?;
        Ok(card)
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

/// A registration code as `eropaf relay code` prints it: 32 hex digits. A typo is caught
/// here, before a team exists that the relay would refuse to register.
pub(crate) fn registration_code_form(code: &str) -> Result<String> {
    let code = code.trim().to_ascii_lowercase();
    if code.len() != 32 || !code.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::invalid(
            "registratiecode",
            "een registratiecode is 32 tekens 0-9 en a-f; vraag de beheerder van de relay om \
             een registratiecode voor het team",
        ));
    }
    Ok(code)
}
