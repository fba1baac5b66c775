//! `eropaf case …`: create, list, search, show, set status, export and merge cases; assign
//! members, hand cases over and show who may read one.

use std::path::PathBuf;

use clap::Subcommand;
use eropaf_core::model::{AssignmentRole, CaseStatus, CaseType, Resident};

use crate::home::Home;
use eropaf_terminal::{self as print, describe, outln};

#[derive(Subcommand)]
pub enum CaseCommand {
    /// Open a new case; prints its id.
    New {
        /// The resident's name (the only field a case needs).
        #[arg(long)]
        resident: String,
        /// wmo, jeugd, participatiewet, schuldhulp or other.
        #[arg(long = "type")]
        case_type: Option<String>,
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// All cases, or those whose resident name matches --search.
    List {
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// One case with its visits, assessments and reviews.
    Show {
        case_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Set the status (open, closed, escalated); also settles a status conflict.
    Status { case_id: String, status: String },
    /// Settle a field two devices set concurrently (see `case show`) by choosing a value.
    Resolve { case_id: String, path: String, value: String },
    /// Write the case document to a file, for another replica to merge.
    Export {
        case_id: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Merge a case document exported by another replica.
    Merge { file: PathBuf },
    /// The resident's inzage (AVG art. 15): everything held about the case as one HTML file,
    /// its files in a folder beside it (NAME-bijlagen/), fetched from the relay first where
    /// they were attached on another device.
    Inzage {
        case_id: String,
        #[arg(long)]
        out: PathBuf,
        /// Whom the export is for (recorded in the access log).
        #[arg(long, default_value = "inzageverzoek bewoner")]
        namens: String,
    },
    /// Assign a member to the case (supervisors): her devices get its keys and history.
    Assign {
        case_id: String,
        member: String,
        /// worker (casusregisseur), backup (achtervang) or temporary (tijdelijke toegang).
        #[arg(long, default_value = "backup")]
        role: String,
        /// Access that ends by itself after this many days.
        #[arg(long)]
        days: Option<u32>,
    },
    /// End a member's assignment (supervisors): her devices forget the case at their next
    /// sync and read nothing written after.
    Unassign { case_id: String, member: String },
    /// Move cases from one member to another in one action (supervisors): the given cases, or
    /// all of --from's.
    Handover {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        case_ids: Vec<String>,
    },
    /// Who may read the case.
    Access {
        case_id: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(home: &Home, command: CaseCommand) -> Result<(), String> {
    let mut device = home.open()?;
    match command {
        CaseCommand::Assign { case_id, member, role, days } => {
            let id = device.resolve_case_id(&case_id).map_err(|e| describe(&e))?;
            let role = AssignmentRole::parse(role.trim()).ok_or_else(|| {
                format!("onbekende rol {role:?}: kies worker, backup of temporary")
            })?;
            let until = days.map(|d| chrono::Utc::now() + chrono::Duration::days(i64::from(d)));
            device.assign(&id, &member, role, until).map_err(|e| describe(&e))?;
            let end = until.map_or(String::new(), |u| {
                format!(" tot {}", print::local(u).format("%d-%m-%Y %H:%M"))
            });
            outln!(
                "{} is {} van casus {}{end}. De sleutels gaan mee met de volgende synchronisatie.",
                member.trim(),
                role.label(),
                print::short(&id)
            );
            Ok(())
        }
        CaseCommand::Unassign { case_id, member } => {
            let id = device.resolve_case_id(&case_id).map_err(|e| describe(&e))?;
            device.unassign(&id, &member).map_err(|e| describe(&e))?;
            outln!(
                "{} is niet meer toegewezen aan casus {}: wat vanaf nu wordt geschreven is voor \
                 haar apparaten niet te lezen, en die vergeten de casus bij hun volgende \
                 synchronisatie.",
                member.trim(),
                print::short(&id)
            );
            Ok(())
        }
        CaseCommand::Handover { from, to, case_ids } => {
            let ids = case_ids
                .iter()
                .map(|c| device.resolve_case_id(c))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| describe(&e))?;
            let handed = device.handover(&from, &to, &ids).map_err(|e| describe(&e))?;
            outln!(
                "{} casus(sen) overgedragen van {} aan {}. Synchroniseer om de sleutels te \
                 versturen.",
                handed.len(),
                from.trim(),
                to.trim()
            );
            for id in handed {
                outln!("  {}", print::short(&id));
            }
            Ok(())
        }
        CaseCommand::Access { case_id, json } => {
            let id = device.resolve_case_id(&case_id).map_err(|e| describe(&e))?;
            let access = device.case_access(&id).map_err(|e| describe(&e))?;
            if json {
                return print::json(&access);
            }
            if access.assignments.is_empty() {
                let creator = access.creator.as_deref().unwrap_or("(onbekend)");
                outln!("Nog niemand toegewezen: de casus is van {creator}, die hem aanlegde.");
            }
            for a in &access.assignments {
                let end = a.until.map_or(String::new(), |u| {
                    format!(" tot {}", print::local(u).format("%d-%m-%Y %H:%M"))
                });
                outln!("{:<28} {}{end}", a.member, a.role.label());
            }
            outln!("Leesbaar voor: {} (en de leidinggevenden).", access.readers.join(", "));
            Ok(())
        }
        CaseCommand::Inzage { case_id, out, namens } => {
            let case_id = device.resolve_case_id(&case_id).map_err(|e| describe(&e))?;
            let missing: Vec<String> = device
                .case(&case_id)
                .map_err(|e| describe(&e))?
                .attachments
                .into_iter()
                .filter(|file| !file.on_device)
                .map(|file| file.id)
                .collect();
            if !missing.is_empty() {
                let transport = super::relay(&device)?;
                for id in &missing {
                    device
                        .download_attachment(&transport, &case_id, id, &mut |_| {})
                        .map_err(|e| describe(&e))?;
                }
            }
            let export = device
                .export_inzage_with_files(&case_id, Some(&namens), &out)
                .map_err(|e| describe(&e))?;
            outln!("Inzage geschreven naar {} (vastgelegd in het toegangslog).", out.display());
            if let Some(first) = export.files.first() {
                let folder = first.parent().unwrap_or(first);
                outln!("{} bijlagen in {}.", export.files.len(), folder.display());
            }
            Ok(())
        }
        CaseCommand::New { resident, case_type, address, phone, json } => {
            let case_type =
                case_type.as_deref().map(CaseType::parse).transpose().map_err(|e| describe(&e))?;
            let resident = Resident { address, phone, ..Resident::named(resident) };
            let id = device.new_case(&resident, case_type).map_err(|e| describe(&e))?;
            if json {
                print::json(&serde_json::json!({ "id": id }))
            } else {
                outln!("{id}");
                Ok(())
            }
        }
        CaseCommand::List { search, json } => {
            let cases = match search {
                Some(query) => device.search(&query),
                None => device.cases(),
            }
            .map_err(|e| describe(&e))?;
            if json {
                print::json(&cases)
            } else {
                print::case_list(&cases);
                Ok(())
            }
        }
        CaseCommand::Show { case_id, json } => {
            let id = device.resolve_case_id(&case_id).map_err(|e| describe(&e))?;
            // A person reads the case: that goes into its access log (NEN 7513).
            let case = device.open_case(&id, None).map_err(|e| describe(&e))?;
            if json {
                print::json(&case)
            } else {
                print::case_detail(&case);
                Ok(())
            }
        }
        CaseCommand::Status { case_id, status } => {
            let id = device.resolve_case_id(&case_id).map_err(|e| describe(&e))?;
            let status = CaseStatus::parse(&status).map_err(|e| describe(&e))?;
            device.set_status(&id, status).map_err(|e| describe(&e))?;
            outln!("Status: {}", status.label());
            Ok(())
        }
        CaseCommand::Resolve { case_id, path, value } => {
            let id = device.resolve_case_id(&case_id).map_err(|e| describe(&e))?;
            device.resolve_conflict(&id, &path, &value).map_err(|e| describe(&e))?;
            outln!("Conflict in {path} opgelost: {value}");
            Ok(())
        }
        CaseCommand::Export { case_id, out } => {
            let id = device.resolve_case_id(&case_id).map_err(|e| describe(&e))?;
            let bytes = device.export_case(&id).map_err(|e| describe(&e))?;
            std::fs::write(&out, bytes)
                .map_err(|e| format!("kan {} niet schrijven: {e}", out.display()))?;
            outln!(
                "Casus {} geëxporteerd naar {} (onversleuteld: bewaar het veilig)",
                print::short(&id),
                out.display()
            );
            Ok(())
        }
        CaseCommand::Merge { file } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| format!("kan {} niet lezen: {e}", file.display()))?;
            let id = device.merge_case(&bytes).map_err(|e| describe(&e))?;
            outln!("Samengevoegd: casus {}", print::short(&id));
            Ok(())
        }
    }
}
