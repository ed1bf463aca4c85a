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
//!
//! Keys a part creates that are new by construction (a new op, a new outbox
//! entry) are listed together, one journal value a part ([`Absent`]), not one
//! journal key each: sled's cost is per key (about 5 µs in a transaction), and
//! these were half the keys of an import (6.6 → 4.7 s without them).
//!
//! A tree that was empty when the write began is noted as such
//! ([`Undo::note_if_empty`]) and its keys are not journaled at all: putting
//! back empties it. A first import into a new store journaled its 52,500 op
//! keys, about 8 of the 109 MB it wrote (sled rewrites the journal's leaf of
//! 64 KB lists as each is added and removed). Sound because a write in parts
//! is the only writer of its store until its commit point (the store's lock
//! is held by one process, and that process makes nothing else meanwhile).

use super::{Result, StoreError};

/// The journal tree: `tag ‖ key` → `0` (absent before) or `1 ‖ value before`,
/// `ABSENT ‖ n` (n: u64, BE) → keys that were absent, each `tag`, length
/// (u8) and key, and `EMPTY ‖ tag` → nothing, for a tree that was empty.
/// Values are the bytes as they were (sealed), so nothing is decrypted
/// here. The tag says which tree a key belongs to.
pub struct Undo {
    db: sled::Db,
    tree: sled::Tree,
    /// The tags of the trees empty when this write began.
    empty_before: Vec<u8>,
}

/// The tag of a list of absent keys: above every tree's tag, so lists are
/// put back after the single entries (see [`Undo::put_back`]).
const ABSENT: u8 = 0xFF;

/// The tag of a tree that was empty before the write: put back by emptying it.
const EMPTY: u8 = 0xFE;

/// What one part of a write journals: single entries (keys that held a
/// value) and, listed together, the keys that were absent.
#[derive(Default)]
pub struct PartJournal {
    entries: sled::Batch,
    absent: Vec<u8>,
}

impl Undo {
    pub fn open(db: &sled::Db, name: &str) -> Result<Undo> {
        Ok(Undo {
            db: db.clone(),
            tree: db.open_tree(name)?,
            empty_before: Vec::new(),
        })
    }

    /// Notes `tree` as empty before the write, if it is: none of its keys is
    /// journaled from here on. Call before the write's first part (and flush
    /// with the writer's marker).
    pub fn note_if_empty(&mut self, tag: u8, tree: &sled::Tree) -> Result<()> {
        if tree.is_empty() {
            self.tree.insert([EMPTY, tag], &[][..])?;
            self.empty_before.push(tag);
        }
        Ok(())
    }

