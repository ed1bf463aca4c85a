//! The facts about a young person that listing, search, the agenda and the
//! figures need, without the full history. Derived from the fold, stored sealed
//! beside it, and loaded at unlock to build the in-memory index.

use super::activity::CurrentActivity;
use super::contact::{Channel, Outcome};
use super::district::District;
use super::fingerprint::CohortFingerprint;
use super::ids::{PersonId, WorkerId};
use super::ops::FieldValue;
use super::person::{
    Characteristic, CharacteristicSpan, Gender, LevelOfNeed, PersonName, Postcode, SendStatus, Uln,
    Upn,
};
use super::records::{DestinationKind, OfferStatus, OfferYear, Rag};
use super::residence::Residence;
use super::state::PersonState;
use super::text::ShortText;
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

mod activities;
pub use activities::{Activities, ActivityChange};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastContact {
    #[serde(with = "crate::domain::serde_date::datetime")]
    pub at: NaiveDateTime,
    pub channel: Channel,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingSummary {
    pub rag: Rag,
    #[serde(with = "crate::domain::serde_date")]
    pub rated_on: NaiveDate,
    #[serde(with = "crate::domain::serde_date")]
    pub review_due: NaiveDate,
}

/// A person's phone numbers, digits only, held as one space-separated text:
/// inline up to 24 bytes (two mobile numbers), else one allocation, instead
/// of one per number and one for the list; search reads them as one text
/// anyway. Stored and sent as a list of strings, as when this was a
/// `Vec<String>`; decoding refuses anything but digits, so the separator
/// cannot be smuggled in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PhoneDigits(super::text::ShortText);

impl PhoneDigits {
    /// Each number's digits, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.split(' ').filter(|n| !n.is_empty())
    }

    /// Every number, separated by single spaces.
    pub fn as_text(&self) -> &str {
        &self.0
    }

    fn push(&mut self, digits: &str) {
        if digits.is_empty() {
            return;
        }
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        self.0.push_str(digits);
    }
}

impl FromIterator<String> for PhoneDigits {
    fn from_iter<I: IntoIterator<Item = String>>(numbers: I) -> Self {
        let mut all = PhoneDigits::default();
        for n in numbers {
            all.push(&n);
        }
        all
    }
}

