//! What every `Storage` backend must do, as one suite of tests over the trait alone: the
//! SQLite backend runs it (below), and the next backend (PostgreSQL) runs the same suite with
//! `storage_conformance_tests!(make_its_storage())`, so both answer every call alike.

#![allow(clippy::unwrap_used)] // a failed step in a test should stop it right there

use eropaf_protocol::api::ErrorCode;
use eropaf_protocol::crypto::{AgreementKey, DeviceIdentity};
use eropaf_protocol::team::roster::{DeviceCard, Role, Roster, RosterChange, RosterEntry};

use super::{
    ChunkKey, Feed, Invitation, JoinRequest, KeyPackageRow, NewEnvelope, Page, Pulled, SeenRequest,
    Storage, StoredKind,
};
use crate::error::RelayError;

/// A team's genesis and the founder that signed it.
fn genesis() -> (String, RosterEntry, Roster, DeviceIdentity) {
    let founder = DeviceIdentity::generate().unwrap();
    let agreement = AgreementKey::generate().unwrap();
    let card =
        DeviceCard::for_identity(&founder, &agreement.public_key(), "~sealed", Role::Supervisor)
            .unwrap();
    let roster = Roster::create("~sealed", &founder, card).unwrap();
    let entry = roster.entries()[0].clone();
    (roster.team_id().to_string(), entry, roster, founder)
}

/// A team created with a fresh registration code.
fn team(storage: &dyn Storage) -> (String, Roster, DeviceIdentity) {
    let (team, _, _, _) = genesis();
    team_with_code(storage, team.as_bytes()[0])
}

/// A team created with registration code `[byte; 32]`.
fn team_with_code(storage: &dyn Storage, byte: u8) -> (String, Roster, DeviceIdentity) {
    let (team, entry, roster, founder) = genesis();
    let code = [byte; 32];
    storage.add_registration_code(&code, 0).unwrap();
    storage.create_team(&team, &entry, &code, 0).unwrap();
    (team, roster, founder)
}

fn envelope(doc: u8, n: u8, kind: StoredKind, covers: Option<u64>) -> NewEnvelope {
    NewEnvelope {
        hash: [
            doc, n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
            23, 24, 25, 26, 27, 28, 29, 30,
        ],
        doc_id: [doc; 16],
        author: [9; 16],
        kind,
        covers_server_seq: covers,
        bytes: vec![doc, n, 0xEE],
        readers: Vec::new(),
    }
}

/// What `reader` pulls after `after`: at most `limit` entries, about `max_bytes`.
fn pull(
    storage: &dyn Storage,
    team: &str,
    reader: &str,
    after: u64,
    limit: usize,
    max_bytes: usize,
) -> (Vec<Pulled>, bool) {
    let feed = Feed { reader, doc: None, after, until: None, limit, max_bytes };
    let Page { entries, more, .. } = storage.pull_envelopes(team, &feed).unwrap();
    (entries, more)
}

/// Everything `reader` may pull.
fn pull_all(storage: &dyn Storage, team: &str, reader: &str) -> Vec<Pulled> {
    pull(storage, team, reader, 0, 1000, usize::MAX).0
}

fn seqs(pulled: &[Pulled]) -> Vec<u64> {
    pulled.iter().map(Pulled::server_seq).collect()
}

fn code_of(result: Result<impl std::fmt::Debug, RelayError>) -> ErrorCode {
    result.unwrap_err().code()
}

pub fn a_team_takes_a_registration_code_once(storage: &dyn Storage) {
    let (team, entry, _, _) = genesis();
    let code = [7; 32];
    let unknown = storage.create_team(&team, &entry, &code, 0);
    assert_eq!(code_of(unknown), ErrorCode::BadRegistrationCode);
    storage.add_registration_code(&code, 0).unwrap();
    storage.create_team(&team, &entry, &code, 0).unwrap();
    assert_eq!(storage.roster_entries(&team, 0).unwrap(), Some(vec![entry.clone()]));
    let (other, other_entry, _, _) = genesis();
    assert_eq!(
        code_of(storage.create_team(&other, &other_entry, &code, 0)),
        ErrorCode::BadRegistrationCode,
        "a used code"
    );
    storage.add_registration_code(&[8; 32], 0).unwrap();
    assert_eq!(code_of(storage.create_team(&team, &entry, &[8; 32], 0)), ErrorCode::TeamExists);
    assert_eq!(storage.roster_entries("0".repeat(32).as_str(), 0).unwrap(), None);
}

