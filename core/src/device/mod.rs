//! `Device`: the inner type behind the `Eropaf` facade — one unlocked device, its identity,
//! its encrypted store, its cached documents — and the local work on cases. Every call that
//! records something has reached the disk when it returns. The team (`membership`), its
//! shared settings (`settings`), review and the records are the other files of this folder;
//! a sync's steps are `crate::sync::engine`.

mod access;
mod attachments;
pub(crate) mod membership;
mod records;
mod requests;
mod review;
mod settings;

pub use crate::sync::report::{SyncProgress, SyncReport};
pub use access::CaseAccess;
pub use membership::{Member, PendingJoiner, TeamInfo};
pub use records::InzageExport;
pub use review::QueueItem;

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::checklist::{self, Framework, Item, Progress, Verdict};
use crate::crypto::{self, AgreementKey, DeviceId, DeviceIdentity};
use crate::doc::{CaseDoc, TeamDoc};
use crate::model::{
    fold, Assessment, Case, CaseStatus, CaseSummary, CaseType, NewVisit, Observation, Resident,
};
use crate::store::{DocKind, Store, StoreTx, Unlock, TEAM_DOC_ID};
use crate::sync::outbox::TeamState;
use crate::{Error, Result};

pub(crate) const META_IDENTITY: &str = "device_identity";
pub(crate) const META_AGREEMENT: &str = "device_agreement_key";
pub(crate) const META_DEVICE_NAME: &str = "device_name";
/// The team document's id in the local store (at the relay it travels under the team id).
/// Enough for a worker's day of cases; a phone has little memory to spare.
const CACHE_LIMIT: usize = 64;

/// An assessment with what the checklist says about it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AssessmentView {
    pub case_id: String,
    pub assessment: Assessment,
    pub framework_title: String,
    pub progress: Progress,
    pub justification: String,
}

pub(crate) struct Device {
    pub(crate) store: Store,
    pub(crate) identity: DeviceIdentity,
    pub(crate) device_name: String,
    /// Actor id for this session's changes: the device id plus a random tail.
    pub(crate) actor: Vec<u8>,
    /// Loaded case documents with the store version they reflect.
    pub(crate) cache: HashMap<String, (i64, CaseDoc)>,
    /// X25519 key to which epoch keys are sealed for this device.
    pub(crate) agreement: AgreementKey,
    /// The team this device belongs to, once it created or joined one.
    pub(crate) team: Option<TeamState>,
}

impl Device {
    pub fn create(dir: &Path, unlock: Unlock<'_>, device_name: &str) -> Result<Device> {
        let device_name = device_name.trim();
        if device_name.is_empty() {
            return Err(Error::invalid(
                "name",
                "geef dit apparaat een naam, bijvoorbeeld die van de medewerker",
            ));
        }
        let identity = DeviceIdentity::generate()?;
        let agreement = AgreementKey::generate()?;
        let actor = crypto::session_actor(identity.id())?;
        let mut store = Store::create(dir, unlock)?;
        let builtin_source = Framework::builtin_source();
        let mut team = TeamDoc::create(&actor)?;
        team.install_framework(&Framework::builtin(), builtin_source)?;
        let tx = store.transaction()?;
        tx.put_meta(META_IDENTITY, identity.pkcs8())?;
        tx.put_meta(META_AGREEMENT, agreement.to_bytes().as_ref())?;
        tx.put_meta(META_DEVICE_NAME, device_name.as_bytes())?;
        tx.put_snapshot(TEAM_DOC_ID, DocKind::Team, &team.save())?;
        tx.commit()?;
        Ok(Device {
            store,
            identity,
            device_name: device_name.to_string(),
            actor,
            cache: HashMap::new(),
            agreement,
            team: None,
        })
    }

