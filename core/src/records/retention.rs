//! Retention: how long a closed case is kept, by case type and the team's policy, and which
//! closed cases are past their date and listed for erasure (crypto-shredding, see
//! `Eropaf::erase_case`).

use chrono::{DateTime, Months, Utc};
use serde::Serialize;

use crate::model::TeamPolicy;
use crate::model::{CaseStatus, CaseSummary, CaseType};

/// Years a closed case is kept when the team set nothing: Wmo 15 and Jeugd 20 (the
/// periods the issue names); the others are starting points a team should confirm with its
/// privacy officer.
pub fn default_years(case_type: CaseType) -> u32 {
    match case_type {
        CaseType::Wmo => 15,
        CaseType::Jeugd => 20,
        CaseType::Participatiewet => 10,
        CaseType::Schuldhulp => 7,
        CaseType::Other => 5,
    }
}

/// A case without a type is kept as long as the team keeps "other" cases.
pub fn effective_type(case_type: Option<CaseType>) -> CaseType {
    case_type.unwrap_or(CaseType::Other)
}

/// The day after which a case closed at `closed_at` may be erased.
pub fn erase_after(closed_at: DateTime<Utc>, years: u32) -> DateTime<Utc> {
    closed_at
        .checked_add_months(Months::new(years.saturating_mul(12)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A closed case with its retention date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RetentionItem {
    pub case_id: String,
    pub case_type: CaseType,
    pub closed_at: DateTime<Utc>,
    pub erase_after: DateTime<Utc>,
}

/// Closed cases whose retention ended before `now`, the longest overdue first.
pub fn due_for_erasure(
    cases: &[CaseSummary],
    policy: &TeamPolicy,
    now: DateTime<Utc>,
) -> Vec<RetentionItem> {
    let mut due: Vec<RetentionItem> = cases
        .iter()
        .filter(|c| c.status == CaseStatus::Closed)
        .filter_map(|c| {
            let closed_at = c.closed_at?;
            let case_type = effective_type(c.case_type);
            let years =
                policy.retention_years.get(&case_type).copied().unwrap_or(default_years(case_type));
            let erase_after = erase_after(closed_at, years);
            (erase_after < now).then(|| RetentionItem {
                case_id: c.id.clone(),
                case_type,
                closed_at,
                erase_after,
            })
        })
        .collect();
    due.sort_by(|a, b| a.erase_after.cmp(&b.erase_after).then_with(|| a.case_id.cmp(&b.case_id)));
    due
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResidentName;
    use chrono::TimeZone;

    fn closed(id: &str, case_type: Option<CaseType>, year: i32) -> CaseSummary {
        CaseSummary {
            id: id.into(),
            resident: ResidentName { name: "x".into() },
            status: CaseStatus::Closed,
            case_type,
            visit_count: 0,
            assessment_count: 0,
            last_visit_at: None,
            conflict_count: 0,
            closed_at: Some(Utc.with_ymd_and_hms(year, 3, 1, 12, 0, 0).unwrap()),
            assignments: None,
            created_by: None,
        }
    }

    #[test]
    fn wmo_cases_go_after_fifteen_years_and_jeugd_after_twenty() {
        let closed_at = Utc.with_ymd_and_hms(2010, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(erase_after(closed_at, 15), Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap());
        let policy = TeamPolicy::default();
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut open = closed("open", Some(CaseType::Wmo), 2000);
        open.status = CaseStatus::Open;
        let cases = [
            closed("wmo-2010", Some(CaseType::Wmo), 2010),
            closed("wmo-2011", Some(CaseType::Wmo), 2011),
            closed("jeugd-2010", Some(CaseType::Jeugd), 2010),
            closed("jeugd-2005", Some(CaseType::Jeugd), 2005),
            closed("untyped-2022", None, 2022),
            open,
        ];
        let due: Vec<String> =
            due_for_erasure(&cases, &policy, now).into_iter().map(|i| i.case_id).collect();
        assert_eq!(due, ["jeugd-2005", "wmo-2010"], "same date: by id");
    }

    #[test]
    fn a_team_sets_its_own_periods() {
        let mut policy = TeamPolicy::default();
        policy.retention_years.insert(CaseType::Wmo, 10);
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let due = due_for_erasure(&[closed("wmo-2014", Some(CaseType::Wmo), 2014)], &policy, now);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].erase_after.format("%Y-%m-%d").to_string(), "2024-03-01");
    }
}
