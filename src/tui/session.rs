//! The session: locked (waiting for the passphrase), being created (a new
//! passphrase, twice) or unlocked. The lock screen takes its own keys and
//! says what follows ([`LockStep`]); the app only reacts to an unlock.

use crate::replica::Replica;
use crate::store::StoreError;
use crate::store::crypto::KdfParams;
use crate::store::encrypted::LockedStore;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;
use zeroize::Zeroizing;

pub enum Session {
    /// The store exists; waiting for the passphrase.
    Locked {
        store: LockedStore,
        input: Input,
        error: Option<String>,
    },
    /// No store yet: choose a passphrase, twice.
    Create {
        dir: PathBuf,
        first: Input,
        second: Input,
        on_second: bool,
        error: Option<String>,
    },
    Unlocked(Box<Replica>),
    /// Only while switching between the others.
    Switching,
}

/// What a key on the lock screen led to.
pub enum LockStep {
    Stay,
    Quit,
    /// The store is open; `problems`: records found damaged on the way.
    Unlocked {
        replica: Box<Replica>,
        problems: Vec<String>,
        event: &'static str,
    },
    /// Refused (the screen says why); what the event log records.
    Refused(&'static str),
}

impl Session {
    /// A key while locked or creating: typing, Enter to go on, Ctrl-C to quit.
    pub fn handle_key(&mut self, key: KeyEvent) -> LockStep {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            return LockStep::Quit;
        }
        match self {
            Session::Locked { input, error, .. } => match key.code {
                KeyCode::Enter => return self.try_unlock(),
                KeyCode::Esc => input.reset(),
                _ if is_text_key(&key) => {
                    edit(input, &key);
                    *error = None;
                }
                _ => {}
            },
            Session::Create {
                first,
                second,
                on_second,
                error,
                ..
            } => match key.code {
                KeyCode::Enter if !*on_second => *on_second = true,
                KeyCode::Enter => return self.try_create(),
                KeyCode::Tab | KeyCode::BackTab => *on_second = !*on_second,
                _ if is_text_key(&key) => {
                    edit(if *on_second { second } else { first }, &key);
                    *error = None;
                }
                _ => {}
            },
            Session::Unlocked(_) | Session::Switching => {}
        }
        LockStep::Stay
    }

    /// Unlocks with a passphrase given some other way (CASELOAD_PASSPHRASE).
    pub fn unlock_with(&mut self, passphrase: &str) -> LockStep {
        if let Session::Locked { input, .. } = self {
            *input = Input::new(passphrase.to_string());
            return self.try_unlock();
        }
        LockStep::Stay
    }

    fn try_unlock(&mut self) -> LockStep {
        let Session::Locked {
            store,
            input,
            error,
        } = self
        else {
            return LockStep::Stay;
        };
        let pass = Zeroizing::new(input.value_and_reset());
        match store
            .unlock_with_passphrase(pass.as_bytes())
            .and_then(Replica::open)
        {
            Ok(replica) => LockStep::Unlocked {
                problems: replica
                    .damaged()
                    .iter()
                    .map(|d| format!("{} record {} is damaged ({})", d.tree, d.record, d.reason))
                    .collect(),
                replica: Box::new(replica),
                event: "unlocked",
            },
            Err(StoreError::WrongPassphrase(_)) => {
                *error = Some("Wrong passphrase. Try again.".into());
                LockStep::Refused("unlock refused: wrong passphrase")
            }
            Err(e) => {
                *error = Some(e.to_string());
                LockStep::Refused("unlock failed")
            }
        }
    }

    fn try_create(&mut self) -> LockStep {
        let Session::Create {
            dir,
            first,
            second,
            on_second,
            error,
        } = self
        else {
            return LockStep::Stay;
        };
        let a = Zeroizing::new(first.value_and_reset());
        let b = Zeroizing::new(second.value_and_reset());
        *on_second = false;
        if *a != *b {
            *error = Some("The two passphrases differ. Type them again.".into());
            return LockStep::Stay;
        }
        if let Err(e) = crate::store::header::check_new_passphrase(&a) {
            *error = Some(e);
            return LockStep::Stay;
        }
        let worker = std::env::var("USER").unwrap_or_else(|_| "officer".into());
        match Replica::init(
            dir,
            a.as_bytes(),
            crate::domain::WorkerId::new(worker),
            KdfParams::DEFAULT,
        ) {
            Ok(replica) => LockStep::Unlocked {
                replica: Box::new(replica),
                problems: Vec::new(),
                event: "created store",
            },
            Err(e) => {
                *error = Some(e.to_string());
                LockStep::Stay
            }
        }
    }
}

pub(super) fn is_text_key(key: &KeyEvent) -> bool {
    let plain = !key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    match key.code {
        KeyCode::Char(_) => plain,
        KeyCode::Backspace
        | KeyCode::Delete
        | KeyCode::Left
        | KeyCode::Right
        | KeyCode::Home
        | KeyCode::End => true,
        _ => false,
    }
}

pub(super) fn edit(input: &mut Input, key: &KeyEvent) -> bool {
    match to_input_request(&Event::Key(*key)) {
        Some(req) => input.handle(req).is_some(),
        None => false,
    }
}
