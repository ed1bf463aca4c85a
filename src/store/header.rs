//! The store header: a small file beside the database holding the Argon2id
//! parameters, the salt and the wrapped data key. It is authenticated (the wrap's
//! associated data is every byte before it) but not secret. Layout in
//! docs/store-format.md.

use super::crypto::{self, CryptoError, KdfParams, SALT_LEN, SecretKey};

pub const MAGIC: &[u8; 8] = b"CASELOAD";
/// The format a new store is made in. Version 3 keeps the ops of one person
/// in one commit together, as one value under one key; version 2 keeps each
/// op under a key of its own and a record made by one op as that op alone,
/// with no key in `people` (docs/store-format.md); version 1 marks such a
/// record there with one byte. All are read; each store keeps writing in its
/// own.
pub const FORMAT_VERSION: u8 = 3;
/// The oldest format this caseload reads.
pub const OLDEST_FORMAT_VERSION: u8 = 1;
const KDF_ARGON2ID_V13: u8 = 1;
const PREFIX_LEN: usize = 8 + 1 + 1 + 4 * 3 + SALT_LEN + 16;
const WRAPPED_LEN: usize = 1 + crypto::NONCE_LEN + crypto::KEY_LEN + crypto::TAG_LEN;
pub const HEADER_LEN: usize = PREFIX_LEN + WRAPPED_LEN;

/// The shortest new passphrase: it is all that stands between a copied store
/// and an offline guesser (Argon2id slows each guess; length does the rest).
pub const MIN_PASSPHRASE_LEN: usize = 12;

/// The rule for a new passphrase, wherever it is typed (CLI or workbench).
pub fn check_new_passphrase(p: &str) -> Result<(), String> {
    if p.chars().count() < MIN_PASSPHRASE_LEN {
        Err(format!(
            "a new passphrase needs at least {MIN_PASSPHRASE_LEN} characters (a few unrelated words work well)"
        ))
    } else {
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The store's format version (authenticated with the wrapped key).
    pub version: u8,
    pub kdf: KdfParams,
    pub salt: [u8; SALT_LEN],
    /// Random; tells stores apart (sync uses it as the replica's identity).
    pub store_id: [u8; 16],
    wrapped_key: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    #[error("not a caseload store header")]
    BadMagic,
    #[error("header is {0} bytes, expected {HEADER_LEN}: the file was truncated or extended")]
    BadLength(usize),
    #[error(
        "store format version {0} is not supported by this caseload (it reads versions {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}): a store made by a newer caseload needs that caseload or a later one"
    )]
    UnsupportedVersion(u8),
    #[error("unknown key-derivation function {0}")]
    UnknownKdf(u8),
    #[error("{0}")]
    Params(CryptoError),
    #[error("wrong passphrase")]
    WrongPassphrase,
    #[error("{0}")]
    Crypto(#[from] CryptoError),
}

impl Header {
    /// A new header wrapping `data_key` under `passphrase`.
    pub fn new(
        passphrase: &[u8],
        data_key: &SecretKey,
        kdf: KdfParams,
    ) -> Result<Self, HeaderError> {
        Self::in_format(FORMAT_VERSION, passphrase, data_key, kdf)
    }