impl Serialize for PhoneDigits {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        // The length first: postcard writes it before the elements.
        let mut seq = s.serialize_seq(Some(self.iter().count()))?;
        for number in self.iter() {
            seq.serialize_element(number)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for PhoneDigits {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{DeserializeSeed, SeqAccess, Visitor};
        use std::fmt;

        /// Appends one number to the text as it is decoded, without a
        /// string of its own.
        struct Append<'a>(&'a mut PhoneDigits);
        impl<'de> DeserializeSeed<'de> for Append<'_> {
            type Value = ();
            fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_str(self)
            }
        }
        impl Visitor<'_> for Append<'_> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a phone number's digits")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
                // Digits only, so the separator cannot get in; no length
                // rule here: ops bring numbers checked when they arrive, and
                // an older store may hold a longer one, which must still read.
                if !v.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(E::custom("a phone number's digits"));
                }
                self.0.push(v);
                Ok(())
            }
        }

        struct Numbers;
        impl<'de> Visitor<'de> for Numbers {
            type Value = PhoneDigits;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of phone numbers")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PhoneDigits, A::Error> {
                let mut all = PhoneDigits::default();
                while seq.next_element_seed(Append(&mut all))?.is_some() {}
                Ok(all)
            }
        }
        d.deserialize_seq(Numbers)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub id: PersonId,
    pub name: PersonName,
    #[serde(with = "crate::domain::serde_date")]
    pub date_of_birth: NaiveDate,
    pub gender: Gender,
    pub upn: Option<Upn>,
    pub uln: Option<Uln>,
    pub postcode: Option<Postcode>,
    /// Phone numbers as digits only, for search and for the tracking queue.
    pub phones: PhoneDigits,
    pub district: District,
    pub send: SendStatus,
    pub characteristics: Vec<(Characteristic, CharacteristicSpan)>,
    pub level_of_need: Option<LevelOfNeed>,
    /// What they are doing now and each change of it as recorded. Stored
    /// as the two fields it was before (`activity`, `activity_changes`).
    pub activity: Activities,
    pub rating: Option<RatingSummary>,
    pub last_contact: Option<LastContact>,
    pub contact_attempts: u32,
    #[serde(with = "crate::domain::serde_date::opt")]
    pub next_follow_up: Option<NaiveDate>,
    /// Sorted, each once (from the record's set). Not a `BTreeSet`, whose
    /// first node costs ~280 B of heap (14 MB over 52,500 summaries): the
    /// usual one worker is held inline, more go to the heap together. A
    /// sequence to serde either way, so stored summaries read as before.
    pub assigned: smallvec::SmallVec<[WorkerId; 1]>,
    pub has_offer: bool,
    pub has_destination: bool,
    pub conflicts: u32,
    pub last_change_millis: u64,
    /// When the record first appeared (its earliest op).
    pub first_change_millis: u64,
    pub offer: Option<(OfferYear, OfferStatus)>,
    pub destination: Option<DestinationKind>,
    /// Where they live and learn: the headline counts residents only. Added
    /// last (see `serde_added`): summaries stored before read as residents.
    #[serde(default, deserialize_with = "crate::domain::serde_added::or_empty")]
    pub residence: Residence,
    /// The values a cohort file may set, fingerprinted (`domain::fingerprint`):
    /// what an unchanged re-import compares a row with. Added last; `None` in
    /// summaries stored before it.
    #[serde(default, deserialize_with = "crate::domain::serde_added::or_empty")]
    pub cohort_fingerprint: Option<CohortFingerprint>,
}

/// Where a person comes in a list of people ([`CaseSummary::list_order`]).
pub type ListOrder = (ShortText, ShortText, NaiveDate, PersonId);

impl CaseSummary {
    /// Where this person comes in a list of people: family name, then given
    /// name (case aside), then date of birth, then id. Total, so that two
    /// people alike keep one order whatever order the store holds them in.
    pub fn list_order(&self) -> ListOrder {
        (
            super::text::lower_case(&self.name.family),
            super::text::lower_case(&self.name.given),
            self.date_of_birth,
            self.id,
        )
    }

    /// Whether `stored` is the summary `made` from the record now. One stored
    /// before cohort fingerprints has none and is not damaged for it (an
    /// import compares that record's row with the record itself).
    pub fn is_stored_as(made: Option<&CaseSummary>, stored: Option<&CaseSummary>) -> bool {
        match (made, stored) {
            (Some(made), Some(stored))
                if stored.cohort_fingerprint.is_none() && made.cohort_fingerprint.is_some() =>
            {
                let without = CaseSummary {
                    cohort_fingerprint: None,
                    ..made.clone()
                };
                without == *stored
            }
            _ => made == stored,
        }
    }

    /// `None` while the record is incomplete (its registering op not yet here).
    pub fn of(state: &PersonState) -> Option<CaseSummary> {
        let mut summary = Self::without_fingerprint(state)?;
        summary.cohort_fingerprint = CohortFingerprint::of(state.cohort_values());
        Some(summary)
    }

