//! The one error of the bindings. Each case is something an app can act on, and each carries
//! the Dutch sentence to show the worker. Mapped from eropaf-core's error, from failures in
//! the app's own callbacks, and from bugs caught at the boundary (never a panic across it).

use std::any::Any;

use eropaf_core::Error as CoreError;

/// A network failure leaves everything on the device; a retry after this long is reasonable
/// for a phone that just lost its connection or met a busy relay.
pub const NETWORK_RETRY_AFTER_SECS: u32 = 30;

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum EropafError {
    /// The case, visit, assessment or framework does not exist on this device.
    #[error("{what} {id} not found")]
    NotFound { what: String, id: String, message_nl: String },

    /// Bad input, naming the field; nothing was changed.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: String, reason: String, message_nl: String },

    /// A value framework's source is malformed at `line` (1-based).
    #[error("value framework, line {line}: {reason}")]
    InvalidFramework { line: u32, reason: String, message_nl: String },

    /// The store key or passphrase does not open this store; nothing was read or written.
    #[error("the store is locked: wrong passphrase or store key")]
    Locked { message_nl: String },

    /// Too many wrong passphrases in a row, as the team's policy allows: the store was
    /// destroyed. The app enrols the device anew.
    #[error("the store was destroyed after too many wrong passphrases")]
    Destroyed { message_nl: String },

    /// There is no store in the directory yet: create one first.
    #[error("no store in {dir}")]
    NoStore { dir: String, message_nl: String },

    /// A store exists where a new one was asked for; nothing was overwritten.
    #[error("a store already exists in {dir}")]
    AlreadyExists { dir: String, message_nl: String },

    /// The relay refused this device (unknown, revoked) or the action needs a supervisor.
    #[error("not allowed: {detail}")]
    Unauthorised { detail: String, message_nl: String },

    /// The relay could not be reached or failed; everything stays on the device. Try again
    /// after `retry_after_secs`.
    #[error("network: {detail}")]
    Network { detail: String, retry_after_secs: u32, message_nl: String },

    /// SQLite or the file system failed; the write was rolled back.
    #[error("storage: {detail}")]
    Storage { detail: String, message_nl: String },

    /// The database file is damaged; it was not changed.
    #[error("the store is damaged: {detail}")]
    Corrupt { detail: String, message_nl: String },

    /// The platform key store (the app's `KeyStore`) failed.
    #[error("key store: {detail}")]
    KeyStore { detail: String, message_nl: String },

    /// A cryptographic operation failed (not a wrong key: see `Locked`).
    #[error("crypto: {detail}")]
    Crypto { detail: String, message_nl: String },

    /// Data from another device was refused (bad signature, unknown author); never applied.
    #[error("refused: {detail}")]
    Refused { detail: String, message_nl: String },

    /// A case document could not be read or changed.
    #[error("document: {detail}")]
    Document { detail: String, message_nl: String },

    /// A bug inside Eropaf, caught at the boundary. Reopen the store; nothing was half
    /// written, because every write is one transaction.
    #[error("internal error: {detail}")]
    Internal { detail: String, message_nl: String },
}

impl EropafError {
    pub(crate) fn internal(detail: impl Into<String>) -> EropafError {
        let detail = detail.into();
        EropafError::Internal {
            message_nl: format!(
                "Er ging iets mis in Eropaf ({detail}). Er is niets half weggeschreven; sluit \
                 de app en open hem opnieuw."
            ),
            detail,
        }
    }

    pub(crate) fn invalid(field: &str, reason: &str) -> EropafError {
        CoreError::invalid(field, reason).into()
    }

    /// A caught panic as an error: the payload is a message from our own code, never data.
    pub(crate) fn from_panic(payload: &(dyn Any + Send)) -> EropafError {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "onbekende fout".to_string());
        EropafError::internal(text)
    }

    /// The Dutch sentence for the worker.
    pub fn message_nl(&self) -> &str {
        match self {
            EropafError::NotFound { message_nl, .. }
            | EropafError::InvalidInput { message_nl, .. }
            | EropafError::InvalidFramework { message_nl, .. }
            | EropafError::Locked { message_nl }
            | EropafError::Destroyed { message_nl }
            | EropafError::NoStore { message_nl, .. }
            | EropafError::AlreadyExists { message_nl, .. }
            | EropafError::Unauthorised { message_nl, .. }
            | EropafError::Network { message_nl, .. }
            | EropafError::Storage { message_nl, .. }
            | EropafError::Corrupt { message_nl, .. }
            | EropafError::KeyStore { message_nl, .. }
            | EropafError::Crypto { message_nl, .. }
            | EropafError::Refused { message_nl, .. }
            | EropafError::Document { message_nl, .. }
            | EropafError::Internal { message_nl, .. } => message_nl,
        }
    }
}

