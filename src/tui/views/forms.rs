//! Overlays: help, the command palette and the three forms.

use super::{
    centred, channel_choice, error_line, input_line, outcome_choice, popup, selectable, styled,
};
use crate::domain::records::Rag;
use crate::domain::{Channel, Outcome};
use crate::tui::action::Action;
use crate::tui::action::palette_actions;
use crate::tui::app::{App, StatusKind};
use crate::tui::forms::{
    ActivityPicker, ContactFocus, ContactForm, NoteForm, Palette, PickerFocus, RatingForm,
    RetractForm,
};
use crate::tui::keymap::Context;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// The recent messages in full, newest first, wrapped to the popup's width.
pub fn draw_messages(frame: &mut Frame, app: &App, area: Rect, scroll: u16) {
    let t = &app.theme;
    let rect = centred(
        area,
        area.width.saturating_sub(4).min(100),
        area.height.saturating_sub(2),
    );
    let inner = popup(
        frame,
        app,
        rect,
        "Recent messages, newest first · Esc closes",
    );
    let lines: Vec<Line> = if app.messages.is_empty() {
        vec![Line::from(styled(
            "No messages since the workbench was unlocked.",
            t.dim,
        ))]
    } else {
        app.messages
            .iter()
            .map(|(at, m)| {
                let (label, style) = match m.kind {
                    StatusKind::Error => ("Error: ", t.error),
                    StatusKind::Info => ("", t.text),
                };
                Line::from(vec![
                    styled(at.format("%H:%M ").to_string(), t.dim),
                    styled(format!("{label}{}", m.text), style),
                ])
            })
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        inner,
    );
}

pub fn draw_help(frame: &mut Frame, app: &App, area: Rect, scroll: u16) {
    let t = &app.theme;
    let rect = centred(
        area,
        area.width.saturating_sub(4).min(100),
        area.height.saturating_sub(2),
    );
    let inner = popup(frame, app, rect, "Keys (from your keymap) · Esc closes");
    let mut lines: Vec<Line> = Vec::new();
    let mut contexts: Vec<Context> = app.screen_contexts();
    for c in [
        Context::Global,
        Context::Form,
        Context::Contact,
        Context::Rating,
        Context::Queue,
    ] {
        if !contexts.contains(&c) {
            contexts.push(c);
        }
    }
    for ctx in contexts {
        let binds = app.keymap.bindings(ctx);
        if binds.is_empty() {
            continue;
        }
        lines.push(Line::from(Span::styled(
            format!("[{}]", ctx.name()),
            t.header,
        )));
        let mut grouped: Vec<(Action, Vec<String>)> = Vec::new();
        for (k, a) in binds {
            match grouped.last_mut() {
                Some((last, keys)) if *last == a => keys.push(k.to_string()),
                _ => grouped.push((a, vec![k.to_string()])),
            }
        }
        for (a, keys) in grouped {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<16}", keys.join(", ")), t.key),
                Span::styled(a.help().to_string(), t.text),
            ]));
        }
    }
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

