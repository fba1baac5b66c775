//! Files kept with a case, on this device: attached (the place a photo was taken taken out,
//! the bytes sealed in chunks and stored in the same transaction as the case's reference to
//! them) and read back whole, which the case's access log records.

use std::fs::File;
use std::io::{Cursor, Read, Seek, Write};
use std::path::Path;

use chrono::Utc;

use super::Device;
use crate::access_log::AccessAction;
use crate::attachments::content::{Content, Location};
use crate::attachments::sealed::SealedFile;
use crate::attachments::{self, Limits};
use crate::crypto::{self, SecretKey};
use crate::doc::StoredAttachment;
use crate::model::{Attachment, NewAttachment};
use crate::{Error, Result};
use eropaf_protocol::attachment::{AttachmentRef, ChunkSealer, ContentCheck};

impl Device {
    /// Attaches `content` to a case (or one of its visits, `new.visit_id`). Too large a file,
    /// or one that would take the case over its limit, is refused before anything is written.
    pub fn attach(
        &mut self,
        case_id: &str,
        new: &NewAttachment,
        content: &[u8],
    ) -> Result<Attachment> {
        let len = content.len() as u64;
        self.attach_from(case_id, new, len, |location| {
            Content::new(Cursor::new(content), len, location)
        })
    }

    /// As `attach`, reading the file at `path` a chunk at a time: a 25 MB scan never sits in
    /// memory whole. A file that changes while it is stored is refused, and nothing is kept.
    pub fn attach_file(
        &mut self,
        case_id: &str,
        new: &NewAttachment,
        path: &Path,
    ) -> Result<Attachment> {
        let unreadable =
            |e: std::io::Error| Error::invalid("bestand", format!("niet te lezen: {e}"));
        let len = std::fs::metadata(path).map_err(unreadable)?.len();
        self.attach_from(case_id, new, len, |location| {
            Content::new(File::open(path).map_err(unreadable)?, len, location)
        })
    }

    fn attach_from<R: Read + Seek>(
        &mut self,
        case_id: &str,
        new: &NewAttachment,
        len: u64,
        open: impl FnOnce(Location) -> Result<Content<R>>,
    ) -> Result<Attachment> {
        let policy = self.policy()?;
        // Sizes are what members wrote: summed without overflowing.
        let case_bytes: u64 = self.with_case(case_id, |doc| {
            Ok(doc
                .stored_attachments()?
                .iter()
                .fold(0u64, |total, (_, stored, _)| total.saturating_add(stored.size)))
        })?;
        let new = attachments::checked(new, len, case_bytes, &Limits::of(&policy))?;
        let location = if policy.keep_photo_location { Location::Keep } else { Location::Strip };
        let mut content = open(location)?;
        // Twice over the content: its hash is part of the key every chunk is sealed under.
        let content_hash = digest_of(&mut content)?;
        let mut id = [0u8; 16];
        crypto::fill_random(&mut id)?;
        let key = SecretKey::generate()?;
        let file = AttachmentRef { id, content_hash, size: content.len() };
        let sealer = ChunkSealer::new(&key, file)?;
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
                let mut check = ContentCheck::new();
                content.for_each_chunk(|index, chunk| {
                    check.add(index, chunk)?;
                    tx.put_attachment_chunk(case_id, &id, index, &sealer.seal(index, chunk)?)
                })?;
                check.finish(&file).map_err(|_| {
                    Error::invalid("bestand", "het bestand veranderde terwijl het werd bewaard")
                })?;
                tx.queue_upload(case_id, &id)
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
            on_device: true,
        })
    }

    /// Marks which of a case's files have all their bytes on this device.
    pub(crate) fn mark_on_device(&self, files: &mut [Attachment]) -> Result<()> {
        for file in files {
            let Some(id) = hex::decode(&file.id).ok().and_then(|id| <[u8; 16]>::try_from(id).ok())
            else {
                continue;
            };
            let chunks = file.size.div_ceil(eropaf_protocol::attachment::CHUNK_LEN as u64).max(1);
            file.on_device = u64::from(self.store.attachment_chunks_held(&id)?) >= chunks;
        }
        Ok(())
    }

    /// An attachment's bytes, opened chunk by chunk and checked against what the case says of
    /// them; the access log records that it was opened. A chunk changed on disk or at the relay
    /// is refused, never shown.
    pub fn attachment_content(&mut self, case_id: &str, attachment_id: &str) -> Result<Vec<u8>> {
        let mut content = Vec::new();
        self.write_attachment(case_id, attachment_id, &mut content)?;
        self.log_access(case_id, AccessAction::OpenAttachment, None)?;
        Ok(content)
    }

    /// Writes an attachment's bytes to `out` a chunk at a time, each opened and the whole
    /// checked against the case's reference: on an error `out` holds a part, which the caller
    /// throws away. Logs nothing (the caller's action is the access-log entry).
    pub(crate) fn write_attachment(
        &mut self,
        case_id: &str,
        attachment_id: &str,
        out: impl Write,
    ) -> Result<()> {
        let (stored, _) = self.attachment_ref(case_id, attachment_id)?;
        self.write_sealed(&SealedFile::new(attachment_id, &stored)?, out)
    }

    /// A file's chunks on this device, opened in order into `out` and checked, whole, against
    /// the content its reference names.
    pub(crate) fn write_sealed(&self, opened: &SealedFile, mut out: impl Write) -> Result<()> {
        let (id, file) = (opened.id, *opened.file());
        let mut check = ContentCheck::new();
        for index in 0..file.chunk_count() {
            let sealed = self.store.attachment_chunk(&id, index)?.ok_or_else(|| {
                Error::not_found("bijlage", "de inhoud staat nog niet op dit apparaat")
            })?;
            let chunk = opened.sealer.open(index, &sealed)?;
            check.add(index, &chunk)?;
            out.write_all(&chunk)
                .map_err(|e| Error::invalid("bijlage", format!("niet te schrijven: {e}")))?;
        }
        check.finish(&file)?;
        out.flush().map_err(|e| Error::invalid("bijlage", format!("niet te schrijven: {e}")))
    }
}

