//! The encrypted store's promises, tested through its public API on real files.

mod common;

use caseload::domain::activity::ActivitySource;
use caseload::domain::person::PersonName;
use caseload::domain::{
    ActivityCode, Channel, ContactAttempt, CurrentActivity, District, DomainError, FieldValue, Op,
    OpPayload, Outcome, PersonId, PersonState, WorkerId,
};
use caseload::replica::Replica;
use caseload::store::crypto::KdfParams;
use caseload::store::encrypted::{CacheSize, LockedStore};
use caseload::store::{CaseStore, EncryptedStore, Origin, StoreError};
use chrono::NaiveDate;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const FAST_KDF: KdfParams = KdfParams::LEAST;
const PASS: &[u8] = b"a long test passphrase";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn identity(given: &str, family: &str) -> Vec<FieldValue> {
    vec![
        FieldValue::Name(PersonName {
            given: given.into(),
            family: family.into(),
            preferred: None,
        }),
        FieldValue::DateOfBirth(NaiveDate::from_ymd_opt(2010, 3, 14).unwrap()),
        FieldValue::District(District::Thanet),
    ]
}

fn contact(on: NaiveDate) -> OpPayload {
    OpPayload::LogContact(ContactAttempt {
        at: on.and_hms_opt(11, 30, 0).unwrap(),
        channel: Channel::Phone,
        outcome: Outcome::NoAnswer,
        note: "left a message with a distinctive word: Zanzibar".into(),
        follow_up: None,
    })
}

/// A store with two people, one contact each; returns their ids.
fn make_store(dir: &Path) -> (PersonId, PersonId) {
    let mut r = Replica::init(dir, PASS, WorkerId::new("tester"), FAST_KDF).unwrap();
    let a = r
        .register(identity("Quentina", "Marchbanks"), today())
        .unwrap();
    let b = r
        .register(identity("Oswin", "Featherstonehaugh"), today())
        .unwrap();
    r.record(a, contact(today()), today()).unwrap();
    r.record(b, contact(today()), today()).unwrap();
    (a, b)
}

fn store_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    (tmp, dir)
}

/// Opens the raw sled database (the store must be closed) to play attacker.
/// The store at `dir`, unlocked and indexed.
fn open_replica(dir: &Path) -> Replica {
    Replica::open(EncryptedStore::open(dir, PASS).unwrap()).unwrap()
}

/// How many commits the store's commit log at `dir` holds, as its file reads.
fn records_in_log(dir: &Path) -> usize {
    let log = std::fs::read(dir.join("store.log")).unwrap();
    caseload::store::commit_log::parse(&log).len()
}

fn with_raw_tree(dir: &Path, tree: &str, f: impl FnOnce(&sled::Tree)) {
    // Opened as the store opens it: a store dropped a moment ago may still
    // hold sled's file lock from its flusher thread, which this waits out.
    let options = caseload::store::SledOptions {
        cache_bytes: 1 << 20,
        background_flush: false,
    };
    let db = caseload::store::open_sled(&dir.join("db"), options).unwrap();
    f(&db.open_tree(tree).unwrap());
    db.flush().unwrap();
}

/// Cuts the store's database file to half its length, as a crash or a bad
/// copy might.
fn cut_database_in_half(dir: &Path) {
    let file = dir.join("db").join("db");
    let len = std::fs::metadata(&file).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
    f.set_len(len / 2).unwrap();
}

#[test]
fn wrong_passphrase_is_refused_clearly() {
    let (_tmp, dir) = store_dir();
    make_store(&dir);
    let err = EncryptedStore::open(&dir, b"not the passphrase")
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::WrongPassphrase(_)), "{err}");
    assert!(
        err.to_string()
            .starts_with("wrong passphrase for the store at")
    );
    // And the right one still works afterwards, with everything there.
    let r = open_replica(&dir);
    assert_eq!(r.index().len(), 2);
}

#[test]
fn a_locked_store_can_be_retried_after_a_wrong_passphrase() {
    let (_tmp, dir) = store_dir();
    make_store(&dir);
    let locked = LockedStore::open(&dir).unwrap();
    assert!(locked.unlock_with_passphrase(b"typo").is_err());
    assert!(locked.unlock_with_passphrase(PASS).is_ok());
}

#[test]
fn a_database_opened_ahead_waits_through_a_wrong_passphrase() {
    let (_tmp, dir) = store_dir();
    make_store(&dir);
    let locked = LockedStore::open(&dir).unwrap().open_ahead();
    let err = locked.unlock_with_passphrase(b"typo").err().unwrap();
    assert!(matches!(err, StoreError::WrongPassphrase(_)), "{err}");
    let r = Replica::open(locked.unlock_with_passphrase(PASS).unwrap()).unwrap();
    assert_eq!(r.index().len(), 2);
}

#[test]
fn a_store_let_go_while_its_database_opens_closes_the_database_first() {
    let (_tmp, dir) = store_dir();
    make_store(&dir);
    for _ in 0..5 {
        // Without sled's flusher a closed database lets go of its file at
        // once, so the file is free the moment the locked store is gone.
        drop(
            LockedStore::open(&dir)
                .unwrap()
                .with_cache(CacheSize::BulkWrites)
                .open_ahead(),
        );
        let raw = sled::Config::new().path(dir.join("db")).open();
        assert!(raw.is_ok(), "the database was still open: {:?}", raw.err());
    }
    assert_eq!(open_replica(&dir).index().len(), 2);
}

#[test]
fn damage_found_while_opening_ahead_is_reported_at_unlocking() {
    let (_tmp, dir) = store_dir();
    make_store(&dir);
    cut_database_in_half(&dir);
    let locked = LockedStore::open(&dir).unwrap().open_ahead();
    let err = locked.unlock_with_passphrase(PASS).err().unwrap();
    assert!(matches!(err, StoreError::Database(_)), "{err}");
}

