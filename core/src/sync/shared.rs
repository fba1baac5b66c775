//! A sync that shares the device with the worker (issue 16): it takes the device for each
//! step and lets go of it while it waits for the relay to take a batch, send a page or a file's
//! chunk, so a note typed meanwhile is stored at once instead of after the whole sync. Every
//! step leaves the store consistent on its own (the engine's steps are resumable), so what the
//! worker writes between two steps is simply part of what the next ones see.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Mutex;

use crate::crypto::DeviceIdentity;
use crate::device::Device;
use crate::sync::engine::with_history;
use crate::sync::files::{DownloadProgress, Downloaded};
use crate::sync::inbox::Verified;
use crate::sync::report::{SyncProgress, SyncReport};
use crate::sync::transport::{FileAt, Transport};
use crate::{Eropaf, Error, Result};

/// How a sync gets the device for one step.
pub(crate) trait Access {
    fn with(&self, step: &mut dyn FnMut(&mut Device) -> Result<()>) -> Result<()>;
}

/// The device held throughout: a single caller, as the command line runs a sync.
pub(crate) struct Held<'a>(RefCell<&'a mut Device>);

impl<'a> Held<'a> {
    pub(crate) fn new(device: &'a mut Device) -> Held<'a> {
        Held(RefCell::new(device))
    }
}

impl Access for Held<'_> {
    fn with(&self, step: &mut dyn FnMut(&mut Device) -> Result<()>) -> Result<()> {
        let mut device = self
            .0
            .try_borrow_mut()
            .map_err(|_| Error::Storage("a sync step ran inside another".into()))?;
        step(&mut device)
    }
}

/// The device behind the app's lock: each step locks it, and nothing holds the lock while the
/// relay is asked for something large.
struct Locked<'a>(&'a Mutex<Eropaf>);

impl Access for Locked<'_> {
    fn with(&self, step: &mut dyn FnMut(&mut Device) -> Result<()>) -> Result<()> {
        let mut core = self
            .0
            .lock()
            .map_err(|_| Error::Storage("a call on this device failed halfway earlier".into()))?;
        step(core.device_mut())
    }
}

impl Eropaf {
    /// Syncs the device behind `shared`, locking it only for each step: a worker's calls made
    /// meanwhile wait for a step (milliseconds), not for the sync.
    pub fn sync_sharing(
        shared: &Mutex<Eropaf>,
        transport: &dyn Transport,
        progress: &mut dyn FnMut(SyncProgress),
    ) -> Result<SyncReport> {
        sync(&Locked(shared), transport, progress)
    }

    /// `download_attachment` on the device behind `shared`, locking it only to store each
    /// chunk.
    pub fn download_attachment_sharing(
        shared: &Mutex<Eropaf>,
        transport: &dyn Transport,
        case_id: &str,
        attachment_id: &str,
        progress: &mut dyn FnMut(DownloadProgress),
    ) -> Result<Downloaded> {
        download(&Locked(shared), transport, case_id, attachment_id, progress)
    }

    /// `fetch_files` on the device behind `shared`: the list of files to fetch is read in one
    /// step, and each file then comes down locking the device only to store each chunk.
    pub fn fetch_files_sharing(
        shared: &Mutex<Eropaf>,
        transport: &dyn Transport,
        unmetered: bool,
        progress: &mut dyn FnMut(DownloadProgress),
    ) -> Result<u32> {
        fetch(&Locked(shared), transport, unmetered, progress)
    }
}

/// What `read` finds on the device, in one step.
fn read<T>(access: &dyn Access, mut read: impl FnMut(&mut Device) -> Result<T>) -> Result<T> {
    let mut found = None;
    access.with(&mut |d| {
        found = Some(read(d)?);
        Ok(())
    })?;
    found.ok_or_else(|| Error::Storage("a sync step did not run".into()))
}

/// A copy of the device's signing identity, so requests are signed without the device.
fn identity(access: &dyn Access) -> Result<DeviceIdentity> {
    read(access, |d| Ok(DeviceIdentity::from_pkcs8(d.identity.pkcs8())?))
}

