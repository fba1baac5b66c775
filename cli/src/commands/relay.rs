//! `eropaf relay serve`: the office relay on SQLite or PostgreSQL, in the foreground until
//! Ctrl-C; `eropaf relay code` and `eropaf relay migrate`. The relay itself is `eropaf_relay`;
//! this module only opens its database, binds, reports the address and stops it cleanly.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use eropaf_relay::{PostgresStorage, SqliteStorage, Storage};

#[derive(Subcommand)]
pub enum RelayCommand {
    /// Run the office relay until Ctrl-C. The first line printed is the address it listens on
    /// (port 0 picks a free port).
    Serve {
        #[command(flatten)]
        database: Database,
        /// Address and port to listen on, e.g. 127.0.0.1:7300 or 0.0.0.0:7300.
        #[arg(long, default_value = "127.0.0.1:7300")]
        listen: String,
    },
    /// Issue a one-time registration code: registering a new team at this relay takes one,
    /// so a stranger who can reach the relay cannot fill it. Hand it to the founding
    /// supervisor (`eropaf team create --code`). The relay keeps only its hash.
    Code {
        #[command(flatten)]
        database: Database,
    },
    /// Bring the relay's database schema up to date and print its version; `serve` does this
    /// too, this lets an upgrade migrate once before the relay processes restart.
    Migrate {
        #[command(flatten)]
        database: Database,
    },
}

/// Where the relay keeps its data: a SQLite file (one office, the default) or PostgreSQL
/// (several relay processes on one database).
#[derive(Args)]
pub struct Database {
    /// The relay's SQLite database file (created if missing).
    #[arg(long, required_unless_present = "postgres", conflicts_with = "postgres")]
    db: Option<PathBuf>,
    /// A PostgreSQL database instead, e.g. postgres://eropaf@db.example/eropaf (a password
    /// is better kept in ~/.pgpass or the environment variable than on the command line).
    #[arg(long, env = "EROPAF_RELAY_POSTGRES", hide_env_values = true)]
    postgres: Option<String>,
}

impl Database {
    fn open(&self) -> Result<Box<dyn Storage>, String> {
        match (&self.postgres, &self.db) {
            (Some(url), _) => PostgresStorage::connect(url)
                .map(|storage| Box::new(storage) as Box<dyn Storage>)
                .map_err(|e| {
                    format!(
                        "De PostgreSQL-database {} kan niet worden geopend: {e}",
                        PostgresStorage::describe(url)
                    )
                }),
            (None, Some(db)) => open_storage(db).map(|s| Box::new(s) as Box<dyn Storage>),
            (None, None) => Err("Geef --db FILE of --postgres URL.".into()),
        }
    }

    /// What a status line may show: never a password.
    fn describe(&self) -> String {
        match (&self.postgres, &self.db) {
            (Some(url), _) => format!("PostgreSQL {}", PostgresStorage::describe(url)),
            (None, Some(db)) => db.display().to_string(),
            (None, None) => String::new(),
        }
    }
}

pub fn run(command: RelayCommand) -> Result<(), String> {
    let (database, listen) = match command {
        RelayCommand::Serve { database, listen } => (database, listen),
        RelayCommand::Code { database } => {
            let storage = database.open()?;
            let code = eropaf_relay::issue_registration_code(&*storage)
                .map_err(|e| format!("De registratiecode kon niet worden aangemaakt: {e}"))?;
            eropaf_terminal::outln!("{code}");
            return Ok(());
        }
        RelayCommand::Migrate { database } => {
            let storage = database.open()?;
            let version = storage
                .schema_version()
                .map_err(|e| format!("De schemaversie is onbekend: {e}"))?;
            eropaf_terminal::outln!("{}: schemaversie {version}", database.describe());
            return Ok(());
        }
    };
    // Opened before the runtime starts: the PostgreSQL backend brings its own.
    let storage: Arc<dyn Storage> = Arc::from(database.open()?);
    let runtime = runtime()?;
    runtime.block_on(async move {
        let listener = bind(&listen).await?;
        let address = local_address(&listener)?;
        status(format_args!("Relay luistert op http://{address}"));
        status(format_args!("Database: {}", database.describe()));
        if !address.ip().is_loopback() {
            eprintln!(
                "Let op: de relay spreekt onversleuteld HTTP. Zet hem achter TLS (een reverse \
                 proxy met een certificaat) voordat telefoons hem via het netwerk gebruiken."
            );
        }
        if address.ip().is_unspecified() {
            eprintln!(
                "Telefoons bereiken de relay op het netwerkadres van deze computer, poort {}.",
                address.port()
            );
        }
        status(format_args!("Stoppen: Ctrl-C."));
        eropaf_relay::serve_with_shutdown(listener, storage, stop_signal())
            .await
            .map_err(|e| format!("De relay is gestopt met een fout: {e}"))?;
        status(format_args!("Relay gestopt."));
        Ok(())
    })
}

/// A status line of the running relay. Not `outln!`: a script that read the address and
/// closed the pipe (`eropaf relay serve … | head -1`) must not stop the relay.
fn status(line: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

fn open_storage(db: &Path) -> Result<SqliteStorage, String> {
    SqliteStorage::open(db)
        .map_err(|e| format!("De relaydatabase {} kan niet worden geopend: {e}", db.display()))
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("De relay kan niet starten: {e}"))
}

async fn bind(listen: &str) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("De relay kan niet luisteren op {listen}: {e}"))
}

fn local_address(listener: &tokio::net::TcpListener) -> Result<SocketAddr, String> {
    listener.local_addr().map_err(|e| format!("Het adres van de relay is onbekend: {e}"))
}

/// Ctrl-C, or (on Unix) SIGTERM from a service manager: stop taking requests, finish those in
/// flight. If a signal cannot be listened for, the relay runs until the process is killed.
async fn stop_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    eprintln!("Relay stopt: lopende verzoeken worden afgemaakt…");
}
