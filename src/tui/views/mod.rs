//! Drawing. Every function here reads the application state and draws it; none
//! changes it (the list offsets are display memory, kept in `Cell`s).

mod caseload;
mod dashboard;
mod details;
mod forms;
mod guarantee;
mod lock;
mod person;
mod queue;
mod returns;

use super::app::{App, Screen, StatusKind};
use super::forms::Overlay;
use crate::domain::{Channel, Outcome};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "Terminal too small: {}×{}. caseload needs at least {MIN_WIDTH}×{MIN_HEIGHT}; enlarge the window.",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(msg)
                .wrap(Wrap { trim: true })
                .style(app.theme.text),
            area,
        );
        return;
    }
    if !app.is_unlocked() {
        lock::draw(frame, app, area);
        return;
    }
    let [header, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, app, header);
    match app.screen {
        Screen::Caseload => caseload::draw(frame, app, body),
        Screen::Person => person::draw(frame, app, body),
        Screen::Agenda => caseload::draw_agenda(frame, app, body),
        Screen::Queue => queue::draw(frame, app, body),
        Screen::Dashboard => dashboard::draw(frame, app, body),
        Screen::Returns => returns::draw(frame, app, body),
    }
    draw_status(frame, app, status);
    match &app.overlay {
        None => {}
        Some(Overlay::Help { scroll }) => forms::draw_help(frame, app, area, *scroll),
        Some(Overlay::Messages { scroll }) => forms::draw_messages(frame, app, area, *scroll),
        Some(Overlay::Palette(p)) => forms::draw_palette(frame, app, area, p),
        Some(Overlay::Contact(f)) => forms::draw_contact(frame, app, area, f),
        Some(Overlay::Activity(p)) => forms::draw_activity(frame, app, area, p),
        Some(Overlay::Rating(f)) => forms::draw_rating(frame, app, area, f),
        Some(Overlay::Note(f)) => forms::draw_note(frame, app, area, f),
        Some(Overlay::Retract(f)) => forms::draw_retract(frame, app, area, f),
        Some(Overlay::Offer(f)) => guarantee::draw_offer(frame, app, area, f),
        Some(Overlay::Details(f)) => details::draw_details(frame, app, area, f),
        Some(Overlay::Destination(f)) => guarantee::draw_destination(frame, app, area, f),
    }
    show_refused_characters(frame.buffer_mut());
}

/// The workbench's half of the one output rule (`domain::text::printable`):
/// ratatui already drops control characters, so what is left to show rather
/// than obey are bidi overrides, which would reorder the text around them.
/// One pass over the finished frame covers every view.
fn show_refused_characters(buf: &mut ratatui::buffer::Buffer) {
    for cell in buf.content.iter_mut() {
        if cell
            .symbol()
            .chars()
            .any(|c| crate::domain::text::refused_char(c, false).is_some())
        {
            cell.set_symbol("\u{fffd}");
        }
    }
}

fn draw_header(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let tabs = [
        Screen::Caseload,
        Screen::Agenda,
        Screen::Queue,
        Screen::Dashboard,
        Screen::Returns,
    ];
    let narrow = area.width < 100;
    let mut spans = vec![Span::styled(" caseload ", t.title)];
    for (i, s) in tabs.iter().enumerate() {
        let current = *s == app.screen || (app.screen == Screen::Person && *s == Screen::Caseload);
        let name = if narrow && *s == Screen::Queue {
            "Queue"
        } else {
            s.title()
        };
        let label = format!(" {} {} ", i + 1, name);
        spans.push(if current {
            Span::styled(label, t.selected)
        } else {
            Span::styled(label, t.dim)
        });
    }
    // At 80 columns the date alone: the five tabs and the name do not fit.
    let who = app
        .replica()
        .map(|r| {
            let today = crate::domain::dates::uk(app.today());
            if narrow {
                today
            } else {
                format!("{} · {today}", r.identity().worker)
            }
        })
        .unwrap_or_default();
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let pad = (area.width as usize).saturating_sub(used + who.chars().count() + 1);
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(who, t.dim));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_status(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let ctx = app.contexts();
    let global = [super::keymap::Context::Global];
    let help = app.keymap.hint(&ctx, super::action::Action::Help);
    let lock = app.keymap.hint(&global, super::action::Action::Lock);
    let hint = if area.width < 120 {
        format!(" {help} help · {lock} lock ")
    } else {
        format!(
            " {help} help · {} find action · {lock} lock · {} quit ",
            app.keymap.hint(&global, super::action::Action::Palette),
            app.keymap.hint(&global, super::action::Action::Quit),
        )
    };
    let (text, style) = if let Some(p) = app.startup_problems.first() {
        (format!(" Problem: {p}"), t.error)
    } else {
        match &app.status {
            Some(m) if m.kind == StatusKind::Error => (format!(" Error: {}", m.text), t.error),
            Some(m) => (format!(" {}", m.text), t.status_bar),
            None => (String::new(), t.status_bar),
        }
    };
    let (shown, right) = status_by_priority(
        &text,
        app.sync.summary(app.today()).as_deref(),
        &hint,
        &app.keymap.hint(&global, super::action::Action::Messages),
        area.width as usize,
    );
    let pad = (area.width as usize).saturating_sub(shown.chars().count() + right.chars().count());
    let line = Line::from(vec![
        Span::styled(shown, style),
        Span::styled(" ".repeat(pad), t.status_bar),
        Span::styled(right, t.status_bar),
    ]);
    frame.render_widget(Paragraph::new(line).style(t.status_bar), area);
}

