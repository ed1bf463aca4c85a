//! The sync protocol, version 1 (docs/sync-protocol.md). Every request and
//! response body is a postcard encoding compressed with DEFLATE; errors are
//! plain text with a 4xx or 5xx status.

use crate::domain::{DeviceId, Op, PersonId};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::io::{Read, Write};

pub const VERSION: &str = "v1";
/// The largest body the hub reads (a push), compressed.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
/// The largest response a device inflates (a pull).
pub const MAX_INFLATED: u64 = 128 * 1024 * 1024;
/// A push, inflated: at most [`PUSH_BATCH`] ops of bounded fields
/// (`domain::text`) fit well inside this.
pub const MAX_PUSH_INFLATED: u64 = 32 * 1024 * 1024;
/// A login or a pull request, compressed and inflated: a token and a device
/// id, or a cursor. Read before the caller is known, so kept small.
pub const MAX_SMALL_BODY: usize = 4 * 1024;
/// Ops pushed per request.
pub const PUSH_BATCH: usize = 1000;

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub enrolment_token: String,
    pub device: DeviceId,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub user: String,
    pub role: Role,
    /// The device's own credential; the enrolment token is spent.
    pub device_token: String,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushRequest {
    pub ops: Vec<Op>,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    /// The hub's sequence number for each op pushed, in the order pushed
    /// (the numbers themselves follow each young person's ops, not the push).
    pub seqs: Vec<u64>,
}

#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// The cursor the device holds: everything up to here is stored there.
    pub after: u64,
    /// The highest sequence number the hub gave an op this device pushed and
    /// still holds. Its own ops up to here are not sent back (it has them);
    /// later ones are, so a store restored from a backup gets back what it
    /// pushed after the backup was taken.
    pub own_through: u64,
    /// The next page of a pull already under way (from the last response).
    pub page: Option<PageToken>,
}

/// Where a paged pull goes on from. Opaque to the device: it sends back the
/// one it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageToken {
    /// The cursor the whole pull ends at (fixed by its first page).
    pub cursor: u64,
    /// Histories of people newly in scope (from `person` on), or new ops of
    /// everyone else.
    pub histories: bool,
    pub person: Option<PersonId>,
    /// Ops up to this sequence number (of `person`, or of the log) are sent.
    pub seq: u64,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Ops the device may see and does not have yet, in hub order: the whole
    /// history of anyone newly in scope, and new ops of everyone else in scope.
    pub ops: Vec<Op>,
    /// The device's next cursor, once every page is stored.
    pub cursor: u64,
    /// People no longer in scope: remove once their local changes are pushed
    /// (on the last page).
    pub left_scope: Vec<PersonId>,
    /// More to come: ask again with this token. Pages keep every response
    /// within [`PULL_PAGE_BYTES`], so a first sync of any size needs bounded
    /// memory on both sides, and an interrupted one resumes where it stopped.
    pub next: Option<PageToken>,
    /// The device asked from before a cursor it had already stored: its store
    /// went back in time (restored, rolled back). Everything it may see is
    /// being sent again.
    pub restored: bool,
}

/// The most op bytes (postcard, before compression) one pull response holds,
/// unless a single op is larger.
pub const PULL_PAGE_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("the body could not be decoded: {0}")]
    Decode(String),
    #[error("the body is larger than {0} bytes uncompressed")]
    TooLarge(u64),
}

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let plain = postcard::to_allocvec(value).unwrap_or_default();
    let mut z = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(plain.len() / 2),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    let _ = z.write_all(&plain);
    z.finish().unwrap_or_default()
}

/// Inflates and decodes a body of at most [`MAX_INFLATED`] bytes inflated.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, WireError> {
    decode_limited(body, MAX_INFLATED)
}

/// Inflates and decodes a body, stopping as soon as it inflates past `limit`
/// bytes: a small compressed body cannot make the reader allocate more.
pub fn decode_limited<T: DeserializeOwned>(body: &[u8], limit: u64) -> Result<T, WireError> {
    let mut plain = Vec::new();
    flate2::read::DeflateDecoder::new(body)
        .take(limit + 1)
        .read_to_end(&mut plain)
        .map_err(|e| WireError::Decode(e.to_string()))?;
    if plain.len() as u64 > limit {
        return Err(WireError::TooLarge(limit));
    }
    postcard::from_bytes(&plain).map_err(|e| WireError::Decode(e.to_string()))
}

/// What a hub user may see (hub/scope.rs has the rule), as a login tells the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Sees the young people assigned to them.
    Officer,
    /// Sees the people on their tracking lists.
    Tracker,
    /// Sees everyone in their district.
    Manager,
    /// Sees everyone; manages users.
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Result<Role, String> {
        match s.trim().to_lowercase().as_str() {
            "officer" => Ok(Role::Officer),
            "tracker" => Ok(Role::Tracker),
            "manager" => Ok(Role::Manager),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}: use officer, tracker, manager or admin"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Tracker => "tracker",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage_is_an_error() {
        let r = PullRequest {
            after: 42,
            ..Default::default()
        };
        assert_eq!(decode::<PullRequest>(&encode(&r)).unwrap(), r);
        assert!(decode::<PullRequest>(b"not deflate").is_err());
        assert!(
            decode::<PushRequest>(&encode(&PullRequest {
                after: 1,
                ..Default::default()
            }))
            .is_err()
        );
    }

    #[test]
    fn inflating_stops_at_the_limit() {
        let bomb = encode(&LoginRequest {
            enrolment_token: "A".repeat(1 << 20),
            device: DeviceId::random(),
        });
        assert!(
            bomb.len() < 8 * 1024,
            "a megabyte of one letter compresses well"
        );
        assert!(matches!(
            decode_limited::<LoginRequest>(&bomb, MAX_SMALL_BODY as u64),
            Err(WireError::TooLarge(_))
        ));
    }
}
