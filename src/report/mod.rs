//! The statutory figures: cohort, EET, NEET, Not Known and participation, with
//! currency applied, overall and by district, area, year or vulnerable group.
//! Pure functions of summaries and a date, shared by the dashboard and
//! `caseload report`.
//!
//! "As of" a date means what was recorded by the end of that day: the latest
//! activity recorded by then, its currency judged on that day, characteristics in
//! force that day, and only people already known. Figures for past months are
//! computed from the op history this way, never stored.

use crate::domain::academic;
use crate::domain::codes::{ByLearning, StatusGroup};
use crate::domain::currency::CurrencyConfig;
use crate::domain::{CaseSummary, District};
use chrono::NaiveDate;

pub mod returns;
pub mod roni;

/// Counts for one population.
///
/// Percentages follow the DfE: taken over the cohort less young adult
/// offenders in custody (710); custody and refugees or asylum seekers not yet
/// able to participate (720) count as neither EET nor NEET (`other`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub cohort: usize,
    pub eet: usize,
    pub neet: usize,
    pub not_known: usize,
    pub other: usize,
    /// Meeting the duty to participate (ESA 2008 s.2).
    pub participating: usize,
    /// In custody (710): counted in the cohort, not in the denominator.
    pub custody: usize,
    /// In education and training as the DfE publishes it, by type.
    pub learning: ByLearning,
}

impl Figures {
    pub fn add(&mut self, s: &CaseSummary, on: NaiveDate, currency: &CurrencyConfig) {
        self.cohort += 1;
        let activity = s.activity_on(on);
        let group = currency.effective_group(activity, on);
        match group {
            StatusGroup::Eet => self.eet += 1,
            StatusGroup::Neet => self.neet += 1,
            StatusGroup::NotKnown => self.not_known += 1,
            StatusGroup::Other | StatusGroup::Pre16 => self.other += 1,
        }
        let code = activity.map(|a| a.code);
        if group == StatusGroup::Other && code.is_some_and(|c| c.is_custody()) {
            self.custody += 1;
        }
        if group == StatusGroup::Eet
            && let Some(code) = code
        {
            if code.meets_duty() {
                self.participating += 1;
            }
            if let Some(l) = code.learning() {
                self.learning.add(l);
            }
        }
    }

    /// What the DfE's percentages are taken over: the cohort less custody.
    pub fn denominator(&self) -> usize {
        self.cohort - self.custody
    }

    pub fn neet_or_not_known(&self) -> usize {
        self.neet + self.not_known
    }

    fn pct(&self, n: usize) -> f64 {
        percent(n as f64, self.denominator() as f64)
    }
    pub fn neet_pct(&self) -> f64 {
        self.pct(self.neet)
    }
    pub fn not_known_pct(&self) -> f64 {
        self.pct(self.not_known)
    }
    pub fn neet_or_not_known_pct(&self) -> f64 {
        self.pct(self.neet_or_not_known())
    }
    pub fn eet_pct(&self) -> f64 {
        self.pct(self.eet)
    }
    /// Meeting the duty to participate.
    pub fn participation_pct(&self) -> f64 {
        self.pct(self.participating)
    }
    /// In education and training (the DfE's published participation).
    pub fn learning_pct(&self) -> f64 {
        self.pct(self.learning.total())
    }
}

fn percent(n: f64, of: f64) -> f64 {
    if of == 0.0 { 0.0 } else { n * 100.0 / of }
}

/// The DfE's annual figure: the average of the December, January and February
/// month-ends, counts averaged and percentages taken of the averages.
#[derive(Clone, Debug, PartialEq)]
pub struct Average {
    pub month_ends: Vec<NaiveDate>,
    pub denominator: f64,
    pub neet: f64,
    pub not_known: f64,
}

impl Average {
    pub fn neet_pct(&self) -> f64 {
        percent(self.neet, self.denominator)
    }
    pub fn not_known_pct(&self) -> f64 {
        percent(self.not_known, self.denominator)
    }
    pub fn neet_or_not_known_pct(&self) -> f64 {
        percent(self.neet + self.not_known, self.denominator)
    }
}

/// The December of the latest December–February wholly ended by `on`.
pub fn latest_winter(on: NaiveDate) -> i32 {
    use chrono::Datelike;
    // February ends before March begins: from March on, this winter's is over.
    if on.month() >= 3 {
        on.year() - 1
    } else {
        on.year() - 2
    }
}

/// The headline averaged over 31 December of `december` and the January and
/// February month-ends after it, each as recorded by then.
pub fn winter_average<'a>(
    people: impl IntoIterator<Item = &'a CaseSummary> + Clone,
    december: i32,
    currency: &CurrencyConfig,
) -> Option<Average> {
    let month_ends = vec![
        NaiveDate::from_ymd_opt(december, 12, 31)?,
        NaiveDate::from_ymd_opt(december + 1, 1, 31)?,
        // The day before 1 March: 28 or 29 February.
        NaiveDate::from_ymd_opt(december + 1, 3, 1)?.pred_opt()?,
    ];
    let all: Vec<Figures> = month_ends
        .iter()
        .map(|on| headline(people.clone(), *on, currency))
        .collect();
    let mean = |f: fn(&Figures) -> usize| all.iter().map(f).sum::<usize>() as f64 / 3.0;
    Some(Average {
        denominator: mean(Figures::denominator),
        neet: mean(|f| f.neet),
        not_known: mean(|f| f.not_known),
        month_ends,
    })
}

