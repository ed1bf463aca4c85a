//! The caseload table and the "My day" agenda.

use super::{channel_short, channel_tiny, input_line, outcome_short, outcome_tiny, styled};
use crate::domain::CaseSummary;
use crate::domain::academic;
use crate::domain::dates::uk;
use crate::domain::person::SendStatus;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::Context;
use chrono::NaiveDate;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};
use std::cell::Cell as StdCell;

/// First row to draw so that `selected` stays visible in `height` rows. When
/// the selection leaves the window the list jumps half a page (as `less` and
/// vim's scrolljump do) rather than one row, so moving through a long list
/// repaints the table once every half page instead of on every key.
pub(super) fn window(offset: &StdCell<usize>, selected: usize, height: usize, len: usize) -> usize {
    let mut o = offset.get();
    if selected < o || (height > 0 && selected >= o + height) {
        o = selected.saturating_sub(height / 2);
    }
    o = o.min(len.saturating_sub(height));
    offset.set(o);
    o
}

fn flags(s: &CaseSummary, today: NaiveDate, expired: bool) -> String {
    let mut f: Vec<&str> = Vec::new();
    if expired {
        f.push("EXP");
    }
    if s.send.has_ehc_plan() {
        f.push("SEND");
    } else if s.send == SendStatus::SenSupport {
        f.push("SEN");
    }
    for (c, span) in &s.characteristics {
        if span.covers(today) && c.tag() != "FSM" && !f.contains(&c.tag()) {
            f.push(c.tag());
        }
    }
    if s.conflicts > 0 {
        f.push("!CONFLICT");
    }
    f.join(" ")
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(replica) = app.replica() else { return };
    let t = &app.theme;
    let list = &app.caseload;
    let index = replica.index();
    let show_search = list.searching || !list.query.value().is_empty();
    let [title, search, table_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(if show_search { 1 } else { 0 }),
        Constraint::Min(1),
    ])
    .areas(area);

    let mut title_spans = vec![
        styled(
            format!(" {} of {} young people", list.rows.len(), index.len()),
            t.title,
        ),
        styled(
            format!(
                " · sorted by {}{}",
                list.sort.label(),
                if list.descending { " (reversed)" } else { "" }
            ),
            t.dim,
        ),
    ];
    let described = list.filters.describe();
    if !described.is_empty() {
        title_spans.push(styled(
            format!(" · filters: {}", described.join(" · ")),
            t.key,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(title_spans)), title);
    if show_search {
        let label = if list.searching {
            "Search (Enter opens, Esc clears):"
        } else {
            "Search:"
        };
        input_line(
            frame,
            app,
            search,
            label,
            &list.query,
            list.searching,
            false,
        );
    }

    let wide = area.width >= 120;
    // The first column is the selection marker; only it and the name change
    // when the selection moves, so a move redraws a few cells, not two rows.
    let widths: Vec<Constraint> = if wide {
        vec![1, 30, 4, 21, 34, 6, 26, 10, 0]
    } else {
        vec![1, 19, 3, 11, 9, 3, 15, 6, 0]
    }
    .into_iter()
    .map(col)
    .collect();
    let header = Row::new(
        [
            "",
            "Name",
            "Yr",
            "District",
            "Activity",
            "RAG",
            "Last contact",
            "Next",
            "Flags",
        ]
        .map(Cell::from),
    )
    .style(t.header);
    let height = table_area.height.saturating_sub(1) as usize;
    let offset = window(&list.offset, list.selected, height, list.rows.len());
    let today = app.today();
    let currency = &app.config.currency;
    let rows: Vec<Row> = list
        .rows
        .iter()
        .skip(offset)
        .take(height)
        .enumerate()
        .filter_map(|(n, i)| index.all().get(*i as usize).map(|s| (n + offset, s)))
        .map(|(n, s)| {
            // Years 12–14 by year group; older young people (SEND) by age.
            let year = match academic::year_group(s.date_of_birth, today) {
                y if y <= 14 => y.to_string(),
                _ => format!("{}y", academic::academic_age(s.date_of_birth, today)),
            };
            // Expired currency is flagged; Not Known is never current, so needs no flag.
            let expired = s.activity.current().is_some_and(|a| {
                a.code.group() != crate::domain::StatusGroup::NotKnown
                    && !currency.is_current(a, today)
            });
            let activity = match s.activity.current() {
                Some(a) if wide => format!("{} {} {}", a.code, a.code.group(), a.code.label()),
                Some(a) => format!("{} {}", a.code, short_group(a.code.group())),
                None => "none".into(),
            };
            let rag = s.rating.as_ref().map(|r| r.rag);
            let rag_text = match (rag, wide) {
                (Some(r), true) => r.label().to_string(),
                (Some(r), false) => r.letter().to_string(),
                (None, _) => "-".into(),
            };
            let last = s.last_contact.as_ref().map_or_else(String::new, |c| {
                if wide {
                    format!(
                        "{} {} {}",
                        uk(c.at.date()),
                        channel_short(c.channel),
                        outcome_short(c.outcome)
                    )
                } else {
                    format!(
                        "{} {} {}",
                        c.at.format("%d/%m"),
                        channel_tiny(c.channel),
                        outcome_tiny(c.outcome)
                    )
                }
            });
            let next = s.next_follow_up.map_or_else(String::new, |d| {
                let mut text = if wide {
                    uk(d)
                } else {
                    d.format("%d/%m").to_string()
                };
                if d < today {
                    text.push('!');
                }
                text
            });
            let group_style = t.group(currency.effective_group(s.activity.current(), today));
            let selected = n == list.selected;
            Row::new(vec![
                Cell::from(if selected { "▶" } else { " " }).style(t.key),
                Cell::from(s.name.display()).style(if selected { t.selected } else { t.text }),
                Cell::from(year),
                Cell::from(if wide {
                    s.district.label()
                } else {
                    s.district.short_label()
                }),
                Cell::from(activity).style(group_style),
                Cell::from(rag_text).style(t.rag(rag)),
                Cell::from(last),
                Cell::from(next).style(if s.next_follow_up.is_some_and(|d| d < today) {
                    t.error
                } else {
                    t.text
                }),
                Cell::from(flags(s, today, expired)),
            ])
        })
        .collect();
    let empty = rows.is_empty();
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        table_area,
    );
    if empty {
        let hint = format!(
            "Nobody matches. {} clears the search and filters.",
            app.keymap.hint(&[Context::Caseload], Action::ClearFilters)
        );
        let y = table_area.y + 2;
        if y < table_area.bottom() {
            frame.render_widget(
                Paragraph::new(hint).style(t.dim),
                Rect {
                    y,
                    height: 1,
                    ..table_area
                },
            );
        }
    }
}