    /// The summary without its cohort fingerprint, where no cohort file is
    /// ever compared with it: the hub's scope checks, which would otherwise
    /// hash every person of every push for nothing. (The summaries the hub
    /// stores keep it: a `hub import` matches rows against them.)
    pub fn without_fingerprint(state: &PersonState) -> Option<CaseSummary> {
        if !state.is_registered() {
            return None;
        }
        let live = |op| !state.is_retracted(op);
        let mut summary = CaseSummary {
            id: state.id,
            name: PersonName::default(),
            date_of_birth: state.date_of_birth()?,
            gender: Gender::NotKnown,
            upn: None,
            uln: None,
            postcode: None,
            phones: PhoneDigits::default(),
            district: District::OutOfCounty,
            send: SendStatus::NoSend,
            characteristics: Vec::new(),
            level_of_need: None,
            activity: Activities::new(
                state.current_activity().cloned(),
                state
                    .activity_history
                    .iter()
                    .filter(|a| live(a.op()))
                    .map(|a| ActivityChange {
                        recorded_millis: a.stamp.at.millis,
                        activity: a.value.clone(),
                    }),
            ),
            rating: state.latest_rating().map(|r| RatingSummary {
                rag: r.value.rag,
                rated_on: r.value.rated_on,
                review_due: r.value.review_due,
            }),
            last_contact: state.last_contact().map(|c| LastContact {
                at: c.value.at,
                channel: c.value.channel,
                outcome: c.value.outcome,
            }),
            contact_attempts: state.contacts.iter().filter(|c| live(c.op())).count() as u32,
            next_follow_up: state.next_follow_up_due(),
            assigned: Default::default(),
            has_offer: state
                .offers
                .iter()
                .any(|o| live(o.op()) && o.value.is_offer()),
            has_destination: state.latest_destination().is_some(),
            conflicts: state.conflict_count(),
            last_change_millis: state.last_change.map_or(0, |s| s.at.millis),
            first_change_millis: state.first_change.map_or(0, |s| s.at.millis),
            offer: state.latest_offer().map(|o| (o.value.year, o.value.status)),
            destination: state.latest_destination().map(|d| d.value.kind),
            residence: Residence::default(),
            cohort_fingerprint: None,
        };
        summary.take_person_fields(state);
        Some(summary)
    }

    /// The young person's own fields (as `PersonState::young_person` reads
    /// them, with the same defaults), each borrowed from the record and only
    /// what a summary keeps copied: building the whole young person copied
    /// their address, contacts and the rest for nothing, on every commit and
    /// every row of an import.
    fn take_person_fields(&mut self, state: &PersonState) {
        for value in state.current_values() {
            match value {
                FieldValue::Name(n) => self.name = n.clone(),
                FieldValue::Gender(g) => self.gender = *g,
                FieldValue::Upn(v) => self.upn = *v,
                FieldValue::Uln(v) => self.uln = *v,
                FieldValue::Address(a) => self.postcode = a.postcode,
                FieldValue::Phones(v) => self.phones = v.iter().map(|p| p.digits()).collect(),
                FieldValue::District(d) => self.district = *d,
                FieldValue::Send(v) => self.send = *v,
                FieldValue::Characteristic(c, Some(span)) => self.characteristics.push((*c, *span)),
                FieldValue::LevelOfNeed(v) => self.level_of_need = *v,
                FieldValue::AssignedWorkers(v) => self.assigned = v.iter().cloned().collect(),
                FieldValue::Residence(v) => self.residence = *v,
                FieldValue::Characteristic(_, None)
                | FieldValue::DateOfBirth(_)
                | FieldValue::CurrentActivity(_)
                | FieldValue::Email(_)
                | FieldValue::Social(_)
                | FieldValue::ContactPreferences(_)
                | FieldValue::Consent(_)
                | FieldValue::SchoolOrProvider(_)
                | FieldValue::RiskIndicators(_)
                | FieldValue::NotWorking(_) => {}
            }
        }
    }

    /// The activity known at the end of `on`: the latest one recorded by then.
    pub fn activity_on(&self, on: NaiveDate) -> Option<&CurrentActivity> {
        self.activity
            .changes()
            .iter()
            .filter(|c| c.recorded_on() <= on)
            .max_by_key(|c| c.recorded_millis)
            .map(|c| &c.activity)
    }

