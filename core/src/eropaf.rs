//! `Eropaf`: the one object a shell holds, one unlocked device store. A facade and nothing
//! more: every call is one line into the layer that does the work (`device/` for local work,
//! membership and the records, `sync/engine.rs` for a sync, over `doc/`, `checklist/`,
//! `office/`, `records/` and `store/`). Its methods are the core's public API, in one place.

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::checklist::{Framework, Item, Verdict};
use crate::crypto::DeviceId;
use crate::device::{
    AssessmentView, CaseAccess, Device, InzageExport, Member, PendingJoiner, QueueItem, TeamInfo,
};
use crate::model::{
    AccessRequest, AssignmentRole, Attachment, Case, CaseStatus, CaseSummary, CaseType,
    NewAttachment, NewVisit, Observation, Resident, Review, TeamPolicy,
};
use crate::office::reports::TeamReport;
use crate::office::review::{ReviewAction, ReviewState};
use crate::records::retention::RetentionItem;
use crate::records::Erasure;
use crate::store::Unlock;
use crate::sync::files::{DownloadProgress, Downloaded};
use crate::sync::report::{SyncProgress, SyncReport};
use crate::sync::transport::Transport;
use crate::team::invitation::Invitation;
use crate::team::roster::{DeviceCard, Role};
use crate::Result;

/// One unlocked device: its identity, its encrypted store, its team. Every call that records
/// something has reached the disk when it returns.
pub struct Eropaf {
    device: Device,
}

impl Eropaf {
    // ---- This device ----

    /// Makes a new device store in `dir`: identity, store key, and the shipped framework.
    pub fn create(dir: &Path, unlock: Unlock<'_>, device_name: &str) -> Result<Eropaf> {
        Device::create(dir, unlock, device_name).map(|device| Eropaf { device })
    }

    pub fn open(dir: &Path, unlock: Unlock<'_>) -> Result<Eropaf> {
        Device::open(dir, unlock).map(|device| Eropaf { device })
    }

    /// The device inside, for a sync that shares it step by step (`sync::shared`).
    pub(crate) fn device_mut(&mut self) -> &mut Device {
        &mut self.device
    }

    pub fn device_id(&self) -> DeviceId {
        self.device.device_id()
    }

    pub fn device_name(&self) -> &str {
        self.device.device_name()
    }

    pub fn store_dir(&self) -> &Path {
        self.device.store_dir()
    }

    // ---- Cases, visits, value frameworks and assessments ----

    pub fn new_case(&mut self, resident: &Resident, case_type: Option<CaseType>) -> Result<String> {
        self.device.new_case(resident, case_type)
    }

    /// All cases, by resident name. Reads only the sealed summaries.
    pub fn cases(&self) -> Result<Vec<CaseSummary>> {
        self.device.cases()
    }

    /// Cases whose resident name contains `query`, ignoring case and accents ("aisha" finds
    /// "Aïsha").
    pub fn search(&self, query: &str) -> Result<Vec<CaseSummary>> {
        self.device.search(query)
    }

    /// The full id of the one case whose id starts with `prefix` (at least 4 characters), so
    /// people can type a short id as git users do.
    pub fn resolve_case_id(&self, prefix: &str) -> Result<String> {
        self.device.resolve_case_id(prefix)
    }

    /// The full id of the one assessment of a case whose id starts with `prefix`.
    pub fn resolve_assessment_id(&mut self, case_id: &str, prefix: &str) -> Result<String> {
        self.device.resolve_assessment_id(case_id, prefix)
    }

    pub fn case(&mut self, case_id: &str) -> Result<Case> {
        self.device.case(case_id)
    }

    pub fn update_resident(&mut self, case_id: &str, resident: &Resident) -> Result<()> {
        self.device.update_resident(case_id, resident)
    }

    pub fn set_status(&mut self, case_id: &str, status: CaseStatus) -> Result<()> {
        self.device.set_status(case_id, status)
    }

    pub fn set_case_type(&mut self, case_id: &str, case_type: CaseType) -> Result<()> {
        self.device.set_case_type(case_id, case_type)
    }

    /// Settles a field that two devices set concurrently, by choosing one value (or a new
    /// one). Only fields that are in conflict can be resolved this way.
    pub fn resolve_conflict(&mut self, case_id: &str, path: &str, value: &str) -> Result<()> {
        self.device.resolve_conflict(case_id, path, value)
    }

