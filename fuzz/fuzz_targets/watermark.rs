//! The watermark file as found on disk: any bytes are taken apart into a
//! whole value or slots, never a panic, and a slot never reaches past its block.
#![no_main]
use caseload::store::watermark::{Saved, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse(data.to_vec()) {
        Saved::Whole(bytes) => assert_eq!(bytes, data),
        Saved::Slots(slots) => {
            assert!(slots.len() <= 2);
            assert!(slots.windows(2).all(|w| w[0].0 >= w[1].0));
            assert!(slots.iter().all(|(_, sealed)| sealed.len() <= 4096));
        }
    }
});
