//! Sync against a device store that goes back in time (a restored backup, a
//! rolled-back copy) and against histories too big for one answer: real hub
//! processes on 127.0.0.1 and real device stores.

mod common;

use caseload::domain::person::PersonName;
use caseload::domain::{District, FieldValue, Note, OpPayload, PersonId, WorkerId};
use caseload::link;
use caseload::replica::Replica;
use caseload::store::crypto::KdfParams;
use common::{HubProcess, copy_dir, output_text as text};
use std::path::{Path, PathBuf};
use std::process::Output;

const FAST: KdfParams = KdfParams::LEAST;
const PASS: &str = "restore test passphrase";

fn caseload(args: &[&str]) -> Output {
    common::caseload_with(PASS, args)
}

/// A hub user; their enrolment token in a file.
fn add_user(data: &Path, name: &str, role: &str, dir: &Path) -> PathBuf {
    let file = dir.join(format!("{name}.token"));
    std::fs::write(&file, common::hub_user(data, name, role)).unwrap();
    file
}

fn device(dir: &Path, worker: &str, url: &str, token: &Path) -> PathBuf {
    let store = dir.join(format!("store-{worker}"));
    drop(Replica::init(&store, PASS.as_bytes(), WorkerId::new(worker), FAST).unwrap());
    let out = caseload(&[
        "--store",
        store.to_str().unwrap(),
        "login",
        url,
        "--token-file",
        token.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    store
}

fn open(store: &Path) -> Replica {
    Replica::open(caseload::store::EncryptedStore::open(store, PASS.as_bytes()).unwrap()).unwrap()
}

fn sync(store: &Path) -> String {
    let out = caseload(&["--store", store.to_str().unwrap(), "sync"]);
    assert!(out.status.success(), "{}", text(&out));
    text(&out)
}

fn register(r: &mut Replica, given: &str, workers: &[&str]) -> PersonId {
    r.register(
        vec![
            FieldValue::Name(PersonName {
                given: given.into(),
                family: "Restore".into(),
                preferred: None,
            }),
            FieldValue::DateOfBirth(chrono::NaiveDate::from_ymd_opt(2009, 10, 1).unwrap()),
            FieldValue::District(District::Dover),
            FieldValue::AssignedWorkers(workers.iter().map(|w| WorkerId::new(*w)).collect()),
        ],
        r.clock().today(),
    )
    .unwrap()
}

fn note(store: &Path, id: PersonId, text: &str) {
    let mut r = open(store);
    let today = r.clock().today();
    r.record(id, OpPayload::AddNote(Note { text: text.into() }), today)
        .unwrap();
}

fn notes(store: &Path, id: PersonId) -> Vec<String> {
    let mut n: Vec<String> = open(store)
        .person(id)
        .unwrap()
        .map(|s| s.notes.iter().map(|n| n.value.text.clone()).collect())
        .unwrap_or_default();
    n.sort();
    n
}

fn doctor_ok(store: &Path) {
    let out = caseload(&["--store", store.to_str().unwrap(), "doctor"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_restored_backup_gets_back_what_it_pushed_after_the_backup_was_taken() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let token = add_user(&data, "j.smith", "officer", tmp.path());
    let hub = HubProcess::start(&data);
    let s = device(tmp.path(), "j.smith", &hub.url, &token);
    let id = register(&mut open(&s), "Backed", &["j.smith"]);
    note(&s, id, "before the backup");
    sync(&s);
    let backup = tmp.path().join("backup");
    copy_dir(&s, &backup);
    note(&s, id, "after the backup");
    sync(&s);
    // The laptop dies; the backup is restored.
    copy_dir(&backup, &s);
    assert_eq!(notes(&s, id), vec!["before the backup"]);
    sync(&s);
    sync(&s);
    assert_eq!(notes(&s, id), vec!["after the backup", "before the backup"]);
    doctor_ok(&s);
}

#[test]
fn a_device_is_not_sent_back_the_ops_it_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let token = add_user(&data, "j.smith", "officer", tmp.path());
    let hub = HubProcess::start(&data);
    let s = device(tmp.path(), "j.smith", &hub.url, &token);
    {
        let mut r = open(&s);
        for i in 0..1000 {
            register(&mut r, &format!("New{i}"), &["j.smith"]);
        }
    }
    let first = sync(&s);
    assert!(
        first.contains("1000 sent, 0 received"),
        "nothing it wrote comes back: {first}"
    );
    let again = sync(&s);
    assert!(again.contains("0 sent, 0 received"), "{again}");
}

#[test]
fn a_store_gone_back_in_time_is_noticed_at_the_next_sync_and_filled_again() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let smith = add_user(&data, "j.smith", "officer", tmp.path());
    let khan = add_user(&data, "a.khan", "officer", tmp.path());
    let hub = HubProcess::start(&data);
    let s = device(tmp.path(), "j.smith", &hub.url, &smith);
    let k = device(tmp.path(), "a.khan", &hub.url, &khan);
    let id = register(&mut open(&s), "Shared", &["j.smith", "a.khan"]);
    sync(&s);
    sync(&k);
    let old = tmp.path().join("old");
    copy_dir(&s, &old);
    for n in ["one", "two"] {
        note(&k, id, n);
        sync(&k);
        let got = sync(&s);
        assert!(!got.contains("restored"), "{got}");
    }
    assert_eq!(notes(&s, id), vec!["one", "two"]);
    // One sync back is what a lost answer looks like, and is repaired the
    // same way. Two back: the hub knows the store has already shown a later
    // cursor. The whole store is put back (db and watermark alike: nothing
    // local can tell).
    copy_dir(&old, &s);
    assert!(notes(&s, id).is_empty());
    let got = sync(&s);
    assert!(
        got.contains("restored from a backup"),
        "the hub noticed: {got}"
    );
    assert_eq!(notes(&s, id), vec!["one", "two"]);
    doctor_ok(&s);
    let again = sync(&s);
    assert!(
        !again.contains("restored") && again.contains("0 received"),
        "{again}"
    );
}

#[test]
fn a_large_first_sync_comes_in_pages_and_resumes_where_it_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let admin = add_user(&data, "admin", "admin", tmp.path());
    // A cohort of 300 imported on the hub, before any device exists.
    let mut csv = String::from("given_name,family_name,date_of_birth,district\n");
    for i in 0..300 {
        csv.push_str(&format!("Paged{i},Person,01/02/2009,Thanet\n"));
    }
    let file = tmp.path().join("cohort.csv");
    std::fs::write(&file, csv).unwrap();
    let out = caseload(&[
        "hub",
        "import",
        "--data",
        data.to_str().unwrap(),
        "--as",
        "admin",
        "cohort",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    // Pages of at most 4 KiB of ops: dozens of pages.
    let hub = HubProcess::start_with(&data, &["--pull-page-bytes", "4096"]);
    let a = device(tmp.path(), "admin", &hub.url, &admin);
    // Three pages, then the device "dies" (nothing more is stored).
    let mut first_pages = 0;
    {
        let mut r = open(&a);
        for _ in 0..3 {
            let incoming = link::exchange(link::prepare(&r).unwrap()).unwrap();
            let page = link::finish(&mut r, incoming).unwrap();
            assert!(page.more, "more pages wait");
            assert!(page.pulled > 0);
            first_pages += page.pulled;
        }
        assert_eq!(r.index().len(), first_pages);
    }
    // It comes back and syncs: the rest arrives, nothing twice.
    let mut r = open(&a);
    let rest = link::sync(&mut r).unwrap();
    assert_eq!(
        first_pages + rest.pulled,
        300,
        "each op once, resumed not restarted"
    );
    assert_eq!(r.index().len(), 300);
    let link = link::link(&r).unwrap().unwrap();
    assert!(link.cursor >= 300);
    drop(r);
    doctor_ok(&a);
    assert!(sync(&a).contains("0 received"));
}