    /// Records a visit; returns its id. Durable when this returns.
    pub fn record_visit(&mut self, case_id: &str, visit: &NewVisit) -> Result<String> {
        self.device.record_visit(case_id, visit)
    }

    pub fn edit_visit_note(&mut self, case_id: &str, visit_id: &str, note: &str) -> Result<()> {
        self.device.edit_visit_note(case_id, visit_id, note)
    }

    pub fn add_observation(
        &mut self,
        case_id: &str,
        visit_id: &str,
        observation: &Observation,
    ) -> Result<()> {
        self.device.add_observation(case_id, visit_id, observation)
    }

    /// Keeps a file (a photo of a letter, a scan of a signed consent) with a case or one of its
    /// visits. A photo loses the place it was taken; the bytes are sealed in chunks and
    /// stored with the case's reference to them in one transaction. Too large a file is
    /// refused before anything is written. Durable when this returns.
    pub fn attach(
        &mut self,
        case_id: &str,
        attachment: &NewAttachment,
        content: &[u8],
    ) -> Result<Attachment> {
        self.device.attach(case_id, attachment, content)
    }

    /// As `attach`, reading the file at `path` a chunk at a time (a 25 MB scan never sits in
    /// memory whole). Call it off the UI thread: it reads the file twice.
    pub fn attach_file(
        &mut self,
        case_id: &str,
        attachment: &NewAttachment,
        path: &Path,
    ) -> Result<Attachment> {
        self.device.attach_file(case_id, attachment, path)
    }

    /// A file kept with a case, whole and checked; the case's access log records the opening.
    pub fn attachment_content(&mut self, case_id: &str, attachment_id: &str) -> Result<Vec<u8>> {
        self.device.attachment_content(case_id, attachment_id)
    }

    /// The newest version of each framework installed for the team.
    pub fn frameworks(&self) -> Result<Vec<Framework>> {
        self.device.frameworks()
    }

    pub fn framework(&self, id: &str, version: u32) -> Result<Framework> {
        self.device.framework(id, version)
    }

    /// Adds a new framework version from its TOML source (malformed sources are refused with
    /// the line and the problem).
    pub fn install_framework(&mut self, source: &str) -> Result<Framework> {
        self.device.install_framework(source)
    }

    /// Starts weighing a decision for a case against a framework (the team's newest version
    /// of `framework_id`, or of the first framework when none is named).
    pub fn start_assessment(
        &mut self,
        case_id: &str,
        question: &str,
        framework_id: Option<&str>,
    ) -> Result<String> {
        self.device.start_assessment(case_id, question, framework_id)
    }

    /// Answers one step of the omgekeerde toets, or the proposed decision. Refused while an
    /// earlier item is still open: the law comes last.
    pub fn answer(
        &mut self,
        case_id: &str,
        assessment_id: &str,
        item: &Item,
        text: &str,
    ) -> Result<()> {
        self.device.answer(case_id, assessment_id, item, text)
    }

    pub fn set_verdict(
        &mut self,
        case_id: &str,
        assessment_id: &str,
        value_key: &str,
        verdict: Verdict,
        motivation: &str,
    ) -> Result<()> {
        self.device.set_verdict(case_id, assessment_id, value_key, verdict, motivation)
    }

    /// Marks the decision as departing from standard policy, optionally with an amount from
    /// the maatwerkbudget.
    pub fn set_maatwerk(
        &mut self,
        case_id: &str,
        assessment_id: &str,
        maatwerk: bool,
        budget_cents: Option<u64>,
    ) -> Result<()> {
        self.device.set_maatwerk(case_id, assessment_id, maatwerk, budget_cents)
    }

    /// The assessment, which item is next, what is missing, and its justification text.
    pub fn assessment(&mut self, case_id: &str, assessment_id: &str) -> Result<AssessmentView> {
        self.device.assessment(case_id, assessment_id)
    }

    /// The whole case document, for another replica to merge.
    pub fn export_case(&mut self, case_id: &str) -> Result<Vec<u8>> {
        self.device.export_case(case_id)
    }

    /// Merges a case document (or changes to it) from another replica; creates the case if
    /// this device did not have it. Returns the case id.
    pub fn merge_case(&mut self, bytes: &[u8]) -> Result<String> {
        self.device.merge_case(bytes)
    }

