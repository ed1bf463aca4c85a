//! Commits too large for one transaction's memory (a 52,500-row import, a
//! salvage, a first sync's biggest pages), made all or nothing all the same:
//! written in parts of [`PART`] ops with the undo journal of `store/undo.rs`.
//!
//! 1. A marker in `meta` (the op count and clock before) is written and flushed.
//! 2. Each part, in the same transaction as its writes, journals what each key
//!    held before the commit began.
//! 3. Once every part is flushed, removing the marker (flushed) is the commit
//!    point; then the watermark, then the journal is cleared.
//!
//! Opening a store that still has the marker (the process was killed, the
//! disk filled, a part failed) puts every journaled key back and removes the
//! marker: the store is exactly as before the commit.

use super::{EncryptedStore, Ids, InParts, Op, Page, Pages, Running, T_META};
use crate::domain::{CaseSummary, Hlc, PersonId};
use crate::store::undo::Undo;
use crate::store::{Changed, Origin, Result};
use std::collections::BTreeSet;

/// Ops a part: bounds a commit's memory (tens of MB) while keeping the number
/// of transactions small.
pub(super) const PART: usize = 2_000;

/// Undo journal tags: which tree a journaled key belongs to.
pub(super) const OPS: u8 = b'o';
pub(super) const OUTBOX: u8 = b'x';
pub(super) const PEOPLE: u8 = b'p';
pub(super) const SUMMARIES: u8 = b's';

const T_UNDO: &str = "undo";
const META_UNFINISHED: &str = "unfinished-commit";

/// What the marker keeps: the store's op count and clock before the commit.
#[derive(serde::Serialize, serde::Deserialize)]
struct Before {
    ops: u64,
    at: Hlc,
}

/// A commit in parts under way (see the module's comment). It borrows
/// nothing, so the caller can make each part between writes (an import reads
/// its file part by part); `finish` is the commit point and `abandon` puts
/// everything back. One at a time: the store's lock is held by one process,
/// and a new one clears what a finished one left.
#[must_use = "finish or abandon a commit in parts"]
pub struct CommitInParts {
    origin: Origin,
    undo: Undo,
    /// Who the parts changed. Their new summaries are in `pages`, encoded,
    /// and decoded once, at the end: holding them decoded as well was 24 MB
    /// of a 52,500-row import's peak.
    changed: BTreeSet<PersonId>,
    /// Each summary page is sealed and written once, at the end, however
    /// many parts change it (pages hold everyone: rewriting all of them for
    /// each part made memory and time grow with the store).
    pages: Pages,
    /// The clock and op count as the parts so far leave them.
    running: Running,
    /// The `ops` keys of its local ops, for its one outbox entry, written at
    /// the end: an entry a part (2,000 keys, 64 KB) had sled rewrite the
    /// outbox's leaf of such entries at each, 7 of a first import's 109 MB.
    outbox: Vec<u8>,
}

impl EncryptedStore {
    /// Writes and flushes the marker: from here until `finish`, a kill, a
    /// full disk or an error leaves the store as it is now.
    pub fn begin_in_parts(&self, origin: Origin) -> Result<CommitInParts> {
        // The journal's 'before' is sled's: every commit applied first.
        self.settle()?;
        let mut undo = Undo::open(&self.db, T_UNDO)?;
        // A journal left by a finished commit (cleared after its commit point).
        undo.clear()?;
        // Into a new store (a first import), nothing of what the parts write
        // is journaled key by key.
        for (tag, tree) in self.journaled_trees() {
            undo.note_if_empty(tag, tree)?;
        }
        let before = Before {
            ops: self.op_count()?,
            at: self.last_hlc(),
        };
        self.meta.insert(
            META_UNFINISHED.as_bytes(),
            self.seal(T_META, META_UNFINISHED.as_bytes(), &before)?,
        )?;
        self.flush()?;
        Ok(CommitInParts {
            origin,
            undo,
            changed: BTreeSet::new(),
            pages: Pages::new(),
            running: Running {
                at: before.at,
                ops: before.ops,
            },
            outbox: Vec::new(),
        })
    }

