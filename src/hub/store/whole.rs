//! Writes too large for one transaction's memory (a whole council's cohort
//! import: 52,500 people in one sled transaction took 2 GB), made all or
//! nothing all the same, with the undo journal of `store/undo.rs`:
//!
//! 1. A marker holding the last sequence number before the write is written in
//!    the database's default tree and flushed.
//! 2. The ops go in parts of [`PART`], each its own transaction that also
//!    journals what each person's records held before. The ops and their
//!    indexes need no journal: everything numbered after the marker's sequence
//!    number is new.
//! 3. Once every part is flushed, removing the marker (flushed) is the commit
//!    point; only then do the new sequence numbers count as written, so pulls
//!    and the next pushes see them.
//!
//! The writer thread does nothing else meanwhile (pushes wait their turn), and
//! readers wait at the gate, so nobody sees some of the parts. An error puts
//! everything back at once; a kill (or a full disk that leaves sled refusing
//! writes) is put back when the hub next opens its data directory.

use super::{AppendJob, HubData, Push};
use crate::store::{Result, StoreError};

/// Ops a part: a part's transaction takes tens of MB.
pub(super) const PART: usize = 2_000;

/// The journal's tree, and its tags: which tree a journaled key belongs to.
pub(super) const UNDO_TREE: &str = "undo";
pub(super) const PEOPLE: u8 = b'p';
pub(super) const SUMMARIES: u8 = b's';

/// Present from before the first part until the commit point; holds the last
/// sequence number before the write (u64, BE).
const UNFINISHED: &[u8] = b"unfinished-write";

/// Written in parts rather than in one transaction.
pub(super) fn is_large(job: &AppendJob) -> bool {
    job.spooled.is_some() || job.ops.len() > PART
}

/// Where a tree's record keeps the sequence number it belongs to (key, value).
type SeqOf = for<'a> fn(&'a [u8], &'a [u8]) -> &'a [u8];

