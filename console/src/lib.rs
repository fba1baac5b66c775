//! eropaf-console (`eropaf console`): the supervisor's office console, served from the supervisor's own
//! device (it holds the keys; the relay never serves plaintext). Server-rendered pages over
//! the core: the review queue, a case with its access log, verdicts, reports and the value
//! framework editor. Binds to loopback by default and refuses requests for any other host
//! name, so a web page elsewhere cannot reach it through DNS rebinding. Only the browser
//! that opened the link with the secret token printed at start gets a page (`access`), and
//! every response forbids framing, caching and foreign scripts (`headers`).

mod access;
mod charts;
mod headers;
mod pages;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use eropaf_core::model::AssignmentRole;
use eropaf_core::review::ReviewAction;
use eropaf_core::sync::http::HttpTransport;
use eropaf_core::Eropaf;

use access::{Access, Session};

/// The worker-facing sentence for an error (the core words it).
fn describe(error: &eropaf_core::Error) -> String {
    error.message_nl()
}

/// The same for an error from talking to the relay, with what to do about it.
fn describe_relay(error: &eropaf_core::Error) -> String {
    error.relay_message_nl()
}

/// A line for the supervisor's terminal.
macro_rules! outln {
    ($($arg:tt)*) => { println!($($arg)*) };
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

struct Console {
    device: Mutex<Eropaf>,
    /// The team's relay, when this device is in a team: actions sync right away.
    transport: Option<HttpTransport>,
    /// `Host` header values this console answers to.
    allowed_hosts: Vec<String>,
    /// The token of this start and the sessions of the browsers that opened its link.
    access: Access,
}

type Shared = Arc<Console>;

/// A page that could not be shown, with the Dutch sentence that says why.
struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    fn bad(message: impl Into<String>) -> PageError {
        PageError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    fn core(error: &eropaf_core::Error) -> PageError {
        let status = match error {
            eropaf_core::Error::NotFound { .. } => StatusCode::NOT_FOUND,
            eropaf_core::Error::InvalidInput { .. }
            | eropaf_core::Error::InvalidFramework { .. } => StatusCode::BAD_REQUEST,
            eropaf_core::Error::Unauthorised(_) | eropaf_core::Error::Revoked => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        PageError { status, message: describe(error) }
    }
}

impl From<eropaf_core::Error> for PageError {
    fn from(error: eropaf_core::Error) -> Self {
        PageError::core(&error)
    }
}

/// Serves the console for `device` on `listen` until Ctrl-C. `ready` is told the address
/// once the console listens (the demo prints it).
pub fn serve(device: Eropaf, listen: &str) -> Result<(), String> {
    let transport = match device.relay_url().map_err(|e| describe(&e))? {
        Some(url) => Some(HttpTransport::new(&url).map_err(|e| describe(&e))?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("De console kan niet starten: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("De console kan niet luisteren op {listen}: {e}"))?;
        let address = listener
            .local_addr()
            .map_err(|e| format!("Het adres van de console is onbekend: {e}"))?;
        if !address.ip().is_loopback() {
            eprintln!(
                "Let op: de console luistert op {address}, niet alleen op deze computer. Hij \
                 antwoordt alleen op verzoeken aan dat adres."
            );
        }
        let access = Access::new(address.port())?;
        // The link is the key to the console: printed for the supervisor only, new each start.
        outln!(
            "Console voor leidinggevenden: http://{address}/?token={}  (stoppen: Ctrl-C)",
            access.token()
        );
        outln!(
            "Deze link geeft toegang tot de casussen: open hem in je eigen browser en deel hem \
             niet. Zonder de link opent de console niets."
        );
        let console = Arc::new(Console {
            device: Mutex::new(device),
            transport,
            allowed_hosts: allowed_hosts(address),
            access,
        });
        axum::serve(listener, router(console))
            .with_graceful_shutdown(stop_signal())
            .await
            .map_err(|e| format!("De console stopte met een fout: {e}"))
    })
}

fn router(console: Shared) -> Router {
    Router::new()
        .route("/", get(queue_page))
        .route("/casussen", get(cases_page))
        .route("/casus/{id}", get(case_page))
        .route("/casus/{id}/inzage", get(inzage))
        .route("/casus/{id}/bijlage/{attachment}", get(attachment))
        .route("/casus/{id}/afdrukken", get(print_case))
        .route("/casus/{id}/afweging/{assessment}", post(review))
        .route("/casus/{id}/wissen", post(erase))
        .route("/casus/{id}/toewijzen", post(assign))
        .route("/casus/{id}/toewijzing-beeindigen", post(unassign))
        .route("/team/overdragen", post(handover))
        .route("/rapportage", get(reports_page))
        .route("/waardenkader", get(framework_page).post(install_framework))
        .route("/beleid", post(set_policy))
        .route("/sync", post(sync_now))
        .route("/team", get(team_page))
        .route("/team/toelaten", post(admit))
        .route("/team/toegang/{id}", post(answer_request))
        .route("/stijl.css", get(stylesheet))
        .layer(middleware::from_fn_with_state(console.clone(), access::guard))
        // Outermost, so refusals by the guard carry the headers too.
        .layer(middleware::from_fn(headers::secure))
        .with_state(console)
}

/// The host names a browser on this machine uses for the bound address.
fn allowed_hosts(address: SocketAddr) -> Vec<String> {
    let port = address.port();
    let mut hosts = vec![address.to_string()];
    if address.ip().is_loopback() || address.ip().is_unspecified() {
        hosts.extend([
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ]);
    }
    hosts
}

/// Runs `work` with the device on a blocking thread (the store and the relay client block),
/// and says in a `Server-Timing` header how long it took.
async fn with_device<F>(console: Shared, work: F) -> Response
where
    F: FnOnce(&Console, &mut Eropaf) -> Result<Response, PageError> + Send + 'static,
{
    let joined = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let console_ref = &*console;
        let result = match console_ref.device.lock() {
            Ok(mut device) => work(console_ref, &mut device),
            Err(_) => Err(PageError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: "De console is na een eerdere fout gestopt; start hem opnieuw.".into(),
            }),
        };
        (result, started.elapsed())
    })
    .await;
    let (result, elapsed) = match joined {
        Ok(done) => done,
        Err(_) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "Interne fout in de console.")
                .into_response()
        }
    };
    let mut response = match result {
        Ok(response) => response,
        Err(error) => (error.status, pages::error_page(&error.message)).into_response(),
    };
    if let Ok(value) =
        HeaderValue::from_str(&format!("render;dur={:.2}", elapsed.as_secs_f64() * 1000.0))
    {
        response.headers_mut().insert("server-timing", value);
    }
    response
}

