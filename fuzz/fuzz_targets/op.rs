//! Decoding an op as a device or the hub does (postcard), then validating it
//! and folding it: never a panic, whatever the bytes.
#![no_main]
use caseload::domain::{Op, PersonState};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(op) = postcard::from_bytes::<Op>(data) {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let _ = op.payload.validate(None, today);
        let state = PersonState::fold(op.person, std::slice::from_ref(&op));
        let _ = caseload::domain::CaseSummary::of(&state);
    }
});
