//! The value checklist: value frameworks (waardenkaders) read from team data, the decision
//! flow of an assessment through the omgekeerde toets and the values, and the written
//! justification. Pure logic: storing frameworks and answers is the store's and doc's job.

mod flow;
mod framework;
mod justification;

pub use flow::{
    check_can_answer, flow, progress, Answers, Item, Missing, Progress, ValueVerdict, Verdict,
};
pub use framework::{Framework, Rung, Step, Value};
pub use justification::{format_euro, justification};
