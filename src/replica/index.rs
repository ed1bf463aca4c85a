//! The in-memory index: every person's summary, held only in memory (never as a
//! plaintext file), built at unlock and kept current as ops are committed.

use crate::domain::{CaseSummary, PersonId, PersonState};
use std::collections::HashMap;

#[derive(Default)]
pub struct CaseIndex {
    people: Vec<CaseSummary>,
    /// Lower-case text searched by `search`: names, id, UPN/ULN, postcode, phones.
    haystacks: Vec<String>,
    positions: HashMap<PersonId, usize>,
}

fn haystack(s: &CaseSummary) -> String {
    let mut h = String::with_capacity(96);
    for part in [s.name.given.as_str(), s.name.family.as_str()] {
        h.push_str(part);
        h.push(' ');
    }
    if let Some(p) = &s.name.preferred {
        h.push_str(p);
        h.push(' ');
    }
    h.push_str(&s.id.0.simple().to_string());
    for p in [
        s.upn.as_ref().map(|u| u.as_str()),
        s.uln.as_ref().map(|u| u.as_str()),
    ]
    .into_iter()
    .flatten()
    {
        h.push(' ');
        h.push_str(p);
    }
    if let Some(pc) = &s.postcode {
        h.push(' ');
        h.push_str(pc.as_str());
        h.push(' ');
        h.push_str(&pc.as_str().replace(' ', ""));
    }
    for phone in &s.phones {
        h.push(' ');
        h.push_str(phone);
    }
    h.to_lowercase()
}

impl CaseIndex {
    pub fn new(people: Vec<CaseSummary>) -> Self {
        let haystacks = people.iter().map(haystack).collect();
        let positions = people.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        Self {
            people,
            haystacks,
            positions,
        }
    }

    pub fn len(&self) -> usize {
        self.people.len()
    }

    pub fn is_empty(&self) -> bool {
        self.people.is_empty()
    }

    pub fn all(&self) -> &[CaseSummary] {
        &self.people
    }

    /// The searchable text of the person at `position` (lower case).
    pub fn haystack(&self, position: usize) -> &str {
        self.haystacks.get(position).map_or("", String::as_str)
    }

    pub fn position(&self, id: PersonId) -> Option<usize> {
        self.positions.get(&id).copied()
    }

    pub fn get(&self, id: PersonId) -> Option<&CaseSummary> {
        self.positions.get(&id).map(|&i| &self.people[i])
    }

    /// Brings one person's entry up to date after a commit.
    pub fn update(&mut self, state: &PersonState) {
        match (
            CaseSummary::of(state),
            self.positions.get(&state.id).copied(),
        ) {
            (Some(s), Some(i)) => {
                self.haystacks[i] = haystack(&s);
                self.people[i] = s;
            }
            (Some(s), None) => {
                self.positions.insert(s.id, self.people.len());
                self.haystacks.push(haystack(&s));
                self.people.push(s);
            }
            (None, Some(i)) => self.remove_at(i),
            (None, None) => {}
        }
    }

    pub fn remove(&mut self, id: PersonId) {
        if let Some(i) = self.positions.get(&id).copied() {
            self.remove_at(i);
        }
    }

    fn remove_at(&mut self, i: usize) {
        let removed = self.people.swap_remove(i);
        self.haystacks.swap_remove(i);
        self.positions.remove(&removed.id);
        if let Some(moved) = self.people.get(i) {
            self.positions.insert(moved.id, i);
        }
    }

    /// Every person whose text contains all the words of `query` (any case;
    /// spaces inside phone numbers ignored), in index order.
    pub fn search(&self, query: &str) -> Vec<&CaseSummary> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        self.people
            .iter()
            .zip(&self.haystacks)
            .filter(|(_, h)| words.iter().all(|w| h.contains(w.as_str())))
            .map(|(s, _)| s)
            .collect()
    }
}
