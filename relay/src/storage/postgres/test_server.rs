//! Real PostgreSQL servers for the PostgreSQL backend's tests: finds the installed binaries,
//! runs `initdb` and `pg_ctl` in a throwaway directory (as an unprivileged user when the tests
//! run as root, which PostgreSQL refuses) and hands out empty databases. A watchdog shell
//! stops each server and deletes its directory when the test process ends, however it ends.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

/// The superuser `initdb` creates, whatever the OS user: connection URLs stay the same as root
/// and as a developer.
const SUPERUSER: &str = "eropaf";

const NOT_INSTALLED: &str = "PostgreSQL is not installed: install Debian's `postgresql` \
    package (scripts/setup.sh does) or set EROPAF_PG_BIN to the directory holding initdb and \
    postgres";

/// Seconds `pg_ctl -w` waits for a start or stop; generous, as a loaded CI machine is slow.
const PG_CTL_TIMEOUT: &str = "180";

/// Tests only ever talk TCP to 127.0.0.1, so Unix sockets are off: their directory would need
/// a short path the server user can write. `fsync=off` is safe here: a test kills the server
/// process, never the machine, and the page cache survives a killed process.
const SETTINGS: &str = "
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
max_connections = 200
shared_buffers = 32MB
";

/// Runs while the test process lives, on stdin it never writes to: when the process ends, even
/// by SIGKILL, the pipe closes, `read` returns and the server and its directory go with it.
/// Arguments: pg_ctl, data dir, log file, port, the directory to delete, the server user ("" to
/// run as ourselves), pg_ctl's timeout.
const WATCHDOG: &str = r#"
pg_ctl=$1 data=$2 log=$3 port=$4 root=$5 user=$6 timeout=$7
as_server() {
    if [ -n "$user" ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}
if as_server "$pg_ctl" start -D "$data" -l "$log" -w -t "$timeout" -o "-p $port" \
        >"$root/pg_ctl.out" 2>&1; then
    echo ready
else
    echo failed
    as_server "$pg_ctl" stop -D "$data" -m immediate >/dev/null 2>&1
    exit 1
fi
exec >/dev/null 2>&1
read -r _ignored
as_server "$pg_ctl" stop -D "$data" -m immediate
rm -rf "$root"
"#;

/// Ports handed to our servers, so that a server stopped for a while does not see its port
/// given to another one started meanwhile in this process.
static PORTS: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

static NEXT_DIR: AtomicU64 = AtomicU64::new(0);
static NEXT_DATABASE: AtomicU64 = AtomicU64::new(0);

/// A PostgreSQL server for tests: a fresh cluster with trust authentication, listening on
/// 127.0.0.1 at a free port, superuser `eropaf`. [`TestServer::shared`] is the process's one
/// server; [`TestServer::start`] gives a test a server of its own to stop, restart or drop.
pub struct TestServer {
    port: u16,
    /// The throwaway directory: `data/`, `server.log` and `pg_ctl.out`.
    root: PathBuf,
    data: PathBuf,
    log: PathBuf,
    tools: Tools,
    /// The unprivileged user the server runs as when we are root.
    run_as: Option<String>,
    /// Serialises stop and start, which would otherwise race on the data directory.
    control: Mutex<()>,
    watchdog: Mutex<Option<Watchdog>>,
}

struct Watchdog {
    child: Child,
    /// Never written: closing it is what tells the watchdog to clean up.
    stdin: ChildStdin,
}

impl TestServer {
    /// The one server of this test process, started on first use and stopped, with its
    /// directory deleted, when the process exits. Share it by taking a
    /// [`fresh_database`](Self::fresh_database) each; never stop or restart it.
    ///
    /// Panics if PostgreSQL is not installed, naming what to install: the PostgreSQL tests
    /// must fail then, never pass silently.
    pub fn shared() -> &'static TestServer {
        static SHARED: OnceLock<TestServer> = OnceLock::new();
        SHARED.get_or_init(TestServer::start)
    }

    /// Starts a new server of its own, for tests that stop, restart or kill it. Dropping it
    /// stops it and deletes its directory.
    ///
    /// Panics if PostgreSQL is not installed or the server fails to start; the message then
    /// ends with the tail of the server's log.
    pub fn start() -> TestServer {
        let pg_bin = std::env::var_os("EROPAF_PG_BIN").map(PathBuf::from);
        let tools = Tools::find(pg_bin.as_deref()).unwrap_or_else(|missing| panic!("{missing}"));
        let run_as = server_user();
        let root = make_root_dir();
        let mut server = TestServer {
            port: 0,
            data: root.join("data"),
            log: root.join("server.log"),
            root,
            tools,
            run_as: run_as.clone(),
            control: Mutex::new(()),
            watchdog: Mutex::new(None),
        };
        // From here on a panic drops `server`, which deletes the directory.
        if let Some(user) = &run_as {
            run(Command::new("chown").arg("-R").arg(user).arg(&server.root), "chown");
        }
        server.init_cluster();
        // A free port can be taken between our probe and the server's bind; try a few.
        for attempt in 1..=3 {
            server.port = reserve_port();
            match server.spawn_watchdog() {
                Ok(watchdog) => {
                    *lock(&server.watchdog) = Some(watchdog);
                    return server;
                }
                Err(why) => {
                    let log = server.log_tail();
                    if attempt < 3 && log.contains("already in use") {
                        release_port(server.port);
                        continue;
                    }
                    panic!("the test PostgreSQL server did not start: {why}\n{log}");
                }
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// A connection URL to a new, empty database on this server, e.g.
    /// `postgres://eropaf@127.0.0.1:PORT/eropaf_test_N`.
    pub fn fresh_database(&self) -> String {
        let name = format!("eropaf_test_{}", NEXT_DATABASE.fetch_add(1, Ordering::Relaxed));
        let port = self.port.to_string();
        let mut command = match &self.tools.creator {
            DatabaseCreator::Psql(psql) => {
                let mut command = Command::new(psql);
                command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres"]);
                command.arg("-c").arg(format!("CREATE DATABASE {name}"));
                command
            }
            DatabaseCreator::Createdb(createdb) => {
                let mut command = Command::new(createdb);
                command.arg(&name);
                command
            }
        };
        command.args(["-h", "127.0.0.1", "-p", &port, "-U", SUPERUSER]);
        let output = command.output().expect("the PostgreSQL client (psql or createdb) runs");
        if !output.status.success() {
            panic!(
                "creating test database {name} failed: {}\n{}",
                describe(&output),
                self.log_tail()
            );
        }
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{name}", self.port)
    }

    /// Stops the server (fast shutdown: sessions are cut, nothing committed is lost) and
    /// starts it again on the same port and data, as a database restarting under the relay
    /// would. Returns once it accepts connections again.
    pub fn restart(&self) {
        let _control = lock(&self.control);
        self.stop_locked();
        self.start_locked();
    }

    /// Stops the server with a fast shutdown. Does nothing if it is not running.
    pub fn stop(&self) {
        let _control = lock(&self.control);
        self.stop_locked();
    }

    /// Starts the server again after [`stop`](Self::stop), on the same port and data. Does
    /// nothing if it is running. Returns once it accepts connections.
    pub fn start_again(&self) {
        let _control = lock(&self.control);
        self.start_locked();
    }

    /// The server's TCP port on 127.0.0.1; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn init_cluster(&self) {
        let output = self
            .as_server(&self.tools.initdb)
            .arg("-D")
            .arg(&self.data)
            .arg(format!("--username={SUPERUSER}"))
            .args(["--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"])
            .output()
            .expect("initdb runs");
        if !output.status.success() {
            panic!("initdb failed in {}: {}", self.root.display(), describe(&output));
        }
        // Appending keeps the file's owner, the server user.
        OpenOptions::new()
            .append(true)
            .open(self.data.join("postgresql.conf"))
            .and_then(|mut conf| conf.write_all(SETTINGS.as_bytes()))
            .expect("the new cluster's postgresql.conf is writable");
    }

    fn spawn_watchdog(&self) -> Result<Watchdog, String> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("eropaf-pg-watchdog")
            .arg(&self.tools.pg_ctl)
            .arg(&self.data)
            .arg(&self.log)
            .arg(self.port.to_string())
            .arg(&self.root)
            .arg(self.run_as.as_deref().unwrap_or(""))
            .arg(PG_CTL_TIMEOUT)
            .current_dir(&self.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // Ctrl-C in the terminal signals the foreground group; the watchdog must outlive
            // the tests to clean up after them.
            .process_group(0)
            .spawn()
            .expect("sh runs");
        let stdin = child.stdin.take().expect("stdin was piped");
        let stdout = child.stdout.take().expect("stdout was piped");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("the watchdog's stdout is readable");
        if line.trim() == "ready" {
            return Ok(Watchdog { child, stdin });
        }
        drop(stdin);
        // It has already exited or is about to; reap it.
        let _ = child.wait();
        let pg_ctl = fs::read_to_string(self.root.join("pg_ctl.out")).unwrap_or_default();
        Err(format!("pg_ctl start on port {} failed:\n{}", self.port, pg_ctl.trim_end()))
    }

    fn start_locked(&self) {
        if self.is_running() {
            return;
        }
        let output = self.pg_ctl(&[
            "start".as_ref(),
            "-D".as_ref(),
            self.data.as_os_str(),
            "-l".as_ref(),
            self.log.as_os_str(),
            "-w".as_ref(),
            "-t".as_ref(),
            PG_CTL_TIMEOUT.as_ref(),
            "-o".as_ref(),
            format!("-p {}", self.port).as_ref(),
        ]);
        if !output.status.success() {
            panic!(
                "the test PostgreSQL server on port {} did not start again: {}\n{}",
                self.port,
                describe(&output),
                self.log_tail()
            );
        }
    }

    fn stop_locked(&self) {
        if !self.is_running() {
            return;
        }
        let output = self.pg_ctl(&[
            "stop".as_ref(),
            "-D".as_ref(),
            self.data.as_os_str(),
            "-m".as_ref(),
            "fast".as_ref(),
            "-w".as_ref(),
            "-t".as_ref(),
            PG_CTL_TIMEOUT.as_ref(),
        ]);
        if !output.status.success() {
            panic!(
                "the test PostgreSQL server on port {} did not stop: {}\n{}",
                self.port,
                describe(&output),
                self.log_tail()
            );
        }
    }

    /// `pg_ctl status` exits 3 when no server runs on the data directory.
    fn is_running(&self) -> bool {
        self.pg_ctl(&["status".as_ref(), "-D".as_ref(), self.data.as_os_str()]).status.success()
    }

    fn pg_ctl(&self, args: &[&OsStr]) -> Output {
        self.as_server(&self.tools.pg_ctl).args(args).output().expect("pg_ctl runs")
    }

    /// A command running `program` as the server user.
    fn as_server(&self, program: &Path) -> Command {
        let mut command = match &self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        };
        // The server user may not be able to enter our working directory.
        command.current_dir(&self.root);
        command
    }

    fn log_tail(&self) -> String {
        let log = fs::read(&self.log).map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        match log {
            Ok(log) => {
                let lines: Vec<&str> = log.lines().collect();
                let tail = lines[lines.len().saturating_sub(30)..].join("\n");
                format!("--- last lines of {} ---\n{tail}", self.log.display())
            }
            Err(error) => format!("(no server log at {}: {error})", self.log.display()),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let watchdog = self.watchdog.get_mut().unwrap_or_else(PoisonError::into_inner).take();
        match watchdog {
            Some(Watchdog { mut child, stdin }) => {
                drop(stdin);
                let _ = child.wait();
            }
            // Start failed half-way: no watchdog, but maybe a server and surely a directory.
            None => {
                let _ = self.pg_ctl(&[
                    "stop".as_ref(),
                    "-D".as_ref(),
                    self.data.as_os_str(),
                    "-m".as_ref(),
                    "immediate".as_ref(),
                ]);
            }
        }
        // The watchdog removes it; this covers a watchdog that could not.
        let _ = fs::remove_dir_all(&self.root);
        release_port(self.port);
    }
}

/// The PostgreSQL programs the tests run.
struct Tools {
    initdb: PathBuf,
    pg_ctl: PathBuf,
    creator: DatabaseCreator,
}

/// What creates databases: both ship in postgresql-client, which the server package needs.
enum DatabaseCreator {
    Psql(PathBuf),
    Createdb(PathBuf),
}

impl Tools {
    /// Looks in `pg_bin` (EROPAF_PG_BIN) alone when it is given, so that a wrong setting is
    /// reported rather than papered over; else in the newest /usr/lib/postgresql/N/bin (Debian
    /// keeps the server binaries off PATH); else where `initdb` on PATH really lives.
    fn find(pg_bin: Option<&Path>) -> Result<Tools, String> {
        let (bin, source) = match pg_bin {
            Some(dir) => (dir.to_path_buf(), format!("EROPAF_PG_BIN={}", dir.display())),
            None => match newest_debian_bin().or_else(initdb_on_path) {
                Some(dir) => {
                    let source = dir.display().to_string();
                    (dir, source)
                }
                None => return Err(format!("{NOT_INSTALLED} (no initdb found)")),
            },
        };
        let missing: Vec<&str> = ["initdb", "pg_ctl", "postgres"]
            .into_iter()
            .filter(|name| !bin.join(name).is_file())
            .collect();
        if !missing.is_empty() {
            return Err(format!("{NOT_INSTALLED} ({source} has no {})", missing.join(", ")));
        }
        let creator = if let Some(psql) = sibling_or_on_path(&bin, "psql") {
            DatabaseCreator::Psql(psql)
        } else if let Some(createdb) = sibling_or_on_path(&bin, "createdb") {
            DatabaseCreator::Createdb(createdb)
        } else {
            return Err(format!("{NOT_INSTALLED} (neither psql nor createdb found)"));
        };
        Ok(Tools { initdb: bin.join("initdb"), pg_ctl: bin.join("pg_ctl"), creator })
    }
}

fn newest_debian_bin() -> Option<PathBuf> {
    fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin)
}

/// The directory of the real `initdb`: a symlink on PATH (/usr/local/bin/initdb) would not
/// have pg_ctl and postgres beside it.
fn initdb_on_path() -> Option<PathBuf> {
    let initdb = on_path("initdb")?;
    let real = fs::canonicalize(&initdb).unwrap_or(initdb);
    real.parent().map(Path::to_path_buf)
}

fn sibling_or_on_path(bin: &Path, name: &str) -> Option<PathBuf> {
    let sibling = bin.join(name);
    if sibling.is_file() {
        Some(sibling)
    } else {
        on_path(name)
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|file| file.is_file())
}

/// `None` unless we are root: then `postgres` (Debian's package creates it) or `nobody`.
fn server_user() -> Option<String> {
    static USER: OnceLock<Option<String>> = OnceLock::new();
    USER.get_or_init(|| {
        let uid = Command::new("id").arg("-u").output().expect("id runs");
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return None;
        }
        let exists = |user: &str| {
            Command::new("id")
                .args(["-u", user])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        };
        let user = ["postgres", "nobody"].into_iter().find(|user| exists(user));
        Some(user.expect("running as root needs a `postgres` or `nobody` user").to_owned())
    })
    .clone()
}

