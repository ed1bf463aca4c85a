//! From keys to actions: which keymap contexts are in force, where typed
//! text goes, and the passphrase while locked.

use super::*;
use ratatui::crossterm::event::{KeyCode, KeyModifiers};

impl App {
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
            Screen::Returns => vec![Context::List, Context::Person, Context::Global],
        }
    }

    pub(super) fn focused_text(&mut self) -> Option<&mut Input> {
        match &mut self.overlay {
            Some(Overlay::Contact(f)) => f.text_field(),
            Some(Overlay::Activity(p)) => Some(p.text_field()),
            Some(Overlay::Rating(f)) if f.rag.is_some() => Some(&mut f.reason),
            Some(Overlay::Note(f)) => Some(&mut f.text),
            Some(Overlay::Retract(f)) => Some(&mut f.reason),
            Some(Overlay::Offer(f)) => f.text_field(),
            Some(Overlay::Destination(f)) => f.text_field(),
            Some(Overlay::Details(f)) => Some(f.text_field()),
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
        if let Some(plain) = self.escape_then_key(&key) {
            self.handle_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
            self.handle_key(plain);
            return;
        }
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

    /// Esc and the next key arriving together (a fast typist, or an SSH link
    /// that sends both in one packet) reach us as Alt and that key. Unless the
    /// keymap binds that Alt chord, they are taken as the two keys typed, so
    /// "Esc then o" never depends on how the bytes travelled.
    fn escape_then_key(&self, key: &KeyEvent) -> Option<KeyEvent> {
        let KeyCode::Char(c) = key.code else {
            return None;
        };
        if key.modifiers != KeyModifiers::ALT
            && key.modifiers != KeyModifiers::ALT | KeyModifiers::SHIFT
        {
            return None;
        }
        if self.is_unlocked()
            && self
                .keymap
                .lookup(&self.contexts(), KeyChord::from_event(key))
                .is_some()
        {
            return None;
        }
        Some(KeyEvent::new(
            KeyCode::Char(c),
            key.modifiers - KeyModifiers::ALT,
        ))
    }

    pub(super) fn after_edit(&mut self) {
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
}
