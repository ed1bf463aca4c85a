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
            // Refused consent matters before ringing: said first, in words.
            if p.consent.status == crate::domain::person::ConsentStatus::Refused {
                lines.push(Line::from(Span::styled(p.consent.describe(), t.error)));
            }
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
    // At 80 columns every key shows in two lines; wider, in more words.
    let wide = keys.width >= 100;
    let help: Vec<Line> = QUEUE_KEYS
        .iter()
        .map(|row| {
            let words: Vec<String> = row
                .iter()
                .map(|(a, short, long)| format!("{} {}", k(*a), if wide { long } else { short }))
                .collect();
            Line::from(words.join(" · "))
        })
        .collect();
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

/// The queue's keys and what they do, in few words and in more: two lines.
const QUEUE_KEYS: [&[(Action, &str, &str)]; 2] = [
    &[
        (Action::OutcomeNoAnswer, "no answer", "no answer"),
        (Action::OutcomeVoicemail, "voicemail", "voicemail"),
        (Action::OutcomeWrongNumber, "wrong number", "wrong number"),
        (
            Action::OutcomeSpokeYoungPerson,
            "young person",
            "spoke to young person",
        ),
        (
            Action::OutcomeSpokeParent,
            "parent/carer",
            "spoke to parent/carer",
        ),
    ],
    &[
        (Action::OutcomeSpokeThirdParty, "3rd party", "third party"),
        (Action::OutcomeRefused, "refused", "refused"),
        (Action::QueueSkip, "skip", "skip"),
        (Action::QueuePrevious, "back", "back"),
        (Action::Undo, "undo", "undo"),
        (Action::Open, "record", "open record"),
        (Action::LogContact, "form", "other channel or note"),
    ],
];
