//! The in-memory index: every person's summary, held only in memory (never as a
//! plaintext file), built at unlock and kept current as ops are committed.

use crate::domain::summaries::Summaries;
use crate::domain::{CaseSummary, PersonId, PersonState};
use crate::store::{Changed, SummaryVisitor};
use std::collections::HashMap;

/// Every person's search text in one buffer. Searching 52,500 short texts is
/// dominated by cache misses when each is its own allocation; laid end to end
/// they stream through the cache (about 7× faster). A person's text begins
/// with their names and postcode — the part fuzzy matching scans — so one
/// text serves both searches. A changed text is appended and the old bytes
/// left as garbage until half the buffer is garbage.
#[derive(Default)]
struct TextArena {
    text: String,
    spans: Vec<Span>,
    garbage: usize,
}

/// Where a text is in the buffer, and how long its head (names and
/// postcode) is.
#[derive(Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
    head: u32,
}

impl TextArena {
    /// The whole of text `i`.
    fn get(&self, i: usize) -> &str {
        self.part(i, |span| span.len)
    }

    /// The head of text `i`.
    fn head(&self, i: usize) -> &str {
        self.part(i, |span| span.head)
    }

    fn part(&self, i: usize, len: impl Fn(&Span) -> u32) -> &str {
        self.spans
            .get(i)
            .and_then(|span| {
                let start = span.start as usize;
                self.text.get(start..start + len(span) as usize)
            })
            .unwrap_or("")
    }

    /// Lets `write` append one text to the buffer, returning its head's
    /// length; returns its span.
    fn append(&mut self, write: impl FnOnce(&mut String) -> usize) -> Span {
        let start = self.text.len();
        let head = write(&mut self.text);
        let len = self.text.len() - start;
        Span {
            start: start as u32,
            len: len as u32,
            head: head.min(len) as u32,
        }
    }

    fn push_with(&mut self, write: impl FnOnce(&mut String) -> usize) {
        let span = self.append(write);
        self.spans.push(span);
    }

    fn set_with(&mut self, i: usize, write: impl FnOnce(&mut String) -> usize) {
        self.garbage += self.spans[i].len as usize;
        self.spans[i] = self.append(write);
        self.maybe_compact();
    }

    /// Arenas joined in order onto the first one's buffer (its texts are not
    /// copied), trimmed of the slack of growing by doubling.
    fn joined(arenas: impl IntoIterator<Item = TextArena>) -> TextArena {
        let mut arenas = arenas.into_iter();
        let mut out = arenas.next().unwrap_or_default();
        for more in arenas {
            out.extend(&more);
        }
        out.shrink_to_fit();
        out
    }

    /// Appends every text of `other`, in order.
    fn extend(&mut self, other: &TextArena) {
        let base = self.text.len() as u32;
        self.text.push_str(&other.text);
        self.spans.extend(other.spans.iter().map(|&span| Span {
            start: base + span.start,
            ..span
        }));
        self.garbage += other.garbage;
    }

    /// Gives back the slack of growing by doubling once the texts are built.
    fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.spans.shrink_to_fit();
    }

    fn swap_remove(&mut self, i: usize) {
        self.garbage += self.spans[i].len as usize;
        self.spans.swap_remove(i);
        self.maybe_compact();
    }

    fn maybe_compact(&mut self) {
        if self.garbage > self.text.len() / 2 {
            let mut fresh = TextArena::default();
            for i in 0..self.spans.len() {
                let head = self.spans[i].head as usize;
                fresh.push_with(|text| {
                    text.push_str(self.get(i));
                    head
                });
            }
            *self = fresh;
        }
    }
}

#[derive(Default)]
pub struct CaseIndex {
    /// Everyone, in the runs unlocking's reading threads decoded them, kept
    /// apart: joining them was a copy of half of everyone into fresh memory
    /// on the wait (docs/architecture.md, "Unlocking"). New people go on the
    /// last run.
    runs: Vec<Vec<CaseSummary>>,
    /// Lower-case text searched word by word: names, postcode, short id,
    /// UPN/ULN, postcode without its space, phone digits; its head, the
    /// names and postcode, is what fuzzy matching scans.
    texts: TextArena,
    positions: Positions,
    changes: Changes,
}

