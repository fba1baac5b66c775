//! A case's document: how a case, its visits, assessments and reviews are laid out, the edits
//! a worker makes to it, and reading it back (with autosurgeon) including the fields that were
//! set concurrently and now need a person to choose.
//!
//! Every text object a later edit might touch (answers, motivations) is created together with
//! its parent record by one device, so concurrent edits land in the same text and merge
//! character by character instead of one object replacing another. Long texts written whole
//! (a visit's note, an observation, a review's note) are single strings, so a case of a
//! hundred visits loads in milliseconds; a visit's note becomes a text object when it is first
//! edited, and two devices editing it for the first time at once leave a conflict that keeps
//! both versions until a person chooses.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::transaction::Transactable;
use automerge::{
    ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT,
};
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::tree::{self, by_key, opt_by_key};
use super::{
    collect_conflicts, opt_text, put_text, update_known_text, update_text, Millis, TextField,
};

use crate::access_log::{self, AccessAction, AccessEntry};
use crate::checklist::{Answers, Framework, Item, ValueVerdict, Verdict};
use crate::model::{
    Assessment, Assignment, AssignmentRole, Case, CaseStatus, CaseSummary, CaseType, Conflict,
    LifeDomain, NewVisit, Observation, Resident, ResidentName, Review, ReviewVerdict, Score, Visit,
};
use crate::{Error, Result};

/// Bumped when the layout changes in a way older readers cannot follow. 2: long texts may be
/// strings (`TextField`), which readers of schema 1 cannot hydrate. 3: a visit is recorded as
/// one JSON string (`RecordedVisit`), which readers of schema 2 do not know.
const SCHEMA: u64 = 3;

/// The visit's key under which what was recorded is stored (schema 3).
const RECORDED: &str = "recorded";

/// Prefix of the keys in a visit under which observations added after recording are stored:
/// one key each, so that concurrent additions on two devices are both kept.
const ADDED_OBSERVATION: &str = "observation/";

/// Prefix of the root keys under which files kept with the case are recorded: one key each,
/// so that files attached on two devices at once are both kept. A root key outside the case's
/// structure is any member's to write (`doc::authority`), as a visit is.
pub(crate) const ATTACHMENT: &str = "attachment/";

/// `merge_bytes` fails with this when changes arrived before changes they build on.
pub const MISSING_DEPENDENCIES: &str = "the changes depend on changes this device lacks";

/// The root field that lists who the case is assigned to (see `doc::authority`).
pub(crate) const ASSIGNED: &str = "assigned";

/// One entry per member: names compare as people read them, whatever the case or spacing.
fn member_key(member: &str) -> String {
    crate::model::fold(member.trim())
}

/// One case's automerge document.
pub struct CaseDoc {
    doc: AutoCommit,
    kept: Kept,
}

/// What the summary stored with every write needs, kept between writes: reading it afresh
/// touches much of the document, where recording a visit or typing in its note touches one
/// visit. A merge forgets all of it; an edit outside the visits forgets `outside_visits`.
#[derive(Default)]
struct Kept {
    /// Visit count and latest visit time: counted once, then kept up to date by `add_visit`.
    visit_stats: Option<VisitStats>,
    /// The visits whose note is in conflict: found once, then kept up to date by the edits
    /// that write a note.
    conflicted_notes: Option<BTreeSet<String>>,
    /// The summary as far as it is read outside the visits (its visit fields and conflict
    /// count unset), and how many fields outside the visits are in conflict.
    outside_visits: Option<(CaseSummary, usize)>,
    /// The visit whose note was edited last here, and the text it was left with: the next
    /// keystroke's edit is found against it without reading the note back.
    typed_note: Option<(String, String)>,
}

#[derive(Clone, Copy)]
struct VisitStats {
    count: u32,
    last_at: Option<DateTime<Utc>>,
}

impl CaseDoc {
    /// A new case document, written by `actor`.
    pub fn create(
        actor: &[u8],
        id: &str,
        resident: &Resident,
        case_type: Option<CaseType>,
        now: DateTime<Utc>,
    ) -> Result<CaseDoc> {
        validate_resident(resident)?;
        let mut doc = AutoCommit::new().with_actor(ActorId::from(actor));
        doc.put(ROOT, "schema", SCHEMA)?;
        // Kept for `created_as` (a document passed between replicas by hand has no envelope
        // to say which case it is); never read back as the case's identity.
        doc.put(ROOT, "id", id)?;
        doc.put(ROOT, "created_at", ScalarValue::Timestamp(now.timestamp_millis()))?;
        doc.put(ROOT, "status", CaseStatus::Open.key())?;
        if let Some(case_type) = case_type {
            doc.put(ROOT, "case_type", case_type.key())?;
        }
        let resident_obj = doc.put_object(ROOT, "resident", ObjType::Map)?;
        put_text(&mut doc, &resident_obj, "name", resident.name.trim())?;
        for (field, value) in resident_optional_fields(resident) {
            put_text(&mut doc, &resident_obj, field, value.trim())?;
        }
        doc.put_object(ROOT, "visits", ObjType::Map)?;
        doc.put_object(ROOT, "assessments", ObjType::Map)?;
        doc.put_object(ROOT, "reviews", ObjType::Map)?;
        doc.put_object(ROOT, "access", ObjType::List)?;
        doc.commit();
        Ok(CaseDoc { doc, kept: Kept::default() })
    }

    /// Loads saved bytes (a snapshot followed by any number of incremental saves).
    pub fn load(chunks: &[Vec<u8>], actor: &[u8]) -> Result<CaseDoc> {
        Ok(CaseDoc { doc: super::load_chunks(chunks, actor)?, kept: Kept::default() })
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes made after `heads`, in automerge's incremental format.
    pub fn save_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// Every change this device made (actor ids starting with `device`), as change chunks:
    /// what it publishes when it joins a team or regains the epoch key.
    pub fn own_changes(&mut self, device: &[u8; 16]) -> Vec<u8> {
        self.doc
            .get_changes(&[])
            .iter()
            .filter(|c| c.actor_id().to_bytes().starts_with(device))
            .flat_map(|c| c.raw_bytes().to_vec())
            .collect()
    }

    /// Merges changes from another replica. Returns whether anything new arrived.
    pub fn merge_bytes(&mut self, bytes: &[u8]) -> Result<bool> {
        self.kept = Kept::default();
        super::merge_changes(&mut self.doc, bytes)
    }

    /// A document built from whatever arrived (a snapshot or loose changes), queueing changes
    /// whose dependencies are still missing instead of failing on them.
    pub fn from_arrival(bytes: &[u8], actor: &[u8]) -> Result<CaseDoc> {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(actor));
        doc.load_incremental(bytes)?;
        Ok(CaseDoc { doc, kept: Kept::default() })
    }

    /// Whether `change` is applied here (not waiting for changes it builds on).
    pub(crate) fn holds(&self, change: &automerge::Change) -> bool {
        self.doc.get_change_by_hash(&change.hash()).is_some()
    }

    /// The first rule of `super::authority` an applied `change` breaks, if any.
    pub(crate) fn breach(
        &self,
        change: &automerge::Change,
        supervisor: bool,
        creation: bool,
        adds_backups_as: Option<&str>,
    ) -> Option<super::authority::Breach> {
        super::authority::breach(&self.doc, change, supervisor, creation, adds_backups_as)
    }

    /// How many changes loaded changes build on that this document does not have.
    pub(crate) fn missing_dependencies(&mut self) -> usize {
        self.doc.get_missing_deps(&[]).len()
    }

    /// Whether loaded changes wait for changes this document does not have yet.
    pub fn lacks_dependencies(&mut self) -> bool {
        !self.doc.get_missing_deps(&[]).is_empty()
    }

    /// Every actor that wrote to this document.
    #[cfg(test)]
    pub fn actors(&mut self) -> Vec<Vec<u8>> {
        let mut actors: Vec<Vec<u8>> =
            self.doc.get_changes(&[]).iter().map(|c| c.actor_id().to_bytes().to_vec()).collect();
        actors.sort();
        actors.dedup();
        actors
    }

    /// The id the case was created with: what its creating change wrote, which no later
    /// change can alter. For documents that arrive without an envelope or store row to say
    /// which case they are (a replica's export); refused when the history has more than one
    /// starting change, as a document stitched together from two would.
    pub fn created_as(&mut self) -> Result<String> {
        // Metadata only: building every change's ops (`get_changes`) took longer than loading
        // the whole document for a case of a hundred visits.
        let roots: Vec<ChangeHash> = self
            .doc
            .get_changes_meta(&[])
            .iter()
            .filter(|c| c.deps.is_empty())
            .map(|c| c.hash)
            .collect();
        let [root] = roots.as_slice() else {
            return Err(Error::Document("the document has no single creating change".into()));
        };
        match self.doc.get_at(ROOT, "id", &[*root])? {
            Some((Value::Scalar(id), _)) => match id.as_ref() {
                ScalarValue::Str(id) => Ok(id.to_string()),
                _ => Err(Error::Document("the document was created without a case id".into())),
            },
            _ => Err(Error::Document("the document was created without a case id".into())),
        }
    }

