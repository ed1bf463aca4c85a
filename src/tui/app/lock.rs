//! The session over time: unlocking, locking (by key or when idle), and the
//! background sync's results.

use super::*;
use crate::store::encrypted::{LockedStore, NotReopened};

/// How long the keyboard is quiet before saved changes are applied to the
/// database (a typist's pause between keys is shorter).
const SETTLE_AFTER_QUIET: Duration = Duration::from_millis(400);

impl App {
    /// Unlocks with a passphrase given some other way (CASELOAD_PASSPHRASE).
    pub fn unlock_with(&mut self, passphrase: &str) {
        let step = self.session.unlock_with(passphrase);
        self.after_lock_step(step);
    }

    pub(super) fn after_lock_step(&mut self, step: LockStep) {
        match step {
            LockStep::Stay => {}
            LockStep::Quit => self.quit = true,
            LockStep::Refused(event) => self.log.event(event),
            LockStep::Unlocked {
                replica,
                problems,
                event,
            } => {
                self.startup_problems.extend(problems);
                self.session = Session::Unlocked(replica);
                self.log.event(event);
                self.on_unlocked();
                return_freed_memory();
                // sled keeps the summary pages unlocking read (11 MB for
                // 52,500 people) until the database is closed.
                self.reopen_database = true;
            }
        }
    }

    /// Locks: the data key and every decrypted record leave memory; an unsaved
    /// form stays, to be finished after unlocking.
    pub fn lock(&mut self, why: &str) {
        if let Some(replica) = self.take_replica() {
            self.locked(replica.into_store().relock(), None, why);
        }
    }

    /// The replica, taken out of the session to be closed or reopened; a
    /// session not unlocked is left as it was.
    fn take_replica(&mut self) -> Option<Box<Replica>> {
        match std::mem::replace(&mut self.session, Session::Switching) {
            Session::Unlocked(replica) => Some(replica),
            other => {
                self.session = other;
                None
            }
        }
    }

    /// The store locked, with why if it was not asked for: everything
    /// decrypted is dropped.
    fn locked(&mut self, store: LockedStore, error: Option<String>, why: &str) {
        return_freed_memory();
        self.session = Session::Locked {
            store,
            input: Input::default(),
            error,
        };
        self.sync.abandon();
        self.person = None;
        self.queue.pane = None;
        self.dashboard = None;
        self.returns = None;
        self.agenda.clear();
        self.needs = NeedsUpdate::all();
        self.status = None;
        self.messages.clear();
        // The details form holds the record's own details, not just what was typed.
        if let Some(
            Overlay::Help { .. }
            | Overlay::Messages { .. }
            | Overlay::Palette(_)
            | Overlay::Details(_),
        ) = self.overlay
        {
            self.overlay = None;
        }
        self.log.event(why);
    }

    /// Auto-lock after the configured idle time; start and collect syncs.
    pub fn tick(&mut self, now: Instant) {
        if let Some(deadline) = self.lock_deadline()
            && now >= deadline
        {
            self.lock("locked after idle time");
        }
        self.tick_sync(now);
        self.when_quiet(now);
    }

    /// When the keyboard has been quiet a moment: commits held only by the
    /// commit log (durable already) are applied to the database, off the
    /// caseworker's next save; and after unlocking or making the returns,
    /// the database is closed and opened again (which applies them too), to
    /// hand back the pages sled keeps of what was read.
    fn when_quiet(&mut self, now: Instant) {
        if self.quiet_deadline().is_none_or(|due| now < due) {
            return;
        }
        if std::mem::take(&mut self.reopen_database) {
            self.reopen_database();
            return;
        }
        let Some(replica) = self.replica() else {
            return;
        };
        if let Err(e) = replica.store().settle() {
            self.set_status(
                StatusKind::Error,
                format!("Saved, but the database could not take it in yet: {e}"),
            );
        }
    }

    /// When `when_quiet` is next due, if anything waits for it.
    pub fn quiet_deadline(&self) -> Option<Instant> {
        let replica = self.replica()?;
        (self.reopen_database || replica.store().has_unapplied())
            .then(|| self.last_input + SETTLE_AFTER_QUIET)
    }

