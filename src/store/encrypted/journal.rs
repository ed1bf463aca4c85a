//! Commits too large for one transaction's memory (a 52,500-row import, a
//! salvage, a first sync's biggest pages), made all or nothing all the same:
//! written in parts of [`PART`] ops with the undo journal of `store/undo.rs`.
//!
//! 1. A marker in `meta` (the op count and clock before) is written and flushed.
//! 2. Each part, in the same transaction as its writes, journals what each key
//!    held before the commit began.
//! 3. Once every part is flushed, removing the marker (flushed) is the commit
//!    point; then the watermark, then the journal is cleared.
//!
//! Opening a store that still has the marker (the process was killed, the
//! disk filled, a part failed) puts every journaled key back and removes the
//! marker: the store is exactly as before the commit.

use super::{EncryptedStore, Op, Pages, T_META};
use crate::domain::Hlc;
use crate::store::undo::Undo;
use crate::store::{Changed, Origin, Result};
use std::collections::BTreeMap;

/// Ops a part: bounds a commit's memory (tens of MB) while keeping the number
/// of transactions small.
pub(super) const PART: usize = 2_000;

/// Undo journal tags: which tree a journaled key belongs to.
pub(super) const OPS: u8 = b'o';
pub(super) const OUTBOX: u8 = b'x';
pub(super) const PEOPLE: u8 = b'p';
pub(super) const SUMMARIES: u8 = b's';

const T_UNDO: &str = "undo";
const META_UNFINISHED: &str = "unfinished-commit";

/// What the marker keeps: the store's op count and clock before the commit.
#[derive(serde::Serialize, serde::Deserialize)]
struct Before {
    ops: u64,
    at: Hlc,
}

/// Commits `ops` in parts, all or nothing (see the module's comment).
pub(super) fn commit_in_parts(
    store: &EncryptedStore,
    ops: &[Op],
    origin: Origin,
) -> Result<Vec<Changed>> {
    let undo = Undo::open(&store.db, T_UNDO)?;
    // A journal left by a finished commit (cleared after its commit point).
    undo.clear()?;
    let before = Before {
        ops: store.op_count()?,
        at: store.last_hlc(),
    };
    store.meta.insert(
        META_UNFINISHED.as_bytes(),
        store.seal(T_META, META_UNFINISHED.as_bytes(), &before)?,
    )?;
    store.flush()?;
    let applied = (|| {
        // Summaries, not whole states: what the caller's index needs, in a
        // fraction of the memory.
        let mut changed = BTreeMap::new();
        let mut last = None;
        // Each summary page is sealed and written once, at the end, however
        // many parts change it (pages hold everyone: rewriting all of them
        // for each part made memory and time grow with the store).
        let mut pages = Pages::new();
        for part in ops.chunks(PART) {
            if let Some(written) = store.commit_part(part, origin, Some((&undo, &mut pages)))? {
                changed.extend(written.changed);
                last = Some((written.at, written.op_count));
            }
        }
        store.write_pages(&pages, &undo)?;
        store.flush()?;
        // The commit point.
        store.meta.remove(META_UNFINISHED.as_bytes())?;
        store.flush()?;
        Ok((changed, last))
    })();
    match applied {
        Ok((changed, last)) => {
            if let Some((at, count)) = last {
                store.seal_commit(at, count)?;
            }
            // Not needed any more; a later commit or open clears what is left.
            let _ = undo.clear();
            Ok(changed.into_iter().collect())
        }
        Err(e) => {
            // Put back now if the disk allows; otherwise the next open does.
            let _ = roll_back_unfinished(store);
            Err(e)
        }
    }
}

