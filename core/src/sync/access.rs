//! Need-to-know after a sync: who may read each case now. A device that may no longer read a
//! case forgets it (its own work was pushed first); a device whose readers changed stops
//! writing under its old key; a supervisor's device grants every key version it holds to the
//! readers that lack one, so a colleague who takes a case over gets its history.

use std::collections::BTreeSet;

use chrono::Utc;

use crate::device::Device;
use crate::store::TEAM_DOC_ID;
use crate::sync::report::SyncReport;
use crate::team::roster::Role;
use crate::Result;

/// When this device last settled access for every case: the roster head, the day and the
/// caseload policy. A new roster (a device added, revoked), a new day (access granted for a
/// period ends) or another policy settles every case again; otherwise only those the sync
/// touched.
const META_SETTLED: &str = "access_settled";
/// The earliest end of an access for a period that was still to come at the last settling
/// (unix milliseconds): once it passed, every case is settled again at the next sync.
const META_NEXT_EXPIRY: &str = "access_next_expiry";

impl Device {
    /// Settles access for the cases `touched` (or every case, see `META_SETTLED`).
    pub(crate) fn settle_access(
        &mut self,
        touched: &[String],
        report: &mut SyncReport,
    ) -> Result<()> {
        let Some(team) = &self.team else { return Ok(()) };
        let mark = format!(
            "{}/{}/{}",
            team.roster.head(),
            Utc::now().date_naive(),
            if team.shared_caseload { "shared" } else { "need-to-know" }
        );
        let now = Utc::now();
        let next_expiry = self
            .store
            .meta(META_NEXT_EXPIRY)?
            .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
            .map(i64::from_be_bytes);
        let everything = self.store.meta(META_SETTLED)?.as_deref() != Some(mark.as_bytes())
            || next_expiry.is_some_and(|at| at <= now.timestamp_millis());
        let mut docs: BTreeSet<String> = if everything {
            let mut all: BTreeSet<String> =
                self.store.doc_ids(crate::store::DocKind::Case)?.into_iter().collect();
            all.insert(team.settings.team_id.clone());
            all
        } else {
            touched.iter().cloned().collect()
        };
        docs.retain(|doc_id| doc_id != TEAM_DOC_ID);
        let me = self.device_id().to_hex();
        let supervisor =
            team.roster.role(&me) == Some(Role::Supervisor) && team.roster.is_active(&me);
        let mut forget = Vec::new();
        let mut earliest: Option<i64> = None;
        let tx = self.store.transaction()?;
        for doc_id in &docs {
            let is_team_doc = *doc_id == team.settings.team_id;
            let summary = tx.summary(doc_id)?;
            if !is_team_doc && summary.is_none() {
                continue;
            }
            for until in summary
                .iter()
                .flat_map(|s| s.assignments.iter().flatten())
                .filter_map(|a| a.until)
                .filter(|until| *until > now)
            {
                let at = until.timestamp_millis();
                earliest = Some(earliest.map_or(at, |e| e.min(at)));
            }
            let readers = team.readers(doc_id, summary.as_ref(), &me, now);
            // A supervisor's newer word that this device is left out counts too: the change
            // that removed it may have been compacted away before it arrived.
            let left_out = !supervisor && tx.left_out_by_supervisors(doc_id)?;
            if !is_team_doc && (!readers.contains(&me) || left_out) {
                // Nothing of this device's own may be lost: what waits to be pushed keeps
                // the case here until a sync has pushed it.
                if tx.outbox_of(doc_id)?.is_empty() {
                    forget.push(doc_id.clone());
                }
                continue;
            }
            let others: BTreeSet<String> = readers.into_iter().filter(|r| *r != me).collect();
            if let Some((own, minted_for)) = tx.own_case_key(doc_id, team.roster.epoch())? {
                // Who holds it: whom this device granted it to, and whom others (a supervisor
                // repairing grants) granted it to since.
                let seen = tx.grants_seen(doc_id)?;
                let granted: BTreeSet<String> = minted_for
                    .into_iter()
                    .chain(seen.into_iter().filter(|(v, _)| *v == own.version).map(|(_, r)| r))
                    .filter(|r| *r != me)
                    .collect();
                if !granted.is_subset(&others) {
                    // Someone lost access: what this device writes next is under a new key.
                    tx.retire_own_case_keys(doc_id)?;
                } else if granted != others {
                    // Readers were added: they get this device's key for writing at once.
                    let added: Vec<String> = others.difference(&granted).cloned().collect();
                    team.grant(
                        &tx,
                        &self.identity,
                        doc_id,
                        own.version,
                        own.epoch,
                        &own.key,
                        &added,
                        None,
                    )?;
                    let mut readers: Vec<String> = others.iter().cloned().collect();
                    readers.push(me.clone());
                    tx.put_own_case_key(doc_id, own.version, own.epoch, &own.key, &readers)?;
                }
            }
            if supervisor {
                let seen = tx.grants_seen(doc_id)?;
                for key in tx.case_keys(doc_id)? {
                    let missing: Vec<String> = others
                        .iter()
                        .filter(|r| !seen.contains(&(key.version, (*r).clone())))
                        .cloned()
                        .collect();
                    if !missing.is_empty() {
                        team.grant(
                            &tx,
                            &self.identity,
                            doc_id,
                            key.version,
                            key.epoch,
                            &key.key,
                            &missing,
                            None,
                        )?;
                    }
                }
            }
        }
        for doc_id in &forget {
            tx.forget_case_keys(doc_id)?;
            tx.delete_doc(doc_id)?;
        }
        if everything {
            tx.put_meta(META_SETTLED, mark.as_bytes())?;
        }
        // Over every case, or lowered by the cases settled now (one whose end went away only
        // makes the next settling of everything come early).
        let next =
            if everything { earliest } else { earliest.into_iter().chain(next_expiry).min() };
        match next {
            Some(at) => tx.put_meta(META_NEXT_EXPIRY, &at.to_be_bytes())?,
            None => tx.delete_meta(META_NEXT_EXPIRY)?,
        }
        tx.commit()?;
        for doc_id in forget {
            self.cache.remove(&doc_id);
            report.forgotten_cases.push(doc_id);
        }
        Ok(())
    }
}
