//! Cohort import: every bad row reported and nothing written; matching; only
//! changes written; importing the same file twice writes nothing.

use caseload::domain::person::{Consent, PhoneLabel};
use caseload::domain::{
    Channel, ContactAttempt, FieldValue, Op, OpPayload, Outcome, PersonId, PersonState, WorkerId,
};
use caseload::import::{self, ImportError};
use caseload::replica::Replica;
use caseload::store::crypto::KdfParams;
use caseload::store::{OpTarget, Origin, StoreError};
use chrono::NaiveDate;
use std::process::Command;

const FAST: KdfParams = KdfParams::LEAST;
const PASS: &str = "import test passphrase";
const HEADER: &str = "upn,uln,given_name,family_name,preferred_name,date_of_birth,gender,address_line_1,town,postcode,mobile,home_phone,district,send,level_of_need,characteristics,activity_code,activity_start,activity_confirmed";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn good() -> String {
    [
        HEADER,
        "A886111111111,1111111111,Priya,Okoro,,14/03/2010,Female,1 High Street,Margate,CT9 1AA,07700 900001,,Thanet,No,2,Free school meals;Supervised by YOT@2025-06-01,230,01/09/2026,01/10/2026",
        "A886222222222,,Tom,Reed,Tommy,2009-08-30,Male,,,,,01632 960002,Dover,EHC plan,,,619,2026-10-01,2026-11-01",
        ",2222222222,Sam,Lowe,,01/01/2008,Not known,,,ME14 1XQ,,,Maidstone,,,,,,",
    ]
    .join("\n")
}

fn store() -> (tempfile::TempDir, Replica) {
    let tmp = tempfile::tempdir().unwrap();
    let r = Replica::init(
        &tmp.path().join("s"),
        PASS.as_bytes(),
        WorkerId::new("importer"),
        FAST,
    )
    .unwrap();
    (tmp, r)
}

fn run(r: &mut Replica, csv: &str) -> Result<import::ImportReport, ImportError> {
    let rows = import::parse(csv.as_bytes(), today())?;
    import::apply(r, rows.into_iter(), today())
}

#[test]
fn a_valid_file_imports_and_reimporting_writes_nothing() {
    let (_t, mut r) = store();
    let report = run(&mut r, &good()).unwrap();
    assert_eq!(
        (report.rows, report.new_people, report.updated_people),
        (3, 3, 0)
    );
    assert_eq!(r.index().len(), 3);
    let priya = r
        .index()
        .all()
        .iter()
        .find(|s| s.name.given == "Priya")
        .unwrap()
        .clone();
    assert_eq!(priya.activity.current().unwrap().code.code(), 230);
    assert_eq!(priya.postcode.as_ref().unwrap().as_str(), "CT9 1AA");
    assert_eq!(priya.characteristics.len(), 2);
    let outbox = r.outbox().unwrap().len();
    assert_eq!(outbox, 3, "one op per new young person, queued for the hub");

    let again = run(&mut r, &good()).unwrap();
    assert_eq!(
        (again.new_people, again.updated_people, again.unchanged),
        (0, 0, 3)
    );
    assert_eq!(
        r.outbox().unwrap().len(),
        outbox,
        "idempotent: nothing written"
    );
    assert!(r.store().doctor().unwrap().is_healthy());
}

/// An import target that counts the records an import reads.
struct Reading<'r> {
    replica: &'r mut Replica,
    /// `person` takes `&self`: counted through a cell.
    records_read: std::cell::Cell<usize>,
}

impl OpTarget for Reading<'_> {
    fn people(&self) -> caseload::domain::Summaries<'_> {
        self.replica.index().all()
    }
    fn person(&self, id: PersonId) -> Result<Option<PersonState>, StoreError> {
        self.records_read.set(self.records_read.get() + 1);
        self.replica.person(id)
    }
    fn new_op(&mut self, person: PersonId, payload: OpPayload) -> Op {
        self.replica.new_op(person, payload)
    }
    fn commit(&mut self, ops: &[Op]) -> Result<(), StoreError> {
        self.replica.commit(ops, Origin::Local).map(drop)
    }
}

