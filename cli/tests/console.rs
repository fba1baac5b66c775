//! Attacks on the supervisor's console over real HTTP on loopback, as the threat model has
//! them (DESIGN.md §3): a web page open in the supervisor's browser, or another user on the
//! same computer, with only what they really have — the console's port, but not the link
//! with its token that `eropaf demo` / `eropaf console` printed in the supervisor's terminal.
//! Each test runs its own `eropaf demo --listen 127.0.0.1:0` on its own stores.
// Tests: an unwrap that fails is a failing test, with the panic message as the report.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{HeaderMap, CONTENT_TYPE, COOKIE, HOST, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::StatusCode;

/// Names of the demo's residents: none may appear on a page the attacker gets.
const RESIDENTS: [&str; 6] = ["Samir", "Haddad", "Aïsha", "Amrani", "Willem", "Bakker"];

/// The demo with its console, killed when dropped.
struct Console {
    child: Child,
    /// The link exactly as the console printed it for the supervisor.
    printed: String,
    /// `http://127.0.0.1:PORT`: what anyone on this computer can find by scanning ports.
    base: String,
    client: Client,
    _stdout: BufReader<ChildStdout>,
    dir: tempfile::TempDir,
}

impl Console {
    fn start() -> Console {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_eropaf"))
            .args(["demo", "--listen", "127.0.0.1:0", "--dir"])
            .arg(dir.path().join("demo"))
            .env_remove("EROPAF_HOME")
            .env_remove("EROPAF_PASSPHRASE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut seen = String::new();
        let printed = loop {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let _ = child.kill();
                panic!("the demo ended without starting its console:\n{seen}");
            }
            seen.push_str(&line);
            if let Some(rest) = line.split("Console voor leidinggevenden: ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        let after_scheme = printed.strip_prefix("http://").unwrap();
        let authority = after_scheme.split('/').next().unwrap();
        assert!(authority.starts_with("127.0.0.1:") && !authority.ends_with(":0"), "{printed}");
        let base = format!("http://{authority}");
        // reqwest is built with rustls but no provider (see core/src/sync/http.rs); plain
        // HTTP needs none, but building a client does. Installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Redirects are looked at, not followed: where they lead and what they set matters.
        let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Console { child, printed, base, client, _stdout: stdout, dir }
    }

    /// The supervisor's store the console runs on (the demo's Marieke).
    fn supervisor_db(&self) -> std::path::PathBuf {
        self.dir.path().join("demo").join("supervisor").join(eropaf_core::DB_FILE)
    }

    fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(format!("{}{path}", self.base))
    }

    fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(format!("{}{path}", self.base))
    }

    /// Opens the printed link as the supervisor's browser does. Returns the session cookie
    /// (`name=value`) it sets, if any.
    fn open_printed_link(&self) -> Option<String> {
        let response = self.client.get(&self.printed).send().unwrap();
        cookie_of(response.headers())
    }

    /// The supervisor's browser after opening the printed link: `GET path` with the cookie.
    fn supervisor_get(&self, session: &Option<String>, path: &str) -> Response {
        with_cookie(self.get(path), session).send().unwrap()
    }

    /// The escalated assessment of Samir Haddad in the review queue, as the supervisor sees
    /// it: (case id, assessment id), or None when it is no longer in the queue.
    fn samir_in_queue(&self, session: &Option<String>) -> Option<(String, String)> {
        let page = self.supervisor_get(session, "/").text().unwrap();
        let row = page.split("<tr data-assessment=\"").find(|row| row.contains("Samir Haddad"))?;
        let assessment = row.split('"').next()?.to_string();
        let case = row.split("href=\"/casus/").nth(1)?.split('"').next()?.to_string();
        Some((case, assessment))
    }

