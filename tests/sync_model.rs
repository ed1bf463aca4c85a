//! Sync under faults, as a property: several officers' devices (real
//! encrypted stores) and one hub (the real `Hub` rules over its real sled
//! store), driven at the protocol's message level so the network can be made
//! to misbehave: partitions, pushes delivered twice or in another order,
//! answers lost on the way back, stale pull answers delivered again. After
//! the partitions heal and everyone syncs, every device equals the hub for
//! every young person, and every op any device wrote reached the hub.

use caseload::domain::activity::ActivitySource;
use caseload::domain::person::PersonName;
use caseload::domain::{
    ActivityCode, Channel, ContactAttempt, CurrentActivity, DeviceId, District, FieldValue, Note,
    OpId, OpPayload, Outcome, PersonId, WorkerId,
};
use caseload::hub::server::Hub;
use caseload::hub::{HubStore, Role, SledHubStore, User};
use caseload::link::store_pulled;
use caseload::replica::Replica;
use caseload::store::crypto::KdfParams;
use caseload::sync::protocol::{PullRequest, PullResponse, PushRequest};
use proptest::prelude::*;
use std::collections::BTreeSet;

const FAST: KdfParams = KdfParams::LEAST;
const DEVICES: usize = 3;
const PEOPLE: usize = 2;

#[derive(Clone, Debug)]
enum Edit {
    Contact(Outcome),
    Activity(u16),
    Name(&'static str),
}

#[derive(Clone, Debug)]
enum Step {
    Edit {
        device: usize,
        person: usize,
        edit: Edit,
    },
    Push {
        device: usize,
        /// Sends the outbox in a shuffled order, in chunks of this size.
        chunk: usize,
        shuffle: u64,
        /// The hub receives the push twice.
        twice: bool,
        /// The hub's answer is lost: the device does not know it was stored.
        lose_answer: bool,
    },
    Pull {
        device: usize,
        lose_answer: bool,
        /// An earlier answer arrives again (late duplicate delivery).
        replay_stale: bool,
    },
    /// Cuts a device off (or reconnects it).
    Partition(usize),
    /// A device's user, with valid credentials, pushes something the hub must
    /// refuse whole — alone or beside an honest op in the same batch.
    Hostile {
        attacker: usize,
        victim: usize,
        person: usize,
        attack: Attack,
        mixed: bool,
    },
}

#[derive(Clone, Copy, Debug)]
enum Attack {
    /// An op stamped with the victim's device id (it would never reach them).
    SpoofDevice,
    /// An op stamped with the victim as its author.
    SpoofAuthor,
    /// A note longer than any field may be.
    Oversize,
    /// One of the victim's own ops, pushed again by the attacker.
    ReplayVictims,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        prop::sample::select(vec![Outcome::NoAnswer, Outcome::VoicemailLeft])
            .prop_map(Edit::Contact),
        prop::sample::select(vec![230u16, 310, 540, 619]).prop_map(Edit::Activity),
        prop::sample::select(vec!["Ada", "Bea", "Cal"]).prop_map(Edit::Name),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..DEVICES, 0..PEOPLE, edit()).prop_map(|(device, person, edit)| Step::Edit {
            device,
            person,
            edit
        }),
        2 => (0..DEVICES, 1usize..4, any::<u64>(), any::<bool>(), any::<bool>()).prop_map(
            |(device, chunk, shuffle, twice, lose_answer)| Step::Push {
                device,
                chunk,
                shuffle,
                twice,
                lose_answer
            }
        ),
        2 => (0..DEVICES, any::<bool>(), any::<bool>()).prop_map(
            |(device, lose_answer, replay_stale)| Step::Pull {
                device,
                lose_answer,
                replay_stale
            }
        ),
        1 => (0..DEVICES).prop_map(Step::Partition),
        1 => (
            0..DEVICES,
            0..DEVICES,
            0..PEOPLE,
            prop::sample::select(vec![
                Attack::SpoofDevice,
                Attack::SpoofAuthor,
                Attack::Oversize,
                Attack::ReplayVictims
            ]),
            any::<bool>()
        )
            .prop_filter("attacker and victim differ", |(a, v, ..)| a != v)
            .prop_map(|(attacker, victim, person, attack, mixed)| Step::Hostile {
                attacker,
                victim,
                person,
                attack,
                mixed
            }),
    ]
}

