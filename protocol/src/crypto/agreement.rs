//! X25519 agreement keys and HPKE (RFC 9180, base mode: DHKEM(X25519, HKDF-SHA256),
//! HKDF-SHA256, AES-256-GCM), used to seal small secrets such as epoch keys to one device.
//! HPKE comes from the `hpke` crate; the X25519 secret is kept with x25519-dalek so it can be
//! stored (sealed) and restored.

use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::{Error, Result};

type Kem = X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::AesGcm256;

/// A device's X25519 key pair: others seal epoch keys to its public half.
pub struct AgreementKey {
    secret: StaticSecret,
}

/// HPKE output: the encapsulated key and the ciphertext (with tag).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SealedBox {
    pub enc: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl AgreementKey {
    pub fn generate() -> Result<AgreementKey> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        super::fill_random(bytes.as_mut())?;
        Ok(AgreementKey { secret: StaticSecret::from(*bytes) })
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<AgreementKey> {
        let array: [u8; 32] =
            bytes.try_into().map_err(|_| Error::Corrupt("an agreement key has 32 bytes".into()))?;
        Ok(AgreementKey { secret: StaticSecret::from(array) })
    }

    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.secret.to_bytes())
    }

    pub fn public_key(&self) -> [u8; 32] {
        *PublicKey::from(&self.secret).as_bytes()
    }
}

/// Seals `plaintext` to the holder of `recipient_public_key`. `info` binds the purpose and
/// context (team, epoch, recipient); `aad` is authenticated but not encrypted.
pub fn seal_to(
    recipient_public_key: &[u8],
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<SealedBox> {
    let recipient = <Kem as hpke::Kem>::PublicKey::from_bytes(recipient_public_key)
        .map_err(|_| Error::invalid("agreement_key", "geen geldige X25519-sleutel"))?;
    let (enc, ciphertext) =
        hpke::single_shot_seal::<Aead, Kdf, Kem>(&OpModeS::Base, &recipient, info, plaintext, aad)
            .map_err(|e| Error::Crypto(format!("hpke seal: {e}")))?;
    Ok(SealedBox { enc: enc.to_bytes().to_vec(), ciphertext })
}

/// Opens a box sealed to `key`; a box for another device, or altered, is refused.
pub fn open_sealed(
    key: &AgreementKey,
    info: &[u8],
    aad: &[u8],
    sealed: &SealedBox,
) -> Result<Zeroizing<Vec<u8>>> {
    let secret = <Kem as hpke::Kem>::PrivateKey::from_bytes(key.to_bytes().as_ref())
        .map_err(|e| Error::Crypto(format!("hpke key: {e}")))?;
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&sealed.enc)
        .map_err(|_| Error::Refused("a sealed key box is malformed".into()))?;
    hpke::single_shot_open::<Aead, Kdf, Kem>(
        &OpModeR::Base,
        &secret,
        &enc,
        info,
        &sealed.ciphertext,
        aad,
    )
    .map(Zeroizing::new)
    .map_err(|_| Error::Refused("a sealed key box does not open with this device's key".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_recipient_opens_a_sealed_box() {
        let alice = AgreementKey::generate().unwrap();
        let mallory = AgreementKey::generate().unwrap();
        let sealed = seal_to(&alice.public_key(), b"epoch 2", b"team", b"epoch key bytes").unwrap();
        assert_eq!(
            open_sealed(&alice, b"epoch 2", b"team", &sealed).unwrap().as_slice(),
            b"epoch key bytes"
        );
        assert!(matches!(
            open_sealed(&mallory, b"epoch 2", b"team", &sealed),
            Err(Error::Refused(_))
        ));
        assert!(
            open_sealed(&alice, b"epoch 3", b"team", &sealed).is_err(),
            "info binds the context"
        );
        assert!(
            open_sealed(&alice, b"epoch 2", b"other", &sealed).is_err(),
            "aad is authenticated"
        );
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert!(open_sealed(&alice, b"epoch 2", b"team", &tampered).is_err());
    }

    #[test]
    fn a_stored_key_opens_what_was_sealed_before() {
        let key = AgreementKey::generate().unwrap();
        let sealed = seal_to(&key.public_key(), b"i", b"a", b"secret").unwrap();
        let restored = AgreementKey::from_bytes(key.to_bytes().as_ref()).unwrap();
        assert_eq!(restored.public_key(), key.public_key());
        assert_eq!(open_sealed(&restored, b"i", b"a", &sealed).unwrap().as_slice(), b"secret");
    }

    #[test]
    fn our_key_handling_matches_hpke_key_derivation() {
        // The public key we publish (x25519-dalek) must be the one hpke derives from the same
        // secret, or every sealed box would be unopenable.
        let key = AgreementKey::generate().unwrap();
        let secret = <Kem as hpke::Kem>::PrivateKey::from_bytes(key.to_bytes().as_ref()).unwrap();
        let public = <Kem as hpke::Kem>::sk_to_pk(&secret);
        assert_eq!(public.to_bytes().as_slice(), key.public_key().as_slice());
    }
}
