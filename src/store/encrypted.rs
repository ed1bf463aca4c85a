//! The sled-backed store. Trees and keys:
//!
//! | tree        | key                                   | value (sealed)          |
//! |-------------|---------------------------------------|-------------------------|
//! | `meta`      | a fixed name (`identity`, `clock`…)   | postcard value          |
//! | `ops`       | person id ‖ keyed hash of op id (16) [‖ count (u32, BE)] | the `Op`, or (format 3) the ops of one person in one commit |
//! | `people`    | person id                             | the folded `PersonState`|
//! | `summaries` | page number (u16, BE; 1,024 pages)    | a page of summaries     |
//! | `outbox`    | local sequence number (u64, BE) ‖ count (u32, BE; absent: one) | the `ops` values of a commit's local ops |
//!
//! Person ids are random; op ids (which embed a time) never appear in a key.
//! Summaries are paged (by the low bits of the random person id) so unlocking
//! reads about a thousand values instead of one per person.
//!
//! A commit is applied to sled in memory and made durable by the commit log
//! (`commit_log.rs`, one write and one sync); sled is made durable at
//! checkpoints, and the log replayed at opening.

use super::commit_log::{CommitLog, LOG_FILE, Record};
use super::crypto::{self, SecretKey};
use super::files::{self, DB_DIR, HEADER_FILE, StoreLock, WATERMARK_FILE};
use super::header::{Header, HeaderError};
use super::watermark::{self, Saved, WatermarkWriter};
use super::{
    CaseStore, Changed, Origin, Result, STATE_IS_ITS_OP, StoreError, SummaryVisitor, hex8,
};
use crate::domain::{CaseSummary, Hlc, Op, PersonId, PersonState};
use serde::{Serialize, de::DeserializeOwned};
use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;

mod doctor;
mod in_flight;
mod journal;
mod kept_together;
mod last_read;
mod unapplied;
use in_flight::{Running, WorkedOut};
pub use journal::{ChangedSummaries, CommitInParts};
use kept_together::{HeldTogether, ops_under};
use unapplied::Ids;

const T_META: &str = "meta";
const T_OPS: &str = "ops";
const T_PEOPLE: &str = "people";
const T_SUMMARIES: &str = "summaries";
const T_OUTBOX: &str = "outbox";
const META_CLOCK: &str = "clock";
/// How many ops the store holds, kept in the same transaction as the ops.
const META_OP_COUNT: &str = "op-count";
/// What the commit log's records are sealed as (bound to cycle and number).
const T_LOG: &str = "commit-log";

/// A commit as the log holds it: whether its ops wait for the hub, and the ops.
#[derive(Serialize)]
struct LogEntryRef<'a> {
    local: bool,
    ops: &'a [Op],
}

#[derive(serde::Deserialize)]
struct LogEntry {
    local: bool,
    ops: Vec<Op>,
}

/// What `store.watermark` vouches for (sealed): the clock of the last durable
/// commit and how many ops the store held then.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
struct Watermark {
    at: Hlc,
    ops: u64,
}

type OpKey = [u8; 32];

/// An outbox entry holds the local ops of one commit (or one part of a large
/// commit): one key a commit instead of one an op, since sled's cost is per
/// key. The key is the sequence number, then how many ops the entry holds,
/// so counting what waits decrypts nothing; an entry of one op (and every
/// entry written before entries held more) has the sequence number alone.
fn outbox_key(seq: u64, count: usize) -> Vec<u8> {
    let mut key = seq.to_be_bytes().to_vec();
    if count != 1 {
        key.extend_from_slice(&kept_together::count_bytes(count));
    }
    key
}

/// How many ops an outbox entry holds, read from its key.
fn outbox_count(key: &[u8]) -> usize {
    match key.get(8..12) {
        Some(count) => u32::from_be_bytes([count[0], count[1], count[2], count[3]]) as usize,
        None => 1,
    }
}

/// An outbox entry named as damaged, for `reason`.
fn outbox_damaged(key: &[u8], reason: &str) -> Damaged {
    Damaged {
        tree: T_OUTBOX,
        record: record_name(T_OUTBOX, key),
        reason: reason.into(),
    }
}

/// A record that could not be read, named by tree and opaque id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Damaged {
    pub tree: &'static str,
    pub record: String,
    pub reason: String,
}

impl Damaged {
    fn into_error(self) -> StoreError {
        StoreError::Damaged {
            tree: self.tree,
            record: self.record,
            reason: self.reason,
        }
    }
}

/// What `caseload doctor` found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DoctorReport {
    pub people: usize,
    pub ops: usize,
    pub outbox: usize,
    pub damaged: Vec<Damaged>,
    /// People whose stored state differs from the fold of their ops.
    pub state_mismatch: Vec<String>,
    /// People whose stored summary differs from the one derived from their state.
    pub summary_mismatch: Vec<String>,
    /// Ops whose person has no stored state.
    pub orphan_ops: usize,
    /// The op count the watermark vouches for, when more than the ops found:
    /// records were put back to an older copy, or lost.
    pub rolled_back: Option<(u64, usize)>,
    pub permissions_fixed: Vec<PathBuf>,
}

impl DoctorReport {
    pub fn is_healthy(&self) -> bool {
        self.damaged.is_empty()
            && self.state_mismatch.is_empty()
            && self.summary_mismatch.is_empty()
            && self.orphan_ops == 0
            && self.rolled_back.is_none()
    }
}

/// A store whose lock is held and header read, awaiting the passphrase. Also what
/// an unlocked store returns to when it auto-locks: the key is gone, the lock kept.
#[derive(Debug)]
pub struct LockedStore {
    dir: PathBuf,
    header: Header,
    /// The database, opened while the passphrase is typed and the key derived
    /// (`open_ahead`), or kept open across an auto-lock (`relock`). Declared
    /// before the lock, so that it is closed before the lock is let go.
    database: Mutex<Option<Database>>,
    lock: StoreLock,
    cache: CacheSize,
}

/// The database of a locked store, opening or open. It holds nothing that
/// can be read without the data key: every value in it is sealed.
enum Database {
    /// With the flag that lets the reading ahead stop (`read_summary_pages_ahead`).
    Opening(
        std::thread::JoinHandle<Result<super::DurableDb>>,
        Arc<AtomicBool>,
    ),
    Open(super::DurableDb),
}

impl Database {
    fn ready(self) -> Result<super::DurableDb> {
        match self {
            Database::Open(db) => Ok(db),
            Database::Opening(opening, _) => opening.join().unwrap_or_else(|_| {
                Err(StoreError::Database(
                    "opening the database stopped with an internal error".into(),
                ))
            }),
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Database::Opening(..) => "Opening",
            Database::Open(_) => "Open",
        })
    }
}

impl Drop for LockedStore {
    /// An opening still under way is waited for, so that the database is
    /// closed before the store's lock is let go.
    fn drop(&mut self) {
        let database = self.database.get_mut().map(Option::take);
        if let Ok(Some(Database::Opening(opening, read_ahead))) = database {
            // Nobody will unlock: the pages need not be read.
            read_ahead.store(false, Ordering::SeqCst);
            let _ = opening.join();
        }
    }
}

impl LockedStore {
    /// Reads the header and takes the lock. Fails fast, before any passphrase is
    /// asked for, if there is no store or another process has it open.
    pub fn open(dir: &Path) -> Result<Self> {
        let header = read_header(dir)?;
        let lock = StoreLock::acquire(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            header,
            database: Mutex::new(None),
            lock,
            cache: CacheSize::Interactive,
        })
    }

    /// The cache unlocking will open the database with (see `CacheSize`); a
    /// database opened ahead with another is closed again.
    pub fn with_cache(mut self, cache: CacheSize) -> Self {
        if cache != self.cache {
            let _ = self.take_database().map(Database::ready);
        }
        self.cache = cache;
        self
    }

    /// Starts opening the database on a thread of its own, to be ready by the
    /// time the passphrase is typed and the key derived: opening it reads
    /// sled's snapshot and accounts for every page, a quarter of an unlock
    /// that came after the key (docs/architecture.md, "Unlocking"). It needs
    /// no key. A failure is reported where it was before, at unlocking.
    pub fn open_ahead(self) -> Self {
        let mut database = self.database.lock().unwrap_or_else(|p| p.into_inner());
        if database.is_none() {
            let (dir, cache) = (self.dir.clone(), self.cache);
            let read_ahead = Arc::new(AtomicBool::new(true));
            let wanted = read_ahead.clone();
            let opening = std::thread::Builder::new()
                .name("open-database".into())
                .spawn(move || {
                    let db = open_db(&dir, cache)?;
                    read_summary_pages_ahead(&db, &wanted);
                    Ok(db)
                });
            // No thread to be had: the database is opened at unlocking.
            *database = opening
                .ok()
                .map(|opening| Database::Opening(opening, read_ahead));
        }
        drop(database);
        self
    }

    fn take_database(&self) -> Option<Database> {
        self.database
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The slow step of unlocking (Argon2id).
    pub fn derive_key(&self, passphrase: &[u8]) -> Result<SecretKey> {
        self.header
            .derive_kek(passphrase)
            .map_err(|e| StoreError::BadHeader {
                path: self.dir.join(HEADER_FILE),
                source: e,
            })
    }

    /// Unwraps the data key and opens the database. On a wrong passphrase the
    /// store stays locked and can be tried again.
    pub fn unlock(&self, kek: &SecretKey) -> Result<EncryptedStore> {
        self.open_database(kek)?.checked()
    }

    pub fn unlock_with_passphrase(&self, passphrase: &[u8]) -> Result<EncryptedStore> {
        let kek = self.derive_key(passphrase)?;
        self.unlock(&kek)
    }

    /// Unlocks a store that will not open normally, to salvage what can still
    /// be read (`caseload recover`): no check that it is complete.
    pub fn unlock_for_salvage(&self, passphrase: &[u8]) -> Result<EncryptedStore> {
        self.open_database(&self.derive_key(passphrase)?)
    }

    /// Unwraps the data key and opens the database, checking nothing yet.
    fn open_database(&self, kek: &SecretKey) -> Result<EncryptedStore> {
        let data_key = self.header.unwrap_key(kek).map_err(|e| match e {
            HeaderError::WrongPassphrase => StoreError::WrongPassphrase(self.dir.clone()),
            other => StoreError::BadHeader {
                path: self.dir.join(HEADER_FILE),
                source: other,
            },
        })?;
        self.open_with_data_key(data_key)
    }

    /// Opens the database (or takes the one opened ahead) under the data
    /// key, checking nothing yet.
    fn open_with_data_key(&self, data_key: SecretKey) -> Result<EncryptedStore> {
        let db = match self.take_database() {
            Some(database) => database.ready()?,
            None => open_db(&self.dir, self.cache)?,
        };
        EncryptedStore::assemble_unchecked(
            &self.dir,
            self.header.clone(),
            data_key,
            self.lock.clone(),
            (db, self.cache),
        )
    }

    /// The key-derivation settings of this store (a recovered store keeps them).
    pub fn kdf(&self) -> crypto::KdfParams {
        self.header.kdf
    }
}

