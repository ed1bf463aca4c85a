//! Hub users, their roles and their enrolment tokens. A token is shown once, when
//! the user is added; the hub keeps only its BLAKE3 hash (tokens are 256 random
//! bits, so a fast hash is enough: there is nothing to guess).

use crate::domain::District;
use serde::{Deserialize, Serialize};

/// Roles travel in the protocol (a login's answer), so they are defined there.
pub use crate::sync::protocol::Role;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub district: Option<District>,
    pub revoked: bool,
    /// Milliseconds since the epoch.
    pub created_millis: u64,
}

impl User {
    /// Login names: letters, digits, dots, hyphens and underscores, 2–64 long.
    pub fn check_name(name: &str) -> Result<(), String> {
        let ok = (2..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{name:?} is not a login name: use 2–64 letters, digits, dots, hyphens or underscores"
            ))
        }
    }
}

/// A new enrolment token: 256 random bits as 64 hex digits.
pub fn new_token() -> Result<String, crate::store::crypto::CryptoError> {
    let bytes: [u8; 32] = crate::store::crypto::random_bytes()?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// What the hub stores in place of a token.
pub fn token_hash(token: &str) -> [u8; 32] {
    *blake3::hash(token.trim().as_bytes()).as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_names() {
        assert_eq!(Role::parse("Manager"), Ok(Role::Manager));
        assert!(Role::parse("wizard").is_err());
        assert!(User::check_name("j.smith").is_ok());
        assert!(User::check_name("j smith").is_err());
        assert!(User::check_name("x").is_err());
    }

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), token_hash(&format!(" {a}\n")));
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
