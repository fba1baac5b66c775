//! Enrolment: the one-time invitation code, the join proof a newcomer signs with the
//! invitation's one-time key, and the safety code both devices show before a supervisor admits
//! the newcomer. The relay only ever sees the public half of the invitation key, so whoever
//! reads the relay's database can check a join but never make one.

use ring::hkdf;
use ring::signature::{Ed25519KeyPair, KeyPair};

use super::names::NamesKey;
use super::roster::{DeviceCard, Role};
use crate::api::check_relay_url;
use crate::crypto::{self, sha256};
use crate::{Error, Result};

const CODE_PREFIX: &str = "eropaf2";
/// In a code's names-key place for a team that has none (made before names were sealed).
const NO_NAMES_KEY: &str = "-";
/// Domain separation: a join proof never passes as a request, envelope or roster signature.
pub const JOIN_DOMAIN: &[u8] = b"eropaf join v2\0";
const KEY_INFO: &[u8] = b"eropaf invitation key v1";
const SAFETY_DOMAIN: &[u8] = b"eropaf safety code v1\0";
/// Twelve digits (about 40 bits): a person compares them at a glance, and an attacker who
/// holds a leaked code cannot grind a device key to match a code it has never seen.
const SAFETY_DIGITS: u32 = 12;

/// A one-time invitation as text (for a QR code): team, invitation id, secret, role, the
/// roster head when it was made, and the relay.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Invitation {
    pub code: String,
    pub relay_url: String,
    pub team_id: String,
    pub invitation_id: String,
    pub role: Role,
    /// The chain hash of the team's roster when the invitation was made: the joiner accepts
    /// only a roster that holds it, so a relay cannot enrol it into a team of its own making.
    pub roster_head: String,
    /// Known to the device that made the invitation; a code read back does not carry it.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip)]
    secret: [u8; 16],
    /// The team's names key (hex; `team::names`), so the newcomer seals its name before the
    /// relay sees it and reads the roster's names once admitted. None for a team without one.
    #[serde(skip)]
    names_key: Option<String>,
}

