//! `eropaf`: the desktop and office client over eropaf-core. Parses the command line, opens
//! the device store in the home directory, and prints for people (Dutch) or for scripts
//! (`--json`).

mod commands;

use eropaf_console as console;
mod home;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::{access, assess, attach, case, framework, relay, team, visit};

#[derive(Parser)]
#[command(
    name = "eropaf",
    version,
    about = "Eropaf: outreach work, recorded offline and encrypted"
)]
struct Cli {
    /// This device's home directory (its encrypted store).
    #[arg(long, global = true, env = "EROPAF_HOME")]
    home: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create this device's identity and encrypted store.
    Init {
        /// The device's name, e.g. the worker's name.
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Cases: create, list, show, export and merge.
    #[command(subcommand)]
    Case(case::CaseCommand),
    /// Access on request: ask for a case, and (supervisors) grant or refuse.
    #[command(subcommand)]
    Access(access::AccessCommand),
    /// Home visits.
    #[command(subcommand)]
    Visit(visit::VisitCommand),
    /// Files kept with a case: a letter, a signed consent (sealed like everything else).
    #[command(subcommand)]
    Attach(attach::AttachCommand),
    /// Weigh a decision against the team's value framework.
    #[command(subcommand)]
    Assess(assess::AssessCommand),
    /// The team's value frameworks.
    #[command(subcommand)]
    Framework(framework::FrameworkCommand),
    /// The team: create it, invite and enrol devices, list and revoke them.
    #[command(subcommand)]
    Team(team::TeamCommand),
    /// Push this device's changes to the team's relay and pull the others'.
    Sync {
        #[arg(long)]
        json: bool,
    },
    /// The office relay.
    #[command(subcommand)]
    Relay(relay::RelayCommand),
    /// The whole story, on stores in a temporary directory (or --dir), with an embedded relay,
    /// then the supervisor's console.
    Demo {
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Exit after the story instead of serving the console.
        #[arg(long)]
        no_serve: bool,
        /// Where the console listens.
        #[arg(long, default_value = console::DEFAULT_LISTEN)]
        listen: String,
    },
    /// The supervisor's office console in the browser (loopback by default).
    Console {
        #[arg(long, default_value = console::DEFAULT_LISTEN)]
        listen: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("eropaf: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let home = home::Home::new(cli.home);
    match cli.command {
        Command::Init { name, json } => commands::init(&home, &name, json),
        Command::Case(command) => case::run(&home, command),
        Command::Access(command) => access::run(&home, command),
        Command::Visit(command) => visit::run(&home, command),
        Command::Attach(command) => attach::run(&home, command),
        Command::Assess(command) => assess::run(&home, command),
        Command::Framework(command) => framework::run(&home, command),
        Command::Team(command) => team::run(&home, command),
        Command::Sync { json } => commands::sync::run(&home, json),
        Command::Relay(command) => relay::run(command),
        Command::Demo { dir, no_serve, listen } => eropaf_demo::run(dir, no_serve, &listen),
        Command::Console { listen } => console::serve(home.open()?, &listen),
    }
}
