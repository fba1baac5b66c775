//! Team epoch keys and per-case keys. An epoch key is random, one per epoch, and reaches each
//! active device in a key package: HPKE-sealed to the device's X25519 key and signed by a
//! supervisor device. Case keys are random per case and version, announced under a key the
//! epoch key derives for that case alone, so a device revoked before an epoch began can
//! unwrap none of that epoch's case keys, and erasing a case punctures the epoch key there
//! (`crypto::puncturable`): no device can open the case's announcements again.

use serde::{Deserialize, Serialize};

use crate::crypto::puncturable::PuncturableKey;
use crate::crypto::{self, AgreementKey, DeviceIdentity, SealedBox, SecretKey};
use crate::{Error, Result};

const KEY_PACKAGE_DOMAIN: &[u8] = b"eropaf key package v1\0";
const EPOCH_INFO: &[u8] = b"eropaf epoch key v1\0";

/// The team's shared key for one epoch: the root of a tree of per-case keys, punctured at
/// every case erased since.
#[derive(Clone, Debug)]
pub struct EpochKey {
    pub epoch: u32,
    tree: PuncturableKey,
}

impl EpochKey {
    pub fn generate(epoch: u32) -> Result<EpochKey> {
        Ok(EpochKey::from_parts(epoch, SecretKey::generate()?))
    }

    pub fn from_parts(epoch: u32, root: SecretKey) -> EpochKey {
        EpochKey { epoch, tree: PuncturableKey::from_root(&root) }
    }

    /// From its stored form (`to_bytes`).
    pub fn from_bytes(epoch: u32, bytes: &[u8]) -> Result<EpochKey> {
        Ok(EpochKey { epoch, tree: PuncturableKey::from_bytes(bytes)? })
    }

    /// What is stored and sealed to devices: the tree as punctured so far.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        self.tree.to_bytes()
    }

    /// The key that seals case `doc_id`'s key announcements in this epoch; none once the case
    /// was erased.
    pub fn for_case(&self, doc_id: &str) -> Option<SecretKey> {
        self.tree.derive(doc_id.as_bytes())
    }

    /// Erasure: the case's key in this epoch is gone for good. Returns whether it was here.
    pub fn puncture(&mut self, doc_id: &str) -> bool {
        self.tree.puncture(doc_id.as_bytes())
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
        let sealed = crypto::seal_to(recipient_agreement_key, &info, b"", &epoch_key.to_bytes())?;
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
        // HPKE adds a 16-byte tag: a longer body would be a tree no supervisor sends.
        if self.sealed.ciphertext.len() > crypto::puncturable::MAX_RECEIVED_LEN + 16 {
            return Err(Error::Refused("a key package is too large".into()));
        }
        let key =
            zeroize::Zeroizing::new(crypto::open_sealed(agreement_key, &info, b"", &self.sealed)?);
        EpochKey::from_bytes(self.epoch, &key)
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
        assert_eq!(&opened.to_bytes()[..], &epoch.to_bytes()[..]);
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
    fn an_epoch_key_punctured_at_a_case_travels_punctured() {
        let (supervisor, worker) = (device(), device());
        let mut epoch = EpochKey::generate(1).unwrap();
        let kept = epoch.for_case("case-b").unwrap();
        assert!(epoch.puncture("case-a"));
        assert!(epoch.for_case("case-a").is_none());
        let worker_id = worker.identity.id().to_hex();
        let package = KeyPackage::create(
            "team",
            &epoch,
            &worker_id,
            &worker.agreement.public_key(),
            &supervisor.identity,
        )
        .unwrap();
        let received = package.open(&worker.agreement).unwrap();
        assert!(received.for_case("case-a").is_none(), "a newcomer can open the erased case");
        assert_eq!(received.for_case("case-b").unwrap().as_bytes(), kept.as_bytes());
    }
}
