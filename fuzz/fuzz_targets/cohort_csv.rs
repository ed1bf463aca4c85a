//! A council's cohort file: any bytes are checked row by row into rows or a
//! list of problems, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
    let _ = caseload::import::parse(data, today);
});
