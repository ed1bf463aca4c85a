//! The hub's storage: sequence numbers, idempotent appends, concurrent
//! pushes, per-person history, sealing, the server key, users, credentials
//! and lists; and the `caseload hub user` commands on a stopped hub.

mod common;

use caseload::domain::ops::{FieldSet, Hlc};
use caseload::domain::{DeviceId, District, FieldValue, Op, OpId, OpPayload, PersonId, WorkerId};
use caseload::hub::store::{Credential, CredentialKind, KEY_FILE};
use caseload::hub::{HubStore, Role, SledHubStore, User, users};
use caseload::store::StoreError;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn op(n: u128, person: u128) -> Op {
    Op {
        id: OpId(uuid::Uuid::from_u128(n)),
        at: Hlc::new(1_000 + n as u64, 0),
        author: WorkerId::new("j.smith"),
        device: DeviceId(uuid::Uuid::from_u128(9)),
        person: PersonId(uuid::Uuid::from_u128(person)),
        payload: OpPayload::SetFields(vec![FieldSet::new(FieldValue::District(District::Thanet))]),
    }
}

#[test]
fn appends_are_numbered_in_order_and_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = SledHubStore::open(tmp.path(), None).unwrap();
    assert_eq!(hub.last_seq().unwrap(), 0);
    // A push's new ops are numbered together, each young person's in the
    // order pushed (a person's ops are stored as one record: `op_log.rs`).
    assert_eq!(
        hub.append(&[op(1, 100), op(2, 200), op(3, 100)], "j.smith", 5)
            .unwrap(),
        vec![1, 3, 2]
    );
    // The same batch again (a retried push), and a batch mixing old and new.
    assert_eq!(
        hub.append(&[op(1, 100), op(2, 200), op(3, 100)], "j.smith", 6)
            .unwrap(),
        vec![1, 3, 2]
    );
    assert_eq!(
        hub.append(&[op(4, 200), op(2, 200), op(4, 200)], "a.khan", 7)
            .unwrap(),
        vec![4, 3, 4]
    );
    assert_eq!(hub.last_seq().unwrap(), 4);

    let after = hub.since(1, 10).unwrap();
    assert_eq!(
        after.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    assert_eq!(hub.since(0, 2).unwrap().len(), 2);
    assert!(hub.since(4, 10).unwrap().is_empty());
    let fourth = &after[2];
    assert_eq!(
        (fourth.pushed_by.as_str(), fourth.received_millis),
        ("a.khan", 7),
        "audit: who pushed it and when"
    );

    let history = hub.history(PersonId(uuid::Uuid::from_u128(100))).unwrap();
    assert_eq!(
        history.iter().map(|r| r.op.id).collect::<Vec<_>>(),
        vec![op(1, 0).id, op(3, 0).id]
    );
}

#[test]
fn everything_survives_a_reopen_and_is_sealed_under_the_server_key() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let hub = SledHubStore::open(tmp.path(), None).unwrap();
        hub.append(&[op(1, 100)], "j.smith", 5).unwrap();
        hub.put_user(&User {
            name: "j.smith".into(),
            role: Role::Officer,
            district: None,
            revoked: false,
            created_millis: 1,
        })
        .unwrap();
        // A second process is refused while this one has the data open.
        assert!(matches!(
            SledHubStore::open(tmp.path(), None).err().unwrap(),
            StoreError::OpenElsewhere(_)
        ));
    }
    let key = tmp.path().join(KEY_FILE);
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(std::fs::read(&key).unwrap().len(), 32);
    let hub = SledHubStore::open(tmp.path(), None).unwrap();
    assert_eq!(hub.since(0, 10).unwrap().len(), 1);
    assert_eq!(hub.user("j.smith").unwrap().unwrap().role, Role::Officer);
    drop(hub);
    // No login name appears in any file.
    common::assert_nowhere_on_disk(tmp.path(), b"j.smith");
    // Another key cannot read the data: records are reported damaged, not a panic.
    let other = tmp.path().join("other.key");
    let hub = SledHubStore::open(tmp.path(), Some(&other)).unwrap();
    assert!(matches!(
        hub.since(0, 10).err().unwrap(),
        StoreError::Damaged { tree: "ops", .. }
    ));
}

