//! Envelopes, the unit of sync: a header, an AES-256-GCM body under a key derived from the
//! case key and a per-envelope salt, and the author device's Ed25519 signature; their one
//! canonical binary encoding. What the body holds (automerge changes) is the core's concern.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::hkdf;

use crate::crypto::{fill_random, sha256, verify_signature, DeviceId, DeviceIdentity, SecretKey};
use crate::{Error, Result};

pub const ENVELOPE_VERSION: u8 = 2;
/// Envelopes from before the signer's roster position was carried; still read.
const ENVELOPE_VERSION_1: u8 = 1;
/// The largest body (ciphertext and tag) an envelope may carry. Bounds what a receiver
/// allocates and decrypts for one envelope; a full case snapshot is orders of magnitude less.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
pub const SIGNATURE_LEN: usize = 64;
const TAG_LEN: usize = 16;

/// HKDF info strings. Key and nonce come from separate expansions so neither is a prefix of
/// the other's output; the version in the name keeps a future v2 from sharing keys with v1.
const KEY_INFO: &[u8] = b"eropaf envelope v1 key";
const NONCE_INFO: &[u8] = b"eropaf envelope v1 nonce";
/// Prefixed to what is signed. The same device key signs transport requests, rosters and key
/// packages; the prefix keeps a signature made for one of those from passing as an envelope's.
const SIGNING_CONTEXT: &[u8] = b"eropaf envelope v1 signature\0";

/// What an envelope's payload is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvelopeKind {
    /// Automerge changes (`save_after`), all made by the author.
    Changes,
    /// A full automerge `save()`: everyone's history up to some point.
    Snapshot,
    Roster,
    KeyPackage,
}

impl EnvelopeKind {
    fn to_byte(self) -> u8 {
        match self {
            EnvelopeKind::Changes => 0,
            EnvelopeKind::Snapshot => 1,
            EnvelopeKind::Roster => 2,
            EnvelopeKind::KeyPackage => 3,
        }
    }

    fn from_byte(byte: u8) -> Option<EnvelopeKind> {
        match byte {
            0 => Some(EnvelopeKind::Changes),
            1 => Some(EnvelopeKind::Snapshot),
            2 => Some(EnvelopeKind::Roster),
            3 => Some(EnvelopeKind::KeyPackage),
            _ => None,
        }
    }
}

/// Everything about an envelope the relay may see. Encoded in full as the body's associated
/// data and under the signature, so no field can be changed without the envelope failing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeHeader {
    pub version: u8,
    pub team_id: [u8; 16],
    /// Random, meaningless.
    pub doc_id: [u8; 16],
    /// Which case-key version sealed the body.
    pub key_version: u32,
    pub author: DeviceId,
    /// Per device and per document, starting at 1.
    pub seq: u64,
    /// `Envelope::hash` of the author's previous envelope for this document; `None` exactly
    /// when `seq` is 1.
    pub prev: Option<[u8; 32]>,
    pub kind: EnvelopeKind,
    /// Random per envelope; `Envelope::seal` draws a fresh one.
    pub salt: [u8; 16],
    /// Snapshots only: the relay sequence the snapshot covers.
    pub covers_server_seq: Option<u64>,
    /// The signer's roster when it sealed: its length and head hash (hex in the roster,
    /// bytes here). A receiver whose relay serves a shorter roster learns that the relay
    /// holds roster entries back, such as a revocation. None in version 1 envelopes.
    pub roster: Option<(u64, [u8; 32])>,
}

impl EnvelopeHeader {
    /// A header with a random salt and no `covers_server_seq` (see `covering`).
    pub fn new(
        team_id: [u8; 16],
        doc_id: [u8; 16],
        key_version: u32,
        author: DeviceId,
        seq: u64,
        prev: Option<[u8; 32]>,
        kind: EnvelopeKind,
    ) -> Result<EnvelopeHeader> {
        let mut salt = [0u8; 16];
        fill_random(&mut salt)?;
        Ok(EnvelopeHeader {
            version: ENVELOPE_VERSION,
            team_id,
            doc_id,
            key_version,
            author,
            seq,
            prev,
            kind,
            salt,
            covers_server_seq: None,
            roster: None,
        })
    }

    /// The same header, stating the signer's roster position.
    pub fn at_roster(self, len: u64, head: [u8; 32]) -> EnvelopeHeader {
        EnvelopeHeader { roster: Some((len, head)), ..self }
    }

