//! Write-back: a commit is durable once its ops are in the commit log, and
//! applied to sled later — when the log is full, before any other kind of
//! change or read that needs sled whole, when the workbench is idle, and on
//! closing. Meanwhile the people it changed and its op keys are held here, so
//! reading a person, or whether an op is held, sees every commit at once.
//!
//! Why: applying a commit to sled (load the person, fold, seal the state,
//! re-seal the 11.7 KB summary page, a five-tree transaction) took longer
//! than the log's write and sync together (docs/architecture.md); the
//! caseworker waits only for the log.

use super::{EncryptedStore, LogEntryRef, OpKey, T_LOG};
use crate::domain::{CaseSummary, Op, PersonId, PersonState};
use crate::store::commit_log::{CommitLog, Refused};
use crate::store::crypto;
use crate::store::{Changed, Origin, Result, StoreError};
use std::collections::{HashMap, HashSet};
use std::sync::MutexGuard;
use zeroize::Zeroizing;

/// Whether a commit's ops may be held already, and so must be looked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ids {
    /// From the hub, a salvage, a bulk change: each is looked for.
    MayBeHeld,
    /// Made here a moment ago with a new UUIDv7 id (74 random bits): not
    /// looked for in sled (about a sixth of a save's work was that lookup).
    /// Waiting commits are still checked: that costs nothing.
    JustMinted,
    /// Looked for a moment ago, under the lock that commits hold.
    Checked,
}

/// A commit's record as the log holds it, before sealing: encoded once, both
/// to tell whether the log could hold it and to write it.
fn log_record(ops: &[Op], origin: Origin) -> Result<Zeroizing<Vec<u8>>> {
    let entry = LogEntryRef {
        local: origin == Origin::Local,
        ops,
    };
    postcard::to_allocvec(&entry)
        .map(Zeroizing::new)
        .map_err(|e| StoreError::Database(e.to_string()))
}

/// Commits in the log that sled does not hold yet, oldest first, and what
/// they changed.
#[derive(Default)]
pub(super) struct Unapplied {
    commits: Vec<(Vec<Op>, Origin)>,
    /// Each person the commits changed, as they now stand.
    people: HashMap<PersonId, PersonState>,
    ops: HashSet<OpKey>,
    /// How many of the ops wait for the hub.
    outbox: usize,
}

impl Unapplied {
    pub(super) fn is_empty(&self) -> bool {
        self.commits.is_empty()
    }

    pub(super) fn person(&self, id: PersonId) -> Option<&PersonState> {
        self.people.get(&id)
    }

    pub(super) fn outbox_len(&self) -> usize {
        self.outbox
    }
}

impl EncryptedStore {
    pub(super) fn unapplied_lock(&self) -> MutexGuard<'_, Unapplied> {
        self.unapplied.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Commits `ops` (those not held already): folded against the people as
    /// they stand, then made durable by one write and one sync of the log.
    /// Applying them to sled waits (see the module's comment).
    pub(super) fn commit_to_log(
        &self,
        ops: &[Op],
        origin: Origin,
        ids: Ids,
    ) -> Result<Vec<Changed>> {
        // Held across the log's write, so the log and the list agree on order.
        let mut unapplied = self.unapplied_lock();
        let (fresh, keys) = self.not_held(&unapplied, ops, ids)?;
        if fresh.is_empty() {
            return Ok(Vec::new());
        }
        let record = log_record(&fresh, origin)?;
        if !CommitLog::could_hold(crypto::sealed_len(record.len())) {
            return self.commit_past_the_log(&mut unapplied, &fresh, origin);
        }
        let states = PersonState::fold_changes(&fresh, |id| match unapplied.people.get(&id) {
            Some(state) => Ok(Some(state.clone())),
            None => self.load_applied_person(id),
        })?;
        let apply_now = self.write_to_log(&mut unapplied, &record)?;
        let changed = states
            .iter()
            .map(|(id, state)| (*id, CaseSummary::of(state)))
            .collect();
        if let Some(at) = fresh.iter().map(|op| op.at).max() {
            let mut clock = self.clock.lock().unwrap_or_else(|p| p.into_inner());
            *clock = (*clock).max(at);
        }
        unapplied.ops.extend(keys);
        if origin == Origin::Local {
            unapplied.outbox += fresh.len();
        }
        unapplied.people.extend(states);
        unapplied.commits.push((fresh, origin));
        if apply_now {
            self.checkpoint_with(&mut unapplied)?;
        }
        Ok(changed)
    }