    /// The team policy's review threshold as the framework page shows it.
    fn review_threshold(&self, session: &Option<String>) -> String {
        let page = self.supervisor_get(session, "/waardenkader").text().unwrap();
        page.split("name=\"drempel\" value=\"").nth(1).unwrap().split('"').next().unwrap().into()
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn with_cookie(request: RequestBuilder, session: &Option<String>) -> RequestBuilder {
    match session {
        Some(cookie) => request.header(COOKIE, cookie),
        None => request,
    }
}

/// `application/x-www-form-urlencoded`, as a browser sends a form.
trait FormBody {
    fn body_form(self, fields: &[(&str, &str)]) -> RequestBuilder;
}

impl FormBody for RequestBuilder {
    fn body_form(self, fields: &[(&str, &str)]) -> RequestBuilder {
        let encode = |text: &str| -> String {
            text.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        let body = fields
            .iter()
            .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        self.header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(body)
    }
}

fn cookie_of(headers: &HeaderMap) -> Option<String> {
    let set = headers.get(SET_COOKIE)?.to_str().ok()?;
    Some(set.split(';').next()?.trim().to_string())
}

/// The hidden form token in a page, if it has one.
fn form_token(page: &str) -> Option<String> {
    let field = page.split("name=\"csrf\" value=\"").nth(1)?;
    Some(field.split('"').next()?.to_string())
}

/// The start of a page, for a failure message.
fn start_of(body: &str) -> String {
    body.chars().take(600).collect()
}

#[track_caller]
fn assert_shows_nothing_of_a_case(what: &str, response: Response) {
    let status = response.status();
    let json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.to_str().unwrap_or("").contains("json"));
    let body = response.text().unwrap();
    assert!(
        status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
        "{what}: answered {status} instead of refusing:\n{}",
        start_of(&body)
    );
    assert!(!json, "{what}: answered with JSON");
    for name in RESIDENTS {
        assert!(!body.contains(name), "{what}: the refusal names {name}:\n{}", start_of(&body));
    }
    for marker in ["<svg", "<table", "data-assessment", "/casus/", "csrf"] {
        assert!(!body.contains(marker), "{what}: the refusal holds {marker}:\n{}", start_of(&body));
    }
}

#[test]
fn a_page_opened_without_the_printed_link_shows_no_case_data() {
    let console = Console::start();
    let session = console.open_printed_link();
    let (case, assessment) = console.samir_in_queue(&session).unwrap();
    let paths = [
        "/".to_string(),
        "/casussen".into(),
        "/rapportage".into(),
        "/waardenkader".into(),
        format!("/casus/{case}"),
        format!("/casus/{case}/afweging/{assessment}"),
        format!("/casus/{case}/inzage"),
        format!("/casus/{case}/afdrukken"),
        "/stijl.css".into(),
    ];
    for path in &paths {
        assert_shows_nothing_of_a_case(path, console.get(path).send().unwrap());
    }
    // The same with the headers a page elsewhere makes the browser send.
    let from_elsewhere = console
        .get(&format!("/casus/{case}"))
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "no-cors")
        .header("referer", "https://kwaadwillig.example/")
        .send()
        .unwrap();
    assert_shows_nothing_of_a_case("a cross-site request", from_elsewhere);
    // A page on another port of this computer is same-site: the browser sends the session
    // cookie along to an <img> or <iframe> there, and says where the request comes from.
    let from_another_port = with_cookie(console.get(&format!("/casus/{case}")), &session)
        .header("sec-fetch-site", "same-site")
        .header("sec-fetch-dest", "iframe")
        .send()
        .unwrap();
    assert_shows_nothing_of_a_case("a page on another port", from_another_port);
}

#[test]
fn a_wrong_or_guessed_token_opens_nothing() {
    let console = Console::start();
    let (_, printed_token) = console.printed.split_once("?token=").unwrap_or(("", ""));
    // The same length as the real token, one character different.
    let mut wrong = printed_token.to_string();
    let last = if wrong.ends_with('0') { "1" } else { "0" };
    wrong.pop();
    wrong.push_str(last);
    for query in [
        format!("/?token={wrong}"),
        "/?token=".into(),
        "/?token=0".into(),
        format!("/?token={}", &printed_token[..printed_token.len() / 2]),
    ] {
        let response = console.get(&query).send().unwrap();
        assert!(cookie_of(response.headers()).is_none(), "{query} set a cookie");
        assert_shows_nothing_of_a_case(&query, response);
    }
    // A made-up session cookie, and the token itself presented as a cookie.
    let port = console.base.rsplit(':').next().unwrap();
    for cookie in [
        format!("eropaf_console_{port}=0123456789abcdef0123456789abcdef"),
        format!("eropaf_console_{port}={printed_token}"),
        format!("eropaf_console_{port}="),
    ] {
        let response = console.get("/casussen").header(COOKIE, &cookie).send().unwrap();
        assert_shows_nothing_of_a_case(&cookie, response);
    }
}

#[test]
fn the_printed_link_opens_the_console_and_leaves_no_token_in_the_address_bar() {
    let console = Console::start();
    assert!(
        console.printed.starts_with(&format!("{}/?token=", console.base)),
        "the console printed {} without a token",
        console.printed
    );
    let token = console.printed.split("?token=").nth(1).unwrap();
    assert!(
        token.len() >= 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "a token of at least 128 bits: {token}"
    );

    let response = console.client.get(&console.printed).send().unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers().get(LOCATION).unwrap(), "/");
    let set_cookie = response.headers().get(SET_COOKIE).unwrap().to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(attribute), "the cookie lacks {attribute}: {set_cookie}");
    }
    assert!(!set_cookie.contains(token), "the cookie is the token itself: {set_cookie}");
    let session = cookie_of(response.headers());

    let queue = console.supervisor_get(&session, "/");
    assert_eq!(queue.status(), StatusCode::OK);
    assert!(queue.text().unwrap().contains("Samir Haddad"));
    // A second browser (or a reload of the link) gets its own session.
    let second = console.open_printed_link();
    assert!(second.is_some() && second != session);
    assert!(console.samir_in_queue(&second).is_some());
    // The case page says who may read the case: Sanne made it, nobody was assigned yet.
    let (case, _) = console.samir_in_queue(&session).unwrap();
    let page = console.supervisor_get(&session, &format!("/casus/{case}")).text().unwrap();
    assert!(page.contains("Toegewezen: nog niemand; de casus is van Sanne"), "{page}");
    assert!(page.contains("leesbaar voor Marieke, Sanne"), "{page}");
}

