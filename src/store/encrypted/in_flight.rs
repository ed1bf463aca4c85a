//! A part of a large commit being written by sled on a thread of its own
//! while the next part is worked out (read from its file, checked, sealed,
//! folded): a commit in parts is otherwise one core's work, working out a
//! part and sled's transaction taking turns (docs/architecture.md, "An import's
//! part in flight").
//!
//! At most one part is in flight, and it lands before the next one starts,
//! so the parts reach sled in their order. Whatever reads what the part in
//! flight writes waits for it first: a person it changes (every read of a
//! person goes through `load_applied_person`), the commit's end and its
//! abandoning (so that putting everything back comes after it, never
//! before), settling, and closing the store. Its clock and op count are
//! carried in memory from part to part (`Running`) rather than read back.
//! A failure there is reported when the part is waited for, and the commit
//! is then abandoned and put back like any other.

use super::{EncryptedStore, FastSet, PartWritten};
use crate::domain::{Hlc, PersonId};
use crate::store::{Result, StoreError};
use std::sync::Mutex;
use std::thread::JoinHandle;

/// The writes of one part, worked out, and what they write.
pub(in crate::store) struct WorkedOut {
    pub(super) writes: Vec<(sled::Tree, sled::Batch)>,
    pub(super) written: PartWritten,
}

/// The clock and op count as the parts of a commit so far leave them.
#[derive(Clone, Copy, Debug)]
pub(in crate::store) struct Running {
    pub(super) at: Hlc,
    pub(super) ops: u64,
}

/// The part in flight, if any.
#[derive(Default)]
pub(super) struct InFlight(Mutex<Option<Flight>>);

struct Flight {
    landed: JoinHandle<Result<()>>,
    people: FastSet<PersonId>,
    at: Hlc,
}

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Flight>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the part in flight changes `id`.
    pub(super) fn changes(&self, id: PersonId) -> bool {
        self.lock().as_ref().is_some_and(|f| f.people.contains(&id))
    }

    /// Whether the part in flight changes any of `people`.
    pub(super) fn changes_any(&self, mut people: impl Iterator<Item = PersonId>) -> bool {
        let flight = self.lock();
        let Some(f) = flight.as_ref() else {
            return false;
        };
        people.any(|id| f.people.contains(&id))
    }
}

impl EncryptedStore {
    /// Hands `worked` to sled on a thread of its own, after the part before
    /// it has landed. Its outcome is known at the next [`Self::land_in_flight`].
    pub(super) fn fly(&self, worked: WorkedOut) -> Result<()> {
        self.land_in_flight()?;
        let WorkedOut { writes, written } = worked;
        let people = written.changed.keys().copied().collect();
        #[cfg(test)]
        let next = tests::next_flight(&self.dir);
        let landed = std::thread::Builder::new()
            .name("commit-part".into())
            .spawn(move || {
                #[cfg(test)]
                match next {
                    Some(tests::Flight::Fails) => return Err(StoreError::DiskFull),
                    Some(tests::Flight::Slow) => {
                        std::thread::sleep(std::time::Duration::from_millis(300))
                    }
                    None => {}
                }
                apply_writes(writes)
            })
            .map_err(|e| StoreError::Database(format!("could not start writing: {e}")))?;
        *self.in_flight.lock() = Some(Flight {
            landed,
            people,
            at: written.at,
        });
        Ok(())
    }

    /// Waits for the part in flight, if any: Ok once it is in sled (not yet
    /// durable: the commit's end flushes), or why it is not.
    pub(super) fn land_in_flight(&self) -> Result<()> {
        let Some(flight) = self.in_flight.lock().take() else {
            return Ok(());
        };
        let landed = flight.landed.join().unwrap_or_else(|_| {
            Err(StoreError::Database(
                "writing a part of the change stopped with an internal error".into(),
            ))
        });
        self.last_read.people_changed();
        landed?;
        *self.clock.lock().unwrap_or_else(|p| p.into_inner()) = flight.at;
        Ok(())
    }

    /// Waits for the part in flight if it changes `id`.
    pub(super) fn land_if_it_changes(&self, id: PersonId) -> Result<()> {
        if self.in_flight.changes(id) {
            self.land_in_flight()?;
        }
        Ok(())
    }
}

/// Applies the writes of one part in one transaction.
pub(super) fn apply_writes(writes: Vec<(sled::Tree, sled::Batch)>) -> Result<()> {
    let (trees, batches): (Vec<sled::Tree>, Vec<sled::Batch>) = writes.into_iter().unzip();
    let pairs: Vec<(&sled::Tree, sled::Batch)> = trees.iter().zip(batches).collect();
    crate::store::apply_atomically(&pairs)
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    /// What the next part flown by a store does instead of landing at once.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub(in crate::store) enum Flight {
        /// Fails as a full disk would, unwritten.
        Fails,
        /// Lands 300 ms late.
        Slow,
    }

    static NEXT: Mutex<Vec<(PathBuf, Flight)>> = Mutex::new(Vec::new());

    pub(in crate::store) fn next_flight_of(store: &Path, flight: Flight) {
        NEXT.lock()
            .expect("lock")
            .push((store.to_path_buf(), flight));
    }

    pub(super) fn next_flight(store: &Path) -> Option<Flight> {
        let mut next = NEXT.lock().expect("lock");
        let at = next.iter().position(|(s, _)| s == store)?;
        Some(next.remove(at).1)
    }
}