    fn was_empty(&self, tag: u8) -> bool {
        self.empty_before.contains(&tag)
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

    /// Records in `part` what `tree[key]` holds now, unless an earlier part did.
    pub fn before(
        &self,
        part: &mut PartJournal,
        tag: u8,
        tree: &sled::Tree,
        key: &[u8],
    ) -> Result<()> {
        if self.was_empty(tag) {
            return Ok(());
        }
        let k = Self::key(tag, key);
        if self.tree.contains_key(&k)? {
            return Ok(());
        }
        match tree.get(key)? {
            Some(v) => part.entries.insert(k, [&[1u8][..], &v].concat()),
            None => self.was_absent(part, tag, key)?,
        }
        Ok(())
    }

    /// Notes that a key the write creates did not exist before (for keys that
    /// are new by construction: no read needed).
    pub fn was_absent(&self, part: &mut PartJournal, tag: u8, key: &[u8]) -> Result<()> {
        if self.was_empty(tag) {
            return Ok(());
        }
        let len = u8::try_from(key.len())
            .map_err(|_| StoreError::Database("a key too long to journal".into()))?;
        part.absent.push(tag);
        part.absent.push(len);
        part.absent.extend_from_slice(key);
        Ok(())
    }

    /// The journal's writes for `part`, to go in the part's own transaction.
    pub fn writes(&self, part: PartJournal) -> Result<sled::Batch> {
        let PartJournal {
            mut entries,
            absent,
        } = part;
        if !absent.is_empty() {
            let n = self.db.generate_id()?;
            entries.insert(Self::key(ABSENT, &n.to_be_bytes()), absent);
        }
        Ok(entries)
    }

    /// Puts every journaled key of `trees` (tag, tree) back as it was, in
    /// batches of bounded size. Not flushed: the caller flushes, then removes
    /// its marker. Lists of absent keys come last (their tag sorts last): a
    /// key listed there was absent before the write began, whatever a later
    /// part's single entry says it held in between. A tree that was empty
    /// is emptied, last.
    pub fn put_back(&self, trees: &[(u8, &sled::Tree)]) -> Result<()> {
        let mut batches: Vec<sled::Batch> = trees.iter().map(|_| sled::Batch::default()).collect();
        let apply = |batches: &mut Vec<sled::Batch>| -> Result<()> {
            for ((_, tree), batch) in trees.iter().zip(batches.iter_mut()) {
                tree.apply_batch(std::mem::take(batch))?;
            }
            Ok(())
        };
        let tree_of = |tag: &u8| {
            trees.iter().position(|(t, _)| t == tag).ok_or_else(|| {
                StoreError::Database("the undo journal of an unfinished write is damaged".into())
            })
        };
        let mut pending = 0usize;
        let mut emptied = Vec::new();
        for item in self.tree.iter() {
            let (k, v) = item?;
            let Some((tag, key)) = k.split_first() else {
                continue;
            };
            if *tag == EMPTY {
                let [tree] = key else {
                    return Err(StoreError::Database(
                        "the undo journal of an unfinished write is damaged".into(),
                    ));
                };
                emptied.push(tree_of(tree)?);
            } else if *tag == ABSENT {
                for (tag, key) in absent_keys(&v)? {
                    batches[tree_of(&tag)?].remove(key);
                    pending += 1;
                }
            } else {
                let i = tree_of(tag)?;
                match v.split_first() {
                    Some((1, value)) => batches[i].insert(key, value),
                    _ => batches[i].remove(key),
                }
                pending += 1;
            }
            if pending >= 5_000 {
                apply(&mut batches)?;
                pending = 0;
            }
        }
        apply(&mut batches)?;
        for i in emptied {
            trees[i].1.clear()?;
        }
        Ok(())
    }
}

/// The keys of a list of absent keys; an error if it does not read whole.
fn absent_keys(mut list: &[u8]) -> Result<Vec<(u8, &[u8])>> {
    let damaged =
        || StoreError::Database("the undo journal of an unfinished write is damaged".into());
    let mut keys = Vec::new();
    while let [tag, len, rest @ ..] = list {
        let len = usize::from(*len);
        if rest.len() < len {
            return Err(damaged());
        }
        let (key, after) = rest.split_at(len);
        keys.push((*tag, key));
        list = after;
    }
    if list.is_empty() {
        Ok(keys)
    } else {
        Err(damaged())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(undo: &Undo, part: PartJournal) {
        let writes = undo.writes(part).expect("writes");
        undo.tree().apply_batch(writes).expect("journal");
    }

    #[test]
    fn put_back_restores_changed_keys_and_removes_new_ones() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let a = db.open_tree("a").expect("a");
        a.insert(b"kept", b"old").expect("insert");
        a.insert(b"untouched", b"same").expect("insert");
        let undo = Undo::open(&db, "undo").expect("undo");
        let mut part = PartJournal::default();
        undo.before(&mut part, b'a', &a, b"kept").expect("before");
        undo.was_absent(&mut part, b'a', b"new").expect("note");
        apply(&undo, part);
        a.insert(b"kept", b"changed").expect("change");
        a.insert(b"new", b"x").expect("new");
        // A second touch of the same key does not overwrite what it held first.
        let mut again = PartJournal::default();
        undo.before(&mut again, b'a', &a, b"kept").expect("before");
        apply(&undo, again);
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
    fn a_tree_empty_before_is_emptied_and_none_of_its_keys_journaled() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let (a, b) = (db.open_tree("a").expect("a"), db.open_tree("b").expect("b"));
        b.insert(b"there", b"before").expect("insert");
        let mut undo = Undo::open(&db, "undo").expect("undo");
        undo.note_if_empty(b'a', &a).expect("note");
        undo.note_if_empty(b'b', &b).expect("note");
        let mut part = PartJournal::default();
        for n in 0..100u8 {
            undo.was_absent(&mut part, b'a', &[n]).expect("note");
            undo.before(&mut part, b'a', &a, &[n]).expect("before");
        }
        undo.was_absent(&mut part, b'b', b"new").expect("note");
        apply(&undo, part);
        // One note for `a`, one list holding `b`'s one key: `a`'s hundred
        // keys are not there.
        assert_eq!(undo.tree().len(), 2);
        for n in 0..100u8 {
            a.insert([n], b"x").expect("insert");
        }
        b.insert(b"new", b"x").expect("insert");
        undo.put_back(&[(b'a', &a), (b'b', &b)]).expect("put back");
        assert!(a.is_empty());
        assert_eq!(b.len(), 1);
        // Idempotent, and a journal read afresh (as at the next open) knows
        // the tree was empty from its note.
        a.insert(b"k", b"x").expect("insert");
        let again = Undo::open(&db, "undo").expect("undo");
        again.put_back(&[(b'a', &a), (b'b', &b)]).expect("again");
        assert!(a.is_empty());
        assert_eq!(
            b.get(b"there").expect("get").as_deref(),
            Some(&b"before"[..])
        );
    }

    #[test]
    fn a_key_of_an_unknown_tree_is_reported_not_skipped() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let a = db.open_tree("a").expect("a");
        let undo = Undo::open(&db, "undo").expect("undo");
        a.insert(b"k", b"v").expect("insert");
        // Listed absent, and journaled with its value.
        for tag_of_z in [false, true] {
            let mut part = PartJournal::default();
            if tag_of_z {
                undo.before(&mut part, b'z', &a, b"k").expect("before");
            } else {
                undo.was_absent(&mut part, b'z', b"new").expect("note");
            }
            apply(&undo, part);
            assert!(undo.put_back(&[(b'a', &a)]).is_err());
            undo.clear().expect("clear");
        }
    }

