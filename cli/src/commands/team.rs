//! `eropaf team …`: start a team, invite and enrol devices, list and revoke them. Input is
//! checked before the store is opened; every change the relay must know about is sent to it
//! at once.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use clap::Subcommand;
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::team::roster::Role;
use eropaf_core::{Invitation, Member};
use serde::Serialize;

use super::sync;
use crate::home::Home;
use eropaf_terminal::{self as print, describe, describe_relay, outln};

/// How many characters of a device id `team revoke` needs at least.
const MIN_PREFIX: usize = 4;

#[derive(Subcommand)]
pub enum TeamCommand {
    /// Start a team: this device becomes its first supervisor and registers it at the relay.
    Create {
        /// The team's name, e.g. "Wijkteam Noord".
        #[arg(long)]
        name: String,
        /// The office relay, e.g. https://relay.wijkteam.example (http:// only on this machine).
        #[arg(long)]
        relay: String,
        /// The one-time registration code from the relay's operator (`eropaf relay code`).
        #[arg(long, env = "EROPAF_REGISTRATION_CODE")]
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// A one-time invitation code for a new device (text for a QR code), valid for a week.
    Invite {
        /// worker or supervisor (medewerker, leidinggevende).
        #[arg(long)]
        role: String,
        #[arg(long)]
        json: bool,
    },
    /// Enrol this device with an invitation code; prints the safety code a supervisor
    /// compares before admitting it.
    Join {
        /// The code from `eropaf team invite` (quote it: it contains `|`).
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// Register this device's team at the relay with a new code from the relay's operator,
    /// when the code given at `team create` was refused or already used.
    Register {
        #[arg(long, env = "EROPAF_REGISTRATION_CODE")]
        code: String,
    },
    /// Devices waiting for admission (supervisor): device id, member, role and the safety
    /// code their own screen shows.
    Pending {
        #[arg(long)]
        json: bool,
    },
    /// Admit a waiting device after comparing its safety code with the one `team pending`
    /// shows.
    Admit {
        /// The full device id, from `eropaf team pending`.
        device_id: String,
        /// The safety code the newcomer's screen shows (spaces may be left out).
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// The team's devices: id, member, role, revoked.
    Members {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a lost or retired device by its id or a unique prefix of at least 4 characters.
    Revoke {
        device_id: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(home: &Home, command: TeamCommand) -> Result<(), String> {
    match command {
        TeamCommand::Create { name, relay, code, json } => create(home, &name, &relay, &code, json),
        TeamCommand::Invite { role, json } => invite(home, &role, json),
        TeamCommand::Join { code, json } => join(home, &code, json),
        TeamCommand::Register { code } => register(home, &code),
        TeamCommand::Pending { json } => pending(home, json),
        TeamCommand::Admit { device_id, code, json } => admit(home, &device_id, &code, json),
        TeamCommand::Members { json } => members(home, json),
        TeamCommand::Revoke { device_id, json } => revoke(home, &device_id, json),
    }
}

fn create(home: &Home, name: &str, relay: &str, code: &str, json: bool) -> Result<(), String> {
    // A mistyped address would leave a team on this device that no relay knows: check first.
    check_reachable(relay)?;
    let mut device = home.open()?;
    let info = device.create_team(name, relay, code).map_err(|e| describe(&e))?;
    sync::sync(&mut device, !json).map_err(|e| {
        format!(
            "Team {} is op dit apparaat aangemaakt, maar de relay kent het nog niet: {e}\n\
             Draai `eropaf sync` zodra de relay bereikbaar is, of `eropaf team register --code \
             CODE` met een nieuwe registratiecode als deze geweigerd werd.",
            info.team_name
        )
    })?;
    if json {
        return print::json(&info);
    }
    outln!("Team {} aangemaakt.", info.team_name);
    outln!("Team-id: {}", info.team_id);
    outln!("Relay: {} (kent het team nu)", info.relay_url);
    outln!("Dit apparaat ({}) is de eerste leidinggevende.", device.device_name());
    outln!("Nodig anderen uit met `eropaf team invite --role worker`.");
    Ok(())
}

fn invite(home: &Home, role: &str, json: bool) -> Result<(), String> {
    let role = Role::parse(role).map_err(|e| describe(&e.into()))?;
    let mut device = home.open()?;
    let transport = super::relay(&device)?;
    let invitation = device.invite(&transport, role).map_err(|e| describe_relay(&e))?;
    if json {
        return print::json(&invitation);
    }
    outln!(
        "Eenmalige uitnodiging als {}, geldig tot {}:",
        role.label().to_lowercase(),
        invitation
            .expires_at
            .map(|t| print::local(t).format("%d-%m-%Y %H:%M").to_string())
            .unwrap_or_default()
    );
    outln!("{}", invitation.code);
    outln!("\nOp het nieuwe apparaat: eropaf team join '{}'", invitation.code);
    outln!(
        "Het nieuwe apparaat toont een veiligheidscode. Vergelijk die met `eropaf team pending` \
         en laat het toe met `eropaf team admit APPARAAT-ID CODE`."
    );
    Ok(())
}

#[derive(Serialize)]
struct Joined<'a> {
    team_id: &'a str,
    relay_url: &'a str,
    role: Role,
    device_id: String,
    /// What the supervisor compares before admitting this device.
    safety_code: &'a str,
    waiting_for_approval: bool,
}

fn join(home: &Home, code: &str, json: bool) -> Result<(), String> {
    let invitation = Invitation::parse(code).map_err(|e| describe(&e.into()))?;
    let mut device = home.open()?;
    let transport = HttpTransport::new(&invitation.relay_url).map_err(|e| describe(&e))?;
    let safety_code = device.join(&transport, &invitation).map_err(|e| describe_relay(&e))?;
    if !json {
        outln!(
            "Aangemeld bij team {} via {} als {}.",
            print::short(&invitation.team_id),
            invitation.relay_url,
            invitation.role.label().to_lowercase()
        );
        outln!("Apparaat-id: {}", device.device_id().to_hex());
        outln!("Veiligheidscode: {safety_code}");
        outln!(
            "Laat deze code zien aan de leidinggevende: die laat dit apparaat pas toe als de \
             code op het eigen scherm dezelfde is."
        );
    }
    // The request is at the relay; whether this first sync works or not, it stays there.
    let report = match sync::sync(&mut device, !json) {
        Ok(report) => Some(report),
        Err(e) => {
            eprintln!("eropaf: {e}");
            None
        }
    };
    let waiting = report.as_ref().is_none_or(|r| r.waiting_for_approval);
    if json {
        return print::json(&Joined {
            team_id: &invitation.team_id,
            relay_url: &invitation.relay_url,
            role: invitation.role,
            device_id: device.device_id().to_hex(),
            safety_code: &safety_code,
            waiting_for_approval: waiting,
        });
    }
    match report {
        Some(report) if !waiting => {
            outln!("Toegelaten: dit apparaat is lid van het team.");
            sync::print_report(&device, &report)?;
        }
        _ => outln!(
            "Een leidinggevende vergelijkt nu de veiligheidscode en laat dit apparaat toe \
             (`eropaf team admit`); synchroniseer daarna zelf met `eropaf sync`."
        ),
    }
    Ok(())
}

fn register(home: &Home, code: &str) -> Result<(), String> {
    let mut device = home.open()?;
    device.set_registration_code(code).map_err(|e| describe(&e))?;
    sync::sync(&mut device, true)?;
    outln!("Het team is nu bij de relay bekend. Nodig anderen uit met `eropaf team invite`.");
    Ok(())
}

fn pending(home: &Home, json: bool) -> Result<(), String> {
    let mut device = home.open()?;
    if device.team_info().map_err(|e| describe(&e))?.is_none() {
        return Err(super::NOT_IN_TEAM.into());
    }
    let transport = super::relay(&device)?;
    let waiting = device.refresh_pending_joiners(&transport).map_err(|e| describe_relay(&e))?;
    if json {
        return print::json(&waiting);
    }
    if waiting.is_empty() {
        outln!("Er wacht geen apparaat op toelating.");
        return Ok(());
    }
    outln!("Wachten op toelating:");
    for joiner in &waiting {
        outln!(
            "  {}  {} ({})  veiligheidscode {}",
            joiner.device_id,
            joiner.member,
            joiner.role.label().to_lowercase(),
            joiner.code
        );
    }
    outln!(
        "Vergelijk de code met het scherm van het nieuwe apparaat, en laat het dan toe met \
         `eropaf team admit APPARAAT-ID CODE`."
    );
    Ok(())
}

fn admit(home: &Home, device_id: &str, code: &str, json: bool) -> Result<(), String> {
    let device_id = device_id.trim().to_ascii_lowercase();
    if device_id.len() != 32 || !device_id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(
            "Geef het volledige apparaat-id (32 tekens 0-9, a-f); zie `eropaf team pending`."
                .into(),
        );
    }
    let mut device = home.open()?;
    if device.team_info().map_err(|e| describe(&e))?.is_none() {
        return Err(super::NOT_IN_TEAM.into());
    }
    let transport = super::relay(&device)?;
    // The newest requests first: the device may have asked after this device's last sync.
    device.refresh_pending_joiners(&transport).map_err(|e| describe_relay(&e))?;
    let member = device.admit(&transport, &device_id, code).map_err(|e| describe_relay(&e))?;
    if json {
        return print::json(&member);
    }
    outln!(
        "Toegelaten: {} ({}) als {}.",
        member.member,
        member.device_id,
        member.role.label().to_lowercase()
    );
    outln!("Het apparaat is lid zodra het synchroniseert (`eropaf sync`).");
    Ok(())
}

#[derive(Serialize)]
struct MemberRow<'a> {
    #[serde(flatten)]
    member: &'a Member,
    this_device: bool,
}

fn members(home: &Home, json: bool) -> Result<(), String> {
    let device = home.open()?;
    let me = device.device_id().to_hex();
    let members = device.members();
    if json {
        let rows: Vec<MemberRow<'_>> = members
            .iter()
            .map(|member| MemberRow { member, this_device: member.device_id == me })
            .collect();
        return print::json(&rows);
    }
    let Some(info) = device.team_info().map_err(|e| describe(&e))? else {
        match device.relay_url().map_err(|e| describe(&e))? {
            Some(relay) => outln!(
                "Dit apparaat wacht op toelating tot een team (relay {relay}). Synchroniseer \
                 met `eropaf sync` nadat een leidinggevende dat deed."
            ),
            None => outln!("Dit apparaat hoort nog niet bij een team."),
        }
        return Ok(());
    };
    outln!("Team {} (tijdvak {})", info.team_name, info.epoch);
    print::members(&members, &me);
    Ok(())
}

fn revoke(home: &Home, prefix: &str, json: bool) -> Result<(), String> {
    let prefix = prefix.trim().to_ascii_lowercase();
    if prefix.len() < MIN_PREFIX || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "Geef het apparaat-id, of de eerste {MIN_PREFIX} tekens of meer ervan (0-9, a-f); \
             zie `eropaf team members`."
        ));
    }
    let mut device = home.open()?;
    if device.team_info().map_err(|e| describe(&e))?.is_none() {
        return Err(super::NOT_IN_TEAM.into());
    }
    // The newest roster first: a device admitted elsewhere can be found, and the revocation
    // is appended to the roster the relay has.
    sync::sync(&mut device, !json)?;
    let members = device.members();
    let matching: Vec<&Member> =
        members.iter().filter(|m| m.device_id.starts_with(&prefix)).collect();
    let target = match matching.as_slice() {
        [one] => *one,
        [] => return Err(format!("Apparaat {prefix} staat niet in de teamlijst.")),
        many => {
            let ids: Vec<String> =
                many.iter().map(|m| format!("{} ({})", m.device_id, m.member)).collect();
            return Err(format!(
                "{prefix} past bij meer dan één apparaat: {}. Geef meer tekens.",
                ids.join(", ")
            ));
        }
    };
    if target.device_id == device.device_id().to_hex() {
        return Err(
            "Dit is dit apparaat zelf. Laat een andere leidinggevende het intrekken.".into()
        );
    }
    if target.revoked {
        return Err(format!(
            "Apparaat {} ({}) is al ingetrokken.",
            target.device_id, target.member
        ));
    }
    let transport = super::relay(&device)?;
    device.revoke(&transport, &target.device_id).map_err(|e| describe_relay(&e))?;
    let info = device.team_info().map_err(|e| describe(&e))?;
    let epoch = info.map(|i| i.epoch).unwrap_or_default();
    if json {
        return print::json(&serde_json::json!({
            "device_id": target.device_id,
            "member": target.member,
            "revoked": true,
            "epoch": epoch,
        }));
    }
    outln!("Ingetrokken: {} ({}).", target.member, target.device_id);
    outln!(
        "De relay weigert dit apparaat vanaf nu. Wat vanaf nu wordt vastgelegd, valt onder een \
         nieuwe teamsleutel (tijdvak {epoch}) die het niet krijgt."
    );
    Ok(())
}