#[test]
fn a_relocked_store_keeps_its_database_open_and_everything_saved() {
    let (_tmp, dir) = store_dir();
    let (a, _) = make_store(&dir);
    let mut r = open_replica(&dir);
    r.record(a, contact(today()), today()).unwrap();
    let locked = r.into_store().relock();
    // Locked: the commit log was applied to the database and emptied, as at
    // closing, though the database stays open for the next unlock.
    assert_eq!(records_in_log(&dir), 0);
    let err = locked.unlock_with_passphrase(b"typo").err().unwrap();
    assert!(matches!(err, StoreError::WrongPassphrase(_)), "{err}");
    let r = Replica::open(locked.unlock_with_passphrase(PASS).unwrap()).unwrap();
    drop(locked);
    assert_eq!(r.index().get(a).unwrap().contact_attempts, 2);
    // Locked again and let go: the next opener finds it all.
    drop(r.into_store().relock());
    let r = open_replica(&dir);
    assert_eq!(r.index().get(a).unwrap().contact_attempts, 2);
}

#[test]
fn a_second_opener_is_told_the_store_is_open_elsewhere() {
    let (_tmp, dir) = store_dir();
    make_store(&dir);
    let first = EncryptedStore::open(&dir, PASS).unwrap();
    let err = LockedStore::open(&dir).err().unwrap();
    assert!(matches!(err, StoreError::OpenElsewhere(_)), "{err}");
    assert!(err.to_string().contains("is open elsewhere"));
    drop(first);
    assert!(LockedStore::open(&dir).is_ok(), "lock released on close");
}

#[test]
fn a_store_whose_database_is_reopened_keeps_every_change_and_its_lock() {
    let (_tmp, dir) = store_dir();
    let (mut r, a) = registered_once(&dir);
    // Durable in the commit log, not yet applied to the database.
    r.record(a, contact(today()), today()).unwrap();
    assert!(r.store().has_unapplied());
    let before = r.person(a).unwrap().unwrap();
    let mut r = r.with_database_reopened().map_err(|not| not.error).unwrap();
    assert!(!r.store().has_unapplied(), "applied and made durable first");
    assert_eq!(r.person(a).unwrap().unwrap(), before);
    assert_eq!(r.index().get(a).unwrap().contact_attempts, 1);
    let err = LockedStore::open(&dir).err().unwrap();
    assert!(matches!(err, StoreError::OpenElsewhere(_)), "{err}");
    r.record(a, contact(today()), today()).unwrap();
    assert!(r.store().doctor().unwrap().is_healthy());
    drop(r);
    let r = open_replica(&dir);
    assert_eq!(r.person(a).unwrap().unwrap().contacts.len(), 2);
}

#[test]
fn a_database_that_cannot_be_reopened_leaves_the_store_locked_with_the_reason() {
    let (_tmp, dir) = store_dir();
    let (mut r, a) = registered_once(&dir);
    r.record(a, contact(today()), today()).unwrap();
    let conf = dir.join("db").join("conf");
    let good = std::fs::read(&conf).unwrap();
    std::fs::write(&conf, b"not sled's settings").unwrap();
    let Err(not) = r.with_database_reopened() else {
        panic!("a database with damaged settings was opened");
    };
    let (err, locked) = (not.error, not.store);
    assert!(matches!(err, StoreError::Database(_)), "{err}");
    let second = LockedStore::open(&dir).err().unwrap();
    assert!(
        matches!(second, StoreError::OpenElsewhere(_)),
        "the lock is kept: {second}"
    );
    // Put right, the locked store unlocks with everything saved.
    std::fs::write(&conf, good).unwrap();
    let r = Replica::open(locked.unlock_with_passphrase(PASS).unwrap()).unwrap();
    assert_eq!(r.person(a).unwrap().unwrap().contacts.len(), 1);
    assert!(r.store().doctor().unwrap().is_healthy());
}

/// `err` names `record` of `tree` as damaged.
fn assert_damaged_record(err: StoreError, tree: &str, record: &str) {
    match &err {
        StoreError::Damaged {
            tree: t, record: r, ..
        } => {
            assert_eq!(*t, tree);
            assert_eq!(r, record);
        }
        other => panic!("expected Damaged, got {other}"),
    }
}

#[test]
fn a_tampered_value_names_its_record_and_spares_the_others() {
    let (_tmp, dir) = store_dir();
    let (a, b) = make_store(&dir);
    with_raw_tree(&dir, "people", |t| {
        let mut v = t.get(a.as_bytes()).unwrap().unwrap().to_vec();
        let mid = v.len() / 2;
        v[mid] ^= 0x40;
        t.insert(a.as_bytes(), v).unwrap();
    });
    let store = EncryptedStore::open(&dir, PASS).unwrap();
    assert_damaged_record(store.person(a).err().unwrap(), "people", &a.short());
    assert!(store.person(b).unwrap().is_some(), "other records readable");
    let report = store.doctor().unwrap();
    assert!(!report.is_healthy());
    assert_eq!(report.damaged.len(), 1);
    assert_eq!(report.damaged[0].tree, "people");
}

#[test]
fn a_value_moved_to_another_record_is_detected() {
    let (_tmp, dir) = store_dir();
    let (a, b) = make_store(&dir);
    with_raw_tree(&dir, "people", |t| {
        let v = t.get(a.as_bytes()).unwrap().unwrap();
        t.insert(b.as_bytes(), v).unwrap();
    });
    with_raw_tree(&dir, "summaries", |t| {
        let (k, v) = t.iter().next().unwrap().unwrap();
        let mut other = k.to_vec();
        other[1] ^= 1;
        t.remove(k).unwrap();
        t.insert(other, v).unwrap();
    });
    let r = open_replica(&dir);
    assert!(r.index().len() < 2, "the moved summary page is refused");
    assert!(
        r.damaged()
            .iter()
            .any(|d| d.tree == "summaries" && d.record.starts_with("page "))
    );
    let err = r.person(b).err().unwrap();
    assert!(
        matches!(err, StoreError::Damaged { tree: "people", .. }),
        "{err}"
    );
    assert!(!r.store().doctor().unwrap().is_healthy());
}

