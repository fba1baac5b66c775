//! Team epoch keys and per-case keys. An epoch key is random, one per epoch, and reaches each
//! active device in a key package: HPKE-sealed to the device's X25519 key and signed by a
//! supervisor device. Case keys are random per case and version, wrapped by the epoch key, so
//! a device revoked before an epoch began can unwrap none of that epoch's case keys.

use serde::{Deserialize, Serialize};

use crate::crypto::{self, AgreementKey, DeviceIdentity, SealedBox, Sealer, SecretKey};
use crate::{Error, Result};

const KEY_PACKAGE_DOMAIN: &[u8] = b"eropaf key package v1\0";
const EPOCH_INFO: &[u8] = b"eropaf epoch key v1\0";
const CASE_KEY_DOMAIN: &str = "eropaf case key v1";

/// The team's shared key for one epoch.
#[derive(Clone, Debug)]
pub struct EpochKey {
    pub epoch: u32,
    key: SecretKey,
}

impl EpochKey {
    pub fn generate(epoch: u32) -> Result<EpochKey> {
        Ok(EpochKey { epoch, key: SecretKey::generate()? })
    }

    pub fn from_parts(epoch: u32, key: SecretKey) -> EpochKey {
        EpochKey { epoch, key }
    }

    pub fn secret(&self) -> &SecretKey {
        &self.key
    }
}

/// An epoch key sealed to one device, signed by the supervisor device that made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPackage {
    pub team_id: String,
    pub epoch: u32,
    pub recipient: String,
    pub sealed: SealedBox,
    pub signer: String,
    pub signature: String,
}

impl KeyPackage {
    pub fn create(
        team_id: &str,
        epoch_key: &EpochKey,
        recipient: &str,
        recipient_agreement_key: &[u8],
        signer: &DeviceIdentity,
    ) -> Result<KeyPackage> {
        let info = epoch_info(team_id, epoch_key.epoch, recipient);
        let sealed =
            crypto::seal_to(recipient_agreement_key, &info, b"", epoch_key.key.as_bytes())?;
        let mut package = KeyPackage {
            team_id: team_id.to_string(),
            epoch: epoch_key.epoch,
            recipient: recipient.to_string(),
            sealed,
            signer: signer.id().to_hex(),
            signature: String::new(),
        };
        package.signature = hex::encode(signer.sign(&package.signed_bytes()));
        Ok(package)
    }

    /// Checks the supervisor's signature (the caller checks, with the roster, that the
    /// signer was an active supervisor).
    pub fn verify(&self, signer_public_key: &[u8]) -> Result<()> {
        let signature = hex::decode(&self.signature)
            .map_err(|_| Error::Refused("a key package signature is not hex".into()))?;
        crypto::verify_signature(signer_public_key, &self.signed_bytes(), &signature)
    }

    /// The epoch key, for the device the package was sealed to.
    pub fn open(&self, agreement_key: &AgreementKey) -> Result<EpochKey> {
        let info = epoch_info(&self.team_id, self.epoch, &self.recipient);
        let key = crypto::open_sealed(agreement_key, &info, b"", &self.sealed)?;
        Ok(EpochKey { epoch: self.epoch, key: SecretKey::from_slice(&key)? })
    }

    fn signed_bytes(&self) -> Vec<u8> {
        let mut bytes = KEY_PACKAGE_DOMAIN.to_vec();
        for part in [
            self.team_id.as_bytes(),
            &self.epoch.to_be_bytes(),
            self.recipient.as_bytes(),
            &self.sealed.enc,
            &self.sealed.ciphertext,
            self.signer.as_bytes(),
        ] {
            bytes.extend_from_slice(&(part.len() as u64).to_be_bytes());
            bytes.extend_from_slice(part);
        }
        bytes
    }
}

fn epoch_info(team_id: &str, epoch: u32, recipient: &str) -> Vec<u8> {
    let mut info = EPOCH_INFO.to_vec();
    info.extend_from_slice(format!("{team_id}/{epoch}/{recipient}").as_bytes());
    info
}

/// The key that seals one case's envelopes, for one key version.
#[derive(Clone, Debug)]
pub struct CaseKey {
    pub version: u32,
    key: SecretKey,
}

/// A case key wrapped (AES-256-GCM) under an epoch key; safe to store and send anywhere.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedCaseKey {
    pub doc_id: String,
    pub version: u32,
    pub epoch: u32,
    pub ciphertext: Vec<u8>,
}

impl CaseKey {
    pub fn generate(version: u32) -> Result<CaseKey> {
        Ok(CaseKey { version, key: SecretKey::generate()? })
    }

