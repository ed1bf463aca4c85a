//! The caseload list: filters, sort order and incremental search over the
//! in-memory index, instant at Kent's 52,500.
//!
//! Search has two tiers. First, every typed word must appear in the person's
//! text (names, short id, UPN/ULN, postcode, phone digits): a SIMD substring scan
//! that keeps the list's sort order. Only when that finds few people (a typo, an
//! abbreviation: "olvia tylor") does fuzzy matching (nucleo) rank near misses
//! on names and postcode, on every core. Results are cached per query, so typing
//! narrows from the longest cached prefix and backspacing is free.

use crate::domain::codes::{ActivityCode, StatusGroup};
use crate::domain::currency::CurrencyConfig;
use crate::domain::records::Rag;
use crate::domain::summary::ListOrder;
use crate::domain::{CaseSummary, District, PersonId, WorkerId};
use crate::replica::{CaseIndex, IndexMark};
use crate::report::VulnerableGroup;
use chrono::{NaiveDate, NaiveDateTime};
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
                .effective_group(s.activity.current(), self.today)
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

/// How [`CaseloadList::update`] brought the list up to date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Updated {
    /// By moving this many people.
    InPlace(usize),
    /// Filtered and sorted whole again.
    Whole,
}

/// What a list's `base` was built from.
struct Built {
    mark: IndexMark,
    today: NaiveDate,
    me: WorkerId,
    currency: CurrencyConfig,
}

impl Built {
    fn now(index: &CaseIndex, ctx: &FilterContext) -> Self {
        Self {
            mark: index.mark(),
            today: ctx.today,
            me: ctx.me.clone(),
            currency: ctx.currency.clone(),
        }
    }

    fn still_holds(&self, ctx: &FilterContext) -> bool {
        self.today == ctx.today && self.me == *ctx.me && self.currency == *ctx.currency
    }
}

/// A person's place in the list under `sort`: every order ends with the
/// list order (family name, given name, date of birth, id), so it is total.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Name(ListOrder),
    Year(std::cmp::Reverse<NaiveDate>, ListOrder),
    District(District, ListOrder),
    Activity(StatusGroup, Option<ActivityCode>, ListOrder),
    Rag(u8, ListOrder),
    LastContact(Option<NaiveDateTime>, ListOrder),
    NextFollowUp(bool, Option<NaiveDate>, ListOrder),
}

