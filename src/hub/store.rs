//! Hub storage. `SledHubStore` keeps, in one sled database sealed with the
//! server key (XChaCha20-Poly1305, as the local store):
//!
//! | tree          | key                                   | value                      |
//! |---------------|---------------------------------------|----------------------------|
//! | `ops`         | sequence number (u64, BE), from 1     | sealed `Received`          |
//! | `op_ids`      | keyed hash of the op id (16 bytes)    | its sequence number        |
//! | `by_person`   | person id ‖ sequence number           | (empty)                    |
//! | `users`       | keyed hash of the login name          | sealed `User`              |
//! | `credentials` | BLAKE3 hash of a token                | sealed `Credential`        |
//! | `people`      | person id                             | sealed folded `PersonState`|
//! | `summaries`   | person id                             | sealed `CaseSummary`       |
//! | `lists`       | keyed hash of the list name           | sealed `TrackingList`      |
//! | `devices`     | device id                             | sealed `Delivery`          |
//!
//! Appends are serialised; the new ops, their indexes and the people they
//! change (state and summary, folded exactly as on every device) are written in
//! one transaction and flushed before they are acknowledged. The flush happens
//! outside the append lock, shared by every append waiting at that moment
//! (group commit), so concurrent pushes do not queue behind each other's disk
//! writes.

use super::scope::TrackingList;
use super::users::User;
use crate::domain::{CaseSummary, DeviceId, Op, PersonId, PersonState};
use crate::store::crypto::{self, SecretKey};
use crate::store::files::{self, StoreLock};
use crate::store::group_commit::GroupCommit;
use crate::store::{Result, StoreError};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;

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

/// What the hub needs from storage.
pub trait HubStore {
    /// Appends the ops not already held, in order, and returns each op's
    /// sequence number (its existing one for an op already held): pushing the
    /// same batch twice changes nothing.
    fn append(&self, ops: &[Op], pushed_by: &str, now_millis: u64) -> Result<Vec<u64>>;
    /// Ops after `after`, oldest first, at most `limit`.
    fn since(&self, after: u64, limit: usize) -> Result<Vec<Received>>;
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
    fn remove_credential(&self, token_hash: [u8; 32]) -> Result<()>;
    /// A young person's record as the hub has folded it.
    fn person(&self, id: PersonId) -> Result<Option<PersonState>>;
    /// Every young person's summary: what scope and the figures are computed from.
    fn summaries(&self) -> Result<Vec<CaseSummary>>;
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
    key: SecretKey,
    hash_key: SecretKey,
    db: sled::Db,
    ops: sled::Tree,
    op_ids: sled::Tree,
    by_person: sled::Tree,
    users: sled::Tree,
    credentials: sled::Tree,
    people: sled::Tree,
    summaries: sled::Tree,
    lists: sled::Tree,
    devices: sled::Tree,
    append_lock: Mutex<()>,
    /// Concurrent appends share flushes; pulls see only what is on disk.
    group_commit: GroupCommit,
    /// Every summary, decrypted on first use and kept current by `append`.
    summary_index: std::sync::RwLock<Option<BTreeMap<PersonId, CaseSummary>>>,
    _lock: StoreLock,
}

impl SledHubStore {
    /// Opens (creating) the hub's data directory. `key_file` defaults to
    /// `DIR/server.key`. A second opener is told the hub is in use.
    pub fn open(dir: &Path, key_file: Option<&Path>) -> Result<Self> {
        files::create_private_dir(dir)?;
        let lock = StoreLock::acquire_named(dir, LOCK_FILE)?;
        let key =
            load_or_create_key(&key_file.map_or_else(|| dir.join(KEY_FILE), Path::to_path_buf))?;
        let db = sled::Config::new()
            .path(dir.join("db"))
            .cache_capacity(256 * 1024 * 1024)
            .open()?;
        files::tighten_permissions(dir)?;
        let ops = db.open_tree("ops")?;
        let durable = written_seq(&ops)?;
        Ok(Self {
            hash_key: SecretKey::from_bytes(blake3::derive_key(
                "caseload 2026 hub index key",
                key.expose(),
            )),
            key,
            ops,
            op_ids: db.open_tree("op_ids")?,
            by_person: db.open_tree("by_person")?,
            users: db.open_tree("users")?,
            credentials: db.open_tree("credentials")?,
            people: db.open_tree("people")?,
            summaries: db.open_tree("summaries")?,
            lists: db.open_tree("lists")?,
            devices: db.open_tree("devices")?,
            db,
            append_lock: Mutex::new(()),
            group_commit: GroupCommit::new(durable),
            summary_index: std::sync::RwLock::new(None),
            _lock: lock,
        })
    }

