//! What the office does with the records as a whole: opening a case with an access-log entry,
//! the resident's inzage export, printing, erasure with its trace in the team document, the
//! retention list, and the team's reports.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::Device;
use crate::access_log::{AccessAction, AccessEntry};
use crate::doc::Erasure;
use crate::inzage::{self, InzageContext};
use crate::model::Case;
use crate::reports::{self, TeamReport};
use crate::retention::{self, RetentionItem};
use crate::sync::transport::Transport;
use crate::{Error, Result};

/// What an inzage export with files wrote beside its HTML.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InzageExport {
    pub files: Vec<PathBuf>,
    /// Files of the case not on this device, named in the HTML as not in the export.
    pub missing: Vec<String>,
}

/// A file name safe on every file system: letters, digits, `.`, `-` and `_` kept, anything
/// else a `-`, at most 80 characters, never empty or starting with a dot.
fn safe_file_name(name: &str) -> String {
    let mut safe: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '-' })
        .take(80)
        .collect();
    if safe.is_empty() || safe.starts_with('.') {
        safe.insert_str(0, "bijlage");
    }
    safe
}

impl Device {
    pub fn open_case(&mut self, case_id: &str, on_behalf: Option<&str>) -> Result<Case> {
        self.log_access(case_id, AccessAction::Open, on_behalf)?;
        self.case(case_id)
    }

    pub fn record_print(&mut self, case_id: &str, on_behalf: Option<&str>) -> Result<()> {
        self.log_access(case_id, AccessAction::Print, on_behalf)
    }

    pub fn export_inzage(&mut self, case_id: &str, on_behalf: Option<&str>) -> Result<String> {
        self.render_logged(case_id, AccessAction::Export, on_behalf, None)
    }

