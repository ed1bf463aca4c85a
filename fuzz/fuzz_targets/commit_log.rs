//! The commit log as found on disk: any bytes give the records of one cycle,
//! numbered one after another, each wholly inside the bytes; never a panic.
#![no_main]
use caseload::store::commit_log::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let records = parse(data);
    let total: usize = records.iter().map(|r| 32 + r.sealed.len()).sum();
    assert!(total <= data.len());
    assert!(records.windows(2).all(|w| w[0].cycle == w[1].cycle && w[0].number + 1 == w[1].number));
});
