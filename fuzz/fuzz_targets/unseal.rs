//! Opening a sealed value: any bytes, under a fixed key, must give the value
//! or an error — never a panic — and only bytes this key sealed may open.
#![no_main]
use caseload::store::crypto::{SecretKey, open, seal};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = SecretKey::from_bytes([7u8; 32]);
    if let Ok(plain) = open(&key, b"people/fuzz", data) {
        // Only a genuine seal opens; re-sealing and opening round-trips.
        let again = seal(&key, b"people/fuzz", &plain).expect("seal");
        assert_eq!(open(&key, b"people/fuzz", &again).expect("open").as_slice(), plain.as_slice());
    }
});
