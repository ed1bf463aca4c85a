//! The contact details form.

use super::{centred, error_line, input_line, popup, styled};
use crate::domain::Outcome;
use crate::tui::app::App;
use crate::tui::details::{DetailsForm, FIELDS};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

pub fn draw_details(frame: &mut Frame, app: &App, area: ratatui::layout::Rect, f: &DetailsForm) {
    let t = &app.theme;
    let rect = centred(area, 78, 19);
    let title = format!("Contact details: {}", app.person_name(f.person));
    let inner = popup(frame, app, rect, &title);
    let mut rows = vec![Constraint::Length(1)];
    rows.extend(FIELDS.iter().map(|_| Constraint::Length(1)));
    rows.extend([Constraint::Length(2), Constraint::Min(1)]);
    let areas = Layout::vertical(rows).split(inner);
    let why = match f.not_working {
        Some(Outcome::PostReturned) => {
            "Post returned: change or clear it; the old address is kept as not working."
        }
        Some(_) => "Wrong number: change or clear it; the old number is kept as not working.",
        None => "Change what is out of date; a cleared field is removed; LA: here or a code.",
    };
    frame.render_widget(Paragraph::new(Line::from(styled(why, t.text))), areas[0]);
    for (i, label) in FIELDS.iter().enumerate() {
        input_line(
            frame,
            app,
            areas[i + 1],
            &format!("{label:<14}"),
            &f.inputs[i],
            f.focus == i,
            false,
        );
    }
    let n = FIELDS.len();
    error_line(frame, app, areas[n + 1], f.error.as_deref());
    let clear = app.keymap.hint(
        &[crate::tui::keymap::Context::Form],
        crate::tui::action::Action::ClearField,
    );
    frame.render_widget(
        Paragraph::new(styled(
            format!("Tab/↑↓ move · {clear} clears a field · Enter saves · Esc cancels"),
            t.dim,
        )),
        areas[n + 2],
    );
}