    pub fn open(dir: &Path, unlock: Unlock<'_>) -> Result<Device> {
        let store = Store::open(dir, unlock)?;
        let pkcs8 = store
            .meta(META_IDENTITY)?
            .ok_or_else(|| Error::Corrupt("no device identity".into()))?;
        let identity = DeviceIdentity::from_pkcs8(&pkcs8)?;
        let device_name = store
            .meta(META_DEVICE_NAME)?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let agreement = match store.meta(META_AGREEMENT)? {
            Some(bytes) => AgreementKey::from_bytes(&bytes)?,
            None => return Err(Error::Corrupt("no device agreement key".into())),
        };
        let actor = crypto::session_actor(identity.id())?;
        let team = TeamState::load(&store)?;
        let mut eropaf =
            Device { store, identity, device_name, actor, cache: HashMap::new(), agreement, team };
        eropaf.refresh_caseload_policy()?;
        // A sync cut off before it read back the cases it changed leaves their list summaries
        // behind; the list must not show them so until the next sync.
        eropaf.refresh_stale_summaries(&mut SyncReport::default())?;
        Ok(eropaf)
    }

    pub fn device_id(&self) -> DeviceId {
        self.identity.id()
    }

    pub fn device_name(&self) -> &str {
        &self.device_name
    }

    pub fn store_dir(&self) -> &Path {
        self.store.dir()
    }

    // ---- cases ----

    pub fn new_case(&mut self, resident: &Resident, case_type: Option<CaseType>) -> Result<String> {
        let id = crypto::random_id()?;
        let mut doc = CaseDoc::create(&self.actor, &id, resident, case_type, Utc::now())?;
        let summary = doc.summary(&id)?;
        let tx = self.store.transaction()?;
        let snapshot = doc.save();
        tx.put_snapshot(&id, DocKind::Case, &snapshot)?;
        tx.put_summary(&id, &summary)?;
        if let Some(team) = &self.team {
            team.publish(&tx, &self.identity, &id, &snapshot)?;
        }
        let version = tx.doc_state(&id)?.map(|s| s.version).unwrap_or_default();
        tx.commit()?;
        self.remember(&id, version, doc);
        Ok(id)
    }

    pub fn cases(&self) -> Result<Vec<CaseSummary>> {
        let mut cases = self.store.case_summaries()?;
        cases.sort_by_cached_key(|c| (fold(&c.resident.name), c.id.clone()));
        Ok(cases)
    }

    pub fn search(&self, query: &str) -> Result<Vec<CaseSummary>> {
        let needle = fold(query.trim());
        let mut cases = self.cases()?;
        cases.retain(|c| fold(&c.resident.name).contains(&needle));
        Ok(cases)
    }

    pub fn resolve_case_id(&self, prefix: &str) -> Result<String> {
        let prefix = prefix.trim().to_ascii_lowercase();
        if prefix.len() < 4 {
            return Err(Error::invalid("case id", "geef minstens 4 tekens van het casusnummer"));
        }
        let ids = self.store.doc_ids(DocKind::Case)?;
        let mut matches = ids.into_iter().filter(|id| id.starts_with(&prefix));
        match (matches.next(), matches.next()) {
            (Some(id), None) => Ok(id),
            (None, _) => Err(Error::not_found("case", prefix)),
            (Some(_), Some(_)) => Err(Error::invalid(
                "case id",
                format!("{prefix} past bij meer dan één casus; geef meer tekens"),
            )),
        }
    }

    pub fn resolve_assessment_id(&mut self, case_id: &str, prefix: &str) -> Result<String> {
        let prefix = prefix.trim().to_ascii_lowercase();
        if prefix.len() < 4 {
            return Err(Error::invalid(
                "afweging",
                "geef minstens 4 tekens van het nummer van de afweging",
            ));
        }
        let case = self.case(case_id)?;
        let mut matches = case.assessments.iter().filter(|a| a.id.starts_with(&prefix));
        match (matches.next(), matches.next()) {
            (Some(a), None) => Ok(a.id.clone()),
            (None, _) => Err(Error::not_found("assessment", prefix)),
            (Some(_), Some(_)) => {
                Err(Error::invalid("afweging", format!("{prefix} past bij meer dan één afweging")))
            }
        }
    }

    pub fn case(&mut self, case_id: &str) -> Result<Case> {
        let supervisors = self.team.as_ref().map(|team| team.roster.supervisors());
        let mut case = self.with_case(case_id, |doc| {
            let mut case = doc.read(case_id)?;
            keep_supervisors_reviews(doc, &mut case, supervisors.as_deref())?;
            Ok(case)
        })?;
        self.mark_on_device(&mut case.attachments)?;
        Ok(case)
    }

