//! The unlock (and first-run create) screen. Nothing personal is on it.

use super::{centred, error_line, input_line, popup};
use crate::tui::app::{App, Session};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Paragraph, Wrap};

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let rect = centred(area, 70, 11);
    match &app.session {
        Session::Locked {
            store,
            input,
            error,
        } => {
            let [about, _, field, _, err, help] =
                rows(popup(frame, app, rect, "caseload is locked"));
            frame.render_widget(
                Paragraph::new(format!("Store: {}", store.dir().display()))
                    .style(t.dim)
                    .wrap(Wrap { trim: true }),
                about,
            );
            input_line(frame, app, field, "Passphrase:", input, true, true);
            error_line(frame, app, err, error.as_deref());
            frame.render_widget(
                Paragraph::new("Enter unlocks · Ctrl-C quits").style(t.dim),
                help,
            );
        }
        Session::Create {
            dir,
            first,
            second,
            on_second,
            error,
        } => {
            let [about, f1, f2, _, err, help] =
                rows(popup(frame, app, rect, "Create a caseload store"));
            frame.render_widget(
                Paragraph::new(format!(
                    "No store at {} yet. Choose a passphrase (12+ characters).",
                    dir.display()
                ))
                .style(t.dim)
                .wrap(Wrap { trim: true }),
                about,
            );
            input_line(frame, app, f1, "Passphrase:", first, !*on_second, true);
            input_line(frame, app, f2, "Repeat it: ", second, *on_second, true);
            error_line(frame, app, err, error.as_deref());
            frame.render_widget(
                Paragraph::new("Enter moves on and creates · Tab switches · Ctrl-C quits")
                    .style(t.dim),
                help,
            );
        }
        _ => {}
    }
}

/// About (2 rows), gap, field, field or gap, error (2 rows), help.
fn rows(inner: Rect) -> [Rect; 6] {
    Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(1),
    ])
    .areas(inner)
}