    /// The inzage with the case's files: the HTML at `html`, each file on this device in a
    /// folder beside it (`NAME-bijlagen/`), linked from the list of files. A file not on this
    /// device is named as missing (the caller fetches files first: `download_attachment`).
    /// One access-log entry for the whole export. Nothing is left half-written: a file that
    /// does not check out is removed and the export fails.
    pub fn export_inzage_with_files(
        &mut self,
        case_id: &str,
        on_behalf: Option<&str>,
        html: &Path,
    ) -> Result<InzageExport> {
        let files = self.case(case_id)?.attachments;
        let stem = html.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let folder_name = format!("{stem}-bijlagen");
        let folder = html.with_file_name(&folder_name);
        let cannot = |path: &Path, e: std::io::Error| {
            Error::invalid("export", format!("kan {} niet schrijven: {e}", path.display()))
        };
        let mut links = HashMap::new();
        let mut export = InzageExport::default();
        for (n, file) in files.iter().enumerate() {
            if !file.on_device {
                export.missing.push(file.name.clone());
                continue;
            }
            std::fs::create_dir_all(&folder).map_err(|e| cannot(&folder, e))?;
            let name = format!("{:02}-{}", n + 1, safe_file_name(&file.name));
            let path = folder.join(&name);
            let written = std::fs::File::create_new(&path)
                .map_err(|e| cannot(&path, e))
                .and_then(|out| self.write_attachment(case_id, &file.id, out));
            if let Err(e) = written {
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
            links.insert(file.id.clone(), format!("{folder_name}/{name}"));
            export.files.push(path);
        }
        let page = self.render_logged(case_id, AccessAction::Export, on_behalf, Some(&links))?;
        std::fs::write(html, page).map_err(|e| cannot(html, e))?;
        Ok(export)
    }

    pub fn print_case(&mut self, case_id: &str, on_behalf: Option<&str>) -> Result<String> {
        self.render_logged(case_id, AccessAction::Print, on_behalf, None)
    }

    pub(crate) fn render_logged(
        &mut self,
        case_id: &str,
        action: AccessAction,
        on_behalf: Option<&str>,
        file_links: Option<&HashMap<String, String>>,
    ) -> Result<String> {
        self.log_access(case_id, action, on_behalf)?;
        let case = self.case(case_id)?;
        let frameworks = self.team_doc()?.frameworks()?;
        let members = self.member_names();
        let team_name =
            self.team_info()?.map(|t| t.team_name).unwrap_or_else(|| "Eropaf".to_string());
        let generated_by = self.member_name();
        Ok(inzage::render_html(
            &case,
            &InzageContext {
                team_name: &team_name,
                generated_at: Utc::now(),
                generated_by: &generated_by,
                members: &members,
                frameworks: &frameworks,
                file_links,
            },
        ))
    }

    pub fn erase_case_logged(
        &mut self,
        relay: Option<&dyn Transport>,
        case_id: &str,
        on_behalf: Option<&str>,
    ) -> Result<()> {
        self.erase_case(relay, case_id)?;
        let entry = self.access_entry(AccessAction::Erase, on_behalf);
        self.write_team_doc(|doc| doc.record_erasure(case_id, &entry))
    }

    pub fn erasures(&self) -> Result<Vec<Erasure>> {
        self.team_doc()?.erasures()
    }

    pub fn cases_due_for_erasure(&self, now: DateTime<Utc>) -> Result<Vec<RetentionItem>> {
        Ok(retention::due_for_erasure(&self.cases()?, &self.policy()?, now))
    }

    pub fn team_report(&mut self) -> Result<TeamReport> {
        let mut cases = Vec::new();
        for summary in self.cases()? {
            cases.push(self.case(&summary.id)?);
        }
        let frameworks = self.team_doc()?.frameworks()?;
        Ok(reports::build(&cases, &frameworks, &self.policy()?, Utc::now()))
    }

    pub(crate) fn log_access(
        &mut self,
        case_id: &str,
        action: AccessAction,
        on_behalf: Option<&str>,
    ) -> Result<()> {
        let entry = self.access_entry(action, on_behalf);
        self.write_case(case_id, |doc| doc.log_access(&entry)).map(|_| ())
    }

    pub(crate) fn access_entry(
        &self,
        action: AccessAction,
        on_behalf: Option<&str>,
    ) -> AccessEntry {
        AccessEntry {
            at: Utc::now(),
            device: self.device_id().to_hex(),
            member: self.member_name(),
            action,
            on_behalf: on_behalf.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::review::tests::{device, weighed};
    use crate::model::{CaseStatus, CaseType, NewVisit, Resident};
    use crate::review::ReviewAction;
    use chrono::{Duration, Utc};

    #[test]
    fn opening_twice_is_one_entry_and_every_export_is_logged() {
        let dir = tempfile::tempdir().unwrap();
        let mut marieke = device(dir.path());
        let case = marieke.new_case(&Resident::named("Willem"), None).unwrap();
        marieke.open_case(&case, None).unwrap();
        let opened = marieke.open_case(&case, None).unwrap();
        assert_eq!(opened.access_log.len(), 1, "a repeated open within the window coalesces");
        marieke.open_case(&case, Some("bezwaarcommissie")).unwrap();
        marieke.export_inzage(&case, Some("inzageverzoek bewoner")).unwrap();
        let printed = marieke.print_case(&case, None).unwrap();
        assert!(printed.contains("Afgedrukt"), "the printout lists itself");
        let log = marieke.case(&case).unwrap().access_log;
        let actions: Vec<&str> = log.iter().map(|e| e.action.key()).collect();
        assert_eq!(actions, ["open", "open", "export", "print"]);
        assert_eq!(log[1].on_behalf.as_deref(), Some("bezwaarcommissie"));
        assert!(log
            .iter()
            .all(|e| e.member == "Marieke" && e.device == marieke.device_id().to_hex()));
    }

    #[test]
    fn the_inzage_holds_this_case_and_nothing_of_another() {
        let dir = tempfile::tempdir().unwrap();
        let mut marieke = device(dir.path());
        let willem = marieke.new_case(&Resident::named("Willem Bakker"), None).unwrap();
        let aisha = marieke.new_case(&Resident::named("Aïsha El Amrani"), None).unwrap();
        let note = |text: &str| NewVisit { note: text.into(), ..NewVisit::default() };
        marieke.record_visit(&willem, &note("Auto <staat> voor de deur")).unwrap();
        marieke.record_visit(&aisha, &note("Huur van 750 euro")).unwrap();
        let id = weighed(&mut marieke, &willem, "Telt de auto mee als vermogen?", true, None);
        marieke.submit_assessment(&willem, &id).unwrap();
        marieke.review_assessment(&willem, &id, ReviewAction::Approve, "Goed onderbouwd").unwrap();
        marieke.open_case(&willem, None).unwrap();

        let html = marieke.export_inzage(&willem, Some("inzageverzoek")).unwrap();
        for expected in [
            "Willem Bakker",
            "Auto &lt;staat&gt; voor de deur",
            "Telt de auto mee als vermogen?",
            "Weging van de waarden",
            "Goed onderbouwd",
            "Geopend",
            "Geëxporteerd",
            "inzageverzoek",
        ] {
            assert!(html.contains(expected), "missing {expected:?}");
        }
        for foreign in ["Aïsha", "750 euro", &aisha] {
            assert!(!html.contains(foreign), "another case leaked: {foreign:?}");
        }
    }

    #[test]
    fn closed_cases_are_listed_once_their_retention_ends() {
        let dir = tempfile::tempdir().unwrap();
        let mut marieke = device(dir.path());
        let wmo = marieke.new_case(&Resident::named("A"), Some(CaseType::Wmo)).unwrap();
        let jeugd = marieke.new_case(&Resident::named("B"), Some(CaseType::Jeugd)).unwrap();
        let open = marieke.new_case(&Resident::named("C"), Some(CaseType::Wmo)).unwrap();
        marieke.set_status(&wmo, CaseStatus::Closed).unwrap();
        marieke.set_status(&jeugd, CaseStatus::Closed).unwrap();
        let due = |device: &super::Device, now| -> Vec<String> {
            device.cases_due_for_erasure(now).unwrap().into_iter().map(|i| i.case_id).collect()
        };
        let now = Utc::now();
        assert!(due(&marieke, now + Duration::days(365 * 14)).is_empty());
        assert_eq!(due(&marieke, now + Duration::days(365 * 16)), std::slice::from_ref(&wmo));
        assert_eq!(due(&marieke, now + Duration::days(365 * 21)), [wmo.clone(), jeugd.clone()]);
        assert!(!due(&marieke, now + Duration::days(365 * 30)).contains(&open));
        marieke.set_status(&wmo, CaseStatus::Open).unwrap();
        assert_eq!(
            due(&marieke, now + Duration::days(365 * 21)),
            [jeugd],
            "reopening stops the clock"
        );
    }

    #[test]
    fn the_report_counts_values_and_names_nobody() {
        let dir = tempfile::tempdir().unwrap();
        let mut marieke = device(dir.path());
        let willem = marieke.new_case(&Resident::named("Willem Bakker"), None).unwrap();
        let piet = marieke.new_case(&Resident::named("Piet Jansen"), None).unwrap();
        let a = weighed(
            &mut marieke,
            &willem,
            "Telt Willems auto mee als vermogen?",
            true,
            Some(40_000),
        );
        let b =
            weighed(&mut marieke, &piet, "Telt de auto van Piet mee als vermogen?", false, None);
        marieke.submit_assessment(&willem, &a).unwrap();
        marieke.submit_assessment(&piet, &b).unwrap();
        marieke.review_assessment(&willem, &a, ReviewAction::Approve, "").unwrap();
        let report = marieke.team_report().unwrap();
        assert_eq!((report.decisions, report.maatwerk), (2, 1));
        assert!((report.maatwerk_share() - 0.5).abs() < 1e-9);
        let rechtmatig = report.values.iter().find(|v| v.key == "rechtmatig").unwrap();
        assert_eq!(rechtmatig.supports, 2);
        assert_eq!(report.reviews.approved, 1);
        assert_eq!(report.reviews.turnaround_hours.len(), 1);
        assert_eq!(report.budget.spent_cents, 40_000);
        assert_eq!(report.similar.len(), 1, "same question, different outcome, side by side");
        let json = serde_json::to_string(&report).unwrap();
        for name in ["Willem", "Piet", "Bakker", "Jansen", "Marieke"] {
            assert!(!json.contains(name), "{name} in the report");
        }
    }
}