#[test]
fn a_forged_form_approves_nothing_and_changes_no_policy() {
    let console = Console::start();
    let session = console.open_printed_link();
    let (case, assessment) = console.samir_in_queue(&session).unwrap();
    let threshold = console.review_threshold(&session);
    let review = format!("/casus/{case}/afweging/{assessment}");
    let approve = [("actie", "approve"), ("notitie", "goedgekeurd door een andere website")];

    // A page on another port of this computer is "same-site": the browser sends the
    // SameSite=Strict cookie along and no Origin may be set. Only the form token stops it.
    let attempts = [
        (
            "without the form token",
            with_cookie(console.post(&review), &session).body_form(&approve),
        ),
        (
            "with a made-up form token",
            with_cookie(console.post(&review), &session).body_form(&[
                approve[0],
                approve[1],
                ("csrf", "0123456789abcdef0123456789abcdef"),
            ]),
        ),
        (
            "with an empty form token",
            with_cookie(console.post(&review), &session).body_form(&[
                approve[0],
                approve[1],
                ("csrf", ""),
            ]),
        ),
        (
            "from another website without the cookie",
            console.post(&review).header(ORIGIN, "https://kwaadwillig.example").body_form(&approve),
        ),
        ("without cookie and origin", console.post(&review).body_form(&approve)),
        (
            "from a sandboxed frame elsewhere (Origin: null)",
            with_cookie(console.post(&review), &session)
                .header(ORIGIN, "null")
                .header("sec-fetch-site", "cross-site")
                .body_form(&approve),
        ),
        (
            "a policy change without the form token",
            with_cookie(console.post("/beleid"), &session).body_form(&[("drempel", "0")]),
        ),
        ("a sync without the form token", with_cookie(console.post("/sync"), &session)),
    ];
    for (what, request) in attempts {
        let response = request.send().unwrap();
        let status = response.status();
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED,
            "a forged form {what} was answered {status}:\n{}",
            start_of(&response.text().unwrap())
        );
    }
    assert_eq!(
        console.samir_in_queue(&session),
        Some((case, assessment)),
        "a forged form took the escalated assessment out of the queue"
    );
    assert_eq!(console.review_threshold(&session), threshold, "a forged form changed the policy");
}

