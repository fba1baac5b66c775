//! Automerge documents: one per case (`case`) and one for the team (`team`), plus the small
//! pieces both use: texts written whole or merged by character, timestamps, enums stored as
//! keys, and finding fields that were set concurrently.

pub(crate) mod authority;
pub mod case;
#[cfg(test)]
mod convergence;
mod team;
mod tree;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value};
use autosurgeon::{Hydrate, HydrateError};
use chrono::{DateTime, TimeZone, Utc};

pub use case::CaseDoc;
pub use team::{Erasure, TeamDoc};
// Kept here too: callers knew it as a document's field before it moved to `model`.
pub use crate::model::TeamPolicy;

use crate::checklist::Verdict;
use crate::model::{CaseStatus, CaseType, Conflict, LifeDomain, ReviewVerdict};
use crate::{Error, Result};

/// A document from saved bytes: a snapshot followed by any number of incremental saves.
/// Loaded in one pass: automerge applies the changes of all chunks as one batch, which is
/// faster than applying chunk by chunk, and queues changes whose dependencies are missing.
pub(crate) fn load_chunks(chunks: &[Vec<u8>], actor: &[u8]) -> Result<AutoCommit> {
    let doc = match chunks {
        [] => return Err(Error::Document("no data".into())),
        [only] => AutoCommit::load(only)?,
        _ => AutoCommit::load(&chunks.concat())?,
    };
    Ok(doc.with_actor(ActorId::from(actor)))
}

/// Merges changes from another replica into `doc`; returns whether anything new arrived.
/// Changes that build on ones this document lacks fail with `MISSING_DEPENDENCIES`.
pub(crate) fn merge_changes(doc: &mut AutoCommit, bytes: &[u8]) -> Result<bool> {
    let before = doc.get_heads();
    doc.load_incremental(bytes)?;
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err(Error::Document(case::MISSING_DEPENDENCIES.into()));
    }
    Ok(doc.get_heads() != before)
}

pub(crate) fn put_text(doc: &mut AutoCommit, parent: &ObjId, key: &str, text: &str) -> Result<()> {
    let obj = doc.put_object(parent, key, ObjType::Text)?;
    doc.splice_text(&obj, 0, 0, text)?;
    Ok(())
}

/// Edits an existing text object by diff (so concurrent edits interleave), or makes the field
/// a text object holding `text`: when it did not exist yet (an optional resident field filled
/// in for the first time), or when it was written whole as a string (a visit's note, edited
/// for the first time; see `TextField`).
pub(crate) fn update_text(
    doc: &mut AutoCommit,
    parent: &ObjId,
    key: &str,
    text: &str,
) -> Result<()> {
    match doc.get(parent, key)? {
        Some((Value::Object(ObjType::Text), obj)) => {
            doc.update_text(&obj, text)?;
            Ok(())
        }
        _ => put_text(doc, parent, key, text),
    }
}

/// Walks the document from `obj` and reports every map key holding more than one value,
/// except under paths `skip` rules out.
pub(crate) fn collect_conflicts(
    doc: &AutoCommit,
    obj: &ObjId,
    path: &str,
    skip: &dyn Fn(&str) -> bool,
    found: &mut Vec<Conflict>,
) -> Result<()> {
    match doc.object_type(obj)? {
        ObjType::Map | ObjType::Table => {
            for key in doc.keys(obj).collect::<Vec<_>>() {
                let child_path =
                    if path.is_empty() { key.clone() } else { format!("{path}/{key}") };
                if skip(&child_path) {
                    continue;
                }
                let values = doc.get_all(obj, key.as_str())?;
                if values.len() > 1 {
                    found.push(Conflict {
                        path: child_path.clone(),
                        values: values.iter().map(|(v, id)| render(doc, v, id)).collect(),
                    });
                }
                for (value, id) in values {
                    if let Value::Object(_) = value {
                        collect_conflicts(doc, &id, &child_path, skip, found)?;
                    }
                }
            }
        }
        ObjType::List => {
            for index in 0..doc.length(obj) {
                if let Some((Value::Object(_), id)) = doc.get(obj, index)? {
                    collect_conflicts(doc, &id, &format!("{path}/{index}"), skip, found)?;
                }
            }
        }
        ObjType::Text => {}
    }
    Ok(())
}

pub(crate) fn render(doc: &AutoCommit, value: &Value<'_>, id: &ObjId) -> String {
    match value {
        Value::Scalar(scalar) => match scalar.as_ref() {
            ScalarValue::Str(s) => s.to_string(),
            other => other.to_string(),
        },
        Value::Object(ObjType::Text) => doc.text(id).unwrap_or_default(),
        Value::Object(_) => "(record)".to_string(),
    }
}

pub(crate) fn opt_text(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.is_empty())
}

/// A text field as stored, in either of two forms. Texts that people keep editing (answers,
/// motivations, the resident's details) are text objects, merged character by character: one
/// operation per character, which every load replays. Long texts written whole with their
/// record (a visit's note, an observation, a review's note) are one string value, as cheap to
/// write and load as a number; such a note becomes a text object when it is first edited.
pub(crate) struct TextField(pub String);

impl Hydrate for TextField {
    fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
        Ok(TextField(s.to_owned()))
    }

    fn hydrate_text<D: autosurgeon::ReadDoc>(doc: &D, obj: &ObjId) -> Result<Self, HydrateError> {
        Ok(TextField(doc.text(obj)?))
    }
}

/// An automerge timestamp (milliseconds since the epoch).
pub(crate) struct Millis(pub DateTime<Utc>);

impl Hydrate for Millis {
    fn hydrate_timestamp(millis: i64) -> Result<Self, HydrateError> {
        Utc.timestamp_millis_opt(millis)
            .single()
            .map(Millis)
            .ok_or_else(|| HydrateError::unexpected("a time", format!("{millis} ms")))
    }
}

/// Stored enums are their snake_case keys.
macro_rules! hydrate_from_key {
    ($($ty:ty),+) => {$(
        impl Hydrate for $ty {
            fn hydrate_string(s: &str) -> Result<Self, HydrateError> {
                <$ty>::parse(s).map_err(|e| HydrateError::unexpected(stringify!($ty), e.to_string()))
            }
        }
    )+};
}

hydrate_from_key!(CaseStatus, CaseType, LifeDomain, ReviewVerdict, Verdict);
