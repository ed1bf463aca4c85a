//! Operations: every change to a young person's record is one `Op`. The log of ops
//! is the truth; the stored state is a fold over it (see `state.rs`), and sync
//! ships ops exactly as they are.

use super::activity::CurrentActivity;
use super::contact::ContactAttempt;
use super::details::UsedDetail;
use super::district::District;
use super::error::{DomainError, check_len};
use super::ids::{DeviceId, OpId, PersonId, WorkerId};
use super::person::{
    self, Address, Characteristic, CharacteristicSpan, Consent, ConsentStatus, ContactPreferences,
    Gender, LevelOfNeed, MAX_TEXT, PersonName, PhoneNumber, RiskIndicators, SendStatus,
    SocialHandle, Uln, Upn,
};
use super::records::{FollowUp, IntendedDestination, Note, RiskRating, SeptemberGuaranteeOffer};
use super::state::PersonState;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// A hybrid logical clock reading: wall-clock milliseconds, plus a counter that
/// orders events within one millisecond or while a peer's clock runs ahead.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hlc {
    pub millis: u64,
    pub counter: u32,
}

impl Hlc {
    pub fn new(millis: u64, counter: u32) -> Self {
        Self { millis, counter }
    }
}

impl fmt::Debug for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.millis, self.counter)
    }
}

/// The total order of last-writer-wins: clock first, op id to break ties.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    pub at: Hlc,
    pub op: OpId,
}

/// One change to one young person's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    pub id: OpId,
    pub at: Hlc,
    pub author: WorkerId,
    pub device: DeviceId,
    pub person: PersonId,
    pub payload: OpPayload,
}

