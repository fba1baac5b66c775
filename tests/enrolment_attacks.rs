//! Enrolment under attack, over the real relay on loopback. The relay's operator reads and
//! writes its own database and can serve any bytes, but holds no invitation secret: it cannot
//! make a join proof, swap the keys of an honest joiner, or enrol a joiner into a team of its
//! own making. A stranger with a leaked code is never admitted silently: a supervisor admits
//! a device only after comparing the safety code on its screen.

#![allow(clippy::unwrap_used)] // a failed step in a test scenario should stop it right there

use eropaf_core::crypto::DeviceIdentity;
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::sync::transport::Transport;
use eropaf_core::team::invitation::safety_code;
use eropaf_core::team::roster::{DeviceCard, Role, Roster, RosterChange};
use eropaf_core::{Error, Invitation};
use eropaf_tests::{create_device, fast_tempdir, new_key, relay_db, roster_relay, Team, TestRelay};
use ring::hmac;

struct Setup {
    _relay_dir: tempfile::TempDir,
    relay: TestRelay,
    http: HttpTransport,
    team: Team,
}

fn setup() -> Setup {
    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let team = Team::enrol(&http, &relay.url, &relay.registration_code(), 0, fast_tempdir);
    Setup { _relay_dir: relay_dir, relay, http, team }
}

fn card(identity: &DeviceIdentity, member: &str) -> DeviceCard {
    DeviceCard::for_identity(identity, &[7u8; 32], member, Role::Worker).unwrap()
}

