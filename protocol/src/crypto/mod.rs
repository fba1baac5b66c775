//! Keys and sealing: 256-bit secret keys, AES-256-GCM sealing with the place a value lives
//! as associated data, the device's Ed25519 identity (from which its id and automerge actor
//! ids derive), X25519 HPKE sealing to a device, and puncturable keys.

mod agreement;
pub mod puncturable;

use std::fmt;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{Ed25519KeyPair, KeyPair};
use zeroize::Zeroizing;

use crate::{Error, Result};
pub use agreement::{open_sealed, seal_to, AgreementKey, SealedBox};

pub const KEY_LEN: usize = 32;
const SEAL_VERSION: u8 = 1;
/// version byte + nonce + GCM tag
pub const SEAL_OVERHEAD: usize = 1 + NONCE_LEN + 16;

/// A 256-bit key that is wiped from memory when dropped.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<[u8; KEY_LEN]>);

impl SecretKey {
    pub fn generate() -> Result<SecretKey> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        fill_random(key.as_mut())?;
        Ok(SecretKey(key))
    }

    pub fn from_slice(bytes: &[u8]) -> Result<SecretKey> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| {
            Error::invalid(
                "key",
                format!("een opslagsleutel heeft {KEY_LEN} bytes, niet {}", bytes.len()),
            )
        })?;
        Ok(SecretKey(Zeroizing::new(array)))
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// Seals and opens byte strings with AES-256-GCM. The associated data names where a sealed
/// value lives (table and row), so a row copied to another place fails to open.
pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl Sealer {
    pub fn new(key: &SecretKey) -> Sealer {
        // AES_256_GCM takes exactly KEY_LEN bytes, which SecretKey guarantees.
        #[allow(clippy::unwrap_used)]
        let unbound = UnboundKey::new(&AES_256_GCM, key.as_bytes()).unwrap();
        Sealer { key: LessSafeKey::new(unbound), rng: SystemRandom::new() }
    }

    /// `version || nonce || ciphertext || tag`. Random 96-bit nonces: a store seals far fewer
    /// than the 2^32 messages per key after which random nonces would risk a collision.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| Error::Crypto("no randomness".into()))?;
        let mut out = Vec::with_capacity(plaintext.len() + SEAL_OVERHEAD);
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut out[1 + NONCE_LEN..],
            )
            .map_err(|_| Error::Crypto("sealing failed".into()))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Fails with `Error::Corrupt` when the value was altered, truncated or moved.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < SEAL_OVERHEAD || sealed[0] != SEAL_VERSION {
            return Err(Error::Corrupt(
                "a sealed value is truncated or of an unknown version".into(),
            ));
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&sealed[1..1 + NONCE_LEN]);
        let mut buf = sealed[1 + NONCE_LEN..].to_vec();
        let plain_len = self
            .key
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
            .map_err(|_| Error::Corrupt("a sealed value failed authentication".into()))?
            .len();
        buf.truncate(plain_len);
        Ok(buf)
    }
}

/// 16 bytes: the first half of SHA-256 over the Ed25519 public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId([u8; 16]);

impl DeviceId {
    pub fn from_public_key(public_key: &[u8]) -> DeviceId {
        let digest = ring::digest::digest(&ring::digest::SHA256, public_key);
        let mut id = [0u8; 16];
        id.copy_from_slice(&digest.as_ref()[..16]);
        DeviceId(id)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    pub fn from_slice(bytes: &[u8]) -> Option<DeviceId> {
        bytes.try_into().ok().map(DeviceId)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({})", self.to_hex())
    }
}

/// The device's signing identity. The PKCS#8 document is kept (sealed in the store) so the
/// key survives restarts; ring cannot export a key pair any other way.
pub struct DeviceIdentity {
    pkcs8: Zeroizing<Vec<u8>>,
    key_pair: Ed25519KeyPair,
    id: DeviceId,
}

impl DeviceIdentity {
    pub fn generate() -> Result<DeviceIdentity> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| Error::Crypto("could not generate a signing key".into()))?;
        DeviceIdentity::from_pkcs8(pkcs8.as_ref())
    }

    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<DeviceIdentity> {
        let key_pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|e| Error::Corrupt(format!("device signing key: {e}")))?;
        let id = DeviceId::from_public_key(key_pair.public_key().as_ref());
        Ok(DeviceIdentity { pkcs8: Zeroizing::new(pkcs8.to_vec()), key_pair, id })
    }

    pub fn id(&self) -> DeviceId {
        self.id
    }

    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    pub fn public_key(&self) -> &[u8] {
        self.key_pair.public_key().as_ref()
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key_pair.sign(message).as_ref().to_vec()
    }
}

