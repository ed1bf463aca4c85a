//! Encryption and persistence. `CaseStore` is what the rest of caseload needs from
//! storage; `EncryptedStore` implements it on sled with every value sealed.

pub mod crypto;
pub mod encrypted;
pub mod files;
pub mod group_commit;
pub mod header;

pub use encrypted::{Damaged, DoctorReport, EncryptedStore};

use crate::domain::{CaseSummary, DomainError, Op, PersonId, PersonState};
use header::HeaderError;
use serde::{Serialize, de::DeserializeOwned};
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("no caseload store at {0}: run `caseload init` (or `caseload demo`) first")]
    NotFound(PathBuf),
    #[error("a caseload store already exists at {0}")]
    AlreadyExists(PathBuf),
    #[error("wrong passphrase for the store at {0}")]
    WrongPassphrase(PathBuf),
    #[error(
        "the store at {0} is open elsewhere (another caseload is using it); close that one first"
    )]
    OpenElsewhere(PathBuf),
    #[error("the store header {path} is damaged: {source}")]
    BadHeader { path: PathBuf, source: HeaderError },
    #[error("{tree} record {record} is damaged ({reason}); the other records are unaffected")]
    Damaged {
        tree: &'static str,
        record: String,
        reason: String,
    },
    #[error("the store's database could not be read: {0}")]
    Database(String),
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Crypto(#[from] crypto::CryptoError),
    #[error("refused: {0}")]
    Invalid(#[from] DomainError),
    #[error("no young person with id {0} in this store")]
    UnknownPerson(String),
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Applies each batch to its tree in one sled transaction: all or nothing.
pub fn apply_atomically(writes: &[(&sled::Tree, sled::Batch)]) -> Result<()> {
    use sled::Transactional;
    let trees: Vec<&sled::Tree> = writes.iter().map(|(t, _)| *t).collect();
    trees[..]
        .transaction(|views| {
            for (view, (_, batch)) in views.iter().zip(writes) {
                view.apply_batch(batch)?;
            }
            Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
        })
        .map_err(|e| StoreError::Database(format!("{e:?}")))
}

/// Where an op came from: written here (and so waiting in the outbox to be pushed)
/// or received from the hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Local,
    Remote,
}

/// What the replica needs from storage. Committing applies ops and logs them in
/// one atomic, durable step (TaskChampion's discipline).
pub trait CaseStore {
    /// Applies and logs `ops` atomically, then makes them durable before
    /// returning. Ops already stored are skipped. Returns the new state of every
    /// person an op changed.
    fn commit(&self, ops: &[Op], origin: Origin) -> Result<Vec<PersonState>>;
    fn person(&self, id: PersonId) -> Result<Option<PersonState>>;
    /// Every stored summary, and the records whose summary could not be read.
    fn summaries(&self) -> Result<(Vec<CaseSummary>, Vec<Damaged>)>;
    fn ops_for(&self, id: PersonId) -> Result<Vec<Op>>;
    /// Ops written here and not yet acknowledged by the hub, oldest first.
    fn outbox(&self) -> Result<Vec<Op>>;
    fn meta<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>>;
    fn put_meta<T: Serialize>(&self, name: &str, value: &T) -> Result<()>;
}
