//! The `Eropaf` object the apps hold: one unlocked device store and everything a worker does
//! with it. Local calls are synchronous (they are fast and durable when they return); calls
//! that reach the relay are async and run off the caller's thread.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use eropaf_core::sync::http::HttpTransport;
use eropaf_core::sync::schedule::Event;
use eropaf_core::sync::transport::Transport;
use eropaf_core::{Eropaf as Core, Invitation as CoreInvitation};

use crate::auto_sync::{Runner, SyncStateObserver, SyncTiming};

use crate::boundary::{guard, lock, notify, off_thread};
use crate::error::{EropafError, Result};
use crate::records::{
    AccessRequest, AssessmentView, AssignmentRole, Attachment, Case, CaseAccess, CaseStatus,
    CaseSummary, CaseType, ChecklistItem, DownloadReport, Framework, Invitation, Member,
    NewAttachment, NewObservation, NewVisit, PendingJoiner, QueueItem, Resident, Review,
    ReviewAction, ReviewStatus, Role, SyncProgress, SyncReport, TeamInfo, UnsentWork, Verdict,
};
use crate::session::Session;
use crate::Unlock;

/// Told when sync progresses; for a progress bar. Called on a background thread while the
/// sync holds the store: post to the UI thread, do not call back into `Eropaf` from here.
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    fn on_progress(&self, progress: SyncProgress);
}

/// Told how far a file's download is, for a progress bar: bytes on this phone of its size.
#[uniffi::export(with_foreign)]
pub trait DownloadListener: Send + Sync {
    fn on_progress(&self, done_bytes: u64, total_bytes: u64);
}

/// Told when something arriving from elsewhere (a sync, a merged document) changed cases on
/// this device, so the app can refresh what it shows.
#[uniffi::export(with_foreign)]
pub trait ChangeObserver: Send + Sync {
    fn cases_changed(&self, case_ids: Vec<String>);
}

#[derive(uniffi::Object)]
pub struct Eropaf {
    /// The unlocked core while in use; a running sync holds its own handle on it.
    session: Arc<Session>,
    device_id: String,
    device_name: String,
    observer: Arc<Mutex<Option<Arc<dyn ChangeObserver>>>>,
    /// Syncing by itself once the app started it (`start_auto_sync`).
    auto_sync: Mutex<Option<Arc<Runner>>>,
}

impl Drop for Eropaf {
    fn drop(&mut self) {
        if let Some(runner) = self.auto_sync.lock().ok().and_then(|mut r| r.take()) {
            runner.stop();
        }
    }
}

#[uniffi::export]
impl Eropaf {
    /// Makes a new device store in `dir`: identity, store key, the shipped value framework.
    #[uniffi::constructor]
    pub fn create(dir: String, unlock: Unlock, device_name: String) -> Result<Arc<Eropaf>> {
        guard(|| {
            let dir = store_dir(&dir)?;
            let core = unlock.with(|unlock| Core::create(&dir, unlock, &device_name))?;
            Ok(Eropaf::wrap(dir, core))
        })
    }

    /// Opens the device store in `dir`. A wrong key or passphrase is `Locked` and reads
    /// nothing.
    #[uniffi::constructor]
    pub fn open(dir: String, unlock: Unlock) -> Result<Arc<Eropaf>> {
        guard(|| {
            let dir = store_dir(&dir)?;
            let core = unlock.with(|unlock| Core::open(&dir, unlock))?;
            Ok(Eropaf::wrap(dir, core))
        })
    }

    // ---- locking ----

    /// Locks now: the store key leaves memory and every call answers `Locked` until
    /// `unlock`. For when the app goes to the background or the worker taps "vergrendel". A
    /// sync in flight finishes first, with its own handle.
    pub fn lock(&self) {
        self.session.lock();
    }

    /// Whether the store is locked, by `lock` or after the team's idle time.
    pub fn is_locked(&self) -> bool {
        self.session.is_locked()
    }

    /// How long the store stays unlocked without use, by the team's policy (seconds). A shell
    /// may match its platform key's validity to it.
    pub fn idle_lock_secs(&self) -> u64 {
        self.session.idle_after().as_secs()
    }