    /// The same header, stating the relay sequence a snapshot covers.
    pub fn covering(self, server_seq: u64) -> EnvelopeHeader {
        EnvelopeHeader { covers_server_seq: Some(server_seq), ..self }
    }

    /// The canonical encoding, big-endian, fields in declaration order; an optional field is a
    /// 0/1 flag byte followed by the value only when present. Nothing here is padding or
    /// free-form, so one header has exactly one encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.push(self.version);
        out.extend_from_slice(&self.team_id);
        out.extend_from_slice(&self.doc_id);
        out.extend_from_slice(&self.key_version.to_be_bytes());
        out.extend_from_slice(self.author.as_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        match &self.prev {
            None => out.push(0),
            Some(hash) => {
                out.push(1);
                out.extend_from_slice(hash);
            }
        }
        out.push(self.kind.to_byte());
        out.extend_from_slice(&self.salt);
        match self.covers_server_seq {
            None => out.push(0),
            Some(seq) => {
                out.push(1);
                out.extend_from_slice(&seq.to_be_bytes());
            }
        }
        if self.version >= ENVELOPE_VERSION {
            match &self.roster {
                None => out.push(0),
                Some((len, head)) => {
                    out.push(1);
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(head);
                }
            }
        }
        out
    }

    fn decode(r: &mut Reader<'_>) -> Result<EnvelopeHeader> {
        let version = r.u8()?;
        // Checked before anything else: a later version may lay out the rest differently.
        if version != ENVELOPE_VERSION && version != ENVELOPE_VERSION_1 {
            return Err(refused(format!("unknown envelope version {version}")));
        }
        let team_id = r.array()?;
        let doc_id = r.array()?;
        let key_version = u32::from_be_bytes(r.array()?);
        let author = DeviceId::from_slice(r.take(16)?)
            .ok_or_else(|| refused("the author id is malformed"))?;
        let seq = u64::from_be_bytes(r.array()?);
        let prev = match r.u8()? {
            0 => None,
            1 => Some(r.array()?),
            _ => return Err(refused("the prev flag is malformed")),
        };
        let kind_byte = r.u8()?;
        let kind = EnvelopeKind::from_byte(kind_byte)
            .ok_or_else(|| refused(format!("unknown envelope kind {kind_byte}")))?;
        let salt = r.array()?;
        let covers_server_seq = match r.u8()? {
            0 => None,
            1 => Some(u64::from_be_bytes(r.array()?)),
            _ => return Err(refused("the covered-sequence flag is malformed")),
        };
        let roster_flag = if version >= ENVELOPE_VERSION { r.u8()? } else { 0 };
        let roster = match roster_flag {
            0 => None,
            1 => Some((u64::from_be_bytes(r.array()?), r.array()?)),
            _ => return Err(refused("the roster flag is malformed")),
        };
        let header = EnvelopeHeader {
            version,
            team_id,
            doc_id,
            key_version,
            author,
            seq,
            prev,
            kind,
            salt,
            covers_server_seq,
            roster,
        };
        header.check().map_err(refused)?;
        Ok(header)
    }

    /// Rules a well-formed header keeps, checked when sealing and when decoding so a device
    /// never sends what its peers would refuse.
    fn check(&self) -> Result<(), &'static str> {
        if self.version != ENVELOPE_VERSION && self.version != ENVELOPE_VERSION_1 {
            return Err("unknown envelope version");
        }
        if self.version == ENVELOPE_VERSION_1 && self.roster.is_some() {
            return Err("a version 1 envelope carries no roster position");
        }
        if self.seq == 0 {
            return Err("sequence numbers start at 1");
        }
        if (self.seq == 1) != self.prev.is_none() {
            return Err("only the first envelope of a chain has no previous hash");
        }
        if self.covers_server_seq.is_some() && self.kind != EnvelopeKind::Snapshot {
            return Err("only a snapshot covers a relay sequence");
        }
        Ok(())
    }
}

/// A sealed, signed envelope. Built by `seal` or `from_bytes`; the fields are public for
/// reading, and any change to them makes `verify` and `open` fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub header: EnvelopeHeader,
    /// AES-256-GCM ciphertext followed by its 16-byte tag.
    pub body: Vec<u8>,
    /// Ed25519 over `SIGNING_CONTEXT || header.encode() || body`.
    pub signature: Vec<u8>,
}