    /// The trees a commit in parts writes, with their tags in the journal.
    fn journaled_trees(&self) -> [(u8, &sled::Tree); 4] {
        [
            (OPS, &self.ops),
            (OUTBOX, &self.outbox),
            (PEOPLE, &self.people),
            (SUMMARIES, &self.summaries),
        ]
    }

    /// Writes one part (any number of ops, written [`PART`] at a time). On an
    /// error the caller abandons the commit.
    pub fn write_part(&self, commit: &mut CommitInParts, ops: &[Op]) -> Result<()> {
        self.write_part_of(commit, ops, Ids::MayBeHeld)
    }

    /// [`Self::write_part`] for ops made here a moment ago, each with a new
    /// id (a cohort import's): not looked for among the ops held (see
    /// [`Ids::JustMinted`]; 52,500 lookups in importing a county). Each part
    /// is written by sled on a thread of its own while the caller makes the
    /// next (`in_flight.rs`); an error in it is returned by the next call,
    /// or by `finish_in_parts`.
    pub fn write_minted_part(&self, commit: &mut CommitInParts, ops: &[Op]) -> Result<()> {
        self.write_part_of(commit, ops, Ids::JustMinted)
    }

    fn write_part_of(&self, commit: &mut CommitInParts, ops: &[Op], ids: Ids) -> Result<()> {
        for part in ops.chunks(PART) {
            let in_parts = InParts {
                undo: &commit.undo,
                pages: &mut commit.pages,
                running: &mut commit.running,
                outbox: &mut commit.outbox,
            };
            if ids != Ids::JustMinted {
                // Its ops are looked for in sled: written in turn.
                if let Some(written) = self.commit_part(part, commit.origin, Some(in_parts), ids)? {
                    commit.changed.extend(written.changed.into_keys());
                }
                continue;
            }
            // A person the part in flight changes is read as it leaves them.
            if self.in_flight.changes_any(part.iter().map(|o| o.person)) {
                self.land_in_flight()?;
            }
            if let Some(worked) = self.work_out_part(part, commit.origin, Some(in_parts), ids)? {
                commit
                    .changed
                    .extend(worked.written.changed.keys().copied());
                // Lands the part before first: the parts reach sled in order.
                self.fly(worked)?;
            }
        }
        Ok(())
    }

    /// The commit point: once this returns Ok every part is durable together.
    /// Returns the new summary of everyone the parts changed. On an error
    /// everything is put back (now, or at the next open if the disk is full).
    pub fn finish_in_parts(&self, commit: CommitInParts) -> Result<ChangedSummaries<'_>> {
        let CommitInParts {
            undo,
            changed,
            pages,
            running,
            outbox,
            ..
        } = commit;
        let committed = (|| {
            self.land_in_flight()?;
            self.write_outbox_entry(&outbox, &undo)?;
            self.write_pages(&pages, &undo)?;
            self.flush()?;
            self.meta.remove(META_UNFINISHED.as_bytes())?;
            self.flush()
        })();
        if let Err(e) = committed {
            let _ = roll_back_unfinished(self);
            return Err(e);
        }
        // Every part that wrote changed someone.
        if !changed.is_empty() {
            self.seal_commit(running.at, running.ops)?;
        }
        // Not needed any more; a later commit or open clears what is left.
        let _ = undo.clear();
        Ok(ChangedSummaries {
            store: self,
            pages: pages.into_iter(),
            page: None,
            changed,
        })
    }

    /// The commit's one outbox entry (none if it holds no local op), journaled.
    fn write_outbox_entry(&self, listed: &[u8], undo: &Undo) -> Result<()> {
        if listed.is_empty() {
            return Ok(());
        }
        let (key, entry) = self.outbox_entry(listed)?;
        let mut undo_part = crate::store::undo::PartJournal::default();
        undo.was_absent(&mut undo_part, OUTBOX, &key)?;
        let journaled = undo.writes(undo_part)?;
        crate::store::apply_atomically(&[(&self.outbox, entry), (undo.tree(), journaled)])
    }

    /// A summary this commit encoded. Should it not decode (it cannot: the
    /// bytes were encoded a moment ago), it is derived from the stored record
    /// again, since the commit has already landed.
    fn decoded_summary(&self, id: PersonId, bytes: &[u8]) -> Option<CaseSummary> {
        postcard::from_bytes(bytes).ok().or_else(|| {
            self.load_applied_person(id)
                .ok()
                .flatten()
                .and_then(|state| CaseSummary::of(&state))
        })
    }

    /// Puts back everything the parts wrote (if the disk allows now;
    /// otherwise the next open does).
    pub fn abandon_in_parts(&self, commit: CommitInParts) {
        drop(commit);
        // What is in flight lands before anything is put back, not after.
        let _ = self.land_in_flight();
        let _ = roll_back_unfinished(self);
    }
}