/// Everything the relay keeps of every invitation: the whole row, as bytes.
fn stored_invitations(relay: &TestRelay) -> Vec<(String, Vec<u8>)> {
    let conn = relay_db(&relay.db);
    let mut query = conn.prepare("SELECT * FROM invitations").unwrap();
    let columns = query.column_count();
    query
        .query_map([], |row| {
            let id: String = row.get(1)?;
            let mut bytes = Vec::new();
            for i in 0..columns {
                match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => {
                        bytes.extend_from_slice(b)
                    }
                    rusqlite::types::ValueRef::Integer(n) => bytes.extend(n.to_be_bytes()),
                    _ => {}
                }
            }
            Ok((id, bytes))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Every proof the operator can make from what it stores: the stored bytes as an HMAC key
/// (how proofs were checked before), hashed first, and as the seed of a signing key.
fn proofs_from(stored: &[u8], team_id: &str, invitation_id: &str, card_json: &[u8]) -> Vec<String> {
    let mut message = b"eropaf join v2\0".to_vec();
    message.extend_from_slice(format!("{team_id}\n{invitation_id}\n").as_bytes());
    message.extend_from_slice(card_json);
    let mut proofs = Vec::new();
    for key in stored.windows(32).step_by(8).chain([stored]) {
        for message in [message.as_slice(), card_json] {
            let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message);
            proofs.push(hex::encode(mac.as_ref()));
        }
        if let Ok(pair) = ring::signature::Ed25519KeyPair::from_seed_unchecked(key) {
            proofs.push(hex::encode(pair.sign(&message).as_ref()));
        }
    }
    proofs
}

#[test]
fn a_relay_operator_with_its_database_cannot_forge_a_join() {
    let Setup { _relay_dir: _dir, relay, http, mut team } = setup();
    let invitation = team.supervisor.invite(&http, Role::Supervisor).unwrap();

    // The operator makes a device of its own and, with everything its database holds about
    // the invitation, every proof it can think of; each goes in as a join request.
    let operator = DeviceIdentity::generate().unwrap();
    let forged = card(&operator, "Beheerder");
    let card_json = serde_json::to_vec(&forged).unwrap();
    let (invitation_id, stored) = stored_invitations(&relay).pop().unwrap();
    assert_eq!(invitation_id, invitation.invitation_id);
    let proofs = proofs_from(&stored, &team.team_id, &invitation_id, &card_json);
    assert!(proofs.len() > 10);
    for proof in &proofs {
        let refused = http.join(&team.team_id, &invitation_id, &forged, proof).unwrap_err();
        assert!(matches!(refused, Error::InvalidInput { .. }), "{refused:?}");
    }
    let conn = relay_db(&relay.db);
    for proof in &proofs {
        conn.execute("DELETE FROM join_requests", []).unwrap();
        conn.execute(
            "INSERT INTO join_requests (team_id, invitation_id, card, proof, created_at)
             VALUES (?1, ?2, ?3, ?4, 0)",
            rusqlite::params![
                team.team_id,
                invitation_id,
                String::from_utf8(card_json.clone()).unwrap(),
                proof
            ],
        )
        .unwrap();
        // The supervisor's device checks every proof with the key it derives itself.
        let report = team.supervisor.sync(&http, &mut |_| {}).unwrap();
        assert_eq!(report.waiting_joiners, 0, "a forged join waits for admission");
        assert!(team.supervisor.refresh_pending_joiners(&http).unwrap().is_empty());
    }
    let refused = team.supervisor.admit(&http, &forged.device_id, "0000 0000 0000");
    assert!(matches!(refused, Err(Error::NotFound { .. })), "{refused:?}");

    // Nothing readable: the operator's device is in no roster and holds no key package.
    assert_eq!(team.supervisor.members().len(), 1);
    let packages: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM key_packages WHERE recipient = ?1",
            [&forged.device_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(packages, 0);
    assert!(matches!(http.key_packages(&operator, &team.team_id), Err(Error::Unauthorised(_))));
}

#[test]
fn the_relay_cannot_swap_an_honest_joiners_keys() {
    let Setup { _relay_dir: _dir, relay, http, mut team } = setup();
    let dir = fast_tempdir();
    let mut sanne = create_device(dir.path(), &new_key(), "Sanne");
    let invitation = team.supervisor.invite(&http, Role::Worker).unwrap();
    let shown = sanne.join(&http, &Invitation::parse(&invitation.code).unwrap()).unwrap();

    // The operator keeps Sanne's name and proof but puts its own keys in her card, so that
    // the epoch key would be sealed to the operator.
    let operator = DeviceIdentity::generate().unwrap();
    let swapped = serde_json::to_string(&card(&operator, "Sanne")).unwrap();
    let conn = relay_db(&relay.db);
    assert_eq!(conn.execute("UPDATE join_requests SET card = ?1", [&swapped]).unwrap(), 1);

    let report = team.supervisor.sync(&http, &mut |_| {}).unwrap();
    assert_eq!(report.waiting_joiners, 0, "a card that the proof does not cover waits");
    let refused = team.supervisor.admit(&http, &operator.id().to_hex(), &shown);
    assert!(refused.is_err());
    assert_eq!(team.supervisor.members().len(), 1);
}

#[test]
fn a_sync_admits_nobody_and_a_stranger_with_a_leaked_code_shows_another_safety_code() {
    let Setup { _relay_dir: _dir, relay: _relay, http, mut team } = setup();
    let invitation = team.supervisor.invite(&http, Role::Worker).unwrap();
    let code = Invitation::parse(&invitation.code).unwrap();

    // The code leaked (a photo of the QR code): a stranger joins with it first.
    let dir = fast_tempdir();
    let mut stranger = create_device(dir.path(), &new_key(), "Sanne");
    let strangers_code = stranger.join(&http, &code).unwrap();
    for _ in 0..2 {
        let report = team.supervisor.sync(&http, &mut |_| {}).unwrap();
        assert_eq!(report.waiting_joiners, 1);
        assert!(stranger.sync(&http, &mut |_| {}).unwrap().waiting_for_approval);
    }

    // The real Sanne's phone, in front of the supervisor, would show the code for its own
    // keys; the stranger's request carries other keys, so the supervisor's screen differs.
    let honest = DeviceIdentity::generate().unwrap();
    let honest_code = safety_code(&secret_of(&invitation), &card(&honest, "Sanne"));
    let waiting = team.supervisor.pending_joiners().unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].code, strangers_code);
    assert_ne!(waiting[0].code, honest_code);
    let refused = team.supervisor.admit(&http, &waiting[0].device_id, &honest_code).unwrap_err();
    assert!(matches!(refused, Error::Refused(_)), "{refused:?}");
    assert!(stranger.sync(&http, &mut |_| {}).unwrap().waiting_for_approval);
    assert!(stranger.team_info().unwrap().is_none());
    assert_eq!(team.supervisor.members().len(), 1);
}

