//! Hub storage. `SledHubStore` keeps, in one sled database sealed with the
//! server key (XChaCha20-Poly1305, as the local store):
//!
//! | tree          | key                                   | value                      |
//! |---------------|---------------------------------------|----------------------------|
//! | `ops`         | first sequence number (u64, BE, from 1) ‖ count (u32) | sealed arrival: one push's ops about one person (`op_log.rs`) |
//! | `op_ids`      | keyed hash of the op id (16 bytes)    | its sequence number        |
//! | `by_person`   | person id ‖ first sequence number     | the arrival's count        |
//! | `users`       | keyed hash of the login name          | sealed `User`              |
//! | `credentials` | BLAKE3 hash of a token                | sealed `Credential`        |
//! | `people`      | person id                             | sealed folded `PersonState`, or `0x00` for a record of one op |
//! | `summaries`   | person id                             | sealed `CaseSummary`       |
//! | `lists`       | keyed hash of the list name           | sealed `TrackingList`      |
//! | `devices`     | device id                             | sealed `Delivery`          |
//!
//! Appends go through one writer thread, in the order they arrive: it takes
//! every push waiting at that moment and writes their new ops, the ops'
//! indexes and the people they change (state and summary, folded exactly as on
//! every device) in one transaction. Each push is acknowledged once a flush
//! covers it; flushes run on the pushing threads, one for all who wait at that
//! moment (group commit), while the writer goes on with the next pushes. One
//! queue rather than a lock keeps pushes first come, first served, so under
//! load no push waits much longer than the others.

use super::scope::TrackingList;
pub use super::spool::SpoolRef;
use super::users::User;
use crate::domain::{CaseSummary, DeviceId, Op, PersonId, PersonState};
use crate::store::crypto::{self, SecretKey};
use crate::store::files::{self, StoreLock};
use crate::store::group_commit::GroupCommit;
use crate::store::undo::Undo;
use crate::store::{Result, STATE_IS_ITS_OP, StoreError, hex8};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, RwLock};

mod op_log;
mod pushed;
mod whole;

use op_log::written_seq;

/// An op as the hub holds it: with its place in the hub's order and the audit
/// facts of its arrival.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub seq: u64,
    pub op: Op,
    /// The hub user whose credentials pushed it (may differ from `op.author`
    /// only for an admin's bulk import).
    pub pushed_by: String,
    pub received_millis: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CredentialKind {
    /// Shown once by `hub user add`; exchanged for a device credential at login.
    Enrolment,
    /// Held (encrypted) by one device's store.
    Device(DeviceId),
}

/// What one device has been sent: the people whose history it holds, and the
/// last response's changes, which count once the device's cursor shows it
/// stored that response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub delivered: std::collections::BTreeSet<PersonId>,
    pub pending: Option<PendingDelivery>,
    /// The highest cursor the device has shown it stored. A pull from before
    /// it means the device's store went back in time (a restored backup, a
    /// rollback): everything is sent again.
    pub confirmed: u64,
}

