//! A summary's activity: what the young person is doing now and every change
//! of it as recorded, held so that the usual person costs no allocation.
//!
//! Nearly always the activity now is the last change recorded (a demo store
//! of 52,500: 1.36 changes a person, 64% with one), so it is not kept twice:
//! only an activity now that differs from the last change (a concurrent edit
//! settled the other way, a change retracted) is kept apart, boxed. The one
//! change most people have is held inline. Held as two fields before, the
//! activity now took 40 bytes of every summary and the changes a heap block
//! of their own (3.4 MB over 52,500, and an allocation each at unlock).

use crate::domain::activity::CurrentActivity;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

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
        crate::domain::dates::local_day(self.recorded_millis)
    }
}

/// The activity now and the changes recorded, oldest first. Always held in
/// one form (`new` decides whether the activity now is the last change's),
/// so two are equal exactly when what they say is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activities {
    changes: SmallVec<[ActivityChange; 1]>,
    /// `None`: the activity now is the last change's (none if there is no
    /// change). Otherwise the activity now, which may be none.
    apart: Option<Box<Option<CurrentActivity>>>,
}

impl Activities {
    pub fn new(
        current: Option<CurrentActivity>,
        changes: impl IntoIterator<Item = ActivityChange>,
    ) -> Self {
        Self::of(current, changes.into_iter().collect())
    }

    fn of(current: Option<CurrentActivity>, changes: SmallVec<[ActivityChange; 1]>) -> Self {
        let last = changes.last().map(|c| &c.activity);
        let apart = (current.as_ref() != last).then(|| Box::new(current));
        Self { changes, apart }
    }

    /// What the young person is doing now, as recorded.
    pub fn current(&self) -> Option<&CurrentActivity> {
        match &self.apart {
            Some(now) => now.as_ref().as_ref(),
            None => self.changes.last().map(|c| &c.activity),
        }
    }

    /// Every change recorded, oldest first.
    pub fn changes(&self) -> &[ActivityChange] {
        &self.changes
    }

    /// The same activity now with other changes (figures "as of" a day
    /// re-date them).
    pub fn with_changes(&self, changes: impl IntoIterator<Item = ActivityChange>) -> Self {
        Self::new(self.current().cloned(), changes)
    }
}

/// Stored and sent as the two fields a summary had before, in their order
/// (postcard writes a struct as its fields one after another, so a store's
/// summaries read as they are); to JSON, as `current` and `changes`.
#[derive(Serialize)]
struct AsStored<'a> {
    current: Option<&'a CurrentActivity>,
    changes: &'a [ActivityChange],
}

#[derive(Deserialize)]
#[serde(rename = "AsStored")]
struct Stored {
    current: Option<CurrentActivity>,
    changes: SmallVec<[ActivityChange; 1]>,
}

impl Serialize for Activities {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        AsStored {
            current: self.current(),
            changes: self.changes(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Activities {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Stored { current, changes } = Stored::deserialize(d)?;
        Ok(Self::of(current, changes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ActivityCode;
    use crate::domain::activity::ActivitySource;

    fn activity(code: u16, day: u32) -> CurrentActivity {
        let start = NaiveDate::from_ymd_opt(2026, 9, day).expect("date");
        CurrentActivity {
            source: ActivitySource::College,
            provider: (code == 230).then(|| "North Kent College".into()),
            ..CurrentActivity::as_told(ActivityCode::new(code).expect("code"), start, start)
        }
    }

    fn change(code: u16, day: u32) -> ActivityChange {
        ActivityChange {
            recorded_millis: 1_790_000_000_000 + u64::from(day) * 86_400_000,
            activity: activity(code, day),
        }
    }

    /// The fields a summary had before, as they were declared.
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct TwoFields {
        activity: Option<CurrentActivity>,
        activity_changes: Vec<ActivityChange>,
    }

    #[test]
    fn the_bytes_are_those_of_the_two_fields_before_whichever_way_it_is_held() {
        let cases = [
            (None, vec![]),
            (Some(activity(230, 1)), vec![]),
            (Some(activity(230, 1)), vec![change(230, 1)]),
            (Some(activity(619, 8)), vec![change(230, 1), change(619, 8)]),
            // Not the last change's: settled the other way, or none now.
            (Some(activity(230, 1)), vec![change(230, 1), change(619, 8)]),
            (None, vec![change(230, 1)]),
        ];
        for (current, changes) in cases {
            let before = TwoFields {
                activity: current.clone(),
                activity_changes: changes.clone(),
            };
            let held = Activities::new(current.clone(), changes.clone());
            assert_eq!(held.current(), current.as_ref());
            assert_eq!(held.changes(), &changes[..]);
            let bytes = postcard::to_allocvec(&before).expect("encode");
            assert_eq!(postcard::to_allocvec(&held).expect("encode"), bytes);
            assert_eq!(postcard::from_bytes::<Activities>(&bytes), Ok(held.clone()));
            let back: TwoFields = postcard::from_bytes(&bytes).expect("decode");
            assert_eq!(back, before);
        }
    }

    #[test]
    fn the_activity_now_is_kept_apart_only_when_it_is_not_the_last_change() {
        let usual = Activities::new(Some(activity(230, 1)), [change(230, 1)]);
        assert!(usual.apart.is_none() && !usual.changes.spilled());
        let settled_otherwise = Activities::new(Some(activity(230, 1)), [change(619, 8)]);
        assert_eq!(settled_otherwise.current(), Some(&activity(230, 1)));
        let none_now = Activities::new(None, [change(619, 8)]);
        assert_eq!(none_now.current(), None);
        assert_ne!(
            none_now,
            Activities::new(Some(activity(619, 8)), [change(619, 8)])
        );
        assert_eq!(Activities::new(None, []), Activities::default());
        // Re-dated changes keep the activity now.
        let redated = usual.with_changes([change(230, 2)]);
        assert_eq!(redated.current(), Some(&activity(230, 1)));
        assert_eq!(redated.changes(), [change(230, 2)]);
    }

    #[test]
    fn to_json_as_the_activity_now_and_its_changes() {
        let held = Activities::new(Some(activity(619, 8)), [change(619, 8)]);
        let json = serde_json::to_value(&held).expect("json");
        assert_eq!(
            json["current"]["code"],
            json["changes"][0]["activity"]["code"]
        );
        assert_eq!(json["changes"].as_array().map(Vec::len), Some(1));
    }
}
