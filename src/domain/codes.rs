//! NCCIS current-activity codes and the status groups every report is built from.
//! The table is the one in `docs/domain.md` (from DfE's NCCIS management information
//! requirement); `meets_duty` marks activities that satisfy the duty to participate.

use super::error::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The status group an activity code reports under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum StatusGroup {
    Eet,
    Neet,
    NotKnown,
    Other,
    Pre16,
}

impl StatusGroup {
    pub const ALL: [StatusGroup; 5] = [
        StatusGroup::Eet,
        StatusGroup::Neet,
        StatusGroup::NotKnown,
        StatusGroup::Other,
        StatusGroup::Pre16,
    ];

    /// Words, never colour alone, carry the group on every screen.
    pub fn label(self) -> &'static str {
        match self {
            StatusGroup::Eet => "EET",
            StatusGroup::Neet => "NEET",
            StatusGroup::NotKnown => "Not Known",
            StatusGroup::Other => "Other",
            StatusGroup::Pre16 => "Pre-16",
        }
    }
}

impl fmt::Display for StatusGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Finer grouping used in the NCCIS tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SubGroup {
    Pre16,
    Education,
    Employment,
    Training,
    ReEngagement,
    NeetVolunteering,
    NeetAvailable,
    NeetNotAvailable,
    Other,
    NotKnown,
}

impl SubGroup {
    pub fn label(self) -> &'static str {
        match self {
            SubGroup::Pre16 => "Pre-16",
            SubGroup::Education => "EET education",
            SubGroup::Employment => "EET employment",
            SubGroup::Training => "EET training",
            SubGroup::ReEngagement => "EET re-engagement",
            SubGroup::NeetVolunteering => "NEET (volunteering)",
            SubGroup::NeetAvailable => "NEET (available)",
            SubGroup::NeetNotAvailable => "NEET (not available)",
            SubGroup::Other => "Other",
            SubGroup::NotKnown => "Not known",
        }
    }

    pub fn group(self) -> StatusGroup {
        match self {
            SubGroup::Pre16 => StatusGroup::Pre16,
            SubGroup::Education
            | SubGroup::Employment
            | SubGroup::Training
            | SubGroup::ReEngagement => StatusGroup::Eet,
            SubGroup::NeetVolunteering | SubGroup::NeetAvailable | SubGroup::NeetNotAvailable => {
                StatusGroup::Neet
            }
            SubGroup::Other => StatusGroup::Other,
            SubGroup::NotKnown => StatusGroup::NotKnown,
        }
    }
}

/// The types of the DfE's "participation in education and training" figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Learning {
    FullTimeEducation,
    PartTimeEducation,
    Apprenticeship,
    WorkBasedLearning,
    EmploymentWithTraining,
    OtherTraining,
}

