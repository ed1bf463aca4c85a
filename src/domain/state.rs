//! The fold: a young person's record is the result of applying their ops.
//!
//! The state is a CRDT. Scalar fields are registers holding every value that no
//! later op knowingly replaced (its "heads"); the current value is the head with
//! the greatest (HLC, op id). Contacts, notes, ratings and the rest are sets of
//! entries keyed by op. Both merges are commutative, associative and idempotent, so
//! applying the same ops in any order, with duplicates, gives identical state.

use super::activity::CurrentActivity;
use super::codes::StatusGroup;
use super::contact::ContactAttempt;
use super::details::UsedDetail;
use super::district::District;
use super::ids::{OpId, PersonId, WorkerId};
use super::ops::{FieldKey, FieldValue, Op, OpPayload, Stamp};
use super::person::{
    Address, Consent, ContactPreferences, Gender, PersonName, RiskIndicators, SendStatus,
    YoungPerson,
};
use super::records::{FollowUp, IntendedDestination, Note, RiskRating, SeptemberGuaranteeOffer};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An entry as recorded: the value, who wrote it, and the op that carried it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logged<T> {
    pub stamp: Stamp,
    pub author: WorkerId,
    pub value: T,
}

impl<T> Logged<T> {
    pub fn of(op: &Op, value: T) -> Self {
        Self {
            stamp: op.stamp(),
            author: op.author.clone(),
            value,
        }
    }

    pub fn op(&self) -> OpId {
        self.stamp.op
    }
}

/// Inserts keeping `entries` sorted by stamp; a second copy of an op is ignored.
fn insert_entry<T>(entries: &mut Vec<Logged<T>>, entry: Logged<T>) {
    if let Err(at) = entries.binary_search_by(|e| e.stamp.cmp(&entry.stamp)) {
        entries.insert(at, entry);
    }
}

/// A last-writer-wins register that remembers concurrent losers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Register {
    /// Values not knowingly replaced by any op seen so far, sorted by stamp.
    heads: Vec<Logged<FieldValue>>,
    /// Ops some later op said it replaced, sorted.
    superseded: Vec<OpId>,
}

impl Register {
    fn apply(&mut self, entry: Logged<FieldValue>, supersedes: &[OpId]) {
        for old in supersedes {
            if let Err(at) = self.superseded.binary_search(old) {
                self.superseded.insert(at, *old);
            }
            self.heads.retain(|h| h.stamp.op != *old);
        }
        if self.superseded.binary_search(&entry.stamp.op).is_err() {
            insert_entry(&mut self.heads, entry);
        }
    }

    pub fn current(&self) -> Option<&Logged<FieldValue>> {
        self.heads.last()
    }

    /// Values that lost to the current one without their authors having seen it:
    /// a concurrent edit elsewhere. Shown to the caseworker, never dropped.
    pub fn concurrent_losers(&self) -> &[Logged<FieldValue>] {
        match self.heads.len() {
            0 => &[],
            n => &self.heads[..n - 1],
        }
    }

