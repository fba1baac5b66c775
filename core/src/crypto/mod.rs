//! Keys on the device: the protocol's keys and sealing (`eropaf_protocol::crypto`), and the
//! store key derived from a passphrase with Argon2id.

pub use eropaf_protocol::crypto::*;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// The app's handle on the platform key store (Android Keystore, iOS Keychain). The core asks
/// for the store key on every open and creates one on first use.
pub trait KeyStore: Send + Sync {
    /// The saved store key, or `None` when this device has none yet.
    fn load_key(&self) -> Result<Option<Vec<u8>>>;
    fn save_key(&self, key: &[u8]) -> Result<()>;
}

/// Argon2id cost and salt for deriving a store key from a passphrase. Stored in the clear
/// beside the database: they are needed before anything can be unsealed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PassphraseParams {
    pub salt: String,
    pub memory_kib: u32,
    pub iterations: u32,
    pub lanes: u32,
}

impl PassphraseParams {
    /// OWASP's recommended Argon2id setting with margin: 64 MiB, 3 passes, 1 lane.
    pub fn recommended() -> Result<PassphraseParams> {
        let mut salt = [0u8; 16];
        fill_random(&mut salt)?;
        Ok(PassphraseParams {
            salt: hex::encode(salt),
            memory_kib: 64 * 1024,
            iterations: 3,
            lanes: 1,
        })
    }

    pub fn derive(&self, passphrase: &str) -> Result<SecretKey> {
        if passphrase.is_empty() {
            return Err(Error::invalid("passphrase", "het wachtwoord is leeg"));
        }
        let salt = hex::decode(&self.salt).map_err(|e| Error::Corrupt(format!("salt: {e}")))?;
        let params =
            argon2::Params::new(self.memory_kib, self.iterations, self.lanes, Some(KEY_LEN))
                .map_err(|e| Error::Corrupt(format!("passphrase parameters: {e}")))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        argon
            .hash_password_into(passphrase.as_bytes(), &salt, key.as_mut())
            .map_err(|e| Error::Crypto(format!("argon2: {e}")))?;
        Ok(SecretKey::from_slice(&key[..])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_passphrase_and_salt_give_the_same_key() {
        let params = PassphraseParams {
            memory_kib: 1024,
            iterations: 1,
            ..PassphraseParams::recommended().unwrap()
        };
        let a = params.derive("correct horse").unwrap();
        let b = params.derive("correct horse").unwrap();
        let c = params.derive("wrong horse").unwrap();
        assert_eq!(a.as_bytes(), b.as_bytes());
        assert_ne!(a.as_bytes(), c.as_bytes());
        assert!(matches!(params.derive(""), Err(Error::InvalidInput { .. })));
    }
}