fn place(sort: SortKey, s: &CaseSummary, ctx: &FilterContext) -> Place {
    let name = s.list_order();
    match sort {
        SortKey::Name => Place::Name(name),
        SortKey::Year => Place::Year(std::cmp::Reverse(s.date_of_birth), name),
        SortKey::District => Place::District(s.district, name),
        SortKey::Activity => Place::Activity(
            ctx.currency
                .effective_group(s.activity.current(), ctx.today),
            s.activity.current().map(|a| a.code),
            name,
        ),
        SortKey::Rag => Place::Rag(s.rating.as_ref().map_or(3, |r| r.rag as u8), name),
        SortKey::LastContact => Place::LastContact(s.last_contact.as_ref().map(|c| c.at), name),
        SortKey::NextFollowUp => {
            Place::NextFollowUp(s.next_follow_up.is_none(), s.next_follow_up, name)
        }
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
    /// What `base` was built from, for [`Self::update`].
    built: Option<Built>,
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
            built: None,
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
        base.sort_by_cached_key(|i| place(self.sort, &all[*i as usize], ctx));
        if self.descending {
            base.reverse();
        }
        self.base = base;
        self.built = Some(Built::now(index, ctx));
        self.after_base_changed(index, keep_id);
    }

    /// Brings the list up to date after records changed: when only a few
    /// people did, and nothing else the filters and the order read (the day,
    /// the worker, the currency rules), by moving those people alone; else
    /// [`Self::refresh`]. Saving an attempt from a list of 52,500 then takes
    /// no sort of everyone (docs/benchmarks.md).
    pub fn update(&mut self, index: &CaseIndex, ctx: &FilterContext) -> Updated {
        let changed = self
            .built
            .as_ref()
            .filter(|built| built.still_holds(ctx))
            .and_then(|built| index.changed_since(built.mark));
        let Some(changed) = changed else {
            self.refresh(index, ctx);
            return Updated::Whole;
        };
        let keep_id = self.selected_id(index);
        // `changed` is sorted: each of the list's people looked up in it.
        self.base
            .retain(|p| changed.binary_search(&(*p as usize)).is_err());
        let all = index.all();
        for &p in &changed {
            let Some(summary) = all.get(p) else { continue };
            if !ctx.keeps(&self.filters, summary) {
                continue;
            }
            let at = place(self.sort, summary, ctx);
            let goes_after = |q: &u32| {
                let other = place(self.sort, &all[*q as usize], ctx);
                if self.descending {
                    other > at
                } else {
                    other < at
                }
            };
            let i = self.base.partition_point(goes_after);
            self.base.insert(i, p as u32);
        }
        self.built = Some(Built::now(index, ctx));
        self.after_base_changed(index, keep_id);
        Updated::InPlace(changed.len())
    }

    /// The search again over the new `base`, the same person kept chosen.
    fn after_base_changed(&mut self, index: &CaseIndex, keep_id: Option<PersonId>) {
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

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")
    }

    /// Demo people, folded: activities, ratings, contacts, follow-ups.
    fn demo(people: usize, seed: u64) -> Vec<CaseSummary> {
        crate::demo::DemoCohort::new(crate::demo::DemoSpec {
            people,
            seed,
            today: day(),
        })
        .filter_map(|ops| CaseSummary::of(&PersonState::fold(ops[0].person, &ops)))
        .collect()
    }

    /// `someone`'s summary given to the person `id`: a changed record.
    fn as_person(id: PersonId, someone: &CaseSummary) -> CaseSummary {
        CaseSummary {
            id,
            ..someone.clone()
        }
    }

    /// A list of `index` made whole, in this order, filtered and searched.
    fn listed(
        index: &CaseIndex,
        ctx: &FilterContext,
        sort: SortKey,
        descending: bool,
        filters: &Filters,
        query: &str,
    ) -> CaseloadList {
        let mut list = CaseloadList {
            sort,
            descending,
            filters: filters.clone(),
            query: Input::new(query.into()),
            ..CaseloadList::default()
        };
        list.refresh(index, ctx);
        list
    }

    fn every_way_of_listing() -> Vec<(SortKey, bool, Filters, &'static str)> {
        let mut ways = Vec::new();
        let filters = [
            Filters::default(),
            Filters {
                rag: Some(RagFilter::Rated(Rag::Red)),
                ..Filters::default()
            },
            Filters {
                status: Some(StatusGroup::Neet),
                ..Filters::default()
            },
            Filters {
                mine: true,
                overdue: true,
                ..Filters::default()
            },
        ];
        let mut sort = SortKey::Name;
        for _ in 0..7 {
            for descending in [false, true] {
                for (n, f) in filters.iter().enumerate() {
                    // A search too, on some: its rows come from the list's.
                    let query = if n == 0 && descending { "a" } else { "" };
                    ways.push((sort, descending, f.clone(), query));
                }
            }
            sort = sort.next();
        }
        ways
    }

    #[test]
    fn a_list_brought_up_to_date_by_the_people_who_changed_is_the_list_made_whole() {
        let people = demo(300, 3);
        let others = demo(40, 4);
        let me = people
            .iter()
            .find_map(|s| s.assigned.first().cloned())
            .expect("someone is assigned");
        let currency = CurrencyConfig::default();
        let ctx = FilterContext {
            today: day(),
            me: &me,
            currency: &currency,
        };
        for (sort, descending, filters, query) in every_way_of_listing() {
            let mut index = CaseIndex::new(people.clone());
            let mut list = listed(&index, &ctx, sort, descending, &filters, query);
            for round in 0..3 {
                // Records changed (a name, an activity, a rating...), and one new.
                for k in 0..4 {
                    let id = index.all()[(round * 71 + k * 37) % people.len()].id;
                    index.set(id, Some(as_person(id, &others[round * 5 + k])));
                }
                index.set(others[30 + round].id, Some(others[30 + round].clone()));
                assert_eq!(
                    list.update(&index, &ctx),
                    Updated::InPlace(5),
                    "{sort:?} {descending} {filters:?}"
                );
                let whole = listed(&index, &ctx, sort, descending, &filters, query);
                assert_eq!(
                    list.ids(&index),
                    whole.ids(&index),
                    "{sort:?}, descending {descending}, {filters:?}, round {round}"
                );
            }
        }
    }

    #[test]
    fn a_list_is_made_whole_again_when_its_people_alone_cannot_tell_what_changed() {
        let people = demo(120, 5);
        let me = WorkerId::new("w");
        let currency = CurrencyConfig::default();
        let on = |today| FilterContext {
            today,
            me: &me,
            currency: &currency,
        };
        let mut index = CaseIndex::new(people.clone());
        let mut list = CaseloadList::default();
        list.refresh(&index, &on(day()));
        let whole = |index: &CaseIndex, today| {
            let mut fresh = CaseloadList::default();
            fresh.refresh(index, &on(today));
            fresh.ids(index)
        };
        assert_eq!(list.update(&index, &on(day())), Updated::InPlace(0));
        // Someone removed: the last person moves into their place.
        index.remove(people[3].id);
        assert_eq!(list.update(&index, &on(day())), Updated::Whole);
        assert_eq!(list.ids(&index), whole(&index, day()));
        // The next day: currency and "overdue" read the day.
        let tomorrow = day().succ_opt().expect("date");
        assert_eq!(list.update(&index, &on(tomorrow)), Updated::Whole);
        // More changes than the index keeps.
        for n in 0..300 {
            let id = index.all()[n % index.len()].id;
            index.set(id, Some(as_person(id, &people[(n * 7) % people.len()])));
        }
        assert_eq!(list.update(&index, &on(tomorrow)), Updated::Whole);
        assert_eq!(list.ids(&index), whole(&index, tomorrow));
        // Another index (unlocked again), though it has made as many changes.
        let again = CaseIndex::new(index.all().to_vec());
        assert_eq!(list.update(&again, &on(tomorrow)), Updated::Whole);
        assert_eq!(list.ids(&again), whole(&again, tomorrow));
    }
}