    #[test]
    fn a_key_listed_absent_is_removed_whatever_a_later_part_journaled() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let a = db.open_tree("a").expect("a");
        let undo = Undo::open(&db, "undo").expect("undo");
        // Part one creates "new"; part two changes it, journaling what part
        // one wrote as its value before.
        let mut part = PartJournal::default();
        undo.before(&mut part, b'a', &a, b"new").expect("before");
        apply(&undo, part);
        a.insert(b"new", b"part one").expect("write");
        let mut part = PartJournal::default();
        undo.before(&mut part, b'a', &a, b"new").expect("before");
        apply(&undo, part);
        a.insert(b"new", b"part two").expect("write");
        undo.put_back(&[(b'a', &a)]).expect("put back");
        assert!(a.is_empty());
    }

    #[test]
    fn a_damaged_list_of_absent_keys_is_reported_not_skipped() {
        let db = sled::Config::new().temporary(true).open().expect("db");
        let a = db.open_tree("a").expect("a");
        a.insert(b"k", b"v").expect("insert");
        let undo = Undo::open(&db, "undo").expect("undo");
        // A list cut short: the key claims 9 bytes and has 1.
        undo.tree()
            .insert(Undo::key(ABSENT, &1u64.to_be_bytes()), &[b'a', 9, b'k'][..])
            .expect("journal");
        assert!(undo.put_back(&[(b'a', &a)]).is_err());
        assert_eq!(
            a.len(),
            1,
            "nothing put back from a list that does not read"
        );
    }
}
