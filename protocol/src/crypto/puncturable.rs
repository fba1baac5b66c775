//! A puncturable key: one secret that derives a key per name (a GGM tree over a 64-bit hash
//! of the name, HMAC-SHA256 as its generator), and from which one name's key can be removed
//! for good. What is left still derives every other name's key, never that one's again.
//!
//! Erasing a case punctures every epoch key at the case: the case-key announcements a relay
//! backup still holds were sealed under the case's key from that tree, so no device (nor a
//! newcomer, who receives the punctured tree) can open them after the erasure.

use ring::{digest, hmac};
use zeroize::Zeroizing;

use super::{SecretKey, KEY_LEN};
use crate::{Error, Result};

/// Bits of the label a name is hashed to: tree depth.
const DEPTH: u32 = 64;
const LABEL_DOMAIN: &[u8] = b"eropaf puncturable label v1\0";
const CHILD_DOMAIN: &[u8] = b"eropaf puncturable child v1\0";
const LEAF_DOMAIN: &[u8] = b"eropaf puncturable leaf v1\0";
/// A stored tree with any puncture starts with this byte; an unpunctured one is its 32-byte
/// root, as epoch keys were stored before they could be punctured.
const PUNCTURED_TAG: u8 = 0xE1;
const NODE_LEN: usize = 1 + 8 + KEY_LEN;
/// The longest stored form a key package may carry: about 100,000 nodes (2,000 erased cases
/// in one epoch), 4 MiB. Bounds what a received package can make a device allocate; a
/// device's own store is not held to it.
pub const MAX_RECEIVED_LEN: usize = 1 + 100_000 * NODE_LEN;

/// The secret subtrees that remain: each covers the labels that start with its prefix.
pub struct PuncturableKey {
    nodes: Vec<Node>,
}

struct Node {
    depth: u32,
    /// The first `depth` bits of the labels it covers; the rest are zero.
    prefix: u64,
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl Node {
    fn covers(&self, label: u64) -> bool {
        self.depth == 0 || label >> (DEPTH - self.depth) == self.prefix >> (DEPTH - self.depth)
    }
}

impl PuncturableKey {
    pub fn from_root(root: &SecretKey) -> PuncturableKey {
        let node = Node { depth: 0, prefix: 0, key: Zeroizing::new(*root.as_bytes()) };
        PuncturableKey { nodes: vec![node] }
    }

    /// The key for `name`, unless the tree was punctured there.
    pub fn derive(&self, name: &[u8]) -> Option<SecretKey> {
        let label = label(name);
        let node = self.nodes.iter().find(|node| node.covers(label))?;
        let mut key = node.key.clone();
        for depth in node.depth..DEPTH {
            key = child(&key, bit(label, depth));
        }
        let leaf = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key[..]), LEAF_DOMAIN);
        SecretKey::from_slice(leaf.as_ref()).ok()
    }

    /// Removes `name`'s key: each subtree holding it is replaced by the siblings along its
    /// path. A tree this code made holds a name in one subtree at most; one read from a key
    /// package may overlap, and every subtree that holds the name goes. Returns whether
    /// anything was removed (false when already punctured).
    pub fn puncture(&mut self, name: &[u8]) -> bool {
        let label = label(name);
        let mut removed = false;
        while let Some(index) = self.nodes.iter().position(|node| node.covers(label)) {
            let node = self.nodes.swap_remove(index);
            let mut key = node.key;
            let mut prefix = node.prefix;
            for depth in node.depth..DEPTH {
                let on_path = bit(label, depth);
                let shift = DEPTH - 1 - depth;
                self.nodes.push(Node {
                    depth: depth + 1,
                    prefix: prefix | ((1 - on_path) << shift),
                    key: child(&key, 1 - on_path),
                });
                prefix |= on_path << shift;
                key = child(&key, on_path);
            }
            removed = true;
        }
        removed
    }

    /// The stored form: the 32-byte root while unpunctured, else a tag and every node.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        if let [node] = self.nodes.as_slice() {
            if node.depth == 0 {
                return Zeroizing::new(node.key.to_vec());
            }
        }
        let mut bytes = Zeroizing::new(Vec::with_capacity(1 + self.nodes.len() * NODE_LEN));
        bytes.push(PUNCTURED_TAG);
        for node in &self.nodes {
            // Depth is at most 64: one byte.
            bytes.push(node.depth as u8);
            bytes.extend_from_slice(&node.prefix.to_be_bytes());
            bytes.extend_from_slice(&node.key[..]);
        }
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<PuncturableKey> {
        let malformed = || Error::Crypto("a punctured key is malformed".into());
        if bytes.len() == KEY_LEN {
            return Ok(PuncturableKey::from_root(&SecretKey::from_slice(bytes)?));
        }
        let Some((&PUNCTURED_TAG, rest)) = bytes.split_first() else { return Err(malformed()) };
        if rest.len() % NODE_LEN != 0 {
            return Err(malformed());
        }
        let mut nodes = Vec::with_capacity(rest.len() / NODE_LEN);
        for chunk in rest.chunks_exact(NODE_LEN) {
            let depth = u32::from(chunk[0]);
            let prefix = u64::from_be_bytes(chunk[1..9].try_into().map_err(|_| malformed())?);
            let mut key = Zeroizing::new([0u8; KEY_LEN]);
            key.copy_from_slice(&chunk[9..]);
            if depth == 0 || depth > DEPTH || (depth < DEPTH && prefix << depth != 0) {
                return Err(malformed());
            }
            nodes.push(Node { depth, prefix, key });
        }
        Ok(PuncturableKey { nodes })
    }
}