impl Envelope {
    /// Seals `payload` for the case key `key` and signs it as `signer`, who must be
    /// `header.author`.
    ///
    /// The body key and nonce are derived with HKDF-SHA256 from the case key, salted with the
    /// header's salt. A fresh random salt is drawn here, replacing the one in `header`: a salt
    /// reused under one case key would repeat both the AES key and the nonce, which breaks
    /// GCM. With 128-bit random salts, a repeat is out of reach (birthday bound 2^64
    /// envelopes per case key). Deriving the nonce rather than fixing it at zero costs nothing
    /// and adds no assumption.
    pub fn seal(
        mut header: EnvelopeHeader,
        key: &SecretKey,
        payload: &[u8],
        signer: &DeviceIdentity,
    ) -> Result<Envelope> {
        if signer.id() != header.author {
            return Err(Error::Crypto("the signing device is not the envelope's author".into()));
        }
        header.check().map_err(|reason| Error::invalid("envelope header", reason))?;
        if payload.len() > MAX_BODY - TAG_LEN {
            return Err(Error::invalid(
                "payload",
                format!("an envelope carries at most {} bytes", MAX_BODY - TAG_LEN),
            ));
        }
        fill_random(&mut header.salt)?;

        let aad = header.encode();
        let (body_key, nonce) = body_key(key, &header.salt)
            .map_err(|_| Error::Crypto("could not derive the envelope key".into()))?;
        let mut body = Vec::with_capacity(payload.len() + TAG_LEN);
        body.extend_from_slice(payload);
        body_key
            .seal_in_place_append_tag(nonce, Aad::from(&aad), &mut body)
            .map_err(|_| Error::Crypto("sealing the envelope failed".into()))?;

        let signature = signer.sign(&signed_message(&aad, &body));
        Ok(Envelope { header, body, signature })
    }

    /// Checks the signature against the author's Ed25519 public key (from the roster). The
    /// key must also be the author's: a device id is the hash of its public key, so a key
    /// looked up for the wrong device is refused rather than trusted.
    pub fn verify(&self, author_public_key: &[u8]) -> Result<()> {
        if DeviceId::from_public_key(author_public_key) != self.header.author {
            return Err(refused("the public key is not the author's"));
        }
        if self.signature.len() != SIGNATURE_LEN {
            return Err(refused("the signature has the wrong length"));
        }
        let message = signed_message(&self.header.encode(), &self.body);
        verify_signature(author_public_key, &message, &self.signature)
            .map_err(|_| refused("the envelope signature does not match its author"))
    }

    /// Decrypts the body. Call `verify` first: decryption proves only that someone holding the
    /// case key wrote it, not which device. A changed body or header, or another case key, is
    /// refused.
    pub fn open(&self, key: &SecretKey) -> Result<Vec<u8>> {
        if self.body.len() < TAG_LEN {
            return Err(refused("the envelope body is truncated"));
        }
        let aad = self.header.encode();
        let (body_key, nonce) = body_key(key, &self.header.salt)
            .map_err(|_| Error::Crypto("could not derive the envelope key".into()))?;
        let mut buf = self.body.clone();
        let len = body_key
            .open_in_place(nonce, Aad::from(&aad), &mut buf)
            .map_err(|_| refused("the envelope body failed authentication"))?
            .len();
        buf.truncate(len);
        Ok(buf)
    }

    /// `header.encode() || u32 body length || body || u16 signature length || signature`, all
    /// big-endian. A length too large for its prefix is written saturated, which `from_bytes`
    /// refuses; `seal` never produces one.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.header.encode();
        out.reserve(4 + self.body.len() + 2 + self.signature.len());
        let body_len = u32::try_from(self.body.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&body_len.to_be_bytes());
        out.extend_from_slice(&self.body);
        let signature_len = u16::try_from(self.signature.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&signature_len.to_be_bytes());
        out.extend_from_slice(&self.signature);
        out
    }

    /// Parses the canonical encoding, refusing anything else: truncated input, trailing
    /// bytes, an unknown version or kind, a malformed flag, a body over `MAX_BODY`, a signature
    /// that is not 64 bytes. Every accepted input re-encodes to exactly the same bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Envelope> {
        let mut r = Reader { bytes };
        let header = EnvelopeHeader::decode(&mut r)?;
        let body_len = u32::from_be_bytes(r.array()?) as usize;
        if body_len > MAX_BODY {
            return Err(refused("the envelope body is too large"));
        }
        if body_len < TAG_LEN {
            return Err(refused("the envelope body is truncated"));
        }
        let body = r.take(body_len)?.to_vec();
        let signature_len = u16::from_be_bytes(r.array()?) as usize;
        if signature_len != SIGNATURE_LEN {
            return Err(refused("the signature has the wrong length"));
        }
        let signature = r.take(SIGNATURE_LEN)?.to_vec();
        if !r.bytes.is_empty() {
            return Err(refused("trailing bytes after the envelope"));
        }
        Ok(Envelope { header, body, signature })
    }

    /// SHA-256 of `to_bytes()`: what the author's next envelope's `prev` points at, and an id
    /// for deduplication. Stable because Ed25519 signatures are deterministic and ring refuses
    /// non-canonical ones, so a relay cannot re-encode a valid envelope under a new hash.
    pub fn hash(&self) -> [u8; 32] {
        sha256(&self.to_bytes())
    }
}

