//! The review workflow on this device: a worker submits a finished assessment, a supervisor
//! approves it, requests changes or escalates it one rung, and the queue of what waits for a
//! supervisor. The rules themselves live in `crate::review`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Device;
use crate::crypto;
use crate::model::{CaseType, Review};
use crate::review::{self, ReviewAction, ReviewState};
use crate::{Error, Result};

/// One assessment waiting for a supervisor.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueItem {
    pub case_id: String,
    pub resident: String,
    pub case_type: Option<CaseType>,
    pub assessment_id: String,
    pub question: String,
    pub author_device: String,
    pub submitted_at: DateTime<Utc>,
    pub maatwerk: bool,
    pub budget_cents: Option<u64>,
    pub state: ReviewState,
    /// The title of the escalation rung the assessment is at.
    pub rung: String,
}

impl Device {
    pub fn submit_assessment(&mut self, case_id: &str, assessment_id: &str) -> Result<ReviewState> {
        let view = self.assessment(case_id, assessment_id)?;
        if let Some(missing) = view.progress.missing.first() {
            return Err(Error::invalid(
                "afweging",
                format!("nog niet compleet, dus niet in te dienen: {}", missing.reason),
            ));
        }
        let threshold = self.policy()?.review_threshold_cents;
        let needs_review = review::needs_review(&view.assessment.answers, threshold);
        self.write_case(case_id, |doc| {
            doc.submit_assessment(assessment_id, needs_review, Utc::now())
        })?;
        self.review_state(case_id, assessment_id)
    }

    pub fn review_assessment(
        &mut self,
        case_id: &str,
        assessment_id: &str,
        action: ReviewAction,
        note: &str,
    ) -> Result<Review> {
        self.require_supervisor("een afweging beoordelen")?;
        let note = note.trim();
        if action.needs_note() && note.is_empty() {
            return Err(Error::invalid(
                "note",
                "schrijf kort wat er moet veranderen of waarom je escaleert",
            ));
        }
        let case = self.case(case_id)?;
        let assessment = case.assessment(assessment_id)?;
        let Some(submitted_at) = assessment.submitted_at else {
            return Err(Error::invalid("afweging", "de afweging is nog niet ingediend"));
        };
        let escalated_to = match action {
            ReviewAction::Escalate => {
                let framework =
                    self.framework(&assessment.framework_id, assessment.framework_version)?;
                Some(
                    review::escalation_target(&framework, assessment_id, &case.reviews)?
                        .key
                        .clone(),
                )
            }
            _ => None,
        };
        let supersedes = review::current_verdicts(&case.reviews, assessment_id, Some(submitted_at))
            .into_iter()
            .map(|r| r.id.clone())
            .collect();
        let review = Review {
            id: crypto::random_id()?,
            assessment_id: assessment_id.to_string(),
            at: Utc::now(),
            reviewer_device: self.device_id().to_hex(),
            verdict: action.verdict(),
            note: note.to_string(),
            escalated_to,
            submission: Some(submitted_at),
            supersedes,
        };
        self.write_case(case_id, |doc| doc.add_review(&review))?;
        Ok(review)
    }

    pub fn review_state(&mut self, case_id: &str, assessment_id: &str) -> Result<ReviewState> {
        let case = self.case(case_id)?;
        Ok(review::state(case.assessment(assessment_id)?, &case.reviews))
    }

