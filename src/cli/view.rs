//! Plain-text and JSON renderings of records for the command line.

use crate::config::Config;
use crate::domain::dates::uk;
use crate::domain::details::UsedDetail;
use crate::domain::ops::FieldValue;
use crate::domain::records::{IntendedDestination, Note, RiskRating, SeptemberGuaranteeOffer};
use crate::domain::risk;
use crate::domain::state::Logged;
use crate::domain::{CaseSummary, ContactAttempt, CurrentActivity, PersonState, YoungPerson};
use chrono::NaiveDate;
use serde::Serialize;

/// One line per person: id, name, year, district, activity, RAG, last contact.
/// One line of `people`. The group is the one reports count: an activity
/// whose currency has expired is Not Known, as it is in the figures.
pub fn summary_line(
    s: &CaseSummary,
    today: NaiveDate,
    currency: &crate::domain::currency::CurrencyConfig,
) -> String {
    let year = crate::domain::academic::year_group(s.date_of_birth, today);
    let activity = s
        .activity
        .current()
        .map(|a| {
            let group = currency.effective_group(Some(a), today);
            format!("{} {}", a.code, group)
        })
        .unwrap_or_else(|| "— none".into());
    let rag = s
        .rating
        .as_ref()
        .map(|r| r.rag.label())
        .unwrap_or("unrated");
    let contact = s
        .last_contact
        .as_ref()
        .map(|c| format!("{} {} ({})", uk(c.at.date()), c.channel, c.outcome))
        .unwrap_or_else(|| "no contact".into());
    format!(
        "{}  {:<28} Y{:<2} {:<21} {:<15} {:<7} {}",
        s.id.short(),
        s.name.display(),
        year,
        s.district.label(),
        activity,
        rag,
        contact
    )
}

#[derive(Serialize)]
pub struct ConflictView {
    pub field: String,
    pub current_by: String,
    pub losing_values: Vec<Logged<FieldValue>>,
}

/// A contact attempt as recorded, with the number, address or handle it
/// used where that was recorded.
#[derive(Serialize)]
pub struct ContactView {
    #[serde(flatten)]
    pub entry: Logged<ContactAttempt>,
    pub used: Option<UsedDetail>,
}

/// Everything about one person, for `caseload show --json`.
#[derive(Serialize)]
pub struct PersonView {
    pub person: YoungPerson,
    pub current_activity: Option<CurrentActivity>,
    pub activity_history: Vec<Logged<CurrentActivity>>,
    pub contacts: Vec<ContactView>,
    pub notes: Vec<Logged<Note>>,
    pub ratings: Vec<Logged<RiskRating>>,
    pub offers: Vec<Logged<SeptemberGuaranteeOffer>>,
    pub destinations: Vec<Logged<IntendedDestination>>,
    pub open_follow_ups: Vec<(NaiveDate, String)>,
    pub corrected_entries: Vec<String>,
    pub conflicts: Vec<ConflictView>,
}

impl PersonView {
    pub fn of(state: &PersonState, person: YoungPerson) -> Self {
        Self {
            person,
            current_activity: state.current_activity().cloned(),
            activity_history: state.activity_history.clone(),
            contacts: state
                .contacts
                .iter()
                .map(|c| ContactView {
                    used: state.used_by(c.op()).cloned(),
                    entry: c.clone(),
                })
                .collect(),
            notes: state.notes.clone(),
            ratings: state.ratings.clone(),
            offers: state.offers.clone(),
            destinations: state.destinations.clone(),
            open_follow_ups: state
                .open_follow_ups()
                .into_iter()
                .map(|f| (f.due, f.reason))
                .collect(),
            corrected_entries: state
                .retractions
                .iter()
                .map(|r| r.value.target.to_string())
                .collect(),
            conflicts: state
                .conflicts()
                .into_iter()
                .map(|c| ConflictView {
                    field: c.field.label(),
                    current_by: c.current.author.to_string(),
                    losing_values: c.losers.to_vec(),
                })
                .collect(),
        }
    }
}