/// Imports `csv` into `r`; the report and how many records were read.
fn run_reading(r: &mut Replica, csv: &str) -> (import::ImportReport, usize) {
    let rows = import::parse(csv.as_bytes(), today()).unwrap();
    let mut target = Reading {
        replica: r,
        records_read: std::cell::Cell::new(0),
    };
    let report = import::apply(&mut target, rows.into_iter(), today()).unwrap();
    (report, target.records_read.get())
}

#[test]
fn an_unchanged_row_is_passed_without_reading_its_record_and_every_difference_is_still_found() {
    let (_t, mut r) = store();
    run(&mut r, &good()).unwrap();
    let (again, read) = run_reading(&mut r, &good());
    assert_eq!((again.unchanged, again.updated_people, read), (3, 0, 0));

    let id = |r: &Replica, given: &str| {
        r.index()
            .all()
            .iter()
            .find(|s| s.name.given == given)
            .unwrap()
            .id
    };
    // Consent is not the file's to set: Priya's row still passes unread.
    // Sam gains an email the file does not give: his record is read, and
    // still nothing changes (an empty cell sets nothing).
    let (priya, sam) = (id(&r, "Priya"), id(&r, "Sam"));
    let consent = Consent {
        note: "by phone".into(),
        ..Consent::default()
    };
    r.set_fields(priya, vec![FieldValue::Consent(consent)], today())
        .unwrap();
    r.set_fields(
        sam,
        vec![FieldValue::Email(Some("sam@example.org".into()))],
        today(),
    )
    .unwrap();
    let outbox = r.outbox().unwrap().len();
    let (again, read) = run_reading(&mut r, &good());
    assert_eq!((again.unchanged, again.updated_people, read), (3, 0, 1));
    assert_eq!(r.outbox().unwrap().len(), outbox, "nothing written");

    // An officer moves Tom to an apprenticeship: the unchanged file puts his
    // activity back as the file has it, found by reading his record.
    let tom = id(&r, "Tom");
    let mut activity = r
        .person(tom)
        .unwrap()
        .unwrap()
        .current_activity()
        .cloned()
        .unwrap();
    activity.code = caseload::domain::ActivityCode::new(310).unwrap();
    r.set_fields(tom, vec![FieldValue::CurrentActivity(activity)], today())
        .unwrap();
    let (again, read) = run_reading(&mut r, &good());
    assert_eq!((again.unchanged, again.updated_people, read), (2, 1, 2));
    assert_eq!(again.changed_fields, 1);
    let tom_now = r.person(tom).unwrap().unwrap();
    assert_eq!(tom_now.current_activity().unwrap().code.code(), 619);
}