    /// Unlocks again after `lock` or the idle time, through the same kinds of unlock as
    /// `open`: with a platform key store that requires the user's presence, the app asks for
    /// biometric or PIN first. A wrong key leaves it locked (`Locked`); wrong passphrases
    /// count towards the team's limit. Nothing happens when already unlocked.
    pub async fn unlock(&self, unlock: Unlock) -> Result<()> {
        let session = Arc::clone(&self.session);
        let me = self.device_id.clone();
        off_thread(move || {
            if !session.is_locked() {
                return Ok(());
            }
            // A sync that outlived the lock still holds the old core: let it finish, so the
            // store is never open twice.
            if let Some(in_use) = session.still_in_use() {
                drop(lock(&in_use)?);
            }
            let core = unlock.with(|unlock| Core::open(session.dir(), unlock))?;
            if core.device_id().to_hex() != me {
                return Err(EropafError::invalid(
                    "dir",
                    "in deze map staat nu de opslag van een ander apparaat",
                ));
            }
            session.unlocked(core);
            Ok(())
        })
        .await
    }

    pub fn device_id(&self) -> String {
        self.device_id.clone()
    }

    pub fn device_name(&self) -> String {
        self.device_name.clone()
    }

    // ---- the team ----

    /// This device's team, or none before it created or joined one.
    pub fn team_info(&self) -> Result<Option<TeamInfo>> {
        self.with_core(|core| Ok(core.team_info()?.map(Into::into)))
    }

    /// Makes this device the first supervisor of a new team at the relay `relay_url`. Local;
    /// the next sync registers the team at the relay with `registration_code`, the one-time
    /// code from the relay's operator.
    pub fn create_team(
        &self,
        team_name: String,
        relay_url: String,
        registration_code: String,
    ) -> Result<TeamInfo> {
        self.with_core(|core| {
            Ok(core.create_team(&team_name, &relay_url, &registration_code)?.into())
        })
    }

    /// The team's devices, revoked ones included (marked).
    pub fn members(&self) -> Result<Vec<Member>> {
        let me = self.device_id.clone();
        self.with_core(|core| Ok(core.members().into_iter().map(|m| Member::new(m, &me)).collect()))
    }

    /// A supervisor invites a device; the code works once, for a week.
    pub async fn invite(&self, role: Role) -> Result<Invitation> {
        self.with_relay(move |core, relay| Ok(core.invite(relay, role.into())?.into())).await
    }

    /// Asks to join the team of an invitation code and returns the safety code to show: a
    /// supervisor admits this device only after comparing it with its own screen. Until
    /// then `sync` reports `waiting_for_approval`.
    pub async fn join(&self, code: String) -> Result<String> {
        let core = self.session.core()?;
        off_thread(move || {
            let invitation = CoreInvitation::parse(&code).map_err(eropaf_core::Error::from)?;
            let relay = HttpTransport::new(&invitation.relay_url)?;
            Ok(lock(&core)?.join(&relay, &invitation)?)
        })
        .await
    }

    /// The safety code this device showed when it asked to join, while it waits.
    pub fn join_safety_code(&self) -> Result<Option<String>> {
        self.with_core(|core| core.join_safety_code())
    }

    /// A supervisor's list of devices waiting for admission, fetched from the relay.
    pub async fn pending_joiners(&self) -> Result<Vec<PendingJoiner>> {
        self.with_relay(move |core, relay| {
            Ok(core.refresh_pending_joiners(relay)?.into_iter().map(Into::into).collect())
        })
        .await
    }

    /// A supervisor admits a waiting device after comparing safety codes; `code` is what the
    /// newcomer's screen shows. A code that differs admits nobody (`Refused`).
    pub async fn admit(&self, device_id: String, code: String) -> Result<Member> {
        let me = self.device_id.clone();
        self.with_relay(move |core, relay| {
            Ok(Member::new(core.admit(relay, &device_id, &code)?, &me))
        })
        .await
    }

    /// A supervisor revokes a lost or retired device: the relay refuses it from now on and
    /// it cannot read anything written afterwards.
    pub async fn revoke(&self, device_id: String) -> Result<()> {
        self.with_relay(move |core, relay| Ok(core.revoke(relay, &device_id)?)).await
    }

