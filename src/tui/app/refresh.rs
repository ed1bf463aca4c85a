//! Bringing what the screens show up to date from the records, as the
//! "needs update" flags say.

use super::*;
use crate::replica::CaseIndex;

impl App {
    /// The caseload list filtered and sorted whole: after its filters or
    /// order changed.
    pub(super) fn filter_refresh(&mut self) {
        self.bring_caseload_up_to_date(CaseloadList::refresh);
    }

    /// The caseload list brought up to date after records changed: by the
    /// people who changed alone when it can be.
    fn caseload_update(&mut self) {
        self.bring_caseload_up_to_date(|list, index, ctx| {
            list.update(index, ctx);
        });
    }

    fn bring_caseload_up_to_date(
        &mut self,
        how: impl FnOnce(&mut CaseloadList, &CaseIndex, &FilterContext),
    ) {
        let Session::Unlocked(replica) = &self.session else {
            return;
        };
        let ctx = FilterContext {
            today: self.today(),
            me: &replica.identity().worker,
            currency: &self.config.currency,
        };
        how(&mut self.caseload, replica.index(), &ctx);
        self.needs.remove(NeedsUpdate::CASELOAD);
    }

    pub(super) fn on_unlocked(&mut self) {
        let clock = self.clock;
        if let Session::Unlocked(replica) = &mut self.session {
            replica.set_clock(clock);
            self.sync.observe(replica, Instant::now());
        }
        self.needs |= NeedsUpdate::RECORDS;
        self.refresh_screen();
    }

    /// Brings whatever the current screen shows up to date.
    pub(super) fn refresh_screen(&mut self) {
        if !self.is_unlocked() {
            return;
        }
        if self.needs.contains(NeedsUpdate::CASELOAD) {
            self.caseload_update();
        }
        if self.needs.contains(NeedsUpdate::PERSON) {
            self.needs.remove(NeedsUpdate::PERSON);
            if let Some(id) = self.person.as_ref().map(|p| p.person.id) {
                self.reload_person(id);
            }
        }
        match self.screen {
            Screen::Person if self.person.is_none() => {
                self.person = self.open_person.and_then(|id| self.load_pane(id));
                if self.person.is_none() {
                    self.screen = self.history.pop().unwrap_or(Screen::Caseload);
                }
            }
            Screen::Agenda if self.needs.contains(NeedsUpdate::AGENDA) => self.rebuild_agenda(),
            Screen::Dashboard
                if self.needs.contains(NeedsUpdate::DASHBOARD) || self.dashboard.is_none() =>
            {
                self.rebuild_dashboard()
            }
            Screen::Returns
                if self.needs.contains(NeedsUpdate::RETURNS) || self.returns.is_none() =>
            {
                self.rebuild_returns()
            }
            Screen::Queue
                if self.needs.contains(NeedsUpdate::QUEUE_PANE) || self.queue.pane.is_none() =>
            {
                self.load_queue_pane()
            }
            _ => {}
        }
    }

    pub(super) fn rebuild_agenda(&mut self) {
        let today = self.today();
        let Session::Unlocked(replica) = &self.session else {
            return;
        };
        let me = replica.identity().worker.clone();
        self.agenda
            .rebuild(replica.index().all(), &me, today, &self.config.currency);
        self.needs.remove(NeedsUpdate::AGENDA);
    }

    pub(super) fn rebuild_dashboard(&mut self) {
        let today = self.today();
        let Some(replica) = self.replica() else {
            return;
        };
        self.dashboard = Some(DashboardData::build(
            replica.index().all(),
            today,
            &self.config,
        ));
        self.needs.remove(NeedsUpdate::DASHBOARD);
    }

    pub(super) fn rebuild_returns(&mut self) {
        let today = self.today();
        let Some(replica) = self.replica() else {
            return;
        };
        let mut data = ReturnsData::build(replica, today, &self.config);
        // The same row stays chosen when coming back from a record.
        if let Some(old) = &self.returns {
            data.selected = old.selected.min(data.checks.len().saturating_sub(1));
        }
        self.returns = Some(data);
        self.needs.remove(NeedsUpdate::RETURNS);
        // The Year 11 and 12 records just read stay in sled's memory (about
        // 45 MB for 52,500 people) until the database is closed.
        self.reopen_database = true;
    }

    pub(super) fn load_pane(&mut self, id: PersonId) -> Option<PersonPane> {
        let replica = self.replica()?;
        match replica.person(id) {
            Ok(Some(state)) => {
                let person = state.young_person()?;
                Some(PersonPane {
                    state,
                    person,
                    scroll: 0,
                    last_scroll: std::cell::Cell::new(u16::MAX),
                })
            }
            Ok(None) => None,
            Err(e) => {
                self.set_status(StatusKind::Error, e.to_string());
                None
            }
        }
    }

    pub(super) fn reload_person(&mut self, id: PersonId) {
        if self.person.as_ref().is_some_and(|p| p.person.id == id) {
            let scroll = self.person.as_ref().map_or(0, |p| p.scroll);
            self.person = self.load_pane(id).map(|mut p| {
                p.scroll = scroll;
                p
            });
        }
    }

    pub(super) fn load_queue_pane(&mut self) {
        self.queue.pane = self.queue.current().and_then(|id| self.load_pane(id));
        self.needs.remove(NeedsUpdate::QUEUE_PANE);
    }
}