/// A database that would not open again ([`EncryptedStore::reopened`]): why,
/// and the store, locked, its lock still held.
pub struct NotReopened {
    pub error: StoreError,
    pub store: LockedStore,
}

/// A meta record sealed, waiting for `EncryptedStore::put_metas`.
pub struct MetaWrite {
    name: String,
    sealed: Vec<u8>,
}

/// What could still be read from a damaged store.
#[derive(Debug, Default)]
pub struct Salvage {
    /// Every op that decrypted, not waiting to be pushed.
    pub synced: Vec<Op>,
    /// Ops that were waiting to be pushed, oldest first.
    pub outbox: Vec<Op>,
    /// Meta records (identity, hub link…) that decrypted, as plaintext.
    pub meta: Vec<(String, Zeroizing<Vec<u8>>)>,
    /// Records that could not be read, by tree.
    pub lost_ops: usize,
    pub lost_outbox: usize,
    pub lost_meta: Vec<String>,
}

fn read_header(dir: &Path) -> Result<Header> {
    let path = dir.join(HEADER_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StoreError::NotFound(dir.to_path_buf()));
        }
        Err(source) => {
            return Err(StoreError::Io {
                action: "cannot read",
                path,
                source,
            });
        }
    };
    Header::from_bytes(&bytes).map_err(|source| StoreError::BadHeader { path, source })
}

/// How much of sled's pages to keep decoded in memory. Measured on 52,500
/// people (docs/benchmarks.md): the workbench and every report run as fast
/// with 16 MiB as with 64 MiB, and the returns screen's memory grows 26 MB
/// instead of 50. Bulk writes ask for 32 MiB: a cohort import's new people
/// (minted ids, appended in order) run as fast with it as with 64 MiB, and its
/// peak is 20 MB lower; it is changes to records with random (older) ids,
/// scattered over every leaf, that a larger cache would speed (an import
/// changing all 52,500: 6.6 s with 64 MiB, 9.5 s with 32 or 16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheSize {
    Interactive,
    BulkWrites,
}

impl CacheSize {
    fn bytes(self) -> u64 {
        match self {
            CacheSize::Interactive => 16 * 1024 * 1024,
            CacheSize::BulkWrites => 32 * 1024 * 1024,
        }
    }

    /// sled's own flusher (every 500 ms) is left out of bulk writes: what
    /// they write is made durable at their commit point, all or nothing, so
    /// its syncs were only extra (a 52,500-row import: 52 syncs with it, 7
    /// without, the time the same).
    fn background_flush(self) -> bool {
        self == CacheSize::Interactive
    }
}

/// Reads every summary page once on the thread that opened the database
/// ahead, while the key is still being derived, so that sled holds them when
/// unlocking decrypts them: loading them from the file and decoding sled's
/// own pages was a sixth of an unlock after the key (docs/architecture.md,
/// "Unlocking"). They stay sealed: nothing here can read them. A store with
/// no summaries yet is left as it is (opening a tree that is not there would
/// make one), and a read that fails is left for unlocking to meet and report.
/// Stops when `wanted` goes false: a locked store let go waits for this
/// thread, and on a slow disk the pages are megabytes nobody will read.
fn read_summary_pages_ahead(db: &sled::Db, wanted: &AtomicBool) {
    if !db
        .tree_names()
        .iter()
        .any(|name| name == T_SUMMARIES.as_bytes())
    {
        return;
    }
    let Ok(summaries) = db.open_tree(T_SUMMARIES) else {
        return;
    };
    for page in summaries.iter() {
        if page.is_err() || !wanted.load(Ordering::Relaxed) {
            return;
        }
    }
}

fn open_db(dir: &Path, cache: CacheSize) -> Result<super::DurableDb> {
    super::open_sled(
        &dir.join(DB_DIR),
        super::SledOptions {
            cache_bytes: cache.bytes(),
            background_flush: cache.background_flush(),
        },
    )
}

pub struct EncryptedStore {
    dir: PathBuf,
    header: Header,
    sealer: crypto::Sealer,
    /// Keys the hash that hides op ids in the `ops` tree's keys.
    op_index_key: SecretKey,
    db: super::DurableDb,
    /// What the database was opened for (see `relock`).
    cache: CacheSize,
    meta: sled::Tree,
    ops: sled::Tree,
    people: sled::Tree,
    summaries: sled::Tree,
    outbox: sled::Tree,
    clock: Mutex<Hlc>,
    watermark: WatermarkWriter,
    /// Makes each commit durable (see `commit_log.rs`).
    log: CommitLog,
    /// What the log held at opening, until it is replayed: meanwhile a flush
    /// must not empty the log.
    unreplayed: Mutex<Vec<Record>>,
    /// Commits durable in the log but not yet applied to sled (`unapplied.rs`).
    unapplied: Mutex<unapplied::Unapplied>,
    /// The person last read from sled, for the fold that follows a check.
    last_read: last_read::LastRead,
    /// A part of a large commit sled is writing on a thread of its own.
    in_flight: in_flight::InFlight,
    /// Set once the store is known complete (checked, or new): from then on a
    /// checkpoint may move the watermark, and closing makes sled durable.
    vouched: AtomicBool,
    // Last, so the database is closed before the lock is released.
    lock: StoreLock,
}

/// The summaries one reading thread decoded, what saw them, and what it
/// could not read.
type SummariesRead<Seen> = (Vec<CaseSummary>, Seen, Vec<Damaged>);

/// Every summary read, in runs that follow one another (one a reading
/// thread), each with the visitor that saw it; and what could not be read.
pub struct SummaryRuns<V> {
    pub runs: Vec<(Vec<CaseSummary>, V)>,
    pub damaged: Vec<Damaged>,
}

/// Runs of summaries joined in order onto the first one's vector, grown once
/// and trimmed of its spare room: growing by doubling would leave up to twice
/// the summaries' size behind in the allocator after unlock.
pub fn join_runs(runs: Vec<Vec<CaseSummary>>) -> Vec<CaseSummary> {
    let total = runs.iter().map(Vec::len).sum::<usize>();
    let mut runs = runs.into_iter();
    let mut out = runs.next().unwrap_or_default();
    out.reserve_exact(total - out.len());
    for run in runs {
        out.extend(run);
    }
    out.shrink_to_fit();
    out
}

impl EncryptedStore {
    /// Creates a new, empty store at `dir` (which must not hold one already).
    pub fn create(dir: &Path, passphrase: &[u8], kdf: crypto::KdfParams) -> Result<Self> {
        Self::create_in_format(dir, passphrase, kdf, super::header::FORMAT_VERSION)
    }

    /// `create`, in a given format version: an older one is what an earlier
    /// caseload made, for tests of reading and writing such stores.
    pub fn create_in_format(
        dir: &Path,
        passphrase: &[u8],
        kdf: crypto::KdfParams,
        version: u8,
    ) -> Result<Self> {
        if dir.join(HEADER_FILE).exists() {
            return Err(StoreError::AlreadyExists(dir.to_path_buf()));
        }
        files::create_private_dir(dir)?;
        let lock = StoreLock::acquire(dir)?;
        let data_key = SecretKey::random()?;
        let header = Header::in_format(version, passphrase, &data_key, kdf).map_err(|source| {
            StoreError::BadHeader {
                path: dir.join(HEADER_FILE),
                source,
            }
        })?;
        // A new store is filled next (a demo, an import, a first sync).
        let db = open_db(dir, CacheSize::BulkWrites)?;
        let store = Self::assemble_unchecked(
            dir,
            header.clone(),
            data_key,
            lock,
            (db, CacheSize::BulkWrites),
        )?;
        store.write_watermark(Hlc::default(), 0)?;
        store.vouched.store(true, Ordering::SeqCst);
        // The header goes last: a directory without one is not a store yet.
        files::write_atomic(&dir.join(HEADER_FILE), &header.to_bytes())?;
        Ok(store)
    }