    /// Whether this document holds `other`'s creating change: the same case, not another
    /// document that claims its id.
    pub fn shares_origin(&mut self, other: &mut CaseDoc) -> bool {
        let roots: Vec<ChangeHash> = other
            .doc
            .get_changes_meta(&[])
            .iter()
            .filter(|c| c.deps.is_empty())
            .map(|c| c.hash)
            .collect();
        roots.iter().all(|root| self.doc.get_change_meta_by_hash(root).is_some())
    }

    /// The case, as the case `id`: the caller says which case this is (from the store row or
    /// the envelope header), because what the document says about itself is writable by any
    /// member and would let one rename or redirect a case for everyone.
    pub fn read(&self, id: &str) -> Result<Case> {
        // The schema first: a newer layout may not read as this one at all.
        let schema = match self.doc.get(ROOT, "schema")? {
            Some((Value::Scalar(schema), _)) => match schema.as_ref() {
                ScalarValue::Uint(n) => *n,
                _ => 0,
            },
            _ => 0,
        };
        if schema > SCHEMA {
            return Err(Error::Document(format!(
                "written by a newer version (schema {schema}); update Eropaf"
            )));
        }
        let data: CaseData = tree::read(&self.doc, &ROOT)?;
        // Who made a record is read from the actor of the operation that created it, never from
        // what the writer stored: a member cannot attribute a visit to a colleague.
        let visit_creators = self.creators("visits")?;
        // A record's identity is its key, written once by the change that created it, not an
        // `id` inside it that a later change could point at a colleague's record.
        let mut visits: Vec<Visit> = data
            .visits
            .into_iter()
            .map(|(key, visit)| visit.into_visit(key))
            .map(|mut visit| {
                visit.author_device = visit_creators.get(&visit.id).cloned().unwrap_or_default();
                visit
            })
            .collect();
        visits.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        let assessment_creators = self.creators("assessments")?;
        let mut assessments: Vec<Assessment> = data
            .assessments
            .into_iter()
            .map(|(key, a)| a.into_assessment(key))
            .map(|mut assessment| {
                assessment.author_device =
                    assessment_creators.get(&assessment.id).cloned().unwrap_or_default();
                assessment
            })
            .collect();
        assessments.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        let reviews = sorted_reviews(data.reviews);
        // An access-log entry names the device that made it; one that names another device,
        // or that someone else's change altered, is not shown: nobody logs in another's name.
        let access_writers = self.access_writers()?;
        let access_log = data
            .access
            .into_iter()
            .enumerate()
            .filter(|(index, entry)| {
                access_writers.get(*index).is_some_and(|w| w.as_slice() == [entry.device.clone()])
            })
            .filter_map(|(_, entry)| entry.into_entry())
            .collect();
        Ok(Case {
            id: id.to_string(),
            resident: data.resident.into_resident(),
            status: data.status,
            case_type: data.case_type,
            created_at: data.created_at.0,
            visits,
            assessments,
            reviews,
            access_log,
            closed_at: data.closed_at.map(|m| m.0),
            conflicts: self.conflicts()?,
            attachments: self
                .stored_attachments()?
                .into_iter()
                .filter_map(|(id, stored, author)| stored.into_attachment(id, author))
                .collect(),
        })
    }

    /// Records a file kept with the case (or one of its visits) under `id`: what a reader
    /// shows, and what opens its sealed chunks. Who attached it is this change's actor.
    pub(crate) fn add_attachment(&mut self, id: &str, stored: &StoredAttachment) -> Result<()> {
        if let Some(visit) = &stored.visit {
            self.record("visit", "visits", visit)?;
        }
        let value = serde_json::to_string(stored)
            .map_err(|e| Error::Document(format!("attachment not written: {e}")))?;
        self.doc.put(ROOT, format!("{ATTACHMENT}{id}"), value)?;
        self.commit()
    }

    /// Every file the case records, oldest first, with the device that attached it; a value
    /// that does not read as one (a newer layout, a member's junk) is left out, and the rest
    /// of the case still reads.
    pub(crate) fn stored_attachments(&self) -> Result<Vec<(String, StoredAttachment, String)>> {
        let mut found = Vec::new();
        let keys: Vec<String> =
            self.doc.keys(ROOT).filter(|key| key.starts_with(ATTACHMENT)).collect();
        for key in keys {
            let Some((Value::Scalar(value), ObjId::Id(_, actor, _))) = self.doc.get(ROOT, &key)?
            else {
                continue;
            };
            let ScalarValue::Str(json) = value.as_ref() else { continue };
            let Ok(stored) = serde_json::from_str::<StoredAttachment>(json) else { continue };
            let author = crate::crypto::actor_device(actor.to_bytes())
                .map(|device| device.to_hex())
                .unwrap_or_default();
            found.push((key[ATTACHMENT.len()..].to_string(), stored, author));
        }
        found.sort_by(|a, b| a.1.at.cmp(&b.1.at).then_with(|| a.0.cmp(&b.0)));
        Ok(found)
    }

    /// For each record of a collection, the device whose change created it.
    fn creators(&self, collection: &str) -> Result<HashMap<String, String>> {
        let map = self.map_at(&[collection])?;
        let mut creators = HashMap::new();
        for item in self.doc.map_range(&map, ..) {
            if let ObjId::Id(_, actor, _) = item.id() {
                if let Some(device) = crate::crypto::actor_device(actor.to_bytes()) {
                    creators.insert(item.key.to_string(), device.to_hex());
                }
            }
        }
        Ok(creators)
    }

