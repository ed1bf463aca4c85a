//! Sync between real processes on 127.0.0.1: a hub started with
//! `caseload hub serve`, devices using `caseload login` and `caseload sync`.

mod common;

use caseload::domain::person::PersonName;
use caseload::domain::{
    Channel, ContactAttempt, District, FieldValue, OpPayload, Outcome, PersonId, WorkerId,
};
use caseload::replica::Replica;
use caseload::store::crypto::KdfParams;
use caseload::store::{EncryptedStore, Origin};
use chrono::NaiveDate;
use common::{HubProcess, output_text as text};
use std::path::{Path, PathBuf};
use std::process::Output;

const FAST: KdfParams = KdfParams::LEAST;
const PASS: &str = "sync test passphrase";

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn caseload(args: &[&str]) -> Output {
    common::caseload_with(PASS, args)
}

fn add_user(data: &Path, name: &str, role: &str, dir: &Path) -> PathBuf {
    let file = dir.join(format!("{name}.token"));
    std::fs::write(&file, common::hub_user(data, name, role)).unwrap();
    file
}

fn device(dir: &Path, worker: &str) -> PathBuf {
    let path = dir.join(format!("store-{worker}"));
    drop(Replica::init(&path, PASS.as_bytes(), WorkerId::new(worker), FAST).unwrap());
    path
}

fn open(path: &Path) -> Replica {
    Replica::open(EncryptedStore::open(path, PASS.as_bytes()).unwrap()).unwrap()
}

fn register(r: &mut Replica, given: &str, workers: &[&str]) -> PersonId {
    r.register(
        vec![
            FieldValue::Name(PersonName {
                given: given.into(),
                family: "Sync".into(),
                preferred: None,
            }),
            FieldValue::DateOfBirth(NaiveDate::from_ymd_opt(2010, 5, 5).unwrap()),
            FieldValue::District(District::Thanet),
            FieldValue::AssignedWorkers(workers.iter().map(|w| WorkerId::new(*w)).collect()),
        ],
        today(),
    )
    .unwrap()
}

fn contact(r: &mut Replica, id: PersonId, note: &str) {
    let at = chrono::Local::now().naive_local();
    r.record(
        id,
        OpPayload::LogContact(ContactAttempt {
            at,
            channel: Channel::Phone,
            outcome: Outcome::NoAnswer,
            note: note.into(),
            follow_up: None,
        }),
        at.date(),
    )
    .unwrap();
}

