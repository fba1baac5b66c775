//! Who may read a case: assigning members to it, ending an assignment, handing cases over
//! from one member to another. A supervisor's device writes the assignment into the case
//! (every receiver holds it to `doc::authority`) and settles the keys at once: its next
//! write is sealed for the new readers alone, and the new readers get every key it holds.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Device;
use crate::model::{fold, Assignment, AssignmentRole, CaseSummary};
use crate::sync::report::SyncReport;
use crate::{Error, Result};

/// Who may read a case, as a supervisor or the case's worker sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseAccess {
    pub case_id: String,
    /// The assignments in the case; empty while nobody was assigned, when the case is its
    /// creator's (`creator`).
    pub assignments: Vec<Assignment>,
    /// The member whose device created the case.
    pub creator: Option<String>,
    /// The members whose devices hold the case's keys now (supervisors besides).
    pub readers: Vec<String>,
}

impl Device {
    /// Assigns `member` to the case; `until` ends it by itself (access granted on request).
    pub fn assign(
        &mut self,
        case_id: &str,
        member: &str,
        role: AssignmentRole,
        until: Option<DateTime<Utc>>,
    ) -> Result<()> {
        if let Err(not_supervisor) = self.require_supervisor("een casus toewijzen") {
            self.may_add_backup(case_id, member, role, until, not_supervisor)?;
        }
        let member = self.active_member(member)?;
        self.change_assignments(case_id, |assignments| {
            assignments.retain(|a| fold(&a.0) != fold(&member));
            assignments.push((member.clone(), role, until));
        })
    }

    /// Whether this device's member, who is no supervisor, may add `member` to the case:
    /// only as backup without an end, on a case she is the worker of, when the team's policy
    /// lets workers do so; `refused` otherwise.
    fn may_add_backup(
        &self,
        case_id: &str,
        member: &str,
        role: AssignmentRole,
        until: Option<DateTime<Utc>>,
        refused: Error,
    ) -> Result<()> {
        if !self.team.as_ref().is_some_and(|t| t.workers_add_backups) {
            return Err(refused);
        }
        if role != AssignmentRole::Backup || until.is_some() {
            return Err(Error::Unauthorised(
                "een medewerker voegt alleen een achtervang toe, zonder einddatum".into(),
            ));
        }
        let me = fold(&self.member_name());
        let summary =
            self.store.summary(case_id)?.ok_or_else(|| Error::not_found("case", case_id))?;
        let assignments = summary.assignments.unwrap_or_default();
        let now = Utc::now();
        if !assignments
            .iter()
            .any(|a| a.role == AssignmentRole::Worker && a.until.is_none() && fold(&a.member) == me)
        {
            return Err(Error::Unauthorised(
                "alleen de casusregisseur van deze casus voegt een achtervang toe".into(),
            ));
        }
        if assignments.iter().any(|a| a.in_force(now) && fold(&a.member) == fold(member.trim())) {
            return Err(Error::invalid("member", format!("{} is al toegewezen", member.trim())));
        }
        Ok(())
    }

    /// Ends `member`'s assignment to the case.
    pub fn unassign(&mut self, case_id: &str, member: &str) -> Result<()> {
        self.require_supervisor("een toewijzing beëindigen")?;
        let wanted = fold(member.trim());
        let mut found = false;
        self.change_assignments(case_id, |assignments| {
            let before = assignments.len();
            assignments.retain(|a| fold(&a.0) != wanted);
            found = assignments.len() < before;
        })?;
        if found {
            Ok(())
        } else {
            Err(Error::invalid(
                "member",
                format!("{} is niet aan deze casus toegewezen", member.trim()),
            ))
        }
    }

    /// Moves cases from member `from` to member `to`, who takes over `from`'s place on each:
    /// the given cases, or every case `from` reads as worker or backup when none are given.
    /// Returns the cases handed over.
    pub fn handover(&mut self, from: &str, to: &str, case_ids: &[String]) -> Result<Vec<String>> {
        self.require_supervisor("casussen overdragen")?;
        let to = self.active_member(to)?;
        let from_key = fold(from.trim());
        let cases = if case_ids.is_empty() {
            let mut held = Vec::new();
            for summary in self.store.case_summaries()? {
                let id = summary.id.clone();
                let access = self.access_of(summary);
                if access.assignments.iter().any(|a| fold(&a.member) == from_key)
                    || (access.assignments.is_empty()
                        && access.creator.as_deref().map(fold) == Some(from_key.clone()))
                {
                    held.push(id);
                }
            }
            held
        } else {
            case_ids.to_vec()
        };
        if cases.is_empty() {
            return Err(Error::invalid("from", format!("{} heeft geen casussen", from.trim())));
        }
        for case_id in &cases {
            self.change_assignments(case_id, |assignments| {
                let role = assignments
                    .iter()
                    .find(|a| fold(&a.0) == from_key)
                    .map_or(AssignmentRole::Worker, |a| a.1);
                assignments.retain(|a| fold(&a.0) != from_key && fold(&a.0) != fold(&to));
                assignments.push((to.clone(), role, None));
            })?;
        }
        Ok(cases)
    }

