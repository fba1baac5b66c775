//! The relay as a process of its own, for tests that kill it: `relay-server --db FILE
//! [--listen ADDR]` serves `eropaf_relay` on SQLite and prints `http://ADDRESS` as the first
//! line on stdout once it accepts connections. Runs until killed.

use std::io::Write;
use std::sync::Arc;

fn main() {
    let mut db = None;
    let mut listen = "127.0.0.1:0".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--db", Some(value)) => db = Some(value),
            ("--listen", Some(value)) => listen = value,
            _ => {
                eprintln!("usage: relay-server --db FILE [--listen ADDR]");
                std::process::exit(2);
            }
        }
    }
    let Some(db) = db else {
        eprintln!("usage: relay-server --db FILE [--listen ADDR]");
        std::process::exit(2);
    };
    let storage = eropaf_relay::SqliteStorage::open(std::path::Path::new(&db))
        .unwrap_or_else(|e| panic!("the relay database {db} does not open: {e}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen).await.expect("bind");
        let address = listener.local_addr().expect("address");
        let mut stdout = std::io::stdout();
        writeln!(stdout, "http://{address}").expect("stdout");
        stdout.flush().expect("stdout");
        eropaf_relay::serve(listener, Arc::new(storage)).await.expect("the relay runs");
    });
}