impl Invitation {
    /// A fresh invitation with a random secret.
    pub fn generate(
        team_id: &str,
        relay_url: &str,
        role: Role,
        roster_head: &str,
        names_key: Option<&NamesKey>,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Invitation> {
        let invitation_id = crypto::random_id()?;
        let mut secret = [0u8; 16];
        crypto::fill_random(&mut secret)?;
        let names_key = names_key.map(NamesKey::to_hex);
        let code = format!(
            "{CODE_PREFIX}|{team_id}|{invitation_id}|{}|{}|{roster_head}|{}|{relay_url}",
            hex::encode(secret),
            role.key(),
            names_key.as_deref().unwrap_or(NO_NAMES_KEY)
        );
        Ok(Invitation {
            code,
            relay_url: relay_url.to_owned(),
            team_id: team_id.to_owned(),
            invitation_id,
            role,
            roster_head: roster_head.to_owned(),
            expires_at: Some(expires_at),
            secret,
            names_key,
        })
    }

    /// Reads an invitation code; a mistyped or truncated code, or one that points at a relay
    /// over plain HTTP on the network, is refused before anything is sent.
    pub fn parse(code: &str) -> Result<Invitation> {
        let bad = || Error::invalid("uitnodiging", "dit is geen geldige uitnodigingscode");
        let code = code.trim();
        let parts: Vec<&str> = code.splitn(8, '|').collect();
        let [prefix, team_id, invitation_id, secret, role, roster_head, names_key, relay_url] =
            parts.as_slice()
        else {
            return Err(bad());
        };
        let names_key = match *names_key {
            NO_NAMES_KEY => None,
            text => {
                NamesKey::from_hex(text).map_err(|_| bad())?;
                Some(text.to_owned())
            }
        };
        if *prefix != CODE_PREFIX {
            return Err(bad());
        }
        for (text, len) in [(*team_id, 16), (*invitation_id, 16), (*roster_head, 32)] {
            if hex::decode(text).map_or(true, |bytes| bytes.len() != len)
                || text.bytes().any(|b| b.is_ascii_uppercase())
            {
                return Err(bad());
            }
        }
        let secret =
            hex::decode(secret).ok().and_then(|s| <[u8; 16]>::try_from(s).ok()).ok_or_else(bad)?;
        check_relay_url(relay_url)?;
        Ok(Invitation {
            code: code.to_owned(),
            relay_url: (*relay_url).to_owned(),
            team_id: (*team_id).to_owned(),
            invitation_id: (*invitation_id).to_owned(),
            role: Role::parse(role)?,
            roster_head: (*roster_head).to_owned(),
            expires_at: None,
            secret,
            names_key,
        })
    }

    pub fn secret(&self) -> &[u8; 16] {
        &self.secret
    }

    pub fn names_key(&self) -> Result<Option<NamesKey>> {
        self.names_key.as_deref().map(NamesKey::from_hex).transpose()
    }

    /// The public half of the one-time key: all the relay learns of the invitation.
    pub fn public_key(&self) -> Result<Vec<u8>> {
        let pair = invitation_key(&self.secret, &self.team_id, &self.invitation_id)?;
        Ok(pair.public_key().as_ref().to_vec())
    }

    /// The joiner's proof that it holds this invitation, bound to its device card (so to
    /// its signing and agreement keys), hex.
    pub fn sign_join(&self, card_json: &[u8]) -> Result<String> {
        let pair = invitation_key(&self.secret, &self.team_id, &self.invitation_id)?;
        let message = join_message(&self.team_id, &self.invitation_id, card_json);
        Ok(hex::encode(pair.sign(&message).as_ref()))
    }
}

/// The one-time Ed25519 key of an invitation, derived from its secret; team and invitation id
/// go into the derivation so one secret can never serve two invitations.
fn invitation_key(secret: &[u8; 16], team_id: &str, invitation_id: &str) -> Result<Ed25519KeyPair> {
    struct Seed;
    impl hkdf::KeyType for Seed {
        fn len(&self) -> usize {
            32
        }
    }
    let info = [KEY_INFO, team_id.as_bytes(), invitation_id.as_bytes()];
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, JOIN_DOMAIN).extract(secret);
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    prk.expand(&info, Seed)
        .and_then(|okm| okm.fill(seed.as_mut()))
        .map_err(|_| Error::Crypto("invitation key derivation".into()))?;
    Ed25519KeyPair::from_seed_unchecked(seed.as_ref())
        .map_err(|_| Error::Crypto("invitation key".into()))
}

