//! The tracking queue: one person at a time, the number to ring, their past
//! attempts, one key per outcome.

use super::{contact_line, styled};
use crate::domain::dates::uk;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::Context;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use std::time::Instant;

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let q = &app.queue;
    let [progress, body, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(3),
    ])
    .areas(area);
    let rate = q
        .rate_per_hour(Instant::now())
        .map_or("—".to_string(), |r| format!("{r:.0}"));
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            styled(format!(" Queue: {} ", q.title), t.title),
            styled(
                format!(
                    "· {} logged · {} skipped · {} left of {} · {rate} per hour",
                    q.done,
                    q.skipped,
                    q.left(),
                    q.people.len()
                ),
                t.text,
            ),
        ])),
        progress,
    );
    let mut lines: Vec<Line> = Vec::new();
    match &q.pane {
        None if q.people.is_empty() => lines.push(Line::from(
            "The queue is empty. On the caseload, filter to the people to ring (for example Not Known in one district) and press t.",
        )),
        None if q.current().is_none() => lines.push(Line::from(Span::styled(
            format!("Queue finished: {} attempts logged, {} skipped.", q.done, q.skipped),
            t.ok,
        ))),
        None => lines.push(Line::from("This record could not be opened.")),
        Some(pane) => {
            let p = &pane.person;
            lines.push(Line::from(vec![
                styled(p.name.display(), t.title),
                styled(format!(
                    "  {} · {} · {}",
                    crate::domain::academic::year_label(p.date_of_birth, app.today())
                        .unwrap_or_else(|| format!("age {}", p.academic_age(app.today()))),
                    p.district,
                    p.id.short()
                ), t.text),
            ]));
            lines.push(Line::default());
            if p.phones.is_empty() {
                lines.push(Line::from(Span::styled("No phone number on record", t.error)));
            }
            for ph in &p.phones {
                lines.push(Line::from(vec![styled(format!("Ring {}: ", ph.label), t.header), styled(ph.number.clone(), t.key)]));
            }
            if let Some(a) = pane.state.current_activity() {
                lines.push(Line::from(format!("Activity: {} {} ({}), confirmed {}", a.code, a.code.label(), a.code.group(), uk(a.confirmed))));
            }
            lines.push(Line::default());
            lines.push(Line::from(Span::styled(format!("Past attempts ({})", pane.state.contacts.len()), t.header)));
            for c in pane.state.contacts.iter().rev().take(8) {
                lines.push(Line::from(contact_line(&pane.state, c)));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
    let k = |a: Action| app.keymap.hint(&[Context::Queue], a);
    let help = if keys.width < 100 {
        // Two lines of at most 80 columns: every key shows at 80×24.
        vec![
            Line::from(format!(
                "{} no answer · {} voicemail · {} wrong number · {} young person · {} parent/carer",
                k(Action::OutcomeNoAnswer),
                k(Action::OutcomeVoicemail),
                k(Action::OutcomeWrongNumber),
                k(Action::OutcomeSpokeYoungPerson),
                k(Action::OutcomeSpokeParent),
            )),
            Line::from(format!(
                "{} 3rd party · {} refused · {} skip · {} back · {} undo · {} record · {} form",
                k(Action::OutcomeSpokeThirdParty),
                k(Action::OutcomeRefused),
                k(Action::QueueSkip),
                k(Action::QueuePrevious),
                k(Action::Undo),
                k(Action::Open),
                k(Action::LogContact),
            )),
        ]
    } else {
        vec![
            Line::from(format!(
                "{} no answer · {} voicemail · {} wrong number · {} spoke to young person · {} spoke to parent/carer",
                k(Action::OutcomeNoAnswer),
                k(Action::OutcomeVoicemail),
                k(Action::OutcomeWrongNumber),
                k(Action::OutcomeSpokeYoungPerson),
                k(Action::OutcomeSpokeParent)
            )),
            Line::from(format!(
                "{} third party · {} refused · {} skip · {} back · {} open record · {} other channel or note",
                k(Action::OutcomeSpokeThirdParty),
                k(Action::OutcomeRefused),
                k(Action::QueueSkip),
                k(Action::QueuePrevious),
                k(Action::Open),
                k(Action::LogContact)
            )),
        ]
    };
    frame.render_widget(
        Paragraph::new(help)
            .style(t.dim)
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .border_style(t.border),
            ),
        keys,
    );
}