/// Syncs after an action, so the worker sees it at their next sync. Returns a warning for
/// the page when the relay could not be reached; the action itself is saved either way.
fn sync_after(console: &Console, device: &mut Eropaf) -> Option<String> {
    let transport = console.transport.as_ref()?;
    match device.sync(transport, &mut |_| {}) {
        Ok(_) => None,
        Err(e) => Some(describe_relay(&e)),
    }
}

/// The one script the console sends: it opens the print dialog on the print version.
const PRINT_SCRIPT: &str = "window.print()";

/// Sets a document's own Content-Security-Policy; `headers::secure` leaves it in place. A
/// policy that cannot be a header value (it always can: it is built from ASCII) falls back
/// to the pages' policy, which shows the document unstyled rather than weakening anything.
fn with_policy(mut response: Response, policy: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(policy) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// The case with exactly this id. Links and forms carry full ids (32 hex digits); a
/// shortened id or another spelling is not looked up by prefix, as the command line does,
/// so no URL guessed from the few digits the pages show ever opens a case.
fn full_case_id(device: &Eropaf, id: &str) -> Result<String, PageError> {
    let not_found = || PageError {
        status: StatusCode::NOT_FOUND,
        message: "Deze casus bestaat niet (meer) op dit apparaat.".into(),
    };
    let well_formed =
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return Err(not_found());
    }
    match device.resolve_case_id(id) {
        Ok(found) if found == id => Ok(found),
        Ok(_) | Err(eropaf_core::Error::NotFound { .. }) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

/// `/stijl.css`: the pages' stylesheet.
async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], pages::STYLE).into_response()
}

