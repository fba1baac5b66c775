//! Files kept with a case (issue 15): a letter attached on the phone is sealed in chunks beside
//! the case, reads back whole, loses the place a photo was taken, never lies readable in any
//! file of the store, and is refused when too large or changed on disk. The thief's and the
//! dishonest member's attempts use only what they would have: the store's files.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use eropaf_core::access_log::AccessAction;
use eropaf_core::attachments::MAX_FILE_BYTES;
use eropaf_core::model::{NewAttachment, NewVisit, Resident};
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::sync::report::SyncProgress;
use eropaf_core::sync::transport::{FileAt, Transport};
use eropaf_core::Eropaf;
use eropaf_tests::{
    create_device, device_identity, fast_tempdir, files_containing, new_key, open_device, relay_db,
    Team, TestRelay,
};

const MARKER: &str = "HUURACHTERSTAND-MARKER-5521";

/// A letter of `len` bytes with the marker all through it, as a scanned PDF would hold text.
fn letter(len: usize) -> Vec<u8> {
    let line = format!("Woonbron: {MARKER} achterstand 3 maanden. ");
    line.bytes().cycle().take(len).collect()
}

fn pdf(name: &str) -> NewAttachment {
    NewAttachment {
        name: name.into(),
        media_type: "application/pdf".into(),
        caption: Some("Brief van de woningcorporatie".into()),
        visit_id: None,
    }
}

fn new_case(device: &mut Eropaf) -> String {
    device.new_case(&Resident::named("Aïsha Bouali"), None).unwrap()
}

#[test]
fn a_letter_attached_to_a_visit_reads_back_whole_and_is_nowhere_readable_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let mut device = create_device(dir.path(), &key, "Sanne");
    let case = new_case(&mut device);
    let visit = device.record_visit(&case, &NewVisit::default()).unwrap();
    // Three chunks and a bit: the last one short.
    let content = letter(3 * 256 * 1024 + 777);
    let attached = device
        .attach(
            &case,
            &NewAttachment { visit_id: Some(visit.clone()), ..pdf("brief.pdf") },
            &content,
        )
        .unwrap();
    assert_eq!(attached.size, content.len() as u64);
    assert_eq!(attached.author_device, device.device_id().to_hex());

    let listed = device.case(&case).unwrap().attachments;
    assert_eq!(listed, vec![attached.clone()], "the case lists it, with its visit");
    assert_eq!(listed[0].visit_id.as_deref(), Some(visit.as_str()));
    assert_eq!(device.attachment_content(&case, &attached.id).unwrap(), content);
    let log = device.case(&case).unwrap().access_log;
    assert_eq!(log.last().map(|e| e.action), Some(AccessAction::OpenAttachment));
    // The resident's inzage lists the file and that it was opened.
    let inzage = device.export_inzage(&case, Some("inzageverzoek bewoner")).unwrap();
    assert!(inzage.contains("<h2>Bijlagen (1)</h2>") && inzage.contains("brief.pdf"));
    assert!(inzage.contains("Brief van de woningcorporatie") && inzage.contains("Bijlage geopend"));

    // A thief with the phone's files, open and closed, finds none of its text.
    let found = files_containing(dir.path(), MARKER.as_bytes());
    assert!(found.is_empty(), "the letter is readable in {found:?}");
    drop(device);
    let found = files_containing(dir.path(), MARKER.as_bytes());
    assert!(found.is_empty(), "after closing, the letter is readable in {found:?}");
    let mut device = open_device(dir.path(), &key);
    assert_eq!(device.attachment_content(&case, &attached.id).unwrap(), content, "after a restart");
}

#[test]
fn a_file_from_its_path_is_stored_a_chunk_at_a_time_and_reads_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let mut device = create_device(&dir.path().join("store"), &key, "Sanne");
    let case = new_case(&mut device);
    let content = letter(5 * 256 * 1024 + 3);
    let path = dir.path().join("scan toestemming.pdf");
    std::fs::write(&path, &content).unwrap();
    let attached = device.attach_file(&case, &pdf("scan toestemming.pdf"), &path).unwrap();
    assert_eq!(attached.size, content.len() as u64);
    assert_eq!(device.attachment_content(&case, &attached.id).unwrap(), content);
    let found = files_containing(&dir.path().join("store"), MARKER.as_bytes());
    assert!(found.is_empty(), "the scan is readable in {found:?}");
    let missing = device.attach_file(&case, &pdf("weg.pdf"), &dir.path().join("weg.pdf"));
    assert!(missing.unwrap_err().to_string().contains("niet te lezen"));
}