    /// Single-valued fields that hold more than one value after a merge. Text and list
    /// objects never conflict (they merge), and records live under random ids, so what shows
    /// up here is a real disagreement between two people. Of a visit only the note is looked
    /// at: the rest is written once, with the visit, and its lists merge.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        let mut found = Vec::new();
        collect_conflicts(&self.doc, &ROOT, "", &|path| path == "visits", &mut found)?;
        found.extend(self.note_conflicts()?);
        found.extend(self.review_conflicts()?);
        Ok(found)
    }

    /// Visit notes that two devices edited for the first time at once (each turned the
    /// recorded string into a text object of its own), with every version.
    fn note_conflicts(&self) -> Result<Vec<Conflict>> {
        let visits = self.map_at(&["visits"])?;
        let mut found = Vec::new();
        for item in self.doc.map_range(&visits, ..) {
            let notes = self.doc.get_all(item.id(), "note")?;
            if notes.len() > 1 {
                found.push(Conflict {
                    path: format!("visits/{}/note", item.key),
                    values: notes.iter().map(|(v, id)| super::render(&self.doc, v, id)).collect(),
                });
            }
        }
        Ok(found)
    }

    /// How many visit notes are in conflict, without reading every visit on each write.
    fn conflicted_note_count(&mut self) -> Result<usize> {
        if let Some(notes) = &self.kept.conflicted_notes {
            return Ok(notes.len());
        }
        let notes: BTreeSet<String> = self
            .note_conflicts()?
            .into_iter()
            .filter_map(|c| c.path.split('/').nth(1).map(str::to_string))
            .collect();
        let count = notes.len();
        self.kept.conflicted_notes = Some(notes);
        Ok(count)
    }

    /// Keeps the kept set of conflicted notes true after `visit`'s note was written here.
    fn note_written(&mut self, visit: &ObjId, visit_id: &str) -> Result<()> {
        let in_conflict = self.doc.get_all(visit, "note")?.len() > 1;
        if let Some(notes) = &mut self.kept.conflicted_notes {
            if in_conflict {
                notes.insert(visit_id.to_string());
            } else {
                notes.remove(visit_id);
            }
        }
        Ok(())
    }

    /// Verdicts on the same submission of an assessment that were given without either
    /// reviewer seeing the other's, and that differ. Each review is its own record, so
    /// automerge keeps both without a conflict of its own; this makes the disagreement
    /// visible instead of letting the later clock silently win.
    fn review_conflicts(&self) -> Result<Vec<Conflict>> {
        let reviews_obj = self.map_at(&["reviews"])?;
        if self.doc.length(&reviews_obj) < 2 {
            return Ok(Vec::new());
        }
        let reviews: HashMap<String, ReviewData> = tree::read(&self.doc, &reviews_obj)?;
        let reviews = sorted_reviews(reviews);
        let mut assessment_ids: Vec<&str> =
            reviews.iter().map(|r| r.assessment_id.as_str()).collect();
        assessment_ids.sort_unstable();
        assessment_ids.dedup();
        let mut found = Vec::new();
        for assessment_id in assessment_ids {
            let submitted_at = self.submitted_at(assessment_id)?;
            let heads = crate::review::current_verdicts(&reviews, assessment_id, submitted_at);
            let mut verdicts: Vec<&str> = heads.iter().map(|r| r.verdict.key()).collect();
            verdicts.sort_unstable();
            verdicts.dedup();
            if verdicts.len() > 1 {
                found.push(Conflict {
                    path: format!("assessments/{assessment_id}/review"),
                    values: verdicts.into_iter().map(str::to_string).collect(),
                });
            }
        }
        Ok(found)
    }

    fn submitted_at(&self, assessment_id: &str) -> Result<Option<DateTime<Utc>>> {
        let Ok(assessment) = self.record("assessment", "assessments", assessment_id) else {
            return Ok(None);
        };
        Ok(match self.doc.get(&assessment, "submitted_at")? {
            Some((Value::Scalar(at), _)) => match at.as_ref() {
                ScalarValue::Timestamp(millis) => Utc.timestamp_millis_opt(*millis).single(),
                _ => None,
            },
            _ => None,
        })
    }

    /// The sealed summary row of this case. Every write stores one, so it must not cost a
    /// read of the document: what lies outside the visits is read once and kept while only
    /// visits change. As for `read`, the caller says which case this is.
    pub fn summary(&mut self, id: &str) -> Result<CaseSummary> {
        let (outside, outside_conflicts) = match &self.kept.outside_visits {
            Some(kept) => kept.clone(),
            None => {
                let read = self.summary_outside_visits()?;
                self.kept.outside_visits = Some(read.clone());
                read
            }
        };
        let visits = self.visit_stats()?;
        let conflicts = outside_conflicts + self.conflicted_note_count()?;
        Ok(CaseSummary {
            id: id.to_string(),
            visit_count: visits.count,
            last_visit_at: visits.last_at,
            conflict_count: u32::try_from(conflicts).unwrap_or(u32::MAX),
            ..outside
        })
    }

    fn summary_outside_visits(&self) -> Result<(CaseSummary, usize)> {
        let resident = self.child(&ROOT, "resident")?;
        let name: TextField = autosurgeon::hydrate_prop(&self.doc, &resident, "name")?;
        let case_type = match self.doc.get(ROOT, "case_type")? {
            Some(_) => Some(autosurgeon::hydrate_prop(&self.doc, ROOT, "case_type")?),
            None => None,
        };
        let assessment_count = self.doc.length(self.map_at(&["assessments"])?);
        let mut conflicts = Vec::new();
        collect_conflicts(&self.doc, &ROOT, "", &|path| path == "visits", &mut conflicts)?;
        let summary = CaseSummary {
            id: String::new(),
            resident: ResidentName { name: name.0 },
            status: autosurgeon::hydrate_prop(&self.doc, ROOT, "status")?,
            case_type,
            visit_count: 0,
            assessment_count: u32::try_from(assessment_count).unwrap_or(u32::MAX),
            last_visit_at: None,
            conflict_count: 0,
            closed_at: match self.doc.get(ROOT, "closed_at")? {
                Some(_) => Some(
                    autosurgeon::hydrate_prop::<_, Millis, _, _>(&self.doc, ROOT, "closed_at")?.0,
                ),
                None => None,
            },
            assignments: self.assignments()?,
            created_by: self.created_by()?,
        };
        Ok((summary, conflicts.len() + self.review_conflicts()?.len()))
    }

    fn visit_stats(&mut self) -> Result<VisitStats> {
        if let Some(stats) = self.kept.visit_stats {
            return Ok(stats);
        }
        let visits = self.map_at(&["visits"])?;
        let mut stats = VisitStats { count: 0, last_at: None };
        for item in self.doc.map_range(&visits, ..) {
            // Counted as `read` shows them: a visit without a readable time is left out.
            if let Some(at) = self.visit_time(&item.id())? {
                stats.count += 1;
                stats.last_at = stats.last_at.max(Some(at.0));
            }
        }
        self.kept.visit_stats = Some(stats);
        Ok(stats)
    }

    /// The time of the visit `visit`, read as `VisitData::from_stored` reads it, without
    /// reading the rest of the visit: `None` for a visit that `read` leaves out.
    fn visit_time(&self, visit: &ObjId) -> Result<Option<Millis>> {
        #[derive(Deserialize)]
        struct RecordedAt {
            at: Millis,
        }
        let at = |json: &str| serde_json::from_str::<RecordedAt>(json).ok().map(|r| r.at);
        let time = match self.doc.get(visit, RECORDED)? {
            Some((Value::Scalar(recorded), _)) => match recorded.as_ref() {
                ScalarValue::Str(json) => at(json),
                _ => None,
            },
            // Texts read as strings (`tree::read`); only another writer would store one here.
            Some((Value::Object(ObjType::Text), text)) => at(&self.doc.text(&text)?),
            Some(_) => None,
            None => match self.doc.get(visit, "at")? {
                Some((Value::Scalar(at), _)) => match at.as_ref() {
                    ScalarValue::Timestamp(millis) | ScalarValue::Int(millis) => {
                        Utc.timestamp_millis_opt(*millis).single().map(Millis)
                    }
                    ScalarValue::Uint(millis) => i64::try_from(*millis)
                        .ok()
                        .and_then(|millis| Utc.timestamp_millis_opt(millis).single())
                        .map(Millis),
                    _ => None,
                },
                _ => None,
            },
        };
        Ok(time)
    }

    /// One assessment, without reading the rest of the case.
    pub fn assessment(&self, id: &str) -> Result<Assessment> {
        let obj = self.record("assessment", "assessments", id)?;
        let data: AssessmentData = tree::read(&self.doc, &obj)?;
        let mut assessment = data.into_assessment(id.to_string());
        // As in `read`: the author is the device that created the record.
        assessment.author_device = self.creators("assessments")?.remove(id).unwrap_or_default();
        Ok(assessment)
    }

    pub fn set_status(&mut self, status: CaseStatus) -> Result<()> {
        self.set_status_at(status, Utc::now())
    }

    /// Sets the status; closing records when (retention counts from there), reopening
    /// forgets it.
    pub fn set_status_at(&mut self, status: CaseStatus, now: DateTime<Utc>) -> Result<()> {
        self.doc.put(ROOT, "status", status.key())?;
        if status == CaseStatus::Closed {
            self.doc.put(ROOT, "closed_at", ScalarValue::Timestamp(now.timestamp_millis()))?;
        } else if self.doc.get(ROOT, "closed_at")?.is_some() {
            self.doc.delete(ROOT, "closed_at")?;
        }
        self.commit()
    }

    /// Appends an access to the log, unless it repeats a recent identical one. Returns
    /// whether it was written.
    pub fn log_access(&mut self, entry: &AccessEntry) -> Result<bool> {
        let list = match self.doc.get(ROOT, "access")? {
            Some((Value::Object(ObjType::List), obj)) => obj,
            // Cases created before the access log existed get one with their first entry.
            _ => self.doc.put_object(ROOT, "access", ObjType::List)?,
        };
        let len = self.doc.length(&list);
        let recent: Vec<AccessEntry> = (len.saturating_sub(16)..len)
            .filter_map(|index| {
                let Ok(Some((Value::Object(ObjType::Map), obj))) = self.doc.get(&list, index)
                else {
                    return None;
                };
                tree::read::<AccessData>(&self.doc, &obj).ok()?.into_entry()
            })
            .collect();
        if !access_log::is_new(&recent, entry) {
            return Ok(false);
        }
        let obj = self.doc.insert_object(&list, len, ObjType::Map)?;
        self.doc.put(&obj, "at", ScalarValue::Timestamp(entry.at.timestamp_millis()))?;
        self.doc.put(&obj, "device", entry.device.as_str())?;
        self.doc.put(&obj, "member", entry.member.as_str())?;
        self.doc.put(&obj, "action", entry.action.key())?;
        if let Some(on_behalf) = entry.on_behalf.as_deref().map(str::trim).filter(|s| !s.is_empty())
        {
            self.doc.put(&obj, "on_behalf", on_behalf)?;
        }
        self.commit()?;
        Ok(true)
    }

    /// Begins the case's assignment list when it has none: from then on the list says who
    /// reads the case, not who created it.
    pub fn ensure_assignment_list(&mut self) -> Result<ObjId> {
        Ok(match self.doc.get(ROOT, ASSIGNED)? {
            Some((Value::Object(ObjType::Map), obj)) => obj,
            _ => self.doc.put_object(ROOT, ASSIGNED, ObjType::Map)?,
        })
    }

    /// Assigns `assignment.member` to the case (replacing what that member had). Only a
    /// supervisor's device may write this part of the case (`doc::authority`).
    pub fn assign(&mut self, assignment: &Assignment) -> Result<()> {
        let map = self.ensure_assignment_list()?;
        let entry = self.doc.put_object(&map, member_key(&assignment.member), ObjType::Map)?;
        self.doc.put(&entry, "member", assignment.member.trim())?;
        self.doc.put(&entry, "role", assignment.role.key())?;
        if let Some(until) = assignment.until {
            self.doc.put(&entry, "until", ScalarValue::Timestamp(until.timestamp_millis()))?;
        }
        self.doc.put(&entry, "by", assignment.by.as_str())?;
        self.doc.put(&entry, "at", ScalarValue::Timestamp(assignment.at.timestamp_millis()))?;
        self.commit()
    }

    /// Ends `member`'s assignment; returns whether the member was assigned.
    pub fn unassign(&mut self, member: &str) -> Result<bool> {
        let key = member_key(member);
        let mut found = false;
        // Two supervisors who each began the list while offline left two lists: the member
        // goes from both, or would still be read from the other.
        let maps: Vec<ObjId> = self
            .doc
            .get_all(ROOT, ASSIGNED)?
            .into_iter()
            .filter(|(value, _)| matches!(value, Value::Object(ObjType::Map)))
            .map(|(_, map)| map)
            .collect();
        for map in maps {
            if self.doc.get(&map, &key)?.is_some() {
                self.doc.delete(&map, &key)?;
                found = true;
            }
        }
        self.commit()?;
        Ok(found)
    }

    /// Who the case is assigned to, in member order; `None` while nobody was ever assigned.
    pub fn assignments(&self) -> Result<Option<Vec<Assignment>>> {
        let maps = self.doc.get_all(ROOT, ASSIGNED)?;
        if maps.is_empty() {
            return Ok(None);
        }
        let mut out: BTreeMap<String, Assignment> = BTreeMap::new();
        for (value, map) in maps {
            if !matches!(value, Value::Object(ObjType::Map)) {
                continue;
            }
            for key in self.doc.keys(&map) {
                let Some((Value::Object(ObjType::Map), entry)) = self.doc.get(&map, &key)? else {
                    continue;
                };
                let text = |field: &str| -> Result<Option<String>> {
                    Ok(match self.doc.get(&entry, field)? {
                        Some((Value::Scalar(value), _)) => match value.as_ref() {
                            ScalarValue::Str(text) => Some(text.to_string()),
                            _ => None,
                        },
                        _ => None,
                    })
                };
                let time = |field: &str| -> Result<Option<DateTime<Utc>>> {
                    Ok(match self.doc.get(&entry, field)? {
                        Some((Value::Scalar(value), _)) => match value.as_ref() {
                            ScalarValue::Timestamp(ms) => Utc.timestamp_millis_opt(*ms).single(),
                            _ => None,
                        },
                        _ => None,
                    })
                };
                let (Some(member), Some(role)) =
                    (text("member")?, text("role")?.and_then(|r| AssignmentRole::parse(&r)))
                else {
                    continue;
                };
                let assignment = Assignment {
                    member,
                    role,
                    until: time("until")?,
                    by: text("by")?.unwrap_or_default(),
                    at: time("at")?.unwrap_or_default(),
                };
                out.entry(key).or_insert(assignment);
            }
        }
        Ok(Some(out.into_values().collect()))
    }

    /// The device whose change created the case (wrote its schema), when known.
    pub fn created_by(&self) -> Result<Option<String>> {
        Ok(match self.doc.get(ROOT, "schema")? {
            Some((_, ObjId::Id(_, actor, _))) => {
                crate::crypto::actor_device(actor.to_bytes()).map(|device| device.to_hex())
            }
            _ => None,
        })
    }

    /// Marks an assessment as submitted now, and whether it needs a supervisor's verdict.
    pub fn submit_assessment(
        &mut self,
        assessment_id: &str,
        needs_review: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let assessment = self.record("assessment", "assessments", assessment_id)?;
        self.doc.put(
            &assessment,
            "submitted_at",
            ScalarValue::Timestamp(now.timestamp_millis()),
        )?;
        self.doc.put(&assessment, "needs_review", needs_review)?;
        self.commit()
    }

    pub fn set_case_type(&mut self, case_type: CaseType) -> Result<()> {
        self.doc.put(ROOT, "case_type", case_type.key())?;
        self.commit()
    }

    /// Replaces the resident's details: text fields are updated by diff so a concurrent edit
    /// on another device still merges; fields left empty are removed from the document.
    pub fn update_resident(&mut self, resident: &Resident) -> Result<()> {
        validate_resident(resident)?;
        let obj = self.map_at(&["resident"])?;
        update_text(&mut self.doc, &obj, "name", resident.name.trim())?;
        let present: HashMap<&str, &str> = resident_optional_fields(resident).into_iter().collect();
        for field in ["address", "phone", "household"] {
            match present.get(field) {
                Some(value) => update_text(&mut self.doc, &obj, field, value.trim())?,
                None => self.doc.delete(&obj, field)?,
            }
        }
        self.commit()
    }

    /// Records a visit under `id`. automerge's cost is per operation far more than per byte,
    /// and nothing recorded is edited field by field later, so what was recorded is one JSON
    /// string in the visit's map: two operations where a field each took eight. Later edits
    /// go beside it (`note` once edited, `observation/...` per added observation). Who
    /// recorded it is the actor of this change, never a field a writer could fill in.
    pub fn add_visit(&mut self, id: &str, visit: &NewVisit, now: DateTime<Utc>) -> Result<()> {
        let visits = self.map_at(&["visits"])?;
        let at = visit.at.unwrap_or(now);
        let recorded = RecordingVisit {
            at: at.timestamp_millis(),
            place: visit.place.as_deref().map(str::trim).filter(|p| !p.is_empty()),
            present: visit.present.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect(),
            note: visit.note.trim(),
            observations: visit.observations.iter().map(stored_observation).collect(),
        };
        let recorded = serde_json::to_string(&recorded)
            .map_err(|e| Error::Document(format!("visit not written: {e}")))?;
        let obj = self.doc.put_object(&visits, id, ObjType::Map)?;
        self.doc.put(&obj, RECORDED, recorded)?;
        if let Some(stats) = &mut self.kept.visit_stats {
            stats.count += 1;
            // Millisecond precision, as stored, so the kept value equals a fresh count.
            stats.last_at =
                stats.last_at.max(Utc.timestamp_millis_opt(at.timestamp_millis()).single());
        }
        self.commit_visit_edit()
    }

    /// Edits the note in place. The first edit turns the note recorded with the visit into a
    /// text object, so that edits made after it merge character by character; while the note
    /// is in conflict, this edits the version shown and leaves the other for a person.
    pub fn edit_visit_note(&mut self, visit_id: &str, note: &str) -> Result<()> {
        let visit = self.record("visit", "visits", visit_id)?;
        let known = self.kept.typed_note.take().filter(|(id, _)| id == visit_id);
        let note = note.trim();
        update_known_text(
            &mut self.doc,
            &visit,
            "note",
            known.as_ref().map(|(_, t)| t.as_str()),
            note,
        )?;
        self.kept.typed_note = Some((visit_id.to_string(), note.to_string()));
        self.note_written(&visit, visit_id)?;
        self.commit_visit_edit()
    }

    /// Settles a note in conflict: `note` replaces every version of it.
    pub fn settle_visit_note(&mut self, visit_id: &str, note: &str) -> Result<()> {
        let visit = self.record("visit", "visits", visit_id)?;
        self.kept.typed_note = None;
        self.doc.put(&visit, "note", note.trim())?;
        self.note_written(&visit, visit_id)?;
        self.commit_visit_edit()
    }

    /// Adds an observation to a visit; concurrent additions on two devices keep both. A
    /// visit of schema 2 has a list for them; one of schema 3 takes a key per observation,
    /// numbered in order and told apart by the writing device.
    pub fn add_observation(&mut self, visit_id: &str, observation: &Observation) -> Result<()> {
        let visit = self.record("visit", "visits", visit_id)?;
        let value = serde_json::to_string(&stored_observation(observation))
            .map_err(|e| Error::Document(format!("observation not written: {e}")))?;
        match self.doc.get(&visit, "observations")? {
            Some((Value::Object(ObjType::List), list)) => {
                self.doc.insert(&list, self.doc.length(&list), value)?;
            }
            _ => {
                let added =
                    self.doc.keys(&visit).filter(|key| key.starts_with(ADDED_OBSERVATION)).count();
                let actor = self.doc.get_actor().to_hex_string();
                let key = format!("{ADDED_OBSERVATION}{:06}.{actor}", added + 1);
                self.doc.put(&visit, key, value)?;
            }
        }
        self.commit_visit_edit()
    }

    /// Starts an assessment. Every step answer and value motivation is created now as an
    /// empty text, so that later edits on any device merge into it.
    pub fn start_assessment(
        &mut self,
        id: &str,
        author: &str,
        framework: &Framework,
        question: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let question = question.trim();
        if question.is_empty() {
            return Err(Error::invalid("question", "beschrijf het besluit dat je overweegt"));
        }
        let assessments = self.map_at(&["assessments"])?;
        let obj = self.doc.put_object(&assessments, id, ObjType::Map)?;
        self.doc.put(&obj, "id", id)?;
        self.doc.put(&obj, "author", author)?;
        self.doc.put(&obj, "created_at", ScalarValue::Timestamp(now.timestamp_millis()))?;
        self.doc.put(&obj, "framework_id", framework.id.as_str())?;
        self.doc.put(&obj, "framework_version", u64::from(framework.version))?;
        put_text(&mut self.doc, &obj, "question", question)?;
        let steps = self.doc.put_object(&obj, "steps", ObjType::Map)?;
        for step in &framework.steps {
            put_text(&mut self.doc, &steps, &step.key, "")?;
        }
        let verdicts = self.doc.put_object(&obj, "verdicts", ObjType::Map)?;
        for value in &framework.values {
            let entry = self.doc.put_object(&verdicts, &value.key, ObjType::Map)?;
            put_text(&mut self.doc, &entry, "motivation", "")?;
        }
        put_text(&mut self.doc, &obj, "decision", "")?;
        self.doc.put(&obj, "maatwerk", false)?;
        self.commit()
    }

    pub fn answer(&mut self, assessment_id: &str, item: &Item, text: &str) -> Result<()> {
        let assessment = self.record("assessment", "assessments", assessment_id)?;
        let (parent, field) = match item {
            Item::Step(key) => (self.child(&assessment, "steps")?, key.as_str()),
            Item::Decision => (assessment, "decision"),
            Item::Value(_) => {
                return Err(Error::invalid("item", "een waarde krijgt een oordeel, geen antwoord"))
            }
        };
        update_text(&mut self.doc, &parent, field, text.trim())?;
        self.commit()
    }

    pub fn set_verdict(
        &mut self,
        assessment_id: &str,
        value_key: &str,
        verdict: Verdict,
        motivation: &str,
    ) -> Result<()> {
        let assessment = self.record("assessment", "assessments", assessment_id)?;
        let verdicts = self.child(&assessment, "verdicts")?;
        let entry = match self.doc.get(&verdicts, value_key)? {
            Some((Value::Object(ObjType::Map), obj)) => obj,
            _ => return Err(Error::not_found("value", value_key)),
        };
        self.doc.put(&entry, "verdict", verdict.key())?;
        update_text(&mut self.doc, &entry, "motivation", motivation.trim())?;
        self.commit()
    }

    pub fn set_maatwerk(
        &mut self,
        assessment_id: &str,
        maatwerk: bool,
        budget_cents: Option<u64>,
    ) -> Result<()> {
        let assessment = self.record("assessment", "assessments", assessment_id)?;
        self.doc.put(&assessment, "maatwerk", maatwerk)?;
        match budget_cents {
            Some(cents) => self.doc.put(&assessment, "budget_cents", cents)?,
            None => self.doc.delete(&assessment, "budget_cents")?,
        }
        self.commit()
    }

    pub fn add_review(&mut self, review: &Review) -> Result<()> {
        self.record("assessment", "assessments", &review.assessment_id)?;
        let reviews = self.map_at(&["reviews"])?;
        let obj = self.doc.put_object(&reviews, review.id.as_str(), ObjType::Map)?;
        self.doc.put(&obj, "id", review.id.as_str())?;
        self.doc.put(&obj, "assessment_id", review.assessment_id.as_str())?;
        self.doc.put(&obj, "at", ScalarValue::Timestamp(review.at.timestamp_millis()))?;
        self.doc.put(&obj, "reviewer", review.reviewer_device.as_str())?;
        self.doc.put(&obj, "verdict", review.verdict.key())?;
        self.doc.put(&obj, "note", review.note.trim())?;
        if let Some(rung) = &review.escalated_to {
            self.doc.put(&obj, "escalated_to", rung.as_str())?;
        }
        if let Some(submission) = review.submission {
            self.doc.put(
                &obj,
                "submission",
                ScalarValue::Timestamp(submission.timestamp_millis()),
            )?;
        }
        let supersedes = self.doc.put_object(&obj, "supersedes", ObjType::List)?;
        for (index, id) in review.supersedes.iter().enumerate() {
            self.doc.insert(&supersedes, index, id.as_str())?;
        }
        self.commit()
    }

    /// Ends an edit that may have changed anything outside the visits.
    fn commit(&mut self) -> Result<()> {
        self.kept.outside_visits = None;
        self.doc.commit();
        Ok(())
    }

    /// Ends an edit that wrote only inside the visits (recorded one, wrote its note, added an
    /// observation), which the summary's other fields do not read.
    fn commit_visit_edit(&mut self) -> Result<()> {
        self.doc.commit();
        Ok(())
    }

    fn map_at(&self, path: &[&str]) -> Result<ObjId> {
        let mut obj = ROOT;
        for key in path {
            obj = self.child(&obj, key)?;
        }
        Ok(obj)
    }

    fn child(&self, parent: &ObjId, key: &str) -> Result<ObjId> {
        match self.doc.get(parent, key)? {
            Some((Value::Object(_), obj)) => Ok(obj),
            _ => Err(Error::Document(format!("the document lacks {key:?}"))),
        }
    }

    fn record(&self, what: &'static str, collection: &str, id: &str) -> Result<ObjId> {
        let map = self.map_at(&[collection])?;
        match self.doc.get(&map, id)? {
            Some((Value::Object(ObjType::Map), obj)) => Ok(obj),
            _ => Err(Error::not_found(what, id)),
        }
    }

    /// How many access-log entries name another device than the one that wrote them (left out
    /// by `read`).
    pub fn foreign_access_entries(&self) -> Result<usize> {
        let Some((Value::Object(ObjType::List), list)) = self.doc.get(ROOT, "access")? else {
            return Ok(0);
        };
        let writers = self.access_writers()?;
        let mut foreign = 0;
        for (index, writers) in writers.iter().enumerate() {
            let named = match self.doc.get(&list, index)? {
                Some((_, entry)) => {
                    self.doc.get(&entry, "device")?.and_then(|(v, _)| v.into_string().ok())
                }
                None => None,
            };
            if named.is_none_or(|device| writers.as_slice() != [device]) {
                foreign += 1;
            }
        }
        Ok(foreign)
    }

    /// For each access-log entry, in list order, every device whose operations it comes from.
    fn access_writers(&self) -> Result<Vec<Vec<String>>> {
        let Some((Value::Object(ObjType::List), list)) = self.doc.get(ROOT, "access")? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for index in 0..self.doc.length(&list) {
            let mut writers = Vec::new();
            if let Some((_, entry)) = self.doc.get(&list, index)? {
                collect_writers(&entry, &mut writers);
                collect_object_writers(&self.doc, &entry, &mut writers);
            }
            writers.sort();
            writers.dedup();
            out.push(writers);
        }
        Ok(out)
    }

    /// For each review, every device whose operations its current content comes from: the
    /// one that created the review and whoever wrote any of its fields, list items or note
    /// characters since. A review is a supervisor's only when that is one supervisor device.
    pub fn review_writers(&self) -> Result<HashMap<String, Vec<String>>> {
        let reviews = self.map_at(&["reviews"])?;
        let mut out = HashMap::new();
        for item in self.doc.map_range(&reviews, ..) {
            let mut writers = Vec::new();
            let obj = item.id();
            // A review filed under another review's id would borrow that review's writers.
            let id_field = self.doc.get(&obj, "id")?.and_then(|(v, _)| v.into_string().ok());
            if id_field.as_deref() == Some(item.key.as_ref()) {
                collect_writers(&obj, &mut writers);
                collect_object_writers(&self.doc, &obj, &mut writers);
            }
            writers.sort();
            writers.dedup();
            out.insert(item.key.to_string(), writers);
        }
        Ok(out)
    }

    /// The changes made after `heads`, decoded.
    #[cfg(test)]
    pub(crate) fn changes_after(&mut self, heads: &[ChangeHash]) -> Vec<automerge::Change> {
        self.doc.get_changes(heads)
    }

    #[cfg(test)]
    pub(crate) fn raw(&mut self) -> &mut AutoCommit {
        self.kept = Kept::default();
        &mut self.doc
    }

    #[cfg(test)]
    pub(crate) fn fork(&mut self, actor: &[u8]) -> CaseDoc {
        CaseDoc { doc: self.doc.fork().with_actor(ActorId::from(actor)), kept: Kept::default() }
    }

    #[cfg(test)]
    pub(crate) fn merge(&mut self, other: &mut CaseDoc) -> Result<()> {
        self.kept = Kept::default();
        self.doc.merge(&mut other.doc)?;
        Ok(())
    }
}

