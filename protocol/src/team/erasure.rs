//! The erasure order: a supervisor device's signature over "erase this document of this
//! team". The relay's tombstone carries it, and every device checks it against the roster
//! before it destroys anything, so neither the relay nor a worker can make a team erase a case.

use super::roster::{Role, Roster};
use crate::crypto::{self, DeviceIdentity};

/// Domain separation: an erasure signature never passes as a request, envelope, roster or
/// join signature.
const ERASURE_DOMAIN: &[u8] = b"eropaf erasure v1\0";

fn message(team_id: &str, doc_id: &str) -> Vec<u8> {
    let mut message = ERASURE_DOMAIN.to_vec();
    message.extend_from_slice(team_id.as_bytes());
    message.push(b'\n');
    message.extend_from_slice(doc_id.as_bytes());
    message
}

/// This device's order to erase `doc_id` (hex) of `team_id` (hex).
pub fn sign(identity: &DeviceIdentity, team_id: &str, doc_id: &str) -> Vec<u8> {
    identity.sign(&message(team_id, doc_id)).to_vec()
}

/// Whether `signature` is an erasure order for this document made by `signer` (hex device
/// id), and `signer` is an active supervisor in `roster`. A supervisor revoked since is not
/// trusted: its orders that a device had not yet carried out are refused there.
pub fn check(
    roster: &Roster,
    doc_id: &str,
    signer: &str,
    signature: &[u8],
) -> Result<(), &'static str> {
    if roster.role(signer) != Some(Role::Supervisor) || !roster.is_active(signer) {
        return Err("niet gegeven door een actieve leidinggevende");
    }
    let key = roster.signing_key(signer).ok_or("onbekende ondertekenaar")?;
    crypto::verify_signature(&key, &message(roster.team_id(), doc_id), signature)
        .map_err(|_| "de handtekening klopt niet")
}
