//! Case-key grants: need-to-know by cryptography. A case key reaches a device only as a grant
//! HPKE-sealed to that device's X25519 key, bound to team, case, key version and recipient.
//! Grants travel inside a key envelope sealed under the epoch key's key for the case, so
//! erasing the case (puncturing the epoch key there) shreds them too: a device needs both its
//! own agreement key and an unpunctured epoch key to open one.

use serde::{Deserialize, Serialize};

use crate::crypto::{self, AgreementKey, SealedBox, SecretKey};
use crate::{Error, Result};

const GRANT_INFO: &[u8] = b"eropaf case key grant v1\0";

/// One case key version sealed to one device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseKeyGrant {
    /// Hex device id of the recipient.
    pub recipient: String,
    pub sealed: SealedBox,
}

/// Where a grant belongs: opening it anywhere else fails.
#[derive(Clone, Copy, Debug)]
pub struct GrantScope<'a> {
    pub team_id: &'a str,
    pub doc_id: &'a str,
    pub version: u32,
}

impl GrantScope<'_> {
    fn info(&self, recipient: &str) -> Vec<u8> {
        let mut info = GRANT_INFO.to_vec();
        info.extend_from_slice(
            format!("{}/{}/{}/{recipient}", self.team_id, self.doc_id, self.version).as_bytes(),
        );
        info
    }
}

impl CaseKeyGrant {
    /// Seals `key` to `recipient` (hex device id) whose X25519 public key is
    /// `recipient_agreement_key`.
    pub fn seal(
        scope: GrantScope<'_>,
        key: &SecretKey,
        recipient: &str,
        recipient_agreement_key: &[u8],
    ) -> Result<CaseKeyGrant> {
        let sealed =
            crypto::seal_to(recipient_agreement_key, &scope.info(recipient), b"", key.as_bytes())?;
        Ok(CaseKeyGrant { recipient: recipient.to_owned(), sealed })
    }

    /// The case key, for the device the grant was sealed to.
    pub fn open(&self, scope: GrantScope<'_>, agreement_key: &AgreementKey) -> Result<SecretKey> {
        // A 32-byte key plus HPKE's 16-byte tag: anything longer was not sealed by a member.
        if self.sealed.ciphertext.len() != crypto::KEY_LEN + 16 {
            return Err(Error::Refused("a case key grant has the wrong size".into()));
        }
        let key =
            crypto::open_sealed(agreement_key, &scope.info(&self.recipient), b"", &self.sealed)?;
        SecretKey::from_slice(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DeviceIdentity;

    #[test]
    fn a_grant_opens_only_for_its_recipient_and_only_where_it_was_made_for() {
        let (sanne, daan) = (AgreementKey::generate().unwrap(), AgreementKey::generate().unwrap());
        let sanne_id = DeviceIdentity::generate().unwrap().id().to_hex();
        let key = SecretKey::generate().unwrap();
        let scope = GrantScope { team_id: "t", doc_id: "c1", version: 7 };
        let grant = CaseKeyGrant::seal(scope, &key, &sanne_id, &sanne.public_key()).unwrap();
        assert_eq!(grant.open(scope, &sanne).unwrap().as_bytes(), key.as_bytes());
        assert!(grant.open(scope, &daan).is_err(), "another device's agreement key opens nothing");
        for moved in [
            GrantScope { doc_id: "c2", ..scope },
            GrantScope { version: 8, ..scope },
            GrantScope { team_id: "u", ..scope },
        ] {
            assert!(grant.open(moved, &sanne).is_err(), "bound to team, case and version");
        }
        let mut redirected = grant.clone();
        redirected.recipient = "someone else".into();
        assert!(redirected.open(scope, &sanne).is_err(), "bound to its recipient");
    }
}
