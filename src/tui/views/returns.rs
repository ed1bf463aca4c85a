//! The returns screen: the month's figures as the DfE counts them, then the
//! records to put right, one row each, Enter to open.

use super::caseload::window;
use super::styled;
use crate::domain::dates::uk;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::Context;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(d) = &app.returns else { return };
    let t = &app.theme;
    let [figures, title, table_area] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(1),
    ])
    .areas(area);
    let h = &d.headline;
    let pct = |v: f64| {
        if h.denominator() == 0 {
            "–".to_string()
        } else {
            format!("{v:.1}%")
        }
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(styled(
                format!(
                    " This month so far, as at {}, as the DfE counts (academic ages 16–17)",
                    uk(d.on)
                ),
                t.title,
            )),
            Line::from(styled(
                format!(
                    " NEET {} · Not Known {} · NEET or NK {} · of {} ({} less {} in custody)",
                    pct(h.neet_pct()),
                    pct(h.not_known_pct()),
                    pct(h.neet_or_not_known_pct()),
                    h.denominator(),
                    h.cohort,
                    h.custody
                ),
                t.text,
            )),
            Line::from(styled(
                format!(
                    " In education and training {} · Meeting the duty to participate {}",
                    pct(h.learning_pct()),
                    pct(h.participation_pct())
                ),
                t.text,
            )),
        ]),
        figures,
    );
    let open = app.keymap.hint(&[Context::List], Action::Open);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            styled(
                format!(" To put right before the returns go: {}", d.checks.len()),
                t.title,
            ),
            styled(format!(" · {open} opens the record"), t.dim),
        ])),
        title,
    );
    let wide = area.width >= 100;
    let height = table_area.height.saturating_sub(1) as usize;
    let offset = window(&d.offset, d.selected, height, d.checks.len());
    let header =
        Row::new(["", "Return", "Young person", "To put right"].map(Cell::from)).style(t.header);
    let rows: Vec<Row> = d
        .checks
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(n, c)| {
            let selected = n == d.selected;
            Row::new(vec![
                Cell::from(if selected { "▶" } else { " " }).style(t.key),
                Cell::from(if wide { c.return_name } else { c.short_name }),
                Cell::from(c.name.clone()).style(if selected { t.selected } else { t.text }),
                Cell::from(c.problem),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(2),
        Constraint::Length(if wide { 19 } else { 12 }),
        Constraint::Length(21),
        Constraint::Fill(1),
    ];
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        table_area,
    );
    if d.checks.is_empty() {
        let y = table_area.y + 2;
        if y < table_area.bottom() {
            frame.render_widget(
                Paragraph::new(styled(" Nothing to put right. ", t.dim)),
                Rect {
                    y,
                    height: 1,
                    ..table_area
                },
            );
        }
    }
}
