//! The view models the apps show: Dutch labels beside stable keys, timestamps as
//! `SystemTime`, counts as `u32`; and their conversions from eropaf-core's types. Plain
//! records and enums are not restated here: eropaf-core derives their bindings itself
//! (feature `uniffi`). Shaping only: every rule (validation, order, the checklist) stays in
//! the core.

use std::time::SystemTime;

use eropaf_core::checklist::{self, Item};
use eropaf_core::model::{self, Score};
use eropaf_core::review;
use eropaf_core::team::roster;
use eropaf_core::{Error as CoreError, Result as CoreResult};

use crate::error::Result;

pub(crate) fn time(at: chrono::DateTime<chrono::Utc>) -> SystemTime {
    at.into()
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

// ---- enums and plain records: derived in eropaf-core (feature `uniffi`) ----

pub use eropaf_core::checklist::Verdict;
pub use eropaf_core::model::{
    AssignmentRole, CaseStatus, CaseType, Conflict, LifeDomain, Resident, ReviewVerdict,
};
pub use eropaf_core::review::ReviewAction;
pub use eropaf_core::SyncProgress;

/// A team role. Roles live in eropaf-protocol, which the relay shares and which stays free
/// of binding concerns, so the bindings restate this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Role {
    Worker,
    Supervisor,
}

impl From<roster::Role> for Role {
    fn from(role: roster::Role) -> Role {
        match role {
            roster::Role::Worker => Role::Worker,
            roster::Role::Supervisor => Role::Supervisor,
        }
    }
}

impl From<Role> for roster::Role {
    fn from(role: Role) -> roster::Role {
        match role {
            Role::Worker => roster::Role::Worker,
            Role::Supervisor => roster::Role::Supervisor,
        }
    }
}

/// A life domain for a picker: its key, Dutch name and our own one-line description.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct LifeDomainInfo {
    pub domain: LifeDomain,
    pub key: String,
    pub label: String,
    pub description: String,
}

/// A verdict for a picker, and whether it needs a motivation.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct VerdictInfo {
    pub verdict: Verdict,
    pub key: String,
    pub label: String,
    pub needs_motivation: bool,
}

// ---- cases ----

/// One line of the case list.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct CaseSummary {
    pub id: String,
    pub resident_name: String,
    pub status: CaseStatus,
    pub status_label: String,
    pub case_type: Option<CaseType>,
    pub case_type_label: Option<String>,
    pub visit_count: u32,
    pub assessment_count: u32,
    pub last_visit_at: Option<SystemTime>,
    /// Fields two devices set concurrently, waiting for a person to choose.
    pub conflict_count: u32,
}

impl From<model::CaseSummary> for CaseSummary {
    fn from(c: model::CaseSummary) -> CaseSummary {
        CaseSummary {
            id: c.id,
            resident_name: c.resident.name,
            status: c.status,
            status_label: c.status.label().to_string(),
            case_type: c.case_type,
            case_type_label: c.case_type.map(|t| t.label().to_string()),
            visit_count: c.visit_count,
            assessment_count: c.assessment_count,
            last_visit_at: c.last_visit_at.map(time),
            conflict_count: c.conflict_count,
        }
    }
}

/// An observation as entered: free text, optionally a life domain and a 1–5 score.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct NewObservation {
    pub text: String,
    #[uniffi(default)]
    pub domain: Option<LifeDomain>,
    #[uniffi(default)]
    pub score: Option<u8>,
}

impl TryFrom<NewObservation> for model::Observation {
    type Error = CoreError;

    fn try_from(o: NewObservation) -> CoreResult<model::Observation> {
        let score = o.score.map(Score::new).transpose()?;
        model::Observation::new(&o.text, o.domain, score)
    }
}

/// An observation as shown.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Observation {
    pub text: String,
    pub domain: Option<LifeDomain>,
    pub domain_label: Option<String>,
    pub score: Option<u8>,
    pub score_label: Option<String>,
}

