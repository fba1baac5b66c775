//! Who may write where in a case document. Each received change is held, operation by
//! operation, to its writer's role before the case is read: a change that writes outside
//! its writer's rights is refused whole, so a forgery is never applied, shown or built on.
//!
//! The rules: the case's structure (its record maps and the access log) is laid down once,
//! by the change that creates the case; only a supervisor's device writes reviews, and only
//! into its own; the access log is append-only and each entry is its writer's own, in its
//! own name; only a supervisor's device changes who the case is assigned to. In the team
//! document a worker's device writes only its own access requests (`team_breach`).

use std::collections::HashMap;

use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::{AutoCommit, Change, ObjId, Prop, ReadDoc, ScalarValue, ROOT};

use crate::crypto::{actor_device, DeviceId};
use crate::doc::case::{ASSIGNED, ATTACHMENT};
use crate::doc::team::{ACCESS_REQUESTS as REQUESTS, SCHEMA as TEAM_SCHEMA};

/// Root fields that hold the case's structure: written by the change that creates the case
/// and never replaced, or the replacement would hide everything under the old one.
const STRUCTURE: [&str; 8] =
    ["schema", "id", "created_at", "resident", "visits", "assessments", "reviews", "access"];

/// Why a change was refused, in words for the worker who reads the sync report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breach {
    /// A second change without history: a case begins once.
    SecondStart,
    /// Replaces a part of the case's structure (its visits, reviews, access log...).
    Structure,
    /// A review written by a device that is not a supervisor's.
    ReviewByWorker,
    /// A supervisor's device writing into, replacing or removing another device's review.
    OthersReview,
    /// An access-log entry removed or replaced.
    AccessRemoved,
    /// An access-log entry written into another device's entry, or naming another device.
    AccessInOthersName,
    /// Builds on a change that was refused.
    BuildsOnRefused,
    /// Changes who the case is assigned to, from a device that is not a supervisor's.
    AssignmentByWorker,
    /// Writes into the team document outside the writer's own access requests, from a
    /// device that is not a supervisor's.
    TeamDocByWorker,
    /// Replaces or removes a file another device attached.
    OthersAttachment,
}

impl std::fmt::Display for Breach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Breach::SecondStart => "begint de casus opnieuw",
            Breach::Structure => "vervangt een deel van de opbouw van de casus",
            Breach::ReviewByWorker => "schrijft een beoordeling, wat alleen een leidinggevende mag",
            Breach::OthersReview => "wijzigt de beoordeling van een ander",
            Breach::AccessRemoved => "wist of vervangt een logregel",
            Breach::AccessInOthersName => "schrijft een logregel op naam van een ander apparaat",
            Breach::BuildsOnRefused => "bouwt voort op een geweigerde wijziging",
            Breach::AssignmentByWorker => {
                "wijzigt wie de casus toegewezen heeft, wat alleen een leidinggevende mag"
            }
            Breach::TeamDocByWorker => {
                "schrijft in het teamdocument buiten een eigen toegangsverzoek, wat alleen een \
                 leidinggevende mag"
            }
            Breach::OthersAttachment => "vervangt of wist een bijlage van een ander",
        })
    }
}

/// The first rule `change` breaks, held against `doc`, which must already contain it (so
/// every object it writes into can be traced to its place in the case). `supervisor` is
/// the writer's role in the roster; `creation` says the caller knows this change to be the
/// one that created the case (the only one that lays down its structure).
pub fn breach(
    doc: &AutoCommit,
    change: &Change,
    supervisor: bool,
    creation: bool,
    adds_backups_as: Option<&str>,
) -> Option<Breach> {
    if change.deps().is_empty() && !creation {
        return Some(Breach::SecondStart);
    }
    let writer = actor_device(change.actor_id().to_bytes())?;
    let expanded = change.decode();
    // A typed note is one operation per character, all into the same text: each object is
    // traced to its place once per change.
    let mut places: HashMap<&ObjectId, Option<Place>> = HashMap::new();
    expanded.operations.iter().find_map(|op| {
        match places.entry(&op.obj).or_insert_with(|| Place::of(doc, &op.obj)) {
            Some(place) => check(doc, place, op, writer, supervisor, creation, adds_backups_as),
            // Every object an applied change writes into is in the document; one that cannot
            // be traced is not let through.
            None => Some(Breach::Structure),
        }
    })
}