/// The new summary of each person a large commit changed (none: the person
/// has none now), decoded one at a time from the pages it wrote, each page
/// freed once read: a caller that moves them into its index never holds
/// them all twice (19 MB of a 52,500-row import's peak).
pub struct ChangedSummaries<'s> {
    store: &'s EncryptedStore,
    pages: std::collections::btree_map::IntoIter<[u8; 2], Page>,
    page: Option<std::collections::btree_map::IntoIter<PersonId, Vec<u8>>>,
    /// Those not yet handed out: each item takes one.
    changed: BTreeSet<PersonId>,
}

impl ChangedSummaries<'_> {
    /// Everyone not yet handed out.
    pub fn people(&self) -> &BTreeSet<PersonId> {
        &self.changed
    }
}

impl Iterator for ChangedSummaries<'_> {
    type Item = Changed;

    fn next(&mut self) -> Option<Changed> {
        loop {
            if let Some(page) = &mut self.page {
                for (id, bytes) in page.by_ref() {
                    if self.changed.remove(&id) {
                        return Some((id, self.store.decoded_summary(id, &bytes)));
                    }
                }
            }
            match self.pages.next() {
                Some((_, page)) => self.page = Some(page.into_iter()),
                // Left: people whose summary the parts removed.
                None => return self.changed.pop_first().map(|id| (id, None)),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.changed.len(), Some(self.changed.len()))
    }
}

impl ExactSizeIterator for ChangedSummaries<'_> {}

/// Commits `ops` in parts, all or nothing (see the module's comment).
pub(super) fn commit_in_parts(
    store: &EncryptedStore,
    ops: &[Op],
    origin: Origin,
) -> Result<Vec<Changed>> {
    let mut commit = store.begin_in_parts(origin)?;
    if let Err(e) = store.write_part(&mut commit, ops) {
        store.abandon_in_parts(commit);
        return Err(e);
    }
    Ok(store.finish_in_parts(commit)?.collect())
}

