//! A replica: one unlocked store, its clock, its identity and the in-memory index
//! built at unlock. Every change the CLI or the UI makes goes through here: it is
//! validated, stamped as an op, applied and logged in one durable step, and only
//! then reflected in the index.

pub mod index;

pub use index::{CaseIndex, IndexMark, IndexRun};

use crate::clock::Clock;
use crate::domain::ops::FieldSet;
use crate::domain::{DeviceId, FieldValue, Op, OpId, OpPayload, PersonId, PersonState, WorkerId};
use crate::store::crypto::KdfParams;
use crate::store::{CaseStore, Changed, Damaged, EncryptedStore, Origin, Result, StoreError};
use crate::sync::HlcClock;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::path::Path;

const META_IDENTITY: &str = "identity";

/// Who writes the ops made here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub worker: WorkerId,
    pub device: DeviceId,
}

pub struct Replica {
    store: EncryptedStore,
    index: CaseIndex,
    clock: HlcClock,
    /// Where "now" comes from for the ops made here.
    wall: Clock,
    identity: Identity,
    damaged: Vec<Damaged>,
}

impl Replica {
    /// Creates a new store for `worker` at `dir`.
    pub fn init(dir: &Path, passphrase: &[u8], worker: WorkerId, kdf: KdfParams) -> Result<Self> {
        Self::init_store(EncryptedStore::create(dir, passphrase, kdf)?, worker)
    }

    /// Makes a store just created (`EncryptedStore::create_in_format`, say)
    /// `worker`'s, on a device of its own.
    pub fn init_store(store: EncryptedStore, worker: WorkerId) -> Result<Self> {
        let identity = Identity {
            worker,
            device: DeviceId::random(),
        };
        store.put_meta(META_IDENTITY, &identity)?;
        Self::open(store)
    }

    /// Builds the in-memory index from the stored summaries. Records that cannot
    /// be read are listed in [`Replica::damaged`]; the rest open normally.
    pub fn open(store: EncryptedStore) -> Result<Self> {
        let identity: Identity = store
            .meta(META_IDENTITY)?
            .ok_or_else(|| StoreError::Damaged {
                tree: "meta",
                record: META_IDENTITY.into(),
                reason: "missing".into(),
            })?;
        // The search texts are built as the summaries are decoded.
        let read = store.summaries_seen_by(IndexRun::default)?;
        let damaged = read.damaged;
        Ok(Self {
            clock: HlcClock::resume(store.last_hlc()),
            wall: Clock::system(),
            index: CaseIndex::from_runs(read.runs),
            store,
            identity,
            damaged,
        })
    }

    /// Makes the ops of this replica on `clock` (a pinned day in tests and demos).
    pub fn set_clock(&mut self, clock: Clock) {
        self.wall = clock;
    }

    pub fn clock(&self) -> Clock {
        self.wall
    }

    pub fn store(&self) -> &EncryptedStore {
        &self.store
    }

    pub fn into_store(self) -> EncryptedStore {
        self.store
    }