/// Where an index stood: what a list built from it keeps, to ask later which
/// people changed since ([`CaseIndex::changed_since`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexMark {
    index: u64,
    generation: u64,
}

/// The positions the last changes touched, so that a list built from the
/// index can be brought up to date by those people alone instead of sorting
/// everyone again (saving an attempt from the list of 52,500).
struct Changes {
    /// This index among all made in the process: a list built from another
    /// (the one before a lock, say) is never updated from this one's changes.
    index: u64,
    /// Counts every change.
    generation: u64,
    /// The positions changed, each with the generation it made; the last
    /// [`RECENT_CHANGES`] only.
    recent: std::collections::VecDeque<(u64, usize)>,
    /// Changes up to this generation cannot all be told: one fell out of
    /// `recent`, or a removal moved someone to another position.
    untold: u64,
}

/// Beyond this many changes a list is rebuilt whole anyway.
const RECENT_CHANGES: usize = 256;

impl Default for Changes {
    fn default() -> Self {
        static INDEXES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Self {
            index: INDEXES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            generation: 0,
            recent: Default::default(),
            untold: 0,
        }
    }
}

impl Changes {
    fn note(&mut self, position: usize) {
        self.generation += 1;
        if self.recent.len() == RECENT_CHANGES
            && let Some((dropped, _)) = self.recent.pop_front()
        {
            self.untold = dropped;
        }
        self.recent.push_back((self.generation, position));
    }

    /// After a removal, which moves the last person into the gap.
    fn note_untold(&mut self) {
        self.generation += 1;
        self.untold = self.generation;
        self.recent.clear();
    }
}

/// Where each person is in `people`. Hashed with foldhash, seeded at random
/// in each process, not std's SipHash: building this map of 52,500 at unlock
/// takes 2.0 ms instead of 3.0 (timed side by side); ids are random bytes
/// already, and the random seed keeps a colleague from choosing ids that
/// collide.
type Positions = HashMap<PersonId, usize, foldhash::fast::RandomState>;

/// Appends `text` lower-cased, as `str::to_lowercase` would, allocating only
/// for text that is not ASCII.
fn push_lower(out: &mut String, text: &str) {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        out[start..].make_ascii_lowercase();
    } else {
        out.push_str(&text.to_lowercase());
    }
}

/// Everything a search word may match, lower case, headed by the names and
/// postcode (what fuzzy matching scans); returns the head's length.
fn write_search_text(s: &CaseSummary, out: &mut String) -> usize {
    let start = out.len();
    push_lower(out, &s.name.given);
    out.push(' ');
    push_lower(out, &s.name.family);
    if let Some(p) = &s.name.preferred {
        out.push(' ');
        push_lower(out, p);
    }
    if let Some(pc) = &s.postcode {
        out.push(' ');
        push_lower(out, pc.as_str());
    }
    let head = out.len() - start;
    // The eight hex digits people see and type, not the whole id.
    out.push(' ');
    s.id.write_short(out);
    for p in [
        s.upn.as_ref().map(|u| u.as_str()),
        s.uln.as_ref().map(|u| u.as_str()),
    ]
    .into_iter()
    .flatten()
    {
        out.push(' ');
        push_lower(out, p);
    }
    if let Some(pc) = &s.postcode {
        // Also as typed without its space.
        out.push(' ');
        let (outward, inward) = pc.halves();
        push_lower(out, outward);
        push_lower(out, inward);
    }
    if !s.phones.as_text().is_empty() {
        out.push(' ');
        out.push_str(s.phones.as_text());
    }
    head
}

/// What one reading thread builds of the index beside the summaries it
/// decodes at unlock ([`SummaryVisitor`]), in their order: their search texts
/// and their ids. Also made from a run of summaries held already.
#[derive(Default)]
pub struct IndexRun {
    texts: TextArena,
    /// Their ids, noted as they are read, so that the map of positions is
    /// built from them without reading the summaries again.
    ids: Vec<PersonId>,
}

impl SummaryVisitor for IndexRun {
    fn visit(&mut self, person: &CaseSummary) {
        self.texts.push_with(|text| write_search_text(person, text));
        self.ids.push(person.id);
    }
}