impl Op {
    pub fn stamp(&self) -> Stamp {
        Stamp {
            at: self.at,
            op: self.id,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpPayload {
    /// Set one or more scalar fields (last-writer-wins). A new person is one of
    /// these with every identity field.
    SetFields(Vec<FieldSet>),
    LogContact(ContactAttempt),
    AddNote(Note),
    RateRisk(RiskRating),
    RecordDestination(IntendedDestination),
    RecordOffer(SeptemberGuaranteeOffer),
    ScheduleFollowUp(FollowUp),
    CompleteFollowUp {
        follow_up: OpId,
        #[serde(with = "crate::domain::serde_date")]
        on: NaiveDate,
    },
    /// Marks an earlier entry (contact, note, rating…) as entered in error. The
    /// entry stays visible, struck through, with the reason: nothing is lost.
    Retract {
        target: OpId,
        reason: String,
    },
    /// A contact attempt and the number, address or handle it used. Last, so
    /// that ops stored before it existed decode as they were (an attempt
    /// without one is still `LogContact`).
    LogContactUsing {
        attempt: ContactAttempt,
        used: UsedDetail,
    },
}

impl OpPayload {
    /// A short name for the audit trail and logs: never the content.
    pub fn kind(&self) -> &'static str {
        match self {
            OpPayload::SetFields(_) => "set-fields",
            OpPayload::LogContact(_) | OpPayload::LogContactUsing { .. } => "log-contact",
            OpPayload::AddNote(_) => "add-note",
            OpPayload::RateRisk(_) => "rate-risk",
            OpPayload::RecordDestination(_) => "record-destination",
            OpPayload::RecordOffer(_) => "record-offer",
            OpPayload::ScheduleFollowUp(_) => "schedule-follow-up",
            OpPayload::CompleteFollowUp { .. } => "complete-follow-up",
            OpPayload::Retract { .. } => "retract",
        }
    }

    /// The contact attempt this op logs, with or without the detail it used.
    pub fn contact(&self) -> Option<&ContactAttempt> {
        match self {
            OpPayload::LogContact(attempt) | OpPayload::LogContactUsing { attempt, .. } => {
                Some(attempt)
            }
            _ => None,
        }
    }

    /// A contact attempt as an op: with the detail it used, if it used one.
    pub fn log_contact(attempt: ContactAttempt, used: Option<UsedDetail>) -> Self {
        match used {
            Some(used) => OpPayload::LogContactUsing { attempt, used },
            None => OpPayload::LogContact(attempt),
        }
    }
}

/// One field's new value, and the ops whose values the author saw and replaced.
/// `supersedes` is what lets the fold tell a knowing overwrite from a concurrent
/// edit made elsewhere, so the losing value of a real conflict is kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSet {
    pub value: FieldValue,
    pub supersedes: Vec<OpId>,
}

impl FieldSet {
    /// A value that supersedes nothing: a new record's first values, or a
    /// value whose `supersedes` the replica works out when it records it
    /// (`Replica::set_fields`).
    pub fn new(value: FieldValue) -> Self {
        Self {
            value,
            supersedes: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FieldValue {
    Name(PersonName),
    DateOfBirth(#[serde(with = "crate::domain::serde_date")] NaiveDate),
    Gender(Gender),
    Upn(Option<Upn>),
    Uln(Option<Uln>),
    Address(Address),
    Phones(Vec<PhoneNumber>),
    Email(Option<String>),
    Social(Vec<SocialHandle>),
    ContactPreferences(ContactPreferences),
    Consent(Consent),
    District(District),
    SchoolOrProvider(Option<String>),
    Send(SendStatus),
    /// `None` clears the characteristic.
    Characteristic(Characteristic, Option<CharacteristicSpan>),
    LevelOfNeed(Option<LevelOfNeed>),
    RiskIndicators(RiskIndicators),
    AssignedWorkers(BTreeSet<WorkerId>),
    CurrentActivity(CurrentActivity),
    /// Numbers and addresses found not to work (added last: older stores
    /// never hold it).
    NotWorking(Vec<super::details::NotWorking>),
    /// The authority they live in and, where different, where they learn
    /// (added last, after `NotWorking`).
    Residence(super::residence::Residence),
}

impl FieldValue {
    /// The value in a caseworker's words (UK dates), for messages such as a
    /// conflict's: never Rust's debug form.
    pub fn describe(&self) -> String {
        let uk = |d: &NaiveDate| d.format("%d/%m/%Y").to_string();
        let or_none = |v: Option<String>| v.unwrap_or_else(|| "none".to_string());
        let list = |v: Vec<String>| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        match self {
            FieldValue::Name(n) => match &n.preferred {
                Some(p) => format!("{} {} (\"{p}\")", n.given, n.family),
                None => format!("{} {}", n.given, n.family),
            },
            FieldValue::DateOfBirth(d) => uk(d),
            FieldValue::Gender(g) => g.to_string(),
            FieldValue::Upn(u) => or_none(u.as_ref().map(|u| u.as_str().to_string())),
            FieldValue::Uln(u) => or_none(u.as_ref().map(|u| u.as_str().to_string())),
            FieldValue::Address(a) => {
                let mut parts = a.lines.clone();
                if !a.town.is_empty() {
                    parts.push(a.town.clone());
                }
                if let Some(p) = &a.postcode {
                    parts.push(p.as_str().to_string());
                }
                list(parts)
            }
            FieldValue::Phones(p) => list(p.iter().map(|p| p.number.clone()).collect()),
            FieldValue::Email(e) => or_none(e.clone()),
            FieldValue::Social(s) => list(
                s.iter()
                    .map(|s| format!("{} {}", s.platform, s.handle))
                    .collect(),
            ),
            FieldValue::ContactPreferences(p) => {
                format!("prefers {}", or_none(p.preferred.map(|c| c.to_string())))
            }
            FieldValue::Consent(c) => match &c.recorded_on {
                Some(d) => format!("{} ({})", c.status, uk(d)),
                None => c.status.to_string(),
            },
            FieldValue::District(d) => d.to_string(),
            FieldValue::SchoolOrProvider(s) => or_none(s.clone()),
            FieldValue::Send(s) => s.to_string(),
            FieldValue::Characteristic(c, None) => format!("{c}: cleared"),
            FieldValue::Characteristic(c, Some(span)) => match &span.end {
                Some(end) => format!("{c} from {} to {}", uk(&span.start), uk(end)),
                None => format!("{c} from {}", uk(&span.start)),
            },
            FieldValue::LevelOfNeed(l) => or_none(l.map(|l| l.to_string())),
            FieldValue::RiskIndicators(r) => {
                let mut on = Vec::new();
                if r.attendance_below_90 {
                    on.push("attendance below 90%".to_string());
                }
                if r.exclusions {
                    on.push("exclusions".to_string());
                }
                if r.english_additional_language {
                    on.push("English as an additional language".to_string());
                }
                if r.not_on_track_level2 {
                    on.push("not on track for level 2".to_string());
                }
                list(on)
            }
            FieldValue::AssignedWorkers(w) => list(w.iter().map(|w| w.to_string()).collect()),
            FieldValue::NotWorking(v) => list(v.iter().map(|n| n.detail.clone()).collect()),
            FieldValue::CurrentActivity(a) => format!("{} from {}", a.code, uk(&a.start)),
            FieldValue::Residence(r) => r.describe(),
        }
    }
}

/// Which register a field value lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum FieldKey {
    Name,
    DateOfBirth,
    Gender,
    Upn,
    Uln,
    Address,
    Phones,
    Email,
    Social,
    ContactPreferences,
    Consent,
    District,
    SchoolOrProvider,
    Send,
    Characteristic(Characteristic),
    LevelOfNeed,
    RiskIndicators,
    AssignedWorkers,
    CurrentActivity,
    NotWorking,
    Residence,
}

impl FieldKey {
    /// What a caseworker calls the field (for conflict messages and audit).
    pub fn label(self) -> String {
        match self {
            FieldKey::Name => "name".into(),
            FieldKey::DateOfBirth => "date of birth".into(),
            FieldKey::Gender => "gender".into(),
            FieldKey::Upn => "UPN".into(),
            FieldKey::Uln => "ULN".into(),
            FieldKey::Address => "address".into(),
            FieldKey::Phones => "phone numbers".into(),
            FieldKey::Email => "email".into(),
            FieldKey::Social => "social media".into(),
            FieldKey::ContactPreferences => "contact preferences".into(),
            FieldKey::Consent => "consent".into(),
            FieldKey::District => "district".into(),
            FieldKey::SchoolOrProvider => "school or provider".into(),
            FieldKey::Send => "SEND".into(),
            FieldKey::Characteristic(c) => format!("characteristic: {}", c.label()),
            FieldKey::LevelOfNeed => "level of need".into(),
            FieldKey::RiskIndicators => "risk indicators".into(),
            FieldKey::AssignedWorkers => "assigned workers".into(),
            FieldKey::NotWorking => "numbers and addresses not working".into(),
            FieldKey::CurrentActivity => "current activity".into(),
            FieldKey::Residence => "authority of residence and of education".into(),
        }
    }
}

impl FieldValue {
    pub fn key(&self) -> FieldKey {
        match self {
            FieldValue::Name(_) => FieldKey::Name,
            FieldValue::DateOfBirth(_) => FieldKey::DateOfBirth,
            FieldValue::Gender(_) => FieldKey::Gender,
            FieldValue::Upn(_) => FieldKey::Upn,
            FieldValue::Uln(_) => FieldKey::Uln,
            FieldValue::Address(_) => FieldKey::Address,
            FieldValue::Phones(_) => FieldKey::Phones,
            FieldValue::Email(_) => FieldKey::Email,
            FieldValue::Social(_) => FieldKey::Social,
            FieldValue::ContactPreferences(_) => FieldKey::ContactPreferences,
            FieldValue::Consent(_) => FieldKey::Consent,
            FieldValue::District(_) => FieldKey::District,
            FieldValue::SchoolOrProvider(_) => FieldKey::SchoolOrProvider,
            FieldValue::Send(_) => FieldKey::Send,
            FieldValue::Characteristic(c, _) => FieldKey::Characteristic(*c),
            FieldValue::LevelOfNeed(_) => FieldKey::LevelOfNeed,
            FieldValue::RiskIndicators(_) => FieldKey::RiskIndicators,
            FieldValue::AssignedWorkers(_) => FieldKey::AssignedWorkers,
            FieldValue::NotWorking(_) => FieldKey::NotWorking,
            FieldValue::CurrentActivity(_) => FieldKey::CurrentActivity,
            FieldValue::Residence(_) => FieldKey::Residence,
        }
    }

    /// Checks the value on its own and against the person's date of birth.
    pub fn validate(&self, dob: Option<NaiveDate>, today: NaiveDate) -> Result<(), DomainError> {
        match self {
            FieldValue::Name(n) => n.validate(),
            FieldValue::DateOfBirth(d) => person::validate_date_of_birth(*d, today),
            FieldValue::Address(a) => a.validate(),
            // The typed rule, for numbers that arrive decoded (from the hub).
            FieldValue::Phones(phones) => phones
                .iter()
                .try_for_each(|p| PhoneNumber::new(p.label, &p.number).map(drop)),
            FieldValue::Email(Some(e)) => person::validate_email(e),
            FieldValue::SchoolOrProvider(Some(s)) => check_len("school or provider", s, 200),
            FieldValue::Social(handles) => handles
                .iter()
                .try_for_each(|h| check_len("social media handle", &h.handle, MAX_TEXT)),
            FieldValue::ContactPreferences(p) => {
                check_len("contact preferences", &p.notes, MAX_TEXT)
            }
            FieldValue::NotWorking(v) => match v.iter().find(|n| n.found_on > today) {
                Some(n) => Err(DomainError::InFuture {
                    what: "number or address found not working",
                    date: n.found_on,
                }),
                None => Ok(()),
            },
            FieldValue::Consent(c) => {
                if let Some(on) = c.recorded_on
                    && on > today
                {
                    return Err(DomainError::InFuture {
                        what: "consent",
                        date: on,
                    });
                }
                if c.status != ConsentStatus::NotAsked && c.recorded_on.is_none() {
                    return Err(DomainError::Empty("date consent was recorded"));
                }
                check_len("consent note", &c.note, MAX_TEXT)
            }
            FieldValue::Characteristic(_, Some(span)) => {
                if let Some(dob) = dob
                    && span.start < dob
                {
                    return Err(DomainError::BeforeBirth {
                        what: "characteristic start",
                        date: span.start,
                    });
                }
                match span.end {
                    Some(end) if end < span.start => Err(DomainError::DatesOutOfOrder {
                        earlier: "characteristic start",
                        later: "characteristic end",
                        first: span.start,
                        second: end,
                    }),
                    _ => Ok(()),
                }
            }
            FieldValue::Residence(r) => r.validate(),
            FieldValue::CurrentActivity(a) => match dob {
                Some(dob) => a.validate(dob, today),
                None => Err(DomainError::Empty(
                    "date of birth (needed before an activity)",
                )),
            },
            _ => Ok(()),
        }
    }
}

impl OpPayload {
    /// [`validate`](Self::validate), and the rule that depends on who makes
    /// the change: a follow-up is marked done only by whoever set it. Checked
    /// where ops are made and again by the hub on every push.
    pub fn validate_by(
        &self,
        author: &WorkerId,
        state: Option<&PersonState>,
        today: NaiveDate,
    ) -> Result<(), DomainError> {
        self.validate(state, today)?;
        if let OpPayload::CompleteFollowUp { follow_up, .. } = self
            && state.and_then(|s| s.follow_up_owner(*follow_up)) != Some(author)
        {
            return Err(DomainError::Invalid {
                field: "follow-up",
                reason: "it belongs to whoever set it, and only they can mark it done",
            });
        }
        Ok(())
    }

    /// Checks a payload before it is written: codes, dates against birth and today,
    /// lengths, and that it refers to a person (and entries) that exist. Ops from
    /// elsewhere are checked the same way before they are applied.
    pub fn validate(
        &self,
        state: Option<&PersonState>,
        today: NaiveDate,
    ) -> Result<(), DomainError> {
        // A new record must start with its identity.
        let new_dob = match self {
            OpPayload::SetFields(sets) => sets.iter().find_map(|s| match s.value {
                FieldValue::DateOfBirth(d) => Some(d),
                _ => None,
            }),
            _ => None,
        };
        // Every text in the op, whatever the field: characters and lengths.
        super::text::check_all(self)?;
        let dob = new_dob.or_else(|| state.and_then(PersonState::date_of_birth));
        let Some(dob) = dob else {
            return Err(DomainError::Invalid {
                field: "record",
                reason: "a new record needs a name and a date of birth first",
            });
        };
        match self {
            OpPayload::SetFields(sets) => {
                if sets.is_empty() {
                    return Err(DomainError::Empty("change"));
                }
                // At most `MAX_ITEMS` sets (checked above): a list on the
                // stack, searched, instead of a tree on the heap at every
                // change (a thirtieth of checking a cohort file).
                let mut keys: smallvec::SmallVec<[FieldKey; 32]> = smallvec::SmallVec::new();
                for set in sets {
                    let key = set.value.key();
                    if keys.contains(&key) {
                        return Err(DomainError::Invalid {
                            field: "change",
                            reason: "the same field is set twice in one change",
                        });
                    }
                    keys.push(key);
                    set.value.validate(Some(dob), today)?;
                }
                if state.is_none_or(|s| !s.is_registered())
                    && !(keys.contains(&FieldKey::Name) && keys.contains(&FieldKey::District))
                {
                    return Err(DomainError::Invalid {
                        field: "record",
                        reason: "a new record needs a name, a date of birth and a district",
                    });
                }
                Ok(())
            }
            OpPayload::LogContact(c) => c.validate(dob, today),
            OpPayload::LogContactUsing { attempt, used } => {
                attempt.validate(dob, today)?;
                if !attempt.channel.uses_a_detail() {
                    return Err(DomainError::Invalid {
                        field: "number or address used",
                        reason: "this channel uses none of the record's numbers, addresses or handles",
                    });
                }
                if used.detail.trim().is_empty() {
                    return Err(DomainError::Empty("number or address used"));
                }
                Ok(())
            }
            OpPayload::AddNote(n) => n.validate(),
            OpPayload::RateRisk(r) => r.validate(today),
            OpPayload::RecordDestination(d) => d.validate(today),
            OpPayload::RecordOffer(o) => o.validate(today),
            OpPayload::ScheduleFollowUp(f) => {
                if f.due < dob {
                    return Err(DomainError::BeforeBirth {
                        what: "follow-up",
                        date: f.due,
                    });
                }
                check_len("follow-up reason", &f.reason, MAX_TEXT)
            }
            OpPayload::CompleteFollowUp { follow_up, on } => {
                if *on > today {
                    return Err(DomainError::InFuture {
                        what: "follow-up completion",
                        date: *on,
                    });
                }
                if state.is_some_and(|s| s.has_follow_up(*follow_up)) {
                    Ok(())
                } else {
                    Err(DomainError::Invalid {
                        field: "follow-up",
                        reason: "no such follow-up on this record",
                    })
                }
            }
            OpPayload::Retract { target, reason } => {
                if reason.trim().is_empty() {
                    return Err(DomainError::Empty("reason for the correction"));
                }
                check_len("reason", reason, MAX_TEXT)?;
                if state.is_some_and(|s| s.has_entry(*target)) {
                    Ok(())
                } else {
                    Err(DomainError::Invalid {
                        field: "correction",
                        reason: "no such entry on this record",
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::person::{Address, Characteristic, CharacteristicSpan};

    #[test]
    fn a_change_that_sets_a_field_twice_is_refused() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let name = |given: &str| {
            FieldSet::new(FieldValue::Name(crate::domain::person::PersonName {
                given: given.into(),
                family: "Okoro".into(),
                preferred: None,
            }))
        };
        let dob = FieldSet::new(FieldValue::DateOfBirth(
            NaiveDate::from_ymd_opt(2010, 3, 14).expect("date"),
        ));
        let district = FieldSet::new(FieldValue::District(crate::domain::District::Thanet));
        let once = vec![name("Priya"), dob.clone(), district.clone()];
        assert_eq!(OpPayload::SetFields(once).validate(None, today), Ok(()));
        let twice = vec![name("Priya"), dob, district, name("Pria")];
        assert!(matches!(
            OpPayload::SetFields(twice).validate(None, today),
            Err(DomainError::Invalid {
                field: "change",
                ..
            })
        ));
    }

    #[test]
    fn phone_numbers_that_arrive_decoded_pass_the_typed_rule() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let phones = |number: &str| {
            FieldValue::Phones(vec![PhoneNumber {
                label: crate::domain::person::PhoneLabel::Mobile,
                number: number.into(),
            }])
        };
        assert!(phones("07700 900123").validate(None, today).is_ok());
        for bad in ["123", "1234567890123456789", "07700 9001x3"] {
            assert!(phones(bad).validate(None, today).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_field_value_is_described_in_words_never_debug_form() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        let cases = [
            (FieldValue::DateOfBirth(d(2009, 3, 7)), "07/03/2009"),
            (FieldValue::Email(None), "none"),
            (
                FieldValue::SchoolOrProvider(Some("Hartsdown Academy".into())),
                "Hartsdown Academy",
            ),
            (
                FieldValue::Address(Address {
                    lines: vec!["1 High Street".into()],
                    town: "Margate".into(),
                    postcode: None,
                }),
                "1 High Street, Margate",
            ),
            (
                FieldValue::Characteristic(
                    Characteristic::Pregnant,
                    Some(CharacteristicSpan {
                        start: d(2026, 1, 5),
                        end: None,
                    }),
                ),
                "from 05/01/2026",
            ),
        ];
        for (value, words) in cases {
            let said = value.describe();
            assert!(said.contains(words), "{said}");
            for debug in ["Some(", "None", "{", "\""] {
                assert!(!said.contains(debug), "debug form in {said}");
            }
        }
    }

    #[test]
    fn an_attempt_in_person_uses_none_of_the_records_details() {
        let pat = crate::domain::details::tests::person();
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        let state = PersonState::fold(
            pat.id,
            [&Op {
                id: OpId(uuid::Uuid::from_u128(1)),
                at: Hlc::new(1, 0),
                author: WorkerId::new("a.khan"),
                device: DeviceId::random(),
                person: pat.id,
                payload: OpPayload::SetFields(vec![FieldSet::new(FieldValue::DateOfBirth(
                    pat.date_of_birth,
                ))]),
            }],
        );
        let attempt = |channel| ContactAttempt {
            at: today.and_hms_opt(9, 0, 0).expect("time"),
            channel,
            outcome: crate::domain::Outcome::SpokeToYoungPerson,
            note: String::new(),
            follow_up: None,
        };
        let used = UsedDetail {
            label: "Mobile".into(),
            detail: "07700 900123".into(),
        };
        let phone =
            OpPayload::log_contact(attempt(crate::domain::Channel::Phone), Some(used.clone()));
        assert_eq!(phone.validate(Some(&state), today), Ok(()));
        let in_person =
            OpPayload::log_contact(attempt(crate::domain::Channel::FaceToFace), Some(used));
        assert!(in_person.validate(Some(&state), today).is_err());
        let blank = OpPayload::log_contact(
            attempt(crate::domain::Channel::Phone),
            Some(UsedDetail {
                label: "Mobile".into(),
                detail: " ".into(),
            }),
        );
        assert!(blank.validate(Some(&state), today).is_err());
    }
}
