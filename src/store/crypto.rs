//! Keys and sealing. Every stored value is XChaCha20-Poly1305 under a random
//! 256-bit data key, with associated data binding it to its tree and key. The data
//! key is wrapped by a key derived from the passphrase with Argon2id. See
//! docs/store-format.md for the byte layouts and the threat model.

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 24;
pub const TAG_LEN: usize = 16;
pub const SALT_LEN: usize = 16;
/// Version byte at the front of every sealed value.
pub const SEALED_VERSION: u8 = 1;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error(
        "the value could not be decrypted: it was altered, truncated or sealed under another key"
    )]
    Unseal,
    #[error("the value is too short to be a sealed value ({0} bytes)")]
    Truncated(usize),
    #[error("sealed with an unknown format version {0}")]
    Version(u8),
    #[error("the system random number generator failed")]
    Random,
    #[error("key derivation failed: {0}")]
    Kdf(String),
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|_| CryptoError::Random)?;
    Ok(b)
}

/// A 256-bit key that is wiped from memory when dropped.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    pub fn random() -> Result<Self, CryptoError> {
        let mut k = Self([0; KEY_LEN]);
        getrandom::getrandom(&mut k.0).map_err(|_| CryptoError::Random)?;
        Ok(k)
    }

    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().into())
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// Argon2id cost parameters, stored in the store header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl KdfParams {
    /// 64 MiB, 3 passes: above OWASP's Argon2id minimum (19 MiB, 2 passes), about
    /// a third of a second on a 2-core machine. Unlocking is rare; guessing must not be cheap.
    pub const DEFAULT: KdfParams = KdfParams {
        m_cost: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };

    /// The cheapest parameters [`Self::check`] accepts (8 MiB, one pass): for
    /// tests and benchmarks, whose passphrases guard nothing. Never chosen by
    /// the program itself.
    pub const LEAST: KdfParams = KdfParams {
        m_cost: 8 * 1024,
        t_cost: 1,
        p_cost: 1,
    };

    /// Refuses parameters so weak (or so large) that a tampered header could be
    /// used to make unlocking trivial or to exhaust memory.
    pub fn check(&self) -> Result<(), CryptoError> {
        let ok = (8 * 1024..=4 * 1024 * 1024).contains(&self.m_cost)
            && (1..=64).contains(&self.t_cost)
            && (1..=16).contains(&self.p_cost);
        if ok {
            Ok(())
        } else {
            Err(CryptoError::Kdf(format!(
                "cost parameters out of range (m={} KiB, t={}, p={})",
                self.m_cost, self.t_cost, self.p_cost
            )))
        }
    }
}

/// Derives the key-encryption key from a passphrase (the slow step of unlocking).
pub fn derive_kek(
    passphrase: &[u8],
    salt: &[u8; SALT_LEN],
    params: KdfParams,
) -> Result<SecretKey, CryptoError> {
    params.check()?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(params.m_cost, params.t_cost, params.p_cost, Some(KEY_LEN))
            .map_err(|e| CryptoError::Kdf(e.to_string()))?,
    );
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    argon
        .hash_password_into(passphrase, salt, out.as_mut())
        .map_err(|e| CryptoError::Kdf(e.to_string()))?;
    Ok(SecretKey::from_bytes(*out))
}

/// The length of `plain_len` bytes once sealed.
pub const fn sealed_len(plain_len: usize) -> usize {
    1 + NONCE_LEN + plain_len + TAG_LEN
}

/// Seals `plaintext` under `key`, bound to `aad`: version ‖ nonce ‖ ciphertext ‖ tag.
pub fn seal(key: &SecretKey, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    seal_written(key, aad, plaintext.len(), |room| {
        room.copy_from_slice(plaintext);
        Ok(())
    })
}

/// Where a sealed value's plaintext (then ciphertext) begins.
const SEALED_HEADER: usize = 1 + NONCE_LEN;

/// Seals `len` bytes that `write` puts straight into the sealed value's own
/// buffer, encrypted there in place: one allocation a value, and no plaintext
/// copy left behind to wipe (a 52,500-row import seals 105,000 values).
fn seal_written<E: From<CryptoError>>(
    key: &SecretKey,
    aad: &[u8],
    len: usize,
    write: impl FnOnce(&mut [u8]) -> Result<(), E>,
) -> Result<Vec<u8>, E> {
    let nonce: [u8; NONCE_LEN] = random_bytes()?;
    let mut out = Vec::with_capacity(SEALED_HEADER + len + TAG_LEN);
    out.push(SEALED_VERSION);
    out.extend_from_slice(&nonce);
    out.resize(SEALED_HEADER + len, 0);
    let sealed = write(&mut out[SEALED_HEADER..]).and_then(|()| {
        key.cipher()
            .encrypt_in_place_detached(XNonce::from_slice(&nonce), aad, &mut out[SEALED_HEADER..])
            .map_err(|_| E::from(CryptoError::Unseal))
    });
    match sealed {
        Ok(tag) => {
            out.extend_from_slice(&tag);
            Ok(out)
        }
        Err(e) => {
            // What was written may be plaintext.
            out.zeroize();
            Err(e)
        }
    }
}

/// Opens a sealed value; fails (never panics) if it was altered, cut short, moved
/// to another key or tree, or sealed under another key.
pub fn open(key: &SecretKey, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < 1 + NONCE_LEN + TAG_LEN {
        return Err(CryptoError::Truncated(sealed.len()));
    }
    if sealed[0] != SEALED_VERSION {
        return Err(CryptoError::Version(sealed[0]));
    }
    let (nonce, ct) = sealed[1..].split_at(NONCE_LEN);
    key.cipher()
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Unseal)
}

