//! `eropaf access …`: ask the supervisors for access to a case you are not assigned to, see
//! the requests, and (supervisors) grant one for a number of days or refuse it.

use clap::Subcommand;
use eropaf_core::model::AccessRequest;
use eropaf_core::Eropaf;

use crate::home::Home;
use eropaf_terminal::{self as print, describe, outln};

#[derive(Subcommand)]
pub enum AccessCommand {
    /// Ask for access to a case, with a reason only the supervisors (and your own devices)
    /// can read. Nothing is granted until a supervisor answers.
    Request {
        /// The case's full id (you cannot list a case you may not read).
        case_id: String,
        #[arg(long)]
        reason: String,
        /// Mark the request as urgent for the supervisors.
        #[arg(long)]
        urgent: bool,
        #[arg(long)]
        json: bool,
    },
    /// The requests: all of them for a supervisor, your own otherwise.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Grant a request for N days (supervisors): a temporary assignment that ends by itself.
    Grant {
        request_id: String,
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// Refuse a request (supervisors).
    Refuse { request_id: String },
}

pub fn run(home: &Home, command: AccessCommand) -> Result<(), String> {
    let mut device = home.open()?;
    match command {
        AccessCommand::Request { case_id, reason, urgent, json } => {
            let id = device.request_access(&case_id, &reason, urgent).map_err(|e| describe(&e))?;
            if json {
                return print::json(&serde_json::json!({ "id": id }));
            }
            outln!(
                "Verzoek {} vastgelegd. Het gaat mee met de volgende synchronisatie en wacht op \
                 een leidinggevende; tot die antwoordt, krijgt u geen toegang.",
                print::short(&id)
            );
            Ok(())
        }
        AccessCommand::List { json } => {
            let requests = device.access_requests().map_err(|e| describe(&e))?;
            if json {
                return print::json(&requests);
            }
            if requests.is_empty() {
                outln!("Geen verzoeken om toegang.");
            }
            for request in &requests {
                outln!("{}", line(request));
            }
            Ok(())
        }
        AccessCommand::Grant { request_id, days } => {
            let id = resolve(&device, &request_id)?;
            device.grant_access(&id, days).map_err(|e| describe(&e))?;
            outln!(
                "Toegang verleend voor {days} dag(en); vastgelegd in het toegangslog van de \
                 casus. De sleutels gaan mee met de volgende synchronisatie."
            );
            Ok(())
        }
        AccessCommand::Refuse { request_id } => {
            let id = resolve(&device, &request_id)?;
            device.refuse_access(&id).map_err(|e| describe(&e))?;
            outln!("Verzoek geweigerd; vastgelegd in het toegangslog van de casus.");
            Ok(())
        }
    }
}

/// The full id of the request `prefix` starts, among those this device sees.
fn resolve(device: &Eropaf, prefix: &str) -> Result<String, String> {
    let prefix = prefix.trim().to_ascii_lowercase();
    let requests = device.access_requests().map_err(|e| describe(&e))?;
    let matching: Vec<&AccessRequest> =
        requests.iter().filter(|r| !prefix.is_empty() && r.id.starts_with(&prefix)).collect();
    match matching.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(format!("geen verzoek {prefix}; zie `eropaf access list`")),
        _ => Err(format!("{prefix} past bij meer verzoeken; geef meer tekens")),
    }
}

fn line(request: &AccessRequest) -> String {
    let state = match &request.decision {
        None => "wacht op antwoord".to_string(),
        Some(d) if d.granted => format!(
            "verleend door {}{}",
            d.by,
            d.until.map_or(String::new(), |u| format!(
                " tot {}",
                print::local(u).format("%d-%m-%Y %H:%M")
            ))
        ),
        Some(d) => format!("geweigerd door {}", d.by),
    };
    format!(
        "{}  {}  casus {}  {}{}  {}  — {}",
        print::short(&request.id),
        print::local(request.at).format("%d-%m-%Y %H:%M"),
        print::short(&request.case_id),
        request.member,
        if request.urgent { " (spoed)" } else { "" },
        request.reason.as_deref().unwrap_or("(reden niet leesbaar)"),
        state
    )
}
