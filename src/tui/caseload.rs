//! The caseload list: filters, sort order and incremental search over the
//! in-memory index, instant at Kent's 52,500.
//!
//! Search has two tiers. First, every typed word must appear in the person's
//! text (names, short id, UPN/ULN, postcode, phone digits): a SIMD substring scan
//! that keeps the list's sort order. Only when that finds few people (a typo, an
//! abbreviation: "olvia tylor") does fuzzy matching (nucleo) rank near misses
//! on names and postcode, on every core. Results are cached per query, so typing
//! narrows from the longest cached prefix and backspacing is free.

use crate::domain::codes::StatusGroup;
use crate::domain::currency::CurrencyConfig;
use crate::domain::records::Rag;
use crate::domain::{CaseSummary, District, PersonId, WorkerId};
use crate::replica::CaseIndex;
use crate::report::VulnerableGroup;
use chrono::NaiveDate;
use memchr::memmem::Finder;
use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use std::cell::Cell;
use tui_input::Input;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RagFilter {
    Rated(Rag),
    Unrated,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    pub rag: Option<RagFilter>,
    pub status: Option<StatusGroup>,
    pub district: Option<District>,
    pub group: Option<VulnerableGroup>,
    pub overdue: bool,
    pub mine: bool,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }

    /// Short words for the title bar, e.g. "RAG Red · NEET · Thanet · mine".
    pub fn describe(&self) -> Vec<String> {
        let mut v = Vec::new();
        match self.rag {
            Some(RagFilter::Rated(r)) => v.push(format!("RAG {}", r.label())),
            Some(RagFilter::Unrated) => v.push("unrated".into()),
            None => {}
        }
        if let Some(s) = self.status {
            v.push(s.label().into());
        }
        if let Some(d) = self.district {
            v.push(d.label().into());
        }
        if let Some(g) = self.group {
            v.push(g.label().into());
        }
        if self.overdue {
            v.push("overdue".into());
        }
        if self.mine {
            v.push("mine".into());
        }
        v
    }

    pub fn cycle_rag(&mut self) {
        self.rag = match self.rag {
            None => Some(RagFilter::Rated(Rag::Red)),
            Some(RagFilter::Rated(Rag::Red)) => Some(RagFilter::Rated(Rag::Amber)),
            Some(RagFilter::Rated(Rag::Amber)) => Some(RagFilter::Rated(Rag::Green)),
            Some(RagFilter::Rated(Rag::Green)) => Some(RagFilter::Unrated),
            Some(RagFilter::Unrated) => None,
        }
    }

    pub fn cycle_status(&mut self) {
        let order = [
            StatusGroup::Eet,
            StatusGroup::Neet,
            StatusGroup::NotKnown,
            StatusGroup::Other,
        ];
        self.status = cycle(&order, self.status);
    }

    pub fn cycle_district(&mut self) {
        self.district = cycle(&District::ALL, self.district);
    }

    pub fn cycle_group(&mut self) {
        self.group = cycle(&VulnerableGroup::ALL, self.group);
    }
}

fn cycle<T: Copy + PartialEq>(all: &[T], current: Option<T>) -> Option<T> {
    match current {
        None => all.first().copied(),
        Some(c) => all
            .iter()
            .position(|x| *x == c)
            .and_then(|i| all.get(i + 1))
            .copied(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Year,
    District,
    Activity,
    Rag,
    LastContact,
    NextFollowUp,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Year => "year",
            SortKey::District => "district",
            SortKey::Activity => "activity",
            SortKey::Rag => "RAG",
            SortKey::LastContact => "last contact",
            SortKey::NextFollowUp => "next follow-up",
        }
    }

    pub fn next(self) -> SortKey {
        match self {
            SortKey::Name => SortKey::Year,
            SortKey::Year => SortKey::District,
            SortKey::District => SortKey::Activity,
            SortKey::Activity => SortKey::Rag,
            SortKey::Rag => SortKey::LastContact,
            SortKey::LastContact => SortKey::NextFollowUp,
            SortKey::NextFollowUp => SortKey::Name,
        }
    }
}

