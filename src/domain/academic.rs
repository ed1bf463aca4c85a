//! The English academic calendar: academic age is the age on 31 August at the start
//! of the academic year (1 September – 31 August).

use chrono::{Datelike, NaiveDate};

/// The 1 September that starts the academic year containing `date`.
pub fn academic_year_start(date: NaiveDate) -> NaiveDate {
    let year = if date.month() >= 9 {
        date.year()
    } else {
        date.year() - 1
    };
    NaiveDate::from_ymd_opt(year, 9, 1).unwrap_or(date)
}

/// The 31 August that ends the academic year containing `date`.
pub fn academic_year_end(date: NaiveDate) -> NaiveDate {
    let start = academic_year_start(date);
    NaiveDate::from_ymd_opt(start.year() + 1, 8, 31).unwrap_or(date)
}

/// Age in whole years on `on`.
pub fn age_on(date_of_birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - date_of_birth.year();
    if (on.month(), on.day()) < (date_of_birth.month(), date_of_birth.day()) {
        age -= 1;
    }
    age
}

/// Academic age: the age on the 31 August before the academic year containing `on`.
pub fn academic_age(date_of_birth: NaiveDate, on: NaiveDate) -> i32 {
    let start = academic_year_start(on);
    let aug31 = NaiveDate::from_ymd_opt(start.year(), 8, 31).unwrap_or(start);
    age_on(date_of_birth, aug31)
}

/// National curriculum year group: Year 12 is academic age 16. Returns values past
/// 14 for older young people (SEND to 25): Year 15 is academic age 19, and so on.
pub fn year_group(date_of_birth: NaiveDate, on: NaiveDate) -> i32 {
    academic_age(date_of_birth, on) - 4
}

/// The year group as shown ("Year 12"), up to Year 14. Past it (young people
/// with SEND, tracked to 25) there is no year group to speak of: their
/// academic age says it, shown as "age 23" (or "23y" in a list), never
/// "Year 19".
pub fn year_label(date_of_birth: NaiveDate, on: NaiveDate) -> Option<String> {
    let year = year_group(date_of_birth, on);
    (year <= 14).then(|| format!("Year {year}"))
}

/// Whether a young person is in the statutory tracking cohort on `on`: academic
/// years 12–14 (academic ages 16–18), or with an EHC plan up to `send_upper_age`
/// (inclusive, academic age; 24 in Kent's documents, 25 in the Code of Practice).
pub fn in_statutory_cohort(
    date_of_birth: NaiveDate,
    on: NaiveDate,
    has_ehc_plan: bool,
    send_upper_age: i32,
) -> bool {
    let age = academic_age(date_of_birth, on);
    (16..=18).contains(&age) || (has_ehc_plan && age >= 16 && age <= send_upper_age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_year_14_the_age_is_shown_not_a_year_group() {
        let on = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let dob = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert_eq!(
            year_label(dob(2009, 11, 30), on).as_deref(),
            Some("Year 12")
        );
        assert_eq!(year_label(dob(2007, 9, 1), on).as_deref(), Some("Year 14"));
        assert_eq!(year_label(dob(2003, 5, 1), on), None);
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn academic_age_is_age_on_31_august() {
        // Born 31 Aug 2010: 16 on 31 Aug 2026, so Year 12 in 2026/27.
        assert_eq!(academic_age(d(2010, 8, 31), d(2026, 11, 23)), 16);
        assert_eq!(year_group(d(2010, 8, 31), d(2026, 11, 23)), 12);
        // Born 1 Sep 2010: still 15 on 31 Aug 2026, so Year 11.
        assert_eq!(academic_age(d(2010, 9, 1), d(2026, 11, 23)), 15);
        assert_eq!(year_group(d(2010, 9, 1), d(2026, 11, 23)), 11);
        // In the summer term the previous 31 August still counts.
        assert_eq!(academic_age(d(2010, 8, 31), d(2027, 7, 1)), 16);
        assert_eq!(academic_age(d(2010, 8, 31), d(2027, 9, 1)), 17);
    }

    #[test]
    fn leap_day_birthdays() {
        assert_eq!(age_on(d(2008, 2, 29), d(2026, 2, 28)), 17);
        assert_eq!(age_on(d(2008, 2, 29), d(2026, 3, 1)), 18);
    }

    #[test]
    fn cohort_is_years_12_to_14_and_send_to_the_configured_age() {
        let on = d(2026, 11, 23);
        assert!(!in_statutory_cohort(d(2011, 1, 1), on, false, 24)); // Y11
        assert!(in_statutory_cohort(d(2010, 1, 1), on, false, 24)); // Y12
        assert!(in_statutory_cohort(d(2008, 1, 1), on, false, 24)); // Y14
        assert!(!in_statutory_cohort(d(2007, 1, 1), on, false, 24)); // 19
        assert!(in_statutory_cohort(d(2007, 1, 1), on, true, 24)); // SEND 19
        assert!(in_statutory_cohort(d(2002, 1, 1), on, true, 24)); // SEND 24
        assert!(!in_statutory_cohort(d(2001, 1, 1), on, true, 24)); // SEND 25
        assert!(in_statutory_cohort(d(2001, 1, 1), on, true, 25));
    }

    #[test]
    fn academic_year_bounds() {
        assert_eq!(academic_year_start(d(2027, 1, 31)), d(2026, 9, 1));
        assert_eq!(academic_year_end(d(2026, 9, 1)), d(2027, 8, 31));
    }
}
