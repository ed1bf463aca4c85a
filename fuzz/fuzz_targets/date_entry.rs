//! Date entry ("+2w", "mon", "31/02/2026"…): a date or a message, never a
//! panic, on any day of the calendar chrono knows.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let day = i32::from_le_bytes([data[0], data[1], data[2], data[3]]);
    let Some(today) = chrono::NaiveDate::from_num_days_from_ce_opt(day) else {
        return;
    };
    if let Ok(text) = std::str::from_utf8(&data[4..]) {
        let _ = caseload::domain::dates::parse_date(text, today);
    }
});
