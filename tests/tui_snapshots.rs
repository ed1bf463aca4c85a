//! Every screen, drawn from real state over a real (demo) store with ratatui's
//! TestBackend, at 80×24 and 160×48, without colour (NO_COLOR) and with the
//! 16-colour theme (the colour snapshots list every styled run).

use caseload::clock::Clock;
use caseload::config::Config;
use caseload::demo::{DemoCohort, DemoSpec};
use caseload::domain::WorkerId;
use caseload::logfile::Log;
use caseload::replica::Replica;
use caseload::store::Origin;
use caseload::store::crypto::KdfParams;
use caseload::store::encrypted::LockedStore;
use caseload::tui::action::Action;
use caseload::tui::app::{App, Session};
use caseload::tui::keymap::Keymap;
use caseload::tui::theme::Theme;
use caseload::tui::views;
use chrono::NaiveDate;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Modifier, Style};
use std::path::Path;

const FAST: KdfParams = KdfParams::LEAST;
const PASS: &[u8] = b"snapshot passphrase";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

fn demo_store(dir: &Path) -> Replica {
    let mut r = Replica::init(dir, PASS, WorkerId::new("demo.officer"), FAST).unwrap();
    let ops: Vec<_> = DemoCohort::new(DemoSpec {
        people: 300,
        seed: 2015,
        today: today(),
    })
    .flatten()
    .collect();
    r.commit(&ops, Origin::Remote).unwrap();
    r
}

fn app(session: Session, theme: Theme) -> App {
    App::new(
        session,
        Config::default(),
        Keymap::builtin_default(),
        theme,
        Clock::on_day(today()),
        Log::default(),
    )
}

fn key(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// The screen as text, then (for colour) every run of non-default style.
fn render(app: &App, w: u16, h: u16, colour: bool, store: &Path) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| views::draw(f, app)).unwrap();
    let buf: &Buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if colour {
        out.push_str("--- styles ---\n");
        for y in 0..h {
            let mut x = 0;
            while x < w {
                let style = buf[(x, y)].style();
                let start = x;
                while x < w && buf[(x, y)].style() == style {
                    x += 1;
                }
                if style != Style::default() {
                    out.push_str(&format!(
                        "y{y} x{start}-{}: fg={:?} bg={:?} mod={:?}\n",
                        x - 1,
                        style.fg,
                        style.bg,
                        style.add_modifier
                    ));
                }
            }
        }
    }
    out.replace(&store.display().to_string(), "<STORE>")
}

/// Snapshots one state at both sizes, with and without colour.
fn snap(name: &str, make: &dyn Fn(Theme) -> (App, tempfile::TempDir, std::path::PathBuf)) {
    for (colour, theme) in [(false, Theme::mono()), (true, Theme::sixteen())] {
        let (app, _tmp, store) = make(theme);
        for (w, h) in [(80u16, 24u16), (160, 48)] {
            let text = render(&app, w, h, colour, &store);
            let id = format!("{name}_{w}x{h}_{}", if colour { "colour" } else { "mono" });
            insta::assert_snapshot!(id, text);
        }
    }
}

fn unlocked(theme: Theme) -> (App, tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    let r = demo_store(&dir);
    (app(Session::Unlocked(Box::new(r)), theme), tmp, dir)
}

fn with(
    actions: &'static [Action],
    text: &'static str,
) -> impl Fn(Theme) -> (App, tempfile::TempDir, std::path::PathBuf) {
    move |theme| {
        let (mut a, tmp, dir) = unlocked(theme);
        for act in actions {
            a.apply(*act);
        }
        typed(&mut a, text);
        (a, tmp, dir)
    }
}

#[test]
fn lock_screen() {
    snap("lock", &|theme| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("store");
        drop(demo_store(&dir));
        let store = LockedStore::open(&dir).unwrap();
        let mut a = app(
            Session::Locked {
                store,
                input: Default::default(),
                error: None,
            },
            theme,
        );
        typed(&mut a, "secret");
        (a, tmp, dir)
    });
}

#[test]
fn wrong_passphrase() {
    snap("wrong_passphrase", &|theme| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("store");
        drop(demo_store(&dir));
        let store = LockedStore::open(&dir).unwrap();
        let mut a = app(
            Session::Locked {
                store,
                input: Default::default(),
                error: None,
            },
            theme,
        );
        a.unlock_with("not it");
        (a, tmp, dir)
    });
}

#[test]
fn create_screen() {
    snap("create", &|theme| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("store");
        let mut a = app(
            Session::Create {
                dir: dir.clone(),
                first: Default::default(),
                second: Default::default(),
                on_second: false,
                error: None,
            },
            theme,
        );
        typed(&mut a, "short");
        key(&mut a, KeyCode::Enter);
        typed(&mut a, "short");
        key(&mut a, KeyCode::Enter);
        (a, tmp, dir)
    });
}

#[test]
fn caseload() {
    snap("caseload", &with(&[], ""));
}