/// Puts back a commit that did not reach its commit point. True if there was one.
pub(super) fn roll_back_unfinished(store: &EncryptedStore) -> Result<bool> {
    let Some(sealed) = store.meta.get(META_UNFINISHED.as_bytes())? else {
        if store.db.tree_names().iter().any(|n| n == T_UNDO.as_bytes()) {
            Undo::open(&store.db, T_UNDO)?.clear()?;
        }
        return Ok(false);
    };
    let before: Before = store
        .unseal(T_META, META_UNFINISHED.as_bytes(), &sealed)
        .map_err(super::Damaged::into_error)?;
    let undo = Undo::open(&store.db, T_UNDO)?;
    undo.put_back(&[
        (OPS, &store.ops),
        (OUTBOX, &store.outbox),
        (PEOPLE, &store.people),
        (SUMMARIES, &store.summaries),
    ])?;
    store.meta.insert(
        super::META_CLOCK.as_bytes(),
        store.seal(T_META, super::META_CLOCK.as_bytes(), &before.at)?,
    )?;
    store.meta.insert(
        super::META_OP_COUNT.as_bytes(),
        store.seal(T_META, super::META_OP_COUNT.as_bytes(), &before.ops)?,
    )?;
    store.flush()?;
    store.meta.remove(META_UNFINISHED.as_bytes())?;
    store.flush()?;
    *store.clock.lock().unwrap_or_else(|p| p.into_inner()) = before.at;
    undo.clear()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CaseStore;
    use crate::store::crypto::KdfParams;

    const FAST: KdfParams = KdfParams::LEAST;

    fn people(n: usize, seed: u64) -> Vec<Op> {
        crate::demo::DemoCohort::new(crate::demo::DemoSpec {
            people: n,
            seed,
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        })
        .flatten()
        .collect()
    }

    /// Everything a commit can change: the records as raw bytes; the counters
    /// in `meta` by value (put back re-sealed, so with new nonces); meta's keys.
    type Contents = (Vec<Vec<(Vec<u8>, Vec<u8>)>>, u64, Hlc, Vec<Vec<u8>>);

    fn contents(store: &EncryptedStore) -> Contents {
        let records = [&store.ops, &store.outbox, &store.people, &store.summaries]
            .iter()
            .map(|t| {
                t.iter()
                    .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).expect("read"))
                    .collect()
            })
            .collect();
        let meta_keys = store
            .meta
            .iter()
            .keys()
            .map(|k| k.expect("key").to_vec())
            .collect();
        let clock: Hlc = store
            .meta(super::super::META_CLOCK)
            .expect("clock")
            .unwrap_or_default();
        (records, store.op_count().expect("count"), clock, meta_keys)
    }

    #[test]
    fn a_large_commit_cut_short_is_put_back_whole_at_the_next_open() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("s");
        let store = EncryptedStore::create(&dir, b"pass", FAST).expect("create");
        store
            .commit(&people(20, 1), Origin::Local)
            .expect("small commit");
        let before = contents(&store);
        let more = people(PART / 4, 2);
        assert!(more.len() > PART, "several parts");
        let undo = Undo::open(&store.db, T_UNDO).expect("undo");
        let marker = Before {
            ops: store.op_count().expect("count"),
            at: store.last_hlc(),
        };
        store
            .meta
            .insert(
                META_UNFINISHED.as_bytes(),
                store
                    .seal(T_META, META_UNFINISHED.as_bytes(), &marker)
                    .expect("seal"),
            )
            .expect("marker");
        // What `commit_in_parts` does up to a kill after its first part and
        // the pages it changed.
        let mut pages = Pages::new();
        store
            .commit_part(&more[..PART], Origin::Local, Some((&undo, &mut pages)))
            .expect("first part");
        store.write_pages(&pages, &undo).expect("pages");
        store.flush().expect("flush");
        assert!(contents(&store) != before, "the first part was written");
        drop(undo);
        drop(store);
        let store = EncryptedStore::open(&dir, b"pass").expect("reopen");
        assert!(contents(&store) == before, "exactly as before the commit");
        assert!(
            !store.db.tree_names().iter().any(|n| n == T_UNDO.as_bytes())
                || store.db.open_tree(T_UNDO).expect("undo").is_empty()
        );
        // And a whole large commit lands whole.
        let changed = store.commit(&more, Origin::Local).expect("large commit");
        assert_eq!(changed.len(), PART / 4);
        let (summaries, damaged) = store.summaries().expect("summaries");
        assert_eq!((summaries.len(), damaged.len()), (20 + PART / 4, 0));
        assert_eq!(
            store.outbox().expect("outbox").len(),
            people(20, 1).len() + more.len()
        );
    }
}
