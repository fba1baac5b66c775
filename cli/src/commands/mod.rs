//! One module per command group; each parses nothing itself and calls the core.

pub mod access;
pub mod assess;
pub mod attach;
pub mod case;
pub mod framework;
pub mod relay;
pub mod sync;
pub mod team;
pub mod visit;

use eropaf_core::sync::http::HttpTransport;
use eropaf_core::Eropaf;

use crate::home::Home;
use eropaf_terminal::{self as print, describe, outln};

pub const NOT_IN_TEAM: &str = "Dit apparaat hoort nog niet bij een team. Begin er een met \
     `eropaf team create` of sluit aan met `eropaf team join CODE`.";

/// The transport to the relay of this device's team (or of the team it asked to join).
pub fn relay(device: &Eropaf) -> Result<HttpTransport, String> {
    let url =
        device.relay_url().map_err(|e| describe(&e))?.ok_or_else(|| NOT_IN_TEAM.to_string())?;
    HttpTransport::new(&url).map_err(|e| describe(&e))
}

pub fn init(home: &Home, name: &str, json: bool) -> Result<(), String> {
    let device = home.create(name)?;
    if json {
        print::json(&serde_json::json!({
            "device_id": device.device_id().to_hex(),
            "member": device.device_name(),
            "role": null,
            "revoked": false,
        }))
    } else {
        outln!("Apparaat aangemaakt: {} ({})", device.device_name(), device.device_id());
        outln!("Opslag: {}", device.store_dir().display());
        Ok(())
    }
}