impl Learning {
    pub const ALL: [Learning; 6] = [
        Learning::FullTimeEducation,
        Learning::PartTimeEducation,
        Learning::Apprenticeship,
        Learning::WorkBasedLearning,
        Learning::EmploymentWithTraining,
        Learning::OtherTraining,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Learning::FullTimeEducation => "full-time education",
            Learning::PartTimeEducation => "part-time education",
            Learning::Apprenticeship => "apprenticeship",
            Learning::WorkBasedLearning => "work-based learning",
            Learning::EmploymentWithTraining => "employment with training",
            Learning::OtherTraining => "other training",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Counts by [`Learning`] type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ByLearning([usize; 6]);

impl ByLearning {
    pub fn add(&mut self, l: Learning) {
        self.0[l.index()] += 1;
    }
    pub fn get(&self, l: Learning) -> usize {
        self.0[l.index()]
    }
    pub fn total(&self) -> usize {
        self.0.iter().sum()
    }
}

/// One row of the NCCIS activity table.
#[derive(Debug, PartialEq, Eq)]
pub struct ActivityInfo {
    pub code: u16,
    pub label: &'static str,
    pub sub_group: SubGroup,
    /// Counts towards participation (the duty to participate to 18).
    pub meets_duty: bool,
}

macro_rules! activity_table {
    ($( $code:literal, $sub:ident, $duty:literal, $label:literal; )*) => {
        /// Every NCCIS activity code caseload accepts, in code order.
        pub const ACTIVITIES: &[ActivityInfo] = &[
            $( ActivityInfo { code: $code, label: $label, sub_group: SubGroup::$sub, meets_duty: $duty }, )*
        ];
    };
}

activity_table! {
    110, Pre16, false, "Registered at a school or other establishment in the area";
    120, Pre16, false, "Educated at home";
    130, Pre16, false, "Custodial sentence";
    140, Pre16, false, "Not registered at a school or establishment";
    150, Pre16, false, "Current situation not known";
    210, Education, true, "Full-time education – school sixth form";
    220, Education, true, "Full-time education – sixth-form college";
    230, Education, true, "Full-time education – further education";
    240, Education, true, "Full-time education – higher education";
    250, Education, false, "Part-time education";
    260, Education, false, "Gap year";
    270, Education, true, "Full-time education – other";
    280, Education, true, "Special post-16 institution";
    290, Education, true, "Custodial institution (juvenile offender)";
    310, Employment, true, "Apprenticeship";
    320, Employment, true, "Full-time employment with study (regulated qualification)";
    330, Employment, false, "Employment without training";
    340, Employment, false, "Employment with training (other)";
    350, Employment, false, "Temporary employment";
    360, Employment, false, "Part-time employment";
    380, Employment, false, "Self-employment";
    381, Employment, true, "Self-employment with study (regulated qualification)";
    410, Training, true, "Funded work-based learning";
    430, Training, true, "Other training";
    440, Training, false, "DWP training and support programme";
    450, Training, true, "Traineeship";
    460, Training, true, "Supported internship";
    530, ReEngagement, true, "Re-engagement provision";
    540, NeetVolunteering, false, "Working not for reward (volunteering)";
    550, Employment, true, "Working not for reward combined with study";
    610, NeetAvailable, false, "Not yet ready for work or learning";
    615, NeetAvailable, false, "Start date agreed (other)";
    616, NeetAvailable, false, "Start date agreed (meets the duty to participate)";
    619, NeetAvailable, false, "Seeking employment, education or training";
    620, NeetNotAvailable, false, "Young carer";
    630, NeetNotAvailable, false, "Teenage parent";
    640, NeetNotAvailable, false, "Illness";
    650, NeetNotAvailable, false, "Pregnancy";
    660, NeetNotAvailable, false, "Religious grounds";
    670, NeetNotAvailable, false, "Unlikely ever to be economically active";
    680, NeetNotAvailable, false, "Other reason";
    710, Other, false, "Custody (young adult offender)";
    720, Other, false, "Refugee / asylum seeker (not yet able to participate)";
    810, NotKnown, false, "Current situation not known";
    820, NotKnown, false, "Cannot be contacted – no current address";
    830, NotKnown, false, "Refused to disclose activity";
}

/// Each code's row in [`ACTIVITIES`], plus one (0: no such code). A code is
/// looked up for every activity of every summary decoded at unlock and in
/// every figure; one load instead of a binary search of the table.
const ROW_OF_CODE: [u8; 1000] = {
    let mut rows = [0u8; 1000];
    let mut i = 0;
    while i < ACTIVITIES.len() {
        // A code of 1,000 or more, or a table of 255 rows, fails the build.
        assert!(i < u8::MAX as usize);
        rows[ACTIVITIES[i].code as usize] = (i + 1) as u8;
        i += 1;
    }
    rows
};

/// A valid NCCIS activity code. Construct with [`ActivityCode::new`] or `parse`;
/// deserialising checks the code too, so a tampered or foreign record cannot smuggle
/// an unknown code into a report.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub struct ActivityCode(u16);

impl ActivityCode {
    /// The code recorded when an activity's currency has expired.
    pub const NOT_KNOWN: ActivityCode = ActivityCode(810);

    pub fn new(code: u16) -> Result<Self, DomainError> {
        if Self::lookup(code).is_some() {
            Ok(Self(code))
        } else {
            Err(DomainError::UnknownActivityCode(code.to_string()))
        }
    }

    fn lookup(code: u16) -> Option<&'static ActivityInfo> {
        match ROW_OF_CODE.get(usize::from(code)) {
            Some(&row) if row > 0 => ACTIVITIES.get(usize::from(row) - 1),
            _ => None,
        }
    }

    pub fn info(self) -> &'static ActivityInfo {
        // Every ActivityCode was checked on construction.
        Self::lookup(self.0).unwrap_or(&ACTIVITIES[ACTIVITIES.len() - 3])
    }

