//! Decoding a stored summary (postcard), as unlocking and the hub's admin
//! socket do: never a panic, and what decodes is held in one form, so that
//! writing it again and reading that back gives the same summary (the
//! activity now kept apart only where it is not the last change's).
#![no_main]
use caseload::domain::CaseSummary;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(summary) = postcard::from_bytes::<CaseSummary>(data) {
        let again = postcard::to_allocvec(&summary).expect("a decoded summary encodes");
        let back: CaseSummary = postcard::from_bytes(&again).expect("its own bytes decode");
        assert_eq!(back, summary);
        assert_eq!(back.activity.current(), summary.activity.current());
    }
});
