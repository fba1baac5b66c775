//! Files kept with a case, between the device and the relay: a sync uploads the chunks of the
//! files this device attached that the relay lacks; a file attached elsewhere comes down when
//! a worker opens it. Both go a chunk at a time and continue where a cut transfer stopped.

use std::collections::HashSet;

use crate::attachments::sealed::SealedFile;
use crate::device::Device;
use crate::doc::StoredAttachment;
use crate::sync::report::{SyncProgress, SyncReport};
use crate::sync::transport::{FileAt, Transport};
use crate::{Error, Result};
use eropaf_protocol::attachment::{ContentCheck, CHUNK_LEN};

/// How far a download is, for a progress bar: bytes of the file on this device, of its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DownloadProgress {
    pub done_bytes: u64,
    pub total_bytes: u64,
}

/// What a download did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Downloaded {
    /// Chunks fetched from the relay now.
    pub fetched_chunks: u32,
    /// Chunks that were on this device already (attached here, or an earlier download that
    /// was cut off).
    pub held_chunks: u32,
}

impl Device {
    /// The case's reference to one of its files and the device that attached it.
    pub(crate) fn attachment_ref(
        &mut self,
        case_id: &str,
        attachment_id: &str,
    ) -> Result<(StoredAttachment, String)> {
        self.with_case(case_id, |doc| {
            doc.stored_attachments()?
                .into_iter()
                .find(|(id, _, _)| id == attachment_id)
                .map(|(_, stored, author)| (stored, author))
                .ok_or_else(|| Error::not_found("bijlage", attachment_id))
        })
    }