fn validate_resident(resident: &Resident) -> Result<()> {
    if resident.name.trim().is_empty() {
        return Err(Error::invalid(
            "resident.name",
            "een casus heeft de naam van de bewoner nodig",
        ));
    }
    Ok(())
}

fn resident_optional_fields(resident: &Resident) -> Vec<(&'static str, &str)> {
    [("address", &resident.address), ("phone", &resident.phone), ("household", &resident.household)]
        .into_iter()
        .filter_map(|(field, value)| {
            value.as_deref().filter(|v| !v.trim().is_empty()).map(|v| (field, v))
        })
        .collect()
}

/// An observation is written once and never edited, so it is one value: a JSON object inside
/// the recorded visit, or one string beside it when added later (see `StoredObservation`).
fn stored_observation(observation: &Observation) -> StoredObservation {
    StoredObservation {
        text: observation.text.clone(),
        domain: observation.domain.map(|d| d.key().to_string()),
        score: observation.score.map(|s| s.value()),
    }
}

// ---- reading: serde types mirroring the layout written above (see `doc::tree`) ----

#[derive(Deserialize)]
struct CaseData {
    created_at: Millis,
    resident: ResidentData,
    #[serde(deserialize_with = "by_key")]
    status: CaseStatus,
    #[serde(default, deserialize_with = "opt_by_key")]
    case_type: Option<CaseType>,
    #[serde(deserialize_with = "readable_visits")]
    visits: HashMap<String, VisitData>,
    assessments: HashMap<String, AssessmentData>,
    reviews: HashMap<String, ReviewData>,
    #[serde(default)]
    access: Vec<AccessData>,
    #[serde(default)]
    closed_at: Option<Millis>,
}

