//! The review workflow's rules: which submitted assessments need a supervisor, where one
//! stands (waiting, decided, in conflict), and the rung an escalation climbs to. Pure
//! functions over the records of a case; `Eropaf` applies them to the store.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::checklist::{Answers, Framework, Rung};
use crate::model::{Assessment, Review, ReviewVerdict};
use crate::{Error, Result};

/// What a supervisor does with a submitted assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    Approve,
    RequestChanges,
    /// One rung up the framework's escalation ladder.
    Escalate,
}

impl ReviewAction {
    pub fn verdict(self) -> ReviewVerdict {
        match self {
            ReviewAction::Approve => ReviewVerdict::Approved,
            ReviewAction::RequestChanges => ReviewVerdict::ChangesRequested,
            ReviewAction::Escalate => ReviewVerdict::Escalated,
        }
    }

    pub fn parse(key: &str) -> Result<ReviewAction> {
        match key.trim() {
            "approve" | "goedkeuren" => Ok(ReviewAction::Approve),
            "request_changes" | "aanpassen" => Ok(ReviewAction::RequestChanges),
            "escalate" | "escaleren" => Ok(ReviewAction::Escalate),
            other => Err(Error::invalid(
                "action",
                format!(
                    "onbekende beoordeling {other:?}; kies approve, request_changes of escalate"
                ),
            )),
        }
    }

    /// A request for changes or an escalation tells the worker why; an approval may be bare.
    pub fn needs_note(self) -> bool {
        !matches!(self, ReviewAction::Approve)
    }
}

/// Where an assessment stands in the review workflow.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ReviewState {
    /// Still being written; not submitted.
    Draft,
    /// Submitted and within standard policy: no verdict needed.
    NoReviewNeeded,
    /// In the queue.
    Waiting,
    /// One verdict on the current submission.
    Decided { review: Review },
    /// Supervisors gave different verdicts concurrently; a supervisor must give one that
    /// replaces them.
    Conflict { reviews: Vec<Review> },
}

impl ReviewState {
    /// Whether a supervisor still has to act: waiting, escalated (someone must take it up
    /// the ladder or settle it), or in conflict.
    pub fn in_queue(&self) -> bool {
        match self {
            ReviewState::Waiting | ReviewState::Conflict { .. } => true,
            ReviewState::Decided { review } => review.verdict == ReviewVerdict::Escalated,
            ReviewState::Draft | ReviewState::NoReviewNeeded => false,
        }
    }

    /// The Dutch label of the state.
    pub fn label(&self) -> &'static str {
        match self {
            ReviewState::Draft => "In bewerking",
            ReviewState::NoReviewNeeded => "Ingediend, binnen beleid",
            ReviewState::Waiting => "Wacht op beoordeling",
            ReviewState::Decided { review } => review.verdict.label(),
            ReviewState::Conflict { .. } => "Tegenstrijdige beoordelingen",
        }
    }
}

/// Whether a decision must be backed by a supervisor: it departs from standard policy, or
/// asks more from the maatwerkbudget than the team lets a worker decide alone.
pub fn needs_review(answers: &Answers, threshold_cents: u64) -> bool {
    answers.maatwerk || answers.budget_cents.is_some_and(|cents| cents > threshold_cents)
}

/// The verdicts on the current submission of an assessment that no later verdict replaced.
/// More than one means they were given concurrently.
pub fn current_verdicts<'a>(
    reviews: &'a [Review],
    assessment_id: &str,
    submitted_at: Option<DateTime<Utc>>,
) -> Vec<&'a Review> {
    let round: Vec<&Review> = reviews
        .iter()
        .filter(|r| r.assessment_id == assessment_id && r.submission == submitted_at)
        .collect();
    round
        .iter()
        .copied()
        .filter(|r| !round.iter().any(|other| other.supersedes.contains(&r.id)))
        .collect()
}

pub fn state(assessment: &Assessment, reviews: &[Review]) -> ReviewState {
    let Some(submitted_at) = assessment.submitted_at else { return ReviewState::Draft };
    let mut heads = current_verdicts(reviews, &assessment.id, Some(submitted_at));
    heads.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    let distinct = {
        let mut verdicts: Vec<ReviewVerdict> = heads.iter().map(|r| r.verdict).collect();
        verdicts.sort_by_key(|v| v.key());
        verdicts.dedup();
        verdicts.len()
    };
    match (heads.last(), distinct) {
        (None, _) if assessment.needs_review => ReviewState::Waiting,
        (None, _) => ReviewState::NoReviewNeeded,
        (Some(review), 1) => ReviewState::Decided { review: (*review).clone() },
        _ => ReviewState::Conflict { reviews: heads.into_iter().cloned().collect() },
    }
}