    /// A commit larger than the whole log (a pull's page, a bulk change):
    /// applied to sled after what waits, then made durable by a checkpoint.
    /// Checked and folded once, in sled's transaction; before, it was folded
    /// for the log, refused by it, then applied (b's store of a pulled page
    /// of 1,000: 2.8 ms of 16.5 done twice, docs/benchmarks.md).
    fn commit_past_the_log(
        &self,
        unapplied: &mut Unapplied,
        fresh: &[Op],
        origin: Origin,
    ) -> Result<Vec<Changed>> {
        self.apply(unapplied)?;
        let written = self.commit_part(fresh, origin, None, Ids::Checked)?;
        self.checkpoint_with(unapplied)?;
        Ok(written
            .map(|w| w.changed.into_iter().collect())
            .unwrap_or_default())
    }

    /// The ops of `ops` neither in sled nor waiting, once each, with their keys.
    fn not_held(
        &self,
        unapplied: &Unapplied,
        ops: &[Op],
        ids: Ids,
    ) -> Result<(Vec<Op>, HashSet<OpKey>)> {
        let mut fresh = Vec::new();
        let mut keys = HashSet::new();
        let mut together = super::HeldTogether::default();
        for op in ops {
            let key = self.op_key(op);
            if keys.contains(&key) || unapplied.ops.contains(&key) {
                continue;
            }
            if ids == Ids::MayBeHeld && self.holds_op(op, &key, &mut together)? {
                continue;
            }
            keys.insert(key);
            fresh.push(op.clone());
        }
        Ok((fresh, keys))
    }

    /// Writes the commit's record to the log; true if it must instead be made
    /// durable in sled at once. A full log is emptied first by a checkpoint,
    /// so a refusal (a full disk) comes before anything of this commit is
    /// held, and nothing of it can reappear later.
    fn write_to_log(&self, unapplied: &mut Unapplied, record: &[u8]) -> Result<bool> {
        let seal = |binding: &[u8; 24]| Ok(self.sealer.seal_bytes(T_LOG, binding, record)?);
        let logged = match self.log.append(seal) {
            Err(Refused::Full) if !self.log.is_empty() => {
                self.checkpoint_with(unapplied)?;
                self.log.append(seal)
            }
            other => other,
        };
        match logged {
            Ok(()) => Ok(false),
            // Larger than the whole log (a pull's page, a bulk change). Were
            // the checkpoint refused, sled would still hold it in memory, as
            // before the log existed; an import, which must be all or
            // nothing, goes through the undo journal instead.
            Err(Refused::Full) => Ok(true),
            Err(Refused::Failed(StoreError::DiskFull)) => Err(StoreError::DiskFull),
            // The log cannot be written: sled made durable still works.
            Err(Refused::Failed(_)) => Ok(true),
        }
    }

    /// Applies every unapplied commit to sled (not yet durable there: a flush
    /// follows, or the log still holds them). Commits of one origin in a row
    /// go in one transaction. On an error nothing is forgotten: applying
    /// again skips what was written.
    pub(super) fn apply(&self, unapplied: &mut Unapplied) -> Result<()> {
        let commits = &unapplied.commits;
        let mut start = 0;
        while let Some((_, origin)) = commits.get(start) {
            let run = commits[start..]
                .iter()
                .take_while(|(_, o)| o == origin)
                .count();
            let ops: Vec<Op> = commits[start..start + run]
                .iter()
                .flat_map(|(ops, _)| ops.iter().cloned())
                .collect();
            self.commit_part(&ops, *origin, None, Ids::MayBeHeld)?;
            start += run;
        }
        *unapplied = Unapplied::default();
        Ok(())
    }

    /// Applies what waits (if anything) to sled, without making it durable:
    /// for reading sled whole (the outbox, all summaries, a person's ops).
    pub fn settle(&self) -> Result<()> {
        self.land_in_flight()?;
        let mut unapplied = self.unapplied_lock();
        self.apply(&mut unapplied)
    }

    /// Whether commits wait to be applied to sled (the workbench settles
    /// them when idle).
    pub fn has_unapplied(&self) -> bool {
        !self.unapplied_lock().is_empty()
    }
}
