//! How well the risk suggestion foretold what happened, so a council can tune
//! its weights and bands on its own history.
//!
//! For a past day: everyone in the statutory cohort then, known then and not
//! NEET or Not Known then, is given the band the suggestion would have given
//! them from what was recorded by that day (the configured weights and
//! bands). Then, for each band: how many were NEET or Not Known at any
//! month-end in the 6, and in the 12, months after, each month-end as recorded
//! by then (what the council knew at the time, as every past figure here).
//! A window not yet over by today is not reported.

use super::month_end;
use crate::domain::academic;
use crate::domain::codes::StatusGroup;
use crate::domain::currency::CurrencyConfig;
use crate::domain::records::Rag;
use crate::domain::risk::{RiskConfig, suggest};
use crate::domain::{CaseSummary, PersonState};
use chrono::NaiveDate;

/// One band's people and what became of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BandOutcome {
    /// `None`: everyone, whatever their band.
    pub rag: Option<Rag>,
    pub people: usize,
    /// NEET or Not Known at a month-end within 6 months; `None` while the
    /// window is not over.
    pub within_6: Option<usize>,
    pub within_12: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackTest {
    pub on: NaiveDate,
    /// Red, Amber, Green.
    pub bands: Vec<BandOutcome>,
    pub all: BandOutcome,
    /// In the cohort on the day but NEET or Not Known already: left out.
    pub already_neet_or_not_known: usize,
}

/// Whether the young person counts as NEET or Not Known on `on`, as recorded by then.
fn neet_or_not_known(s: &CaseSummary, on: NaiveDate, currency: &CurrencyConfig) -> bool {
    matches!(
        currency.effective_group(s.activity_on(on), on),
        StatusGroup::Neet | StatusGroup::NotKnown
    )
}

/// The month-ends after `on`, up to `months` of them.
fn month_ends_after(on: NaiveDate, months: u32) -> Vec<NaiveDate> {
    (1..=months)
        .filter_map(|k| on.checked_add_months(chrono::Months::new(k)))
        .map(month_end)
        .collect()
}

/// Back-tests the suggestion on `on`. `state_then` gives each young person's
/// record as it stood at the end of `on` (folded from what was recorded by then).
pub fn back_test<'a>(
    people: impl IntoIterator<Item = &'a CaseSummary>,
    mut state_then: impl FnMut(&CaseSummary) -> Option<PersonState>,
    on: NaiveDate,
    today: NaiveDate,
    risk: &RiskConfig,
    currency: &CurrencyConfig,
    send_upper_age: i32,
) -> BackTest {
    let six = month_ends_after(on, 6);
    let twelve = month_ends_after(on, 12);
    let over = |ends: &[NaiveDate]| ends.last().is_some_and(|last| *last <= today);
    let (six_over, twelve_over) = (over(&six), over(&twelve));
    let mut bands: Vec<BandOutcome> = [Rag::Red, Rag::Amber, Rag::Green]
        .into_iter()
        .map(|rag| BandOutcome {
            rag: Some(rag),
            people: 0,
            within_6: six_over.then_some(0),
            within_12: twelve_over.then_some(0),
        })
        .collect();
    let mut already = 0;
    for s in people {
        if !s.known_on(on)
            || !academic::in_statutory_cohort(
                s.date_of_birth,
                on,
                s.send.has_ehc_plan(),
                send_upper_age,
            )
        {
            continue;
        }
        if neet_or_not_known(s, on, currency) {
            already += 1;
            continue;
        }
        let Some(state) = state_then(s) else {
            continue;
        };
        let rag = suggest(&state, on, risk).rag;
        let Some(band) = bands.iter_mut().find(|b| b.rag == Some(rag)) else {
            continue;
        };
        band.people += 1;
        let became = |ends: &[NaiveDate]| ends.iter().any(|m| neet_or_not_known(s, *m, currency));
        if let Some(n) = band.within_6.as_mut() {
            *n += usize::from(became(&six));
        }
        if let Some(n) = band.within_12.as_mut() {
            *n += usize::from(became(&twelve));
        }
    }
    let all = BandOutcome {
        rag: None,
        people: bands.iter().map(|b| b.people).sum(),
        within_6: six_over.then(|| bands.iter().filter_map(|b| b.within_6).sum()),
        within_12: twelve_over.then(|| bands.iter().filter_map(|b| b.within_12).sum()),
    };
    BackTest {
        on,
        bands,
        all,
        already_neet_or_not_known: already,
    }
}