#[test]
fn a_file_over_the_limit_or_for_a_visit_the_case_lacks_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let mut device = create_device(dir.path(), &key, "Sanne");
    let case = new_case(&mut device);
    let before = device.case(&case).unwrap();
    let too_big = vec![0u8; usize::try_from(MAX_FILE_BYTES).unwrap() + 1];
    let refused = device.attach(&case, &pdf("scan.pdf"), &too_big).unwrap_err();
    assert!(refused.to_string().contains("hoogstens 25 MB"), "{refused}");
    let elsewhere = NewAttachment { visit_id: Some("0".repeat(32)), ..pdf("brief.pdf") };
    assert!(device.attach(&case, &elsewhere, &letter(10)).is_err());
    let unnamed = device.attach(&case, &pdf("  "), &letter(10)).unwrap_err();
    assert!(unnamed.to_string().contains("naam"), "{unnamed}");
    assert_eq!(device.case(&case).unwrap(), before, "the case is as it was");
    drop(device);
    let db = rusqlite::Connection::open(dir.path().join(eropaf_core::DB_FILE)).unwrap();
    let chunks: i64 =
        db.query_row("SELECT COUNT(*) FROM attachment_chunks", [], |r| r.get(0)).unwrap();
    assert_eq!(chunks, 0, "nothing of a refused file was stored");
}

#[test]
fn a_chunk_changed_on_disk_is_refused_and_the_rest_of_the_case_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let mut device = create_device(dir.path(), &key, "Sanne");
    let case = new_case(&mut device);
    let first = device.attach(&case, &pdf("brief.pdf"), &letter(300_000)).unwrap();
    let second = device.attach(&case, &pdf("toestemming.pdf"), &letter(1000)).unwrap();
    drop(device);
    // Someone with the phone's files flips one byte of the first file's second chunk, then
    // swaps the second file's only chunk into the first file's first place.
    let db = rusqlite::Connection::open(dir.path().join(eropaf_core::DB_FILE)).unwrap();
    let id = |hex_id: &str| hex::decode(hex_id).unwrap();
    let sealed: Vec<u8> = db
        .query_row(
            "SELECT sealed FROM attachment_chunks WHERE attachment_id = ?1 AND idx = 1",
            [id(&first.id)],
            |r| r.get(0),
        )
        .unwrap();
    let mut flipped = sealed.clone();
    flipped[10] ^= 0x40;
    db.execute(
        "UPDATE attachment_chunks SET sealed = ?2 WHERE attachment_id = ?1 AND idx = 1",
        rusqlite::params![id(&first.id), flipped],
    )
    .unwrap();
    drop(db);
    let mut device = open_device(dir.path(), &key);
    let refused = device.attachment_content(&case, &first.id).unwrap_err();
    assert!(refused.to_string().contains("authentication"), "{refused}");
    assert_eq!(device.attachment_content(&case, &second.id).unwrap(), letter(1000));
    assert_eq!(device.case(&case).unwrap().attachments.len(), 2);
}

/// A JPEG whose EXIF holds a GPS latitude of 52° 22' 12.34" (little-endian rationals), and
/// those rationals.
fn photo_with_its_place() -> (Vec<u8>, [u8; 24]) {
    let latitude: [u8; 24] =
        [52, 0, 0, 0, 1, 0, 0, 0, 22, 0, 0, 0, 1, 0, 0, 0, 0xD2, 0x04, 0, 0, 100, 0, 0, 0];
    let mut tiff = b"II*\0\x08\0\0\0\x01\0\x25\x88\x04\0\x01\0\0\0\x1a\0\0\0\0\0\0\0".to_vec();
    tiff.extend_from_slice(b"\x01\0\x02\0\x05\0\x03\0\0\0\x2c\0\0\0\0\0\0\0");
    tiff.extend_from_slice(&latitude);
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&tiff);
    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE1];
    photo.extend_from_slice(&u16::try_from(exif.len() + 2).unwrap().to_be_bytes());
    photo.extend_from_slice(&exif);
    photo.extend_from_slice(&[0xFF, 0xDA]);
    photo.extend_from_slice(b"de brief zelf");
    photo.extend_from_slice(&[0xFF, 0xD9]);
    (photo, latitude)
}