pub fn the_roster_only_grows_from_its_end(storage: &dyn Storage) {
    let (team, mut roster, founder) = team(storage);
    let joiner = DeviceIdentity::generate().unwrap();
    let agreement = AgreementKey::generate().unwrap();
    let card = DeviceCard::for_identity(&joiner, &agreement.public_key(), "~sealed", Role::Worker)
        .unwrap();
    let added = roster.append(RosterChange::AddDevice { card }, &founder).unwrap();
    storage.append_roster(&team, std::slice::from_ref(&added)).unwrap();
    let stale = storage.append_roster(&team, std::slice::from_ref(&added));
    assert_eq!(code_of(stale), ErrorCode::RosterChanged);
    assert_eq!(storage.roster_entries(&team, 1).unwrap(), Some(vec![added]));
    assert_eq!(storage.roster_entries(&team, 0).unwrap().unwrap().len(), 2);
}

pub fn a_request_is_seen_once_until_it_expires(storage: &dyn Storage) {
    let (team, _, _) = team(storage);
    assert!(storage.record_request(&team, "d", &[1; 32], 100, 0).unwrap());
    assert!(!storage.record_request(&team, "d", &[1; 32], 100, 50).unwrap(), "a replay");
    assert!(storage.record_request(&team, "d", &[2; 32], 100, 50).unwrap());
    assert!(storage.record_request(&team, "d", &[1; 32], 300, 200).unwrap(), "expired");
}

/// The replay record of a push is written with the push: a replayed push stores nothing.
pub fn a_replayed_push_stores_nothing(storage: &dyn Storage) {
    let (team, _, _) = team(storage);
    let seen = |now: i64| SeenRequest {
        device: "d".into(),
        signature_hash: [4; 32],
        expires_at: now + 100,
        now,
    };
    let first = storage
        .push_envelopes(&team, &[envelope(1, 0, StoredKind::Changes, None)], Some(&seen(0)))
        .unwrap();
    let replayed = storage.push_envelopes(
        &team,
        &[envelope(1, 1, StoredKind::Changes, None)],
        Some(&SeenRequest { now: 50, ..seen(0) }),
    );
    assert_eq!(code_of(replayed), ErrorCode::ReplayedRequest);
    assert_eq!(seqs(&pull_all(storage, &team, "r")), vec![first[0].server_seq], "nothing stored");
    let later = storage
        .push_envelopes(&team, &[envelope(1, 1, StoredKind::Changes, None)], Some(&seen(500)))
        .unwrap();
    assert!(!later[0].duplicate, "once expired, the signature is new again");
}

pub fn envelopes_are_logged_in_order_once_and_paged(storage: &dyn Storage) {
    let (team, _, _) = team(storage);
    let batch: Vec<NewEnvelope> =
        (0..5).map(|n| envelope(1, n, StoredKind::Changes, None)).collect();
    let appended = storage.push_envelopes(&team, &batch, None).unwrap();
    let first: Vec<u64> = appended.iter().map(|a| a.server_seq).collect();
    assert!(first.windows(2).all(|w| w[0] < w[1]), "{first:?}");
    assert!(appended.iter().all(|a| !a.duplicate && !a.erased));
    // The same envelope again keeps its place.
    let again = storage.push_envelopes(&team, &batch[1..2], None).unwrap();
    assert_eq!((again[0].server_seq, again[0].duplicate), (first[1], true));

    let (all, more) = (pull_all(storage, &team, "r"), false);
    assert_eq!((seqs(&all), more), (first.clone(), false));
    let (page, more) = pull(storage, &team, "r", first[1], 2, usize::MAX);
    assert_eq!((seqs(&page), more), (first[2..4].to_vec(), true));
    let (small, more) = pull(storage, &team, "r", 0, 100, 1);
    assert_eq!((small.len(), more), (1, true), "at least one entry, then stop at the bytes");
    match &all[0] {
        Pulled::Envelope { bytes, .. } => assert_eq!(bytes, &batch[0].bytes),
        other => panic!("{other:?}"),
    }
}

