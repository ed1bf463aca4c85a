//! A frame on the hub's admin socket: a call or a refusal, never a panic or
//! an allocation past the frame limit.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = caseload::hub::admin::check_call_frame(data);
});