#[test]
fn an_approval_with_the_form_from_the_console_goes_through() {
    let console = Console::start();
    let session = console.open_printed_link();
    let (case, assessment) = console.samir_in_queue(&session).unwrap();
    let page = console.supervisor_get(&session, &format!("/casus/{case}")).text().unwrap();
    let token = form_token(&page).expect("the case page's forms carry a form token");
    let response =
        with_cookie(console.post(&format!("/casus/{case}/afweging/{assessment}")), &session)
            // As Chromium sends the console's own form under `Referrer-Policy: no-referrer`.
            .header(ORIGIN, "null")
            .header("sec-fetch-site", "same-origin")
            .body_form(&[("actie", "approve"), ("notitie", "akkoord"), ("csrf", token.as_str())])
            .send()
            .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", start_of(&response.text().unwrap()));
    assert_eq!(console.samir_in_queue(&session), None, "the approval did not leave the queue");
    // The form token belongs to this browser's session: another session's token is refused.
    let other = console.open_printed_link();
    let policy = console.supervisor_get(&other, "/waardenkader").text().unwrap();
    let other_token = form_token(&policy).unwrap();
    assert_ne!(other_token, token);
    let crossed = with_cookie(console.post("/beleid"), &session)
        .body_form(&[("drempel", "0"), ("csrf", other_token.as_str())])
        .send()
        .unwrap();
    assert_eq!(crossed.status(), StatusCode::FORBIDDEN);
}

#[test]
fn a_supervisor_assigns_and_ends_an_assignment_from_the_case_page() {
    let console = Console::start();
    let session = console.open_printed_link();
    let (case, _) = console.samir_in_queue(&session).unwrap();
    let path = format!("/casus/{case}");
    let page = console.supervisor_get(&session, &path).text().unwrap();
    assert!(page.contains("action=\"/casus/") && page.contains("Toewijzen"), "{}", start_of(&page));
    let token = form_token(&page).unwrap();
    let post = |action: &str, fields: &[(&str, &str)]| {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", token.as_str()));
        with_cookie(console.post(&format!("{path}/{action}")), &session)
            .header(ORIGIN, "null")
            .header("sec-fetch-site", "same-origin")
            .body_form(&form)
            .send()
            .unwrap()
    };
    let refused = post("toewijzen", &[("lid", "Marieke"), ("rol", "baas")]);
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let assigned = post("toewijzen", &[("lid", "Marieke"), ("rol", "temporary"), ("dagen", "3")]);
    assert_eq!(assigned.status(), StatusCode::SEE_OTHER);
    let page = console.supervisor_get(&session, &path).text().unwrap();
    assert!(page.contains("Marieke (tijdelijke toegang tot"), "{}", start_of(&page));
    let ended = post("toewijzing-beeindigen", &[("lid", "Marieke")]);
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    let page = console.supervisor_get(&session, &path).text().unwrap();
    assert!(!page.contains("Marieke (tijdelijke toegang"), "the assignment ended");

    // All of Sanne's cases to Marieke, from the team page, in one action.
    let team = console.supervisor_get(&session, "/team").text().unwrap();
    assert!(team.contains("Casussen overdragen"), "{}", start_of(&team));
    let handed = with_cookie(console.post("/team/overdragen"), &session)
        .header(ORIGIN, "null")
        .header("sec-fetch-site", "same-origin")
        .body_form(&[
            ("van", "Sanne"),
            ("naar", "Marieke"),
            ("csrf", form_token(&team).unwrap().as_str()),
        ])
        .send()
        .unwrap();
    assert_eq!(handed.status(), StatusCode::SEE_OTHER);
    let page = console.supervisor_get(&session, &path).text().unwrap();
    assert!(
        page.contains("Marieke (casusregisseur)") && !page.contains("Sanne (casusregisseur)"),
        "{}",
        start_of(&page)
    );
}

