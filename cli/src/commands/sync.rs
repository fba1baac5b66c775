//! `eropaf sync`: push this device's outbox to the team's relay and pull what others wrote,
//! with a progress line on stderr when a person watches a terminal. The core does the work;
//! this module reports it.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use eropaf_core::{Eropaf, SyncProgress, SyncReport};

use crate::home::Home;
use eropaf_terminal::{self as print, describe, describe_relay, outln};

pub fn run(home: &Home, json: bool) -> Result<(), String> {
    let mut device = home.open()?;
    let was_member = device.team_info().map_err(|e| describe(&e))?.is_some();
    let report = sync(&mut device, !json)?;
    if json {
        return print::json(&report);
    }
    if let (false, Some(team)) = (was_member, device.team_info().map_err(|e| describe(&e))?) {
        outln!("Toegelaten: dit apparaat is nu lid van team {}.", team.team_name);
    }
    print_report(&device, &report)
}

/// One sync over HTTP to the relay this device's team uses.
pub fn sync(device: &mut Eropaf, show_progress: bool) -> Result<SyncReport, String> {
    let transport = super::relay(device)?;
    let mut line = ProgressLine { enabled: show_progress && std::io::stderr().is_terminal() };
    let result = device.sync(&transport, &mut |progress| line.show(progress));
    line.clear();
    result.map_err(|e| describe_relay(&e))
}

pub fn print_report(device: &Eropaf, report: &SyncReport) -> Result<(), String> {
    let names: HashMap<String, String> = device
        .cases()
        .map_err(|e| describe(&e))?
        .into_iter()
        .map(|c| (c.id, c.resident.name))
        .collect();
    print::sync_report(report, &names);
    Ok(())
}

/// One line on stderr, rewritten in place; cleared when the sync ends, so the report (or
/// an error) starts on a clean line.
struct ProgressLine {
    enabled: bool,
}

impl ProgressLine {
    fn show(&mut self, progress: SyncProgress) {
        if !self.enabled {
            return;
        }
        let text = match progress {
            SyncProgress::Roster => "teamlijst en sleutels bijwerken…".to_string(),
            SyncProgress::Pushing { done, total } => format!("versturen {done} van {total}…"),
            SyncProgress::Pulling { applied } => format!("ophalen, {applied} toegepast…"),
            SyncProgress::Uploading { done, total } => {
                format!("bijlagen versturen, deel {done} van {total}…")
            }
        };
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2KSynchroniseren: {text}");
        let _ = stderr.flush();
    }

    fn clear(&mut self) {
        if self.enabled {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        }
    }
}
