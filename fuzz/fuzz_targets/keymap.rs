//! A keymap file: any text is a keymap or a list of problems.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = caseload::tui::keymap::Keymap::parse(text, "fuzz.toml");
    }
});
