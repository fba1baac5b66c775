//! A revoked device's word that it wiped itself: its signature over team, device and time.
//! The relay keeps it for the team's supervisors, who check it against the roster, so the
//! relay can withhold a report but never make a lost phone look wiped.

use serde::{Deserialize, Serialize};

use super::roster::Roster;
use crate::crypto::{self, DeviceIdentity};

/// Domain separation: a wipe report never passes as any other signature.
const WIPE_DOMAIN: &[u8] = b"eropaf wiped v1\0";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WipeReport {
    /// Hex device id of the device that wiped itself.
    pub device_id: String,
    /// Unix milliseconds, by the device's clock, when its store was wiped.
    pub wiped_at: i64,
    /// Hex Ed25519 signature of the device.
    pub signature: String,
}

fn message(team_id: &str, device_id: &str, wiped_at: i64) -> Vec<u8> {
    let mut message = WIPE_DOMAIN.to_vec();
    message.extend_from_slice(format!("{team_id}\n{device_id}\n{wiped_at}").as_bytes());
    message
}

impl WipeReport {
    /// This device's report that it wiped its store at `wiped_at`.
    pub fn sign(identity: &DeviceIdentity, team_id: &str, wiped_at: i64) -> WipeReport {
        let device_id = identity.id().to_hex();
        let signature = hex::encode(identity.sign(&message(team_id, &device_id, wiped_at)));
        WipeReport { device_id, wiped_at, signature }
    }

    /// Whether the report is signed by the device it names, a device of `roster`'s team.
    pub fn check(&self, roster: &Roster) -> bool {
        let Some(key) = roster.signing_key(&self.device_id) else { return false };
        let Ok(signature) = hex::decode(&self.signature) else { return false };
        crypto::verify_signature(
            &key,
            &message(roster.team_id(), &self.device_id, self.wiped_at),
            &signature,
        )
        .is_ok()
    }
}