    /// A supervisor assigns `member` to a case as `role`, for `days` days when given; the
    /// member's devices get its keys and history at their next sync.
    pub fn assign(
        &self,
        case_id: String,
        member: String,
        role: AssignmentRole,
        days: Option<u32>,
    ) -> Result<()> {
        let until = days.map(|d| chrono::Utc::now() + chrono::Duration::days(i64::from(d)));
        self.with_core(|core| core.assign(&case_id, &member, role, until))
    }

    /// A supervisor ends `member`'s assignment: her devices forget the case.
    pub fn unassign(&self, case_id: String, member: String) -> Result<()> {
        self.with_core(|core| core.unassign(&case_id, &member))
    }

    /// A supervisor moves cases (all of `from`'s when `case_ids` is empty) to `to`.
    pub fn handover(&self, from: String, to: String, case_ids: Vec<String>) -> Result<Vec<String>> {
        self.with_core(|core| core.handover(&from, &to, &case_ids))
    }

    /// Who may read a case.
    pub fn case_access(&self, case_id: String) -> Result<CaseAccess> {
        self.with_core(|core| core.case_access(&case_id).map(CaseAccess::from))
    }

    /// Asks the supervisors for access to a case this device may not read; the reason is
    /// sealed to them and this member's devices. Returns the request's id.
    pub fn request_access(&self, case_id: String, reason: String, urgent: bool) -> Result<String> {
        self.with_core(|core| core.request_access(&case_id, &reason, urgent))
    }

    /// Access requests: all of them for a supervisor, her own for a member; oldest first.
    pub fn access_requests(&self) -> Result<Vec<AccessRequest>> {
        self.with_core(|core| {
            Ok(core.access_requests()?.into_iter().map(AccessRequest::from).collect())
        })
    }

    /// A supervisor grants a request for `days` days; logged in the case.
    pub fn grant_access(&self, request_id: String, days: u32) -> Result<()> {
        self.with_core(|core| core.grant_access(&request_id, days))
    }

    /// A supervisor refuses a request; logged in the case.
    pub fn refuse_access(&self, request_id: String) -> Result<()> {
        self.with_core(|core| core.refuse_access(&request_id))
    }

    /// When this device, revoked, wiped itself; the app then shows only that.
    pub fn wiped_at(&self) -> Result<Option<SystemTime>> {
        self.with_core(|core| Ok(core.wiped_at()?.map(crate::records::time)))
    }

    /// Erases a case everywhere (AVG): this device now, the others at their next sync.
    /// Supervisors only.
    pub async fn erase_case(&self, case_id: String) -> Result<()> {
        let core = self.session.core()?;
        off_thread(move || {
            let mut core = lock(&core)?;
            // Outside a team there is no relay to tell: the case is only forgotten here.
            let relay = core.relay_url()?.as_deref().map(HttpTransport::new).transpose()?;
            let relay = relay.as_ref().map(|relay| relay as &dyn Transport);
            // Logged in the team's record of erasures, as the console logs its own.
            Ok(core.erase_case_logged(relay, &case_id, None)?)
        })
        .await
    }

    /// Pushes this device's changes and pulls the team's, reporting progress to `listener`.
    /// The change observer hears which cases changed.
    pub async fn sync(&self, listener: Option<Arc<dyn SyncListener>>) -> Result<SyncReport> {
        let report = self
            .with_relay_shared(move |core, relay| {
                Ok(Core::sync_sharing(core, relay, &mut |progress| {
                    if let Some(listener) = &listener {
                        notify(|| listener.on_progress(progress));
                    }
                })?)
            })
            .await?;
        self.cases_changed(&report.changed_cases);
        Ok(report.into())
    }

    /// Syncs by itself from now on, as the core's scheduler decides: shortly after a change,
    /// when the network comes back, every few minutes while the app is in use, less often
    /// while the relay fails. The observer hears the state whenever a sync starts or ends;
    /// the change observer hears which cases changed. Calling it again starts afresh.
    pub fn start_auto_sync(
        &self,
        timing: Option<SyncTiming>,
        observer: Option<Arc<dyn SyncStateObserver>>,
    ) {
        let changes = Arc::clone(&self.observer);
        let runner = Runner::start(
            Arc::downgrade(&self.session),
            timing.unwrap_or_default().into(),
            observer,
            Box::new(move |case_ids: &[String]| tell_changed(&changes, case_ids)),
        );
        let old = self.auto_sync.lock().ok().and_then(|mut slot| slot.replace(runner));
        if let Some(old) = old {
            old.stop();
        }
    }

