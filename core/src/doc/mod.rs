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
pub(crate) use case::StoredAttachment;
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
    update_known_text(doc, parent, key, None, text)
}

/// `update_text`, told what the text object holds now when the caller knows it (the text it
/// wrote last): reading a long note back out of automerge cost more than the edit itself.
pub(crate) fn update_known_text(
    doc: &mut AutoCommit,
    parent: &ObjId,
    key: &str,
    known: Option<&str>,
    text: &str,
) -> Result<()> {
    match doc.get(parent, key)? {
        Some((Value::Object(ObjType::Text), obj)) => {
            let read;
            let old = match known {
                Some(known) => known,
                None => {
                    read = doc.text(&obj)?;
                    &read
                }
            };
            match typed_edit(old, text) {
                Some(None) => {}
                Some(Some(edit)) => {
                    doc.splice_text(&obj, edit.at, edit.delete as isize, edit.insert)?;
                }
                // Edits in several places (a paste, a rewrite): automerge's own diff keeps
                // what did not change in place, so that a colleague's concurrent edits there
                // stay where they were made.
                None => doc.update_text(&obj, text)?,
            }
            Ok(())
        }
        _ => put_text(doc, parent, key, text),
    }
}

/// At most this many characters replaced in one place count as typing (see `typed_edit`).
const TYPED_SPAN: usize = 32;

/// One splice of a text object, in characters (automerge's default text unit).
#[derive(Debug, PartialEq, Eq)]
struct Splice<'a> {
    at: usize,
    delete: usize,
    insert: &'a str,
}

/// The edit from `old` to `new` when it is what typing makes between two autosaves: one
/// place where at most `TYPED_SPAN` characters were replaced by anything. `Some(None)` when
/// nothing changed, `None` when the edit is not of that kind. automerge's `update_text` runs
/// a diff over the grapheme clusters of the whole note, which for one keystroke in a long
/// note was three quarters of the autosave.
fn typed_edit<'a>(old: &str, new: &'a str) -> Option<Option<Splice<'a>>> {
    if old == new {
        return Some(None);
    }
    let (mut prefix_chars, mut prefix_bytes) = (0, 0);
    for (a, b) in old.chars().zip(new.chars()) {
        if a != b {
            break;
        }
        prefix_chars += 1;
        prefix_bytes += a.len_utf8();
    }
    let (old_rest, new_rest) = (&old[prefix_bytes..], &new[prefix_bytes..]);
    let mut suffix_bytes = 0;
    for (a, b) in old_rest.chars().rev().zip(new_rest.chars().rev()) {
        if a != b {
            break;
        }
        suffix_bytes += a.len_utf8();
    }
    let removed = &old_rest[..old_rest.len() - suffix_bytes];
    let delete = removed.chars().count();
    (delete <= TYPED_SPAN).then(|| {
        Some(Splice {
            at: prefix_chars,
            delete,
            insert: &new_rest[..new_rest.len() - suffix_bytes],
        })
    })
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

#[cfg(test)]
mod text_tests {
    use automerge::ROOT;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_keystroke_is_one_splice_in_characters() {
        let typed = |old, new| typed_edit(old, new).unwrap().unwrap();
        assert_eq!(typed("Brief", "Brieff"), Splice { at: 5, delete: 0, insert: "f" });
        assert_eq!(typed("café om", "café  om"), Splice { at: 5, delete: 0, insert: " " });
        assert_eq!(typed("één 👩‍👧 twee", "één 👩‍👧twee"), Splice { at: 7, delete: 1, insert: "" });
        assert_eq!(typed("aa", "aaa"), Splice { at: 2, delete: 0, insert: "a" });
        assert_eq!(typed_edit("zelfde", "zelfde"), Some(None));
        let rewrite = "x".repeat(TYPED_SPAN + 1);
        assert_eq!(typed_edit(&rewrite, "y"), None);
    }

    proptest! {
        /// Whatever the edit, the text object holds exactly the new text afterwards.
        #[test]
        fn an_edit_leaves_exactly_the_new_text(
            old in "[aé👩 \u{200d}b]{0,40}",
            new in "[aé👩 \u{200d}b]{0,40}",
        ) {
            let mut doc = AutoCommit::new();
            put_text(&mut doc, &ROOT, "note", &old).unwrap();
            update_text(&mut doc, &ROOT, "note", &new).unwrap();
            let Some((Value::Object(ObjType::Text), obj)) = doc.get(ROOT, "note").unwrap() else {
                panic!("the note is a text object");
            };
            prop_assert_eq!(doc.text(&obj).unwrap(), new);
        }
    }
}
