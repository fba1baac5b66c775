//! A lost phone forgets. A device that finds itself revoked in the signed roster (the relay
//! serves the roster, and takes a wipe report, from a revoked device and nothing else) wipes
//! its store and reports that it did, signed; a supervisor's sync takes the reports in, each
//! checked against the roster, so the relay can withhold a report but never invent one.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::crypto::AgreementKey;
use crate::device::Device;
use crate::sync::report::SyncReport;
use crate::sync::transport::Transport;
use crate::team::roster::Role;
use crate::team::wipe::WipeReport;
use crate::{Error, Result};

/// A wipe report this device still has to deliver.
const META_WIPE_REPORT: &str = "wipe_report";
/// When this device wiped itself (unix milliseconds), kept after the report went.
const META_WIPED_AT: &str = "wiped_at";
/// A supervisor's copy of the team's checked wipe reports.
const META_WIPE_REPORTS: &str = "wipe_reports";

#[derive(Serialize, Deserialize)]
struct PendingWipeReport {
    team_id: String,
    report: WipeReport,
}

impl Device {
    /// Wipes this device when the roster says it was revoked; returns whether it did.
    pub(crate) fn wipe_if_revoked(
        &mut self,
        transport: &dyn Transport,
        team_id: &str,
        report: &mut SyncReport,
    ) -> Result<bool> {
        let me = self.device_id().to_hex();
        let Some(team) = &self.team else { return Ok(false) };
        if team.roster.device(&me).is_none() || team.roster.is_active(&me) {
            return Ok(false);
        }
        // One try for what waits in the outbox: the relay refuses a revoked device, but
        // what its revocation let stand is the team's, and a relay that still takes it keeps
        // it. Nothing is lost that the team could have had.
        self.push_outbox(transport, team_id, report, &mut |_| {}).ok();
        let wiped_at = Utc::now().trunc_subsecs(3);
        let pending = PendingWipeReport {
            team_id: team_id.to_owned(),
            report: WipeReport::sign(&self.identity, team_id, wiped_at.timestamp_millis()),
        };
        let json = serde_json::to_vec(&pending).map_err(|e| Error::Storage(e.to_string()))?;
        let tx = self.store.transaction()?;
        // The signing identity stays (to sign the report's delivery; it opens nothing). The
        // agreement key goes: with it and a copy of the relay, old grants would open.
        tx.wipe_all_but(&[
            crate::device::META_IDENTITY,
            crate::device::META_DEVICE_NAME,
            META_WIPE_REPORT,
            META_WIPED_AT,
        ])?;
        tx.put_meta(META_WIPE_REPORT, &json)?;
        tx.put_meta(META_WIPED_AT, &wiped_at.timestamp_millis().to_be_bytes())?;
        // A fresh agreement key, never published: the store opens as a device without a
        // team, and nothing sealed to the old key opens with it.
        let fresh = AgreementKey::generate()?;
        tx.put_meta(crate::device::META_AGREEMENT, fresh.to_bytes().as_ref())?;
        tx.commit()?;
        self.team = None;
        self.cache.clear();
        self.agreement = fresh;
        report.wiped_at = Some(wiped_at);
        self.deliver_wipe_report(transport)?;
        Ok(true)
    }

    /// Delivers the wipe report this device still holds, if any; keeps it for the next try
    /// when the relay cannot be reached.
    pub(crate) fn deliver_wipe_report(&mut self, transport: &dyn Transport) -> Result<()> {
        let Some(json) = self.store.meta(META_WIPE_REPORT)? else { return Ok(()) };
        let pending: PendingWipeReport = serde_json::from_slice(&json)
            .map_err(|e| Error::Corrupt(format!("wipe report: {e}")))?;
        match transport.report_wiped(&self.identity, &pending.team_id, &pending.report) {
            Ok(()) => {
                let tx = self.store.transaction()?;
                tx.delete_meta(META_WIPE_REPORT)?;
                tx.commit()
            }
            Err(e) if e.is_storage_failure() => Err(e),
            Err(_) => Ok(()),
        }
    }

    /// When this device wiped itself, if it did (the report may still wait for delivery).
    pub fn wiped_at(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .store
            .meta(META_WIPED_AT)?
            .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
            .and_then(|millis| DateTime::from_timestamp_millis(i64::from_be_bytes(millis))))
    }

    /// A supervisor's sync takes in the team's wipe reports; only those signed by a revoked
    /// device of the roster are kept.
    pub(crate) fn refresh_wipe_reports(
        &mut self,
        transport: &dyn Transport,
        team_id: &str,
    ) -> Result<()> {
        let me = self.device_id().to_hex();
        let Some(team) = &self.team else { return Ok(()) };
        if team.roster.role(&me) != Some(Role::Supervisor) {
            return Ok(());
        }
        let checked: Vec<WipeReport> = transport
            .wipe_reports(&self.identity, team_id)?
            .into_iter()
            .filter(|r| r.check(&team.roster) && !team.roster.is_active(&r.device_id))
            .collect();
        if checked == self.wipe_reports()? {
            return Ok(());
        }
        let json = serde_json::to_vec(&checked).map_err(|e| Error::Storage(e.to_string()))?;
        let tx = self.store.transaction()?;
        tx.put_meta(META_WIPE_REPORTS, &json)?;
        tx.commit()
    }

    /// The team's wipe reports this supervisor's device checked.
    pub(crate) fn wipe_reports(&self) -> Result<Vec<WipeReport>> {
        match self.store.meta(META_WIPE_REPORTS)? {
            None => Ok(Vec::new()),
            Some(json) => serde_json::from_slice(&json)
                .map_err(|e| Error::Corrupt(format!("wipe reports: {e}"))),
        }
    }
}