    /// Stops syncing by itself (a sync in flight finishes).
    pub fn stop_auto_sync(&self) {
        if let Some(runner) = self.auto_sync.lock().ok().and_then(|mut r| r.take()) {
            runner.stop();
        }
    }

    /// The shell's report of the network: `online` false stops all tries until it is back.
    pub fn report_network(&self, online: bool) {
        self.auto_sync_event(if online { Event::NetworkUp } else { Event::NetworkDown });
    }

    /// The shell's report of the app's life: in use (foreground) or not (background, where
    /// what is unsent leaves at once).
    pub fn report_in_use(&self, in_use: bool) {
        self.auto_sync_event(if in_use { Event::Foreground } else { Event::Background });
    }

    /// The observer told when a sync or a merge changed cases; none to stop.
    pub fn set_change_observer(&self, observer: Option<Arc<dyn ChangeObserver>>) {
        *self.observer.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = observer;
    }

    // ---- cases ----

    /// Opens a new case; returns its id.
    pub fn new_case(&self, resident: Resident, case_type: Option<CaseType>) -> Result<String> {
        self.with_core(|core| core.new_case(&resident, case_type))
    }

    /// All cases, by resident name.
    pub fn cases(&self) -> Result<Vec<CaseSummary>> {
        self.with_core(|core| Ok(core.cases()?.into_iter().map(Into::into).collect()))
    }

    /// What waits on this phone for a connection: changes and files, and the cases they
    /// belong to (the case list marks those; "3 wijzigingen wachten op verbinding").
    pub fn unsent_work(&self) -> Result<UnsentWork> {
        self.with_core(|core| core.unsent()).map(Into::into)
    }

    /// Cases whose resident name contains `query`, ignoring case and accents.
    pub fn search(&self, query: String) -> Result<Vec<CaseSummary>> {
        self.with_core(|core| Ok(core.search(&query)?.into_iter().map(Into::into).collect()))
    }

    /// The full id of the one case whose id starts with `prefix` (4 characters or more).
    pub fn resolve_case_id(&self, prefix: String) -> Result<String> {
        self.with_core(|core| core.resolve_case_id(&prefix))
    }

    /// The whole case: resident, visits, assessments, reviews, conflicts.
    pub fn case_detail(&self, case_id: String) -> Result<Case> {
        self.with_core(|core| Ok(core.case(&case_id)?.into()))
    }

    pub fn update_resident(&self, case_id: String, resident: Resident) -> Result<()> {
        self.with_core(|core| core.update_resident(&case_id, &resident))
    }

    pub fn set_status(&self, case_id: String, status: CaseStatus) -> Result<()> {
        self.with_core(|core| core.set_status(&case_id, status))
    }

    pub fn set_case_type(&self, case_id: String, case_type: CaseType) -> Result<()> {
        self.with_core(|core| core.set_case_type(&case_id, case_type))
    }

    /// Settles a field two devices set concurrently (see `Case::conflicts`) with `value`.
    pub fn resolve_conflict(&self, case_id: String, path: String, value: String) -> Result<()> {
        self.with_core(|core| core.resolve_conflict(&case_id, &path, &value))
    }

    // ---- attachments ----

    /// Keeps a file with a case (or one of its visits, `attachment.visit_id`): a photo loses
    /// the place it was taken, the bytes are sealed in chunks. Over 25 MB is refused before
    /// anything is written. On disk when this returns.
    pub fn attach(
        &self,
        case_id: String,
        attachment: NewAttachment,
        content: Vec<u8>,
    ) -> Result<Attachment> {
        self.with_core(|core| core.attach(&case_id, &attachment.into(), &content)).map(Into::into)
    }