fn signed_message(header: &[u8], body: &[u8]) -> Vec<u8> {
    // The header encoding is self-delimiting, so header||body cannot be split two ways.
    let mut message = Vec::with_capacity(SIGNING_CONTEXT.len() + header.len() + body.len());
    message.extend_from_slice(SIGNING_CONTEXT);
    message.extend_from_slice(header);
    message.extend_from_slice(body);
    message
}

struct NonceLen;

impl hkdf::KeyType for NonceLen {
    fn len(&self) -> usize {
        NONCE_LEN
    }
}

/// The body key and nonce for one (case key, salt) pair. ring keeps the derived key inside
/// `UnboundKey`, so it never sits in a buffer of ours that would need wiping.
fn body_key(
    key: &SecretKey,
    salt: &[u8; 16],
) -> Result<(LessSafeKey, Nonce), ring::error::Unspecified> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(key.as_bytes());
    let unbound = UnboundKey::from(prk.expand(&[KEY_INFO], &AES_256_GCM)?);
    let mut nonce = [0u8; NONCE_LEN];
    prk.expand(&[NONCE_INFO], NonceLen)?.fill(&mut nonce)?;
    Ok((LessSafeKey::new(unbound), Nonce::assume_unique_for_key(nonce)))
}

fn refused(reason: impl Into<String>) -> Error {
    Error::Refused(reason.into())
}

