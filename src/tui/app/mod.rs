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
use super::returns::ReturnsData;
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

mod keys;
mod lock;
mod navigate;
mod refresh;
mod saving;

use saving::LastSaved;

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
        const RETURNS = 1 << 5;
        /// Everything shown from the records, after a save or a sync.
        const RECORDS = Self::CASELOAD.bits()
            | Self::AGENDA.bits()
            | Self::DASHBOARD.bits()
            | Self::RETURNS.bits()
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
    Returns,
}

impl Screen {
    pub fn title(self) -> &'static str {
        match self {
            Screen::Caseload => "Caseload",
            Screen::Person => "Young person",
            Screen::Agenda => "My day",
            Screen::Queue => "Tracking queue",
            Screen::Dashboard => "Dashboard",
            Screen::Returns => "Returns",
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
    /// Names young people: dropped on lock, like everything shown.
    pub returns: Option<ReturnsData>,
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
    /// The database is to be closed and opened again when the keyboard is
    /// next quiet, handing back what sled keeps of the records just read.
    reopen_database: bool,
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
            returns: None,
            status: None,
            messages: VecDeque::new(),
            sync: SyncState::new(config_sync_minutes),
            sync_requested: false,
            startup_problems: Vec::new(),
            last_input: Instant::now(),
            reopen_database: false,
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

    /// The person an action like "log contact" applies to on this screen.
    pub fn target_person(&self) -> Option<PersonId> {
        let replica = self.replica()?;
        match self.screen {
            Screen::Caseload => self.caseload.selected_id(replica.index()),
            Screen::Person => self.person.as_ref().map(|p| p.person.id),
            Screen::Agenda => self.agenda.selected_person(),
            Screen::Queue => self.queue.current(),
            Screen::Dashboard => None,
            Screen::Returns => self.returns.as_ref().and_then(|r| r.selected_person()),
        }
    }

    pub fn person_name(&self, id: PersonId) -> String {
        self.replica()
            .and_then(|r| r.index().get(id))
            .map_or_else(|| id.short(), |s| s.name.display())
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
            Action::GoReturns => self.go(Screen::Returns),
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
            Action::Search if self.screen == Screen::Caseload => self.start_search(),
            Action::SortNext | Action::SortReverse | Action::ClearFilters
                if self.screen == Screen::Caseload =>
            {
                self.sort_or_clear(action)
            }
            Action::FilterRag
            | Action::FilterStatus
            | Action::FilterDistrict
            | Action::FilterGroup
            | Action::FilterOverdue
            | Action::FilterMine => self.apply_filter(action),
            Action::StartQueue if self.screen == Screen::Caseload => self.queue_from_list(),
            Action::LogContact => self.open_contact_form(),
            Action::FollowUpDone => self.mark_follow_up_done(),
            Action::Undo => self.open_undo(),
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
            Action::RateRisk => self.open_rating_form(),
            Action::RecordOffer => self.open_offer_form(),
            Action::EditDetails => self.open_details_form(None),
            Action::RecordDestination => self.open_destination_form(),
            Action::QueuePrevious if self.screen == Screen::Queue => self.queue_step(-1),
            Action::QueueSkip if self.screen == Screen::Queue => self.queue_step(1),
            a if self.screen == Screen::Queue => {
                if let Some(outcome) = a.outcome() {
                    self.log_queue_outcome(outcome);
                }
            }
            _ => {}
        }
    }

    pub fn log_path(&self) -> Option<&std::path::Path> {
        self.log.path()
    }
}