pub fn a_snapshot_replaces_what_it_covers_of_its_own_document(storage: &dyn Storage) {
    let (team, _, _) = team(storage);
    let before = storage
        .push_envelopes(
            &team,
            &[envelope(1, 0, StoredKind::Changes, None), envelope(2, 0, StoredKind::Changes, None)],
            None,
        )
        .unwrap();
    let covers = before[1].server_seq;
    let snapshot = storage
        .push_envelopes(&team, &[envelope(1, 1, StoredKind::Snapshot, Some(covers))], None)
        .unwrap();
    let (left, _) = (pull_all(storage, &team, "r"), false);
    assert_eq!(seqs(&left), vec![before[1].server_seq, snapshot[0].server_seq]);
}

pub fn an_erased_document_leaves_only_its_tombstone(storage: &dyn Storage) {
    let (team, _, _) = team(storage);
    storage.push_envelopes(&team, &[envelope(1, 0, StoredKind::Changes, None)], None).unwrap();
    let kept =
        storage.push_envelopes(&team, &[envelope(2, 0, StoredKind::Changes, None)], None).unwrap();
    let tombstone = storage.erase_doc(&team, &[1; 16], &[5; 16], b"order").unwrap();
    assert_eq!(storage.erase_doc(&team, &[1; 16], &[5; 16], b"order").unwrap(), tombstone);
    let late =
        storage.push_envelopes(&team, &[envelope(1, 1, StoredKind::Changes, None)], None).unwrap();
    assert!(late[0].erased, "an envelope for an erased document is dropped");
    let (left, _) = (pull_all(storage, &team, "r"), false);
    assert_eq!(seqs(&left), vec![kept[0].server_seq, tombstone]);
    match &left[1] {
        Pulled::Erased { doc_id, erased_by, signature, .. } => {
            assert_eq!(
                (doc_id, erased_by, signature.as_slice()),
                (&[1; 16], &[5; 16], &b"order"[..])
            );
        }
        other => panic!("{other:?}"),
    }
}

pub fn an_invitation_is_used_once(storage: &dyn Storage) {
    let (team, _, _) = team(storage);
    let invitation = Invitation {
        invitation_id: "i1".into(),
        invitation_key: vec![3; 32],
        expires_at: 1_000,
        used_at: None,
    };
    storage.put_invitation(&team, &invitation).unwrap();
    assert_eq!(code_of(storage.put_invitation(&team, &invitation)), ErrorCode::InvitationExists);
    assert_eq!(storage.invitation(&team, "i1").unwrap(), Some(invitation));
    let request = JoinRequest {
        invitation_id: "i1".into(),
        card_json: "{}".into(),
        proof: "ab".into(),
        created_at: 10,
    };
    storage.use_invitation(&team, &request, 10).unwrap();
    assert_eq!(code_of(storage.use_invitation(&team, &request, 20)), ErrorCode::InvitationUsed);
    assert_eq!(storage.join_requests(&team).unwrap(), vec![request.clone()]);
    assert_eq!(storage.join_request(&team, "i1").unwrap(), Some(request.clone()));
    assert!(storage.invitation(&team, "i1").unwrap().unwrap().used_at.is_some());

    let expiring = Invitation {
        invitation_id: "i2".into(),
        invitation_key: vec![4; 32],
        expires_at: 5,
        used_at: None,
    };
    storage.put_invitation(&team, &expiring).unwrap();
    let late = JoinRequest { invitation_id: "i2".into(), created_at: 6, ..request };
    assert_eq!(code_of(storage.use_invitation(&team, &late, 6)), ErrorCode::InvitationExpired);
}