#[test]
fn a_photo_loses_the_place_it_was_taken_before_it_is_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let key = new_key();
    let mut device = create_device(dir.path(), &key, "Sanne");
    let case = new_case(&mut device);
    let (photo, latitude) = photo_with_its_place();
    assert!(photo.windows(24).any(|w| w == latitude), "the photo holds its place");
    let new = NewAttachment { media_type: "image/jpeg".into(), ..pdf("brief.jpg") };
    let attached = device.attach(&case, &new, &photo).unwrap();
    let back = device.attachment_content(&case, &attached.id).unwrap();
    assert!(!back.windows(24).any(|w| w == latitude), "the place went");
    assert!(back.ends_with(b"de brief zelf\xFF\xD9"), "the picture stayed");
    assert_eq!(back.len(), photo.len(), "the EXIF block kept its length");
}

#[test]
fn erasing_a_case_takes_its_files_with_it() {
    let (_relay_dir, relay, http) = relay();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 0, fast_tempdir);
    let supervisor = &mut team.supervisor;
    let case = new_case(supervisor);
    let kept = new_case(supervisor);
    supervisor.attach(&case, &pdf("brief.pdf"), &letter(5000)).unwrap();
    let other = supervisor.attach(&kept, &pdf("brief.pdf"), &letter(6000)).unwrap();
    supervisor.erase_case_logged(Some(&http), &case, None).unwrap();
    assert_eq!(supervisor.attachment_content(&kept, &other.id).unwrap(), letter(6000));
    let db = rusqlite::Connection::open(team.dirs[0].path().join(eropaf_core::DB_FILE)).unwrap();
    let left: i64 = db
        .query_row("SELECT COUNT(*) FROM attachment_chunks WHERE doc_id = ?1", [&case], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(left, 0, "no chunk of the erased case stays");
}

/// A relay on loopback in a directory of its own (the attacker's view of the relay's files), and
/// a transport to it.
fn relay() -> (tempfile::TempDir, TestRelay, HttpTransport) {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    (relay_dir, relay, http)
}

/// The attaching device's view of one of its files at the relay.
fn file_at(case: &str, author: &Eropaf, attachment_id: &str) -> FileAt {
    FileAt {
        doc_id: case.to_string(),
        author: author.device_id().to_hex(),
        attachment_id: attachment_id.to_string(),
    }
}

fn relay_chunks(relay: &TestRelay) -> i64 {
    relay_db(&relay.db)
        .query_row("SELECT COUNT(*) FROM attachment_chunks", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_20_mb_letter_attached_on_one_phone_arrives_byte_identical_on_another_when_opened() {
    let (relay_dir, relay, http) = relay();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 1, fast_tempdir);
    let content = letter(20 * 1024 * 1024);
    let case = new_case(&mut team.workers[0]);
    let attached = team.workers[0].attach(&case, &pdf("brief.pdf"), &content).unwrap();
    let mut uploading = Vec::new();
    let report = team.workers[0]
        .sync(&http, &mut |p| {
            if let SyncProgress::Uploading { done, total } = p {
                uploading.push((done, total));
            }
        })
        .unwrap();
    assert_eq!(report.chunks_uploaded, 80, "20 MB in chunks of 256 KiB");
    assert_eq!(uploading.last(), Some(&(80, 80)), "the upload shows its progress");
    assert_eq!(relay_chunks(&relay), 80);

    // The supervisor's phone lists the file at once, without its bytes.
    let supervisor = &mut team.supervisor;
    supervisor.sync(&http, &mut |_| {}).unwrap();
    let listed = supervisor.case(&case).unwrap().attachments;
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].on_device, "listed, not yet downloaded");
    assert_eq!(listed[0].size, content.len() as u64);
    let not_yet = supervisor.attachment_content(&case, &attached.id).unwrap_err();
    assert!(not_yet.to_string().contains("nog niet op dit apparaat"), "{not_yet}");

    // Opened: it comes down with its progress, and is the same to the byte.
    let mut seen = Vec::new();
    let downloaded = supervisor
        .download_attachment(&http, &case, &attached.id, &mut |p| seen.push(p.done_bytes))
        .unwrap();
    assert_eq!((downloaded.fetched_chunks, downloaded.held_chunks), (80, 0));
    assert_eq!(seen.first(), Some(&0));
    assert_eq!(seen.last(), Some(&(content.len() as u64)));
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "progress only moves forward");
    assert!(supervisor.case(&case).unwrap().attachments[0].on_device);
    assert!(supervisor.attachment_content(&case, &attached.id).unwrap() == content);
    let again = supervisor.download_attachment(&http, &case, &attached.id, &mut |_| {}).unwrap();
    assert_eq!((again.fetched_chunks, again.held_chunks), (0, 80), "nothing fetched twice");

    // Nothing is sent twice, and the relay never held a readable byte of it.
    let report = team.workers[0].sync(&http, &mut |_| {}).unwrap();
    assert_eq!(report.chunks_uploaded, 0);
    assert_eq!(relay_chunks(&relay), 80, "each chunk stored once");
    let found = files_containing(relay_dir.path(), MARKER.as_bytes());
    assert!(found.is_empty(), "the relay holds the letter readable in {found:?}");
    let found = files_containing(team.dirs[0].path(), MARKER.as_bytes());
    assert!(found.is_empty(), "the supervisor's store holds it readable in {found:?}");
}

