//! The application state and everything that changes it. Keys become actions
//! through the keymap (`handle_key`); actions change state (`apply`); views in
//! `views/` only read it. Every write goes through the replica's op path and is
//! on disk before the screen says "Saved".

use super::action::Action;
use super::agenda::AgendaList;
use super::caseload::{CaseloadList, FilterContext};
use super::dashboard::DashboardData;
use super::forms::{
    ActivityPicker, ContactFocus, ContactForm, FormContext, FormStep, NoteForm, Overlay, Palette,
    PickerFocus, RatingForm, RetractForm, Submission,
};
use super::keymap::{Context, KeyChord, Keymap};
use super::queue::QueueState;
pub use super::session::Session;
use super::session::{LockStep, edit, is_text_key};
use super::sync::{SyncHealth, SyncOutcome, SyncState};
use super::theme::Theme;
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::dates::uk;
use crate::domain::risk;
use crate::domain::{Channel, ContactAttempt, OpPayload, PersonId, PersonState, YoungPerson};
use crate::logfile::Log;
use crate::replica::Replica;
use chrono::{NaiveDate, NaiveTime};
use ratatui::crossterm::event::{Event, KeyEvent, KeyEventKind};
use std::collections::VecDeque;
use std::time::{Duration, Instant};
use tui_input::Input;

bitflags::bitflags! {
    /// What must be rebuilt from the records before it is next shown: set
    /// where something changes, cleared as each part is rebuilt (one set of
    /// flags instead of invalidations written at each change).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct NeedsUpdate: u8 {
        /// The caseload list (filters, search, sort).
        const CASELOAD = 1;
        const AGENDA = 1 << 1;
        const DASHBOARD = 1 << 2;
        /// The open young person.
        const PERSON = 1 << 3;
        /// The queue's current young person.
        const QUEUE_PANE = 1 << 4;
        /// Everything shown from the records, after a save or a sync.
        const RECORDS = Self::CASELOAD.bits()
            | Self::AGENDA.bits()
            | Self::DASHBOARD.bits()
            | Self::PERSON.bits();
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Caseload,
    Person,
    Agenda,
    Queue,
    Dashboard,
}

impl Screen {
    pub fn title(self) -> &'static str {
        match self {
            Screen::Caseload => "Caseload",
            Screen::Person => "Young person",
            Screen::Agenda => "My day",
            Screen::Queue => "Tracking queue",
            Screen::Dashboard => "Dashboard",
        }
    }
}

/// The open young person, decrypted on opening and dropped on lock.
pub struct PersonPane {
    pub state: PersonState,
    pub person: YoungPerson,
    pub scroll: u16,
    /// How far the record can scroll at the size it was last drawn: the
    /// view sets it, so paging down stops at the end of the record.
    pub last_scroll: std::cell::Cell<u16>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusMessage {
    pub kind: StatusKind,
    pub text: String,
}

/// How many recent messages `messages` shows.
const MESSAGES_KEPT: usize = 30;

pub struct App {
    pub config: Config,
    pub keymap: Keymap,
    pub theme: Theme,
    /// Where "now" and "today" come from; today follows it past midnight.
    pub clock: Clock,
    pub session: Session,
    pub screen: Screen,
    history: Vec<Screen>,
    pub overlay: Option<Overlay>,
    pub caseload: CaseloadList,
    /// What must be rebuilt from the records before it is shown again.
    needs: NeedsUpdate,
    /// The last entry saved here, which `undo` corrects.
    last_saved: Option<LastSaved>,
    pub person: Option<PersonPane>,
    /// Which person the person screen shows: kept across a lock (the decrypted
    /// pane is not) so unlocking returns to them.
    open_person: Option<PersonId>,
    pub agenda: AgendaList,
    pub queue: QueueState,
    pub dashboard: Option<DashboardData>,
    pub status: Option<StatusMessage>,
    /// The last messages, newest first, to read in full (`messages`); they can
    /// name young people, so a lock forgets them.
    pub messages: VecDeque<(NaiveTime, StatusMessage)>,
    /// Background sync with the hub, and what the status bar says of it.
    pub sync: SyncState,
    /// The sync in flight was asked for with the sync key (so say how it went).
    sync_requested: bool,
    /// Keymap and config problems found at start-up, shown until the first key.
    pub startup_problems: Vec<String>,
    pub last_input: Instant,
    pub quit: bool,
    log: Log,
}

impl App {
    pub fn new(
        session: Session,
        config: Config,
        keymap: Keymap,
        theme: Theme,
        clock: Clock,
        log: Log,
    ) -> App {
        let config_sync_minutes = config.ui.sync_minutes;
        let mut app = App {
            config,
            keymap,
            theme,
            clock,
            session,
            screen: Screen::Caseload,
            history: Vec::new(),
            overlay: None,
            caseload: CaseloadList::default(),
            needs: NeedsUpdate::all(),
            last_saved: None,
            person: None,
            open_person: None,
            agenda: AgendaList::default(),
            queue: QueueState::default(),
            dashboard: None,
            status: None,
            messages: VecDeque::new(),
            sync: SyncState::new(config_sync_minutes),
            sync_requested: false,
            startup_problems: Vec::new(),
            last_input: Instant::now(),
            quit: false,
            log,
        };
        if matches!(app.session, Session::Unlocked(_)) {
            app.on_unlocked();
        }
        app
    }