pub fn a_key_package_replaces_the_one_for_its_recipient_and_epoch(storage: &dyn Storage) {
    let (team, _, _) = team(storage);
    let package =
        |epoch: u32, json: &str| KeyPackageRow { recipient: "r".into(), epoch, json: json.into() };
    storage.put_key_packages(&team, &[package(2, "two"), package(1, "one")]).unwrap();
    storage.put_key_packages(&team, &[package(2, "two again")]).unwrap();
    assert_eq!(
        storage.key_packages(&team, "r").unwrap(),
        vec![package(1, "one"), package(2, "two again")]
    );
    assert!(storage.key_packages(&team, "someone else").unwrap().is_empty());
}

pub fn a_wipe_report_is_kept_once_per_device(storage: &dyn Storage) {
    let (team, _, _) = team(storage);
    storage.put_wipe_report(&team, "b", "first").unwrap();
    storage.put_wipe_report(&team, "a", "only").unwrap();
    storage.put_wipe_report(&team, "b", "again").unwrap();
    assert_eq!(storage.wipe_reports(&team).unwrap(), ["only", "again"]);
    let (other, _, _) = team_with_code(storage, 0x42);
    assert!(storage.wipe_reports(&other).unwrap().is_empty(), "per team");
}

pub fn a_device_is_served_the_documents_it_reads_and_the_teams(storage: &dyn Storage) {
    let (team, _, _) = team(storage);
    let (anna, bram) = ("a".repeat(32), "b".repeat(32));
    let team_doc = envelope(1, 0, StoredKind::Changes, None);
    let mut annas_case = envelope(2, 0, StoredKind::KeyPackage, None);
    annas_case.readers = vec![anna.clone()];
    let first = storage.push_envelopes(&team, &[team_doc, annas_case], None).unwrap();
    let later =
        storage.push_envelopes(&team, &[envelope(2, 1, StoredKind::Changes, None)], None).unwrap();
    let everything = vec![first[0].server_seq, first[1].server_seq, later[0].server_seq];
    assert_eq!(seqs(&pull_all(storage, &team, &anna)), everything);
    assert_eq!(seqs(&pull_all(storage, &team, &bram)), vec![first[0].server_seq]);
    // Bram is named a reader (a handover): the case's history is his to fetch, by document.
    let mut granted = envelope(2, 2, StoredKind::KeyPackage, None);
    granted.readers = vec![bram.clone()];
    let grant = storage.push_envelopes(&team, &[granted], None).unwrap()[0].server_seq;
    let history = Feed {
        reader: &bram,
        doc: Some([2; 16]),
        after: 0,
        until: Some(later[0].server_seq),
        limit: 100,
        max_bytes: usize::MAX,
    };
    let page = storage.pull_envelopes(&team, &history).unwrap();
    assert_eq!(seqs(&page.entries), everything[1..].to_vec());
    assert_eq!((page.more, page.next_after), (false, later[0].server_seq));
    // Anna forgot the case: nothing of it reaches her again, and it stays out of sight of
    // the team (it does not fall back to everyone's when its last reader leaves).
    storage.leave_doc(&team, &[2; 16], &anna).unwrap();
    storage.leave_doc(&team, &[2; 16], &bram).unwrap();
    assert_eq!(seqs(&pull_all(storage, &team, &anna)), vec![first[0].server_seq]);
    assert_eq!(seqs(&pull_all(storage, &team, &"c".repeat(32))), vec![first[0].server_seq]);
    // A filtered page says where the next pull starts: past what it did not serve.
    let feed = Feed { reader: &anna, doc: None, after: 0, until: None, limit: 10, max_bytes: 1 };
    let page = storage.pull_envelopes(&team, &feed).unwrap();
    assert_eq!(
        (seqs(&page.entries), page.more, page.next_after),
        (vec![first[0].server_seq], false, grant)
    );
}

