//! Dates as caseworkers type them: 12/01/2027, 2027-01-12, today, tomorrow,
//! +3d, +2w, +1m, or a weekday (the next one after today). Shown UK style.

use super::error::DomainError;
use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

pub fn parse_date(input: &str, today: NaiveDate) -> Result<NaiveDate, DomainError> {
    let s = input.trim().to_lowercase();
    let bad = || DomainError::BadDate(input.trim().to_string());
    match s.as_str() {
        "today" | "t" => return Ok(today),
        "tomorrow" | "tom" => return today.succ_opt().ok_or_else(bad),
        "yesterday" => return today.pred_opt().ok_or_else(bad),
        _ => {}
    }
    if let Some(rest) = s.strip_prefix('+') {
        let (num, unit) = rest.split_at(
            rest.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len()),
        );
        let n: u32 = num.parse().map_err(|_| bad())?;
        return match unit {
            "" | "d" => today.checked_add_days(Days::new(n.into())),
            "w" => today.checked_add_days(Days::new(u64::from(n) * 7)),
            "m" => today.checked_add_months(Months::new(n)),
            _ => None,
        }
        .ok_or_else(bad);
    }
    let weekdays = [
        ("mon", Weekday::Mon),
        ("tue", Weekday::Tue),
        ("wed", Weekday::Wed),
        ("thu", Weekday::Thu),
        ("fri", Weekday::Fri),
        ("sat", Weekday::Sat),
        ("sun", Weekday::Sun),
    ];
    if s.len() >= 3
        && let Some((_, wd)) = weekdays.iter().find(|(name, _)| s.starts_with(name))
    {
        let ahead = (7 + wd.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
        let ahead = if ahead == 0 { 7 } else { ahead };
        return today
            .checked_add_days(Days::new(ahead.into()))
            .ok_or_else(bad);
    }
    for fmt in ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(&s, fmt) {
            return Ok(d);
        }
    }
    Err(bad())
}

/// UK style: 12/01/2027.
pub fn uk(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// A stamp (milliseconds since the epoch) as local date and time: the zone
/// "today" is read in, so a change made at 00:30 in British Summer Time falls
/// on that day, not the one before.
pub fn local_time(millis: u64) -> chrono::NaiveDateTime {
    let utc = chrono::DateTime::from_timestamp_millis(millis.min(i64::MAX as u64) as i64)
        .unwrap_or_default();
    utc.with_timezone(&chrono::Local).naive_local()
}

/// The local day of a stamp (see [`local_time`]).
pub fn local_day(millis: u64) -> NaiveDate {
    local_time(millis).date()
}

/// A stamp on `day`: its local noon (clear of any clock change), for dating
/// things by the day they took effect.
pub fn local_noon_millis(day: NaiveDate) -> u64 {
    use chrono::TimeZone;
    let noon = day.and_hms_opt(12, 0, 0).unwrap_or_default();
    chrono::Local
        .from_local_datetime(&noon)
        .earliest()
        .map_or(0, |t| t.timestamp_millis().max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn typed_dates() {
        let today = d(2026, 11, 23); // a Monday
        assert_eq!(parse_date("12/01/2027", today), Ok(d(2027, 1, 12)));
        assert_eq!(parse_date("2027-01-12", today), Ok(d(2027, 1, 12)));
        assert_eq!(parse_date("tomorrow", today), Ok(d(2026, 11, 24)));
        assert_eq!(parse_date("+2w", today), Ok(d(2026, 12, 7)));
        assert_eq!(parse_date("+3", today), Ok(d(2026, 11, 26)));
        assert_eq!(parse_date("+1m", today), Ok(d(2026, 12, 23)));
        assert_eq!(parse_date("mon", today), Ok(d(2026, 11, 30)));
        assert_eq!(parse_date("Friday", today), Ok(d(2026, 11, 27)));
        assert!(parse_date("31/02/2027", today).is_err());
        assert!(parse_date("soon", today).is_err());
        assert!(parse_date("+2y", today).is_err());
        assert_eq!(uk(d(2027, 1, 2)), "02/01/2027");
    }
}
