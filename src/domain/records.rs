//! What the caseworker writes down over time: risk ratings, September Guarantee
//! offers, intended destinations, notes and follow-ups. All append-only.

use super::error::{DomainError, check_len};
use super::person::MAX_TEXT;
use super::risk::RiskFactor;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

named_enum!(
    /// Risk of becoming NEET.
    Rag {
        Red => "Red",
        Amber => "Amber",
        Green => "Green",
    }
);

impl Rag {
    /// One letter for tables; always shown, so colour never carries meaning alone.
    pub fn letter(self) -> char {
        match self {
            Rag::Red => 'R',
            Rag::Amber => 'A',
            Rag::Green => 'G',
        }
    }
}

/// The officer's rating. It always wins over a computed suggestion and says why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskRating {
    pub rag: Rag,
    pub reason: String,
    pub factors: Vec<RiskFactor>,
    #[serde(with = "crate::domain::serde_date")]
    pub rated_on: NaiveDate,
    #[serde(with = "crate::domain::serde_date")]
    pub review_due: NaiveDate,
}

impl RiskRating {
    pub fn validate(&self, today: NaiveDate) -> Result<(), DomainError> {
        if self.reason.trim().is_empty() {
            return Err(DomainError::Empty("reason for the rating"));
        }
        check_len("reason", &self.reason, MAX_TEXT)?;
        if self.rated_on > today {
            return Err(DomainError::InFuture {
                what: "rating",
                date: self.rated_on,
            });
        }
        if self.review_due < self.rated_on {
            return Err(DomainError::DatesOutOfOrder {
                earlier: "rating",
                later: "review date",
                first: self.rated_on,
                second: self.review_due,
            });
        }
        Ok(())
    }
}

named_enum!(DestinationKind {
    FullTimeEducation => "Full-time education",
    Apprenticeship => "Apprenticeship",
    EmploymentWithTraining => "Employment with training",
    Traineeship => "Traineeship or other training",
    SupportedInternship => "Supported internship",
    Employment => "Employment without training",
    Undecided => "Undecided",
});

/// What a Year 11 pupil intends to do next (statutory return in spring).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntendedDestination {
    pub kind: DestinationKind,
    pub provider: Option<String>,
    #[serde(with = "crate::domain::serde_date")]
    pub recorded_on: NaiveDate,
}

named_enum!(OfferYear {
    Year11 => "Year 11",
    Year12 => "Year 12",
});

named_enum!(OfferStatus {
    OfferMade => "Offer made",
    OfferAccepted => "Offer accepted",
    NoOffer => "No offer yet",
    OfferDeclined => "Offer declined",
});

/// A September Guarantee offer of a suitable place (statutory return in autumn).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeptemberGuaranteeOffer {
    pub year: OfferYear,
    pub status: OfferStatus,
    pub kind: Option<DestinationKind>,
    pub provider: Option<String>,
    #[serde(with = "crate::domain::serde_date")]
    pub recorded_on: NaiveDate,
}

impl SeptemberGuaranteeOffer {
    pub fn is_offer(&self) -> bool {
        matches!(
            self.status,
            OfferStatus::OfferMade | OfferStatus::OfferAccepted
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub text: String,
}

impl Note {
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.text.trim().is_empty() {
            return Err(DomainError::Empty("note"));
        }
        check_len("note", &self.text, MAX_TEXT)
    }
}

/// Something to do for this young person by a date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    #[serde(with = "crate::domain::serde_date")]
    pub due: NaiveDate,
    pub reason: String,
}

fn recorded_not_in_future(
    what: &'static str,
    date: NaiveDate,
    today: NaiveDate,
) -> Result<(), DomainError> {
    if date > today {
        Err(DomainError::InFuture { what, date })
    } else {
        Ok(())
    }
}

impl IntendedDestination {
    pub fn validate(&self, today: NaiveDate) -> Result<(), DomainError> {
        recorded_not_in_future("intended destination", self.recorded_on, today)
    }
}

impl SeptemberGuaranteeOffer {
    pub fn validate(&self, today: NaiveDate) -> Result<(), DomainError> {
        recorded_not_in_future("September Guarantee offer", self.recorded_on, today)
    }
}
