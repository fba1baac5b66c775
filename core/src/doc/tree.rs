//! Reading a part of a document whole: automerge hydrates the object in one pass over its
//! operations, and serde maps the result onto our types. Reading field by field instead costs
//! a lookup in the operation set per field, which for a case of a hundred visits was most of
//! the time it took to open it.

use automerge::hydrate::Value as Tree;
use automerge::{AutoCommit, ObjId, ReadDoc, ScalarValue};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Number, Value as Json};

use super::Millis;
use crate::checklist::Verdict;
use crate::model::{CaseStatus, CaseType, LifeDomain, ReviewVerdict};
use crate::{Error, Result};

/// The object `obj` of `doc` as a `T`. Texts read as strings, whichever form they are stored
/// in; a value of a type `T` does not expect is an error that names where it was.
pub(crate) fn read<T: DeserializeOwned>(doc: &AutoCommit, obj: &ObjId) -> Result<T> {
    let tree = doc.hydrate(obj, None)?;
    serde_json::from_value(to_json(&tree))
        .map_err(|e| Error::Document(format!("the document does not read as expected: {e}")))
}

fn to_json(tree: &Tree) -> Json {
    match tree {
        Tree::Scalar(scalar) => scalar_to_json(scalar),
        Tree::Map(map) => {
            Json::Object(map.iter().map(|(k, v)| (k.clone(), to_json(&v.value))).collect())
        }
        Tree::List(list) => Json::Array(list.iter().map(|item| to_json(&item.value)).collect()),
        Tree::Text(text) => Json::String(text.to_string()),
    }
}

fn scalar_to_json(scalar: &ScalarValue) -> Json {
    match scalar {
        ScalarValue::Str(s) => Json::String(s.to_string()),
        ScalarValue::Int(n) | ScalarValue::Timestamp(n) => Json::Number((*n).into()),
        ScalarValue::Uint(n) => Json::Number((*n).into()),
        ScalarValue::F64(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        ScalarValue::Counter(c) => Json::Number(i64::from(c).into()),
        ScalarValue::Boolean(b) => Json::Bool(*b),
        ScalarValue::Null => Json::Null,
        // Nothing in our layout is bytes or of a type a newer automerge added; such a value
        // reads as an empty object, which no field of ours accepts.
        ScalarValue::Bytes(_) | ScalarValue::Unknown { .. } => Json::Object(Map::new()),
    }
}

/// Stored enums are their snake_case keys, read with the same `parse` as everywhere else.
pub(crate) trait StoredKey: Sized {
    fn from_key(key: &str) -> Result<Self>;
}

macro_rules! stored_key {
    ($($ty:ty),+) => {$(
        impl StoredKey for $ty {
            fn from_key(key: &str) -> Result<Self> {
                <$ty>::parse(key)
            }
        }
    )+};
}

stored_key!(CaseStatus, CaseType, LifeDomain, ReviewVerdict, Verdict);

pub(crate) fn by_key<'de, D: Deserializer<'de>, T: StoredKey>(
    deserializer: D,
) -> std::result::Result<T, D::Error> {
    let key = String::deserialize(deserializer)?;
    T::from_key(&key).map_err(serde::de::Error::custom)
}

pub(crate) fn opt_by_key<'de, D: Deserializer<'de>, T: StoredKey>(
    deserializer: D,
) -> std::result::Result<Option<T>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        Some(key) => T::from_key(&key).map(Some).map_err(serde::de::Error::custom),
        None => Ok(None),
    }
}

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        use chrono::TimeZone;
        let millis = i64::deserialize(deserializer)?;
        chrono::Utc
            .timestamp_millis_opt(millis)
            .single()
            .map(Millis)
            .ok_or_else(|| serde::de::Error::custom(format!("{millis} ms is not a time")))
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ROOT};

    use super::*;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Sample {
        note: String,
        text: String,
        at: Millis,
        #[serde(deserialize_with = "by_key")]
        status: CaseStatus,
        #[serde(default)]
        missing: Option<u64>,
        list: Vec<u64>,
    }

    impl PartialEq for Millis {
        fn eq(&self, other: &Self) -> bool {
            self.0 == other.0
        }
    }

    impl std::fmt::Debug for Millis {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.0.fmt(f)
        }
    }

    #[test]
    fn an_object_reads_whole_with_texts_in_either_form() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "note", "als string").unwrap();
        let text = doc.put_object(ROOT, "text", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, "als tekst").unwrap();
        doc.put(ROOT, "at", ScalarValue::Timestamp(1_700_000_000_000)).unwrap();
        doc.put(ROOT, "status", "open").unwrap();
        let list = doc.put_object(ROOT, "list", ObjType::List).unwrap();
        doc.insert(&list, 0, 7_u64).unwrap();
        let sample: Sample = read(&doc, &ROOT).unwrap();
        assert_eq!(sample.note, "als string");
        assert_eq!(sample.text, "als tekst");
        assert_eq!(sample.at.0.timestamp_millis(), 1_700_000_000_000);
        assert_eq!(sample.status, CaseStatus::Open);
        assert_eq!((sample.missing, sample.list), (None, vec![7]));
    }

    #[test]
    fn a_value_of_the_wrong_type_is_a_clear_error() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "note", 42_i64).unwrap();
        let err = read::<Sample>(&doc, &ROOT).unwrap_err();
        assert!(matches!(err, Error::Document(_)), "{err:?}");
        doc.put(ROOT, "note", "x").unwrap();
        doc.put(ROOT, "text", "y").unwrap();
        doc.put(ROOT, "at", ScalarValue::Timestamp(0)).unwrap();
        doc.put(ROOT, "status", "zoek").unwrap();
        doc.put_object(ROOT, "list", ObjType::List).unwrap();
        let err = read::<Sample>(&doc, &ROOT).unwrap_err();
        assert!(err.to_string().contains("zoek"), "{err}");
    }
}