    /// Today's date, read from the clock each time (a workbench left open past
    /// midnight dates what it records on the new day).
    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    pub fn replica(&self) -> Option<&Replica> {
        match &self.session {
            Session::Unlocked(r) => Some(r),
            _ => None,
        }
    }

    pub fn is_unlocked(&self) -> bool {
        self.replica().is_some()
    }

    fn set_status(&mut self, kind: StatusKind, text: impl Into<String>) {
        let message = StatusMessage {
            kind,
            text: text.into(),
        };
        self.messages
            .push_front((self.clock.now().time(), message.clone()));
        self.messages.truncate(MESSAGES_KEPT);
        self.status = Some(message);
    }

    fn filter_refresh(&mut self) {
        let Session::Unlocked(replica) = &self.session else {
            return;
        };
        let ctx = FilterContext {
            today: self.today(),
            me: &replica.identity().worker,
            currency: &self.config.currency,
        };
        self.caseload.refresh(replica.index(), &ctx);
        self.needs.remove(NeedsUpdate::CASELOAD);
    }

    fn on_unlocked(&mut self) {
        let clock = self.clock;
        if let Session::Unlocked(replica) = &mut self.session {
            replica.set_clock(clock);
            self.sync.observe(replica, Instant::now());
        }
        self.needs |= NeedsUpdate::RECORDS;
        self.refresh_screen();
    }

    /// Brings whatever the current screen shows up to date.
    fn refresh_screen(&mut self) {
        if !self.is_unlocked() {
            return;
        }
        if self.needs.contains(NeedsUpdate::CASELOAD) {
            self.filter_refresh();
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
            Screen::Queue
                if self.needs.contains(NeedsUpdate::QUEUE_PANE) || self.queue.pane.is_none() =>
            {
                self.load_queue_pane()
            }
            _ => {}
        }
    }

    fn rebuild_agenda(&mut self) {
        let today = self.today();
        let Session::Unlocked(replica) = &self.session else {
            return;
        };
        let me = replica.identity().worker.clone();
        self.agenda
            .rebuild(replica.index().all(), &me, today, &self.config.currency);
        self.needs.remove(NeedsUpdate::AGENDA);
    }

