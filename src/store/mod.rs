//! Encryption and persistence. `CaseStore` is what the rest of caseload needs from
//! storage; `EncryptedStore` implements it on sled with every value sealed.

mod blob_files;
pub mod commit_log;
pub mod crypto;
pub mod encrypted;
pub mod files;
pub mod group_commit;
pub mod header;
pub mod undo;
pub mod watermark;

pub use encrypted::{CommitInParts, Damaged, DoctorReport, EncryptedStore};

use crate::domain::{CaseSummary, DomainError, Op, PersonId, PersonState};
use header::HeaderError;
use serde::{Serialize, de::DeserializeOwned};
use std::path::PathBuf;
use thiserror::Error;

/// What a `people` tree holds, on a device and on the hub, for a record made by
/// one op (`PersonState::is_one_op`): the op is kept, not the record again — an
/// imported person's record is 598 bytes sealed against 232 for its op, and was
/// over half of what an import wrote. The record is folded from the person's
/// ops when read. One byte, so never taken for a sealed value (those are at
/// least 40); written over a record, it only has the record folded again from
/// its ops, which is what a record is (docs/store-format.md).
pub const STATE_IS_ITS_OP: &[u8] = &[0];

/// How a damaged record is named, on a device and on the hub: its key's first
/// four bytes, in hex (a person's short id, for a key that begins with one).
pub(crate) fn hex8(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

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
    #[error(
        "the disk is full: nothing was saved. Free some space and try again; everything saved before is safe"
    )]
    DiskFull,
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
        match e {
            sled::Error::Io(io) if is_disk_full(&io) => StoreError::DiskFull,
            // sled's own text for this carries a debug dump ("backtrace ()").
            sled::Error::Corruption { .. } => {
                StoreError::Database("the database files are damaged".into())
            }
            e => StoreError::Database(e.to_string()),
        }
    }
}

/// Whether an I/O error means the disk (or the user's quota) is full.
pub fn is_disk_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
        || matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT))
}

/// Opens a sled database, as the device store and the hub both do.
///
/// - A `snap.*.generating` file is a snapshot sled was still writing when it
///   stopped (it renames the file only after syncing it), so it is never
///   complete; but sled 0.34 reads it at the next open and reports the database
///   corrupt. That is how a full disk, or a kill at the wrong moment, used to
///   brick a store. Such files are removed first.
/// - sled can panic on some kinds of file damage: that is reported as damage,
///   with the panic hook kept quiet meanwhile (it would print a crash).
/// - A handle just dropped in this process (a hub reopening its data, a test)
///   keeps sled's file lock until sled's flusher thread has stopped, which can
///   take until its next tick (500 ms): a lock still held is waited for, up to
///   two seconds, before it is reported.
pub fn open_sled(path: &std::path::Path, options: SledOptions) -> Result<DurableDb> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match open_sled_once(path, options) {
            Err(StoreError::Database(why))
                if why.contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// How a sled database is opened.
#[derive(Clone, Copy, Debug)]
pub struct SledOptions {
    /// How much of its pages sled keeps decoded in memory.
    pub cache_bytes: u64,
    /// Whether sled's own thread flushes every 500 ms. Left out only where
    /// everything that must be durable is flushed explicitly (a device's
    /// bulk writes); a handle without it also lets go of its file lock as
    /// soon as it is dropped.
    pub background_flush: bool,
}

fn open_sled_once(path: &std::path::Path, options: SledOptions) -> Result<DurableDb> {
    remove_unfinished_snapshots(path)?;
    let config = sled::Config::new()
        .path(path)
        .cache_capacity(options.cache_bytes)
        .flush_every_ms(options.background_flush.then_some(500));
    // The hook is the whole process's: two opens at once (a database opened
    // ahead on its own thread, tests) must not restore each other's quiet one.
    static QUIETING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let quieting = QUIETING.lock().unwrap_or_else(|p| p.into_inner());
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open()));
    std::panic::set_hook(hook);
    drop(quieting);
    match opened {
        Ok(Ok(db)) => DurableDb::new(db, path),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(StoreError::Database(
            "the database files are damaged and could not be read".into(),
        )),
    }
}

/// A sled database whose `flush` survives a power cut, not only a crash.
///
/// sled's flush on Linux ends with `sync_file_range`, which writes the pages
/// but neither the file's metadata nor the drive's volatile cache: enough for a
/// killed process, not for a power cut. So `flush` here also `fdatasync`s the
/// database file (through a descriptor of its own: fsync acts on the file, not
/// the descriptor), and syncs the files sled keeps large values in, which it
/// never syncs itself (`blob_files.rs`). Everything else is sled's, through
/// `Deref`.
pub struct DurableDb {
    db: sled::Db,
    data_file: std::fs::File,
    blob_files: std::sync::Arc<blob_files::BlobFiles>,
}

impl DurableDb {
    fn new(db: sled::Db, path: &std::path::Path) -> Result<DurableDb> {
        let file = path.join("db");
        let data_file = std::fs::File::open(&file).map_err(|source| StoreError::Io {
            action: "cannot open",
            path: file,
            source,
        })?;
        Ok(DurableDb {
            db,
            data_file,
            blob_files: std::sync::Arc::new(blob_files::BlobFiles::of(path)),
        })
    }