#[test]
fn the_summary_pages_stored_are_counted_to_the_byte() {
    let (_tmp, dir) = store_dir();
    let mut r = Replica::init(&dir, PASS, WorkerId::new("tester"), FAST_KDF).unwrap();
    assert_eq!(r.store().summary_pages_stored().unwrap(), (0, 0));
    for given in ["Ada", "Bea", "Cai"] {
        r.register(identity(given, "Marchbanks"), today()).unwrap();
    }
    let (pages, bytes) = r.store().summary_pages_stored().unwrap();
    assert!((1..=3).contains(&pages), "{pages} pages for three people");
    // A page: its count, then each person's id, length and summary; sealed.
    let people: u64 = r
        .index()
        .all()
        .iter()
        .map(|s| 16 + 4 + postcard::to_allocvec(s).unwrap().len() as u64)
        .sum();
    let per_page = caseload::store::crypto::sealed_len(4) as u64;
    assert_eq!(bytes, pages as u64 * per_page + people);
}

/// What `people` holds for a record made by one op: one byte, not the record.
const KEPT_AS_ITS_OP: &[u8] = &[0];

/// A new store holding one person, registered by one op.
fn registered_once(dir: &Path) -> (Replica, PersonId) {
    registered_once_in(dir, caseload::store::header::FORMAT_VERSION)
}

/// `registered_once`, in a store of the given format version.
fn registered_once_in(dir: &Path, version: u8) -> (Replica, PersonId) {
    let store = EncryptedStore::create_in_format(dir, PASS, FAST_KDF, version).unwrap();
    let mut r = Replica::init_store(store, WorkerId::new("tester")).unwrap();
    let a = r
        .register(identity("Quentina", "Marchbanks"), today())
        .unwrap();
    (r, a)
}

#[test]
fn a_record_made_by_one_op_is_kept_as_that_op_alone_and_read_back_whole() {
    let (_tmp, dir) = store_dir();
    let (r, a) = registered_once(&dir);
    let registered = r.person(a).unwrap().unwrap();
    drop(r);
    with_raw_tree(&dir, "people", |t| {
        assert!(t.get(a.as_bytes()).unwrap().is_none(), "no key of its own");
    });
    kept_as_its_op_reads_back_and_a_second_op_keeps_it_whole(&dir, a, registered);
}

#[test]
fn a_store_of_the_first_format_keeps_marking_a_record_made_by_one_op() {
    let (_tmp, dir) = store_dir();
    let (r, a) = registered_once_in(&dir, 1);
    let registered = r.person(a).unwrap().unwrap();
    drop(r);
    with_raw_tree(&dir, "people", |t| {
        assert_eq!(
            t.get(a.as_bytes()).unwrap().unwrap().as_ref(),
            KEPT_AS_ITS_OP
        );
    });
    kept_as_its_op_reads_back_and_a_second_op_keeps_it_whole(&dir, a, registered);
    let header = std::fs::read(dir.join("store.header")).unwrap();
    assert_eq!(header[8], 1, "the store keeps its format");
}

/// The record of `a`, kept as their one op, reads back as `registered`
/// after reopening; a second op has it kept whole, sealed.
fn kept_as_its_op_reads_back_and_a_second_op_keeps_it_whole(
    dir: &Path,
    a: PersonId,
    registered: PersonState,
) {
    let mut r = open_replica(dir);
    assert_eq!(r.person(a).unwrap().unwrap(), registered);
    assert_eq!(r.index().get(a).unwrap().name.given.as_str(), "Quentina");
    assert!(r.store().doctor().unwrap().is_healthy());
    // A second op: the record is kept whole again.
    r.record(a, contact(today()), today()).unwrap();
    let contacted = r.person(a).unwrap().unwrap();
    drop(r);
    with_raw_tree(dir, "people", |t| {
        assert!(t.get(a.as_bytes()).unwrap().unwrap().len() > 40, "sealed");
    });
    let r = open_replica(dir);
    assert_eq!(r.person(a).unwrap().unwrap(), contacted);
    assert_eq!(contacted.contacts.len(), 1);
    assert!(r.store().doctor().unwrap().is_healthy());
}

#[test]
fn the_one_op_mark_over_a_longer_record_reads_its_ops_and_doctor_reports_it() {
    let (_tmp, dir) = store_dir();
    let (a, b) = make_store(&dir);
    let before = open_replica(&dir).person(a).unwrap().unwrap();
    with_raw_tree(&dir, "people", |t| {
        t.insert(a.as_bytes(), KEPT_AS_ITS_OP).unwrap();
    });
    let store = EncryptedStore::open(&dir, PASS).unwrap();
    // The record is its ops folded, whatever the mark says.
    assert_eq!(store.person(a).unwrap().unwrap(), before);
    let report = store.doctor().unwrap();
    assert_eq!(report.state_mismatch, vec![a.short()]);
    assert!(store.person(b).unwrap().is_some());
}

/// `registered_once_in`, then the person's one op taken out of sled.
fn registered_once_then_op_gone(dir: &Path, version: u8) -> PersonId {
    let (r, a) = registered_once_in(dir, version);
    drop(r);
    with_raw_tree(dir, "ops", |t| {
        let k = t.scan_prefix(a.as_bytes()).keys().next().unwrap().unwrap();
        t.remove(k).unwrap();
    });
    a
}

#[test]
fn a_record_marked_as_its_op_whose_op_is_gone_is_damaged_not_empty() {
    let (_tmp, dir) = store_dir();
    let a = registered_once_then_op_gone(&dir, 1);
    let store = EncryptedStore::open(&dir, PASS).unwrap();
    assert_damaged_record(store.person(a).err().unwrap(), "people", &a.short());
    assert!(!store.doctor().unwrap().is_healthy());
}