    pub fn review_queue(&mut self) -> Result<Vec<QueueItem>> {
        let mut queue = Vec::new();
        for summary in self.cases()? {
            if summary.assessment_count == 0 {
                continue;
            }
            let case = self.case(&summary.id)?;
            for assessment in &case.assessments {
                let state = review::state(assessment, &case.reviews);
                let Some(submitted_at) = assessment.submitted_at else { continue };
                if !state.in_queue() {
                    continue;
                }
                let rung = self
                    .framework(&assessment.framework_id, assessment.framework_version)
                    .ok()
                    .and_then(|f| {
                        review::current_rung(&f, &assessment.id, &case.reviews)
                            .map(|r| r.title.clone())
                    })
                    .unwrap_or_default();
                queue.push(QueueItem {
                    case_id: case.id.clone(),
                    resident: case.resident.name.clone(),
                    case_type: case.case_type,
                    assessment_id: assessment.id.clone(),
                    question: assessment.answers.question.clone(),
                    author_device: assessment.author_device.clone(),
                    submitted_at,
                    maatwerk: assessment.answers.maatwerk,
                    budget_cents: assessment.answers.budget_cents,
                    state,
                    rung,
                });
            }
        }
        queue.sort_by_key(|q| q.submitted_at);
        Ok(queue)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::checklist::{self, Item, Verdict};
    use crate::crypto::SecretKey;
    use crate::model::{NewVisit, Resident, ReviewVerdict};
    use crate::Unlock;

    pub(crate) fn device(dir: &std::path::Path) -> Device {
        Device::create(dir, Unlock::Key(SecretKey::generate().unwrap()), "Marieke").unwrap()
    }

    /// Walks an assessment through every item of the checklist.
    pub(crate) fn weighed(
        device: &mut Device,
        case: &str,
        question: &str,
        maatwerk: bool,
        budget_cents: Option<u64>,
    ) -> String {
        let id = device.start_assessment(case, question, None).unwrap();
        let framework = device.frameworks().unwrap().remove(0);
        for item in checklist::flow(&framework) {
            match &item {
                Item::Value(key) => device
                    .set_verdict(case, &id, key, Verdict::Supports, "Past bij de situatie.")
                    .unwrap(),
                _ => device.answer(case, &id, &item, "Zo besloten na het gesprek.").unwrap(),
            }
        }
        device.set_maatwerk(case, &id, maatwerk, budget_cents).unwrap();
        id
    }

    #[test]
    fn only_departures_and_large_budgets_enter_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let mut marieke = device(dir.path());
        let case = marieke.new_case(&Resident::named("Aïsha"), None).unwrap();
        let draft = marieke.start_assessment(&case, "Huur betalen?", None).unwrap();
        let refused = marieke.submit_assessment(&case, &draft);
        assert!(matches!(refused, Err(Error::InvalidInput { .. })), "an unfinished one waits");

        let standard = weighed(&mut marieke, &case, "Standaard", false, None);
        let small = weighed(&mut marieke, &case, "Klein bedrag", false, Some(10_000));
        let large = weighed(&mut marieke, &case, "Huur uit maatwerkbudget", false, Some(75_000));
        let maatwerk = weighed(&mut marieke, &case, "Afwijken", true, None);
        let mut states = Vec::new();
        for id in [&standard, &small, &large, &maatwerk] {
            states.push(marieke.submit_assessment(&case, id).unwrap());
        }
        assert_eq!(states[0], ReviewState::NoReviewNeeded);
        assert_eq!(states[1], ReviewState::NoReviewNeeded);
        assert_eq!(states[2], ReviewState::Waiting);
        assert_eq!(states[3], ReviewState::Waiting);
        let queued: Vec<String> =
            marieke.review_queue().unwrap().into_iter().map(|q| q.assessment_id).collect();
        assert_eq!(queued, [large, maatwerk]);
    }

