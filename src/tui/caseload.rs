//! The caseload list: filters, sort order and incremental fuzzy search over the
//! in-memory index. Typing narrows the previous matches rather than rescanning
//! everyone, so search stays instant at Kent's 52,500.

use crate::domain::codes::StatusGroup;
use crate::domain::currency::CurrencyConfig;
use crate::domain::records::Rag;
use crate::domain::{CaseSummary, District, PersonId, WorkerId};
use crate::replica::CaseIndex;
use crate::report::VulnerableGroup;
use chrono::NaiveDate;
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
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
    /// The last query and its matches (in base order), for narrowing.
    narrowed: Option<(String, Vec<u32>)>,
    matcher: Matcher,
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
            narrowed: None,
            matcher: Matcher::new(Config::DEFAULT),
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
        let name_key =
            |s: &CaseSummary| (s.name.family.to_lowercase(), s.name.given.to_lowercase());
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
        self.narrowed = None;
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
        let q = self.query.value().trim().to_lowercase();
        if q.is_empty() {
            self.narrowed = None;
            self.rows = self.base.clone();
            return;
        }
        let candidates: &[u32] = match &self.narrowed {
            Some((prev, matches)) if q.starts_with(prev.as_str()) => matches,
            _ => &self.base,
        };
        let pattern = Pattern::parse(&q, CaseMatching::Ignore, Normalization::Smart);
        let mut buf = Vec::new();
        let mut scored: Vec<(u32, u32)> = Vec::with_capacity(candidates.len().min(4096));
        for &i in candidates {
            let hay = Utf32Str::new(index.haystack(i as usize), &mut buf);
            if let Some(score) = pattern.score(hay, &mut self.matcher) {
                scored.push((score, i));
            }
        }
        let matches: Vec<u32> = scored.iter().map(|(_, i)| *i).collect();
        // Best match first; equal scores keep the chosen sort order.
        scored.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
        self.rows = scored.into_iter().map(|(_, i)| i).collect();
        self.narrowed = Some((q, matches));
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

/// Moves a selection within `len` rows, stopping at the ends.
pub fn move_selection(selected: &mut usize, len: usize, delta: isize) {
    if len == 0 {
        *selected = 0;
        return;
    }
    let max = len as isize - 1;
    *selected = (*selected as isize + delta).clamp(0, max) as usize;
}