    /// Unlocks with a passphrase in one step.
    pub fn open(dir: &Path, passphrase: &[u8]) -> Result<Self> {
        LockedStore::open(dir)?.unlock_with_passphrase(passphrase)
    }

    /// Checks the opened database has not lost changes (see `check_watermark`)
    /// and replays what was committed since its last checkpoint.
    fn checked(self) -> Result<Self> {
        self.check_watermark()?;
        self.replay_log()?;
        self.vouched.store(true, Ordering::SeqCst);
        Ok(self)
    }

    fn assemble_unchecked(
        dir: &Path,
        header: Header,
        data_key: SecretKey,
        lock: StoreLock,
        (db, cache): (super::DurableDb, CacheSize),
    ) -> Result<Self> {
        let (log, unreplayed) = CommitLog::open(&dir.join(LOG_FILE))?;
        files::tighten_permissions(dir)?;
        let op_index_key = SecretKey::from_bytes(blake3::derive_key(
            "caseload 2026 op index key",
            data_key.expose(),
        ));
        let store = Self {
            dir: dir.to_path_buf(),
            header,
            sealer: crypto::Sealer::new(data_key, b"caseload\x01"),
            op_index_key,
            meta: db.open_tree(T_META)?,
            ops: db.open_tree(T_OPS)?,
            people: db.open_tree(T_PEOPLE)?,
            summaries: db.open_tree(T_SUMMARIES)?,
            outbox: db.open_tree(T_OUTBOX)?,
            db,
            cache,
            clock: Mutex::new(Hlc::default()),
            watermark: WatermarkWriter::new(dir.join(WATERMARK_FILE)),
            log,
            unreplayed: Mutex::new(unreplayed),
            unapplied: Mutex::default(),
            last_read: last_read::LastRead::default(),
            in_flight: in_flight::InFlight::default(),
            vouched: AtomicBool::new(false),
            lock,
        };
        // A large commit cut short (killed, a full disk) is put back first.
        journal::roll_back_unfinished(&store)?;
        let last: Option<Hlc> = store.meta(META_CLOCK)?;
        *store.clock.lock().unwrap_or_else(|p| p.into_inner()) = last.unwrap_or_default();
        if store.meta::<u64>(META_OP_COUNT)?.is_none() {
            // A store from before op counts: count once, from here on kept.
            let count = store.ops.len() as u64;
            store.put_meta(META_OP_COUNT, &count)?;
        }
        Ok(store)
    }

    /// Records, outside the database, the clock of the last durable commit. sled
    /// recovers a truncated or damaged log to its last intact state, which may be
    /// far older (even empty); without this, lost changes would look like a
    /// healthy store. Written in place (`watermark.rs`), the generation bound in.
    fn write_watermark(&self, at: Hlc, ops: u64) -> Result<()> {
        self.watermark.write(|generation| {
            self.seal(
                "watermark",
                &generation.to_le_bytes(),
                &Watermark { at, ops },
            )
        })
    }

    /// The newest readable watermark: its generation (none for one from before
    /// slots), clock and, unless it is older than op counts, op count.
    fn saved_watermark(
        &self,
        saved: &Saved,
    ) -> std::result::Result<(Option<u64>, Hlc, Option<u64>), Damaged> {
        match saved {
            Saved::Whole(sealed) => self
                .unseal::<Watermark>("watermark", b"", sealed)
                .map(|w| (None, w.at, Some(w.ops)))
                .or_else(|e| {
                    self.unseal::<Hlc>("watermark", b"", sealed)
                        .map(|at| (None, at, None))
                        .map_err(|_| e)
                }),
            Saved::Slots(slots) => {
                let mut first_error = None;
                for (generation, sealed) in slots {
                    match self.unseal::<Watermark>("watermark", &generation.to_le_bytes(), sealed) {
                        Ok(w) => return Ok((Some(*generation), w.at, Some(w.ops))),
                        Err(e) => first_error = first_error.or(Some(e)),
                    }
                }
                Err(first_error.unwrap_or_else(|| Damaged {
                    tree: "watermark",
                    record: "watermark".into(),
                    reason: "neither of its slots can be read".into(),
                }))
            }
        }
    }

    /// How many ops the store holds (as kept beside them).
    fn op_count(&self) -> Result<u64> {
        Ok(self.meta::<u64>(META_OP_COUNT)?.unwrap_or(0))
    }

