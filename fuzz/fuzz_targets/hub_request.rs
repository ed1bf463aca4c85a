//! The hub's request bodies — login, push, pull — decoded with each
//! endpoint's limits, and every pushed op validated as the hub does.
#![no_main]
use caseload::sync::protocol::{
    self, LoginRequest, MAX_PUSH_INFLATED, MAX_SMALL_BODY, PullRequest, PushRequest,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = protocol::decode_limited::<LoginRequest>(data, MAX_SMALL_BODY as u64);
    let _ = protocol::decode_limited::<PullRequest>(data, MAX_SMALL_BODY as u64);
    if let Ok(push) = protocol::decode_limited::<PushRequest>(data, MAX_PUSH_INFLATED) {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        for op in &push.ops {
            let _ = op.payload.validate(None, today);
        }
    }
});