/// A file kept with the case as its document records it. Besides what a reader is shown, it
/// holds what opens the file's sealed chunks (`eropaf_protocol::attachment`): its own key, the
/// hash of its content and its size. Only the case's readers read the document, so the key is
/// theirs alone, and erasing the case (document and keys) leaves the chunks unreadable.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct StoredAttachment {
    pub name: String,
    #[serde(rename = "type")]
    pub media_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub hash: String,
    /// The key its chunks are sealed under, hex.
    pub key: String,
    /// Unix milliseconds.
    pub at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<String>,
}

impl StoredAttachment {
    fn into_attachment(
        self,
        id: String,
        author_device: String,
    ) -> Option<crate::model::Attachment> {
        Some(crate::model::Attachment {
            id,
            name: self.name,
            media_type: self.media_type,
            caption: self.caption,
            size: self.size,
            visit_id: self.visit,
            at: Utc.timestamp_millis_opt(self.at).single()?,
            author_device,
            on_device: false,
        })
    }
}

#[derive(Deserialize)]
struct AccessData {
    at: Millis,
    device: String,
    member: String,
    action: String,
    #[serde(default)]
    on_behalf: Option<String>,
}

impl AccessData {
    /// `None` for an action this version does not know (written by a newer one).
    fn into_entry(self) -> Option<AccessEntry> {
        Some(AccessEntry {
            at: self.at.0,
            device: self.device,
            member: self.member,
            action: AccessAction::parse(&self.action)?,
            on_behalf: self.on_behalf,
        })
    }
}