#[test]
fn a_chunk_the_relay_changes_or_reorders_is_refused_and_the_download_continues_once_it_is_right() {
    let (_relay_dir, relay, http) = relay();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 1, fast_tempdir);
    let content = letter(3 * 256 * 1024 + 10);
    let case = new_case(&mut team.workers[0]);
    let attached = team.workers[0].attach(&case, &pdf("brief.pdf"), &content).unwrap();
    team.workers[0].sync(&http, &mut |_| {}).unwrap();
    team.supervisor.sync(&http, &mut |_| {}).unwrap();

    // The relay's operator, with its own database: one bit of chunk 1 flipped.
    let db = relay_db(&relay.db);
    let chunk = |index: i64| -> Vec<u8> {
        db.query_row("SELECT bytes FROM attachment_chunks WHERE idx = ?1", [index], |r| r.get(0))
            .unwrap()
    };
    let set = |index: i64, bytes: &[u8]| {
        db.execute(
            "UPDATE attachment_chunks SET bytes = ?2 WHERE idx = ?1",
            rusqlite::params![index, bytes],
        )
        .unwrap();
    };
    let (first, second) = (chunk(1), chunk(2));
    let mut flipped = first.clone();
    flipped[100] ^= 1;
    set(1, &flipped);
    let supervisor = &mut team.supervisor;
    let refused = supervisor.download_attachment(&http, &case, &attached.id, &mut |_| {});
    assert!(refused.is_err(), "a changed chunk is refused");
    assert!(!supervisor.case(&case).unwrap().attachments[0].on_device);
    // Chunks 1 and 2 swapped: each is whole, but in the other's place.
    set(1, &second);
    set(2, &first);
    let refused = supervisor.download_attachment(&http, &case, &attached.id, &mut |_| {});
    assert!(refused.is_err(), "a chunk in another's place is refused");
    assert!(supervisor.attachment_content(&case, &attached.id).is_err(), "nothing shown");

    // Put right, the download goes on from the chunk that was refused.
    set(1, &first);
    set(2, &second);
    let downloaded =
        supervisor.download_attachment(&http, &case, &attached.id, &mut |_| {}).unwrap();
    assert_eq!((downloaded.held_chunks, downloaded.fetched_chunks), (1, 3));
    assert!(supervisor.attachment_content(&case, &attached.id).unwrap() == content);
}