fn redirect(to: &str, message: &str, warning: Option<String>) -> Response {
    let mut target = format!("{to}?m={}", encode(message));
    if let Some(warning) = warning {
        target.push_str(&format!("&w={}", encode(&warning)));
    }
    Redirect::to(&target).into_response()
}

/// Percent-encodes for a query value.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

type Params = Query<HashMap<String, String>>;

fn flash(params: &HashMap<String, String>) -> pages::Flash {
    pages::Flash { message: params.get("m").cloned(), warning: params.get("w").cloned() }
}

async fn queue_page(
    State(console): State<Shared>,
    Extension(session): Extension<Session>,
    Query(params): Params,
) -> Response {
    with_device(console, move |_, device| {
        let queue = device.review_queue()?;
        Ok(Html(pages::queue(
            &pages::Frame::of(device, &flash(&params), &session)?,
            &queue,
            &device.member_names(),
        ))
        .into_response())
    })
    .await
}

async fn cases_page(
    State(console): State<Shared>,
    Extension(session): Extension<Session>,
    Query(params): Params,
) -> Response {
    with_device(console, move |console, device| {
        let cases = device.cases()?;
        let due = device.cases_due_for_erasure(chrono::Utc::now())?;
        let erasures = device.erasures()?;
        let frame = pages::Frame::of(device, &flash(&params), &session)?;
        Ok(Html(pages::cases(&frame, &cases, &due, &erasures, console.transport.is_some()))
            .into_response())
    })
    .await
}

async fn case_page(
    State(console): State<Shared>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    with_device(console, move |_, device| {
        let case_id = full_case_id(device, &id)?;
        let case = device.open_case(&case_id, params.get("namens").map(String::as_str))?;
        let mut views = Vec::new();
        for assessment in &case.assessments {
            let view = device.assessment(&case_id, &assessment.id)?;
            let state = device.review_state(&case_id, &assessment.id)?;
            let framework =
                device.framework(&assessment.framework_id, assessment.framework_version)?;
            let next_rung =
                eropaf_core::review::escalation_target(&framework, &assessment.id, &case.reviews)
                    .ok()
                    .map(|r| r.title.clone());
            let rung = eropaf_core::review::current_rung(&framework, &assessment.id, &case.reviews)
                .map(|r| r.title.clone())
                .unwrap_or_default();
            views.push(pages::AssessmentCard { view, state, rung, next_rung });
        }
        let access = device.case_access(&case_id)?;
        let frame = pages::Frame::of(device, &flash(&params), &session)?;
        let members = active_members(device);
        Ok(Html(pages::case(&frame, &case, &access, &views, &device.member_names(), &members))
            .into_response())
    })
    .await
}

async fn inzage(
    State(console): State<Shared>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    with_device(console, move |console, device| {
        let case_id = full_case_id(device, &id)?;
        let on_behalf = params.get("namens").map(String::as_str).unwrap_or("inzageverzoek bewoner");
        let html = device.export_inzage(&case_id, Some(on_behalf))?;
        let _ = sync_after(console, device);
        let disposition =
            format!("inline; filename=\"inzage-{}.html\"", &case_id[..8.min(case_id.len())]);
        let policy = headers::document_policy(&html, None);
        let mut response = Html(html).into_response();
        if let Ok(value) = HeaderValue::from_str(&disposition) {
            response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
        }
        Ok(with_policy(response, &policy))
    })
    .await
}

/// What a file kept with a case is served under: a member uploaded it, so the browser may run
/// nothing in it (`sandbox`), load nothing for it, and never guess another type than the one
/// sent (`nosniff`, on every answer).
const ATTACHMENT_POLICY: &str = "sandbox; default-src 'none'; img-src 'self'; \
     frame-ancestors 'none'";