/// Values sealed under one key, each bound to where it is stored (its tree
/// and its key) through the associated data, so a sealed value copied to
/// another record does not open there. The device's store and the hub's differ
/// only in their key and in `domain`, written first into the associated data.
pub struct Sealer {
    key: SecretKey,
    domain: &'static [u8],
}

impl Sealer {
    pub fn new(key: SecretKey, domain: &'static [u8]) -> Self {
        Self { key, domain }
    }

    pub fn key(&self) -> &SecretKey {
        &self.key
    }

    /// `domain ‖ tree ‖ 0 ‖ key`.
    fn aad(&self, tree: &str, key: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(self.domain.len() + tree.len() + 1 + key.len());
        aad.extend_from_slice(self.domain);
        aad.extend_from_slice(tree.as_bytes());
        aad.push(0);
        aad.extend_from_slice(key);
        aad
    }

    pub fn seal_bytes(&self, tree: &str, key: &[u8], plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        seal(&self.key, &self.aad(tree, key), plain)
    }

    pub fn open_bytes(
        &self,
        tree: &str,
        key: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        open(&self.key, &self.aad(tree, key), sealed)
    }

    /// Encodes (postcard) and seals a value; the plaintext is wiped after.
    pub fn seal<T: serde::Serialize>(
        &self,
        tree: &str,
        key: &[u8],
        value: &T,
    ) -> Result<Vec<u8>, super::StoreError> {
        let encoding = |e: postcard::Error| super::StoreError::Database(e.to_string());
        let len = postcard::experimental::serialized_size(value).map_err(encoding)?;
        seal_written(&self.key, &self.aad(tree, key), len, |room| {
            let written = postcard::to_slice(value, room).map_err(encoding)?.len();
            if written == len {
                Ok(())
            } else {
                Err(super::StoreError::Database(format!(
                    "encoded {written} bytes of the {len} measured"
                )))
            }
        })
    }

    /// Opens and decodes a value; `Err` says why it could not be (for the
    /// caller's "damaged" report).
    pub fn unseal<T: serde::de::DeserializeOwned>(
        &self,
        tree: &str,
        key: &[u8],
        sealed: &[u8],
    ) -> Result<T, String> {
        let plain = self
            .open_bytes(tree, key, sealed)
            .map_err(|e| e.to_string())?;
        postcard::from_bytes(&plain).map_err(|e| format!("undecodable contents: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_where_it_was_stored() {
        let key = || SecretKey::from_bytes([7; KEY_LEN]);
        let device = Sealer::new(key(), b"caseload\x01");
        let sealed = device.seal("people", b"id-1", &"Pat Rowe").expect("seal");
        assert_eq!(
            device
                .unseal::<String>("people", b"id-1", &sealed)
                .as_deref(),
            Ok("Pat Rowe")
        );
        assert!(device.unseal::<String>("people", b"id-2", &sealed).is_err());
        assert!(
            device
                .unseal::<String>("summaries", b"id-1", &sealed)
                .is_err()
        );
        let hub = Sealer::new(key(), b"caseload-hub\x01");
        assert!(hub.unseal::<String>("people", b"id-1", &sealed).is_err());
    }

    #[test]
    fn a_value_is_sealed_at_its_encoded_size_or_refused() {
        let device = Sealer::new(SecretKey::from_bytes([7; KEY_LEN]), b"caseload\x01");
        let value = vec!["Pat".to_string(); 40];
        let sealed = device.seal("people", b"id-1", &value).expect("seal");
        let encoded = postcard::to_allocvec(&value).expect("encode");
        assert_eq!(sealed.len(), sealed_len(encoded.len()));
        assert_eq!(
            device.unseal::<Vec<String>>("people", b"id-1", &sealed),
            Ok(value)
        );

        struct Unencodable;
        impl serde::Serialize for Unencodable {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no"))
            }
        }
        assert!(device.seal("people", b"id-1", &Unencodable).is_err());
    }

    #[test]
    fn round_trip_and_binding() {
        let k = SecretKey::random().unwrap();
        let sealed = seal(&k, b"people/1", b"hello").unwrap();
        assert_eq!(open(&k, b"people/1", &sealed).unwrap().as_slice(), b"hello");
        // Moved to another key: refused.
        assert_eq!(open(&k, b"people/2", &sealed), Err(CryptoError::Unseal));
        // Another data key: refused.
        let other = SecretKey::random().unwrap();
        assert_eq!(open(&other, b"people/1", &sealed), Err(CryptoError::Unseal));
    }

    #[test]
    fn every_flipped_bit_and_every_truncation_is_detected() {
        let k = SecretKey::random().unwrap();
        let sealed = seal(&k, b"a", b"some record").unwrap();
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 0x01;
            assert!(open(&k, b"a", &t).is_err(), "flip at {i} not detected");
        }
        for len in 0..sealed.len() {
            assert!(open(&k, b"a", &sealed[..len]).is_err(), "cut at {len}");
        }
    }

    #[test]
    fn kdf_is_deterministic_per_salt_and_rejects_silly_params() {
        let p = KdfParams::LEAST;
        let salt = [7u8; SALT_LEN];
        let a = derive_kek(b"correct horse", &salt, p).unwrap();
        let b = derive_kek(b"correct horse", &salt, p).unwrap();
        let c = derive_kek(b"correct horse", &[8u8; SALT_LEN], p).unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_ne!(a.expose(), c.expose());
        let weak = KdfParams {
            m_cost: 8,
            t_cost: 1,
            p_cost: 1,
        };
        assert!(derive_kek(b"x", &salt, weak).is_err());
    }
}
