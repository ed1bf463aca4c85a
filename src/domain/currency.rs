//! Currency: how long a recorded activity is trusted after it was last confirmed.
//! An expired activity counts as Not Known in every figure and must be followed up.
//! Also the two clocks of the job: the 6-week NEET-to-EET target and the
//! 3-monthly follow-up.

use super::academic;
use super::activity::CurrentActivity;
use super::codes::{StatusGroup, SubGroup};
use chrono::{Days, Months, NaiveDate};
use serde::Deserialize;

/// Rules from the `[currency]` table of the config file (docs/configuration.md).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CurrencyConfig {
    /// Employment stays current this many months after confirmation.
    pub employment_months: u32,
    /// NEET stays current this many months after confirmation.
    pub neet_months: u32,
    /// Other (custody, asylum) stays current this many months.
    pub other_months: u32,
    /// Engage a NEET young person in EET within this many days.
    pub neet_target_days: u32,
    /// Check each young person's status at least this often (months).
    pub follow_up_months: u32,
}

impl Default for CurrencyConfig {
    fn default() -> Self {
        Self {
            employment_months: 6,
            neet_months: 3,
            other_months: 3,
            neet_target_days: 42,
            follow_up_months: 3,
        }
    }
}

impl CurrencyConfig {
    /// The last day the activity is current, or `None` if it never is (Not Known).
    /// Education and training (and pre-16 registration) last until the expected
    /// end date, or else the end of the academic year in which they were confirmed.
    pub fn current_until(&self, a: &CurrentActivity) -> Option<NaiveDate> {
        let months = |n: u32| a.confirmed.checked_add_months(Months::new(n));
        match a.code.sub_group() {
            SubGroup::Education | SubGroup::Training | SubGroup::ReEngagement | SubGroup::Pre16 => {
                Some(
                    a.expected_end
                        .unwrap_or_else(|| academic::academic_year_end(a.confirmed)),
                )
            }
            // Apprenticeships and employment with study are employment codes with a
            // course end: trust the end date where there is one.
            SubGroup::Employment => match a.expected_end {
                Some(end) if a.code.meets_duty() => Some(end),
                _ => months(self.employment_months),
            },
            SubGroup::NeetAvailable | SubGroup::NeetNotAvailable | SubGroup::NeetVolunteering => {
                months(self.neet_months)
            }
            SubGroup::Other => months(self.other_months),
            SubGroup::NotKnown => None,
        }
    }

    pub fn is_current(&self, a: &CurrentActivity, on: NaiveDate) -> bool {
        self.current_until(a).is_some_and(|until| on <= until)
    }

    /// The status group a report counts: Not Known when currency has expired.
    pub fn effective_group(&self, a: Option<&CurrentActivity>, on: NaiveDate) -> StatusGroup {
        match a {
            Some(a) if self.is_current(a, on) => a.code.group(),
            _ => StatusGroup::NotKnown,
        }
    }

    /// The date by which a NEET young person should be in EET.
    pub fn neet_target(&self, a: &CurrentActivity) -> Option<NaiveDate> {
        (a.code.group() == StatusGroup::Neet)
            .then(|| a.start + Days::new(u64::from(self.neet_target_days)))
    }

    /// When the next three-monthly check is due, from the last confirmation or contact.
    pub fn follow_up_due(&self, last_checked: NaiveDate) -> NaiveDate {
        last_checked
            .checked_add_months(Months::new(self.follow_up_months))
            .unwrap_or(last_checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::activity::ActivitySource;
    use crate::domain::codes::ActivityCode;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn act(code: u16, confirmed: NaiveDate, end: Option<NaiveDate>) -> CurrentActivity {
        CurrentActivity {
            code: ActivityCode::new(code).unwrap(),
            start: confirmed,
            confirmed,
            source: ActivitySource::YoungPerson,
            expected_end: end,
            provider: None,
        }
    }

    #[test]
    fn default_rules() {
        let c = CurrencyConfig::default();
        // Education: to the end of the academic year, or the course end.
        assert_eq!(
            c.current_until(&act(230, d(2026, 9, 10), None)),
            Some(d(2027, 8, 31))
        );
        assert_eq!(
            c.current_until(&act(230, d(2026, 9, 10), Some(d(2027, 6, 30)))),
            Some(d(2027, 6, 30))
        );
        // Employment: 6 months; an apprenticeship to its end date.
        assert_eq!(
            c.current_until(&act(330, d(2026, 1, 31), None)),
            Some(d(2026, 7, 31))
        );
        assert_eq!(
            c.current_until(&act(310, d(2026, 1, 31), Some(d(2027, 7, 31)))),
            Some(d(2027, 7, 31))
        );
        // NEET: 3 months. Not Known: never current.
        assert_eq!(
            c.current_until(&act(619, d(2026, 11, 30), None)),
            Some(d(2027, 2, 28))
        );
        assert_eq!(c.current_until(&act(810, d(2026, 11, 1), None)), None);
    }

    #[test]
    fn expired_activity_counts_as_not_known() {
        let c = CurrencyConfig::default();
        let neet = act(619, d(2026, 1, 1), None);
        assert_eq!(
            c.effective_group(Some(&neet), d(2026, 4, 1)),
            StatusGroup::Neet
        );
        assert_eq!(
            c.effective_group(Some(&neet), d(2026, 4, 2)),
            StatusGroup::NotKnown
        );
        assert_eq!(
            c.effective_group(None, d(2026, 4, 2)),
            StatusGroup::NotKnown
        );
    }

    #[test]
    fn six_week_neet_target() {
        let c = CurrencyConfig::default();
        assert_eq!(
            c.neet_target(&act(619, d(2026, 10, 1), None)),
            Some(d(2026, 11, 12))
        );
        assert_eq!(c.neet_target(&act(230, d(2026, 10, 1), None)), None);
    }
}
