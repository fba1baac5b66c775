//! The team's reports for reflection (plan-do-check-act), without names: how each value
//! weighed in decisions, how many decisions departed from policy, how long reviews took, the
//! maatwerkbudget spent against the budget, and similar questions that ended differently.
//! Built from decrypted cases on a supervisor's device; resident names are removed from every
//! text that goes into a report, and no worker is named.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::checklist::{Framework, Verdict};
use crate::model::TeamPolicy;
use crate::model::{fold, Case, CaseType, ReviewVerdict};
use crate::review::{self, ReviewState};

/// Questions whose word sets overlap at least this much (Jaccard) count as similar.
const SIMILAR_AT: f64 = 0.3;
/// What a resident's name is replaced with in report texts.
pub const REDACTED: &str = "[bewoner]";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TeamReport {
    pub generated_at: DateTime<Utc>,
    /// Assessments with a proposed decision.
    pub decisions: usize,
    /// Of those, departing from standard policy (maatwerk).
    pub maatwerk: usize,
    pub values: Vec<ValueTally>,
    pub reviews: ReviewTally,
    pub budget: BudgetUse,
    pub similar: Vec<SimilarPair>,
}

impl TeamReport {
    /// The share of decisions departing from policy, 0.0 to 1.0.
    pub fn maatwerk_share(&self) -> f64 {
        if self.decisions == 0 {
            0.0
        } else {
            self.maatwerk as f64 / self.decisions as f64
        }
    }
}

/// How often one value supported, stood in tension with or conflicted with a decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValueTally {
    pub key: String,
    pub title: String,
    pub supports: u32,
    pub in_tension: u32,
    pub conflicts: u32,
    pub not_relevant: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReviewTally {
    pub waiting: u32,
    pub approved: u32,
    pub changes_requested: u32,
    pub escalated: u32,
    pub in_conflict: u32,
    /// Hours from submission to the first verdict, for every reviewed submission.
    pub turnaround_hours: Vec<f64>,
}