/// Whether `op` is part of the case's own worker (`member`, whose device is `writer`) adding
/// a colleague as backup, as a team's policy may allow: a new entry in the assignment list
/// she is the worker in, for another member, with the role "backup", no end, and herself as
/// the one who assigned. Nothing else in the list is hers to write.
fn adds_a_backup(
    doc: &AutoCommit,
    place: &Place,
    op: &automerge::legacy::Op,
    writer: DeviceId,
    member: &str,
) -> bool {
    let Some(list) = place.path.first() else { return false };
    let own_key = crate::model::fold(member.trim());
    let text = |obj: &ObjId, key: &str| match doc.get(obj, key) {
        Ok(Some((automerge::Value::Scalar(value), _))) => match value.as_ref() {
            ScalarValue::Str(text) => Some(text.to_string()),
            _ => None,
        },
        _ => None,
    };
    let is_worker = match doc.get(list, own_key.as_str()) {
        Ok(Some((automerge::Value::Object(automerge::ObjType::Map), entry))) => {
            text(&entry, "role").as_deref() == Some("worker")
                && doc.get(&entry, "until").ok().flatten().is_none()
        }
        _ => false,
    };
    let fresh = op.pred.is_empty() && !op.insert;
    let key = match &op.key {
        Key::Map(key) => Some(key.as_str()),
        Key::Seq(_) => None,
    };
    is_worker
        && fresh
        && match place.path.len() {
            // On the list: a new entry, for someone else.
            1 => {
                matches!(op.action, OpType::Make(automerge::ObjType::Map))
                    && key.is_some_and(|k| k != own_key)
            }
            // In that entry, which her device made: who, "backup", by her, when.
            2 => {
                let entry_key = doc
                    .parents(&place.path[1])
                    .ok()
                    .and_then(|mut parents| parents.next())
                    .and_then(|parent| match parent.prop {
                        Prop::Map(key) => Some(key),
                        Prop::Seq(_) => None,
                    });
                creator(&place.path[1]) == Some(writer)
                    && match (key, &op.action) {
                        (Some("member"), OpType::Put(ScalarValue::Str(named))) => {
                            entry_key.as_deref() == Some(crate::model::fold(named.trim()).as_str())
                        }
                        (Some("role"), OpType::Put(ScalarValue::Str(role))) => role == "backup",
                        (Some("by"), OpType::Put(ScalarValue::Str(by))) => {
                            by.as_str() == writer.to_hex()
                        }
                        (Some("at"), OpType::Put(ScalarValue::Timestamp(_))) => true,
                        _ => false,
                    }
            }
            _ => false,
        }
}

/// The first rule a worker's change to the team document breaks, held against `doc`, which
/// must already contain it. A worker's device writes there only its own access requests
/// (never an answer to one), and once the empty document every device starts with.
pub fn team_breach(doc: &AutoCommit, change: &Change) -> Option<Breach> {
    let writer = actor_device(change.actor_id().to_bytes())?;
    let start = change.deps().is_empty();
    let expanded = change.decode();
    let mut places: HashMap<&ObjectId, Option<Place>> = HashMap::new();
    expanded.operations.iter().find_map(|op| {
        match places.entry(&op.obj).or_insert_with(|| Place::of(doc, &op.obj)) {
            Some(place) => team_check(place, op, writer, start),
            None => Some(Breach::TeamDocByWorker),
        }
    })
}

