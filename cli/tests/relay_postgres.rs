//! The relay on PostgreSQL as an office runs it: `eropaf relay serve --postgres` processes on
//! one database behind a load balancer, with real devices syncing through it. One process is
//! killed with SIGKILL in the middle of the load, and the database restarts during a push:
//! nothing recorded is lost and nothing is duplicated.

#![allow(clippy::unwrap_used)] // a failed step in a test should stop it right there

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eropaf_core::model::{NewVisit, Resident};
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::Eropaf;
use eropaf_relay::storage::postgres::test_server::TestServer;
use eropaf_tests::{fast_tempdir, Team};

fn eropaf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_eropaf"))
}

/// `eropaf relay serve --postgres URL` on a free loopback port.
struct RelayProcess {
    child: Child,
    address: String,
}

impl RelayProcess {
    fn start(database: &str) -> RelayProcess {
        let mut child = eropaf()
            .args(["relay", "serve", "--listen", "127.0.0.1:0"])
            .env("EROPAF_RELAY_POSTGRES", database)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("the relay printed its address").unwrap();
        let address = first.rsplit("http://").next().unwrap().trim().to_string();
        // Keep reading its status lines so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        RelayProcess { child, address }
    }

    fn kill(&mut self) {
        // SIGKILL: no shutdown, no finishing the requests in flight.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP load balancer: each connection goes to the next relay in turn, skipping one that
/// refuses connections, as any balancer with health checks would.
struct Balancer {
    url: String,
    /// Connections handed to each backend so far.
    served: Arc<Vec<AtomicUsize>>,
}

impl Balancer {
    fn start(backends: Vec<String>) -> Balancer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let served: Arc<Vec<AtomicUsize>> =
            Arc::new(backends.iter().map(|_| AtomicUsize::new(0)).collect());
        let counts = Arc::clone(&served);
        std::thread::spawn(move || {
            for (turn, client) in listener.incoming().enumerate() {
                let Ok(client) = client else { continue };
                let backend =
                    (0..backends.len()).map(|i| (turn + i) % backends.len()).find_map(|index| {
                        TcpStream::connect(&backends[index]).ok().map(|stream| (index, stream))
                    });
                match backend {
                    Some((index, backend)) => {
                        counts[index].fetch_add(1, Ordering::SeqCst);
                        pipe(client, backend);
                    }
                    None => drop(client),
                }
            }
        });
        Balancer { url, served }
    }

    fn served(&self) -> Vec<usize> {
        self.served.iter().map(|n| n.load(Ordering::SeqCst)).collect()
    }
}

fn pipe(client: TcpStream, backend: TcpStream) {
    let copy = |mut from: TcpStream, mut to: TcpStream| {
        std::thread::spawn(move || {
            let mut buffer = [0u8; 16 * 1024];
            loop {
                match from.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if to.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
        });
    };
    copy(client.try_clone().unwrap(), backend.try_clone().unwrap());
    copy(backend, client);
}

fn registration_code(database: &str) -> String {
    let out = eropaf().args(["relay", "code", "--postgres", database]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn visit(note: &str) -> NewVisit {
    NewVisit { note: note.into(), ..NewVisit::default() }
}

/// Syncs until a sync succeeds: while a relay or the database is down a sync fails, and the
/// device simply tries again later, as the app does.
fn sync_until_done(device: &mut Eropaf, transport: &HttpTransport) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match device.sync(transport, &mut |_| {}) {
            Ok(_) => return,
            Err(error) => {
                assert!(Instant::now() < deadline, "sync never recovered: {error}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Every device holds every case with exactly the visits recorded in it, each once.
fn assert_everyone_has(team: &mut Team, recorded: &[(String, Vec<String>)]) {
    for device in team.devices_mut() {
        for (case_id, notes) in recorded {
            let case = device.case(case_id).unwrap();
            let mut held: Vec<String> = case.visits.iter().map(|v| v.note.clone()).collect();
            held.sort();
            let mut expected = notes.clone();
            expected.sort();
            assert_eq!(held, expected, "device {} case {case_id}", device.device_name());
        }
    }
}

#[test]
fn relay_migrate_reports_the_schema_and_serve_wants_a_database() {
    let database = TestServer::shared().fresh_database();
    let out = eropaf().args(["relay", "migrate", "--postgres", &database]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(shown.contains("schemaversie 3"), "{shown}");
    assert!(!shown.contains("eropaf@"), "no user or password in the output: {shown}");

    let refused = eropaf().args(["relay", "serve"]).env_remove("EROPAF_RELAY_POSTGRES").output();
    assert!(!refused.unwrap().status.success(), "serve without --db or --postgres");
    let unreachable = eropaf()
        .args(["relay", "code", "--postgres", "postgres://eropaf:geheim@127.0.0.1:1/eropaf"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&unreachable.stderr);
    assert!(!unreachable.status.success());
    assert!(said.contains("127.0.0.1:1/eropaf") && !said.contains("geheim"), "{said}");
}

/// Two relay processes on one database behind a balancer; devices push and pull through
/// either, and one process is killed with SIGKILL in the middle. The devices carry on through
/// the other; afterwards every device holds every visit exactly once.
#[test]
fn two_relay_processes_serve_one_team_and_losing_one_loses_nothing() {
    const ROUNDS: usize = 6;
    let database = TestServer::shared().fresh_database();
    let mut first = RelayProcess::start(&database);
    let second = RelayProcess::start(&database);
    let balancer = Balancer::start(vec![first.address.clone(), second.address.clone()]);
    let transport = HttpTransport::new(&balancer.url).unwrap();
    let mut team =
        Team::enrol(&transport, &balancer.url, &registration_code(&database), 3, fast_tempdir);

    let mut cases = Vec::new();
    for device in team.devices_mut() {
        let name = format!("Bewoner van {}", device.device_name());
        cases.push(device.new_case(&Resident::named(&name), None).unwrap());
    }
    let rounds_done = AtomicUsize::new(0);
    let before_kill = Mutex::new(Vec::new());
    let recorded: Mutex<Vec<(String, Vec<String>)>> =
        Mutex::new(cases.iter().map(|c| (c.clone(), Vec::new())).collect());
    std::thread::scope(|scope| {
        for (n, device) in team.devices_mut().into_iter().enumerate() {
            let (case_id, url) = (cases[n].clone(), balancer.url.clone());
            let (rounds_done, recorded) = (&rounds_done, &recorded);
            scope.spawn(move || {
                // Each device its own connections, as separate phones have.
                let transport = HttpTransport::new(&url).unwrap();
                for round in 0..ROUNDS {
                    let note = format!("Bezoek {round} door {}", device.device_name());
                    device.record_visit(&case_id, &visit(&note)).unwrap();
                    recorded.lock().unwrap()[n].1.push(note);
                    sync_until_done(device, &transport);
                    rounds_done.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        // Mid-load: a third of the rounds are done.
        let devices = 4;
        while rounds_done.load(Ordering::SeqCst) < devices * ROUNDS / 3 {
            std::thread::sleep(Duration::from_millis(5));
        }
        first.kill();
        *before_kill.lock().unwrap() = balancer.served();
    });
    let before_kill = before_kill.into_inner().unwrap();
    assert!(
        before_kill.iter().all(|&n| n > 0),
        "both relays served before the kill: {before_kill:?}"
    );
    assert!(rounds_done.load(Ordering::SeqCst) == 4 * ROUNDS, "every device finished its rounds");
    // Everyone takes in what the others pushed last.
    for _ in 0..2 {
        for device in team.devices_mut() {
            sync_until_done(device, &transport);
        }
    }
    let recorded = recorded.into_inner().unwrap();
    assert_everyone_has(&mut team, &recorded);
    let after = balancer.served();
    assert_eq!(after[0], before_kill[0], "nothing reached the killed relay");
    assert!(after[1] > before_kill[1], "the devices carried on through the other");
}

/// The database goes away and restarts while a device pushes: the pushes fail meanwhile, the
/// device's outbox keeps every visit, and a later sync completes.
#[test]
fn a_database_restart_during_pushes_loses_nothing() {
    let server = TestServer::start();
    let database = server.fresh_database();
    let relay = RelayProcess::start(&database);
    let url = format!("http://{}", relay.address);
    let transport = HttpTransport::new(&url).unwrap();
    let mut team = Team::enrol(&transport, &url, &registration_code(&database), 1, fast_tempdir);
    let case = team.workers[0].new_case(&Resident::named("Willem Bakker"), None).unwrap();
    let mut notes = vec!["Bezoek terwijl de database weg is".to_string()];

    // Down: the visit stays in the outbox and the sync says it failed; the health check
    // tells a load balancer to send devices elsewhere.
    let health = |url: &str| reqwest::blocking::get(format!("{url}/v1/health")).unwrap().status();
    assert_eq!(health(&url), 200);
    server.stop();
    team.workers[0].record_visit(&case, &visit(&notes[0])).unwrap();
    assert!(team.workers[0].sync(&transport, &mut |_| {}).is_err(), "no database, no sync");
    assert_eq!(health(&url), 503);
    server.start_again();
    assert_eq!(health(&url), 200, "the relay reconnects by itself");

    // Restarted in the middle of a stream of pushes.
    let failures = std::thread::scope(|scope| {
        let restarting = scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(150));
            server.restart();
        });
        let mut failures = 0;
        for round in 0..20 {
            let note = format!("Bezoek {round}");
            team.workers[0].record_visit(&case, &visit(&note)).unwrap();
            notes.push(note);
            if team.workers[0].sync(&transport, &mut |_| {}).is_err() {
                failures += 1;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        restarting.join().unwrap();
        failures
    });
    sync_until_done(&mut team.workers[0], &transport);
    sync_until_done(&mut team.supervisor, &transport);
    assert_everyone_has(&mut team, &[(case, notes)]);
    eprintln!("syncs that failed while the database restarted: {failures}");
}
