//! Who may use the console. The console listens on a port that every page in the
//! supervisor's browser and every user of the computer can reach, so knowing the port must
//! not be enough (DESIGN.md §3: "a web page in the supervisor's browser").
//!
//! - Each start draws a fresh secret token and prints it in the console's link, as Jupyter
//!   does. Only the supervisor's terminal shows it.
//! - Opening the link starts a session: an HttpOnly, SameSite=Strict cookie, and a redirect
//!   to the same page without the token, so the token leaves the address bar (and is not
//!   kept for screenshots or passed on in a Referer).
//! - Without a valid session no handler runs: no page, no case data, no chart.
//! - Every form carries a token derived from the session; a POST without it is refused
//!   before it reaches a handler, so nothing changes.
//!
//! Secrets are compared with `ring::hmac::verify` (constant time): a candidate is never
//! compared byte by byte with a secret, so response times say nothing about how much of a
//! guess was right.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use ring::hmac;

use super::Shared;

/// Sessions kept at once; the oldest goes first. A supervisor opens the link in a browser
/// or two; only someone with the token can start one.
const MAX_SESSIONS: usize = 32;

/// The largest form accepted: the framework editor's text, with room to spare (axum's
/// default limit for a form is the same).
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// The form field that carries the session's form token.
pub const FORM_TOKEN_FIELD: &str = "csrf";

/// The console's secrets for one start.
pub struct Access {
    /// Keys the HMACs below; random per start, never leaves the process.
    key: hmac::Key,
    /// The token printed in the link, hex.
    token: String,
    /// HMAC of the token, to check a candidate in constant time.
    token_tag: hmac::Tag,
    /// HMACs of the session ids handed out as cookies, newest last.
    sessions: Mutex<VecDeque<hmac::Tag>>,
    cookie_name: String,
}

/// A browser that opened the printed link. Handlers get it to put the form token into their
/// forms.
#[derive(Clone)]
pub struct Session {
    pub form_token: String,
}

/// 256 random bits from the operating system (ring's SystemRandom), hex.
fn random_hex() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    eropaf_core::crypto::fill_random(&mut bytes)
        .map_err(|_| "De console kan geen geheime sleutel maken (geen toevalsbron).".to_string())?;
    Ok(hex::encode(bytes))
}

impl Access {
    /// Fresh secrets for a console on `port`. The cookie's name holds the port: browsers
    /// share cookies between ports of one host, and two consoles must not overwrite each
    /// other's session.
    pub fn new(port: u16) -> Result<Access, String> {
        let key = hmac::Key::new(hmac::HMAC_SHA256, random_hex()?.as_bytes());
        let token = random_hex()?;
        let token_tag = hmac::sign(&key, &tagged(b"token", token.as_bytes()));
        Ok(Access {
            key,
            token,
            token_tag,
            sessions: Mutex::new(VecDeque::new()),
            cookie_name: format!("eropaf_console_{port}"),
        })
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    fn token_matches(&self, candidate: &str) -> bool {
        hmac::verify(&self.key, &tagged(b"token", candidate.as_bytes()), self.token_tag.as_ref())
            .is_ok()
    }

    /// A new session id for a cookie.
    fn open_session(&self) -> Result<String, String> {
        let id = random_hex()?;
        let tag = hmac::sign(&self.key, &tagged(b"session", id.as_bytes()));
        let mut sessions = self.sessions.lock().map_err(|_| "sessies onleesbaar".to_string())?;
        if sessions.len() >= MAX_SESSIONS {
            sessions.pop_front();
        }
        sessions.push_back(tag);
        Ok(id)
    }

    /// The session of a cookie's id, if it is one this console handed out.
    fn session(&self, id: &str) -> Option<Session> {
        let message = tagged(b"session", id.as_bytes());
        let sessions = self.sessions.lock().ok()?;
        // Every stored tag is checked, so the time taken does not depend on which one fits.
        let known = sessions.iter().fold(false, |found, tag| {
            hmac::verify(&self.key, &message, tag.as_ref()).is_ok() | found
        });
        known.then(|| Session { form_token: self.form_token(id) })
    }

    /// The form token of a session: derived from its id, so it needs no storage and differs
    /// for every session; it says nothing about the id itself.
    fn form_token(&self, session_id: &str) -> String {
        hex::encode(hmac::sign(&self.key, &tagged(b"form", session_id.as_bytes())).as_ref())
    }

    fn form_token_matches(&self, session_id: &str, candidate: &str) -> bool {
        let Ok(candidate) = hex::decode(candidate) else { return false };
        hmac::verify(&self.key, &tagged(b"form", session_id.as_bytes()), &candidate).is_ok()
    }

    fn session_cookie(&self, id: &str) -> String {
        format!("{}={id}; HttpOnly; SameSite=Strict; Path=/", self.cookie_name)
    }
}

/// `label` and `value` as one HMAC message, so a value of one kind never verifies as another.
fn tagged(label: &[u8], value: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(label.len() + 1 + value.len());
    message.extend_from_slice(label);
    message.push(0);
    message.extend_from_slice(value);
    message
}

/// The value of `name` in a `Cookie` header, if present.
fn cookie_value<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The value of `name` in a query string or form body (`a=1&b=2`), undecoded: the tokens
/// are hex, which a browser sends as it is.
fn field<'a>(encoded: &'a str, name: &str) -> Option<&'a str> {
    encoded
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A short Dutch page for a refused request. It names nothing from the console.
fn refusal(status: StatusCode, message: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\">\
         <title>Geen toegang — Eropaf</title></head><body><h1>Geen toegang</h1><p>{message}</p>\
         </body></html>"
    );
    (status, Html(page)).into_response()
}

