//! Access on request: a member asks the team's supervisors for access to a case she is not
//! assigned to, with a reason; a supervisor grants it for a period (a temporary assignment,
//! which ends by itself) or refuses. Nothing is granted without a supervisor: a request made
//! while every supervisor is offline waits in the team document until one answers. The
//! answer, with the request and its reason, goes into the case's access log.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};

use super::Device;
use crate::access_log::AccessAction;
use crate::crypto;
use crate::model::{fold, AccessDecision, AccessRequest, AssignmentRole};
use crate::team::request::{open_reason, seal_reason, RequestScope};
use crate::team::roster::Role;
use crate::{Error, Result};

/// The longest reason a request takes, in characters.
pub const MAX_REASON: usize = 1_000;
/// The longest period access is granted for at once, in days.
pub const MAX_GRANT_DAYS: u32 = 90;

impl Device {
    /// Asks for access to case `case_id`, for `reason`. The reason is sealed to the team's
    /// supervisors and this member's own devices; the rest of the team sees only that she
    /// asked. Returns the request's id.
    pub fn request_access(&mut self, case_id: &str, reason: &str, urgent: bool) -> Result<String> {
        let case_id = case_id.trim().to_ascii_lowercase();
        if case_id.len() != 32 || hex::decode(&case_id).is_err() {
            return Err(Error::invalid("casus", "dit is geen casusnummer"));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::invalid("reden", "geef een reden voor het verzoek"));
        }
        if reason.chars().count() > MAX_REASON {
            return Err(Error::invalid(
                "reden",
                format!("een reden is hoogstens {MAX_REASON} tekens"),
            ));
        }
        let team = self
            .team
            .as_ref()
            .ok_or_else(|| Error::invalid("team", "dit apparaat hoort nog niet bij een team"))?;
        if self.store.summary(&case_id)?.is_some() {
            return Err(Error::invalid("casus", "u kunt deze casus al lezen"));
        }
        let me = self.device_id().to_hex();
        let my_member = team.member_of(&me);
        let request_id = crypto::random_id()?;
        let scope = RequestScope { team_id: &team.settings.team_id, request_id: &request_id };
        let mut reasons = BTreeMap::new();
        for device in team.roster.active_devices() {
            let card = &device.card;
            let own = same_member(team.member_of(&card.device_id).as_deref(), my_member.as_deref());
            if card.role != Role::Supervisor && !own {
                continue;
            }
            let public = hex::decode(&card.agreement_key)
                .map_err(|_| Error::Corrupt("an agreement key in the roster".into()))?;
            reasons.insert(
                card.device_id.clone(),
                seal_reason(scope, reason, &card.device_id, &public)?,
            );
        }
        let now = Utc::now();
        self.write_team_doc(|doc| {
            doc.add_access_request(&request_id, &case_id, urgent, now, &reasons)
        })?;
        Ok(request_id)
    }

    /// The requests this device may see: every request, for a supervisor; her own, for a
    /// member. Oldest first. A request or answer from a device outside the roster, or an
    /// answer from a device that is no supervisor, is not shown.
    pub fn access_requests(&self) -> Result<Vec<AccessRequest>> {
        let Some(team) = &self.team else { return Ok(Vec::new()) };
        let me = self.device_id().to_hex();
        let supervisor = team.roster.role(&me) == Some(Role::Supervisor);
        let my_member = team.member_of(&me);
        let mut shown = Vec::new();
        for stored in self.team_doc()?.access_requests()? {
            let Some(member) = team.member_of(&stored.device) else { continue };
            if !supervisor && !same_member(Some(&member), my_member.as_deref()) {
                continue;
            }
            let scope = RequestScope { team_id: &team.settings.team_id, request_id: &stored.id };
            let reason = stored
                .reasons
                .get(&me)
                .and_then(|sealed| open_reason(scope, sealed, &me, &self.agreement).ok());
            let decision = stored.decision.and_then(|d| {
                (team.roster.role(&d.device) == Some(Role::Supervisor)).then(|| AccessDecision {
                    granted: d.granted,
                    by: team.member_of(&d.device).unwrap_or_default(),
                    at: d.at,
                    until: d.until,
                })
            });
            shown.push(AccessRequest {
                id: stored.id,
                case_id: stored.case_id,
                member,
                device: stored.device,
                at: stored.at,
                urgent: stored.urgent,
                reason,
                decision,
            });
        }
        Ok(shown)
    }

    /// Grants a request for `days` days: the member is assigned to the case until then (her
    /// devices get its keys at this device's next sync), and the case's access log says who
    /// asked, why, and until when.
    pub fn grant_access(&mut self, request_id: &str, days: u32) -> Result<()> {
        self.require_supervisor("toegang verlenen")?;
        if days == 0 || days > MAX_GRANT_DAYS {
            return Err(Error::invalid(
                "dagen",
                format!("toegang geldt 1 tot {MAX_GRANT_DAYS} dagen"),
            ));
        }
        let request = self.open_request(request_id)?;
        let now = Utc::now();
        let until = now + Duration::days(i64::from(days));
        self.assign(&request.case_id, &request.member, AssignmentRole::Temporary, Some(until))?;
        let note = format!(
            "verzoek van {} ({}), tot {}: {}",
            request.member,
            request.at.format("%d-%m-%Y %H:%M"),
            until.format("%d-%m-%Y %H:%M"),
            request.reason.as_deref().unwrap_or("reden niet leesbaar")
        );
        self.log_access(&request.case_id, AccessAction::GrantAccess, Some(&note))?;
        self.write_team_doc(|doc| doc.decide_access_request(request_id, true, now, Some(until)))
    }

    /// Refuses a request; the case's access log says so, with the request's reason.
    pub fn refuse_access(&mut self, request_id: &str) -> Result<()> {
        self.require_supervisor("een verzoek weigeren")?;
        let request = self.open_request(request_id)?;
        if self.store.summary(&request.case_id)?.is_some() {
            let note = format!(
                "verzoek van {} ({}): {}",
                request.member,
                request.at.format("%d-%m-%Y %H:%M"),
                request.reason.as_deref().unwrap_or("reden niet leesbaar")
            );
            self.log_access(&request.case_id, AccessAction::RefuseAccess, Some(&note))?;
        }
        self.write_team_doc(|doc| doc.decide_access_request(request_id, false, Utc::now(), None))
    }

    /// A request still waiting for an answer.
    fn open_request(&self, request_id: &str) -> Result<AccessRequest> {
        let request = self
            .access_requests()?
            .into_iter()
            .find(|r| r.id == request_id.trim())
            .ok_or_else(|| Error::not_found("verzoek", request_id))?;
        if request.decision.is_some() {
            return Err(Error::invalid("verzoek", "dit verzoek is al beantwoord"));
        }
        Ok(request)
    }
}

fn same_member(a: Option<&str>, b: Option<&str>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if fold(a) == fold(b))
}