impl From<model::Observation> for Observation {
    fn from(o: model::Observation) -> Observation {
        Observation {
            text: o.text,
            domain: o.domain,
            domain_label: o.domain.map(|d| d.label().to_string()),
            score: o.score.map(Score::value),
            score_label: o.score.map(|s| s.label().to_string()),
        }
    }
}

/// A visit as entered. `at` defaults to now.
#[derive(Clone, Debug, Default, PartialEq, uniffi::Record)]
pub struct NewVisit {
    pub note: String,
    #[uniffi(default)]
    pub at: Option<SystemTime>,
    #[uniffi(default)]
    pub place: Option<String>,
    #[uniffi(default)]
    pub present: Vec<String>,
    #[uniffi(default)]
    pub observations: Vec<NewObservation>,
}

impl TryFrom<NewVisit> for model::NewVisit {
    type Error = CoreError;

    fn try_from(v: NewVisit) -> CoreResult<model::NewVisit> {
        Ok(model::NewVisit {
            at: v.at.map(Into::into),
            place: v.place,
            present: v.present,
            note: v.note,
            observations: v
                .observations
                .into_iter()
                .map(TryInto::try_into)
                .collect::<CoreResult<_>>()?,
        })
    }
}

#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Visit {
    pub id: String,
    pub at: SystemTime,
    pub author_device: String,
    pub place: Option<String>,
    pub present: Vec<String>,
    pub note: String,
    pub observations: Vec<Observation>,
}

impl From<model::Visit> for Visit {
    fn from(v: model::Visit) -> Visit {
        Visit {
            id: v.id,
            at: time(v.at),
            author_device: v.author_device,
            place: v.place,
            present: v.present,
            note: v.note,
            observations: v.observations.into_iter().map(Into::into).collect(),
        }
    }
}

/// An assessment as a line in a case; the full flow comes from `Eropaf::assessment`.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct AssessmentSummary {
    pub id: String,
    pub question: String,
    pub created_at: SystemTime,
    pub author_device: String,
    pub framework_id: String,
    pub framework_version: u32,
    /// The proposed decision, empty until the worker wrote one.
    pub decision: String,
    pub maatwerk: bool,
    pub budget_cents: Option<u64>,
}

impl From<model::Assessment> for AssessmentSummary {
    fn from(a: model::Assessment) -> AssessmentSummary {
        AssessmentSummary {
            id: a.id,
            question: a.answers.question,
            created_at: time(a.created_at),
            author_device: a.author_device,
            framework_id: a.framework_id,
            framework_version: a.framework_version,
            decision: a.answers.decision,
            maatwerk: a.answers.maatwerk,
            budget_cents: a.answers.budget_cents,
        }
    }
}

/// A supervisor's verdict on an assessment.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Review {
    pub id: String,
    pub assessment_id: String,
    pub at: SystemTime,
    pub reviewer_device: String,
    pub verdict: ReviewVerdict,
    pub verdict_label: String,
    pub note: String,
    pub escalated_to: Option<String>,
}

impl From<model::Review> for Review {
    fn from(r: model::Review) -> Review {
        Review {
            id: r.id,
            assessment_id: r.assessment_id,
            at: time(r.at),
            reviewer_device: r.reviewer_device,
            verdict: r.verdict,
            verdict_label: r.verdict.label().to_string(),
            note: r.note,
            escalated_to: r.escalated_to,
        }
    }
}

#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Case {
    pub id: String,
    pub resident: Resident,
    pub status: CaseStatus,
    pub status_label: String,
    pub case_type: Option<CaseType>,
    pub created_at: SystemTime,
    /// By time of the visit, the same on every device.
    pub visits: Vec<Visit>,
    pub assessments: Vec<AssessmentSummary>,
    pub reviews: Vec<Review>,
    pub conflicts: Vec<Conflict>,
    /// Files kept with the case or its visits, oldest first; their bytes through
    /// `attachment_content`.
    pub attachments: Vec<Attachment>,
}