/// The invitation secret, as the code carries it.
fn secret_of(invitation: &Invitation) -> [u8; 16] {
    let secret = invitation.code.split('|').nth(3).unwrap();
    hex::decode(secret).unwrap().try_into().unwrap()
}

#[test]
fn a_joiner_is_not_enrolled_into_a_team_the_relay_made_up() {
    let Setup { _relay_dir: _dir, relay: _relay, http, mut team } = setup();
    let invitation = team.supervisor.invite(&http, Role::Worker).unwrap();
    let dir = fast_tempdir();
    let mut sanne = create_device(dir.path(), &new_key(), "Sanne");
    sanne.join(&http, &Invitation::parse(&invitation.code).unwrap()).unwrap();
    let sannes_card = sanne.device_card(Role::Worker).unwrap();

    // The operator founds a team with the same id under its own key and adds Sanne to it:
    // had she accepted it, she would seal her visits to the operator's epoch key.
    let operator = DeviceIdentity::generate().unwrap();
    let mut fake = Roster::create(
        "Wijkteam Noord",
        &operator,
        DeviceCard::for_identity(&operator, &[8u8; 32], "Marieke", Role::Supervisor).unwrap(),
    )
    .unwrap();
    let mut entries = fake.entries().to_vec();
    let RosterChange::Genesis { team_name, founder, .. } = entries[0].change.clone() else {
        unreachable!("the first entry is the genesis")
    };
    entries[0].change = RosterChange::Genesis { team_id: team.team_id.clone(), team_name, founder };
    entries[0].signature = hex::encode(operator.sign(&entries[0].signed_bytes().unwrap()));
    fake = Roster::from_entries(entries).unwrap();
    fake.append(RosterChange::AddDevice { card: sannes_card }, &operator).unwrap();
    assert_eq!(fake.team_id(), team.team_id);

    let fake = fake.entries().to_vec();
    let forging = roster_relay(&http, move |_| fake.clone());
    let refused = sanne.sync(&forging, &mut |_| {}).unwrap_err();
    assert!(matches!(refused, Error::Refused(_)), "{refused:?}");
    assert!(sanne.team_info().unwrap().is_none(), "Sanne joined the operator's team");
}

/// Names are personal data too: the relay's files hold neither the team's name nor any
/// member's, from the founding, the invitations, the join requests or the roster, while every
/// device shows them.
#[test]
fn the_relay_reads_no_member_or_team_name() {
    let relay_dir = fast_tempdir();
    let relay = TestRelay::start(relay_dir.path());
    let http = HttpTransport::new(&relay.url).unwrap();
    let mut team = Team::enrol(&http, &relay.url, &relay.registration_code(), 2, fast_tempdir);
    let dir = fast_tempdir();
    let mut waiting = create_device(dir.path(), &new_key(), "Joris Wachtmans");
    let invitation = team.supervisor.invite(&http, Role::Worker).unwrap();
    waiting.join(&http, &Invitation::parse(&invitation.code).unwrap()).unwrap();
    assert_eq!(
        team.supervisor.refresh_pending_joiners(&http).unwrap()[0].member,
        "Joris Wachtmans"
    );
    for device in team.devices_mut() {
        device.sync(&http, &mut |_| {}).unwrap();
        assert_eq!(device.team_info().unwrap().unwrap().team_name, "Wijkteam Noord");
        let names: Vec<String> = device.members().into_iter().map(|m| m.member).collect();
        assert_eq!(names, ["Marieke (leidinggevende)", "Werker 0", "Werker 1"]);
    }
    for name in ["Wijkteam Noord", "Marieke", "Werker 0", "Werker 1", "Joris Wachtmans"] {
        let found = eropaf_tests::files_containing(relay_dir.path(), name.as_bytes());
        assert!(found.is_empty(), "{name:?} readable at the relay: {found:?}");
    }
}