/// What the filters need to know beyond the summaries.
pub struct FilterContext<'a> {
    pub today: NaiveDate,
    pub me: &'a WorkerId,
    pub currency: &'a CurrencyConfig,
}

impl FilterContext<'_> {
    pub fn keeps(&self, f: &Filters, s: &CaseSummary) -> bool {
        if let Some(r) = f.rag {
            let ok = match (r, &s.rating) {
                (RagFilter::Rated(want), Some(have)) => have.rag == want,
                (RagFilter::Unrated, None) => true,
                _ => false,
            };
            if !ok {
                return false;
            }
        }
        if let Some(g) = f.status
            && self
                .currency
                .effective_group(s.activity.as_ref(), self.today)
                != g
        {
            return false;
        }
        if f.district.is_some_and(|d| d != s.district) {
            return false;
        }
        if f.group.is_some_and(|g| !g.includes(s, self.today)) {
            return false;
        }
        if f.overdue && s.next_follow_up.is_none_or(|d| d >= self.today) {
            return false;
        }
        if f.mine && !s.assigned.contains(self.me) {
            return false;
        }
        true
    }
}

/// Below this many substring matches, fuzzy matches are added after them.
const FUZZY_BELOW: usize = 30;
/// How many recent queries keep their results.
const CACHE: usize = 64;

/// One query's results.
struct QueryResult {
    query: String,
    /// Every person containing all the words, in list order.
    substring: Vec<u32>,
    /// Every fuzzy match, in list order (for narrowing), when computed.
    fuzzy_all: Option<Vec<u32>>,
    /// Fuzzy matches that are not substring matches, best first.
    fuzzy_extra: Vec<u32>,
}

impl QueryResult {
    fn rows(&self) -> Vec<u32> {
        let mut rows = Vec::with_capacity(self.substring.len() + self.fuzzy_extra.len());
        rows.extend_from_slice(&self.substring);
        rows.extend_from_slice(&self.fuzzy_extra);
        rows
    }
}

pub struct CaseloadList {
    pub query: Input,
    pub searching: bool,
    pub filters: Filters,
    pub sort: SortKey,
    pub descending: bool,
    /// Index positions shown, in order.
    pub rows: Vec<u32>,
    pub selected: usize,
    /// First row drawn; kept by the view so the selection stays in sight.
    pub offset: Cell<usize>,
    /// Filtered and sorted, before the search.
    base: Vec<u32>,
    /// Recent queries' results, newest last; cleared when `base` changes.
    cache: Vec<QueryResult>,
    /// One matcher per core (each holds scratch memory).
    matchers: Vec<Matcher>,
}

impl Default for CaseloadList {
    fn default() -> Self {
        Self {
            query: Input::default(),
            searching: false,
            filters: Filters::default(),
            sort: SortKey::Name,
            descending: false,
            rows: Vec::new(),
            selected: 0,
            offset: Cell::new(0),
            base: Vec::new(),
            cache: Vec::new(),
            matchers: (0..std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(8))
                .map(|_| Matcher::new(Config::DEFAULT))
                .collect(),
        }
    }
}

impl CaseloadList {
    /// Recomputes everything: after a filter or sort change, or a commit.
    pub fn refresh(&mut self, index: &CaseIndex, ctx: &FilterContext) {
        let keep_id = self.selected_id(index);
        let all = index.all();
        let mut base: Vec<u32> = (0..all.len() as u32)
            .filter(|i| ctx.keeps(&self.filters, &all[*i as usize]))
            .collect();
        let today = ctx.today;
        let currency = ctx.currency;
        // Every order ends with the list order, so that it is total.
        let name_key = CaseSummary::list_order;
        match self.sort {
            SortKey::Name => base.sort_by_cached_key(|i| name_key(&all[*i as usize])),
            SortKey::Year => base.sort_by_cached_key(|i| {
                let s = &all[*i as usize];
                (std::cmp::Reverse(s.date_of_birth), name_key(s))
            }),
            SortKey::District => base.sort_by_cached_key(|i| {
                let s = &all[*i as usize];
                (s.district, name_key(s))
            }),
            SortKey::Activity => base.sort_by_cached_key(|i| {
                let s = &all[*i as usize];
                (
                    currency.effective_group(s.activity.as_ref(), today),
                    s.activity.as_ref().map(|a| a.code),
                    name_key(s),
                )
            }),
            SortKey::Rag => base.sort_by_cached_key(|i| {
                let s = &all[*i as usize];
                (s.rating.as_ref().map_or(3, |r| r.rag as u8), name_key(s))
            }),
            SortKey::LastContact => base.sort_by_cached_key(|i| {
                let s = &all[*i as usize];
                (s.last_contact.as_ref().map(|c| c.at), name_key(s))
            }),
            SortKey::NextFollowUp => base.sort_by_cached_key(|i| {
                let s = &all[*i as usize];
                (s.next_follow_up.is_none(), s.next_follow_up, name_key(s))
            }),
        }
        if self.descending {
            base.reverse();
        }
        self.base = base;
        self.cache.clear();
        self.apply_query(index);
        self.reselect(index, keep_id);
    }