    fn check_watermark(&self) -> Result<()> {
        let path = self.dir.join(WATERMARK_FILE);
        let lost = |reason: String| {
            StoreError::Database(format!(
                "{reason}; restore the store from a backup, or re-sync it from the hub"
            ))
        };
        let saved = match watermark::read(&path) {
            Ok(saved) => saved,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(lost(format!(
                    "{} is missing, so the store cannot be shown to be complete",
                    path.display()
                )));
            }
            Err(source) => {
                return Err(StoreError::Io {
                    action: "cannot read",
                    path,
                    source,
                });
            }
        };
        let (generation, saved, saved_ops) = self
            .saved_watermark(&saved)
            .map_err(|d| lost(format!("{} is damaged ({})", path.display(), d.reason)))?;
        if let Some(generation) = generation {
            self.watermark.resume_after(generation)?;
        }
        if let Some(saved_ops) = saved_ops {
            // Ahead of the watermark is the moment between a commit and its
            // watermark (a kill there loses nothing); behind it is a loss.
            let held = self.op_count()?;
            if held < saved_ops {
                return Err(lost(format!(
                    "the database has lost changes: it holds {held} changes but {saved_ops} were saved (records were put back to an older copy, or lost)"
                )));
            }
        }
        let now = self.last_hlc();
        if now < saved {
            return Err(lost(format!(
                "the database has lost changes: it ends at {} but changes up to {} were saved (the file was truncated, damaged or replaced by an older copy)",
                fmt_millis(now.millis),
                fmt_millis(saved.millis)
            )));
        }
        Ok(())
    }

    /// Drops the data key and what was decrypted, keeping the lock and the
    /// database open (sealed values only), so that unlocking again opens
    /// nothing. A store opened for bulk writes is closed: its settings are
    /// not a workbench's.
    pub fn relock(self) -> LockedStore {
        let database = match self.cache {
            CacheSize::Interactive => self.db.try_clone().ok().map(Database::Open),
            CacheSize::BulkWrites => None,
        };
        self.locked(database, CacheSize::Interactive)
        // `self` is dropped here: what waits in the commit log is applied to
        // the database (still open in the locked store) and made durable.
    }

    /// This store locked, holding its lock and `database`.
    fn locked(&self, database: Option<Database>, cache: CacheSize) -> LockedStore {
        LockedStore {
            dir: self.dir.clone(),
            header: self.header.clone(),
            database: Mutex::new(database),
            lock: self.lock.clone(),
            cache,
        }
    }

    /// The same store with its database closed and opened again, the key and
    /// the lock kept throughout: only then does sled let go of the pages it
    /// holds in memory, which its cache evicts only once 64 more reads come
    /// to the same one of its 256 shards — so the pages read to unlock, or
    /// to make the returns, would otherwise stay (docs/architecture.md,
    /// "Memory of an unlocked store"). What waits in the commit log is
    /// applied and made durable first, as at closing. On failure the store
    /// is left locked, the database closed, and the error says why.
    pub fn reopened(self) -> std::result::Result<EncryptedStore, Box<NotReopened>> {
        let key = self.sealer.key().clone();
        let locked = self.locked(None, self.cache);
        // Closed here: sled must let go of its files before they open again.
        drop(self);
        match locked.open_with_data_key(key).and_then(Self::checked) {
            Ok(store) => Ok(store),
            Err(error) => Err(Box::new(NotReopened {
                error,
                store: locked,
            })),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn store_id(&self) -> [u8; 16] {
        self.header.store_id
    }

    /// The greatest HLC this store has issued or received; a clock resumes here.
    pub fn last_hlc(&self) -> Hlc {
        *self.clock.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Rewraps the data key under a new passphrase. Data is not re-encrypted; the
    /// old passphrase stops working the moment the new header is in place.
    pub fn change_passphrase(&mut self, new_passphrase: &[u8]) -> Result<()> {
        let path = self.dir.join(HEADER_FILE);
        let header = self
            .header
            .rewrap(new_passphrase, self.sealer.key())
            .map_err(|source| StoreError::BadHeader {
                path: path.clone(),
                source,
            })?;
        files::write_atomic(&path, &header.to_bytes())?;
        self.header = header;
        Ok(())
    }

    fn seal<T: Serialize>(&self, tree: &str, key: &[u8], value: &T) -> Result<Vec<u8>> {
        self.sealer.seal(tree, key, value)
    }

    /// The `ops` keys an outbox entry lists, each with how many ops its value
    /// holds, or what is wrong with the entry: it does not open, or it lists
    /// other than as many ops as its key says.
    fn outbox_op_keys(
        &self,
        key: &[u8],
        sealed: &[u8],
    ) -> std::result::Result<Vec<(Vec<u8>, usize)>, Damaged> {
        let listed: Vec<u8> = self.unseal(T_OUTBOX, key, sealed)?;
        let named: Vec<(Vec<u8>, usize)> = self
            .named_in_outbox(&listed)
            .map(|(key, count)| (key.to_vec(), count))
            .collect();
        let counted = named.iter().map(|(_, count)| count).sum::<usize>();
        if named.is_empty() || counted != outbox_count(key) {
            return Err(outbox_damaged(key, "does not list as many ops as it says"));
        }
        Ok(named)
    }

    /// What an outbox entry's list names, each `ops` key with how many ops
    /// its value holds: up to format 2, op keys of 32 bytes one after
    /// another; from format 3, an item of 36 bytes a value of the `ops` tree
    /// (`kept_together::listed`). Nothing if the list is not a whole number
    /// of them.
    fn named_in_outbox<'l>(&self, listed: &'l [u8]) -> impl Iterator<Item = (&'l [u8], usize)> {
        let together = self.header.ops_kept_together();
        let item = match together {
            true => kept_together::LISTED_LEN,
            false => std::mem::size_of::<OpKey>(),
        };
        let whole = listed.len().is_multiple_of(item);
        listed
            .chunks_exact(item)
            .take_while(move |_| whole)
            .map(move |item| match together {
                true => kept_together::named_by(item),
                false => (item, 1),
            })
    }

    /// Appends to an outbox entry's list what names a value of `count` ops
    /// under `key`: the key up to format 2 (one op each), an item naming the
    /// value and its count from format 3.
    fn list_in_outbox(&self, listed: &mut Vec<u8>, key: &[u8], count: usize) {
        match self.header.ops_kept_together() {
            true => listed.extend_from_slice(&kept_together::listed(key, count)),
            false => listed.extend_from_slice(key),
        }
    }

    fn unseal<T: DeserializeOwned>(
        &self,
        tree: &'static str,
        key: &[u8],
        sealed: &[u8],
    ) -> std::result::Result<T, Damaged> {
        self.sealer
            .unseal(tree, key, sealed)
            .map_err(|reason| Damaged {
                tree,
                record: record_name(tree, key),
                reason,
            })
    }

    fn op_key(&self, op: &Op) -> OpKey {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(op.person.as_bytes());
        let h = blake3::keyed_hash(self.op_index_key.expose(), op.id.as_bytes());
        key[16..].copy_from_slice(&h.as_bytes()[..16]);
        key
    }

    /// A person as they stand, with every commit (applied to sled or not).
    fn load_person(&self, id: PersonId) -> Result<Option<PersonState>> {
        if let Some(state) = self.unapplied_lock().person(id) {
            return Ok(Some(state.clone()));
        }
        self.load_applied_person(id)
    }

    /// Commits one op made on this device a moment ago (see [`Ids::JustMinted`]):
    /// `commit`, without asking sled whether it is held already.
    pub fn commit_minted(&self, op: &Op) -> Result<Vec<Changed>> {
        self.commit_to_log(std::slice::from_ref(op), Origin::Local, Ids::JustMinted)
    }

    /// Checks a change about to be committed against the person as they
    /// stand (`None`: not here yet). The record is lent to `check`, not
    /// copied, and one read from sled is then kept for the commit's fold
    /// (`last_read.rs`).
    pub fn check_change<T>(
        &self,
        id: PersonId,
        check: impl FnOnce(Option<&PersonState>) -> Result<T>,
    ) -> Result<T> {
        if let Some(state) = self.unapplied_lock().person(id) {
            return check(Some(state));
        }
        let version = self.last_read.version();
        let state = self.load_applied_person(id)?;
        let checked = check(state.as_ref());
        if let Some(state) = state {
            self.last_read.keep(version, state);
        }
        checked
    }

    /// A person as sled holds them (the copy kept by `check_change`, if
    /// it is this person's).
    fn load_applied_person(&self, id: PersonId) -> Result<Option<PersonState>> {
        self.land_if_it_changes(id)?;
        if let Some(state) = self.last_read.take(id) {
            return Ok(Some(state));
        }
        match self.people.get(id.as_bytes())? {
            None if self.header.one_op_records_unmarked() => self.fold_if_kept_as_its_op(id),
            None => Ok(None),
            Some(v) if v == STATE_IS_ITS_OP => self.fold_its_op(id).map(Some),
            Some(v) => self
                .unseal(T_PEOPLE, id.as_bytes(), &v)
                .map(Some)
                .map_err(Damaged::into_error),
        }
    }

    /// A person with no key in `people`: absent, or (format 2) their record
    /// kept as their one op, with no mark.
    fn fold_if_kept_as_its_op(&self, id: PersonId) -> Result<Option<PersonState>> {
        let ops = self.applied_ops(id)?;
        Ok((!ops.is_empty()).then(|| PersonState::fold(id, &ops)))
    }

    /// The record of a person kept as their one op (`STATE_IS_ITS_OP`).
    fn fold_its_op(&self, id: PersonId) -> Result<PersonState> {
        self.fold_if_kept_as_its_op(id)?.ok_or_else(|| {
            Damaged {
                tree: T_PEOPLE,
                record: record_name(T_PEOPLE, id.as_bytes()),
                reason: "kept as its op, and no op is there".into(),
            }
            .into_error()
        })
    }

    fn load_page(&self, page: [u8; 2]) -> std::result::Result<Page, Damaged> {
        let mut out = Page::new();
        match self.summaries.get(page) {
            Err(e) => return Err(page_damaged(page, &e.to_string())),
            Ok(None) => {}
            Ok(Some(sealed)) => self.open_page(page, &sealed, |id, bytes| {
                out.insert(id, bytes.to_vec());
            })?,
        }
        Ok(out)
    }

    /// Decrypts a page and hands each summary's encoded bytes to `each`,
    /// borrowed from the page (nothing is copied); nothing is handed on from a
    /// page that does not decode whole.
    fn open_page(
        &self,
        page: [u8; 2],
        sealed: &[u8],
        mut each: impl FnMut(PersonId, &[u8]),
    ) -> std::result::Result<(), Damaged> {
        let plain = self
            .sealer
            .open_bytes(T_SUMMARIES, &page, sealed)
            .map_err(|e| page_damaged(page, &e.to_string()))?;
        let entries = page_entries(&plain).ok_or_else(|| page_damaged(page, "undecodable page"))?;
        for (id, bytes) in entries {
            each(id, bytes);
        }
        Ok(())
    }

    /// The summaries of the pages in `range` of page keys, each page decoded
    /// as it is read, and what could not be read.
    fn decode_pages(
        &self,
        range: PageRange,
        pages_in_range: usize,
        seen: &mut impl SummaryVisitor,
    ) -> Result<(Vec<CaseSummary>, Vec<Damaged>)> {
        let (mut ok, mut bad) = (Vec::new(), Vec::new());
        for (n, item) in self.summaries.range(range).enumerate() {
            let (k, sealed) = item?;
            let Ok(page) = <[u8; 2]>::try_from(k.as_ref()) else {
                bad.push(Damaged {
                    tree: T_SUMMARIES,
                    record: hex8(&k),
                    reason: "not a page key".into(),
                });
                continue;
            };
            let read = self.open_page(page, &sealed, |id, bytes| {
                match postcard::from_bytes::<CaseSummary>(bytes) {
                    Ok(s) if s.id == id => {
                        seen.visit(&s);
                        ok.push(s);
                    }
                    _ => bad.push(Damaged {
                        tree: T_SUMMARIES,
                        record: id.short(),
                        reason: "undecodable summary".into(),
                    }),
                }
            });
            if let Err(d) = read {
                bad.push(d);
            }
            if n == 0 {
                // Pages hold about as many each (random ids): sized once
                // from the first, not grown by doubling.
                ok.reserve_exact(ok.len() * pages_in_range * 9 / 8);
            }
        }
        Ok((ok, bad))
    }

    /// Every summary in every readable page, read and decoded on all cores
    /// (each thread its own run of pages: reading them from sled is as much
    /// of the work as decoding them); unreadable pages and summaries are
    /// reported, not fatal. Each thread shows each summary it decodes to a
    /// visitor of its own, made by `make`, while the summary is still in the
    /// cache. The runs come back unjoined, in order, each with its visitor:
    /// joining them is a copy of every summary after the threads are done,
    /// which the index does without ([`join_runs`] for a caller that wants
    /// one vector).
    pub fn summaries_seen_by<V: SummaryVisitor>(
        &self,
        make: impl Fn() -> V + Sync,
    ) -> Result<SummaryRuns<V>> {
        self.settle()?;
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let ranges = page_ranges(threads);
        let pages_each = usize::from(PAGES).div_ceil(threads);
        let make = &make;
        let parts: Vec<Result<SummariesRead<V>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = ranges
                .into_iter()
                .map(|range| {
                    scope.spawn(move || {
                        let mut seen = make();
                        let (ok, bad) = self.decode_pages(range, pages_each, &mut seen)?;
                        Ok((ok, seen, bad))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    // A reader that stopped (a panic inside sled) is reported,
                    // never taken for pages with nobody in them; its visitor,
                    // which may have seen some, is replaced by one that saw
                    // none, as its summaries are.
                    h.join().unwrap_or_else(|_| {
                        let stopped = Damaged {
                            tree: T_SUMMARIES,
                            record: "a share of the pages".into(),
                            reason: "reading stopped with an internal error".into(),
                        };
                        Ok((Vec::new(), make(), vec![stopped]))
                    })
                })
                .collect()
        });
        let mut read = SummaryRuns {
            runs: Vec::new(),
            damaged: Vec::new(),
        };
        for part in parts {
            let (ok, seen, bad) = part?;
            read.runs.push((ok, seen));
            read.damaged.extend(bad);
        }
        Ok(read)
    }

    /// How many summary pages are stored and their sealed bytes: what
    /// unlocking reads and decrypts (nothing is decrypted here). The floor the
    /// unlock benchmark measures itself against.
    pub fn summary_pages_stored(&self) -> Result<(usize, u64)> {
        self.settle()?;
        let mut pages = (0, 0);
        for item in self.summaries.iter() {
            let (_, sealed) = item?;
            pages.0 += 1;
            pages.1 += sealed.len() as u64;
        }
        Ok(pages)
    }

    /// How many local ops wait for the hub (nothing decrypted).
    pub fn outbox_len(&self) -> Result<usize> {
        let mut waiting = self.unapplied_lock().outbox_len();
        for key in self.outbox.iter().keys() {
            waiting += outbox_count(&key?);
        }
        Ok(waiting)
    }

    /// Local ops waiting for the hub, oldest first, each with the key of the
    /// outbox entry that holds it (ops of one commit share one).
    pub fn outbox_entries(&self) -> Result<Vec<(Vec<u8>, Op)>> {
        self.settle()?;
        let mut out = Vec::new();
        for item in self.outbox.iter() {
            let (k, v) = item?;
            let listed = self.outbox_op_keys(&k, &v).map_err(Damaged::into_error)?;
            let entry_starts = out.len();
            for (ops_key, count) in listed {
                let sealed = self.ops.get(&ops_key)?.ok_or_else(|| {
                    outbox_damaged(&k, "points at an op that is not in the log").into_error()
                })?;
                let ops = self
                    .unseal_ops(&ops_key, &sealed)
                    .map_err(Damaged::into_error)?;
                if ops.len() != count {
                    return Err(
                        outbox_damaged(&k, "points at ops that are not all there").into_error()
                    );
                }
                out.extend(ops.into_iter().map(|op| (k.to_vec(), op)));
            }
            // Kept together a person at a time, an entry's ops are put back
            // in the order they were made: a device's own ops' clocks rise.
            out[entry_starts..].sort_by_key(|(_, op)| op.at);
        }
        Ok(out)
    }

    /// The hub has these ops: they leave the outbox (durably). `keys` are
    /// outbox keys as `outbox_entries` gave them; an entry leaves whole, so
    /// the caller acknowledges only after every op of it was pushed.
    pub fn ack_outbox(&self, keys: &[Vec<u8>]) -> Result<()> {
        let mut batch = sled::Batch::default();
        for k in keys {
            batch.remove(k.as_slice());
        }
        self.outbox.apply_batch(batch)?;
        self.flush()
    }

    /// Removes a young person who left this user's scope: their ops, state and
    /// summary, in one step. The caller makes sure none of their ops still wait
    /// in the outbox.
    pub fn remove_person(&self, id: PersonId) -> Result<()> {
        self.settle()?;
        let page_key = page_of(id);
        let mut page = self.load_page(page_key).map_err(Damaged::into_error)?;
        page.remove(&id);
        let mut ops_batch = sled::Batch::default();
        let mut removed = 0u64;
        for k in self.ops.scan_prefix(id.as_bytes()).keys() {
            let k = k?;
            removed += ops_under(&k).unwrap_or(1) as u64;
            ops_batch.remove(k);
        }
        let op_count = self.op_count()?.saturating_sub(removed);
        // Fewer ops: the watermark goes down first, so a kill in between leaves
        // the database ahead of it (as after any commit), never behind.
        self.write_watermark(self.last_hlc(), op_count)?;
        let mut meta_batch = sled::Batch::default();
        meta_batch.insert(
            META_OP_COUNT.as_bytes(),
            self.seal(T_META, META_OP_COUNT.as_bytes(), &op_count)?,
        );
        let mut people_batch = sled::Batch::default();
        people_batch.remove(id.as_bytes());
        let mut summary_batch = sled::Batch::default();
        if page.is_empty() {
            summary_batch.remove(&page_key[..]);
        } else {
            let plain = Zeroizing::new(encode_page(&page));
            summary_batch.insert(
                &page_key[..],
                self.sealer.seal_bytes(T_SUMMARIES, &page_key, &plain)?,
            );
        }
        let applied = super::apply_atomically(&[
            (&self.ops, ops_batch),
            (&self.people, people_batch),
            (&self.summaries, summary_batch),
            (&self.meta, meta_batch),
        ]);
        self.last_read.people_changed();
        applied?;
        self.flush()
    }

    /// Applies what waits and writes everything buffered by sled to disk
    /// (fsync). The commit log is then emptied: what it held is durable in sled.
    pub fn flush(&self) -> Result<()> {
        self.flush_with(&mut self.unapplied_lock())
    }

    /// `flush`, the unapplied commits' lock held (no commit may reach the log
    /// between sled's flush and the log's emptying).
    fn flush_with(&self, unapplied: &mut unapplied::Unapplied) -> Result<()> {
        self.apply(unapplied)?;
        self.db.flush()?;
        if self.unreplayed_lock().is_empty() {
            self.log.empty()?;
        }
        Ok(())
    }

    fn unreplayed_lock(&self) -> std::sync::MutexGuard<'_, Vec<Record>> {
        self.unreplayed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes sled durable, empties the log and moves the watermark to what
    /// is now held: when the log is full, and on closing.
    pub fn checkpoint(&self) -> Result<()> {
        self.checkpoint_with(&mut self.unapplied_lock())
    }

    fn checkpoint_with(&self, unapplied: &mut unapplied::Unapplied) -> Result<()> {
        self.flush_with(unapplied)?;
        self.seal_commit(self.last_hlc(), self.op_count()?)
    }

    /// Applies what the log held at opening (commits not yet durable in
    /// sled when the store was last closed or killed). A commit whose ops are
    /// held already changes nothing, so a replay is never double.
    ///
    /// The last record may fail to open: a power cut in the middle of its
    /// write, before its sync returned, so it was never acknowledged. It is
    /// left out, and the log emptied once the rest is durable in sled. Any
    /// other record that fails to open is damage.
    fn replay_log(&self) -> Result<()> {
        let records = std::mem::take(&mut *self.unreplayed_lock());
        let mut torn = false;
        for (i, record) in records.iter().enumerate() {
            let entry = match self.log_entry(record) {
                Ok(entry) => entry,
                Err(_) if i + 1 == records.len() => {
                    torn = true;
                    break;
                }
                Err(damaged) => return Err(damaged.into_error()),
            };
            let origin = if entry.local {
                Origin::Local
            } else {
                Origin::Remote
            };
            self.commit_part(&entry.ops, origin, None, Ids::MayBeHeld)?;
        }
        if torn {
            // Appending after the torn record would make it a middle one.
            self.flush()?;
        }
        Ok(())
    }

    fn log_entry(&self, record: &Record) -> std::result::Result<LogEntry, Damaged> {
        self.unseal(
            T_LOG,
            &Record::binding(&record.cycle, record.number),
            &record.sealed,
        )
    }

    /// Everything that can still be read: every op and outbox entry that
    /// decrypts, and the meta records, with a count of what could not be. A
    /// panic inside sled while reading one tree ends that tree's reading, not
    /// the salvage.
    pub fn salvage(&self) -> Salvage {
        let mut out = Salvage::default();
        let mut by_key: BTreeMap<Vec<u8>, Op> = BTreeMap::new();
        // The keys of the ops each value kept together holds, by its key.
        let mut together: BTreeMap<Vec<u8>, Vec<Vec<u8>>> = BTreeMap::new();
        let quiet = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // Commits only the log holds are read from sled like the rest.
            let _ = self.settle();
            for item in self.ops.iter() {
                match item {
                    Ok((k, v)) => match self.unseal_ops(&k, &v) {
                        Ok(ops) if ops.len() == 1 => {
                            by_key.extend(ops.into_iter().map(|op| (k.to_vec(), op)));
                        }
                        Ok(ops) => {
                            let keys = ops.iter().map(|op| self.op_key(op).to_vec()).collect();
                            together.insert(k.to_vec(), keys);
                            by_key
                                .extend(ops.into_iter().map(|op| (self.op_key(&op).to_vec(), op)));
                        }
                        Err(_) => out.lost_ops += ops_under(&k).unwrap_or(1),
                    },
                    Err(_) => out.lost_ops += 1,
                }
            }
        }));
        let mut waiting: Vec<Vec<u8>> = Vec::new();
        // Commits durable only in the log are salvaged too.
        for record in self.unreplayed_lock().iter() {
            match self.log_entry(record) {
                Ok(entry) => {
                    for op in entry.ops {
                        let key = self.op_key(&op).to_vec();
                        if let std::collections::btree_map::Entry::Vacant(v) = by_key.entry(key) {
                            if entry.local {
                                waiting.push(v.key().clone());
                            }
                            v.insert(op);
                        }
                    }
                }
                Err(_) => out.lost_ops += 1,
            }
        }
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for item in self.outbox.iter() {
                let Ok((k, v)) = item else {
                    out.lost_outbox += 1;
                    continue;
                };
                match self.outbox_op_keys(&k, &v) {
                    Ok(listed) => {
                        for (ops_key, count) in listed {
                            match together.get(&ops_key) {
                                Some(keys) => waiting.extend(keys.iter().cloned()),
                                None if count == 1 => waiting.push(ops_key),
                                None => out.lost_outbox += count,
                            }
                        }
                    }
                    Err(_) => out.lost_outbox += outbox_count(&k),
                }
            }
        }));
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for item in self.meta.iter() {
                let Ok((k, v)) = item else { continue };
                let name = String::from_utf8_lossy(&k).into_owned();
                match self.sealer.open_bytes(T_META, &k, &v) {
                    Ok(plain) => out.meta.push((name, plain)),
                    Err(_) => out.lost_meta.push(name),
                }
            }
        }));
        std::panic::set_hook(quiet);
        for key in waiting {
            match by_key.remove(&key) {
                Some(op) => out.outbox.push(op),
                None => out.lost_outbox += 1,
            }
        }
        // In the order they were made (values kept together are a person's).
        out.outbox.sort_by_key(|op| op.at);
        out.synced = by_key.into_values().collect();
        out
    }

    /// A meta record sealed, to be written with others by `put_metas`.
    pub fn meta_write<T: Serialize>(&self, name: &str, value: &T) -> Result<MetaWrite> {
        Ok(MetaWrite {
            name: name.to_string(),
            sealed: self.seal(T_META, name.as_bytes(), value)?,
        })
    }

    /// Meta records written together, all or none, with one flush (a sync's
    /// progress and its link).
    pub fn put_metas(&self, writes: Vec<MetaWrite>) -> Result<()> {
        let mut batch = sled::Batch::default();
        for write in writes {
            batch.insert(write.name.as_bytes(), write.sealed);
        }
        self.meta.apply_batch(batch)?;
        self.flush()
    }

    /// Writes a meta record from its plaintext (a recovered store's identity
    /// and hub link).
    pub fn put_meta_plain(&self, name: &str, plain: &[u8]) -> Result<()> {
        let sealed = self.sealer.seal_bytes(T_META, name.as_bytes(), plain)?;
        self.meta.insert(name.as_bytes(), sealed)?;
        self.flush()
    }
}