#[test]
fn caseload_filtered() {
    snap(
        "caseload_filtered",
        &with(
            &[Action::FilterStatus, Action::FilterStatus, Action::SortNext],
            "",
        ),
    );
}

#[test]
fn caseload_search() {
    snap("caseload_search", &with(&[Action::Search], "khan"));
}

#[test]
fn person() {
    snap(
        "person",
        &with(
            &[Action::FilterStatus, Action::FilterStatus, Action::Open],
            "",
        ),
    );
}

#[test]
fn paging_down_a_record_stops_at_its_end() {
    let (mut a, _tmp, dir) = with(
        &[Action::FilterStatus, Action::FilterStatus, Action::Open],
        "",
    )(Theme::mono());
    let top = render(&a, 80, 24, false, &dir);
    for _ in 0..10 {
        a.apply(Action::PageDown);
        render(&a, 80, 24, false, &dir);
    }
    let end = render(&a, 80, 24, false, &dir);
    assert_ne!(end, top, "the record is longer than a screen");
    assert!(end.contains("Notes ("), "its last section shows:\n{end}");
    a.apply(Action::PageDown);
    assert_eq!(render(&a, 80, 24, false, &dir), end, "no further");
    // One page back up from the end, not from beyond it.
    a.apply(Action::PageUp);
    assert_ne!(render(&a, 80, 24, false, &dir), end);
}

#[test]
fn messages() {
    // Two messages: "not linked" (too long for 80 columns beside the keys)
    // and a save; the overlay shows both whole, newest first.
    snap(
        "messages",
        &with(
            &[
                Action::Sync,
                Action::Open,
                Action::LogContact,
                Action::OutcomeNoAnswer,
                Action::Submit,
                Action::Messages,
            ],
            "",
        ),
    );
}

#[test]
fn a_long_message_comes_before_the_key_hints() {
    snap("long_message", &with(&[Action::Sync], ""));
}

#[test]
fn contact_form() {
    snap(
        "contact_form",
        &with(
            &[
                Action::FilterStatus,
                Action::FilterStatus,
                Action::Open,
                Action::LogContact,
                Action::ChannelText,
                Action::OutcomeSentNoReply,
            ],
            "Sent the open day dates",
        ),
    );
}

#[test]
fn contact_form_answering_your_follow_up() {
    snap("contact_form_answering", &|theme| {
        let (mut a, tmp, dir) = unlocked(theme);
        for act in [
            Action::Open,
            Action::LogContact,
            Action::OutcomeNoAnswer,
            Action::NextField,
        ] {
            a.apply(act);
        }
        typed(&mut a, "today");
        a.apply(Action::Submit);
        a.apply(Action::LogContact);
        (a, tmp, dir)
    });
}

#[test]
fn offer_form() {
    snap(
        "offer_form",
        &with(
            &[
                Action::Open,
                Action::RecordOffer,
                Action::NextField,
                Action::Down,
                Action::NextField,
            ],
            "East Kent College",
        ),
    );
}

#[test]
fn details_form() {
    snap(
        "details_form",
        &with(
            &[
                Action::Open,
                Action::EditDetails,
                Action::Down,
                Action::Down,
            ],
            "",
        ),
    );
}

#[test]
fn details_form_after_a_wrong_number() {
    snap(
        "details_form_wrong_number",
        &with(
            &[
                Action::Open,
                Action::LogContact,
                Action::ChannelPhone,
                Action::OutcomeWrongNumber,
                Action::Submit,
                Action::ClearField,
            ],
            "07700 900999",
        ),
    );
}

#[test]
fn destination_form() {
    snap(
        "destination_form",
        &with(&[Action::Open, Action::RecordDestination], ""),
    );
}

#[test]
fn contact_form_error() {
    snap(
        "contact_form_error",
        &with(&[Action::Open, Action::LogContact, Action::Submit], ""),
    );
}

#[test]
fn activity_picker() {
    snap(
        "activity_picker",
        &with(&[Action::Open, Action::SetActivity], "appr"),
    );
}

#[test]
fn rating_form() {
    snap(
        "rating_form",
        &with(
            &[
                Action::FilterStatus,
                Action::FilterStatus,
                Action::Open,
                Action::RateRisk,
                Action::RagRed,
            ],
            "Dropped out of college",
        ),
    );
}

#[test]
fn note_form() {
    snap(
        "note_form",
        &with(
            &[Action::Open, Action::AddNote],
            "Mum says he starts at Tesco on Monday",
        ),
    );
}

#[test]
fn retract_form() {
    snap(
        "retract_form",
        &with(
            &[
                Action::Open,
                Action::LogContact,
                Action::OutcomeNoAnswer,
                Action::Submit,
                Action::Undo,
            ],
            "",
        ),
    );
}

#[test]
fn agenda() {
    snap("agenda", &with(&[Action::GoAgenda], ""));
}

#[test]
fn queue() {
    snap("queue", &with(&[Action::GoQueue], ""));
}

