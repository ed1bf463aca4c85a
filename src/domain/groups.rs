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
    ChildrenInCareThisLa,
    ChildrenInCareOtherLa,
    CaringForOwnChild,
    AsylumSeeker,
    CarerNotOwnChild,
    SubstanceMisuse,
    CareLeaver,
    CareLeaverThisLa,
    CareLeaverOtherLa,
    Yot,
    Pregnancy,
    ParentNotCaring,
    Send16To18,
    SendEhc16To18,
    Send19Plus,
}

impl VulnerableGroup {
    pub const ALL: [VulnerableGroup; 16] = [
        VulnerableGroup::ChildrenInCare,
        VulnerableGroup::ChildrenInCareThisLa,
        VulnerableGroup::ChildrenInCareOtherLa,
        VulnerableGroup::CaringForOwnChild,
        VulnerableGroup::AsylumSeeker,
        VulnerableGroup::CarerNotOwnChild,
        VulnerableGroup::SubstanceMisuse,
        VulnerableGroup::CareLeaver,
        VulnerableGroup::CareLeaverThisLa,
        VulnerableGroup::CareLeaverOtherLa,
        VulnerableGroup::Yot,
        VulnerableGroup::Pregnancy,
        VulnerableGroup::ParentNotCaring,
        VulnerableGroup::Send16To18,
        VulnerableGroup::SendEhc16To18,
        VulnerableGroup::Send19Plus,
    ];

    /// The key used for this group in the config file's `[targets.group_neet]`.
    pub fn key(self) -> &'static str {
        match self {
            VulnerableGroup::ChildrenInCare => "children_in_care",
            VulnerableGroup::ChildrenInCareThisLa => "children_in_care_this_la",
            VulnerableGroup::ChildrenInCareOtherLa => "children_in_care_other_la",
            VulnerableGroup::CaringForOwnChild => "caring_for_own_child",
            VulnerableGroup::AsylumSeeker => "asylum_seeker",
            VulnerableGroup::CarerNotOwnChild => "carer_not_own_child",
            VulnerableGroup::SubstanceMisuse => "substance_misuse",
            VulnerableGroup::CareLeaver => "care_leaver",
            VulnerableGroup::CareLeaverThisLa => "care_leaver_this_la",
            VulnerableGroup::CareLeaverOtherLa => "care_leaver_other_la",
            VulnerableGroup::Yot => "supervised_by_yot",
            VulnerableGroup::Pregnancy => "pregnancy",
            VulnerableGroup::ParentNotCaring => "parent_not_caring",
            VulnerableGroup::Send16To18 => "send_16_to_18",
            VulnerableGroup::SendEhc16To18 => "send_ehc_16_to_18",
            VulnerableGroup::Send19Plus => "send_19_plus",
        }
    }

    /// Kent's target NEET count for January 2017 (the strategy table's last
    /// column); the splits the table did not have have none.
    pub fn kent_target(self) -> Option<u32> {
        Some(match self {
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
            VulnerableGroup::ChildrenInCareThisLa
            | VulnerableGroup::ChildrenInCareOtherLa
            | VulnerableGroup::CareLeaverThisLa
            | VulnerableGroup::CareLeaverOtherLa
            | VulnerableGroup::SendEhc16To18 => return None,
        })
    }

    /// A split of a group by the authority responsible (it adds up to one
    /// of Kent's rows).
    pub fn is_split(self) -> bool {
        matches!(
            self,
            VulnerableGroup::ChildrenInCareThisLa
                | VulnerableGroup::ChildrenInCareOtherLa
                | VulnerableGroup::CareLeaverThisLa
                | VulnerableGroup::CareLeaverOtherLa
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            VulnerableGroup::ChildrenInCare => "Children in care",
            VulnerableGroup::ChildrenInCareThisLa => "Children in care: this LA",
            VulnerableGroup::ChildrenInCareOtherLa => "Children in care: other LA",
            VulnerableGroup::CaringForOwnChild => "Caring for own child",
            VulnerableGroup::AsylumSeeker => "Asylum seeker",
            VulnerableGroup::CarerNotOwnChild => "Carer (not own child)",
            VulnerableGroup::SubstanceMisuse => "Substance misuse",
            VulnerableGroup::CareLeaver => "Care leaver",
            VulnerableGroup::CareLeaverThisLa => "Care leaver: this LA",
            VulnerableGroup::CareLeaverOtherLa => "Care leaver: other LA",
            VulnerableGroup::Yot => "Supervised by YOT",
            VulnerableGroup::Pregnancy => "Pregnancy",
            VulnerableGroup::ParentNotCaring => "Parent not caring for own child",
            VulnerableGroup::Send16To18 => "SEND 16–18",
            VulnerableGroup::SendEhc16To18 => "SEND with EHC plan 16–18",
            VulnerableGroup::Send19Plus => "SEND 19+",
        }
    }

    pub fn includes(self, s: &CaseSummary, on: NaiveDate) -> bool {
        use Characteristic as C;
        let has = |cs: &[Characteristic]| cs.iter().any(|c| s.has_characteristic(*c, on));
        let age = academic::academic_age(s.date_of_birth, on);
        let ehc = s.send.has_ehc_plan();
        let send = s.send != SendStatus::NoSend;
        match self {
            VulnerableGroup::ChildrenInCare => has(&[C::LookedAfterThisLa, C::LookedAfterOtherLa]),
            VulnerableGroup::ChildrenInCareThisLa => has(&[C::LookedAfterThisLa]),
            VulnerableGroup::ChildrenInCareOtherLa => has(&[C::LookedAfterOtherLa]),
            VulnerableGroup::CareLeaverThisLa => has(&[C::CareLeaverThisLa]),
            VulnerableGroup::CareLeaverOtherLa => has(&[C::CareLeaverOtherLa]),
            VulnerableGroup::CaringForOwnChild => has(&[C::ParentCaring, C::TeenageMother]),
            VulnerableGroup::AsylumSeeker => has(&[C::RefugeeAsylumSeeker, C::Uasc]),
            VulnerableGroup::CarerNotOwnChild => has(&[C::CarerNotOwnChild]),
            VulnerableGroup::SubstanceMisuse => has(&[C::SubstanceMisuse]),
            VulnerableGroup::CareLeaver => has(&[C::CareLeaverThisLa, C::CareLeaverOtherLa]),
            VulnerableGroup::Yot => has(&[C::SupervisedByYot]),
            VulnerableGroup::Pregnancy => has(&[C::Pregnant]),
            VulnerableGroup::ParentNotCaring => has(&[C::ParentNotCaring]),
            VulnerableGroup::Send16To18 => send && (16..=18).contains(&age),
            VulnerableGroup::SendEhc16To18 => ehc && (16..=18).contains(&age),
            VulnerableGroup::Send19Plus => ehc && age >= 19,
        }
    }
}
