//! `eropaf demo`: the story told on real stores. Part 1: one worker, two replicas, a merge and
//! a weighed decision. Part 2: a team on an embedded relay — enrolment, a case both workers
//! visit offline, the merge on the supervisor's device, three decisions weighed (two
//! submitted; one approved, one escalated), a lost phone revoked, the resident's inzage.
//! Part 3: the supervisor's console, served until Ctrl-C (unless `--no-serve`).

mod assessments;
mod replicas;
mod team;

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};

use eropaf_core::sync::http::HttpTransport;
use eropaf_core::{Eropaf, Error, SyncReport};

use eropaf_terminal::{describe_relay, outln};

/// Every store of the demo opens with this passphrase.
const PASSPHRASE: &str = "demo-wachtwoord";

pub fn run(dir: Option<PathBuf>, no_serve: bool, listen: &str) -> Result<(), String> {
    let temp;
    let dir = match dir {
        Some(dir) if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) => {
            return Err(format!(
                "{} is niet leeg; kies een nieuwe of lege map voor de demo",
                dir.display()
            ));
        }
        Some(dir) => dir,
        None => {
            temp = tempfile::Builder::new()
                .prefix("eropaf-demo-")
                .tempdir()
                .map_err(|e| e.to_string())?;
            temp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("kan de map {} niet aanmaken: {e}", dir.display()))?;
    outln!("### Deel 1: één werker, twee kopieën van haar opslag");
    replicas::story(&dir).map_err(|e| e.message_nl())?;
    outln!("\n### Deel 2: het wijkteam synchroniseert via de relay op kantoor");
    let (relay, supervisor) = team::story(&dir)?;
    if no_serve {
        drop(relay);
        outln!(
            "\nKlaar. Mariekes opslag staat in {} (wachtwoord {PASSPHRASE}).",
            dir.join("supervisor").display()
        );
        return Ok(());
    }
    outln!("\n### Deel 3: de console voor leidinggevenden");
    outln!(
        "Marieke opent haar console; de relay van de demo blijft draaien zolang de console loopt."
    );
    let served = eropaf_console::serve(supervisor, listen);
    drop(relay);
    served
}

fn heading(text: &str) {
    outln!("\n== {text} ==");
}

fn at(year: i32, month: u32, day: u32, hour: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, 0, 0).single().unwrap_or_else(Utc::now)
}

/// Whether any file directly in `dir` holds `marker`.
fn dir_contains(dir: &Path, marker: &[u8]) -> bool {
    files_contain(dir, "", marker)
}

/// Whether any file directly in `dir` whose name starts with `prefix` holds `marker`.
fn files_contain(dir: &Path, prefix: &str, marker: &[u8]) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .any(|bytes| bytes.windows(marker.len()).any(|w| w == marker))
}

/// A core result in the worker's words.
pub trait Dutch<T> {
    fn nl(self) -> Result<T, String>;
}

impl<T> Dutch<T> for Result<T, Error> {
    fn nl(self) -> Result<T, String> {
        self.map_err(|e| e.message_nl())
    }
}

/// A sync in the story.
pub fn sync(device: &mut Eropaf, transport: &HttpTransport) -> Result<SyncReport, String> {
    let report = device.sync(transport, &mut |_| {}).map_err(|e| describe_relay(&e))?;
    // In the story nothing is forged: a refusal here is a fault, not a plot point.
    match report.refused.first() {
        Some(reason) => Err(format!("een envelop werd geweigerd: {reason}")),
        None => Ok(report),
    }
}
