//! Background sync for the workbench. The network part runs on a worker
//! thread so typing never waits for the hub; reading the outbox before and
//! storing the answer after happen on the UI thread, against the one replica.
//! Offline is normal: it is shown, not reported as an error.

use crate::link::{self, Incoming, SyncError, SyncReport};
use crate::replica::Replica;
use chrono::NaiveDate;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::{Duration, Instant};

/// How often to look for the hub again after it could not be reached.
const OFFLINE_RETRY: Duration = Duration::from_secs(60);

/// What the status bar says about sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncHealth {
    /// This store is not linked to a hub (`caseload login`).
    NotLinked,
    /// Linked; the last attempt worked (or none has been made yet).
    Ready,
    Running,
    /// The hub could not be reached: changes wait; nothing is wrong.
    Offline,
    /// The hub refused, or the answer could not be stored: in plain words.
    Failed(String),
}

pub struct SyncState {
    pub health: SyncHealth,
    /// When the last sync that completed finished (hub-link time, ms since 1970).
    pub last_ok_millis: Option<u64>,
    /// Changes recorded here and not yet acknowledged by the hub.
    pub waiting: usize,
    every: Duration,
    next_due: Option<Instant>,
    in_flight: Option<Receiver<Result<Incoming, SyncError>>>,
    /// Called by the worker once its answer is ready: wakes the loop.
    waker: Option<Waker>,
}

/// Wakes the workbench's loop (from any thread).
pub type Waker = std::sync::Arc<dyn Fn() + Send + Sync>;

/// What a finished background sync changed, for the app to refresh its views.
pub enum SyncOutcome {
    Done(SyncReport),
    Offline,
    Failed(String),
}

impl SyncState {
    /// `every_minutes` = 0 turns background sync off (the sync key still works).
    pub fn new(every_minutes: u32) -> Self {
        Self {
            health: SyncHealth::NotLinked,
            last_ok_millis: None,
            waiting: 0,
            every: Duration::from_secs(u64::from(every_minutes) * 60),
            next_due: None,
            in_flight: None,
            waker: None,
        }
    }

    /// How a finished sync wakes the loop; without one, the loop must look
    /// (`deadline` asks it to, every 200 ms while a sync runs).
    pub fn wake_with(&mut self, waker: Box<dyn Fn() + Send + Sync>) {
        self.waker = Some(std::sync::Arc::from(waker));
    }

    /// Reads the link and the outbox size (after unlocking, or a change here).
    pub fn observe(&mut self, replica: &Replica, now: Instant) {
        self.waiting = replica.store().outbox_len().unwrap_or(self.waiting);
        match link::link(replica) {
            Ok(Some(link)) => {
                self.last_ok_millis = link.last_sync_millis;
                if self.health == SyncHealth::NotLinked {
                    self.health = SyncHealth::Ready;
                    // Soon after unlocking, then every few minutes.
                    if !self.every.is_zero() {
                        self.next_due = Some(now + Duration::from_secs(2));
                    }
                }
            }
            _ => {
                self.health = SyncHealth::NotLinked;
                self.next_due = None;
            }
        }
    }

    pub fn is_running(&self) -> bool {
        self.in_flight.is_some()
    }

    /// When the loop should wake for sync: to start one, or to collect one.
    pub fn deadline(&self) -> Option<Instant> {
        match (&self.in_flight, &self.waker) {
            // The worker wakes the loop when it is done.
            (Some(_), Some(_)) => None,
            (Some(_), None) => Some(Instant::now() + Duration::from_millis(200)),
            (None, _) => self.next_due,
        }
    }

    pub fn is_due(&self, now: Instant) -> bool {
        self.in_flight.is_none() && self.next_due.is_some_and(|d| now >= d)
    }

    /// Starts a sync on a worker thread. Returns why not, if it cannot.
    pub fn start(&mut self, replica: &Replica) -> Result<(), String> {
        if self.in_flight.is_some() {
            return Err("a sync is already running".into());
        }
        let outgoing = link::prepare(replica).map_err(|e| e.to_string())?;
        let (tx, rx) = mpsc::channel();
        let waker = self.waker.clone();
        std::thread::Builder::new()
            .name("caseload-sync".into())
            .spawn(move || {
                let _ = tx.send(link::exchange(outgoing));
                if let Some(wake) = waker {
                    wake();
                }
            })
            .map_err(|e| format!("cannot start sync: {e}"))?;
        self.in_flight = Some(rx);
        self.next_due = None;
        self.health = SyncHealth::Running;
        Ok(())
    }