/// A file kept with a case (a photo of a letter, a scanned consent): what the case says of it.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Attachment {
    pub id: String,
    pub name: String,
    pub media_type: String,
    pub caption: Option<String>,
    pub size: u64,
    pub visit_id: Option<String>,
    pub at: SystemTime,
    pub author_device: String,
    /// Its bytes are on this device; otherwise they come with a later sync.
    pub on_device: bool,
}

impl From<model::Attachment> for Attachment {
    fn from(a: model::Attachment) -> Attachment {
        Attachment {
            id: a.id,
            name: a.name,
            media_type: a.media_type,
            caption: a.caption,
            size: a.size,
            visit_id: a.visit_id,
            at: time(a.at),
            author_device: a.author_device,
            on_device: a.on_device,
        }
    }
}

/// A file to attach; its bytes (or its path) come beside it. An empty `media_type` is taken
/// from the name's extension.
#[derive(Clone, Debug, Default, PartialEq, uniffi::Record)]
pub struct NewAttachment {
    pub name: String,
    #[uniffi(default)]
    pub media_type: String,
    #[uniffi(default)]
    pub caption: Option<String>,
    #[uniffi(default)]
    pub visit_id: Option<String>,
}

impl From<NewAttachment> for model::NewAttachment {
    fn from(a: NewAttachment) -> model::NewAttachment {
        let media_type = if a.media_type.trim().is_empty() {
            eropaf_core::attachments::media_type_for(&a.name).to_string()
        } else {
            a.media_type
        };
        model::NewAttachment { name: a.name, media_type, caption: a.caption, visit_id: a.visit_id }
    }
}

impl From<model::Case> for Case {
    fn from(c: model::Case) -> Case {
        Case {
            id: c.id,
            resident: c.resident,
            status: c.status,
            status_label: c.status.label().to_string(),
            case_type: c.case_type,
            created_at: time(c.created_at),
            visits: c.visits.into_iter().map(Into::into).collect(),
            assessments: c.assessments.into_iter().map(Into::into).collect(),
            reviews: c.reviews.into_iter().map(Into::into).collect(),
            conflicts: c.conflicts,
            attachments: c.attachments.into_iter().map(Into::into).collect(),
        }
    }
}

// ---- the value checklist ----

/// One thing to answer in an assessment's flow.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ChecklistItem {
    /// A step of the omgekeerde toets.
    Step { key: String },
    /// A value to give a verdict on.
    Value { key: String },
    /// The proposed decision.
    Decision,
}

impl From<Item> for ChecklistItem {
    fn from(item: Item) -> ChecklistItem {
        match item {
            Item::Step(key) => ChecklistItem::Step { key },
            Item::Value(key) => ChecklistItem::Value { key },
            Item::Decision => ChecklistItem::Decision,
        }
    }
}

impl From<ChecklistItem> for Item {
    fn from(item: ChecklistItem) -> Item {
        match item {
            ChecklistItem::Step { key } => Item::Step(key),
            ChecklistItem::Value { key } => Item::Value(key),
            ChecklistItem::Decision => Item::Decision,
        }
    }
}

/// An unanswered item and, in Dutch, what is missing.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct MissingItem {
    pub item: ChecklistItem,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct ChecklistProgress {
    /// What the app offers next; none when complete.
    pub next: Option<ChecklistItem>,
    /// Every unanswered item, in flow order.
    pub missing: Vec<MissingItem>,
    pub complete: bool,
    pub answered: u32,
    pub total: u32,
}

impl From<checklist::Progress> for ChecklistProgress {
    fn from(p: checklist::Progress) -> ChecklistProgress {
        ChecklistProgress {
            next: p.next.map(Into::into),
            missing: p
                .missing
                .into_iter()
                .map(|m| MissingItem { item: m.item.into(), reason: m.reason })
                .collect(),
            complete: p.complete,
            answered: count(p.answered),
            total: count(p.total),
        }
    }
}

/// One step of the omgekeerde toets.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct FrameworkStep {
    pub key: String,
    /// 1-based, as the worker reads it ("Stap 2").
    pub number: u32,
    pub title: String,
    pub question: String,
    pub guidance: Vec<String>,
    /// On this step the worker gives each value a verdict.
    pub weighs_values: bool,
}

