//! The one error type of eropaf-core: each case is something a caller can act on. Failures
//! of SQLite, the file system and automerge keep their source error; the shells map this
//! error once into their own (eropaf-ffi's `EropafError`, the command's Dutch text).
//! Messages never contain resident data (names, notes), so errors can be logged.

use std::fmt;

/// Result alias used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The thing asked for does not exist on this device.
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },

    /// Bad input from a caller; nothing was changed.
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: String, reason: String },

    /// A value framework file could not be read; `line` is 1-based.
    #[error("value framework, line {line}: {message}")]
    InvalidFramework { line: usize, message: String },

    /// The key or passphrase does not open this store.
    #[error("the store is locked: wrong passphrase or store key")]
    WrongKey,

    /// Too many wrong passphrases in a row, as the team's policy allows: the store's key
    /// material and contents were destroyed. The device must be enrolled anew.
    #[error("the store was destroyed after too many wrong passphrases")]
    Destroyed,

    /// The store directory has no store yet (run `init` first).
    #[error("no store in {0}")]
    NoStore(String),

    /// The store already exists where a new one was asked for.
    #[error("a store already exists in {0}")]
    AlreadyExists(String),

    /// The database file is damaged or truncated; it was not changed.
    #[error("the store is damaged: {0}")]
    Corrupt(String),

    /// SQLite or the file system failed.
    #[error("storage error: {0}")]
    Storage(String),

    /// The key store of the platform failed.
    #[error("key store error: {0}")]
    KeyStore(String),

    /// A cryptographic operation failed (not a wrong key: see `WrongKey`).
    #[error("crypto error: {0}")]
    Crypto(String),

    /// The relay could not be reached or answered with a server error; try again later.
    #[error("network: {0}")]
    Network(String),

    /// The relay refused this device: unknown, or not allowed to do this.
    #[error("not allowed: {0}")]
    Unauthorised(String),

    /// This device was revoked from its team: it keeps what it holds but syncs no more.
    #[error("this device was revoked from its team")]
    Revoked,

    /// Data from another device was refused: a bad signature, an unknown or revoked author,
    /// a change whose actor does not match its signer, a replay. Never applied.
    #[error("refused: {0}")]
    Refused(String),

    /// A case document could not be read or changed.
    #[error("document error: {0}")]
    Document(String),

    /// SQLite failed; `is_corrupt` tells a damaged file from a failed write. The source is
    /// kept for whoever logs the chain; callers act on `is_corrupt` and `is_storage_failure`.
    #[error("{kind}: {0}", kind = sqlite_kind(.0))]
    Sqlite(#[source] Box<rusqlite::Error>),

    /// The file system failed.
    #[error("storage error: {0}")]
    Io(#[from] std::io::Error),

    /// Automerge could not read or apply a document or change.
    #[error("document error: {0}")]
    Automerge(#[source] Box<automerge::AutomergeError>),

    /// A document's contents do not have the shape the core reads.
    #[error("document error: {0}")]
    Hydrate(#[source] Box<autosurgeon::HydrateError>),
}

impl Error {
    pub fn invalid(field: impl Into<String>, reason: impl fmt::Display) -> Self {
        Error::InvalidInput { field: field.into(), reason: reason.to_string() }
    }

    pub fn not_found(what: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound { what, id: id.into() }
    }

    /// The store's file is damaged or truncated (not a failed write, not bad data received).
    pub fn is_corrupt(&self) -> bool {
        match self {
            Error::Corrupt(_) => true,
            Error::Sqlite(e) => sqlite_says_corrupt(e),
            _ => false,
        }
    }

    /// Writing to or reading from this device's own storage failed: nothing received is to
    /// blame, so a sync stops here instead of skipping on to the next envelope.
    pub fn is_storage_failure(&self) -> bool {
        match self {
            Error::Storage(_) | Error::Io(_) => true,
            Error::Sqlite(e) => !sqlite_says_corrupt(e),
            _ => false,
        }
    }
}

// Boxed: these sources are large, and every `Result` in the core carries this error.
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Sqlite(Box::new(e))
    }
}

impl From<automerge::AutomergeError> for Error {
    fn from(e: automerge::AutomergeError) -> Self {
        Error::Automerge(Box::new(e))
    }
}

impl From<autosurgeon::HydrateError> for Error {
    fn from(e: autosurgeon::HydrateError) -> Self {
        Error::Hydrate(Box::new(e))
    }
}

/// How `Error::Sqlite` reads in English: as `Corrupt` or as `Storage` would.
fn sqlite_kind(e: &rusqlite::Error) -> &'static str {
    if sqlite_says_corrupt(e) {
        "the store is damaged"
    } else {
        "storage error"
    }
}

fn sqlite_says_corrupt(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    matches!(e.sqlite_error_code(), Some(DatabaseCorrupt | NotADatabase))
}