    /// Uploads the chunks of this device's own files that the relay lacks (asked once per
    /// file, so a cut upload sends only what is missing). A file of a case that was erased, or
    /// that this device no longer reads, is dropped from the queue.
    pub(crate) fn upload_attachments(
        &mut self,
        transport: &dyn Transport,
        team_id: &str,
        report: &mut SyncReport,
        progress: &mut dyn FnMut(SyncProgress),
    ) -> Result<()> {
        let pending = self.store.pending_uploads()?;
        if pending.is_empty() {
            return Ok(());
        }
        let me = self.device_id().to_hex();
        let mut work = Vec::new();
        for (id, doc_id) in pending {
            let file = FileAt {
                doc_id: doc_id.clone(),
                author: me.clone(),
                attachment_id: hex::encode(id),
            };
            let held: HashSet<u32> = match transport.chunks_held(&self.identity, team_id, &file) {
                Ok(held) => held.into_iter().collect(),
                Err(e @ (Error::Refused(_) | Error::Unauthorised(_))) => {
                    // Erased, or no longer this device's to read: the relay keeps no file of it.
                    report.warnings.push(format!("bijlage niet verstuurd: {e}"));
                    let tx = self.store.transaction()?;
                    tx.upload_done(&id)?;
                    tx.commit()?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let missing: Vec<u32> = self
                .store
                .attachment_chunk_indices(&id)?
                .into_iter()
                .filter(|index| !held.contains(index))
                .collect();
            work.push((id, file, missing));
        }
        let total: u64 = work.iter().map(|(_, _, missing)| missing.len() as u64).sum();
        let mut done = 0u64;
        for (id, file, missing) in work {
            for index in missing {
                progress(SyncProgress::Uploading { done, total });
                let sealed = self.store.attachment_chunk(&id, index)?.ok_or_else(|| {
                    Error::Corrupt(format!("chunk {index} of a file attached here"))
                })?;
                transport.put_chunk(&self.identity, team_id, &file, index, &sealed)?;
                done += 1;
                report.chunks_uploaded += 1;
            }
            let tx = self.store.transaction()?;
            tx.upload_done(&id)?;
            tx.commit()?;
        }
        if total > 0 {
            progress(SyncProgress::Uploading { done, total });
        }
        Ok(())
    }

    /// Fetches the chunks of a file this device does not hold yet, each checked against the
    /// case's key for it before it is kept, and once all are here the whole against the
    /// content the case names. A download cut off at any point continues with the chunks
    /// still missing. A chunk the relay changed is refused and nothing of it is kept.
    pub fn download_attachment(
        &mut self,
        transport: &dyn Transport,
        case_id: &str,
        attachment_id: &str,
        progress: &mut dyn FnMut(DownloadProgress),
    ) -> Result<Downloaded> {
        let (stored, author) = self.attachment_ref(case_id, attachment_id)?;
        let opened = SealedFile::new(attachment_id, &stored)?;
        let file_ref = *opened.file();
        let count = file_ref.chunk_count();
        let held: HashSet<u32> =
            self.store.attachment_chunk_indices(&opened.id)?.into_iter().collect();
        let chunk_bytes = |index: u32| -> u64 {
            let start = u64::from(index) * CHUNK_LEN as u64;
            file_ref.size.saturating_sub(start).min(CHUNK_LEN as u64)
        };
        let mut result = Downloaded::default();
        let mut done_bytes = 0u64;
        for index in (0..count).filter(|index| held.contains(index)) {
            result.held_chunks += 1;
            done_bytes += chunk_bytes(index);
        }
        progress(DownloadProgress { done_bytes, total_bytes: file_ref.size });
        if result.held_chunks < count {
            let team_id = self.team_id()?;
            let file = FileAt {
                doc_id: case_id.to_string(),
                author,
                attachment_id: attachment_id.to_string(),
            };
            for index in (0..count).filter(|index| !held.contains(index)) {
                let sealed = transport.chunk(&self.identity, &team_id, &file, index)?;
                // Opened before it is kept: a chunk from another file, place or key is
                // refused here and never reaches the store.
                opened.sealer.open(index, &sealed)?;
                let tx = self.store.transaction()?;
                tx.put_attachment_chunk(case_id, &opened.id, index, &sealed)?;
                tx.commit()?;
                result.fetched_chunks += 1;
                done_bytes += chunk_bytes(index);
                progress(DownloadProgress { done_bytes, total_bytes: file_ref.size });
            }
        }
        if let Err(e) = self.check_whole(&opened) {
            // Every chunk opened, yet together they are not the file the case names: the
            // author's device sealed other content than it described. Nothing of it is kept.
            let tx = self.store.transaction()?;
            tx.delete_attachment_chunks(&opened.id)?;
            tx.commit()?;
            return Err(e);
        }
        Ok(result)
    }

    /// On Wi-Fi (`unmetered`), when the team's policy says so (`fetch_files_on_wifi`): brings
    /// down every file of this device's cases that is not here yet, so a worker has the
    /// letters with her where there is no network. A file its author has not uploaded whole
    /// yet is left for a later call. Returns how many files came down.
    pub fn fetch_files(
        &mut self,
        transport: &dyn Transport,
        unmetered: bool,
        progress: &mut dyn FnMut(DownloadProgress),
    ) -> Result<u32> {
        if !unmetered || !self.policy()?.fetch_files_on_wifi {
            return Ok(0);
        }
        let mut fetched = 0;
        for case_id in self.store.doc_ids(crate::store::DocKind::Case)? {
            let files = self.with_case(&case_id, |doc| doc.stored_attachments())?;
            for (attachment_id, stored, _) in files {
                let Ok(opened) = SealedFile::new(&attachment_id, &stored) else { continue };
                let held = self.store.attachment_chunks_held(&opened.id)?;
                if held >= opened.file().chunk_count() {
                    continue;
                }
                match self.download_attachment(transport, &case_id, &attachment_id, progress) {
                    Ok(_) => fetched += 1,
                    // Not uploaded whole yet, or refused as damaged: the others still come.
                    Err(Error::NotFound { .. } | Error::Corrupt(_) | Error::Refused(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(fetched)
    }

    /// What waits for the next sync: changes in the outbox and files to upload, and the cases
    /// they belong to.
    pub fn unsent(&self) -> Result<crate::sync::report::Unsent> {
        let mut unsent = crate::sync::report::Unsent::default();
        let mut cases = std::collections::BTreeSet::new();
        let case_ids: HashSet<String> =
            self.store.doc_ids(crate::store::DocKind::Case)?.into_iter().collect();
        for (doc, changes) in self.store.outbox_by_doc()? {
            unsent.changes += changes;
            if case_ids.contains(&doc) {
                cases.insert(doc);
            }
        }
        for (_, doc) in self.store.pending_uploads()? {
            unsent.files += 1;
            cases.insert(doc);
        }
        unsent.case_ids = cases.into_iter().collect();
        Ok(unsent)
    }

    /// The file's chunks on this device, opened in order, are the content its reference names.
    fn check_whole(&self, opened: &SealedFile) -> Result<()> {
        let mut check = ContentCheck::new();
        for index in 0..opened.file().chunk_count() {
            let sealed = self
                .store
                .attachment_chunk(&opened.id, index)?
                .ok_or_else(|| Error::Corrupt(format!("chunk {index} went missing")))?;
            check.add(index, &opened.sealer.open(index, &sealed)?)?;
        }
        Ok(check.finish(opened.file())?)
    }
}
