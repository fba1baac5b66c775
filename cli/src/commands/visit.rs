//! `eropaf visit …`: record a home visit with its observations.

use clap::Subcommand;
use eropaf_core::model::{NewVisit, Observation};
use eropaf_core::parse_time;

use crate::home::Home;
use eropaf_terminal::{self as print, describe, outln};

#[derive(Subcommand)]
pub enum VisitCommand {
    /// Record a visit; prints its id.
    Add {
        case_id: String,
        #[arg(long)]
        note: String,
        /// When the visit took place (RFC 3339); now if left out.
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        place: Option<String>,
        /// Someone who was present (repeat for more).
        #[arg(long)]
        present: Vec<String>,
        /// DOMAIN:SCORE:TEXT, domain and score optional (`::text`); repeat for more.
        #[arg(long = "observation")]
        observations: Vec<String>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(home: &Home, command: VisitCommand) -> Result<(), String> {
    let VisitCommand::Add { case_id, note, at, place, present, observations, json } = command;
    // Validate everything before opening the store, so bad input changes nothing.
    let at = at.as_deref().map(parse_time).transpose().map_err(|e| describe(&e))?;
    let observations = observations
        .iter()
        .map(|spec| Observation::parse_cli(spec))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| describe(&e))?;
    let mut device = home.open()?;
    let id = device.resolve_case_id(&case_id).map_err(|e| describe(&e))?;
    let visit = NewVisit { at, place, present, note, observations };
    let visit_id = device.record_visit(&id, &visit).map_err(|e| describe(&e))?;
    if json {
        print::json(&serde_json::json!({ "id": visit_id, "case_id": id }))
    } else {
        outln!("{visit_id}");
        Ok(())
    }
}
