//! The one source of "now" for the whole program.
//!
//! Every reading of the time — today's date, a contact's time, an op's hybrid
//! clock, "synced 14:02" — comes from a [`Clock`], so a pinned day moves every
//! reading together. A clock is the system clock shifted by a fixed offset: the
//! system clock itself (offset 0), or one that started at a chosen moment and has
//! run at the normal rate since. Tests and demos pin it with `CASELOAD_TODAY`;
//! nothing ever mixes a pinned date with the wall clock's own date or time of day.

use chrono::{Local, NaiveDate, NaiveDateTime, TimeZone};
use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable that pins the clock: `YYYY-MM-DD` (the clock starts
/// at noon local time that day) or `YYYY-MM-DDTHH:MM[:SS]`.
pub const PIN_VAR: &str = "CASELOAD_TODAY";

/// The hour a clock pinned to a bare date starts at: midday, so the pinned day
/// lasts for twelve hours of running time whatever the wall clock says.
const PINNED_START_HOUR: u32 = 12;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Clock {
    /// Milliseconds added to the system clock.
    offset_millis: i64,
}

impl Clock {
    /// The machine's own clock.
    pub fn system() -> Clock {
        Clock { offset_millis: 0 }
    }

    /// A clock that reads `start` (local time) now and runs on from there.
    pub fn starting_at(start: NaiveDateTime) -> Clock {
        let start_millis = local_to_millis(start);
        Clock {
            offset_millis: start_millis - system_millis(),
        }
    }

    /// A clock that reads midday of `day` now and runs on from there.
    pub fn on_day(day: NaiveDate) -> Clock {
        Clock::starting_at(day.and_hms_opt(PINNED_START_HOUR, 0, 0).unwrap_or_default())
    }

    /// The system clock, or the one `CASELOAD_TODAY` pins.
    pub fn from_env() -> Result<Clock, String> {
        match std::env::var(PIN_VAR) {
            Ok(s) => Clock::parse_pin(&s)
                .ok_or_else(|| format!("{PIN_VAR}={s:?} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM")),
            Err(_) => Ok(Clock::system()),
        }
    }

    fn parse_pin(s: &str) -> Option<Clock> {
        let s = s.trim();
        if let Ok(day) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Some(Clock::on_day(day));
        }
        ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .map(Clock::starting_at)
    }

    /// Milliseconds since the Unix epoch on this clock (0 before 1970).
    pub fn now_millis(&self) -> u64 {
        system_millis().saturating_add(self.offset_millis).max(0) as u64
    }

    /// Local date and time now.
    pub fn now(&self) -> NaiveDateTime {
        self.local(self.now_millis())
    }

    /// Today's local date.
    pub fn today(&self) -> NaiveDate {
        self.now().date()
    }

    /// A moment this clock stamped (milliseconds), in local time.
    pub fn local(&self, millis: u64) -> NaiveDateTime {
        // The same as `domain::dates::local_time`, which the clock may not use.
        let utc = chrono::DateTime::from_timestamp_millis(millis.min(i64::MAX as u64) as i64)
            .unwrap_or_default();
        utc.with_timezone(&Local).naive_local()
    }
}

fn system_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Local wall time to epoch milliseconds; a time skipped by a clock change is
/// read as the hour after it.
fn local_to_millis(at: NaiveDateTime) -> i64 {
    Local
        .from_local_datetime(&at)
        .earliest()
        .or_else(|| {
            Local
                .from_local_datetime(&(at + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.timestamp_millis())
        .unwrap_or_else(|| at.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pinned_day_starts_at_midday_and_runs_on() {
        let day = NaiveDate::from_ymd_opt(2028, 2, 29).unwrap();
        let c = Clock::on_day(day);
        assert_eq!(c.today(), day);
        let now = c.now();
        assert!(now >= day.and_hms_opt(12, 0, 0).unwrap());
        assert!(now < day.and_hms_opt(12, 1, 0).unwrap());
        let a = c.now_millis();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(c.now_millis() > a, "a pinned clock still runs");
    }

    #[test]
    fn every_reading_of_a_pinned_clock_agrees() {
        let c = Clock::parse_pin("2027-08-31T23:59:30").unwrap();
        assert_eq!(c.local(c.now_millis()).date(), c.today());
        assert_eq!(c.today(), NaiveDate::from_ymd_opt(2027, 8, 31).unwrap());
    }

    #[test]
    fn pins_are_checked() {
        assert!(Clock::parse_pin("2026-13-01").is_none());
        assert!(Clock::parse_pin("yesterday").is_none());
        assert!(Clock::parse_pin("2026-09-01T09:30").is_some());
    }

    #[test]
    fn the_system_clock_is_not_shifted() {
        let c = Clock::system();
        let diff = c.now_millis() as i64 - system_millis();
        assert!(diff.abs() < 1000);
    }
}