/// Refuses every request that does not come from the supervisor's own browser session, in
/// this order: another host name (DNS rebinding), a request a page elsewhere made the
/// browser send, no or a wrong token or session, and a form without the session's form
/// token. A request that passes carries its `Session` to the handler.
pub async fn guard(State(console): State<Shared>, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if !console.allowed_hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(host)) {
        return refusal(
            StatusCode::MISDIRECTED_REQUEST,
            "Deze console antwoordt alleen op verzoeken aan zijn eigen adres.",
        );
    }
    // Browsers say where a request comes from (Fetch Metadata). A page on another site, or
    // on another port of this computer ("same-site"), has no business here: not even an
    // <img> that opens a case and so writes to its access log. Requests without the header
    // (older browsers, scripts) go on to the checks below.
    let fetch_site = request.headers().get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some("cross-site" | "same-site")) {
        return refusal(
            StatusCode::FORBIDDEN,
            "Verzoeken vanaf een andere website worden geweigerd. Open de console via de link \
             in het terminalvenster.",
        );
    }
    if request.method() == Method::POST {
        if let Some(origin) = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
            // Under `Referrer-Policy: no-referrer` browsers send `Origin: null` even for the
            // console's own forms; then Fetch Metadata must vouch that it is the console's own
            // page (a sandboxed frame elsewhere sends `null` too, but as cross-site).
            let same = console.allowed_hosts.iter().any(|h| origin == format!("http://{h}"))
                || (origin == "null" && fetch_site == Some("same-origin"));
            if !same {
                return refusal(
                    StatusCode::FORBIDDEN,
                    "Formulieren van een andere website worden geweigerd.",
                );
            }
        }
    }

    let access = &console.access;
    if request.method() == Method::GET {
        if let Some(candidate) = request.uri().query().and_then(|q| field(q, "token")) {
            if !access.token_matches(candidate) {
                return refusal(
                    StatusCode::FORBIDDEN,
                    "Deze link is niet (meer) geldig: elke start van de console maakt een nieuwe. \
                     Gebruik de link die de console nu in het terminalvenster toont.",
                );
            }
            return start_session(access, request.uri().path());
        }
    }

    let Some(session_id) = cookie_value(&request, &access.cookie_name).map(str::to_owned) else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "Open de console via de link met de toegangscode die in het terminalvenster staat \
             (na <code>eropaf console</code> of <code>eropaf demo</code>).",
        );
    };
    let Some(session) = access.session(&session_id) else {
        return refusal(
            StatusCode::UNAUTHORIZED,
            "Deze sessie is verlopen of de console is opnieuw gestart. Open de console via de \
             link die nu in het terminalvenster staat.",
        );
    };

    let mut request = if request.method() == Method::POST {
        match checked_form(access, &session_id, request).await {
            Ok(request) => request,
            Err(response) => return response,
        }
    } else {
        request
    };
    request.extensions_mut().insert(session);
    next.run(request).await
}