impl ReviewTally {
    pub fn median_turnaround_hours(&self) -> Option<f64> {
        let mut hours = self.turnaround_hours.clone();
        if hours.is_empty() {
            return None;
        }
        hours.sort_by(f64::total_cmp);
        let mid = hours.len() / 2;
        Some(if hours.len().is_multiple_of(2) {
            (hours[mid - 1] + hours[mid]) / 2.0
        } else {
            hours[mid]
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BudgetUse {
    /// The team's maatwerkbudget.
    pub budget_cents: u64,
    /// Approved by a supervisor, or decided by a worker within the threshold.
    pub spent_cents: u64,
    /// Asked in submissions still waiting, escalated or in conflict.
    pub pending_cents: u64,
}

/// One decision as a report shows it: no names, and the case only by type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DecisionLine {
    pub case_type: Option<CaseType>,
    pub question: String,
    pub decision: String,
    pub maatwerk: bool,
    pub budget_cents: Option<u64>,
    pub outcome: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimilarPair {
    pub similarity: f64,
    pub first: DecisionLine,
    pub second: DecisionLine,
}

/// Builds the report over `cases`, reading value titles from `frameworks` (every installed
/// version).
pub fn build(
    cases: &[Case],
    frameworks: &[Framework],
    policy: &TeamPolicy,
    now: DateTime<Utc>,
) -> TeamReport {
    let mut values: BTreeMap<String, ValueTally> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for framework in frameworks.iter().rev() {
        for value in &framework.values {
            if !order.contains(&value.key) {
                order.push(value.key.clone());
                values.insert(
                    value.key.clone(),
                    ValueTally {
                        key: value.key.clone(),
                        title: value.title.clone(),
                        supports: 0,
                        in_tension: 0,
                        conflicts: 0,
                        not_relevant: 0,
                    },
                );
            }
        }
    }
    let mut report = TeamReport {
        generated_at: now,
        decisions: 0,
        maatwerk: 0,
        values: Vec::new(),
        reviews: ReviewTally::default(),
        budget: BudgetUse { budget_cents: policy.budget_cents, ..BudgetUse::default() },
        similar: Vec::new(),
    };
    let mut lines: Vec<(String, BTreeSet<String>, DecisionLine)> = Vec::new();
    for case in cases {
        let names = name_words(&case.resident.name);
        for assessment in &case.assessments {
            let answers = &assessment.answers;
            if answers.decision.trim().is_empty() {
                continue;
            }
            report.decisions += 1;
            report.maatwerk += usize::from(answers.maatwerk);
            for (key, verdict) in &answers.verdicts {
                let Some(verdict) = verdict.verdict else { continue };
                let tally = values.entry(key.clone()).or_insert_with(|| {
                    order.push(key.clone());
                    ValueTally {
                        key: key.clone(),
                        title: key.clone(),
                        supports: 0,
                        in_tension: 0,
                        conflicts: 0,
                        not_relevant: 0,
                    }
                });
                match verdict {
                    Verdict::Supports => tally.supports += 1,
                    Verdict::InTension => tally.in_tension += 1,
                    Verdict::Conflicts => tally.conflicts += 1,
                    Verdict::NotRelevant => tally.not_relevant += 1,
                }
            }
            let state = review::state(assessment, &case.reviews);
            let budget = answers.budget_cents.unwrap_or(0);
            match &state {
                ReviewState::Draft => {}
                ReviewState::NoReviewNeeded => report.budget.spent_cents += budget,
                ReviewState::Waiting => {
                    report.reviews.waiting += 1;
                    report.budget.pending_cents += budget;
                }
                ReviewState::Conflict { .. } => {
                    report.reviews.in_conflict += 1;
                    report.budget.pending_cents += budget;
                }
                ReviewState::Decided { review } => match review.verdict {
                    ReviewVerdict::Approved => {
                        report.reviews.approved += 1;
                        report.budget.spent_cents += budget;
                    }
                    ReviewVerdict::ChangesRequested => report.reviews.changes_requested += 1,
                    ReviewVerdict::Escalated => {
                        report.reviews.escalated += 1;
                        report.budget.pending_cents += budget;
                    }
                },
            }
            // Turnaround of every reviewed submission: from submitting to the first verdict.
            let mut rounds: BTreeMap<DateTime<Utc>, DateTime<Utc>> = BTreeMap::new();
            for r in case.reviews.iter().filter(|r| r.assessment_id == assessment.id) {
                if let Some(submitted) = r.submission {
                    let first = rounds.entry(submitted).or_insert(r.at);
                    *first = (*first).min(r.at);
                }
            }
            for (submitted, first) in rounds {
                let hours = (first - submitted).num_minutes().max(0) as f64 / 60.0;
                report.reviews.turnaround_hours.push(hours);
            }
            let question = redact(&answers.question, &names);
            let words = significant_words(&question);
            lines.push((
                case.id.clone(),
                words,
                DecisionLine {
                    case_type: case.case_type,
                    decision: redact(&answers.decision, &names),
                    question,
                    maatwerk: answers.maatwerk,
                    budget_cents: answers.budget_cents,
                    outcome: outcome(&state, answers.maatwerk),
                },
            ));
        }
    }
    report.values = order.into_iter().filter_map(|key| values.remove(&key)).collect();
    for (i, (case_a, words_a, a)) in lines.iter().enumerate() {
        for (case_b, words_b, b) in &lines[i + 1..] {
            if case_a == case_b || a.outcome == b.outcome {
                continue;
            }
            let similarity = jaccard(words_a, words_b);
            if similarity >= SIMILAR_AT {
                report.similar.push(SimilarPair {
                    similarity,
                    first: a.clone(),
                    second: b.clone(),
                });
            }
        }
    }
    report.similar.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
    report
}

fn outcome(state: &ReviewState, maatwerk: bool) -> String {
    let policy = if maatwerk { "maatwerk" } else { "standaardbeleid" };
    format!("{policy}, {}", state.label().to_lowercase())
}

/// The words of a resident's name worth hiding (initials and particles like "el" included:
/// better one word too many hidden than a name shown).
fn name_words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(fold).collect()
}

/// `text` with every word that is, or starts with, a word of the resident's name ("Willems",
/// "Aïsha's") replaced by [`REDACTED`].
pub fn redact(text: &str, name_words: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        let folded = fold(word);
        let is_name = name_words.iter().any(|n| {
            folded == *n
                || (n.len() >= 4 && folded.starts_with(n.as_str()) && folded.len() <= n.len() + 2)
        });
        out.push_str(if is_name { REDACTED } else { word });
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else if c == '\'' && !word.is_empty() {
            // "Aïsha's": the possessive stays with the name.
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    // "Aïsha El Amrani" is one person: one marker.
    let doubled = format!("{REDACTED} {REDACTED}");
    while out.contains(&doubled) {
        out = out.replace(&doubled, REDACTED);
    }
    out
}

/// Words that carry meaning: four letters or more, folded, the redaction marker left out.
fn significant_words(text: &str) -> BTreeSet<String> {
    const STOP: &[&str] = &[
        "voor", "naar", "zijn", "haar", "heeft", "wordt", "worden", "mogen", "deze", "niet",
        "meer", "omdat",
    ];
    text.split(|c: char| !c.is_alphanumeric())
        .map(fold)
        .filter(|w| w.chars().count() >= 4 && !STOP.contains(&w.as_str()) && w != "bewoner")
        .collect()
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(b).count() as f64 / union as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_redacted_also_as_possessives() {
        let names = name_words("Aïsha El Amrani");
        assert_eq!(
            redact("Betalen we Aïsha's huur? Aisha El Amrani is 18.", &names),
            "Betalen we [bewoner] huur? [bewoner] is 18."
        );
        let names = name_words("Willem Bakker");
        assert_eq!(redact("Telt Willems auto mee?", &names), "Telt [bewoner] auto mee?");
        assert_eq!(
            redact("Wil hij werken?", &names),
            "Wil hij werken?",
            "short words are no names"
        );
    }

    #[test]
    fn similar_questions_need_shared_meaningful_words() {
        let a = significant_words("Telt de auto mee als vermogen voor de bijstand?");
        let b = significant_words("Telt de auto van zijn vader mee als vermogen?");
        let c = significant_words("Mag hij studeren met behoud van uitkering?");
        assert!(jaccard(&a, &b) >= SIMILAR_AT);
        assert!(jaccard(&a, &c) < SIMILAR_AT);
    }
}
