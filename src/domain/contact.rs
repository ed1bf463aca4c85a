//! Contact attempts: how the caseworker tried to reach the young person and what
//! happened. Most attempts fail; every one is kept.

use super::error::{DomainError, check_len};
use super::person::MAX_TEXT;
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

named_enum!(Channel {
    Phone => "Phone",
    Text => "Text message",
    Email => "Email",
    Letter => "Letter",
    SocialMedia => "Social media",
    HomeVisit => "Home visit",
    FaceToFace => "Face to face",
    ViaSchool => "Via school",
    ViaCollege => "Via college",
    ViaParentCarer => "Via parent/carer",
    ViaOtherProfessional => "Via other professional",
});

named_enum!(Outcome {
    NoAnswer => "No answer",
    VoicemailLeft => "Voicemail left",
    WrongNumber => "Wrong or unobtainable number",
    PostReturned => "Post returned",
    SentNoReply => "Sent – no reply",
    SpokeToYoungPerson => "Spoke to young person",
    SpokeToParentCarer => "Spoke to parent/carer",
    SpokeToThirdParty => "Spoke to third party",
    Refused => "Refused to engage",
});

impl Channel {
    /// The outcomes an attempt by this channel can have: a letter is not
    /// "no answer", a text leaves no voicemail. The one table of which go
    /// together (docs/domain.md shows it).
    pub fn outcomes(self) -> &'static [Outcome] {
        use Outcome::*;
        match self {
            Channel::Phone => &[
                NoAnswer,
                VoicemailLeft,
                WrongNumber,
                SpokeToYoungPerson,
                SpokeToParentCarer,
                SpokeToThirdParty,
                Refused,
            ],
            Channel::Text => &[
                SentNoReply,
                WrongNumber,
                SpokeToYoungPerson,
                SpokeToParentCarer,
                Refused,
            ],
            Channel::Email => &[SentNoReply, SpokeToYoungPerson, SpokeToParentCarer, Refused],
            Channel::Letter => &[
                SentNoReply,
                PostReturned,
                SpokeToYoungPerson,
                SpokeToParentCarer,
                Refused,
            ],
            Channel::SocialMedia => &[
                SentNoReply,
                SpokeToYoungPerson,
                SpokeToParentCarer,
                SpokeToThirdParty,
                Refused,
            ],
            Channel::HomeVisit => &[
                NoAnswer,
                SpokeToYoungPerson,
                SpokeToParentCarer,
                SpokeToThirdParty,
                Refused,
            ],
            Channel::FaceToFace => &[
                SpokeToYoungPerson,
                SpokeToParentCarer,
                SpokeToThirdParty,
                Refused,
            ],
            Channel::ViaSchool | Channel::ViaCollege | Channel::ViaOtherProfessional => &[
                NoAnswer,
                VoicemailLeft,
                SentNoReply,
                SpokeToYoungPerson,
                SpokeToParentCarer,
                SpokeToThirdParty,
                Refused,
            ],
            Channel::ViaParentCarer => &[
                NoAnswer,
                VoicemailLeft,
                WrongNumber,
                SentNoReply,
                SpokeToYoungPerson,
                SpokeToParentCarer,
                Refused,
            ],
        }
    }

    /// Whether an attempt this way uses one of the record's own numbers,
    /// addresses or handles (through a school or in person it does not).
    pub fn uses_a_detail(self) -> bool {
        !matches!(
            self,
            Channel::FaceToFace
                | Channel::ViaSchool
                | Channel::ViaCollege
                | Channel::ViaOtherProfessional
        )
    }

    pub fn allows(self, outcome: Outcome) -> bool {
        self.outcomes().contains(&outcome)
    }

    /// Why `outcome` cannot be recorded for this channel, if it cannot.
    pub fn check_outcome(self, outcome: Outcome) -> Result<(), DomainError> {
        if self.allows(outcome) {
            return Ok(());
        }
        Err(DomainError::OutcomeDoesNotFit {
            channel: self.label(),
            outcome: outcome.label(),
            expected: self
                .outcomes()
                .iter()
                .map(|o| o.label())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// One attempt to reach a young person. Its author and the moment it was recorded
/// come from the op that carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactAttempt {
    /// When the attempt was made (local time), which may be earlier than when it
    /// was recorded.
    #[serde(with = "crate::domain::serde_date::datetime")]
    pub at: NaiveDateTime,
    pub channel: Channel,
    pub outcome: Outcome,
    pub note: String,
    #[serde(with = "crate::domain::serde_date::opt")]
    pub follow_up: Option<NaiveDate>,
}

impl ContactAttempt {
    pub fn validate(&self, date_of_birth: NaiveDate, today: NaiveDate) -> Result<(), DomainError> {
        self.channel.check_outcome(self.outcome)?;
        let on = self.at.date();
        if on < date_of_birth {
            return Err(DomainError::BeforeBirth {
                what: "contact attempt",
                date: on,
            });
        }
        if on > today {
            return Err(DomainError::InFuture {
                what: "contact attempt",
                date: on,
            });
        }
        if let Some(due) = self.follow_up
            && due < on
        {
            return Err(DomainError::DatesOutOfOrder {
                earlier: "contact attempt",
                later: "follow-up",
                first: on,
                second: due,
            });
        }
        check_len("note", &self.note, MAX_TEXT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn attempt(on: NaiveDate) -> ContactAttempt {
        ContactAttempt {
            at: on.and_hms_opt(10, 0, 0).unwrap(),
            channel: Channel::Phone,
            outcome: Outcome::NoAnswer,
            note: String::new(),
            follow_up: None,
        }
    }

    #[test]
    fn every_channel_has_outcomes_and_odd_pairs_are_refused() {
        for c in Channel::ALL {
            assert!(!c.outcomes().is_empty(), "{c:?}");
        }
        for o in Outcome::ALL {
            assert!(
                Channel::ALL.iter().any(|c| c.allows(*o)),
                "{o:?} fits nothing"
            );
        }
        let dob = d(2010, 5, 1);
        let today = d(2026, 11, 23);
        for (channel, outcome) in [
            (Channel::Letter, Outcome::NoAnswer),
            (Channel::Text, Outcome::VoicemailLeft),
            (Channel::HomeVisit, Outcome::VoicemailLeft),
            (Channel::Email, Outcome::PostReturned),
        ] {
            let mut a = attempt(today);
            (a.channel, a.outcome) = (channel, outcome);
            let refused = a.validate(dob, today).unwrap_err();
            assert!(matches!(refused, DomainError::OutcomeDoesNotFit { .. }));
            let words = refused.to_string();
            assert!(words.contains(outcome.label()) && words.contains(channel.label()));
        }
        let mut a = attempt(today);
        (a.channel, a.outcome) = (Channel::Letter, Outcome::PostReturned);
        assert_eq!(a.validate(dob, today), Ok(()));
    }

    #[test]
    fn contact_before_birth_or_in_future_is_refused() {
        let dob = d(2010, 5, 1);
        let today = d(2026, 11, 23);
        assert!(attempt(d(2026, 11, 23)).validate(dob, today).is_ok());
        assert_eq!(
            attempt(d(2009, 1, 1)).validate(dob, today),
            Err(DomainError::BeforeBirth {
                what: "contact attempt",
                date: d(2009, 1, 1)
            })
        );
        assert!(matches!(
            attempt(d(2026, 11, 24)).validate(dob, today),
            Err(DomainError::InFuture { .. })
        ));
    }

    #[test]
    fn follow_up_cannot_precede_the_attempt() {
        let mut a = attempt(d(2026, 11, 20));
        a.follow_up = Some(d(2026, 11, 19));
        assert!(matches!(
            a.validate(d(2010, 1, 1), d(2026, 11, 23)),
            Err(DomainError::DatesOutOfOrder { .. })
        ));
    }

    #[test]
    fn outcomes_parse_from_short_words() {
        assert_eq!(Outcome::parse("no answer"), Ok(Outcome::NoAnswer));
        assert_eq!(Outcome::parse("NoAnswer"), Ok(Outcome::NoAnswer));
        assert_eq!(Channel::parse("home visit"), Ok(Channel::HomeVisit));
        assert!(Channel::parse("carrier pigeon").is_err());
    }
}
