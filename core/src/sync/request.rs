//! What a device signs for a relay request, and the proof a joining device gives that it holds
//! an invitation secret. One definition for the client and the relay.

use ring::hmac;

use crate::crypto::{sha256, DeviceIdentity};

pub const HEADER_DEVICE: &str = "x-eropaf-device";
pub const HEADER_TIMESTAMP: &str = "x-eropaf-timestamp";
pub const HEADER_SIGNATURE: &str = "x-eropaf-signature";

/// Domain separation: a request signature never passes as an envelope or roster signature.
pub const REQUEST_DOMAIN: &[u8] = b"eropaf request v1\0";
pub const JOIN_DOMAIN: &[u8] = b"eropaf join v1\0";

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

/// What the relay keeps of an invitation secret.
pub fn secret_hash(secret: &[u8]) -> [u8; 32] {
    sha256(secret)
}

/// HMAC-SHA256 keyed by `sha256(secret)` over `JOIN_DOMAIN || card_json`, hex.
pub fn join_proof(secret_hash: &[u8; 32], card_json: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret_hash);
    let mut message = JOIN_DOMAIN.to_vec();
    message.extend_from_slice(card_json);
    hex::encode(hmac::sign(&key, &message).as_ref())
}

/// Constant-time check of a hex join proof.
pub fn verify_join_proof(secret_hash: &[u8; 32], card_json: &[u8], proof_hex: &str) -> bool {
    let Ok(proof) = hex::decode(proof_hex) else { return false };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret_hash);
    let mut message = JOIN_DOMAIN.to_vec();
    message.extend_from_slice(card_json);
    hmac::verify(&key, &message, &proof).is_ok()
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

    #[test]
    fn join_proof_binds_secret_and_card() {
        let hash = secret_hash(&[7u8; 16]);
        let proof = join_proof(&hash, b"{\"card\":1}");
        assert!(verify_join_proof(&hash, b"{\"card\":1}", &proof));
        assert!(!verify_join_proof(&hash, b"{\"card\":2}", &proof));
        assert!(!verify_join_proof(&secret_hash(&[8u8; 16]), b"{\"card\":1}", &proof));
    }
}
