//! The September Guarantee offer and intended destination forms.

use super::{centred, error_line, input_line, popup, styled};
use crate::tui::app::App;
use crate::tui::guarantee::{DestinationField, DestinationForm, OfferField, OfferForm};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

/// A field chosen with ↑/↓: its label, the choice between ‹ › and, when it is
/// the focused field, marked ▸ (not by colour alone).
fn choice_line(frame: &mut Frame, app: &App, area: Rect, label: &str, value: &str, focused: bool) {
    let t = &app.theme;
    let mark = if focused { "▸" } else { " " };
    let mut spans = vec![
        styled(
            format!("{mark}{label:<10} "),
            if focused { t.key } else { t.text },
        ),
        styled(format!("‹ {value} ›"), t.input),
    ];
    if focused {
        spans.push(styled("  ↑↓ changes", t.dim));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The provider line, then the error and the keys, as both forms end.
fn provider_and_footer(
    frame: &mut Frame,
    app: &App,
    [provider, err, help]: [Rect; 3],
    (input, typing): (&tui_input::Input, bool),
    error: Option<&str>,
) {
    input_line(frame, app, provider, "Provider:  ", input, typing, false);
    error_line(frame, app, err, error);
    frame.render_widget(
        Paragraph::new(styled(
            "Tab: next field · ↑↓ changes a choice · Enter saves · Esc cancels",
            app.theme.dim,
        )),
        help,
    );
}

pub fn draw_offer(frame: &mut Frame, app: &App, area: Rect, f: &OfferForm) {
    let rect = centred(area, 78, 9);
    let title = format!("September Guarantee offer: {}", app.person_name(f.person));
    let inner = popup(frame, app, rect, &title);
    let [year, status, kind, provider, err, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(1),
    ])
    .areas(inner);
    let kind_words = f.kind.map_or("not known yet", |k| k.label());
    for (area, label, value, field) in [
        (year, "Year:", f.year.label(), OfferField::Year),
        (status, "Status:", f.status.label(), OfferField::Status),
        (kind, "Place:", kind_words, OfferField::Kind),
    ] {
        choice_line(frame, app, area, label, value, f.focus == field);
    }
    let typing = f.focus == OfferField::Provider;
    provider_and_footer(
        frame,
        app,
        [provider, err, help],
        (&f.provider, typing),
        f.error.as_deref(),
    );
}

pub fn draw_destination(frame: &mut Frame, app: &App, area: Rect, f: &DestinationForm) {
    let rect = centred(area, 78, 7);
    let title = format!("Intended destination: {}", app.person_name(f.person));
    let inner = popup(frame, app, rect, &title);
    let [kind, provider, err, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(1),
    ])
    .areas(inner);
    choice_line(
        frame,
        app,
        kind,
        "Intends:",
        f.kind.label(),
        f.focus == DestinationField::Kind,
    );
    let typing = f.focus == DestinationField::Provider;
    provider_and_footer(
        frame,
        app,
        [provider, err, help],
        (&f.provider, typing),
        f.error.as_deref(),
    );
}