#[test]
fn a_member_uploads_only_its_own_files_and_fetches_only_cases_it_reads() {
    let relay_dir = tempfile::tempdir().unwrap();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    // Need-to-know: the worker reads only the cases she is assigned.
    let mut team =
        Team::enrol_need_to_know(&http, &relay.url, &relay.registration_code(), 1, fast_tempdir);
    let case = new_case(&mut team.supervisor);
    let attached = team.supervisor.attach(&case, &pdf("brief.pdf"), &letter(1000)).unwrap();
    team.supervisor.sync(&http, &mut |_| {}).unwrap();
    team.workers[0].sync(&http, &mut |_| {}).unwrap();
    let worker = device_identity(team.dirs[1].path(), &team.key);
    let file = file_at(&case, &team.supervisor, &attached.id);

    // The dishonest worker, with her own device's key and the ids the relay would show her.
    let fetched = http.chunk(&worker, &team.team_id, &file, 0);
    assert!(fetched.is_err(), "a case she does not read: its file is not hers to fetch");
    assert!(http.chunks_held(&worker, &team.team_id, &file).is_err());
    let planted = http.put_chunk(&worker, &team.team_id, &file, 1, b"ander bestand");
    assert!(planted.is_err(), "she cannot put a chunk into the supervisor's file");
    let own = FileAt { author: team.workers[0].device_id().to_hex(), ..file.clone() };
    let planted = http.put_chunk(&worker, &team.team_id, &own, 0, b"ander bestand");
    assert!(planted.is_err(), "nor into a case she does not read under her own name");

    // Assigned to the case, she fetches its file; still she cannot put into it.
    team.supervisor
        .assign(&case, "Werker 0", eropaf_core::model::AssignmentRole::Backup, None)
        .unwrap();
    team.supervisor.sync(&http, &mut |_| {}).unwrap();
    team.workers[0].sync(&http, &mut |_| {}).unwrap();
    assert!(http.chunk(&worker, &team.team_id, &file, 0).is_ok(), "hers to read now");
    let planted = http.put_chunk(&worker, &team.team_id, &file, 1, b"ander bestand");
    let refused = planted.unwrap_err().to_string();
    assert!(refused.contains("attached"), "only the attaching device uploads: {refused}");
    assert_eq!(relay_chunks(&relay), 1, "the relay holds the one real chunk");
}

#[test]
fn erasing_a_case_leaves_nothing_of_its_files_at_the_relay() {
    let (_relay_dir, relay, http) = relay();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 0, fast_tempdir);
    let supervisor = &mut team.supervisor;
    let case = new_case(supervisor);
    let attached = supervisor.attach(&case, &pdf("brief.pdf"), &letter(300 * 1024)).unwrap();
    supervisor.sync(&http, &mut |_| {}).unwrap();
    assert_eq!(relay_chunks(&relay), 2);
    supervisor.erase_case_logged(Some(&http), &case, None).unwrap();
    assert_eq!(relay_chunks(&relay), 0, "no chunk of the erased case stays at the relay");
    let file = file_at(&case, supervisor, &attached.id);
    let identity = device_identity(team.dirs[0].path(), &team.key);
    let late = http.put_chunk(&identity, &team.team_id, &file, 0, b"te laat");
    assert!(late.unwrap_err().to_string().contains("gewist"), "nothing is kept for it again");
}

