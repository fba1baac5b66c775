//! Where this device's store lives and how it is unlocked: `--home`/`EROPAF_HOME`, and the
//! passphrase from `EROPAF_PASSPHRASE` or a prompt.

use std::path::PathBuf;

use eropaf_core::{Eropaf, Unlock};

use eropaf_terminal::describe;

pub struct Home {
    dir: PathBuf,
}

impl Home {
    pub fn new(dir: Option<PathBuf>) -> Home {
        let dir = dir.unwrap_or_else(|| {
            let base =
                std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
            base.join(".eropaf")
        });
        Home { dir }
    }

    pub fn create(&self, name: &str) -> Result<Eropaf, String> {
        // Say so before asking for a new passphrase twice.
        if self.dir.join(eropaf_core::DB_FILE).exists() {
            return Err(describe(&eropaf_core::Error::AlreadyExists(
                self.dir.display().to_string(),
            )));
        }
        let passphrase = passphrase(true)?;
        Eropaf::create(&self.dir, Unlock::Passphrase(&passphrase), name).map_err(|e| describe(&e))
    }

    pub fn open(&self) -> Result<Eropaf, String> {
        let passphrase = passphrase(false)?;
        Eropaf::open(&self.dir, Unlock::Passphrase(&passphrase)).map_err(|e| describe(&e))
    }
}

fn passphrase(new: bool) -> Result<String, String> {
    if let Ok(passphrase) = std::env::var("EROPAF_PASSPHRASE") {
        return Ok(passphrase);
    }
    let prompt = if new { "Nieuw wachtwoord voor deze opslag: " } else { "Wachtwoord: " };
    let first = rpassword::prompt_password(prompt).map_err(|_| {
        "geen wachtwoord: zet EROPAF_PASSPHRASE of start vanuit een terminal".to_string()
    })?;
    if new {
        let again = rpassword::prompt_password("Nog een keer: ").map_err(|e| e.to_string())?;
        if again != first {
            return Err("de wachtwoorden verschillen; er is niets aangemaakt".into());
        }
    }
    Ok(first)
}