/// An opaque, loggable name for a record: a person's short form, an outbox
/// entry's number, or the first bytes of its key.
fn record_name(tree: &str, key: &[u8]) -> String {
    match tree {
        T_OUTBOX if key.len() == 8 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(key);
            format!("#{}", u64::from_be_bytes(b))
        }
        T_OPS if key.len() >= 32 => format!("{}/{}", person_name(&key[..16]), hex8(&key[16..32])),
        T_PEOPLE => person_name(key),
        T_META => String::from_utf8_lossy(key).into_owned(),
        _ => hex8(key),
    }
}

/// A person's key as the caseworker knows it: the id's short form.
fn person_name(key: &[u8]) -> String {
    match <[u8; 16]>::try_from(key) {
        Ok(bytes) => PersonId::from_bytes(bytes).short(),
        Err(_) => hex8(key),
    }
}

fn fmt_millis(millis: u64) -> String {
    chrono::DateTime::from_timestamp_millis(millis as i64)
        .map(|t| t.format("%d/%m/%Y %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "the beginning".into())
}

/// Summary pages: 1,024, chosen by two bytes of the person id
/// ([`PersonId::page_bytes`]).
const PAGES: u16 = 1024;

/// A run of page keys, from and to.
type PageRange = (Bound<[u8; 2]>, Bound<[u8; 2]>);

/// `parts` runs of page keys that together cover every key in the tree, in
/// order: the first open below, the last open above, so that a key that is
/// not a page key (damage) still falls in one and is reported.
fn page_ranges(parts: usize) -> Vec<PageRange> {
    let parts = parts.clamp(1, usize::from(PAGES));
    let cut = |i: usize| -> [u8; 2] {
        let page = u16::try_from(i * usize::from(PAGES) / parts).unwrap_or(PAGES);
        page.to_be_bytes()
    };
    (0..parts)
        .map(|i| {
            let start = if i == 0 {
                Bound::Unbounded
            } else {
                Bound::Included(cut(i))
            };
            let end = if i + 1 == parts {
                Bound::Unbounded
            } else {
                Bound::Excluded(cut(i + 1))
            };
            (start, end)
        })
        .collect()
}

fn page_of(id: PersonId) -> [u8; 2] {
    (u16::from_be_bytes(id.page_bytes()) % PAGES).to_be_bytes()
}

/// Summary pages being changed, by page key.
type Pages = BTreeMap<[u8; 2], Page>;

/// A set of a commit's keys or people: foldhash, seeded at random per set,
/// as the index's maps (SipHash was about 3% of an import's commit).
type FastSet<T> = HashSet<T, foldhash::fast::RandomState>;

/// A page's plaintext: count (u32 LE), then per person their id (16 bytes), the
/// length of their encoded summary (u32 LE) and the summary (postcard). Kept as
/// encoded bytes so changing one summary does not decode the others.
type Page = BTreeMap<PersonId, Vec<u8>>;

fn encode_page(page: &Page) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + page.values().map(|v| 20 + v.len()).sum::<usize>());
    out.extend_from_slice(&(page.len() as u32).to_le_bytes());
    for (id, bytes) in page {
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

fn page_damaged(page: [u8; 2], reason: &str) -> Damaged {
    Damaged {
        tree: T_SUMMARIES,
        record: format!("page {}", u16::from_be_bytes(page)),
        reason: reason.into(),
    }
}

/// A page's entries, borrowed from its plaintext; `None` unless the whole
/// page decodes.
fn page_entries(b: &[u8]) -> Option<Vec<(PersonId, &[u8])>> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if b.len() < n {
            return None;
        }
        let (head, rest) = b.split_at(n);
        *b = rest;
        Some(head)
    }
    let mut rest = b;
    let count = u32::from_le_bytes(take(&mut rest, 4)?.try_into().ok()?);
    // Bounded by what the bytes can hold, whatever the count claims.
    let mut entries = Vec::with_capacity((count as usize).min(rest.len() / 20));
    for _ in 0..count {
        let id = PersonId::from_bytes(take(&mut rest, 16)?.try_into().ok()?);
        let len = u32::from_le_bytes(take(&mut rest, 4)?.try_into().ok()?) as usize;
        entries.push((id, take(&mut rest, len)?));
    }
    rest.is_empty().then_some(entries)
}