    /// As `attach`, reading the file at `path` (what a share sheet or a camera hands over) a
    /// chunk at a time, so a 25 MB scan never sits in memory whole. Over the limit is refused
    /// from its size, before it is read.
    pub fn attach_file(
        &self,
        case_id: String,
        attachment: NewAttachment,
        path: String,
    ) -> Result<Attachment> {
        self.with_core(|core| {
            core.attach_file(&case_id, &attachment.into(), std::path::Path::new(&path))
        })
        .map(Into::into)
    }

    /// A file's bytes, checked against what the case says of them; the case's access log
    /// records the opening.
    pub fn attachment_content(&self, case_id: String, attachment_id: String) -> Result<Vec<u8>> {
        self.with_core(|core| core.attachment_content(&case_id, &attachment_id))
    }

    /// Brings a file attached on another phone to this one (the case lists it with
    /// `on_device` false until then), a chunk at a time, each checked before it is kept. A
    /// download cut off (no network, the app killed) continues where it stopped when called
    /// again. Then `attachment_content` opens it.
    pub async fn download_attachment(
        &self,
        case_id: String,
        attachment_id: String,
        listener: Option<Arc<dyn DownloadListener>>,
    ) -> Result<DownloadReport> {
        self.with_relay_shared(move |core, relay| {
            let downloaded = Core::download_attachment_sharing(
                core,
                relay,
                &case_id,
                &attachment_id,
                &mut |progress| {
                    if let Some(listener) = &listener {
                        notify(|| listener.on_progress(progress.done_bytes, progress.total_bytes));
                    }
                },
            )?;
            Ok(downloaded.into())
        })
        .await
    }

    /// After a sync, with whether the phone is on Wi-Fi (or another unmetered network): when it
    /// is and the team's policy says so, every file of this phone's cases that is not here yet
    /// comes down. Returns how many did. The decision is the core's; the shell only says
    /// which network it is on.
    pub async fn fetch_files(
        &self,
        on_unmetered_network: bool,
        listener: Option<Arc<dyn DownloadListener>>,
    ) -> Result<u32> {
        self.with_relay_shared(move |core, relay| {
            Ok(Core::fetch_files_sharing(core, relay, on_unmetered_network, &mut |progress| {
                if let Some(listener) = &listener {
                    notify(|| listener.on_progress(progress.done_bytes, progress.total_bytes));
                }
            })?)
        })
        .await
    }

    // ---- visits ----

    /// Records a visit with its observations; returns its id. On disk when this returns.
    pub fn record_visit(&self, case_id: String, visit: NewVisit) -> Result<String> {
        self.with_core(|core| core.record_visit(&case_id, &visit.try_into()?))
    }

    pub fn edit_visit_note(&self, case_id: String, visit_id: String, note: String) -> Result<()> {
        self.with_core(|core| core.edit_visit_note(&case_id, &visit_id, &note))
    }

    pub fn add_observation(
        &self,
        case_id: String,
        visit_id: String,
        observation: NewObservation,
    ) -> Result<()> {
        self.with_core(|core| core.add_observation(&case_id, &visit_id, &observation.try_into()?))
    }

    // ---- the value checklist ----

    /// The newest version of each of the team's frameworks.
    pub fn frameworks(&self) -> Result<Vec<Framework>> {
        self.with_core(|core| Ok(core.frameworks()?.into_iter().map(Into::into).collect()))
    }

    /// Installs a new framework version from its TOML source; errors name the line.
    pub fn install_framework(&self, source: String) -> Result<Framework> {
        self.with_core(|core| Ok(core.install_framework(&source)?.into()))
    }

    /// Starts weighing a decision against a framework (the first when none is named);
    /// returns the assessment id.
    pub fn start_assessment(
        &self,
        case_id: String,
        question: String,
        framework_id: Option<String>,
    ) -> Result<String> {
        if question.trim().is_empty() {
            return Err(EropafError::invalid("question", "de vraag is leeg"));
        }
        self.with_core(|core| core.start_assessment(&case_id, &question, framework_id.as_deref()))
    }

    /// Answers a step or the proposed decision; refused while an earlier item is open.
    pub fn answer(
        &self,
        case_id: String,
        assessment_id: String,
        item: ChecklistItem,
        text: String,
    ) -> Result<()> {
        if let ChecklistItem::Value { .. } = item {
            return Err(EropafError::invalid("item", "een waarde krijgt een oordeel: set_verdict"));
        }
        self.with_core(|core| core.answer(&case_id, &assessment_id, &item.into(), &text))
    }