/// A whole sync, step by step (the order is `engine.rs`'s).
pub(crate) fn sync(
    access: &dyn Access,
    transport: &dyn Transport,
    progress: &mut dyn FnMut(SyncProgress),
) -> Result<SyncReport> {
    let mut report = SyncReport::default();
    access.with(&mut |d| {
        // A device that wiped itself has one thing left to do: say so.
        d.deliver_wipe_report(transport)?;
        // Cases a cut-off sync left with an old summary.
        d.refresh_stale_summaries(&mut report)
    })?;
    progress(SyncProgress::Roster);
    let (mut joined, mut wiped, mut team_id) = (false, false, String::new());
    access.with(&mut |d| {
        joined = d.complete_join(transport)?;
        if !joined {
            return Ok(());
        }
        team_id = d.team_id()?;
        d.register_if_founder(transport)?;
        d.pull_roster(transport, &team_id, &mut report)?;
        wiped = d.wipe_if_revoked(transport, &team_id, &mut report)?;
        if wiped {
            return Ok(());
        }
        report.waiting_joiners = d.refresh_join_requests(transport)?;
        d.refresh_wipe_reports(transport, &team_id)?;
        d.pull_key_packages(transport, &team_id, &mut report)?;
        d.publish_existing_cases()?;
        d.reseal_outbox_for_new_epoch()
    })?;
    if !joined {
        report.waiting_for_approval = true;
        return Ok(report);
    }
    if wiped {
        return Ok(report);
    }
    let signer = identity(access)?;
    push(access, transport, &signer, &team_id, &mut report, progress)?;
    // Before the pull, which may find a case handed over and forget it with its files.
    upload(access, transport, &signer, &team_id, &mut report, progress)?;
    pull(access, transport, &signer, &team_id, &mut report, progress)?;
    let unsent = read(access, |d| {
        d.check_roster_claims(transport, &team_id, &mut report)?;
        d.refresh_caseload_policy()?;
        let touched: Vec<String> =
            report.changed_cases.iter().chain(&report.keys_received).cloned().collect();
        d.settle_access(&touched, &mut report)?;
        let forgotten = report.forgotten_cases.clone();
        d.leave_forgotten(transport, &team_id, &forgotten)?;
        d.snapshot_due_cases()?;
        d.store.outbox_len()
    })?;
    // Grants and snapshots sealed after the pull, and what the worker wrote during the
    // sync, leave in this sync.
    if unsent > 0 {
        push(access, transport, &signer, &team_id, &mut report, progress)?;
    }
    access.with(&mut |d| {
        report.epoch = d.team.as_ref().map(|t| t.roster.epoch()).unwrap_or_default();
        Ok(())
    })?;
    report.changed_cases.sort();
    report.changed_cases.dedup();
    Ok(report)
}

/// Pushes the outbox a batch at a time; the device is free while the relay takes a batch.
/// Envelopes leave the outbox only once the relay took them.
pub(crate) fn push(
    access: &dyn Access,
    transport: &dyn Transport,
    signer: &DeviceIdentity,
    team_id: &str,
    report: &mut SyncReport,
    progress: &mut dyn FnMut(SyncProgress),
) -> Result<()> {
    let mut total = read(access, |d| d.store.outbox_len())?;
    loop {
        let (batch, readers) = read(access, |d| {
            let batch = d.store.outbox(crate::sync::engine::PUSH_BATCH)?;
            let envelopes: Vec<Vec<u8>> = batch.iter().map(|(_, bytes)| bytes.clone()).collect();
            Ok((batch, d.readers_to_name(&envelopes)?))
        })?;
        if batch.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
        let envelopes: Vec<Vec<u8>> = batch.into_iter().map(|(_, bytes)| bytes).collect();
        transport.push(signer, team_id, &envelopes, &readers)?;
        access.with(&mut |d| {
            let tx = d.store.transaction()?;
            tx.remove_outbox(&ids)?;
            tx.commit()
        })?;
        report.pushed += ids.len() as u64;
        // Written during the sync: more than counted at its start.
        total = total.max(report.pushed);
        progress(SyncProgress::Pushing { done: report.pushed, total });
    }
}

/// Pulls pages after the cursor; the device is free while the relay sends a page. Each page is
/// taken in whole, with the cursor that follows it, in one step.
pub(crate) fn pull(
    access: &dyn Access,
    transport: &dyn Transport,
    signer: &DeviceIdentity,
    team_id: &str,
    report: &mut SyncReport,
    progress: &mut dyn FnMut(SyncProgress),
) -> Result<()> {
    let pulled = pull_pages(access, transport, signer, team_id, report, progress);
    access.with(&mut |d| {
        if pulled.is_err() {
            // What the pages taken in so far hold is vetted and read back now, not at the
            // next sync: the worker may go on writing in these cases meanwhile.
            d.refresh_stale_summaries(report)?;
        }
        Ok(())
    })?;
    pulled?;
    access.with(&mut |d| d.finish_pull(report))
}

fn pull_pages(
    access: &dyn Access,
    transport: &dyn Transport,
    signer: &DeviceIdentity,
    team_id: &str,
    report: &mut SyncReport,
    progress: &mut dyn FnMut(SyncProgress),
) -> Result<()> {
    let mut cursor = read(access, |d| d.cursor())?;
    let mut verified = Verified::default();
    loop {
        let page = transport.pull(signer, team_id, cursor, crate::sync::engine::PULL_PAGE)?;
        let served = page.entries.len();
        let new_docs = read(access, |d| d.docs_met_first(team_id, cursor, &page.entries))?;
        // A case's history comes from the relay while the worker goes on.
        let entries = with_history(transport, signer, team_id, cursor, &new_docs, page.entries)?;
        access.with(&mut |d| {
            d.take_in_page(&entries, page.next_after.max(cursor), &mut verified, report)
        })?;
        cursor = page.next_after.max(cursor);
        progress(SyncProgress::Pulling { applied: report.applied });
        if !page.more || served == 0 {
            return Ok(());
        }
    }
}

