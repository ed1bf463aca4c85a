//! The real binary in a real terminal: tmux runs `caseload`, send-keys types,
//! capture-pane reads the screen. Afterwards the store is checked through the
//! CLI for exactly the changes made. Needs tmux (`.ci/test` installs it).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const PASS: &str = "demo-only-not-secret";
/// The day every process of these tests reads as today (workbench, CLI and hub alike).
const TODAY: &str = "2026-11-23";

struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn start(root: &Path, width: u16, height: u16, command: &str) -> Tmux {
        let t = Tmux {
            socket: root.join("tmux.sock"),
        };
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&t.socket)
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "e2e",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                command,
            ])
            .output()
            .expect("tmux must be installed to run the end-to-end tests (.ci/test installs it)");
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", "e2e", k]);
        }
    }

    fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "e2e", "-l", text]);
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "e2e"]).stdout)
            .into_owned()
    }

    /// Waits until the screen shows `text` (the app answers keys asynchronously).
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn alive(&self) -> bool {
        self.tmux(&["has-session", "-t", "e2e"]).status.success()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
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

    fn env_prefix(&self) -> String {
        format!(
            "env -u CASELOAD_PASSPHRASE HOME={r} XDG_DATA_HOME={r}/data XDG_CONFIG_HOME={r}/config XDG_STATE_HOME={r}/state CASELOAD_TODAY={today} TERM=xterm-256color",
            r = self.root.display(),
            today = TODAY
        )
    }

    fn store(&self) -> PathBuf {
        self.root.join("store")
    }

    fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_caseload"))
            .args(["--store", self.store().to_str().unwrap()])
            .args(args)
            .env("HOME", &self.root)
            .env("XDG_STATE_HOME", self.root.join("state"))
            .env("XDG_CONFIG_HOME", self.root.join("config"))
            .env("CASELOAD_TODAY", TODAY)
            .env("CASELOAD_PASSPHRASE", PASS)
            .output()
            .unwrap()
    }

    fn demo(&self) {
        assert!(
            self.cli(&["demo", "--people", "200", "--no-open"])
                .status
                .success()
        );
    }

    /// Waits for the app in tmux to exit (it then saves the terminal settings).
    fn wait_until_quit(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.root.join("stty.txt").exists() {
            assert!(Instant::now() < deadline, "caseload did not quit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The demo store opened at 80×24, unlocked, on its first young person's record.
    fn first_record_at_80x24(&self) -> Tmux {
        self.demo();
        let t = self.open(80, 24);
        t.wait_for("caseload is locked");
        t.type_text(PASS);
        t.keys(&["Enter"]);
        t.wait_for("200 of 200 young people");
        t.keys(&["Enter"]);
        t
    }

    /// The app in tmux; after it exits, the terminal settings are saved to a file.
    fn open(&self, w: u16, h: u16) -> Tmux {
        let cmd = format!(
            "{} {} --store {}; stty -a > {}/stty.txt; sleep 30",
            self.env_prefix(),
            env!("CARGO_BIN_EXE_caseload"),
            self.store().display(),
            self.root.display()
        );
        Tmux::start(&self.root, w, h, &cmd)
    }
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn unlock_search_log_activity_rate_lock_queue_then_the_store_holds_exactly_that() {
    let env = Env::new();
    env.demo();
    let people: serde_json::Value =
        serde_json::from_slice(&env.cli(&["people", "--json"]).stdout).unwrap();
    let target = &people[17];
    let full_name = format!(
        "{} {}",
        target["name"]["given"].as_str().unwrap(),
        target["name"]["family"].as_str().unwrap()
    );
    let target_id = target["id"].as_str().unwrap().to_string();
    assert!(
        text(&env.cli(&["outbox"])).is_empty(),
        "a fresh demo store has nothing to sync"
    );

    let t = env.open(100, 30);
    t.wait_for("caseload is locked");
    t.type_text(PASS);
    t.keys(&["Enter"]);
    t.wait_for("200 of 200 young people");

    // Search and open.
    t.type_text("/");
    t.type_text(&full_name);
    t.wait_for("Search (Enter opens");
    t.keys(&["Enter"]);
    let s = t.wait_for("Current activity");
    assert!(s.contains(&full_name), "{s}");

    // Phone, no answer: three keys; the form shows the number being rung.
    t.keys(&["c"]);
    let form = t.wait_for("Using ");
    assert!(
        form.contains("(Mobile)") || form.contains("(Home)"),
        "{form}"
    );
    t.keys(&["n", "Enter"]);
    t.wait_for("Saved: Phone — No answer");
    // Now in further education: a, 230, Enter.
    t.keys(&["a", "2", "3", "0", "Enter"]);
    t.wait_for("Saved: activity 230");
    // Rate Amber with a reason.
    t.keys(&["r", "a"]);
    t.type_text("Left course in October");
    t.keys(&["Enter"]);
    t.wait_for("Saved: rated Amber");

    // Lock: nothing of the record stays on screen; unlock brings it back.
    t.keys(&["C-l"]);
    let locked = t.wait_for("caseload is locked");
    assert!(!locked.contains(&full_name), "{locked}");
    t.type_text("wrong passphrase");
    t.keys(&["Enter"]);
    t.wait_for("Wrong passphrase");
    t.type_text(PASS);
    t.keys(&["Enter"]);
    let back = t.wait_for("Current activity");
    assert!(
        back.contains(&full_name),
        "unlocking returns to the same person: {back}"
    );

    // Too small, then back.
    t.tmux(&["resize-window", "-t", "e2e", "-x", "60", "-y", "20"]);
    t.wait_for("Terminal too small");
    t.tmux(&["resize-window", "-t", "e2e", "-x", "100", "-y", "30"]);
    t.wait_for("Current activity");

    // Tracking queue: one key logs and moves on.
    t.keys(&["3"]);
    t.wait_for("Queue:");
    t.keys(&["v"]);
    t.wait_for("1 logged");
    t.keys(&["q"]);
    env.wait_until_quit();
    std::thread::sleep(Duration::from_millis(200));
    let stty = std::fs::read_to_string(env.root.join("stty.txt")).unwrap();
    assert!(
        stty.contains(" icanon") && stty.contains(" echo"),
        "terminal left in raw mode: {stty}"
    );
    assert!(t.alive());
    drop(t);

    // Exactly four changes, in order, by the demo officer.
    let outbox = text(&env.cli(&["outbox"]));
    let kinds: Vec<&str> = outbox
        .lines()
        .map(|l| l.split_whitespace().nth(2).unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        ["log-contact", "set-fields", "rate-risk", "log-contact"],
        "{outbox}"
    );
    let short = &target_id
        .parse::<caseload::domain::PersonId>()
        .expect("an id")
        .short();
    assert_eq!(
        outbox.lines().filter(|l| l.ends_with(short)).count(),
        3,
        "{outbox}"
    );

    let shown: serde_json::Value =
        serde_json::from_slice(&env.cli(&["show", &target_id, "--json"]).stdout).unwrap();
    assert_eq!(shown["current_activity"]["code"], 230);
    assert_eq!(shown["current_activity"]["confirmed"], "2026-11-23");
    let rating = shown["ratings"].as_array().unwrap().last().unwrap();
    assert_eq!(rating["value"]["rag"], "Amber");
    assert_eq!(rating["value"]["reason"], "Left course in October");
    assert_eq!(rating["author"], "demo.officer");
    let contacts = shown["contacts"].as_array().unwrap();
    assert!(contacts.iter().any(|c| c["value"]["outcome"] == "NoAnswer"
        && c["value"]["channel"] == "Phone"
        && c["author"] == "demo.officer"
        && c["used"]["detail"] == shown["person"]["phones"][0]["number"]));
    assert!(env.cli(&["doctor"]).status.success());
}

#[test]
fn demo_opens_the_workbench_and_a_bad_keymap_still_starts_with_the_default() {
    let env = Env::new();
    std::fs::create_dir_all(env.root.join("config/caseload")).unwrap();
    std::fs::write(
        env.root.join("bad-keys.toml"),
        "[global]\nq = \"explode\"\n",
    )
    .unwrap();
    std::fs::write(
        env.root.join("config/caseload/config.toml"),
        format!(
            "[ui]\nkeymap = \"{}\"\n",
            env.root.join("bad-keys.toml").display()
        ),
    )
    .unwrap();
    let cmd = format!(
        "{} {} --store {} demo --people 50; echo CASELOAD-EXITED $?; sleep 30",
        env.env_prefix(),
        env!("CARGO_BIN_EXE_caseload"),
        env.store().display()
    );
    let t = Tmux::start(&env.root, 100, 30, &cmd);
    t.wait_for("of 50 young people");
    // Shown in the status line; a frame can be captured half drawn, so wait for it.
    t.wait_for("bad-keys.toml, line 2: unknown action \"explode\"");
    // The default map is in force: ? opens help.
    t.keys(&["?"]);
    t.wait_for("Keys (from your keymap)");
    // Esc and q sent together would read as Alt-q; let the overlay close first.
    t.keys(&["Escape"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.screen().contains("Keys (from your keymap)") {
        assert!(Instant::now() < deadline, "help did not close");
        std::thread::sleep(Duration::from_millis(50));
    }
    t.keys(&["q"]);
    t.wait_for("CASELOAD-EXITED 0");
}

#[test]
fn the_workbench_syncs_in_the_background_and_on_the_sync_key_and_offline_is_calm() {
    let env = Env::new();
    let data = env.root.join("hub");
    let d = data.to_str().unwrap();
    let token = |name: &str, role: &str| {
        let out = env.cli(&["hub", "user", "add", name, "--role", role, "--data", d]);
        assert!(out.status.success(), "{}", text(&out));
        let file = env.root.join(format!("{name}.token"));
        std::fs::write(&file, text(&out).lines().last().unwrap()).unwrap();
        file
    };
    token("admin", "admin");
    let smith = token("j.smith", "officer");
    let csv = env.root.join("cohort.csv");
    std::fs::write(
        &csv,
        "given_name,family_name,date_of_birth,district,assigned_worker\n\
         Amy,Synced,2009-10-01,Thanet,j.smith\n",
    )
    .unwrap();
    let out = env.cli(&[
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
    let hub = common::HubProcess::start_on(&data, &[], Some(TODAY));
    assert!(env.cli(&["init", "--worker", "j.smith"]).status.success());
    let out = env.cli(&["login", &hub.url, "--token-file", smith.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));

    let t = env.open(80, 24);
    t.wait_for("caseload is locked");
    t.type_text(PASS);
    t.keys(&["Enter"]);
    // Nothing typed: the background sync brings Amy in shortly after unlocking.
    t.wait_for("not synced yet");
    t.wait_for("1 of 1 young people");
    let s = t.wait_for("synced ");
    assert!(!s.contains("Error"), "{s}");
    // A contact waits for the hub; the sync key sends it at once.
    t.keys(&["Enter"]);
    t.wait_for("Current activity");
    t.keys(&["c", "n", "Enter"]);
    t.wait_for("Saved: Phone — No answer");
    t.wait_for("1 waiting");
    t.keys(&["C-r"]);
    t.wait_for("Synced: 1 sent, 0 received");
    // The hub went away: offline is said calmly, and the change waits.
    drop(hub);
    t.keys(&["c", "v", "Enter"]);
    t.wait_for("Saved: Phone — Voicemail");
    t.keys(&["C-r"]);
    let s = t.wait_for("offline, synced");
    assert!(s.contains("1 waiting"), "{s}");
    assert!(!s.contains("Error"), "offline is not an error: {s}");
    t.wait_for("Hub not reachable");
    t.keys(&["q"]);
    // The first contact reached the hub: it is in the hub's history for Amy.
    let out = env.cli(&["hub", "report", "--data", d, "headline", "--format", "csv"]);
    assert!(out.status.success(), "{}", text(&out));
    let store = caseload::hub::SledHubStore::open(&data, None).unwrap();
    use caseload::hub::HubStore;
    let amy = store.summaries().unwrap()[0].id;
    let contacts = store
        .history(amy)
        .unwrap()
        .iter()
        .filter(|r| r.op.payload.kind() == "log-contact")
        .count();
    assert_eq!(
        contacts, 1,
        "exactly the contact sent before the hub stopped"
    );
    let out = env.cli(&["outbox"]);
    assert_eq!(text(&out).lines().count(), 1, "{}", text(&out));
}

#[test]
fn a_note_added_in_the_workbench_at_80x24_is_kept_on_the_record() {
    let env = Env::new();
    let t = env.first_record_at_80x24();
    t.wait_for("n note");
    t.keys(&["n"]);
    t.wait_for("Enter saves");
    t.type_text("Rang Tesco: starts Monday");
    t.keys(&["Enter"]);
    t.wait_for("Saved: note for");
    // Undo: two keys mark it as corrected (kept on the record).
    t.keys(&["u"]);
    t.wait_for("Mark as entered in error: note");
    t.keys(&["Enter"]);
    t.wait_for("Corrected: note");
    t.keys(&["q"]);
    env.wait_until_quit();
    drop(t);
    let outbox = text(&env.cli(&["outbox"]));
    assert!(
        outbox.contains("add-note") && outbox.contains("retract"),
        "{outbox}"
    );
    let people: serde_json::Value =
        serde_json::from_slice(&env.cli(&["people", "--json"]).stdout).unwrap();
    let first = people[0]["id"].as_str().unwrap();
    let shown: serde_json::Value =
        serde_json::from_slice(&env.cli(&["show", first, "--json"]).stdout).unwrap();
    assert!(
        shown["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["value"]["text"] == "Rang Tesco: starts Monday"
                && n["author"] == "demo.officer"),
        "{shown}"
    );
}

#[test]
fn fitting_outcomes_your_follow_ups_and_recent_messages_at_80x24() {
    let env = Env::new();
    let t = env.first_record_at_80x24();
    t.wait_for("f done");
    // A letter is never "no answer": the form says so and keeps waiting.
    t.keys(&["c"]);
    t.wait_for("press an outcome key");
    t.keys(&["l", "n"]);
    t.wait_for("does not go with Letter");
    t.keys(&["r", "Tab"]);
    t.type_text("today");
    t.keys(&["Enter"]);
    t.wait_for("Saved: Letter — Post returned");
    // Post returned: the contact details are offered at once (declined here).
    t.wait_for("Post returned: change or clear it");
    t.keys(&["Escape"]);
    // The follow-up just set is yours: the next attempt says it answers it,
    // and one key marks it done.
    t.keys(&["c"]);
    t.wait_for("Saving this answers your follow-up due");
    t.keys(&["Escape", "f"]);
    t.wait_for("Done: your follow-up due");
    // Every message, whole, newest first.
    t.keys(&["C-g"]);
    let shown = t.wait_for("Recent messages");
    assert!(shown.contains("Saved: Letter — Post returned"), "{shown}");
    t.keys(&["Escape"]);
    // A September Guarantee offer: an apprenticeship at a named provider.
    t.keys(&["o"]);
    t.wait_for("September Guarantee offer:");
    t.keys(&["Tab", "Down", "Down", "Tab"]);
    t.type_text("Kent Training");
    t.keys(&["Enter"]);
    t.wait_for("offer made for");
    // The intended destination: one key, a choice, Enter.
    t.keys(&["d"]);
    t.wait_for("Intended destination:");
    t.keys(&["Down", "Enter"]);
    t.wait_for("Saved: intends apprenticeship");
    // A new mobile: e, clear the field, type it, Enter.
    t.keys(&["e"]);
    t.wait_for("Contact details:");
    t.keys(&["C-u"]);
    t.type_text("07700 900444");
    t.keys(&["Enter"]);
    t.wait_for("Saved: contact details for");
    t.keys(&["q"]);
    env.wait_until_quit();
    drop(t);
    let outbox = text(&env.cli(&["outbox"]));
    for kind in [
        "log-contact",
        "complete-follow-up",
        "record-offer",
        "record-destination",
        "set-fields",
    ] {
        assert!(outbox.contains(kind), "{kind}: {outbox}");
    }
}