    /// The record as everything recorded by the end of `known` shows it, each
    /// activity dated from its start rather than from when it was recorded:
    /// figures "as of" a day over it count what was in effect that day, as
    /// known at `known` (a young person recorded later, in an activity they
    /// had started before, counts). `None` when nothing was recorded by then.
    pub fn in_effect_as_known(&self, known: NaiveDate) -> Option<CaseSummary> {
        if !self.known_on(known) {
            return None;
        }
        let mut changes: Vec<ActivityChange> = self
            .activity
            .changes()
            .iter()
            .filter(|c| c.recorded_on() <= known)
            .cloned()
            .collect();
        // By start; a correction of the same start after what it corrects.
        changes.sort_by_key(|c| (c.activity.start, c.recorded_millis));
        for (order, c) in changes.iter_mut().enumerate() {
            // Noon of the start, plus the order: still that day, never a tie.
            c.recorded_millis = super::dates::local_noon_millis(c.activity.start) + order as u64;
        }
        let first_change_millis = changes
            .iter()
            .map(|c| c.recorded_millis)
            .fold(self.first_change_millis, u64::min);
        Some(CaseSummary {
            activity: self.activity.with_changes(changes),
            first_change_millis,
            ..self.clone()
        })
    }

    /// Whether the record existed by the end of `on`.
    pub fn known_on(&self, on: NaiveDate) -> bool {
        super::dates::local_day(self.first_change_millis) <= on
    }