impl From<CoreError> for EropafError {
    fn from(error: CoreError) -> EropafError {
        let message_nl = error.message_nl();
        match error {
            CoreError::NotFound { what, id } => {
                EropafError::NotFound { what: what.to_string(), id, message_nl }
            }
            CoreError::InvalidInput { field, reason } => {
                EropafError::InvalidInput { field, reason, message_nl }
            }
            CoreError::InvalidFramework { line, message } => EropafError::InvalidFramework {
                line: u32::try_from(line).unwrap_or(u32::MAX),
                reason: message,
                message_nl,
            },
            CoreError::WrongKey => EropafError::Locked { message_nl },
            CoreError::Destroyed => EropafError::Destroyed { message_nl },
            CoreError::NoStore(dir) => EropafError::NoStore { dir, message_nl },
            CoreError::AlreadyExists(dir) => EropafError::AlreadyExists { dir, message_nl },
            CoreError::Corrupt(detail) => EropafError::Corrupt { detail, message_nl },
            CoreError::Storage(detail) => EropafError::Storage { detail, message_nl },
            CoreError::KeyStore(detail) => EropafError::KeyStore { detail, message_nl },
            CoreError::Crypto(detail) => EropafError::Crypto { detail, message_nl },
            CoreError::Network(detail) => EropafError::Network {
                detail,
                retry_after_secs: NETWORK_RETRY_AFTER_SECS,
                message_nl,
            },
            CoreError::Unauthorised(detail) => EropafError::Unauthorised { detail, message_nl },
            // The relay's code for it: stable for an app to act on.
            CoreError::Revoked => {
                EropafError::Unauthorised { detail: "revoked_device".into(), message_nl }
            }
            CoreError::Refused(detail) => EropafError::Refused { detail, message_nl },
            CoreError::Document(detail) => EropafError::Document { detail, message_nl },
            error @ (CoreError::Sqlite(_) | CoreError::Io(_)) => {
                let detail = error.detail();
                if error.is_corrupt() {
                    EropafError::Corrupt { detail, message_nl }
                } else {
                    EropafError::Storage { detail, message_nl }
                }
            }
            error @ (CoreError::Automerge(_) | CoreError::Hydrate(_)) => {
                EropafError::Document { detail: error.detail(), message_nl }
            }
        }
    }
}

/// The app's `KeyStore` threw something other than an `EropafError`.
impl From<uniffi::UnexpectedUniFFICallbackError> for EropafError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> EropafError {
        CoreError::KeyStore(error.reason).into()
    }
}

pub type Result<T, E = EropafError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_field_and_dutch_text() {
        let error: EropafError = CoreError::invalid("score", "7 ligt niet tussen 1 en 5").into();
        match &error {
            EropafError::InvalidInput { field, reason, message_nl } => {
                assert_eq!(field, "score");
                assert_eq!(reason, "7 ligt niet tussen 1 en 5");
                assert!(message_nl.contains("Ongeldige invoer bij score"), "{message_nl}");
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn a_wrong_key_is_locked_and_network_errors_say_when_to_retry() {
        let locked: EropafError = CoreError::WrongKey.into();
        assert!(matches!(locked, EropafError::Locked { .. }));
        assert!(locked.message_nl().contains("op slot"));
        let network: EropafError = CoreError::Network("connection refused".into()).into();
        assert!(matches!(
            network,
            EropafError::Network { retry_after_secs: NETWORK_RETRY_AFTER_SECS, .. }
        ));
        assert!(network.message_nl().contains("probeer het later opnieuw"));
    }

    #[test]
    fn a_throwing_key_store_becomes_a_key_store_error() {
        let error: EropafError =
            uniffi::UnexpectedUniFFICallbackError::new("KeyPermanentlyInvalidated").into();
        match error {
            EropafError::KeyStore { detail, .. } => assert_eq!(detail, "KeyPermanentlyInvalidated"),
            other => panic!("expected KeyStore, got {other:?}"),
        }
    }
}
