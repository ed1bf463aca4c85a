//! Workbench benchmarks at Kent's scale (52,500 young people). A bench command
//! rather than criterion, because the figures asked for are a p99 and byte counts.
//!
//! - keystroke-to-frame: for each key typed into a caseload search, the time
//!   from the key event to the frame written (handling, fuzzy search over
//!   everyone, drawing at 80×24 into a crossterm backend). Goal p99 ≤ 10 ms.
//! - bytes written to the terminal when the selection moves one row (goal ≤ 90 B
//!   median) and for a full repaint at 80×24 (goal ≤ 2.5 KB), by the workbench's
//!   own backend (`tui::backend::CompactBackend`), beside ratatui's crossterm
//!   backend and the floor — the bytes of the characters that changed, with no
//!   escape sequence at all — measured in the same run.
//! - saving a contact attempt: "phone, no answer" logged from the caseload
//!   list in three keys (`c`, `n`, Enter), timed from the Enter to the frame
//!   written — the durable commit, the list recomputed over everyone and the
//!   frame: what a tracking officer waits for between calls.
//! - changing the sort (`s`), key to frame: the list filtered and sorted whole
//!   over everyone, what a save cost before it moved only the people changed.
//!
//! Run: `cargo bench --bench tui` (CASELOAD_BENCH_PEOPLE to change the size).

mod common;