#[test]
fn re_import_matches_people_and_writes_only_the_changes() {
    let (_t, mut r) = store();
    run(&mut r, &good()).unwrap();
    let tom = r
        .index()
        .all()
        .iter()
        .find(|s| s.name.given == "Tom")
        .unwrap()
        .id;
    // An officer records a contact and a mobile for Tom in the meantime.
    r.record(
        tom,
        OpPayload::LogContact(ContactAttempt {
            at: today().and_hms_opt(10, 0, 0).unwrap(),
            channel: Channel::Phone,
            outcome: Outcome::SpokeToYoungPerson,
            note: "Starting an apprenticeship".into(),
            follow_up: None,
        }),
        today(),
    )
    .unwrap();
    let mut phones = r
        .person(tom)
        .unwrap()
        .unwrap()
        .young_person()
        .unwrap()
        .phones;
    phones.push(
        caseload::domain::person::PhoneNumber::new(PhoneLabel::Mobile, "07700 900099").unwrap(),
    );
    r.set_fields(
        tom,
        vec![caseload::domain::FieldValue::Phones(phones)],
        today(),
    )
    .unwrap();
    let before = r.outbox().unwrap().len();

    // The new file: Tom (matched by UPN, though his name is spelt differently)
    // is now an apprentice; Sam (matched by ULN) has a new postcode; Priya unchanged.
    let changed = good()
        .replace("A886222222222,,Tom,Reed,Tommy,2009-08-30,Male,,,,,01632 960002,Dover,EHC plan,,,619,2026-10-01,2026-11-01",
                 "A886222222222,,Thomas,Reed,,2009-08-30,Male,,,,,01632 960002,Dover,EHC plan,,,310,2026-11-20,2026-11-20")
        .replace(",2222222222,Sam,Lowe,,01/01/2008,Not known,,,ME14 1XQ", ",2222222222,Sam,Lowe,,01/01/2008,Not known,,,ME15 6AA");
    let report = run(&mut r, &changed).unwrap();
    assert_eq!(
        (report.new_people, report.updated_people, report.unchanged),
        (0, 2, 1)
    );
    assert_eq!(
        report.changed_fields, 3,
        "Tom's name and activity, Sam's address"
    );
    assert_eq!(
        r.outbox().unwrap().len(),
        before + 2,
        "one op per changed person"
    );
    assert_eq!(r.index().len(), 3, "matched, not duplicated");

    let state = r.person(tom).unwrap().unwrap();
    let p = state.young_person().unwrap();
    assert_eq!(p.name.given, "Thomas");
    assert_eq!(
        p.name.preferred.as_deref(),
        Some("Tommy"),
        "an empty preferred name keeps the recorded one"
    );
    assert_eq!(state.current_activity().unwrap().code.code(), 310);
    assert_eq!(
        state.activity_history.len(),
        2,
        "the earlier activity stays in the history"
    );
    assert_eq!(
        state.contacts.len(),
        1,
        "the officer's contact is untouched"
    );
    assert!(
        p.phones.iter().any(|ph| ph.label == PhoneLabel::Mobile),
        "the officer's mobile survives: {:?}",
        p.phones
    );
    assert!(state.conflicts().is_empty());
}