    /// Another handle on the same open database (sled's handles share one
    /// database; it closes when the last is dropped).
    pub fn try_clone(&self) -> Result<DurableDb> {
        let data_file = self
            .data_file
            .try_clone()
            .map_err(|e| StoreError::Database(format!("cannot reopen the database file: {e}")))?;
        Ok(DurableDb {
            db: self.db.clone(),
            data_file,
            blob_files: self.blob_files.clone(),
        })
    }

    /// Everything written so far is on the disk itself when this returns.
    pub fn flush(&self) -> Result<usize> {
        let n = self.db.flush()?;
        let synced = self
            .blob_files
            .sync_new()
            .and_then(|()| self.data_file.sync_data());
        synced.map_err(|e| {
            if is_disk_full(&e) {
                StoreError::DiskFull
            } else {
                StoreError::Database(format!("cannot sync the database to disk: {e}"))
            }
        })?;
        Ok(n)
    }

    #[cfg(test)]
    pub(crate) fn blob_files(&self) -> &blob_files::BlobFiles {
        &self.blob_files
    }
}

impl std::ops::Deref for DurableDb {
    type Target = sled::Db;
    fn deref(&self) -> &sled::Db {
        &self.db
    }
}

fn remove_unfinished_snapshots(path: &std::path::Path) -> Result<()> {
    let entries = match std::fs::read_dir(path) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(StoreError::Io {
                action: "cannot read",
                path: path.to_path_buf(),
                source,
            });
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(entry.path()).map_err(|source| StoreError::Io {
                action: "cannot remove an unfinished snapshot",
                path: entry.path(),
                source,
            })?;
        }
    }
    Ok(())
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
        .map_err(|e| match e {
            sled::transaction::TransactionError::Storage(e) => e.into(),
            sled::transaction::TransactionError::Abort(()) => {
                StoreError::Database("a write was abandoned".into())
            }
        })
}

/// Where an op came from: written here (and so waiting in the outbox to be pushed)
/// or received from the hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Local,
    Remote,
}

/// Makes the next part of a commit in parts (given the target, to read
/// records and make ops), None once there is no more.
pub type NextPart<'a, T, E> = dyn FnMut(&mut T) -> std::result::Result<Option<Vec<Op>>, E> + 'a;

/// Anything that takes new ops made in bulk (an import, an assignment): a
/// device's replica, or the hub's own writer. Ops are made against the records
/// as they stand and committed together.
pub trait OpTarget {
    fn people(&self) -> crate::domain::Summaries<'_>;
    fn person(&self, id: PersonId) -> Result<Option<PersonState>>;
    fn new_op(&mut self, person: PersonId, payload: crate::domain::OpPayload) -> Op;
    fn commit(&mut self, ops: &[Op]) -> Result<()>;
    /// Commits, all or nothing, the parts `next` makes (given the target, to
    /// read records and make ops) until it returns None or fails. By default
    /// the parts are gathered and committed together; a target that can
    /// write in parts holds one part at a time. The parts hold only ops made
    /// by `new_op`.
    fn commit_in_parts<E: From<StoreError>>(
        &mut self,
        next: &mut NextPart<'_, Self, E>,
    ) -> std::result::Result<(), E>
    where
        Self: Sized,
    {
        let mut all = Vec::new();
        while let Some(mut part) = next(self)? {
            all.append(&mut part);
        }
        Ok(self.commit(&all)?)
    }
}

/// A person a commit changed, and their summary now.
pub type Changed = (PersonId, Option<CaseSummary>);

/// Shown each summary as it is decoded, on the thread decoding it: what is
/// built from every summary at unlock (the search index's texts) is built
/// there, while the summary is still in the cache, instead of in a second
/// pass over all of them.
pub trait SummaryVisitor: Send {
    fn visit(&mut self, summary: &CaseSummary);
}

/// Sees nothing: for a reader that wants the summaries alone.
impl SummaryVisitor for () {
    fn visit(&mut self, _: &CaseSummary) {}
}

/// What the replica needs from storage. Committing applies ops and logs them in
/// one atomic, durable step (TaskChampion's discipline).
pub trait CaseStore {
    /// Applies and logs `ops` atomically, then makes them durable before
    /// returning. Ops already stored are skipped. Returns the new summary of
    /// every person an op changed (None: no longer a young person's record).
    fn commit(&self, ops: &[Op], origin: Origin) -> Result<Vec<Changed>>;
    fn person(&self, id: PersonId) -> Result<Option<PersonState>>;
    /// Every stored summary, and the records whose summary could not be read.
    fn summaries(&self) -> Result<(Vec<CaseSummary>, Vec<Damaged>)>;
    fn ops_for(&self, id: PersonId) -> Result<Vec<Op>>;
    /// Ops written here and not yet acknowledged by the hub, oldest first.
    fn outbox(&self) -> Result<Vec<Op>>;
    fn meta<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>>;
    fn put_meta<T: Serialize>(&self, name: &str, value: &T) -> Result<()>;
}