#[test]
fn dashboard() {
    snap("dashboard", &with(&[Action::GoDashboard], ""));
}

#[test]
fn returns() {
    snap("returns", &with(&[Action::GoReturns], ""));
}

#[test]
fn help() {
    snap("help", &with(&[Action::Help], ""));
}

#[test]
fn palette() {
    snap("palette", &with(&[Action::Palette], "queue"));
}

#[test]
fn too_small_is_a_message_not_a_panic() {
    let (a, _tmp, dir) = unlocked(Theme::mono());
    for (w, h) in [(79u16, 24u16), (80, 23), (20, 5), (1, 1)] {
        let text = render(&a, w, h, false, &dir);
        assert!(text.contains("Terminal") || w < 12, "{w}x{h}: {text}");
    }
    insta::assert_snapshot!("too_small_60x20", render(&a, 60, 20, false, &dir));
}

#[test]
fn caseload_offline_with_changes_waiting() {
    use caseload::tui::sync::SyncHealth;
    snap("caseload_offline", &|theme| {
        let (mut a, tmp, dir) = unlocked(theme);
        // As after a sync that found no hub: the state, not the network, is drawn.
        a.sync.health = SyncHealth::Offline;
        a.sync.waiting = 3;
        a.sync.last_ok_millis = Some(
            today()
                .and_hms_opt(9, 41, 0)
                .unwrap()
                .and_local_timezone(chrono::Local)
                .unwrap()
                .timestamp_millis() as u64,
        );
        (a, tmp, dir)
    });
}

/// The colour a terminal emulator reports for one of ratatui's.
fn emulated(c: ratatui::style::Color) -> vt100::Color {
    use ratatui::style::Color as C;
    let named = [
        C::Black,
        C::Red,
        C::Green,
        C::Yellow,
        C::Blue,
        C::Magenta,
        C::Cyan,
        C::Gray,
        C::DarkGray,
        C::LightRed,
        C::LightGreen,
        C::LightYellow,
        C::LightBlue,
        C::LightMagenta,
        C::LightCyan,
        C::White,
    ];
    match c {
        C::Reset => vt100::Color::Default,
        C::Indexed(i) => vt100::Color::Idx(i),
        C::Rgb(r, g, b) => vt100::Color::Rgb(r, g, b),
        named_colour => {
            vt100::Color::Idx(named.iter().position(|n| *n == named_colour).unwrap() as u8)
        }
    }
}

#[test]
fn the_compact_backend_draws_exactly_the_buffer_frame_after_frame() {
    use caseload::tui::backend::CompactBackend;
    for theme in [Theme::sixteen(), Theme::mono(), Theme::high_contrast()] {
        let (mut a, _tmp, _dir) = unlocked(theme);
        let mut terminal = Terminal::new(CompactBackend::with_size(Vec::new(), 80, 24)).unwrap();
        let size = |n| std::num::NonZeroU16::new(n).unwrap();
        let mut screen = vt100::Parser::new(size(24), size(80), 0);
        let steps: &[Option<Action>] = &[
            None,
            Some(Action::Down),
            Some(Action::Down),
            Some(Action::FilterStatus),
            Some(Action::Open),
            Some(Action::PageDown),
            Some(Action::LogContact),
            Some(Action::OutcomeNoAnswer),
            Some(Action::Back),
            Some(Action::Back),
            Some(Action::GoDashboard),
            Some(Action::GoAgenda),
            Some(Action::GoQueue),
            Some(Action::Help),
            Some(Action::Back),
            Some(Action::GoCaseload),
        ];
        for (i, step) in steps.iter().enumerate() {
            if let Some(act) = step {
                a.apply(*act);
            }
            let frame = terminal.draw(|f| views::draw(f, &a)).unwrap();
            let buffer = frame.buffer.clone();
            let bytes = std::mem::take(terminal.backend_mut().writer_mut());
            screen.process(&bytes);
            let shown = screen.screen();
            for y in 0..24u16 {
                for x in 0..80u16 {
                    let want = &buffer[(x, y)];
                    let got = shown.cell(y, x).unwrap();
                    if got.is_wide_continuation() {
                        continue;
                    }
                    let text = if got.contents().is_empty() {
                        " ".to_string()
                    } else {
                        got.contents().to_string()
                    };
                    let at = format!("step {i} ({step:?}), cell {x},{y}");
                    assert_eq!(text, want.symbol(), "{at}");
                    assert_eq!(got.fgcolor(), emulated(want.fg), "{at} fg");
                    assert_eq!(got.bgcolor(), emulated(want.bg), "{at} bg");
                    let m = want.modifier;
                    assert_eq!(got.bold(), m.contains(Modifier::BOLD), "{at} bold");
                    assert_eq!(
                        got.underline(),
                        m.contains(Modifier::UNDERLINED),
                        "{at} underline"
                    );
                    assert_eq!(
                        got.inverse(),
                        m.contains(Modifier::REVERSED),
                        "{at} reversed"
                    );
                }
            }
        }
    }
}