fn label(name: &[u8]) -> u64 {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(LABEL_DOMAIN);
    context.update(name);
    let hash = context.finish();
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_ref()[..8]);
    u64::from_be_bytes(first)
}

fn bit(label: u64, depth: u32) -> u64 {
    (label >> (DEPTH - 1 - depth)) & 1
}

fn child(key: &[u8; KEY_LEN], bit: u64) -> Zeroizing<[u8; KEY_LEN]> {
    let mut context = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, key));
    context.update(CHILD_DOMAIN);
    context.update(&[bit as u8]);
    let tag = context.sign();
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    out.copy_from_slice(tag.as_ref());
    out
}

impl Clone for PuncturableKey {
    fn clone(&self) -> PuncturableKey {
        let nodes = self
            .nodes
            .iter()
            .map(|node| Node { depth: node.depth, prefix: node.prefix, key: node.key.clone() })
            .collect();
        PuncturableKey { nodes }
    }
}

impl std::fmt::Debug for PuncturableKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PuncturableKey({} nodes)", self.nodes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> SecretKey {
        SecretKey::generate().unwrap()
    }

    #[test]
    fn a_punctured_name_derives_nothing_and_every_other_name_the_same_key() {
        let root = root();
        let whole = PuncturableKey::from_root(&root);
        let mut punctured = whole.clone();
        assert!(punctured.puncture(b"case-a"));
        assert!(!punctured.puncture(b"case-a"), "already punctured");
        assert!(punctured.derive(b"case-a").is_none());
        for name in [&b"case-b"[..], b"case-c", b"", b"another case"] {
            let before = whole.derive(name).unwrap();
            assert_eq!(punctured.derive(name).unwrap().as_bytes(), before.as_bytes());
        }
        assert!(punctured.puncture(b"case-b"));
        assert!(punctured.derive(b"case-b").is_none());
        assert!(punctured.derive(b"case-c").is_some());
    }

    #[test]
    fn what_remains_after_a_puncture_holds_neither_the_root_nor_the_names_key() {
        let root = root();
        let whole = PuncturableKey::from_root(&root);
        let erased = whole.derive(b"case-a").unwrap();
        let mut punctured = whole.clone();
        punctured.puncture(b"case-a");
        let stored = punctured.to_bytes();
        for secret in [root.as_bytes(), erased.as_bytes()] {
            assert!(!stored.windows(KEY_LEN).any(|w| w == secret), "a secret survived");
        }
        assert_eq!(stored.len(), 1 + 64 * NODE_LEN);
    }

    #[test]
    fn the_stored_form_reads_back_the_same_tree() {
        let root = root();
        let whole = PuncturableKey::from_root(&root);
        assert_eq!(&whole.to_bytes()[..], root.as_bytes(), "an unpunctured key is its root");
        let mut punctured = whole.clone();
        for name in [&b"one"[..], b"two", b"three"] {
            punctured.puncture(name);
        }
        let read = PuncturableKey::from_bytes(&punctured.to_bytes()).unwrap();
        assert!(read.derive(b"two").is_none());
        assert_eq!(
            read.derive(b"four").unwrap().as_bytes(),
            whole.derive(b"four").unwrap().as_bytes()
        );
        for bad in [&[][..], &[PUNCTURED_TAG, 1, 2][..], &[0u8; 31][..]] {
            assert!(PuncturableKey::from_bytes(bad).is_err());
        }
    }

    /// Found by `fuzz_punctured_key_decode`: a received tree whose subtrees overlap still
    /// derived a punctured name from the second subtree that held it.
    #[test]
    fn a_name_held_by_two_overlapping_subtrees_is_punctured_in_both() {
        let node = |depth: u8, prefix: u64, key: u8| {
            let mut bytes = vec![depth];
            bytes.extend_from_slice(&prefix.to_be_bytes());
            bytes.extend_from_slice(&[key; KEY_LEN]);
            bytes
        };
        let overlapping =
            [vec![PUNCTURED_TAG], node(1, 0, 1), node(1, 0, 2), node(1, 1 << 63, 3)].concat();
        let mut key = PuncturableKey::from_bytes(&overlapping).unwrap();
        for name in [&b"a case"[..], b"another case", b"a third"] {
            assert!(key.puncture(name));
            assert!(key.derive(name).is_none(), "{name:?} still derives");
        }
    }
}