/// What one transaction of a commit wrote: each person changed and their
/// summary now, and the commit's clock.
struct PartWritten {
    changed: BTreeMap<PersonId, Option<CaseSummary>>,
    at: Hlc,
}

/// What a part of a large commit shares with the parts before it.
struct InParts<'a> {
    undo: &'a super::undo::Undo,
    pages: &'a mut Pages,
    running: &'a mut Running,
    /// The `ops` keys of the commit's local ops so far: one outbox entry for
    /// the whole commit, written at its end (`finish_in_parts`).
    outbox: &'a mut Vec<u8>,
}

impl EncryptedStore {
    /// Applies the ops of `ops` not already held, in one sled transaction.
    /// When part of a large commit (`in_parts`), the undo journal records what
    /// each write replaces, and the summary pages changed are only updated in
    /// the commit's own map (written once, at its end, by [`Self::write_pages`]).
    /// Not yet durable: the caller flushes. Returns the new state of
    /// every person changed, the commit's clock and the new op count (None if
    /// every op was held already).
    fn commit_part(
        &self,
        ops: &[Op],
        origin: Origin,
        in_parts: Option<InParts<'_>>,
        ids: Ids,
    ) -> Result<Option<PartWritten>> {
        self.land_in_flight()?;
        self.work_out_part(ops, origin, in_parts, ids)?
            .map(|worked| self.apply_worked_out(worked))
            .transpose()
    }

    /// Applies a part's writes here, in one transaction.
    fn apply_worked_out(&self, worked: WorkedOut) -> Result<PartWritten> {
        let WorkedOut { writes, written } = worked;
        let applied = in_flight::apply_writes(writes);
        self.last_read.people_changed();
        applied?;
        *self.clock.lock().unwrap_or_else(|p| p.into_inner()) = written.at;
        Ok(written)
    }