    fn aad(tree: &str, key: &[u8]) -> Vec<u8> {
        let mut a = b"caseload-hub\x01".to_vec();
        a.extend_from_slice(tree.as_bytes());
        a.push(0);
        a.extend_from_slice(key);
        a
    }

    fn seal<T: Serialize>(&self, tree: &str, key: &[u8], value: &T) -> Result<Vec<u8>> {
        let plain = zeroize::Zeroizing::new(
            postcard::to_allocvec(value).map_err(|e| StoreError::Database(e.to_string()))?,
        );
        Ok(crypto::seal(&self.key, &Self::aad(tree, key), &plain)?)
    }

    fn unseal<T: DeserializeOwned>(
        &self,
        tree: &'static str,
        key: &[u8],
        sealed: &[u8],
    ) -> Result<T> {
        let damaged = |reason: String| StoreError::Damaged {
            tree,
            record: key.iter().take(4).map(|b| format!("{b:02x}")).collect(),
            reason,
        };
        let plain = crypto::open(&self.key, &Self::aad(tree, key), sealed)
            .map_err(|e| damaged(e.to_string()))?;
        postcard::from_bytes(&plain).map_err(|e| damaged(e.to_string()))
    }

    fn hashed(&self, what: &[u8]) -> [u8; 16] {
        let mut out = [0u8; 16];
        out.copy_from_slice(&blake3::keyed_hash(self.hash_key.expose(), what).as_bytes()[..16]);
        out
    }

    fn wait_durable(&self, mark: u64) -> Result<()> {
        self.group_commit
            .wait_durable(mark, || self.db.flush().map(drop).map_err(StoreError::from))
    }

    fn received(&self, seq: u64) -> Result<Option<Received>> {
        let k = seq.to_be_bytes();
        self.ops
            .get(k)?
            .map(|v| self.unseal("ops", &k, &v))
            .transpose()
    }
}

/// The highest sequence number applied to the database (perhaps not yet on disk).
fn written_seq(ops: &sled::Tree) -> Result<u64> {
    Ok(match ops.last()? {
        Some((k, _)) => u64::from_be_bytes(
            k.as_ref()
                .try_into()
                .map_err(|_| StoreError::Database("bad sequence key".into()))?,
        ),
        None => 0,
    })
}

