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
        let everything = self.store.meta(META_SETTLED)?.as_deref() != Some(mark.as_bytes());
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
        let now = Utc::now();
        let mut forget = Vec::new();
        let tx = self.store.transaction()?;
        for doc_id in &docs {
            let is_team_doc = *doc_id == team.settings.team_id;
            let summary = tx.summary(doc_id)?;
            if !is_team_doc && summary.is_none() {
                continue;
            }
            let readers = team.readers(doc_id, summary.as_ref(), &me, now);
            if !is_team_doc && !readers.contains(&me) {
                // Nothing of this device's own may be lost: what waits to be pushed keeps
                // the case here until a sync has pushed it.
                if tx.outbox_of(doc_id)?.is_empty() {
                    forget.push(doc_id.clone());
                }
                continue;
            }
            let others: BTreeSet<String> = readers.into_iter().filter(|r| *r != me).collect();
            if let Some((own, minted_for)) = tx.own_case_key(doc_id, team.roster.epoch())? {
                let granted: BTreeSet<String> =
                    minted_for.into_iter().filter(|r| *r != me).collect();
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
        tx.commit()?;
        for doc_id in forget {
            self.cache.remove(&doc_id);
            report.forgotten_cases.push(doc_id);
        }
        Ok(())
    }
}
