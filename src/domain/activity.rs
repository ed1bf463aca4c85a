//! The young person's current activity (NCCIS code) and how sure we are of it.

use super::codes::ActivityCode;
use super::error::{DomainError, check_len};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

named_enum!(
    /// Where the information about an activity came from.
    ActivitySource {
        YoungPerson => "Young person",
        ParentCarer => "Parent/carer",
        School => "School",
        College => "College or provider",
        TrainingProvider => "Training provider",
        Employer => "Employer",
        Dwp => "DWP / Jobcentre",
        OtherProfessional => "Other professional",
        EnrolmentReturn => "Enrolment return",
        Import => "Import",
    }
);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentActivity {
    pub code: ActivityCode,
    #[serde(with = "crate::domain::serde_date")]
    pub start: NaiveDate,
    /// The date it was last confirmed: currency runs from here.
    #[serde(with = "crate::domain::serde_date")]
    pub confirmed: NaiveDate,
    pub source: ActivitySource,
    #[serde(with = "crate::domain::serde_date::opt")]
    pub expected_end: Option<NaiveDate>,
    /// The provider or employer, where there is one.
    pub provider: Option<super::text::ShortText>,
}

impl CurrentActivity {
    /// What the young person says they are doing, from `start`, confirmed
    /// today: what a caseworker records from a conversation.
    pub fn as_told(code: ActivityCode, start: NaiveDate, today: NaiveDate) -> Self {
        Self {
            code,
            start,
            confirmed: today,
            source: ActivitySource::YoungPerson,
            expected_end: None,
            provider: None,
        }
    }

    pub fn validate(&self, date_of_birth: NaiveDate, today: NaiveDate) -> Result<(), DomainError> {
        for (what, date) in [
            ("activity start", self.start),
            ("activity confirmation", self.confirmed),
        ] {
            if date < date_of_birth {
                return Err(DomainError::BeforeBirth { what, date });
            }
        }
        if self.confirmed > today {
            return Err(DomainError::InFuture {
                what: "activity confirmation",
                date: self.confirmed,
            });
        }
        if let Some(end) = self.expected_end
            && end < self.start
        {
            return Err(DomainError::DatesOutOfOrder {
                earlier: "activity start",
                later: "expected end",
                first: self.start,
                second: end,
            });
        }
        if let Some(p) = &self.provider {
            check_len("provider", p, 200)?;
        }
        Ok(())
    }
}
