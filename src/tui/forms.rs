//! Overlays: the forms and pickers that float over a screen. Each holds only what
//! the caseworker typed and the person's id, so a form survives auto-lock.

use super::action::Action;
use crate::domain::records::Rag;
use crate::domain::risk::RiskSuggestion;
use crate::domain::{ActivityCode, Channel, Outcome, PersonId};
use tui_input::Input;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContactFocus {
    Choice,
    Note,
    FollowUp,
}

#[derive(Debug)]
pub struct ContactForm {
    pub person: PersonId,
    pub channel: Channel,
    pub outcome: Option<Outcome>,
    pub focus: ContactFocus,
    pub note: Input,
    pub follow_up: Input,
    pub error: Option<String>,
}

impl ContactForm {
    pub fn new(person: PersonId, channel: Channel) -> Self {
        Self {
            person,
            channel,
            outcome: None,
            focus: ContactFocus::Choice,
            note: Input::default(),
            follow_up: Input::default(),
            error: None,
        }
    }

    pub fn next_focus(&mut self, back: bool) {
        use ContactFocus::*;
        self.focus = match (self.focus, back) {
            (Choice, false) => Note,
            (Note, false) => FollowUp,
            (FollowUp, false) => Choice,
            (Choice, true) => FollowUp,
            (Note, true) => Choice,
            (FollowUp, true) => Note,
        };
    }

    pub fn text_field(&mut self) -> Option<&mut Input> {
        match self.focus {
            ContactFocus::Choice => None,
            ContactFocus::Note => Some(&mut self.note),
            ContactFocus::FollowUp => Some(&mut self.follow_up),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickerFocus {
    Search,
    Start,
}

#[derive(Debug)]
pub struct ActivityPicker {
    pub person: PersonId,
    pub query: Input,
    pub matches: Vec<ActivityCode>,
    pub selected: usize,
    pub start: Input,
    pub focus: PickerFocus,
    pub error: Option<String>,
}

impl ActivityPicker {
    pub fn new(person: PersonId) -> Self {
        let mut p = Self {
            person,
            query: Input::default(),
            matches: Vec::new(),
            selected: 0,
            start: Input::new("today".into()),
            focus: PickerFocus::Search,
            error: None,
        };
        p.refilter();
        p
    }

    /// Digits match the start of a code ("23" → 230); words match the label
    /// ("appr" → 310 Apprenticeship; "full ed" → the full-time education codes).
    pub fn refilter(&mut self) {
        let q = self.query.value().trim().to_lowercase();
        self.matches = ActivityCode::all()
            .filter(|c| {
                if q.is_empty() {
                    return true;
                }
                if q.chars().all(|ch| ch.is_ascii_digit()) {
                    return c.code().to_string().starts_with(&q);
                }
                let label = format!("{} {} {}", c.code(), c.label(), c.group()).to_lowercase();
                q.split_whitespace().all(|w| label.contains(w))
            })
            .collect();
        self.selected = self.selected.min(self.matches.len().saturating_sub(1));
        if !q.is_empty() {
            self.selected = 0;
        }
    }

    pub fn chosen(&self) -> Option<ActivityCode> {
        self.matches.get(self.selected).copied()
    }

    pub fn text_field(&mut self) -> &mut Input {
        match self.focus {
            PickerFocus::Search => &mut self.query,
            PickerFocus::Start => &mut self.start,
        }
    }
}

#[derive(Debug)]
pub struct RatingForm {
    pub person: PersonId,
    pub suggestion: RiskSuggestion,
    pub rag: Option<Rag>,
    pub reason: Input,
    pub error: Option<String>,
}

#[derive(Debug, Default)]
pub struct Palette {
    pub input: Input,
    pub selected: usize,
}

impl Palette {
    /// Actions whose name or description contains every typed word.
    pub fn matches(&self, available: &[Action]) -> Vec<Action> {
        let q = self.input.value().to_lowercase();
        available
            .iter()
            .copied()
            .filter(|a| {
                let text = format!("{} {}", a.name(), a.help()).to_lowercase();
                q.split_whitespace().all(|w| text.contains(w))
            })
            .collect()
    }
}

#[derive(Debug)]
pub enum Overlay {
    Help { scroll: u16 },
    Palette(Palette),
    Contact(ContactForm),
    Activity(ActivityPicker),
    Rating(RatingForm),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(q: &str) -> Vec<u16> {
        let mut p = ActivityPicker::new(PersonId::random());
        p.query = Input::new(q.into());
        p.refilter();
        p.matches.iter().map(|c| c.code()).collect()
    }

    #[test]
    fn activity_picker_finds_by_code_or_words() {
        assert_eq!(pick("appr"), vec![310]);
        assert_eq!(pick("230"), vec![230]);
        assert_eq!(pick("23"), vec![230]);
        assert!(pick("full-time education").contains(&210));
        assert!(pick("neet").contains(&619));
        assert!(pick("zzz").is_empty());
        assert_eq!(pick("").len(), 46);
    }
}