#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct FrameworkValue {
    pub key: String,
    /// For showing related values together (e.g. "Waardendriehoek"); may be empty.
    pub group: String,
    pub title: String,
    pub description: String,
    pub questions: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct EscalationRung {
    pub key: String,
    pub title: String,
    pub description: String,
}

/// A team's value framework (waardenkader).
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Framework {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub description: Option<String>,
    pub steps: Vec<FrameworkStep>,
    pub values: Vec<FrameworkValue>,
    pub escalation: Vec<EscalationRung>,
}

impl From<checklist::Framework> for Framework {
    fn from(f: checklist::Framework) -> Framework {
        Framework {
            steps: f
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| FrameworkStep {
                    key: s.key.clone(),
                    number: count(i + 1),
                    title: s.title.clone(),
                    question: s.question.clone(),
                    guidance: s.guidance.clone(),
                    weighs_values: s.weighs_values,
                })
                .collect(),
            values: f
                .values
                .into_iter()
                .map(|v| FrameworkValue {
                    key: v.key,
                    group: v.group,
                    title: v.title,
                    description: v.description,
                    questions: v.questions,
                })
                .collect(),
            escalation: f
                .escalation
                .into_iter()
                .map(|r| EscalationRung { key: r.key, title: r.title, description: r.description })
                .collect(),
            id: f.id,
            version: f.version,
            title: f.title,
            description: f.description,
        }
    }
}

/// A step with the worker's answer ("" = not yet).
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct StepAnswer {
    pub step: FrameworkStep,
    pub answer: String,
}

/// A value with the worker's verdict and motivation.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct ValueAnswer {
    pub value: FrameworkValue,
    pub verdict: Option<Verdict>,
    pub verdict_label: Option<String>,
    pub motivation: String,
}

/// An assessment with everything the checklist screen shows: the framework's steps and
/// values with the answers so far, what comes next, what is missing, and the justification.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct AssessmentView {
    pub case_id: String,
    pub assessment_id: String,
    pub question: String,
    pub created_at: SystemTime,
    pub author_device: String,
    pub framework_id: String,
    pub framework_version: u32,
    pub framework_title: String,
    pub steps: Vec<StepAnswer>,
    pub values: Vec<ValueAnswer>,
    pub decision: String,
    pub maatwerk: bool,
    pub budget_cents: Option<u64>,
    /// The budget as a worker reads it ("€ 750,00").
    pub budget_label: Option<String>,
    pub progress: ChecklistProgress,
    /// The written onderbouwing, in Dutch, from the answers so far.
    pub justification: String,
}

impl AssessmentView {
    pub(crate) fn new(
        view: eropaf_core::AssessmentView,
        framework: checklist::Framework,
    ) -> AssessmentView {
        let answers = &view.assessment.answers;
        let framework = Framework::from(framework);
        let steps = framework
            .steps
            .into_iter()
            .map(|step| StepAnswer { answer: answers.step(&step.key).to_string(), step })
            .collect();
        let values = framework
            .values
            .into_iter()
            .map(|value| {
                let given = answers.verdict(&value.key);
                let verdict = given.and_then(|v| v.verdict);
                ValueAnswer {
                    verdict,
                    verdict_label: verdict.map(|v| v.label_nl().to_string()),
                    motivation: given.map(|v| v.motivation.clone()).unwrap_or_default(),
                    value,
                }
            })
            .collect();
        AssessmentView {
            case_id: view.case_id,
            assessment_id: view.assessment.id,
            question: answers.question.clone(),
            created_at: time(view.assessment.created_at),
            author_device: view.assessment.author_device.clone(),
            framework_id: view.assessment.framework_id.clone(),
            framework_version: view.assessment.framework_version,
            framework_title: view.framework_title,
            steps,
            values,
            decision: answers.decision.clone(),
            maatwerk: answers.maatwerk,
            budget_cents: answers.budget_cents,
            budget_label: answers.budget_cents.map(checklist::format_euro),
            progress: view.progress.into(),
            justification: view.justification,
        }
    }
}