/// [`Delivery`] as hubs stored it before `confirmed` (read, never written).
#[derive(Deserialize)]
struct DeliveryBeforeConfirmed {
    delivered: std::collections::BTreeSet<PersonId>,
    pending: Option<PendingDelivery>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDelivery {
    pub cursor: u64,
    pub newly: std::collections::BTreeSet<PersonId>,
    pub left: std::collections::BTreeSet<PersonId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub user: String,
    pub kind: CredentialKind,
}

/// The ops a pulling device holds of its own: those it pushed, numbered up
/// to `through` (its `own_through`).
#[derive(Clone, Copy, Debug)]
pub struct OwnPushes {
    pub device: DeviceId,
    pub through: u64,
}

/// Ops with their sequence numbers; `None` for one passed over unread.
pub type Seqs = Result<Vec<(u64, Option<Received>)>>;

/// What the hub needs from storage.
pub trait HubStore {
    /// Appends the ops not already held and returns each op's sequence
    /// number (its existing one for an op already held): pushing the same
    /// batch twice changes nothing. A batch's new ops are numbered together,
    /// each young person's in the order given (the order between people is
    /// the store's: a record's state does not depend on it).
    fn append(&self, ops: &[Op], pushed_by: &str, now_millis: u64) -> Result<Vec<u64>>;
    /// Appends, all or nothing, the ops of a spool (`spool.rs`) written in the
    /// hub's data directory: a write too large to hold in memory.
    fn append_spooled(&self, spool: &SpoolRef, pushed_by: &str, now_millis: u64) -> Result<()>;
    /// Ops after `after`, oldest first, at most `limit`.
    fn since(&self, after: u64, limit: usize) -> Result<Vec<Received>>;
    /// `since`, each with its sequence number, except that an op `device`
    /// pushed, numbered up to `through`, may come as its number alone (`None`),
    /// not read: the ops a pull never sends back to the device that pushed
    /// them. This default reads every op.
    fn since_except(&self, after: u64, limit: usize, own: OwnPushes) -> Seqs {
        let _ = own;
        Ok(self
            .since(after, limit)?
            .into_iter()
            .map(|r| (r.seq, Some(r)))
            .collect())
    }
    /// Every op about one young person, oldest first.
    fn history(&self, person: PersonId) -> Result<Vec<Received>>;
    /// The highest sequence number on disk (0 when empty): an op written but
    /// not yet durable is never promised to a puller.
    fn last_seq(&self) -> Result<u64>;
    fn put_user(&self, user: &User) -> Result<()>;
    fn user(&self, name: &str) -> Result<Option<User>>;
    fn users(&self) -> Result<Vec<User>>;
    fn put_credential(&self, token_hash: [u8; 32], credential: &Credential) -> Result<()>;
    fn credential(&self, token_hash: [u8; 32]) -> Result<Option<Credential>>;
    /// Removes a credential; true only for the one caller that removed it, so
    /// a one-time token is spent exactly once however many arrive together.
    fn remove_credential(&self, token_hash: [u8; 32]) -> Result<bool>;
    /// A young person's record as the hub has folded it.
    fn person(&self, id: PersonId) -> Result<Option<PersonState>>;
    /// Shows `visit` every young person's summary in place: what scope is
    /// decided from on every pull, so no copy of everyone is made per pull.
    fn each_summary(&self, visit: &mut dyn FnMut(&CaseSummary)) -> Result<()>;
    /// Every young person's summary, copied: what the figures are computed from.
    fn summaries(&self) -> Result<Vec<CaseSummary>> {
        let mut all = Vec::new();
        self.each_summary(&mut |s| all.push(s.clone()))?;
        Ok(all)
    }
    fn put_list(&self, list: &TrackingList) -> Result<()>;
    fn lists(&self) -> Result<Vec<TrackingList>>;
    fn delivery(&self, device: DeviceId) -> Result<Option<Delivery>>;
    fn put_delivery(&self, device: DeviceId, delivery: &Delivery) -> Result<()>;
}

pub const KEY_FILE: &str = "server.key";
const LOCK_FILE: &str = "hub.lock";

/// Reads the server key, creating it (0600, 256 random bits) on first start.
pub fn load_or_create_key(path: &Path) -> Result<SecretKey> {
    let io = |action: &'static str| {
        let path = path.to_path_buf();
        move |source| StoreError::Io {
            action,
            path,
            source,
        }
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            let key: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| StoreError::Damaged {
                    tree: "server key",
                    record: path.display().to_string(),
                    reason: format!("{} bytes, expected 32", bytes.len()),
                })?;
            Ok(SecretKey::from_bytes(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SecretKey::random()?;
            let mut f = std::fs::OpenOptions::new()
                .create_new(true)
                .write(true)
                .mode(0o600)
                .open(path)
                .map_err(io("cannot create"))?;
            f.write_all(key.expose()).map_err(io("cannot write"))?;
            f.sync_all().map_err(io("cannot sync"))?;
            Ok(key)
        }
        Err(e) => Err(io("cannot read")(e)),
    }
}

pub struct SledHubStore {
    current: Arc<Current>,
    /// Pushes waiting for the writer thread; `None` once closing.
    appends: Option<mpsc::Sender<AppendJob>>,
    writer: Option<std::thread::JoinHandle<()>>,
    _lock: StoreLock,
}

/// The open database, and what happens when the disk fills up under it.
///
/// Pushes are refused (507) while the data directory's filesystem has less
/// free than `min_free_bytes`, so the database itself is never the one to find
/// the disk full. If it does all the same (something else filled the disk),
/// sled refuses everything that handle is asked from then on, and closing it
/// can hang on the write it could not finish. So the handle is marked failed:
/// every request is told the disk is full without touching sled, and the hub
/// stops (exit 9) for its service manager to start it again: everything
/// acknowledged is on disk, and what was not is pushed again by its device.
struct Current {
    dir: std::path::PathBuf,
    data: Arc<HubData>,
    min_free_bytes: std::sync::atomic::AtomicU64,
}

impl Current {
    /// Runs `f` on the database, unless it has failed; a failure that sled
    /// does not come back from marks it failed.
    fn with<T>(&self, f: impl FnOnce(&HubData) -> Result<T>) -> Result<T> {
        if self.failed() {
            return Err(StoreError::DiskFull);
        }
        // A large write in progress is seen whole or not at all.
        let _whole = self.data.gate.read().unwrap_or_else(|p| p.into_inner());
        let result = f(&self.data);
        if let Err(e) = &result {
            self.data.note_failure(e);
        }
        result
    }

