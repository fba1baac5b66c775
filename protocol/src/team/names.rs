//! Member and team names as the relay sees them: sealed under the team's names key, which
//! travels only inside invitation codes and the device stores, never to the relay. The roster
//! carries the sealed text; each device opens it for display.

use crate::crypto::{Sealer, SecretKey};
use crate::{Error, Result};

/// Marks a sealed name in a roster: what follows is hex of AES-256-GCM output.
pub const SEALED_PREFIX: &str = "~";
const NAME_DOMAIN: &[u8] = b"eropaf name v1\0";
/// What a name shows as when this device cannot open it (no names key, or a damaged one).
pub const UNREADABLE: &str = "(naam onleesbaar)";

/// The team's key for names.
pub struct NamesKey(SecretKey);

impl NamesKey {
    pub fn generate() -> Result<NamesKey> {
        SecretKey::generate().map(NamesKey)
    }

    pub fn from_hex(text: &str) -> Result<NamesKey> {
        let bytes = hex::decode(text).map_err(|_| Error::Corrupt("names key".into()))?;
        SecretKey::from_slice(&bytes).map(NamesKey)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    /// The name as the roster and the relay carry it. Each team has a key of its own, so a
    /// name sealed for one team opens in no other.
    pub fn seal(&self, name: &str) -> Result<String> {
        let sealed = Sealer::new(&self.0).seal(NAME_DOMAIN, name.trim().as_bytes())?;
        Ok(format!("{SEALED_PREFIX}{}", hex::encode(sealed)))
    }

    /// The name to show: a sealed one opened, one from before names were sealed as it is.
    pub fn open(&self, text: &str) -> String {
        let Some(sealed) = text.strip_prefix(SEALED_PREFIX) else { return text.to_owned() };
        hex::decode(sealed)
            .ok()
            .and_then(|bytes| Sealer::new(&self.0).open(NAME_DOMAIN, &bytes).ok())
            .and_then(|plain| String::from_utf8(plain).ok())
            .unwrap_or_else(|| UNREADABLE.to_owned())
    }
}

/// A name to show with an optional key: without one, a sealed name is unreadable.
pub fn shown(key: Option<&NamesKey>, text: &str) -> String {
    match key {
        Some(key) => key.open(text),
        None if text.starts_with(SEALED_PREFIX) => UNREADABLE.to_owned(),
        None => text.to_owned(),
    }
}

/// Whether `text` is a well-formed sealed name (for roster validation).
pub fn is_sealed(text: &str) -> bool {
    text.strip_prefix(SEALED_PREFIX)
        .is_some_and(|hex_text| !hex_text.is_empty() && hex::decode(hex_text).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_name_opens_only_with_its_teams_key() {
        let key = NamesKey::generate().unwrap();
        let sealed = key.seal("Sanne de Vries").unwrap();
        assert!(is_sealed(&sealed) && !sealed.contains("Sanne"));
        assert_eq!(key.open(&sealed), "Sanne de Vries");
        assert_eq!(NamesKey::generate().unwrap().open(&sealed), UNREADABLE);
        assert_eq!(key.open("Marieke"), "Marieke");
        assert_eq!(shown(None, &sealed), UNREADABLE);
        assert_eq!(NamesKey::from_hex(&key.to_hex()).unwrap().open(&sealed), "Sanne de Vries");
    }
}
