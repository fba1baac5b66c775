//! Response headers on every answer of the console, refusals included: the pages show case
//! data, so no other site may frame them, no cache may keep them, and the browser runs
//! nothing the console did not write itself.

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The console's own pages: one stylesheet from the console, no script, forms only to the
/// console itself. The charts are inline SVG with presentation attributes (`fill=`), which
/// `style-src` does not govern, so no `'unsafe-inline'` is needed.
pub const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The policy for a self-contained document (the inzage, the print version): it carries its
/// own `<style>` (and the print version one `<script>`) so it still reads when saved to
/// disk; the browser may apply exactly those, by their SHA-256, and nothing else.
pub fn document_policy(html: &str, script: Option<&str>) -> String {
    let style = inline_block(html, "<style>", "</style>")
        .map_or_else(|| "'none'".to_string(), |css| format!("'sha256-{}'", sha256_base64(css)));
    let script =
        script.map_or_else(|| "'none'".to_string(), |js| format!("'sha256-{}'", sha256_base64(js)));
    format!(
        "default-src 'none'; style-src {style}; script-src {script}; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    )
}

/// The text between the first `open` and the `close` after it.
fn inline_block<'a>(html: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = html.find(open)? + open.len();
    let length = html.get(start..)?.find(close)?;
    html.get(start..start + length)
}

fn sha256_base64(text: &str) -> String {
    base64(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref())
}

/// Standard base64 with padding (RFC 4648), as CSP hash sources are written.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        // `chunks` never yields an empty chunk, so `chunk[0]` exists.
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Adds the headers to every response; a handler that set its own Content-Security-Policy
/// (a self-contained document) keeps it.
pub async fn secure(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
    }
    let fixed: [(HeaderName, &'static str); 7] = [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // No other site may load a response as an image or script, or keep a handle on a
        // console window it opened.
        (HeaderName::from_static("cross-origin-resource-policy"), "same-origin"),
        (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
        (HeaderName::from_static("x-permitted-cross-domain-policies"), "none"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn a_document_may_run_only_its_own_style_and_script() {
        let html = "<html><head><style>body{color:red}</style></head><body></body></html>";
        let policy = document_policy(html, Some("window.print()"));
        // The hashes as `echo -n TEXT | openssl dgst -sha256 -binary | base64` gives them.
        assert!(
            policy.contains("style-src 'sha256-FcQqt3aNlV7AZnGV4zkQRVeCeJOxbMPnQSx258L803E='"),
            "{policy}"
        );
        assert!(
            policy.contains("script-src 'sha256-MguIPR6qNR8D3B+eAlK+bIRTZe8t3wkOY4B/56Me9FU='"),
            "{policy}"
        );
        assert!(!policy.contains("unsafe"));
        let bare = document_policy("<p>geen stijl</p>", None);
        assert!(bare.contains("style-src 'none'") && bare.contains("script-src 'none'"));
    }
}
