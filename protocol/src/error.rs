//! The protocol's one error type. The core maps it once into its own; messages never hold
//! resident data.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input from a caller; nothing was made.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: String, reason: String },

    /// Stored or received key material does not read back.
    #[error("damaged: {0}")]
    Corrupt(String),

    /// A cryptographic operation failed.
    #[error("crypto error: {0}")]
    Crypto(String),

    /// Data from another device or the relay was refused: a bad signature, an unknown or
    /// revoked signer, a malformed encoding.
    #[error("refused: {0}")]
    Refused(String),
}

impl Error {
    pub fn invalid(field: impl Into<String>, reason: impl fmt::Display) -> Self {
        Error::InvalidInput { field: field.into(), reason: reason.to_string() }
    }
}