impl IndexRun {
    fn of(people: &[CaseSummary]) -> Self {
        let mut run = IndexRun::default();
        for p in people {
            run.visit(p);
        }
        run
    }

    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// The map of positions and the search texts of runs that follow one
/// another, positions counted across the runs in order.
fn positions_and_texts(runs: Vec<IndexRun>) -> (Positions, TextArena) {
    let total = runs.iter().map(IndexRun::len).sum();
    let mut positions = Positions::with_capacity_and_hasher(total, Default::default());
    let ids = runs.iter().flat_map(|run| &run.ids);
    positions.extend(ids.enumerate().map(|(i, id)| (*id, i)));
    let texts = TextArena::joined(runs.into_iter().map(|run| run.texts));
    (positions, texts)
}

impl CaseIndex {
    /// The index of people held already, as one run (unlocking builds it
    /// from the runs it read: [`Self::from_runs`]).
    pub fn new(people: Vec<CaseSummary>) -> Self {
        let (positions, texts) = positions_and_texts(vec![IndexRun::of(&people)]);
        Self::of_parts(vec![people], positions, texts)
    }

    /// The index of the runs of people unlocking read, each with what its
    /// reading thread built of the index: the people stay in their runs, and
    /// the map of positions and the search texts are built from what the
    /// threads noted as they read.
    pub fn from_runs(runs: Vec<(Vec<CaseSummary>, IndexRun)>) -> Self {
        let lined_up = runs.iter().all(|(people, run)| people.len() == run.len());
        let (mut people, index_runs): (Vec<Vec<CaseSummary>>, Vec<_>) = runs.into_iter().unzip();
        if !lined_up {
            // A run's texts that do not match its people would misalign
            // every text after them: built again, whole, rather than
            // searched wrong.
            return Self::new(crate::store::encrypted::join_runs(people));
        }
        for run in &mut people {
            // A run's spare room is its thread's growing by doubling.
            run.shrink_to_fit();
        }
        let (positions, texts) = positions_and_texts(index_runs);
        Self::of_parts(people, positions, texts)
    }

    fn of_parts(runs: Vec<Vec<CaseSummary>>, positions: Positions, texts: TextArena) -> Self {
        Self {
            runs,
            texts,
            positions,
            changes: Changes::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.runs.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.iter().all(Vec::is_empty)
    }

    /// Everyone, in index order (a position counts across the runs).
    pub fn all(&self) -> Summaries<'_> {
        Summaries::of_runs(&self.runs)
    }

    fn at_mut(&mut self, mut position: usize) -> Option<&mut CaseSummary> {
        for run in &mut self.runs {
            if position < run.len() {
                return run.get_mut(position);
            }
            position -= run.len();
        }
        None
    }

    /// The run new people go on.
    fn last_run(&mut self) -> &mut Vec<CaseSummary> {
        if self.runs.is_empty() {
            self.runs.push(Vec::new());
        }
        let last = self.runs.len() - 1;
        &mut self.runs[last]
    }

    /// Takes the person at `position` out, the last person moved into their
    /// place, as `Vec::swap_remove` does across the runs.
    fn swap_remove(&mut self, position: usize) -> Option<CaseSummary> {
        if position >= self.len() {
            return None;
        }
        let last = self.runs.iter_mut().rev().find_map(Vec::pop)?;
        match self.at_mut(position) {
            Some(held) => Some(std::mem::replace(held, last)),
            // The last was the one at `position`.
            None => Some(last),
        }
    }

    /// The searchable text of the person at `position` (lower case).
    pub fn haystack(&self, position: usize) -> &str {
        self.texts.get(position)
    }

    /// Names and postcode of the person at `position` (lower case), for fuzzy matching.
    pub fn fuzzy_text(&self, position: usize) -> &str {
        self.texts.head(position)
    }

    pub fn position(&self, id: PersonId) -> Option<usize> {
        self.positions.get(&id).copied()
    }

    pub fn get(&self, id: PersonId) -> Option<&CaseSummary> {
        self.positions.get(&id).and_then(|&i| self.all().get(i))
    }

    /// Where the index stands now.
    pub fn mark(&self) -> IndexMark {
        IndexMark {
            index: self.changes.index,
            generation: self.changes.generation,
        }
    }

