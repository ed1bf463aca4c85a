//! Cohort figures against targets: headline tiles, the trend over the last
//! twelve months, NEET % by district as a bar chart, and tables by district and
//! vulnerable group. Everything comes from `report`, the same code as
//! `caseload report`.

use super::styled;
use crate::report::Figures;
use crate::tui::app::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Cell, Paragraph, Row, Sparkline, Table};

fn tile(label: &str, value: f64, target: f64, lower_is_better: bool, empty: bool) -> String {
    if empty {
        // No percentage of nobody: "0.0%, NOT met" would be a false alarm.
        return format!("{label} – (nobody in the cohort)");
    }
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

/// A percentage of a population, or "–" when there is nobody to count.
fn percent(f: &Figures, value: f64) -> String {
    if f.cohort == 0 {
        "–".to_string()
    } else {
        format!("{value:.1}")
    }
}

/// One labelled sparkline: "NEET %  ▂▃▅▆▇  Dec 2025 4.6% → Nov 2026 4.1%".
fn trend_line(
    frame: &mut Frame,
    app: &App,
    area: Rect,
    label: &str,
    values: &[(chrono::NaiveDate, f64)],
) {
    let t = &app.theme;
    let [name, chart, ends] = Layout::horizontal([
        Constraint::Length(14),
        Constraint::Length(values.len() as u16 + 1),
        Constraint::Fill(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(styled(format!(" {label}"), t.header)), name);
    // Tenths of a percent, so small movements show, lifted by one of the
    // sparkline's eight levels so a month at zero draws the lowest block
    // rather than a gap.
    let raw: Vec<u64> = values
        .iter()
        .map(|(_, v)| (v * 10.0).round() as u64)
        .collect();
    let base = raw.iter().copied().max().unwrap_or(0) / 7 + 1;
    let data: Vec<u64> = raw.iter().map(|v| v + base).collect();
    let max = data.iter().copied().max().unwrap_or(1);
    frame.render_widget(
        Sparkline::default().data(&data).max(max).style(t.key),
        chart,
    );
    if let (Some(first), Some(last)) = (values.first(), values.last()) {
        frame.render_widget(
            Paragraph::new(styled(
                format!(
                    "{} {:.1}% → {} {:.1}%",
                    first.0.format("%b %Y"),
                    first.1,
                    last.0.format("%b %Y"),
                    last.1
                ),
                t.dim,
            )),
            ends,
        );
    }
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let Some(d) = &app.dashboard else { return };
    let targets = &app.config.targets;
    let h = &d.headline;
    let wide = area.width >= 120;
    let [tiles, trend, bars, tables] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(2),
        Constraint::Length(if wide { 11 } else { 7 }),
        Constraint::Min(1),
    ])
    .areas(area);
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
                        tile(
                            "NEET",
                            h.neet_pct(),
                            targets.neet_percent,
                            true,
                            h.cohort == 0
                        )
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
                        h.cohort == 0,
                    ),
                    style_for(h.not_known_pct() <= targets.not_known_percent),
                ),
            ]),
            Line::from(vec![
                styled(
                    format!(
                        " {}",
                        tile(
                            "Meeting the duty",
                            h.participation_pct(),
                            targets.participation_percent,
                            false,
                            h.cohort == 0
                        )
                    ),
                    style_for(h.participation_pct() >= targets.participation_percent),
                ),
                styled(" · ", t.dim),
                // The DfE's headline since 2016 (no target of its own).
                styled(
                    if h.cohort == 0 {
                        "NEET or NK –".to_string()
                    } else {
                        format!("NEET or NK {:.1}%", h.neet_or_not_known_pct())
                    },
                    t.text,
                ),
            ]),
        ]),
        tiles,
    );

    let [neet_trend, nk_trend] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(trend);
    let series = |f: fn(&Figures) -> f64| {
        d.trend
            .iter()
            .map(|(date, fig)| (*date, f(fig)))
            .collect::<Vec<_>>()
    };
    trend_line(frame, app, neet_trend, "NEET %", &series(Figures::neet_pct));
    trend_line(
        frame,
        app,
        nk_trend,
        "Not Known %",
        &series(Figures::not_known_pct),
    );

    // NEET % by district. Every figure is printed on a row of its own under
    // its bar (a 0.0 bar has no height to print in), so the chart reads the same
    // without colour.
    let bar_width: u16 = if wide { 11 } else { 5 };
    let bar_list: Vec<Bar> = d
        .districts
        .iter()
        .map(|(dist, f)| {
            let label: String = if wide {
                dist.short_label().to_string()
            } else {
                dist.short_label().chars().take(4).collect()
            };
            Bar::default()
                .value((f.neet_pct() * 10.0).round() as u64)
                .text_value(String::new())
                .label(Line::from(label))
        })
        .collect();
    let [bar_title, bar_area, bar_values] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(bars);
    frame.render_widget(
        Paragraph::new(styled(" NEET % by district", t.header)),
        bar_title,
    );
    frame.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&bar_list))
            .bar_width(bar_width)
            .bar_gap(1)
            .bar_style(t.key)
            .label_style(t.text),
        bar_area,
    );
    let values: String = d
        .districts
        .iter()
        .map(|(_, f)| {
            format!(
                "{:^w$} ",
                format!("{:.1}", f.neet_pct()),
                w = bar_width as usize
            )
        })
        .collect();
    frame.render_widget(Paragraph::new(styled(values, t.text)), bar_values);

    let row = |name: String, f: &Figures| {
        Row::new(vec![
            Cell::from(name),
            Cell::from(format!("{}", f.cohort)),
            Cell::from(percent(f, f.neet_pct())),
            Cell::from(percent(f, f.not_known_pct())),
            Cell::from(percent(f, f.participation_pct())),
        ])
    };
    // The care splits by responsible authority only when every row fits;
    // otherwise Kent's table rows, which they add up to.
    let groups = |area: Rect| -> Vec<Row> {
        let room = usize::from(area.height).saturating_sub(1);
        d.groups
            .iter()
            .filter(|(g, _)| room >= d.groups.len() || !g.is_split())
            .map(|(g, f)| {
                Row::new(vec![
                    Cell::from(g.label()),
                    Cell::from(format!("{}", f.cohort)),
                    Cell::from(format!("{}", f.neet)),
                    Cell::from(percent(f, f.neet_pct())),
                    Cell::from(format!("{}", f.not_known)),
                ])
            })
            .collect()
    };
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
        Constraint::Length(37),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(6),
        Constraint::Length(5),
    ];
    if wide {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                .areas(tables);
        let header = Row::new(["District", "Cohort", "NEET%", "NK%", "Duty%"].map(Cell::from))
            .style(t.header);
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
        frame.render_widget(Table::new(districts, widths).header(header), left);
        frame.render_widget(Table::new(groups(right), gwidths).header(gheader), right);
    } else {
        // At 80×24 the district figures are on the bars; the group table fills the rest.
        frame.render_widget(Table::new(groups(tables), gwidths).header(gheader), tables);
    }
}
