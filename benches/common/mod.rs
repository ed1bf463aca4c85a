//! Shared by the benchmarks: a demo store of `people` young people.
// Each benchmark compiles this module on its own and uses only some of it.
#![allow(dead_code)]

use caseload::demo::{DemoCohort, DemoSpec};
use caseload::domain::WorkerId;
use caseload::replica::Replica;
use caseload::store::Origin;
use caseload::store::crypto::KdfParams;
use chrono::NaiveDate;
use std::path::Path;

pub const PASS: &[u8] = b"benchmark passphrase";

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid date")
}

pub fn people() -> usize {
    std::env::var("CASELOAD_BENCH_PEOPLE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(52_500)
}

/// Builds the store at `dir` in batches, as `caseload demo` does.
pub fn build_store(dir: &Path, people: usize) -> Replica {
    let mut replica =
        Replica::init(dir, PASS, WorkerId::new("demo.officer"), KdfParams::DEFAULT).expect("init");
    let mut batch = Vec::new();
    for (i, ops) in DemoCohort::new(DemoSpec {
        people,
        seed: 7,
        today: today(),
    })
    .enumerate()
    {
        batch.extend(ops);
        if i % 500 == 499 {
            replica.commit(&batch, Origin::Remote).expect("commit");
            batch.clear();
        }
    }
    replica.commit(&batch, Origin::Remote).expect("commit");
    replica
}

/// Bytes this process has handed to the kernel to write so far, its threads
/// included (`wchar` of /proc/self/io).
pub fn bytes_written() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").expect("/proc/self/io");
    io.lines()
        .find_map(|l| l.strip_prefix("wchar: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("wchar")
}
