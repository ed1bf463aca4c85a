//! The hub's ops, in its order. A push's ops about one young person are
//! stored together as one record (an *arrival*), numbered one after another:
//! sled's cost is per key (about 5 µs in a transaction, docs/benchmarks.md),
//! and a push is mostly several ops about each of a few people — a 20-op push
//! of the ingest bench touches 5, a tracker's 1,000 contacts 100.
//!
//! | `ops` key                             | value                                  |
//! |---------------------------------------|----------------------------------------|
//! | first sequence number ‖ count (u32)   | sealed [`Arrival`]: numbered first..   |
//! | sequence number (8 bytes, written before arrivals) | sealed `Received`, one op |
//!
//! Keys order by their first sequence number either way (big-endian, and an
//! 8-byte key sorts before the 12-byte keys it prefixes), so a range of keys is
//! a range of numbers. `by_person` names each arrival by its first number,
//! with its count as the value (empty for a single op written before).
//!
//! A pull may stop and resume inside an arrival: reading starts at the record
//! that holds the first number asked for, whatever the number.

use super::{HubData, OwnPushes, Received, Seqs};
use crate::domain::{Op, PersonId};
use crate::store::{Result, StoreError};
use serde::{Deserialize, Serialize};

/// Where an op record sits in the hub's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Place {
    /// One op, as written before arrivals.
    One(u64),
    /// `count` ops numbered from `first`.
    Arrival { first: u64, count: u32 },
}

impl Place {
    pub(super) fn of_key(key: &[u8]) -> Result<Place> {
        let bad = || StoreError::Database("bad sequence key".into());
        let first = u64::from_be_bytes(
            key.get(..8)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?,
        );
        match key.len() {
            8 => Ok(Place::One(first)),
            12 => {
                let count = u32::from_be_bytes(key[8..].try_into().map_err(|_| bad())?);
                if count == 0 {
                    return Err(bad());
                }
                Ok(Place::Arrival { first, count })
            }
            _ => Err(bad()),
        }
    }

    /// As named by a `by_person` entry: its first number and its value.
    pub(super) fn of_index(first: u64, value: &[u8]) -> Result<Place> {
        match value {
            [] => Ok(Place::One(first)),
            v => {
                let count = u32::from_be_bytes(
                    v.try_into()
                        .map_err(|_| StoreError::Database("bad person index".into()))?,
                );
                Ok(Place::Arrival { first, count })
            }
        }
    }

    pub(super) fn key(self) -> Vec<u8> {
        match self {
            Place::One(seq) => seq.to_be_bytes().to_vec(),
            Place::Arrival { first, count } => arrival_key(first, count).to_vec(),
        }
    }

    pub(super) fn first(self) -> u64 {
        match self {
            Place::One(seq) | Place::Arrival { first: seq, .. } => seq,
        }
    }

    pub(super) fn last(self) -> u64 {
        match self {
            Place::One(seq) => seq,
            Place::Arrival { first, count } => first.saturating_add(u64::from(count) - 1),
        }
    }
}

pub(super) fn arrival_key(first: u64, count: u32) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&first.to_be_bytes());
    key[8..].copy_from_slice(&count.to_be_bytes());
    key
}

/// One push's ops about one young person, as stored.
#[derive(Deserialize)]
struct Arrival {
    pushed_by: String,
    received_millis: u64,
    ops: Vec<Op>,
}

/// [`Arrival`] as written, borrowing the push's ops (the same bytes).
#[derive(Serialize)]
pub(super) struct ArrivalRef<'a> {
    pub pushed_by: &'a str,
    pub received_millis: u64,
    pub ops: Vec<&'a Op>,
}

impl HubData {
    /// The ops of one record, each with its number.
    fn read_place(&self, place: Place, key: &[u8], sealed: &[u8]) -> Result<Vec<Received>> {
        match place {
            Place::One(_) => Ok(vec![self.unseal("ops", key, sealed)?]),
            Place::Arrival { first, count } => {
                let a: Arrival = self.unseal("ops", key, sealed)?;
                if a.ops.len() != count as usize {
                    return Err(StoreError::Damaged {
                        tree: "ops",
                        record: format!("{first}"),
                        reason: "its count does not match its key".into(),
                    });
                }
                Ok((first..)
                    .zip(a.ops)
                    .map(|(seq, op)| Received {
                        seq,
                        op,
                        pushed_by: a.pushed_by.clone(),
                        received_millis: a.received_millis,
                    })
                    .collect())
            }
        }
    }