    fn failed(&self) -> bool {
        self.data.failed.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Refuses a write while the disk has less room than the reserve.
    fn check_room(&self) -> Result<()> {
        let reserve = self
            .min_free_bytes
            .load(std::sync::atomic::Ordering::Relaxed);
        match fs2::available_space(&self.dir) {
            Ok(free) if free < reserve => Err(StoreError::DiskFull),
            _ => Ok(()),
        }
    }
}

/// The database and what is kept in memory beside it: shared by the store's
/// readers and its writer thread.
struct HubData {
    sealer: crypto::Sealer,
    hash_key: SecretKey,
    db: crate::store::DurableDb,
    ops: sled::Tree,
    op_ids: sled::Tree,
    by_person: sled::Tree,
    users: sled::Tree,
    credentials: sled::Tree,
    people: sled::Tree,
    summaries: sled::Tree,
    lists: sled::Tree,
    devices: sled::Tree,
    /// Concurrent appends share flushes; pulls see only what is on disk.
    group_commit: GroupCommit,
    /// Every summary, decrypted on first use and kept current by the writer.
    summary_index: RwLock<Option<BTreeMap<PersonId, CaseSummary>>>,
    /// The tracking lists, decrypted on first use (every push and pull checks
    /// scope against them) and kept current by `put_list`.
    list_cache: RwLock<Option<Vec<TrackingList>>>,
    /// Which device pushed the recent ops (`pushed.rs`).
    pushed_by: RwLock<pushed::PushedBy>,
    /// A write failed in a way sled does not recover from in this process.
    failed: std::sync::atomic::AtomicBool,
    /// Readers hold it shared; a write in parts (`whole.rs`) holds it alone, so
    /// no reader sees some of its parts.
    gate: RwLock<()>,
    /// The journal of a write in parts.
    undo: Undo,
}

/// One push waiting for the writer.
struct AppendJob {
    ops: Vec<Op>,
    /// A write too large for memory comes as a spool, read part by part.
    spooled: Option<super::spool::SpoolReader>,
    pushed_by: String,
    now_millis: u64,
    done: mpsc::SyncSender<Result<Vec<u64>>>,
}

impl AppendJob {
    fn push(&self) -> Push<'_> {
        Push {
            ops: &self.ops,
            pushed_by: &self.pushed_by,
            now_millis: self.now_millis,
        }
    }
}

/// What the writer writes of a push (or of a part of a large one).
struct Push<'a> {
    ops: &'a [Op],
    pushed_by: &'a str,
    now_millis: u64,
}

/// The most ops the writer puts in one transaction (a single larger push still
/// goes alone): bounds the memory and the time of one write.
const MAX_OPS_PER_WRITE: usize = 5_000;

impl SledHubStore {
    /// Opens (creating) the hub's data directory. `key_file` defaults to
    /// `DIR/server.key`. A second opener is told the hub is in use.
    pub fn open(dir: &Path, key_file: Option<&Path>) -> Result<Self> {
        files::create_private_dir(dir)?;
        let lock = StoreLock::acquire_named(dir, LOCK_FILE)?;
        super::spool::remove_leftovers(dir);
        let key =
            load_or_create_key(&key_file.map_or_else(|| dir.join(KEY_FILE), Path::to_path_buf))?;
        let data = HubData::open(&dir.join("db"), key)?;
        files::tighten_permissions(dir)?;
        let current = Arc::new(Current {
            dir: dir.to_path_buf(),
            data: Arc::new(data),
            min_free_bytes: std::sync::atomic::AtomicU64::new(DEFAULT_MIN_FREE_BYTES),
        });
        let (appends, queue) = mpsc::channel();
        let writer = {
            let current = current.clone();
            std::thread::Builder::new()
                .name("hub-writer".into())
                .spawn(move || write_appends(&current, queue))
                .map_err(|e| StoreError::Database(format!("cannot start the writer: {e}")))?
        };
        Ok(Self {
            current,
            appends: Some(appends),
            writer: Some(writer),
            _lock: lock,
        })
    }
}

/// The free space below which pushes are refused: room for the largest push
/// (32 MiB inflated) several times over, with sled's own overheads.
pub const DEFAULT_MIN_FREE_BYTES: u64 = 256 * 1024 * 1024;

impl SledHubStore {
    /// Hands a write to the writer thread and waits until it is durable.
    fn write_job(
        &self,
        ops: Vec<Op>,
        spooled: Option<super::spool::SpoolReader>,
        pushed_by: &str,
        now_millis: u64,
    ) -> Result<Vec<u64>> {
        let stopped = || StoreError::Database("the hub's writer has stopped".into());
        if self.current.failed() {
            return Err(StoreError::DiskFull);
        }
        self.current.check_room()?;
        let (done, answer) = mpsc::sync_channel(1);
        self.appends
            .as_ref()
            .ok_or_else(stopped)?
            .send(AppendJob {
                ops,
                spooled,
                pushed_by: pushed_by.to_string(),
                now_millis,
                done,
            })
            .map_err(|_| stopped())?;
        let seqs = answer.recv().map_err(|_| stopped())??;
        // Acknowledged only once on disk (an op held already may have been
        // written only just now by a concurrent push); appends waiting
        // together share one flush.
        self.current
            .with(|data| data.wait_durable(seqs.iter().copied().max().unwrap_or(0)))?;
        Ok(seqs)
    }

