//! The vulnerable groups of Kent's strategy table: who belongs to each, and
//! the keys and targets the config file and the reports name them by. A
//! domain rule, so that reports and configuration both stand on it.

use super::CaseSummary;
use super::academic;
use super::person::{Characteristic, SendStatus};
use chrono::NaiveDate;

/// The vulnerable groups of Kent's strategy table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VulnerableGroup {
    ChildrenInCare,
    CaringForOwnChild,
    AsylumSeeker,
    CarerNotOwnChild,
    SubstanceMisuse,
    CareLeaver,
    Yot,
    Pregnancy,
    ParentNotCaring,
    Send16To18,
    Send19Plus,
}

impl VulnerableGroup {
    pub const ALL: [VulnerableGroup; 11] = [
        VulnerableGroup::ChildrenInCare,
        VulnerableGroup::CaringForOwnChild,
        VulnerableGroup::AsylumSeeker,
        VulnerableGroup::CarerNotOwnChild,
        VulnerableGroup::SubstanceMisuse,
        VulnerableGroup::CareLeaver,
        VulnerableGroup::Yot,
        VulnerableGroup::Pregnancy,
        VulnerableGroup::ParentNotCaring,
        VulnerableGroup::Send16To18,
        VulnerableGroup::Send19Plus,
    ];

    /// The key used for this group in the config file's `[targets.group_neet]`.
    pub fn key(self) -> &'static str {
        match self {
            VulnerableGroup::ChildrenInCare => "children_in_care",
            VulnerableGroup::CaringForOwnChild => "caring_for_own_child",
            VulnerableGroup::AsylumSeeker => "asylum_seeker",
            VulnerableGroup::CarerNotOwnChild => "carer_not_own_child",
            VulnerableGroup::SubstanceMisuse => "substance_misuse",
            VulnerableGroup::CareLeaver => "care_leaver",
            VulnerableGroup::Yot => "supervised_by_yot",
            VulnerableGroup::Pregnancy => "pregnancy",
            VulnerableGroup::ParentNotCaring => "parent_not_caring",
            VulnerableGroup::Send16To18 => "send_16_to_18",
            VulnerableGroup::Send19Plus => "send_19_plus",
        }
    }

    /// Kent's target NEET count for January 2017 (the strategy table's last column).
    pub fn kent_target(self) -> u32 {
        match self {
            VulnerableGroup::ChildrenInCare => 3,
            VulnerableGroup::CaringForOwnChild => 3,
            VulnerableGroup::AsylumSeeker => 0,
            VulnerableGroup::CarerNotOwnChild => 1,
            VulnerableGroup::SubstanceMisuse => 1,
            VulnerableGroup::CareLeaver => 0,
            VulnerableGroup::Yot => 1,
            VulnerableGroup::Pregnancy => 2,
            VulnerableGroup::ParentNotCaring => 1,
            VulnerableGroup::Send16To18 => 2,
            VulnerableGroup::Send19Plus => 8,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            VulnerableGroup::ChildrenInCare => "Children in care",
            VulnerableGroup::CaringForOwnChild => "Caring for own child",
            VulnerableGroup::AsylumSeeker => "Asylum seeker",
            VulnerableGroup::CarerNotOwnChild => "Carer (not own child)",
            VulnerableGroup::SubstanceMisuse => "Substance misuse",
            VulnerableGroup::CareLeaver => "Care leaver",
            VulnerableGroup::Yot => "Supervised by YOT",
            VulnerableGroup::Pregnancy => "Pregnancy",
            VulnerableGroup::ParentNotCaring => "Parent not caring for own child",
            VulnerableGroup::Send16To18 => "SEND 16–18",
            VulnerableGroup::Send19Plus => "SEND 19+",
        }
    }

    pub fn includes(self, s: &CaseSummary, on: NaiveDate) -> bool {
        use Characteristic as C;
        let has = |cs: &[Characteristic]| cs.iter().any(|c| s.has_characteristic(*c, on));
        let age = academic::academic_age(s.date_of_birth, on);
        let ehc = s.send.has_ehc_plan() || s.send == SendStatus::StatementOrLda;
        match self {
            VulnerableGroup::ChildrenInCare => has(&[C::LookedAfterThisLa, C::LookedAfterOtherLa]),
            VulnerableGroup::CaringForOwnChild => has(&[C::ParentCaring, C::TeenageMother]),
            VulnerableGroup::AsylumSeeker => has(&[C::RefugeeAsylumSeeker, C::Uasc]),
            VulnerableGroup::CarerNotOwnChild => has(&[C::CarerNotOwnChild]),
            VulnerableGroup::SubstanceMisuse => has(&[C::SubstanceMisuse]),
            VulnerableGroup::CareLeaver => has(&[C::CareLeaverThisLa, C::CareLeaverOtherLa]),
            VulnerableGroup::Yot => has(&[C::SupervisedByYot]),
            VulnerableGroup::Pregnancy => has(&[C::Pregnant]),
            VulnerableGroup::ParentNotCaring => has(&[C::ParentNotCaring]),
            VulnerableGroup::Send16To18 => ehc && (16..=18).contains(&age),
            VulnerableGroup::Send19Plus => ehc && age >= 19,
        }
    }
}
