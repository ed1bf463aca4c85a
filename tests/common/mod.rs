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