/// The rung an assessment is at: the highest rung any escalation took it to, or the lowest
/// (the team) when it was never escalated.
pub fn current_rung<'f>(
    framework: &'f Framework,
    assessment_id: &str,
    reviews: &[Review],
) -> Option<&'f Rung> {
    let reached = reviews
        .iter()
        .filter(|r| r.assessment_id == assessment_id && r.verdict == ReviewVerdict::Escalated)
        .filter_map(|r| r.escalated_to.as_deref())
        .filter_map(|key| framework.escalation.iter().position(|rung| rung.key == key))
        .max()
        .unwrap_or(0);
    framework.escalation.get(reached)
}

/// The rung one above where the assessment is now; an error at the top of the ladder.
pub fn escalation_target<'f>(
    framework: &'f Framework,
    assessment_id: &str,
    reviews: &[Review],
) -> Result<&'f Rung> {
    let current = current_rung(framework, assessment_id, reviews).ok_or_else(|| {
        Error::invalid("escalation", "het waardenkader heeft geen escalatieladder")
    })?;
    framework.next_rung(&current.key).ok_or_else(|| {
        Error::invalid(
            "escalation",
            format!("de afweging staat al op de hoogste trede ({})", current.title),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn assessment(submitted: bool, needs_review: bool) -> Assessment {
        Assessment {
            id: "a1".into(),
            created_at: Utc::now(),
            author_device: "w".into(),
            framework_id: "f".into(),
            framework_version: 1,
            answers: Answers::default(),
            submitted_at: submitted.then(|| DateTime::from_timestamp(1_700_000_000, 0).unwrap()),
            needs_review,
        }
    }

    fn review(id: &str, verdict: ReviewVerdict, of: &Assessment, supersedes: &[&str]) -> Review {
        Review {
            id: id.into(),
            assessment_id: of.id.clone(),
            at: of.submitted_at.unwrap() + Duration::hours(1),
            reviewer_device: "s".into(),
            verdict,
            note: String::new(),
            escalated_to: None,
            submission: of.submitted_at,
            supersedes: supersedes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn maatwerk_or_a_budget_above_the_threshold_needs_a_supervisor() {
        let mut answers = Answers::default();
        assert!(!needs_review(&answers, 50_000));
        answers.budget_cents = Some(50_000);
        assert!(!needs_review(&answers, 50_000), "at the threshold a worker decides alone");
        answers.budget_cents = Some(75_000);
        assert!(needs_review(&answers, 50_000));
        answers.budget_cents = None;
        answers.maatwerk = true;
        assert!(needs_review(&answers, 50_000));
    }

    #[test]
    fn the_state_follows_submission_and_verdicts() {
        assert_eq!(state(&assessment(false, true), &[]), ReviewState::Draft);
        assert_eq!(state(&assessment(true, false), &[]), ReviewState::NoReviewNeeded);
        let a = assessment(true, true);
        assert_eq!(state(&a, &[]), ReviewState::Waiting);
        assert!(state(&a, &[]).in_queue());
        let approved = review("r1", ReviewVerdict::Approved, &a, &[]);
        let decided = state(&a, std::slice::from_ref(&approved));
        assert!(matches!(decided, ReviewState::Decided { .. }) && !decided.in_queue());
        // A verdict about an earlier submission does not count for the new one.
        let mut resubmitted = a.clone();
        resubmitted.submitted_at = a.submitted_at.map(|t| t + Duration::days(1));
        assert_eq!(state(&resubmitted, &[approved]), ReviewState::Waiting);
    }

    #[test]
    fn concurrent_different_verdicts_conflict_until_one_replaces_both() {
        let a = assessment(true, true);
        let approve = review("r1", ReviewVerdict::Approved, &a, &[]);
        let changes = review("r2", ReviewVerdict::ChangesRequested, &a, &[]);
        let both = [approve.clone(), changes.clone()];
        assert!(
            matches!(state(&a, &both), ReviewState::Conflict { ref reviews } if reviews.len() == 2)
        );
        let settle = review("r3", ReviewVerdict::Approved, &a, &["r1", "r2"]);
        let settled = [approve.clone(), changes, settle];
        assert!(
            matches!(state(&a, &settled), ReviewState::Decided { ref review } if review.id == "r3")
        );
        let same = [approve, review("r4", ReviewVerdict::Approved, &a, &[])];
        assert!(matches!(state(&a, &same), ReviewState::Decided { .. }), "agreeing is no conflict");
    }

    #[test]
    fn escalation_climbs_one_rung_and_stops_at_the_top() {
        let framework = Framework::builtin();
        let a = assessment(true, true);
        let mut reviews = Vec::new();
        let mut climbed = Vec::new();
        loop {
            match escalation_target(&framework, &a.id, &reviews) {
                Ok(rung) => {
                    climbed.push(rung.key.clone());
                    let mut r =
                        review(&format!("r{}", reviews.len()), ReviewVerdict::Escalated, &a, &[]);
                    r.escalated_to = Some(rung.key.clone());
                    reviews.push(r);
                }
                Err(e) => {
                    assert!(matches!(e, Error::InvalidInput { .. }));
                    break;
                }
            }
        }
        assert_eq!(climbed, ["omgekeerde_toets", "doorbraakmethode", "regionaal", "landelijk"]);
    }
}
