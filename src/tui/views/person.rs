//! One young person: identity and contact details, characteristics, activity and
//! its history, RAG, offers and destinations, follow-ups, contacts and notes.

use super::{contact_line, styled};
use crate::domain::academic;
use crate::domain::dates::uk;
use crate::domain::risk;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keymap::Context;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(pane) = &app.person else { return };
    let t = &app.theme;
    let p = &pane.person;
    let state = &pane.state;
    let today = app.today();
    let currency = &app.config.currency;
    let mut lines: Vec<Line> = Vec::new();
    let head = |text: &str| Line::from(Span::styled(text.to_string(), t.header));

    // Identity.
    lines.push(Line::from(vec![
        styled(p.name.display(), t.title),
        styled(
            format!(
                "   born {} · age {}{} · {}",
                uk(p.date_of_birth),
                p.academic_age(today),
                academic::year_label(p.date_of_birth, today)
                    .map(|y| format!(" · {y}"))
                    .unwrap_or_default(),
                p.gender
            ),
            t.text,
        ),
    ]));
    lines.push(Line::from(format!(
        "{} ({} area) · {} · id {}",
        p.district,
        p.area(),
        p.school_or_provider
            .as_deref()
            .unwrap_or("no school or provider"),
        p.id.short()
    )));
    // Said only where it changes what is counted or who else tracks them.
    if p.residence != Default::default() {
        lines.push(Line::from(styled(p.residence.describe(), t.header)));
    }
    let mut ids = Vec::new();
    if let Some(u) = &p.upn {
        ids.push(format!("UPN {}", u.as_str()));
    }
    if let Some(u) = &p.uln {
        ids.push(format!("ULN {}", u.as_str()));
    }
    ids.push(format!("SEND: {}", p.send));
    if let Some(l) = p.level_of_need {
        ids.push(format!("Need: {}", l.label()));
    }
    if p.consent.recorded_on.is_none() && p.consent.note.is_empty() {
        ids.push(p.consent.status.label().to_string());
    }
    lines.push(Line::from(ids.join(" · ")));
    if p.consent.recorded_on.is_some() || !p.consent.note.is_empty() {
        lines.push(Line::from(p.consent.describe()));
    }

    // Contact details.
    let mut contact = Vec::new();
    for ph in &p.phones {
        contact.push(format!("{} {}", ph.label, ph.number));
    }
    if let Some(e) = &p.email {
        contact.push(e.clone());
    }
    for s in &p.social {
        contact.push(format!("{} {}", s.platform, s.handle));
    }
    lines.push(Line::from(contact.join(" · ")));
    if !p.not_working.is_empty() {
        let dead: Vec<String> = p
            .not_working
            .iter()
            .map(|n| {
                format!(
                    "{} ({}, {})",
                    n.detail,
                    n.how.label().to_lowercase(),
                    uk(n.found_on)
                )
            })
            .collect();
        lines.push(Line::from(vec![
            styled("Not working: ", t.header),
            styled(dead.join("; "), t.text),
        ]));
    }
    if !p.address.town.is_empty() || p.address.postcode.is_some() {
        lines.push(Line::from(format!(
            "{}, {} {}",
            p.address.lines.join(", "),
            p.address.town,
            p.address.postcode.as_ref().map_or("", |pc| pc.as_str())
        )));
    }
    if let Some(pref) = p.contact_preferences.preferred {
        lines.push(Line::from(format!("Prefers: {}", pref.label())));
    }
    if !p.characteristics.is_empty() {
        let cs: Vec<String> = p
            .characteristics
            .iter()
            .map(|(c, span)| {
                format!(
                    "{} (since {}{})",
                    c.label(),
                    uk(span.start),
                    span.end
                        .map(|e| format!(" to {}", uk(e)))
                        .unwrap_or_default()
                )
            })
            .collect();
        lines.push(Line::from(vec![
            styled("Characteristics: ", t.header),
            styled(cs.join("; "), t.text),
        ]));
    }

    // Conflicts: changed in two places at once; both values are kept.
    for c in state.conflicts() {
        for l in c.losers {
            let when = crate::domain::dates::local_time(l.stamp.at.millis)
                .format("%d/%m/%Y %H:%M")
                .to_string();
            lines.push(Line::from(Span::styled(
                format!(
                    "! {} changed elsewhere by {} on {when}; {}'s later change is shown",
                    c.field.label(),
                    l.author,
                    c.current.author
                ),
                t.error,
            )));
        }
    }

    // Activity.
    lines.push(Line::default());
    lines.push(head("Current activity"));
    match state.current_activity() {
        Some(a) => {
            let current = currency.is_current(a, today);
            lines.push(Line::from(vec![
                styled(
                    format!("{} {} ", a.code, a.code.label()),
                    t.group(currency.effective_group(Some(a), today)),
                ),
                styled(
                    format!(
                        "[{}{}]",
                        a.code.group(),
                        if a.code.meets_duty() {
                            ", participating"
                        } else {
                            ""
                        }
                    ),
                    t.text,
                ),
            ]));
            let until =
                currency
                    .current_until(a)
                    .map_or("never current (Not Known)".to_string(), |d| {
                        if current {
                            format!("current until {}", uk(d))
                        } else {
                            format!("EXPIRED {} — counts as Not Known", uk(d))
                        }
                    });
            lines.push(Line::from(format!(
                "since {} · confirmed {} ({}) · {}{}",
                uk(a.start),
                uk(a.confirmed),
                a.source,
                until,
                a.provider
                    .as_ref()
                    .map(|p| format!(" · {p}"))
                    .unwrap_or_default()
            )));
            if let Some(end) = a.expected_end {
                lines.push(Line::from(format!("expected to end {}", uk(end))));
            }
            if let Some(target) = currency.neet_target(a) {
                let word = if target < today { "PASSED" } else { "due" };
                lines.push(Line::from(Span::styled(
                    format!("6-week NEET target {word} {}", uk(target)),
                    if target < today { t.error } else { t.text },
                )));
            }
        }
        None => lines.push(Line::from("none recorded")),
    }
    for a in state.activity_history.iter().rev().skip(1) {
        lines.push(Line::from(Span::styled(
            format!(
                "  before: {} {} from {} (by {})",
                a.value.code,
                a.value.code.label(),
                uk(a.value.start),
                a.author
            ),
            t.dim,
        )));
    }

    // Risk.
    lines.push(Line::default());
    lines.push(head("Risk of NEET"));
    let suggestion = risk::suggest(state, today, &app.config.risk);
    match state.latest_rating() {
        Some(r) => {
            let due = if r.value.review_due <= today {
                " — REVIEW DUE"
            } else {
                ""
            };
            lines.push(Line::from(vec![
                styled(r.value.rag.label().to_uppercase(), t.rag(Some(r.value.rag))),
                styled(
                    format!(
                        " by {} on {}: {} · review {}{due}",
                        r.author,
                        uk(r.value.rated_on),
                        r.value.reason,
                        uk(r.value.review_due)
                    ),
                    t.text,
                ),
            ]));
        }
        None => lines.push(Line::from("Not rated")),
    }
    let factors: Vec<String> = suggestion
        .factors
        .iter()
        .map(|(f, w)| format!("{} ({w})", f.label()))
        .collect();
    lines.push(Line::from(vec![
        styled("Suggested: ", t.dim),
        styled(suggestion.rag.label(), t.rag(Some(suggestion.rag))),
        styled(
            format!(" (score {}) {}", suggestion.score, factors.join(", ")),
            t.dim,
        ),
    ]));
    for r in state.ratings.iter().rev().skip(1).take(3) {
        lines.push(Line::from(Span::styled(
            format!(
                "  earlier: {} on {} by {}",
                r.value.rag,
                uk(r.value.rated_on),
                r.author
            ),
            t.dim,
        )));
    }

    // Offers, destinations, follow-ups.
    lines.push(Line::default());
    lines.push(head("September Guarantee and destination"));
    match state.latest_offer() {
        Some(o) => lines.push(Line::from(format!(
            "{}: {}{} (recorded {})",
            o.value.year,
            o.value.status,
            o.value.kind.map(|k| format!(" — {k}")).unwrap_or_default(),
            uk(o.value.recorded_on)
        ))),
        None => lines.push(Line::from("No September Guarantee recorded")),
    }
    if let Some(d) = state.latest_destination() {
        lines.push(Line::from(format!(
            "Intended destination: {} (recorded {})",
            d.value.kind,
            uk(d.value.recorded_on)
        )));
    }
    let follow_ups = state.open_follow_ups();
    lines.push(Line::default());
    lines.push(head(&format!("Follow-ups ({} open)", follow_ups.len())));
    let me = app.replica().map(|r| r.identity().worker.clone());
    for f in &follow_ups {
        let late = if f.due < today { " — OVERDUE" } else { "" };
        // Each belongs to whoever set it: only they close it.
        let whose = if Some(&f.owner) == me.as_ref() {
            "yours".to_string()
        } else {
            f.owner.to_string()
        };
        lines.push(Line::from(Span::styled(
            format!("{}: {} ({whose}){late}", uk(f.due), f.reason),
            if f.due < today { t.error } else { t.text },
        )));
    }

    // Contacts and notes, newest first.
    lines.push(Line::default());
    lines.push(head(&format!(
        "Contact attempts ({})",
        state.contacts.len()
    )));
    for c in state.contacts.iter().rev() {
        lines.push(Line::from(contact_line(state, c)));
    }
    lines.push(Line::default());
    lines.push(head(&format!("Notes ({})", state.live_notes().count())));
    // Corrected notes stay, marked, as corrected contacts do.
    for n in state.notes.iter().rev() {
        let when = uk(crate::domain::dates::local_day(n.stamp.at.millis));
        let corrected = if state.is_retracted(n.stamp.op) {
            " [corrected]"
        } else {
            ""
        };
        lines.push(Line::from(format!(
            "{when} {}: {}{corrected}",
            n.author, n.value.text
        )));
    }

    // What can be recorded here, in few words at 80 columns (Esc is in help).
    let wide = area.width >= 100;
    let mut hints: Vec<String> = RECORD_KEYS
        .iter()
        .map(|(a, short, long)| {
            let key = app.keymap.hint(&[Context::Person], *a);
            format!("{key} {}", if wide { long } else { short })
        })
        .collect();
    if wide {
        hints.push(format!(
            "{} back",
            app.keymap.hint(&[Context::Global], Action::Back)
        ));
    }
    let hints = format!(" {} ", hints.join(if wide { " · " } else { "  " }));
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(t.border)
        .title(Span::styled(hints, t.dim));
    let [body] = Layout::vertical([Constraint::Min(1)]).areas(area);
    let record = Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false });
    // Scrolled no further than its last line at the bottom of the pane.
    let rows = u16::try_from(record.line_count(body.width)).unwrap_or(u16::MAX);
    let last = rows.saturating_sub(body.height);
    pane.last_scroll.set(last);
    frame.render_widget(record.scroll((pane.scroll.min(last), 0)), body);
}

/// The record's keys and what they do, in few words and in more.
const RECORD_KEYS: [(Action, &str, &str); 8] = [
    (Action::LogContact, "contact", "log contact"),
    (Action::SetActivity, "activity", "activity"),
    (Action::RateRisk, "rate", "rate"),
    (Action::AddNote, "note", "note"),
    (Action::EditDetails, "details", "contact details"),
    (Action::FollowUpDone, "done", "follow-up done"),
    (Action::RecordOffer, "offer", "September Guarantee offer"),
    (Action::RecordDestination, "dest.", "intended destination"),
];