fn store_arg(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// `caseload --store STORE login URL --token-file TOKEN`.
fn login(store: &Path, url: &str, token: &Path) -> Output {
    caseload(&[
        "--store",
        &store_arg(store),
        "login",
        url,
        "--token-file",
        token.to_str().unwrap(),
    ])
}

fn must_login(store: &Path, url: &str, token: &Path) {
    let out = login(store, url, token);
    assert!(out.status.success(), "login: {}", text(&out));
}

/// `caseload --store STORE sync`.
fn sync(store: &Path) -> Output {
    caseload(&["--store", &store_arg(store), "sync"])
}

fn must_sync(store: &Path) {
    let out = sync(store);
    assert!(out.status.success(), "sync: {}", text(&out));
}

#[test]
fn two_officers_converge_scope_is_enforced_and_offline_is_not_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let data = root.join("hub");
    let t_smith = add_user(&data, "j.smith", "officer", root);
    let t_khan = add_user(&data, "a.khan", "officer", root);
    let t_evil = add_user(&data, "b.evil", "officer", root);
    let t_gone = add_user(&data, "c.gone", "officer", root);
    assert!(
        caseload(&[
            "hub",
            "user",
            "revoke",
            "c.gone",
            "--data",
            data.to_str().unwrap()
        ])
        .status
        .success()
    );
    let hub = HubProcess::start(&data);

    let (sa, sb) = (device(root, "j.smith"), device(root, "a.khan"));
    let (only_mine, shared) = {
        let mut a = open(&sa);
        (
            register(&mut a, "Only", &["j.smith"]),
            register(&mut a, "Shared", &["j.smith", "a.khan"]),
        )
    };
    for (store, token) in [(&sa, &t_smith), (&sb, &t_khan)] {
        let out = login(store, &hub.url, token);
        assert!(out.status.success(), "{}", text(&out));
    }
    // The enrolment token is one-time.
    let again = login(&sb, &hub.url, &t_khan);
    assert!(
        !again.status.success() && text(&again).contains("not valid"),
        "{}",
        text(&again)
    );

    let out = sync(&sa);
    assert!(text(&out).contains("synced: 2 sent"), "{}", text(&out));
    let out = sync(&sb);
    assert!(
        text(&out).contains("1 received"),
        "a.khan receives only the shared person's history: {}",
        text(&out)
    );
    {
        let b = open(&sb);
        assert!(
            b.person(only_mine).unwrap().is_none(),
            "an officer never receives another officer's young person"
        );
        assert!(b.person(shared).unwrap().is_some());
    }

    // Both change the shared record while apart.
    {
        let mut a = open(&sa);
        contact(&mut a, shared, "from smith");
        a.set_fields(shared, vec![FieldValue::District(District::Dover)], today())
            .unwrap();
    }
    {
        let mut b = open(&sb);
        contact(&mut b, shared, "from khan");
        std::thread::sleep(std::time::Duration::from_millis(5));
        b.set_fields(shared, vec![FieldValue::District(District::Swale)], today())
            .unwrap();
    }
    for store in [&sa, &sb, &sa] {
        let out = sync(store);
        assert!(out.status.success(), "{}", text(&out));
    }
    let (a, b) = (open(&sa), open(&sb));
    let (sa_state, sb_state) = (
        a.person(shared).unwrap().unwrap(),
        b.person(shared).unwrap().unwrap(),
    );
    assert_eq!(sa_state, sb_state, "both devices hold the same record");
    assert_eq!(
        sa_state.young_person().unwrap().district,
        District::Swale,
        "the later change wins"
    );
    let notes: Vec<_> = sa_state
        .contacts
        .iter()
        .map(|c| c.value.note.as_str())
        .collect();
    assert!(
        notes.contains(&"from smith") && notes.contains(&"from khan"),
        "{notes:?}"
    );
    let conflicts = sa_state.conflicts();
    assert_eq!(conflicts.len(), 1, "the losing value is kept");
    assert_eq!(conflicts[0].losers[0].author.as_str(), "j.smith");
    drop((a, b));
    let shown = caseload(&["--store", &store_arg(&sa), "show", &shared.to_string()]);
    assert!(
        text(&shown).contains("district changed elsewhere by j.smith"),
        "{}",
        text(&shown)
    );

    // Someone else's officer cannot write to a.khan's or j.smith's young person.
    let se = device(root, "b.evil");
    must_login(&se, &hub.url, &t_evil);
    {
        let mut e = open(&se);
        let op = e.new_op(
            only_mine,
            OpPayload::AddNote(caseload::domain::Note {
                text: "not mine".into(),
            }),
        );
        e.commit(&[op], Origin::Local).unwrap();
    }
    let refused = sync(&se);
    assert_eq!(refused.status.code(), Some(8));
    assert!(
        text(&refused).contains("is not in b.evil's caseload: nothing was accepted"),
        "{}",
        text(&refused)
    );
    let a_after = sync(&sa);
    assert!(
        text(&a_after).contains("0 received"),
        "nothing of the refused push reached the hub: {}",
        text(&a_after)
    );

    // A revoked user cannot log in.
    let sg = device(root, "c.gone");
    let gone = login(&sg, &hub.url, &t_gone);
    assert!(
        !gone.status.success() && text(&gone).contains("revoked"),
        "{}",
        text(&gone)
    );

    // Offline: a clear message, and the change stays queued.
    {
        let mut a = open(&sa);
        contact(&mut a, shared, "while offline");
    }
    let url = hub.url.clone();
    drop(hub);
    let offline = sync(&sa);
    assert_eq!(offline.status.code(), Some(7));
    assert!(
        text(&offline).contains(&format!("the hub at {url} cannot be reached")),
        "{}",
        text(&offline)
    );
    let status = caseload(&["--store", &store_arg(&sa), "sync", "--status"]);
    assert!(
        text(&status).contains("1 changes waiting to be sent"),
        "{}",
        text(&status)
    );
}

