//! A case's reference to one of its files, read into what opens the file's chunks: its id, and
//! the sealer keyed by the reference's key, content hash and size. A reference a member wrote
//! by hand (a size no device attaches, a key of the wrong length) is refused here, before
//! anything is fetched, read or set aside for it.

use eropaf_protocol::attachment::{AttachmentRef, ChunkSealer};

use crate::crypto::SecretKey;
use crate::doc::StoredAttachment;
use crate::{Error, Result};

pub struct SealedFile {
    pub id: [u8; 16],
    pub sealer: ChunkSealer,
}

impl SealedFile {
    pub fn new(attachment_id: &str, stored: &StoredAttachment) -> Result<SealedFile> {
        if stored.size > super::Limits::CEILING.file_bytes {
            return Err(Error::Refused(format!(
                "attachment {attachment_id} claims {} bytes, more than any device attaches",
                stored.size
            )));
        }
        let damaged = || Error::Corrupt("the case's reference to an attachment".into());
        let id: [u8; 16] = hex::decode(attachment_id)
            .ok()
            .and_then(|id| id.try_into().ok())
            .ok_or_else(damaged)?;
        let content_hash: [u8; 32] =
            hex::decode(&stored.hash).ok().and_then(|h| h.try_into().ok()).ok_or_else(damaged)?;
        let key = hex::decode(&stored.key)
            .ok()
            .and_then(|key| SecretKey::from_slice(&key).ok())
            .ok_or_else(damaged)?;
        let file = AttachmentRef { id, content_hash, size: stored.size };
        Ok(SealedFile { id, sealer: ChunkSealer::new(&key, file)? })
    }

    pub fn file(&self) -> &AttachmentRef {
        self.sealer.file()
    }
}
