//! Attachments sealed in chunks (issue 15's format): a photo of a letter or a signed consent is
//! split into chunks of `CHUNK_LEN`, each sealed with AES-256-GCM under a key derived from the
//! file's own key, its id and the hash of its content. The file's key travels in the case
//! document's reference to it, which only the case's readers can open. Each chunk's associated data
//! names the file, the chunk's place and the file's size, so a chunk cannot be moved to
//! another file, reordered, dropped or repeated without being refused, and a chunk sealed
//! again (a resumed upload) comes out the same bytes.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf;

use crate::crypto::{sha256, SecretKey};
use crate::{Error, Result};

/// Bytes of content per chunk (the last may be shorter): large enough that a 25 MB file is
/// about a hundred requests, small enough that a cut transfer loses little.
pub const CHUNK_LEN: usize = 256 * 1024;
/// AES-GCM's tag on each sealed chunk.
pub const TAG_LEN: usize = 16;
/// The most a sealed chunk can be: what the relay takes in one upload.
pub const MAX_SEALED_CHUNK_LEN: usize = CHUNK_LEN + TAG_LEN;
/// The most chunks one file can have (1 GiB): far above any team's limit, a bound for the relay.
pub const MAX_CHUNKS: u32 = 4096;

const KEY_INFO: &[u8] = b"eropaf attachment v1 key";
const AAD_CONTEXT: &[u8] = b"eropaf attachment v1 chunk\0";

/// What identifies an attachment's sealing: its random id, the SHA-256 of its content and its
/// size. All three are in the case document's reference to it (which is itself sealed); the
/// relay sees only the id and the sealed chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttachmentRef {
    pub id: [u8; 16],
    pub content_hash: [u8; 32],
    pub size: u64,
}

impl AttachmentRef {
    /// How many chunks the file is sealed in: at least one, so an empty file is a file too.
    pub fn chunk_count(&self) -> u32 {
        let chunks = self.size.div_ceil(CHUNK_LEN as u64).max(1);
        u32::try_from(chunks).unwrap_or(u32::MAX)
    }

    /// The content length of chunk `index`.
    fn chunk_len(&self, index: u32) -> Result<usize> {
        let count = self.chunk_count();
        if index >= count {
            return Err(Error::Refused(format!("chunk {index} of a file of {count} chunks")));
        }
        let start = u64::from(index) * CHUNK_LEN as u64;
        let len = (self.size - start.min(self.size)).min(CHUNK_LEN as u64);
        usize::try_from(len).map_err(|_| Error::invalid("attachment", "too large"))
    }

    fn aad(&self, index: u32) -> Vec<u8> {
        let mut aad = Vec::with_capacity(AAD_CONTEXT.len() + 16 + 4 + 4 + 8);
        aad.extend_from_slice(AAD_CONTEXT);
        aad.extend_from_slice(&self.id);
        aad.extend_from_slice(&index.to_be_bytes());
        aad.extend_from_slice(&self.chunk_count().to_be_bytes());
        aad.extend_from_slice(&self.size.to_be_bytes());
        aad
    }
}

/// The key one attachment's chunks are sealed with.
pub struct ChunkSealer {
    file: AttachmentRef,
    key: LessSafeKey,
}

impl ChunkSealer {
    /// The sealer for `file` under its key. The content hash is part of the derived key, so
    /// an id used again for other content (a bug, or a member's trick) never reuses a nonce:
    /// each chunk's nonce is its index.
    pub fn new(file_key: &SecretKey, file: AttachmentRef) -> Result<ChunkSealer> {
        let mut salt = Vec::with_capacity(16 + 32);
        salt.extend_from_slice(&file.id);
        salt.extend_from_slice(&file.content_hash);
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(file_key.as_bytes());
        let unbound = prk
            .expand(&[KEY_INFO], &AES_256_GCM)
            .map(UnboundKey::from)
            .map_err(|_| Error::Crypto("could not derive the attachment key".into()))?;
        Ok(ChunkSealer { file, key: LessSafeKey::new(unbound) })
    }

    pub fn file(&self) -> &AttachmentRef {
        &self.file
    }

