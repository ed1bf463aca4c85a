//! The DfE's other returns, each a tally with its own checks: the Annual
//! Activity Survey, NEET joiners and leavers between two month-ends, the
//! September Guarantee and Year 11 intended destinations. Pure functions of
//! summaries (and, where offers and destinations are needed, the records).

use crate::domain::academic;
use crate::domain::codes::StatusGroup;
use crate::domain::currency::CurrencyConfig;
use crate::domain::records::{DestinationKind, OfferStatus, OfferYear};
use crate::domain::{CaseSummary, PersonId, PersonState};
use chrono::NaiveDate;

/// A return: counts by category over a base, and what to fix before sending it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    pub title: String,
    /// Who the percentages are of.
    pub base: usize,
    pub rows: Vec<(String, usize)>,
    pub checks: Vec<Check>,
}

/// One record to look at before the return goes, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// `None`: the return as a whole.
    pub person: Option<PersonId>,
    pub problem: &'static str,
}

impl Tally {
    fn new(title: String) -> Tally {
        Tally {
            title,
            base: 0,
            rows: Vec::new(),
            checks: Vec::new(),
        }
    }

    fn count(&mut self, row: &str) {
        match self.rows.iter_mut().find(|(r, _)| r == row) {
            Some((_, n)) => *n += 1,
            None => self.rows.push((row.to_string(), 1)),
        }
    }

    /// Rows named in `order` first, in that order (zeros included), then the rest.
    fn ordered(mut self, order: &[&str]) -> Tally {
        let mut rows: Vec<(String, usize)> = order
            .iter()
            .map(|name| {
                let n = self
                    .rows
                    .iter()
                    .find(|(r, _)| r == name)
                    .map_or(0, |(_, n)| *n);
                (name.to_string(), n)
            })
            .collect();
        rows.extend(
            self.rows
                .drain(..)
                .filter(|(r, _)| !order.contains(&r.as_str())),
        );
        self.rows = rows;
        self
    }
}

/// What a young person counts as on `on`: their sub-group, or Not Known.
fn status_on(s: &CaseSummary, on: NaiveDate, currency: &CurrencyConfig) -> &'static str {
    let activity = s.activity_on(on);
    match (currency.effective_group(activity, on), activity) {
        (StatusGroup::NotKnown, _) | (_, None) => "Not known",
        (_, Some(a)) => a.code.sub_group().label(),
    }
}

const STATUS_ORDER: [&str; 10] = [
    "EET education",
    "EET employment",
    "EET training",
    "EET re-engagement",
    "NEET (available)",
    "NEET (not available)",
    "NEET (volunteering)",
    "Other",
    "Pre-16",
    "Not known",
];

/// The year of the latest 1 November on or before `today`.
pub fn latest_survey_year(today: NaiveDate) -> i32 {
    use chrono::Datelike;
    match NaiveDate::from_ymd_opt(today.year(), 11, 1) {
        Some(nov) if nov <= today => today.year(),
        _ => today.year() - 1,
    }
}

/// The latest September Guarantee counted: its 30 September before `today`.
pub fn latest_guarantee(today: NaiveDate) -> i32 {
    use chrono::Datelike;
    match NaiveDate::from_ymd_opt(today.year(), 9, 30) {
        Some(end) if end < today => today.year(),
        _ => today.year() - 1,
    }
}

/// The Annual Activity Survey: the activity on 1 November `year` of those who
/// left Year 11 that summer (academic age 16 that day), known by then.
/// Checked: an activity last confirmed before 1 September is not their
/// activity after leaving school.
pub fn activity_survey<'a>(
    people: impl IntoIterator<Item = &'a CaseSummary>,
    year: i32,
    currency: &CurrencyConfig,
) -> Option<Tally> {
    let day = NaiveDate::from_ymd_opt(year, 11, 1)?;
    let september = NaiveDate::from_ymd_opt(year, 9, 1)?;
    let mut t = Tally::new(format!(
        "Annual Activity Survey {year}: Year 11 leavers' activity on 1 November"
    ));
    for s in people {
        if !s.known_on(day) || academic::academic_age(s.date_of_birth, day) != 16 {
            continue;
        }
        t.base += 1;
        t.count(status_on(s, day, currency));
        if s.activity_on(day).is_some_and(|a| a.confirmed < september) {
            t.checks.push(Check {
                person: Some(s.id),
                problem: "confirmed before Sept: not after Year 11",
            });
        }
    }
    Some(t.ordered(&STATUS_ORDER))
}

/// NEET joiners and leavers between two month-ends, over the headline cohort
/// (academic ages 16–17, known) at each. Checked: the NEET count at the end
/// equals the start's plus joiners less leavers.
pub fn neet_flow<'a>(
    people: impl IntoIterator<Item = &'a CaseSummary>,
    from: NaiveDate,
    to: NaiveDate,
    currency: &CurrencyConfig,
) -> Tally {
    let neet = |s: &CaseSummary, on: NaiveDate| {
        super::in_headline_cohort(s, on)
            && currency.effective_group(s.activity_on(on), on) == StatusGroup::Neet
    };
    let mut t = Tally::new(format!(
        "NEET joiners and leavers, academic ages 16–17, {} to {}",
        crate::domain::dates::uk(from),
        crate::domain::dates::uk(to)
    ));
    let (mut at_start, mut at_end, mut joined, mut left) = (0, 0, 0, 0);
    for s in people {
        let (before, after) = (neet(s, from), neet(s, to));
        at_start += usize::from(before);
        at_end += usize::from(after);
        if after && !before {
            joined += 1;
            t.count("joined NEET");
        }
        if before && !after {
            left += 1;
            let to_row = if !super::in_headline_cohort(s, to) {
                "left NEET: left the cohort (age or record)"
            } else {
                match currency.effective_group(s.activity_on(to), to) {
                    StatusGroup::Eet => "left NEET: into EET",
                    StatusGroup::NotKnown => "left NEET: now Not Known",
                    _ => "left NEET: other",
                }
            };
            t.count(to_row);
        }
    }
    t.base = at_start;
    t.rows.insert(0, ("NEET at the start".into(), at_start));
    t.rows.push(("NEET at the end".into(), at_end));
    if (at_start + joined).checked_sub(left) != Some(at_end) {
        // Cannot happen by construction; said rather than assumed.
        t.checks.push(Check {
            person: None,
            problem: "the NEET count at the end is not the start's plus joiners less leavers",
        });
    }
    t.ordered(&[
        "NEET at the start",
        "joined NEET",
        "left NEET: into EET",
        "left NEET: now Not Known",
        "left NEET: other",
        "left NEET: left the cohort (age or record)",
        "NEET at the end",
    ])
}