    pub fn update_resident(&mut self, case_id: &str, resident: &Resident) -> Result<()> {
        self.write_case(case_id, |doc| doc.update_resident(resident))
    }

    pub fn set_status(&mut self, case_id: &str, status: CaseStatus) -> Result<()> {
        self.write_case(case_id, |doc| doc.set_status(status))
    }

    pub fn set_case_type(&mut self, case_id: &str, case_type: CaseType) -> Result<()> {
        self.write_case(case_id, |doc| doc.set_case_type(case_type))
    }

    pub fn resolve_conflict(&mut self, case_id: &str, path: &str, value: &str) -> Result<()> {
        self.write_case(case_id, |doc| {
            if !doc.conflicts()?.iter().any(|c| c.path == path) {
                return Err(Error::invalid("path", format!("{path} staat niet in conflict")));
            }
            let parts: Vec<&str> = path.split('/').collect();
            match parts.as_slice() {
                ["status"] => doc.set_status(CaseStatus::parse(value)?),
                ["case_type"] => doc.set_case_type(CaseType::parse(value)?),
                ["assessments", assessment, "verdicts", value_key, "verdict"] => {
                    let motivation = doc
                        .assessment(assessment)?
                        .answers
                        .verdicts
                        .get(*value_key)
                        .map(|v| v.motivation.clone())
                        .unwrap_or_default();
                    doc.set_verdict(assessment, value_key, Verdict::parse(value)?, &motivation)
                }
                ["assessments", assessment, "maatwerk"] => {
                    let budget = doc.assessment(assessment)?.answers.budget_cents;
                    let maatwerk = parse_bool(value)?;
                    doc.set_maatwerk(assessment, maatwerk, budget)
                }
                ["assessments", assessment, "budget_cents"] => {
                    let maatwerk = doc.assessment(assessment)?.answers.maatwerk;
                    let cents = value
                        .parse()
                        .map_err(|_| Error::invalid("budget_cents", "geen heel aantal centen"))?;
                    doc.set_maatwerk(assessment, maatwerk, Some(cents))
                }
                ["visits", visit, "note"] => doc.settle_visit_note(visit, value),
                _ => Err(Error::invalid("path", format!("{path} kan hier niet worden opgelost"))),
            }
        })
    }

    // ---- visits ----

    pub fn record_visit(&mut self, case_id: &str, visit: &NewVisit) -> Result<String> {
        let id = crypto::random_id()?;
        self.write_case(case_id, |doc| doc.add_visit(&id, visit, Utc::now()))?;
        Ok(id)
    }

    pub fn edit_visit_note(&mut self, case_id: &str, visit_id: &str, note: &str) -> Result<()> {
        self.write_case(case_id, |doc| doc.edit_visit_note(visit_id, note))
    }

    pub fn add_observation(
        &mut self,
        case_id: &str,
        visit_id: &str,
        observation: &Observation,
    ) -> Result<()> {
        self.write_case(case_id, |doc| doc.add_observation(visit_id, observation))
    }

    // ---- the value checklist ----

    pub fn frameworks(&self) -> Result<Vec<Framework>> {
        let mut latest: Vec<Framework> = Vec::new();
        for framework in self.team_doc()?.frameworks()? {
            match latest.last_mut() {
                Some(last) if last.id == framework.id => *last = framework,
                _ => latest.push(framework),
            }
        }
        Ok(latest)
    }

    pub fn framework(&self, id: &str, version: u32) -> Result<Framework> {
        self.team_doc()?
            .frameworks()?
            .into_iter()
            .find(|f| f.id == id && f.version == version)
            .ok_or_else(|| Error::not_found("framework", format!("{id} version {version}")))
    }

    pub fn install_framework(&mut self, source: &str) -> Result<Framework> {
        self.require_supervisor("het waardenkader aanpassen")?;
        let framework = Framework::parse(source)?;
        self.write_team_doc(|team| team.install_framework(&framework, source))?;
        Ok(framework)
    }