/// Builds and pushes a hostile batch; the hub must refuse it whole, and hold
/// none of it afterwards.
fn hostile(
    hub: &Hub,
    devices: &mut [Device],
    attacker: usize,
    victim: usize,
    person: PersonId,
    attack: Attack,
    mixed: bool,
) -> Result<(), TestCaseError> {
    let victim_device = devices[victim].id;
    let victim_user = devices[victim].user.name.clone();
    let victims_op = devices[victim]
        .replica
        .ops_for(person)
        .ok()
        .and_then(|ops| ops.into_iter().find(|o| o.device == victim_device));
    let a = &mut devices[attacker];
    let note = |text: String| OpPayload::AddNote(Note { text });
    let bad = match attack {
        Attack::SpoofDevice => {
            let mut op = a.replica.new_op(person, note("spoofed device".into()));
            op.device = victim_device;
            op
        }
        Attack::SpoofAuthor => {
            let mut op = a.replica.new_op(person, note("spoofed author".into()));
            op.author = WorkerId::new(victim_user);
            op
        }
        Attack::Oversize => a.replica.new_op(person, note("x".repeat(5000))),
        Attack::ReplayVictims => match victims_op {
            Some(op) => op,
            None => return Ok(()),
        },
    };
    let honest = a
        .replica
        .new_op(person, note("honest, beside an attack".into()));
    let mut ops = vec![bad.clone()];
    if mixed {
        ops.insert(0, honest.clone());
    }
    let refused = hub.push(&a.user, a.id, PushRequest { ops });
    let status = refused.err().map(|r| r.status.as_u16());
    prop_assert!(
        matches!(status, Some(403) | Some(422)),
        "{attack:?} was not refused: {status:?}"
    );
    let held: BTreeSet<OpId> = hub
        .store
        .history(person)
        .unwrap()
        .into_iter()
        .map(|r| r.op.id)
        .collect();
    prop_assert!(
        !held.contains(&honest.id),
        "a refused batch is refused whole"
    );
    if !matches!(attack, Attack::ReplayVictims) {
        prop_assert!(!held.contains(&bad.id), "{attack:?} reached the hub");
    }
    Ok(())
}

struct Device {
    replica: Replica,
    user: User,
    id: DeviceId,
    cursor: u64,
    /// The highest hub seq of its own pushes it recorded (no echo up to here).
    own_through: u64,
    cut_off: bool,
    answers: Vec<PullResponse>,
}

fn officer(i: usize) -> User {
    User {
        name: format!("o{i}"),
        role: Role::Officer,
        district: None,
        revoked: false,
        created_millis: 0,
    }
}

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

fn push(hub: &Hub, d: &mut Device, chunk: usize, shuffle: u64, twice: bool, lose: bool) {
    let mut outbox = d.replica.store().outbox_entries().unwrap();
    // A deterministic shuffle from the seed: deliveries out of order.
    let n = outbox.len();
    let mut seed = shuffle | 1;
    for i in (1..n).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        outbox.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    for part in outbox.chunks(chunk) {
        let ops: Vec<_> = part.iter().map(|(_, op)| op.clone()).collect();
        let first = hub
            .push(
                &d.user,
                d.replica.identity().device,
                PushRequest { ops: ops.clone() },
            )
            .unwrap();
        if twice {
            let again = hub
                .push(&d.user, d.replica.identity().device, PushRequest { ops })
                .unwrap();
            assert_eq!(first.seqs, again.seqs, "a repeated push changes nothing");
        }
        if !lose {
            let keys: Vec<_> = part.iter().map(|(k, _)| k.clone()).collect();
            d.replica.store().ack_outbox(&keys).unwrap();
            d.own_through = first.seqs.iter().copied().fold(d.own_through, u64::max);
        }
    }
}

fn pull(hub: &Hub, d: &mut Device, lose: bool, replay_stale: bool) {
    let answer = hub
        .pull(
            &d.user,
            d.id,
            PullRequest {
                after: d.cursor,
                own_through: d.own_through,
                page: None,
            },
        )
        .unwrap();
    if replay_stale && let Some(old) = d.answers.first() {
        store_pulled(&mut d.replica, old).unwrap();
    }
    if lose {
        return;
    }
    store_pulled(&mut d.replica, &answer).unwrap();
    d.cursor = answer.cursor;
    d.answers.push(answer);
}

fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub {
        store: SledHubStore::open(&tmp.path().join("hub"), None).unwrap(),
        max_clock_skew_millis: 300_000,
        clock: caseload::clock::Clock::system(),
        guard: Default::default(),
        pull_page_bytes: caseload::sync::protocol::PULL_PAGE_BYTES,
    };
    let mut devices: Vec<Device> = (0..DEVICES)
        .map(|i| {
            let user = officer(i);
            hub.store.put_user(&user).unwrap();
            let replica = Replica::init(
                &tmp.path().join(format!("device-{i}")),
                b"model passphrase",
                WorkerId::new(user.name.clone()),
                FAST,
            )
            .unwrap();
            Device {
                id: replica.identity().device,
                replica,
                user,
                cursor: 0,
                own_through: 0,
                cut_off: false,
                answers: Vec::new(),
            }
        })
        .collect();
    // Everyone's shared caseload, registered on device 0 and synced to all.
    let everyone: BTreeSet<WorkerId> = (0..DEVICES)
        .map(|i| WorkerId::new(format!("o{i}")))
        .collect();
    let people: Vec<PersonId> = (0..PEOPLE)
        .map(|i| {
            devices[0]
                .replica
                .register(
                    vec![
                        FieldValue::Name(PersonName {
                            given: format!("Model{i}").into(),
                            family: "Person".into(),
                            preferred: None,
                        }),
                        FieldValue::DateOfBirth(
                            chrono::NaiveDate::from_ymd_opt(2009, 10, 1).unwrap(),
                        ),
                        FieldValue::District(District::Thanet),
                        FieldValue::AssignedWorkers(everyone.clone()),
                    ],
                    today(),
                )
                .unwrap()
        })
        .collect();
    push(&hub, &mut devices[0], 50, 0, false, false);
    for d in devices.iter_mut() {
        pull(&hub, d, false, false);
    }

    for step in steps {
        match step {
            Step::Edit {
                device,
                person,
                edit,
            } => {
                let r = &mut devices[device].replica;
                let id = people[person];
                match edit {
                    Edit::Contact(outcome) => {
                        let at = chrono::Local::now().naive_local();
                        r.record(
                            id,
                            OpPayload::LogContact(ContactAttempt {
                                at,
                                channel: Channel::Phone,
                                outcome,
                                note: String::new(),
                                follow_up: None,
                            }),
                            today(),
                        )
                        .unwrap();
                    }
                    Edit::Activity(code) => {
                        let activity = CurrentActivity {
                            code: ActivityCode::new(code).unwrap(),
                            start: today(),
                            confirmed: today(),
                            source: ActivitySource::YoungPerson,
                            expected_end: None,
                            provider: None,
                        };
                        r.set_fields(id, vec![FieldValue::CurrentActivity(activity)], today())
                            .unwrap();
                    }
                    Edit::Name(given) => {
                        let name = PersonName {
                            given: given.into(),
                            family: "Person".into(),
                            preferred: None,
                        };
                        r.set_fields(id, vec![FieldValue::Name(name)], today())
                            .unwrap();
                    }
                }
            }
            Step::Push {
                device,
                chunk,
                shuffle,
                twice,
                lose_answer,
            } => {
                if !devices[device].cut_off {
                    push(
                        &hub,
                        &mut devices[device],
                        chunk,
                        shuffle,
                        twice,
                        lose_answer,
                    );
                }
            }
            Step::Pull {
                device,
                lose_answer,
                replay_stale,
            } => {
                if !devices[device].cut_off {
                    pull(&hub, &mut devices[device], lose_answer, replay_stale);
                }
            }
            Step::Partition(device) => devices[device].cut_off = !devices[device].cut_off,
            Step::Hostile {
                attacker,
                victim,
                person,
                attack,
                mixed,
            } => hostile(
                &hub,
                &mut devices,
                attacker,
                victim,
                people[person],
                attack,
                mixed,
            )?,
        }
    }

    // What every device wrote, before the heal.
    let mut written: BTreeSet<OpId> = BTreeSet::new();
    for d in &devices {
        for op in d.replica.outbox().unwrap() {
            written.insert(op.id);
        }
    }
    // The network heals; everyone pushes, then everyone pulls.
    for d in devices.iter_mut() {
        push(&hub, d, 50, 0, false, false);
    }
    for d in devices.iter_mut() {
        pull(&hub, d, false, false);
    }

    let mut at_hub: BTreeSet<OpId> = BTreeSet::new();
    for id in &people {
        at_hub.extend(hub.store.history(*id).unwrap().iter().map(|r| r.op.id));
    }
    prop_assert!(
        written.is_subset(&at_hub),
        "ops waiting on devices never reached the hub"
    );
    for d in &devices {
        prop_assert!(d.replica.outbox().unwrap().is_empty());
        for id in &people {
            prop_assert_eq!(
                d.replica.person(*id).unwrap(),
                hub.store.person(*id).unwrap(),
                "device {} differs from the hub",
                d.user.name
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(32),
        ..ProptestConfig::default()
    })]

    #[test]
    fn devices_converge_with_the_hub_through_partitions_duplicates_and_lost_answers(
        steps in prop::collection::vec(step(), 1..40)
    ) {
        run(steps)?;
    }
}
