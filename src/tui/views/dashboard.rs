//! Cohort figures against targets, by district and by vulnerable group.

use super::styled;
use crate::report::Figures;
use crate::tui::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

fn tile(label: &str, value: f64, target: f64, lower_is_better: bool) -> String {
    let met = if lower_is_better {
        value <= target
    } else {
        value >= target
    };
    format!(
        "{label} {value:.1}% (target {target:.1}%, {})",
        if met { "met" } else { "NOT met" }
    )
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let Some(d) = &app.dashboard else { return };
    let targets = &app.config.targets;
    let h = &d.headline;
    let [tiles, tables] = Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(area);
    let style_for = |met: bool| if met { t.ok } else { t.error };
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(styled(
                format!(
                    " Academic ages 16–17: {} young people · EET {:.1}% · currency applied",
                    h.cohort,
                    h.eet_pct()
                ),
                t.title,
            )),
            Line::from(vec![
                styled(
                    format!(
                        " {}",
                        tile("NEET", h.neet_pct(), targets.neet_percent, true)
                    ),
                    style_for(h.neet_pct() <= targets.neet_percent),
                ),
                styled(" · ", t.dim),
                styled(
                    tile(
                        "Not Known",
                        h.not_known_pct(),
                        targets.not_known_percent,
                        true,
                    ),
                    style_for(h.not_known_pct() <= targets.not_known_percent),
                ),
            ]),
            Line::from(styled(
                format!(
                    " {}",
                    tile(
                        "Participation",
                        h.participation_pct(),
                        targets.participation_percent,
                        false
                    )
                ),
                style_for(h.participation_pct() >= targets.participation_percent),
            )),
        ]),
        tiles,
    );
    let wide = area.width >= 120;
    let [left, right] = if wide {
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(tables)
    } else {
        Layout::vertical([Constraint::Length(15), Constraint::Min(1)]).areas(tables)
    };
    let row = |name: String, f: &Figures| {
        Row::new(vec![
            Cell::from(name),
            Cell::from(format!("{}", f.cohort)),
            Cell::from(format!("{:.1}", f.neet_pct())),
            Cell::from(format!("{:.1}", f.not_known_pct())),
            Cell::from(format!("{:.1}", f.participation_pct())),
        ])
    };
    let header = |first: &'static str| {
        Row::new([first, "Cohort", "NEET%", "NK%", "Part%"].map(Cell::from)).style(t.header)
    };
    let widths = [
        Constraint::Length(22),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(6),
    ];
    let districts: Vec<Row> = d
        .districts
        .iter()
        .map(|(dist, f)| row(dist.label().to_string(), f))
        .collect();
    frame.render_widget(
        Table::new(districts, widths).header(header("District")),
        left,
    );
    let groups: Vec<Row> = d
        .groups
        .iter()
        .map(|(g, f)| {
            Row::new(vec![
                Cell::from(g.label()),
                Cell::from(format!("{}", f.cohort)),
                Cell::from(format!("{}", f.neet)),
                Cell::from(format!("{:.1}", f.neet_pct())),
                Cell::from(format!("{}", f.not_known)),
            ])
        })
        .collect();
    let gheader = Row::new(
        [
            "Vulnerable group (16–18, SEND to 24)",
            "Cohort",
            "NEET",
            "NEET%",
            "NK",
        ]
        .map(Cell::from),
    )
    .style(t.header);
    let gwidths = [
        Constraint::Length(30),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(5),
    ];
    frame.render_widget(Table::new(groups, gwidths).header(gheader), right);
}