// ---- the team ----

#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct TeamInfo {
    pub team_id: String,
    pub team_name: String,
    pub relay_url: String,
    pub epoch: u32,
    /// This device's role; none once it was revoked.
    pub role: Option<Role>,
    /// This device holds the current epoch's key (a revoked device does not).
    pub has_current_key: bool,
}

impl From<eropaf_core::TeamInfo> for TeamInfo {
    fn from(t: eropaf_core::TeamInfo) -> TeamInfo {
        TeamInfo {
            team_id: t.team_id,
            team_name: t.team_name,
            relay_url: t.relay_url,
            epoch: t.epoch,
            role: t.role.map(Into::into),
            has_current_key: t.has_current_key,
        }
    }
}

/// One device in the team.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Member {
    pub device_id: String,
    pub member: String,
    pub role: Role,
    pub role_label: String,
    pub revoked: bool,
    pub is_this_device: bool,
    /// When the revoked device reported that it wiped itself ("gewist om HH:MM").
    pub wiped_at: Option<SystemTime>,
}

impl Member {
    pub(crate) fn new(m: eropaf_core::Member, this_device: &str) -> Member {
        Member {
            is_this_device: m.device_id == this_device,
            device_id: m.device_id,
            member: m.member,
            role: m.role.into(),
            role_label: m.role.label().to_string(),
            revoked: m.revoked,
            wiped_at: m.wiped_at.map(time),
        }
    }
}

/// A member's place on a case.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Assignment {
    pub member: String,
    pub role: AssignmentRole,
    pub role_label: String,
    /// Access for a period ends then.
    pub until: Option<SystemTime>,
}

/// Who may read a case.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct CaseAccess {
    pub case_id: String,
    /// Empty while nobody was assigned: the case is then its creator's.
    pub assignments: Vec<Assignment>,
    pub creator: Option<String>,
    /// The members whose devices hold its keys (supervisors besides).
    pub readers: Vec<String>,
}

impl From<eropaf_core::CaseAccess> for CaseAccess {
    fn from(a: eropaf_core::CaseAccess) -> CaseAccess {
        CaseAccess {
            case_id: a.case_id,
            assignments: a
                .assignments
                .into_iter()
                .map(|x| Assignment {
                    member: x.member,
                    role: x.role,
                    role_label: x.role.label().to_string(),
                    until: x.until.map(time),
                })
                .collect(),
            creator: a.creator,
            readers: a.readers,
        }
    }
}

/// A member's request for access to a case.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct AccessRequest {
    pub id: String,
    pub case_id: String,
    pub member: String,
    pub at: SystemTime,
    pub urgent: bool,
    /// Shown to the supervisors and the requester only; `None` elsewhere.
    pub reason: Option<String>,
    /// `None` while no supervisor answered.
    pub decision: Option<AccessDecision>,
}

/// A supervisor's answer to a request.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct AccessDecision {
    pub granted: bool,
    pub by: String,
    pub at: SystemTime,
    /// When granted access ends.
    pub until: Option<SystemTime>,
}

impl From<model::AccessRequest> for AccessRequest {
    fn from(r: model::AccessRequest) -> AccessRequest {
        AccessRequest {
            id: r.id,
            case_id: r.case_id,
            member: r.member,
            at: time(r.at),
            urgent: r.urgent,
            reason: r.reason,
            decision: r.decision.map(|d| AccessDecision {
                granted: d.granted,
                by: d.by,
                at: time(d.at),
                until: d.until.map(time),
            }),
        }
    }
}

/// A one-time invitation; `code` is the text (or QR content) the new device enters.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Invitation {
    pub code: String,
    pub relay_url: String,
    pub team_id: String,
    pub role: Role,
    pub expires_at: Option<SystemTime>,
}