pub fn draw_palette(frame: &mut Frame, app: &App, area: Rect, p: &Palette) {
    let t = &app.theme;
    let rect = centred(area, 70, 16);
    let inner = popup(frame, app, rect, "Find an action · Enter runs it");
    let [field, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    input_line(frame, app, field, ">", &p.input, true, false);
    let matches = p.matches(palette_actions());
    let ctx = [
        Context::Caseload,
        Context::List,
        Context::Person,
        Context::Queue,
        Context::Global,
    ];
    let lines: Vec<Line> = matches
        .iter()
        .enumerate()
        .take(list.height as usize)
        .map(|(i, a)| {
            let line = Line::from(vec![
                // Always a space before the key, however long the words.
                Span::raw(format!(" {:<40} ", fit(a.help(), 40))),
                Span::styled(app.keymap.hint(&ctx, *a), t.key),
            ]);
            selectable(line, i == p.selected, app)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
}

fn choices<T: Copy + PartialEq>(
    app: &App,
    items: &[(T, Action, &str)],
    chosen: Option<T>,
) -> Vec<Span<'static>> {
    let t = &app.theme;
    let mut spans = Vec::new();
    for (value, action, label) in items {
        let key = app
            .keymap
            .hint(&[Context::Contact, Context::Rating], *action);
        let selected = chosen == Some(*value);
        let text = format!(
            "{}{key} {label}{} ",
            if selected { "[" } else { " " },
            if selected { "]" } else { " " }
        );
        spans.push(Span::styled(
            text,
            if selected { t.selected } else { t.text },
        ));
    }
    spans
}

pub fn draw_contact(frame: &mut Frame, app: &App, area: Rect, f: &ContactForm) {
    let t = &app.theme;
    let rect = centred(area, 78, 15);
    let title = format!("Log a contact attempt: {}", app.person_name(f.person));
    let inner = popup(frame, app, rect, &title);
    let [
        ch1,
        ch2,
        out1,
        out2,
        using,
        answers,
        note,
        follow,
        err,
        help,
    ] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(1),
    ])
    .areas(inner);
    // The choices and their keys come from the actions, so the form always
    // matches the keymap.
    let channels: Vec<(Channel, Action, &str)> = Action::ALL
        .iter()
        .filter_map(|a| a.channel().map(|c| (c, *a, channel_choice(c))))
        .collect();
    let outcomes: Vec<(Outcome, Action, &str)> = Action::ALL
        .iter()
        .filter_map(|a| a.outcome().map(|o| (o, *a, outcome_choice(o))))
        .collect();
    let (c1, c2) = channels.split_at(6);
    // Only the outcomes that go with the chosen channel are offered.
    let (o1, o2) = outcomes.split_at(5);
    let fits = |o: &[(Outcome, Action, &'static str)]| -> Vec<(Outcome, Action, &'static str)> {
        o.iter()
            .filter(|(o, ..)| f.channel.allows(*o))
            .copied()
            .collect()
    };
    let (o1, o2) = (fits(o1), fits(o2));
    let mut l1 = vec![styled("Channel ", t.header)];
    l1.extend(choices(app, c1, Some(f.channel)));
    let mut l2 = vec![styled("        ", t.header)];
    l2.extend(choices(app, c2, Some(f.channel)));
    let mut l3 = vec![styled("Outcome ", t.header)];
    l3.extend(choices(app, &o1, f.outcome));
    let mut l4 = vec![styled("  spoke:", t.header)];
    l4.extend(choices(app, &o2, f.outcome));
    for (line, area) in [(l1, ch1), (l2, ch2), (l3, out1), (l4, out2)] {
        frame.render_widget(Paragraph::new(Line::from(line)), area);
    }
    let used = match f.using() {
        Some((u, place)) => {
            let more = f.options().len();
            let mut line = vec![styled("Using   ", t.header), styled(u.describe(), t.key)];
            if more > 1 {
                line.push(styled(format!("  ({place} of {more}; ↑↓ another)"), t.dim));
            }
            line
        }
        None if f.channel.uses_a_detail() => vec![
            styled("Using   ", t.header),
            styled("none on the record for this channel", t.dim),
        ],
        None => vec![styled("Using   ", t.header), styled("–", t.dim)],
    };
    frame.render_widget(Paragraph::new(Line::from(used)), using);
    if let Some(words) = crate::tui::forms::answered(&f.answers) {
        frame.render_widget(
            Paragraph::new(styled(format!("Saving this answers {words}."), t.text)),
            answers,
        );
    }
    input_line(
        frame,
        app,
        note,
        "Note:     ",
        &f.note,
        f.focus == ContactFocus::Note,
        false,
    );
    input_line(
        frame,
        app,
        follow,
        "Follow-up:",
        &f.follow_up,
        f.focus == ContactFocus::FollowUp,
        false,
    );
    error_line(frame, app, err, f.error.as_deref());
    let status = match (f.outcome, f.channel) {
        (Some(o), c) => format!("{} — {}. Enter saves.", c.label(), o.label()),
        (None, c) => format!("{} chosen; press an outcome key.", c.label()),
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(styled(status, t.ok)),
            Line::from(styled(
                match f.focus {
                    ContactFocus::Choice => "Keys choose · Tab: note, then follow-up · Esc cancels",
                    ContactFocus::Note => "Typing goes in the note · Tab: follow-up · Esc cancels",
                    ContactFocus::FollowUp => {
                        "Follow-up: 12/01/2027, +2w, tomorrow, mon · Tab: choices · Esc"
                    }
                },
                t.dim,
            )),
        ]),
        help,
    );
}