    // ---- The team: create or join it, invite and admit devices, revoke one, erase a case ----

    /// Makes this device the first supervisor of a new team, whose relay is at `relay_url`.
    /// Local only; the next sync registers the team at the relay with `registration_code`,
    /// the one-time code from the relay's operator.
    pub fn create_team(
        &mut self,
        team_name: &str,
        relay_url: &str,
        registration_code: &str,
    ) -> Result<TeamInfo> {
        self.device.create_team(team_name, relay_url, registration_code)
    }

    /// A supervisor invites a new device; the code works once, for a week. The relay learns
    /// only the public half of the invitation's one-time key.
    pub fn invite(&mut self, transport: &dyn Transport, role: Role) -> Result<Invitation> {
        self.device.invite(transport, role)
    }

    /// A new device asks to join with an invitation code and returns the safety code it must
    /// show: a supervisor admits it only after comparing that code with its own screen.
    pub fn join(&mut self, transport: &dyn Transport, invitation: &Invitation) -> Result<String> {
        self.device.join(transport, invitation)
    }

    /// The safety code this device showed when it asked to join, while it waits for admission.
    pub fn join_safety_code(&self) -> Result<Option<String>> {
        self.device.join_safety_code()
    }

    /// The relay address of this device's team, or of the team it asked to join.
    pub fn relay_url(&self) -> Result<Option<String>> {
        self.device.relay_url()
    }

    /// The devices waiting for this supervisor to admit them, as of its last sync.
    pub fn pending_joiners(&self) -> Result<Vec<PendingJoiner>> {
        self.device.pending_joiners()
    }

    /// Fetches the join requests from the relay and lists who waits; what `team pending`
    /// shows.
    pub fn refresh_pending_joiners(
        &mut self,
        transport: &dyn Transport,
    ) -> Result<Vec<PendingJoiner>> {
        self.device.refresh_pending_joiners(transport)
    }

    /// A supervisor admits a waiting device after comparing the safety code on the
    /// newcomer's screen with its own (`typed_code`): the device is added to the roster with
    /// the role the invitation named, and every epoch key this device holds is sealed to it.
    /// A code that differs admits nobody: the device in front of the supervisor is not the
    /// one that asked.
    pub fn admit(
        &mut self,
        transport: &dyn Transport,
        device_id: &str,
        typed_code: &str,
    ) -> Result<Member> {
        self.device.admit(transport, device_id, typed_code)
    }

    /// When this device, revoked from its team, wiped itself; `None` if it never did.
    pub fn wiped_at(&self) -> Result<Option<DateTime<Utc>>> {
        self.device.wiped_at()
    }

    /// A supervisor revokes a lost or retired device: the relay refuses it from now on, and a
    /// new epoch starts whose key reaches every other active device but not this one.
    pub fn revoke(&mut self, transport: &dyn Transport, device_id: &str) -> Result<()> {
        self.device.revoke(transport, device_id)
    }

    /// Erases a case (AVG): the relay tombstones its envelopes, and every device destroys the
    /// case and its keys at its next sync; this device does so now. Supervisors only.
    pub fn erase_case(&mut self, relay: Option<&dyn Transport>, case_id: &str) -> Result<()> {
        self.device.erase_case(relay, case_id)
    }

    /// The team's devices as the roster has them.
    pub fn members(&self) -> Vec<Member> {
        self.device.members()
    }

    pub fn team_info(&self) -> Result<Option<TeamInfo>> {
        self.device.team_info()
    }

    /// The card this device publishes: its keys, its name, the role asked for.
    pub fn device_card(&self, role: Role) -> Result<DeviceCard> {
        self.device.device_card(role)
    }

    // ---- Need-to-know: who may read a case ----

    /// A supervisor assigns `member` to a case as `role`; `until` makes it access for a
    /// period. The member's devices get the case's keys (its history too) at the next sync.
    pub fn assign(
        &mut self,
        case_id: &str,
        member: &str,
        role: AssignmentRole,
        until: Option<DateTime<Utc>>,
    ) -> Result<()> {
        self.device.assign(case_id, member, role, until)
    }

    /// A supervisor ends `member`'s assignment: what is written from now on is sealed without
    /// the member's devices, which forget the case at their next sync.
    pub fn unassign(&mut self, case_id: &str, member: &str) -> Result<()> {
        self.device.unassign(case_id, member)
    }