#[test]
fn every_bad_row_is_reported_and_nothing_is_written() {
    let (_t, mut r) = store();
    run(&mut r, &good()).unwrap();
    let before = (r.index().len(), r.outbox().unwrap().len());
    let bad = [
        HEADER,
        ",,,Nogiven,,01/01/2010,,,,,,,Thanet,,,,,,", // 2: given name missing
        ",,Ann,Date,,31/02/2010,,,,,,,Thanet,,,,,,", // 3: impossible date
        ",,Fut,Ure,,01/01/2027,,,,,,,Thanet,,,,,,",  // 4: born in the future
        ",,Cod,E,,01/01/2010,,,,,,,Thanet,,,,999,01/09/2026,", // 5: unknown NCCIS code
        ",,Pos,Tcode,,01/01/2010,,,,NOT A CODE,,,Thanet,,,,,,", // 6: postcode shape
        ",,Pho,Ne,,01/01/2010,,,,,12345,,Thanet,,,,,,", // 7: phone
        ",,Dis,Trict,,01/01/2010,,,,,,,Narnia,,,,,,", // 8: district
        "A886333333333,,Dup,One,,01/01/2010,,,,,,,Thanet,,,,,,", // 9
        "A886333333333,,Dup,Two,,02/02/2010,,,,,,,Thanet,,,,,,", // 10: duplicate UPN
        ",,Same,Person,,03/03/2010,,,,,,,Thanet,,,,,,", // 11
        ",,same,person,,03/03/2010,,,,,,,Dover,,,,,,", // 12: duplicate name+dob
        ",,Cha,Racter,,01/01/2010,,,,,,,Thanet,,,Wizardry,,,", // 13: unknown characteristic
        ",,Sta,Rt,,01/01/2010,,,,,,,Thanet,,,,,01/09/2026,", // 14: start without a code
        ",,Lev,El,,01/01/2010,,,,,,,Thanet,,7,,,,",  // 15: level of need
        ",,Act,Ivity,,01/01/2010,,,,,,,Thanet,,,,230,01/09/2009,", // 16: activity before birth
        ",,Con,Firmed,,01/01/2010,,,,,,,Thanet,,,,230,01/09/2026,01/12/2026", // 17: confirmed in the future
        ",,Old,Er,,22/11/1996,,,,,,,Thanet,,,,,,", // 18: more than 30 years ago
    ]
    .map(String::from)
    .into_iter()
    .chain([
        format!(
            ",,Tow,N,,01/01/2010,,1 High St,{},,,,Thanet,,,,,,",
            "t".repeat(101)
        ), // 19: town
        format!(
            ",,Add,Ress,,01/01/2010,,{},Deal,,,,Thanet,,,,,,",
            "a".repeat(101)
        ), // 20: line
    ])
    .collect::<Vec<_>>()
    .join("\n");
    let err = run(&mut r, &bad).unwrap_err();
    let ImportError::Invalid(errors) = err else {
        panic!("expected invalid rows")
    };
    let at =
        |line: usize, column: &str| errors.iter().find(|e| e.line == line && e.column == column);
    for (line, column, words) in [
        (2, "given_name", "required"),
        (3, "date_of_birth", "not a date"),
        (4, "date_of_birth", "in the future"),
        (5, "activity_code", "unknown NCCIS activity code"),
        (6, "postcode", "UK postcode"),
        (7, "mobile", "10 to 15 digits"),
        (8, "district", "unknown district"),
        (10, "upn", "same as line 9"),
        (
            12,
            "family_name",
            "same name and date of birth as line 11, and no UPN or ULN",
        ),
        (13, "characteristics", "Wizardry"),
        (14, "activity_code", "needs an activity code"),
        (15, "level_of_need", "not 1, 2 or 3"),
        (16, "activity_start", "before the young person was born"),
        (17, "activity_confirmed", "on 01/12/2026 is in the future"),
        (18, "date_of_birth", "22/11/1996 is implausible"),
        (19, "town", "town is too long"),
        (20, "address_line_1", "address line is too long"),
    ] {
        let e = at(line, column)
            .unwrap_or_else(|| panic!("no error for line {line} {column}: {errors:#?}"));
        assert!(e.to_string().contains(words), "{e}");
    }
    assert_eq!(
        (r.index().len(), r.outbox().unwrap().len()),
        before,
        "nothing written"
    );

    let unknown_column = format!("{HEADER},favourite_colour\n");
    let ImportError::Invalid(errors) = run(&mut r, &unknown_column).unwrap_err() else {
        panic!()
    };
    assert_eq!(errors[0].line, 1);
    assert!(
        errors[0].to_string().contains("favourite_colour")
            && errors[0].to_string().contains("unknown column")
    );
    let missing = "given_name,family_name\nA,B\n";
    let ImportError::Invalid(errors) = run(&mut r, missing).unwrap_err() else {
        panic!()
    };
    assert!(
        errors
            .iter()
            .any(|e| e.column == "date_of_birth" && e.reason.contains("missing"))
    );
}