/// A cursor over untrusted input; every read is bounds-checked and refuses on truncation.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.bytes.len() < n {
            return Err(refused("the envelope is truncated"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn header(author: DeviceId, seq: u64, kind: EnvelopeKind) -> EnvelopeHeader {
        let prev = (seq > 1).then_some([7u8; 32]);
        EnvelopeHeader::new([1; 16], [2; 16], 3, author, seq, prev, kind).unwrap()
    }

    fn sealed(payload: &[u8]) -> (Envelope, DeviceIdentity, SecretKey) {
        let device = DeviceIdentity::generate().unwrap();
        let key = SecretKey::generate().unwrap();
        let envelope =
            Envelope::seal(header(device.id(), 5, EnvelopeKind::Changes), &key, payload, &device)
                .unwrap();
        (envelope, device, key)
    }

    #[test]
    fn an_envelope_survives_encoding_verification_and_opening() {
        let (envelope, device, key) = sealed(b"automerge changes");
        let bytes = envelope.to_bytes();
        let decoded = Envelope::from_bytes(&bytes).unwrap();
        assert_eq!(decoded, envelope);
        assert_eq!(decoded.to_bytes(), bytes);
        assert_eq!(decoded.hash(), sha256(&bytes));
        decoded.verify(device.public_key()).unwrap();
        assert_eq!(decoded.open(&key).unwrap(), b"automerge changes");
    }

    #[test]
    fn optional_header_fields_survive_encoding() {
        let device = DeviceIdentity::generate().unwrap();
        let key = SecretKey::generate().unwrap();
        for header in [
            header(device.id(), 1, EnvelopeKind::Changes),
            header(device.id(), 2, EnvelopeKind::Snapshot).covering(u64::MAX),
            header(device.id(), 9, EnvelopeKind::Roster),
            header(device.id(), 1, EnvelopeKind::KeyPackage),
        ] {
            let envelope = Envelope::seal(header.clone(), &key, b"", &device).unwrap();
            let decoded = Envelope::from_bytes(&envelope.to_bytes()).unwrap();
            assert_eq!(decoded, envelope);
            assert_eq!(EnvelopeHeader { salt: header.salt, ..decoded.header }, header);
            decoded.verify(device.public_key()).unwrap();
            assert_eq!(decoded.open(&key).unwrap(), b"");
        }
    }

    #[test]
    fn every_seal_draws_a_fresh_salt() {
        let device = DeviceIdentity::generate().unwrap();
        let key = SecretKey::generate().unwrap();
        let header = header(device.id(), 1, EnvelopeKind::Changes);
        let a = Envelope::seal(header.clone(), &key, b"same", &device).unwrap();
        let b = Envelope::seal(header, &key, b"same", &device).unwrap();
        assert_ne!(a.header.salt, b.header.salt);
        assert_ne!(a.body, b.body);
    }

    #[test]
    fn the_body_holds_no_plaintext() {
        let marker = b"Willem de Vries, Kerkstraat 12";
        let (envelope, _, _) = sealed(marker);
        let bytes = envelope.to_bytes();
        assert!(!bytes.windows(marker.len()).any(|w| w == marker));
        assert!(!bytes.windows(6).any(|w| w == b"Willem"));
    }

    #[test]
    fn only_the_author_can_seal() {
        let author = DeviceIdentity::generate().unwrap();
        let other = DeviceIdentity::generate().unwrap();
        let key = SecretKey::generate().unwrap();
        let result =
            Envelope::seal(header(author.id(), 1, EnvelopeKind::Changes), &key, b"x", &other);
        assert!(matches!(result, Err(Error::Crypto(_))));
    }

    #[test]
    fn the_signers_roster_position_travels_and_version_1_still_reads() {
        let device = DeviceIdentity::generate().unwrap();
        let key = SecretKey::generate().unwrap();
        let with_roster = header(device.id(), 1, EnvelopeKind::Changes).at_roster(7, [9; 32]);
        let sealed = Envelope::seal(with_roster, &key, b"x", &device).unwrap();
        let read = Envelope::from_bytes(&sealed.to_bytes()).unwrap();
        assert_eq!(read.header.roster, Some((7, [9; 32])));
        let old = EnvelopeHeader { version: 1, ..header(device.id(), 1, EnvelopeKind::Changes) };
        let sealed = Envelope::seal(old, &key, b"x", &device).unwrap();
        let read = Envelope::from_bytes(&sealed.to_bytes()).unwrap();
        assert_eq!((read.header.version, read.header.roster), (1, None));
        read.verify(device.public_key()).unwrap();
        assert_eq!(read.open(&key).unwrap(), b"x");
    }

    #[test]
    fn malformed_headers_are_not_sealed() {
        let device = DeviceIdentity::generate().unwrap();
        let key = SecretKey::generate().unwrap();
        let bad = [
            EnvelopeHeader { seq: 0, prev: None, ..header(device.id(), 1, EnvelopeKind::Changes) },
            EnvelopeHeader { prev: None, ..header(device.id(), 2, EnvelopeKind::Changes) },
            EnvelopeHeader { prev: Some([0; 32]), ..header(device.id(), 1, EnvelopeKind::Changes) },
            header(device.id(), 1, EnvelopeKind::Changes).covering(4),
            EnvelopeHeader { version: 3, ..header(device.id(), 1, EnvelopeKind::Changes) },
            EnvelopeHeader {
                version: 1,
                ..header(device.id(), 1, EnvelopeKind::Changes).at_roster(1, [0; 32])
            },
        ];
        for header in bad {
            let result = Envelope::seal(header, &key, b"x", &device);
            assert!(matches!(result, Err(Error::InvalidInput { .. })));
        }
    }

    #[test]
    fn another_devices_signature_is_refused() {
        let (mut envelope, device, _) = sealed(b"x");
        let forger = DeviceIdentity::generate().unwrap();
        // The forger signs the same content but claims to be `device`.
        let message = signed_message(&envelope.header.encode(), &envelope.body);
        envelope.signature = forger.sign(&message);
        assert!(matches!(envelope.verify(device.public_key()), Err(Error::Refused(_))));
        // And a valid envelope checked against someone else's key is refused too.
        let (envelope, _, _) = sealed(b"x");
        assert!(matches!(envelope.verify(forger.public_key()), Err(Error::Refused(_))));
    }

    #[test]
    fn another_case_key_is_refused() {
        let (envelope, _, _) = sealed(b"x");
        let other = SecretKey::generate().unwrap();
        assert!(matches!(envelope.open(&other), Err(Error::Refused(_))));
    }

    #[test]
    fn a_header_changed_after_signing_is_refused() {
        let (envelope, device, key) = sealed(b"x");
        let changes: [fn(&mut EnvelopeHeader); 7] = [
            |h| h.seq += 1,
            |h| h.doc_id[0] ^= 1,
            |h| h.team_id[15] ^= 1,
            |h| h.key_version += 1,
            |h| h.prev = Some([8; 32]),
            |h| h.kind = EnvelopeKind::Snapshot,
            |h| h.salt[3] ^= 1,
        ];
        for change in changes {
            let mut tampered = envelope.clone();
            change(&mut tampered.header);
            assert!(matches!(tampered.verify(device.public_key()), Err(Error::Refused(_))));
            assert!(matches!(tampered.open(&key), Err(Error::Refused(_))));
            // Also after a trip through the encoding, as a receiver would see it.
            let decoded = Envelope::from_bytes(&tampered.to_bytes()).unwrap();
            assert!(matches!(decoded.verify(device.public_key()), Err(Error::Refused(_))));
        }
        // Claiming another author fails against either key.
        let other = DeviceIdentity::generate().unwrap();
        let mut tampered = envelope.clone();
        tampered.header.author = other.id();
        assert!(matches!(tampered.verify(device.public_key()), Err(Error::Refused(_))));
        assert!(matches!(tampered.verify(other.public_key()), Err(Error::Refused(_))));
    }

    #[test]
    fn truncated_and_trailing_bytes_are_refused() {
        let (envelope, _, _) = sealed(b"some payload");
        let bytes = envelope.to_bytes();
        for len in 0..bytes.len() {
            assert!(matches!(Envelope::from_bytes(&bytes[..len]), Err(Error::Refused(_))));
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(Envelope::from_bytes(&longer), Err(Error::Refused(_))));
    }

    #[test]
    fn malformed_encodings_are_refused() {
        let (envelope, _, _) = sealed(b"x");
        let bytes = envelope.to_bytes();
        // Offsets in the fixed layout of a seq-5 Changes header (prev present).
        let prev_flag = 1 + 16 + 16 + 4 + 16 + 8;
        let kind = prev_flag + 1 + 32;
        let covers_flag = kind + 1 + 16;
        let roster_flag = covers_flag + 1;
        let body_len = roster_flag + 1;
        let cases: Vec<(usize, u8)> = vec![
            (0, 0),           // version 0
            (0, 3),           // version 3
            (prev_flag, 2),   // flag neither 0 nor 1
            (kind, 4),        // unknown kind
            (covers_flag, 2), // flag neither 0 nor 1
            (roster_flag, 2), // flag neither 0 nor 1
        ];
        for (index, value) in cases {
            let mut bad = bytes.clone();
            bad[index] = value;
            assert!(matches!(Envelope::from_bytes(&bad), Err(Error::Refused(_))), "{index}");
        }

        let too_large = u32::try_from(MAX_BODY + 1).unwrap().to_be_bytes();
        let mut bad = bytes.clone();
        bad[body_len..body_len + 4].copy_from_slice(&too_large);
        assert!(matches!(Envelope::from_bytes(&bad), Err(Error::Refused(_))));

        let mut short_signature = envelope.clone();
        short_signature.signature.pop();
        let result = Envelope::from_bytes(&short_signature.to_bytes());
        assert!(matches!(result, Err(Error::Refused(_))));

        // A header that breaks the chain rules is refused, not only when sealing.
        let mut unchained = envelope.clone();
        unchained.header.prev = None;
        let result = Envelope::from_bytes(&unchained.to_bytes());
        assert!(matches!(result, Err(Error::Refused(_))));
        let mut covering = envelope;
        covering.header.covers_server_seq = Some(1);
        let result = Envelope::from_bytes(&covering.to_bytes());
        assert!(matches!(result, Err(Error::Refused(_))));
    }

    proptest! {
        #[test]
        fn any_flipped_byte_is_refused(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
            let (envelope, device, key) = sealed(b"a visit on Tuesday");
            let mut bytes = envelope.to_bytes();
            let i = index.index(bytes.len());
            bytes[i] ^= flip;
            match Envelope::from_bytes(&bytes) {
                Err(e) => prop_assert!(matches!(e, Error::Refused(_))),
                Ok(tampered) => {
                    prop_assert!(matches!(
                        tampered.verify(device.public_key()),
                        Err(Error::Refused(_))
                    ));
                    // Opening without verifying can succeed only when the flip hit the
                    // signature, and then yields the original content.
                    match tampered.open(&key) {
                        Ok(content) => prop_assert_eq!(content, b"a visit on Tuesday".to_vec()),
                        Err(e) => prop_assert!(matches!(e, Error::Refused(_))),
                    }
                }
            }
        }
    }
}