    /// Pushes are refused while the data directory has less free space.
    pub fn set_min_free_bytes(&self, bytes: u64) {
        self.current
            .min_free_bytes
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// The database met a full disk itself and refuses everything until the
    /// hub is started again (see [`Current`]).
    pub fn failed(&self) -> bool {
        self.current.failed()
    }
}

impl Drop for SledHubStore {
    fn drop(&mut self) {
        if self.current.failed() {
            // Closing a failed sled handle can hang: the process is ending
            // (the lock goes with it), and what was acknowledged is on disk.
            return;
        }
        // The writer finishes what is queued and stops; only then is the
        // directory's lock released.
        self.appends = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

impl HubData {
    fn open(db_path: &Path, key: SecretKey) -> Result<HubData> {
        let db = crate::store::open_sled(
            db_path,
            crate::store::SledOptions {
                cache_bytes: 256 * 1024 * 1024,
                background_flush: true,
            },
        )?;
        let ops = db.open_tree("ops")?;
        let mut data = HubData {
            hash_key: SecretKey::from_bytes(blake3::derive_key(
                "caseload 2026 hub index key",
                key.expose(),
            )),
            sealer: crypto::Sealer::new(key, b"caseload-hub\x01"),
            ops,
            op_ids: db.open_tree("op_ids")?,
            by_person: db.open_tree("by_person")?,
            users: db.open_tree("users")?,
            credentials: db.open_tree("credentials")?,
            people: db.open_tree("people")?,
            summaries: db.open_tree("summaries")?,
            lists: db.open_tree("lists")?,
            devices: db.open_tree("devices")?,
            summary_index: RwLock::new(None),
            list_cache: RwLock::new(None),
            pushed_by: RwLock::default(),
            failed: std::sync::atomic::AtomicBool::new(false),
            gate: RwLock::new(()),
            undo: Undo::open(&db, whole::UNDO_TREE)?,
            group_commit: GroupCommit::new(0),
            db,
        };
        // A write in parts cut short is put back before anything is read.
        data.roll_back_unfinished()?;
        data.group_commit = GroupCommit::new(written_seq(&data.ops)?);
        Ok(data)
    }

    /// A full disk leaves sled refusing everything until it is opened again.
    fn note_failure(&self, e: &StoreError) {
        if matches!(e, StoreError::DiskFull) {
            self.failed
                .store(true, std::sync::atomic::Ordering::Release);
        }
    }

    fn seal<T: Serialize>(&self, tree: &str, key: &[u8], value: &T) -> Result<Vec<u8>> {
        self.sealer.seal(tree, key, value)
    }

    fn unseal<T: DeserializeOwned>(
        &self,
        tree: &'static str,
        key: &[u8],
        sealed: &[u8],
    ) -> Result<T> {
        self.sealer
            .unseal(tree, key, sealed)
            .map_err(|reason| StoreError::Damaged {
                tree,
                record: hex8(key),
                reason,
            })
    }

    fn hashed(&self, what: &[u8]) -> [u8; 16] {
        let mut out = [0u8; 16];
        out.copy_from_slice(&blake3::keyed_hash(self.hash_key.expose(), what).as_bytes()[..16]);
        out
    }

    fn wait_durable(&self, mark: u64) -> Result<()> {
        self.group_commit
            .wait_durable(mark, || self.db.flush().map(drop))
    }
}

/// The writer thread: applies queued pushes, those waiting together in one
/// transaction, until the store closes. A push too large for one transaction
/// (a whole council's import) is written alone, in parts (`whole.rs`).
fn write_appends(current: &Current, queue: mpsc::Receiver<AppendJob>) {
    let mut next = None;
    while let Some(first) = next.take().or_else(|| queue.recv().ok()) {
        if whole::is_large(&first) {
            let mut first = first;
            let result = if current.failed() {
                Err(StoreError::DiskFull)
            } else {
                current.data.write_whole_safely(&mut first)
            };
            let _ = first.done.send(result);
            continue;
        }
        let mut count = first.ops.len();
        let mut group = vec![first];
        while count < MAX_OPS_PER_WRITE {
            match queue.try_recv() {
                // Waits for the group before it.
                Ok(job) if whole::is_large(&job) => {
                    next = Some(job);
                    break;
                }
                Ok(job) => {
                    count += job.ops.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        let results = if current.failed() {
            group.iter().map(|_| Err(StoreError::DiskFull)).collect()
        } else {
            current.data.write_group_safely(&group)
        };
        for (job, result) in group.into_iter().zip(results) {
            // A pusher that has gone away no longer needs the answer.
            let _ = job.done.send(result);
        }
    }
}

impl HubData {
    /// [`Self::write_group`], where a bug met by one group does not stop the
    /// hub taking pushes, and a full disk marks the database to be reopened.
    fn write_group_safely(&self, group: &[AppendJob]) -> Vec<Result<Vec<u64>>> {
        let results =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.write_group(group)))
                .unwrap_or_else(|_| {
                    group
                        .iter()
                        .map(|_| {
                            Err(StoreError::Database(
                                "the hub failed writing this push".into(),
                            ))
                        })
                        .collect()
                });
        for e in results.iter().filter_map(|r| r.as_ref().err()) {
            self.note_failure(e);
        }
        results
    }

    /// Each job's sequence numbers, or its own error: one push's failure (a
    /// damaged record it touches, say) is not the others', so a group that
    /// fails is tried again a push at a time.
    fn write_group(&self, group: &[AppendJob]) -> Vec<Result<Vec<u64>>> {
        let pushes: Vec<Push> = group.iter().map(AppendJob::push).collect();
        let results = match self.write(&pushes, None) {
            Ok(seqs) => seqs.into_iter().map(Ok).collect(),
            Err(_) if group.len() > 1 => pushes
                .iter()
                .map(|push| {
                    self.write(std::slice::from_ref(push), None)
                        .map(|mut seqs| seqs.pop().unwrap_or_default())
                })
                .collect(),
            Err(e) => vec![Err(e)],
        };
        let through = results.iter().flatten().flatten().copied().max();
        self.group_commit.written(through.unwrap_or_default());
        results
    }

    /// Writes the ops of `jobs` not already held, in order, in one
    /// transaction (journaled in `undo` when part of a larger write); returns
    /// each job's sequence numbers. Not yet durable, nor counted as written.
    fn write(&self, jobs: &[Push], undo: Option<&Undo>) -> Result<Vec<Vec<u64>>> {
        let mut next = written_seq(&self.ops)? + 1;
        let first_fresh = next;
        // Ops written by an earlier push of this write, by their hashed ids.
        let mut written_here: HashMap<[u8; 16], u64> = HashMap::new();
        let (mut ops_b, mut ids_b, mut person_b) = (
            sled::Batch::default(),
            sled::Batch::default(),
            sled::Batch::default(),
        );
        let mut fresh: Vec<&Op> = Vec::new();
        let mut all_seqs = Vec::with_capacity(jobs.len());
        let mut undo_part = crate::store::undo::PartJournal::default();
        for job in jobs {
            let plan = self.plan_push(job, &written_here)?;
            let mut seqs = vec![0; job.ops.len()];
            for (person, indices) in &plan.arrivals {
                let first = next;
                let count = u32::try_from(indices.len())
                    .map_err(|_| StoreError::Database("a push too large".into()))?;
                let arrival = op_log::ArrivalRef {
                    pushed_by: job.pushed_by,
                    received_millis: job.now_millis,
                    ops: indices.iter().map(|&i| &job.ops[i]).collect(),
                };
                let key = op_log::arrival_key(first, count);
                ops_b.insert(&key[..], self.seal("ops", &key, &arrival)?);
                let mut pk = person.as_bytes().to_vec();
                pk.extend_from_slice(&first.to_be_bytes());
                person_b.insert(pk, &count.to_be_bytes()[..]);
                for &i in indices {
                    seqs[i] = next;
                    ids_b.insert(&plan.id_keys[i][..], &next.to_be_bytes()[..]);
                    written_here.insert(plan.id_keys[i], next);
                    fresh.push(&job.ops[i]);
                    next += 1;
                }
            }
            for (i, held) in plan.held {
                seqs[i] = match held {
                    Held::Before(seq) => seq,
                    Held::AsOp(j) => seqs[j],
                };
            }
            all_seqs.push(seqs);
        }
        if fresh.is_empty() {
            return Ok(all_seqs);
        }
        let pushers: Vec<DeviceId> = fresh.iter().map(|op| op.device).collect();
        let states = PersonState::fold_changes(fresh, |id| self.person(id))?;
        let (mut people_b, mut summary_b) = (sled::Batch::default(), sled::Batch::default());
        let mut summaries = Vec::with_capacity(states.len());
        for (id, state) in &states {
            if let Some(undo) = undo {
                undo.before(&mut undo_part, whole::PEOPLE, &self.people, id.as_bytes())?;
                undo.before(
                    &mut undo_part,
                    whole::SUMMARIES,
                    &self.summaries,
                    id.as_bytes(),
                )?;
            }
            if state.is_one_op() {
                people_b.insert(id.as_bytes(), STATE_IS_ITS_OP);
            } else {
                people_b.insert(id.as_bytes(), self.seal("people", id.as_bytes(), state)?);
            }
            let summary = CaseSummary::of(state);
            match &summary {
                Some(s) => {
                    summary_b.insert(id.as_bytes(), self.seal("summaries", id.as_bytes(), s)?)
                }
                None => summary_b.remove(id.as_bytes()),
            }
            summaries.push((*id, summary));
        }
        let mut writes = vec![
            (&self.ops, ops_b),
            (&self.op_ids, ids_b),
            (&self.by_person, person_b),
            (&self.people, people_b),
            (&self.summaries, summary_b),
        ];
        if let Some(undo) = undo {
            writes.push((undo.tree(), undo.writes(undo_part)?));
        }
        crate::store::apply_atomically(&writes)?;
        if undo.is_none() {
            // Written for good (a write in parts may still be rolled back).
            let mut by = self.pushed_by.write().unwrap_or_else(|p| p.into_inner());
            for (seq, device) in (first_fresh..).zip(pushers) {
                by.note(seq, seq, device);
            }
        }
        // Keep the in-memory index (if built) in step with what was written.
        if let Some(index) = self
            .summary_index
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            for (id, summary) in summaries {
                match summary {
                    Some(s) => index.insert(id, s),
                    None => index.remove(&id),
                };
            }
        }
        Ok(all_seqs)
    }
}

/// What a push brings that the hub does not hold, grouped into arrivals.
struct PushPlan {
    /// The keyed hash of each op's id, in the push's order.
    id_keys: Vec<[u8; 16]>,
    /// The new ops, by the young person they are about (first seen first):
    /// each group is stored as one record, numbered in this order.
    arrivals: Vec<(PersonId, Vec<usize>)>,
    /// The ops held already, by their place in the push.
    held: Vec<(usize, Held)>,
}

enum Held {
    /// Written before (or by an earlier push of this write) with this number.
    Before(u64),
    /// The same op as an earlier one of this push.
    AsOp(usize),
}

impl HubData {
    fn plan_push(&self, job: &Push, written_here: &HashMap<[u8; 16], u64>) -> Result<PushPlan> {
        let mut plan = PushPlan {
            id_keys: Vec::with_capacity(job.ops.len()),
            arrivals: Vec::new(),
            held: Vec::new(),
        };
        let mut in_push: HashMap<[u8; 16], usize> = HashMap::new();
        let mut arrival_of: HashMap<PersonId, usize> = HashMap::new();
        for (i, op) in job.ops.iter().enumerate() {
            let id_key = self.hashed(op.id.as_bytes());
            plan.id_keys.push(id_key);
            if let Some(&j) = in_push.get(&id_key) {
                plan.held.push((i, Held::AsOp(j)));
                continue;
            }
            if let Some(&seq) = written_here.get(&id_key) {
                plan.held.push((i, Held::Before(seq)));
                continue;
            }
            if let Some(v) = self.op_ids.get(id_key)? {
                let seq = u64::from_be_bytes(
                    v.as_ref()
                        .try_into()
                        .map_err(|_| StoreError::Database("bad op index".into()))?,
                );
                plan.held.push((i, Held::Before(seq)));
                continue;
            }
            in_push.insert(id_key, i);
            let n = *arrival_of.entry(op.person).or_insert_with(|| {
                plan.arrivals.push((op.person, Vec::new()));
                plan.arrivals.len() - 1
            });
            plan.arrivals[n].1.push(i);
        }
        Ok(plan)
    }
}

impl HubStore for SledHubStore {
    fn append(&self, ops: &[Op], pushed_by: &str, now_millis: u64) -> Result<Vec<u64>> {
        self.write_job(ops.to_vec(), None, pushed_by, now_millis)
    }

    fn append_spooled(&self, spool: &SpoolRef, pushed_by: &str, now_millis: u64) -> Result<()> {
        let reader = super::spool::SpoolReader::open(spool, &self.current.dir)?;
        self.write_job(Vec::new(), Some(reader), pushed_by, now_millis)
            .map(drop)
    }

    fn since(&self, after: u64, limit: usize) -> Result<Vec<Received>> {
        self.current.with(|d| d.since(after, limit))
    }
    fn since_except(&self, after: u64, limit: usize, own: OwnPushes) -> Seqs {
        self.current.with(|d| d.since_except(after, limit, own))
    }
    fn history(&self, person: PersonId) -> Result<Vec<Received>> {
        self.current.with(|d| d.history(person))
    }
    fn last_seq(&self) -> Result<u64> {
        self.current.with(|d| Ok(d.group_commit.durable()))
    }
    fn put_user(&self, user: &User) -> Result<()> {
        self.current.with(|d| d.put_user(user))
    }
    fn user(&self, name: &str) -> Result<Option<User>> {
        self.current.with(|d| d.user(name))
    }
    fn users(&self) -> Result<Vec<User>> {
        self.current.with(|d| d.users())
    }
    fn put_credential(&self, token_hash: [u8; 32], credential: &Credential) -> Result<()> {
        self.current
            .with(|d| d.put_credential(token_hash, credential))
    }
    fn credential(&self, token_hash: [u8; 32]) -> Result<Option<Credential>> {
        self.current.with(|d| d.credential(token_hash))
    }
    fn remove_credential(&self, token_hash: [u8; 32]) -> Result<bool> {
        self.current.with(|d| d.remove_credential(token_hash))
    }
    fn person(&self, id: PersonId) -> Result<Option<PersonState>> {
        self.current.with(|d| d.person(id))
    }
    fn each_summary(&self, visit: &mut dyn FnMut(&CaseSummary)) -> Result<()> {
        self.current.with(|d| d.each_summary(visit))
    }
    fn put_list(&self, list: &TrackingList) -> Result<()> {
        self.current.with(|d| d.put_list(list))
    }
    fn lists(&self) -> Result<Vec<TrackingList>> {
        self.current.with(|d| d.lists())
    }
    fn delivery(&self, device: DeviceId) -> Result<Option<Delivery>> {
        self.current.with(|d| d.delivery(device))
    }
    fn put_delivery(&self, device: DeviceId, delivery: &Delivery) -> Result<()> {
        self.current.with(|d| d.put_delivery(device, delivery))
    }
}

/// What a reader needs, straight from the database (and its in-memory indexes).
impl HubData {
    fn since(&self, after: u64, limit: usize) -> Result<Vec<Received>> {
        // No op is numbered 0, so none is passed over.
        let nobody = OwnPushes {
            device: DeviceId(uuid::Uuid::nil()),
            through: 0,
        };
        Ok(self
            .since_except(after, limit, nobody)?
            .into_iter()
            .filter_map(|(_, r)| r)
            .collect())
    }

    fn put_user(&self, user: &User) -> Result<()> {
        let k = self.hashed(user.name.as_bytes());
        self.users.insert(k, self.seal("users", &k, user)?)?;
        self.db.flush()?;
        Ok(())
    }

    fn user(&self, name: &str) -> Result<Option<User>> {
        let k = self.hashed(name.as_bytes());
        self.users
            .get(k)?
            .map(|v| self.unseal("users", &k, &v))
            .transpose()
    }

    fn users(&self) -> Result<Vec<User>> {
        let mut out: Vec<User> = Vec::new();
        for item in self.users.iter() {
            let (k, v) = item?;
            out.push(self.unseal("users", &k, &v)?);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn put_credential(&self, token_hash: [u8; 32], credential: &Credential) -> Result<()> {
        self.credentials.insert(
            token_hash,
            self.seal("credentials", &token_hash, credential)?,
        )?;
        self.db.flush()?;
        Ok(())
    }

    fn credential(&self, token_hash: [u8; 32]) -> Result<Option<Credential>> {
        self.credentials
            .get(token_hash)?
            .map(|v| self.unseal("credentials", &token_hash, &v))
            .transpose()
    }

    fn remove_credential(&self, token_hash: [u8; 32]) -> Result<bool> {
        // sled's remove is atomic and returns what it removed: one winner.
        let removed = self.credentials.remove(token_hash)?.is_some();
        self.db.flush()?;
        Ok(removed)
    }

    fn person(&self, id: PersonId) -> Result<Option<PersonState>> {
        match self.people.get(id.as_bytes())? {
            None => Ok(None),
            Some(v) if v == STATE_IS_ITS_OP => self.fold_its_op(id).map(Some),
            Some(v) => self.unseal("people", id.as_bytes(), &v).map(Some),
        }
    }

    /// The record of a person kept as their one op (`STATE_IS_ITS_OP`).
    fn fold_its_op(&self, id: PersonId) -> Result<PersonState> {
        let ops: Vec<Op> = self.history(id)?.into_iter().map(|r| r.op).collect();
        if ops.is_empty() {
            return Err(StoreError::Damaged {
                tree: "people",
                record: hex8(id.as_bytes()),
                reason: "kept as its op, and no op is there".into(),
            });
        }
        Ok(PersonState::fold(id, &ops))
    }

    fn each_summary(&self, visit: &mut dyn FnMut(&CaseSummary)) -> Result<()> {
        // Every pull decides scope over everyone: decrypt the summaries once,
        // then visit them in memory under the read lock (the writer keeps
        // them current), never copying them.
        loop {
            {
                let index = self.summary_index.read().unwrap_or_else(|p| p.into_inner());
                if let Some(index) = index.as_ref() {
                    index.values().for_each(visit);
                    return Ok(());
                }
            }
            let mut guard = self
                .summary_index
                .write()
                .unwrap_or_else(|p| p.into_inner());
            if guard.is_none() {
                let mut index = BTreeMap::new();
                for item in self.summaries.iter() {
                    let (k, v) = item?;
                    let s: CaseSummary = self.unseal("summaries", &k, &v)?;
                    index.insert(s.id, s);
                }
                *guard = Some(index);
            }
        }
    }

    fn put_list(&self, list: &TrackingList) -> Result<()> {
        let mut cache = self.list_cache.write().unwrap_or_else(|p| p.into_inner());
        let k = self.hashed(list.name.as_bytes());
        self.lists.insert(k, self.seal("lists", &k, list)?)?;
        self.db.flush()?;
        // Read again on next use: the cache never holds what is not on disk.
        *cache = None;
        Ok(())
    }

    fn lists(&self) -> Result<Vec<TrackingList>> {
        if let Some(lists) = self
            .list_cache
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            return Ok(lists.clone());
        }
        let mut cache = self.list_cache.write().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<TrackingList> = Vec::new();
        for item in self.lists.iter() {
            let (k, v) = item?;
            out.push(self.unseal("lists", &k, &v)?);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        *cache = Some(out.clone());
        Ok(out)
    }

    fn delivery(&self, device: DeviceId) -> Result<Option<Delivery>> {
        let Some(v) = self.devices.get(device.as_bytes())? else {
            return Ok(None);
        };
        self.unseal("devices", device.as_bytes(), &v)
            .or_else(|e| {
                self.unseal::<DeliveryBeforeConfirmed>("devices", device.as_bytes(), &v)
                    .map(|old| Delivery {
                        delivered: old.delivered,
                        pending: old.pending,
                        confirmed: 0,
                    })
                    .map_err(|_| e)
            })
            .map(Some)
    }

    fn put_delivery(&self, device: DeviceId, delivery: &Delivery) -> Result<()> {
        self.devices.insert(
            device.as_bytes(),
            self.seal("devices", device.as_bytes(), delivery)?,
        )?;
        self.db.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(ops: Vec<Op>) -> AppendJob {
        // The answer goes to the caller of `write_group` in this test.
        let (done, _) = mpsc::sync_channel(1);
        AppendJob {
            ops,
            spooled: None,
            pushed_by: "j.smith".into(),
            now_millis: 5,
            done,
        }
    }

    #[test]
    fn a_pull_passes_over_the_pushers_own_ops_unread_and_only_those() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut ops: Vec<Op> = crate::demo::DemoCohort::new(crate::demo::DemoSpec {
            people: 4,
            seed: 9,
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        })
        .map(|mut person| person.remove(0))
        .collect();
        let (a, b) = (
            DeviceId(uuid::Uuid::from_u128(1)),
            DeviceId(uuid::Uuid::from_u128(2)),
        );
        for (op, device) in ops.iter_mut().zip([a, a, b, a]) {
            op.device = device;
        }
        let seen = |hub: &SledHubStore, device, through| -> Vec<(u64, bool)> {
            hub.since_except(0, 10, OwnPushes { device, through })
                .expect("since")
                .into_iter()
                .map(|(seq, r)| {
                    assert!(r.as_ref().is_none_or(|r| r.seq == seq));
                    (seq, r.is_some())
                })
                .collect()
        };
        {
            let hub = SledHubStore::open(tmp.path(), None).expect("open");
            assert_eq!(hub.append(&ops[0..2], "j.smith", 5).expect("a"), [1, 2]);
            assert_eq!(hub.append(&ops[2..3], "a.khan", 5).expect("b"), [3]);
            assert_eq!(hub.append(&ops[3..4], "j.smith", 5).expect("a"), [4]);
            // Pushed again: already held, and still A's.
            assert_eq!(hub.append(&ops[0..1], "j.smith", 5).expect("a"), [1]);
            assert_eq!(
                seen(&hub, a, 4),
                [(1, false), (2, false), (3, true), (4, false)]
            );
            // Past what the device says it holds (a restored backup): read.
            assert_eq!(
                seen(&hub, a, 2),
                [(1, false), (2, false), (3, true), (4, true)]
            );
            assert_eq!(
                seen(&hub, b, 4),
                [(1, true), (2, true), (3, false), (4, true)]
            );
        }
        // Nothing noted survives a restart: every op is read, as before.
        let hub = SledHubStore::open(tmp.path(), None).expect("reopen");
        assert_eq!(
            seen(&hub, a, 4),
            [(1, true), (2, true), (3, true), (4, true)]
        );
    }

    #[test]
    fn a_push_that_touches_a_damaged_record_fails_alone() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let hub = SledHubStore::open(tmp.path(), None).expect("open");
        let data = &hub.current.data;
        // Three young people's registrations, one op each.
        let ops: Vec<Op> = crate::demo::DemoCohort::new(crate::demo::DemoSpec {
            people: 3,
            seed: 4,
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        })
        .map(|mut person| person.remove(0))
        .collect();
        hub.append(&ops[1..2], "j.smith", 5).expect("append");
        // Damage that person's folded record on disk.
        data.people
            .insert(ops[1].person.as_bytes(), &b"not a sealed record"[..])
            .expect("damage");
        let mut again = ops[1].clone();
        again.id = crate::domain::OpId(uuid::Uuid::now_v7());
        let results = data.write_group(&[
            job(vec![ops[0].clone()]),
            job(vec![again]),
            job(vec![ops[2].clone()]),
        ]);
        assert_eq!(results.len(), 3);
        assert_eq!(results[0].as_ref().ok(), Some(&vec![2]));
        assert!(
            matches!(&results[1], Err(StoreError::Damaged { tree: "people", .. })),
            "{:?}",
            results[1]
        );
        assert_eq!(results[2].as_ref().ok(), Some(&vec![3]));
        assert_eq!(
            data.since(0, 10).expect("since").len(),
            3,
            "the failed push left nothing behind"
        );
        // Only the pushes written are noted as their device's.
        let by = data.pushed_by.read().expect("lock");
        assert_eq!(by.device_of(2), Some(ops[0].device));
        assert_eq!(by.device_of(4), None);
    }
}
