//! Ordering and exchanging ops across devices: the hybrid logical clock and
//! the wire protocol (docs/sync-protocol.md), shared by devices and the hub.
//! The device's side of a sync, which writes to its replica, is `link`.

pub mod clock;
pub mod protocol;

pub use clock::HlcClock;