/// Puts back a commit that did not reach its commit point. True if there was one.
pub(super) fn roll_back_unfinished(store: &EncryptedStore) -> Result<bool> {
    let Some(sealed) = store.meta.get(META_UNFINISHED.as_bytes())? else {
        if store.db.tree_names().iter().any(|n| n == T_UNDO.as_bytes()) {
            Undo::open(&store.db, T_UNDO)?.clear()?;
        }
        return Ok(false);
    };
    let before: Before = store
        .unseal(T_META, META_UNFINISHED.as_bytes(), &sealed)
        .map_err(super::Damaged::into_error)?;
    let undo = Undo::open(&store.db, T_UNDO)?;
    let put_back = undo.put_back(&store.journaled_trees());
    store.last_read.people_changed();
    put_back?;
    store.meta.insert(
        super::META_CLOCK.as_bytes(),
        store.seal(T_META, super::META_CLOCK.as_bytes(), &before.at)?,
    )?;
    store.meta.insert(
        super::META_OP_COUNT.as_bytes(),
        store.seal(T_META, super::META_OP_COUNT.as_bytes(), &before.ops)?,
    )?;
    store.flush()?;
    store.meta.remove(META_UNFINISHED.as_bytes())?;
    store.flush()?;
    *store.clock.lock().unwrap_or_else(|p| p.into_inner()) = before.at;
    undo.clear()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PersonState;
    use crate::store::CaseStore;
    use crate::store::StoreError;
    use crate::store::crypto::KdfParams;
    use crate::store::encrypted::in_flight;

    const FAST: KdfParams = KdfParams::LEAST;
    const META_CLOCK_KEY: &[u8] = super::super::META_CLOCK.as_bytes();

    fn people(n: usize, seed: u64) -> Vec<Op> {
        crate::demo::DemoCohort::test_ops(n, seed)
    }

    /// Everything a commit can change: the records as raw bytes; the counters
    /// in `meta` by value (put back re-sealed, so with new nonces); meta's keys.
    type Contents = (Vec<Vec<(Vec<u8>, Vec<u8>)>>, u64, Hlc, Vec<Vec<u8>>);

    fn contents(store: &EncryptedStore) -> Contents {
        let records = [&store.ops, &store.outbox, &store.people, &store.summaries]
            .iter()
            .map(|t| {
                t.iter()
                    .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())).expect("read"))
                    .collect()
            })
            .collect();
        let meta_keys = store
            .meta
            .iter()
            .keys()
            .map(|k| k.expect("key").to_vec())
            .collect();
        let clock: Hlc = store
            .meta(super::super::META_CLOCK)
            .expect("clock")
            .unwrap_or_default();
        (records, store.op_count().expect("count"), clock, meta_keys)
    }

    #[test]
    fn a_large_commit_cut_short_is_put_back_whole_at_the_next_open() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("s");
        let store = EncryptedStore::create(&dir, b"pass", FAST).expect("create");
        store
            .commit(&people(20, 1), Origin::Local)
            .expect("small commit");
        // Sled's contents are compared: the small commit applied to it first.
        store.settle().expect("settle");
        let before = contents(&store);
        let more = people(PART / 4, 2);
        let store = cut_short_after_the_first_part(store, &dir, &more, &before);
        // And a whole large commit lands whole.
        let changed = store.commit(&more, Origin::Local).expect("large commit");
        assert_eq!(changed.len(), PART / 4);
        let (summaries, damaged) = store.summaries().expect("summaries");
        assert_eq!((summaries.len(), damaged.len()), (20 + PART / 4, 0));
        // What it hands back (decoded from the pages it wrote) is each
        // changed person's summary as stored.
        for (id, summary) in &changed {
            let stored = summaries.iter().find(|s| s.id == *id);
            assert!(stored.is_some());
            assert_eq!(summary.as_ref(), stored);
        }
        assert_eq!(
            store.outbox().expect("outbox").len(),
            people(20, 1).len() + more.len()
        );
    }

    #[test]
    fn a_large_commit_into_a_new_store_cut_short_leaves_it_empty() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("s");
        let store = EncryptedStore::create(&dir, b"pass", FAST).expect("create");
        let before = contents(&store);
        let more = people(PART / 4, 2);
        let store = cut_short_after_the_first_part(store, &dir, &more, &before);
        let changed = store.commit(&more, Origin::Local).expect("large commit");
        assert_eq!(changed.len(), PART / 4);
        // One outbox entry for the whole commit.
        assert_eq!(store.outbox.len(), 1);
        assert_eq!(store.outbox().expect("outbox").len(), more.len());
        assert!(store.doctor().expect("doctor").is_healthy());
    }

    /// Does what `commit_in_parts` does up to a kill after its first part,
    /// its outbox entry and the pages it changed; opens the store again and
    /// checks it holds exactly `before`.
    fn cut_short_after_the_first_part(
        store: EncryptedStore,
        dir: &std::path::Path,
        more: &[Op],
        before: &Contents,
    ) -> EncryptedStore {
        assert!(more.len() > PART, "several parts");
        let mut undo = Undo::open(&store.db, T_UNDO).expect("undo");
        for (tag, tree) in store.journaled_trees() {
            undo.note_if_empty(tag, tree).expect("note");
        }
        let marker = Before {
            ops: store.op_count().expect("count"),
            at: store.last_hlc(),
        };
        store
            .meta
            .insert(
                META_UNFINISHED.as_bytes(),
                store
                    .seal(T_META, META_UNFINISHED.as_bytes(), &marker)
                    .expect("seal"),
            )
            .expect("marker");
        let (mut pages, mut outbox) = (Pages::new(), Vec::new());
        store
            .commit_part(
                &more[..PART],
                Origin::Local,
                Some(InParts {
                    undo: &undo,
                    pages: &mut pages,
                    running: &mut Running {
                        at: marker.at,
                        ops: marker.ops,
                    },
                    outbox: &mut outbox,
                }),
                Ids::MayBeHeld,
            )
            .expect("first part");
        store.write_outbox_entry(&outbox, &undo).expect("outbox");
        store.write_pages(&pages, &undo).expect("pages");
        store.flush().expect("flush");
        assert!(contents(&store) != *before, "the first part was written");
        drop(undo);
        drop(store);
        let store = EncryptedStore::open(dir, b"pass").expect("reopen");
        let (records, count, clock, mut meta_keys) = contents(&store);
        // A new store, which had no clock yet, has the one it had (the
        // beginning) written back.
        if !before.3.contains(&META_CLOCK_KEY.to_vec()) {
            meta_keys.retain(|k| k != META_CLOCK_KEY);
        }
        assert!(
            (records, count, clock, meta_keys) == *before,
            "exactly as before the commit"
        );
        assert!(
            !store.db.tree_names().iter().any(|n| n == T_UNDO.as_bytes())
                || store.db.open_tree(T_UNDO).expect("undo").is_empty()
        );
        store
    }

    /// A store with 20 people committed and applied, its contents, and a
    /// commit of `n` more people's ops begun.
    fn begun(n: usize) -> (tempfile::TempDir, EncryptedStore, Contents, Vec<Op>) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = EncryptedStore::create(&tmp.path().join("s"), b"pass", FAST).expect("create");
        store
            .commit(&people(20, 1), Origin::Local)
            .expect("small commit");
        store.settle().expect("settle");
        let before = contents(&store);
        (tmp, store, before, people(n, 5))
    }

    #[test]
    fn a_part_in_flight_is_read_as_it_leaves_people_and_lands_before_the_end() {
        let (tmp, store, _, ops) = begun(PART / 4);
        let last = ops.last().expect("ops").person;
        let (theirs, others): (Vec<Op>, Vec<Op>) =
            ops.iter().cloned().partition(|op| op.person == last);
        let mut commit = store.begin_in_parts(Origin::Local).expect("begin");
        store
            .write_minted_part(&mut commit, &others)
            .expect("parts");
        // The last part still in flight: reading someone it changes waits.
        in_flight::tests::next_flight_of(&tmp.path().join("s"), in_flight::tests::Flight::Slow);
        store
            .write_minted_part(&mut commit, &theirs)
            .expect("last part");
        let theirs: Vec<&Op> = theirs.iter().collect();
        assert_eq!(
            store.person(last).expect("read"),
            Some(PersonState::fold(last, theirs))
        );
        let changed = store.finish_in_parts(commit).expect("finish").count();
        assert_eq!(changed, PART / 4);
        assert_eq!(store.summaries().expect("summaries").0.len(), 20 + PART / 4);
        assert_eq!(
            store.outbox().expect("outbox").len(),
            people(20, 1).len() + ops.len()
        );
    }

    #[test]
    fn a_person_in_two_parts_in_a_row_is_worked_out_after_the_first_lands() {
        let (_tmp, store, _, ops) = begun(PART / 2);
        let ids: BTreeSet<PersonId> = ops.iter().map(|op| op.person).collect();
        // Each person's first op, then the rest: the pieces of one part
        // larger than PART share people, as do the two calls.
        let mut seen = BTreeSet::new();
        let (first, rest): (Vec<Op>, Vec<Op>) =
            ops.iter().cloned().partition(|op| seen.insert(op.person));
        let (rest_here, rest_later) = rest.split_at(rest.len() / 2);
        let one_part: Vec<Op> = first.iter().chain(rest_here).cloned().collect();
        assert!(one_part.len() > PART, "{}", one_part.len());
        let mut commit = store.begin_in_parts(Origin::Local).expect("begin");
        store
            .write_minted_part(&mut commit, &one_part)
            .expect("first");
        store
            .write_minted_part(&mut commit, rest_later)
            .expect("second");
        assert_eq!(
            store.finish_in_parts(commit).expect("finish").count(),
            ids.len()
        );
        for id in ids {
            let theirs: Vec<&Op> = ops.iter().filter(|op| op.person == id).collect();
            let stored = store.person(id).expect("read").expect("registered");
            assert_eq!(stored, PersonState::fold(id, theirs));
        }
        assert_eq!(
            store.op_count().expect("count"),
            (people(20, 1).len() + ops.len()) as u64
        );
    }

    #[test]
    fn abandoning_with_a_part_in_flight_puts_back_everything_it_wrote() {
        let (tmp, store, before, ops) = begun(PART / 2);
        let mut commit = store.begin_in_parts(Origin::Local).expect("begin");
        store
            .write_minted_part(&mut commit, &ops[..PART])
            .expect("first");
        // Still in flight when the commit is abandoned.
        in_flight::tests::next_flight_of(&tmp.path().join("s"), in_flight::tests::Flight::Slow);
        store
            .write_minted_part(&mut commit, &ops[PART..2 * PART])
            .expect("second");
        store.abandon_in_parts(commit);
        // Had it landed after everything was put back, it would be here now.
        std::thread::sleep(std::time::Duration::from_millis(400));
        store.settle().expect("settle");
        assert!(contents(&store) == before, "exactly as before the commit");
    }

    #[test]
    fn a_part_that_fails_in_flight_fails_the_commit_and_nothing_is_kept() {
        let (tmp, store, before, ops) = begun(PART / 2);
        let dir = tmp.path().join("s");
        assert!(ops.len() >= 2 * PART, "{}", ops.len());
        let (one, two) = (&ops[..PART], &ops[PART..2 * PART]);
        // Reported by the next part...
        let mut commit = store.begin_in_parts(Origin::Local).expect("begin");
        in_flight::tests::next_flight_of(&dir, in_flight::tests::Flight::Fails);
        store
            .write_minted_part(&mut commit, one)
            .expect("handed over");
        let next = store.write_minted_part(&mut commit, two);
        assert!(matches!(next, Err(StoreError::DiskFull)), "{next:?}");
        store.abandon_in_parts(commit);
        assert!(contents(&store) == before, "as before, after the next part");
        // ...or by the end.
        let mut commit = store.begin_in_parts(Origin::Local).expect("begin");
        store.write_minted_part(&mut commit, one).expect("first");
        in_flight::tests::next_flight_of(&dir, in_flight::tests::Flight::Fails);
        store
            .write_minted_part(&mut commit, two)
            .expect("handed over");
        let end = store.finish_in_parts(commit).map(|c| c.count());
        assert!(
            matches!(end, Err(StoreError::DiskFull)),
            "{:?}",
            end.map(|_| ())
        );
        assert!(contents(&store) == before, "as before, at the end");
    }
}