    /// The same replica, its index kept, with the database closed and opened
    /// again to let go of what sled holds in memory
    /// ([`EncryptedStore::reopened`]). On failure, the store locked.
    pub fn with_database_reopened(
        self,
    ) -> std::result::Result<Replica, Box<crate::store::encrypted::NotReopened>> {
        let Replica {
            store,
            index,
            clock,
            wall,
            identity,
            damaged,
        } = self;
        Ok(Replica {
            store: store.reopened()?,
            index,
            clock,
            wall,
            identity,
            damaged,
        })
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    pub fn index(&self) -> &CaseIndex {
        &self.index
    }

    /// Records whose summary could not be decrypted at unlock.
    pub fn damaged(&self) -> &[Damaged] {
        &self.damaged
    }

    pub fn person(&self, id: PersonId) -> Result<Option<PersonState>> {
        self.store.person(id)
    }

    /// A new op by this worker on this device, stamped now.
    pub fn new_op(&mut self, person: PersonId, payload: OpPayload) -> Op {
        let at = self.clock.tick(self.wall.now_millis());
        Op {
            id: OpId(uuid::Uuid::now_v7()),
            at,
            author: self.identity.worker.clone(),
            device: self.identity.device,
            person,
            payload,
        }
    }

    /// Validates `payload` against the person's current record and `today`, then
    /// commits it. When this returns Ok the change is on disk.
    pub fn record(&mut self, person: PersonId, payload: OpPayload, today: NaiveDate) -> Result<Op> {
        let worker = &self.identity.worker;
        self.store.check_change(person, |state| {
            if state.is_none() && !matches!(payload, OpPayload::SetFields(_)) {
                return Err(StoreError::UnknownPerson(person.short()));
            }
            Ok(payload.validate_by(worker, state, today)?)
        })?;
        let op = self.new_op(person, payload);
        let changed = self.store.commit_minted(&op)?;
        self.after_commit(std::slice::from_ref(&op), changed);
        Ok(op)
    }

    /// Registers a new young person from their identity fields.
    pub fn register(&mut self, values: Vec<FieldValue>, today: NaiveDate) -> Result<PersonId> {
        let id = PersonId::mint();
        let sets = values.into_iter().map(FieldSet::new).collect();
        self.record(id, OpPayload::SetFields(sets), today)?;
        Ok(id)
    }

    /// Changes fields of an existing record. Each new value supersedes every value
    /// the caseworker could see, so editing a field in conflict settles it.
    pub fn set_fields(
        &mut self,
        person: PersonId,
        values: Vec<FieldValue>,
        today: NaiveDate,
    ) -> Result<Op> {
        let state = self
            .store
            .person(person)?
            .ok_or_else(|| StoreError::UnknownPerson(person.short()))?;
        let sets = values
            .into_iter()
            .map(|value| FieldSet {
                supersedes: state
                    .register(value.key())
                    .map(|r| r.heads())
                    .unwrap_or_default(),
                value,
            })
            .collect();
        self.record(person, OpPayload::SetFields(sets), today)
    }

    /// Commits ops made elsewhere (the hub) or in bulk (demo, import): one atomic,
    /// durable step; ops already here are skipped. Returns how many people changed.
    pub fn commit(&mut self, ops: &[Op], origin: Origin) -> Result<usize> {
        let changed = self.store.commit(ops, origin)?;
        let changed_count = changed.len();
        self.after_commit(ops, changed);
        Ok(changed_count)
    }

    /// After a commit: the clock has seen its ops, the index its changes.
    fn after_commit(&mut self, ops: &[Op], changed: Vec<Changed>) {
        for op in ops {
            self.clock.observe(op.at);
        }
        self.index.set_all(changed);
    }

    /// Commits, all or nothing, the parts `next` makes one at a time (given
    /// this replica, to read records and stamp ops) until it returns None: a
    /// change too large to hold at once, such as an import read from its file
    /// part by part. If `next` fails, everything written is put back.
    /// Returns how many people changed. The parts are ops `next` makes with
    /// [`Self::new_op`], so none is looked for among the ops held.
    pub fn commit_in_parts<E: From<StoreError>>(
        &mut self,
        next: &mut crate::store::NextPart<'_, Self, E>,
    ) -> std::result::Result<usize, E> {
        let mut commit = self.store.begin_in_parts(Origin::Local)?;
        let written = loop {
            match next(self) {
                Ok(Some(ops)) => {
                    for op in &ops {
                        self.clock.observe(op.at);
                    }
                    // Made by `new_op` for this commit: each id is new.
                    if let Err(e) = self.store.write_minted_part(&mut commit, &ops) {
                        break Err(e.into());
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        if let Err(e) = written {
            self.store.abandon_in_parts(commit);
            return Err(e);
        }
        let changed = self.store.finish_in_parts(commit)?;
        let changed_count = changed.len();
        self.index.make_room_for(changed.people());
        for (id, summary) in changed {
            self.index.set(id, summary);
        }
        Ok(changed_count)
    }

    /// From now on, ops made here are written by `worker` (the hub user logged in).
    pub fn set_worker(&mut self, worker: WorkerId) -> Result<()> {
        self.identity.worker = worker;
        self.store.put_meta(META_IDENTITY, &self.identity)
    }

    /// Removes a young person who left scope, from the store and the index.
    pub fn remove_person(&mut self, id: PersonId) -> Result<()> {
        self.store.remove_person(id)?;
        self.index.remove(id);
        Ok(())
    }

    pub fn outbox(&self) -> Result<Vec<Op>> {
        self.store.outbox()
    }

    pub fn ops_for(&self, id: PersonId) -> Result<Vec<Op>> {
        self.store.ops_for(id)
    }
}
