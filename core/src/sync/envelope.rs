//! The envelope codec is the protocol's (`eropaf_protocol::envelope`); what this adds is the
//! check that the automerge changes inside an opened envelope were written by the device that
//! signed it, and reading the loose changes out of a stored payload.

use automerge::{Automerge, Change, ReadDoc};
pub use eropaf_protocol::envelope::*;

use crate::crypto::{actor_device, DeviceId};
use crate::{Error, Result};

fn refused(reason: impl Into<String>) -> Error {
    Error::Refused(reason.into())
}

/// For an opened Changes envelope: refuses it unless every automerge change in `payload` was
/// made by `author`, i.e. its actor id starts with the author's device id. An empty payload
/// holds no changes and passes.
pub fn check_change_authors(payload: &[u8], author: DeviceId) -> Result<()> {
    for device in change_actors(payload)? {
        if device != author {
            return Err(refused(format!(
                "a change in an envelope by {author} was made by device {device}"
            )));
        }
    }
    Ok(())
}

/// For an opened Snapshot envelope: the devices whose changes `payload` holds, sorted, each
/// once, for the caller to check against the roster. A snapshot legitimately holds other
/// devices' history, so it cannot be held to its author alone.
///
/// The payload is split into automerge's storage chunks here rather than loaded into a
/// document and read back with `get_changes`: changes whose dependencies are missing (any
/// `save_after` payload received on its own, or the orphans a `save()` appends) are queued by
/// automerge, not returned by `get_changes`, yet applied once the receiver's document has
/// their dependencies. Every chunk must parse, so no change escapes the check; bundles (an
/// experimental automerge format that `save` and `save_after` never write) are refused.
///
/// Before automerge sees any of it, the payload is held to the limits of `limits`: automerge
/// inflates and decodes without a bound of its own.
pub fn change_actors(payload: &[u8]) -> Result<Vec<DeviceId>> {
    super::limits::check_automerge(payload)?;
    let mut actors = Vec::new();
    for (chunk_type, chunk) in chunks(payload)? {
        match chunk_type {
            CHUNK_DOCUMENT => {
                let doc = Automerge::load(chunk)
                    .map_err(|_| refused("a document in the payload does not load"))?;
                // A document chunk holds its whole history; anything it left queued would
                // have escaped the loop below.
                if !doc.get_missing_deps(&[]).is_empty() {
                    return Err(refused("a document in the payload is incomplete"));
                }
                for meta in doc.get_changes_meta(&[]) {
                    actors.push(device_of(meta.actor.to_bytes())?);
                }
            }
            CHUNK_CHANGE | CHUNK_COMPRESSED_CHANGE => {
                let change = Change::try_from(chunk)
                    .map_err(|_| refused("a change in the payload is malformed"))?;
                actors.push(device_of(change.actor_id().to_bytes())?);
            }
            CHUNK_BUNDLE => return Err(refused("automerge bundles are not accepted")),
            other => return Err(refused(format!("unknown automerge chunk type {other}"))),
        }
    }
    actors.sort();
    actors.dedup();
    Ok(actors)
}

/// The loose changes in a payload as stored (document chunks, a supervisor's snapshot,
/// hold none); a chunk that does not parse is left out (what is stored was checked on
/// arrival).
pub fn loose_changes(payload: &[u8]) -> Vec<Change> {
    chunks(payload)
        .unwrap_or_default()
        .into_iter()
        .filter(|(chunk_type, _)| matches!(*chunk_type, CHUNK_CHANGE | CHUNK_COMPRESSED_CHANGE))
        .filter_map(|(_, chunk)| Change::try_from(chunk).ok())
        .collect()
}

fn device_of(actor: &[u8]) -> Result<DeviceId> {
    actor_device(actor).ok_or_else(|| refused("a change's actor id names no device"))
}

// Automerge's storage format (automerge.org/automerge-binary-format-spec): each chunk is
// magic, 4-byte checksum, type byte, uLEB128 length, data.
const CHUNK_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_DOCUMENT: u8 = 0;
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED_CHANGE: u8 = 2;
const CHUNK_BUNDLE: u8 = 3;