/// A file kept with a case, opened by the supervisor (an access-log entry). A photo shows
/// in the browser; anything else is a download, so no HTML, SVG or PDF a member uploaded
/// is shown as a page of the console.
async fn attachment(
    State(console): State<Shared>,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Response {
    with_device(console, move |console, device| {
        let case_id = full_case_id(device, &id)?;
        let file = device
            .case(&case_id)?
            .attachments
            .into_iter()
            .find(|file| file.id == attachment_id)
            .ok_or_else(|| PageError {
                status: StatusCode::NOT_FOUND,
                message: "Deze bijlage hoort niet bij deze casus.".into(),
            })?;
        if !file.on_device {
            // Attached on a phone: fetched from the relay now, as a phone does when it opens one.
            let transport = console.transport.as_ref().ok_or_else(|| PageError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: "Deze bijlage staat nog niet op dit apparaat en er is geen relay.".into(),
            })?;
            device
                .download_attachment(transport, &case_id, &file.id, &mut |_| {})
                .map_err(|e| PageError::bad(describe_relay(&e)))?;
        }
        let content = device.attachment_content(&case_id, &file.id)?;
        let shown = pages::shown_inline(&file.media_type);
        let content_type =
            if shown { file.media_type.as_str() } else { "application/octet-stream" };
        let disposition = format!(
            "{}; filename*=UTF-8''{}",
            if shown { "inline" } else { "attachment" },
            percent_encoded(&file.name)
        );
        let mut response = content.into_response();
        for (name, value) in
            [(header::CONTENT_TYPE, content_type), (header::CONTENT_DISPOSITION, &disposition)]
        {
            if let Ok(value) = HeaderValue::from_str(value) {
                response.headers_mut().insert(name, value);
            }
        }
        Ok(with_policy(response, ATTACHMENT_POLICY))
    })
    .await
}