    #[test]
    fn approve_request_changes_and_resubmit() {
        let dir = tempfile::tempdir().unwrap();
        let mut marieke = device(dir.path());
        let case = marieke.new_case(&Resident::named("Willem"), None).unwrap();
        let id = weighed(&mut marieke, &case, "Auto meetellen?", true, None);
        marieke.submit_assessment(&case, &id).unwrap();
        let bare = marieke.review_assessment(&case, &id, ReviewAction::RequestChanges, " ");
        assert!(matches!(bare, Err(Error::InvalidInput { .. })), "changes need a note");
        marieke
            .review_assessment(&case, &id, ReviewAction::RequestChanges, "Noem de termijn.")
            .unwrap();
        assert!(marieke.review_queue().unwrap().is_empty(), "back with the worker");
        let state = marieke.review_state(&case, &id).unwrap();
        assert!(matches!(state, ReviewState::Decided { ref review }
            if review.verdict == ReviewVerdict::ChangesRequested && review.note == "Noem de termijn."));

        std::thread::sleep(std::time::Duration::from_millis(5));
        marieke.submit_assessment(&case, &id).unwrap();
        assert_eq!(marieke.review_queue().unwrap().len(), 1, "resubmitted, waiting again");
        marieke.review_assessment(&case, &id, ReviewAction::Approve, "").unwrap();
        assert!(marieke.review_queue().unwrap().is_empty());
        assert_eq!(marieke.case(&case).unwrap().reviews.len(), 2, "both rounds are kept");
    }

    #[test]
    fn escalation_climbs_the_ladder_and_stays_in_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let mut marieke = device(dir.path());
        let case = marieke.new_case(&Resident::named("Yusuf"), None).unwrap();
        let id = weighed(&mut marieke, &case, "Studeren met uitkering?", true, None);
        marieke.submit_assessment(&case, &id).unwrap();
        let first = marieke
            .review_assessment(&case, &id, ReviewAction::Escalate, "Doorbraak nodig")
            .unwrap();
        assert_eq!(first.escalated_to.as_deref(), Some("omgekeerde_toets"));
        let queue = marieke.review_queue().unwrap();
        assert_eq!(queue.len(), 1);
        assert_eq!(queue[0].rung, "Omgekeerde toets en waardendriehoek");
        let second =
            marieke.review_assessment(&case, &id, ReviewAction::Escalate, "Regionaal?").unwrap();
        assert_eq!(second.escalated_to.as_deref(), Some("doorbraakmethode"));
        assert_eq!(second.supersedes, [first.id]);
    }

    #[test]
    fn concurrent_different_verdicts_are_a_conflict_on_both_devices() {
        let key = SecretKey::generate().unwrap();
        let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut a = Device::create(a_dir.path(), Unlock::Key(key.clone()), "Marieke").unwrap();
        let mut b = Device::create(b_dir.path(), Unlock::Key(key), "Joost").unwrap();
        let case = a.new_case(&Resident::named("Aïsha"), None).unwrap();
        a.record_visit(&case, &NewVisit { note: "Huur 750 euro".into(), ..NewVisit::default() })
            .unwrap();
        let id = weighed(&mut a, &case, "Huur uit maatwerkbudget?", true, Some(75_000));
        a.submit_assessment(&case, &id).unwrap();
        b.merge_case(&a.export_case(&case).unwrap()).unwrap();

        a.review_assessment(&case, &id, ReviewAction::Approve, "").unwrap();
        b.review_assessment(&case, &id, ReviewAction::RequestChanges, "Eerst bijzondere bijstand")
            .unwrap();
        a.merge_case(&b.export_case(&case).unwrap()).unwrap();
        b.merge_case(&a.export_case(&case).unwrap()).unwrap();
        for device in [&mut a, &mut b] {
            let case_now = device.case(&case).unwrap();
            let conflict = case_now
                .conflicts
                .iter()
                .find(|c| c.path == format!("assessments/{id}/review"))
                .expect("the disagreement is shown");
            assert_eq!(conflict.values, ["approved", "changes_requested"]);
            let queue = device.review_queue().unwrap();
            assert!(
                matches!(queue[0].state, ReviewState::Conflict { ref reviews } if reviews.len() == 2)
            );
            assert_eq!(device.cases().unwrap()[0].conflict_count, 1);
        }
        // One supervisor settles it with a verdict that replaces both.
        a.review_assessment(&case, &id, ReviewAction::Approve, "Overlegd met Joost").unwrap();
        b.merge_case(&a.export_case(&case).unwrap()).unwrap();
        assert!(b.case(&case).unwrap().conflicts.is_empty());
        assert!(b.review_queue().unwrap().is_empty());
    }
}