    /// A supervisor hands cases over from `from` to `to` in one action (every case of `from`
    /// when `case_ids` is empty); returns the cases handed over.
    pub fn handover(&mut self, from: &str, to: &str, case_ids: &[String]) -> Result<Vec<String>> {
        self.device.handover(from, to, case_ids)
    }

    /// Who may read a case: its assignments, its creator, the members holding its keys.
    pub fn case_access(&self, case_id: &str) -> Result<CaseAccess> {
        self.device.case_access(case_id)
    }

    /// Asks the supervisors for access to a case this device may not read, with a reason
    /// only they (and this member's devices) can read. Returns the request's id.
    pub fn request_access(&mut self, case_id: &str, reason: &str, urgent: bool) -> Result<String> {
        self.device.request_access(case_id, reason, urgent)
    }

    /// Access requests: all of them for a supervisor, her own for a member; oldest first.
    pub fn access_requests(&self) -> Result<Vec<AccessRequest>> {
        self.device.access_requests()
    }

    /// Grants a request for `days` days (supervisors only); logged in the case.
    pub fn grant_access(&mut self, request_id: &str, days: u32) -> Result<()> {
        self.device.grant_access(request_id, days)
    }

    /// Refuses a request (supervisors only); logged in the case.
    pub fn refuse_access(&mut self, request_id: &str) -> Result<()> {
        self.device.refuse_access(request_id)
    }

    // ---- The team's shared settings: policy, frameworks, member names ----

    /// The team's policy: review threshold, maatwerkbudget and retention periods.
    pub fn policy(&self) -> Result<TeamPolicy> {
        self.device.policy()
    }

    /// How long the phone apps stay unlocked without use, by the team's policy (the default
    /// outside a team). The FFI forgets the store key after it.
    pub fn idle_lock_after(&self) -> Result<std::time::Duration> {
        Ok(std::time::Duration::from_secs(u64::from(self.policy()?.lock_after_idle_minutes) * 60))
    }

    /// Changes the team's policy; supervisors only. Syncs to the team.
    pub fn set_policy(&mut self, policy: &TeamPolicy) -> Result<()> {
        self.device.set_policy(policy)
    }

    /// The TOML source of a framework version, for a supervisor to edit into the next one.
    pub fn framework_source(&self, id: &str, version: u32) -> Result<String> {
        self.device.framework_source(id, version)
    }

    /// Every installed framework version, old ones included.
    pub fn framework_versions(&self) -> Result<Vec<Framework>> {
        self.device.framework_versions()
    }

    /// The name of the person using this device, as the team's roster has it.
    pub fn member_name(&self) -> String {
        self.device.member_name()
    }

    /// Device id to member name, for showing who did what.
    pub fn member_names(&self) -> std::collections::HashMap<String, String> {
        self.device.member_names()
    }

    // ---- Review: submit, give a verdict, the queue ----

    /// Submits a complete assessment. It enters the review queue when it departs from policy
    /// or asks more maatwerkbudget than the team's threshold; otherwise it stands as decided.
    /// Resubmitting (after changes were requested) starts a new round of review.
    pub fn submit_assessment(&mut self, case_id: &str, assessment_id: &str) -> Result<ReviewState> {
        self.device.submit_assessment(case_id, assessment_id)
    }

    /// A supervisor's verdict on a submitted assessment. A request for changes and an
    /// escalation need a note; an escalation goes one rung up the framework's ladder. The new
    /// verdict replaces the verdicts this device knows of for the same submission, which is
    /// also how a supervisor settles a conflict between two verdicts.
    pub fn review_assessment(
        &mut self,
        case_id: &str,
        assessment_id: &str,
        action: ReviewAction,
        note: &str,
    ) -> Result<Review> {
        self.device.review_assessment(case_id, assessment_id, action, note)
    }

    /// Where an assessment stands: what a worker sees after sync.
    pub fn review_state(&mut self, case_id: &str, assessment_id: &str) -> Result<ReviewState> {
        self.device.review_state(case_id, assessment_id)
    }

    /// Everything waiting for a supervisor, oldest submission first: submitted assessments
    /// without a verdict, escalated ones, and ones with conflicting verdicts.
    pub fn review_queue(&mut self) -> Result<Vec<QueueItem>> {
        self.device.review_queue()
    }

