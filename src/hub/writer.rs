//! Changes made on the hub itself (directly, or through a running hub's
//! admin socket): a council-wide cohort
//! import and assignments. Ops written by the admin who ran the command, folded
//! like any other, and delivered to devices in scope by their next pull.

use super::store::HubStore;
use crate::clock::Clock;
use crate::domain::{CaseSummary, DeviceId, Op, OpId, OpPayload, PersonId, PersonState, WorkerId};
use crate::store::OpTarget;
use crate::store::StoreError;
use crate::sync::HlcClock;

pub struct HubWriter<'a> {
    store: &'a dyn HubStore,
    /// The hub's data directory, where a large write is spooled.
    data_dir: std::path::PathBuf,
    people: Vec<CaseSummary>,
    admin: WorkerId,
    device: DeviceId,
    clock: HlcClock,
    wall: Clock,
}

impl<'a> HubWriter<'a> {
    pub fn new(
        store: &'a dyn HubStore,
        data_dir: &std::path::Path,
        admin: WorkerId,
        wall: Clock,
    ) -> Result<Self, StoreError> {
        let mut clock = HlcClock::default();
        if let Some(last) = store.since(store.last_seq()?.saturating_sub(1), 1)?.first() {
            clock.observe(last.op.at);
        }
        Ok(Self {
            people: store.summaries()?,
            store,
            data_dir: data_dir.to_path_buf(),
            admin,
            device: DeviceId::random(),
            clock,
            wall,
        })
    }
}

impl OpTarget for HubWriter<'_> {
    fn people(&self) -> crate::domain::Summaries<'_> {
        (&self.people).into()
    }
    fn person(&self, id: PersonId) -> Result<Option<PersonState>, StoreError> {
        self.store.person(id)
    }
    fn new_op(&mut self, person: PersonId, payload: OpPayload) -> Op {
        Op {
            id: OpId(uuid::Uuid::now_v7()),
            at: self.clock.tick(self.wall.now_millis()),
            author: self.admin.clone(),
            device: self.device,
            person,
            payload,
        }
    }
    fn commit(&mut self, ops: &[Op]) -> Result<(), StoreError> {
        self.store
            .append(ops, self.admin.as_str(), self.wall.now_millis())
            .map(|_| ())
    }
    /// Each part goes to a spool in the hub's data directory as it is made;
    /// the hub writes them all or nothing from there, so neither process
    /// holds the whole (a council's import).
    fn commit_in_parts<E: From<StoreError>>(
        &mut self,
        next: &mut crate::store::NextPart<'_, Self, E>,
    ) -> Result<(), E> {
        let mut spool = super::spool::SpoolWriter::create(&self.data_dir)?;
        while let Some(part) = next(self)? {
            spool.push(&part)?;
        }
        let written = spool.finish()?;
        self.store
            .append_spooled(&written, self.admin.as_str(), self.wall.now_millis())?;
        // The spool is removed with its writer, here or on any error above.
        drop(spool);
        Ok(())
    }
}
