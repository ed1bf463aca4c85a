//! Moving about: screens, the history behind Esc, lists, filters and the
//! tracking queue's place.

use super::*;

impl App {
    pub(super) fn go(&mut self, screen: Screen) {
        if self.screen != screen {
            self.history.clear();
            self.screen = screen;
        }
        // Both depend on today and on everyone: worked out afresh on entering.
        match screen {
            Screen::Agenda => self.needs |= NeedsUpdate::AGENDA,
            Screen::Dashboard => self.needs |= NeedsUpdate::DASHBOARD,
            Screen::Returns => self.needs |= NeedsUpdate::RETURNS,
            _ => {}
        }
        if screen == Screen::Queue && self.queue.people.is_empty() {
            self.default_queue();
        }
        self.refresh_screen();
    }

    pub(super) fn open_person(&mut self, id: PersonId) {
        if let Some(pane) = self.load_pane(id) {
            self.person = Some(pane);
            self.open_person = Some(id);
            if self.screen != Screen::Person {
                self.history.push(self.screen);
            }
            self.screen = Screen::Person;
        }
    }

    pub(super) fn start_queue(&mut self, title: String, people: Vec<PersonId>) {
        self.queue = QueueState {
            title,
            people,
            ..QueueState::default()
        };
        self.history.clear();
        self.screen = Screen::Queue;
        self.load_queue_pane();
    }

    /// The queue offered when none was started from a list.
    pub(super) fn default_queue(&mut self) {
        let today = self.today();
        let Some(replica) = self.replica() else {
            return;
        };
        let (title, ids) = QueueState::not_known(
            replica.index().all(),
            &replica.identity().worker,
            today,
            &self.config.currency,
        );
        self.start_queue(title, ids);
    }

    pub(super) fn apply_filter(&mut self, action: Action) {
        match self.screen {
            Screen::Caseload => {
                let f = &mut self.caseload.filters;
                match action {
                    Action::FilterRag => f.cycle_rag(),
                    Action::FilterStatus => f.cycle_status(),
                    Action::FilterDistrict => f.cycle_district(),
                    Action::FilterGroup => f.cycle_group(),
                    Action::FilterOverdue => f.overdue = !f.overdue,
                    _ => f.mine = !f.mine,
                }
                self.filter_refresh();
            }
            Screen::Agenda if action == Action::FilterMine => {
                self.agenda.everyone = !self.agenda.everyone;
                self.rebuild_agenda();
            }
            _ => {}
        }
    }

    pub(super) fn back(&mut self) {
        if self.screen == Screen::Caseload
            && (self.caseload.searching || !self.caseload.query.value().is_empty())
        {
            self.caseload.searching = false;
            self.caseload.query.reset();
            if let Session::Unlocked(replica) = &self.session {
                self.caseload.requery(replica.index());
            }
            return;
        }
        if let Some(prev) = self.history.pop() {
            self.screen = prev;
            if prev != Screen::Person {
                self.person = None;
            }
            self.refresh_screen();
        }
    }

    pub(super) fn move_by(&mut self, delta: isize) {
        match self.screen {
            Screen::Caseload => self.caseload.move_by(delta),
            Screen::Agenda => self.agenda.move_by(delta),
            Screen::Returns => {
                if let Some(r) = &mut self.returns {
                    r.move_by(delta);
                }
            }
            Screen::Person => {
                if let Some(p) = &mut self.person {
                    let last = p.last_scroll.get() as isize;
                    p.scroll = (p.scroll as isize + delta).clamp(0, last) as u16;
                }
            }
            _ => {}
        }
    }

    /// The queue's current person has a contact logged: on to the next.
    pub(super) fn queue_logged(&mut self) {
        self.queue.started.get_or_insert_with(Instant::now);
        self.queue.done += 1;
        self.queue.pos += 1;
        self.load_queue_pane();
    }

    /// A fresh search each time: the last one's words are not kept.
    pub(super) fn start_search(&mut self) {
        self.caseload.searching = true;
        if !self.caseload.query.value().is_empty() {
            self.caseload.query.reset();
            if let Session::Unlocked(replica) = &self.session {
                self.caseload.requery(replica.index());
            }
        }
    }

    pub(super) fn sort_or_clear(&mut self, action: Action) {
        match action {
            Action::SortNext => self.caseload.sort = self.caseload.sort.next(),
            Action::SortReverse => self.caseload.descending = !self.caseload.descending,
            _ => {
                self.caseload.filters = Default::default();
                self.caseload.query.reset();
            }
        }
        self.filter_refresh();
    }

    /// A tracking queue of everyone the caseload lists, titled by its filters.
    pub(super) fn queue_from_list(&mut self) {
        let Some(replica) = self.replica() else {
            return;
        };
        let ids = self.caseload.ids(replica.index());
        let mut title = self.caseload.filters.describe().join(" · ");
        if !self.caseload.query.value().is_empty() {
            title = format!("{title} \"{}\"", self.caseload.query.value())
                .trim()
                .to_string();
        }
        if title.is_empty() {
            title = "everyone listed".into();
        }
        self.start_queue(title, ids);
    }

    /// Back to the previous person (-1) or on, skipping this one (1).
    pub(super) fn queue_step(&mut self, by: isize) {
        if by < 0 && self.queue.pos > 0 {
            self.queue.pos -= 1;
        } else if by > 0 && self.queue.current().is_some() {
            self.queue.pos += 1;
            self.queue.skipped += 1;
        } else {
            return;
        }
        self.load_queue_pane();
    }
}
