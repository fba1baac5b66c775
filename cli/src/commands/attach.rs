//! `eropaf attach …`: keep a file with a case (the letter from the woningcorporatie, a signed
//! consent), list a case's files, and write one out.

use std::path::PathBuf;

use clap::Subcommand;
use eropaf_core::attachments::{checked, media_type_for, Limits};
use eropaf_core::model::NewAttachment;

use crate::home::Home;
use eropaf_terminal::{self as print, describe, outln};

#[derive(Subcommand)]
pub enum AttachCommand {
    /// Attach FILE to a case, or to one of its visits; prints the attachment's id.
    Add {
        case_id: String,
        file: PathBuf,
        /// The visit it belongs to.
        #[arg(long)]
        visit: Option<String>,
        #[arg(long)]
        caption: Option<String>,
        /// Its media type (e.g. image/jpeg); from the file's extension when left out.
        #[arg(long = "type")]
        media_type: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A case's files, oldest first.
    List {
        case_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Writes a file's content to --out (a new file); the case's access log records it.
    Get {
        case_id: String,
        attachment_id: String,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(home: &Home, command: AttachCommand) -> Result<(), String> {
    match command {
        AttachCommand::Add { case_id, file, visit, caption, media_type, json } => {
            let name = file
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            let media_type = media_type.unwrap_or_else(|| media_type_for(&name).to_string());
            let new = NewAttachment { name, media_type, caption, visit_id: visit };
            // Checked by the core's rules before the store is unlocked (against the most any
            // team allows; the team's own limits once it is open): nothing changes.
            let size =
                std::fs::metadata(&file).map_err(|e| format!("{}: {e}", file.display()))?.len();
            checked(&new, size, 0, &Limits::CEILING).map_err(|e| describe(&e))?;
            let mut device = home.open()?;
            let case_id = device.resolve_case_id(&case_id).map_err(|e| describe(&e))?;
            let attached = device.attach_file(&case_id, &new, &file).map_err(|e| describe(&e))?;
            if json {
                print::json(&attached)
            } else {
                outln!("{}", attached.id);
                Ok(())
            }
        }
        AttachCommand::List { case_id, json } => {
            let mut device = home.open()?;
            let case_id = device.resolve_case_id(&case_id).map_err(|e| describe(&e))?;
            let attachments = device.case(&case_id).map_err(|e| describe(&e))?.attachments;
            if json {
                return print::json(&attachments);
            }
            if attachments.is_empty() {
                outln!("Geen bijlagen.");
            }
            for file in attachments {
                let caption = file.caption.map(|c| format!(" — {c}")).unwrap_or_default();
                outln!(
                    "{}  {}  {}  {} kB{caption}",
                    &file.id[..8],
                    file.at.format("%d-%m-%Y %H:%M"),
                    file.name,
                    file.size.div_ceil(1024)
                );
            }
            Ok(())
        }
        AttachCommand::Get { case_id, attachment_id, out } => {
            if out.exists() {
                return Err(format!("{} bestaat al; kies een nieuwe naam", out.display()));
            }
            let mut device = home.open()?;
            let case_id = device.resolve_case_id(&case_id).map_err(|e| describe(&e))?;
            let attachments = device.case(&case_id).map_err(|e| describe(&e))?.attachments;
            let matching: Vec<_> =
                attachments.iter().filter(|a| a.id.starts_with(&attachment_id)).collect();
            let file = match matching.as_slice() {
                [one] => (*one).clone(),
                [] => return Err(format!("geen bijlage {attachment_id} in deze casus")),
                _ => return Err(format!("{attachment_id} past bij meer dan één bijlage")),
            };
            let id = file.id;
            if !file.on_device {
                // Attached on another device: fetched now, continuing a cut-off download.
                let transport = super::relay(&device)?;
                let mut shown = 0u64;
                let done = device
                    .download_attachment(&transport, &case_id, &id, &mut |progress| {
                        let percent = (progress.done_bytes * 100)
                            .checked_div(progress.total_bytes)
                            .unwrap_or(100);
                        if percent >= shown + 10 || progress.done_bytes == progress.total_bytes {
                            shown = percent;
                            eprintln!("Bijlage ophalen: {percent}%");
                        }
                    })
                    .map_err(|e| describe(&e))?;
                eprintln!(
                    "Opgehaald: {} delen van de relay; {} stonden al op dit apparaat.",
                    done.fetched_chunks, done.held_chunks
                );
            }
            let content = device.attachment_content(&case_id, &id).map_err(|e| describe(&e))?;
            std::fs::write(&out, content).map_err(|e| format!("{}: {e}", out.display()))
        }
    }
}
