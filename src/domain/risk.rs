//! Risk of NEET: the factors public RONI tools weigh, and a computed suggestion.
//! The officer's own rating always wins; the suggestion only informs it.

use super::academic;
use super::person::Characteristic;
use super::records::Rag;
use super::state::PersonState;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

named_enum!(RiskFactor {
    LowAttendance => "Attendance below 90%",
    Exclusions => "Fixed-term or permanent exclusions",
    EducatedAwayFromSchool => "Educated away from school (PRU, AP or EHE)",
    LookedAfterOrCareLeaver => "Looked after or care leaver",
    // Send: as weighed before EHC plans and SEN support were apart; kept so
    // ratings made then still read.
    Send => "SEND (as rated before EHC plan and SEN support were weighed apart)",
    EnglishAdditionalLanguage => "English as an additional language",
    PregnantOrParent => "Pregnant or young parent",
    YoungCarer => "Young carer",
    YotOrCustody => "YOT involvement or custody",
    FreeSchoolMeals => "Free school meals",
    PreviousNeet => "Previous NEET spell",
    NotOnTrackLevel2 => "Not on track for level 2 English and maths",
    NoSeptemberGuarantee => "No September Guarantee offer",
    NoIntendedDestination => "No intended destination",
    // New factors go last: ratings store a factor by its position.
    EhcPlan => "EHC plan (or statement or LDA)",
    SenSupport => "SEN support",
});

/// Weights and bands, from the `[risk]` table of the config file
/// (docs/configuration.md). 1 point = likely factor, 2 = very likely, 0 = ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    pub weights: BTreeMap<RiskFactor, u8>,
    /// A total at or above this suggests Red.
    pub red_at: u32,
    /// A total at or above this (and below `red_at`) suggests Amber.
    pub amber_at: u32,
    /// Days until a rating's review is due, by rating.
    pub review_days_red: u32,
    pub review_days_amber: u32,
    pub review_days_green: u32,
}

impl Default for RiskConfig {
    fn default() -> Self {
        use RiskFactor::*;
        let weights = [
            (LowAttendance, 2),
            (Exclusions, 2),
            (EducatedAwayFromSchool, 2),
            (LookedAfterOrCareLeaver, 2),
            (EhcPlan, 1),
            (SenSupport, 1),
            (EnglishAdditionalLanguage, 1),
            (PregnantOrParent, 2),
            (YoungCarer, 1),
            (YotOrCustody, 2),
            (FreeSchoolMeals, 1),
            (PreviousNeet, 2),
            (NotOnTrackLevel2, 2),
            (NoSeptemberGuarantee, 1),
            (NoIntendedDestination, 1),
        ]
        .into_iter()
        .collect();
        Self {
            weights,
            red_at: 6,
            amber_at: 3,
            review_days_red: 28,
            review_days_amber: 56,
            review_days_green: 91,
        }
    }
}

impl RiskConfig {
    pub fn weight(&self, f: RiskFactor) -> u8 {
        self.weights.get(&f).copied().unwrap_or(0)
    }

    pub fn band(&self, score: u32) -> Rag {
        if score >= self.red_at {
            Rag::Red
        } else if score >= self.amber_at {
            Rag::Amber
        } else {
            Rag::Green
        }
    }

    /// A rating made today, its review due by this configuration.
    pub fn rating(
        &self,
        rag: Rag,
        reason: &str,
        factors: Vec<RiskFactor>,
        today: NaiveDate,
    ) -> crate::domain::records::RiskRating {
        crate::domain::records::RiskRating {
            rag,
            reason: reason.trim().to_string(),
            factors,
            rated_on: today,
            review_due: self.review_due(rag, today),
        }
    }

    pub fn review_due(&self, rag: Rag, rated_on: NaiveDate) -> NaiveDate {
        let days = match rag {
            Rag::Red => self.review_days_red,
            Rag::Amber => self.review_days_amber,
            Rag::Green => self.review_days_green,
        };
        rated_on + chrono::Days::new(u64::from(days))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskSuggestion {
    pub rag: Rag,
    pub score: u32,
    /// The factors present and their weights, heaviest first.
    pub factors: Vec<(RiskFactor, u8)>,
}

/// Which factors apply to this young person on `on`.
pub fn present_factors(state: &PersonState, on: NaiveDate) -> Vec<RiskFactor> {
    use Characteristic as C;
    let Some(person) = state.young_person() else {
        return Vec::new();
    };
    let has = |cs: &[Characteristic]| cs.iter().any(|c| person.has_characteristic(*c, on));
    let ind = person.risk_indicators;
    let year = academic::year_group(person.date_of_birth, on);
    let custody_code = state
        .activity_history
        .iter()
        .any(|a| matches!(a.value.code.code(), 130 | 290 | 710));
    let checks = [
        (RiskFactor::LowAttendance, ind.attendance_below_90),
        (RiskFactor::Exclusions, ind.exclusions),
        (
            RiskFactor::EducatedAwayFromSchool,
            has(&[
                C::AlternativeProvision,
                C::PupilReferralUnit,
                C::ElectiveHomeEducation,
            ]),
        ),
        (
            RiskFactor::LookedAfterOrCareLeaver,
            has(&[
                C::LookedAfterThisLa,
                C::LookedAfterOtherLa,
                C::CareLeaverThisLa,
                C::CareLeaverOtherLa,
            ]),
        ),
        (RiskFactor::EhcPlan, person.send.has_ehc_plan()),
        (
            RiskFactor::SenSupport,
            person.send == super::person::SendStatus::SenSupport,
        ),
        (
            RiskFactor::EnglishAdditionalLanguage,
            ind.english_additional_language,
        ),
        (
            RiskFactor::PregnantOrParent,
            has(&[
                C::Pregnant,
                C::ParentCaring,
                C::ParentNotCaring,
                C::TeenageMother,
            ]),
        ),
        (RiskFactor::YoungCarer, has(&[C::CarerNotOwnChild])),
        (
            RiskFactor::YotOrCustody,
            has(&[C::SupervisedByYot]) || custody_code,
        ),
        (RiskFactor::FreeSchoolMeals, has(&[C::FreeSchoolMeals])),
        (RiskFactor::PreviousNeet, state.ever_neet()),
        (RiskFactor::NotOnTrackLevel2, ind.not_on_track_level2),
        (
            RiskFactor::NoSeptemberGuarantee,
            year <= 12
                && !state
                    .offers
                    .iter()
                    .any(|o| o.value.is_offer() && !state.is_retracted(o.op())),
        ),
        (
            RiskFactor::NoIntendedDestination,
            year <= 11 && state.latest_destination().is_none(),
        ),
    ];
    checks
        .into_iter()
        .filter_map(|(f, present)| present.then_some(f))
        .collect()
}

/// The computed suggestion: weights of the present factors, banded.
pub fn suggest(state: &PersonState, on: NaiveDate, config: &RiskConfig) -> RiskSuggestion {
    let mut factors: Vec<(RiskFactor, u8)> = present_factors(state, on)
        .into_iter()
        .map(|f| (f, config.weight(f)))
        .filter(|(_, w)| *w > 0)
        .collect();
    factors.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let score = factors.iter().map(|(_, w)| u32::from(*w)).sum();
    RiskSuggestion {
        rag: config.band(score),
        score,
        factors,
    }
}
