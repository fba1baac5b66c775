//! The team's shared settings on this device, kept in the team document: writing them
//! (frameworks, policy, erasures) with the change sealed for the team in the same
//! transaction, and merging what other devices wrote.
//! It travels in envelopes like a case, under the team id as its document id.

use super::Device;
use crate::doc::{TeamDoc, TeamPolicy};
use crate::store::TEAM_DOC_ID;
use crate::team::roster::Role;
use crate::{Error, Result};

/// Set once this device shared all its own team-document changes; until then (and again after
/// a write it could not seal) the next write sends them all, so receivers never miss a change
/// the new one builds on.
const META_TEAM_DOC_SHARED: &str = "team_doc_shared";

impl Device {
    pub fn policy(&self) -> Result<TeamPolicy> {
        self.team_doc()?.policy()
    }

    pub fn set_policy(&mut self, policy: &TeamPolicy) -> Result<()> {
        self.require_supervisor("het teambeleid aanpassen")?;
        self.write_team_doc(|doc| doc.set_policy(policy))?;
        self.refresh_caseload_policy()?;
        // Who reads which case may have changed for every case.
        self.settle_access(&[], &mut crate::sync::report::SyncReport::default())
    }

    pub fn framework_source(&self, id: &str, version: u32) -> Result<String> {
        self.team_doc()?
            .framework_source(id, version)?
            .ok_or_else(|| Error::not_found("framework", format!("{id} version {version}")))
    }

    pub fn framework_versions(&self) -> Result<Vec<crate::checklist::Framework>> {
        self.team_doc()?.frameworks()
    }

    /// Applies `edit` to the team document, stores the change and seals it for the team in
    /// one transaction.
    pub(crate) fn write_team_doc<T>(
        &mut self,
        edit: impl FnOnce(&mut TeamDoc) -> Result<T>,
    ) -> Result<T> {
        let mut doc = self.team_doc()?;
        let heads = doc.heads();
        let out = edit(&mut doc)?;
        let changes = doc.save_after(&heads);
        if changes.is_empty() {
            return Ok(out);
        }
        let shared_before = self.store.meta(META_TEAM_DOC_SHARED)?.is_some();
        let device = *self.device_id().as_bytes();
        let tx = self.store.transaction()?;
        tx.append_changes(TEAM_DOC_ID, &changes)?;
        match &self.team {
            Some(team) if team.current_epoch_key().is_some() => {
                let payload = if shared_before { changes } else { doc.own_changes(&device) };
                let team_id = team.settings.team_id.clone();
                team.publish(&tx, &self.identity, &team_id, &payload)?;
                tx.put_meta(META_TEAM_DOC_SHARED, b"1")?;
            }
            Some(_) => tx.delete_meta(META_TEAM_DOC_SHARED)?,
            None => {}
        }
        tx.commit()?;
        Ok(out)
    }

    /// Refuses a worker's device; a device outside any team acts for itself.
    pub(crate) fn require_supervisor(&self, what: &str) -> Result<()> {
        let Some(team) = &self.team else { return Ok(()) };
        let me = self.device_id().to_hex();
        if team.roster.role(&me) == Some(Role::Supervisor) && team.roster.is_active(&me) {
            Ok(())
        } else {
            Err(Error::Unauthorised(format!("alleen een leidinggevende kan {what}")))
        }
    }

    pub fn member_name(&self) -> String {
        let me = self.device_id().to_hex();
        self.members()
            .into_iter()
            .find(|m| m.device_id == me)
            .map(|m| m.member)
            .unwrap_or_else(|| self.device_name.clone())
    }

    pub fn member_names(&self) -> std::collections::HashMap<String, String> {
        let mut names: std::collections::HashMap<String, String> =
            self.members().into_iter().map(|m| (m.device_id, m.member)).collect();
        names.entry(self.device_id().to_hex()).or_insert_with(|| self.device_name.clone());
        names
    }
}