    fn rebuild_dashboard(&mut self) {
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

    fn load_pane(&mut self, id: PersonId) -> Option<PersonPane> {
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

    fn reload_person(&mut self, id: PersonId) {
        if self.person.as_ref().is_some_and(|p| p.person.id == id) {
            let scroll = self.person.as_ref().map_or(0, |p| p.scroll);
            self.person = self.load_pane(id).map(|mut p| {
                p.scroll = scroll;
                p
            });
        }
    }

    fn load_queue_pane(&mut self) {
        self.queue.pane = self.queue.current().and_then(|id| self.load_pane(id));
        self.needs.remove(NeedsUpdate::QUEUE_PANE);
    }

    /// The person an action like "log contact" applies to on this screen.
    pub fn target_person(&self) -> Option<PersonId> {
        let replica = self.replica()?;
        match self.screen {
            Screen::Caseload => self.caseload.selected_id(replica.index()),
            Screen::Person => self.person.as_ref().map(|p| p.person.id),
            Screen::Agenda => self.agenda.selected_person(),
            Screen::Queue => self.queue.current(),
            Screen::Dashboard => None,
        }
    }

    pub fn person_name(&self, id: PersonId) -> String {
        self.replica()
            .and_then(|r| r.index().get(id))
            .map_or_else(|| id.short(), |s| s.name.display())
    }

    /// The keymap contexts in force, most specific first.
    pub fn contexts(&self) -> Vec<Context> {
        match &self.overlay {
            Some(Overlay::Contact(f)) if f.focus == ContactFocus::Choice => {
                vec![Context::Contact, Context::Form]
            }
            Some(Overlay::Rating(f)) if f.rag.is_none() => vec![Context::Rating, Context::Form],
            Some(Overlay::Help { .. } | Overlay::Messages { .. }) => {
                vec![Context::Form, Context::List, Context::Global]
            }
            Some(_) => vec![Context::Form],
            None if self.screen == Screen::Caseload && self.caseload.searching => {
                vec![Context::List, Context::Form]
            }
            None => self.screen_contexts(),
        }
    }

    /// The contexts of the screen itself, whatever overlay is open: what help lists.
    pub fn screen_contexts(&self) -> Vec<Context> {
        match self.screen {
            Screen::Caseload => vec![Context::Caseload, Context::List, Context::Global],
            Screen::Person => vec![Context::Person, Context::Global],
            Screen::Agenda => vec![Context::List, Context::Person, Context::Global],
            Screen::Queue => vec![Context::Queue, Context::Global],
            Screen::Dashboard => vec![Context::List, Context::Global],
        }
    }

    fn focused_text(&mut self) -> Option<&mut Input> {
        match &mut self.overlay {
            Some(Overlay::Contact(f)) => f.text_field(),
            Some(Overlay::Activity(p)) => Some(p.text_field()),
            Some(Overlay::Rating(f)) if f.rag.is_some() => Some(&mut f.reason),
            Some(Overlay::Note(f)) => Some(&mut f.text),
            Some(Overlay::Retract(f)) => Some(&mut f.reason),
            Some(Overlay::Palette(p)) => Some(&mut p.input),
            Some(_) => None,
            None if self.screen == Screen::Caseload && self.caseload.searching => {
                Some(&mut self.caseload.query)
            }
            None => None,
        }
    }

    pub fn handle_event(&mut self, event: &Event) {
        if let Event::Key(key) = event
            && key.kind != KeyEventKind::Release
        {
            self.handle_key(*key);
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) {
        self.last_input = Instant::now();
        // Shown until the first key, then kept with the other messages.
        let now = self.clock.now().time();
        for problem in std::mem::take(&mut self.startup_problems) {
            self.messages.push_front((
                now,
                StatusMessage {
                    kind: StatusKind::Error,
                    text: problem,
                },
            ));
        }
        if !self.is_unlocked() {
            let step = self.session.handle_key(key);
            self.after_lock_step(step);
            return;
        }
        if is_text_key(&key)
            && let Some(field) = self.focused_text()
        {
            if edit(field, &key) {
                self.after_edit();
            }
            return;
        }
        if let Some(action) = self
            .keymap
            .lookup(&self.contexts(), KeyChord::from_event(&key))
        {
            self.apply(action);
        }
    }

    fn after_edit(&mut self) {
        match &mut self.overlay {
            Some(Overlay::Activity(p)) if p.focus == PickerFocus::Search => p.refilter(),
            Some(Overlay::Palette(p)) => p.selected = 0,
            Some(_) => {}
            None => {
                if let Session::Unlocked(replica) = &self.session {
                    self.caseload.requery(replica.index());
                }
            }
        }
    }

    /// Unlocks with a passphrase given some other way (CASELOAD_PASSPHRASE).
    pub fn unlock_with(&mut self, passphrase: &str) {
        let step = self.session.unlock_with(passphrase);
        self.after_lock_step(step);
    }

    fn after_lock_step(&mut self, step: LockStep) {
        match step {
            LockStep::Stay => {}
            LockStep::Quit => self.quit = true,
            LockStep::Refused(event) => self.log.event(event),
            LockStep::Unlocked {
                replica,
                problems,
                event,
            } => {
                self.startup_problems.extend(problems);
                self.session = Session::Unlocked(replica);
                self.log.event(event);
                self.on_unlocked();
            }
        }
    }

    /// Locks: the data key and every decrypted record leave memory; an unsaved
    /// form stays, to be finished after unlocking.
    pub fn lock(&mut self, why: &str) {
        let Session::Unlocked(replica) = std::mem::replace(&mut self.session, Session::Switching)
        else {
            return;
        };
        let store = replica.into_store().relock();
        self.session = Session::Locked {
            store,
            input: Input::default(),
            error: None,
        };
        self.sync.abandon();
        self.person = None;
        self.queue.pane = None;
        self.dashboard = None;
        self.agenda.clear();
        self.needs = NeedsUpdate::all();
        self.status = None;
        self.messages.clear();
        if let Some(Overlay::Help { .. } | Overlay::Messages { .. } | Overlay::Palette(_)) =
            self.overlay
        {
            self.overlay = None;
        }
        self.log.event(why);
    }

    /// Auto-lock after the configured idle time; start and collect syncs.
    pub fn tick(&mut self, now: Instant) {
        if let Some(deadline) = self.lock_deadline()
            && now >= deadline
        {
            self.lock("locked after idle time");
        }
        self.tick_sync(now);
    }

    fn tick_sync(&mut self, now: Instant) {
        let Session::Unlocked(replica) = &mut self.session else {
            return;
        };
        if let Some(outcome) = self.sync.collect(replica, now) {
            let asked = std::mem::take(&mut self.sync_requested);
            match outcome {
                SyncOutcome::Done(r) => {
                    self.log.event(&format!(
                        "sync: {} sent, {} received, {} left scope",
                        r.pushed, r.pulled, r.removed
                    ));
                    if r.pulled > 0 || r.removed > 0 {
                        self.after_sync();
                    }
                    if asked || r.removed > 0 {
                        self.set_status(
                            StatusKind::Info,
                            format!(
                                "Synced: {} sent, {} received{}",
                                r.pushed,
                                r.pulled,
                                match r.removed {
                                    0 => String::new(),
                                    n => format!(", {n} no longer in your caseload"),
                                }
                            ),
                        );
                    }
                }
                SyncOutcome::Offline => {
                    self.log.event("sync: hub not reachable");
                    if asked {
                        self.set_status(
                            StatusKind::Info,
                            // Short: at 80 columns it shares the line with the sync state.
                            "Hub not reachable; changes kept",
                        );
                    }
                }
                SyncOutcome::Failed(words) => {
                    self.log.event("sync: failed");
                    self.set_status(StatusKind::Error, format!("Sync: {words}"));
                }
            }
        } else if self.sync.is_due(now) {
            self.start_sync(false);
        }
    }

    fn start_sync(&mut self, asked: bool) {
        let Session::Unlocked(replica) = &self.session else {
            return;
        };
        if self.sync.health == SyncHealth::NotLinked {
            self.set_status(
                StatusKind::Info,
                "Not linked to a hub: run `caseload login HUB_URL` once to sync",
            );
            return;
        }
        let started = self.sync.start(replica);
        match started {
            Ok(()) => self.sync_requested = asked,
            Err(why) if asked => self.set_status(StatusKind::Info, why),
            Err(_) => {}
        }
    }

    /// Ops from the hub changed what the screens show.
    fn after_sync(&mut self) {
        self.needs |= NeedsUpdate::RECORDS | NeedsUpdate::QUEUE_PANE;
        self.refresh_screen();
    }

    /// When auto-lock will fire, if it will.
    pub fn lock_deadline(&self) -> Option<Instant> {
        let minutes = self.config.ui.idle_lock_minutes;
        (self.is_unlocked() && minutes > 0)
            .then(|| self.last_input + Duration::from_secs(u64::from(minutes) * 60))
    }

    fn go(&mut self, screen: Screen) {
        if self.screen != screen {
            self.history.clear();
            self.screen = screen;
        }
        // Both depend on today and on everyone: worked out afresh on entering.
        match screen {
            Screen::Agenda => self.needs |= NeedsUpdate::AGENDA,
            Screen::Dashboard => self.needs |= NeedsUpdate::DASHBOARD,
            _ => {}
        }
        if screen == Screen::Queue && self.queue.people.is_empty() {
            self.default_queue();
        }
        self.refresh_screen();
    }

    fn open_person(&mut self, id: PersonId) {
        if let Some(pane) = self.load_pane(id) {
            self.person = Some(pane);
            self.open_person = Some(id);
            if self.screen != Screen::Person {
                self.history.push(self.screen);
            }
            self.screen = Screen::Person;
        }
    }

    fn start_queue(&mut self, title: String, people: Vec<PersonId>) {
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
    fn default_queue(&mut self) {
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

    pub fn apply(&mut self, action: Action) {
        if self.overlay.is_some() {
            self.apply_overlay(action);
            return;
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.overlay = Some(Overlay::Help { scroll: 0 }),
            Action::Messages => self.overlay = Some(Overlay::Messages { scroll: 0 }),
            Action::Palette => self.overlay = Some(Overlay::Palette(Palette::default())),
            Action::Lock => self.lock("locked by the user"),
            Action::Sync => self.start_sync(true),
            Action::Back => self.back(),
            Action::GoCaseload => self.go(Screen::Caseload),
            Action::GoAgenda => self.go(Screen::Agenda),
            Action::GoQueue => self.go(Screen::Queue),
            Action::GoDashboard => self.go(Screen::Dashboard),
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-20),
            Action::PageDown => self.move_by(20),
            Action::Top => self.move_by(-1_000_000),
            Action::Bottom => self.move_by(1_000_000),
            Action::Open => {
                if self.screen == Screen::Caseload {
                    self.caseload.searching = false;
                }
                if let Some(id) = self.target_person() {
                    self.open_person(id);
                }
            }
            Action::Search if self.screen == Screen::Caseload => {
                // A fresh search each time: the last one's words are not kept.
                self.caseload.searching = true;
                if !self.caseload.query.value().is_empty() {
                    self.caseload.query.reset();
                    if let Session::Unlocked(replica) = &self.session {
                        self.caseload.requery(replica.index());
                    }
                }
            }
            Action::SortNext | Action::SortReverse | Action::ClearFilters
                if self.screen == Screen::Caseload =>
            {
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
            Action::FilterRag
            | Action::FilterStatus
            | Action::FilterDistrict
            | Action::FilterGroup
            | Action::FilterOverdue
            | Action::FilterMine => self.apply_filter(action),
            Action::StartQueue if self.screen == Screen::Caseload => {
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
            Action::LogContact => {
                if let Some(id) = self.target_person()
                    && let Some(replica) = self.replica()
                {
                    let state = replica.person(id).ok().flatten();
                    let channel = state
                        .as_ref()
                        .and_then(|s| s.young_person())
                        .and_then(|p| p.contact_preferences.preferred)
                        .unwrap_or(Channel::Phone);
                    let mut form = ContactForm::new(id, channel);
                    form.answers = state
                        .map(|s| s.follow_ups_answered_by(&replica.identity().worker, self.today()))
                        .unwrap_or_default()
                        .into_iter()
                        .map(|f| f.due)
                        .collect();
                    self.overlay = Some(Overlay::Contact(form));
                }
            }
            Action::FollowUpDone => self.mark_follow_up_done(),
            Action::Undo => match self.last_saved.clone() {
                Some(last) => {
                    self.overlay = Some(Overlay::Retract(RetractForm::new(
                        last.person,
                        last.op,
                        last.what,
                    )))
                }
                None => self.set_status(
                    StatusKind::Info,
                    "Nothing to undo here: `caseload retract` corrects older entries",
                ),
            },
            Action::AddNote => {
                if let Some(id) = self.target_person() {
                    self.overlay = Some(Overlay::Note(NoteForm::new(id)));
                }
            }
            Action::SetActivity => {
                if let Some(id) = self.target_person() {
                    self.overlay = Some(Overlay::Activity(ActivityPicker::new(id)));
                }
            }
            Action::RateRisk => {
                if let Some(id) = self.target_person()
                    && let Some(state) = self.replica().and_then(|r| r.person(id).ok().flatten())
                {
                    let suggestion = risk::suggest(&state, self.today(), &self.config.risk);
                    self.overlay = Some(Overlay::Rating(RatingForm::new(id, suggestion)));
                }
            }
            Action::QueuePrevious if self.screen == Screen::Queue && self.queue.pos > 0 => {
                self.queue.pos -= 1;
                self.load_queue_pane();
            }
            Action::QueueSkip if self.screen == Screen::Queue && self.queue.current().is_some() => {
                self.queue.pos += 1;
                self.queue.skipped += 1;
                self.load_queue_pane();
            }
            a if self.screen == Screen::Queue && a.outcome().is_some() => {
                if let (Some(id), Some(outcome)) = (self.queue.current(), a.outcome()) {
                    let attempt = ContactAttempt {
                        at: self.clock.now(),
                        channel: Channel::Phone,
                        outcome,
                        note: String::new(),
                        follow_up: None,
                    };
                    if self.save(id, OpPayload::LogContact(attempt)) {
                        self.set_status(
                            StatusKind::Info,
                            format!("Saved: Phone — {}", outcome.label()),
                        );
                        self.queue_logged();
                    }
                }
            }
            _ => {}
        }
    }

    fn apply_filter(&mut self, action: Action) {
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

    fn back(&mut self) {
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

    fn move_by(&mut self, delta: isize) {
        match self.screen {
            Screen::Caseload => self.caseload.move_by(delta),
            Screen::Agenda => self.agenda.move_by(delta),
            Screen::Person => {
                if let Some(p) = &mut self.person {
                    let last = p.last_scroll.get() as isize;
                    p.scroll = (p.scroll as isize + delta).clamp(0, last) as u16;
                }
            }
            _ => {}
        }
    }

    /// Commits through the replica; true once it is on disk. Refusals become the
    /// status message (and the form's error), never a panic.
    fn save(&mut self, id: PersonId, payload: OpPayload) -> bool {
        let kind = payload.kind();
        let what = undoable(&payload);
        let today = self.today();
        let Session::Unlocked(replica) = &mut self.session else {
            return false;
        };
        let result = match payload {
            OpPayload::SetFields(sets) => {
                replica.set_fields(id, sets.into_iter().map(|s| s.value).collect(), today)
            }
            other => replica.record(id, other, today),
        };
        match result {
            Ok(op) => {
                self.log.event(&format!("saved {kind} {}", op.id));
                self.last_saved = what.map(|what| LastSaved {
                    person: id,
                    op: op.id,
                    what,
                });
                self.after_commit();
                true
            }
            Err(e) => {
                self.log.event(&format!("refused {kind}"));
                self.set_status(StatusKind::Error, format!("Not saved: {e}"));
                false
            }
        }
    }

    fn after_commit(&mut self) {
        self.sync.waiting += 1; // each save here writes one op to the outbox
        self.needs |= NeedsUpdate::RECORDS;
        // Ringing through a queue goes at typing speed: the lists are rebuilt
        // on leaving it, not after every attempt; only its one person now.
        if self.screen == Screen::Queue {
            self.load_queue_pane();
        } else {
            self.refresh_screen();
        }
    }

    fn error_text(&self) -> Option<String> {
        self.status
            .as_ref()
            .filter(|s| s.kind == StatusKind::Error)
            .map(|s| s.text.clone())
    }

    fn apply_overlay(&mut self, action: Action) {
        match action {
            Action::Back => {
                self.overlay = None;
                return;
            }
            Action::Lock => {
                self.lock("locked by the user");
                return;
            }
            _ => {}
        }
        let name = self
            .overlay
            .as_ref()
            .and_then(Overlay::person)
            .map(|id| self.person_name(id))
            .unwrap_or_default();
        let cx = FormContext {
            today: self.today(),
            now: self.clock.now(),
            risk: &self.config.risk,
            name,
        };
        let Some(overlay) = self.overlay.as_mut() else {
            return;
        };
        match overlay.handle(action, &cx, palette_actions()) {
            FormStep::Stay => {}
            FormStep::Close => self.overlay = None,
            FormStep::Run(chosen) => {
                self.overlay = None;
                self.apply(chosen);
            }
            FormStep::Save(submission) => self.save_submission(submission),
        }
    }

    /// Marks the caseworker's own soonest open follow-up for the person done;
    /// a colleague's is theirs to close, and the message says so.
    fn mark_follow_up_done(&mut self) {
        let today = self.today();
        let Some(id) = self.target_person() else {
            return;
        };
        let Some(replica) = self.replica() else {
            return;
        };
        let me = replica.identity().worker.clone();
        let open = replica
            .person(id)
            .ok()
            .flatten()
            .map(|s| s.open_follow_ups())
            .unwrap_or_default();
        let name = self.person_name(id);
        match open.iter().find(|f| f.owner == me) {
            Some(f) => {
                let due = f.due;
                let payload = OpPayload::CompleteFollowUp {
                    follow_up: f.source,
                    on: today,
                };
                if self.save(id, payload) {
                    self.set_status(
                        StatusKind::Info,
                        format!("Done: your follow-up due {} for {name}", uk(due)),
                    );
                }
            }
            None => match open.first() {
                Some(theirs) => self.set_status(
                    StatusKind::Info,
                    format!(
                        "No open follow-up of yours for {name}; {}'s stays until they close it",
                        theirs.owner
                    ),
                ),
                None => self.set_status(StatusKind::Info, format!("No open follow-up for {name}")),
            },
        }
    }

    /// Saves what a form made: closes it and says so, or shows it why not.
    fn save_submission(&mut self, submission: Submission) {
        let Submission {
            person,
            payload,
            saved,
        } = submission;
        let contact = matches!(payload, OpPayload::LogContact(_));
        if !self.save(person, payload) {
            let why = self.error_text();
            if let Some(overlay) = self.overlay.as_mut() {
                overlay.show_error(why);
            }
            return;
        }
        self.overlay = None;
        self.set_status(StatusKind::Info, saved);
        if contact && self.screen == Screen::Queue && self.queue.current() == Some(person) {
            self.queue_logged();
        }
    }

    /// The queue's current person has a contact logged: on to the next.
    fn queue_logged(&mut self) {
        self.queue.started.get_or_insert_with(Instant::now);
        self.queue.done += 1;
        self.queue.pos += 1;
        self.load_queue_pane();
    }

    pub fn log_path(&self) -> Option<&std::path::Path> {
        self.log.path()
    }
}

/// An entry saved in this session, which `undo` can correct.
#[derive(Clone, Debug)]
struct LastSaved {
    person: PersonId,
    op: crate::domain::OpId,
    what: String,
}

/// What an undo would correct, in words; None for what is not an entry (a
/// field changed is corrected by setting it again; a correction by another).
fn undoable(payload: &OpPayload) -> Option<String> {
    match payload {
        OpPayload::LogContact(c) => Some(format!("{} — {}", c.channel.label(), c.outcome.label())),
        OpPayload::AddNote(_) => Some("note".into()),
        OpPayload::RateRisk(r) => Some(format!("rating {}", r.rag.label())),
        _ => None,
    }
}

/// The actions the palette offers (those that make sense outside a form).
pub fn palette_actions() -> &'static [Action] {
    // Worked out once: every key in an open form or the palette asks for it.
    static ACTIONS: std::sync::OnceLock<Vec<Action>> = std::sync::OnceLock::new();
    ACTIONS.get_or_init(|| {
        Action::ALL
            .iter()
            .copied()
            .filter(|a| {
                a.channel().is_none()
                    && a.outcome().is_none()
                    && a.rag().is_none()
                    && !matches!(
                        a,
                        Action::Submit
                            | Action::NextField
                            | Action::PrevField
                            | Action::Up
                            | Action::Down
                            | Action::Palette
                    )
            })
            .collect()
    })
}
