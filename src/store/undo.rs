//! An undo journal for writes too large for one sled transaction, shared by
//! the device's store and the hub's.
//!
//! sled keeps a whole transaction in memory (52,500 people in one took
//! 1.5 GB on a device and 2 GB on the hub), so a large write is made in parts,
//! each its own transaction that also records, in the journal tree, what every
//! key it touches held before the whole write began (first touch only) or that
//! it was absent. Until the writer's own commit point (removing a marker it
//! flushed before the first part), [`Undo::put_back`] restores every journaled
//! key. Putting back is idempotent, so a kill during it is repaired by doing
//! it again at the next open.

use super::{Result, StoreError};

/// The journal tree: `tag ‖ key` → `0` (absent before) or `1 ‖ value before`.
/// Values are the bytes as they were (sealed), so nothing is decrypted here.
/// The tag says which tree a key belongs to.
pub struct Undo {
    tree: sled::Tree,
}

impl Undo {
    pub fn open(db: &sled::Db, name: &str) -> Result<Undo> {
        Ok(Undo {
            tree: db.open_tree(name)?,
        })
    }

    pub fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// Forgets the journal (after the commit point, or after putting back).
    pub fn clear(&self) -> Result<()> {
        Ok(self.tree.clear()?)
    }

    fn key(tag: u8, key: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(1 + key.len());
        k.push(tag);
        k.extend_from_slice(key);
        k
    }

    /// Records in `batch` what `tree[key]` holds now, unless an earlier part did.
    pub fn before(
        &self,
        batch: &mut sled::Batch,
        tag: u8,
        tree: &sled::Tree,
        key: &[u8],
    ) -> Result<()> {
        let k = Self::key(tag, key);
        if self.tree.contains_key(&k)? {
            return Ok(());
        }
        let value = match tree.get(key)? {
            Some(v) => [&[1u8][..], &v].concat(),
            None => vec![0],
        };
        batch.insert(k, value);
        Ok(())
    }

    /// Records that a key the write creates did not exist before (for keys
    /// that are new by construction: no read needed).
    pub fn was_absent(&self, batch: &mut sled::Batch, tag: u8, key: &[u8]) {
        batch.insert(Self::key(tag, key), vec![0]);
    }

    /// Puts every journaled key of `trees` (tag, tree) back as it was, in
    /// batches of bounded size. Not flushed: the caller flushes, then removes
    /// its marker.
    pub fn put_back(&self, trees: &[(u8, &sled::Tree)]) -> Result<()> {
        let mut batches: Vec<sled::Batch> = trees.iter().map(|_| sled::Batch::default()).collect();
        let apply = |batches: &mut Vec<sled::Batch>| -> Result<()> {
            for ((_, tree), batch) in trees.iter().zip(batches.iter_mut()) {
                tree.apply_batch(std::mem::take(batch))?;
            }
            Ok(())
        };
        for (n, item) in self.tree.iter().enumerate() {
            let (k, v) = item?;
            let Some((tag, key)) = k.split_first() else {
                continue;
            };
            let Some(i) = trees.iter().position(|(t, _)| t == tag) else {
                return Err(StoreError::Database(
                    "the undo journal of an unfinished write is damaged".into(),
                ));
            };
            match v.split_first() {
                Some((1, value)) => batches[i].insert(key, value),
                _ => batches[i].remove(key),
            }
            if n % 5_000 == 4_999 {
                apply(&mut batches)?;
            }
        }
        apply(&mut batches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_back_restores_changed_keys_and_removes_new_ones() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let a = db.open_tree("a").expect("a");
        a.insert(b"kept", b"old").expect("insert");
        a.insert(b"untouched", b"same").expect("insert");
        let undo = Undo::open(&db, "undo").expect("undo");
        let mut journal = sled::Batch::default();
        undo.before(&mut journal, b'a', &a, b"kept")
            .expect("before");
        undo.was_absent(&mut journal, b'a', b"new");
        undo.tree().apply_batch(journal).expect("journal");
        a.insert(b"kept", b"changed").expect("change");
        a.insert(b"new", b"x").expect("new");
        // A second touch of the same key does not overwrite what it held first.
        let mut again = sled::Batch::default();
        undo.before(&mut again, b'a', &a, b"kept").expect("before");
        undo.tree().apply_batch(again).expect("journal");
        undo.put_back(&[(b'a', &a)]).expect("put back");
        let now: Vec<_> = a
            .iter()
            .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).expect("read"))
            .collect();
        assert_eq!(
            now,
            vec![
                (b"kept".to_vec(), b"old".to_vec()),
                (b"untouched".to_vec(), b"same".to_vec())
            ]
        );
        // Idempotent: a kill during putting back is mended by doing it again.
        undo.put_back(&[(b'a', &a)]).expect("again");
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn a_key_of_an_unknown_tree_is_reported_not_skipped() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let a = db.open_tree("a").expect("a");
        let undo = Undo::open(&db, "undo").expect("undo");
        let mut journal = sled::Batch::default();
        undo.was_absent(&mut journal, b'z', b"k");
        undo.tree().apply_batch(journal).expect("journal");
        assert!(undo.put_back(&[(b'a', &a)]).is_err());
    }
}