/// What the status line shows, by priority: the message whole, then the sync
/// state (just left of the keys, in words), then the key hints. A message too
/// long even alone is cut with "…" and the key that shows it in full.
fn status_by_priority(
    message: &str,
    sync: Option<&str>,
    hints: &str,
    messages_key: &str,
    width: usize,
) -> (String, String) {
    let fits = |right: &str| message.chars().count() + right.chars().count() <= width;
    let mut right = vec![];
    if let Some(words) = sync {
        right.push(format!(" {words} │{hints}"));
        right.push(format!(" {words} "));
    } else {
        right.push(hints.to_string());
    }
    right.push(String::new());
    match right.into_iter().find(|r| fits(r)) {
        Some(r) => (message.to_string(), r),
        None => {
            let more = format!(" {messages_key} more ");
            let room = width.saturating_sub(more.chars().count());
            (truncate(message, room), more)
        }
    }
}

/// Cuts `s` to `width` characters, marking the cut with "…".
pub fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else if width == 0 {
        String::new()
    } else {
        let mut out: String = s.chars().take(width - 1).collect();
        out.push('…');
        out
    }
}

/// A centred rectangle `w`×`h` (clamped to the area).
pub fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// A bordered popup, cleared underneath.
pub fn popup(frame: &mut Frame, app: &App, area: Rect, title: &str) -> Rect {
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(app.theme.border)
        .title(Span::styled(format!(" {title} "), app.theme.title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// Every short way a channel is written, one row each: (short, as a choice on
/// the contact form, three letters for the 80-column table).
fn channel_words(c: Channel) -> (&'static str, &'static str, &'static str) {
    match c {
        Channel::Phone => ("Phone", "phone", "Ph"),
        Channel::Text => ("Text", "text", "Txt"),
        Channel::Email => ("Email", "email", "Eml"),
        Channel::Letter => ("Letter", "letter", "Let"),
        Channel::SocialMedia => ("Social", "social", "Soc"),
        Channel::HomeVisit => ("Visit", "visit", "Vis"),
        Channel::FaceToFace => ("F2F", "face to face", "F2F"),
        Channel::ViaSchool => ("School", "school", "Sch"),
        Channel::ViaCollege => ("College", "college", "Col"),
        Channel::ViaParentCarer => ("Parent", "parent", "Par"),
        Channel::ViaOtherProfessional => ("Prof", "professional", "Pro"),
    }
}

/// Every short way an outcome is written, one row each: (short, as a choice on
/// the contact form, five letters for the 80-column table). The form's second
/// row of choices is headed "spoke:", so its words leave that out.
fn outcome_words(o: Outcome) -> (&'static str, &'static str, &'static str) {
    match o {
        Outcome::NoAnswer => ("no answer", "no answer", "NoAns"),
        Outcome::VoicemailLeft => ("voicemail", "voicemail", "VMail"),
        Outcome::WrongNumber => ("wrong no.", "wrong no.", "Wrong"),
        Outcome::PostReturned => ("returned", "returned", "Retd"),
        Outcome::SentNoReply => ("no reply", "no reply", "NoRep"),
        Outcome::SpokeToYoungPerson => ("spoke YP", "young person", "YP"),
        Outcome::SpokeToParentCarer => ("spoke P/C", "parent/carer", "P/C"),
        Outcome::SpokeToThirdParty => ("spoke 3rd", "third party", "3rd"),
        Outcome::Refused => ("refused", "refused", "Refus"),
    }
}

pub fn channel_short(c: Channel) -> &'static str {
    channel_words(c).0
}
pub fn channel_choice(c: Channel) -> &'static str {
    channel_words(c).1
}
pub fn channel_tiny(c: Channel) -> &'static str {
    channel_words(c).2
}
pub fn outcome_short(o: Outcome) -> &'static str {
    outcome_words(o).0
}
pub fn outcome_choice(o: Outcome) -> &'static str {
    outcome_words(o).1
}
pub fn outcome_tiny(o: Outcome) -> &'static str {
    outcome_words(o).2
}

