//! The hub: the council's central store. It keeps every op it accepts, in the
//! order it accepted them (a sequence number per op, the pull cursor), with who
//! sent it, from which device and when (the audit trail); it knows its users and
//! what each may see. Storage is behind `HubStore` so a PostgreSQL backend can
//! follow the embedded sled one.

pub mod admin;
pub mod audit;
pub mod conn;
pub mod scope;
pub mod server;
pub mod spool;
pub mod store;
pub mod tls;
pub mod users;
pub mod writer;

pub use scope::{TrackingList, can_see};
pub use store::{HubStore, Received, SledHubStore};
pub use users::{Role, User};
