//! The relay's API as both sides see it: the entries of a team's log, and which relay
//! addresses a device may talk to.

use crate::{Error, Result};

/// One entry of the relay's log for a team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pulled {
    Envelope {
        server_seq: u64,
        bytes: Vec<u8>,
    },
    /// The document was erased (AVG): forget it and its keys, once the order's signature
    /// checks out against the roster (`team::erasure::check`).
    Erased {
        server_seq: u64,
        doc_id: [u8; 16],
        /// The device that gave the order.
        erased_by: [u8; 16],
        /// Its signature over the order; empty when the relay has none to show.
        signature: Vec<u8>,
    },
}

impl Pulled {
    pub fn server_seq(&self) -> u64 {
        match self {
            Pulled::Envelope { server_seq, .. } | Pulled::Erased { server_seq, .. } => *server_seq,
        }
    }
}

/// Checks a relay address before anything is sent to it: `https://`, or plain `http://` only
/// to this machine (loopback: tests and a relay on the same box). Case data is sealed either
/// way, but request metadata and the enrolment exchange should never cross a network in the
/// clear.
pub fn check_relay_url(url: &str) -> Result<url::Url> {
    let bad = |reason: &str| Error::invalid("relay", reason);
    let parsed =
        url::Url::parse(url.trim()).map_err(|_| bad("dit is geen geldig adres van een relay"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("een relay-adres bevat geen gebruikersnaam of wachtwoord"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("een relay-adres heeft geen ? of #"));
    }
    let Some(host) = parsed.host_str() else {
        return Err(bad("het relay-adres mist een servernaam"));
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        "http" => Err(bad(
            "een relay buiten dit apparaat is alleen via https:// bereikbaar, niet via http://",
        )),
        _ => Err(bad("een relay-adres begint met https://")),
    }
}
