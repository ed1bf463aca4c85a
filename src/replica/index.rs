//! The in-memory index: every person's summary, held only in memory (never as a
//! plaintext file), built at unlock and kept current as ops are committed.

use crate::domain::{CaseSummary, PersonId, PersonState};
use std::collections::HashMap;

/// Many strings in one buffer. Searching 52,500 short texts is dominated by
/// cache misses when each is its own allocation; laid end to end they stream
/// through the cache (about 7× faster). A changed text is appended and the old
/// bytes left as garbage until half the buffer is garbage.
#[derive(Default)]
struct TextArena {
    text: String,
    spans: Vec<(u32, u32)>,
    garbage: usize,
}

impl TextArena {
    fn get(&self, i: usize) -> &str {
        self.spans
            .get(i)
            .and_then(|&(start, len)| self.text.get(start as usize..(start + len) as usize))
            .unwrap_or("")
    }

    fn append(&mut self, s: &str) -> (u32, u32) {
        let span = (self.text.len() as u32, s.len() as u32);
        self.text.push_str(s);
        span
    }

    fn push(&mut self, s: &str) {
        let span = self.append(s);
        self.spans.push(span);
    }

    fn set(&mut self, i: usize, s: &str) {
        self.garbage += self.spans[i].1 as usize;
        self.spans[i] = self.append(s);
        self.maybe_compact();
    }

    fn swap_remove(&mut self, i: usize) {
        self.garbage += self.spans[i].1 as usize;
        self.spans.swap_remove(i);
        self.maybe_compact();
    }

    fn maybe_compact(&mut self) {
        if self.garbage > self.text.len() / 2 {
            let mut fresh = TextArena::default();
            for i in 0..self.spans.len() {
                fresh.push(self.get(i));
            }
            *self = fresh;
        }
    }
}

#[derive(Default)]
pub struct CaseIndex {
    people: Vec<CaseSummary>,
    /// Lower-case text searched word by word: names, short id, UPN/ULN,
    /// postcode (with and without its space), phone digits.
    haystacks: TextArena,
    /// Lower-case names and postcode only: the short text fuzzy matching scans.
    fuzzy: TextArena,
    positions: HashMap<PersonId, usize>,
}

fn names_text(s: &CaseSummary) -> String {
    let mut h = format!("{} {}", s.name.given, s.name.family);
    if let Some(p) = &s.name.preferred {
        h.push(' ');
        h.push_str(p);
    }
    if let Some(pc) = &s.postcode {
        h.push(' ');
        h.push_str(pc.as_str());
    }
    h.to_lowercase()
}

fn haystack(s: &CaseSummary) -> String {
    let mut h = String::with_capacity(80);
    for part in [s.name.given.as_str(), s.name.family.as_str()] {
        h.push_str(part);
        h.push(' ');
    }
    if let Some(p) = &s.name.preferred {
        h.push_str(p);
        h.push(' ');
    }
    // The eight hex digits people see and type, not the whole id.
    h.push_str(&s.id.short());
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
        let mut haystacks = TextArena::default();
        let mut fuzzy = TextArena::default();
        for p in &people {
            haystacks.push(&haystack(p));
            fuzzy.push(&names_text(p));
        }
        let positions = people.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        Self {
            people,
            haystacks,
            fuzzy,
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
        self.haystacks.get(position)
    }

    /// Names and postcode of the person at `position` (lower case), for fuzzy matching.
    pub fn fuzzy_text(&self, position: usize) -> &str {
        self.fuzzy.get(position)
    }

    pub fn position(&self, id: PersonId) -> Option<usize> {
        self.positions.get(&id).copied()
    }

    pub fn get(&self, id: PersonId) -> Option<&CaseSummary> {
        self.positions.get(&id).map(|&i| &self.people[i])
    }

    /// Brings one person's entry up to date after a commit.
    pub fn update(&mut self, state: &PersonState) {
        self.set(state.id, CaseSummary::of(state));
    }

    /// Sets one person's entry to `summary` (None: removes it).
    pub fn set(&mut self, id: PersonId, summary: Option<CaseSummary>) {
        match (summary, self.positions.get(&id).copied()) {
            (Some(s), Some(i)) => {
                self.haystacks.set(i, &haystack(&s));
                self.fuzzy.set(i, &names_text(&s));
                self.people[i] = s;
            }
            (Some(s), None) => {
                self.positions.insert(s.id, self.people.len());
                self.haystacks.push(&haystack(&s));
                self.fuzzy.push(&names_text(&s));
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
        self.fuzzy.swap_remove(i);
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
            .enumerate()
            .filter(|(i, _)| {
                words
                    .iter()
                    .all(|w| self.haystacks.get(*i).contains(w.as_str()))
            })
            .map(|(_, s)| s)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arena_keeps_texts_through_updates_removals_and_compaction() {
        let mut a = TextArena::default();
        for i in 0..100 {
            a.push(&format!("text {i}"));
        }
        for round in 0..10 {
            for i in 0..100 {
                a.set(i, &format!("round {round} text {i}"));
            }
        }
        assert!(a.text.len() < 100 * 40, "compacted: {}", a.text.len());
        assert_eq!(a.get(42), "round 9 text 42");
        a.swap_remove(0);
        assert_eq!(a.get(0), "round 9 text 99");
        assert_eq!(a.spans.len(), 99);
        assert_eq!(a.get(500), "");
    }
}