/// A file's chunks are kept once each, served to the case's readers, and go with the case.
pub fn a_files_chunks_are_kept_once_and_go_with_their_case(storage: &dyn Storage) {
    let (team, _, _) = team(storage);
    let (anna, bram) = ("a".repeat(32), "b".repeat(32));
    let mut annas_case = envelope(2, 0, StoredKind::Changes, None);
    annas_case.readers = vec![anna.clone()];
    storage.push_envelopes(&team, &[annas_case], None).unwrap();
    assert!(storage.may_read(&team, &[2; 16], &anna).unwrap());
    assert!(!storage.may_read(&team, &[2; 16], &bram).unwrap(), "need-to-know holds for files");
    assert!(storage.may_read(&team, &[3; 16], &bram).unwrap(), "a document without readers");
    let chunk = |index| ChunkKey { doc_id: [2; 16], author: &anna, attachment: [5; 16], index };
    assert!(storage.put_chunk(&team, &chunk(1), b"second").unwrap());
    assert!(storage.put_chunk(&team, &chunk(0), b"first").unwrap());
    assert!(!storage.put_chunk(&team, &chunk(0), b"other").unwrap(), "kept once, as it came");
    assert_eq!(storage.chunk(&team, &chunk(0)).unwrap().as_deref(), Some(&b"first"[..]));
    assert_eq!(storage.chunk(&team, &chunk(2)).unwrap(), None);
    assert_eq!(storage.chunk_indices(&team, &[2; 16], &anna, &[5; 16]).unwrap(), vec![0, 1]);
    assert_eq!(storage.chunk_indices(&team, &[2; 16], &bram, &[5; 16]).unwrap(), Vec::<u32>::new());
    storage.erase_doc(&team, &[2; 16], &[9; 16], b"order").unwrap();
    assert_eq!(storage.chunk(&team, &chunk(0)).unwrap(), None, "erased with the case");
    assert_eq!(storage.chunk_indices(&team, &[2; 16], &anna, &[5; 16]).unwrap(), Vec::<u32>::new());
    assert_eq!(code_of(storage.put_chunk(&team, &chunk(0), b"late")), ErrorCode::DocErased);
    assert_eq!(code_of(storage.may_read(&team, &[2; 16], &anna)), ErrorCode::DocErased);
}

/// Generates one `#[test]` per conformance check, each on a fresh storage from `$make`.
#[macro_export]
macro_rules! storage_conformance_tests {
    ($make:expr) => {
        $crate::storage_conformance_tests!(@each $make;
            a_team_takes_a_registration_code_once,
            the_roster_only_grows_from_its_end,
            a_request_is_seen_once_until_it_expires,
            a_replayed_push_stores_nothing,
            envelopes_are_logged_in_order_once_and_paged,
            a_snapshot_replaces_what_it_covers_of_its_own_document,
            an_erased_document_leaves_only_its_tombstone,
            an_invitation_is_used_once,
            a_key_package_replaces_the_one_for_its_recipient_and_epoch,
            a_wipe_report_is_kept_once_per_device,
            a_device_is_served_the_documents_it_reads_and_the_teams,
            a_files_chunks_are_kept_once_and_go_with_their_case,
        );
    };
    (@each $make:expr; $($name:ident,)+) => {
        $(
            #[test]
            fn $name() {
                let storage = $make;
                $crate::storage::conformance::$name(&storage);
            }
        )+
    };
}

#[cfg(test)]
mod sqlite {
    use crate::storage::SqliteStorage;

    crate::storage_conformance_tests!(SqliteStorage::open_in_memory().unwrap());
}

#[cfg(test)]
mod postgres {
    use crate::storage::postgres::test_server::TestServer;
    use crate::storage::PostgresStorage;

    crate::storage_conformance_tests!(PostgresStorage::connect(
        &TestServer::shared().fresh_database()
    )
    .unwrap());
}
