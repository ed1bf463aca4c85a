//! The real `caseload` binary, driven as a script or a user would, on stores in
//! temporary directories (HOME and XDG directories point there too).

use caseload::store::encrypted::LockedStore;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const DEMO_PASS: &str = "demo-only-not-secret";

struct Env {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Env {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        Self { _tmp: tmp, root }
    }

    fn store(&self) -> PathBuf {
        self.root.join("store")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_caseload"));
        c.args(["--store", self.store().to_str().unwrap()])
            .args(args)
            .env("HOME", &self.root)
            .env("XDG_DATA_HOME", self.root.join("data"))
            .env("XDG_CONFIG_HOME", self.root.join("config"))
            .env("CASELOAD_TODAY", "2026-11-23")
            .env_remove("CASELOAD_PASSPHRASE")
            .env_remove("CASELOAD_NEW_PASSPHRASE")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str], pass: Option<&str>) -> Output {
        let mut c = self.cmd(args);
        if let Some(p) = pass {
            c.env("CASELOAD_PASSPHRASE", p);
        }
        c.output().unwrap()
    }

    fn demo(&self, people: usize) {
        let out = self.run(
            &["demo", "--people", &people.to_string(), "--no-open"],
            None,
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    /// `show PERSON --json`, parsed.
    fn shown(&self, person: &str) -> serde_json::Value {
        let out = self.run(&["show", person, "--json"], Some(DEMO_PASS));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn first_person(&self) -> String {
        let out = self.run(&["people"], Some(DEMO_PASS));
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

#[test]
fn demo_store_is_created_listed_and_healthy() {
    let env = Env::new();
    let out = env.run(&["demo", "--people", "300", "--no-open"], None);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.contains("300 synthetic young people"), "{stdout}");
    assert!(
        stdout.contains("demo-only passphrase") && stdout.contains(DEMO_PASS),
        "{stdout}"
    );

    let doctor = env.run(&["doctor"], Some(DEMO_PASS));
    assert!(doctor.status.success(), "{}", text(&doctor.stdout));
    assert!(text(&doctor.stdout).contains("checked 300 people"));

    let listed = env.run(&["people", "--json"], Some(DEMO_PASS));
    let people: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(people.as_array().unwrap().len(), 300);

    // Running demo again leaves the store alone.
    let again = env.run(&["demo", "--people", "50", "--no-open"], None);
    assert!(text(&again.stdout).contains("already exists"));
    let doctor = env.run(&["doctor"], Some(DEMO_PASS));
    assert!(text(&doctor.stdout).contains("checked 300 people"));
}

#[test]
fn the_same_seed_and_date_give_the_same_cohort() {
    let (a, b) = (Env::new(), Env::new());
    a.demo(120);
    b.demo(120);
    let list = |e: &Env| text(&e.run(&["people", "--json"], Some(DEMO_PASS)).stdout);
    assert_eq!(list(&a), list(&b));
    let c = Env::new();
    assert!(
        c.run(
            &["demo", "--people", "120", "--seed", "9", "--no-open"],
            None
        )
        .status
        .success()
    );
    assert_ne!(list(&a), list(&c));
}

#[test]
fn no_name_postcode_phone_or_note_appears_in_any_store_file() {
    let env = Env::new();
    env.demo(400);
    let listed = env.run(&["people", "--json"], Some(DEMO_PASS));
    let people: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let mut needles: Vec<String> = Vec::new();
    for p in people.as_array().unwrap().iter().take(100) {
        needles.push(format!(
            "{} {}",
            p["name"]["given"].as_str().unwrap(),
            p["name"]["family"].as_str().unwrap()
        ));
        if let Some(pc) = p["postcode"].as_str() {
            needles.push(pc.to_string());
        }
        for ph in p["phones"].as_array().unwrap() {
            needles.push(ph.as_str().unwrap().to_string());
        }
    }
    needles.push("Discussed options for January start".into());
    assert!(needles.len() > 200);
    let mut files = vec![env.store()];
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let bytes = std::fs::read(&p).unwrap();
        for n in &needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
                "{n:?} found in {}",
                p.display()
            );
        }
    }
}