/// A file name for `filename*=` (RFC 8187): letters, digits and a few marks as they are,
/// every other byte of its UTF-8 as `%XX`.
fn percent_encoded(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

async fn print_case(
    State(console): State<Shared>,
    Path(id): Path<String>,
    Query(params): Params,
) -> Response {
    with_device(console, move |console, device| {
        let case_id = full_case_id(device, &id)?;
        let html = device.print_case(&case_id, params.get("namens").map(String::as_str))?;
        let _ = sync_after(console, device);
        // The browser's print dialog opens on its own; the page is the inzage document. The
        // page's policy allows exactly this script, by its hash.
        let html = html.replace("</body>", &format!("<script>{PRINT_SCRIPT}</script></body>"));
        let policy = headers::document_policy(&html, Some(PRINT_SCRIPT));
        Ok(with_policy(Html(html).into_response(), &policy))
    })
    .await
}

async fn review(
    State(console): State<Shared>,
    Path((id, assessment)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_device(console, move |console, device| {
        let case_id = full_case_id(device, &id)?;
        let action = ReviewAction::parse(form.get("actie").map_or("", String::as_str))?;
        let note = form.get("notitie").map_or("", String::as_str);
        let review = device.review_assessment(&case_id, &assessment, action, note)?;
        let warning = sync_after(console, device);
        let message = match action {
            ReviewAction::Approve => "Goedgekeurd.".to_string(),
            ReviewAction::RequestChanges => "Aanpassing gevraagd aan de medewerker.".to_string(),
            ReviewAction::Escalate => {
                let framework = device
                    .case(&case_id)?
                    .assessment(&assessment)
                    .map(|a| (a.framework_id.clone(), a.framework_version))?;
                let rung = device
                    .framework(&framework.0, framework.1)?
                    .rung(review.escalated_to.as_deref().unwrap_or(""))
                    .map(|r| r.title.clone())
                    .unwrap_or_default();
                format!("Geëscaleerd naar: {rung}.")
            }
        };
        Ok(redirect("/", &message, warning))
    })
    .await
}

async fn erase(
    State(console): State<Shared>,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_device(console, move |console, device| {
        let Some(transport) = console.transport.as_ref() else {
            return Err(PageError::bad(
                "Wissen kan alleen op een apparaat dat bij een team hoort.",
            ));
        };
        let case_id = full_case_id(device, &id)?;
        if form.get("bevestig").map(String::as_str) != Some("ja") {
            return Err(PageError::bad("Vink aan dat de casus gewist mag worden."));
        }
        let on_behalf = form.get("namens").map(String::as_str).filter(|s| !s.trim().is_empty());
        device.erase_case_logged(Some(transport), &case_id, on_behalf).map_err(|e| PageError {
            status: StatusCode::BAD_GATEWAY,
            message: describe_relay(&e),
        })?;
        let warning = sync_after(console, device);
        Ok(redirect(
            "/casussen",
            "De casus is gewist, ook bij de relay en op de apparaten van het team.",
            warning,
        ))
    })
    .await
}

async fn reports_page(
    State(console): State<Shared>,
    Extension(session): Extension<Session>,
    Query(params): Params,
) -> Response {
    with_device(console, move |_, device| {
        let report = device.team_report()?;
        let frame = pages::Frame::of(device, &flash(&params), &session)?;
        Ok(Html(pages::reports(&frame, &report)).into_response())
    })
    .await
}

async fn framework_page(
    State(console): State<Shared>,
    Extension(session): Extension<Session>,
    Query(params): Params,
) -> Response {
    with_device(console, move |_, device| {
        let frame = pages::Frame::of(device, &flash(&params), &session)?;
        let page = framework_editor(device, &frame, None, None)?;
        Ok(Html(page).into_response())
    })
    .await
}

fn framework_editor(
    device: &Eropaf,
    frame: &pages::Frame,
    draft: Option<&str>,
    error: Option<&str>,
) -> Result<String, PageError> {
    let versions = device.framework_versions()?;
    let newest = device.frameworks()?;
    let source = match (draft, newest.first()) {
        (Some(draft), _) => draft.to_string(),
        (None, Some(f)) => device.framework_source(&f.id, f.version)?,
        (None, None) => String::new(),
    };
    let policy = device.policy()?;
    Ok(pages::framework(frame, &versions, &source, error, &policy))
}

async fn install_framework(
    State(console): State<Shared>,
    Extension(session): Extension<Session>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_device(console, move |console, device| {
        let source = form.get("bron").cloned().unwrap_or_default();
        match device.install_framework(&source) {
            Ok(framework) => {
                let warning = sync_after(console, device);
                let message = format!(
                    "Versie {} van {} is opgeslagen en gaat naar het team.",
                    framework.version, framework.title
                );
                Ok(redirect("/waardenkader", &message, warning))
            }
            Err(
                e @ (eropaf_core::Error::InvalidFramework { .. }
                | eropaf_core::Error::InvalidInput { .. }),
            ) => {
                let frame = pages::Frame::of(device, &pages::Flash::default(), &session)?;
                let page = framework_editor(device, &frame, Some(&source), Some(&describe(&e)))?;
                Ok((StatusCode::BAD_REQUEST, Html(page)).into_response())
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

async fn set_policy(
    State(console): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_device(console, move |console, device| {
        let mut policy = device.policy()?;
        let euros = |field: &str| -> Result<Option<u64>, PageError> {
            match form.get(field).map(|s| s.trim()).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(text) => {
                    eropaf_core::model::parse_euro_cents(text).map(Some).map_err(PageError::from)
                }
            }
        };
        if let Some(cents) = euros("drempel")? {
            policy.review_threshold_cents = cents;
        }
        if let Some(cents) = euros("budget")? {
            policy.budget_cents = cents;
        }
        // An unticked box is not sent: its absence is the choice.
        policy.shared_caseload = form.get("gedeelde_caseload").is_some_and(|v| v == "ja");
        policy.workers_add_backups = form.get("eigen_achtervang").is_some_and(|v| v == "ja");
        policy.keep_photo_location = form.get("fotolocatie").is_some_and(|v| v == "ja");
        policy.fetch_files_on_wifi = form.get("bijlagen_wifi").is_some_and(|v| v == "ja");
        let megabytes = |field: &str, what: &str| -> Result<Option<u32>, PageError> {
            form.get(field)
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(|text| {
                    text.parse()
                        .map_err(|_| PageError::bad(format!("{text:?} is geen aantal MB ({what})")))
                })
                .transpose()
        };
        if let Some(mb) = megabytes("bijlage_mb", "per bestand")? {
            policy.attachment_max_mb = mb;
        }
        if let Some(mb) = megabytes("casus_bijlagen_mb", "per casus")? {
            policy.case_attachments_max_mb = mb;
        }
        if let Some(text) = form.get("pogingen").map(|s| s.trim()).filter(|s| !s.is_empty()) {
            policy.wipe_after_failed_unlocks = text.parse().map_err(|_| {
                PageError::bad(format!("{text:?} is geen aantal pogingen (0 = nooit wissen)"))
            })?;
        }
        if let Some(text) = form.get("vergrendelen").map(|s| s.trim()).filter(|s| !s.is_empty()) {
            policy.lock_after_idle_minutes = text.parse().map_err(|_| {
                PageError::bad(format!("{text:?} is geen aantal minuten (1 tot 60)"))
            })?;
        }
        for case_type in eropaf_core::model::CaseType::ALL {
            let field = format!("bewaar_{}", case_type.key());
            if let Some(text) = form.get(&field).map(|s| s.trim()).filter(|s| !s.is_empty()) {
                let years: u32 = text.parse().map_err(|_| {
                    PageError::bad(format!("{text:?} is geen aantal jaren ({})", case_type.label()))
                })?;
                policy.retention_years.insert(*case_type, years);
            }
        }
        device.set_policy(&policy)?;
        let warning = sync_after(console, device);
        Ok(redirect(
            "/waardenkader",
            "Het teambeleid is opgeslagen en gaat naar het team.",
            warning,
        ))
    })
    .await
}

async fn sync_now(State(console): State<Shared>) -> Response {
    with_device(console, move |console, device| {
        let Some(transport) = console.transport.as_ref() else {
            return Ok(redirect(
                "/",
                "Dit apparaat hoort niet bij een team; er is niets te synchroniseren.",
                None,
            ));
        };
        let report = device.sync(transport, &mut |_| {}).map_err(|e| PageError {
            status: StatusCode::BAD_GATEWAY,
            message: describe_relay(&e),
        })?;
        let mut message = format!(
            "Gesynchroniseerd: {} verstuurd, {} opgehaald, {} toegepast.",
            report.pushed, report.pulled, report.applied
        );
        // What the sync refused or noticed is the supervisor's to see: a forged envelope, a
        // change by the wrong role, envelopes the relay held back.
        for line in report.refused.iter().take(5) {
            message.push_str(&format!(" Geweigerd: {line}."));
        }
        for line in report.warnings.iter().take(5) {
            message.push_str(&format!(" Let op: {line}."));
        }
        Ok(redirect("/", &message, None))
    })
    .await
}

/// `/team`: the joiners waiting for this supervisor (fetched from the relay when it answers)
/// and the members.
async fn team_page(
    State(console): State<Shared>,
    Extension(session): Extension<Session>,
    Query(params): Params,
) -> Response {
    with_device(console, move |console, device| {
        let mut flash = flash(&params);
        let waiting = match console.transport.as_ref() {
            Some(transport) => match device.refresh_pending_joiners(transport) {
                Ok(waiting) => waiting,
                Err(eropaf_core::Error::Unauthorised(_) | eropaf_core::Error::Revoked) => {
                    Vec::new()
                }
                Err(e) => {
                    flash.warning.get_or_insert(describe_relay(&e));
                    device.pending_joiners()?
                }
            },
            None => Vec::new(),
        };
        let requests = device.access_requests()?;
        let frame = pages::Frame::of(device, &flash, &session)?;
        let active = active_members(device);
        Ok(Html(pages::team(&frame, &waiting, &device.members(), &requests, &active))
            .into_response())
    })
    .await
}

/// Admits a waiting device once the code typed matches its safety code.
async fn admit(
    State(console): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_device(console, move |console, device| {
        let Some(transport) = console.transport.as_ref() else {
            return Err(PageError::bad(
                "Toelaten kan alleen op een apparaat dat bij een team hoort.",
            ));
        };
        let device_id = form.get("apparaat").map(String::as_str).unwrap_or_default();
        let code = form.get("code").map(String::as_str).unwrap_or_default();
        let member = device.admit(transport, device_id, code).map_err(|e| match e {
            eropaf_core::Error::Refused(_) | eropaf_core::Error::NotFound { .. } => {
                PageError::bad(describe(&e))
            }
            other => PageError { status: StatusCode::BAD_GATEWAY, message: describe_relay(&other) },
        })?;
        let message = format!(
            "{} is toegelaten als {}; het apparaat is lid zodra het synchroniseert.",
            member.member,
            member.role.label().to_lowercase()
        );
        Ok(redirect("/team", &message, None))
    })
    .await
}

/// The names of the team's members with an active device, each once, sorted.
fn active_members(device: &Eropaf) -> Vec<String> {
    let mut names: Vec<String> =
        device.members().into_iter().filter(|m| !m.revoked).map(|m| m.member).collect();
    names.sort();
    names.dedup();
    names
}

/// Assigns a member to the case as worker, backup or for some days; her devices get its keys
/// at once when the relay answers.
async fn assign(
    State(console): State<Shared>,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_device(console, move |console, device| {
        let case_id = full_case_id(device, &id)?;
        let member = form.get("lid").map(String::as_str).unwrap_or_default();
        let role = AssignmentRole::parse(form.get("rol").map_or("", String::as_str))
            .ok_or_else(|| PageError::bad("Kies een rol."))?;
        let until = match form.get("dagen").map(|d| d.trim()).filter(|d| !d.is_empty()) {
            Some(text) => {
                let days: i64 =
                    text.parse().ok().filter(|d| (1..=365).contains(d)).ok_or_else(|| {
                        PageError::bad("Vul 1 tot 365 dagen in, of laat het leeg.")
                    })?;
                Some(chrono::Utc::now() + chrono::Duration::days(days))
            }
            None => None,
        };
        device.assign(&case_id, member, role, until)?;
        let warning = sync_after(console, device);
        let message = format!("{} is {} van deze casus.", member.trim(), role.label());
        Ok(redirect(&format!("/casus/{case_id}"), &message, warning))
    })
    .await
}

/// Ends a member's assignment: her devices forget the case at their next sync.
async fn unassign(
    State(console): State<Shared>,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_device(console, move |console, device| {
        let case_id = full_case_id(device, &id)?;
        let member = form.get("lid").map(String::as_str).unwrap_or_default();
        device.unassign(&case_id, member)?;
        let warning = sync_after(console, device);
        let message = format!(
            "{} is niet meer toegewezen; haar apparaten vergeten de casus bij hun volgende \
             synchronisatie.",
            member.trim()
        );
        Ok(redirect(&format!("/casus/{case_id}"), &message, warning))
    })
    .await
}

/// Moves all of one member's cases to another (leave, departure).
async fn handover(
    State(console): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_device(console, move |console, device| {
        let from = form.get("van").map(String::as_str).unwrap_or_default();
        let to = form.get("naar").map(String::as_str).unwrap_or_default();
        let handed = device.handover(from, to, &[])?;
        let warning = sync_after(console, device);
        let message = format!(
            "{} casus(sen) overgedragen van {} aan {}.",
            handed.len(),
            from.trim(),
            to.trim()
        );
        Ok(redirect("/team", &message, warning))
    })
    .await
}

/// Grants a member's request for access for the days given, or refuses it; either is logged
/// in the case, and the keys go out at once when the relay answers.
async fn answer_request(
    State(console): State<Shared>,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    with_device(console, move |console, device| {
        let message = match form.get("antwoord").map(String::as_str) {
            Some("verlenen") => {
                let days = form
                    .get("dagen")
                    .and_then(|d| d.trim().parse::<u32>().ok())
                    .ok_or_else(|| PageError::bad("Vul het aantal dagen in (1 tot 90)."))?;
                device.grant_access(&id, days)?;
                format!("Toegang verleend voor {days} dag(en); vastgelegd in het toegangslog.")
            }
            Some("weigeren") => {
                device.refuse_access(&id)?;
                "Verzoek geweigerd; vastgelegd in het toegangslog.".to_string()
            }
            _ => return Err(PageError::bad("Kies verlenen of weigeren.")),
        };
        let warning = sync_after(console, device);
        Ok(redirect("/team", &message, warning))
    })
    .await
}

async fn stop_signal() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