    /// Who may read the case.
    pub fn case_access(&self, case_id: &str) -> Result<CaseAccess> {
        let summary =
            self.store.summary(case_id)?.ok_or_else(|| Error::not_found("case", case_id))?;
        Ok(self.access_of(summary))
    }

    /// Who may read the case `summary` is of.
    fn access_of(&self, summary: CaseSummary) -> CaseAccess {
        let team = self.team.as_ref();
        let case_id = summary.id.as_str();
        let creator =
            summary.created_by.as_deref().and_then(|device| team.and_then(|t| t.member_of(device)));
        let mut readers: Vec<String> = match team {
            Some(team) => {
                let me = self.device_id().to_hex();
                team.readers(case_id, Some(&summary), &me, Utc::now())
                    .iter()
                    .filter_map(|device| team.member_of(device))
                    .collect()
            }
            None => vec![self.member_name()],
        };
        readers.sort_by_key(|name| fold(name));
        readers.dedup();
        CaseAccess {
            case_id: case_id.to_owned(),
            assignments: summary.assignments.unwrap_or_default(),
            creator,
            readers,
        }
    }

    /// Takes the team's caseload policy from the team document into the team state.
    pub(crate) fn refresh_caseload_policy(&mut self) -> Result<()> {
        // A device that wiped itself keeps no team document.
        if self.store.doc_state(crate::store::TEAM_DOC_ID)?.is_none() {
            return Ok(());
        }
        let policy = self.team_doc()?.policy()?;
        if self.store.unlock_limit()? != policy.wipe_after_failed_unlocks {
            let tx = self.store.transaction()?;
            tx.set_unlock_limit(policy.wipe_after_failed_unlocks)?;
            tx.commit()?;
        }
        if self.team.is_none() {
            return Ok(());
        }
        if let Some(team) = &mut self.team {
            team.shared_caseload = policy.shared_caseload;
            team.workers_add_backups = policy.workers_add_backups;
        }
        Ok(())
    }

    /// The name of an active member of the team, as the roster shows it.
    fn active_member(&self, member: &str) -> Result<String> {
        let wanted = fold(member.trim());
        let team = self
            .team
            .as_ref()
            .ok_or_else(|| Error::invalid("team", "dit apparaat hoort nog niet bij een team"))?;
        team.roster
            .active_devices()
            .iter()
            .filter_map(|d| team.member_of(&d.card.device_id))
            .find(|name| fold(name) == wanted)
            .ok_or_else(|| {
                Error::invalid(
                    "member",
                    format!("{} is geen actief lid van het team", member.trim()),
                )
            })
    }

    /// Rewrites the case's assignments with `edit` (over member, role and end), keeping who
    /// assigned an unchanged entry; while nobody was assigned, the creator's member is the
    /// case's worker and stays so unless `edit` says otherwise. Then settles the keys.
    fn change_assignments(
        &mut self,
        case_id: &str,
        edit: impl FnOnce(&mut Vec<(String, AssignmentRole, Option<DateTime<Utc>>)>),
    ) -> Result<()> {
        let summary =
            self.store.summary(case_id)?.ok_or_else(|| Error::not_found("case", case_id))?;
        let never_assigned = summary.assignments.is_none();
        let access = self.access_of(summary);
        let mut before: Vec<(String, AssignmentRole, Option<DateTime<Utc>>)> = if never_assigned {
            access.creator.iter().map(|c| (c.clone(), AssignmentRole::Worker, None)).collect()
        } else {
            access.assignments.iter().map(|a| (a.member.clone(), a.role, a.until)).collect()
        };
        let original = before.clone();
        edit(&mut before);
        let me = self.device_id().to_hex();
        let now = Utc::now();
        if let Some(team) = &self.team {
            let tx = self.store.transaction()?;
            team.prepare_writing_key(&tx, &self.identity, case_id)?;
            tx.commit()?;
        }
        self.write_case(case_id, |doc| {
            // From here on the list decides, also when it is empty (supervisors only).
            doc.ensure_assignment_list()?;
            for (member, _, _) in &original {
                if !before.iter().any(|b| fold(&b.0) == fold(member)) {
                    doc.unassign(member)?;
                }
            }
            for entry in &before {
                if access
                    .assignments
                    .iter()
                    .any(|a| (&a.member, a.role, a.until) == (&entry.0, entry.1, entry.2))
                {
                    continue;
                }
                doc.assign(&Assignment {
                    member: entry.0.clone(),
                    role: entry.1,
                    until: entry.2,
                    by: me.clone(),
                    at: now,
                })?;
            }
            Ok(())
        })?;
        self.settle_access(&[case_id.to_owned()], &mut SyncReport::default())
    }
}