#[test]
fn the_cli_reports_bad_rows_by_line_and_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    drop(Replica::init(&dir, PASS.as_bytes(), WorkerId::new("importer"), FAST).unwrap());
    let good_file = tmp.path().join("good.csv");
    std::fs::write(&good_file, good()).unwrap();
    let bad_file = tmp.path().join("bad.csv");
    std::fs::write(
        &bad_file,
        format!("{HEADER}\n,,Ann,Date,,31/02/2010,,,,,,,Thanet,,,,,,\n"),
    )
    .unwrap();
    let caseload = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_caseload"))
            .args(["--store", dir.to_str().unwrap()])
            .args(args)
            .env("CASELOAD_PASSPHRASE", PASS)
            .env("CASELOAD_TODAY", "2026-11-23")
            .env("XDG_CONFIG_HOME", tmp.path())
            .output()
            .unwrap()
    };
    let out = caseload(&["import", "cohort", bad_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv: line 2, column date_of_birth: \"31/02/2010\" is not a date"),
        "{err}"
    );
    assert!(
        err.contains("1 problem in 1 row; nothing was imported"),
        "{err}"
    );
    // With the passphrase at hand the file is checked while the store is
    // unlocked: a refused file is still what is told, and a good file with a
    // wrong passphrase is told the passphrase is wrong, with nothing imported.
    let wrong_passphrase = |file: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_caseload"))
            .args(["--store", dir.to_str().unwrap()])
            .args(["import", "cohort", file.to_str().unwrap()])
            .env("CASELOAD_PASSPHRASE", "not the passphrase of this store")
            .env("CASELOAD_TODAY", "2026-11-23")
            .env("XDG_CONFIG_HOME", tmp.path())
            .output()
            .unwrap()
    };
    let out = wrong_passphrase(&bad_file);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a date"), "{err}");
    assert!(!err.contains("wrong passphrase"), "{err}");
    let out = wrong_passphrase(&good_file);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wrong passphrase"), "{err}");

    let dry = caseload(&["import", "cohort", good_file.to_str().unwrap(), "--dry-run"]);
    let said = String::from_utf8_lossy(&dry.stdout);
    assert!(said.contains("3 rows checked: all valid"), "{said}");
    assert!(
        said.contains("would make 3 new young people, update 0 (0 fields), leave 0 unchanged"),
        "the dry run says what would change: {said}"
    );
    let people = caseload(&["people", "--json"]);
    assert_eq!(
        String::from_utf8_lossy(&people.stdout).trim(),
        "[]",
        "dry run wrote nothing"
    );

    let ok = caseload(&["import", "cohort", good_file.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&ok.stdout)
            .contains("imported 3 rows: 3 new young people, 0 updated")
    );
    let again = caseload(&["import", "cohort", good_file.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&again.stdout)
            .contains("0 new young people, 0 updated (0 fields changed), 3 unchanged")
    );
    let dry_again = caseload(&["import", "cohort", good_file.to_str().unwrap(), "--dry-run"]);
    assert!(
        String::from_utf8_lossy(&dry_again.stdout)
            .contains("would make 0 new young people, update 0 (0 fields), leave 3 unchanged")
    );
}

#[test]
fn namesakes_born_the_same_day_are_told_apart_by_upn() {
    let (_t, mut r) = store();
    let twins = [
        HEADER,
        "A886444444441,,Mohammed,Ali,,05/05/2010,,,,,,,Thanet,,,,,,",
        "A886444444442,,Mohammed,Ali,,05/05/2010,,,,,,,Swale,,,,,,",
    ]
    .join("\n");
    let report = run(&mut r, &twins).unwrap();
    assert_eq!(report.new_people, 2, "different UPNs: two young people");
    // A later file naming one of them by UPN updates that young person only.
    let update = [
        HEADER,
        "A886444444442,,Mohammed,Ali,,05/05/2010,,,,,,,Dover,,,,,,",
    ]
    .join("\n");
    let report = run(&mut r, &update).unwrap();
    assert_eq!((report.new_people, report.updated_people), (0, 1));
    let districts: Vec<_> = r.index().all().iter().map(|s| s.district.label()).collect();
    assert!(
        districts.contains(&"Thanet") && districts.contains(&"Dover"),
        "{districts:?}"
    );
}