    /// Records a verdict on a value; every verdict but `NotRelevant` needs a motivation.
    pub fn set_verdict(
        &self,
        case_id: String,
        assessment_id: String,
        value_key: String,
        verdict: Verdict,
        motivation: String,
    ) -> Result<()> {
        self.with_core(|core| {
            core.set_verdict(&case_id, &assessment_id, &value_key, verdict, &motivation)
        })
    }

    /// Marks the decision as maatwerk (departing from standard policy), optionally with an
    /// amount from the maatwerkbudget in cents.
    pub fn set_maatwerk(
        &self,
        case_id: String,
        assessment_id: String,
        maatwerk: bool,
        budget_cents: Option<u64>,
    ) -> Result<()> {
        self.with_core(|core| core.set_maatwerk(&case_id, &assessment_id, maatwerk, budget_cents))
    }

    /// The assessment with its flow: answers, next item, what is missing, the justification.
    pub fn assessment(&self, case_id: String, assessment_id: String) -> Result<AssessmentView> {
        self.with_core(|core| {
            let view = core.assessment(&case_id, &assessment_id)?;
            let framework =
                core.framework(&view.assessment.framework_id, view.assessment.framework_version)?;
            Ok(AssessmentView::new(view, framework))
        })
    }

    // ---- review ----

    /// Submits a complete assessment. It enters the supervisors' queue when it departs from
    /// policy (maatwerk) or asks more maatwerkbudget than the team's threshold.
    pub fn submit_assessment(
        &self,
        case_id: String,
        assessment_id: String,
    ) -> Result<ReviewStatus> {
        self.with_core(|core| core.submit_assessment(&case_id, &assessment_id).map(Into::into))
    }

    /// A supervisor's verdict on a submitted assessment; a request for changes and an
    /// escalation need a note. It reaches the worker at the next sync.
    pub fn review_assessment(
        &self,
        case_id: String,
        assessment_id: String,
        action: ReviewAction,
        note: String,
    ) -> Result<Review> {
        self.with_core(|core| {
            core.review_assessment(&case_id, &assessment_id, action, &note).map(Into::into)
        })
    }

    /// Where an assessment stands: what the worker sees after sync.
    pub fn review_status(&self, case_id: String, assessment_id: String) -> Result<ReviewStatus> {
        self.with_core(|core| core.review_state(&case_id, &assessment_id).map(Into::into))
    }

    /// What waits for a supervisor, oldest submission first.
    pub fn review_queue(&self) -> Result<Vec<QueueItem>> {
        self.with_core(|core| {
            core.review_queue().map(|queue| queue.into_iter().map(Into::into).collect())
        })
    }

    /// The resident's inzage (AVG art. 15) as one HTML document; the export is logged in
    /// the case's access log, on behalf of `on_behalf` when someone else asked for it.
    pub fn export_inzage(&self, case_id: String, on_behalf: Option<String>) -> Result<String> {
        self.with_core(|core| core.export_inzage(&case_id, on_behalf.as_deref()))
    }

    // ---- replicas ----

    /// The whole case document, for another replica to merge.
    pub fn export_case(&self, case_id: String) -> Result<Vec<u8>> {
        self.with_core(|core| core.export_case(&case_id))
    }

    /// Merges a case document from another replica (creating the case if new); returns the
    /// case id. The change observer hears of it.
    pub fn merge_case(&self, document: Vec<u8>) -> Result<String> {
        let id = self.with_core(|core| core.merge_case(&document))?;
        self.cases_changed(std::slice::from_ref(&id));
        Ok(id)
    }
}

/// Which exported call `measure_native_calls` repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum MeasuredCall {
    /// `record_visit` with a one-line note and one observation: a durable write.
    RecordVisit,
    /// `cases`: a cheap read of the sealed summaries.
    ListCases,
}