    pub fn start_assessment(
        &mut self,
        case_id: &str,
        question: &str,
        framework_id: Option<&str>,
    ) -> Result<String> {
        let frameworks = self.frameworks()?;
        let framework = match framework_id {
            Some(wanted) => frameworks
                .into_iter()
                .find(|f| f.id == wanted)
                .ok_or_else(|| Error::not_found("framework", wanted))?,
            None => {
                frameworks.into_iter().next().ok_or_else(|| Error::not_found("framework", "any"))?
            }
        };
        let id = crypto::random_id()?;
        let author = self.device_id().to_hex();
        self.write_case(case_id, |doc| {
            doc.start_assessment(&id, &author, &framework, question, Utc::now())
        })?;
        Ok(id)
    }

    pub fn answer(
        &mut self,
        case_id: &str,
        assessment_id: &str,
        item: &Item,
        text: &str,
    ) -> Result<()> {
        if text.trim().is_empty() {
            return Err(Error::invalid("answer", "het antwoord is leeg"));
        }
        let framework = self.assessment_framework(case_id, assessment_id)?;
        self.write_case(case_id, |doc| {
            let case = doc.read(case_id)?;
            checklist::check_can_answer(
                &framework,
                &case.assessment(assessment_id)?.answers,
                item,
            )?;
            doc.answer(assessment_id, item, text)
        })
    }

    pub fn set_verdict(
        &mut self,
        case_id: &str,
        assessment_id: &str,
        value_key: &str,
        verdict: Verdict,
        motivation: &str,
    ) -> Result<()> {
        if verdict != Verdict::NotRelevant && motivation.trim().is_empty() {
            return Err(Error::invalid(
                "motivation",
                "zeg kort waarom deze waarde het besluit steunt, ermee schuurt of ermee strijdig is",
            ));
        }
        let framework = self.assessment_framework(case_id, assessment_id)?;
        self.write_case(case_id, |doc| {
            let case = doc.read(case_id)?;
            let item = Item::Value(value_key.to_string());
            checklist::check_can_answer(
                &framework,
                &case.assessment(assessment_id)?.answers,
                &item,
            )?;
            doc.set_verdict(assessment_id, value_key, verdict, motivation)
        })
    }

    pub fn set_maatwerk(
        &mut self,
        case_id: &str,
        assessment_id: &str,
        maatwerk: bool,
        budget_cents: Option<u64>,
    ) -> Result<()> {
        self.write_case(case_id, |doc| doc.set_maatwerk(assessment_id, maatwerk, budget_cents))
    }

    pub fn assessment(&mut self, case_id: &str, assessment_id: &str) -> Result<AssessmentView> {
        let assessment = self.with_case(case_id, |doc| doc.assessment(assessment_id))?;
        let framework = self.framework(&assessment.framework_id, assessment.framework_version)?;
        Ok(AssessmentView {
            case_id: case_id.to_string(),
            progress: checklist::progress(&framework, &assessment.answers),
            justification: checklist::justification(&framework, &assessment.answers),
            framework_title: framework.title,
            assessment,
        })
    }

    // ---- replicas ----

    pub fn export_case(&mut self, case_id: &str) -> Result<Vec<u8>> {
        self.with_case(case_id, |doc| Ok(doc.save()))
    }