fn join_message(team_id: &str, invitation_id: &str, card_json: &[u8]) -> Vec<u8> {
    let mut message = JOIN_DOMAIN.to_vec();
    message.extend_from_slice(team_id.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(invitation_id.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(card_json);
    message
}

/// Checks a join proof against the invitation's public key, as the relay and the inviting
/// supervisor do.
pub fn verify_join(
    public_key: &[u8],
    team_id: &str,
    invitation_id: &str,
    card_json: &[u8],
    proof_hex: &str,
) -> bool {
    let Ok(proof) = hex::decode(proof_hex) else { return false };
    let message = join_message(team_id, invitation_id, card_json);
    crypto::verify_signature(public_key, &message, &proof).is_ok()
}

/// The code both devices show: the invitation secret and the newcomer's two public keys.
/// A device that joined with a leaked code shows a different one than the phone in front of
/// the supervisor, and the relay, which lacks the secret, cannot compute it at all.
pub fn safety_code(secret: &[u8; 16], card: &DeviceCard) -> String {
    let mut input = SAFETY_DOMAIN.to_vec();
    input.extend_from_slice(secret);
    input.extend_from_slice(card.signing_key.as_bytes());
    input.push(b'\n');
    input.extend_from_slice(card.agreement_key.as_bytes());
    let digest = sha256(&input);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let number = u64::from_be_bytes(first) % 10u64.pow(SAFETY_DIGITS);
    let digits = format!("{number:012}");
    format!("{} {} {}", &digits[0..4], &digits[4..8], &digits[8..12])
}

/// Whether a code a person typed is the expected one; spaces and dashes do not count.
/// Constant time over the digits, so a wrong guess tells nothing about how close it came.
pub fn safety_codes_match(expected: &str, typed: &str) -> bool {
    let digits = |s: &str| -> Vec<u8> { s.bytes().filter(u8::is_ascii_digit).collect() };
    let (expected, typed) = (digits(expected), digits(typed));
    if expected.len() != typed.len() || typed.is_empty() {
        return false;
    }
    expected.iter().zip(&typed).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// An invitation this supervisor device made, as it keeps it to check joins itself.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct IssuedInvitation {
    pub invitation_id: String,
    pub secret: String,
    pub role: Role,
    pub expires_at_millis: i64,
    pub used: bool,
}

impl IssuedInvitation {
    pub fn secret(&self) -> Result<[u8; 16]> {
        hex::decode(&self.secret)
            .ok()
            .and_then(|s| <[u8; 16]>::try_from(s).ok())
            .ok_or_else(|| Error::Corrupt("invitation secret".into()))
    }

    /// Whether `proof` is this invitation's key over `card_json`: checked with the key the
    /// supervisor derives itself, never with what the relay says the key is.
    pub fn verifies(&self, team_id: &str, card_json: &[u8], proof: &str) -> Result<bool> {
        let pair = invitation_key(&self.secret()?, team_id, &self.invitation_id)?;
        Ok(verify_join(pair.public_key().as_ref(), team_id, &self.invitation_id, card_json, proof))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DeviceIdentity;

    const HEAD: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn invitation() -> Invitation {
        Invitation::generate(
            "0123456789abcdef0123456789abcdef",
            "http://127.0.0.1:8443",
            Role::Worker,
            HEAD,
            Some(&NamesKey::generate().unwrap()),
            chrono::Utc::now(),
        )
        .unwrap()
    }

    fn card() -> DeviceCard {
        let identity = DeviceIdentity::generate().unwrap();
        DeviceCard::for_identity(&identity, &[9u8; 32], "Sanne", Role::Worker).unwrap()
    }

    #[test]
    fn a_code_reads_back_as_the_same_invitation() {
        let made = invitation();
        let read = Invitation::parse(&made.code).unwrap();
        assert_eq!(read.secret(), made.secret());
        assert_eq!(read.roster_head, HEAD);
        assert_eq!(read.public_key().unwrap(), made.public_key().unwrap());
    }

    #[test]
    fn a_join_proof_binds_invitation_and_card() {
        let invitation = invitation();
        let public = invitation.public_key().unwrap();
        let proof = invitation.sign_join(b"{\"card\":1}").unwrap();
        let (team, id) = (&invitation.team_id, &invitation.invitation_id);
        assert!(verify_join(&public, team, id, b"{\"card\":1}", &proof));
        assert!(!verify_join(&public, team, id, b"{\"card\":2}", &proof));
        assert!(!verify_join(
            &invitation_other().public_key().unwrap(),
            team,
            id,
            b"{\"card\":1}",
            &proof
        ));
    }

    fn invitation_other() -> Invitation {
        invitation()
    }

    #[test]
    fn the_safety_code_depends_on_secret_and_device_keys() {
        let invitation = invitation();
        let (a, b) = (card(), card());
        let code = safety_code(invitation.secret(), &a);
        assert_eq!(code.len(), 14);
        assert_eq!(code, safety_code(invitation.secret(), &a));
        assert_ne!(code, safety_code(invitation.secret(), &b));
        assert_ne!(code, safety_code(invitation_other().secret(), &a));
        assert!(safety_codes_match(&code, &code.replace(' ', "-")));
        assert!(!safety_codes_match(&code, ""));
        assert!(!safety_codes_match(&code, "0000 0000 0000"));
    }

    #[test]
    fn a_bad_code_or_a_plain_http_relay_on_the_network_is_refused() {
        let code = invitation().code;
        assert!(Invitation::parse(&code[..code.len() - 40]).is_err());
        assert!(Invitation::parse(&code.replace("eropaf2", "eropaf1")).is_err());
        let remote = code.replace("http://127.0.0.1:8443", "http://relay.example.nl");
        assert!(Invitation::parse(&remote).is_err());
        let tls = code.replace("http://127.0.0.1:8443", "https://relay.example.nl");
        assert!(Invitation::parse(&tls).is_ok());
    }
}