    // ---- The records: access log, inzage, printing, erasure, retention, reports ----

    /// Reads a case for a person and records that in its access log (repeated opens within
    /// a quarter of an hour count once). `on_behalf` names whom it is for, when not for the
    /// member's own work.
    pub fn open_case(&mut self, case_id: &str, on_behalf: Option<&str>) -> Result<Case> {
        self.device.open_case(case_id, on_behalf)
    }

    /// Records that a case was printed.
    pub fn record_print(&mut self, case_id: &str, on_behalf: Option<&str>) -> Result<()> {
        self.device.record_print(case_id, on_behalf)
    }

    /// The resident's inzage as one HTML document. The export itself is logged first, so the
    /// document shows it too.
    pub fn export_inzage(&mut self, case_id: &str, on_behalf: Option<&str>) -> Result<String> {
        self.device.export_inzage(case_id, on_behalf)
    }

    /// The inzage with the case's files in a folder beside the HTML at `html`, linked from it
    /// (fetch files attached elsewhere first: `download_attachment`).
    pub fn export_inzage_with_files(
        &mut self,
        case_id: &str,
        on_behalf: Option<&str>,
        html: &Path,
    ) -> Result<InzageExport> {
        self.device.export_inzage_with_files(case_id, on_behalf, html)
    }

    /// The same document, for printing: logged as a print.
    pub fn print_case(&mut self, case_id: &str, on_behalf: Option<&str>) -> Result<String> {
        self.device.print_case(case_id, on_behalf)
    }

    /// Erases a case everywhere (crypto-shredding, see `erase_case`) and records the erasure,
    /// by case id only, in the team document's log of erasures.
    pub fn erase_case_logged(
        &mut self,
        relay: Option<&dyn Transport>,
        case_id: &str,
        on_behalf: Option<&str>,
    ) -> Result<()> {
        self.device.erase_case_logged(relay, case_id, on_behalf)
    }

    /// The erasures the team recorded, oldest first.
    pub fn erasures(&self) -> Result<Vec<Erasure>> {
        self.device.erasures()
    }

    /// Closed cases past their retention date at `now`, to be erased.
    pub fn cases_due_for_erasure(&self, now: DateTime<Utc>) -> Result<Vec<RetentionItem>> {
        self.device.cases_due_for_erasure(now)
    }

    /// The team's reports over every case on this device, without names.
    pub fn team_report(&mut self) -> Result<TeamReport> {
        self.device.team_report()
    }

    // ---- Sync with the team's relay ----

    pub fn sync(
        &mut self,
        transport: &dyn Transport,
        progress: &mut dyn FnMut(SyncProgress),
    ) -> Result<SyncReport> {
        self.device.sync(transport, progress)
    }

    /// Fetches the chunks of a file this device does not hold yet (files attached elsewhere
    /// come down when opened); continues a download that was cut off.
    pub fn download_attachment(
        &mut self,
        transport: &dyn Transport,
        case_id: &str,
        attachment_id: &str,
        progress: &mut dyn FnMut(DownloadProgress),
    ) -> Result<Downloaded> {
        self.device.download_attachment(transport, case_id, attachment_id, progress)
    }

    /// On Wi-Fi, when the team's policy says so: every file of this device's cases that is not
    /// here yet comes down. Returns how many did.
    pub fn fetch_files(
        &mut self,
        transport: &dyn Transport,
        unmetered: bool,
        progress: &mut dyn FnMut(DownloadProgress),
    ) -> Result<u32> {
        self.device.fetch_files(transport, unmetered, progress)
    }

    /// Commits since the store was opened that queued something for the team: a change to
    /// this number is a local change for the sync scheduler (`sync::auto`).
    pub fn outgoing_commits(&self) -> u64 {
        self.device.store.outgoing_commits()
    }

    /// What waits on this device for the next sync (changes, files) and for which cases.
    pub fn unsent(&self) -> Result<crate::sync::report::Unsent> {
        self.device.unsent()
    }

    /// For the founder of a team the relay has not registered yet (its code was refused or
    /// already used): the next sync registers it with this new code from the relay's operator.
    pub fn set_registration_code(&mut self, code: &str) -> Result<()> {
        self.device.set_registration_code(code)
    }
}