/// Sets the session cookie and sends the browser to `path` without the token.
fn start_session(access: &Access, path: &str) -> Response {
    let id = match access.open_session() {
        Ok(id) => id,
        Err(_) => {
            return refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "De console kon geen sessie beginnen; start hem opnieuw.",
            )
        }
    };
    // Only a path of this console, never a whole address: the redirect cannot lead away
    // (browsers read `//host` and `/\host` as another host).
    let local = path.starts_with('/') && !path.starts_with("//") && !path.contains('\\');
    let path = if local { path } else { "/" };
    let mut response = (StatusCode::SEE_OTHER, ()).into_response();
    match (HeaderValue::from_str(path), HeaderValue::from_str(&access.session_cookie(&id))) {
        (Ok(location), Ok(cookie)) => {
            response.headers_mut().insert(header::LOCATION, location);
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
        }
        _ => refusal(StatusCode::BAD_REQUEST, "Dit adres kan de console niet openen."),
    }
}

/// Reads a form and lets it through only with the session's form token; the body is put
/// back for the handler.
async fn checked_form(
    access: &Access,
    session_id: &str,
    request: Request,
) -> Result<Request, Response> {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| {
        refusal(StatusCode::PAYLOAD_TOO_LARGE, "Dit formulier is te groot voor de console.")
    })?;
    let form = std::str::from_utf8(&bytes).unwrap_or("");
    let fits = field(form, FORM_TOKEN_FIELD)
        .is_some_and(|candidate| access.form_token_matches(session_id, candidate));
    if !fits {
        return Err(refusal(
            StatusCode::FORBIDDEN,
            "Dit formulier komt niet van deze console of is van een eerdere sessie. Er is niets \
             gewijzigd. Laad de pagina opnieuw en probeer het nog eens.",
        ));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_and_sessions_fit_only_themselves() -> Result<(), String> {
        let access = Access::new(8080)?;
        assert!(access.token().len() == 64);
        assert!(access.token_matches(access.token()));
        assert!(!access.token_matches(""));
        assert!(!access.token_matches(&access.token()[..63]));
        assert!(!access.token_matches(&access.token().to_uppercase()));

        let first = access.open_session()?;
        let second = access.open_session()?;
        assert_ne!(first, second);
        assert!(access.session(&first).is_some() && access.session(&second).is_some());
        assert!(access.session(access.token()).is_none(), "the token is no session");
        assert!(access.session("").is_none());

        let form = access.form_token(&first);
        assert!(access.form_token_matches(&first, &form));
        assert!(!access.form_token_matches(&second, &form), "another session's form token");
        assert!(!access.form_token_matches(&first, ""));
        assert!(!access.form_token_matches(&first, "zz"));
        Ok(())
    }

    #[test]
    fn the_oldest_session_ends_when_too_many_are_open() -> Result<(), String> {
        let access = Access::new(8080)?;
        let first = access.open_session()?;
        for _ in 0..MAX_SESSIONS {
            access.open_session()?;
        }
        assert!(access.session(&first).is_none());
        Ok(())
    }

    #[test]
    fn fields_and_cookies_are_found_by_their_exact_name() {
        assert_eq!(field("a=1&csrf=ab&xcsrf=cd", "csrf"), Some("ab"));
        assert_eq!(field("xcsrf=cd", "csrf"), None);
        let request = Request::builder()
            .header(header::COOKIE, "other=1; eropaf_console_8080=abc")
            .body(Body::empty())
            .unwrap_or_default();
        assert_eq!(cookie_value(&request, "eropaf_console_8080"), Some("abc"));
        assert_eq!(cookie_value(&request, "eropaf_console_9090"), None);
    }
}
