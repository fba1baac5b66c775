//! Files kept with a case, on this device: attached (the place a photo was taken taken out,
//! the bytes sealed in chunks and stored in the same transaction as the case's reference to
//! them) and read back whole, which the case's access log records.

use chrono::Utc;

use super::Device;
use crate::access_log::AccessAction;
use crate::attachments::{self, location};
use crate::crypto::{self, SecretKey};
use crate::doc::StoredAttachment;
use crate::model::{Attachment, NewAttachment};
use crate::{Error, Result};
use eropaf_protocol::attachment::{AttachmentRef, ChunkSealer, ContentCheck, CHUNK_LEN};

impl Device {
    /// Attaches `content` to a case (or one of its visits, `new.visit_id`). Too large a file,
    /// or one that would take the case over its limit, is refused before anything is written.
    pub fn attach(
        &mut self,
        case_id: &str,
        new: &NewAttachment,
        content: &[u8],
    ) -> Result<Attachment> {
        let case_bytes: u64 = self.with_case(case_id, |doc| {
            Ok(doc.stored_attachments()?.iter().map(|(_, stored, _)| stored.size).sum())
        })?;
        let new = attachments::checked(new, content.len() as u64, case_bytes)?;
        let content = location::without_location(content);
        let mut id = [0u8; 16];
        crypto::fill_random(&mut id)?;
        let key = SecretKey::generate()?;
        let file = AttachmentRef {
            id,
            content_hash: crypto::sha256(&content),
            size: content.len() as u64,
        };
        let sealer = ChunkSealer::new(&key, file)?;
        let mut sealed = Vec::with_capacity(file.chunk_count() as usize);
        for (index, chunk) in (0..file.chunk_count()).zip(chunks(&content)) {
            sealed.push(sealer.seal(index, chunk)?);
        }
        let now = Utc::now();
        let stored = StoredAttachment {
            name: new.name.clone(),
            media_type: new.media_type.clone(),
            caption: new.caption.clone(),
            size: file.size,
            hash: hex::encode(file.content_hash),
            key: hex::encode(key.as_bytes()),
            at: now.timestamp_millis(),
            visit: new.visit_id.clone(),
        };
        let id_hex = hex::encode(id);
        self.write_case_and(
            case_id,
            |doc| doc.add_attachment(&id_hex, &stored),
            |tx| {
                for (index, chunk) in (0u32..).zip(&sealed) {
                    tx.put_attachment_chunk(case_id, &id, index, chunk)?;
                }
                Ok(())
            },
        )?;
        Ok(Attachment {
            id: id_hex,
            name: new.name,
            media_type: new.media_type,
            caption: new.caption,
            size: file.size,
            visit_id: new.visit_id,
            at: chrono::TimeZone::timestamp_millis_opt(&Utc, now.timestamp_millis())
                .single()
                .unwrap_or(now),
            author_device: self.device_id().to_hex(),
        })
    }

    /// An attachment's bytes, opened chunk by chunk and checked against what the case says of
    /// them; the access log records that it was opened. A chunk changed on disk or at the relay
    /// is refused, never shown.
    pub fn attachment_content(&mut self, case_id: &str, attachment_id: &str) -> Result<Vec<u8>> {
        let stored = self.with_case(case_id, |doc| {
            doc.stored_attachments()?
                .into_iter()
                .find(|(id, _, _)| id == attachment_id)
                .map(|(_, stored, _)| stored)
                .ok_or_else(|| Error::not_found("bijlage", attachment_id))
        })?;
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
        let sealer = ChunkSealer::new(&key, file)?;
        let mut check = ContentCheck::new();
        let mut content = Vec::with_capacity(usize::try_from(file.size).unwrap_or_default());
        for index in 0..file.chunk_count() {
            let sealed = self.store.attachment_chunk(&id, index)?.ok_or_else(|| {
                Error::not_found("bijlage", "de inhoud staat nog niet op dit apparaat")
            })?;
            let chunk = sealer.open(index, &sealed)?;
            check.add(index, &chunk)?;
            content.extend_from_slice(&chunk);
        }
        check.finish(&file)?;
        self.log_access(case_id, AccessAction::OpenAttachment, None)?;
        Ok(content)
    }
}

/// `content` in chunks of `CHUNK_LEN`; an empty file is one empty chunk.
fn chunks(content: &[u8]) -> impl Iterator<Item = &[u8]> {
    let empty: &[u8] = &[];
    let first = content.is_empty().then_some(empty);
    first.into_iter().chain(content.chunks(CHUNK_LEN))
}