/// Year 11 and Year 12 on `on` (academic ages 15 and 16).
fn year_on(s: &CaseSummary, on: NaiveDate) -> Option<OfferYear> {
    match academic::academic_age(s.date_of_birth, on) {
        15 => Some(OfferYear::Year11),
        16 => Some(OfferYear::Year12),
        _ => None,
    }
}

/// The September Guarantee of `september`, Year 11 then Year 12: those in
/// each year group in the academic year ending that August, and the latest
/// offer recorded for each from the start of that year to 30 September (when
/// offers are counted). One pass, so records can be read one at a time.
/// Checked: an offer made without the kind of place; an offer recorded for
/// the other year group.
pub fn september_guarantee<'a>(
    people: impl IntoIterator<Item = (&'a CaseSummary, PersonState)>,
    september: i32,
) -> Option<Vec<Tally>> {
    let august = NaiveDate::from_ymd_opt(september, 8, 31)?;
    let (since, until) = (
        academic::academic_year_start(august),
        NaiveDate::from_ymd_opt(september, 9, 30)?,
    );
    let years = [OfferYear::Year11, OfferYear::Year12];
    let mut tallies = years.map(|year| {
        Tally::new(format!(
            "September Guarantee {september}, {} of {}/{}: offers {} to {}",
            year.label(),
            september - 1,
            september % 100,
            crate::domain::dates::uk(since),
            crate::domain::dates::uk(until)
        ))
    });
    for (s, state) in people {
        let Some(year) = year_on(s, august).filter(|_| s.known_on(until)) else {
            continue;
        };
        let t = &mut tallies[usize::from(year == OfferYear::Year12)];
        t.base += 1;
        let offer = state
            .offers
            .iter()
            .filter(|o| !state.is_retracted(o.op()))
            .map(|o| &o.value)
            .rfind(|o| o.recorded_on >= since && o.recorded_on <= until);
        let Some(offer) = offer else {
            t.count("no offer recorded");
            continue;
        };
        if offer.year != year {
            t.checks.push(Check {
                person: Some(s.id),
                problem: "offer for the other year group",
            });
        }
        match (offer.status, offer.kind) {
            (OfferStatus::OfferMade | OfferStatus::OfferAccepted, Some(kind)) => {
                t.count(&format!("offer: {}", kind.label()));
            }
            (OfferStatus::OfferMade | OfferStatus::OfferAccepted, None) => {
                t.count("offer: kind not recorded");
                t.checks.push(Check {
                    person: Some(s.id),
                    problem: "offer made without the kind of place",
                });
            }
            (OfferStatus::OfferDeclined, _) => t.count("offer declined"),
            (OfferStatus::NoOffer, _) => t.count("no offer yet"),
        }
    }
    let mut order: Vec<String> = DestinationKind::ALL
        .iter()
        .map(|k| format!("offer: {}", k.label()))
        .collect();
    order.extend(
        [
            "offer: kind not recorded",
            "offer declined",
            "no offer yet",
            "no offer recorded",
        ]
        .map(String::from),
    );
    let order: Vec<&str> = order.iter().map(String::as_str).collect();
    Some(tallies.into_iter().map(|t| t.ordered(&order)).collect())
}

/// Year 11's intended destinations on `on`: the latest recorded this academic
/// year. Checked: a Year 11 with none recorded, or only "Undecided".
pub fn intended_destinations<'a>(
    people: impl IntoIterator<Item = (&'a CaseSummary, PersonState)>,
    on: NaiveDate,
) -> Tally {
    let since = academic::academic_year_start(on);
    let mut t = Tally::new(format!(
        "Intended destinations of Year 11, academic year from {}",
        crate::domain::dates::uk(since)
    ));
    for (s, state) in people {
        if !s.known_on(on) || year_on(s, on) != Some(OfferYear::Year11) {
            continue;
        }
        t.base += 1;
        let latest = state
            .latest_destination()
            .map(|d| &d.value)
            .filter(|d| d.recorded_on >= since && d.recorded_on <= on);
        match latest {
            Some(d) => {
                t.count(d.kind.label());
                if d.kind == DestinationKind::Undecided {
                    t.checks.push(Check {
                        person: Some(s.id),
                        problem: "undecided: a guidance interview is due",
                    });
                }
            }
            None => {
                t.count("none recorded");
                t.checks.push(Check {
                    person: Some(s.id),
                    problem: "no intended destination this year",
                });
            }
        }
    }
    let mut order: Vec<&str> = DestinationKind::ALL.iter().map(|k| k.label()).collect();
    order.push("none recorded");
    t.ordered(&order)
}

/// Whom a return built from records needs: Year 11 or 12 on `on`.
pub fn needs_record(s: &CaseSummary, on: NaiveDate) -> bool {
    year_on(s, on).is_some()
}
