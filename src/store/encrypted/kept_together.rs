//! How ops are kept in the `ops` tree. Up to format 2, each op under a key of
//! its own: the person's id, then the keyed hash of the op's id (32 bytes).
//! From format 3, the ops of one person in one commit are kept together, one
//! value under the first op's key and how many they are (36 bytes); a single
//! op is kept as before. sled's cost is per key — each key is a fragment in
//! its log and an entry in its page table, and a leaf holds at most 16 — so a
//! store made of commits of several ops a person has a fifth of the keys
//! (docs/store-format.md, docs/architecture.md "Fewer keys").

use super::{Damaged, EncryptedStore, OpKey, T_OPS, record_name};
use crate::domain::{Op, PersonId};
use std::collections::HashMap;

/// A key of the `ops` tree: an op's own, or that of ops kept together.
pub(crate) type OpsKey = smallvec::SmallVec<[u8; TOGETHER_KEY_LEN]>;

const TOGETHER_KEY_LEN: usize = 36;

/// A count as keys hold it: u32, big-endian (a count past it, never made,
/// is held as its largest).
pub(crate) fn count_bytes(count: usize) -> [u8; 4] {
    u32::try_from(count).unwrap_or(u32::MAX).to_be_bytes()
}

/// The count held in `bytes[at..at + 4]` (the caller has checked the length).
fn count_at(bytes: &[u8], at: usize) -> usize {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
}

/// How many ops the value under `key` holds, read from the key: one under
/// an op's own key, the count under a key of ops kept together; `None` for
/// a key of neither length (or a count of fewer than two).
pub(crate) fn ops_under(key: &[u8]) -> Option<usize> {
    match key.len() {
        32 => Some(1),
        TOGETHER_KEY_LEN => Some(count_at(key, 32)).filter(|count| *count >= 2),
        _ => None,
    }
}

/// The key of `count` ops of one person kept together, the first's key
/// given; one op keeps its own key.
fn key_of(first: &OpKey, count: usize) -> OpsKey {
    let mut key = OpsKey::from_slice(first);
    if count != 1 {
        key.extend_from_slice(&count_bytes(count));
    }
    key
}

/// What an outbox entry of a format-3 store lists for a value of the `ops`
/// tree: its key's first 32 bytes and how many ops it holds (36 bytes,
/// whatever the count), so that entries of mixed values stay one length each.
pub(crate) const LISTED_LEN: usize = TOGETHER_KEY_LEN;

pub(crate) fn listed(key: &[u8], count: usize) -> [u8; LISTED_LEN] {
    let mut item = [0u8; LISTED_LEN];
    item[..32].copy_from_slice(&key[..32]);
    item[32..].copy_from_slice(&count_bytes(count));
    item
}

/// The `ops` key an outbox item names, and how many ops it stands for.
pub(crate) fn named_by(item: &[u8]) -> (&[u8], usize) {
    let count = count_at(item, 32);
    if count == 1 {
        (&item[..32], 1)
    } else {
        (item, count)
    }
}

/// The people whose ops kept together have been read in this commit, with
/// the keys of every op those values hold: whether an op arriving again is
/// held is then one look, however many of theirs arrive.
pub(crate) type HeldTogether = HashMap<PersonId, Vec<OpKey>, foldhash::fast::RandomState>;

/// A commit's new ops, gathered by person in the order each first appears:
/// in a store of format 3, one value a person.
pub(crate) fn gathered<'o>(ops: &[&'o Op]) -> Vec<Vec<&'o Op>> {
    let mut at: HashMap<PersonId, usize, foldhash::fast::RandomState> = HashMap::default();
    let mut groups: Vec<Vec<&Op>> = Vec::new();
    for op in ops {
        let i = *at.entry(op.person).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[i].push(op);
    }
    groups
}

impl EncryptedStore {
    /// The ops one value of the `ops` tree holds, or what is wrong with it.
    pub(crate) fn unseal_ops(&self, key: &[u8], sealed: &[u8]) -> Result<Vec<Op>, Damaged> {
        match ops_under(key) {
            Some(1) => Ok(vec![self.unseal(T_OPS, key, sealed)?]),
            Some(count) => {
                let ops: Vec<Op> = self.unseal(T_OPS, key, sealed)?;
                if ops.len() == count {
                    Ok(ops)
                } else {
                    Err(ops_damaged(
                        key,
                        "does not hold as many ops as its key says",
                    ))
                }
            }
            None => Err(ops_damaged(
                key,
                "key is neither an op's nor ops' kept together",
            )),
        }
    }

    /// The key and sealed value of ops of one person from one commit: one
    /// op under its own key, more (format 3 only) together.
    pub(crate) fn seal_ops(&self, ops: &[&Op]) -> super::Result<(OpsKey, Vec<u8>)> {
        let first = self.op_key(ops[0]);
        let key = key_of(&first, ops.len());
        let sealed = match ops {
            [one] => self.seal(T_OPS, &key, one)?,
            more => self.seal(T_OPS, &key, &more)?,
        };
        Ok((key, sealed))
    }

    /// Whether sled holds `op` (its key `key`): under its own key, or, in a
    /// store of format 3, kept together with others of its person's.
    pub(crate) fn holds_op(
        &self,
        op: &Op,
        key: &OpKey,
        together: &mut HeldTogether,
    ) -> super::Result<bool> {
        if self.ops.contains_key(key)? {
            return Ok(true);
        }
        if !self.header.ops_kept_together() {
            return Ok(false);
        }
        let held = match together.entry(op.person) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(self.keys_kept_together(op.person)?)
            }
        };
        Ok(held.contains(key))
    }

    /// The keys of every op of `person` kept together with others.
    fn keys_kept_together(&self, person: PersonId) -> super::Result<Vec<OpKey>> {
        let mut keys = Vec::new();
        for item in self.ops.scan_prefix(person.as_bytes()) {
            let (k, v) = item?;
            if k.len() == TOGETHER_KEY_LEN {
                let ops = self.unseal_ops(&k, &v).map_err(Damaged::into_error)?;
                keys.extend(ops.iter().map(|op| self.op_key(op)));
            }
        }
        Ok(keys)
    }

    /// A person's ops as sled holds them, in the order of their keys.
    pub(crate) fn applied_ops(&self, id: PersonId) -> super::Result<Vec<Op>> {
        let mut ops = Vec::new();
        for item in self.ops.scan_prefix(id.as_bytes()) {
            let (k, v) = item?;
            ops.extend(self.unseal_ops(&k, &v).map_err(Damaged::into_error)?);
        }
        Ok(ops)
    }
}

fn ops_damaged(key: &[u8], reason: &str) -> Damaged {
    Damaged {
        tree: T_OPS,
        record: record_name(T_OPS, key),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ops_key_tells_how_many_ops_it_holds() {
        let first = [7u8; 32];
        assert_eq!(key_of(&first, 1).as_slice(), &first[..]);
        assert_eq!(ops_under(&key_of(&first, 1)), Some(1));
        assert_eq!(ops_under(&key_of(&first, 5)), Some(5));
        // A count under two, or a key of another length, is no key of ops.
        assert_eq!(ops_under(&listed(&first, 1)), None);
        assert_eq!(ops_under(&[7u8; 33]), None);
        assert_eq!(ops_under(&[]), None);
    }

    #[test]
    fn an_outbox_item_names_the_key_it_was_made_from() {
        let first = [9u8; 32];
        for count in [1, 2, 40] {
            let key = key_of(&first, count);
            let item = listed(&key, count);
            assert_eq!(named_by(&item), (key.as_slice(), count));
        }
    }
}
