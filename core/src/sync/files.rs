//! Files kept with a case, between the device and the relay: a sync uploads the chunks of the
//! files this device attached that the relay lacks; a file attached elsewhere comes down when
//! a worker opens it. Both go a chunk at a time and continue where a cut transfer stopped.

use std::collections::HashSet;

use crate::attachments::sealed::SealedFile;
use crate::device::Device;
use crate::doc::StoredAttachment;
use crate::sync::shared::{self, Held};
use crate::sync::transport::{FileAt, Transport};
use crate::{Error, Result};
use eropaf_protocol::attachment::CHUNK_LEN;

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

/// What one download fetches: the relay's place for the file, the chunks this device lacks,
/// and what opens them.
pub(crate) struct DownloadPlan {
    pub team_id: String,
    pub file: FileAt,
    pub sealed: SealedFile,
    pub missing: Vec<u32>,
    pub held: u32,
    pub held_bytes: u64,
    pub size: u64,
}

impl DownloadPlan {
    /// The content length of chunk `index`.
    pub fn chunk_bytes(&self, index: u32) -> u64 {
        let start = u64::from(index) * CHUNK_LEN as u64;
        self.size.saturating_sub(start).min(CHUNK_LEN as u64)
    }
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
        shared::download(&Held::new(self), transport, case_id, attachment_id, progress)
    }

    /// What a download of one file has to fetch, and what opens it.
    pub(crate) fn download_plan(
        &mut self,
        case_id: &str,
        attachment_id: &str,
    ) -> Result<DownloadPlan> {
        let (stored, author) = self.attachment_ref(case_id, attachment_id)?;
        let sealed = SealedFile::new(attachment_id, &stored)?;
        let count = sealed.file().chunk_count();
        let held: HashSet<u32> =
            self.store.attachment_chunk_indices(&sealed.id)?.into_iter().collect();
        let missing: Vec<u32> = (0..count).filter(|index| !held.contains(index)).collect();
        let team_id = if missing.is_empty() { String::new() } else { self.team_id()? };
        let mut plan = DownloadPlan {
            team_id,
            file: FileAt {
                doc_id: case_id.to_string(),
                author,
                attachment_id: attachment_id.to_string(),
            },
            size: stored.size,
            held: 0,
            held_bytes: 0,
            missing,
            sealed,
        };
        for index in (0..count).filter(|index| held.contains(index)) {
            plan.held += 1;
            plan.held_bytes += plan.chunk_bytes(index);
        }
        Ok(plan)
    }

    /// Keeps a downloaded file only when its chunks on this device, opened in order, are the
    /// content its reference names: every chunk opened, yet together not that file, means the
    /// author's device sealed other content than it described. Nothing of it is kept then.
    pub(crate) fn keep_if_whole(&mut self, sealed: &SealedFile) -> Result<()> {
        if let Err(e) = self.write_sealed(sealed, std::io::sink()) {
            let tx = self.store.transaction()?;
            tx.delete_attachment_chunks(&sealed.id)?;
            tx.commit()?;
            return Err(e);
        }
        Ok(())
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
        shared::fetch(&Held::new(self), transport, unmetered, progress)
    }

    /// The files of this device's cases that are not here whole, as (case, file), when the
    /// phone is on an unmetered network and the team's policy fetches files there; else none.
    pub(crate) fn files_to_fetch(&mut self, unmetered: bool) -> Result<Vec<(String, String)>> {
        if !unmetered || !self.policy()?.fetch_files_on_wifi {
            return Ok(Vec::new());
        }
        let mut wanted = Vec::new();
        for case_id in self.store.doc_ids(crate::store::DocKind::Case)? {
            let files = self.with_case(&case_id, |doc| doc.stored_attachments())?;
            for (attachment_id, stored, _) in files {
                let Ok(opened) = SealedFile::new(&attachment_id, &stored) else { continue };
                if self.store.attachment_chunks_held(&opened.id)? < opened.file().chunk_count() {
                    wanted.push((case_id.clone(), attachment_id));
                }
            }
        }
        Ok(wanted)
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
}