use caseload::config::Config;
use caseload::logfile::Log;
use caseload::tui::app::{App, Session};
use caseload::tui::backend::CompactBackend;
use caseload::tui::keymap::Keymap;
use caseload::tui::theme::Theme;
use caseload::tui::views;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// A terminal that counts the bytes written to it.
#[derive(Clone, Default)]
struct Counter(Rc<Cell<usize>>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.set(self.0.get() + buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn key(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// "n=… median … p95 … p99 … max …" of sorted timings.
fn spread(sorted: &[Duration]) -> String {
    format!(
        "n={} median {:.2?} p95 {:.2?} p99 {:.2?} max {:.2?}",
        sorted.len(),
        percentile(sorted, 0.5),
        percentile(sorted, 0.95),
        percentile(sorted, 0.99),
        sorted[sorted.len() - 1]
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` asks benches to list themselves
    }
    let people = common::people();
    let tmp = tempfile::tempdir().expect("tempdir");
    let built = Instant::now();
    let replica = common::build_store(&tmp.path().join("store"), people);
    eprintln!("built a store of {people} in {:.1?}", built.elapsed());
    let mut app = App::new(
        Session::Unlocked(Box::new(replica)),
        Config::default(),
        Keymap::builtin_default(),
        Theme::sixteen(),
        caseload::clock::Clock::on_day(common::today()),
        Log::default(),
    );
    let fixed = ratatui::TerminalOptions {
        viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 80, 24)),
    };
    let counter = Counter::default();
    let mut terminal = Terminal::with_options(
        CompactBackend::with_size(counter.clone(), 80, 24),
        fixed.clone(),
    )
    .expect("terminal");
    let crossterm_counter = Counter::default();
    let mut crossterm =
        Terminal::with_options(CrosstermBackend::new(crossterm_counter.clone()), fixed)
            .expect("terminal");
    // Each frame drawn by both backends; the floor is the changed text alone.
    let mut previous = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, 80, 24));
    let mut frame = |app: &App| -> [usize; 3] {
        counter.0.set(0);
        crossterm_counter.0.set(0);
        let drawn = terminal.draw(|f| views::draw(f, app)).expect("draw");
        let floor: usize = previous
            .diff(drawn.buffer)
            .iter()
            .map(|(_, _, c)| c.symbol().len())
            .sum();
        previous = drawn.buffer.clone();
        crossterm.draw(|f| views::draw(f, app)).expect("draw");
        [counter.0.get(), crossterm_counter.0.get(), floor]
    };

    // Full repaint at 80x24.
    let full = frame(&app);

    // Moving the selection one row.
    let mut moves = Vec::new();
    for i in 0..400 {
        key(
            &mut app,
            if (i / 100) % 2 == 0 {
                KeyCode::Down
            } else {
                KeyCode::Up
            },
        );
        moves.push(frame(&app));
    }
    let median = |i: usize| {
        let mut v: Vec<usize> = moves.iter().map(|m| m[i]).collect();
        v.sort_unstable();
        (v[v.len() / 2], v[v.len() - 1])
    };
    let (move_median, move_max) = median(0);
    let (crossterm_median, _) = median(1);
    let (floor_median, _) = median(2);
    // The same moves with NO_COLOR (the mono theme).
    app.theme = Theme::mono();
    frame(&app);
    let mut mono_moves: Vec<usize> = (0..100)
        .map(|i| {
            key(&mut app, if i < 50 { KeyCode::Down } else { KeyCode::Up });
            frame(&app)[0]
        })
        .collect();
    mono_moves.sort_unstable();
    app.theme = Theme::sixteen();
    frame(&app);

    // Typing searches: each key handled, searched and drawn.
    let queries = [
        "smith",
        "khan",
        "07700 9001",
        "me14",
        "olivia",
        "taylor j",
        "ct9",
        "a886",
        "smth",
        "olvia tylr",
        "jnes",
    ];
    let mut latencies = Vec::new();
    for round in 0..12 {
        for q in queries {
            key(&mut app, KeyCode::Char('/'));
            terminal.draw(|f| views::draw(f, &app)).expect("draw");
            for c in q.chars() {
                let t = Instant::now();
                key(&mut app, KeyCode::Char(c));
                let handled = t.elapsed();
                terminal.draw(|f| views::draw(f, &app)).expect("draw");
                latencies.push(t.elapsed());
                if std::env::var_os("PROBE").is_some() {
                    eprintln!(
                        "{c:?} handle {handled:.2?} total {:.2?} rows {}",
                        t.elapsed(),
                        app.caseload.rows.len()
                    );
                }
            }
            if round % 2 == 0 {
                // Backspacing widens the search again: the slow direction.
                for _ in 0..q.len() {
                    let t = Instant::now();
                    key(&mut app, KeyCode::Backspace);
                    terminal.draw(|f| views::draw(f, &app)).expect("draw");
                    latencies.push(t.elapsed());
                }
            }
            key(&mut app, KeyCode::Esc);
            terminal.draw(|f| views::draw(f, &app)).expect("draw");
        }
    }
    latencies.sort_unstable();

    // Saving an attempt: from the Enter to the frame, one person after another.
    let before = app.caseload.rows.len();
    let mut saves = Vec::new();
    for _ in 0..100 {
        key(&mut app, KeyCode::Char('c'));
        key(&mut app, KeyCode::Char('n'));
        terminal.draw(|f| views::draw(f, &app)).expect("draw");
        let t = Instant::now();
        key(&mut app, KeyCode::Enter);
        terminal.draw(|f| views::draw(f, &app)).expect("draw");
        saves.push(t.elapsed());
        assert!(app.overlay.is_none(), "the attempt was saved");
        key(&mut app, KeyCode::Down);
    }
    assert_eq!(app.caseload.rows.len(), before);
    saves.sort_unstable();

    // The list made whole: each turn of the sort, seven times round, twice.
    let mut sorts = Vec::new();
    for _ in 0..14 {
        let t = Instant::now();
        key(&mut app, KeyCode::Char('s'));
        terminal.draw(|f| views::draw(f, &app)).expect("draw");
        sorts.push(t.elapsed());
    }
    sorts.sort_unstable();

    let _ = std::io::stdout().flush();
    println!("workbench benchmarks, {people} young people, 80x24, 16-colour theme");
    println!(
        "keystroke-to-frame while searching: {} (goal p99 <= 10 ms)",
        spread(&latencies)
    );
    println!(
        "bytes to move the selection one row: median {move_median} B (max {move_max} B over {} moves); crossterm backend {crossterm_median} B; floor (changed text alone) {floor_median} B; ratio to the floor {:.2} (goal median <= 90 B)",
        moves.len(),
        move_median as f64 / floor_median.max(1) as f64
    );
    println!(
        "bytes for a full repaint at 80x24: {} B; crossterm backend {} B; floor (the text alone) {} B; ratio to the floor {:.2} (goal <= 2.5 KB)",
        full[0],
        full[1],
        full[2],
        full[0] as f64 / full[2].max(1) as f64
    );
    println!(
        "NO_COLOR (mono theme): one-row move median {} B",
        mono_moves[mono_moves.len() / 2]
    );
    println!(
        "saving a contact attempt from the list, Enter to frame: {}",
        spread(&saves)
    );
    println!(
        "changing the sort (the list made whole), key to frame: n={} median {:.2?} max {:.2?}",
        sorts.len(),
        percentile(&sorts, 0.5),
        sorts[sorts.len() - 1]
    );
}