/// An automerge actor id for this device: the device id followed by 8 random bytes for this
/// session. A receiver checks the prefix against the signer; the random tail keeps two copies
/// of one store (a restored backup, a crash between runs) from ever reusing a sequence number.
pub fn session_actor(device: DeviceId) -> Result<Vec<u8>> {
    let mut actor = device.as_bytes().to_vec();
    let mut tail = [0u8; 8];
    fill_random(&mut tail)?;
    actor.extend_from_slice(&tail);
    Ok(actor)
}

/// Checks an Ed25519 signature by the device whose public key is given.
pub fn verify_signature(public_key: &[u8], message: &[u8], signature: &[u8]) -> Result<()> {
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public_key)
        .verify(message, signature)
        .map_err(|_| Error::Refused("the signature does not match".into()))
}

/// SHA-256, for hash chains and ids.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

/// The device that made a change, read from its actor id.
pub fn actor_device(actor: &[u8]) -> Option<DeviceId> {
    actor.get(..16).and_then(DeviceId::from_slice)
}

/// A fresh random identifier (128 bits, hex): case, visit and assessment ids carry no meaning.
pub fn random_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes)?;
    Ok(hex::encode(bytes))
}

pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    SystemRandom::new().fill(buf).map_err(|_| Error::Crypto("no randomness".into()))
}

/// AES-256-GCM with no framing, for the benchmark's baseline.
pub fn raw_aes_gcm_seal(key: &SecretKey, nonce: [u8; NONCE_LEN], data: &mut Vec<u8>) -> Result<()> {
    let unbound = UnboundKey::new(&AES_256_GCM, key.as_bytes())
        .map_err(|_| Error::Crypto("bad key length".into()))?;
    LessSafeKey::new(unbound)
        .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), data)
        .map_err(|_| Error::Crypto("sealing failed".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_place() {
        let sealer = Sealer::new(&SecretKey::generate().unwrap());
        let sealed = sealer.seal(b"cases/1", b"Willem de Vries").unwrap();
        assert_eq!(sealer.open(b"cases/1", &sealed).unwrap(), b"Willem de Vries");
        assert!(!sealed.windows(6).any(|w| w == b"Willem"));
        assert!(matches!(sealer.open(b"cases/2", &sealed), Err(Error::Corrupt(_))));

        let other = Sealer::new(&SecretKey::generate().unwrap());
        assert!(matches!(other.open(b"cases/1", &sealed), Err(Error::Corrupt(_))));

        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert!(matches!(sealer.open(b"cases/1", &tampered), Err(Error::Corrupt(_))));
        assert!(matches!(sealer.open(b"cases/1", &sealed[..10]), Err(Error::Corrupt(_))));
    }

    #[test]
    fn device_id_survives_a_restart_and_prefixes_actor_ids() {
        let identity = DeviceIdentity::generate().unwrap();
        let restored = DeviceIdentity::from_pkcs8(identity.pkcs8()).unwrap();
        assert_eq!(identity.id(), restored.id());
        let actor = session_actor(identity.id()).unwrap();
        assert_eq!(actor_device(&actor), Some(identity.id()));
        assert_ne!(actor, session_actor(identity.id()).unwrap());
    }
}