fn sorted_reviews(reviews: HashMap<String, ReviewData>) -> Vec<Review> {
    let mut reviews: Vec<Review> =
        reviews.into_iter().map(|(key, review)| review.into_review(key)).collect();
    reviews.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    reviews
}

#[derive(Deserialize)]
struct ResidentData {
    name: String,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    household: Option<String>,
}

impl ResidentData {
    fn into_resident(self) -> Resident {
        Resident {
            name: self.name,
            address: opt_text(self.address),
            phone: opt_text(self.phone),
            household: opt_text(self.household),
        }
    }
}

/// A visit as read: what was recorded, with the note as last edited and every observation,
/// those added later after those recorded with it.
struct VisitData {
    at: Millis,
    place: Option<String>,
    present: Vec<String>,
    note: String,
    observations: Vec<ObservationData>,
}

/// What was recorded with a visit. Schema 3 writes it as one JSON string under `recorded`;
/// schema 2 wrote the same fields into the visit's map. Any member can write anything into a
/// visit, so only the time is required: a field of the wrong type reads as empty, and a
/// visit without a readable time is left out, so that one bad write cannot make the whole
/// case unreadable for everyone.
#[derive(Deserialize)]
struct RecordedVisit {
    at: Millis,
    #[serde(default, deserialize_with = "or_default")]
    place: Option<String>,
    #[serde(default, deserialize_with = "or_default")]
    present: Vec<String>,
    #[serde(default, deserialize_with = "or_default")]
    note: String,
    #[serde(default, deserialize_with = "or_default")]
    observations: Vec<serde_json::Value>,
}

/// `RecordedVisit` as `add_visit` writes it.
#[derive(Serialize)]
struct RecordingVisit<'a> {
    at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<&'a str>,
    present: Vec<&'a str>,
    note: &'a str,
    observations: Vec<StoredObservation>,
}

/// The visits that read as one (see `RecordedVisit`).
fn readable_visits<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<HashMap<String, VisitData>, D::Error> {
    let stored = HashMap::<String, serde_json::Value>::deserialize(deserializer)?;
    Ok(stored
        .into_iter()
        .filter_map(|(key, visit)| Some((key, VisitData::from_stored(visit)?)))
        .collect())
}

/// A value of the expected type, or its default when a writer stored something else.
fn or_default<'de, D, T>(deserializer: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}

impl VisitData {
    fn from_stored(visit: serde_json::Value) -> Option<VisitData> {
        let serde_json::Value::Object(mut fields) = visit else { return None };
        let recorded: RecordedVisit = match fields.remove(RECORDED) {
            Some(serde_json::Value::String(json)) => serde_json::from_str(&json).ok()?,
            Some(_) => return None,
            None => serde_json::from_value(serde_json::Value::Object(fields.clone())).ok()?,
        };
        // A note that is not text was not written by Eropaf; what was recorded shows instead.
        let note = match fields.remove("note") {
            Some(serde_json::Value::String(note)) => note,
            _ => recorded.note,
        };
        // Observations added later, in the order of their keys (numbered, then by device).
        let mut added: Vec<(String, serde_json::Value)> =
            fields.into_iter().filter(|(key, _)| key.starts_with(ADDED_OBSERVATION)).collect();
        added.sort_by(|a, b| a.0.cmp(&b.0));
        let observations = recorded
            .observations
            .into_iter()
            .chain(added.into_iter().map(|(_, value)| value))
            .filter_map(|value| serde_json::from_value(value).ok())
            .collect();
        Some(VisitData {
            at: recorded.at,
            place: recorded.place,
            present: recorded.present,
            note,
            observations,
        })
    }