    /// Re-runs the search after the query changed, narrowing when it grew.
    pub fn requery(&mut self, index: &CaseIndex) {
        let keep = self.selected_id(index);
        self.apply_query(index);
        if self.query.value().trim().is_empty() {
            self.reselect(index, keep);
        } else {
            self.selected = 0;
            self.offset.set(0);
        }
    }

    fn apply_query(&mut self, index: &CaseIndex) {
        let q = self
            .query
            .value()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        if q.is_empty() {
            self.rows = self.base.clone();
            return;
        }
        if let Some(hit) = self.cache.iter().position(|r| r.query == q) {
            let r = self.cache.remove(hit);
            self.rows = r.rows();
            self.cache.push(r);
            return;
        }
        // Anyone matching q also matches every prefix of it, for both tiers.
        let prefix = self
            .cache
            .iter()
            .filter(|r| q.starts_with(r.query.as_str()))
            .max_by_key(|r| r.query.len());
        let candidates: &[u32] = prefix.map_or(&self.base, |r| &r.substring);
        let finders: Vec<Finder> = q
            .split(' ')
            .map(|w| Finder::new(w.as_bytes()).into_owned())
            .collect();
        let hit = |i: usize| {
            let hay = index.haystack(i).as_bytes();
            finders.iter().all(|f| f.find(hay).is_some())
        };
        let substring: Vec<u32> = if candidates.len() > index.len() / 8 {
            // Many candidates: read every text in storage order (the list's
            // order would jump around memory), then keep the list's order.
            let matched: Vec<bool> = (0..index.len()).map(hit).collect();
            candidates
                .iter()
                .copied()
                .filter(|&i| matched[i as usize])
                .collect()
        } else {
            candidates
                .iter()
                .copied()
                .filter(|&i| hit(i as usize))
                .collect()
        };
        let (fuzzy_all, fuzzy_extra) = if substring.len() < FUZZY_BELOW {
            let fuzzy_candidates: &[u32] = prefix
                .and_then(|r| r.fuzzy_all.as_deref())
                .unwrap_or(&self.base);
            let pattern = Pattern::new(
                &q,
                CaseMatching::Ignore,
                Normalization::Smart,
                AtomKind::Fuzzy,
            );
            let scored = fuzzy_scores(index, fuzzy_candidates, &pattern, &mut self.matchers);
            let all: Vec<u32> = scored.iter().map(|(_, i)| *i).collect();
            let mut extra: Vec<(u32, u32)> = scored
                .into_iter()
                .filter(|(_, i)| !substring.contains(i))
                .collect();
            extra.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
            (Some(all), extra.into_iter().map(|(_, i)| i).collect())
        } else {
            (None, Vec::new())
        };
        let result = QueryResult {
            query: q,
            substring,
            fuzzy_all,
            fuzzy_extra,
        };
        self.rows = result.rows();
        if self.cache.len() >= CACHE {
            self.cache.remove(0);
        }
        self.cache.push(result);
    }

    fn reselect(&mut self, index: &CaseIndex, keep: Option<PersonId>) {
        let pos = keep
            .and_then(|id| index.position(id))
            .and_then(|p| self.rows.iter().position(|r| *r as usize == p));
        self.selected = pos.unwrap_or(0).min(self.rows.len().saturating_sub(1));
    }

