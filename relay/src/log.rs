//! The relay's log: one JSON object per line on stderr, for an operator's log collector.
//! Events carry route templates, statuses, timings and error kinds; never a request body,
//! and no ids beyond what the error itself names (the relay holds no personal data to leak,
//! and its metadata stays out of logs too).

use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// A request slower than this is logged even when it succeeded.
const SLOW_REQUEST: Duration = Duration::from_secs(1);

/// Writes one event line: `{"ts": unix ms, "event": name, field: value, …}`.
pub fn event(name: &str, fields: &[(&str, &str)]) {
    let line = line(name, fields);
    let mut stderr = std::io::stderr().lock();
    // A closed stderr must not take the relay down with it.
    let _ = writeln!(stderr, "{line}");
}

fn line(name: &str, fields: &[(&str, &str)]) -> String {
    let mut line = serde_json::Map::new();
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    line.insert("ts".into(), serde_json::json!(u64::try_from(ts).unwrap_or(u64::MAX)));
    line.insert("event".into(), serde_json::json!(name));
    for (key, value) in fields {
        line.insert((*key).into(), serde_json::json!(value));
    }
    serde_json::Value::Object(line).to_string()
}

/// Logs requests that failed on the relay's side (5xx) or were slow, by route template: a
/// busy relay's log shows its trouble, not its traffic.
pub async fn requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(geen route)".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status();
    if status.is_server_error() || elapsed > SLOW_REQUEST {
        event(
            "request",
            &[
                ("method", &method),
                ("route", &route),
                ("status", status.as_str()),
                ("ms", &elapsed.as_millis().to_string()),
            ],
        );
    }
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_event_stays_one_json_line_whatever_its_fields_hold() {
        let line = super::line("storage_error", &[("detail", "regel 1\nregel 2 \"quote\"")]);
        assert!(!line.contains('\n'), "{line}");
        let value: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(value["event"], "storage_error");
        assert_eq!(value["detail"], "regel 1\nregel 2 \"quote\"");
        assert!(value["ts"].as_u64().is_some_and(|ts| ts > 1_700_000_000_000));
    }
}