    /// Closes the database and opens it again (`Replica::with_database_reopened`):
    /// about 40 ms for 52,500 people, while the keyboard is quiet. If it will not open again,
    /// the store is locked with the reason; everything saved is durable.
    fn reopen_database(&mut self) {
        let Some(replica) = self.take_replica() else {
            return;
        };
        match replica.with_database_reopened() {
            Ok(replica) => {
                self.session = Session::Unlocked(Box::new(replica));
                return_freed_memory();
            }
            Err(not) => {
                let NotReopened { error: e, store } = *not;
                let why =
                    format!("The database could not be opened again, so caseload locked: {e}");
                self.locked(
                    store,
                    Some(why),
                    "locked: the database could not be opened again",
                );
            }
        }
    }

    pub(super) fn tick_sync(&mut self, now: Instant) {
        let Session::Unlocked(replica) = &mut self.session else {
            return;
        };
        if let Some(outcome) = self.sync.collect(replica, now) {
            let asked = std::mem::take(&mut self.sync_requested);
            match outcome {
                SyncOutcome::Done(r) => {
                    self.log.event(&format!(
                        "sync: {} sent, {} received, {} left scope",
                        r.pushed, r.pulled, r.removed
                    ));
                    if r.pulled > 0 || r.removed > 0 {
                        self.after_sync();
                    }
                    if asked || r.removed > 0 {
                        self.set_status(
                            StatusKind::Info,
                            format!(
                                "Synced: {} sent, {} received{}",
                                r.pushed,
                                r.pulled,
                                match r.removed {
                                    0 => String::new(),
                                    n => format!(", {n} no longer in your caseload"),
                                }
                            ),
                        );
                    }
                }
                SyncOutcome::Offline => {
                    self.log.event("sync: hub not reachable");
                    if asked {
                        self.set_status(
                            StatusKind::Info,
                            // Short: at 80 columns it shares the line with the sync state.
                            "Hub not reachable; changes kept",
                        );
                    }
                }
                SyncOutcome::Failed(words) => {
                    self.log.event("sync: failed");
                    self.set_status(StatusKind::Error, format!("Sync: {words}"));
                }
            }
        } else if self.sync.is_due(now) {
            self.start_sync(false);
        }
    }

    pub(super) fn start_sync(&mut self, asked: bool) {
        let Session::Unlocked(replica) = &self.session else {
            return;
        };
        if self.sync.health == SyncHealth::NotLinked {
            self.set_status(
                StatusKind::Info,
                "Not linked to a hub: run `caseload login HUB_URL` once to sync",
            );
            return;
        }
        let started = self.sync.start(replica);
        match started {
            Ok(()) => self.sync_requested = asked,
            Err(why) if asked => self.set_status(StatusKind::Info, why),
            Err(_) => {}
        }
    }

    /// Ops from the hub changed what the screens show.
    pub(super) fn after_sync(&mut self) {
        self.needs |= NeedsUpdate::RECORDS | NeedsUpdate::QUEUE_PANE;
        self.refresh_screen();
    }

    /// When auto-lock will fire, if it will.
    pub fn lock_deadline(&self) -> Option<Instant> {
        let minutes = self.config.ui.idle_lock_minutes;
        (self.is_unlocked() && minutes > 0)
            .then(|| self.last_input + Duration::from_secs(u64::from(minutes) * 60))
    }
}

/// Hands back to the system the memory the workbench freed (after unlocking:
/// each page's plaintext, the decoding threads' scratch; after locking: every
/// decrypted record), which glibc otherwise keeps for reuse: 4.6 MB of the
/// 69.6 MB resident after unlocking 52,500 people, in 0.5 ms. Not in
/// `Replica::open`: a command's process ends soon anyway, and unlocking again
/// in one process then pays the page faults a fresh process pays (the unlock
/// bench, which unlocks over and over: 58 → 75 ms; docs/benchmarks.md).
fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it only releases free pages of
    // the allocator's own heaps.
    unsafe {
        libc::malloc_trim(0);
    }
}
