//! How the app unlocks a store: its platform key store (Android Keystore, iOS Keychain) as a
//! foreign trait handing over the 256-bit store key, a passphrase (desktop), or a raw key
//! (tests and tools). Errors from the app's key store map into `EropafError`.

use std::sync::Arc;

use eropaf_core::crypto::{self, SecretKey};
use eropaf_core::Error as CoreError;

use crate::error::{EropafError, Result};

/// The app's handle on the platform key store. Eropaf asks for the store key on every open
/// and, when creating a store, makes a random key and hands it over once to be saved.
#[uniffi::export(with_foreign)]
pub trait KeyStore: Send + Sync {
    /// The saved store key (32 bytes), or none when this device has none yet.
    fn load_key(&self) -> Result<Option<Vec<u8>>>;
    /// Saves the new store key; called once, when the store is created.
    fn save_key(&self, key: Vec<u8>) -> Result<()>;
}

/// How `Eropaf::create` and `Eropaf::open` get the store key.
#[derive(uniffi::Enum)]
pub enum Unlock {
    /// Phones: the platform key store keeps a random key.
    PlatformKeyStore { key_store: Arc<dyn KeyStore> },
    /// Desktop: Argon2id over a passphrase.
    Passphrase { passphrase: String },
    /// A 32-byte key the caller already holds (tests, tools).
    Key { key: Vec<u8> },
}

/// The app's key store seen through the core's trait.
pub(crate) struct AppKeyStore(pub Arc<dyn KeyStore>);

impl crypto::KeyStore for AppKeyStore {
    fn load_key(&self) -> eropaf_core::Result<Option<Vec<u8>>> {
        self.0.load_key().map_err(into_core)
    }

    fn save_key(&self, key: &[u8]) -> eropaf_core::Result<()> {
        self.0.save_key(key.to_vec()).map_err(into_core)
    }
}

/// A key store that reports `Locked` (the user did not authenticate, say) keeps that case;
/// anything else it throws is a key store failure.
fn into_core(error: EropafError) -> CoreError {
    match error {
        EropafError::Locked { .. } => CoreError::WrongKey,
        EropafError::KeyStore { detail, .. } => CoreError::KeyStore(detail),
        other => CoreError::KeyStore(other.to_string()),
    }
}

impl Unlock {
    /// Runs `open` with the core's form of this unlock.
    pub(crate) fn with<T>(
        self,
        open: impl FnOnce(eropaf_core::Unlock<'_>) -> eropaf_core::Result<T>,
    ) -> Result<T> {
        match self {
            Unlock::PlatformKeyStore { key_store } => {
                let app = AppKeyStore(key_store);
                Ok(open(eropaf_core::Unlock::KeyStore(&app))?)
            }
            Unlock::Passphrase { passphrase } => {
                if passphrase.is_empty() {
                    return Err(EropafError::invalid("passphrase", "het wachtwoord is leeg"));
                }
                Ok(open(eropaf_core::Unlock::Passphrase(&passphrase))?)
            }
            Unlock::Key { key } => Ok(open(eropaf_core::Unlock::Key(
                SecretKey::from_slice(&key).map_err(eropaf_core::Error::from)?,
            ))?),
        }
    }
}