impl From<eropaf_core::Invitation> for Invitation {
    fn from(i: eropaf_core::Invitation) -> Invitation {
        Invitation {
            code: i.code,
            relay_url: i.relay_url,
            team_id: i.team_id,
            role: i.role.into(),
            expires_at: i.expires_at.map(time),
        }
    }
}

/// A device waiting for admission; admit it only when `code` is the code its own screen
/// shows.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct PendingJoiner {
    pub device_id: String,
    pub member: String,
    pub role: Role,
    pub code: String,
    pub requested_at: SystemTime,
}

impl From<eropaf_core::PendingJoiner> for PendingJoiner {
    fn from(p: eropaf_core::PendingJoiner) -> PendingJoiner {
        let millis = u64::try_from(p.requested_at_millis).unwrap_or_default();
        PendingJoiner {
            device_id: p.device_id,
            member: p.member,
            role: p.role.into(),
            code: p.code,
            requested_at: SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(millis),
        }
    }
}

// ---- sync ----

/// What a sync moved.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct SyncReport {
    pub pushed: u64,
    /// Chunks of files attached on this phone that the relay lacked and now holds.
    pub chunks_uploaded: u64,
    pub pulled: u64,
    /// Envelopes whose content changed a case here.
    pub applied: u64,
    /// Envelopes this device holds no key for (written after its revocation, say).
    pub unreadable: u64,
    /// Envelopes refused as forged or malformed, with the reason; never applied.
    pub refused: Vec<String>,
    pub changed_cases: Vec<String>,
    pub epoch: u32,
    /// This device asked to join and no supervisor has admitted it yet.
    pub waiting_for_approval: bool,
    /// Devices waiting for this supervisor to compare safety codes and admit them
    /// (`pendingJoiners`, `admit`).
    pub waiting_joiners: u64,
    /// Signs that the relay held envelopes back, in Dutch, to show.
    pub warnings: Vec<String>,
    /// Cases this device may no longer read and forgot (its own work in them was sent).
    pub forgotten_cases: Vec<String>,
    /// This device was revoked and wiped itself at this time: show it, then the start screen.
    pub wiped_at: Option<SystemTime>,
}

/// What waits on this phone for the next sync.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct UnsentWork {
    /// Signed changes waiting to be sent.
    pub changes: u64,
    /// Files attached here that the relay does not hold whole yet.
    pub files: u64,
    /// The cases with something waiting, for the case list to mark.
    pub case_ids: Vec<String>,
}

impl From<eropaf_core::sync::report::Unsent> for UnsentWork {
    fn from(u: eropaf_core::sync::report::Unsent) -> UnsentWork {
        UnsentWork { changes: u.changes, files: u.files, case_ids: u.case_ids }
    }
}

/// What a file's download did.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct DownloadReport {
    /// Chunks fetched from the relay now.
    pub fetched_chunks: u32,
    /// Chunks already on this phone (a cut-off download continued).
    pub held_chunks: u32,
}

impl From<eropaf_core::sync::files::Downloaded> for DownloadReport {
    fn from(d: eropaf_core::sync::files::Downloaded) -> DownloadReport {
        DownloadReport { fetched_chunks: d.fetched_chunks, held_chunks: d.held_chunks }
    }
}

impl From<eropaf_core::SyncReport> for SyncReport {
    fn from(r: eropaf_core::SyncReport) -> SyncReport {
        SyncReport {
            pushed: r.pushed,
            chunks_uploaded: r.chunks_uploaded,
            pulled: r.pulled,
            applied: r.applied,
            unreadable: r.unreadable,
            refused: r.refused,
            changed_cases: r.changed_cases,
            epoch: r.epoch,
            waiting_for_approval: r.waiting_for_approval,
            waiting_joiners: r.waiting_joiners,
            warnings: r.warnings,
            forgotten_cases: r.forgotten_cases,
            wiped_at: r.wiped_at.map(time),
        }
    }
}

// ---- catalogues for pickers ----