    /// The ops numbered after `after`, oldest first, at most `limit`; those
    /// `own` names come as their number alone, unread (an arrival is read
    /// only when some op of it is wanted).
    pub(super) fn since_except(&self, after: u64, limit: usize, own: OwnPushes) -> Seqs {
        let next = after.saturating_add(1);
        let mut out = Vec::with_capacity(limit.min(4096));
        for item in self.ops.range(self.start_key(next)?..) {
            if out.len() >= limit {
                break;
            }
            let (k, v) = item?;
            let place = Place::of_key(&k)?;
            let wanted = place.first().max(next)..=place.last();
            let its_own: Vec<bool> = if place.first() > own.through {
                // Past what the device holds of its own (always, for `since`).
                vec![false; wanted.clone().count()]
            } else {
                // Only while asking: the writer notes under the same lock.
                let by = self.pushed_by.read().unwrap_or_else(|p| p.into_inner());
                wanted
                    .clone()
                    .map(|seq| seq <= own.through && by.device_of(seq) == Some(own.device))
                    .collect()
            };
            let skip = (wanted.start() - place.first()) as usize;
            let mut ops = if its_own.iter().all(|own| *own) {
                None
            } else {
                Some(self.read_place(place, &k, &v)?.into_iter().skip(skip))
            };
            for (seq, own) in wanted.zip(its_own) {
                if out.len() >= limit {
                    break;
                }
                let r = ops.as_mut().and_then(Iterator::next);
                out.push((seq, if own { None } else { r }));
            }
        }
        Ok(out)
    }

    /// The key to read from for the ops numbered `next` on: the record that
    /// holds `next`, if one begins before it.
    fn start_key(&self, next: u64) -> Result<Vec<u8>> {
        if let Some(item) = self.ops.range(..=arrival_key(next, u32::MAX)).next_back() {
            let (k, _) = item?;
            if Place::of_key(&k)?.last() >= next {
                return Ok(k.to_vec());
            }
        }
        Ok(next.to_be_bytes().to_vec())
    }

    /// Every op about one young person, oldest first.
    pub(super) fn history(&self, person: PersonId) -> Result<Vec<Received>> {
        let mut out = Vec::new();
        for item in self.by_person.scan_prefix(person.as_bytes()) {
            let (k, v) = item?;
            let first = u64::from_be_bytes(
                k.get(16..24)
                    .and_then(|s| s.try_into().ok())
                    .ok_or_else(|| StoreError::Database("bad person index".into()))?,
            );
            let place = Place::of_index(first, &v)?;
            let key = place.key();
            if let Some(sealed) = self.ops.get(&key)? {
                out.extend(
                    self.read_place(place, &key, &sealed)?
                        .into_iter()
                        .filter(|r| r.op.person == person),
                );
            }
        }
        Ok(out)
    }
}