    /// The positions whose people changed or were added since `mark`, each
    /// once and in order; `None` when that cannot be told (a mark of another
    /// index, a removal since, or more changes than are kept).
    pub fn changed_since(&self, mark: IndexMark) -> Option<Vec<usize>> {
        let c = &self.changes;
        if mark.index != c.index || mark.generation < c.untold || mark.generation > c.generation {
            return None;
        }
        let mut changed: Vec<usize> = c
            .recent
            .iter()
            .filter(|(generation, _)| *generation > mark.generation)
            .map(|(_, position)| *position)
            .collect();
        changed.sort_unstable();
        changed.dedup();
        Some(changed)
    }

    /// Brings one person's entry up to date after a commit.
    pub fn update(&mut self, state: &PersonState) {
        self.set(state.id, CaseSummary::of(state));
    }

    /// Takes room at once for those of `people` new to the index: a
    /// county's import adds 52,500, and growing by doubling held the old and
    /// the new list together.
    pub fn make_room_for<'p>(&mut self, people: impl IntoIterator<Item = &'p PersonId>) {
        let new = people
            .into_iter()
            .filter(|id| !self.positions.contains_key(id))
            .count();
        self.last_run().reserve_exact(new);
        self.positions.reserve(new);
    }

    /// [`Self::set`] for each of many changes, room for the new taken first.
    pub fn set_all(&mut self, changed: Vec<Changed>) {
        self.make_room_for(
            changed
                .iter()
                .filter(|(_, s)| s.is_some())
                .map(|(id, _)| id),
        );
        for (id, summary) in changed {
            self.set(id, summary);
        }
    }

    /// Sets one person's entry to `summary` (None: removes it).
    pub fn set(&mut self, id: PersonId, summary: Option<CaseSummary>) {
        match (summary, self.positions.get(&id).copied()) {
            (Some(s), Some(i)) => {
                self.texts.set_with(i, |text| write_search_text(&s, text));
                if let Some(held) = self.at_mut(i) {
                    *held = s;
                }
                self.changes.note(i);
            }
            (Some(s), None) => {
                let at = self.len();
                self.changes.note(at);
                self.positions.insert(s.id, at);
                self.texts.push_with(|text| write_search_text(&s, text));
                self.last_run().push(s);
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
        self.changes.note_untold();
        let Some(removed) = self.swap_remove(i) else {
            return;
        };
        self.texts.swap_remove(i);
        self.positions.remove(&removed.id);
        if let Some(moved) = self.all().get(i) {
            self.positions.insert(moved.id, i);
        }
    }

    /// Every person whose text contains all the words of `query` (any case;
    /// spaces inside phone numbers ignored), in index order.
    pub fn search(&self, query: &str) -> Vec<&CaseSummary> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        self.all()
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                words
                    .iter()
                    .all(|w| self.texts.get(*i).contains(w.as_str()))
            })
            .map(|(_, s)| s)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::person::{Address, PersonName, PhoneLabel, PhoneNumber, Postcode, Uln, Upn};
    use crate::domain::{District, FieldValue};

    fn summary(given: &str, family: &str, preferred: Option<&str>) -> CaseSummary {
        let id = PersonId(uuid::Uuid::from_u128(0xABCD_1234 << 96 | 7));
        let values = vec![
            FieldValue::Name(PersonName {
                given: given.into(),
                family: family.into(),
                preferred: preferred.map(Into::into),
            }),
            FieldValue::DateOfBirth(chrono::NaiveDate::from_ymd_opt(2009, 1, 1).expect("date")),
            FieldValue::District(District::Thanet),
            FieldValue::Upn(Upn::parse("a88612345678b").ok()),
            FieldValue::Uln(Uln::parse("1234567890").ok()),
            FieldValue::Address(Address {
                postcode: Postcode::parse("ct9 1ab").ok(),
                ..Address::default()
            }),
            FieldValue::Phones(vec![PhoneNumber {
                label: PhoneLabel::Mobile,
                number: "07700 900123".into(),
            }]),
        ];
        CaseSummary::of(&PersonState::registered(id, values)).expect("registered")
    }

