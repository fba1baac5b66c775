//! One module per command group; each parses nothing itself and calls the core.

pub mod assess;
pub mod case;
pub mod framework;
pub mod visit;

use crate::home::Home;
use crate::print::{self, outln};

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