/// The life domains in the order the matrix lists them.
#[uniffi::export]
pub fn life_domains() -> Vec<LifeDomainInfo> {
    LifeDomain::ALL
        .iter()
        .map(|d| LifeDomainInfo {
            domain: (*d),
            key: d.key().to_string(),
            label: d.label().to_string(),
            description: d.description().to_string(),
        })
        .collect()
}

/// The verdicts in the order a justification groups them.
#[uniffi::export]
pub fn verdicts() -> Vec<VerdictInfo> {
    Verdict::ALL
        .iter()
        .map(|v| VerdictInfo {
            verdict: (*v),
            key: v.key().to_string(),
            label: v.label_nl().to_string(),
            needs_motivation: v.needs_motivation(),
        })
        .collect()
}

/// The Dutch name of a 1–5 self-sufficiency score; a score outside 1–5 is refused.
#[uniffi::export]
pub fn score_label(score: u8) -> Result<String> {
    Ok(Score::new(score)?.label().to_string())
}

/// An amount as people type it ("750", "1.234,50", "€ 12,5") in euro cents, for the
/// maatwerkbudget field.
#[uniffi::export]
pub fn parse_euro_amount(text: String) -> Result<u64> {
    Ok(model::parse_euro_cents(&text)?)
}

/// Cents as a worker reads them: "€ 1.234,50".
#[uniffi::export]
pub fn format_euro_amount(cents: u64) -> String {
    checklist::format_euro(cents)
}

/// Where an assessment stands in the review workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ReviewStage {
    /// Still being written; not submitted.
    Draft,
    /// Submitted within standard policy: no verdict needed.
    NoReviewNeeded,
    /// Waiting for a supervisor.
    Waiting,
    /// One verdict on the current submission (`ReviewStatus.reviews` holds it).
    Decided,
    /// Supervisors gave different verdicts concurrently; a supervisor settles it with a new one.
    Conflict,
}

/// An assessment's place in the review workflow, as the worker and the supervisor see it.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct ReviewStatus {
    pub stage: ReviewStage,
    /// Dutch, for display.
    pub label: String,
    /// Whether a supervisor still has to act on it.
    pub in_queue: bool,
    /// The verdict (Decided) or the conflicting verdicts (Conflict); empty otherwise.
    pub reviews: Vec<Review>,
}

impl From<review::ReviewState> for ReviewStatus {
    fn from(state: review::ReviewState) -> ReviewStatus {
        let (label, in_queue) = (state.label().to_string(), state.in_queue());
        let (stage, reviews) = match state {
            review::ReviewState::Draft => (ReviewStage::Draft, Vec::new()),
            review::ReviewState::NoReviewNeeded => (ReviewStage::NoReviewNeeded, Vec::new()),
            review::ReviewState::Waiting => (ReviewStage::Waiting, Vec::new()),
            review::ReviewState::Decided { review } => (ReviewStage::Decided, vec![review.into()]),
            review::ReviewState::Conflict { reviews } => {
                (ReviewStage::Conflict, reviews.into_iter().map(Review::from).collect())
            }
        };
        ReviewStatus { stage, label, in_queue, reviews }
    }
}

/// One assessment waiting for a supervisor, for the review queue screen.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct QueueItem {
    pub case_id: String,
    pub resident: String,
    pub case_type: Option<CaseType>,
    pub assessment_id: String,
    pub question: String,
    pub author_device: String,
    pub submitted_at: SystemTime,
    pub maatwerk: bool,
    pub budget_cents: Option<u64>,
    pub status: ReviewStatus,
    /// The escalation rung it is at (Dutch title).
    pub rung: String,
}

impl From<eropaf_core::QueueItem> for QueueItem {
    fn from(item: eropaf_core::QueueItem) -> QueueItem {
        QueueItem {
            case_id: item.case_id,
            resident: item.resident,
            case_type: item.case_type,
            assessment_id: item.assessment_id,
            question: item.question,
            author_device: item.author_device,
            submitted_at: time(item.submitted_at),
            maatwerk: item.maatwerk,
            budget_cents: item.budget_cents,
            status: item.state.into(),
            rung: item.rung,
        }
    }
}