    pub fn code(self) -> u16 {
        self.0
    }
    pub fn label(self) -> &'static str {
        self.info().label
    }
    pub fn sub_group(self) -> SubGroup {
        self.info().sub_group
    }
    pub fn group(self) -> StatusGroup {
        self.info().sub_group.group()
    }
    pub fn meets_duty(self) -> bool {
        self.info().meets_duty
    }
    /// Where the DfE's "in education and training" figure counts this
    /// activity, or `None` when it does not: part-time education is in; gap
    /// years, re-engagement, employment without training, volunteering alone,
    /// agreed start dates and everything NEET are out.
    pub fn learning(self) -> Option<Learning> {
        Some(match self.0 {
            210 | 220 | 230 | 240 | 270 | 280 | 290 => Learning::FullTimeEducation,
            250 => Learning::PartTimeEducation,
            310 => Learning::Apprenticeship,
            410 | 450 | 460 => Learning::WorkBasedLearning,
            320 | 340 | 381 | 550 => Learning::EmploymentWithTraining,
            430 | 440 => Learning::OtherTraining,
            _ => return None,
        })
    }
    /// Young adult offenders in custody (710): in the cohort, but left out of
    /// the denominator of the DfE's percentages.
    pub fn is_custody(self) -> bool {
        self.0 == 710
    }
    pub fn all() -> impl Iterator<Item = ActivityCode> {
        ACTIVITIES.iter().map(|a| ActivityCode(a.code))
    }
}

impl TryFrom<u16> for ActivityCode {
    type Error = DomainError;
    fn try_from(code: u16) -> Result<Self, Self::Error> {
        Self::new(code)
    }
}

impl From<ActivityCode> for u16 {
    fn from(code: ActivityCode) -> u16 {
        code.0
    }
}

impl std::str::FromStr for ActivityCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        trimmed
            .parse::<u16>()
            .map_err(|_| DomainError::UnknownActivityCode(trimmed.to_string()))
            .and_then(Self::new)
    }
}

impl fmt::Display for ActivityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for ActivityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ActivityCode({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique_and_every_code_finds_its_own_row() {
        assert!(ACTIVITIES.windows(2).all(|w| w[0].code < w[1].code));
        assert_eq!(ACTIVITIES.len(), 46);
        for code in 0..=u16::MAX {
            let row = ACTIVITIES.iter().find(|a| a.code == code);
            assert_eq!(ActivityCode::lookup(code), row, "{code}");
        }
    }

    #[test]
    fn education_and_training_counts_part_time_but_not_gap_years_or_re_engagement() {
        let l = |c| ActivityCode::new(c).unwrap().learning();
        assert_eq!(l(250), Some(Learning::PartTimeEducation));
        assert_eq!(l(310), Some(Learning::Apprenticeship));
        for out in [
            260, 330, 350, 360, 380, 530, 540, 615, 616, 619, 710, 720, 810,
        ] {
            assert_eq!(l(out), None, "{out}");
        }
        // Every EET activity that meets the duty is education or training,
        // except re-engagement (which meets the duty but is not learning).
        for c in ActivityCode::all().filter(|c| c.meets_duty() && c.code() != 530) {
            assert!(c.learning().is_some(), "{}", c.code());
        }
        assert!(ActivityCode::new(710).unwrap().is_custody());
        assert!(!ActivityCode::new(720).unwrap().is_custody());
    }

    #[test]
    fn groups_follow_the_reference() {
        let g = |c: u16| ActivityCode::new(c).map(ActivityCode::group);
        assert_eq!(g(230), Ok(StatusGroup::Eet));
        assert_eq!(g(330), Ok(StatusGroup::Eet));
        assert_eq!(g(540), Ok(StatusGroup::Neet));
        assert_eq!(g(550), Ok(StatusGroup::Eet));
        assert_eq!(g(619), Ok(StatusGroup::Neet));
        assert_eq!(g(720), Ok(StatusGroup::Other));
        assert_eq!(g(820), Ok(StatusGroup::NotKnown));
        assert_eq!(g(110), Ok(StatusGroup::Pre16));
    }

    #[test]
    fn employment_without_training_is_eet_but_not_participation() {
        let c = ActivityCode::new(330).unwrap();
        assert_eq!(c.group(), StatusGroup::Eet);
        assert!(!c.meets_duty());
        assert!(ActivityCode::new(310).unwrap().meets_duty());
    }

    #[test]
    fn unknown_codes_are_rejected_by_every_door() {
        assert_eq!(
            ActivityCode::new(999),
            Err(DomainError::UnknownActivityCode("999".into()))
        );
        assert!("abc".parse::<ActivityCode>().is_err());
        assert!("370".parse::<ActivityCode>().is_err());
        assert_eq!("  230 ".parse::<ActivityCode>().map(|c| c.code()), Ok(230));
        let bytes = postcard::to_allocvec(&999u16).unwrap();
        assert!(postcard::from_bytes::<ActivityCode>(&bytes).is_err());
    }
}
