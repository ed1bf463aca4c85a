//! The fold is a CRDT: the same set of ops, applied in any order and with any
//! duplicates, gives identical state — in memory and through the encrypted store.

use caseload::domain::activity::ActivitySource;
use caseload::domain::ops::{FieldSet, Hlc};
use caseload::domain::person::PersonName;
use caseload::domain::records::Rag;
use caseload::domain::{
    ActivityCode, Channel, ContactAttempt, CurrentActivity, DeviceId, District, FieldValue, Note,
    Op, OpId, OpPayload, Outcome, PersonId, PersonState, RiskRating, WorkerId,
};
use caseload::store::crypto::KdfParams;
use caseload::store::{CaseStore, EncryptedStore, Origin};
use chrono::NaiveDate;
use proptest::prelude::*;
use uuid::Uuid;

const FAST_KDF: KdfParams = KdfParams::LEAST;

fn person(n: u8) -> PersonId {
    PersonId(Uuid::from_u128(0xA000 + u128::from(n)))
}

fn day(n: u8) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(u64::from(n))
}

/// A field value drawn from a small space, so concurrent edits collide often.
fn field_value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        (0usize..4).prop_map(|i| FieldValue::District(District::ALL[i])),
        prop::sample::select(vec!["Ada", "Bea", "Cal"]).prop_map(|g| FieldValue::Name(
            PersonName {
                given: g.into(),
                family: "Stone".into(),
                preferred: None,
            }
        )),
        (prop::sample::select(vec![230u16, 310, 619, 810]), 0u8..60).prop_map(|(c, d)| {
            FieldValue::CurrentActivity(CurrentActivity {
                code: ActivityCode::new(c).unwrap(),
                start: day(d),
                confirmed: day(d),
                source: ActivitySource::YoungPerson,
                expected_end: None,
                provider: None,
            })
        }),
    ]
}

#[derive(Debug, Clone)]
enum Draft {
    Set(Vec<FieldValue>, Vec<usize>),
    Contact(u8, u8),
    Note(u8),
    Rate(u8),
    Retract(usize),
}

fn draft() -> impl Strategy<Value = Draft> {
    prop_oneof![
        3 => (prop::collection::vec(field_value(), 1..3), prop::collection::vec(any::<usize>(), 0..3))
            .prop_map(|(v, s)| Draft::Set(v, s)),
        2 => (0u8..60, 0u8..9).prop_map(|(d, o)| Draft::Contact(d, o)),
        1 => any::<u8>().prop_map(Draft::Note),
        1 => (0u8..3).prop_map(Draft::Rate),
        1 => any::<usize>().prop_map(Draft::Retract),
    ]
}

/// Turns drafts into ops for three people, with clocks that sometimes tie and
/// `supersedes` pointing at earlier ops (knowing overwrites) or not (conflicts).
fn build_ops(drafts: Vec<(u8, u8, u16, Draft)>) -> Vec<Op> {
    let mut ops: Vec<Op> = Vec::new();
    for (i, (who, author, millis, d)) in drafts.into_iter().enumerate() {
        let p = person(who % 3);
        let earlier: Vec<OpId> = ops.iter().filter(|o| o.person == p).map(|o| o.id).collect();
        let payload = match d {
            Draft::Set(values, sup) => {
                let mut seen = std::collections::BTreeSet::new();
                OpPayload::SetFields(
                    values
                        .into_iter()
                        .filter(|v| seen.insert(v.key()))
                        .map(|value| FieldSet {
                            value,
                            supersedes: sup
                                .iter()
                                .filter(|_| !earlier.is_empty())
                                .map(|s| earlier[s % earlier.len()])
                                .collect(),
                        })
                        .collect(),
                )
            }
            Draft::Contact(d, o) => OpPayload::LogContact(ContactAttempt {
                at: day(d).and_hms_opt(10, 0, 0).unwrap(),
                channel: Channel::ALL[usize::from(o) % Channel::ALL.len()],
                outcome: Outcome::ALL[usize::from(o) % Outcome::ALL.len()],
                note: String::new(),
                follow_up: Some(day(d.saturating_add(7))),
            }),
            Draft::Note(n) => OpPayload::AddNote(Note {
                text: format!("note {n}"),
            }),
            Draft::Rate(r) => OpPayload::RateRisk(RiskRating {
                rag: Rag::ALL[usize::from(r)],
                reason: "test".into(),
                factors: vec![],
                rated_on: day(1),
                review_due: day(30),
            }),
            Draft::Retract(t) if !earlier.is_empty() => OpPayload::Retract {
                target: earlier[t % earlier.len()],
                reason: "entered in error".into(),
            },
            Draft::Retract(_) => OpPayload::AddNote(Note { text: "x".into() }),
        };
        ops.push(Op {
            id: OpId(Uuid::from_u128(0x1_0000 + i as u128)),
            at: Hlc::new(u64::from(millis), 0),
            author: WorkerId::new(format!("w{}", author % 3)),
            device: DeviceId(Uuid::from_u128(u128::from(author % 3))),
            person: p,
            payload,
        });
    }
    ops
}

