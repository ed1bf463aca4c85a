//! Shared by the integration tests: a real hub process on 127.0.0.1, and
//! checks of what a store leaves on disk.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// `caseload hub serve` on a free loopback port, killed when dropped.
pub struct HubProcess {
    pub child: Child,
    pub url: String,
}

impl HubProcess {
    pub fn start(data: &Path) -> HubProcess {
        Self::start_with(data, &[])
    }

    pub fn start_with(data: &Path, extra: &[&str]) -> HubProcess {
        Self::start_on(data, extra, None)
    }

    /// A hub whose clock is pinned to `today` (YYYY-MM-DD), as the devices of a
    /// test that pins its day must be: every process of a test reads one clock.
    pub fn start_on(data: &Path, extra: &[&str], today: Option<&str>) -> HubProcess {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_caseload"));
        match today {
            Some(day) => cmd.env("CASELOAD_TODAY", day),
            None => cmd.env_remove("CASELOAD_TODAY"),
        };
        let mut child = cmd
            .args([
                "hub",
                "serve",
                "--data",
                data.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().rsplit(' ').next().unwrap().to_string();
        assert!(
            url.starts_with("http://127.0.0.1:") || url.starts_with("https://127.0.0.1:"),
            "{line}"
        );
        HubProcess { child, url }
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file under `dir`, at any depth.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            files.push(p);
        }
    }
    files
}

/// Fails naming the file if any file under `dir` holds `needle` in plain bytes.
pub fn assert_nowhere_on_disk(dir: &Path, needle: &[u8]) {
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{:?} in plain bytes in {}",
            String::from_utf8_lossy(needle),
            file.display()
        );
    }
}

/// The real binary with `pass` as its passphrase and the wall clock (no
/// pinned day), no config file.
pub fn caseload_with(pass: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_caseload"))
        .args(args)
        .env("CASELOAD_PASSPHRASE", pass)
        .env_remove("CASELOAD_TODAY")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .output()
        .unwrap()
}

/// What a command printed, standard output then standard error.
pub fn output_text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Adds a hub user with `hub user add` (the hub stopped or running); returns
/// their one-time enrolment token.
pub fn hub_user(data: &Path, name: &str, role: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_caseload"))
        .args(["hub", "user", "add", name, "--role", role, "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .to_string()
}

/// Copies a directory tree (a store, to damage or restore the copy).
pub fn copy_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
