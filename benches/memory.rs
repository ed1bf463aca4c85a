//! Resident memory of the real workbench at Kent's scale: `caseload --store`
//! on a 52,500-person store at 80×24 in tmux, its VmRSS after unlocking and
//! again after every screen has been visited (the performance issue: ≤ 40 MB),
//! beside its floor measured in the same run — the summaries themselves, as
//! the store encodes them. A bench command: it reports the median of three
//! runs of the binary, in MB of 10^6 bytes. Needs tmux.
//!
//! Run: `cargo bench --bench memory` (CASELOAD_BENCH_PEOPLE to change the size).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Each screen's key and a text it shows once drawn.
const SCREENS: [(&str, &str); 5] = [
    ("2", "things to do"),
    ("3", "Queue:"),
    ("4", "Academic ages"),
    ("5", "put right"),
    ("1", "sorted by name"),
];

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let people = common::people();
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = tmp.path().join("store");
    let replica = common::build_store(&store, people);
    let floor: usize = replica
        .index()
        .all()
        .iter()
        .map(|s| postcard::to_allocvec(s).expect("encode").len())
        .sum();
    drop(replica);
    let pass = tmp.path().join("pass");
    std::fs::write(&pass, common::PASS).expect("passphrase file");
    std::fs::set_permissions(&pass, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("passphrase file only its owner reads");
    let (mut unlocked, mut visited) = (Vec::new(), Vec::new());
    for run in 0..3 {
        let (a, b) = one_run(tmp.path(), run, &store, &pass);
        eprintln!(
            "run {run}: after unlock {} KB, after every screen {b} KB",
            a
        );
        unlocked.push(a);
        visited.push(b);
    }
    unlocked.sort_unstable();
    visited.sort_unstable();
    let (unlocked, visited) = (unlocked[1], visited[1]);
    println!(
        "resident memory, {people} people: after unlock median {:.1} MB, after every screen {:.1} MB (goal <= 40 MB); the summaries themselves (encoded, {} B a person): {:.1} MB; ratio {:.1}",
        unlocked as f64 * 1024.0 / 1e6,
        visited as f64 * 1024.0 / 1e6,
        floor / people.max(1),
        floor as f64 / 1e6,
        visited as f64 * 1024.0 / floor.max(1) as f64
    );
}

/// The workbench opened on `store`, unlocked from the passphrase file: its
/// resident memory (KiB) once the caseload shows, and once every screen has.
fn one_run(root: &Path, run: usize, store: &Path, pass: &Path) -> (u64, u64) {
    let command = format!(
        "exec env HOME={r} XDG_DATA_HOME={r}/data XDG_CONFIG_HOME={r}/config XDG_STATE_HOME={r}/state CASELOAD_TODAY={today} TERM=xterm-256color {bin} --store {store} --passphrase-file {pass}",
        r = root.display(),
        today = common::today(),
        bin = env!("CARGO_BIN_EXE_caseload"),
        store = store.display(),
        pass = pass.display(),
    );
    let tmux = Tmux::start(&root.join(format!("tmux{run}.sock")), &command);
    tmux.wait_for("sorted by name");
    let pid = tmux.pid();
    // What the workbench hands back after unlocking is handed back once
    // the first frame is drawn.
    std::thread::sleep(Duration::from_secs(1));
    let unlocked = resident_kib(pid);
    for (key, shows) in SCREENS {
        tmux.keys(key);
        tmux.wait_for(shows);
    }
    std::thread::sleep(Duration::from_secs(1));
    (unlocked, resident_kib(pid))
}

fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn start(socket: &Path, command: &str) -> Tmux {
        let tmux = Tmux {
            socket: socket.to_path_buf(),
        };
        let out = tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "bench",
            "-x",
            "80",
            "-y",
            "24",
            command,
        ]);
        assert!(
            out.status.success(),
            "tmux: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("the memory bench needs tmux")
    }

    fn keys(&self, key: &str) {
        self.run(&["send-keys", "-t", "bench", key]);
    }

    fn pid(&self) -> u32 {
        let out = self.run(&["display-message", "-p", "-t", "bench", "#{pane_pid}"]);
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("pane pid")
    }

    fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let screen = self.run(&["capture-pane", "-p", "-t", "bench"]);
            if String::from_utf8_lossy(&screen.stdout).contains(text) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?}: {}",
                String::from_utf8_lossy(&screen.stdout)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}