/// SHA-256 of everything `content` holds, read a chunk at a time.
fn digest_of<R: Read + Seek>(content: &mut Content<R>) -> Result<[u8; 32]> {
    let mut hasher = ring::digest::Context::new(&ring::digest::SHA256);
    content.for_each_chunk(|_, chunk| {
        hasher.update(chunk);
        Ok(())
    })?;
    let digest = hasher.finish();
    <[u8; 32]>::try_from(digest.as_ref()).map_err(|_| Error::Crypto("SHA-256 is 32 bytes".into()))
}

#[cfg(test)]
mod tests {
    use crate::crypto::SecretKey;
    use crate::doc::StoredAttachment;
    use crate::model::{NewAttachment, Resident};
    use crate::store::Unlock;

    use super::Device;

    /// A reference as a dishonest member could write it into a case: any size, any hash.
    fn forged(size: u64) -> StoredAttachment {
        StoredAttachment {
            name: "brief.pdf".into(),
            media_type: "application/pdf".into(),
            caption: None,
            size,
            hash: "00".repeat(32),
            key: "11".repeat(32),
            at: 1_700_000_000_000,
            visit: None,
        }
    }

    #[test]
    fn a_forged_reference_of_any_size_is_refused_and_the_case_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut device =
            Device::create(dir.path(), Unlock::Key(SecretKey::generate().unwrap()), "Sanne")
                .unwrap();
        let case = device.new_case(&Resident::named("Aïsha Bouali"), None).unwrap();
        // As if they had arrived by sync: two references claiming the largest sizes there are.
        for (id, size) in [("aa".repeat(16), u64::MAX), ("bb".repeat(16), u64::MAX - 1)] {
            device.write_case(&case, |doc| doc.add_attachment(&id, &forged(size))).unwrap();
        }
        let opened = device.attachment_content(&case, &"aa".repeat(16));
        assert!(opened.is_err(), "no memory is set aside for what a member claims");
        // The case still lists and takes a real file; the claimed sizes count as full.
        assert_eq!(device.case(&case).unwrap().attachments.len(), 2);
        let refused = device.attach(
            &case,
            &NewAttachment { name: "x.pdf".into(), ..Default::default() },
            b"x",
        );
        assert!(refused.unwrap_err().to_string().contains("hoogstens 250 MB"));
    }

    #[test]
    fn a_file_whose_author_described_other_content_is_dropped_whole() {
        use eropaf_protocol::attachment::ChunkSealer;

        use crate::attachments::sealed::SealedFile;

        let dir = tempfile::tempdir().unwrap();
        let mut device =
            Device::create(dir.path(), Unlock::Key(SecretKey::generate().unwrap()), "Sanne")
                .unwrap();
        let case = device.new_case(&Resident::named("Aïsha Bouali"), None).unwrap();
        // A dishonest member's reference: the hash of a harmless letter, the key she chose,
        // and chunks (as a download would store them) that seal other bytes of the same size
        // under exactly that reference. Every chunk opens; together they are not the letter.
        let (described, sent) = (vec![b'a'; 300_000], vec![b'b'; 300_000]);
        let id = [7u8; 16];
        let key = SecretKey::generate().unwrap();
        let reference = eropaf_protocol::attachment::reference_for(&described, id);
        let stored = StoredAttachment {
            size: reference.size,
            hash: hex::encode(reference.content_hash),
            key: hex::encode(key.as_bytes()),
            ..forged(0)
        };
        let id_hex = hex::encode(id);
        device.write_case(&case, |doc| doc.add_attachment(&id_hex, &stored)).unwrap();
        let sealer = ChunkSealer::new(&key, reference).unwrap();
        let tx = device.store.transaction().unwrap();
        for (index, chunk) in sent.chunks(eropaf_protocol::attachment::CHUNK_LEN).enumerate() {
            let index = u32::try_from(index).unwrap();
            let sealed = sealer.seal(index, chunk).unwrap();
            tx.put_attachment_chunk(&case, &id, index, &sealed).unwrap();
        }
        tx.commit().unwrap();

        let file = SealedFile::new(&id_hex, &stored).unwrap();
        assert!(device.keep_if_whole(&file).is_err(), "the other content is refused");
        assert_eq!(device.store.attachment_chunks_held(&id).unwrap(), 0, "nothing of it kept");
        assert!(device.attachment_content(&case, &id_hex).is_err(), "nothing shown");
    }
}