pub fn draw_activity(frame: &mut Frame, app: &App, area: Rect, p: &ActivityPicker) {
    let t = &app.theme;
    let rect = centred(area, 78, area.height.saturating_sub(4).min(20));
    let title = format!("Set current activity: {}", app.person_name(p.person));
    let inner = popup(frame, app, rect, &title);
    let [search, start, ends, provider, list, err, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    input_line(
        frame,
        app,
        search,
        "Find (code or words):",
        &p.query,
        p.focus == PickerFocus::Search,
        false,
    );
    input_line(
        frame,
        app,
        start,
        "Start date:          ",
        &p.start,
        p.focus == PickerFocus::Start,
        false,
    );
    input_line(
        frame,
        app,
        ends,
        "Expected end:        ",
        &p.ends,
        p.focus == PickerFocus::Ends,
        false,
    );
    input_line(
        frame,
        app,
        provider,
        "Provider/employer:   ",
        &p.provider,
        p.focus == PickerFocus::Provider,
        false,
    );
    let height = list.height as usize;
    let first = p.selected.saturating_sub(height.saturating_sub(1));
    let lines: Vec<Line> = p
        .matches
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, c)| {
            let line = Line::from(vec![
                Span::raw(format!(" {} {:<58}", c.code(), c.label())),
                Span::styled(c.group().label(), t.group(c.group())),
            ]);
            selectable(line, i == p.selected, app)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    form_footer(
        frame,
        app,
        [err, help],
        p.error.as_deref(),
        "↑↓ choose · Enter saves (confirmed today) · Tab: dates, provider · Esc",
    );
}

pub fn draw_rating(frame: &mut Frame, app: &App, area: Rect, f: &RatingForm) {
    let t = &app.theme;
    let rect = centred(area, 78, 14);
    let title = format!("Rate risk of NEET: {}", app.person_name(f.person));
    let inner = popup(frame, app, rect, &title);
    let [sugg, factors, _, pick, reason, review, err, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            styled("Suggested: ", t.header),
            styled(f.suggestion.rag.label(), t.rag(Some(f.suggestion.rag))),
            styled(
                format!(
                    " (score {}, Red at {}, Amber at {})",
                    f.suggestion.score, app.config.risk.red_at, app.config.risk.amber_at
                ),
                t.text,
            ),
        ])),
        sugg,
    );
    let list: Vec<String> = f
        .suggestion
        .factors
        .iter()
        .map(|(x, w)| format!("{} ({w})", x.label()))
        .collect();
    frame.render_widget(
        Paragraph::new(if list.is_empty() {
            "No risk factors recorded.".to_string()
        } else {
            list.join(", ")
        })
        .style(t.dim)
        .wrap(Wrap { trim: true }),
        factors,
    );
    let items = [
        (Rag::Red, Action::RagRed, "Red"),
        (Rag::Amber, Action::RagAmber, "Amber"),
        (Rag::Green, Action::RagGreen, "Green"),
    ];
    let mut line = vec![styled("Your rating: ", t.header)];
    line.extend(choices(app, &items, f.rag));
    frame.render_widget(Paragraph::new(Line::from(line)), pick);
    input_line(
        frame,
        app,
        reason,
        "Reason:",
        &f.reason,
        f.rag.is_some(),
        false,
    );
    if let Some(r) = f.rag {
        frame.render_widget(
            Paragraph::new(format!(
                "Review due {}",
                crate::domain::dates::uk(app.config.risk.review_due(r, app.today()))
            ))
            .style(t.dim),
            review,
        );
    }
    form_footer(
        frame,
        app,
        [err, help],
        f.error.as_deref(),
        "Your rating always wins over the suggestion · Enter saves · Esc cancels",
    );
}

pub fn draw_note(frame: &mut Frame, app: &App, area: Rect, f: &NoteForm) {
    let rect = centred(area, 78, 5);
    let title = format!("Note: {}", app.person_name(f.person));
    let inner = popup(frame, app, rect, &title);
    let [text, err, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(inner);
    input_line(frame, app, text, "Note:", &f.text, true, false);
    form_footer(
        frame,
        app,
        [err, help],
        f.error.as_deref(),
        "Kept with your name and the time · Enter saves · Esc cancels",
    );
}

pub fn draw_retract(frame: &mut Frame, app: &App, area: Rect, f: &RetractForm) {
    let t = &app.theme;
    let rect = centred(area, 78, 6);
    let title = format!("Correct: {}", app.person_name(f.person));
    let inner = popup(frame, app, rect, &title);
    let [what, reason, err, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            styled("Mark as entered in error: ", t.header),
            styled(f.what.clone(), t.text),
        ])),
        what,
    );
    input_line(frame, app, reason, "Reason:", &f.reason, true, false);
    form_footer(
        frame,
        app,
        [err, help],
        f.error.as_deref(),
        "It stays on the record, marked corrected · Enter saves · Esc cancels",
    );
}

/// A form's last two rows: why it was not saved (if so), then its keys.
fn form_footer(
    frame: &mut Frame,
    app: &App,
    [err, help]: [Rect; 2],
    error: Option<&str>,
    hint: &str,
) {
    error_line(frame, app, err, error);
    frame.render_widget(Paragraph::new(styled(hint, app.theme.dim)), help);
}

/// `text` in at most `width` columns, cut with "…" when longer.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
