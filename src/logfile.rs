//! An append-only event log in the state directory
//! (`$XDG_STATE_HOME/caseload/caseload.log`, mode 0600). It records what happened
//! — unlocked, locked, saved an op of some kind, a refusal — never names, dates
//! of birth, notes or any other content.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Default)]
pub struct Log {
    file: Option<File>,
    path: Option<PathBuf>,
}

pub fn default_path() -> Option<PathBuf> {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("caseload").join("caseload.log"))
}

impl Log {
    /// Opens (creating) the log; if that fails the log is silently off — a
    /// full-screen program has nowhere better to say so.
    pub fn open(path: Option<&Path>) -> Log {
        let Some(path) = path else {
            return Log::default();
        };
        if let Some(dir) = path.parent() {
            let _ = crate::store::files::create_private_dir(dir);
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .ok();
        Log {
            file,
            path: Some(path.to_path_buf()),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    pub fn event(&mut self, what: &str) {
        if let Some(f) = &mut self.file {
            let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
            // One event a line: a newline in a message is shown, not obeyed.
            let what = crate::domain::text::printable(what).replace('\n', "\u{2424}");
            let _ = writeln!(f, "{now} {what}");
        }
    }
}
