//! The tracking queue: ringing through a list of young people one by one.

use super::app::PersonPane;
use crate::domain::codes::StatusGroup;
use crate::domain::currency::CurrencyConfig;
use crate::domain::{CaseSummary, PersonId, Summaries, WorkerId};
use chrono::NaiveDate;
use std::time::Instant;

/// The queue screen: the list, where it has got to, and how it went.
#[derive(Default)]
pub struct QueueState {
    pub title: String,
    pub people: Vec<PersonId>,
    pub pos: usize,
    pub done: usize,
    pub skipped: usize,
    pub started: Option<Instant>,
    pub pane: Option<PersonPane>,
}

impl QueueState {
    pub fn current(&self) -> Option<PersonId> {
        self.people.get(self.pos).copied()
    }
    pub fn left(&self) -> usize {
        self.people.len().saturating_sub(self.pos)
    }
    /// Not Known young people (including expired activities) in `me`'s
    /// caseload, or everyone's if they hold none, longest without contact
    /// first: the queue's title and its people.
    pub fn not_known(
        all: Summaries<'_>,
        me: &WorkerId,
        today: NaiveDate,
        currency: &CurrencyConfig,
    ) -> (String, Vec<PersonId>) {
        let not_known = |s: &&CaseSummary| {
            currency.effective_group(s.activity.current(), today) == StatusGroup::NotKnown
        };
        let mut people: Vec<_> = all
            .iter()
            .filter(|s| s.assigned.contains(me))
            .filter(not_known)
            .collect();
        let mut title = "Not Known – my caseload".to_string();
        if people.is_empty() {
            people = all.iter().filter(not_known).collect();
            title = "Not Known – everyone".into();
        }
        people.sort_by_cached_key(|s| (s.last_contact.as_ref().map(|c| c.at), s.list_order()));
        (title, people.into_iter().map(|s| s.id).collect())
    }

    /// Attempts logged per hour since the first one.
    pub fn rate_per_hour(&self, now: Instant) -> Option<f64> {
        let started = self.started?;
        let hours = now.duration_since(started).as_secs_f64() / 3600.0;
        (self.done > 0 && hours > 0.0).then(|| self.done as f64 / hours.max(1.0 / 60.0))
    }
}