    /// A new header of an older format (what an earlier caseload made), for
    /// the stores tests keep in it.
    pub fn in_format(
        version: u8,
        passphrase: &[u8],
        data_key: &SecretKey,
        kdf: KdfParams,
    ) -> Result<Self, HeaderError> {
        if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(HeaderError::UnsupportedVersion(version));
        }
        Self::with_store_id(version, passphrase, data_key, kdf, crypto::random_bytes()?)
    }

    fn with_store_id(
        version: u8,
        passphrase: &[u8],
        data_key: &SecretKey,
        kdf: KdfParams,
        store_id: [u8; 16],
    ) -> Result<Self, HeaderError> {
        let mut h = Header {
            version,
            kdf,
            salt: crypto::random_bytes()?,
            store_id,
            wrapped_key: Vec::new(),
        };
        let kek = crypto::derive_kek(passphrase, &h.salt, kdf).map_err(HeaderError::Params)?;
        h.wrapped_key = crypto::seal(&kek, &h.prefix(), data_key.expose())?;
        Ok(h)
    }

    /// The same data key under a new passphrase, with a fresh salt: the data is
    /// not re-encrypted.
    pub fn rewrap(&self, new_passphrase: &[u8], data_key: &SecretKey) -> Result<Self, HeaderError> {
        Self::with_store_id(
            self.version,
            new_passphrase,
            data_key,
            self.kdf,
            self.store_id,
        )
    }

    /// Whether a record made by one op is kept as that op alone, with no key
    /// in `people` (version 2 on), rather than marked there (version 1).
    pub fn one_op_records_unmarked(&self) -> bool {
        self.version >= 2
    }

    /// Whether the ops of one person in one commit are kept together, one
    /// value under one key (version 3 on), rather than one key an op.
    pub fn ops_kept_together(&self) -> bool {
        self.version >= 3
    }

    /// The slow step: Argon2id over the passphrase.
    pub fn derive_kek(&self, passphrase: &[u8]) -> Result<SecretKey, HeaderError> {
        crypto::derive_kek(passphrase, &self.salt, self.kdf).map_err(HeaderError::Params)
    }

    /// Unwraps the data key; a wrong passphrase (or an altered header) fails here.
    pub fn unwrap_key(&self, kek: &SecretKey) -> Result<SecretKey, HeaderError> {
        let plain = crypto::open(kek, &self.prefix(), &self.wrapped_key)
            .map_err(|_| HeaderError::WrongPassphrase)?;
        let bytes: [u8; crypto::KEY_LEN] = plain
            .as_slice()
            .try_into()
            .map_err(|_| HeaderError::WrongPassphrase)?;
        Ok(SecretKey::from_bytes(bytes))
    }

    fn prefix(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(PREFIX_LEN);
        b.extend_from_slice(MAGIC);
        b.push(self.version);
        b.push(KDF_ARGON2ID_V13);
        b.extend_from_slice(&self.kdf.m_cost.to_le_bytes());
        b.extend_from_slice(&self.kdf.t_cost.to_le_bytes());
        b.extend_from_slice(&self.kdf.p_cost.to_le_bytes());
        b.extend_from_slice(&self.salt);
        b.extend_from_slice(&self.store_id);
        b
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = self.prefix();
        b.extend_from_slice(&self.wrapped_key);
        b
    }

    pub fn from_bytes(b: &[u8]) -> Result<Self, HeaderError> {
        if b.len() < MAGIC.len() || &b[..MAGIC.len()] != MAGIC {
            return Err(HeaderError::BadMagic);
        }
        if b.len() > 8 && !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&b[8]) {
            return Err(HeaderError::UnsupportedVersion(b[8]));
        }
        if b.len() != HEADER_LEN {
            return Err(HeaderError::BadLength(b.len()));
        }
        if b[9] != KDF_ARGON2ID_V13 {
            return Err(HeaderError::UnknownKdf(b[9]));
        }
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let kdf = KdfParams {
            m_cost: u32_at(10),
            t_cost: u32_at(14),
            p_cost: u32_at(18),
        };
        kdf.check().map_err(HeaderError::Params)?;
        let mut salt = [0u8; SALT_LEN];
        salt.copy_from_slice(&b[22..22 + SALT_LEN]);
        let mut store_id = [0u8; 16];
        store_id.copy_from_slice(&b[38..54]);
        Ok(Header {
            version: b[8],
            kdf,
            salt,
            store_id,
            wrapped_key: b[PREFIX_LEN..].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams::LEAST;

    #[test]
    fn unwraps_with_the_right_passphrase_only() {
        let dk = SecretKey::random().unwrap();
        let h = Header::new(b"right passphrase", &dk, FAST).unwrap();
        let h = Header::from_bytes(&h.to_bytes()).unwrap();
        let got = h
            .unwrap_key(&h.derive_kek(b"right passphrase").unwrap())
            .unwrap();
        assert_eq!(got.expose(), dk.expose());
        let wrong = h.derive_kek(b"wrong passphrase").unwrap();
        assert!(matches!(
            h.unwrap_key(&wrong),
            Err(HeaderError::WrongPassphrase)
        ));
    }

    #[test]
    fn rewrap_keeps_the_data_key_and_store_id() {
        let dk = SecretKey::random().unwrap();
        let h = Header::new(b"old", &dk, FAST).unwrap();
        let h2 = h.rewrap(b"new", &dk).unwrap();
        assert_eq!(h2.store_id, h.store_id);
        assert_ne!(h2.salt, h.salt);
        let got = h2.unwrap_key(&h2.derive_kek(b"new").unwrap()).unwrap();
        assert_eq!(got.expose(), dk.expose());
        assert!(h2.unwrap_key(&h2.derive_kek(b"old").unwrap()).is_err());
    }

    #[test]
    fn a_header_of_the_older_format_reads_and_keeps_its_version() {
        let dk = SecretKey::random().unwrap();
        let h = Header::in_format(1, b"pw", &dk, FAST).unwrap();
        let h = Header::from_bytes(&h.to_bytes()).unwrap();
        assert_eq!(h.version, 1);
        assert!(!h.one_op_records_unmarked());
        assert!(!h.ops_kept_together());
        let h2 = h.rewrap(b"new", &dk).unwrap();
        assert_eq!(Header::from_bytes(&h2.to_bytes()).unwrap().version, 1);
        assert!(h2.unwrap_key(&h2.derive_kek(b"new").unwrap()).is_ok());
        let new = Header::new(b"pw", &dk, FAST).unwrap();
        assert_eq!(new.version, FORMAT_VERSION);
        assert!(new.one_op_records_unmarked());
        assert!(new.ops_kept_together());
        let two = Header::in_format(2, b"pw", &dk, FAST).unwrap();
        assert!(two.one_op_records_unmarked() && !two.ops_kept_together());
        assert_eq!(
            Header::in_format(FORMAT_VERSION + 1, b"pw", &dk, FAST),
            Err(HeaderError::UnsupportedVersion(FORMAT_VERSION + 1))
        );
    }

    #[test]
    fn a_version_altered_in_the_file_fails_to_unwrap() {
        // A store of version 2 passed off as version 1 would have its keyless
        // records read as absent: the version is authenticated with the key.
        let dk = SecretKey::random().unwrap();
        let mut bytes = Header::new(b"pw", &dk, FAST).unwrap().to_bytes();
        bytes[8] = 1;
        let h = Header::from_bytes(&bytes).unwrap();
        assert!(h.unwrap_key(&h.derive_kek(b"pw").unwrap()).is_err());
    }

    #[test]
    fn altered_parameters_fail_to_unwrap() {
        let dk = SecretKey::random().unwrap();
        let h = Header::new(b"pw", &dk, FAST).unwrap();
        let mut bytes = h.to_bytes();
        bytes[14] = 2; // t_cost 1 -> 2: still in range, but authenticated
        let h2 = Header::from_bytes(&bytes).unwrap();
        let kek = h2.derive_kek(b"pw").unwrap();
        assert!(h2.unwrap_key(&kek).is_err());
    }

    #[test]
    fn damaged_headers_are_named() {
        let dk = SecretKey::random().unwrap();
        let bytes = Header::new(b"pw", &dk, FAST).unwrap().to_bytes();
        assert_eq!(Header::from_bytes(b"nonsense"), Err(HeaderError::BadMagic));
        assert_eq!(
            Header::from_bytes(&bytes[..40]),
            Err(HeaderError::BadLength(40))
        );
        let mut v = bytes.clone();
        v[8] = 9;
        assert_eq!(
            Header::from_bytes(&v),
            Err(HeaderError::UnsupportedVersion(9))
        );
    }
}