fn team_check(
    place: &Place,
    op: &automerge::legacy::Op,
    writer: DeviceId,
    start: bool,
) -> Option<Breach> {
    let key = match &op.key {
        Key::Map(key) => Some(key.as_str()),
        Key::Seq(_) => None,
    };
    // Nothing the writer saw is replaced: no request of another, no map others write into.
    let fresh = op.pred.is_empty() && !op.insert;
    let allowed = match place.top.as_deref() {
        None => match (key, &op.action) {
            (Some(REQUESTS), OpType::Make(automerge::ObjType::Map)) => fresh,
            // The document every device starts before it joins (`TeamDoc::create`).
            (Some("frameworks"), OpType::Make(automerge::ObjType::Map)) => fresh && start,
            (Some("schema"), OpType::Put(ScalarValue::Uint(TEAM_SCHEMA))) => fresh && start,
            _ => false,
        },
        Some(REQUESTS) => match place.path.get(1) {
            // On the requests map itself: a new request.
            None => fresh && matches!(op.action, OpType::Make(automerge::ObjType::Map)),
            Some(request) => {
                creator(request) == Some(writer)
                    // The answer is a supervisor's.
                    && !(place.path.len() == 2 && key == Some("decision"))
                    && place.path.get(2).is_none_or(|inner| creator(inner) == Some(writer))
            }
        },
        // The built-in framework every device installs in the document it starts with, in
        // its own map: the same key and source on every device.
        Some("frameworks") => {
            let own = |obj: Option<&ObjId>| obj.is_some_and(|o| creator(o) == Some(writer));
            let builtin = crate::checklist::Framework::builtin();
            let builtin_key = format!("{}/{}", builtin.id, builtin.version);
            own(place.path.first())
                && fresh
                && match place.path.len() {
                    1 => {
                        key == Some(builtin_key.as_str())
                            && matches!(op.action, OpType::Make(automerge::ObjType::Map))
                    }
                    2 => {
                        own(place.path.get(1))
                            && key == Some("source")
                            && matches!(&op.action, OpType::Put(ScalarValue::Str(source))
                                if source.as_str() == crate::checklist::Framework::builtin_source())
                    }
                    _ => false,
                }
        }
        Some(_) => false,
    };
    (!allowed).then_some(Breach::TeamDocByWorker)
}

/// Where an operation writes: the root field it lies under and the objects between.
struct Place {
    /// The root field; `None` for an operation on the root itself.
    top: Option<String>,
    /// The objects from the root's child down to the one written into.
    path: Vec<ObjId>,
}

impl Place {
    fn of(doc: &AutoCommit, obj: &ObjectId) -> Option<Place> {
        let ObjectId::Id(OpId(counter, actor)) = obj else {
            return Some(Place { top: None, path: Vec::new() });
        };
        let target = doc.import_obj(&format!("{counter}@{actor}")).ok()?;
        let mut path = vec![target.clone()];
        let mut top = None;
        for parent in doc.parents(&target).ok()? {
            if parent.obj == ROOT {
                top = Some(match parent.prop {
                    Prop::Map(key) => key,
                    Prop::Seq(index) => index.to_string(),
                });
            } else {
                path.push(parent.obj);
            }
        }
        path.reverse();
        Some(Place { top, path })
    }
}

fn check(
    doc: &AutoCommit,
    place: &Place,
    op: &automerge::legacy::Op,
    writer: DeviceId,
    supervisor: bool,
    creation: bool,
    adds_backups_as: Option<&str>,
) -> Option<Breach> {
    let key = match &op.key {
        Key::Map(key) => Some(key.as_str()),
        Key::Seq(_) => None,
    };
    match place.top.as_deref() {
        None => match key {
            Some(ASSIGNED) if !supervisor => Some(Breach::AssignmentByWorker),
            Some("access") if legacy_access_log(doc, op) => None,
            Some(field) if STRUCTURE.contains(&field) && !creation => Some(Breach::Structure),
            // A file's reference, once written, is its writer's: another member cannot point
            // it at other content or take it away.
            Some(field) if field.starts_with(ATTACHMENT) => {
                let own =
                    op.pred.iter().all(|pred| actor_device(pred.1.to_bytes()) == Some(writer));
                (!own).then_some(Breach::OthersAttachment)
            }
            _ => None,
        },
        Some(ASSIGNED) if !supervisor => match adds_backups_as {
            Some(member) if adds_a_backup(doc, place, op, writer, member) => None,
            _ => Some(Breach::AssignmentByWorker),
        },
        Some("reviews") => {
            if !supervisor {
                return Some(Breach::ReviewByWorker);
            }
            // On the reviews map itself: a new review, or the writer's own one replaced.
            let own = match place.path.get(1) {
                Some(review) => creator(review) == Some(writer),
                None => op.pred.iter().all(|pred| actor_device(pred.1.to_bytes()) == Some(writer)),
            };
            (!own).then_some(Breach::OthersReview)
        }
        Some("access") => {
            let Some(entry) = place.path.get(1) else {
                // On the list itself only a new entry is written.
                let appends = op.insert && matches!(op.action, OpType::Make(_));
                return (!appends).then_some(Breach::AccessRemoved);
            };
            if creator(entry) != Some(writer) {
                return Some(Breach::AccessInOthersName);
            }
            let names_writer = match &op.action {
                OpType::Put(ScalarValue::Str(device)) => device.as_str() == writer.to_hex(),
                _ => false,
            };
            (place.path.len() == 2 && key == Some("device") && !names_writer)
                .then_some(Breach::AccessInOthersName)
        }
        Some(_) => None,
    }
}