/// The DfE headline population: residents of academic age 16 and 17, known
/// by `on`, wherever they learn (residents of other authorities learning here
/// are their own authority's to count).
pub fn in_headline_cohort(s: &CaseSummary, on: NaiveDate) -> bool {
    s.residence.resident_here()
        && s.known_on(on)
        && (16..=17).contains(&academic::academic_age(s.date_of_birth, on))
}

/// How the headline can be broken down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Breakdown {
    District,
    Area,
    Year,
    Group,
}

/// Headline figures split by `by`: one row per district, area, year group or
/// vulnerable group (a person may be in several groups), in a fixed order.
pub fn headline_by<'a>(
    people: impl IntoIterator<Item = &'a CaseSummary> + Clone,
    on: NaiveDate,
    currency: &CurrencyConfig,
    by: Breakdown,
) -> Vec<(String, Figures)> {
    match by {
        Breakdown::District => by_district(people, on, currency)
            .into_iter()
            .map(|(d, f)| (d.label().to_string(), f))
            .collect(),
        Breakdown::Area => crate::domain::Area::ALL
            .iter()
            .map(|a| {
                let mut f = Figures::default();
                for s in people
                    .clone()
                    .into_iter()
                    .filter(|s| in_headline_cohort(s, on) && s.district.area() == *a)
                {
                    f.add(s, on, currency);
                }
                (a.label().to_string(), f)
            })
            .collect(),
        Breakdown::Year => [12, 13]
            .iter()
            .map(|y| {
                let mut f = Figures::default();
                for s in people.clone().into_iter().filter(|s| {
                    in_headline_cohort(s, on) && academic::year_group(s.date_of_birth, on) == *y
                }) {
                    f.add(s, on, currency);
                }
                (format!("Year {y}"), f)
            })
            .collect(),
        // SEND 19+ is never of academic age 16–17: no row of zeros.
        Breakdown::Group => VulnerableGroup::ALL
            .iter()
            .filter(|g| **g != VulnerableGroup::Send19Plus)
            .map(|g| {
                let mut f = Figures::default();
                for s in people
                    .clone()
                    .into_iter()
                    .filter(|s| in_headline_cohort(s, on) && g.includes(s, on))
                {
                    f.add(s, on, currency);
                }
                (g.label().to_string(), f)
            })
            .collect(),
    }
}

pub fn headline<'a>(
    people: impl IntoIterator<Item = &'a CaseSummary>,
    on: NaiveDate,
    currency: &CurrencyConfig,
) -> Figures {
    let mut f = Figures::default();
    for s in people.into_iter().filter(|s| in_headline_cohort(s, on)) {
        f.add(s, on, currency);
    }
    f
}

pub fn by_district<'a>(
    people: impl IntoIterator<Item = &'a CaseSummary>,
    on: NaiveDate,
    currency: &CurrencyConfig,
) -> Vec<(District, Figures)> {
    let mut rows: Vec<(District, Figures)> = District::ALL
        .iter()
        .map(|d| (*d, Figures::default()))
        .collect();
    for s in people.into_iter().filter(|s| in_headline_cohort(s, on)) {
        if let Some(row) = rows.iter_mut().find(|(d, _)| *d == s.district) {
            row.1.add(s, on, currency);
        }
    }
    rows
}

/// The last day of the month `day` is in.
pub fn month_end(day: NaiveDate) -> NaiveDate {
    use chrono::Datelike;
    NaiveDate::from_ymd_opt(day.year(), day.month(), 1)
        .and_then(|first| first.checked_add_months(chrono::Months::new(1)))
        .and_then(|next| next.pred_opt())
        .unwrap_or(day)
}

/// The last day of each of the `months` months ending with the month of `today`
/// (that one as of `today`), oldest first.
pub fn month_ends(today: NaiveDate, months: u32) -> Vec<NaiveDate> {
    (0..months)
        .rev()
        .filter_map(|back| today.checked_sub_months(chrono::Months::new(back)))
        .map(|day| month_end(day).min(today))
        .collect()
}