#[test]
fn a_record_kept_as_its_op_alone_whose_op_is_gone_leaves_its_summary_and_doctor_reports_it() {
    let (_tmp, dir) = store_dir();
    let a = registered_once_then_op_gone(&dir, caseload::store::header::FORMAT_VERSION);
    let store = EncryptedStore::open(&dir, PASS).unwrap();
    // Nothing says a record was there but its summary and the op count.
    assert!(store.person(a).unwrap().is_none());
    let report = store.doctor().unwrap();
    assert_eq!(report.summary_mismatch, vec![a.short()]);
    assert_eq!(report.rolled_back, Some((1, 0)));
}

#[test]
fn a_record_whose_key_is_gone_is_its_ops_folded_and_doctor_reports_it() {
    let (_tmp, dir) = store_dir();
    let (a, b) = make_store(&dir);
    let before = open_replica(&dir).person(a).unwrap().unwrap();
    assert_eq!(before.contacts.len(), 1, "two ops: kept whole");
    with_raw_tree(&dir, "people", |t| {
        t.remove(a.as_bytes()).unwrap();
    });
    let store = EncryptedStore::open(&dir, PASS).unwrap();
    assert_eq!(store.person(a).unwrap().unwrap(), before);
    let report = store.doctor().unwrap();
    // Only a record of one op goes without a key of its own.
    assert_eq!(report.state_mismatch, vec![a.short()]);
    assert_eq!((report.people, report.orphan_ops), (2, 0));
    assert!(store.person(b).unwrap().is_some());
}

#[test]
fn in_the_first_format_ops_with_no_record_are_orphans() {
    let (_tmp, dir) = store_dir();
    let (r, a) = registered_once_in(&dir, 1);
    drop(r);
    with_raw_tree(&dir, "people", |t| {
        t.remove(a.as_bytes()).unwrap();
    });
    let store = EncryptedStore::open(&dir, PASS).unwrap();
    assert!(store.person(a).unwrap().is_none());
    let report = store.doctor().unwrap();
    assert_eq!((report.people, report.orphan_ops), (0, 1));
    assert_eq!(report.summary_mismatch, vec![a.short()]);
}

#[test]
fn a_truncated_value_is_an_error_not_a_panic() {
    let (_tmp, dir) = store_dir();
    let (a, _) = make_store(&dir);
    with_raw_tree(&dir, "ops", |t| {
        let (k, v) = t.scan_prefix(a.as_bytes()).next().unwrap().unwrap();
        t.insert(k, &v[..v.len() / 3]).unwrap();
    });
    let store = EncryptedStore::open(&dir, PASS).unwrap();
    let err = store.ops_for(a).err().unwrap();
    assert!(
        matches!(err, StoreError::Damaged { tree: "ops", .. }),
        "{err}"
    );
    assert!(!store.doctor().unwrap().is_healthy());
}

#[test]
fn a_truncated_database_file_is_refused_not_passed_off_as_a_smaller_store() {
    let (_tmp, dir) = store_dir();
    make_store(&dir);
    cut_database_in_half(&dir);
    // sled recovers a cut log to its last intact state (here: empty). The
    // watermark shows changes were lost, so opening fails, loudly and without a panic.
    let err = EncryptedStore::open(&dir, PASS).err().unwrap();
    assert!(matches!(err, StoreError::Database(_)), "{err}");
    assert!(
        err.to_string().contains("lost changes") || err.to_string().contains("damaged"),
        "{err}"
    );
}

#[test]
fn a_database_replaced_by_an_older_copy_is_refused() {
    let (_tmp, dir) = store_dir();
    let (a, _) = make_store(&dir);
    let backup = dir.parent().unwrap().join("old-db");
    copy_dir(&dir.join("db"), &backup);
    {
        let mut r = open_replica(&dir);
        r.record(a, contact(today()), today()).unwrap();
    }
    std::fs::remove_dir_all(dir.join("db")).unwrap();
    copy_dir(&backup, &dir.join("db"));
    let err = EncryptedStore::open(&dir, PASS).err().unwrap();
    assert!(err.to_string().contains("lost changes"), "{err}");
}

#[test]
fn a_deleted_watermark_is_noticed() {
    let (_tmp, dir) = store_dir();
    make_store(&dir);
    std::fs::remove_file(dir.join("store.watermark")).unwrap();
    let err = EncryptedStore::open(&dir, PASS).err().unwrap();
    assert!(err.to_string().contains("missing"), "{err}");
}

/// Spoils the sealed bytes of the newest watermark slot (or every slot), as a
/// write torn by a power cut would.
fn spoil_watermark(dir: &Path, every_slot: bool) {
    use caseload::store::watermark::{self, Saved};
    let path = dir.join("store.watermark");
    let Saved::Slots(slots) = watermark::read(&path).unwrap() else {
        panic!("the watermark has slots after a commit");
    };
    let mut bytes = std::fs::read(&path).unwrap();
    for (generation, _) in slots.iter().take(if every_slot { 2 } else { 1 }) {
        let at = (generation % 2) as usize * 4096 + 30;
        bytes[at] ^= 0x55;
    }
    std::fs::write(&path, &bytes).unwrap();
}

#[test]
fn a_torn_watermark_slot_leaves_the_one_before_and_both_torn_is_refused() {
    let (_tmp, dir) = store_dir();
    let (a, _) = make_store(&dir);
    for _ in 0..3 {
        let mut r = open_replica(&dir);
        r.record(a, contact(today()), today()).unwrap();
    }
    let size = std::fs::metadata(dir.join("store.watermark"))
        .unwrap()
        .len();
    assert_eq!(size, 8192, "written in place: two slots of a block each");
    // The newest slot torn: the one before vouches (one commit behind, which
    // the database is ahead of), so the store opens and goes on.
    spoil_watermark(&dir, false);
    {
        let mut r = open_replica(&dir);
        r.record(a, contact(today()), today()).unwrap();
    }
    assert!(EncryptedStore::open(&dir, PASS).is_ok());
    // Both torn: nothing vouches for the database, so it is not passed off as whole.
    spoil_watermark(&dir, true);
    let err = EncryptedStore::open(&dir, PASS).err().unwrap();
    assert!(err.to_string().contains("damaged"), "{err}");
}