    pub fn has_characteristic(&self, c: Characteristic, on: NaiveDate) -> bool {
        self.characteristics
            .iter()
            .any(|(k, span)| *k == c && span.covers(on))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_a_list_on_disk_and_one_text_in_memory() {
        let stored = postcard::to_allocvec(&vec!["07700900123".to_string(), "01227123456".into()])
            .expect("encode");
        let phones: PhoneDigits = postcard::from_bytes(&stored).expect("decode");
        assert_eq!(phones.as_text(), "07700900123 01227123456");
        assert_eq!(
            phones.iter().collect::<Vec<_>>(),
            ["07700900123", "01227123456"]
        );
        assert_eq!(postcard::to_allocvec(&phones).expect("encode"), stored);
        assert_eq!(
            serde_json::to_string(&phones).expect("json"),
            r#"["07700900123","01227123456"]"#
        );
        let none: PhoneDigits = postcard::from_bytes(&[0]).expect("empty list");
        assert_eq!((none.as_text(), none.iter().count()), ("", 0));
        for hostile in [
            vec!["0770 0900"],
            vec!["12a"],
            vec!["1 ".repeat(33).as_str()],
        ] {
            let bytes = postcard::to_allocvec(&hostile).expect("encode");
            assert!(
                postcard::from_bytes::<PhoneDigits>(&bytes).is_err(),
                "{hostile:?}"
            );
        }
        // A long number an older store may hold still reads.
        let long = postcard::to_allocvec(&vec!["1".repeat(40)]).expect("encode");
        let read: PhoneDigits = postcard::from_bytes(&long).expect("long number");
        assert_eq!(read.as_text().len(), 40);
    }
    use crate::domain::ops::{FieldSet, Hlc, Op, OpPayload};
    use crate::domain::{DeviceId, FieldValue, OpId};

    #[test]
    fn a_summary_stored_before_residence_reads_as_a_resident() {
        let pat = crate::domain::details::tests::person();
        let op = Op {
            id: OpId(uuid::Uuid::from_u128(1)),
            at: Hlc::new(1, 0),
            author: WorkerId::new("a.khan"),
            device: DeviceId(uuid::Uuid::from_u128(2)),
            person: pat.id,
            payload: OpPayload::SetFields(
                [
                    FieldValue::Name(pat.name.clone()),
                    FieldValue::DateOfBirth(pat.date_of_birth),
                    FieldValue::District(pat.district),
                ]
                .into_iter()
                .map(FieldSet::new)
                .collect(),
            ),
        };
        let summary = CaseSummary::of(&PersonState::fold(pat.id, [&op])).expect("registered");
        assert!(summary.residence.resident_here());
        let mut old = postcard::to_allocvec(&summary).expect("encode");
        // The cohort fingerprint, added after it: a tag, a length, 16 bytes.
        assert_eq!(old.split_off(old.len() - 18)[..2], [1, 16]);
        // A resident learning where they live: two bytes, written before.
        assert_eq!(old.split_off(old.len() - 2), [0, 0]);
        let read: CaseSummary = postcard::from_bytes(&old).expect("old bytes");
        assert_eq!(
            read,
            CaseSummary {
                cohort_fingerprint: None,
                ..summary.clone()
            }
        );
        // What the hub keeps: the same, without the fingerprint.
        let state = PersonState::fold(pat.id, [&op]);
        assert!(summary.cohort_fingerprint.is_some());
        assert_eq!(CaseSummary::without_fingerprint(&state), Some(read));
    }

    /// The summary as it was made before it borrowed the record: from the
    /// whole young person, and the conflicts listed to be counted.
    fn summary_from_young_person(state: &PersonState) -> Option<CaseSummary> {
        let person = state.young_person()?;
        let made = CaseSummary::without_fingerprint(state)?;
        Some(CaseSummary {
            id: person.id,
            postcode: person.address.postcode,
            phones: person.phones.iter().map(|p| p.digits()).collect(),
            name: person.name,
            date_of_birth: person.date_of_birth,
            gender: person.gender,
            upn: person.upn,
            uln: person.uln,
            district: person.district,
            send: person.send,
            characteristics: person.characteristics,
            level_of_need: person.level_of_need,
            assigned: person.assigned_workers.into_iter().collect(),
            conflicts: state.conflicts().len() as u32,
            next_follow_up: state.open_follow_ups().first().map(|f| f.due),
            residence: person.residence,
            ..made
        })
    }

    #[test]
    fn a_summary_borrows_the_same_fields_the_young_person_has() {
        let ops = crate::demo::DemoCohort::test_ops(400, 7);
        let people: std::collections::BTreeSet<_> = ops.iter().map(|op| op.person).collect();
        let (mut registered, mut followed_up) = (0, 0);
        for id in people {
            let mine: Vec<&Op> = ops.iter().filter(|op| op.person == id).collect();
            // Each prefix of the history too: records not yet registered,
            // and ones part-way through.
            for n in [1, mine.len() / 2, mine.len()] {
                let state = PersonState::fold(id, mine[..n].iter().copied());
                let made = CaseSummary::without_fingerprint(&state);
                assert_eq!(made, summary_from_young_person(&state));
                registered += usize::from(made.is_some());
                followed_up += usize::from(made.is_some_and(|m| m.next_follow_up.is_some()));
            }
        }
        assert!(registered > 400, "{registered}");
        assert!(followed_up > 20, "{followed_up}");
    }

    #[test]
    fn a_summary_counts_the_fields_in_conflict() {
        let pat = crate::domain::details::tests::person();
        let edit = |n: u128, millis: u64, device: u128, fields: Vec<FieldValue>| Op {
            id: OpId(uuid::Uuid::from_u128(n)),
            at: Hlc::new(millis, 0),
            author: WorkerId::new("a.khan"),
            device: DeviceId(uuid::Uuid::from_u128(device)),
            person: pat.id,
            payload: OpPayload::SetFields(fields.into_iter().map(FieldSet::new).collect()),
        };
        let mut renamed = pat.name.clone();
        renamed.given = "Sam".into();
        let ops = [
            edit(
                1,
                1,
                1,
                vec![
                    FieldValue::Name(pat.name.clone()),
                    FieldValue::DateOfBirth(pat.date_of_birth),
                    FieldValue::District(pat.district),
                ],
            ),
            // Two devices rename them without seeing each other's edit.
            edit(2, 5, 1, vec![FieldValue::Name(renamed)]),
            edit(3, 6, 2, vec![FieldValue::Name(pat.name.clone())]),
        ];
        let state = PersonState::fold(pat.id, &ops);
        let made = CaseSummary::without_fingerprint(&state).expect("registered");
        assert_eq!(made.conflicts, 1);
        assert_eq!(Some(made), summary_from_young_person(&state));
    }
}
