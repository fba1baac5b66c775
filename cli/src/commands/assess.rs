//! `eropaf assess …`: walk a decision through the value checklist to its justification.

use clap::Subcommand;
use eropaf_core::checklist::{Item, Verdict};
use eropaf_core::model::parse_euro_cents;
use eropaf_core::review::ReviewAction;
use eropaf_core::Eropaf;

use crate::home::Home;
use eropaf_terminal::{self as print, describe, outln};

#[derive(Subcommand)]
pub enum AssessCommand {
    /// Start weighing a decision for a case; prints the assessment id and the first step.
    Start {
        case_id: String,
        /// The decision under consideration.
        #[arg(long)]
        question: String,
        /// Framework id (the team's first framework if left out).
        #[arg(long)]
        framework: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Answer a step of the omgekeerde toets by its key, or `decision` for the proposed decision.
    Answer { case_id: String, assessment_id: String, step: String, text: String },
    /// Record a value's verdict: supports, in_tension, conflicts or not_relevant.
    Value {
        case_id: String,
        assessment_id: String,
        value: String,
        verdict: String,
        #[arg(long, default_value = "")]
        motivation: String,
    },
    /// Mark the decision as maatwerk (departing from standard policy), with an optional budget.
    Maatwerk {
        case_id: String,
        assessment_id: String,
        /// Amount from the maatwerkbudget in euros, e.g. 750 or 1234,50.
        #[arg(long)]
        budget: Option<String>,
        /// Undo: the decision follows standard policy.
        #[arg(long)]
        off: bool,
    },
    /// Submit a finished assessment; it waits for a supervisor when it departs from policy
    /// or asks more maatwerkbudget than the team's threshold.
    Submit { case_id: String, assessment_id: String },
    /// A supervisor's verdict: approve, request_changes or escalate (one rung up the ladder).
    Review {
        case_id: String,
        assessment_id: String,
        action: String,
        /// Needed when requesting changes or escalating.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// What waits for a supervisor.
    Queue {
        #[arg(long)]
        json: bool,
    },
    /// Progress, what is missing, and the justification text.
    Show {
        case_id: String,
        assessment_id: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(home: &Home, command: AssessCommand) -> Result<(), String> {
    let mut device = home.open()?;
    match command {
        AssessCommand::Submit { case_id, assessment_id } => {
            let (case_id, assessment_id) = resolve(&mut device, &case_id, &assessment_id)?;
            let state =
                device.submit_assessment(&case_id, &assessment_id).map_err(|e| describe(&e))?;
            outln!("Ingediend: {}.", state.label());
            Ok(())
        }
        AssessCommand::Review { case_id, assessment_id, action, note } => {
            let (case_id, assessment_id) = resolve(&mut device, &case_id, &assessment_id)?;
            let action = ReviewAction::parse(&action).map_err(|e| describe(&e))?;
            let review = device
                .review_assessment(&case_id, &assessment_id, action, &note)
                .map_err(|e| describe(&e))?;
            match review.escalated_to {
                Some(rung) => outln!("{} naar trede {rung}.", review.verdict.label()),
                None => outln!("{}.", review.verdict.label()),
            }
            Ok(())
        }
        AssessCommand::Queue { json } => {
            let queue = device.review_queue().map_err(|e| describe(&e))?;
            if json {
                return print::json(&queue);
            }
            if queue.is_empty() {
                outln!("Er wacht niets op een leidinggevende.");
            }
            for item in &queue {
                outln!(
                    "{}  {}  {}  {}  {}",
                    print::short(&item.case_id),
                    print::short(&item.assessment_id),
                    item.state.label(),
                    item.resident,
                    item.question
                );
            }
            Ok(())
        }
        AssessCommand::Start { case_id, question, framework, json } => {
            let case_id = device.resolve_case_id(&case_id).map_err(|e| describe(&e))?;
            let id = device
                .start_assessment(&case_id, &question, framework.as_deref())
                .map_err(|e| describe(&e))?;
            let view = device.assessment(&case_id, &id).map_err(|e| describe(&e))?;
            if json {
                return print::json(&view);
            }
            outln!("{id}");
            print_next(&view);
            Ok(())
        }
        AssessCommand::Answer { case_id, assessment_id, step, text } => {
            let (case_id, assessment_id) = resolve(&mut device, &case_id, &assessment_id)?;
            let item = match step.as_str() {
                "decision" | "besluit" => Item::Decision,
                key => Item::Step(key.to_string()),
            };
            device.answer(&case_id, &assessment_id, &item, &text).map_err(|e| describe(&e))?;
            print_next(&device.assessment(&case_id, &assessment_id).map_err(|e| describe(&e))?);
            Ok(())
        }
        AssessCommand::Value { case_id, assessment_id, value, verdict, motivation } => {
            let (case_id, assessment_id) = resolve(&mut device, &case_id, &assessment_id)?;
            let verdict = Verdict::parse(&verdict).map_err(|e| describe(&e))?;
            device
                .set_verdict(&case_id, &assessment_id, &value, verdict, &motivation)
                .map_err(|e| describe(&e))?;
            print_next(&device.assessment(&case_id, &assessment_id).map_err(|e| describe(&e))?);
            Ok(())
        }
        AssessCommand::Maatwerk { case_id, assessment_id, budget, off } => {
            let (case_id, assessment_id) = resolve(&mut device, &case_id, &assessment_id)?;
            let cents =
                budget.as_deref().map(parse_euro_cents).transpose().map_err(|e| describe(&e))?;
            device.set_maatwerk(&case_id, &assessment_id, !off, cents).map_err(|e| describe(&e))?;
            outln!(
                "{}",
                if off { "Volgt het standaardbeleid." } else { "Gemarkeerd als maatwerk." }
            );
            Ok(())
        }
        AssessCommand::Show { case_id, assessment_id, json } => {
            let (case_id, assessment_id) = resolve(&mut device, &case_id, &assessment_id)?;
            let view = device.assessment(&case_id, &assessment_id).map_err(|e| describe(&e))?;
            if json {
                print::json(&view)
            } else {
                print::assessment(&view);
                Ok(())
            }
        }
    }
}

/// Full ids from the short forms people type.
fn resolve(
    device: &mut Eropaf,
    case_id: &str,
    assessment_id: &str,
) -> Result<(String, String), String> {
    let case_id = device.resolve_case_id(case_id).map_err(|e| describe(&e))?;
    let assessment_id =
        device.resolve_assessment_id(&case_id, assessment_id).map_err(|e| describe(&e))?;
    Ok((case_id, assessment_id))
}

fn print_next(view: &eropaf_core::AssessmentView) {
    match view.progress.missing.first() {
        None => outln!("Compleet: bekijk de onderbouwing met `eropaf assess show`."),
        Some(next) => outln!("Volgende: {}", next.reason),
    }
}