    /// Every write of [`Self::commit_part`], worked out and not applied (None
    /// if every op was held already). Reads sled, never writes it; a part in
    /// flight changes none of the people of `ops` (the caller sees to it).
    fn work_out_part(
        &self,
        ops: &[Op],
        origin: Origin,
        in_parts: Option<InParts<'_>>,
        ids: Ids,
    ) -> Result<Option<WorkedOut>> {
        // Work out every write first; the transaction then only inserts. One
        // process holds the store (the lock), so nothing changes in between.
        let mut fresh: Vec<&Op> = Vec::with_capacity(ops.len());
        let mut batch_keys: FastSet<OpKey> =
            FastSet::with_capacity_and_hasher(ops.len(), Default::default());
        let mut together = HeldTogether::default();
        // The clock and op count the part starts from: carried from part to
        // part in a large commit (the part before may still be in flight).
        let start = match &in_parts {
            Some(p) => *p.running,
            None => Running {
                at: self.last_hlc(),
                ops: self.op_count()?,
            },
        };
        let mut max_hlc = start.at;
        for op in ops {
            let key = self.op_key(op);
            if batch_keys.contains(&key) {
                continue;
            }
            if ids == Ids::MayBeHeld && self.holds_op(op, &key, &mut together)? {
                continue;
            }
            batch_keys.insert(key);
            fresh.push(op);
            max_hlc = max_hlc.max(op.at);
        }
        if fresh.is_empty() {
            return Ok(None);
        }
        let new_ops = self.seal_new_ops(&fresh)?;
        let mut own_pages = Pages::new();
        let (undo, pages, running, commit_outbox) = match in_parts {
            Some(InParts {
                undo,
                pages,
                running,
                outbox,
            }) => (Some(undo), pages, Some(running), Some(outbox)),
            None => (None, &mut own_pages, None, None),
        };
        let mut undo_part = super::undo::PartJournal::default();
        // People absent now were absent when the write began (a part only
        // inserts people), so journaling them needs no second look.
        let fresh_count = fresh.len();
        let mut absent_now: FastSet<PersonId> =
            FastSet::with_capacity_and_hasher(fresh.len(), Default::default());
        let states = PersonState::fold_changes(fresh, |id| {
            let loaded = self.load_applied_person(id)?;
            if loaded.is_none() {
                absent_now.insert(id);
            }
            Ok::<_, StoreError>(loaded)
        })?;
        let mut people_batch = sled::Batch::default();
        let mut changed = BTreeMap::new();
        let unmarked = self.header.one_op_records_unmarked();
        for (id, state) in &states {
            // New and made by one op: kept as that op alone (format 2), its
            // key in `people` — a third of an import's keys — not written.
            let kept_as_its_op = unmarked && state.is_one_op() && absent_now.contains(id);
            match undo {
                _ if kept_as_its_op => {}
                Some(undo) if absent_now.contains(id) => {
                    undo.was_absent(&mut undo_part, journal::PEOPLE, id.as_bytes())?
                }
                Some(undo) => {
                    undo.before(&mut undo_part, journal::PEOPLE, &self.people, id.as_bytes())?
                }
                None => {}
            }
            if kept_as_its_op {
                // Nothing in `people`: the op is the record.
            } else if state.is_one_op() {
                people_batch.insert(id.as_bytes(), STATE_IS_ITS_OP);
            } else {
                people_batch.insert(id.as_bytes(), self.seal(T_PEOPLE, id.as_bytes(), state)?);
            }
            let key = page_of(*id);
            let page = match pages.entry(key) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(self.load_page(key).map_err(Damaged::into_error)?)
                }
            };
            let summary = CaseSummary::of(state);
            match &summary {
                Some(s) => {
                    let bytes = postcard::to_allocvec(s)
                        .map_err(|e| StoreError::Database(e.to_string()))?;
                    page.insert(*id, bytes);
                }
                None => {
                    page.remove(id);
                }
            }
            changed.insert(*id, summary);
        }
        drop(states);
        let summary_batch = self.page_writes(&own_pages)?;
        let mut ops_batch = sled::Batch::default();
        for (key, _, sealed) in &new_ops {
            ops_batch.insert(&key[..], sealed.as_slice());
            if let Some(undo) = undo {
                undo.was_absent(&mut undo_part, journal::OPS, key)?;
            }
        }
        let mut outbox_batch = sled::Batch::default();
        if origin == Origin::Local {
            let mut listed = Vec::with_capacity(new_ops.len() * kept_together::LISTED_LEN);
            for (key, count, _) in &new_ops {
                self.list_in_outbox(&mut listed, key, *count);
            }
            match commit_outbox {
                Some(commit_listed) => commit_listed.extend_from_slice(&listed),
                None => outbox_batch = self.outbox_entry(&listed)?.1,
            }
        }
        let op_count = start.ops + fresh_count as u64;
        if let Some(r) = running {
            *r = Running {
                at: max_hlc,
                ops: op_count,
            };
        }
        let mut meta_batch = sled::Batch::default();
        meta_batch.insert(
            META_CLOCK.as_bytes(),
            self.seal(T_META, META_CLOCK.as_bytes(), &max_hlc)?,
        );
        meta_batch.insert(
            META_OP_COUNT.as_bytes(),
            self.seal(T_META, META_OP_COUNT.as_bytes(), &op_count)?,
        );
        let mut writes = vec![
            (self.ops.clone(), ops_batch),
            (self.outbox.clone(), outbox_batch),
            (self.people.clone(), people_batch),
            (self.summaries.clone(), summary_batch),
            (self.meta.clone(), meta_batch),
        ];
        if let Some(undo) = undo {
            writes.push((undo.tree().clone(), undo.writes(undo_part)?));
        }
        Ok(Some(WorkedOut {
            writes,
            written: PartWritten {
                changed,
                at: max_hlc,
            },
        }))
    }

    /// A commit's new ops, sealed: each op under its own key, or in a store
    /// of format 3 those of one person together. Each with how many ops it
    /// holds.
    fn seal_new_ops(&self, fresh: &[&Op]) -> Result<Vec<(kept_together::OpsKey, usize, Vec<u8>)>> {
        let values = match self.header.ops_kept_together() {
            true => kept_together::gathered(fresh),
            false => fresh.iter().map(|op| vec![*op]).collect(),
        };
        values
            .iter()
            .map(|ops| {
                let (key, sealed) = self.seal_ops(ops)?;
                Ok((key, ops.len(), sealed))
            })
            .collect()
    }

    /// A new outbox entry holding the `ops` values `listed` (one after
    /// another): its key, and the write that stores it.
    fn outbox_entry(&self, listed: &[u8]) -> Result<(Vec<u8>, sled::Batch)> {
        let count = self.named_in_outbox(listed).map(|(_, count)| count).sum();
        let seq = outbox_key(self.db.generate_id()?, count);
        let mut batch = sled::Batch::default();
        batch.insert(seq.as_slice(), self.seal(T_OUTBOX, &seq, &listed)?);
        Ok((seq, batch))
    }

    /// The writes that store `pages` (an empty page is removed).
    fn page_writes<'a>(
        &self,
        pages: impl IntoIterator<Item = (&'a [u8; 2], &'a Page)>,
    ) -> Result<sled::Batch> {
        let mut batch = sled::Batch::default();
        for (key, page) in pages {
            if page.is_empty() {
                batch.remove(&key[..]);
            } else {
                let plain = Zeroizing::new(encode_page(page));
                batch.insert(&key[..], self.sealer.seal_bytes(T_SUMMARIES, key, &plain)?);
            }
        }
        Ok(batch)
    }

    /// Stores the summary pages a large commit changed, journaled, a bounded
    /// number of pages a transaction. Not yet durable: the caller flushes.
    fn write_pages(&self, pages: &Pages, undo: &super::undo::Undo) -> Result<()> {
        let keys: Vec<&[u8; 2]> = pages.keys().collect();
        for chunk in keys.chunks(64) {
            let mut undo_part = super::undo::PartJournal::default();
            for key in chunk {
                undo.before(
                    &mut undo_part,
                    journal::SUMMARIES,
                    &self.summaries,
                    &key[..],
                )?;
            }
            let writes = self.page_writes(chunk.iter().map(|k| (*k, &pages[*k])))?;
            let journaled = undo.writes(undo_part)?;
            super::apply_atomically(&[(&self.summaries, writes), (undo.tree(), journaled)])?;
        }
        Ok(())
    }

    /// After a commit is durable: the watermark vouches for it.
    fn seal_commit(&self, at: Hlc, op_count: u64) -> Result<()> {
        match self.write_watermark(at, op_count) {
            // The change is durable in the database already; the watermark only
            // lags (it catches up at the next commit), so the change stands.
            Ok(()) | Err(StoreError::DiskFull) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl Drop for EncryptedStore {
    /// Closing makes sled durable and empties the log, so the next opening
    /// has nothing to replay. Not for a store that failed its checks: its log
    /// may hold the only copy of what was committed.
    fn drop(&mut self) {
        // A part still in flight lands first (its commit's marker, still
        // there, has the next opening put it back).
        let _ = self.land_in_flight();
        if self.vouched.load(Ordering::SeqCst) && !self.log.is_empty() {
            let _ = self.checkpoint();
        }
    }
}

impl CaseStore for EncryptedStore {
    fn commit(&self, ops: &[Op], origin: Origin) -> Result<Vec<Changed>> {
        if ops.len() > journal::PART {
            // Too large for one transaction's memory: in parts, all or nothing.
            return journal::commit_in_parts(self, ops, origin);
        }
        self.commit_to_log(ops, origin, Ids::MayBeHeld)
    }

    fn person(&self, id: PersonId) -> Result<Option<PersonState>> {
        self.load_person(id)
    }

    fn summaries(&self) -> Result<(Vec<CaseSummary>, Vec<Damaged>)> {
        let read = self.summaries_seen_by(|| ())?;
        Ok((
            join_runs(read.runs.into_iter().map(|(run, _)| run).collect()),
            read.damaged,
        ))
    }

    fn ops_for(&self, id: PersonId) -> Result<Vec<Op>> {
        self.settle()?;
        self.applied_ops(id)
    }

    fn outbox(&self) -> Result<Vec<Op>> {
        Ok(self
            .outbox_entries()?
            .into_iter()
            .map(|(_, op)| op)
            .collect())
    }

    fn meta<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        match self.meta.get(name.as_bytes())? {
            None => Ok(None),
            Some(v) => self
                .unseal(T_META, name.as_bytes(), &v)
                .map(Some)
                .map_err(Damaged::into_error),
        }
    }

    fn put_meta<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        self.put_metas(vec![self.meta_write(name, value)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::crypto::KdfParams;

    #[test]
    fn meta_records_written_together_are_read_back_and_survive_reopening() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("s");
        let store = EncryptedStore::create(&dir, b"pass", KdfParams::LEAST).expect("create");
        let writes = vec![
            store.meta_write("first", &7u32).expect("seal"),
            store.meta_write("second", &"two").expect("seal"),
        ];
        store.put_metas(writes).expect("write");
        drop(store);
        let store = EncryptedStore::open(&dir, b"pass").expect("open");
        assert_eq!(store.meta::<u32>("first").expect("read"), Some(7));
        assert_eq!(
            store.meta::<String>("second").expect("read").as_deref(),
            Some("two")
        );
    }

    #[test]
    fn reading_the_pages_ahead_makes_no_tree_in_a_store_without_summaries() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let db = sled::Config::new()
            .temporary(true)
            .path(tmp.path().join("db"))
            .open()
            .expect("db");
        let before = db.tree_names();
        read_summary_pages_ahead(&db, &AtomicBool::new(true));
        assert_eq!(db.tree_names(), before, "a store with no summaries yet");
    }

    #[test]
    fn the_runs_of_pages_read_apart_cover_every_key_once() {
        // As sled compares keys: bytewise.
        fn holds((start, end): &PageRange, key: &[u8]) -> bool {
            let after_start = match start {
                Bound::Included(k) => key >= k.as_slice(),
                Bound::Excluded(k) => key > k.as_slice(),
                Bound::Unbounded => true,
            };
            let before_end = match end {
                Bound::Included(k) => key <= k.as_slice(),
                Bound::Excluded(k) => key < k.as_slice(),
                Bound::Unbounded => true,
            };
            after_start && before_end
        }
        let keys: Vec<Vec<u8>> = (0..PAGES)
            .map(|p| p.to_be_bytes().to_vec())
            .chain([vec![], vec![0], vec![0xff, 0xff, 0xff], vec![0x03, 0xff, 9]])
            .collect();
        for parts in [1, 2, 3, 7, 8, 2000] {
            let ranges = page_ranges(parts);
            assert_eq!(ranges.len(), parts.min(usize::from(PAGES)));
            for key in &keys {
                let holding: Vec<usize> = (0..ranges.len())
                    .filter(|&i| holds(&ranges[i], key))
                    .collect();
                assert_eq!(holding.len(), 1, "{key:?} in {parts} parts");
            }
            let pages_held: usize = ranges
                .iter()
                .map(|r| (0..PAGES).filter(|p| holds(r, &p.to_be_bytes())).count())
                .sum();
            assert_eq!(pages_held, usize::from(PAGES));
        }
    }

    #[test]
    fn a_minted_op_is_held_once_waiting_or_applied() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = EncryptedStore::create(&tmp.path().join("s"), b"pass", KdfParams::LEAST)
            .expect("create");
        let ops = crate::demo::DemoCohort::test_ops(2, 3);
        let (first, second) = ops.split_at(ops.len() / 2);
        store.commit(first, Origin::Remote).expect("commit");
        let minted = second[0].clone();
        assert_eq!(store.commit_minted(&minted).expect("commit").len(), 1);
        // Waiting in the log: the same op again changes nothing.
        assert!(store.commit_minted(&minted).expect("again").is_empty());
        assert!(
            store
                .commit(std::slice::from_ref(&minted), Origin::Remote)
                .expect("pulled")
                .is_empty()
        );
        store.checkpoint().expect("apply to sled");
        // In sled: the hub's copy is found held (`commit` always looks).
        assert!(
            store
                .commit(&[minted], Origin::Remote)
                .expect("pulled")
                .is_empty()
        );
        assert_eq!(store.outbox_len().expect("outbox"), 1);
        assert_eq!(store.op_count().expect("count"), first.len() as u64 + 1);
    }

    #[test]
    fn a_commits_local_ops_wait_in_one_outbox_entry_and_leave_it_together() {
        // Format 2 lists each op's key; format 3 each value of ops kept
        // together, with its count.
        for version in [2, super::super::header::FORMAT_VERSION] {
            one_outbox_entry_a_commit(version);
        }
    }

    fn one_outbox_entry_a_commit(version: u8) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = EncryptedStore::create_in_format(
            &tmp.path().join("s"),
            b"pass",
            KdfParams::LEAST,
            version,
        )
        .expect("create");
        let ops = crate::demo::DemoCohort::test_ops(3, 5);
        assert!(ops.len() > 2);
        store.commit(&ops, Origin::Local).expect("commit");
        store.checkpoint().expect("apply to sled");
        assert_eq!(store.outbox.len(), 1, "one key for the commit");
        assert_eq!(store.outbox_len().expect("count"), ops.len());
        let entries = store.outbox_entries().expect("entries");
        let ids = |ops: &mut dyn Iterator<Item = &Op>| -> Vec<String> {
            let mut ids: Vec<String> = ops.map(|op| op.id.to_string()).collect();
            ids.sort();
            ids
        };
        assert_eq!(
            ids(&mut entries.iter().map(|(_, op)| op)),
            ids(&mut ops.iter())
        );
        assert_eq!(store.doctor().expect("doctor").outbox, ops.len());
        assert!(store.doctor().expect("doctor").damaged.is_empty());

        // An entry of one value (in format 2 one op, as every entry written
        // before entries held more: the sequence number alone, the op's key
        // alone).
        let first = store.ops.iter().keys().next().expect("an op").expect("key");
        let count = ops_under(&first).expect("ops");
        assert_eq!(count > 1, version >= 3, "a person's ops kept together");
        let mut key = Vec::new();
        store.list_in_outbox(&mut key, &first, count);
        let seq = outbox_key(u64::MAX, count);
        let one = store.seal(T_OUTBOX, &seq, &key).expect("seal");
        store.outbox.insert(seq, one).expect("insert");
        assert_eq!(store.outbox_len().expect("count"), ops.len() + count);
        assert_eq!(
            store.outbox_entries().expect("entries").len(),
            ops.len() + count
        );

        // A value that lists fewer ops than its key says is damaged, named.
        let short = outbox_key(u64::MAX - 1, count + 1);
        let sealed = store.seal(T_OUTBOX, &short, &key).expect("seal");
        store
            .outbox
            .insert(short.as_slice(), sealed)
            .expect("insert");
        let report = store.doctor().expect("doctor");
        assert_eq!(report.damaged.len(), 1);
        assert!(report.damaged[0].reason.contains("as many ops"));
        assert!(matches!(
            store.outbox_entries(),
            Err(StoreError::Damaged { .. })
        ));
        store.outbox.remove(short).expect("remove");

        let keys: Vec<Vec<u8>> = store
            .outbox_entries()
            .expect("entries")
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        store.ack_outbox(&keys).expect("acknowledged");
        assert_eq!(store.outbox_len().expect("count"), 0);
    }

    #[test]
    fn a_watermark_from_before_slots_is_read_then_written_in_slots() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("s");
        let store = EncryptedStore::create(&dir, b"pass", KdfParams::LEAST).expect("create");
        store
            .commit(&crate::demo::DemoCohort::test_ops(3, 1), Origin::Local)
            .expect("commit");
        let (at, ops) = (store.last_hlc(), store.op_count().expect("count"));
        // As stores wrote it before slots: one sealed value, the whole file.
        let whole = store
            .seal("watermark", b"", &Watermark { at, ops })
            .expect("seal");
        drop(store);
        std::fs::write(dir.join(WATERMARK_FILE), &whole).expect("write");
        let store = EncryptedStore::open(&dir, b"pass").expect("a whole watermark still vouches");
        store
            .commit(&crate::demo::DemoCohort::test_ops(2, 2), Origin::Local)
            .expect("commit");
        drop(store);
        let saved = watermark::read(&dir.join(WATERMARK_FILE)).expect("read");
        assert!(
            matches!(saved, Saved::Slots(ref s) if s.len() == 1),
            "{saved:?}"
        );
        EncryptedStore::open(&dir, b"pass").expect("slots vouch");
    }
}