    fn into_visit(self, id: String) -> Visit {
        Visit {
            id,
            at: self.at.0,
            // Filled in by `read`, from the actor of the change that created the visit.
            author_device: String::new(),
            place: opt_text(self.place),
            present: self.present,
            note: self.note,
            observations: self
                .observations
                .into_iter()
                .map(ObservationData::into_observation)
                .collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(try_from = "StoredForm")]
struct ObservationData {
    text: String,
    domain: Option<LifeDomain>,
    score: Option<u8>,
}

/// An observation's fields: schema 2 writes them as one JSON string, schema 1 as a map.
#[derive(Serialize, Deserialize)]
struct StoredObservation {
    text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    score: Option<u8>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StoredForm {
    Json(String),
    Map(StoredObservation),
}

impl TryFrom<StoredForm> for ObservationData {
    type Error = String;

    fn try_from(form: StoredForm) -> std::result::Result<Self, String> {
        let stored = match form {
            StoredForm::Json(json) => serde_json::from_str(&json).map_err(|e| e.to_string())?,
            StoredForm::Map(stored) => stored,
        };
        let domain = match stored.domain {
            Some(key) => Some(LifeDomain::parse(&key).map_err(|e| e.to_string())?),
            None => None,
        };
        Ok(ObservationData { text: stored.text, domain, score: stored.score })
    }
}

impl ObservationData {
    fn into_observation(self) -> Observation {
        Observation {
            text: self.text,
            domain: self.domain,
            // Scores are validated before they are written; one out of range can only come
            // from a foreign writer and is dropped rather than shown wrong.
            score: self.score.and_then(|s| Score::new(s).ok()),
        }
    }
}

#[derive(Deserialize)]
struct AssessmentData {
    author: String,
    created_at: Millis,
    framework_id: String,
    framework_version: u32,
    question: String,
    steps: BTreeMap<String, String>,
    verdicts: BTreeMap<String, VerdictData>,
    decision: String,
    maatwerk: bool,
    #[serde(default)]
    budget_cents: Option<u64>,
    #[serde(default)]
    submitted_at: Option<Millis>,
    #[serde(default)]
    needs_review: bool,
}

impl AssessmentData {
    fn into_assessment(self, id: String) -> Assessment {
        Assessment {
            id,
            created_at: self.created_at.0,
            author_device: self.author,
            framework_id: self.framework_id,
            framework_version: self.framework_version,
            answers: Answers {
                question: self.question,
                steps: self.steps.into_iter().collect(),
                verdicts: self
                    .verdicts
                    .into_iter()
                    .map(|(k, v)| {
                        (k, ValueVerdict { verdict: v.verdict, motivation: v.motivation })
                    })
                    .collect(),
                decision: self.decision,
                maatwerk: self.maatwerk,
                budget_cents: self.budget_cents,
            },
            submitted_at: self.submitted_at.map(|m| m.0),
            needs_review: self.needs_review,
        }
    }
}

#[derive(Deserialize)]
struct VerdictData {
    #[serde(default, deserialize_with = "opt_by_key")]
    verdict: Option<Verdict>,
    motivation: String,
}

#[derive(Deserialize)]
struct ReviewData {
    assessment_id: String,
    at: Millis,
    reviewer: String,
    #[serde(deserialize_with = "by_key")]
    verdict: ReviewVerdict,
    note: String,
    #[serde(default)]
    escalated_to: Option<String>,
    #[serde(default)]
    submission: Option<Millis>,
    #[serde(default)]
    supersedes: Vec<String>,
}

impl ReviewData {
    fn into_review(self, id: String) -> Review {
        Review {
            id,
            assessment_id: self.assessment_id,
            at: self.at.0,
            reviewer_device: self.reviewer,
            verdict: self.verdict,
            note: self.note,
            escalated_to: self.escalated_to,
            submission: self.submission.map(|m| m.0),
            supersedes: self.supersedes,
        }
    }
}

/// The device behind an operation id (`counter@actor`), when the actor is a device's.
fn collect_writers(id: &ObjId, writers: &mut Vec<String>) {
    if let ObjId::Id(_, actor, _) = id {
        if let Some(device) = crate::crypto::actor_device(actor.to_bytes()) {
            writers.push(device.to_hex());
        }
    }
}

/// Every device that wrote a value (every value still there, conflicting ones included) in
/// `obj` and the objects under it.
fn collect_object_writers(doc: &AutoCommit, obj: &ObjId, writers: &mut Vec<String>) {
    let keys: Vec<automerge::Prop> = match doc.object_type(obj) {
        Ok(ObjType::Map | ObjType::Table) => doc.keys(obj).map(automerge::Prop::Map).collect(),
        Ok(ObjType::List | ObjType::Text) => {
            (0..doc.length(obj)).map(automerge::Prop::Seq).collect()
        }
        Err(_) => return,
    };
    for prop in keys {
        let Ok(values) = doc.get_all(obj, prop) else { continue };
        for (value, id) in values {
            collect_writers(&id, writers);
            if let Value::Object(_) = value {
                collect_object_writers(doc, &id, writers);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(n: u8) -> Vec<u8> {
        let mut a = vec![n; 16];
        a.extend_from_slice(&[0xAA; 8]);
        a
    }

    fn willem() -> CaseDoc {
        CaseDoc::create(
            &actor(1),
            "c1",
            &Resident::named("Willem"),
            Some(CaseType::Participatiewet),
            Utc::now(),
        )
        .unwrap()
    }

    fn visit(note: &str) -> NewVisit {
        NewVisit { note: note.into(), ..Default::default() }
    }

    fn attachment(name: &str, at: i64) -> StoredAttachment {
        StoredAttachment {
            name: name.into(),
            media_type: "image/jpeg".into(),
            caption: Some("Brief".into()),
            size: 10,
            hash: "00".repeat(32),
            key: "11".repeat(32),
            at,
            visit: None,
        }
    }

    #[test]
    fn files_attached_on_two_devices_at_once_are_both_kept_with_who_attached_them() {
        let mut a = willem();
        let mut b = a.fork(&actor(2));
        a.add_attachment("f1", &attachment("brief.jpg", 1_700_000_000_000)).unwrap();
        b.add_attachment("f2", &attachment("toestemming.pdf", 1_700_000_001_000)).unwrap();
        // A member's junk under an attachment key is left out; the case still reads.
        b.doc.put(ROOT, format!("{ATTACHMENT}f3"), "geen bijlage").unwrap();
        b.doc.commit();
        a.merge(&mut b).unwrap();
        let files = a.read("c1").unwrap().attachments;
        let seen: Vec<(&str, &str, String)> = files
            .iter()
            .map(|f| (f.id.as_str(), f.name.as_str(), f.author_device.clone()))
            .collect();
        assert_eq!(
            seen,
            vec![
                ("f1", "brief.jpg", hex::encode([1u8; 16])),
                ("f2", "toestemming.pdf", hex::encode([2u8; 16])),
            ]
        );
        assert!(a.conflicts().unwrap().is_empty());
        let missing = StoredAttachment { visit: Some("v9".into()), ..attachment("x.jpg", 0) };
        assert!(a.add_attachment("f4", &missing).is_err(), "a visit the case does not have");
    }

    #[test]
    fn a_new_case_holds_only_what_was_given() {
        let case = willem().read("c1").unwrap();
        assert_eq!(case.resident, Resident::named("Willem"));
        assert_eq!(case.status, CaseStatus::Open);
        assert!(case.visits.is_empty() && case.conflicts.is_empty());
        let err = CaseDoc::create(&actor(1), "c2", &Resident::named("  "), None, Utc::now()).err();
        assert!(
            matches!(err, Some(Error::InvalidInput { ref field, .. }) if field == "resident.name")
        );
    }

    #[test]
    fn concurrent_visits_are_both_kept() {
        let mut a = willem();
        let mut b = a.fork(&actor(2));
        a.add_visit("v1", &visit("Auto staat voor de deur"), Utc::now()).unwrap();
        b.add_visit("v2", &visit("Vader belt: hij rijdt Willem naar werk"), Utc::now()).unwrap();
        a.merge(&mut b).unwrap();
        let case = a.read("c1").unwrap();
        let notes: Vec<&str> = case.visits.iter().map(|v| v.note.as_str()).collect();
        assert_eq!(case.visits.len(), 2, "{notes:?}");
    }

    #[test]
    fn concurrent_edits_of_a_note_both_devices_have_edited_interleave() {
        let mut a = willem();
        a.add_visit("v1", &visit("Willem werkt bij de bakker"), Utc::now()).unwrap();
        a.edit_visit_note("v1", "Willem werkt bij de bakker.").unwrap();
        let mut b = a.fork(&actor(2));
        a.edit_visit_note("v1", "Willem werkt sinds maart bij de bakker.").unwrap();
        b.edit_visit_note("v1", "Willem werkt bij de bakker. Hij begint om vijf uur.").unwrap();
        a.merge(&mut b).unwrap();
        let case = a.read("c1").unwrap();
        assert_eq!(
            case.visits[0].note,
            "Willem werkt sinds maart bij de bakker. Hij begint om vijf uur."
        );
        assert!(case.conflicts.is_empty(), "{:?}", case.conflicts);
        // Typing goes on after the merge, from the merged note (not the one typed last here).
        let typed = "Willem werkt sinds maart bij de bakker. Hij begint om vijf uur!";
        a.edit_visit_note("v1", typed).unwrap();
        assert_eq!(a.read("c1").unwrap().visits[0].note, typed);
    }

    #[test]
    fn first_edits_of_a_recorded_note_at_once_keep_both_until_a_person_chooses() {
        let mut a = willem();
        a.add_visit("v1", &visit("Willem werkt bij de bakker."), Utc::now()).unwrap();
        let mut b = a.fork(&actor(2));
        a.edit_visit_note("v1", "Willem werkt sinds maart bij de bakker.").unwrap();
        b.edit_visit_note("v1", "Willem werkt bij de bakker. Hij begint om vijf uur.").unwrap();
        a.merge(&mut b).unwrap();
        let case = a.read("c1").unwrap();
        assert_eq!(case.conflicts.len(), 1, "{:?}", case.conflicts);
        let conflict = &case.conflicts[0];
        assert_eq!(conflict.path, "visits/v1/note");
        let mut values = conflict.values.clone();
        values.sort();
        assert_eq!(
            values,
            [
                "Willem werkt bij de bakker. Hij begint om vijf uur.",
                "Willem werkt sinds maart bij de bakker."
            ]
        );
        assert!(values.contains(&case.visits[0].note));
        // A later edit on either side goes into the version it shows and keeps the other.
        a.edit_visit_note("v1", &format!("{} Gebeld.", case.visits[0].note)).unwrap();
        assert_eq!(a.conflicts().unwrap().len(), 1);

        a.settle_visit_note("v1", "Willem werkt sinds maart bij de bakker, vanaf vijf uur.")
            .unwrap();
        b.merge(&mut a).unwrap();
        for doc in [&a, &b] {
            let case = doc.read("c1").unwrap();
            assert!(case.conflicts.is_empty(), "{:?}", case.conflicts);
            assert_eq!(
                case.visits[0].note,
                "Willem werkt sinds maart bij de bakker, vanaf vijf uur."
            );
        }
        // Settled, the note is written whole again; the next edit merges by character.
        a.edit_visit_note("v1", "Willem werkt sinds maart bij de bakker, vanaf vijf uur!").unwrap();
        assert!(a.conflicts().unwrap().is_empty());
    }

    #[test]
    fn a_case_written_with_text_objects_still_reads() {
        let mut doc = willem();
        let visits = doc.map_at(&["visits"]).unwrap();
        let raw = doc.raw();
        let obj = raw.put_object(&visits, "v1", ObjType::Map).unwrap();
        raw.put(&obj, "id", "v1").unwrap();
        raw.put(&obj, "author", "aa").unwrap();
        raw.put(&obj, "at", ScalarValue::Timestamp(1_700_000_000_000)).unwrap();
        put_text(raw, &obj, "place", "Thuis").unwrap();
        raw.put_object(&obj, "present", ObjType::List).unwrap();
        put_text(raw, &obj, "note", "Zoals schema 1 het schreef").unwrap();
        let observations = raw.put_object(&obj, "observations", ObjType::List).unwrap();
        let observation = raw.insert_object(&observations, 0, ObjType::Map).unwrap();
        put_text(raw, &observation, "text", "Post ongeopend").unwrap();
        raw.commit();
        let visit = doc.read("c1").unwrap().visits.remove(0);
        assert_eq!(visit.note, "Zoals schema 1 het schreef");
        assert_eq!(visit.place.as_deref(), Some("Thuis"));
        assert_eq!(visit.observations[0].text, "Post ongeopend");
        doc.edit_visit_note("v1", "Zoals schema 1 het schreef, bewerkt").unwrap();
        doc.add_observation(
            "v1",
            &Observation { text: "Deur niet open".into(), domain: None, score: None },
        )
        .unwrap();
        let visit = doc.read("c1").unwrap().visits.remove(0);
        assert_eq!(visit.note, "Zoals schema 1 het schreef, bewerkt");
        let texts: Vec<&str> = visit.observations.iter().map(|o| o.text.as_str()).collect();
        assert_eq!(texts, ["Post ongeopend", "Deur niet open"]);
    }

    #[test]
    fn observations_added_at_once_on_two_devices_are_all_kept_after_those_recorded() {
        let mut a = willem();
        let recorded = NewVisit {
            note: "Huisbezoek".into(),
            observations: vec![Observation {
                text: "Koelkast leeg".into(),
                domain: None,
                score: None,
            }],
            ..Default::default()
        };
        a.add_visit("v1", &recorded, Utc::now()).unwrap();
        let mut b = a.fork(&actor(2));
        a.add_observation(
            "v1",
            &Observation { text: "Buurvrouw helpt".into(), domain: None, score: None },
        )
        .unwrap();
        b.add_observation(
            "v1",
            &Observation {
                text: "Brief van de woningcorporatie".into(),
                domain: None,
                score: None,
            },
        )
        .unwrap();
        b.add_observation(
            "v1",
            &Observation { text: "Huur twee maanden achter".into(), domain: None, score: None },
        )
        .unwrap();
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        let texts = |doc: &CaseDoc| -> Vec<String> {
            let visit = doc.read("c1").unwrap().visits.remove(0);
            visit.observations.into_iter().map(|o| o.text).collect()
        };
        assert_eq!(texts(&a), texts(&b));
        let shown = texts(&a);
        assert_eq!(shown.len(), 4, "{shown:?}");
        assert_eq!(shown[0], "Koelkast leeg");
        let later = |text: &str| shown.iter().position(|t| t == text).unwrap();
        assert!(later("Brief van de woningcorporatie") < later("Huur twee maanden achter"));
        assert!(a.conflicts().unwrap().is_empty());
    }

    #[test]
    fn concurrent_status_is_a_conflict_until_a_person_chooses() {
        let mut a = willem();
        let mut b = a.fork(&actor(2));
        a.set_status(CaseStatus::Closed).unwrap();
        b.set_status(CaseStatus::Escalated).unwrap();
        a.merge(&mut b).unwrap();
        let case = a.read("c1").unwrap();
        assert_eq!(case.conflicts.len(), 1);
        assert_eq!(case.conflicts[0].path, "status");
        let mut values = case.conflicts[0].values.clone();
        values.sort();
        assert_eq!(values, ["closed", "escalated"]);

        a.set_status(CaseStatus::Escalated).unwrap();
        let case = a.read("c1").unwrap();
        assert!(case.conflicts.is_empty());
        assert_eq!(case.status, CaseStatus::Escalated);
    }

    #[test]
    fn resident_fields_can_be_added_and_removed() {
        let mut doc = willem();
        let full =
            Resident { address: Some("Dorpsstraat 1".into()), ..Resident::named("Willem Jansen") };
        doc.update_resident(&full).unwrap();
        assert_eq!(doc.read("c1").unwrap().resident, full);
        doc.update_resident(&Resident::named("Willem Jansen")).unwrap();
        assert_eq!(doc.read("c1").unwrap().resident.address, None);
    }

    #[test]
    fn the_quick_summary_matches_the_full_read() {
        let mut a = willem();
        a.add_visit("v1", &visit("Eerste"), Utc::now()).unwrap();
        a.start_assessment("a1", "aa", &Framework::builtin(), "Auto?", Utc::now()).unwrap();
        let mut b = a.fork(&actor(2));
        a.set_status(CaseStatus::Closed).unwrap();
        b.set_status(CaseStatus::Escalated).unwrap();
        b.add_visit("v2", &visit("Tweede"), Utc::now()).unwrap();
        a.edit_visit_note("v1", "Eerste, bewerkt op a").unwrap();
        b.edit_visit_note("v1", "Eerste, bewerkt op b").unwrap();
        a.summary("c1").unwrap();
        a.merge(&mut b).unwrap();
        let summary = a.summary("c1").unwrap();
        let summary = CaseSummary { created_by: None, ..summary };
        assert_eq!(summary, a.read("c1").unwrap().summary());
        assert_eq!(
            (summary.visit_count, summary.assessment_count, summary.conflict_count),
            (2, 1, 2)
        );
        // Settling the note here, and writing into one in conflict, keep the count true.
        a.edit_visit_note("v1", "Eerste, bewerkt op a en verder").unwrap();
        assert_eq!(a.summary("c1").unwrap().conflict_count, 2);
        a.settle_visit_note("v1", "Eerste, bewerkt op a en b").unwrap();
        let summary = CaseSummary { created_by: None, ..a.summary("c1").unwrap() };
        assert_eq!(summary.conflict_count, 1);
        assert_eq!(summary, a.read("c1").unwrap().summary());
    }

    #[test]
    fn unknown_records_are_not_found() {
        let mut doc = willem();
        assert!(matches!(
            doc.edit_visit_note("nope", "x"),
            Err(Error::NotFound { what: "visit", .. })
        ));
        assert!(matches!(
            doc.answer("nope", &Item::Decision, "x"),
            Err(Error::NotFound { what: "assessment", .. })
        ));
    }

    #[test]
    fn saved_changes_reload_to_the_same_case() {
        let mut doc = willem();
        let snapshot = doc.save();
        let heads = doc.heads();
        doc.add_visit("v1", &visit("Eerste bezoek"), Utc::now()).unwrap();
        let delta = doc.save_after(&heads);
        let reloaded = CaseDoc::load(&[snapshot, delta], &actor(3)).unwrap();
        assert_eq!(reloaded.read("c1").unwrap(), doc.read("c1").unwrap());
    }

    #[test]
    fn a_later_change_to_the_id_field_changes_no_identity() {
        let mut doc = willem();
        doc.add_visit("v1", &visit("Eerste bezoek"), Utc::now()).unwrap();
        let mut other = doc.fork(&actor(2));
        other.doc.put(ROOT, "id", "c2").unwrap();
        let visits = other.map_at(&["visits"]).unwrap();
        let v1 = other.child(&visits, "v1").unwrap();
        other.doc.put(&v1, "id", "v2").unwrap();
        other.doc.commit();
        doc.merge(&mut other).unwrap();
        assert_eq!(doc.created_as().unwrap(), "c1");
        let case = doc.read("c1").unwrap();
        assert_eq!(case.id, "c1");
        assert_eq!(case.visits[0].id, "v1", "a record answers to its key");
        assert_eq!(doc.summary("c1").unwrap().id, "c1");
        let mut stranger =
            CaseDoc::create(&actor(3), "c1", &Resident::named("Ander"), None, Utc::now()).unwrap();
        assert!(doc.shares_origin(&mut other));
        assert!(!doc.shares_origin(&mut stranger), "another document that claims the same id");
    }
}