#[test]
fn plain_http_to_another_machine_is_refused_before_any_traffic() {
    let tmp = tempfile::tempdir().unwrap();
    let s = device(tmp.path(), "j.smith");
    let token = tmp.path().join("t");
    std::fs::write(&token, "x").unwrap();
    let out = login(&s, "http://192.0.2.10:7878", &token);
    assert_eq!(out.status.code(), Some(8));
    assert!(
        text(&out).contains("refusing plain http:// to 192.0.2.10"),
        "{}",
        text(&out)
    );
    let serve = caseload(&[
        "hub",
        "serve",
        "--data",
        tmp.path().join("h").to_str().unwrap(),
        "--listen",
        "0.0.0.0:0",
    ]);
    assert!(!serve.status.success());
    assert!(
        text(&serve).contains("only loopback addresses"),
        "{}",
        text(&serve)
    );
}

#[test]
fn acknowledged_pushes_survive_the_hub_being_killed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let data = root.join("hub");
    let token = add_user(&data, "j.smith", "officer", root);
    let sa = device(root, "j.smith");
    let id = {
        let mut a = open(&sa);
        register(&mut a, "Durable", &["j.smith"])
    };
    let mut hub = HubProcess::start(&data);
    must_login(&sa, &hub.url, &token);
    {
        let mut a = open(&sa);
        for n in 0..25 {
            contact(&mut a, id, &format!("attempt {n}"));
        }
    }
    let out = sync(&sa);
    assert!(text(&out).contains("26 sent"), "{}", text(&out));
    // SIGKILL: no shutdown, no flush on exit.
    unsafe {
        libc::kill(hub.child.id() as i32, libc::SIGKILL);
    }
    let _ = hub.child.wait();
    drop(hub);
    let store = caseload::hub::SledHubStore::open(&data, None).unwrap();
    use caseload::hub::HubStore;
    assert_eq!(
        store.history(id).unwrap().len(),
        26,
        "every acknowledged op is on the hub's disk"
    );
    assert_eq!(store.person(id).unwrap().unwrap().contacts.len(), 25);
}