    #[test]
    fn search_text_is_every_identifier_in_lower_case() {
        let index = CaseIndex::new(vec![
            summary("Zoë", "ÖZTÜRK", Some("Zo")),
            summary("Amy", "Lee", None),
        ]);
        assert_eq!(
            index.haystack(0),
            "zoë öztürk zo ct9 1ab abcd1234 a88612345678b 1234567890 ct91ab 07700900123"
        );
        assert_eq!(index.fuzzy_text(0), "zoë öztürk zo ct9 1ab");
        assert_eq!(index.fuzzy_text(1), "amy lee ct9 1ab");
        assert_eq!(index.all()[0].id.short(), "abcd1234");
        assert_eq!(index.search("ÖZT 1AB").len(), 1);
        assert_eq!(index.search("ct91ab").len(), 2);
    }

    #[test]
    fn texts_built_in_runs_as_summaries_are_read_are_the_texts_built_whole() {
        let people: Vec<CaseSummary> = [
            summary("Zoë", "ÖZTÜRK", Some("Zo")),
            summary("Amy", "Lee", None),
            summary("Ben", "Hall", None),
        ]
        .into_iter()
        .zip(1..)
        .map(|(s, n)| CaseSummary {
            id: PersonId(uuid::Uuid::from_u128(n)),
            ..s
        })
        .collect();
        let whole = CaseIndex::new(people.clone());
        let (mut first, mut second) = (IndexRun::default(), IndexRun::default());
        first.visit(&people[0]);
        second.visit(&people[1]);
        second.visit(&people[2]);
        let runs = vec![
            (people[..1].to_vec(), first),
            (people[1..].to_vec(), second),
        ];
        let in_runs = CaseIndex::from_runs(runs);
        for (i, person) in people.iter().enumerate() {
            assert_eq!(in_runs.all()[i], *person);
            assert_eq!(in_runs.position(person.id), Some(i));
            assert_eq!(in_runs.haystack(i), whole.haystack(i));
            assert_eq!(in_runs.fuzzy_text(i), whole.fuzzy_text(i));
        }
        // Runs that do not cover their people are not trusted to line up.
        let mut short = IndexRun::default();
        short.visit(&people[1]);
        let rebuilt = CaseIndex::from_runs(vec![(people.clone(), short)]);
        assert_eq!(rebuilt.haystack(0), whole.haystack(0));
        assert_eq!(rebuilt.search("hall").len(), 1);
        assert_eq!(rebuilt.position(people[2].id), Some(2));
    }

    #[test]
    fn people_kept_in_their_runs_change_leave_and_arrive_as_in_one_list() {
        let with_id = |n: u128, given: &str| CaseSummary {
            id: PersonId(uuid::Uuid::from_u128(n)),
            ..summary(given, "Lee", None)
        };
        let people: Vec<CaseSummary> = (1..=6)
            .zip(["Amy", "Ben", "Cat", "Dan", "Eve", "Fay"])
            .map(|(n, given)| with_id(n, given))
            .collect();
        let run_of = |part: &[CaseSummary]| {
            let mut run = IndexRun::default();
            part.iter().for_each(|p| run.visit(p));
            (part.to_vec(), run)
        };
        // Three runs, the middle one empty, as a reading thread may leave.
        let mut in_runs = CaseIndex::from_runs(vec![
            run_of(&people[..2]),
            run_of(&[]),
            run_of(&people[2..]),
        ]);
        let mut whole = CaseIndex::new(people.clone());
        let same = |a: &CaseIndex, b: &CaseIndex| {
            assert_eq!(a.all().to_vec(), b.all().to_vec());
            assert_eq!(a.len(), b.len());
            for (i, p) in b.all().iter().enumerate() {
                assert_eq!(a.position(p.id), Some(i));
                assert_eq!(a.get(p.id), Some(p));
                assert_eq!(a.haystack(i), b.haystack(i));
            }
        };
        same(&in_runs, &whole);
        let steps: Vec<(u128, Option<&str>)> = vec![
            (1, None),        // the first of the first run: the last person moves there
            (5, Some("Eva")), // one in the last run changes
            (7, Some("Gus")), // someone new goes on the last run
            (3, None),        // from the last run
            (7, None),        // the newest, who is last
            (2, None),
            (4, None),
            (6, None),
            (5, None), // no one left
            (8, Some("Hal")),
        ];
        for (n, given) in steps {
            let id = PersonId(uuid::Uuid::from_u128(n));
            let summary = given.map(|g| with_id(n, g));
            in_runs.set(id, summary.clone());
            whole.set(id, summary);
            same(&in_runs, &whole);
        }
        assert_eq!(in_runs.search("hal").len(), 1);
    }

