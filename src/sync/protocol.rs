//! The sync protocol, version 1 (docs/sync-protocol.md). Every request and
//! response body is a postcard encoding compressed with DEFLATE; errors are
//! plain text with a 4xx or 5xx status.

use crate::domain::{DeviceId, Op, PersonId};
use crate::hub::Role;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::io::{Read, Write};

pub const VERSION: &str = "v1";
/// The largest body the hub reads, compressed and uncompressed.
pub const MAX_BODY: usize = 16 * 1024 * 1024;
pub const MAX_INFLATED: u64 = 128 * 1024 * 1024;
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
    /// The hub's sequence number for each op pushed, in order.
    pub seqs: Vec<u64>,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    /// The cursor the device holds: everything up to here is stored there.
    pub after: u64,
}

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Ops the device may see and does not have yet, in hub order: the whole
    /// history of anyone newly in scope, and new ops of everyone else in scope.
    pub ops: Vec<Op>,
    /// The device's next cursor.
    pub cursor: u64,
    /// People no longer in scope: remove once their local changes are pushed.
    pub left_scope: Vec<PersonId>,
}

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("the body could not be decoded: {0}")]
    Decode(String),
    #[error("the body is larger than {MAX_INFLATED} bytes uncompressed")]
    TooLarge,
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

pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, WireError> {
    let mut plain = Vec::new();
    flate2::read::DeflateDecoder::new(body)
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut plain)
        .map_err(|e| WireError::Decode(e.to_string()))?;
    if plain.len() as u64 > MAX_INFLATED {
        return Err(WireError::TooLarge);
    }
    postcard::from_bytes(&plain).map_err(|e| WireError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage_is_an_error() {
        let r = PullRequest { after: 42 };
        assert_eq!(decode::<PullRequest>(&encode(&r)).unwrap(), r);
        assert!(decode::<PullRequest>(b"not deflate").is_err());
        assert!(decode::<PushRequest>(&encode(&PullRequest { after: 1 })).is_err());
    }
}