#[test]
fn a_device_that_dies_before_storing_a_pull_gets_the_history_again() {
    use caseload::hub::server::Hub;
    use caseload::hub::{HubStore, Role, SledHubStore, User};
    use caseload::sync::protocol::{PullRequest, PushRequest};
    let tmp = tempfile::tempdir().unwrap();
    let hub = Hub {
        store: SledHubStore::open(&tmp.path().join("hub"), None).unwrap(),
        max_clock_skew_millis: 300_000,
        clock: caseload::clock::Clock::system(),
        guard: Default::default(),
        pull_page_bytes: caseload::sync::protocol::PULL_PAGE_BYTES,
    };
    let smith = User {
        name: "j.smith".into(),
        role: Role::Officer,
        district: None,
        revoked: false,
        created_millis: 0,
    };
    hub.store.put_user(&smith).unwrap();
    let sa = device(tmp.path(), "j.smith");
    let id = {
        let mut a = open(&sa);
        let id = register(&mut a, "Resent", &["j.smith"]);
        contact(&mut a, id, "one");
        id
    };
    let (ops, pushing) = {
        let a = open(&sa);
        (a.outbox().unwrap(), a.identity().device)
    };
    hub.push(&smith, pushing, PushRequest { ops }).unwrap();
    let device = caseload::domain::DeviceId::random();
    let first = hub
        .pull(
            &smith,
            device,
            PullRequest {
                after: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(first.ops.len(), 2);
    // The device died before storing it: it asks again from its old cursor.
    let again = hub
        .pull(
            &smith,
            device,
            PullRequest {
                after: 0,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(again.ops.len(), 2, "the history is sent again");
    // Once stored (the cursor moves on), only new ops come.
    let next = hub
        .pull(
            &smith,
            device,
            PullRequest {
                after: again.cursor,
                ..Default::default()
            },
        )
        .unwrap();
    assert!(next.ops.is_empty() && next.left_scope.is_empty());
    // Reassigned away: the device is told to drop the person.
    let mut a = open(&sa);
    a.set_fields(
        id,
        vec![FieldValue::AssignedWorkers(
            [WorkerId::new("a.khan")].into(),
        )],
        today(),
    )
    .unwrap();
    let reassign = a.outbox().unwrap().into_iter().last().unwrap();
    hub.push(
        &smith,
        a.identity().device,
        PushRequest {
            ops: vec![reassign],
        },
    )
    .unwrap();
    let gone = hub
        .pull(
            &smith,
            device,
            PullRequest {
                after: next.cursor,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(gone.left_scope, vec![id]);
    assert!(
        gone.ops.is_empty(),
        "ops about people out of scope are not sent"
    );
    // And another officer's pushes about them are refused to j.smith now.
    let note = a.new_op(
        id,
        OpPayload::AddNote(caseload::domain::Note {
            text: "late".into(),
        }),
    );
    let refused = hub
        .push(&smith, a.identity().device, PushRequest { ops: vec![note] })
        .unwrap_err();
    assert_eq!(refused.status.as_u16(), 403);
}

#[test]
fn a_council_import_on_the_hub_reaches_the_right_devices_and_the_hub_reports_on_everyone() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let data = root.join("hub");
    let d = data.to_str().unwrap();
    add_user(&data, "root", "admin", root);
    let out = caseload(&[
        "hub",
        "user",
        "add",
        "m.jones",
        "--role",
        "manager",
        "--district",
        "Thanet",
        "--data",
        d,
    ]);
    let manager_token = root.join("m.token");
    std::fs::write(
        &manager_token,
        String::from_utf8_lossy(&out.stdout).lines().last().unwrap(),
    )
    .unwrap();
    // Academic age 16 whenever this runs: born two Septembers before 16 years ago.
    let year = chrono::Datelike::year(&academic_start()) - 16;
    let dob = format!("15/10/{}", year - 1);
    let file = root.join("cohort.csv");
    std::fs::write(
        &file,
        format!(
            "upn,given_name,family_name,date_of_birth,district,activity_code,activity_start\n\
             A886555555551,Ada,Hub,{dob},Thanet,230,{start}\n\
             A886555555552,Bo,Hub,{dob},Thanet,619,{start}\n\
             A886555555553,Cy,Hub,{dob},Dover,230,{start}\n",
            start = chrono::Local::now().date_naive().format("%d/%m/%Y")
        ),
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let refused = caseload(&["hub", "import", "--data", d, "--as", "m.jones", "cohort", f]);
    assert!(
        !refused.status.success() && text(&refused).contains("not an active hub admin"),
        "{}",
        text(&refused)
    );
    // The file is checked while the hub is opened: a bad file is still what
    // is reported first, whoever imports it.
    let bad = root.join("bad.csv");
    std::fs::write(
        &bad,
        "upn,given_name,family_name,date_of_birth,district\n\
         A886555555551,Ada,Hub,31/02/2009,Thanet\n",
    )
    .unwrap();
    let b = bad.to_str().unwrap();
    for who in ["m.jones", "root"] {
        let refused = caseload(&["hub", "import", "--data", d, "--as", who, "cohort", b]);
        assert!(
            !refused.status.success()
                && text(&refused).contains("line 2, column date_of_birth")
                && !text(&refused).contains("admin"),
            "{}",
            text(&refused)
        );
    }
    let out = caseload(&["hub", "import", "--data", d, "--as", "root", "cohort", f]);
    assert!(
        text(&out).contains("imported 3 rows: 3 new young people"),
        "{}",
        text(&out)
    );
    let again = caseload(&["hub", "import", "--data", d, "--as", "root", "cohort", f]);
    assert!(text(&again).contains("3 unchanged"), "{}", text(&again));

    let report = caseload(&[
        "hub", "report", "--data", d, "headline", "--by", "district", "--format", "csv",
    ]);
    let csv = String::from_utf8_lossy(&report.stdout).to_string();
    assert!(
        csv.contains("All (academic ages 16–17),3,2,1,0,2,"),
        "{csv}"
    );
    assert!(csv.contains("\nThanet,2,1,1,0,1,"), "{csv}");

    let hub = HubProcess::start(&data);
    let sm = device(root, "m.jones");
    must_login(&sm, &hub.url, &manager_token);
    let out = sync(&sm);
    assert!(
        text(&out).contains("2 received"),
        "a Thanet manager receives the Thanet young people: {}",
        text(&out)
    );
    let people = caseload(&["--store", &store_arg(&sm), "people", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&people.stdout).unwrap();
    let mut names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"]["given"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Ada", "Bo"]);
}

fn academic_start() -> NaiveDate {
    caseload::domain::academic::academic_year_start(chrono::Local::now().date_naive())
}

#[test]
fn a_tracker_sees_only_their_list_and_an_officer_only_their_assignments() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let data = root.join("hub");
    let d = data.to_str().unwrap();
    add_user(&data, "root", "admin", root);
    let t_tracker = add_user(&data, "t.one", "tracker", root);
    let t_officer = add_user(&data, "j.smith", "officer", root);
    let year = chrono::Datelike::year(&academic_start()) - 16;
    let dob = format!("15/10/{}", year - 1);
    let start = chrono::Local::now()
        .date_naive()
        .format("%d/%m/%Y")
        .to_string();
    let file = root.join("cohort.csv");
    std::fs::write(
        &file,
        format!(
            "upn,given_name,family_name,date_of_birth,district,activity_code,activity_start\n\
             A886666666661,Nk,One,{dob},Thanet,810,{start}\n\
             A886666666662,Nk,Two,{dob},Thanet,810,{start}\n\
             A886666666663,Nk,Dover,{dob},Dover,810,{start}\n\
             A886666666664,Eet,Thanet,{dob},Thanet,230,{start}\n"
        ),
    )
    .unwrap();
    assert!(
        caseload(&[
            "hub",
            "import",
            "--data",
            d,
            "--as",
            "root",
            "cohort",
            file.to_str().unwrap()
        ])
        .status
        .success()
    );
    let bad = caseload(&[
        "hub",
        "list",
        "create",
        "x",
        "--filter",
        "status=lost",
        "--tracker",
        "t.one",
        "--data",
        d,
    ]);
    assert!(
        !bad.status.success() && text(&bad).contains("use eet, neet, not-known or other"),
        "{}",
        text(&bad)
    );
    let not_tracker = caseload(&[
        "hub",
        "list",
        "create",
        "x",
        "--filter",
        "status=not-known",
        "--tracker",
        "j.smith",
        "--data",
        d,
    ]);
    assert!(
        text(&not_tracker).contains("is not an active tracker"),
        "{}",
        text(&not_tracker)
    );
    let out = caseload(&[
        "hub",
        "list",
        "create",
        "Not Known – Thanet",
        "--filter",
        "status=not-known,district=thanet",
        "--tracker",
        "t.one",
        "--data",
        d,
    ]);
    assert!(text(&out).contains("2 young people"), "{}", text(&out));
    assert!(text(&caseload(&["hub", "list", "show", "--data", d])).contains("Not Known – Thanet"));

    let hub_store = caseload::hub::SledHubStore::open(&data, None).unwrap();
    let eet = {
        use caseload::hub::HubStore;
        hub_store
            .summaries()
            .unwrap()
            .into_iter()
            .find(|s| s.name.given == "Eet")
            .unwrap()
            .id
    };
    drop(hub_store);
    let prefix = eet.short();
    let out = caseload(&[
        "hub", "assign", &prefix, "--to", "j.smith", "--data", d, "--as", "root",
    ]);
    assert!(
        text(&out).contains("assigned 1 young people to j.smith"),
        "{}",
        text(&out)
    );
    let again = caseload(&[
        "hub", "assign", &prefix, "--to", "j.smith", "--data", d, "--as", "root",
    ]);
    assert!(
        text(&again).contains("assigned 0 young people to j.smith (1 already were)"),
        "{}",
        text(&again)
    );
    // Unassign, then move back: the officer ends as the only one assigned.
    let off = caseload(&[
        "hub", "unassign", &prefix, "--from", "j.smith", "--data", d, "--as", "root",
    ]);
    assert!(
        text(&off).contains("unassigned 1 young people from j.smith"),
        "{}",
        text(&off)
    );
    let moved = caseload(&[
        "hub", "assign", &prefix, "--to", "j.smith", "--move", "--data", d, "--as", "root",
    ]);
    assert!(
        text(&moved).contains("moved 1 young people to j.smith"),
        "{}",
        text(&moved)
    );

    let hub = HubProcess::start(&data);
    let given = |store: &Path| {
        let out = caseload(&["--store", &store_arg(store), "people", "--json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut names: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                format!(
                    "{} {}",
                    p["name"]["given"].as_str().unwrap(),
                    p["name"]["family"].as_str().unwrap()
                )
            })
            .collect();
        names.sort();
        names
    };
    let st = device(root, "t.one");
    must_login(&st, &hub.url, &t_tracker);
    must_sync(&st);
    assert_eq!(given(&st), ["Nk One", "Nk Two"]);
    let so = device(root, "j.smith");
    must_login(&so, &hub.url, &t_officer);
    must_sync(&so);
    assert_eq!(given(&so), ["Eet Thanet"]);
}

/// A council CA and a hub certificate for 127.0.0.1 / localhost signed by it.
fn council_ca(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let paths = (
        dir.join(format!("{name}-ca.pem")),
        dir.join(format!("{name}-hub.pem")),
        dir.join(format!("{name}-hub.key")),
    );
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, leaf.pem()).unwrap();
    std::fs::write(&paths.2, leaf_key.serialize_pem()).unwrap();
    (paths.0, paths.1, paths.2)
}

#[test]
fn over_tls_the_device_trusts_only_the_council_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let (ca, cert, key) = council_ca(tmp.path(), "council");
    let (other_ca, _, _) = council_ca(tmp.path(), "other");
    // A key that is not the certificate's: a clear refusal to start.
    let (_, _, wrong_key) = council_ca(tmp.path(), "third");
    let bad = caseload(&[
        "hub",
        "serve",
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        wrong_key.to_str().unwrap(),
    ]);
    assert!(!bad.status.success());
    assert!(
        text(&bad).contains("do not make a usable pair"),
        "{}",
        text(&bad)
    );
    let missing = caseload(&[
        "hub",
        "serve",
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        tmp.path().join("nope.pem").to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert!(
        text(&missing).contains("cannot read the certificate"),
        "{}",
        text(&missing)
    );

    let hub = HubProcess::start_with(
        &data,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(hub.url.starts_with("https://"), "{}", hub.url);
    // Users are added while the hub runs (through its admin socket).
    let token = add_user(&data, "j.smith", "officer", tmp.path());
    let s = device(tmp.path(), "j.smith");
    let login = |extra: &[&str]| {
        let mut args = vec![
            "--store",
            s.to_str().unwrap(),
            "login",
            &hub.url,
            "--token-file",
            token.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        caseload(&args)
    };
    // Neither the public web's authorities nor another CA vouch for this hub.
    for extra in [vec![], vec!["--ca-cert", other_ca.to_str().unwrap()]] {
        let out = login(&extra);
        assert_eq!(out.status.code(), Some(8), "{}", text(&out));
        assert!(
            text(&out).contains("cannot make a secure connection"),
            "{}",
            text(&out)
        );
    }
    // The token never reached the hub, so it still works with the right CA.
    let out = login(&["--ca-cert", ca.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let id = {
        let mut a = open(&s);
        let id = register(&mut a, "Secure", &["j.smith"]);
        contact(&mut a, id, "over tls");
        id
    };
    let out = sync(&s);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 sent"), "{}", text(&out));
    // The hub holds it: a second device of the same officer receives it.
    let token2 = {
        let out = caseload(&[
            "hub",
            "user",
            "add",
            "a.khan",
            "--role",
            "officer",
            "--data",
            data.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out));
        let f = tmp.path().join("khan.token");
        std::fs::write(
            &f,
            String::from_utf8_lossy(&out.stdout).lines().last().unwrap(),
        )
        .unwrap();
        f
    };
    let out = caseload(&[
        "hub",
        "assign",
        &id.0.simple().to_string(),
        "--to",
        "a.khan",
        "--data",
        data.to_str().unwrap(),
        "--as",
        "j.smith",
    ]);
    assert!(
        !out.status.success(),
        "an officer is not an admin: {}",
        text(&out)
    );
    assert!(
        text(&out).contains("not an active hub admin"),
        "{}",
        text(&out)
    );
    let k = device(tmp.path(), "a.khan");
    let out = caseload(&[
        "--store",
        &store_arg(&k),
        "login",
        &hub.url,
        "--token-file",
        token2.to_str().unwrap(),
        "--ca-cert",
        ca.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = sync(&k);
    assert!(
        text(&out).contains("0 received"),
        "not Khan's young person: {}",
        text(&out)
    );
}

#[test]
fn admin_commands_work_while_the_hub_runs_and_while_it_is_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let d = data.to_str().unwrap();
    // Stopped: straight to the database.
    let admin_token = add_user(&data, "admin", "admin", tmp.path());
    let hub = HubProcess::start(&data);
    // Running: through the admin socket, which only the hub's user may use.
    let sock = data.join("admin.sock");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let smith_token = add_user(&data, "j.smith", "officer", tmp.path());
    add_user(&data, "t.one", "tracker", tmp.path());
    let out = caseload(&["hub", "user", "list", "--data", d]);
    assert!(out.status.success(), "{}", text(&out));
    for who in ["admin", "j.smith", "t.one"] {
        assert!(text(&out).contains(who), "{}", text(&out));
    }
    // A council import while devices sync.
    let csv = tmp.path().join("cohort.csv");
    std::fs::write(
        &csv,
        "given_name,family_name,date_of_birth,district\n\
         Amy,Running,2009-10-01,Thanet\n\
         Ben,Running,2009-11-02,Dover\n",
    )
    .unwrap();
    let out = caseload(&[
        "hub",
        "import",
        "--data",
        d,
        "--as",
        "admin",
        "cohort",
        csv.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 new young people"), "{}", text(&out));
    // Its parts went through a sealed spool in the data directory, gone now.
    let spools: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".spool"))
        .collect();
    assert!(spools.is_empty(), "{spools:?}");
    let out = caseload(&["hub", "report", "--data", d, "headline", "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = caseload(&[
        "hub",
        "list",
        "create",
        "Thanet NEET",
        "--filter",
        "district=thanet",
        "--tracker",
        "t.one",
        "--data",
        d,
    ]);
    assert!(text(&out).contains("1 young people"), "{}", text(&out));
    let out = caseload(&["hub", "list", "show", "--data", d]);
    assert!(text(&out).contains("Thanet NEET"), "{}", text(&out));
    // Assign Amy to Smith while the hub runs; Smith's device receives her.
    let s = device(tmp.path(), "j.smith");
    let out = login(&s, &hub.url, &smith_token);
    assert!(out.status.success(), "{}", text(&out));
    let ids = {
        let store =
            caseload::hub::admin::RemoteHubStore::connect(&data).expect("the running hub answers");
        use caseload::hub::HubStore;
        store.summaries().unwrap()
    };
    let amy = ids
        .iter()
        .find(|p| p.district == District::Thanet)
        .unwrap()
        .id;
    let out = caseload(&[
        "hub",
        "assign",
        &amy.0.simple().to_string(),
        "--to",
        "j.smith",
        "--data",
        d,
        "--as",
        "admin",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = sync(&s);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        open(&s).person(amy).unwrap().is_some(),
        "assigned while running: {}",
        text(&out)
    );
    // Revoked while running: the next sync is refused.
    let out = caseload(&["hub", "user", "revoke", "j.smith", "--data", d]);
    assert!(out.status.success(), "{}", text(&out));
    let out = sync(&s);
    assert!(text(&out).contains("revoked"), "{}", text(&out));
    drop(hub);
    // Stopped again: the socket is gone or dead, and commands open the database.
    let out = caseload(&["hub", "user", "list", "--data", d]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("revoked"), "{}", text(&out));
    let _ = admin_token;
}

/// Reads one HTTP/1.1 message (headers, then a Content-Length body).
fn read_http(stream: &mut impl std::io::Read) -> Option<Vec<u8>> {
    let mut msg = Vec::new();
    let mut byte = [0u8; 1];
    while !msg.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        msg.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&msg).to_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body).ok()?;
    msg.extend_from_slice(&body);
    Some(msg)
}

/// A loopback proxy in front of the hub that loses the hub's answer to the
/// first `lose` pushes: the hub stores them, the device hears nothing.
fn lossy_proxy(hub: &str, lose: usize) -> String {
    use std::io::Write;
    let hub_addr = hub.trim_start_matches("http://").to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let lost = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { return };
            let (hub_addr, lost) = (hub_addr.clone(), lost.clone());
            std::thread::spawn(move || {
                let mut upstream = std::net::TcpStream::connect(&hub_addr).unwrap();
                while let Some(request) = read_http(&mut client) {
                    upstream.write_all(&request).unwrap();
                    let Some(answer) = read_http(&mut upstream) else {
                        return;
                    };
                    if request.starts_with(b"POST /v1/push")
                        && lost.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < lose
                    {
                        // The connection drops before the answer gets back.
                        let _ = client.shutdown(std::net::Shutdown::Both);
                        return;
                    }
                    client.write_all(&answer).unwrap();
                }
            });
        }
    });
    url
}

#[test]
fn a_push_whose_answer_is_lost_is_sent_again_without_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let token = add_user(&data, "j.smith", "officer", tmp.path());
    let hub = HubProcess::start(&data);
    let proxy = lossy_proxy(&hub.url, 1);
    let s = device(tmp.path(), "j.smith");
    let out = login(&s, &proxy, &token);
    assert!(out.status.success(), "{}", text(&out));
    let id = {
        let mut a = open(&s);
        let id = register(&mut a, "Lost", &["j.smith"]);
        contact(&mut a, id, "first");
        id
    };
    // The hub stores the push; its answer never arrives.
    let out = sync(&s);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out));
    assert!(
        text(&out).contains("your changes are kept"),
        "{}",
        text(&out)
    );
    assert_eq!(
        open(&s).outbox().unwrap().len(),
        2,
        "still waiting: not acknowledged"
    );
    // Sent again: accepted once, acknowledged, nothing doubled.
    let out = sync(&s);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 sent"), "{}", text(&out));
    assert!(open(&s).outbox().unwrap().is_empty());
    drop(hub);
    let store = caseload::hub::SledHubStore::open(&data, None).unwrap();
    use caseload::hub::HubStore;
    let history = store.history(id).unwrap();
    assert_eq!(history.len(), 2, "each op once at the hub");
    assert_eq!(store.last_seq().unwrap(), 2);
    assert_eq!(
        store.person(id).unwrap().unwrap().contacts.len(),
        1,
        "one contact attempt, not two"
    );
}

#[test]
fn bad_requests_get_a_4xx_with_a_reason_and_the_hub_keeps_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let token = add_user(&data, "j.smith", "officer", tmp.path());
    let hub = HubProcess::start(&data);
    let s = device(tmp.path(), "j.smith");
    let out = login(&s, &hub.url, &token);
    assert!(out.status.success(), "{}", text(&out));
    let device_token = caseload::link::link(&open(&s))
        .unwrap()
        .unwrap()
        .device_token
        .clone();
    let post = |path: &str, token: Option<&str>, body: &[u8]| -> (u16, String) {
        let mut req = ureq::post(&format!("{}{path}", hub.url));
        if let Some(t) = token {
            req = req.set("authorization", &format!("Bearer {t}"));
        }
        match req.send_bytes(body) {
            Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
            Err(e) => panic!("transport error: {e}"),
        }
    };
    let (code, why) = post("/v1/push", None, b"");
    assert_eq!(code, 401, "{why}");
    assert!(why.contains("no credentials"), "{why}");
    let (code, why) = post("/v1/pull", Some("not-a-token"), b"");
    assert_eq!(code, 401, "{why}");
    let (code, why) = post("/v1/push", Some(&device_token), b"\x00garbage\xff");
    assert_eq!(code, 400, "{why}");
    assert!(why.contains("could not be decoded"), "{why}");
    // Small on the wire, huge inflated: refused before it is unpacked whole.
    let bomb = {
        use std::io::Write;
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..200 {
            z.write_all(&zeros).unwrap();
        }
        z.finish().unwrap()
    };
    let (code, why) = post("/v1/push", Some(&device_token), &bomb);
    assert_eq!(code, 400, "{why}");
    assert!(why.contains("larger than"), "{why}");
    // Over the size limit: refused from the declared length, before the body
    // is read (so the body is not sent: the hub may close while it arrives).
    let answer = {
        use std::io::{Read, Write};
        let mut raw = std::net::TcpStream::connect(hub.url.trim_start_matches("http://")).unwrap();
        write!(
            raw,
            "POST /v1/push HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {device_token}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            17 * 1024 * 1024
        )
        .unwrap();
        raw.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut head = [0u8; 12];
        raw.read_exact(&mut head).unwrap();
        String::from_utf8_lossy(&head).into_owned()
    };
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "over the request size limit: {answer}"
    );
    let (code, _) = post("/v1/nothing-here", Some(&device_token), b"");
    assert_eq!(code, 404);
    // Still serving: health, and a real sync.
    let health = ureq::get(&format!("{}/health", hub.url)).call().unwrap();
    assert_eq!(health.into_string().unwrap(), "ok");
    let out = sync(&s);
    assert!(out.status.success(), "{}", text(&out));
}