/// Checks that something answers at the relay address (host and port), with a Dutch reason
/// when not. The address itself is checked again by the core.
fn check_reachable(url: &str) -> Result<(), String> {
    let unreachable = |why: String| {
        format!("De relay op {url} is niet bereikbaar ({why}). Er is geen team aangemaakt.")
    };
    let url = url.trim();
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        "Het adres van de relay begint met http:// of https://, bijvoorbeeld \
         http://127.0.0.1:7300."
            .to_string()
    })?;
    let default_port = match scheme {
        "http" => 80,
        "https" => 443,
        _ => return Err("Het adres van de relay begint met http:// of https://.".into()),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => {
            let port = port.parse::<u16>().map_err(|_| unreachable(format!("poort {port:?}")))?;
            (host, port)
        }
        _ => (authority, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(unreachable("er staat geen host in het adres".into()));
    }
    let addresses: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| unreachable(format!("{host} is onbekend: {e}")))?
        .collect();
    let mut last_error = None;
    for address in addresses {
        match TcpStream::connect_timeout(&address, Duration::from_secs(5)) {
            Ok(_) => return Ok(()),
            Err(e) => last_error = Some(e),
        }
    }
    Err(unreachable(last_error.map_or_else(|| "geen adres".into(), |e| e.to_string())))
}
