//! The supervisor's office work over the team's cases: the review workflow's rules (queue,
//! verdicts, conflicts, escalation) and the team's reports, without names.

pub mod reports;
pub mod review;