/// Headline figures at each month end: the trend, recomputed from the op
/// history (what was recorded by each date), never stored. Spread over cores.
pub fn monthly_trend(
    people: crate::domain::Summaries<'_>,
    today: NaiveDate,
    currency: &CurrencyConfig,
    months: u32,
) -> Vec<(NaiveDate, Figures)> {
    let ends = month_ends(today, months);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, ends.len().max(1));
    let chunk = ends.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = ends
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|d| (*d, headline(people, *d, currency)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

pub use crate::domain::groups::VulnerableGroup;

/// Figures for each vulnerable group over the whole tracked cohort (ages 16–18
/// and SEND to the upper age), as the strategy table counts them.
pub fn by_group<'a>(
    people: impl IntoIterator<Item = &'a CaseSummary> + Clone,
    on: NaiveDate,
    currency: &CurrencyConfig,
    send_upper_age: i32,
) -> Vec<(VulnerableGroup, Figures)> {
    VulnerableGroup::ALL
        .iter()
        .map(|g| {
            let mut f = Figures::default();
            for s in people.clone().into_iter().filter(|s| {
                academic::in_statutory_cohort(
                    s.date_of_birth,
                    on,
                    s.send.has_ehc_plan(),
                    send_upper_age,
                ) && g.includes(s, on)
            }) {
                f.add(s, on, currency);
            }
            (*g, f)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_explain_mistakes() {
        let f = PeopleFilter::parse("status=not-known, district=Thanet, year=12").unwrap();
        assert_eq!(f.status, Some(StatusGroup::NotKnown));
        assert_eq!(f.district, Some(District::Thanet));
        assert_eq!(f.year, Some(12));
        assert_eq!(PeopleFilter::parse("").unwrap(), PeopleFilter::default());
        assert!(
            PeopleFilter::parse("status=lost")
                .unwrap_err()
                .contains("not-known")
        );
        assert!(
            PeopleFilter::parse("year=9")
                .unwrap_err()
                .contains("12, 13 or 14")
        );
        assert!(
            PeopleFilter::parse("colour=red")
                .unwrap_err()
                .contains("unknown filter")
        );
        assert!(
            PeopleFilter::parse("thanet")
                .unwrap_err()
                .contains("key=value")
        );
    }

    #[test]
    fn month_ends_run_oldest_first_and_stop_at_today() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            month_ends(d(2026, 11, 23), 3),
            vec![d(2026, 9, 30), d(2026, 10, 31), d(2026, 11, 23)]
        );
        assert_eq!(
            month_ends(d(2027, 3, 1), 2),
            vec![d(2027, 2, 28), d(2027, 3, 1)]
        );
        assert_eq!(
            month_ends(d(2027, 1, 31), 13).first(),
            Some(&d(2026, 1, 31))
        );
    }
}

/// A filter typed as `key=value,…`: `status` (eet, neet, not-known, other),
/// `district`, `area`, `year` (12, 13, 14) and `group` (a vulnerable group key).
/// Status is judged with currency applied on the given day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeopleFilter {
    pub status: Option<StatusGroup>,
    pub district: Option<District>,
    pub area: Option<crate::domain::Area>,
    pub year: Option<i32>,
    pub group: Option<VulnerableGroup>,
}

impl PeopleFilter {
    pub fn parse(text: &str) -> Result<PeopleFilter, String> {
        let mut f = PeopleFilter::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| {
                format!("{part:?}: filters are key=value, e.g. status=not-known,district=thanet")
            })?;
            let value = value.trim();
            match key.trim().to_lowercase().as_str() {
                "status" => {
                    f.status = Some(
                        match value.to_lowercase().replace([' ', '_'], "-").as_str() {
                            "eet" => StatusGroup::Eet,
                            "neet" => StatusGroup::Neet,
                            "not-known" | "nk" => StatusGroup::NotKnown,
                            "other" => StatusGroup::Other,
                            other => {
                                return Err(format!(
                                    "status {other:?}: use eet, neet, not-known or other"
                                ));
                            }
                        },
                    )
                }
                "district" => f.district = Some(District::parse(value).map_err(|e| e.to_string())?),
                "area" => {
                    f.area = Some(
                        crate::domain::Area::ALL
                            .into_iter()
                            .find(|a| a.label().eq_ignore_ascii_case(value))
                            .ok_or_else(|| {
                                format!(
                                    "area {value:?}: use North, East, South, West or Out of county"
                                )
                            })?,
                    )
                }
                "year" => {
                    f.year = Some(
                        value
                            .parse()
                            .ok()
                            .filter(|y| (12..=14).contains(y))
                            .ok_or_else(|| format!("year {value:?}: use 12, 13 or 14"))?,
                    )
                }
                "group" => {
                    f.group = Some(
                        VulnerableGroup::ALL
                            .into_iter()
                            .find(|g| g.key() == value)
                            .ok_or_else(|| {
                                format!(
                                    "group {value:?}: use one of {}",
                                    VulnerableGroup::ALL.map(|g| g.key()).join(", ")
                                )
                            })?,
                    )
                }
                other => {
                    return Err(format!(
                        "unknown filter {other:?}: use status, district, area, year or group"
                    ));
                }
            }
        }
        Ok(f)
    }

    pub fn keeps(&self, s: &CaseSummary, on: NaiveDate, currency: &CurrencyConfig) -> bool {
        self.status
            .is_none_or(|g| currency.effective_group(s.activity_on(on), on) == g)
            && self.district.is_none_or(|d| s.district == d)
            && self.area.is_none_or(|a| s.district.area() == a)
            && self
                .year
                .is_none_or(|y| academic::year_group(s.date_of_birth, on) == y)
            && self.group.is_none_or(|g| g.includes(s, on))
    }
}