    pub fn from_parts(version: u32, key: SecretKey) -> CaseKey {
        CaseKey { version, key }
    }

    pub fn secret(&self) -> &SecretKey {
        &self.key
    }

    pub fn wrap(
        &self,
        epoch_key: &EpochKey,
        team_id: &str,
        doc_id: &str,
    ) -> Result<WrappedCaseKey> {
        let aad = case_key_aad(team_id, doc_id, self.version, epoch_key.epoch);
        let ciphertext = Sealer::new(&epoch_key.key).seal(aad.as_bytes(), self.key.as_bytes())?;
        Ok(WrappedCaseKey {
            doc_id: doc_id.to_string(),
            version: self.version,
            epoch: epoch_key.epoch,
            ciphertext,
        })
    }

    /// Unwraps with the epoch key it was wrapped under; any other key, team or case is refused.
    pub fn unwrap(
        wrapped: &WrappedCaseKey,
        epoch_key: &EpochKey,
        team_id: &str,
    ) -> Result<CaseKey> {
        if wrapped.epoch != epoch_key.epoch {
            return Err(Error::Refused(format!(
                "case key of epoch {} needs that epoch's key, not epoch {}",
                wrapped.epoch, epoch_key.epoch
            )));
        }
        let aad = case_key_aad(team_id, &wrapped.doc_id, wrapped.version, wrapped.epoch);
        let key = Sealer::new(&epoch_key.key)
            .open(aad.as_bytes(), &wrapped.ciphertext)
            .map_err(|_| Error::Refused("a wrapped case key does not open".into()))?;
        Ok(CaseKey { version: wrapped.version, key: SecretKey::from_slice(&key)? })
    }
}

fn case_key_aad(team_id: &str, doc_id: &str, version: u32, epoch: u32) -> String {
    format!("{CASE_KEY_DOMAIN}/{team_id}/{doc_id}/{version}/{epoch}")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Device {
        identity: DeviceIdentity,
        agreement: AgreementKey,
    }

    fn device() -> Device {
        Device {
            identity: DeviceIdentity::generate().unwrap(),
            agreement: AgreementKey::generate().unwrap(),
        }
    }

    #[test]
    fn an_epoch_key_reaches_only_the_device_it_was_sealed_to() {
        let (supervisor, worker, other) = (device(), device(), device());
        let epoch = EpochKey::generate(1).unwrap();
        let worker_id = worker.identity.id().to_hex();
        let package = KeyPackage::create(
            "team",
            &epoch,
            &worker_id,
            &worker.agreement.public_key(),
            &supervisor.identity,
        )
        .unwrap();
        package.verify(supervisor.identity.public_key()).unwrap();
        let opened = package.open(&worker.agreement).unwrap();
        assert_eq!(opened.secret().as_bytes(), epoch.secret().as_bytes());
        assert!(package.open(&other.agreement).is_err());
        assert!(
            package.verify(other.identity.public_key()).is_err(),
            "signed by the supervisor only"
        );

        let mut redirected = package.clone();
        redirected.recipient = other.identity.id().to_hex();
        assert!(redirected.verify(supervisor.identity.public_key()).is_err());
        let mut renumbered = package;
        renumbered.epoch = 2;
        assert!(renumbered.open(&worker.agreement).is_err(), "the epoch is bound into the seal");
    }

    #[test]
    fn case_keys_unwrap_only_with_their_epoch_key_team_and_case() {
        let epoch1 = EpochKey::generate(1).unwrap();
        let epoch2 = EpochKey::generate(2).unwrap();
        let case_key = CaseKey::generate(1).unwrap();
        let wrapped = case_key.wrap(&epoch1, "team", "case-a").unwrap();
        let unwrapped = CaseKey::unwrap(&wrapped, &epoch1, "team").unwrap();
        assert_eq!(unwrapped.secret().as_bytes(), case_key.secret().as_bytes());
        assert!(
            CaseKey::unwrap(&wrapped, &epoch2, "team").is_err(),
            "a later epoch key does not open it"
        );
        assert!(CaseKey::unwrap(&wrapped, &EpochKey::generate(1).unwrap(), "team").is_err());
        assert!(CaseKey::unwrap(&wrapped, &epoch1, "other team").is_err());
        let mut moved = wrapped;
        moved.doc_id = "case-b".into();
        assert!(
            CaseKey::unwrap(&moved, &epoch1, "team").is_err(),
            "a key cannot be moved to another case"
        );
    }
}