fn make_root_dir() -> PathBuf {
    let pid = std::process::id();
    loop {
        let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("eropaf-pg-{pid}-{n}"));
        match fs::create_dir(&root) {
            Ok(()) => return root,
            // Left by an earlier process with our pid: its watchdog may still be busy with it.
            Err(error) if error.kind() == ErrorKind::AlreadyExists => continue,
            Err(error) => panic!("cannot create {}: {error}", root.display()),
        }
    }
}

fn reserve_port() -> u16 {
    let mut ports = lock(&PORTS);
    let ports = ports.get_or_insert_with(HashSet::new);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("binding 127.0.0.1:0 finds a free port")
            .port();
        if ports.insert(port) {
            return port;
        }
    }
}

fn release_port(port: u16) {
    if let Some(ports) = lock(&PORTS).as_mut() {
        ports.remove(&port);
    }
}

/// A test that panicked while holding a lock leaves nothing half-done that others could trip on.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|error| panic!("{what} did not run: {error}"));
    if !output.status.success() {
        panic!("{what} failed: {}", describe(&output));
    }
}

fn describe(output: &Output) -> String {
    format!(
        "{}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[cfg(test)]
mod tests {
    use std::net::TcpStream;

    use super::*;

    fn accepts(port: u16) -> bool {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    }

    #[test]
    fn a_server_hands_out_distinct_databases_and_comes_back_after_a_restart() {
        let server = TestServer::start();
        let first = server.fresh_database();
        let second = server.fresh_database();
        assert_ne!(first, second);
        let prefix = format!("postgres://eropaf@127.0.0.1:{}/eropaf_test_", server.port());
        assert!(first.starts_with(&prefix), "{first}");
        assert!(accepts(server.port()));

        server.restart();
        assert!(accepts(server.port()));
        // Creating a database needs a working server, not just a listening socket.
        server.fresh_database();
    }

    #[test]
    fn stop_is_idempotent_and_start_again_keeps_the_port() {
        let server = TestServer::start();
        let port = server.port();
        server.stop();
        server.stop();
        assert!(!accepts(port));
        server.start_again();
        server.start_again();
        assert_eq!(server.port(), port);
        assert!(accepts(port));
        server.fresh_database();
    }

    #[test]
    fn dropping_a_server_stops_it_and_deletes_its_directory() {
        let server = TestServer::start();
        let port = server.port();
        let root = server.root.clone();
        assert!(root.exists());
        drop(server);
        assert!(!root.exists());
        assert!(!accepts(port));
    }

    #[test]
    fn the_shared_server_is_started_once() {
        let server = TestServer::shared();
        assert!(std::ptr::eq(server, TestServer::shared()));
        assert!(accepts(server.port()));
        server.fresh_database();
    }

    #[test]
    fn a_pg_bin_without_postgres_is_reported_with_what_to_install() {
        let empty = make_root_dir();
        let error = Tools::find(Some(&empty)).err();
        fs::remove_dir_all(&empty).expect("the empty directory can be removed");
        let error = error.expect("an empty EROPAF_PG_BIN finds nothing");
        assert!(error.starts_with(NOT_INSTALLED), "{error}");
        assert!(error.contains("has no initdb, pg_ctl, postgres"), "{error}");
    }
}