impl Error {
    /// A Dutch sentence for the worker: what went wrong and, where there is one, what to do.
    pub fn message_nl(&self) -> String {
        match self {
            Error::NotFound { what, id } => format!("{} {id} bestaat niet op dit apparaat.", noun_nl(what)),
            Error::InvalidInput { field, reason } => format!("Ongeldige invoer bij {field}: {reason}"),
            Error::InvalidFramework { line, message } => {
                format!("Het waardenkader klopt niet, regel {line}: {message}")
            }
            Error::WrongKey => "Onjuist wachtwoord of sleutel: de opslag blijft op slot.".into(),
            Error::Destroyed => "Te vaak een onjuist wachtwoord: zoals het teambeleid bepaalt, zijn \
                                 de gegevens op dit apparaat vernietigd. Meld het apparaat opnieuw \
                                 aan bij het team; wat al gesynchroniseerd was, staat nog bij het team."
                .into(),
            Error::NoStore(dir) => format!("Er is nog geen opslag in {dir}. Begin met `eropaf init`."),
            Error::AlreadyExists(dir) => format!("In {dir} staat al een opslag; er is niets overschreven."),
            Error::Corrupt(detail) => format!(
                "De opslag is beschadigd ({detail}). Er is niets gewijzigd; zet een reservekopie terug of synchroniseer opnieuw."
            ),
            Error::Storage(detail) => format!("Opslaan lukte niet ({detail}). Er is niets half weggeschreven."),
            Error::KeyStore(detail) => format!("De sleutelopslag van het apparaat gaf een fout: {detail}"),
            Error::Crypto(detail) => format!("Versleuteling mislukte: {detail}"),
            Error::Network(detail) => format!(
                "Geen verbinding met de relay ({detail}). Alles blijft op dit apparaat bewaard; probeer het later opnieuw."
            ),
            Error::Unauthorised(detail) => format!("De relay weigert dit apparaat: {detail}"),
            Error::Revoked => "De relay weigert dit apparaat: het is uit het team ingetrokken. Wat \
                               op dit apparaat staat blijft hier, maar het kan niet meer \
                               synchroniseren. Is dat een vergissing, vraag dan een \
                               leidinggevende om een nieuwe uitnodiging."
                .into(),
            Error::Refused(detail) => format!("Gegevens van een ander apparaat zijn geweigerd: {detail}"),
            Error::Document(detail) => format!("Het dossier kon niet worden gelezen of gewijzigd: {detail}"),
            Error::Sqlite(_) if self.is_corrupt() => Error::Corrupt(self.detail()).message_nl(),
            Error::Sqlite(_) | Error::Io(_) => Error::Storage(self.detail()).message_nl(),
            Error::Automerge(_) | Error::Hydrate(_) => Error::Document(self.detail()).message_nl(),
        }
    }
}

impl Error {
    /// What failed, without the category the `Display` text starts with: the detail a
    /// caller's own error shows beside `message_nl`.
    pub fn detail(&self) -> String {
        match self {
            Error::Sqlite(e) => e.to_string(),
            Error::Io(e) => e.to_string(),
            Error::Automerge(e) => e.to_string(),
            Error::Hydrate(e) => e.to_string(),
            Error::Corrupt(d) | Error::Storage(d) | Error::Document(d) => d.clone(),
            other => other.to_string(),
        }
    }

    /// `message_nl` for an error from talking to the relay: when the relay refuses this
    /// device, also what that most likely means and what to do.
    pub fn relay_message_nl(&self) -> String {
        match self {
            Error::Unauthorised(_) => format!(
                "{} Staat dit apparaat nog in het team en staat de klok goed? Vraag het zo nodig \
                 aan een leidinggevende.",
                self.message_nl()
            ),
            _ => self.message_nl(),
        }
    }
}

fn noun_nl(what: &str) -> &str {
    match what {
        "case" => "Casus",
        "visit" => "Bezoek",
        "assessment" => "Afweging",
        "framework" => "Waardenkader",
        "value" => "Waarde",
        "step" => "Stap",
        other => other,
    }
}

impl From<eropaf_protocol::Error> for Error {
    fn from(e: eropaf_protocol::Error) -> Self {
        use eropaf_protocol::Error as P;
        match e {
            P::InvalidInput { field, reason } => Error::InvalidInput { field, reason },
            P::Corrupt(detail) => Error::Corrupt(detail),
            P::Crypto(detail) => Error::Crypto(detail),
            P::Refused(detail) => Error::Refused(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_sqlite_failure_keeps_its_source_and_says_whether_the_file_is_damaged() {
        let db = rusqlite::Connection::open_in_memory().expect("an in-memory database opens");
        let failure: Error = db.execute("INSERT INTO nowhere VALUES (1)", []).unwrap_err().into();
        assert!(failure.source().is_some(), "the SQLite error stays reachable: {failure:?}");
        assert!(failure.is_storage_failure() && !failure.is_corrupt());
        assert!(failure.message_nl().starts_with("Opslaan lukte niet"), "{}", failure.message_nl());

        let damaged: Error = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_NOTADB),
            None,
        )
        .into();
        assert!(damaged.is_corrupt() && !damaged.is_storage_failure());
        assert!(damaged.message_nl().starts_with("De opslag is beschadigd"));
        assert!(damaged.to_string().starts_with("the store is damaged"), "{damaged}");
    }
}
