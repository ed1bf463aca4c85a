//! The hub's security events and its brake on guessing.
//!
//! Every authentication failure, refusal, enrolment, rate-limit, refused
//! connection and admin action is one JSON line in `DATA_DIR/security.log`
//! (0600, appended by the hub and by admin commands alike). Events name staff
//! accounts, client addresses, devices and counts — never a young person's
//! data, nor the reason text of a refusal (which may name records).
//! `caseload hub audit` reads it.
//!
//! [`FailureLimiter`]: an address that fails authentication
//! [`MAX_FAILURES`] times within [`WINDOW`] is refused (429) until the window
//! ends, before its credentials are even looked at.

use crate::domain::DeviceId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const LOG_FILE: &str = "security.log";
/// Failed authentications allowed from one address within [`WINDOW`].
pub const MAX_FAILURES: u32 = 20;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most (the oldest windows are forgotten first).
const MAX_TRACKED: usize = 100_000;

/// One security event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A bearer token that is missing, unknown, an enrolment token, or revoked.
    AuthFailed { client: IpAddr, reason: String },
    /// An enrolment token that is unknown or spent.
    LoginFailed { client: IpAddr, reason: String },
    /// A device enrolled.
    Enrolled {
        client: IpAddr,
        user: String,
        device: DeviceId,
    },
    /// A push refused: out of scope, another's author or device, invalid, too large.
    Refused {
        client: IpAddr,
        user: String,
        status: u16,
        what: String,
    },
    /// Too many failed authentications from one address.
    RateLimited { client: IpAddr },
    /// A connection closed on arrival: over a connection limit.
    ConnectionRefused { client: IpAddr, limit: String },
    /// An admin command: who ran it (the OS account), what, and on whom.
    Admin {
        by: String,
        action: String,
        subject: String,
    },
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::AuthFailed { .. } => "auth_failed",
            Event::LoginFailed { .. } => "login_failed",
            Event::Enrolled { .. } => "enrolled",
            Event::Refused { .. } => "refused",
            Event::RateLimited { .. } => "rate_limited",
            Event::ConnectionRefused { .. } => "connection_refused",
            Event::Admin { .. } => "admin",
        }
    }
}

/// One line of the log: when, and what.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    pub at: String,
    #[serde(flatten)]
    pub event: Event,
}

/// The security log of one hub data directory (the default writes nowhere:
/// in-process tests and benchmarks).
#[derive(Debug, Default)]
pub struct SecurityLog {
    file: Mutex<Option<File>>,
}

impl SecurityLog {
    /// Opens (creating, 0600) `DIR/security.log` for appending.
    pub fn open(data_dir: &Path) -> std::io::Result<SecurityLog> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(data_dir.join(LOG_FILE))?;
        Ok(SecurityLog {
            file: Mutex::new(Some(file)),
        })
    }

    pub fn path(data_dir: &Path) -> PathBuf {
        data_dir.join(LOG_FILE)
    }

    /// Appends one event as one line (one `write`, so lines from the hub and
    /// an admin command never interleave). A failure to log stops nothing.
    pub fn record(&self, event: Event) {
        let entry = Entry {
            at: chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string(),
            event,
        };
        let Ok(mut line) = serde_json::to_string(&entry) else {
            return;
        };
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = file.as_mut() {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// Reads every entry of a log; lines that are not entries are skipped (and
/// counted), so a damaged line hides nothing after it.
pub fn read(data_dir: &Path) -> std::io::Result<(Vec<Entry>, usize)> {
    let text = match std::fs::read_to_string(SecurityLog::path(data_dir)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut skipped = 0;
    let entries = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).map_err(|_| skipped += 1).ok())
        .collect();
    Ok((entries, skipped))
}

/// Counts failed authentications by address in fixed windows.
#[derive(Debug, Default)]
pub struct FailureLimiter {
    windows: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Debug)]
struct Window {
    start: Instant,
    failures: u32,
    /// Whether this window's refusal was logged (once a window, so a flood of
    /// refused requests cannot flood the log).
    logged: bool,
}

/// An address refused for now.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub wait: Duration,
    /// The first refusal in this window: the one to log.
    pub first: bool,
}

impl FailureLimiter {
    /// Ok, or how long until this address may try again.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Refused> {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        match windows.get_mut(&client) {
            Some(w) if w.failures >= MAX_FAILURES && now < w.start + WINDOW => {
                let first = !w.logged;
                w.logged = true;
                Err(Refused {
                    wait: w.start + WINDOW - now,
                    first,
                })
            }
            _ => Ok(()),
        }
    }

    /// Counts one failure from `client`.
    pub fn failed(&self, client: IpAddr, now: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if windows.len() >= MAX_TRACKED {
            windows.retain(|_, w| now < w.start + WINDOW);
        }
        let w = windows.entry(client).or_insert(Window {
            start: now,
            failures: 0,
            logged: false,
        });
        if now >= w.start + WINDOW {
            *w = Window {
                start: now,
                failures: 0,
                logged: false,
            };
        }
        w.failures = w.failures.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_stopped_after_its_failures_until_the_window_ends() {
        let l = FailureLimiter::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let t = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert!(l.check(a, t).is_ok());
            l.failed(a, t);
        }
        assert_eq!(
            l.check(a, t + Duration::from_secs(1)).map_err(|r| r.first),
            Err(true)
        );
        assert_eq!(
            l.check(a, t + Duration::from_secs(2)).map_err(|r| r.first),
            Err(false),
            "logged once a window"
        );
        assert!(l.check(b, t).is_ok(), "others are not affected");
        assert!(l.check(a, t + WINDOW).is_ok(), "the window ends");
        l.failed(a, t + WINDOW);
        assert!(l.check(a, t + WINDOW).is_ok(), "a new window starts at one");
    }

    #[test]
    fn entries_are_one_json_line_each_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let log = SecurityLog::open(dir.path()).unwrap();
        log.record(Event::AuthFailed {
            client: "127.0.0.1".parse().unwrap(),
            reason: "unknown token".into(),
        });
        log.record(Event::Admin {
            by: "root".into(),
            action: "user add".into(),
            subject: "j.smith".into(),
        });
        std::fs::OpenOptions::new()
            .append(true)
            .open(SecurityLog::path(dir.path()))
            .unwrap()
            .write_all(b"not json\n")
            .unwrap();
        let (entries, skipped) = read(dir.path()).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(skipped, 1);
        assert_eq!(entries[0].event.name(), "auth_failed");
        let mode = std::fs::metadata(SecurityLog::path(dir.path()))
            .unwrap()
            .permissions();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.mode() & 0o777, 0o600);
    }
}
