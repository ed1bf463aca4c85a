//! Producing and ordering ops across devices. The hybrid logical clock lives here;
//! the hub client and protocol join it when the hub exists (docs/sync-protocol.md).

pub mod clock;

pub use clock::HlcClock;