    pub fn merge_case(&mut self, bytes: &[u8]) -> Result<String> {
        // A file from elsewhere is held to the same limits as what a sync receives.
        crate::sync::limits::check_automerge(bytes)
            .map_err(|e| Error::invalid("case document", e))?;
        let mut incoming = CaseDoc::load(&[bytes.to_vec()], &self.actor)
            .map_err(|e| Error::invalid("case document", e))?;
        // No envelope says which case this is: the id its creating change wrote does, which
        // no later change (by any member) can alter; the current `id` field could.
        let id = incoming.created_as().map_err(|e| Error::invalid("case document", e))?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::invalid(
                "case document",
                "het document heeft geen geldig casusnummer",
            ));
        }
        incoming.read(&id).map_err(|e| Error::invalid("case document", e))?;
        if self.store.doc_state(&id)?.is_some() {
            // A document started elsewhere under the same id is another case: merging it
            // would mix two residents' records.
            if !self.with_case(&id, |doc| Ok(doc.shares_origin(&mut incoming)))? {
                return Err(Error::invalid(
                    "case document",
                    "het document is een andere casus met hetzelfde casusnummer",
                ));
            }
            self.write_case_as(
                &id,
                Publish::Foreign,
                |doc| doc.merge_bytes(bytes).map(|_| ()),
                |_| Ok(()),
            )?;
        } else {
            let summary = incoming.summary(&id)?;
            let tx = self.store.transaction()?;
            tx.put_snapshot(&id, DocKind::Case, &incoming.save())?;
            tx.put_summary(&id, &summary)?;
            tx.commit()?;
        }
        Ok(id)
    }

    // ---- plumbing ----

    pub(crate) fn assessment_framework(
        &mut self,
        case_id: &str,
        assessment_id: &str,
    ) -> Result<Framework> {
        let (id, version) = self.with_case(case_id, |doc| {
            let a = doc.assessment(assessment_id)?;
            Ok((a.framework_id, a.framework_version))
        })?;
        self.framework(&id, version)
    }

    pub(crate) fn team_doc(&self) -> Result<TeamDoc> {
        let stored = self
            .store
            .load_doc(TEAM_DOC_ID)?
            .ok_or_else(|| Error::Corrupt("no team document".into()))?;
        TeamDoc::load(&stored.chunks, &self.actor)
    }

    pub(crate) fn with_case<T>(
        &mut self,
        case_id: &str,
        read: impl FnOnce(&mut CaseDoc) -> Result<T>,
    ) -> Result<T> {
        let state =
            self.store.doc_state(case_id)?.ok_or_else(|| Error::not_found("case", case_id))?;
        let mut doc = match self.cache.remove(case_id) {
            Some((version, doc)) if version == state.version => doc,
            _ => {
                let stored = self
                    .store
                    .load_doc(case_id)?
                    .ok_or_else(|| Error::not_found("case", case_id))?;
                CaseDoc::load(&stored.chunks, &self.actor)?
            }
        };
        let result = read(&mut doc);
        self.remember(case_id, state.version, doc);
        result
    }

    /// Applies `edit` to a case and stores the resulting changes and summary in one
    /// transaction. If `edit` fails, the in-memory copy is dropped and the store is untouched.
    pub(crate) fn write_case<T>(
        &mut self,
        case_id: &str,
        edit: impl FnOnce(&mut CaseDoc) -> Result<T>,
    ) -> Result<T> {
        self.write_case_as(case_id, Publish::Own, edit, |_| Ok(()))
    }

    /// As `write_case`, with `also` writing rows of its own (an attachment's sealed chunks) in
    /// the same transaction: both are stored, or neither.
    pub(crate) fn write_case_and<T>(
        &mut self,
        case_id: &str,
        edit: impl FnOnce(&mut CaseDoc) -> Result<T>,
        also: impl FnOnce(&StoreTx<'_>) -> Result<()>,
    ) -> Result<T> {
        self.write_case_as(case_id, Publish::Own, edit, also)
    }

    /// `publish` says whether the changes are this device's own (sealed for the team in the
    /// same transaction) or someone else's arriving by merge or sync (never re-published).
    fn write_case_as<T>(
        &mut self,
        case_id: &str,
        publish: Publish,
        edit: impl FnOnce(&mut CaseDoc) -> Result<T>,
        also: impl FnOnce(&StoreTx<'_>) -> Result<()>,
    ) -> Result<T> {
        let tx = self.store.transaction()?;
        let state = tx.doc_state(case_id)?.ok_or_else(|| Error::not_found("case", case_id))?;
        let mut doc = match self.cache.remove(case_id) {
            Some((version, doc)) if version == state.version => doc,
            _ => {
                let stored =
                    tx.load_doc(case_id)?.ok_or_else(|| Error::not_found("case", case_id))?;
                CaseDoc::load(&stored.chunks, &self.actor)?
            }
        };
        let heads = doc.heads();
        let out = edit(&mut doc)?;
        let changes = doc.save_after(&heads);
        if changes.is_empty() {
            drop(tx);
            self.remember(case_id, state.version, doc);
            return Ok(out);
        }
        let mut after = tx.append_changes(case_id, &changes)?;
        // Changes still waiting for what they build on are not in `save()`: they stay chunks.
        if after.compaction_due() && !doc.lacks_dependencies() {
            tx.put_snapshot(case_id, DocKind::Case, &doc.save())?;
            after.version += 1;
        }
        // Before sealing: a key minted for this change goes to the readers the case has now.
        tx.put_summary(case_id, &doc.summary(case_id)?)?;
        if let (Publish::Own, Some(team)) = (publish, &self.team) {
            team.publish(&tx, &self.identity, case_id, &changes)?;
        }
        also(&tx)?;
        tx.commit()?;
        self.remember(case_id, after.version, doc);
        Ok(out)
    }

    pub(crate) fn remember(&mut self, case_id: &str, version: i64, doc: CaseDoc) {
        if self.cache.len() >= CACHE_LIMIT && !self.cache.contains_key(case_id) {
            if let Some(evict) = self.cache.keys().next().cloned() {
                self.cache.remove(&evict);
            }
        }
        self.cache.insert(case_id.to_string(), (version, doc));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Publish {
    Own,
    Foreign,
}

fn parse_bool(value: &str) -> Result<bool> {
    match value.trim() {
        "true" | "ja" => Ok(true),
        "false" | "nee" => Ok(false),
        other => Err(Error::invalid("value", format!("{other:?} is geen ja of nee"))),
    }
}

/// A point in time for display and for the CLI's `--at`.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim()).map(|t| t.with_timezone(&Utc)).map_err(|e| {
        Error::invalid(
            "at",
            format!("{s:?} is geen tijdstip in RFC 3339-vorm, zoals 2026-11-02T10:00:00Z ({e})"),
        )
    })
}