#[test]
fn an_older_database_is_refused_after_many_watermarks_written_in_place() {
    let (_tmp, dir) = store_dir();
    let (a, _) = make_store(&dir);
    let backup = dir.parent().unwrap().join("old-db");
    copy_dir(&dir.join("db"), &backup);
    {
        let mut r = open_replica(&dir);
        for _ in 0..5 {
            r.record(a, contact(today()), today()).unwrap();
        }
    }
    std::fs::remove_dir_all(dir.join("db")).unwrap();
    copy_dir(&backup, &dir.join("db"));
    let err = EncryptedStore::open(&dir, PASS).err().unwrap();
    assert!(err.to_string().contains("lost changes"), "{err}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn a_truncated_or_foreign_header_is_named() {
    let (_tmp, dir) = store_dir();
    make_store(&dir);
    let header = dir.join("store.header");
    let bytes = std::fs::read(&header).unwrap();
    std::fs::write(&header, &bytes[..60]).unwrap();
    let err = EncryptedStore::open(&dir, PASS).err().unwrap();
    assert!(matches!(err, StoreError::BadHeader { .. }), "{err}");
    assert!(err.to_string().contains("truncated"), "{err}");
    std::fs::write(&header, b"hello").unwrap();
    let err = EncryptedStore::open(&dir, PASS).err().unwrap();
    assert!(
        err.to_string().contains("not a caseload store header"),
        "{err}"
    );
}

#[test]
fn missing_store_is_not_found() {
    let (_tmp, dir) = store_dir();
    let err = LockedStore::open(&dir).err().unwrap();
    assert!(matches!(err, StoreError::NotFound(_)));
    assert!(err.to_string().contains("caseload init"));
}

#[test]
fn passphrase_change_keeps_data_readable_with_the_new_passphrase_only() {
    let (_tmp, dir) = store_dir();
    let (a, _) = make_store(&dir);
    {
        let mut store = EncryptedStore::open(&dir, PASS).unwrap();
        store
            .change_passphrase(b"an entirely new passphrase")
            .unwrap();
    }
    assert!(matches!(
        EncryptedStore::open(&dir, PASS).err().unwrap(),
        StoreError::WrongPassphrase(_)
    ));
    let store = EncryptedStore::open(&dir, b"an entirely new passphrase").unwrap();
    let state = store.person(a).unwrap().unwrap();
    assert_eq!(state.contacts.len(), 1);
    assert!(store.doctor().unwrap().is_healthy());
}

#[test]
fn invalid_domain_input_is_rejected_and_nothing_is_written() {
    let (_tmp, dir) = store_dir();
    let (a, _) = make_store(&dir);
    let mut r = open_replica(&dir);
    let before = r.ops_for(a).unwrap().len();

    let future = today().succ_opt().unwrap();
    let err = r.record(a, contact(future), today()).err().unwrap();
    assert!(
        matches!(err, StoreError::Invalid(DomainError::InFuture { .. })),
        "{err}"
    );

    let long_ago = NaiveDate::from_ymd_opt(2009, 1, 1).unwrap();
    let err = r.record(a, contact(long_ago), today()).err().unwrap();
    assert!(
        matches!(err, StoreError::Invalid(DomainError::BeforeBirth { .. })),
        "{err}"
    );

    let mut born_tomorrow = identity("Tomorrow", "Child");
    born_tomorrow[1] = FieldValue::DateOfBirth(future);
    let err = r.register(born_tomorrow, today()).err().unwrap();
    assert!(
        matches!(err, StoreError::Invalid(DomainError::BirthInFuture(_))),
        "{err}"
    );

    let err = r
        .register(identity("No", "Dob")[..1].to_vec(), today())
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");

    let activity = |start: NaiveDate| {
        FieldValue::CurrentActivity(CurrentActivity {
            code: ActivityCode::new(230).unwrap(),
            start,
            confirmed: future,
            source: ActivitySource::College,
            expected_end: None,
            provider: None,
        })
    };
    assert!(r.set_fields(a, vec![activity(today())], today()).is_err());
    assert!(matches!(
        r.record(PersonId::mint(), contact(today()), today())
            .err()
            .unwrap(),
        StoreError::UnknownPerson(_)
    ));

    assert_eq!(r.ops_for(a).unwrap().len(), before, "nothing written");
    assert_eq!(r.index().len(), 2);
    assert_eq!(
        r.outbox().unwrap().len(),
        4,
        "outbox holds only the accepted ops"
    );
}

#[test]
fn every_local_op_waits_in_the_outbox_in_order() {
    let (_tmp, dir) = store_dir();
    let (a, _) = make_store(&dir);
    let mut r = open_replica(&dir);
    let op = r.record(a, contact(today()), today()).unwrap();
    let outbox = r.outbox().unwrap();
    assert_eq!(outbox.len(), 5);
    assert_eq!(outbox.last().unwrap().id, op.id);
    assert!(
        outbox.windows(2).all(|w| w[0].at < w[1].at),
        "HLC order matches outbox order"
    );
}

#[test]
fn files_are_private_and_contain_no_plaintext() {
    let (_tmp, dir) = store_dir();
    make_store(&dir);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    for p in common::files_under(&dir) {
        assert_eq!(mode(&p), 0o600, "{}", p.display());
        assert_eq!(mode(p.parent().unwrap()), 0o700, "{}", p.display());
    }
    for needle in [
        "Quentina",
        "Marchbanks",
        "Featherstonehaugh",
        "Zanzibar",
        "2010-03-14",
        "tester",
    ] {
        common::assert_nowhere_on_disk(&dir, needle.as_bytes());
    }
}

/// A commit is durable once it is in the commit log, before sled has been
/// made durable: the store as a crash leaves it (copied while open) replays
/// it at the next opening, and a second opening changes nothing more.
#[test]
fn a_commit_held_only_by_the_commit_log_is_replayed_after_a_crash() {
    let (_tmp, dir) = store_dir();
    let (a, _) = make_store(&dir);
    let crashed = dir.parent().unwrap().join("crashed");
    let before = {
        let mut r = open_replica(&dir);
        r.record(a, contact(today()), today()).unwrap();
        // The moment of the crash: the files as they are now, the store open.
        copy_dir(&dir, &crashed);
        r.person(a).unwrap().unwrap().contacts.len()
    };
    assert_eq!(records_in_log(&crashed), 1, "the contact is in the log");
    for _ in 0..2 {
        let store = EncryptedStore::open(&crashed, PASS).expect("opens");
        let r = Replica::open(store).unwrap();
        assert_eq!(r.person(a).unwrap().unwrap().contacts.len(), before);
        assert_eq!(r.store().outbox_len().unwrap(), 5, "2 people, 3 contacts");
    }
    // Closed, it was made durable in sled and the log emptied.
    assert_eq!(records_in_log(&crashed), 0);
    assert!(
        EncryptedStore::open(&crashed, PASS)
            .unwrap()
            .doctor()
            .unwrap()
            .damaged
            .is_empty()
    );
}

/// A commit is durable in the log before sled holds it: every read sees it
/// at once (the person, their summary and ops, the outbox), the same op
/// offered again changes nothing, and another kind of change applies it to
/// sled first.
#[test]
fn a_commit_not_yet_applied_to_sled_is_seen_by_every_read() {
    let (_tmp, dir) = store_dir();
    let (a, b) = make_store(&dir);
    let mut r = open_replica(&dir);
    let op = r.record(a, contact(today()), today()).unwrap();
    let op_b = r.record(b, contact(today()), today()).unwrap();
    assert!(r.store().has_unapplied(), "written to the log only");
    assert_eq!(r.person(a).unwrap().unwrap().contacts.len(), 2);
    assert_eq!(r.store().outbox_len().unwrap(), 6, "2 people, 4 contacts");
    assert_eq!(
        r.commit(std::slice::from_ref(&op), Origin::Local).unwrap(),
        0
    );
    assert_eq!(r.store().outbox_len().unwrap(), 6, "offered again: held");
    let (summaries, _) = r.store().summaries().unwrap();
    let summary = summaries.iter().find(|s| s.id == a).unwrap();
    assert_eq!(Some(summary), r.index().get(a), "the index and sled agree");
    assert!(
        !r.store().has_unapplied(),
        "reading every summary applied it"
    );
    assert!(r.ops_for(b).unwrap().contains(&op_b));
    // Two more with one received between them (runs of two origins), then a
    // change of another kind: applied, made durable, and the log emptied.
    r.record(a, contact(today()), today()).unwrap();
    let received = r.new_op(a, contact(today()));
    r.commit(std::slice::from_ref(&received), Origin::Remote)
        .unwrap();
    r.record(a, contact(today()), today()).unwrap();
    r.store().put_meta("a-setting", &1u8).unwrap();
    assert!(!r.store().has_unapplied());
    assert_eq!(records_in_log(&dir), 0);
    assert_eq!(r.outbox().unwrap().len(), 8);
    assert!(r.store().doctor().unwrap().is_healthy());
}

/// A commit that finds the log full first makes room (what waits applied to
/// sled, made durable, the log emptied) and is then written to the emptied
/// log: were the disk full, the refusal would come before anything of the
/// commit was held anywhere, so nothing of it could reappear later.
#[test]
fn a_commit_that_finds_the_log_full_makes_room_before_it_is_written() {
    let (_tmp, dir) = store_dir();
    let (a, _) = make_store(&dir);
    let mut r = open_replica(&dir);
    let records = || records_in_log(&dir);
    let mut last = 0;
    // The log holds about 330 contacts.
    for n in 1..=1000 {
        r.record(a, contact(today()), today()).unwrap();
        let now = records();
        if now < last {
            assert_eq!(
                now, 1,
                "the emptied log holds the commit that found it full"
            );
            assert!(r.store().has_unapplied(), "which waits to be applied");
            assert_eq!(r.person(a).unwrap().unwrap().contacts.len(), n + 1);
            drop(r);
            let r = open_replica(&dir);
            assert_eq!(r.person(a).unwrap().unwrap().contacts.len(), n + 1);
            return;
        }
        last = now;
    }
    panic!("the log never filled");
}

/// A commit larger than the whole log (a pulled page) is applied to sled
/// after the commit waiting before it and made durable at once: nothing is
/// left waiting, the log is empty, the whole of both is there after a crash
/// (the files copied while open), and the same page again changes nothing.
#[test]
fn a_commit_larger_than_the_log_is_made_durable_in_sled_at_once() {
    let (_tmp, dir) = store_dir();
    let (a, b) = make_store(&dir);
    let crashed = dir.parent().unwrap().join("crashed");
    let mut r = open_replica(&dir);
    r.record(a, contact(today()), today()).unwrap();
    assert!(
        r.store().has_unapplied(),
        "the small commit waits in the log"
    );
    let page: Vec<Op> = (0..600).map(|_| r.new_op(b, contact(today()))).collect();
    assert_eq!(
        r.commit(&page, Origin::Remote).unwrap(),
        1,
        "one person changed"
    );
    assert!(!r.store().has_unapplied(), "both applied");
    assert_eq!(records_in_log(&dir), 0);
    copy_dir(&dir, &crashed);
    assert_eq!(r.commit(&page, Origin::Remote).unwrap(), 0, "held");
    assert_eq!(r.person(b).unwrap().unwrap().contacts.len(), 601);
    drop(r);
    let r = Replica::open(EncryptedStore::open(&crashed, PASS).expect("opens")).unwrap();
    assert_eq!(r.person(a).unwrap().unwrap().contacts.len(), 2);
    assert_eq!(r.person(b).unwrap().unwrap().contacts.len(), 601);
    assert_eq!(
        r.store().outbox_len().unwrap(),
        5,
        "the page was received, not made here"
    );
    assert!(r.store().doctor().unwrap().is_healthy());
}

/// A pulled page stores its ops; the people it says left this worker's scope
/// are removed unless changes of theirs still wait to be sent; and a page
/// that removes no one does not read the outbox (reading it decrypts every
/// waiting op and first applies what waits in the log to sled).
#[test]
fn a_pull_removes_who_left_scope_unless_their_changes_wait() {
    use caseload::domain::ops::FieldSet;
    use caseload::sync::protocol::PullResponse;
    let (_tmp, dir) = store_dir();
    let (a, _) = make_store(&dir);
    let mut r = open_replica(&dir);
    let c = PersonId::mint();
    let fields = identity("Ada", "Received").into_iter().map(FieldSet::new);
    let theirs = r.new_op(c, OpPayload::SetFields(fields.collect()));
    r.commit(&[theirs], Origin::Remote).unwrap();
    r.record(a, contact(today()), today()).unwrap();
    assert!(r.store().has_unapplied(), "both wait in the log");
    let page = |left_scope| PullResponse {
        ops: Vec::new(),
        cursor: 9,
        left_scope,
        next: None,
        restored: false,
    };
    assert_eq!(
        caseload::link::store_pulled(&mut r, &page(vec![])).unwrap(),
        0
    );
    assert!(r.store().has_unapplied(), "the outbox was not read");
    assert_eq!(
        caseload::link::store_pulled(&mut r, &page(vec![a, c])).unwrap(),
        1
    );
    assert!(r.person(c).unwrap().is_none(), "nothing of theirs waited");
    assert!(
        r.person(a).unwrap().is_some(),
        "kept until their changes are sent"
    );
}

/// A power cut in the middle of writing the log's last record leaves it
/// unreadable: it was never acknowledged, so the store opens without it. A
/// record that cannot be read with others after it is damage, and said so.
#[test]
fn a_torn_last_log_record_is_left_out_and_an_earlier_damaged_one_refused() {
    let (_tmp, dir) = store_dir();
    let (a, _) = make_store(&dir);
    let crashed = dir.parent().unwrap().join("crashed");
    {
        let mut r = open_replica(&dir);
        r.record(a, contact(today()), today()).unwrap();
        r.record(a, contact(today()), today()).unwrap();
        copy_dir(&dir, &crashed);
    }
    let log_path = crashed.join("store.log");
    let log = std::fs::read(&log_path).unwrap();
    let records = caseload::store::commit_log::parse(&log);
    assert_eq!(records.len(), 2);
    let first_len = 32 + records[0].sealed.len();
    // The second record's sealed bytes torn (its head intact).
    let mut torn = log.clone();
    torn[first_len + 40] ^= 0xff;
    std::fs::write(&log_path, &torn).unwrap();
    let backup = dir.parent().unwrap().join("crashed-copy");
    copy_dir(&crashed, &backup);
    {
        let r = Replica::open(EncryptedStore::open(&crashed, PASS).expect("opens")).unwrap();
        // 1 + the first logged (sled may have written the second on its own
        // before the moment copied, so it may be there too).
        assert!(r.person(a).unwrap().unwrap().contacts.len() >= 2);
        let log = std::fs::read(&log_path).unwrap();
        assert!(
            caseload::store::commit_log::parse(&log).is_empty(),
            "emptied once the rest was durable, so nothing is appended after the torn one"
        );
    }
    // The first record damaged, with one after it: refused as damage.
    let mut damaged = log;
    damaged[40] ^= 0xff;
    std::fs::write(backup.join("store.log"), &damaged).unwrap();
    let err = EncryptedStore::open(&backup, PASS).err().expect("refused");
    assert!(err.to_string().contains("damaged"), "{err}");
}

/// `people` demo people, each made by several ops, committed as one page of
/// a pull into a new store of format `version`; their ops, by person.
fn pulled_in(dir: &Path, version: u8, people: usize) -> (EncryptedStore, Vec<Vec<Op>>) {
    let store = EncryptedStore::create_in_format(dir, PASS, FAST_KDF, version).unwrap();
    let spec = caseload::demo::DemoSpec {
        people,
        seed: 11,
        today: today(),
    };
    let by_person: Vec<Vec<Op>> = caseload::demo::DemoCohort::new(spec).collect();
    assert!(
        by_person.iter().all(|ops| ops.len() > 1),
        "several ops each"
    );
    let all: Vec<Op> = by_person.iter().flatten().cloned().collect();
    store.commit(&all, Origin::Remote).unwrap();
    (store, by_person)
}

/// The keys of the `ops` tree at `dir` (the store closed).
fn ops_keys(dir: &Path) -> Vec<Vec<u8>> {
    let mut keys = Vec::new();
    with_raw_tree(dir, "ops", |t| {
        keys = t.iter().keys().map(|k| k.unwrap().to_vec()).collect();
    });
    keys
}

#[test]
fn a_persons_ops_in_one_commit_are_kept_as_one_value_and_read_back_whole() {
    let (_tmp, dir) = store_dir();
    let (store, by_person) = pulled_in(&dir, caseload::store::header::FORMAT_VERSION, 6);
    let total: usize = by_person.iter().map(Vec::len).sum();
    drop(store);
    let keys = ops_keys(&dir);
    assert_eq!(keys.len(), by_person.len(), "one key a person");
    assert!(
        keys.iter().all(|k| k.len() == 36),
        "the first op's key and a count"
    );
    let store = EncryptedStore::open(&dir, PASS).unwrap();
    for ops in &by_person {
        let id = ops[0].person;
        let mut held = store.ops_for(id).unwrap();
        let mut sent = ops.clone();
        held.sort_by_key(|op| op.id);
        sent.sort_by_key(|op| op.id);
        assert_eq!(held, sent);
        assert_eq!(
            store.person(id).unwrap().unwrap(),
            PersonState::fold(id, ops)
        );
    }
    let report = store.doctor().unwrap();
    assert!(report.is_healthy(), "{report:?}");
    assert_eq!((report.people, report.ops), (by_person.len(), total));
}

#[test]
fn a_store_of_the_second_format_keeps_each_op_under_its_own_key() {
    let (_tmp, dir) = store_dir();
    let (store, by_person) = pulled_in(&dir, 2, 4);
    let total: usize = by_person.iter().map(Vec::len).sum();
    drop(store);
    let keys = ops_keys(&dir);
    assert_eq!(keys.len(), total);
    assert!(keys.iter().all(|k| k.len() == 32));
    let store = EncryptedStore::open(&dir, PASS).unwrap();
    assert!(store.doctor().unwrap().is_healthy());
    let header = std::fs::read(dir.join("store.header")).unwrap();
    assert_eq!(header[8], 2, "the store keeps its format");
}

#[test]
fn ops_kept_together_that_arrive_again_are_found_held() {
    let (_tmp, dir) = store_dir();
    let (store, by_person) = pulled_in(&dir, caseload::store::header::FORMAT_VERSION, 5);
    let total = store.doctor().unwrap().ops;
    let all: Vec<Op> = by_person.iter().flatten().cloned().collect();
    // Settled into sled, so that only the ops kept together can tell.
    store.checkpoint().unwrap();
    assert!(store.commit(&all, Origin::Remote).unwrap().is_empty());
    // One from the middle of a value, alone, and with one new op beside it.
    let middle = by_person[2][1].clone();
    assert!(
        store
            .commit(std::slice::from_ref(&middle), Origin::Remote)
            .unwrap()
            .is_empty()
    );
    let mut new = by_person[3][0].clone();
    new.id = caseload::domain::OpId::from_bytes(*uuid::Uuid::now_v7().as_bytes());
    let changed = store.commit(&[middle, new], Origin::Remote).unwrap();
    assert_eq!(changed.len(), 1);
    drop(store);
    let store = EncryptedStore::open(&dir, PASS).unwrap();
    let report = store.doctor().unwrap();
    assert!(report.is_healthy(), "{report:?}");
    assert_eq!(report.ops, total + 1);
}

#[test]
fn a_person_removed_takes_every_op_kept_together_with_them() {
    let (_tmp, dir) = store_dir();
    let (store, by_person) = pulled_in(&dir, caseload::store::header::FORMAT_VERSION, 3);
    let total = store.doctor().unwrap().ops;
    let gone = by_person[1][0].person;
    store.remove_person(gone).unwrap();
    drop(store);
    let store = EncryptedStore::open(&dir, PASS).unwrap();
    assert!(store.person(gone).unwrap().is_none());
    // The watermark's count, were it not lowered by all of theirs, would
    // be reported as records rolled back.
    let report = store.doctor().unwrap();
    assert!(report.is_healthy(), "{report:?}");
    assert_eq!(report.ops, total - by_person[1].len());
}

#[test]
fn ops_kept_together_under_another_count_are_damaged_and_named() {
    let (_tmp, dir) = store_dir();
    let (store, by_person) = pulled_in(&dir, caseload::store::header::FORMAT_VERSION, 3);
    let victim = by_person[0][0].person;
    drop(store);
    with_raw_tree(&dir, "ops", |t| {
        let (k, v) = t.scan_prefix(victim.as_bytes()).next().unwrap().unwrap();
        // The same value, its key saying one op fewer: sealed to the key,
        // so it no longer opens.
        let mut recounted = k.to_vec();
        recounted[35] -= 1;
        t.remove(&k).unwrap();
        t.insert(recounted, v).unwrap();
    });
    let store = EncryptedStore::open(&dir, PASS).unwrap();
    match store.ops_for(victim) {
        Err(StoreError::Damaged { tree, record, .. }) => {
            assert_eq!(tree, "ops");
            assert!(
                record.starts_with(&format!("{}/", victim.short())),
                "{record}"
            );
        }
        other => panic!("expected damage, got {other:?}"),
    }
    let report = store.doctor().unwrap();
    assert_eq!(report.damaged.len(), 1);
    assert!(store.person(by_person[1][0].person).unwrap().is_some());
}

#[test]
fn a_salvage_finds_every_op_kept_together_and_every_one_waiting() {
    let (_tmp, dir) = store_dir();
    let store = EncryptedStore::create(&dir, PASS, FAST_KDF).unwrap();
    let spec = caseload::demo::DemoSpec {
        people: 4,
        seed: 3,
        today: today(),
    };
    let by_person: Vec<Vec<Op>> = caseload::demo::DemoCohort::new(spec).collect();
    let (pulled, made_here) = by_person.split_at(2);
    let pulled: Vec<Op> = pulled.iter().flatten().cloned().collect();
    let made_here: Vec<Op> = made_here.iter().flatten().cloned().collect();
    store.commit(&pulled, Origin::Remote).unwrap();
    store.commit(&made_here, Origin::Local).unwrap();
    store.checkpoint().unwrap();
    let salvage = store.salvage();
    assert_eq!((salvage.lost_ops, salvage.lost_outbox), (0, 0));
    let ids = |ops: &[Op]| {
        let mut ids: Vec<_> = ops.iter().map(|op| op.id).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&salvage.outbox), ids(&made_here));
    assert!(
        salvage.outbox.windows(2).all(|w| w[0].at <= w[1].at),
        "in the order they were made"
    );
    assert_eq!(ids(&salvage.synced), ids(&pulled));
}
