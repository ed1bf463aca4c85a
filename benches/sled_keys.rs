//! What sled 0.34 costs a key, on this machine's filesystem: the measurement
//! behind "sled's cost is per key" (docs/architecture.md, "What the goals left
//! need"). 1,000 values of 150 B (about a sealed op) written into a tree that
//! holds 100,000 already: scattered across it (the hub's op-id index, a pull's
//! ops of many people), in one transaction and in one batch; appended in key
//! order (an import's new people); and the same 150 KB as one value. Medians
//! of 9 rounds; the database's flush apart.
//!
//! Run: `cargo bench --bench sled_keys`.

use sled::Transactional;
use std::time::{Duration, Instant};

const HELD: usize = 100_000;
const KEYS: usize = 1_000;
const VALUE: usize = 150;
const ROUNDS: u64 = 9;

type Key = [u8; 24];

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let db = sled::Config::new()
        .path(tmp.path().join("db"))
        .cache_capacity(16 << 20)
        .flush_every_ms(None)
        .open()
        .expect("open sled");
    let tree = db.open_tree("values").expect("tree");
    let other = db.open_tree("other").expect("tree");
    let value = vec![7u8; VALUE];
    for key in scattered(HELD, 1) {
        tree.insert(key, value.as_slice()).expect("insert");
    }
    db.flush().expect("flush");

    let (mut in_txn, mut in_batch, mut in_order, mut as_one) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let batch = batch_of(scattered(KEYS, 100 + round), &value);
        in_txn.push(timed(|| {
            (&tree, &other)
                .transaction(|(t, _)| {
                    t.apply_batch(&batch)?;
                    Ok::<_, sled::transaction::ConflictableTransactionError<()>>(())
                })
                .expect("transaction")
        }));
        let batch = batch_of(scattered(KEYS, 200 + round), &value);
        in_batch.push(timed(|| tree.apply_batch(batch).expect("batch")));
        let batch = batch_of(appended(round), &value);
        in_order.push(timed(|| tree.apply_batch(batch).expect("batch")));
        let whole = vec![7u8; KEYS * VALUE];
        let key = [0xfe, round as u8];
        as_one.push(timed(|| {
            tree.insert(key, whole).expect("insert");
        }));
        db.flush().expect("flush");
    }
    let one = median(&mut as_one);
    println!(
        "sled 0.34, {KEYS} values of {VALUE} B into a tree of {HELD} (medians of {ROUNDS} rounds)"
    );
    for (what, times) in [
        ("scattered, one transaction", &mut in_txn),
        ("scattered, one batch", &mut in_batch),
        ("appended in key order, one batch", &mut in_order),
    ] {
        let m = median(times);
        println!(
            "  {what}: {:.2} ms, {:.1} µs a key, {:.0}× the same bytes as one value",
            ms(m),
            m.as_secs_f64() * 1e6 / KEYS as f64,
            m.as_secs_f64() / one.as_secs_f64()
        );
    }
    println!(
        "  the same {} KB as one value: {:.3} ms",
        KEYS * VALUE / 1000,
        ms(one)
    );
}

/// Random keys: each lands on its own leaf.
fn scattered(n: usize, seed: u64) -> Vec<Key> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let mut k = [0u8; 24];
            rng.fill(&mut k[..]);
            // Below the ranges the other writes use.
            k[0] &= 0x7f;
            k
        })
        .collect()
}

/// Keys after every key held, one after another.
fn appended(round: u64) -> Vec<Key> {
    (0..KEYS as u64)
        .map(|i| {
            let mut k = [0xffu8; 24];
            k[16..].copy_from_slice(&(round * KEYS as u64 + i).to_be_bytes());
            k
        })
        .collect()
}

fn batch_of(keys: Vec<Key>, value: &[u8]) -> sled::Batch {
    let mut batch = sled::Batch::default();
    for k in keys {
        batch.insert(&k[..], value);
    }
    batch
}

fn timed(f: impl FnOnce()) -> Duration {
    let started = Instant::now();
    f();
    started.elapsed()
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