#[test]
fn credentials_are_kept_only_as_hashes() {
    let tmp = tempfile::tempdir().unwrap();
    let hub = SledHubStore::open(tmp.path(), None).unwrap();
    let token = users::new_token().unwrap();
    let cred = Credential {
        user: "j.smith".into(),
        kind: CredentialKind::Enrolment,
    };
    hub.put_credential(users::token_hash(&token), &cred)
        .unwrap();
    assert_eq!(
        hub.credential(users::token_hash(&token)).unwrap(),
        Some(cred)
    );
    assert_eq!(hub.credential(users::token_hash("guess")).unwrap(), None);
    hub.remove_credential(users::token_hash(&token)).unwrap();
    assert_eq!(hub.credential(users::token_hash(&token)).unwrap(), None);
    drop(hub);
    common::assert_nowhere_on_disk(tmp.path(), token.as_bytes());
}

#[test]
fn hub_user_commands_add_list_and_revoke() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_caseload"))
            .args(args)
            .env("XDG_CONFIG_HOME", tmp.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let d = data.to_str().unwrap();
    let (code, out, _) = run(&[
        "hub", "user", "add", "j.smith", "--role", "officer", "--data", d,
    ]);
    assert_eq!(code, Some(0));
    let token = out.lines().last().unwrap().to_string();
    assert_eq!(token.len(), 64, "the token is the last line: {out}");
    let (code, _, err) = run(&[
        "hub", "user", "add", "m.jones", "--role", "manager", "--data", d,
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("a manager needs --district"), "{err}");
    assert_eq!(
        run(&[
            "hub",
            "user",
            "add",
            "m.jones",
            "--role",
            "manager",
            "--district",
            "thanet",
            "--data",
            d
        ])
        .0,
        Some(0)
    );
    let (code, _, err) = run(&[
        "hub", "user", "add", "j.smith", "--role", "officer", "--data", d,
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("already exists"), "{err}");
    let (_, _, err) = run(&[
        "hub", "user", "add", "x y", "--role", "officer", "--data", d,
    ]);
    assert!(err.contains("not a login name"), "{err}");
    let (_, _, err) = run(&[
        "hub", "user", "add", "t.one", "--role", "wizard", "--data", d,
    ]);
    assert!(err.contains("unknown role"), "{err}");

    assert_eq!(
        run(&["hub", "user", "revoke", "j.smith", "--data", d]).0,
        Some(0)
    );
    let (_, list, _) = run(&["hub", "user", "list", "--data", d]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("j.smith") && l.ends_with("revoked")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("m.jones") && l.contains("Thanet") && l.ends_with("active")),
        "{list}"
    );

    let hub = SledHubStore::open(&data, None).unwrap();
    let cred = hub.credential(users::token_hash(&token)).unwrap().unwrap();
    assert_eq!(
        (cred.user.as_str(), cred.kind),
        ("j.smith", CredentialKind::Enrolment)
    );
    // While the data is open elsewhere, the command says so.
    let (code, _, err) = run(&["hub", "user", "list", "--data", d]);
    assert_eq!(code, Some(2));
    assert!(err.contains("in use by another process"), "{err}");
}

#[test]
fn the_hub_folds_people_exactly_as_devices_do() {
    use caseload::demo::{DemoCohort, DemoSpec};
    use caseload::domain::PersonState;
    let tmp = tempfile::tempdir().unwrap();
    let hub = SledHubStore::open(tmp.path(), None).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let people: Vec<Vec<Op>> = DemoCohort::new(DemoSpec {
        people: 40,
        seed: 3,
        today,
    })
    .collect();
    let all: Vec<Op> = people.iter().flatten().cloned().collect();
    // Delivered backwards, in uneven batches, some twice.
    let mut backwards = all.clone();
    backwards.reverse();
    for chunk in backwards.chunks(7) {
        hub.append(chunk, "admin", 1).unwrap();
    }
    hub.append(&all[..30], "admin", 2).unwrap();
    for ops in &people {
        let id = ops[0].person;
        assert_eq!(hub.person(id).unwrap().unwrap(), PersonState::fold(id, ops));
        assert_eq!(hub.history(id).unwrap().len(), ops.len());
    }
    assert_eq!(hub.summaries().unwrap().len(), 40);
    assert_eq!(
        hub.last_seq().unwrap() as usize,
        all.len(),
        "no op stored twice"
    );
}

/// The hub's raw `people` tree (the hub must be stopped), to look or to play attacker.
fn with_hub_people(dir: &std::path::Path, f: impl FnOnce(&sled::Tree)) {
    let db = sled::open(dir.join("db")).unwrap();
    f(&db.open_tree("people").unwrap());
    db.flush().unwrap();
}

#[test]
fn a_record_made_by_one_op_is_kept_as_that_op_on_the_hub_too() {
    use caseload::domain::PersonState;
    const KEPT_AS_ITS_OP: &[u8] = &[0];
    let tmp = tempfile::tempdir().unwrap();
    let one = PersonId(uuid::Uuid::from_u128(100));
    let two = PersonId(uuid::Uuid::from_u128(200));
    {
        let hub = SledHubStore::open(tmp.path(), None).unwrap();
        hub.append(&[op(1, 100), op(2, 200), op(3, 200)], "j.smith", 5)
            .unwrap();
    }
    with_hub_people(tmp.path(), |t| {
        assert_eq!(
            t.get(one.as_bytes()).unwrap().unwrap().as_ref(),
            KEPT_AS_ITS_OP
        );
        assert!(t.get(two.as_bytes()).unwrap().unwrap().len() > 40, "sealed");
    });
    let hub = SledHubStore::open(tmp.path(), None).unwrap();
    assert_eq!(
        hub.person(one).unwrap().unwrap(),
        PersonState::fold(one, &[op(1, 100)])
    );
    // A second op folds onto the record read from the first, and is kept whole.
    hub.append(&[op(4, 100)], "j.smith", 6).unwrap();
    assert_eq!(
        hub.person(one).unwrap().unwrap(),
        PersonState::fold(one, &[op(1, 100), op(4, 100)])
    );
    drop(hub);
    with_hub_people(tmp.path(), |t| {
        assert!(t.get(one.as_bytes()).unwrap().unwrap().len() > 40, "sealed");
        // The mark for someone with no op in the log is damage, not a record.
        t.insert(
            PersonId(uuid::Uuid::from_u128(300)).as_bytes(),
            KEPT_AS_ITS_OP,
        )
        .unwrap();
    });
    let hub = SledHubStore::open(tmp.path(), None).unwrap();
    assert!(matches!(
        hub.person(PersonId(uuid::Uuid::from_u128(300)))
            .err()
            .unwrap(),
        StoreError::Damaged { tree: "people", .. }
    ));
}

#[test]
fn summaries_and_tracking_lists_decide_scope() {
    use caseload::hub::{TrackingList, can_see};
    let tmp = tempfile::tempdir().unwrap();
    let hub = SledHubStore::open(tmp.path(), None).unwrap();
    let register = |n: u128, person: u128, district: District, worker: &str| Op {
        payload: OpPayload::SetFields(
            vec![
                FieldValue::Name(caseload::domain::person::PersonName {
                    given: "A".into(),
                    family: "B".into(),
                    preferred: None,
                }),
                FieldValue::DateOfBirth(chrono::NaiveDate::from_ymd_opt(2010, 1, 1).unwrap()),
                FieldValue::District(district),
                FieldValue::AssignedWorkers([WorkerId::new(worker)].into()),
            ]
            .into_iter()
            .map(|value| FieldSet {
                value,
                supersedes: vec![],
            })
            .collect(),
        ),
        ..op(n, person)
    };
    hub.append(
        &[
            register(1, 100, District::Thanet, "j.smith"),
            register(2, 200, District::Dover, "a.khan"),
        ],
        "admin",
        1,
    )
    .unwrap();
    hub.put_list(&TrackingList {
        name: "Not Known – Dover".into(),
        trackers: ["t.one".to_string()].into(),
        members: [PersonId(uuid::Uuid::from_u128(200))].into(),
    })
    .unwrap();
    let lists = hub.lists().unwrap();
    let summaries = hub.summaries().unwrap();
    let visible = |u: &User| {
        summaries
            .iter()
            .filter(|s| can_see(u, s, &lists))
            .map(|s| s.id.0.as_u128())
            .collect::<Vec<_>>()
    };
    let u = |name: &str, role, district| User {
        name: name.into(),
        role,
        district,
        revoked: false,
        created_millis: 0,
    };
    assert_eq!(visible(&u("j.smith", Role::Officer, None)), vec![100]);
    assert_eq!(visible(&u("t.one", Role::Tracker, None)), vec![200]);
    assert_eq!(
        visible(&u("m.jones", Role::Manager, Some(District::Dover))),
        vec![200]
    );
    let mut admin = visible(&u("root", Role::Admin, None));
    admin.sort();
    assert_eq!(admin, vec![100, 200]);
}

#[test]
fn concurrent_pushes_each_get_their_own_numbers_and_are_durable_when_answered() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let hub = std::sync::Arc::new(SledHubStore::open(tmp.path(), None).expect("open"));
    // 16 pushers, 20 pushes of 3 ops each; every pusher also resends an op
    // another pusher sends, so duplicates meet in one group.
    let handles: Vec<_> = (0..16u128)
        .map(|t| {
            let hub = hub.clone();
            std::thread::spawn(move || {
                (0..20u128)
                    .map(|i| {
                        let ops = vec![
                            op(t * 1000 + i * 2 + 1, t),
                            op(t * 1000 + i * 2 + 2, 100 + i),
                            op(((t + 1) % 16) * 1000 + i * 2 + 1, (t + 1) % 16),
                        ];
                        let seqs = hub.append(&ops, "j.smith", 5).expect("append");
                        let durable = hub.last_seq().expect("last");
                        assert!(
                            seqs.iter().all(|s| *s <= durable),
                            "answered before durable"
                        );
                        (ops, seqs)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seq_of: std::collections::HashMap<OpId, u64> = std::collections::HashMap::new();
    for h in handles {
        for (ops, seqs) in h.join().expect("pusher") {
            for (op, seq) in ops.iter().zip(seqs) {
                // An op has one number, whoever pushed it.
                assert_eq!(*seq_of.entry(op.id).or_insert(seq), seq);
            }
        }
    }
    let held = hub.since(0, usize::MAX).expect("since");
    assert_eq!(held.len(), 16 * 20 * 2, "each op once");
    assert_eq!(
        held.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=640).collect::<Vec<u64>>(),
        "numbers run without gaps"
    );
    for r in &held {
        assert_eq!(seq_of[&r.op.id], r.seq);
    }
    // Each shared person (100 + i) got one op from every pusher.
    assert_eq!(
        hub.history(PersonId(uuid::Uuid::from_u128(105)))
            .expect("history")
            .len(),
        16
    );
}

#[test]
fn the_list_cache_follows_every_change_to_a_list() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let hub = SledHubStore::open(tmp.path(), None).expect("open");
    assert!(hub.lists().expect("lists").is_empty());
    let mut list = caseload::hub::TrackingList {
        name: "north".into(),
        trackers: ["t.one".to_string()].into(),
        members: [PersonId(uuid::Uuid::from_u128(1))].into(),
    };
    hub.put_list(&list).expect("put");
    assert_eq!(hub.lists().expect("lists"), vec![list.clone()]);
    list.members.insert(PersonId(uuid::Uuid::from_u128(2)));
    hub.put_list(&list).expect("put again");
    assert_eq!(hub.lists().expect("lists"), vec![list]);
}

/// An import target that counts the records an import reads.
struct Counting<T> {
    inner: T,
    /// `person` takes `&self`: counted through a cell.
    read: std::cell::Cell<usize>,
}

impl<T: caseload::store::OpTarget> caseload::store::OpTarget for Counting<T> {
    fn people(&self) -> caseload::domain::Summaries<'_> {
        self.inner.people()
    }
    fn person(&self, id: PersonId) -> Result<Option<caseload::domain::PersonState>, StoreError> {
        self.read.set(self.read.get() + 1);
        self.inner.person(id)
    }
    fn new_op(&mut self, person: PersonId, payload: OpPayload) -> Op {
        self.inner.new_op(person, payload)
    }
    fn commit(&mut self, ops: &[Op]) -> Result<(), StoreError> {
        self.inner.commit(ops)
    }
}

/// The summaries the hub stores carry each record's cohort fingerprint, so
/// a `hub import` of an unchanged file reads no record; a changed row still
/// has its record read and compared.
#[test]
fn a_hub_re_import_passes_unchanged_rows_without_reading_their_records() {
    use caseload::hub::writer::HubWriter;
    let tmp = tempfile::tempdir().unwrap();
    let hub = SledHubStore::open(tmp.path(), None).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let file = "given_name,family_name,date_of_birth,district\n\
                Pat,Rowe,01/01/2009,Thanet\n\
                Sam,Lowe,02/02/2009,Dover\n";
    let import = |file: &str| {
        let writer = HubWriter::new(
            &hub,
            tmp.path(),
            WorkerId::new("admin"),
            caseload::clock::Clock::on_day(today),
        )
        .unwrap();
        let mut target = Counting {
            inner: writer,
            read: std::cell::Cell::new(0),
        };
        let rows = caseload::import::parse(file.as_bytes(), today).unwrap();
        let report = caseload::import::apply(&mut target, rows.into_iter(), today).unwrap();
        (report, target.read.get())
    };
    let (first, _) = import(file);
    assert_eq!(first.new_people, 2);
    assert!(
        hub.summaries()
            .unwrap()
            .iter()
            .all(|s| s.cohort_fingerprint.is_some())
    );
    let (again, read) = import(file);
    assert_eq!((again.unchanged, read), (2, 0));
    let (changed, read) = import(&file.replace("Dover", "Thanet"));
    assert_eq!((changed.unchanged, changed.updated_people, read), (1, 1, 1));
}