/// One contact attempt as a line: when, how, outcome, who, note, and whether it
/// was corrected.
pub fn contact_line(
    state: &crate::domain::PersonState,
    c: &crate::domain::state::Logged<crate::domain::ContactAttempt>,
) -> String {
    format!(
        "{} {}{} — {} — {}{}{}",
        c.value.at.format("%d/%m/%Y %H:%M"),
        channel_short(c.value.channel),
        state
            .used_by(c.op())
            .map(|u| format!(" to {}", u.describe()))
            .unwrap_or_default(),
        c.value.outcome.label(),
        c.author,
        if c.value.note.is_empty() {
            String::new()
        } else {
            format!(": {}", c.value.note)
        },
        if state.is_retracted(c.op()) {
            " [corrected]"
        } else {
            ""
        }
    )
}

/// A list line, reversed when it is the selected one.
pub fn selectable<'a>(line: Line<'a>, selected: bool, app: &App) -> Line<'a> {
    if selected {
        line.style(app.theme.selected)
    } else {
        line
    }
}

/// An "Error: …" line, if there is an error to show.
pub fn error_line(frame: &mut Frame, app: &App, area: Rect, error: Option<&str>) {
    if let Some(e) = error {
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(
                format!("Error: {e}"),
                app.theme.error,
            )))
            .wrap(Wrap { trim: true }),
            area,
        );
    }
}

/// A labelled input line with the cursor placed when focused.
pub fn input_line(
    frame: &mut Frame,
    app: &App,
    area: Rect,
    label: &str,
    input: &tui_input::Input,
    focused: bool,
    masked: bool,
) {
    let t = &app.theme;
    // The field being typed in is marked in the text itself, not by colour alone.
    let label = format!("{}{label}", if focused { "▸" } else { " " });
    let label_w = label.chars().count() as u16 + 1;
    let width = area.width.saturating_sub(label_w + 1).max(1) as usize;
    let scroll = input.visual_scroll(width);
    let value: String = if masked {
        "•".repeat(input.value().chars().count())
    } else {
        input.value().to_string()
    };
    let shown: String = value.chars().skip(scroll).take(width).collect();
    let line = Line::from(vec![
        Span::styled(format!("{label} "), if focused { t.key } else { t.text }),
        Span::styled(format!("{shown:<width$}"), t.input),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    if focused {
        let x = area.x + label_w + (input.visual_cursor().saturating_sub(scroll)) as u16;
        frame.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
    }
}

pub fn styled(text: impl Into<String>, style: Style) -> Span<'static> {
    Span::styled(text.into(), style)
}

#[cfg(test)]
mod tests {
    use super::status_by_priority;

    const KEYS: &str = " F1 help · Ctrl-L lock ";

    #[test]
    fn the_status_line_gives_up_hints_before_the_sync_state_before_the_message() {
        let all = status_by_priority(" Saved", Some("offline"), KEYS, "Ctrl-G", 80);
        assert_eq!(all, (" Saved".into(), format!(" offline │{KEYS}")));
        let message = format!(" {}", "x".repeat(60));
        let (shown, right) = status_by_priority(&message, Some("offline"), KEYS, "Ctrl-G", 80);
        assert_eq!(
            (shown.as_str(), right.as_str()),
            (message.as_str(), " offline ")
        );
        let message = format!(" {}", "x".repeat(75));
        let (shown, right) = status_by_priority(&message, Some("offline"), KEYS, "Ctrl-G", 80);
        assert_eq!((shown.as_str(), right.as_str()), (message.as_str(), ""));
    }

    #[test]
    fn a_message_too_long_for_the_line_says_which_key_shows_it_whole() {
        let message = format!(" {}", "word ".repeat(30));
        let (shown, right) = status_by_priority(&message, None, KEYS, "Ctrl-G", 80);
        assert_eq!(right, " Ctrl-G more ");
        assert_eq!(shown.chars().count() + right.chars().count(), 80);
        assert!(shown.ends_with('…'));
    }
}