/// The record as text, UK dates throughout.
pub fn person_text(
    state: &PersonState,
    p: &YoungPerson,
    today: NaiveDate,
    config: &Config,
) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("{}  ({})", p.name.display(), p.id));
    line(format!(
        "Born {} · academic age {}{} · {} · {} ({} area)",
        uk(p.date_of_birth),
        p.academic_age(today),
        crate::domain::academic::year_label(p.date_of_birth, today)
            .map(|y| format!(" · {y}"))
            .unwrap_or_default(),
        p.gender,
        p.district,
        p.area()
    ));
    line(format!("Residence: {}", p.residence.describe()));
    if let Some(pc) = &p.address.postcode {
        line(format!(
            "Address: {}, {}, {}",
            p.address.lines.join(", "),
            p.address.town,
            pc.as_str()
        ));
    }
    for ph in &p.phones {
        line(format!("Phone ({}): {}", ph.label, ph.number));
    }
    if let Some(e) = &p.email {
        line(format!("Email: {e}"));
    }
    for n in &p.not_working {
        line(format!(
            "Not working: {} ({}, {})",
            n.detail,
            n.how.label().to_lowercase(),
            uk(n.found_on)
        ));
    }
    if let Some(c) = p.contact_preferences.preferred {
        line(format!("Prefers: {}", c.label()));
    }
    line(p.consent.describe());
    line(format!(
        "SEND: {} · level of need: {}",
        p.send,
        p.level_of_need.map_or("—", |l| l.label())
    ));
    for (c, span) in &p.characteristics {
        line(format!("Characteristic: {} since {}", c, uk(span.start)));
    }
    match state.current_activity() {
        Some(a) => line(format!(
            "Activity: {} {} ({}) since {}, confirmed {}{}{}",
            a.code,
            a.code.label(),
            a.code.group(),
            uk(a.start),
            uk(a.confirmed),
            a.expected_end
                .map(|d| format!(", expected to end {}", uk(d)))
                .unwrap_or_default(),
            a.provider
                .as_ref()
                .map(|p| format!(", at {p}"))
                .unwrap_or_default()
        )),
        None => line("Activity: none recorded".into()),
    }
    if let Some(r) = state.latest_rating() {
        line(format!(
            "Risk of NEET: {} ({}), rated {} by {}, review {}",
            r.value.rag,
            r.value.reason,
            uk(r.value.rated_on),
            r.author,
            uk(r.value.review_due)
        ));
    }
    let suggestion = risk::suggest(state, today, &config.risk);
    let factors: Vec<String> = suggestion
        .factors
        .iter()
        .map(|(f, w)| format!("{} ({w})", f.label()))
        .collect();
    line(format!(
        "Suggested rating: {} (score {}{}{})",
        suggestion.rag,
        suggestion.score,
        if factors.is_empty() { "" } else { ": " },
        factors.join(", ")
    ));
    if !p.in_statutory_cohort(today, config.cohort.send_upper_age) {
        line("Outside the statutory tracking cohort on this date".into());
    }
    for c in state.conflicts() {
        for l in c.losers {
            line(format!(
                "! {} changed elsewhere by {}: their value ({}) lost to {}'s later change",
                c.field.label(),
                l.author,
                l.value.describe(),
                c.current.author
            ));
        }
    }
    line(format!("Contact attempts ({}):", state.contacts.len()));
    for c in state.contacts.iter().rev() {
        let struck = if state.is_retracted(c.op()) {
            " [corrected]"
        } else {
            ""
        };
        line(format!(
            "  {} {}{} — {} — {}{}{}",
            c.value.at.format("%d/%m/%Y %H:%M"),
            c.value.channel,
            state
                .used_by(c.op())
                .map(|u| format!(" to {}", u.describe()))
                .unwrap_or_default(),
            c.value.outcome,
            c.author,
            if c.value.note.is_empty() {
                String::new()
            } else {
                format!(": {}", c.value.note)
            },
            struck
        ));
    }
    for f in state.open_follow_ups() {
        line(format!(
            "Follow-up due {}: {} (set by {})",
            uk(f.due),
            f.reason,
            f.owner
        ));
    }
    for n in &state.notes {
        let struck = if state.is_retracted(n.stamp.op) {
            " [corrected]"
        } else {
            ""
        };
        line(format!("Note by {}: {}{struck}", n.author, n.value.text));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::activity::ActivitySource;
    use crate::domain::currency::CurrencyConfig;

    #[test]
    fn people_lists_an_expired_activity_as_not_known_as_the_figures_do() {
        let on = |m, d| NaiveDate::from_ymd_opt(2026, m, d).expect("date");
        let ops: Vec<_> = crate::demo::DemoCohort::test_ops(1, 3);
        let state = crate::domain::PersonState::fold(ops[0].person, &ops);
        let mut s = CaseSummary::of(&state).expect("a summary");
        let neet = CurrentActivity {
            code: "619".parse().expect("code"),
            start: on(1, 5),
            confirmed: on(1, 5),
            source: ActivitySource::YoungPerson,
            expected_end: None,
            provider: None,
        };
        s.activity = crate::domain::summary::Activities::new(Some(neet), []);
        let currency = CurrencyConfig::default();
        assert!(summary_line(&s, on(1, 20), &currency).contains("619 NEET"));
        let later = summary_line(&s, on(11, 23), &currency);
        assert!(later.contains("619 Not Known"), "{later}");
    }
}