fn fold_all(ops: &[Op]) -> Vec<PersonState> {
    (0..3).map(|n| PersonState::fold(person(n), ops)).collect()
}

/// Commits `ops` as a pull would, in batches ending where `cuts` says.
fn commit_in_batches(store: &EncryptedStore, ops: Vec<Op>, cuts: &[bool]) {
    let mut batch = Vec::new();
    for (op, cut) in ops
        .into_iter()
        .zip(cuts.iter().chain(std::iter::repeat(&false)))
    {
        batch.push(op);
        if *cut {
            store.commit(&batch, Origin::Remote).unwrap();
            batch.clear();
        }
    }
    store.commit(&batch, Origin::Remote).unwrap();
}

fn ops_strategy() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec((0u8..3, 0u8..3, 0u16..40, draft()), 1..40).prop_map(build_ops)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_order_with_duplicates_gives_identical_state(
        ops in ops_strategy(),
        seed in any::<u64>(),
        dup_mask in prop::collection::vec(any::<bool>(), 40),
    ) {
        let reference = fold_all(&ops);
        let mut shuffled: Vec<Op> = ops.clone();
        for (op, dup) in ops.iter().zip(&dup_mask) {
            if *dup {
                shuffled.push(op.clone());
            }
        }
        // A deterministic shuffle from the seed.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(fold_all(&shuffled), reference);
    }
}

proptest! {
    // Each case creates a real store on disk; fewer cases keep the suite quick.
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn the_store_converges_whatever_the_batches(
        ops in ops_strategy(),
        cuts in prop::collection::vec(any::<bool>(), 40),
        again_cuts in prop::collection::vec(any::<bool>(), 40),
        settled in any::<bool>(),
        version in 2u8..=caseload::store::header::FORMAT_VERSION,
    ) {
        let reference = fold_all(&ops);
        let tmp = tempfile::tempdir().unwrap();
        // Format 2 keeps each op under its own key, format 3 a person's ops
        // in one commit together: both must find every op held again.
        let store = EncryptedStore::create_in_format(&tmp.path().join("s"), b"passphrase for tests", FAST_KDF, version).unwrap();
        // Deliver in reverse, in batches cut at random, then everything again.
        let mut reversed = ops.clone();
        reversed.reverse();
        commit_in_batches(&store, reversed, &cuts);
        if settled {
            // Held in sled, not only in the commit log's waiting commits.
            store.checkpoint().unwrap();
        }
        prop_assert!(store.commit(&ops, Origin::Remote).unwrap().is_empty(), "duplicates changed state");
        // And again in other batches, each op held already.
        commit_in_batches(&store, ops.clone(), &again_cuts);
        for expected in reference {
            let stored = store.person(expected.id).unwrap().unwrap_or_else(|| PersonState::new(expected.id));
            prop_assert_eq!(stored, expected);
        }
        let distinct: std::collections::HashSet<OpId> = ops.iter().map(|op| op.id).collect();
        let report = store.doctor().unwrap();
        prop_assert_eq!(report.ops, distinct.len());
        prop_assert!(store.doctor().unwrap().is_healthy());
    }
}