    /// Stores the answer of a finished sync, if one has come back.
    pub fn collect(&mut self, replica: &mut Replica, now: Instant) -> Option<SyncOutcome> {
        let rx = self.in_flight.as_ref()?;
        let result = match rx.try_recv() {
            Err(TryRecvError::Empty) => return None,
            Ok(r) => r,
            Err(TryRecvError::Disconnected) => Err(SyncError::Protocol("sync stopped".into())),
        };
        self.in_flight = None;
        let outcome = match result.and_then(|incoming| link::finish(replica, incoming)) {
            Ok(report) => {
                self.health = SyncHealth::Ready;
                if report.more {
                    // The hub has more pages of this pull: fetch the next at once.
                    self.next_due = Some(now);
                } else {
                    self.schedule(now, self.every);
                }
                SyncOutcome::Done(report)
            }
            Err(SyncError::Unreachable(_)) => {
                self.health = SyncHealth::Offline;
                self.schedule(now, OFFLINE_RETRY.min(self.every));
                SyncOutcome::Offline
            }
            Err(e) => {
                let words = e.to_string();
                self.health = SyncHealth::Failed(words.clone());
                self.schedule(now, self.every);
                SyncOutcome::Failed(words)
            }
        };
        self.observe(replica, now);
        Some(outcome)
    }

    /// Forgets a sync in flight (the store was locked): its pushes are
    /// idempotent and its pull is asked for again next time.
    pub fn abandon(&mut self) {
        self.in_flight = None;
        if self.health == SyncHealth::Running {
            self.health = SyncHealth::Ready;
        }
    }

    fn schedule(&mut self, now: Instant, after: Duration) {
        self.next_due = (!self.every.is_zero()).then(|| now + after);
    }

    /// The status bar's words: never colour alone. Times are clock times
    /// ("synced 14:02"), so they stay true while the screen sits idle.
    pub fn summary(&self, today: NaiveDate) -> Option<String> {
        let waiting = match self.waiting {
            0 => String::new(),
            n => format!(" · {n} waiting"),
        };
        let last = self.last_ok_millis.map_or_else(
            || "not synced yet".to_string(),
            |m| format!("synced {}", clock_time(m, today)),
        );
        Some(match &self.health {
            SyncHealth::NotLinked => return None,
            SyncHealth::Ready => format!("{last}{waiting}"),
            SyncHealth::Running => format!("syncing…{waiting}"),
            SyncHealth::Offline => format!("offline, {last}{waiting}"),
            SyncHealth::Failed(_) => format!("sync failed{waiting}"),
        })
    }
}

/// "14:02" today, "21/11 14:02" another day (local time).
fn clock_time(millis: u64, today: NaiveDate) -> String {
    let Some(utc) = chrono::DateTime::from_timestamp_millis(millis as i64) else {
        return "?".into();
    };
    let local = utc.with_timezone(&chrono::Local).naive_local();
    if local.date() == today {
        local.format("%H:%M").to_string()
    } else {
        local.format("%d/%m %H:%M").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_words_say_what_is_going_on() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let at = |d: u32, h: u32, m: u32| {
            NaiveDate::from_ymd_opt(2026, 11, d)
                .unwrap()
                .and_hms_opt(h, m, 0)
                .unwrap()
                .and_local_timezone(chrono::Local)
                .unwrap()
                .timestamp_millis() as u64
        };
        let mut s = SyncState::new(5);
        assert_eq!(s.summary(today), None, "not linked: nothing to say");
        s.health = SyncHealth::Ready;
        assert_eq!(s.summary(today).as_deref(), Some("not synced yet"));
        s.last_ok_millis = Some(at(23, 14, 2));
        s.waiting = 3;
        assert_eq!(
            s.summary(today).as_deref(),
            Some("synced 14:02 · 3 waiting")
        );
        s.health = SyncHealth::Offline;
        s.waiting = 0;
        s.last_ok_millis = Some(at(21, 9, 30));
        assert_eq!(
            s.summary(today).as_deref(),
            Some("offline, synced 21/11 09:30")
        );
        s.health = SyncHealth::Failed("the hub refused".into());
        assert_eq!(s.summary(today).as_deref(), Some("sync failed"));
        s.health = SyncHealth::Running;
        s.waiting = 1;
        assert_eq!(s.summary(today).as_deref(), Some("syncing… · 1 waiting"));
    }
}