fn col(w: u16) -> Constraint {
    if w == 0 {
        Constraint::Fill(1)
    } else {
        Constraint::Length(w)
    }
}

fn short_group(g: crate::domain::StatusGroup) -> &'static str {
    match g {
        crate::domain::StatusGroup::Eet => "EET",
        crate::domain::StatusGroup::Neet => "NEET",
        crate::domain::StatusGroup::NotKnown => "NK",
        crate::domain::StatusGroup::Other => "Oth",
        crate::domain::StatusGroup::Pre16 => "Pre",
    }
}

pub fn draw_agenda(frame: &mut Frame, app: &App, area: Rect) {
    let Some(replica) = app.replica() else { return };
    let t = &app.theme;
    let [title, table_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let scope = if app.agenda.everyone {
        "everyone"
    } else {
        "my caseload"
    };
    let toggle = app.keymap.hint(&[Context::Caseload], Action::FilterMine);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            styled(
                format!(" {} things to do · {scope}", app.agenda.items.len()),
                t.title,
            ),
            styled(
                format!(" · {toggle}: switch between mine and everyone"),
                t.dim,
            ),
        ])),
        title,
    );
    let wide = area.width >= 120;
    let height = table_area.height.saturating_sub(1) as usize;
    let offset = window(
        &app.agenda.offset,
        app.agenda.selected,
        height,
        app.agenda.items.len(),
    );
    let header =
        Row::new(["", "What", "Young person", "Date", "District", "Activity"].map(Cell::from))
            .style(t.header);
    let rows: Vec<Row> =
        app.agenda
            .items
            .iter()
            .enumerate()
            .skip(offset)
            .take(height)
            .map(|(n, item)| {
                let s = replica.index().get(item.person);
                let selected = n == app.agenda.selected;
                Row::new(vec![
                    Cell::from(if selected { "▶" } else { " " }).style(t.key),
                    Cell::from(item.kind.label()).style(
                        if item.kind <= crate::tui::agenda::AgendaKind::CurrencyExpired {
                            t.error
                        } else {
                            t.text
                        },
                    ),
                    Cell::from(s.map(|s| s.name.display()).unwrap_or_default())
                        .style(if selected { t.selected } else { t.text }),
                    Cell::from(item.date.map(uk).unwrap_or_else(|| "never".into())),
                    Cell::from(
                        s.map(|s| {
                            if wide {
                                s.district.label()
                            } else {
                                s.district.short_label()
                            }
                        })
                        .unwrap_or_default(),
                    ),
                    Cell::from(
                        s.and_then(|s| s.activity.current())
                            .map(|a| {
                                if wide {
                                    format!("{} {}", a.code, a.code.group())
                                } else {
                                    format!("{} {}", a.code, short_group(a.code.group()))
                                }
                            })
                            .unwrap_or_default(),
                    ),
                ])
            })
            .collect();
    let widths = [
        Constraint::Length(2),
        Constraint::Length(23),
        // At 80 columns: the name in 21, so "Activity" and "430 EET" fit.
        Constraint::Length(if wide { 30 } else { 21 }),
        Constraint::Length(10),
        Constraint::Length(if wide { 21 } else { 11 }),
        Constraint::Fill(1),
    ];
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        table_area,
    );
    if app.agenda.items.is_empty() {
        let y = table_area.y + 2;
        if y < table_area.bottom() {
            frame.render_widget(
                Paragraph::new(Span::styled(" Nothing due. ", t.dim)),
                Rect {
                    y,
                    height: 1,
                    ..table_area
                },
            );
        }
    }
}