/// Uploads the chunks of this device's files the relay lacks (asked once per file, so a cut
/// upload sends only the rest); the device is free while a chunk travels. A file of a case
/// that was erased, or that this device no longer reads, is dropped from the queue.
pub(crate) fn upload(
    access: &dyn Access,
    transport: &dyn Transport,
    signer: &DeviceIdentity,
    team_id: &str,
    report: &mut SyncReport,
    progress: &mut dyn FnMut(SyncProgress),
) -> Result<()> {
    let pending = read(access, |d| d.store.pending_uploads())?;
    if pending.is_empty() {
        return Ok(());
    }
    let me = signer.id().to_hex();
    let done_with = |id: [u8; 16]| {
        access.with(&mut |d| {
            let tx = d.store.transaction()?;
            tx.upload_done(&id)?;
            tx.commit()
        })
    };
    let mut work = Vec::new();
    for (id, doc_id) in pending {
        let file = FileAt { doc_id, author: me.clone(), attachment_id: hex::encode(id) };
        let held: HashSet<u32> = match transport.chunks_held(signer, team_id, &file) {
            Ok(held) => held.into_iter().collect(),
            Err(e @ (Error::Refused(_) | Error::Unauthorised(_))) => {
                // Erased, or no longer this device's to read: the relay keeps no file of it.
                report.warnings.push(format!("bijlage niet verstuurd: {e}"));
                done_with(id)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut missing = read(access, |d| d.store.attachment_chunk_indices(&id))?;
        missing.retain(|index| !held.contains(index));
        work.push((id, file, missing));
    }
    let total: u64 = work.iter().map(|(_, _, missing)| missing.len() as u64).sum();
    let mut done = 0u64;
    for (id, file, missing) in work {
        for index in missing {
            progress(SyncProgress::Uploading { done, total });
            let sealed = read(access, |d| d.store.attachment_chunk(&id, index))?
                .ok_or_else(|| Error::Corrupt(format!("chunk {index} of a file attached here")))?;
            transport.put_chunk(signer, team_id, &file, index, &sealed)?;
            done += 1;
            report.chunks_uploaded += 1;
        }
        done_with(id)?;
    }
    if total > 0 {
        progress(SyncProgress::Uploading { done, total });
    }
    Ok(())
}

/// Fetches the chunks of a file the device does not hold yet, each opened before it is kept
/// (one step each; the device is free while a chunk travels), then the whole checked against
/// the case's reference; a file that does not check out is dropped.
pub(crate) fn download(
    access: &dyn Access,
    transport: &dyn Transport,
    case_id: &str,
    attachment_id: &str,
    progress: &mut dyn FnMut(DownloadProgress),
) -> Result<Downloaded> {
    let plan = read(access, |d| d.download_plan(case_id, attachment_id))?;
    let mut result = Downloaded { held_chunks: plan.held, fetched_chunks: 0 };
    let mut done_bytes = plan.held_bytes;
    progress(DownloadProgress { done_bytes, total_bytes: plan.size });
    if !plan.missing.is_empty() {
        let signer = identity(access)?;
        for index in plan.missing.iter().copied() {
            let sealed = transport.chunk(&signer, &plan.team_id, &plan.file, index)?;
            // Opened before it is kept: a chunk from another file, place or key is refused
            // here and never reaches the store.
            plan.sealed.sealer.open(index, &sealed)?;
            access.with(&mut |d| {
                let tx = d.store.transaction()?;
                tx.put_attachment_chunk(case_id, &plan.sealed.id, index, &sealed)?;
                tx.commit()
            })?;
            result.fetched_chunks += 1;
            done_bytes += plan.chunk_bytes(index);
            progress(DownloadProgress { done_bytes, total_bytes: plan.size });
        }
    }
    access.with(&mut |d| d.keep_if_whole(&plan.sealed))?;
    Ok(result)
}

/// Every file of the device's cases that is not here whole, when the network and the team's
/// policy allow: one at a time, each as `download` fetches it. A file not uploaded whole yet,
/// or refused as damaged, is skipped so the others still come. Returns how many came down.
pub(crate) fn fetch(
    access: &dyn Access,
    transport: &dyn Transport,
    unmetered: bool,
    progress: &mut dyn FnMut(DownloadProgress),
) -> Result<u32> {
    let wanted = read(access, |d| d.files_to_fetch(unmetered))?;
    let mut fetched = 0;
    for (case_id, attachment_id) in wanted {
        match download(access, transport, &case_id, &attachment_id, progress) {
            Ok(_) => fetched += 1,
            Err(Error::NotFound { .. } | Error::Corrupt(_) | Error::Refused(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(fetched)
}
