//! What a device signs for a relay request: one definition for the client and the relay.

use crate::crypto::{sha256, DeviceIdentity};

pub const HEADER_DEVICE: &str = "x-eropaf-device";
pub const HEADER_TIMESTAMP: &str = "x-eropaf-timestamp";
pub const HEADER_SIGNATURE: &str = "x-eropaf-signature";

/// Domain separation: a request signature never passes as an envelope or roster signature.
pub const REQUEST_DOMAIN: &[u8] = b"eropaf request v1\0";

/// `domain || METHOD || "\n" || path_and_query || "\n" || timestamp || "\n" || hex(sha256(body))`.
pub fn canonical_request(
    method: &str,
    path_and_query: &str,
    timestamp_millis: i64,
    body: &[u8],
) -> Vec<u8> {
    let mut out = REQUEST_DOMAIN.to_vec();
    out.extend_from_slice(method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(path_and_query.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(timestamp_millis.to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(hex::encode(sha256(body)).as_bytes());
    out
}

/// The three headers that authenticate one request.
pub fn sign_request(
    identity: &DeviceIdentity,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now_millis: i64,
) -> Vec<(&'static str, String)> {
    let message = canonical_request(method, path_and_query, now_millis, body);
    vec![
        (HEADER_DEVICE, identity.id().to_hex()),
        (HEADER_TIMESTAMP, now_millis.to_string()),
        (HEADER_SIGNATURE, hex::encode(identity.sign(&message))),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_bytes_are_fixed() {
        let bytes =
            canonical_request("POST", "/v1/teams/ab/envelopes?x=1", 1_700_000_000_000, b"{}");
        let expected = [
            &b"eropaf request v1\0POST\n/v1/teams/ab/envelopes?x=1\n1700000000000\n"[..],
            hex::encode(sha256(b"{}")).as_bytes(),
        ]
        .concat();
        assert_eq!(bytes, expected);
    }
}
