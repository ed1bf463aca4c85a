//! The facts about a young person that listing, search, the agenda and the
//! figures need, without the full history. Derived from the fold, stored sealed
//! beside it, and loaded at unlock to build the in-memory index.

use super::activity::CurrentActivity;
use super::contact::{Channel, Outcome};
use super::district::District;
use super::ids::{PersonId, WorkerId};
use super::person::{
    Characteristic, CharacteristicSpan, Gender, LevelOfNeed, PersonName, Postcode, SendStatus, Uln,
    Upn,
};
use super::records::{DestinationKind, OfferStatus, OfferYear, Rag};
use super::residence::Residence;
use super::state::PersonState;
use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

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

/// One change of activity, as recorded: what figures "as of" a past date, and
/// the trend over months, are built from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityChange {
    /// Wall-clock milliseconds of the op that recorded it.
    pub recorded_millis: u64,
    pub activity: CurrentActivity,
}

impl ActivityChange {
    /// The local day it was recorded (the zone "today" is read in).
    pub fn recorded_on(&self) -> NaiveDate {
        super::dates::local_day(self.recorded_millis)
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
    pub phones: Vec<String>,
    pub district: District,
    pub send: SendStatus,
    pub characteristics: Vec<(Characteristic, CharacteristicSpan)>,
    pub level_of_need: Option<LevelOfNeed>,
    pub activity: Option<CurrentActivity>,
    pub activity_changes: Vec<ActivityChange>,
    pub rating: Option<RatingSummary>,
    pub last_contact: Option<LastContact>,
    pub contact_attempts: u32,
    #[serde(with = "crate::domain::serde_date::opt")]
    pub next_follow_up: Option<NaiveDate>,
    /// Sorted, each once (from the record's set). A `Vec`, not a `BTreeSet`:
    /// the usual one or two workers cost 24 B here and 32 B of heap, where a
    /// set's first node costs ~280 B of heap — 14 MB over 52,500 summaries.
    /// Both are a sequence to serde, so stored summaries read either way.
    pub assigned: Vec<WorkerId>,
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
}

impl CaseSummary {
    /// `None` while the record is incomplete (its registering op not yet here).
    pub fn of(state: &PersonState) -> Option<CaseSummary> {
        let person = state.young_person()?;
        let live = |op| !state.is_retracted(op);
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
            activity: state.current_activity().cloned(),
            activity_changes: state
                .activity_history
                .iter()
                .filter(|a| live(a.op()))
                .map(|a| ActivityChange {
                    recorded_millis: a.stamp.at.millis,
                    activity: a.value.clone(),
                })
                .collect(),
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
            next_follow_up: state.open_follow_ups().first().map(|f| f.due),
            assigned: person.assigned_workers.into_iter().collect(),
            has_offer: state
                .offers
                .iter()
                .any(|o| live(o.op()) && o.value.is_offer()),
            has_destination: state.latest_destination().is_some(),
            conflicts: state.conflicts().len() as u32,
            last_change_millis: state.last_change.map_or(0, |s| s.at.millis),
            first_change_millis: state.first_change.map_or(0, |s| s.at.millis),
            offer: state.latest_offer().map(|o| (o.value.year, o.value.status)),
            destination: state.latest_destination().map(|d| d.value.kind),
            residence: person.residence,
        })
    }

    /// The activity known at the end of `on`: the latest one recorded by then.
    pub fn activity_on(&self, on: NaiveDate) -> Option<&CurrentActivity> {
        self.activity_changes
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
            .activity_changes
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
            activity_changes: changes,
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
        // A resident learning where they live: two bytes, the last written.
        assert_eq!(old.split_off(old.len() - 2), [0, 0]);
        let read: CaseSummary = postcard::from_bytes(&old).expect("old bytes");
        assert_eq!(read, summary);
    }
}