    #[test]
    fn many_changes_at_once_take_room_only_for_the_people_new_to_the_index() {
        let with_id = |n: u128, given: &str| CaseSummary {
            id: PersonId(uuid::Uuid::from_u128(n)),
            ..summary(given, "Lee", None)
        };
        let mut index = CaseIndex::new(vec![with_id(1, "Amy"), with_id(2, "Ben")]);
        let mut changed = vec![
            (with_id(1, "Ann").id, Some(with_id(1, "Ann"))),
            (with_id(2, "Ben").id, None),
            (with_id(99, "Zed").id, None),
        ];
        for (n, given) in (3..).zip(["Cat", "Dan", "Eve", "Fay", "Gus"]) {
            changed.push((with_id(n, given).id, Some(with_id(n, given))));
        }
        index.set_all(changed);
        let names: Vec<&str> = index.all().iter().map(|s| s.name.given.as_str()).collect();
        assert_eq!(names, ["Ann", "Cat", "Dan", "Eve", "Fay", "Gus"]);
        assert_eq!(index.search("ann").len(), 1);
        assert!(index.get(with_id(2, "Ben").id).is_none());
        // Two held, five new: room for seven, not doubled to eight.
        assert_eq!(index.runs.iter().map(Vec::capacity).sum::<usize>(), 7);
    }

    #[test]
    fn arena_keeps_texts_and_heads_through_updates_removals_and_compaction() {
        let mut a = TextArena::default();
        // Each text headed by its first word.
        let write = |text: &mut String, t: String| {
            text.push_str(&t);
            t.find(' ').unwrap_or(t.len())
        };
        for i in 0..100 {
            a.push_with(|t| write(t, format!("text {i}")));
        }
        for round in 0..10 {
            for i in 0..100 {
                a.set_with(i, |t| write(t, format!("round{round} text {i}")));
            }
        }
        assert!(a.text.len() < 100 * 40, "compacted: {}", a.text.len());
        assert_eq!(a.get(42), "round9 text 42");
        assert_eq!(a.head(42), "round9");
        a.swap_remove(0);
        assert_eq!(a.get(0), "round9 text 99");
        assert_eq!(a.head(0), "round9");
        assert_eq!(a.spans.len(), 99);
        assert_eq!(a.get(500), "");
        assert_eq!(a.head(500), "");
    }

    #[test]
    fn an_index_tells_which_positions_changed_since_a_mark_or_that_it_cannot() {
        let person = |n: u128| CaseSummary {
            id: PersonId(uuid::Uuid::from_u128(n)),
            ..summary("Ann", "Lee", None)
        };
        let mut index = CaseIndex::new((1..=5).map(person).collect());
        let start = index.mark();
        assert_eq!(index.changed_since(start), Some(vec![]));
        index.set(person(4).id, Some(person(4)));
        index.set(person(2).id, Some(person(2)));
        index.set(person(4).id, Some(person(4)));
        let middle = index.mark();
        index.set(person(9).id, Some(person(9)));
        assert_eq!(index.changed_since(start), Some(vec![1, 3, 5]), "each once");
        assert_eq!(index.changed_since(middle), Some(vec![5]), "the new one");
        // A removal moves the last person: nothing before it can be told.
        index.remove(person(1).id);
        assert_eq!(index.changed_since(middle), None);
        let after = index.mark();
        assert_eq!(index.changed_since(after), Some(vec![]));
        // Only the last RECENT_CHANGES are kept.
        for _ in 0..RECENT_CHANGES {
            index.set(person(3).id, Some(person(3)));
        }
        assert_eq!(index.changed_since(after), Some(vec![2]));
        index.set(person(3).id, Some(person(3)));
        assert_eq!(index.changed_since(after), None);
        // Another index's mark, whatever its count.
        let other = CaseIndex::new(index.all().to_vec());
        assert_eq!(other.changed_since(after), None);
        assert_eq!(other.changed_since(other.mark()), Some(vec![]));
    }
}