#[test]
fn wrong_passphrase_exits_3_with_a_clear_message() {
    let env = Env::new();
    env.demo(20);
    let out = env.run(&["people"], Some("not the passphrase"));
    assert_eq!(code(&out), 3);
    assert!(
        text(&out.stderr).contains("wrong passphrase for the store at"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn no_passphrase_and_no_terminal_says_how_to_give_one() {
    let env = Env::new();
    env.demo(20);
    let out = env.run(&["people"], None);
    assert_eq!(code(&out), 2);
    assert!(
        text(&out.stderr).contains("set CASELOAD_PASSPHRASE, use --passphrase-file"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn passphrase_file_is_honoured_by_every_command() {
    let env = Env::new();
    let file = env.root.join("pass.txt");
    std::fs::write(&file, "file passphrase for demo\n").unwrap();
    let f = file.to_str().unwrap();
    assert!(
        env.run(
            &[
                "--passphrase-file",
                f,
                "demo",
                "--people",
                "10",
                "--no-open"
            ],
            None
        )
        .status
        .success()
    );
    assert!(
        env.run(&["--passphrase-file", f, "doctor"], None)
            .status
            .success()
    );
    assert_eq!(
        code(&env.run(&["people"], Some(DEMO_PASS))),
        3,
        "demo used the file, not the demo passphrase"
    );
    let missing = env.run(&["--passphrase-file", "/nonexistent/pass", "people"], None);
    assert_eq!(code(&missing), 2);
    assert!(text(&missing.stderr).contains("cannot read passphrase file"));
}

#[test]
fn a_second_process_is_told_the_store_is_open_elsewhere() {
    let env = Env::new();
    env.demo(20);
    let held = LockedStore::open(&env.store()).unwrap();
    let out = env.run(&["people"], Some(DEMO_PASS));
    assert_eq!(code(&out), 4);
    assert!(
        text(&out.stderr).contains("is open elsewhere"),
        "{}",
        text(&out.stderr)
    );
    drop(held);
    assert!(env.run(&["people"], Some(DEMO_PASS)).status.success());
}

#[test]
fn init_creates_an_empty_private_store_and_refuses_to_overwrite() {
    let env = Env::new();
    let short = env.run(&["init", "--worker", "j.smith"], Some("short"));
    assert_eq!(code(&short), 2);
    assert!(text(&short.stderr).contains("at least 12 characters"));
    assert!(
        !env.store().exists(),
        "nothing created for a refused passphrase"
    );

    let ok = env.run(
        &["init", "--worker", "j.smith"],
        Some("a perfectly fine passphrase"),
    );
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(env.store()).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let again = env.run(
        &["init", "--worker", "j.smith"],
        Some("a perfectly fine passphrase"),
    );
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already exists"));
    let doctor = env.run(&["doctor"], Some("a perfectly fine passphrase"));
    assert!(text(&doctor.stdout).contains("checked 0 people"));
    // No percentages of nobody: an empty cohort reads "–", not "0.0%, NOT met".
    let figures = env.run(&["report", "headline"], Some("a perfectly fine passphrase"));
    let said = text(&figures.stdout);
    assert!(figures.status.success(), "{}", text(&figures.stderr));
    assert!(said.contains("(nobody in the cohort)"), "{said}");
    let all = said.lines().find(|l| l.starts_with("All")).unwrap_or("");
    assert!(!all.contains("0.0") && !said.contains("NOT met"), "{said}");
}

#[test]
fn passwd_switches_passphrases_and_refuses_weak_ones() {
    let env = Env::new();
    env.demo(30);
    let weak = env
        .cmd(&["passwd"])
        .env("CASELOAD_PASSPHRASE", DEMO_PASS)
        .env("CASELOAD_NEW_PASSPHRASE", "weak")
        .output()
        .unwrap();
    assert_eq!(code(&weak), 2);
    assert!(
        env.run(&["doctor"], Some(DEMO_PASS)).status.success(),
        "unchanged after a refusal"
    );

    let ok = env
        .cmd(&["passwd"])
        .env("CASELOAD_PASSPHRASE", DEMO_PASS)
        .env("CASELOAD_NEW_PASSPHRASE", "the new long passphrase")
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    assert_eq!(code(&env.run(&["doctor"], Some(DEMO_PASS))), 3);
    let doctor = env.run(&["doctor"], Some("the new long passphrase"));
    assert!(doctor.status.success());
    assert!(text(&doctor.stdout).contains("checked 30 people"));
}

fn history_len(env: &Env, person: &str) -> usize {
    text(&env.run(&["history", person], Some(DEMO_PASS)).stdout)
        .lines()
        .count()
}

#[test]
fn your_follow_up_is_answered_by_your_attempt_or_marked_done() {
    let env = Env::new();
    env.demo(20);
    let person = env.first_person();
    let contact = |follow_up: &[&str]| {
        let mut args = vec![
            "contact",
            person.as_str(),
            "--channel",
            "phone",
            "--outcome",
            "no-answer",
        ];
        args.extend_from_slice(follow_up);
        let out = env.run(&args, Some(DEMO_PASS));
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let said = contact(&["--follow-up", "today"]);
    assert!(!said.contains("answered"), "{said}");
    let said = contact(&[]);
    assert!(
        said.contains("answered your follow-up due 23/11/2026"),
        "{said}"
    );
    contact(&["--follow-up", "today"]);
    let done = env.run(&["follow-up-done", &person], Some(DEMO_PASS));
    assert!(done.status.success(), "{}", text(&done.stderr));
    assert!(text(&done.stdout).contains("marked done your follow-up due 23/11/2026"));
    let again = env.run(&["follow-up-done", &person], Some(DEMO_PASS));
    assert_eq!(code(&again), 2);
    assert!(
        text(&again.stderr).contains("no open follow-up"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn offers_and_intended_destinations_are_recorded_from_the_command_line() {
    let env = Env::new();
    env.demo(20);
    let person = env.first_person();
    let offer = env.run(
        &[
            "offer",
            &person,
            "--year",
            "11",
            "--status",
            "accepted",
            "--kind",
            "apprenticeship",
            "--provider",
            "Kent Training",
        ],
        Some(DEMO_PASS),
    );
    assert!(offer.status.success(), "{}", text(&offer.stderr));
    assert!(text(&offer.stdout).contains("recorded Year 11 offer (offer accepted)"));
    let destination = env.run(
        &["destination", &person, "full-time-education"],
        Some(DEMO_PASS),
    );
    assert!(
        destination.status.success(),
        "{}",
        text(&destination.stderr)
    );
    let shown = env.shown(&person);
    let offers = shown["offers"].as_array().unwrap();
    assert!(
        offers
            .iter()
            .any(|o| o["value"]["provider"] == "Kent Training"
                && o["value"]["status"] == "OfferAccepted"),
        "{shown}"
    );
    let destinations = shown["destinations"].as_array().unwrap();
    assert!(
        destinations
            .iter()
            .any(|d| d["value"]["kind"] == "FullTimeEducation"),
        "{shown}"
    );
    let bad = env.run(
        &["offer", &person, "--year", "13", "--status", "made"],
        Some(DEMO_PASS),
    );
    assert_eq!(code(&bad), 2, "{}", text(&bad.stderr));
    let bad = env.run(&["destination", &person, "astronaut"], Some(DEMO_PASS));
    assert_eq!(code(&bad), 2);
    assert!(
        text(&bad.stderr).contains("Apprenticeship"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn contact_details_and_consent_are_changed_and_a_dead_number_is_kept() {
    let env = Env::new();
    env.demo(20);
    let person = env.first_person();
    let run = |args: &[&str]| {
        let mut all = vec!["details", person.as_str()];
        all.extend_from_slice(args);
        env.run(&all, Some(DEMO_PASS))
    };
    let out = run(&[
        "--mobile",
        "07700 900111",
        "--email",
        "",
        "--preferred",
        "text",
        "--consent",
        "refused",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("phone numbers") && said.contains("consent"),
        "{said}"
    );
    let out = run(&["--mobile", "07700 900222", "--not-working", "wrong-number"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["--postcode", "CT16 1AA", "--address", "7 Mill Lane, Dover"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&env.run(&["show", &person], Some(DEMO_PASS)).stdout);
    assert!(shown.contains("07700 900222"), "{shown}");
    assert!(shown.contains("Consent refused"), "{shown}");
    let record = env.shown(&person);
    let json = record.to_string();
    assert!(
        json.contains("07700 900111") && json.contains("WrongNumber"),
        "{json}"
    );
    assert!(json.contains("CT16 1AA"), "{json}");
    // Refused whole, with the reason: nothing written.
    let bad = run(&["--mobile", "12", "--email", "x@example.org"]);
    assert_eq!(code(&bad), 2);
    assert!(
        text(&bad.stderr).contains("phone number"),
        "{}",
        text(&bad.stderr)
    );
    assert!(!env.shown(&person).to_string().contains("x@example.org"));
    let same = run(&["--mobile", "07700 900222"]);
    assert!(text(&same.stdout).contains("nothing changed"));
}

#[test]
fn bad_contact_input_is_refused_and_nothing_is_written() {
    let env = Env::new();
    env.demo(20);
    let person = env.first_person();
    let before = history_len(&env, &person);

    let unknown = env.run(
        &[
            "contact",
            &person,
            "--channel",
            "pigeon",
            "--outcome",
            "no answer",
        ],
        Some(DEMO_PASS),
    );
    assert_eq!(code(&unknown), 2);
    let err = text(&unknown.stderr);
    assert!(
        err.contains("unknown Channel \"pigeon\"") && err.contains("Home visit"),
        "{err}"
    );

    let backwards = env.run(
        &[
            "contact",
            &person,
            "--channel",
            "phone",
            "--outcome",
            "no-answer",
            "--follow-up",
            "01/01/2026",
        ],
        Some(DEMO_PASS),
    );
    assert_eq!(code(&backwards), 2);
    assert!(
        text(&backwards.stderr)
            .contains("the follow-up (01/01/2026) is before the contact attempt"),
        "{}",
        text(&backwards.stderr)
    );

    let letter_unanswered = env.run(
        &[
            "contact",
            &person,
            "--channel",
            "letter",
            "--outcome",
            "no-answer",
        ],
        Some(DEMO_PASS),
    );
    assert_eq!(code(&letter_unanswered), 2);
    let err = text(&letter_unanswered.stderr);
    assert!(
        err.contains("“No answer” does not go with Letter") && err.contains("Post returned"),
        "{err}"
    );

    let bad_date = env.run(
        &[
            "contact",
            &person,
            "--channel",
            "phone",
            "--outcome",
            "no-answer",
            "--follow-up",
            "31/02/2027",
        ],
        Some(DEMO_PASS),
    );
    assert_eq!(code(&bad_date), 2);
    assert!(text(&bad_date.stderr).contains("unparseable date"));

    let bad_code = env.run(&["activity", &person, "999"], Some(DEMO_PASS));
    assert_eq!(code(&bad_code), 2);
    assert!(text(&bad_code.stderr).contains("unknown NCCIS activity code \"999\""));

    let nobody = env.run(&["show", "ffffffff"], Some(DEMO_PASS));
    assert!(!nobody.status.success());
    assert!(text(&nobody.stderr).contains("no young person"));

    // A name is not an id: the answer says how to search.
    let by_name = env.run(&["show", "Niamh Adams"], Some(DEMO_PASS));
    assert_eq!(code(&by_name), 2);
    assert!(
        text(&by_name.stderr)
            .contains("to find someone by name: caseload people --search \"Niamh Adams\""),
        "{}",
        text(&by_name.stderr)
    );
    // Four characters of an id name a young person on the device as on the hub.
    let four = env.run(&["show", &person[..4]], Some(DEMO_PASS));
    let one_of_twenty =
        four.status.success() || text(&four.stderr).contains("4 or more characters");
    assert!(one_of_twenty, "{}", text(&four.stderr));

    assert_eq!(history_len(&env, &person), before, "nothing written");
    assert!(env.run(&["doctor"], Some(DEMO_PASS)).status.success());
}

#[test]
fn a_contact_logged_from_the_command_line_is_in_the_record_and_the_outbox() {
    let env = Env::new();
    env.demo(20);
    let person = env.first_person();
    let out = env.run(
        &[
            "contact",
            &person,
            "--channel",
            "phone",
            "--outcome",
            "voicemail left",
            "--note",
            "Rang twice",
            "--follow-up",
            "+1w",
        ],
        Some(DEMO_PASS),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = env.shown(&person);
    let contacts = v["contacts"].as_array().unwrap();
    let mine = contacts
        .iter()
        .find(|c| c["value"]["note"] == "Rang twice")
        .expect("contact stored");
    assert_eq!(mine["value"]["outcome"], "VoicemailLeft");
    assert_eq!(mine["value"]["follow_up"], "2026-11-30");
    assert_eq!(mine["author"], "demo.officer");
    let doctor = env.run(&["doctor"], Some(DEMO_PASS));
    assert!(
        text(&doctor.stdout).contains("1 waiting to sync"),
        "{}",
        text(&doctor.stdout)
    );
}

#[test]
fn the_number_an_attempt_used_is_recorded_and_a_number_not_on_the_record_refused() {
    let env = Env::new();
    env.demo(20);
    let person = env.first_person();
    let details = env.run(
        &[
            "details",
            &person,
            "--mobile",
            "07700 900111",
            "--home-phone",
            "01632 960222",
        ],
        Some(DEMO_PASS),
    );
    assert!(details.status.success(), "{}", text(&details.stderr));
    let contact = |extra: &[&str]| {
        let mut args = vec![
            "contact",
            person.as_str(),
            "--channel",
            "phone",
            "--outcome",
            "no answer",
        ];
        args.extend_from_slice(extra);
        env.run(&args, Some(DEMO_PASS))
    };
    let out = contact(&["--using", "home"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("using 01632 960222 (Home)"),
        "{}",
        text(&out.stdout)
    );
    // Without --using, the record's first number (as the workbench offers).
    let out = contact(&["--note", "first number"]);
    assert!(
        text(&out.stdout).contains("using 07700 900111 (Mobile)"),
        "{}",
        text(&out.stdout)
    );
    let shown = text(&env.run(&["show", &person], Some(DEMO_PASS)).stdout);
    assert!(
        shown.contains("Phone to 01632 960222 (Home) — No answer"),
        "{shown}"
    );
    let v = env.shown(&person);
    let used: Vec<&str> = v["contacts"]
        .as_array()
        .expect("contacts")
        .iter()
        .filter_map(|c| c["used"]["detail"].as_str())
        .collect();
    assert!(
        used.contains(&"01632 960222") && used.contains(&"07700 900111"),
        "{used:?}"
    );
    // A number not on the record is refused, unrepeated, and nothing is written.
    let before = history_len(&env, &person);
    let bad = contact(&["--using", "07999 123456"]);
    assert_eq!(code(&bad), 2);
    let said = text(&bad.stderr);
    assert!(
        said.contains("not on the record") && said.contains("mobile"),
        "{said}"
    );
    assert!(!said.contains("07999"), "{said}");
    assert_eq!(history_len(&env, &person), before);
    // In person, nothing of the record's is used.
    let out = env.run(
        &[
            "contact",
            &person,
            "--channel",
            "face-to-face",
            "--outcome",
            "spoke to young person",
        ],
        Some(DEMO_PASS),
    );
    assert!(
        out.status.success() && !text(&out.stdout).contains("using"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_note_added_from_the_command_line_is_in_the_record_and_an_empty_one_is_refused() {
    let env = Env::new();
    env.demo(20);
    let person = env.first_person();
    let empty = env.run(&["note", &person, "   "], Some(DEMO_PASS));
    assert!(!empty.status.success());
    let out = env.run(
        &["note", &person, "Mum says he starts at Tesco on Monday"],
        Some(DEMO_PASS),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = env.shown(&person);
    let notes = v["notes"].as_array().expect("notes");
    let mine = notes
        .iter()
        .find(|n| n["value"]["text"] == "Mum says he starts at Tesco on Monday")
        .expect("note stored");
    assert_eq!(mine["author"], "demo.officer");
    let plain = env.run(&["show", &person], Some(DEMO_PASS));
    assert!(text(&plain.stdout).contains("Mum says he starts at Tesco on Monday"));
}

#[test]
fn an_entry_is_corrected_by_its_id_from_history_and_kept() {
    let env = Env::new();
    env.demo(20);
    let person = env.first_person();
    let added = env.run(&["note", &person, "Wrong person rang"], Some(DEMO_PASS));
    assert!(added.status.success(), "{}", text(&added.stderr));
    let history = text(&env.run(&["history", &person], Some(DEMO_PASS)).stdout);
    let line = history
        .lines()
        .find(|l| l.contains("add-note"))
        .expect("the note in the history");
    let id = line.split_whitespace().last().unwrap().to_string();
    let prefix = &id.replace('-', "")[..8];
    let no_reason = env.run(
        &["retract", &person, prefix, "--reason", " "],
        Some(DEMO_PASS),
    );
    assert!(!no_reason.status.success());
    let too_short = env.run(
        &["retract", &person, &prefix[..4], "--reason", "x"],
        Some(DEMO_PASS),
    );
    assert_eq!(code(&too_short), 2, "{}", text(&too_short.stderr));
    let out = env.run(
        &[
            "retract",
            &person,
            prefix,
            "--reason",
            "Noted on the wrong record",
        ],
        Some(DEMO_PASS),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = env.shown(&person);
    assert!(
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["value"]["text"] == "Wrong person rang"),
        "kept, not deleted"
    );
    assert!(
        v["corrected_entries"].to_string().contains(&id),
        "{}",
        v["corrected_entries"]
    );
    let history = text(&env.run(&["history", &person], Some(DEMO_PASS)).stdout);
    assert!(history.contains("retract"), "{history}");
    let plain = text(&env.run(&["show", &person], Some(DEMO_PASS)).stdout);
    assert!(plain.contains("Wrong person rang [corrected]"), "{plain}");
}

#[test]
fn an_activity_keeps_its_provider_and_expected_end() {
    let env = Env::new();
    env.demo(20);
    let person = env.first_person();
    let out = env.run(
        &[
            "activity",
            &person,
            "310",
            "--start",
            "01/09/2026",
            "--ends",
            "31/07/2028",
            "--provider",
            "Kent Construction Ltd",
        ],
        Some(DEMO_PASS),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v = env.shown(&person);
    assert_eq!(v["current_activity"]["code"], 310);
    assert_eq!(v["current_activity"]["expected_end"], "2028-07-31");
    assert_eq!(v["current_activity"]["provider"], "Kent Construction Ltd");
    let plain = text(&env.run(&["show", &person], Some(DEMO_PASS)).stdout);
    assert!(
        plain.contains("expected to end 31/07/2028, at Kent Construction Ltd"),
        "{plain}"
    );
    let backwards = env.run(
        &[
            "activity",
            &person,
            "310",
            "--start",
            "01/09/2026",
            "--ends",
            "01/01/2026",
        ],
        Some(DEMO_PASS),
    );
    assert!(
        !backwards.status.success(),
        "an end before the start is refused"
    );
}

#[test]
fn an_acknowledged_contact_survives_the_process_being_killed() {
    let env = Env::new();
    env.demo(20);
    let person = env.first_person();
    let mut child = env
        .cmd(&[
            "contact",
            &person,
            "--channel",
            "text",
            "--outcome",
            "sent-no-reply",
            "--note",
            "kill test",
        ])
        .env("CASELOAD_PASSPHRASE", DEMO_PASS)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("recorded contact attempt"), "{line}");
    // SIGKILL the moment success is shown: no destructors, no clean shutdown.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGKILL);
    }
    let _ = child.wait();
    let shown = env.run(&["show", &person, "--json"], Some(DEMO_PASS));
    assert!(text(&shown.stdout).contains("kill test"));
    assert!(env.run(&["doctor"], Some(DEMO_PASS)).status.success());
}

#[test]
fn a_bad_config_file_is_named_with_its_line() {
    let env = Env::new();
    let cfg = env.root.join("bad.toml");
    std::fs::write(
        &cfg,
        "[cohort]\nsend_upper_age = 25\n[risk]\nweights = { Astrology = 2 }\n",
    )
    .unwrap();
    let out = env.run(
        &["--config", cfg.to_str().unwrap(), "doctor"],
        Some(DEMO_PASS),
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("line 4") && err.contains("Astrology"),
        "{err}"
    );
}

#[test]
fn errors_never_echo_personal_data() {
    let env = Env::new();
    env.demo(20);
    let listed = env.run(&["people", "--json"], Some(DEMO_PASS));
    let people: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let family = people[0]["name"]["family"].as_str().unwrap().to_string();
    let id = people[0]["id"].as_str().unwrap().to_string();
    let out = env.run(
        &[
            "contact",
            &id,
            "--channel",
            "phone",
            "--outcome",
            "no answer",
            "--follow-up",
            "01/01/2020",
        ],
        Some(DEMO_PASS),
    );
    assert!(!out.status.success());
    assert!(!text(&out.stderr).contains(&family));
}

#[test]
fn a_file_that_cannot_be_read_is_not_a_usage_error() {
    let env = Env::new();
    env.demo(5);
    let missing = env.run(
        &["import", "cohort", "/nonexistent/cohort.csv"],
        Some(DEMO_PASS),
    );
    assert_eq!(
        code(&missing),
        1,
        "exit 1: the machine said no, not the user"
    );
    assert!(
        text(&missing.stderr).contains("cannot read /nonexistent/cohort.csv"),
        "{}",
        text(&missing.stderr)
    );
}
