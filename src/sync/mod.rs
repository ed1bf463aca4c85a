//! Producing, ordering and exchanging ops across devices: the hybrid logical
//! clock, the wire protocol (docs/sync-protocol.md) and the client.

pub mod client;
pub mod clock;
pub mod protocol;

pub use clock::HlcClock;