    pub fn selected_id(&self, index: &CaseIndex) -> Option<PersonId> {
        self.rows
            .get(self.selected)
            .and_then(|i| index.all().get(*i as usize))
            .map(|s| s.id)
    }

    pub fn ids(&self, index: &CaseIndex) -> Vec<PersonId> {
        self.rows
            .iter()
            .filter_map(|i| index.all().get(*i as usize))
            .map(|s| s.id)
            .collect()
    }

    pub fn move_by(&mut self, delta: isize) {
        move_selection(&mut self.selected, self.rows.len(), delta);
    }
}

/// Fuzzy scores for `candidates` (kept in their order), spread over the matchers'
/// threads when there are enough to be worth it.
fn fuzzy_scores(
    index: &CaseIndex,
    candidates: &[u32],
    pattern: &Pattern,
    matchers: &mut [Matcher],
) -> Vec<(u32, u32)> {
    fn run(index: &CaseIndex, part: &[u32], pattern: &Pattern, m: &mut Matcher) -> Vec<(u32, u32)> {
        let mut buf = Vec::new();
        part.iter()
            .filter_map(|&i| {
                let hay = Utf32Str::new(index.fuzzy_text(i as usize), &mut buf);
                pattern.score(hay, m).map(|s| (s, i))
            })
            .collect()
    }
    if candidates.len() < 4096 || matchers.len() < 2 {
        return match matchers.first_mut() {
            Some(m) => run(index, candidates, pattern, m),
            None => Vec::new(),
        };
    }
    let chunk = candidates.len().div_ceil(matchers.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = candidates
            .chunks(chunk)
            .zip(matchers.iter_mut())
            .map(|(part, m)| scope.spawn(move || run(index, part, pattern, m)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Moves a selection within `len` rows, stopping at the ends.
pub fn move_selection(selected: &mut usize, len: usize, delta: isize) {
    if len == 0 {
        *selected = 0;
        return;
    }
    let max = len as isize - 1;
    *selected = (*selected as isize + delta).clamp(0, max) as usize;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::person::PersonName;
    use crate::domain::{FieldValue, PersonState};

    /// A registered person and nothing else: people alike but for the id.
    fn registered(n: u128, given: &str, family: &str) -> CaseSummary {
        let id = PersonId(uuid::Uuid::from_u128(n));
        let values = vec![
            FieldValue::Name(PersonName {
                given: given.into(),
                family: family.into(),
                preferred: None,
            }),
            FieldValue::DateOfBirth(NaiveDate::from_ymd_opt(2009, 1, 1).expect("date")),
            FieldValue::District(District::Thanet),
        ];
        CaseSummary::of(&PersonState::registered(id, values)).expect("registered")
    }

    #[test]
    fn every_order_of_the_list_is_the_same_whatever_order_the_store_holds_people_in() {
        let people = vec![
            registered(5, "Amy", "Lee"),
            registered(3, "amy", "lee"),
            registered(9, "Ben", "Lee"),
            registered(1, "Amy", "Lee"),
            registered(7, "Amy", "Abbott"),
        ];
        let mut held_otherwise = people.clone();
        held_otherwise.reverse();
        let (one, other) = (CaseIndex::new(people), CaseIndex::new(held_otherwise));
        let me = WorkerId::new("w");
        let currency = CurrencyConfig::default();
        let ctx = FilterContext {
            today: NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"),
            me: &me,
            currency: &currency,
        };
        let listed = |index: &CaseIndex, sort: SortKey, descending: bool| {
            let mut list = CaseloadList {
                sort,
                descending,
                ..CaseloadList::default()
            };
            list.refresh(index, &ctx);
            let ids = list.ids(index);
            ids.iter().map(|id| id.0.as_u128()).collect::<Vec<_>>()
        };
        assert_eq!(listed(&one, SortKey::Name, false), [7, 1, 3, 5, 9]);
        let mut sort = SortKey::Name;
        for _ in 0..7 {
            for descending in [false, true] {
                assert_eq!(
                    listed(&one, sort, descending),
                    listed(&other, sort, descending),
                    "{sort:?}, descending {descending}"
                );
            }
            sort = sort.next();
        }
    }
}