#[test]
fn the_teams_policy_sets_the_limits_and_may_keep_the_place_a_photo_was_taken() {
    let (_relay_dir, relay, http) = relay();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 1, fast_tempdir);
    let policy = eropaf_core::model::TeamPolicy {
        attachment_max_mb: 1,
        case_attachments_max_mb: 2,
        keep_photo_location: true,
        ..team.supervisor.policy().unwrap()
    };
    let beyond = eropaf_core::model::TeamPolicy { attachment_max_mb: 101, ..policy.clone() };
    let refused = team.supervisor.set_policy(&beyond).unwrap_err().to_string();
    assert!(refused.contains("kies 1 tot 100 MB"), "{refused}");
    team.supervisor.set_policy(&policy).unwrap();
    team.supervisor.sync(&http, &mut |_| {}).unwrap();
    let worker = &mut team.workers[0];
    worker.sync(&http, &mut |_| {}).unwrap();
    let case = new_case(worker);
    let too_big = worker.attach(&case, &pdf("scan.pdf"), &letter(1024 * 1024 + 1)).unwrap_err();
    assert!(too_big.to_string().contains("hoogstens 1 MB"), "{too_big}");
    worker.attach(&case, &pdf("een.pdf"), &letter(900 * 1024)).unwrap();
    worker.attach(&case, &pdf("twee.pdf"), &letter(900 * 1024)).unwrap();
    let full = worker.attach(&case, &pdf("drie.pdf"), &letter(900 * 1024)).unwrap_err();
    assert!(full.to_string().contains("hoogstens 2 MB"), "{full}");
    assert_eq!(worker.case(&case).unwrap().attachments.len(), 2, "the refused ones left nothing");

    let (photo, latitude) = photo_with_its_place();
    let new = NewAttachment { media_type: "image/jpeg".into(), ..pdf("gevel.jpg") };
    let other = new_case(worker);
    let attached = worker.attach(&other, &new, &photo).unwrap();
    let back = worker.attachment_content(&other, &attached.id).unwrap();
    assert_eq!(back, photo, "the team keeps the place: the photo is as taken");
    assert!(back.windows(24).any(|w| w == latitude));

    // The team wants the files on the phones: on Wi-Fi they come down, on mobile data not.
    worker.sync(&http, &mut |_| {}).unwrap();
    let supervisor = &mut team.supervisor;
    supervisor.sync(&http, &mut |_| {}).unwrap();
    assert_eq!(supervisor.fetch_files(&http, true, &mut |_| {}).unwrap(), 0, "not asked yet");
    let wanted = eropaf_core::model::TeamPolicy { fetch_files_on_wifi: true, ..policy };
    supervisor.set_policy(&wanted).unwrap();
    assert_eq!(supervisor.fetch_files(&http, false, &mut |_| {}).unwrap(), 0, "mobile data");
    assert_eq!(supervisor.fetch_files(&http, true, &mut |_| {}).unwrap(), 3, "on Wi-Fi");
    assert!(supervisor.case(&other).unwrap().attachments.iter().all(|a| a.on_device));
    assert_eq!(supervisor.fetch_files(&http, true, &mut |_| {}).unwrap(), 0, "all here");
}

#[test]
fn files_attached_to_one_case_on_two_phones_at_once_are_both_kept_and_reach_both() {
    let (_relay_dir, relay, http) = relay();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 1, fast_tempdir);
    let case = new_case(&mut team.supervisor);
    team.supervisor.sync(&http, &mut |_| {}).unwrap();
    team.workers[0].sync(&http, &mut |_| {}).unwrap();
    // Both offline: each attaches a file to the same case.
    let office = team.supervisor.attach(&case, &pdf("toestemming.pdf"), &letter(1000)).unwrap();
    let phone = team.workers[0].attach(&case, &pdf("brief.pdf"), &letter(300 * 1024)).unwrap();
    for _ in 0..2 {
        for device in team.devices_mut() {
            device.sync(&http, &mut |_| {}).unwrap();
        }
    }
    for (device, other) in [(&mut team.supervisor, &phone), (&mut team.workers[0], &office)] {
        let mut names: Vec<String> =
            device.case(&case).unwrap().attachments.into_iter().map(|a| a.name).collect();
        names.sort();
        assert_eq!(names, ["brief.pdf", "toestemming.pdf"], "both files kept on both phones");
        device.download_attachment(&http, &case, &other.id, &mut |_| {}).unwrap();
        let size = usize::try_from(other.size).unwrap();
        assert!(device.attachment_content(&case, &other.id).unwrap() == letter(size));
    }
}

#[test]
fn the_phone_knows_what_waits_for_a_connection_and_for_which_cases() {
    let (_relay_dir, relay, http) = relay();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 1, fast_tempdir);
    let worker = &mut team.workers[0];
    assert_eq!(worker.unsent().unwrap(), Default::default(), "all sent after joining");
    let (first, second) = (new_case(worker), new_case(worker));
    worker.record_visit(&first, &NewVisit::default()).unwrap();
    worker.attach(&second, &pdf("brief.pdf"), &letter(1000)).unwrap();
    let unsent = worker.unsent().unwrap();
    let mut expected = vec![first.clone(), second.clone()];
    expected.sort();
    assert_eq!(unsent.case_ids, expected, "the case list marks both");
    assert_eq!(unsent.files, 1);
    assert!(unsent.changes >= 3, "two new cases and a visit: {unsent:?}");
    worker.sync(&http, &mut |_| {}).unwrap();
    assert_eq!(worker.unsent().unwrap(), Default::default(), "nothing waits after a sync");
}