#[test]
fn a_file_kept_with_a_case_downloads_under_a_sandbox_and_only_with_the_session() {
    let console = Console::start();
    let session = console.open_printed_link();
    let list = console.supervisor_get(&session, "/casussen").text().unwrap();
    let row = list.split("<tr>").find(|row| row.contains("El Amrani")).unwrap();
    let case = row.split("href=\"/casus/").nth(1).unwrap().split('"').next().unwrap();
    // The demo fetched Sanne's letter for Aïsha's inzage; as on a device that has not opened
    // it yet, its chunks go from this store.
    let listed = console.supervisor_get(&session, &format!("/casus/{case}")).text().unwrap();
    let letter_id = listed
        .split("/bijlage/")
        .find_map(|rest| {
            let (id, after) = rest.split_once('"')?;
            after.starts_with("><strong>brief-woonbron.pdf").then(|| id.to_string())
        })
        .unwrap();
    let store = rusqlite::Connection::open(console.supervisor_db()).unwrap();
    store.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    let dropped = store
        .execute("DELETE FROM attachment_chunks WHERE hex(attachment_id) = upper(?1)", [&letter_id])
        .unwrap();
    assert_eq!(dropped, 1, "the letter is one chunk");
    let page = console.supervisor_get(&session, &format!("/casus/{case}")).text().unwrap();
    assert!(page.contains("<h2>Bijlagen (2)</h2>"), "{page}");
    // Sanne's letter is listed; its bytes have not travelled to this device yet.
    assert!(
        page.contains("brief-woonbron.pdf</strong></a> (wordt bij openen van de relay gehaald)"),
        "{page}"
    );
    assert!(!page.contains("Aanmaning huurachterstand"), "no file's content is on the page");
    let link_to = |name: &str| {
        let part = page
            .split("href=\"/casus/")
            .find(|part| part.contains("/bijlage/") && part.contains(name))
            .unwrap_or_else(|| panic!("no link to {name}"));
        format!("/casus/{}", part.split('"').next().unwrap())
    };
    // The consent Marieke scanned in here opens, under its link.
    let link = link_to("toestemming-schuldeiser");
    let letter = link_to("brief-woonbron.pdf");

    // Without the session: nothing of it.
    assert_shows_nothing_of_a_case(
        "the file without a session",
        console.get(&link).send().unwrap(),
    );
    // With it: the consent, as a download the browser may run nothing in.
    let response = console.supervisor_get(&session, &link);
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    let header =
        |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(header("content-type"), "application/octet-stream");
    let disposition = header("content-disposition");
    assert!(
        disposition.starts_with("attachment; filename*=UTF-8''toestemming-schuldeiser.txt"),
        "{disposition}"
    );
    let policy = header("content-security-policy");
    assert!(policy.starts_with("sandbox;") && policy.contains("default-src 'none'"), "{policy}");
    assert_eq!(header("x-content-type-options"), "nosniff");
    let body = response.text().unwrap();
    assert!(body.contains("geef het wijkteam toestemming"), "{body}");
    // The opening is in the case's access log.
    let page = console.supervisor_get(&session, &format!("/casus/{case}")).text().unwrap();
    assert!(page.contains("Bijlage geopend"), "{page}");
    // Sanne's letter comes from the relay when opened, and is then on this device.
    let fetched = console.supervisor_get(&session, &letter);
    assert_eq!(fetched.status(), StatusCode::OK);
    assert!(fetched.text().unwrap().contains("Aanmaning huurachterstand"));
    let page = console.supervisor_get(&session, &format!("/casus/{case}")).text().unwrap();
    assert!(!page.contains("wordt bij openen"), "both files are here now");
    // Another case's number with this file's id finds nothing.
    let samir = console.samir_in_queue(&session).unwrap().0;
    let elsewhere = link.replace(case, &samir);
    assert_eq!(console.supervisor_get(&session, &elsewhere).status(), StatusCode::NOT_FOUND);
}

