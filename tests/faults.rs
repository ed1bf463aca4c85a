//! The device store under faults and hostile input, through the real binary: a
//! full disk, damaged database files, an interrupted import, a closed pipe, text
//! that must never be stored. Each test prints its counts (attempts,
//! acknowledged, lost, bricked, detected). `CASELOAD_FAULTS_LONG=1` runs the
//! long mode (more levels, positions and kills) for the figures in the docs.

mod common;

use common::copy_dir;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const PASS: &str = "a long passphrase for the fault tests";
const TODAY: &str = "2026-11-23";

fn long_mode() -> bool {
    std::env::var_os("CASELOAD_FAULTS_LONG").is_some()
}

struct Env {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        Env { _tmp: tmp, root }
    }

    fn store(&self) -> PathBuf {
        self.root.join("store")
    }

    fn cmd_on(&self, store: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_caseload"));
        c.args(["--store", store.to_str().unwrap()])
            .args(args)
            .env("HOME", &self.root)
            .env("XDG_STATE_HOME", self.root.join("state"))
            .env("XDG_CONFIG_HOME", self.root.join("config"))
            .env("CASELOAD_TODAY", TODAY)
            .env("CASELOAD_PASSPHRASE", PASS)
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd_on(&self.store(), args).output().unwrap()
    }

    fn init(&self) {
        let out = self.run(&["init", "--worker", "t.user"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    /// A hub with an admin, this store logged in to it as that admin, and a
    /// cohort of `rows` imported here (not yet synced).
    fn on_hub_with_cohort(&self, rows: usize) -> common::HubProcess {
        let data = self.root.join("hub");
        let token = self.root.join("token");
        std::fs::write(&token, common::hub_user(&data, "admin", "admin")).unwrap();
        let hub = common::HubProcess::start_on(&data, &[], Some(TODAY));
        self.init();
        let login = self.run(&["login", &hub.url, "--token-file", token.to_str().unwrap()]);
        assert!(login.status.success(), "{}", text(&login.stderr));
        std::fs::write(self.root.join("c.csv"), cohort(rows)).unwrap();
        let file = self.root.join("c.csv");
        assert!(
            self.run(&["import", "cohort", file.to_str().unwrap()])
                .status
                .success()
        );
        hub
    }

    fn people_count(&self, store: &Path) -> Option<usize> {
        let out = self.cmd_on(store, &["people"]).output().unwrap();
        out.status
            .success()
            .then(|| text(&out.stdout).lines().count())
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Waits for a child at most `limit`; kills it after that (None).
fn wait_with_limit(mut child: Child, limit: Duration) -> Option<Output> {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn assert_no_crash_text(stderr: &str) {
    for tell in ["panicked", "backtrace", "RUST_BACKTRACE", "thread '"] {
        assert!(
            !stderr.contains(tell),
            "crash text reached the user: {stderr}"
        );
    }
}

fn cohort(rows: usize) -> String {
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
fn a_full_disk_refuses_plainly_loses_nothing_and_needs_no_repair() {
    let env = Env::new();
    let levels: &[&str] = if long_mode() {
        &[
            "8", "16", "32", "64", "128", "256", "512", "1024", "2048", "3000",
        ]
    } else {
        &["16", "64", "256", "1024", "2048"]
    };
    let lines = in_private_mounts(&env, "tests/faults/enospc.sh", levels);
    for line in lines {
        assert!(
            field(&line, "acknowledged").parse::<usize>().unwrap() > 0,
            "{line}"
        );
        assert_eq!(field(&line, "lost"), "0", "{line}");
        assert_eq!(field(&line, "bricked"), "0", "{line}");
        assert_eq!(
            field(&line, "refused_saved"),
            "0",
            "a refused change appeared later: {line}"
        );
        assert!(
            line.contains("refusal=\"rc=9 caseload: the disk is full: nothing was saved"),
            "{line}"
        );
    }
}

#[test]
fn a_full_disk_under_the_hub_refuses_pushes_loses_nothing_and_needs_no_repair() {
    let env = Env::new();
    // KB left free, and after a slash the hub's reserve (--min-free-mb):
    // without one the database itself meets the full disk, the hub stops
    // (exit 9) and its stand-in service manager starts it again.
    let levels: &[&str] = if long_mode() {
        &[
            "16", "64", "256", "1024", "2048", "3000", "1024/2", "2048/2", "3000/2", "3000/1",
        ]
    } else {
        &["16", "256", "2048", "3000", "1024/2", "3000/2"]
    };
    let lines = in_private_mounts(&env, "tests/faults/hub_enospc.sh", levels);
    for line in lines {
        assert_eq!(field(&line, "lost"), "0", "{line}");
        assert_eq!(field(&line, "bricked"), "0", "{line}");
        assert!(
            line.contains("refusal=\"rc=7 caseload: the hub cannot save anything at the moment (the hub's disk is full"),
            "{line}"
        );
        // With room kept in reserve the database never meets the full disk.
        if line.contains("reserve_mb=2") {
            assert_eq!(field(&line, "hub_restarts"), "0", "{line}");
        }
    }
}

/// Runs a fault script with one small filesystem a level, in a private mount
/// namespace (as root, or in a user namespace where the kernel allows one);
/// returns its report, a line a level.
fn in_private_mounts(env: &Env, script: &str, levels: &[&str]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
    let bin = env!("CARGO_BIN_EXE_caseload");
    let work = env.root.join("mounts");
    let mut args = vec!["-m"];
    if !is_root() {
        args.insert(0, "-r");
    }
    let out = Command::new("unshare")
        .args(&args)
        .arg("bash")
        .arg(&script)
        .arg(bin)
        .arg(&work)
        .args(levels)
        .output()
        .expect("unshare (util-linux) is needed for the full-disk tests");
    let report = text(&out.stdout);
    eprintln!("{report}{}", text(&out.stderr));
    assert!(out.status.success(), "the full-disk script failed");
    let lines: Vec<String> = report
        .lines()
        .filter(|l| l.starts_with("level="))
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), levels.len(), "one line per fill level");
    lines
}

/// `name=value` from a report line.
fn field(line: &str, name: &str) -> String {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or("?")
        .to_string()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| text(&o.stdout).trim() == "0")
}

#[test]
fn an_unfinished_snapshot_left_by_a_full_disk_does_not_brick_the_store() {
    let env = Env::new();
    env.init();
    std::fs::write(env.root.join("c.csv"), cohort(3)).unwrap();
    assert!(
        env.run(&["import", "cohort", env.root.join("c.csv").to_str().unwrap()])
            .status
            .success()
    );
    // What sled leaves when it cannot finish a snapshot: it renames the file
    // only once complete, but reads an unrenamed one at the next open.
    let db = env.store().join("db");
    std::fs::write(db.join("snap.FFFFFFFFFFFFFFF0.generating"), b"").unwrap();
    std::fs::write(
        db.join("snap.FFFFFFFFFFFFFFF1.generating"),
        b"half a snapshot",
    )
    .unwrap();
    let out = env.run(&["doctor"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(env.people_count(&env.store()), Some(3));
}

#[test]
fn damage_anywhere_in_the_database_gives_a_plain_message_never_a_panic() {
    let env = Env::new();
    env.init();
    std::fs::write(env.root.join("c.csv"), cohort(200)).unwrap();
    assert!(
        env.run(&["import", "cohort", env.root.join("c.csv").to_str().unwrap()])
            .status
            .success()
    );
    let db_file = env.store().join("db").join("db");
    let len = std::fs::metadata(&db_file).unwrap().len();
    let positions = if long_mode() { 400 } else { 60 };
    let (mut detected, mut opened, mut hung) = (0, 0, 0);
    let (mut recovered, mut unrecoverable) = (0, 0);
    for n in 0..positions {
        let copy = env.root.join(format!("damaged-{n}"));
        copy_dir(&env.store(), &copy);
        let at = (len * n / positions) as usize;
        let mut bytes = std::fs::read(copy.join("db").join("db")).unwrap();
        for b in bytes.iter_mut().skip(at).take(64) {
            *b ^= 0xA5;
        }
        std::fs::write(copy.join("db").join("db"), &bytes).unwrap();
        let child = env
            .cmd_on(&copy, &["doctor"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        match wait_with_limit(child, Duration::from_secs(30)) {
            None => hung += 1,
            Some(out) => {
                let err = text(&out.stderr);
                assert_no_crash_text(&err);
                match out.status.code() {
                    Some(0) => opened += 1,
                    Some(5) => {
                        detected += 1;
                        // The way out: salvage into a fresh store.
                        let rec = env.cmd_on(&copy, &["recover"]).output().unwrap();
                        let said = text(&rec.stderr) + &text(&rec.stdout);
                        assert_no_crash_text(&said);
                        match rec.status.code() {
                            Some(0) => {
                                recovered += 1;
                                let doc = env.cmd_on(&copy, &["doctor"]).output().unwrap();
                                assert!(
                                    doc.status.success(),
                                    "after recover: {}",
                                    text(&doc.stdout)
                                );
                            }
                            Some(2) if said.contains("nothing in") || said.contains("identity") => {
                                unrecoverable += 1
                            }
                            other => panic!("recover at {at}: exit {other:?}: {said}"),
                        }
                    }
                    other => panic!("position {at}: exit {other:?}: {err}"),
                }
            }
        }
        let _ = std::fs::remove_dir_all(&copy);
    }
    eprintln!(
        "damage: positions={positions} detected={detected} recovered={recovered} unrecoverable={unrecoverable} opened_healthy={opened} hung={hung}"
    );
    assert_eq!(hung, 0);
    assert!(detected > 0, "damage was never noticed");
}

#[test]
fn a_reader_that_closes_the_pipe_ends_the_command_quietly() {
    let env = Env::new();
    env.init();
    std::fs::write(env.root.join("c.csv"), cohort(3000)).unwrap();
    assert!(
        env.run(&["import", "cohort", env.root.join("c.csv").to_str().unwrap()])
            .status
            .success()
    );
    for args in [
        &["people"][..],
        &["people", "--json"],
        &["report", "headline", "--format", "csv"],
    ] {
        let mut child = env
            .cmd_on(&env.store(), args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // `| head -1`: one line read, then the pipe closes.
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!first.is_empty());
        assert_no_crash_text(&err);
        assert!(status.success(), "{args:?}: {status:?} {err}");
    }
}

#[test]
fn an_import_is_all_or_nothing_and_the_dry_run_finds_what_the_import_would_refuse() {
    let env = Env::new();
    env.init();
    let mut csv = cohort(1200);
    csv.push_str(&format!("Late,Row,01/01/2009,Dover,{}\n", "x".repeat(201)));
    let file = env.root.join("c.csv");
    std::fs::write(&file, &csv).unwrap();
    let dry = env.run(&["import", "cohort", file.to_str().unwrap(), "--dry-run"]);
    let err = text(&dry.stderr);
    assert_eq!(dry.status.code(), Some(2), "{err}");
    assert!(
        err.contains("line 1202, column school_or_provider"),
        "the dry run names line and column: {err}"
    );
    let real = env.run(&["import", "cohort", file.to_str().unwrap()]);
    assert_eq!(real.status.code(), Some(2));
    assert!(text(&real.stderr).contains("line 1202, column school_or_provider"));
    assert!(text(&real.stderr).contains("1 problem in 1 row; nothing was imported"));
    assert_eq!(env.people_count(&env.store()), Some(0));
    let outbox = env.run(&["outbox"]);
    assert!(outbox.status.success());
}

#[test]
fn a_killed_import_leaves_nothing_or_everything() {
    let env = Env::new();
    env.init();
    let rows = 4000;
    let file = env.root.join("c.csv");
    std::fs::write(&file, cohort(rows)).unwrap();
    let copy = env.root.join("kill");
    let (none, all) = kill_imports(
        rows,
        &env.store(),
        &copy,
        || env.cmd_on(&copy, &["import", "cohort", file.to_str().unwrap()]),
        || {
            let count = env.people_count(&copy);
            let doctor = env.cmd_on(&copy, &["doctor"]).output().unwrap();
            assert!(doctor.status.success(), "{}", text(&doctor.stderr));
            count
        },
    );
    eprintln!(
        "import kills: attempts={} nothing={none} everything={all} partial=0 bricked=0",
        none + all
    );
}

#[test]
fn a_killed_hub_import_leaves_nothing_or_everything() {
    let env = Env::new();
    // More rows than one part (2,000), so kills land between parts too.
    let rows = 4500;
    let file = env.root.join("c.csv");
    std::fs::write(&file, cohort(rows)).unwrap();
    let data = env.root.join("hub");
    common::hub_user(&data, "admin", "admin");
    let copy = env.root.join("kill");
    let hub = |args: &[&str]| {
        let mut c = env.cmd_on(&env.store(), &["hub"]);
        c.args(args);
        c
    };
    let (none, all) = kill_imports(
        rows,
        &data,
        &copy,
        || {
            let mut c = hub(&["import", "--data", copy.to_str().unwrap(), "--as", "admin"]);
            c.args(["cohort", file.to_str().unwrap()]);
            c
        },
        || {
            let out = hub(&[
                "report",
                "--data",
                copy.to_str().unwrap(),
                "nccis",
                "--month",
                "2026-11",
            ])
            .output()
            .unwrap();
            out.status
                .success()
                .then(|| text(&out.stdout).lines().count().saturating_sub(1))
        },
    );
    eprintln!(
        "hub import kills: attempts={} nothing={none} everything={all} partial=0 bricked=0",
        none + all
    );
}

/// Runs `import` on fresh copies of `original` at `copy`, killed at moments
/// spread over its run; `count` reads how many people the copy holds after
/// (None: it cannot be read). Returns how often that was nobody and everybody.
fn kill_imports(
    rows: usize,
    original: &Path,
    copy: &Path,
    import: impl Fn() -> Command,
    count: impl Fn() -> Option<usize>,
) -> (usize, usize) {
    let kills = if long_mode() { 300 } else { 12 };
    // How long a whole import takes on this machine now, to spread the kills
    // over all of it and a little past.
    let _ = std::fs::remove_dir_all(copy);
    copy_dir(original, copy);
    let started = std::time::Instant::now();
    assert!(import().output().unwrap().status.success());
    let run = started.elapsed().as_millis() as u64;
    let (mut none, mut all) = (0, 0);
    for k in 0..kills {
        let _ = std::fs::remove_dir_all(copy);
        copy_dir(original, copy);
        let mut child = import()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(
            20 + k as u64 * run * 6 / 5 / kills as u64,
        ));
        let _ = child.kill();
        let _ = child.wait();
        match count() {
            Some(0) => none += 1,
            Some(n) if n == rows => all += 1,
            other => panic!("kill {k}: {other:?} people of {rows}"),
        }
    }
    (none, all)
}

#[test]
fn text_that_must_never_be_stored_is_refused_with_line_and_column() {
    let env = Env::new();
    env.init();
    let file = env.root.join("c.csv");
    for (bad, what) in [
        ("Am\u{0}y", "control character"),
        ("Amy\u{1b}[2J", "control character"),
        ("Amy\u{202e}ssap", "bidirectional override"),
        ("Amy\u{9b}", "control character"),
    ] {
        std::fs::write(
            &file,
            format!("given_name,family_name,date_of_birth,district\n{bad},Lee,01/02/2009,Dover\n"),
        )
        .unwrap();
        for dry in [true, false] {
            let mut args = vec!["import", "cohort", file.to_str().unwrap()];
            if dry {
                args.push("--dry-run");
            }
            let out = env.run(&args);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{err}");
            assert!(err.contains("line 2, column given_name"), "{err}");
            assert!(err.contains(what), "{err}");
            assert!(
                !err.contains('\u{1b}') && !err.contains('\u{202e}'),
                "{err:?}"
            );
        }
    }
    assert_eq!(env.people_count(&env.store()), Some(0));

    // The same column twice under two spellings is refused, not half-read.
    std::fs::write(
        &file,
        "given_name,Given Name,family_name,date_of_birth,district\nAmy,Ann,Lee,01/02/2009,Dover\n",
    )
    .unwrap();
    let out = env.run(&["import", "cohort", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("names the same column as column 1"));

    // 100,000 unknown columns: a short answer, with a count of the rest.
    let mut header = String::from("given_name,family_name,date_of_birth,district");
    for i in 0..100_000 {
        header.push_str(&format!(",junk{i}"));
    }
    std::fs::write(&file, format!("{header}\n")).unwrap();
    let out = env.run(&["import", "cohort", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.len() < 20_000, "{} bytes of errors", err.len());
    assert!(err.contains("and 99990 more unknown columns"), "{err}");

    // The command line passes the same rule.
    std::fs::write(&file, cohort(1)).unwrap();
    assert!(
        env.run(&["import", "cohort", file.to_str().unwrap()])
            .status
            .success()
    );
    let id = text(&env.run(&["people"]).stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let out = env.run(&[
        "contact",
        &id,
        "--channel",
        "phone",
        "--outcome",
        "no-answer",
        "--note",
        "rang \u{1b}]0;owned\u{7}",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("note holds a control character"));
}

#[test]
fn records_put_back_to_an_older_copy_are_found_by_doctor() {
    let env = Env::new();
    env.init();
    std::fs::write(env.root.join("c.csv"), cohort(3)).unwrap();
    assert!(
        env.run(&["import", "cohort", env.root.join("c.csv").to_str().unwrap()])
            .status
            .success()
    );
    let id = text(&env.run(&["people"]).stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let contact = |note: &str| {
        let out = env.run(&[
            "contact",
            &id,
            "--channel",
            "phone",
            "--outcome",
            "no-answer",
            "--note",
            note,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    contact("older");
    let old = env.root.join("old");
    copy_dir(&env.store(), &old);
    contact("newer one");
    contact("newer two");
    // With sled alone and no key: every record but the clock and count is put
    // back to the older copy's sealed values (ops, states, summaries, outbox).
    {
        let older = sled::open(old.join("db")).unwrap();
        let current = sled::open(env.store().join("db")).unwrap();
        for tree in ["ops", "people", "summaries", "outbox"] {
            let (from, to) = (
                older.open_tree(tree).unwrap(),
                current.open_tree(tree).unwrap(),
            );
            to.clear().unwrap();
            for item in from.iter() {
                let (k, v) = item.unwrap();
                to.insert(k, v).unwrap();
            }
        }
        current.flush().unwrap();
    }
    let out = env.run(&["doctor"]);
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(5), "{said}");
    assert!(
        said.contains("rolled back: 6 changes were saved but 4 are here"),
        "{said}"
    );

    // The meta tree put back too (clock and count): caught at unlock.
    {
        let older = sled::open(old.join("db")).unwrap();
        let current = sled::open(env.store().join("db")).unwrap();
        let (from, to) = (
            older.open_tree("meta").unwrap(),
            current.open_tree("meta").unwrap(),
        );
        for item in from.iter() {
            let (k, v) = item.unwrap();
            to.insert(k, v).unwrap();
        }
        current.flush().unwrap();
    }
    let out = env.run(&["people"]);
    assert_eq!(out.status.code(), Some(5));
    assert!(
        text(&out.stderr).contains("the database has lost changes"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_recovered_store_gets_everything_back_from_the_hub() {
    let env = Env::new();
    let _hub = env.on_hub_with_cohort(200);
    assert!(env.run(&["sync"]).status.success());
    // Damage records that sled itself still reads (a sealed op and a page of
    // summaries altered on disk): refused by doctor, salvaged by recover. (Damage that
    // stops sled opening at all is told plainly: see the damage test.)
    damage_two_records(&env.store());
    assert_eq!(env.run(&["doctor"]).status.code(), Some(5));
    let rec = env.run(&["recover"]);
    let said = text(&rec.stdout);
    assert!(rec.status.success(), "{}", text(&rec.stderr));
    assert!(said.contains("recovered 199 changes"), "{said}");
    assert!(said.contains("could not be read: 1 changes"), "{said}");
    assert!(said.contains("the damaged store is kept at"), "{said}");
    assert!(env.run(&["doctor"]).status.success());
    let synced = env.run(&["sync"]);
    assert!(synced.status.success(), "{}", text(&synced.stderr));
    assert_eq!(
        env.people_count(&env.store()),
        Some(200),
        "the hub filled in the rest"
    );
}

/// Alters one sealed op and one page of summaries on disk: records sled still
/// reads, which doctor refuses and recover salvages around. (A record made by
/// one op, as every one of a cohort just pulled, has nothing in `people`.)
fn damage_two_records(store: &Path) {
    let db = sled::open(store.join("db")).unwrap();
    for tree in ["ops", "summaries"] {
        let t = db.open_tree(tree).unwrap();
        let (k, v) = t.iter().nth(7).unwrap().unwrap();
        let mut bad = v.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 0xFF;
        t.insert(k, bad).unwrap();
    }
    db.flush().unwrap();
}

/// Spawns a command and kills it after `after` (if it is still running).
/// Returns true if it finished successfully first: the user saw it succeed.
fn run_killed(mut cmd: Command, after: Duration) -> bool {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + after;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn notes_held(env: &Env, id: &str) -> std::collections::BTreeSet<String> {
    let out = env.run(&["show", id, "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found = std::collections::BTreeSet::new();
    fn walk(v: &serde_json::Value, found: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::String(s) if s.starts_with("kill-") => {
                found.insert(s.clone());
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, found)),
            serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, found)),
            _ => {}
        }
    }
    walk(&v, &mut found);
    found
}

#[test]
fn kills_during_contact_passwd_and_sync_lose_nothing_acknowledged() {
    let env = Env::new();
    let _hub = env.on_hub_with_cohort(1);
    let id = text(&env.run(&["people"]).stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let kills = if long_mode() { 300 } else { 12 };
    // How long each takes here, unkilled: the kills are spread over that.
    let timed = |args: &[&str]| {
        let t = Instant::now();
        assert!(env.run(args).status.success());
        t.elapsed()
    };
    let contact_time = timed(&[
        "contact",
        &id,
        "--channel",
        "text",
        "--outcome",
        "sent-no-reply",
    ]);
    let sync_time = timed(&["sync"]);
    // A moment from a third of the way in to twice its usual length.
    let moment = |whole: Duration, k: usize| whole * (3 + (k * 7) % 18) as u32 / 10;
    // contact and sync, interleaved; each killed at a moment spread over its run.
    let mut acknowledged = std::collections::BTreeSet::new();
    let (mut contact_kills, mut sync_kills) = (0, 0);
    for k in 0..kills {
        let note = format!("kill-{k}");
        let cmd = env.cmd_on(
            &env.store(),
            &[
                "contact",
                &id,
                "--channel",
                "phone",
                "--outcome",
                "no-answer",
                "--note",
                &note,
            ],
        );
        if run_killed(cmd, moment(contact_time, k)) {
            acknowledged.insert(note);
        } else {
            contact_kills += 1;
        }
        if !run_killed(
            env.cmd_on(&env.store(), &["sync"]),
            moment(sync_time, k + 3),
        ) {
            sync_kills += 1;
        }
        let held = notes_held(&env, &id);
        let lost: Vec<_> = acknowledged.difference(&held).collect();
        assert!(
            lost.is_empty(),
            "kill {k}: acknowledged contacts lost: {lost:?}"
        );
    }
    assert!(env.run(&["doctor"]).status.success());
    assert!(
        env.run(&["sync"]).status.success(),
        "a sync after all that completes"
    );
    // Every change made here, acknowledged contacts included, has reached the hub.
    let outbox = env.run(&["outbox"]);
    assert!(outbox.status.success());
    assert!(
        text(&outbox.stderr).contains("0 changes waiting to sync"),
        "{}",
        text(&outbox.stderr)
    );
    eprintln!(
        "kills: contact attempts={kills} killed={contact_kills} acknowledged={} lost=0; sync attempts={kills} killed={sync_kills}",
        acknowledged.len()
    );

    // passwd: killed at any moment, the store opens with the old passphrase
    // or the new one, never neither.
    let new_pass = env.root.join("new-pass");
    std::fs::write(&new_pass, "another long passphrase for the kill test").unwrap();
    let passwd_kills = if long_mode() { 300 } else { 8 };
    let passwd_time = contact_time * 2; // two key derivations
    let mut current = PASS.to_string();
    for k in 0..passwd_kills {
        let next = if current == PASS {
            std::fs::read_to_string(&new_pass).unwrap()
        } else {
            PASS.to_string()
        };
        let file = env.root.join("next");
        std::fs::write(&file, &next).unwrap();
        let mut cmd = env.cmd_on(
            &env.store(),
            &["passwd", "--new-passphrase-file", file.to_str().unwrap()],
        );
        cmd.env("CASELOAD_PASSPHRASE", &current);
        let done = run_killed(cmd, moment(passwd_time, k));
        let opens = |p: &str| {
            env.cmd_on(&env.store(), &["people"])
                .env("CASELOAD_PASSPHRASE", p)
                .output()
                .unwrap()
                .status
                .success()
        };
        match (opens(&current), opens(&next)) {
            (_, true) => current = next,
            (true, false) => assert!(
                !done,
                "passwd said it was done but the new passphrase fails"
            ),
            (false, false) => panic!("passwd kill {k}: the store opens with neither passphrase"),
        }
    }
    eprintln!(
        "kills: passwd attempts={passwd_kills} bricked=0 (now on the {} passphrase)",
        if current == PASS { "first" } else { "second" }
    );
}

#[test]
fn kills_during_recover_never_leave_the_store_missing_or_lose_what_could_be_read() {
    let env = Env::new();
    env.init();
    std::fs::write(env.root.join("c.csv"), cohort(60)).unwrap();
    let file = env.root.join("c.csv");
    assert!(
        env.run(&["import", "cohort", file.to_str().unwrap()])
            .status
            .success()
    );
    // Two records altered on disk, as in the recover test above.
    damage_two_records(&env.store());
    let damaged = env.root.join("damaged-template");
    copy_dir(&env.store(), &damaged);
    // Everyone but the one whose registration cannot be read.
    let expected = 59;
    let t = Instant::now();
    assert!(env.run(&["recover"]).status.success());
    let recover_time = t.elapsed();
    let kills = if long_mode() { 300 } else { 12 };
    let (mut finished, mut bricked, mut lost) = (0, 0, 0);
    for k in 0..kills {
        // Start each round from the damaged store alone.
        for e in std::fs::read_dir(&env.root).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with("store") {
                let _ = std::fs::remove_dir_all(env.root.join(&name));
            }
        }
        copy_dir(&damaged, &env.store());
        let after = recover_time * (1 + (k * 7) % 20) as u32 / 10;
        if run_killed(env.cmd_on(&env.store(), &["recover"]), after) {
            finished += 1;
        } else {
            // Killed: running it again finishes the job.
            let again = env.run(&["recover"]);
            assert_no_crash_text(&text(&again.stderr));
            assert!(
                again.status.success(),
                "kill {k}: recover after a killed recover: {}",
                text(&again.stderr)
            );
        }
        if !env.run(&["doctor"]).status.success() {
            bricked += 1;
        }
        match env.people_count(&env.store()) {
            Some(n) if n >= expected => {}
            _ => lost += 1,
        }
        let kept = std::fs::read_dir(&env.root)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("store.damaged-")
            })
            .count();
        assert!(kept >= 1, "kill {k}: the damaged store was not kept");
        assert!(
            !env.root.join("store.recovering").exists(),
            "kill {k}: a half-made store was left behind"
        );
    }
    eprintln!(
        "kills: recover attempts={kills} finished={finished} killed={} lost={lost} bricked={bricked}",
        kills - finished
    );
    assert_eq!((lost, bricked), (0, 0));
}