impl HubData {
    /// [`Self::write_whole`], where a bug does not stop the writer thread, and
    /// a full disk marks the database to be reopened (which puts it back).
    pub(super) fn write_whole_safely(&self, job: &mut AppendJob) -> Result<Vec<u64>> {
        let result =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.write_whole(job)))
                .unwrap_or_else(|_| {
                    Err(StoreError::Database(
                        "the hub failed writing this import".into(),
                    ))
                });
        if let Err(e) = &result {
            self.note_failure(e);
        }
        result
    }

    /// Writes `job` in parts, all or nothing; returns its sequence numbers.
    /// Durable (flushed at the commit point) when it returns.
    fn write_whole(&self, job: &mut AppendJob) -> Result<Vec<u64>> {
        let _alone = self.gate.write().unwrap_or_else(|p| p.into_inner());
        self.undo.clear()?;
        let before = super::written_seq(&self.ops)?;
        self.db.insert(UNFINISHED, &before.to_be_bytes()[..])?;
        self.db.flush()?;
        let written = (|| {
            let AppendJob {
                ops,
                spooled,
                pushed_by,
                now_millis,
                ..
            } = job;
            let mut seqs = Vec::with_capacity(ops.len());
            let mut held = ops.chunks(PART);
            loop {
                // A spool's parts are read one at a time; nothing else is held.
                let read;
                let ops: &[crate::domain::Op] = match spooled.as_mut() {
                    Some(spool) => match spool.next_part()? {
                        Some(part) => {
                            read = part;
                            &read
                        }
                        None => break,
                    },
                    None => match held.next() {
                        Some(part) => part,
                        None => break,
                    },
                };
                for part in ops.chunks(PART) {
                    let push = Push {
                        ops: part,
                        pushed_by,
                        now_millis: *now_millis,
                    };
                    let mut part_seqs = self.write(&[push], Some(&self.undo))?;
                    seqs.append(&mut part_seqs.pop().unwrap_or_default());
                }
            }
            self.db.flush()?;
            // The commit point.
            self.db.remove(UNFINISHED)?;
            self.db.flush()?;
            Ok(seqs)
        })();
        match written {
            Ok(seqs) => {
                self.group_commit
                    .written(seqs.iter().copied().max().unwrap_or_default());
                // Not needed any more; the next large write or open clears it.
                let _ = self.undo.clear();
                Ok(seqs)
            }
            Err(e) => {
                if self.roll_back_unfinished().is_err() {
                    // Left for the next open: until then this handle must not
                    // serve what the parts wrote.
                    self.failed
                        .store(true, std::sync::atomic::Ordering::Release);
                }
                Err(e)
            }
        }
    }

    /// Removes every op numbered after `before`, and its index entries. The
    /// indexes are scanned whole rather than found through the ops, so an op
    /// record too damaged to read leaves no index entry pointing nowhere.
    fn remove_ops_after(&self, before: u64) -> Result<()> {
        let after =
            |seq: &[u8]| <[u8; 8]>::try_from(seq).is_ok_and(|s| u64::from_be_bytes(s) > before);
        let trees: [(&sled::Tree, SeqOf); 3] = [
            // An arrival's key begins with its first number; all of its ops
            // were written by one part.
            (&self.ops, |k, _| k.get(..8).unwrap_or_default()),
            (&self.op_ids, |_, v| v),
            (&self.by_person, |k, _| k.get(16..).unwrap_or_default()),
        ];
        for (tree, seq_of) in trees {
            let mut batch = sled::Batch::default();
            for (n, item) in tree.iter().enumerate() {
                let (k, v) = item?;
                if after(seq_of(&k, &v)) {
                    batch.remove(k);
                }
                if n % 5_000 == 4_999 {
                    tree.apply_batch(std::mem::take(&mut batch))?;
                }
            }
            tree.apply_batch(batch)?;
        }
        Ok(())
    }

    /// Puts back a write in parts that did not reach its commit point (see
    /// the module's comment). True if there was one.
    pub(super) fn roll_back_unfinished(&self) -> Result<bool> {
        let Some(marker) = self.db.get(UNFINISHED)? else {
            if !self.undo.tree().is_empty() {
                self.undo.clear()?;
            }
            return Ok(false);
        };
        let before = u64::from_be_bytes(marker.as_ref().try_into().map_err(|_| {
            StoreError::Database("the mark of an unfinished write is damaged".into())
        })?);
        self.undo
            .put_back(&[(PEOPLE, &self.people), (SUMMARIES, &self.summaries)])?;
        self.remove_ops_after(before)?;
        self.db.flush()?;
        self.db.remove(UNFINISHED)?;
        self.db.flush()?;
        // Rebuilt from the database on next use.
        *self
            .summary_index
            .write()
            .unwrap_or_else(|p| p.into_inner()) = None;
        self.undo.clear()?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{HubStore, SledHubStore};
    use super::*;
    use crate::domain::Op;

    fn registrations(people: usize, seed: u64) -> Vec<Op> {
        crate::demo::DemoCohort::new(crate::demo::DemoSpec {
            people,
            seed,
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        })
        .map(|mut person| person.remove(0))
        .collect()
    }

    /// Every record of the trees a write changes, as raw bytes.
    fn contents(data: &HubData) -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
        [
            &data.ops,
            &data.op_ids,
            &data.by_person,
            &data.people,
            &data.summaries,
        ]
        .iter()
        .map(|t| {
            t.iter()
                .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).expect("read"))
                .collect()
        })
        .collect()
    }

    #[test]
    fn a_large_write_cut_short_is_put_back_whole_at_the_next_open() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let hub = SledHubStore::open(tmp.path(), None).expect("open");
        hub.append(&registrations(10, 1), "admin", 5)
            .expect("small append");
        let before = contents(&hub.current.data);
        let large = registrations(PART + 500, 2);
        // What `write_whole` does up to a kill after its first part.
        let data = &hub.current.data;
        data.db
            .insert(UNFINISHED, &10u64.to_be_bytes()[..])
            .expect("marker");
        let first = Push {
            ops: &large[..PART],
            pushed_by: "admin",
            now_millis: 5,
        };
        data.write(&[first], Some(&data.undo)).expect("first part");
        data.db.flush().expect("flush");
        assert!(contents(data) != before, "the first part was written");
        drop(hub);
        let hub = SledHubStore::open(tmp.path(), None).expect("reopen");
        assert!(contents(&hub.current.data) == before, "exactly as before");
        assert!(hub.current.data.undo.tree().is_empty());
        assert_eq!(hub.last_seq().expect("seq"), 10);
        assert_eq!(hub.summaries().expect("summaries").len(), 10);
        // And the whole large write lands whole.
        let seqs = hub.append(&large, "admin", 6).expect("large append");
        assert_eq!(seqs, (11..=10 + large.len() as u64).collect::<Vec<_>>());
        assert_eq!(hub.last_seq().expect("seq"), 10 + large.len() as u64);
        assert_eq!(hub.summaries().expect("summaries").len(), 10 + large.len());
        assert!(!hub.current.data.db.contains_key(UNFINISHED).expect("read"));
    }

    #[test]
    fn a_large_write_that_fails_in_a_later_part_is_put_back_at_once() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let hub = SledHubStore::open(tmp.path(), None).expect("open");
        let people = registrations(PART + 500, 3);
        // Someone the second part changes is known already, and their record
        // on disk is damaged.
        let known = &people[PART + 10];
        hub.append(std::slice::from_ref(known), "admin", 5)
            .expect("append");
        let data = &hub.current.data;
        data.people
            .insert(known.person.as_bytes(), &b"not a sealed record"[..])
            .expect("damage");
        let before = contents(data);
        let mut again = people.clone();
        again[PART + 10].id = crate::domain::OpId(uuid::Uuid::now_v7());
        let e = hub
            .append(&again, "admin", 6)
            .expect_err("the damage is met");
        assert!(
            matches!(e, StoreError::Damaged { tree: "people", .. }),
            "{e}"
        );
        assert!(contents(&hub.current.data) == before, "nothing of it stays");
        assert_eq!(hub.last_seq().expect("seq"), 1);
        assert!(!hub.failed(), "the hub goes on taking pushes");
        hub.append(&people[..5], "admin", 7)
            .expect("a push after it");
        assert_eq!(hub.last_seq().expect("seq"), 6);
    }
}
