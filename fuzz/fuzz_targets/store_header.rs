//! The store's header file as found on disk (a restored backup, a copy from
//! elsewhere): any bytes are a header or a named error, never a panic; a
//! header read gives back exactly its bytes, in a format this build reads.
#![no_main]
use caseload::store::header::{FORMAT_VERSION, Header, OLDEST_FORMAT_VERSION};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = Header::from_bytes(data) {
        assert_eq!(header.to_bytes(), data);
        assert!((OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&header.version));
    }
});
