//! The caseworker's workbench: a full-screen terminal UI over one replica.
//!
//! Layout follows ratatui's component pattern: `keymap` turns keys into named
//! `action`s, `app` applies them to state (and writes through the replica),
//! `views` draw from state only. The loop below sleeps until a key (read on a
//! thread of its own), a background sync that has finished (its worker wakes
//! the loop), the auto-lock deadline or a sync due to start: no polling, no
//! busy loop, and ratatui redraws only changed cells.

pub mod action;
pub mod agenda;
pub mod app;
pub mod backend;
pub mod caseload;
pub mod dashboard;
pub mod details;
pub mod forms;
pub mod guarantee;
pub mod keymap;
pub mod queue;
pub mod returns;
pub mod session;
pub mod sync;
pub mod theme;
pub mod views;

use app::App;
use backend::CompactBackend;
use ratatui::Terminal;
use ratatui::crossterm::event::{self, Event};
use ratatui::crossterm::terminal::{self, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::crossterm::{cursor, execute};
use std::io::{self, IsTerminal, Stdout};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// What wakes the loop.
enum Wake {
    Input(Event),
    InputFailed(io::Error),
    /// A background sync finished: its answer waits to be stored.
    SyncDone,
}

/// Reads the terminal on a thread of its own, so the loop can also be woken by
/// other threads. It ends when the loop has gone.
fn read_input(tx: mpsc::Sender<Wake>) -> io::Result<()> {
    std::thread::Builder::new()
        .name("caseload-input".into())
        .spawn(move || {
            loop {
                let wake = match event::read() {
                    Ok(ev) => Wake::Input(ev),
                    Err(e) => Wake::InputFailed(e),
                };
                let failed = matches!(wake, Wake::InputFailed(_));
                if tx.send(wake).is_err() || failed {
                    return;
                }
            }
        })
        .map(drop)
}

/// Puts the terminal back as it was. Safe to call twice.
pub fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, cursor::Show);
}

/// On a panic: restore the terminal first, then say where it happened — never
/// the panic's message, which could hold a name or a note.
fn install_panic_hook(log_path: Option<std::path::PathBuf>) {
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        let location = info.location().map_or_else(
            || "unknown place".to_string(),
            |l| format!("{}:{}", l.file(), l.line()),
        );
        eprintln!(
            "caseload stopped because of an internal error (at {location}). Everything shown as saved is safe on disk; unsaved input was lost."
        );
        if let Some(p) = &log_path {
            eprintln!("The event log is at {}.", p.display());
            if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(p) {
                use std::io::Write;
                let _ = writeln!(
                    f,
                    "{} internal error at {location}",
                    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
                );
            }
        }
    }));
}

struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Runs the workbench until the user quits.
pub fn run(app: &mut App) -> io::Result<()> {
    if !io::stdout().is_terminal() {
        return Err(io::Error::other(
            "the workbench needs a terminal; for scripts use the commands listed by `caseload --help`",
        ));
    }
    install_panic_hook(app.log_path().map(|p| p.to_path_buf()));
    terminal::enable_raw_mode()?;
    let _guard = TerminalGuard;
    execute!(io::stdout(), EnterAlternateScreen)?;
    let mut terminal: Terminal<CompactBackend<Stdout>> =
        Terminal::new(CompactBackend::new(io::stdout()))?;
    clear_all(&mut terminal)?;
    let (tx, wakes) = mpsc::channel();
    read_input(tx.clone())?;
    app.sync.wake_with(Box::new(move || {
        let _ = tx.send(Wake::SyncDone);
    }));
    let mut was_unlocked = app.is_unlocked();
    loop {
        terminal.draw(|f| views::draw(f, app))?;
        if app.quit {
            break;
        }
        // Sleep until a key, a finished sync, the auto-lock, a sync due or
        // saved changes to apply when idle.
        let wake = [
            app.lock_deadline(),
            app.sync.deadline(),
            app.quiet_deadline(),
        ]
        .into_iter()
        .flatten()
        .min();
        let timeout = wake.map_or(Duration::from_secs(3600), |d| {
            d.saturating_duration_since(Instant::now())
        });
        match wakes.recv_timeout(timeout) {
            Ok(first) => {
                take(app, first)?;
                // Take whatever else is already waiting (a burst of typing over
                // SSH) before drawing again.
                while !app.quit
                    && let Ok(more) = wakes.try_recv()
                {
                    if !matches!(more, Wake::Input(Event::Resize(..))) {
                        take(app, more)?;
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        app.tick(Instant::now());
        let unlocked = app.is_unlocked();
        if was_unlocked && !unlocked {
            // Locked: repaint everything so nothing of the caseload remains.
            clear_all(&mut terminal)?;
        }
        was_unlocked = unlocked;
    }
    Ok(())
}

/// Clears the screen and forgets what was drawn, so the next frame is drawn
/// whole. (Not `Terminal::clear`: it asks the terminal where the cursor is, and
/// the answer would go to the input thread instead.)
fn clear_all(terminal: &mut Terminal<CompactBackend<Stdout>>) -> io::Result<()> {
    let area = terminal.size()?.into();
    terminal.resize(area)
}

fn take(app: &mut App, wake: Wake) -> io::Result<()> {
    match wake {
        Wake::Input(ev) => app.handle_event(&ev),
        Wake::InputFailed(e) => return Err(e),
        // Collected by the tick that follows.
        Wake::SyncDone => {}
    }
    Ok(())
}