    /// Seals chunk `index`, which must hold exactly that chunk's content.
    pub fn seal(&self, index: u32, content: &[u8]) -> Result<Vec<u8>> {
        let expected = self.file.chunk_len(index)?;
        if content.len() != expected {
            return Err(Error::invalid(
                "attachment",
                format!("chunk {index} holds {} bytes, not {expected}", content.len()),
            ));
        }
        let mut sealed = Vec::with_capacity(content.len() + TAG_LEN);
        sealed.extend_from_slice(content);
        self.key
            .seal_in_place_append_tag(nonce(index), Aad::from(self.file.aad(index)), &mut sealed)
            .map_err(|_| Error::Crypto("could not seal an attachment chunk".into()))?;
        Ok(sealed)
    }

    /// Opens chunk `index`: refused when it was changed, belongs to another file or another
    /// place in this one, or is not as long as that place's chunk.
    pub fn open(&self, index: u32, sealed: &[u8]) -> Result<Vec<u8>> {
        let expected = self.file.chunk_len(index)?;
        if sealed.len() != expected + TAG_LEN {
            return Err(Error::Refused(format!("attachment chunk {index} has the wrong size")));
        }
        let mut buf = sealed.to_vec();
        let len = self
            .key
            .open_in_place(nonce(index), Aad::from(self.file.aad(index)), &mut buf)
            .map_err(|_| Error::Refused(format!("attachment chunk {index} failed authentication")))?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

/// Checks, chunk by chunk in order, that the opened content is the file the reference names:
/// every chunk authenticates on its own, and this catches a file put together from the right
/// chunks of a reference that lies about its content.
pub struct ContentCheck {
    hasher: Option<ring::digest::Context>,
    next: u32,
}

impl Default for ContentCheck {
    fn default() -> ContentCheck {
        ContentCheck::new()
    }
}

impl ContentCheck {
    pub fn new() -> ContentCheck {
        ContentCheck { hasher: Some(ring::digest::Context::new(&ring::digest::SHA256)), next: 0 }
    }

    /// Adds chunk `index`'s content; chunks must come in order.
    pub fn add(&mut self, index: u32, content: &[u8]) -> Result<()> {
        if index != self.next {
            return Err(Error::Refused(format!("attachment chunk {index} out of order")));
        }
        let hasher = self.hasher.as_mut().ok_or_else(|| Error::Refused("check ended".into()))?;
        hasher.update(content);
        self.next += 1;
        Ok(())
    }

    /// Whether every chunk of `file` came and their content hashes to its content hash.
    pub fn finish(mut self, file: &AttachmentRef) -> Result<()> {
        let hasher = self.hasher.take().ok_or_else(|| Error::Refused("check ended".into()))?;
        if self.next != file.chunk_count() {
            return Err(Error::Refused("an attachment is missing chunks".into()));
        }
        if hasher.finish().as_ref() != file.content_hash {
            return Err(Error::Refused(
                "an attachment's content is not what its case names".into(),
            ));
        }
        Ok(())
    }
}

/// The reference for `content` under a fresh random id.
pub fn reference_for(content: &[u8], id: [u8; 16]) -> AttachmentRef {
    AttachmentRef { id, content_hash: sha256(content), size: content.len() as u64 }
}

fn nonce(index: u32) -> Nonce {
    let mut nonce = [0u8; NONCE_LEN];
    nonce[NONCE_LEN - 4..].copy_from_slice(&index.to_be_bytes());
    Nonce::assume_unique_for_key(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(len: usize) -> Vec<u8> {
        let marker = b"WONINGCORPORATIE-HUURACHTERSTAND ";
        marker.iter().copied().cycle().take(len).collect()
    }

    fn sealed_file(key: &SecretKey, content: &[u8]) -> (ChunkSealer, Vec<Vec<u8>>) {
        let sealer = ChunkSealer::new(key, reference_for(content, [1; 16])).unwrap();
        let chunks = content
            .chunks(CHUNK_LEN)
            .enumerate()
            .map(|(i, chunk)| sealer.seal(u32::try_from(i).unwrap(), chunk).unwrap())
            .collect();
        (sealer, chunks)
    }

    #[test]
    fn a_file_comes_back_whole_and_no_chunk_holds_its_text() {
        let key = SecretKey::generate().unwrap();
        let content = letter(2 * CHUNK_LEN + 1000);
        let (sealer, chunks) = sealed_file(&key, &content);
        assert_eq!(chunks.len(), 3);
        let mut check = ContentCheck::new();
        let mut back = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            assert!(
                !chunk.windows(16).any(|w| w == &b"WONINGCORPORATIE"[..]),
                "plaintext in a chunk"
            );
            let opened = sealer.open(i as u32, chunk).unwrap();
            check.add(i as u32, &opened).unwrap();
            back.extend(opened);
        }
        check.finish(sealer.file()).unwrap();
        assert_eq!(back, content);
        // Sealed again (a resumed upload): the same bytes, so nothing is stored twice.
        assert_eq!(sealed_file(&key, &content).1, chunks);
    }

    #[test]
    fn a_tampered_moved_or_reordered_chunk_is_refused() {
        let key = SecretKey::generate().unwrap();
        let content = letter(2 * CHUNK_LEN + 10);
        let (sealer, chunks) = sealed_file(&key, &content);
        let mut flipped = chunks[1].clone();
        flipped[100] ^= 1;
        assert!(sealer.open(1, &flipped).is_err(), "a changed byte");
        assert!(sealer.open(0, &chunks[1]).is_err(), "chunk 1 served as chunk 0");
        assert!(sealer.open(2, &chunks[0][..10 + TAG_LEN]).is_err(), "another chunk cut to size");
        assert!(sealer.open(3, &chunks[2]).is_err(), "past the end");
        // The same chunk in another file of the same case, or under another case's key.
        let other = ChunkSealer::new(&key, reference_for(&content, [2; 16])).unwrap();
        assert!(other.open(0, &chunks[0]).is_err(), "a chunk moved between files");
        let stranger = ChunkSealer::new(&SecretKey::generate().unwrap(), *sealer.file()).unwrap();
        assert!(stranger.open(0, &chunks[0]).is_err(), "another case's key");
        // A reference that claims fewer chunks (a truncated file) opens nothing of it.
        let shorter = AttachmentRef { size: CHUNK_LEN as u64, ..*sealer.file() };
        let truncated = ChunkSealer::new(&key, shorter).unwrap();
        assert!(truncated.open(0, &chunks[0]).is_err(), "the size is in every chunk");
    }

    #[test]
    fn the_content_check_refuses_missing_reordered_or_other_content() {
        let key = SecretKey::generate().unwrap();
        let content = letter(CHUNK_LEN + 5);
        let (sealer, chunks) = sealed_file(&key, &content);
        let opened: Vec<Vec<u8>> =
            chunks.iter().enumerate().map(|(i, c)| sealer.open(i as u32, c).unwrap()).collect();
        let mut check = ContentCheck::new();
        assert!(check.add(1, &opened[1]).is_err(), "out of order");
        let mut check = ContentCheck::new();
        check.add(0, &opened[0]).unwrap();
        assert!(check.finish(sealer.file()).is_err(), "a chunk missing");
        let lying = AttachmentRef { content_hash: [9; 32], ..*sealer.file() };
        let mut check = ContentCheck::new();
        check.add(0, &opened[0]).unwrap();
        check.add(1, &opened[1]).unwrap();
        assert!(check.finish(&lying).is_err(), "content other than the reference names");
    }

    #[test]
    fn an_empty_file_is_one_empty_chunk_and_a_wrong_length_is_refused_before_sealing() {
        let key = SecretKey::generate().unwrap();
        let empty = reference_for(&[], [3; 16]);
        assert_eq!(empty.chunk_count(), 1);
        let sealer = ChunkSealer::new(&key, empty).unwrap();
        let sealed = sealer.seal(0, &[]).unwrap();
        assert_eq!(sealer.open(0, &sealed).unwrap(), Vec::<u8>::new());
        let file = reference_for(&letter(10), [4; 16]);
        let sealer = ChunkSealer::new(&key, file).unwrap();
        assert!(sealer.seal(0, &letter(9)).is_err());
        assert!(sealer.seal(1, &letter(10)).is_err());
    }
}