/// A case made before the access log existed gets its list with its first entry: that is
/// the one list there is, and it replaced nothing.
fn legacy_access_log(doc: &AutoCommit, op: &automerge::legacy::Op) -> bool {
    matches!(op.action, OpType::Make(automerge::ObjType::List))
        && op.pred.is_empty()
        && doc.get_all(ROOT, "access").map(|values| values.len() == 1).unwrap_or(false)
}

/// The device whose change made the object.
fn creator(obj: &ObjId) -> Option<DeviceId> {
    match obj {
        ObjId::Id(_, actor, _) => actor_device(actor.to_bytes()),
        ObjId::Root => None,
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::ObjType;
    use chrono::Utc;

    use super::*;
    use crate::access_log::{AccessAction, AccessEntry};
    use crate::doc::CaseDoc;
    use crate::model::{NewVisit, Resident, Review, ReviewVerdict};

    fn actor(n: u8) -> Vec<u8> {
        let mut actor = vec![n; 16];
        actor.extend_from_slice(&[0xAA; 8]);
        actor
    }

    fn device(n: u8) -> String {
        hex::encode([n; 16])
    }

    /// A case created by device 1 (a worker), as device `n` holds it.
    fn case_on(n: u8) -> CaseDoc {
        let mut doc =
            CaseDoc::create(&actor(1), "c1", &Resident::named("Willem"), None, Utc::now()).unwrap();
        doc.fork(&actor(n))
    }

    /// What `edit` on device `n`'s copy breaks, as a device with the role `supervisor`.
    fn edit_breaks(
        doc: &mut CaseDoc,
        supervisor: bool,
        edit: impl FnOnce(&mut CaseDoc),
    ) -> Vec<Option<Breach>> {
        edit_breaks_as(doc, supervisor, None, edit)
    }

    /// `edit_breaks`, for a worker the team's policy lets add backups as `member`.
    fn edit_breaks_as(
        doc: &mut CaseDoc,
        supervisor: bool,
        member: Option<&str>,
        edit: impl FnOnce(&mut CaseDoc),
    ) -> Vec<Option<Breach>> {
        let heads = doc.heads();
        edit(doc);
        let changes = doc.changes_after(&heads);
        assert!(!changes.is_empty());
        changes.iter().map(|change| doc.breach(change, supervisor, false, member)).collect()
    }

    fn review(id: &str, reviewer: u8) -> Review {
        Review {
            id: id.into(),
            assessment_id: "a1".into(),
            at: Utc::now(),
            reviewer_device: device(reviewer),
            verdict: ReviewVerdict::Approved,
            note: "Akkoord".into(),
            escalated_to: None,
            submission: None,
            supersedes: Vec::new(),
        }
    }

    fn with_assessment(doc: &mut CaseDoc) {
        let framework = crate::checklist::Framework::builtin();
        doc.start_assessment("a1", &device(1), &framework, "Huur betalen?", Utc::now()).unwrap();
    }

    #[test]
    fn a_workers_everyday_edits_break_nothing() {
        let mut doc = case_on(2);
        let breaks = edit_breaks(&mut doc, false, |doc| {
            let visit = NewVisit { note: "Kennismaking".into(), ..NewVisit::default() };
            doc.add_visit("v1", &visit, Utc::now()).unwrap();
            doc.edit_visit_note("v1", "Kennismaking, met zoon").unwrap();
            with_assessment(doc);
            doc.set_status(crate::model::CaseStatus::Closed).unwrap();
            let entry = AccessEntry {
                at: Utc::now(),
                device: device(2),
                member: "Sanne".into(),
                action: AccessAction::Open,
                on_behalf: None,
            };
            doc.log_access(&entry).unwrap();
        });
        assert!(breaks.iter().all(Option::is_none), "{breaks:?}");
    }

    fn stored_attachment(name: &str) -> crate::doc::StoredAttachment {
        crate::doc::StoredAttachment {
            name: name.into(),
            media_type: "application/pdf".into(),
            caption: None,
            size: 3,
            hash: "00".repeat(32),
            key: "11".repeat(32),
            at: 1_700_000_000_000,
            visit: None,
        }
    }

    #[test]
    fn a_file_is_its_attachers_to_replace_and_no_one_elses() {
        // Device 2 attaches a letter; device 3, another member, receives it.
        let mut attacher = case_on(2);
        let breaks = edit_breaks(&mut attacher, false, |doc| {
            doc.add_attachment("f1", &stored_attachment("brief.pdf")).unwrap()
        });
        assert_eq!(breaks, vec![None], "attaching a file is any member's");
        let breaks = edit_breaks(&mut attacher, false, |doc| {
            doc.add_attachment("f1", &stored_attachment("brief, rechtgezet.pdf")).unwrap()
        });
        assert_eq!(breaks, vec![None], "the attacher may correct her own");
        let mut colleague = attacher.fork(&actor(3));
        let breaks = edit_breaks(&mut colleague, false, |doc| {
            doc.add_attachment("f1", &stored_attachment("vervalst.pdf")).unwrap()
        });
        assert_eq!(breaks, vec![Some(Breach::OthersAttachment)], "a colleague may not");
        let mut supervisor = attacher.fork(&actor(4));
        let breaks = edit_breaks(&mut supervisor, true, |doc| {
            doc.add_attachment("f1", &stored_attachment("vervalst.pdf")).unwrap()
        });
        assert_eq!(breaks, vec![Some(Breach::OthersAttachment)], "nor a supervisor");
    }

    #[test]
    fn only_a_supervisor_writes_a_review_and_only_its_own() {
        let mut worker = case_on(2);
        with_assessment(&mut worker);
        let breaks =
            edit_breaks(&mut worker, false, |doc| doc.add_review(&review("r1", 2)).unwrap());
        assert_eq!(breaks, [Some(Breach::ReviewByWorker)]);

        let mut supervisor = case_on(3);
        with_assessment(&mut supervisor);
        let breaks =
            edit_breaks(&mut supervisor, true, |doc| doc.add_review(&review("r1", 3)).unwrap());
        assert_eq!(breaks, [None]);
        let mut other = supervisor.fork(&actor(4));
        let breaks = edit_breaks(&mut other, true, |doc| doc.add_review(&review("r1", 4)).unwrap());
        assert_eq!(breaks, [Some(Breach::OthersReview)], "r1 is device 3's review");
    }

    #[test]
    fn a_worker_adds_only_a_backup_and_only_where_she_is_the_worker_when_the_policy_allows() {
        use crate::model::{Assignment, AssignmentRole};
        let entry = |member: &str, role: AssignmentRole, by: u8| Assignment {
            member: member.into(),
            role,
            until: None,
            by: device(by),
            at: Utc::now(),
        };
        // A supervisor (device 3) made Sanne the case's worker; Sanne's device is 2.
        let mut supervisor = case_on(3);
        supervisor.assign(&entry("Sanne", AssignmentRole::Worker, 3)).unwrap();
        let mut sanne = || supervisor.fork(&actor(2));
        let backup = entry("Daan", AssignmentRole::Backup, 2);
        assert_eq!(
            edit_breaks_as(&mut sanne(), false, Some("Sanne"), |d| d.assign(&backup).unwrap()),
            [None],
            "her own backup, by the team's policy"
        );
        assert_eq!(
            edit_breaks_as(&mut sanne(), false, None, |d| d.assign(&backup).unwrap()),
            [Some(Breach::AssignmentByWorker)],
            "not without the policy"
        );
        assert_eq!(
            edit_breaks_as(&mut sanne(), false, Some("Daan"), |d| d.assign(&backup).unwrap()),
            [Some(Breach::AssignmentByWorker)],
            "not on a case whose worker she is not"
        );
        for (what, forged) in [
            ("a worker", entry("Daan", AssignmentRole::Worker, 2)),
            ("for a period", Assignment { until: Some(Utc::now()), ..backup.clone() }),
            ("in another's name", entry("Daan", AssignmentRole::Backup, 3)),
            ("herself anew", entry("Sanne", AssignmentRole::Backup, 2)),
        ] {
            let breaks =
                edit_breaks_as(&mut sanne(), false, Some("Sanne"), |d| d.assign(&forged).unwrap());
            assert_eq!(breaks, [Some(Breach::AssignmentByWorker)], "{what}");
        }
        let removes = edit_breaks_as(&mut supervisor.fork(&actor(2)), false, Some("Sanne"), |d| {
            d.unassign("Sanne").unwrap();
        });
        assert_eq!(removes, [Some(Breach::AssignmentByWorker)], "nor removes anyone");
    }

    #[test]
    fn only_a_supervisor_changes_who_the_case_is_assigned_to() {
        let assignment = |member: &str| crate::model::Assignment {
            member: member.into(),
            role: crate::model::AssignmentRole::Worker,
            until: None,
            by: device(2),
            at: Utc::now(),
        };
        let mut worker = case_on(2);
        let breaks =
            edit_breaks(&mut worker, false, |doc| doc.assign(&assignment("Daan")).unwrap());
        assert_eq!(breaks, [Some(Breach::AssignmentByWorker)], "a worker assigns nobody");

        let mut supervisor = case_on(3);
        let breaks =
            edit_breaks(&mut supervisor, true, |doc| doc.assign(&assignment("Sanne")).unwrap());
        assert_eq!(breaks, [None]);
        let mut worker = supervisor.fork(&actor(2));
        let breaks = edit_breaks(&mut worker, false, |doc| {
            doc.unassign("Sanne").unwrap();
        });
        assert_eq!(breaks, [Some(Breach::AssignmentByWorker)], "nor unassigns anyone");
    }

    #[test]
    fn the_structure_is_laid_down_once() {
        let mut doc = case_on(2);
        let breaks = edit_breaks(&mut doc, true, |doc| {
            doc.raw().put_object(ROOT, "visits", ObjType::Map).unwrap();
        });
        assert_eq!(breaks, [Some(Breach::Structure)]);

        // A change with no history of its own: a second beginning, whoever writes it.
        let mut other =
            CaseDoc::create(&actor(2), "c1", &Resident::named("X"), None, Utc::now()).unwrap();
        let second = other.changes_after(&[]).remove(0);
        let mut doc = case_on(3);
        doc.raw().apply_changes([second.clone()]).unwrap();
        assert_eq!(doc.breach(&second, true, false, None), Some(Breach::SecondStart));
    }

    #[test]
    fn the_access_log_takes_only_new_entries_in_the_writers_own_name() {
        let entry = |n: u8| AccessEntry {
            at: Utc::now(),
            device: device(n),
            member: "Sanne".into(),
            action: AccessAction::Export,
            on_behalf: None,
        };
        let mut doc = case_on(2);
        let breaks = edit_breaks(&mut doc, true, |doc| {
            doc.log_access(&entry(5)).unwrap();
        });
        assert_eq!(breaks, [Some(Breach::AccessInOthersName)]);

        let mut doc = case_on(2);
        edit_breaks(&mut doc, false, |doc| {
            doc.log_access(&entry(2)).unwrap();
        });
        let mut other = doc.fork(&actor(3));
        let breaks = edit_breaks(&mut other, true, |doc| {
            let (_, list) = doc.raw().get(ROOT, "access").unwrap().unwrap();
            doc.raw().delete(&list, 0).unwrap();
        });
        assert_eq!(breaks, [Some(Breach::AccessRemoved)]);
    }
}