#[test]
fn a_shortened_case_number_opens_no_case() {
    let console = Console::start();
    let session = console.open_printed_link();
    let (case, _) = console.samir_in_queue(&session).unwrap();
    assert_eq!(case.len(), 32, "the queue links to the full case number: {case}");
    for path in [
        format!("/casus/{}", &case[..8]),
        format!("/casus/{}", &case[..31]),
        format!("/casus/{}/inzage", &case[..8]),
        format!("/casus/{}", case.to_uppercase()),
    ] {
        let response = console.supervisor_get(&session, &path);
        let status = response.status();
        let body = response.text().unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}:\n{}", start_of(&body));
        assert!(!body.contains("Samir"), "{path} showed the case");
    }
}

#[test]
fn every_answer_forbids_framing_caching_and_sniffing() {
    let console = Console::start();
    let session = console.open_printed_link();
    let (case, _) = console.samir_in_queue(&session).unwrap();
    let answers = [
        ("the printed link", console.client.get(&console.printed).send().unwrap()),
        ("the queue", console.supervisor_get(&session, "/")),
        ("the reports", console.supervisor_get(&session, "/rapportage")),
        ("the style sheet", console.supervisor_get(&session, "/stijl.css")),
        ("the inzage", console.supervisor_get(&session, &format!("/casus/{case}/inzage"))),
        ("the print page", console.supervisor_get(&session, &format!("/casus/{case}/afdrukken"))),
        (
            "an unknown case",
            console.supervisor_get(&session, &format!("/casus/{}", "0".repeat(32))),
        ),
        ("no token", console.get("/").send().unwrap()),
        ("a wrong token", console.get("/?token=00").send().unwrap()),
        ("another host name", console.get("/").header(HOST, "kwaadwillig.example").send().unwrap()),
        ("a forged form", with_cookie(console.post("/sync"), &session).send().unwrap()),
    ];
    for (what, response) in answers {
        let headers = response.headers();
        let header = |name: &str| -> String {
            headers
                .get(name)
                .unwrap_or_else(|| panic!("{what} ({}) has no {name} header", response.status()))
                .to_str()
                .unwrap()
                .to_string()
        };
        let csp = header("content-security-policy");
        for directive in ["default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"] {
            assert!(csp.contains(directive), "{what}: {directive} missing in {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
        assert_eq!(header("x-frame-options"), "DENY", "{what}");
        assert_eq!(header("cache-control"), "no-store", "{what}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{what}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    }
}

#[test]
fn the_team_page_lists_the_members_and_a_wrong_safety_code_admits_nobody() {
    let console = Console::start();
    let session = console.open_printed_link();
    let page = console.supervisor_get(&session, "/team").text().unwrap();
    for member in ["Marieke", "Sanne", "Daan"] {
        assert!(page.contains(member), "{member} missing: {}", start_of(&page));
    }
    assert!(page.contains("Er wacht geen apparaat op toelating"), "{}", start_of(&page));
    let token = form_token(&page).expect("the team page's forms carry a form token");
    let response = with_cookie(console.post("/team/toelaten"), &session)
        .header(ORIGIN, "null")
        .header("sec-fetch-site", "same-origin")
        .body_form(&[
            ("apparaat", "00112233445566778899aabbccddeeff"),
            ("code", "1234 5678 9012"),
            ("csrf", token.as_str()),
        ])
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let after = console.supervisor_get(&session, "/team").text().unwrap();
    assert_eq!(after.matches("<tr><td>").count(), page.matches("<tr><td>").count());
}