/// Runs `iterations` calls of `call` on `eropaf` from Rust, the way the app makes them but
/// without crossing the FFI, and returns the total time: an app times the same calls from
/// Kotlin or Swift to see what the bindings add on its device.
#[uniffi::export]
pub fn measure_native_calls(
    eropaf: Arc<Eropaf>,
    call: MeasuredCall,
    case_id: String,
    iterations: u32,
) -> Result<Duration> {
    let started = Instant::now();
    for n in 0..iterations {
        match call {
            MeasuredCall::RecordVisit => {
                eropaf.record_visit(case_id.clone(), measured_visit(n))?;
            }
            MeasuredCall::ListCases => {
                eropaf.cases()?;
            }
        }
    }
    Ok(started.elapsed())
}

/// The visit both sides of a measurement record.
fn measured_visit(n: u32) -> NewVisit {
    NewVisit {
        note: format!("Meetbezoek {n}"),
        observations: vec![NewObservation {
            text: "Post ligt ongeopend op tafel".into(),
            domain: Some(crate::records::LifeDomain::Financien),
            score: Some(2),
        }],
        ..NewVisit::default()
    }
}

impl Eropaf {
    fn wrap(dir: PathBuf, core: Core) -> Arc<Eropaf> {
        let device_id = core.device_id().to_hex();
        let device_name = core.device_name().to_string();
        let session = Session::new(dir, core);
        crate::boundary::spawn_idle_watch(Arc::downgrade(&session));
        Arc::new(Eropaf {
            device_id,
            device_name,
            session,
            observer: Arc::default(),
            auto_sync: Mutex::new(None),
        })
    }

    fn with_core<T>(&self, work: impl FnOnce(&mut Core) -> eropaf_core::Result<T>) -> Result<T> {
        let out = guard(|| {
            let core = self.session.core()?;
            let mut core = lock(&core)?;
            Ok(work(&mut core)?)
        });
        self.wake_auto_sync();
        out
    }

    /// Runs `work` on a background thread with the store and an HTTP transport to the team's
    /// relay.
    async fn with_relay<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Core, &HttpTransport) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let core = self.session.core()?;
        let session = Arc::clone(&self.session);
        off_thread(move || {
            let mut core = lock(&core)?;
            let url = core.relay_url()?.ok_or_else(|| {
                EropafError::invalid("team", "dit apparaat hoort nog niet bij een team")
            })?;
            let relay = HttpTransport::new(&url)?;
            let out = work(&mut core, &relay);
            // The relay may have brought a new team policy.
            session.refresh_idle_after(&core);
            out
        })
        .await
    }

    /// As `with_relay`, for work that locks the core itself, step by step (a sync, a
    /// download): the worker's calls go on meanwhile.
    async fn with_relay_shared<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Mutex<Core>, &HttpTransport) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let core = self.session.core()?;
        let session = Arc::clone(&self.session);
        off_thread(move || {
            let url = lock(&core)?.relay_url()?.ok_or_else(|| {
                EropafError::invalid("team", "dit apparaat hoort nog niet bij een team")
            })?;
            let relay = HttpTransport::new(&url)?;
            let out = work(&core, &relay);
            // The relay may have brought a new team policy.
            session.refresh_idle_after(&*lock(&core)?);
            out
        })
        .await
    }

    fn cases_changed(&self, case_ids: &[String]) {
        tell_changed(&self.observer, case_ids);
    }

    /// The background syncer, woken: a call may have queued something for the team.
    fn wake_auto_sync(&self) {
        if let Some(runner) = self.auto_sync.lock().ok().and_then(|r| r.clone()) {
            runner.wake();
        }
    }

    fn auto_sync_event(&self, event: Event) {
        if let Some(runner) = self.auto_sync.lock().ok().and_then(|r| r.clone()) {
            runner.event(event);
        }
    }
}

fn tell_changed(observer: &Mutex<Option<Arc<dyn ChangeObserver>>>, case_ids: &[String]) {
    if case_ids.is_empty() {
        return;
    }
    let observer = observer.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    if let Some(observer) = observer {
        notify(|| observer.cases_changed(case_ids.to_vec()));
    }
}

fn store_dir(dir: &str) -> Result<PathBuf> {
    if dir.trim().is_empty() {
        return Err(EropafError::invalid("dir", "geef de map van de opslag"));
    }
    Ok(PathBuf::from(dir))
}