/// A verdict counts only when one supervisor's device wrote all of it: a review created or
/// touched by a worker's device (which can name anyone as reviewer in the document) is left
/// out, and the reviewer shown is the device that signed it, not what the document says.
/// Outside a team a device acts for itself and its own reviews count.
fn keep_supervisors_reviews(
    doc: &CaseDoc,
    case: &mut Case,
    supervisors: Option<&[String]>,
) -> Result<()> {
    if case.reviews.is_empty() {
        return Ok(());
    }
    let writers = doc.review_writers()?;
    case.reviews.retain_mut(|review| {
        let Some([writer]) = writers.get(&review.id).map(Vec::as_slice) else { return false };
        if supervisors.is_some_and(|s| !s.contains(writer)) {
            return false;
        }
        review.reviewer_device = writer.clone();
        true
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SecretKey;

    fn device(dir: &Path, key: &SecretKey) -> Device {
        Device::create(dir, Unlock::Key(key.clone()), "Sanne").unwrap()
    }

    fn note(text: &str) -> NewVisit {
        NewVisit { note: text.into(), ..NewVisit::default() }
    }

    #[test]
    fn many_visits_survive_compaction_and_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::generate().unwrap();
        let mut sanne = device(dir.path(), &key);
        let case = sanne.new_case(&Resident::named("Willem"), None).unwrap();
        for n in 0..150 {
            sanne.record_visit(&case, &note(&format!("bezoek {n}"))).unwrap();
        }
        let state = sanne.store.doc_state(&case).unwrap().unwrap();
        assert!(state.changes_len > 0 && !state.compaction_due(), "compaction keeps changes small");
        drop(sanne);
        let mut reopened = Device::open(dir.path(), Unlock::Key(key)).unwrap();
        let visits = reopened.case(&case).unwrap().visits;
        assert_eq!(visits.len(), 150);
        assert_eq!(reopened.cases().unwrap()[0].visit_count, 150);
    }

    #[test]
    fn every_change_names_the_device_that_made_it() {
        let key = SecretKey::generate().unwrap();
        let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut a = device(a_dir.path(), &key);
        let mut b = device(b_dir.path(), &key);
        let case = a.new_case(&Resident::named("Willem"), None).unwrap();
        b.merge_case(&a.export_case(&case).unwrap()).unwrap();
        b.record_visit(&case, &note("van b")).unwrap();
        a.merge_case(&b.export_case(&case).unwrap()).unwrap();
        let actors = a.with_case(&case, |doc| Ok(doc.actors())).unwrap();
        let mut devices: Vec<DeviceId> =
            actors.iter().filter_map(|actor| crypto::actor_device(actor)).collect();
        devices.sort();
        let mut expected = vec![a.device_id(), b.device_id()];
        expected.sort();
        assert_eq!(devices, expected);
        let author = &a.case(&case).unwrap().visits[0].author_device;
        assert_eq!(author, &b.device_id().to_hex());
    }

    #[test]
    fn two_handles_on_one_store_lose_nothing() {
        // A second process (say, the CLI while the app runs) writes between our writes: the
        // stale cached copy must be noticed, not compacted over the other's changes.
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::generate().unwrap();
        let mut first = device(dir.path(), &key);
        let case = first.new_case(&Resident::named("Aïsha"), None).unwrap();
        let mut second = Device::open(dir.path(), Unlock::Key(key)).unwrap();
        for n in 0..40 {
            first.record_visit(&case, &note(&format!("eerste {n}"))).unwrap();
            second.record_visit(&case, &note(&format!("tweede {n}"))).unwrap();
        }
        assert_eq!(first.case(&case).unwrap().visits.len(), 80);
        assert_eq!(second.case(&case).unwrap().visits.len(), 80);
    }

    #[test]
    fn search_ignores_case_and_accents_and_lists_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut sanne = device(dir.path(), &SecretKey::generate().unwrap());
        for name in ["Willem Bakker", "Aïsha El Amrani", "ahmed Yusuf"] {
            sanne.new_case(&Resident::named(name), None).unwrap();
        }
        let names = |cases: Vec<CaseSummary>| {
            cases.into_iter().map(|c| c.resident.name).collect::<Vec<_>>()
        };
        assert_eq!(
            names(sanne.cases().unwrap()),
            ["ahmed Yusuf", "Aïsha El Amrani", "Willem Bakker"]
        );
        assert_eq!(names(sanne.search("AISHA").unwrap()), ["Aïsha El Amrani"]);
        assert!(sanne.search("Jansen").unwrap().is_empty());
    }

    #[test]
    fn a_failed_edit_leaves_the_case_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let mut sanne = device(dir.path(), &SecretKey::generate().unwrap());
        let case = sanne.new_case(&Resident::named("Willem"), None).unwrap();
        let assessment = sanne.start_assessment(&case, "Auto meetellen?", None).unwrap();
        let before = sanne.case(&case).unwrap();
        let law_first =
            sanne.answer(&case, &assessment, &Item::Step("wettelijke_kaders".into()), "Art. 34");
        assert!(matches!(law_first, Err(Error::InvalidInput { .. })));
        let no_motivation =
            sanne.set_verdict(&case, &assessment, "rechtmatig", Verdict::Conflicts, " ");
        assert!(matches!(no_motivation, Err(Error::InvalidInput { .. })));
        assert_eq!(sanne.case(&case).unwrap(), before);
    }

    #[test]
    fn replicas_merge_through_exported_documents() {
        let key = SecretKey::generate().unwrap();
        let (a_dir, b_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut a = device(a_dir.path(), &key);
        let mut b = device(b_dir.path(), &key);
        let case = a.new_case(&Resident::named("Willem"), None).unwrap();
        assert_eq!(b.merge_case(&a.export_case(&case).unwrap()).unwrap(), case);
        a.record_visit(&case, &note("op de telefoon")).unwrap();
        b.record_visit(&case, &note("op de laptop")).unwrap();
        a.merge_case(&b.export_case(&case).unwrap()).unwrap();
        b.merge_case(&a.export_case(&case).unwrap()).unwrap();
        assert_eq!(a.case(&case).unwrap(), b.case(&case).unwrap());
        assert_eq!(a.case(&case).unwrap().visits.len(), 2);
        assert!(matches!(a.merge_case(b"geen automerge"), Err(Error::InvalidInput { .. })));
    }

    #[test]
    fn framework_versions_only_go_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut sanne = device(dir.path(), &SecretKey::generate().unwrap());
        let source = Framework::builtin_source();
        assert!(matches!(sanne.install_framework(source), Err(Error::InvalidInput { .. })));
        let v2 = source.replacen("version = 1", "version = 2", 1);
        assert_eq!(sanne.install_framework(&v2).unwrap().version, 2);
        assert!(matches!(sanne.install_framework(&v2), Err(Error::InvalidInput { .. })));
        assert_eq!(sanne.frameworks().unwrap()[0].version, 2);
        assert!(
            sanne.framework("wijkteam-standaard", 1).is_ok(),
            "old versions stay for old assessments"
        );
    }
}
