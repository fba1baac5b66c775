//! `eropaf framework …`: list, show and install the team's value frameworks.

use std::path::PathBuf;

use clap::Subcommand;
use eropaf_core::checklist::Framework;

use crate::home::Home;
use eropaf_terminal::{self as print, describe, outln};

#[derive(Subcommand)]
pub enum FrameworkCommand {
    /// The newest version of each framework.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Steps, values and escalation ladder of a framework.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Check a framework file without installing it.
    Check { file: PathBuf },
    /// Install a new framework version from a TOML file.
    Install { file: PathBuf },
}

pub fn run(home: &Home, command: FrameworkCommand) -> Result<(), String> {
    if let FrameworkCommand::Check { file } = &command {
        let framework = Framework::parse(&read(file)?).map_err(|e| describe(&e))?;
        outln!("In orde: {} versie {}", framework.title, framework.version);
        return Ok(());
    }
    let mut device = home.open()?;
    match command {
        FrameworkCommand::List { json } => {
            let frameworks = device.frameworks().map_err(|e| describe(&e))?;
            if json {
                return print::json(&frameworks);
            }
            for f in frameworks {
                outln!("{}  versie {}  {}", f.id, f.version, f.title);
            }
            Ok(())
        }
        FrameworkCommand::Show { id, json } => {
            let framework = device
                .frameworks()
                .map_err(|e| describe(&e))?
                .into_iter()
                .find(|f| f.id == id)
                .ok_or_else(|| format!("Waardenkader {id} bestaat niet op dit apparaat."))?;
            if json {
                return print::json(&framework);
            }
            outln!("{} (versie {})", framework.title, framework.version);
            outln!("\nOmgekeerde toets:");
            for (n, step) in framework.steps.iter().enumerate() {
                outln!("{}. {} [{}] — {}", n + 1, step.title, step.key, step.question);
            }
            outln!("\nWaarden:");
            for value in &framework.values {
                outln!(
                    "- {} [{}] ({}): {}",
                    value.title,
                    value.key,
                    value.group,
                    value.description
                );
            }
            outln!("\nEscalatieladder:");
            for rung in &framework.escalation {
                outln!("- {} [{}]", rung.title, rung.key);
            }
            Ok(())
        }
        FrameworkCommand::Install { file } => {
            let framework = device.install_framework(&read(&file)?).map_err(|e| describe(&e))?;
            outln!("Geïnstalleerd: {} versie {}", framework.title, framework.version);
            Ok(())
        }
        FrameworkCommand::Check { .. } => Ok(()),
    }
}

fn read(file: &PathBuf) -> Result<String, String> {
    std::fs::read_to_string(file).map_err(|e| format!("kan {} niet lezen: {e}", file.display()))
}