impl HubStore for SledHubStore {
    fn append(&self, ops: &[Op], pushed_by: &str, now_millis: u64) -> Result<Vec<u64>> {
        let serial = self.append_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = written_seq(&self.ops)? + 1;
        let mut seqs = Vec::with_capacity(ops.len());
        let mut in_batch: std::collections::HashMap<[u8; 16], u64> =
            std::collections::HashMap::new();
        let (mut ops_b, mut ids_b, mut person_b) = (
            sled::Batch::default(),
            sled::Batch::default(),
            sled::Batch::default(),
        );
        let mut fresh: Vec<&Op> = Vec::new();
        for op in ops {
            let id_key = self.hashed(op.id.as_bytes());
            if let Some(seq) = in_batch.get(&id_key) {
                seqs.push(*seq);
                continue;
            }
            if let Some(v) = self.op_ids.get(id_key)? {
                let seq = u64::from_be_bytes(
                    v.as_ref()
                        .try_into()
                        .map_err(|_| StoreError::Database("bad op index".into()))?,
                );
                seqs.push(seq);
                continue;
            }
            let seq = next;
            next += 1;
            let r = Received {
                seq,
                op: op.clone(),
                pushed_by: pushed_by.to_string(),
                received_millis: now_millis,
            };
            ops_b.insert(
                &seq.to_be_bytes()[..],
                self.seal("ops", &seq.to_be_bytes(), &r)?,
            );
            ids_b.insert(&id_key[..], &seq.to_be_bytes()[..]);
            let mut pk = op.person.as_bytes().to_vec();
            pk.extend_from_slice(&seq.to_be_bytes());
            person_b.insert(pk, &[][..]);
            in_batch.insert(id_key, seq);
            seqs.push(seq);
            fresh.push(op);
        }
        if fresh.is_empty() {
            drop(serial);
            // Held already, but perhaps only just written by a concurrent push.
            self.wait_durable(seqs.iter().copied().max().unwrap_or(0))?;
            return Ok(seqs);
        }
        let states = PersonState::fold_changes(fresh, |id| self.person(id))?;
        let (mut people_b, mut summary_b) = (sled::Batch::default(), sled::Batch::default());
        let mut summaries = Vec::with_capacity(states.len());
        for (id, state) in &states {
            people_b.insert(id.as_bytes(), self.seal("people", id.as_bytes(), state)?);
            let summary = CaseSummary::of(state);
            match &summary {
                Some(s) => {
                    summary_b.insert(id.as_bytes(), self.seal("summaries", id.as_bytes(), s)?)
                }
                None => summary_b.remove(id.as_bytes()),
            }
            summaries.push((*id, summary));
        }
        crate::store::apply_atomically(&[
            (&self.ops, ops_b),
            (&self.op_ids, ids_b),
            (&self.by_person, person_b),
            (&self.people, people_b),
            (&self.summaries, summary_b),
        ])?;
        self.group_commit.written(next - 1);
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
        drop(serial);
        // Acknowledged only once on disk; appends waiting together share one flush.
        self.wait_durable(next - 1)?;
        Ok(seqs)
    }

    fn since(&self, after: u64, limit: usize) -> Result<Vec<Received>> {
        let start = after.saturating_add(1).to_be_bytes();
        let mut out = Vec::new();
        for item in self.ops.range(start..).take(limit) {
            let (k, v) = item?;
            out.push(self.unseal("ops", &k, &v)?);
        }
        Ok(out)
    }

    fn history(&self, person: PersonId) -> Result<Vec<Received>> {
        let mut out = Vec::new();
        for item in self.by_person.scan_prefix(person.as_bytes()).keys() {
            let k = item?;
            let seq = u64::from_be_bytes(
                k[16..24]
                    .try_into()
                    .map_err(|_| StoreError::Database("bad person index".into()))?,
            );
            if let Some(r) = self.received(seq)? {
                out.push(r);
            }
        }
        Ok(out)
    }

    fn last_seq(&self) -> Result<u64> {
        Ok(self.group_commit.durable())
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

    fn remove_credential(&self, token_hash: [u8; 32]) -> Result<()> {
        self.credentials.remove(token_hash)?;
        self.db.flush()?;
        Ok(())
    }

    fn person(&self, id: PersonId) -> Result<Option<PersonState>> {
        self.people
            .get(id.as_bytes())?
            .map(|v| self.unseal("people", id.as_bytes(), &v))
            .transpose()
    }

    fn summaries(&self) -> Result<Vec<CaseSummary>> {
        // Every pull computes scope over everyone: decrypt the summaries once,
        // then serve them from memory (append keeps them current).
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
        Ok(guard
            .as_ref()
            .map(|i| i.values().cloned().collect())
            .unwrap_or_default())
    }

    fn put_list(&self, list: &TrackingList) -> Result<()> {
        let k = self.hashed(list.name.as_bytes());
        self.lists.insert(k, self.seal("lists", &k, list)?)?;
        self.db.flush()?;
        Ok(())
    }

    fn lists(&self) -> Result<Vec<TrackingList>> {
        let mut out: Vec<TrackingList> = Vec::new();
        for item in self.lists.iter() {
            let (k, v) = item?;
            out.push(self.unseal("lists", &k, &v)?);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn delivery(&self, device: DeviceId) -> Result<Option<Delivery>> {
        self.devices
            .get(device.as_bytes())?
            .map(|v| self.unseal("devices", device.as_bytes(), &v))
            .transpose()
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