/// The highest sequence number applied to the database (perhaps not yet on disk).
pub(super) fn written_seq(ops: &sled::Tree) -> Result<u64> {
    Ok(match ops.last()? {
        Some((k, _)) => Place::of_key(&k)?.last(),
        None => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{HubStore, SledHubStore};
    use super::*;
    use crate::domain::DeviceId;

    /// Three young people's first ops (a registration and more), interleaved.
    fn interleaved(seed: u64) -> Vec<Op> {
        let people: Vec<Vec<Op>> = crate::demo::DemoCohort::new(crate::demo::DemoSpec {
            people: 3,
            seed,
            today: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
        })
        .map(|ops| ops.into_iter().take(3).collect())
        .collect();
        (0..3)
            .flat_map(|i| people.iter().filter_map(move |p| p.get(i).cloned()))
            .collect()
    }

    #[test]
    fn a_push_is_stored_as_one_arrival_a_person_and_read_back_in_any_slice() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let hub = SledHubStore::open(tmp.path(), None).expect("open");
        let ops = interleaved(4);
        let people: std::collections::BTreeSet<PersonId> = ops.iter().map(|o| o.person).collect();
        let seqs = hub.append(&ops, "j.smith", 9).expect("append");
        let data = &hub.current.data;
        assert_eq!(data.ops.len(), people.len(), "one record a person");
        assert_eq!(data.by_person.len(), people.len());
        assert_eq!(data.op_ids.len(), ops.len());
        // Each op told its own number; the numbers run on with no gap.
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (1..=ops.len() as u64).collect::<Vec<_>>());
        let all = hub.since(0, 100).expect("since");
        for (op, seq) in ops.iter().zip(&seqs) {
            let r = &all[*seq as usize - 1];
            assert_eq!((&r.op, r.seq, r.pushed_by.as_str()), (op, *seq, "j.smith"));
        }
        // Any starting point and any limit: a pull may stop inside an arrival.
        for after in 0..=ops.len() as u64 {
            for limit in 1..=ops.len() {
                let got: Vec<u64> = hub
                    .since(after, limit)
                    .expect("since")
                    .iter()
                    .map(|r| r.seq)
                    .collect();
                let want: Vec<u64> = (after + 1..=ops.len() as u64).take(limit).collect();
                assert_eq!(got, want, "after {after}, limit {limit}");
            }
        }
        for person in people {
            let mine: Vec<&Op> = ops.iter().filter(|o| o.person == person).collect();
            let history = hub.history(person).expect("history");
            assert_eq!(history.iter().map(|r| &r.op).collect::<Vec<_>>(), mine);
        }
        // The same push again changes nothing and is told the same numbers.
        assert_eq!(hub.append(&ops, "j.smith", 10).expect("again"), seqs);
        assert_eq!(hub.last_seq().expect("last"), ops.len() as u64);
    }

    #[test]
    fn ops_stored_one_a_record_before_arrivals_are_read_among_them() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let hub = SledHubStore::open(tmp.path(), None).expect("open");
        let ops = interleaved(5);
        let (old, new) = ops.split_at(4);
        let data = &hub.current.data;
        // As the hub wrote ops before arrivals: one key each, empty index values.
        for (seq, op) in (1u64..).zip(old) {
            let k = seq.to_be_bytes();
            let r = Received {
                seq,
                op: op.clone(),
                pushed_by: "before".into(),
                received_millis: 1,
            };
            data.ops
                .insert(k, data.seal("ops", &k, &r).expect("seal"))
                .expect("insert");
            data.op_ids
                .insert(data.hashed(op.id.as_bytes()), &k[..])
                .expect("index");
            let mut pk = op.person.as_bytes().to_vec();
            pk.extend_from_slice(&k);
            data.by_person.insert(pk, &[][..]).expect("index");
        }
        drop(hub);
        let hub = SledHubStore::open(tmp.path(), None).expect("reopen");
        assert_eq!(hub.last_seq().expect("last"), 4);
        assert_eq!(hub.append(old, "again", 2).expect("held"), vec![1, 2, 3, 4]);
        let seqs = hub.append(new, "j.smith", 3).expect("append");
        assert!(seqs.iter().all(|s| (5..=ops.len() as u64).contains(s)));
        let all = hub.since(0, 100).expect("since");
        assert_eq!(
            all.iter().map(|r| r.seq).collect::<Vec<_>>(),
            (1..=ops.len() as u64).collect::<Vec<_>>()
        );
        assert_eq!(all[0].pushed_by, "before");
        assert_eq!(
            hub.since(3, 2)
                .expect("since")
                .iter()
                .map(|r| r.seq)
                .collect::<Vec<_>>(),
            [4, 5]
        );
        let person = ops[0].person;
        let history: Vec<Op> = hub
            .history(person)
            .expect("history")
            .into_iter()
            .map(|r| r.op)
            .collect();
        let want: Vec<Op> = ops.iter().filter(|o| o.person == person).cloned().collect();
        assert_eq!(history.len(), want.len());
        assert!(want.iter().all(|o| history.contains(o)));
    }

    #[test]
    fn a_device_is_not_sent_its_own_arrival_but_is_sent_the_rest() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let hub = SledHubStore::open(tmp.path(), None).expect("open");
        let mine = DeviceId::random();
        let mut ops = interleaved(6);
        for op in &mut ops[..4] {
            op.device = mine;
        }
        // Two pushes: the device's own, then someone else's.
        hub.append(&ops[..4], "j.smith", 1).expect("own");
        hub.append(&ops[4..], "a.khan", 2).expect("other");
        let own = OwnPushes {
            device: mine,
            through: 4,
        };
        let got = hub.current.data.since_except(0, 100, own).expect("since");
        assert_eq!(got.len(), ops.len());
        assert!(got[..4].iter().all(|(_, r)| r.is_none()), "its own, unread");
        assert!(got[4..].iter().all(|(_, r)| r.is_some()));
        // Own only up to what the device has shown it holds.
        let own = OwnPushes {
            device: mine,
            through: 2,
        };
        let got = hub.current.data.since_except(1, 100, own).expect("since");
        assert_eq!(
            got.iter()
                .map(|(s, r)| (*s, r.is_some()))
                .take(3)
                .collect::<Vec<_>>(),
            [(2, false), (3, true), (4, true)]
        );
    }

    #[test]
    fn places_read_back_from_their_keys_and_order_by_number() {
        for place in [
            Place::One(7),
            Place::Arrival { first: 8, count: 1 },
            Place::Arrival {
                first: u64::MAX - 3,
                count: 4,
            },
        ] {
            assert_eq!(Place::of_key(&place.key()).expect("key"), place);
        }
        assert_eq!(Place::Arrival { first: 8, count: 3 }.last(), 10);
        // An old single op sorts among arrivals by its number.
        let mut keys = [
            arrival_key(9, 2).to_vec(),
            7u64.to_be_bytes().to_vec(),
            arrival_key(5, 2).to_vec(),
            8u64.to_be_bytes().to_vec(),
        ];
        keys.sort();
        let firsts: Vec<u64> = keys
            .iter()
            .map(|k| Place::of_key(k).expect("key").first())
            .collect();
        assert_eq!(firsts, [5, 7, 8, 9]);
        assert!(Place::of_key(&arrival_key(3, 0)).is_err());
        assert!(Place::of_key(&[0; 9]).is_err());
        assert!(Place::of_index(3, &[0; 3]).is_err());
    }
}