/// Splits a payload into whole chunks (type, bytes including the chunk header). Only the
/// framing is read here; automerge parses each chunk and refuses one whose own header does
/// not span exactly the bytes given.
fn chunks(payload: &[u8]) -> Result<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let malformed = || refused("the payload is not automerge data");
        if rest.len() < 9 || rest[..4] != CHUNK_MAGIC {
            return Err(malformed());
        }
        let chunk_type = rest[8];
        let (data_len, len_size) = uleb128(&rest[9..]).ok_or_else(malformed)?;
        let end = usize::try_from(data_len)
            .ok()
            .and_then(|len| len.checked_add(9 + len_size))
            .filter(|&end| end <= rest.len())
            .ok_or_else(malformed)?;
        let (chunk, tail) = rest.split_at(end);
        out.push((chunk_type, chunk));
        rest = tail;
    }
    Ok(out)
}

/// An unsigned LEB128 value and the bytes it took. Only the shortest encoding is accepted, so
/// the split agrees with automerge's wherever automerge accepts the chunk at all.
fn uleb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        let low = u64::from(byte & 0x7f);
        if i == 9 && low > 1 {
            return None; // beyond 64 bits
        }
        value |= low << (7 * i);
        if byte & 0x80 == 0 {
            if i > 0 && byte == 0 {
                return None; // a longer encoding than needed
            }
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ActorId, AutoCommit, ROOT};

    use super::*;
    use crate::crypto::{session_actor, DeviceIdentity};

    fn doc_by(device: DeviceId) -> AutoCommit {
        AutoCommit::new().with_actor(ActorId::from(session_actor(device).unwrap()))
    }

    #[test]
    fn changes_by_the_author_are_accepted() {
        let device = DeviceIdentity::generate().unwrap();
        let mut doc = doc_by(device.id());
        doc.put(ROOT, "status", "open").unwrap();
        doc.commit();
        let heads = doc.get_heads();
        doc.put(ROOT, "status", "closed").unwrap();
        doc.commit();
        check_change_authors(&doc.save_after(&[]), device.id()).unwrap();
        // An incremental save on its own, its dependency absent.
        check_change_authors(&doc.save_after(&heads), device.id()).unwrap();
        // A later session of the same device has a different actor, the same device prefix.
        let mut later = doc.fork().with_actor(ActorId::from(session_actor(device.id()).unwrap()));
        later.put(ROOT, "status", "open").unwrap();
        later.commit();
        check_change_authors(&later.save_after(&[]), device.id()).unwrap();
        check_change_authors(b"", device.id()).unwrap();
    }

    #[test]
    fn changes_by_another_device_are_refused() {
        let author = DeviceIdentity::generate().unwrap();
        let other = DeviceIdentity::generate().unwrap();
        let mut doc = doc_by(author.id());
        doc.put(ROOT, "status", "open").unwrap();
        doc.commit();
        let mut theirs = doc.fork().with_actor(ActorId::from(session_actor(other.id()).unwrap()));
        let heads = theirs.get_heads();
        theirs.put(ROOT, "status", "closed").unwrap();
        theirs.commit();

        let all = theirs.save_after(&[]);
        assert!(matches!(check_change_authors(&all, author.id()), Err(Error::Refused(_))));
        // Alone, the other device's change misses its dependency. Loaded into a fresh
        // document it would be queued and invisible to get_changes, yet still applied by a
        // receiver that has the dependency: the check must see it anyway.
        let incremental = theirs.save_after(&heads);
        let mut fresh = AutoCommit::new();
        fresh.load_incremental(&incremental).unwrap();
        assert!(fresh.get_changes(&[]).is_empty());
        let result = check_change_authors(&incremental, author.id());
        assert!(matches!(result, Err(Error::Refused(_))));
        // A change of the author's followed by one of another device's.
        let mut mixed = doc.save_after(&[]);
        mixed.extend_from_slice(&incremental);
        assert!(matches!(check_change_authors(&mixed, author.id()), Err(Error::Refused(_))));
    }

    #[test]
    fn a_merged_snapshot_lists_every_writer() {
        let a = DeviceIdentity::generate().unwrap();
        let b = DeviceIdentity::generate().unwrap();
        let mut doc_a = doc_by(a.id());
        doc_a.put(ROOT, "status", "open").unwrap();
        doc_a.commit();
        let mut doc_b = doc_by(b.id());
        doc_b.put(ROOT, "type", "huisbezoek").unwrap();
        doc_b.commit();
        doc_a.merge(&mut doc_b).unwrap();

        let snapshot = doc_a.save();
        let mut expected = vec![a.id(), b.id()];
        expected.sort();
        assert_eq!(change_actors(&snapshot).unwrap(), expected);
        assert!(matches!(check_change_authors(&snapshot, a.id()), Err(Error::Refused(_))));
    }

    #[test]
    fn changes_appended_to_a_snapshot_are_listed() {
        let a = DeviceIdentity::generate().unwrap();
        let c = DeviceIdentity::generate().unwrap();
        let mut doc_a = doc_by(a.id());
        doc_a.put(ROOT, "status", "open").unwrap();
        doc_a.commit();
        let mut doc_c = doc_by(c.id());
        doc_c.put(ROOT, "x", 1).unwrap();
        doc_c.commit();
        let heads = doc_c.get_heads();
        doc_c.put(ROOT, "x", 2).unwrap();
        doc_c.commit();

        // A document chunk followed by an orphaned change, as `save()` writes when it holds
        // changes whose dependencies it lacks.
        let mut snapshot = doc_a.save();
        snapshot.extend_from_slice(&doc_c.save_after(&heads));
        let mut expected = vec![a.id(), c.id()];
        expected.sort();
        assert_eq!(change_actors(&snapshot).unwrap(), expected);
    }

    #[test]
    fn payloads_that_are_not_plain_automerge_data_are_refused() {
        let device = DeviceIdentity::generate().unwrap();
        let mut doc = doc_by(device.id());
        doc.put(ROOT, "status", "open").unwrap();
        doc.commit();
        let changes = doc.save_after(&[]);

        assert!(matches!(change_actors(b"not automerge"), Err(Error::Refused(_))));
        let mut trailing = changes.clone();
        trailing.push(0);
        assert!(matches!(change_actors(&trailing), Err(Error::Refused(_))));
        assert!(matches!(change_actors(&changes[..changes.len() - 1]), Err(Error::Refused(_))));
        let mut corrupted = changes.clone();
        let last = corrupted.len() - 1;
        corrupted[last] ^= 0xff;
        assert!(matches!(change_actors(&corrupted), Err(Error::Refused(_))));

        let heads = doc.get_heads();
        let bundle = doc.bundle(heads).unwrap();
        assert!(matches!(change_actors(bundle.bytes()), Err(Error::Refused(_))));

        // An actor id too short to name a device.
        let mut anonymous = AutoCommit::new().with_actor(ActorId::from(vec![1u8; 8]));
        anonymous.put(ROOT, "status", "open").unwrap();
        anonymous.commit();
        let result = change_actors(&anonymous.save_after(&[]));
        assert!(matches!(result, Err(Error::Refused(_))));
    }

    #[test]
    fn uleb128_takes_only_the_shortest_encoding() {
        assert_eq!(uleb128(&[0x00]), Some((0, 1)));
        assert_eq!(uleb128(&[0x7f, 0xff]), Some((127, 1)));
        assert_eq!(uleb128(&[0x80, 0x01]), Some((128, 2)));
        assert_eq!(uleb128(&[0x80, 0x00]), None);
        assert_eq!(uleb128(&[0x80]), None);
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(uleb128(&max), Some((u64::MAX, 10)));
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(uleb128(&over), None);
    }
}