/// Rows enough for several parts of the streamed import.
fn many(rows: usize) -> String {
    let mut csv =
        String::from("given_name,family_name,date_of_birth,district,school_or_provider\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "Pat{i},Rowe{i},{:02}/{:02}/2009,Thanet,Hartsdown Academy\n",
            1 + i % 28,
            1 + i % 12
        ));
    }
    csv
}

#[test]
fn a_file_read_part_by_part_is_imported_whole_or_not_at_all() {
    let (tmp, mut r) = store();
    run(&mut r, &good()).unwrap();
    let outbox = r.outbox().unwrap().len();
    let path = tmp.path().join("cohort.csv");
    std::fs::write(&path, many(5_000)).unwrap();
    let checked = import::CohortFile::check(&path, today()).unwrap();

    // Changed after its check: the last row now differs. Every part before it
    // was written by the time the second reading sees the change.
    let mut changed = many(5_000);
    changed.push_str("Late,Row,01/01/2009,Dover,\n");
    std::fs::write(&path, &changed).unwrap();
    let err = import::apply(&mut r, checked.read(today()).unwrap(), today()).unwrap_err();
    assert!(matches!(err, ImportError::Changed), "{err}");
    assert_eq!(r.index().len(), 3, "the index as before");
    assert_eq!(r.outbox().unwrap().len(), outbox, "nothing queued");
    assert!(r.store().doctor().unwrap().is_healthy());
    drop(r);
    let r = Replica::open(
        caseload::store::EncryptedStore::open(&tmp.path().join("s"), PASS.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_eq!(r.index().len(), 3, "the store as before, reopened");

    // The same file checked again imports whole, and a dry run says so first.
    let mut r = r;
    let checked = import::CohortFile::check(&path, today()).unwrap();
    let dry = import::plan(&mut r, checked.read(today()).unwrap(), today()).unwrap();
    assert_eq!((dry.rows, dry.new_people), (5_001, 5_001));
    assert_eq!(r.index().len(), 3, "a dry run writes nothing");
    let checked = import::CohortFile::check(&path, today()).unwrap();
    let report = import::apply(&mut r, checked.read(today()).unwrap(), today()).unwrap();
    assert_eq!(report, dry, "the dry run reports what the import does");
    assert_eq!(r.index().len(), 5_004);
    assert_eq!(r.outbox().unwrap().len(), outbox + 5_001);
    assert!(r.store().doctor().unwrap().is_healthy());
}

/// The second reading does not repeat the checks that only refuse (each row
/// against the rules for a new record, duplicates within the file): a file
/// that gains a duplicate or a bad row between its check and its import is
/// still refused whole, by its digest.
#[test]
fn a_file_that_gains_a_duplicate_or_a_bad_row_after_its_check_is_not_imported() {
    let (tmp, mut r) = store();
    let path = tmp.path().join("cohort.csv");
    let file = many(3_000);
    // A duplicate is told by nothing but the digest now; a bad date of
    // birth by the reading itself, as before.
    for (late, by_digest) in [
        ("Pat0,Rowe0,01/01/2009,Thanet,Hartsdown Academy\n", true),
        ("Pat,Rowe,01/01/1950,Thanet,\n", false),
    ] {
        std::fs::write(&path, &file).unwrap();
        let checked = import::CohortFile::check(&path, today()).unwrap();
        std::fs::write(&path, format!("{file}{late}")).unwrap();
        let err = import::apply(&mut r, checked.read(today()).unwrap(), today()).unwrap_err();
        assert_eq!(
            matches!(err, ImportError::Changed),
            by_digest,
            "{late}: {err}"
        );
        assert_eq!(r.index().len(), 0, "{late}: nothing imported");
        assert!(r.outbox().unwrap().is_empty(), "{late}: nothing queued");
        // Checked again, the file's own problem is told.
        let again = import::CohortFile::check(&path, today()).err();
        assert!(
            matches!(again, Some(ImportError::Invalid(_))),
            "{late}: {again:?}"
        );
    }
}

/// `file` checked, then imported into `r` by the file's second reading.
fn import_checked(
    r: &mut Replica,
    path: &std::path::Path,
    file: &str,
) -> Result<import::ImportReport, ImportError> {
    std::fs::write(path, file).unwrap();
    let checked = import::CohortFile::check(path, today())?;
    import::apply(r, checked.read(today())?, today())
}

/// `many(rows)` with the rows `changed` given another school, and `more`
/// new rows at the end.
fn many_changed(rows: usize, changed: &[usize], more: usize) -> String {
    let mut lines: Vec<String> = many(rows + more).lines().map(str::to_string).collect();
    for &i in changed {
        lines[1 + i] = lines[1 + i].replace("Hartsdown Academy", "Dane Court");
    }
    lines.join("\n") + "\n"
}

/// A re-import decides from what the file's check kept of each row which
/// rows change nothing, and does not read those again: a file that changes
/// nothing is read once, and the counts are those of reading every row.
#[test]
fn a_re_import_reads_again_only_the_rows_that_may_change_something() {
    let (tmp, mut r) = store();
    let path = tmp.path().join("cohort.csv");
    import_checked(&mut r, &path, &many(3_000)).unwrap();
    let outbox = r.outbox().unwrap().len();

    // Unchanged: the file is not read after its check. (Were it read, this
    // rewrite would fail the digest; the import writes nothing either way,
    // and reports the file as it was checked.)
    std::fs::write(&path, many(3_000)).unwrap();
    let checked = import::CohortFile::check(&path, today()).unwrap();
    let rows = checked.read(today()).unwrap();
    std::fs::write(&path, many(10)).unwrap();
    let report = import::apply(&mut r, rows, today()).unwrap();
    assert_eq!((report.rows, report.unchanged), (3_000, 3_000));
    assert_eq!(r.outbox().unwrap().len(), outbox, "nothing written");

    // Three rows changed and two new, among parts of unchanged rows: the
    // same counts as the rows read whole from memory into a copy.
    let file = many_changed(3_000, &[0, 1_999, 2_999], 2);
    let (_copy_dir, mut copy) = store();
    run(&mut copy, &many(3_000)).unwrap();
    let whole = run(&mut copy, &file).unwrap();
    let report = import_checked(&mut r, &path, &file).unwrap();
    assert_eq!(report, whole);
    assert_eq!(
        (
            report.rows,
            report.unchanged,
            report.updated_people,
            report.new_people
        ),
        (3_002, 2_997, 3, 2)
    );
    assert_eq!(r.index().len(), 3_002);
    let schools = |r: &Replica| {
        r.index()
            .all()
            .iter()
            .filter(|s| {
                let state = r.person(s.id).unwrap().unwrap();
                state.field(caseload::domain::ops::FieldKey::SchoolOrProvider)
                    == Some(&FieldValue::SchoolOrProvider(Some("Dane Court".into())))
            })
            .count()
    };
    assert_eq!(schools(&r), 3);
}

/// A row passed over on the second reading is still read for the digest: a
/// file changed there after its check is refused whole.
#[test]
fn a_row_passed_over_that_changes_after_the_check_still_refuses_the_file() {
    let (tmp, mut r) = store();
    let path = tmp.path().join("cohort.csv");
    import_checked(&mut r, &path, &many(3_000)).unwrap();
    let outbox = r.outbox().unwrap().len();
    std::fs::write(&path, many_changed(3_000, &[2_500], 0)).unwrap();
    let checked = import::CohortFile::check(&path, today()).unwrap();
    // Row 10 changes nothing as checked; it is changed before the import.
    std::fs::write(&path, many_changed(3_000, &[10, 2_500], 0)).unwrap();
    let err = import::apply(&mut r, checked.read(today()).unwrap(), today()).unwrap_err();
    assert!(matches!(err, ImportError::Changed), "{err}");
    assert_eq!(r.outbox().unwrap().len(), outbox, "nothing written");
}