    /// The op ids an edit of this field should say it supersedes: every head, so
    /// that editing a field in conflict resolves the conflict.
    pub fn heads(&self) -> Vec<OpId> {
        self.heads.iter().map(|h| h.stamp.op).collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completion {
    pub follow_up: OpId,
    #[serde(with = "crate::domain::serde_date")]
    pub on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retraction {
    pub target: OpId,
    pub reason: String,
}

/// A field whose value was changed in two places at once.
#[derive(Debug, PartialEq, Eq)]
pub struct Conflict<'a> {
    pub field: FieldKey,
    pub current: &'a Logged<FieldValue>,
    pub losers: &'a [Logged<FieldValue>],
}

/// An open follow-up as the record holds it: set on its own, or asked for
/// by a contact attempt's follow-up date.
enum OpenDue<'a> {
    Set(&'a Logged<FollowUp>),
    Asked(&'a Logged<ContactAttempt>, NaiveDate),
}

impl OpenDue<'_> {
    fn due(&self) -> NaiveDate {
        match self {
            OpenDue::Set(f) => f.value.due,
            OpenDue::Asked(_, due) => *due,
        }
    }
}

/// An open follow-up: explicitly scheduled, or the follow-up date of a contact
/// attempt. It belongs to whoever set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenFollowUp {
    pub source: OpId,
    pub due: NaiveDate,
    pub reason: String,
    pub owner: WorkerId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonState {
    pub id: PersonId,
    fields: BTreeMap<FieldKey, Register>,
    pub activity_history: Vec<Logged<CurrentActivity>>,
    pub contacts: Vec<Logged<ContactAttempt>>,
    pub notes: Vec<Logged<Note>>,
    pub ratings: Vec<Logged<RiskRating>>,
    pub destinations: Vec<Logged<IntendedDestination>>,
    pub offers: Vec<Logged<SeptemberGuaranteeOffer>>,
    pub follow_ups: Vec<Logged<FollowUp>>,
    pub completions: Vec<Logged<Completion>>,
    pub retractions: Vec<Logged<Retraction>>,
    /// The greatest stamp applied: when the record last changed.
    pub last_change: Option<Stamp>,
    /// The least stamp applied: when the record was first known here.
    pub first_change: Option<Stamp>,
    /// The number, address or handle each contact attempt used, by the
    /// attempt's op, where it was recorded. Added last (see `serde_added`).
    #[serde(default, deserialize_with = "super::serde_added::or_empty")]
    used: BTreeMap<OpId, UsedDetail>,
}

#[cfg(test)]
impl PersonState {
    /// A record registered by one op of an import setting `values`, and
    /// nothing else (for tests).
    pub(crate) fn registered(id: PersonId, values: Vec<FieldValue>) -> PersonState {
        use super::ids::DeviceId;
        use super::ops::{FieldSet, Hlc};
        let op = Op {
            id: OpId(id.0),
            at: Hlc::new(1, 0),
            author: WorkerId::new("import"),
            device: DeviceId(uuid::Uuid::from_u128(2)),
            person: id,
            payload: OpPayload::SetFields(values.into_iter().map(FieldSet::new).collect()),
        };
        PersonState::fold(id, [&op])
    }
}

impl PersonState {
    pub fn new(id: PersonId) -> Self {
        Self {
            id,
            fields: BTreeMap::new(),
            activity_history: Vec::new(),
            contacts: Vec::new(),
            notes: Vec::new(),
            ratings: Vec::new(),
            destinations: Vec::new(),
            offers: Vec::new(),
            follow_ups: Vec::new(),
            completions: Vec::new(),
            retractions: Vec::new(),
            last_change: None,
            first_change: None,
            used: BTreeMap::new(),
        }
    }

    /// Folds ops (in any order, duplicates allowed) into a fresh state.
    pub fn fold<'a>(id: PersonId, ops: impl IntoIterator<Item = &'a Op>) -> Self {
        let mut state = Self::new(id);
        for op in ops {
            state.apply(op);
        }
        state
    }

    /// Whether one op made this record (its least and greatest stamps are that
    /// op's): such a record is that op folded, and a store need not keep both.
    pub fn is_one_op(&self) -> bool {
        self.first_change.is_some() && self.first_change == self.last_change
    }

    /// The people a batch of ops changes, each loaded once with `load` (or new)
    /// and the ops folded in: what every store writes back after a commit.
    pub fn fold_changes<'a, E>(
        ops: impl IntoIterator<Item = &'a Op>,
        mut load: impl FnMut(PersonId) -> Result<Option<PersonState>, E>,
    ) -> Result<BTreeMap<PersonId, PersonState>, E> {
        let mut states: BTreeMap<PersonId, PersonState> = BTreeMap::new();
        for op in ops {
            let state = match states.entry(op.person) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(load(op.person)?.unwrap_or_else(|| PersonState::new(op.person)))
                }
            };
            state.apply(op);
        }
        Ok(states)
    }

    /// Applies one op. Total: it never fails and never panics, whatever the order
    /// ops arrive in (an op for another person is ignored).
    pub fn apply(&mut self, op: &Op) {
        if op.person != self.id {
            return;
        }
        self.last_change = self.last_change.max(Some(op.stamp()));
        self.first_change = Some(self.first_change.map_or(op.stamp(), |f| f.min(op.stamp())));
        match &op.payload {
            OpPayload::SetFields(sets) => {
                for set in sets {
                    if let FieldValue::CurrentActivity(a) = &set.value {
                        insert_entry(&mut self.activity_history, Logged::of(op, a.clone()));
                    }
                    self.fields
                        .entry(set.value.key())
                        .or_default()
                        .apply(Logged::of(op, set.value.clone()), &set.supersedes);
                }
            }
            OpPayload::LogContact(c) => insert_entry(&mut self.contacts, Logged::of(op, c.clone())),
            OpPayload::LogContactUsing { attempt, used } => {
                insert_entry(&mut self.contacts, Logged::of(op, attempt.clone()));
                self.used.insert(op.id, used.clone());
            }
            OpPayload::AddNote(n) => insert_entry(&mut self.notes, Logged::of(op, n.clone())),
            OpPayload::RateRisk(r) => insert_entry(&mut self.ratings, Logged::of(op, r.clone())),
            OpPayload::RecordDestination(d) => {
                insert_entry(&mut self.destinations, Logged::of(op, d.clone()))
            }
            OpPayload::RecordOffer(o) => insert_entry(&mut self.offers, Logged::of(op, o.clone())),
            OpPayload::ScheduleFollowUp(f) => {
                insert_entry(&mut self.follow_ups, Logged::of(op, f.clone()))
            }
            OpPayload::CompleteFollowUp { follow_up, on } => insert_entry(
                &mut self.completions,
                Logged::of(
                    op,
                    Completion {
                        follow_up: *follow_up,
                        on: *on,
                    },
                ),
            ),
            OpPayload::Retract { target, reason } => insert_entry(
                &mut self.retractions,
                Logged::of(
                    op,
                    Retraction {
                        target: *target,
                        reason: reason.clone(),
                    },
                ),
            ),
        }
    }

    /// The current value of every field a cohort file may set, in field order.
    pub fn cohort_values(&self) -> impl Iterator<Item = &FieldValue> {
        self.fields
            .iter()
            .filter(|(key, _)| key.set_by_cohort_file())
            .filter_map(|(_, register)| register.current().map(|l| &l.value))
    }

    /// The current value of every field that has one, in the fields' order.
    pub fn current_values(&self) -> impl Iterator<Item = &FieldValue> {
        self.fields
            .values()
            .filter_map(|register| register.current().map(|l| &l.value))
    }

    pub fn field(&self, key: FieldKey) -> Option<&FieldValue> {
        self.fields
            .get(&key)
            .and_then(Register::current)
            .map(|l| &l.value)
    }

    pub fn register(&self, key: FieldKey) -> Option<&Register> {
        self.fields.get(&key)
    }

    pub fn date_of_birth(&self) -> Option<NaiveDate> {
        match self.field(FieldKey::DateOfBirth) {
            Some(FieldValue::DateOfBirth(d)) => Some(*d),
            _ => None,
        }
    }

    pub fn current_activity(&self) -> Option<&CurrentActivity> {
        match self.field(FieldKey::CurrentActivity) {
            Some(FieldValue::CurrentActivity(a)) => Some(a),
            _ => None,
        }
    }

    /// Whether the ops that register the young person (name, date of birth,
    /// district) have arrived: `young_person()` is `Some`, without building it.
    pub fn is_registered(&self) -> bool {
        self.date_of_birth().is_some()
            && self.field(FieldKey::Name).is_some()
            && self.field(FieldKey::District).is_some()
    }

    /// The young person as the caseworker sees them now, or `None` while the ops
    /// that register them (name, date of birth, district) have not arrived.
    pub fn young_person(&self) -> Option<YoungPerson> {
        let mut p = YoungPerson {
            id: self.id,
            name: PersonName::default(),
            date_of_birth: self.date_of_birth()?,
            gender: Gender::NotKnown,
            upn: None,
            uln: None,
            address: Address::default(),
            phones: Vec::new(),
            email: None,
            social: Vec::new(),
            contact_preferences: ContactPreferences::default(),
            consent: Consent::default(),
            district: District::OutOfCounty,
            school_or_provider: None,
            send: SendStatus::NoSend,
            characteristics: Vec::new(),
            level_of_need: None,
            risk_indicators: RiskIndicators::default(),
            assigned_workers: Default::default(),
            not_working: Vec::new(),
            residence: Default::default(),
        };
        let (mut named, mut districted) = (false, false);
        for register in self.fields.values() {
            let Some(current) = register.current() else {
                continue;
            };
            match current.value.clone() {
                FieldValue::Name(n) => {
                    p.name = n;
                    named = true;
                }
                FieldValue::DateOfBirth(_) | FieldValue::CurrentActivity(_) => {}
                FieldValue::Gender(g) => p.gender = g,
                FieldValue::Upn(v) => p.upn = v,
                FieldValue::Uln(v) => p.uln = v,
                FieldValue::Address(a) => p.address = a,
                FieldValue::Phones(v) => p.phones = v,
                FieldValue::Email(v) => p.email = v,
                FieldValue::Social(v) => p.social = v,
                FieldValue::ContactPreferences(v) => p.contact_preferences = v,
                FieldValue::Consent(v) => p.consent = v,
                FieldValue::District(d) => {
                    p.district = d;
                    districted = true;
                }
                FieldValue::SchoolOrProvider(v) => p.school_or_provider = v,
                FieldValue::Send(v) => p.send = v,
                FieldValue::Characteristic(c, Some(span)) => p.characteristics.push((c, span)),
                FieldValue::Characteristic(_, None) => {}
                FieldValue::LevelOfNeed(v) => p.level_of_need = v,
                FieldValue::RiskIndicators(v) => p.risk_indicators = v,
                FieldValue::AssignedWorkers(v) => p.assigned_workers = v,
                FieldValue::NotWorking(v) => p.not_working = v,
                FieldValue::Residence(v) => p.residence = v,
            }
        }
        (named && districted).then_some(p)
    }

    /// Fields edited in two places at once, with the values that lost.
    pub fn conflicts(&self) -> Vec<Conflict<'_>> {
        self.fields
            .iter()
            .filter_map(|(key, reg)| {
                let current = reg.current()?;
                let losers = reg.concurrent_losers();
                (!losers.is_empty()).then_some(Conflict {
                    field: *key,
                    current,
                    losers,
                })
            })
            .collect()
    }

    /// How many fields are in conflict: `conflicts().len()` without listing them.
    pub fn conflict_count(&self) -> u32 {
        let in_conflict =
            |r: &&Register| r.current().is_some() && !r.concurrent_losers().is_empty();
        self.fields.values().filter(in_conflict).count() as u32
    }

    pub fn is_retracted(&self, op: OpId) -> bool {
        self.retractions.iter().any(|r| r.value.target == op)
    }

    /// Whether `op` carried an entry that can be corrected (not a field set).
    pub fn has_entry(&self, op: OpId) -> bool {
        fn has<T>(v: &[Logged<T>], op: OpId) -> bool {
            v.iter().any(|e| e.stamp.op == op)
        }
        has(&self.contacts, op)
            || has(&self.notes, op)
            || has(&self.ratings, op)
            || has(&self.destinations, op)
            || has(&self.offers, op)
            || has(&self.follow_ups, op)
            || has(&self.activity_history, op)
    }

    pub fn has_follow_up(&self, op: OpId) -> bool {
        self.follow_ups.iter().any(|f| f.stamp.op == op)
            || self
                .contacts
                .iter()
                .any(|c| c.stamp.op == op && c.value.follow_up.is_some())
    }

    fn live<'a, T>(
        &'a self,
        entries: &'a [Logged<T>],
    ) -> impl DoubleEndedIterator<Item = &'a Logged<T>> {
        entries.iter().filter(|e| !self.is_retracted(e.stamp.op))
    }

    /// The number, address or handle the attempt carried by `op` used, if
    /// it was recorded.
    pub fn used_by(&self, op: OpId) -> Option<&UsedDetail> {
        self.used.get(&op)
    }

    /// The latest contact attempt by when it happened (corrected ones skipped).
    pub fn last_contact(&self) -> Option<&Logged<ContactAttempt>> {
        self.live(&self.contacts)
            .max_by_key(|c| (c.value.at, c.stamp))
    }

    /// The officer's latest rating (corrected ones skipped).
    pub fn latest_rating(&self) -> Option<&Logged<RiskRating>> {
        self.live(&self.ratings).next_back()
    }

    pub fn latest_offer(&self) -> Option<&Logged<SeptemberGuaranteeOffer>> {
        self.live(&self.offers).next_back()
    }

    pub fn latest_destination(&self) -> Option<&Logged<IntendedDestination>> {
        self.live(&self.destinations).next_back()
    }

    pub fn live_notes(&self) -> impl DoubleEndedIterator<Item = &Logged<Note>> {
        self.live(&self.notes)
    }

    /// Open follow-ups, soonest first. Each belongs to its author and stays
    /// open until they mark it done or, for a contact attempt's follow-up
    /// date, they log the attempt it asked for: a later attempt of theirs on or
    /// after the date. Nobody else's attempt closes it (docs/domain.md).
    pub fn open_follow_ups(&self) -> Vec<OpenFollowUp> {
        let mut open: Vec<OpenFollowUp> = self
            .open_dues()
            .map(|open| match open {
                OpenDue::Set(f) => OpenFollowUp {
                    source: f.stamp.op,
                    due: f.value.due,
                    reason: f.value.reason.clone(),
                    owner: f.author.clone(),
                },
                OpenDue::Asked(c, due) => OpenFollowUp {
                    source: c.stamp.op,
                    due,
                    reason: format!("follow up {}", c.value.channel.label().to_lowercase()),
                    owner: c.author.clone(),
                },
            })
            .collect();
        open.sort_by_key(|f| (f.due, f.source));
        open
    }

    /// The date of the soonest open follow-up: `open_follow_ups()`'s first,
    /// without making their texts (a summary wants only the date).
    pub fn next_follow_up_due(&self) -> Option<NaiveDate> {
        self.open_dues().map(|open| open.due()).min()
    }

    /// Every open follow-up, unordered (see `open_follow_ups`).
    fn open_dues(&self) -> impl Iterator<Item = OpenDue<'_>> {
        let done = |op: OpId| self.completions.iter().any(|c| c.value.follow_up == op);
        let set = self
            .live(&self.follow_ups)
            .filter(move |f| !done(f.stamp.op))
            .map(OpenDue::Set);
        let asked = self.live(&self.contacts).filter_map(move |c| {
            let due = c.value.follow_up?;
            (!done(c.stamp.op) && self.answers(c, due).is_none()).then_some(OpenDue::Asked(c, due))
        });
        set.chain(asked)
    }

    /// The attempt that answered the follow-up `due` set by `set`: the first
    /// later attempt by the same author made on or after the date.
    fn answers(
        &self,
        set: &Logged<ContactAttempt>,
        due: NaiveDate,
    ) -> Option<&Logged<ContactAttempt>> {
        self.live(&self.contacts).find(|later| {
            later.stamp > set.stamp && later.author == set.author && later.value.at.date() >= due
        })
    }

    /// Which of `author`'s open follow-ups an attempt of theirs made on `on`
    /// would answer (what the contact form says it closes).
    pub fn follow_ups_answered_by(&self, author: &WorkerId, on: NaiveDate) -> Vec<OpenFollowUp> {
        self.open_follow_ups()
            .into_iter()
            .filter(|f| &f.owner == author && f.due <= on && self.has_contact(f.source))
            .collect()
    }

    /// Who set the follow-up carried by `op` (scheduled, or a contact's date).
    pub fn follow_up_owner(&self, op: OpId) -> Option<&WorkerId> {
        let scheduled = self.follow_ups.iter().find(|f| f.stamp.op == op);
        let contact = self
            .contacts
            .iter()
            .find(|c| c.stamp.op == op && c.value.follow_up.is_some());
        scheduled
            .map(|f| &f.author)
            .or_else(|| contact.map(|c| &c.author))
    }

    fn has_contact(&self, op: OpId) -> bool {
        self.contacts.iter().any(|c| c.stamp.op == op)
    }

    /// Whether the young person has ever had a NEET activity recorded.
    pub fn ever_neet(&self) -> bool {
        self.live(&self.activity_history)
            .any(|a| a.value.code.group() == StatusGroup::Neet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::activity::ActivitySource;
    use crate::domain::codes::ActivityCode;
    use crate::domain::contact::{Channel, Outcome};
    use crate::domain::ids::DeviceId;
    use crate::domain::ops::{FieldSet, Hlc};
    use uuid::Uuid;

    fn op(n: u128, millis: u64, person: PersonId, payload: OpPayload) -> Op {
        Op {
            id: OpId(Uuid::from_u128(n)),
            at: Hlc::new(millis, 0),
            author: WorkerId::new(format!("worker{}", n % 3)),
            device: DeviceId(Uuid::from_u128(7)),
            person,
            payload,
        }
    }

    fn set(value: FieldValue, supersedes: &[u128]) -> OpPayload {
        OpPayload::SetFields(vec![FieldSet {
            value,
            supersedes: supersedes
                .iter()
                .map(|n| OpId(Uuid::from_u128(*n)))
                .collect(),
        }])
    }

    fn district(d: District) -> FieldValue {
        FieldValue::District(d)
    }

    #[test]
    fn a_record_is_one_op_only_when_one_op_made_it() {
        let p = PersonId(Uuid::from_u128(1));
        let a = op(10, 100, p, set(district(District::Thanet), &[]));
        let b = op(11, 100, p, set(district(District::Dover), &[]));
        let elsewhere = op(
            12,
            50,
            PersonId(Uuid::from_u128(2)),
            set(district(District::Swale), &[]),
        );
        assert!(!PersonState::new(p).is_one_op());
        assert!(PersonState::fold(p, [&a]).is_one_op());
        // The same op twice, or another person's, is still one op's record.
        assert!(PersonState::fold(p, [&a, &a, &elsewhere]).is_one_op());
        // Two ops of one moment are two: the stamp names the op.
        assert!(!PersonState::fold(p, [&a, &b]).is_one_op());
    }

    #[test]
    fn knowing_overwrite_is_not_a_conflict() {
        let p = PersonId(Uuid::from_u128(1));
        let a = op(10, 100, p, set(district(District::Thanet), &[]));
        let b = op(11, 200, p, set(district(District::Dover), &[10]));
        let s = PersonState::fold(p, [&b, &a]);
        assert_eq!(
            s.field(FieldKey::District),
            Some(&district(District::Dover))
        );
        assert!(s.conflicts().is_empty());
    }

    #[test]
    fn concurrent_edits_pick_the_later_and_keep_the_loser() {
        let p = PersonId(Uuid::from_u128(1));
        let base = op(10, 100, p, set(district(District::Thanet), &[]));
        let mine = op(11, 200, p, set(district(District::Dover), &[10]));
        let theirs = op(12, 300, p, set(district(District::Swale), &[10]));
        for order in [
            [&base, &mine, &theirs],
            [&theirs, &mine, &base],
            [&mine, &base, &theirs],
        ] {
            let s = PersonState::fold(p, order);
            assert_eq!(
                s.field(FieldKey::District),
                Some(&district(District::Swale))
            );
            let conflicts = s.conflicts();
            assert_eq!(conflicts.len(), 1);
            assert_eq!(conflicts[0].losers.len(), 1);
            assert_eq!(conflicts[0].losers[0].value, district(District::Dover));
            assert_eq!(conflicts[0].losers[0].author, WorkerId::new("worker2"));
        }
        // Resolving: an edit that supersedes both heads clears the conflict.
        let fix = op(13, 400, p, set(district(District::Dover), &[11, 12]));
        let s = PersonState::fold(p, [&base, &mine, &theirs, &fix]);
        assert!(s.conflicts().is_empty());
        assert_eq!(
            s.field(FieldKey::District),
            Some(&district(District::Dover))
        );
    }

    #[test]
    fn a_follow_up_belongs_to_its_author_and_closes_only_by_them() {
        let p = PersonId(Uuid::from_u128(1));
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let attempt = |n, d, by: &str, follow| {
            let mut o = op(
                n,
                n as u64 * 100,
                p,
                OpPayload::LogContact(ContactAttempt {
                    at: day(d).and_hms_opt(9, 0, 0).unwrap(),
                    channel: Channel::Phone,
                    outcome: Outcome::NoAnswer,
                    note: String::new(),
                    follow_up: follow,
                }),
            );
            o.author = WorkerId::new(by);
            o
        };
        let first = attempt(20, 2, "a.khan", Some(day(9)));
        let s = PersonState::fold(p, [&first]);
        assert_eq!(s.open_follow_ups().len(), 1);
        assert_eq!(s.open_follow_ups()[0].due, day(9));
        assert_eq!(s.open_follow_ups()[0].owner, WorkerId::new("a.khan"));
        // A colleague's attempt, even after the date, leaves it open.
        let colleague = attempt(21, 10, "d.nowak", None);
        // The author's own attempt before the date is not the one it asked for.
        let early = attempt(22, 5, "a.khan", None);
        let s = PersonState::fold(p, [&first, &colleague, &early]);
        assert_eq!(s.open_follow_ups().len(), 1, "still open");
        assert_eq!(
            s.follow_ups_answered_by(&WorkerId::new("a.khan"), day(10))
                .len(),
            1
        );
        assert!(
            s.follow_ups_answered_by(&WorkerId::new("d.nowak"), day(10))
                .is_empty()
        );
        // The author's attempt on or after the date answers it…
        let answer = attempt(23, 9, "a.khan", None);
        let s = PersonState::fold(p, [&first, &colleague, &early, &answer]);
        assert!(s.open_follow_ups().is_empty());
        // …and correcting that attempt opens it again.
        let mut undo = op(
            24,
            2400,
            p,
            OpPayload::Retract {
                target: answer.id,
                reason: "wrong person".into(),
            },
        );
        undo.author = WorkerId::new("a.khan");
        let born = op(
            19,
            1,
            p,
            set(
                FieldValue::DateOfBirth(day(1) - chrono::Days::new(6000)),
                &[],
            ),
        );
        let s = PersonState::fold(p, [&born, &first, &colleague, &early, &answer, &undo]);
        assert_eq!(s.open_follow_ups().len(), 1);
        // Marked done: only by its author.
        let done = OpPayload::CompleteFollowUp {
            follow_up: first.id,
            on: day(10),
        };
        let today = day(23);
        assert!(matches!(
            done.validate_by(&WorkerId::new("d.nowak"), Some(&s), today),
            Err(crate::domain::DomainError::Invalid {
                field: "follow-up",
                ..
            })
        ));
        assert_eq!(
            done.validate_by(&WorkerId::new("a.khan"), Some(&s), today),
            Ok(())
        );
    }

    #[test]
    fn retracted_entries_stay_but_stop_counting() {
        let p = PersonId(Uuid::from_u128(1));
        let note = op(30, 100, p, OpPayload::AddNote(Note { text: "x".into() }));
        let fix = op(
            31,
            200,
            p,
            OpPayload::Retract {
                target: OpId(Uuid::from_u128(30)),
                reason: "wrong person".into(),
            },
        );
        let s = PersonState::fold(p, [&fix, &note]);
        assert_eq!(s.notes.len(), 1);
        assert_eq!(s.live_notes().count(), 0);
        assert!(s.is_retracted(OpId(Uuid::from_u128(30))));
    }

    #[test]
    fn activity_history_keeps_every_value() {
        let p = PersonId(Uuid::from_u128(1));
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let act = |code, m| {
            FieldValue::CurrentActivity(CurrentActivity {
                code: ActivityCode::new(code).unwrap(),
                start: day(m, 1),
                confirmed: day(m, 1),
                source: ActivitySource::YoungPerson,
                expected_end: None,
                provider: None,
            })
        };
        let a = op(40, 100, p, set(act(619, 1), &[]));
        let b = op(41, 200, p, set(act(310, 3), &[40]));
        let s = PersonState::fold(p, [&b, &a]);
        assert_eq!(s.activity_history.len(), 2);
        assert_eq!(s.current_activity().map(|a| a.code.code()), Some(310));
        assert!(s.ever_neet());
    }

    #[test]
    fn the_detail_an_attempt_used_is_kept_and_a_state_stored_before_it_reads() {
        let p = PersonId(Uuid::from_u128(1));
        let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let attempt = ContactAttempt {
            at: day.and_hms_opt(9, 0, 0).unwrap(),
            channel: Channel::Phone,
            outcome: Outcome::NoAnswer,
            note: String::new(),
            follow_up: None,
        };
        let plain = op(20, 100, p, OpPayload::LogContact(attempt.clone()));
        let before = PersonState::fold(p, [&plain]);
        // A state stored before the field existed: the same bytes, without
        // the (empty) map at their end.
        let mut old = postcard::to_allocvec(&before).expect("encode");
        assert_eq!(old.pop(), Some(0), "an empty map is one zero byte");
        let read: PersonState = postcard::from_bytes(&old).expect("old bytes decode");
        assert_eq!(read, before);

        let used = UsedDetail {
            label: "Mobile".into(),
            detail: "07700 900123".into(),
        };
        let with = op(
            21,
            200,
            p,
            OpPayload::log_contact(attempt, Some(used.clone())),
        );
        let s = PersonState::fold(p, [&plain, &with]);
        assert_eq!(s.contacts.len(), 2);
        assert_eq!(s.used_by(with.id), Some(&used));
        assert_eq!(s.used_by(plain.id), None);
        let bytes = postcard::to_allocvec(&s).expect("encode");
        assert_eq!(
            postcard::from_bytes::<PersonState>(&bytes).expect("decode"),
            s
        );
        assert_eq!(with.payload.kind(), "log-contact");
    }

    #[test]
    fn registered_exactly_when_the_young_person_can_be_built() {
        let p = PersonId(Uuid::from_u128(1));
        let name = FieldValue::Name(crate::domain::person::PersonName {
            given: "Pat".into(),
            family: "Rowe".into(),
            preferred: None,
        });
        let born = FieldValue::DateOfBirth(NaiveDate::from_ymd_opt(2010, 3, 1).unwrap());
        let ops = [
            op(1, 100, p, set(name, &[])),
            op(2, 200, p, set(born, &[])),
            op(3, 300, p, set(district(District::Dover), &[])),
        ];
        for n in 0..=ops.len() {
            let s = PersonState::fold(p, &ops[..n]);
            assert_eq!(s.is_registered(), s.young_person().is_some(), "{n} ops");
        }
        assert!(PersonState::fold(p, &ops).is_registered());
    }
}
