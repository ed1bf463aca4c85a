//! Overlays: the forms and pickers that float over a screen. Each holds only what
//! the caseworker typed and the person's id, so a form survives auto-lock.
//!
//! Each overlay takes actions itself ([`Overlay::handle`]) and says what should
//! follow ([`FormStep`]); a form that is filled in makes the domain payload to
//! save ([`Submission`]), or says why it cannot. The app only saves, routes and
//! reports.

use super::action::Action;
use super::caseload::move_selection;
use super::details::DetailsForm;
use super::guarantee::{DestinationForm, OfferForm};
use crate::domain::dates::{parse_date, uk};
use crate::domain::details::{self, UsedDetail};
use crate::domain::records::{Note, Rag};
use crate::domain::risk::{RiskConfig, RiskSuggestion};
use crate::domain::{
    ActivityCode, Channel, ContactAttempt, CurrentActivity, FieldSet, FieldValue, OpId, OpPayload,
    Outcome, PersonId, YoungPerson,
};
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;
use tui_input::Input;

/// What a form needs from outside itself to make its payload.
pub struct FormContext<'a> {
    pub today: NaiveDate,
    pub now: NaiveDateTime,
    pub risk: &'a RiskConfig,
    /// The name of the young person the form is about (for the status line).
    pub name: String,
}

/// A finished form: what to save for whom, and what to say once it is saved.
#[derive(Debug)]
pub struct Submission {
    pub person: PersonId,
    pub payload: OpPayload,
    pub saved: String,
}

/// What an overlay made of an action.
#[derive(Debug)]
pub enum FormStep {
    /// Still open (perhaps changed).
    Stay,
    /// Closed; nothing to save.
    Close,
    /// Save this; the form closes once it is saved, and shows why if not.
    Save(Submission),
    /// Closed, and this action runs (the palette's choice).
    Run(Action),
}

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
    /// The due dates of the caseworker's own follow-ups this attempt answers
    /// (on or after their date): shown, so closing them is never a surprise.
    pub answers: Vec<NaiveDate>,
    /// The record's numbers, addresses and handles each channel could use.
    reachable: BTreeMap<Channel, Vec<UsedDetail>>,
    /// Which of the chosen channel's the attempt used (Up and Down change it).
    using: usize,
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
            answers: Vec::new(),
            reachable: BTreeMap::new(),
            using: 0,
            error: None,
        }
    }

    /// Offers the young person's details, so the attempt records which it used.
    pub fn with_details(mut self, person: &YoungPerson) -> Self {
        self.reachable = Channel::ALL
            .iter()
            .map(|c| (*c, details::reachable(person, *c)))
            .collect();
        self
    }

    /// The details the chosen channel could use, in the order offered.
    pub fn options(&self) -> &[UsedDetail] {
        self.reachable.get(&self.channel).map_or(&[], Vec::as_slice)
    }

    /// The one the attempt used, and its place among the options (1-based).
    pub fn using(&self) -> Option<(&UsedDetail, usize)> {
        self.options().get(self.using).map(|u| (u, self.using + 1))
    }

    fn choose_next(&mut self, back: bool) {
        let n = self.options().len();
        if n > 1 {
            self.using = if back {
                (self.using + n - 1) % n
            } else {
                (self.using + 1) % n
            };
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

    fn handle(&mut self, action: Action, cx: &FormContext) -> FormStep {
        if let Some(c) = action.channel() {
            if c != self.channel {
                self.using = 0;
            }
            self.channel = c;
            // An outcome that does not go with the new channel is dropped.
            if self.outcome.is_some_and(|o| !c.allows(o)) {
                self.outcome = None;
            }
        } else if let Some(o) = action.outcome() {
            match self.channel.check_outcome(o) {
                Ok(()) => {
                    self.outcome = Some(o);
                    self.focus = ContactFocus::Note;
                    self.error = None;
                }
                Err(e) => self.error = Some(e.to_string()),
            }
        } else {
            match action {
                Action::NextField => self.next_focus(false),
                Action::PrevField => self.next_focus(true),
                Action::Down => self.choose_next(false),
                Action::Up => self.choose_next(true),
                Action::Submit => return self.submission(cx),
                _ => {}
            }
        }
        FormStep::Stay
    }

    fn submission(&mut self, cx: &FormContext) -> FormStep {
        let Some(outcome) = self.outcome else {
            self.error = Some(
                "Choose an outcome first (for example n: no answer, y: spoke to the young person)."
                    .into(),
            );
            return FormStep::Stay;
        };
        let follow_up = match self.follow_up.value().trim() {
            "" => None,
            text => match parse_date(text, cx.today) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.error = Some(e.to_string());
                    self.focus = ContactFocus::FollowUp;
                    return FormStep::Stay;
                }
            },
        };
        let used = self.using().map(|(u, _)| u.clone());
        FormStep::Save(Submission {
            person: self.person,
            payload: OpPayload::log_contact(
                ContactAttempt {
                    at: cx.now,
                    channel: self.channel,
                    outcome,
                    note: self.note.value().trim().to_string(),
                    follow_up,
                },
                used,
            ),
            saved: format!(
                "Saved: {} — {} for {}{}",
                self.channel.label(),
                outcome.label(),
                cx.name,
                answered(&self.answers)
                    .map(|w| format!("; answers {w}"))
                    .unwrap_or_default()
            ),
        })
    }
}

/// The caseworker's follow-ups a contact answers, in words ("your follow-up
/// due 20/11/2026"); None if it answers none.
pub fn answered(dues: &[NaiveDate]) -> Option<String> {
    match dues {
        [] => None,
        [due] => Some(format!("your follow-up due {}", uk(*due))),
        [.., last] => Some(format!(
            "your {} follow-ups due by {}",
            dues.len(),
            uk(*last)
        )),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickerFocus {
    Search,
    Start,
    Ends,
    Provider,
}

#[derive(Debug)]
pub struct ActivityPicker {
    pub person: PersonId,
    pub query: Input,
    pub matches: Vec<ActivityCode>,
    pub selected: usize,
    pub start: Input,
    /// The start date still shows its pre-filled "today": the first key typed
    /// there replaces it rather than adding to it.
    pub start_prefilled: bool,
    /// Expected end date (optional).
    pub ends: Input,
    /// The provider or employer (optional).
    pub provider: Input,
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
            start_prefilled: true,
            ends: Input::default(),
            provider: Input::default(),
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

    /// The field being typed in (the pre-filled start date gives way to
    /// what is typed).
    pub fn text_field(&mut self) -> &mut Input {
        match self.focus {
            PickerFocus::Search => &mut self.query,
            PickerFocus::Start => {
                if std::mem::take(&mut self.start_prefilled) {
                    self.start.reset();
                }
                &mut self.start
            }
            PickerFocus::Ends => &mut self.ends,
            PickerFocus::Provider => &mut self.provider,
        }
    }

    fn handle(&mut self, action: Action, cx: &FormContext) -> FormStep {
        match action {
            Action::Down => move_selection(&mut self.selected, self.matches.len(), 1),
            Action::Up => move_selection(&mut self.selected, self.matches.len(), -1),
            Action::NextField | Action::PrevField => {
                use PickerFocus::*;
                let order = [Search, Start, Ends, Provider];
                let at = order.iter().position(|f| *f == self.focus).unwrap_or(0);
                let step = if action == Action::NextField {
                    1
                } else {
                    order.len() - 1
                };
                self.focus = order[(at + step) % order.len()];
            }
            Action::Submit => match self.submission(cx) {
                Ok(s) => return FormStep::Save(s),
                Err(e) => self.error = Some(e),
            },
            _ => {}
        }
        FormStep::Stay
    }

    fn submission(&self, cx: &FormContext) -> Result<Submission, String> {
        let Some(code) = self.chosen() else {
            return Err("No activity matches; type part of a code or its name.".into());
        };
        let start = parse_date(self.start.value(), cx.today).map_err(|e| e.to_string())?;
        let mut activity = CurrentActivity::as_told(code, start, cx.today);
        activity.expected_end = match self.ends.value().trim() {
            "" => None,
            text => Some(parse_date(text, cx.today).map_err(|e| format!("End date: {e}"))?),
        };
        activity.provider = Some(self.provider.value().trim())
            .filter(|p| !p.is_empty())
            .map(Into::into);
        Ok(Submission {
            person: self.person,
            payload: OpPayload::SetFields(vec![FieldSet::new(FieldValue::CurrentActivity(
                activity,
            ))]),
            saved: format!("Saved: activity {} {}", code, code.label()),
        })
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

impl RatingForm {
    pub fn new(person: PersonId, suggestion: RiskSuggestion) -> Self {
        Self {
            person,
            suggestion,
            rag: None,
            reason: Input::default(),
            error: None,
        }
    }

    fn handle(&mut self, action: Action, cx: &FormContext) -> FormStep {
        if let Some(rag) = action.rag() {
            self.rag = Some(rag);
            self.error = None;
            return FormStep::Stay;
        }
        match (action, self.rag) {
            (Action::NextField | Action::PrevField, _) => self.rag = None,
            (Action::Submit, None) => self.error = Some("Choose Red, Amber or Green first.".into()),
            (Action::Submit, Some(rag)) => {
                let factors = self.suggestion.factors.iter().map(|(f, _)| *f).collect();
                let rating = cx.risk.rating(rag, self.reason.value(), factors, cx.today);
                let saved = format!(
                    "Saved: rated {}, review {}",
                    rag.label(),
                    uk(rating.review_due)
                );
                return FormStep::Save(Submission {
                    person: self.person,
                    payload: OpPayload::RateRisk(rating),
                    saved,
                });
            }
            _ => {}
        }
        FormStep::Stay
    }
}

/// A note on the record: free text, kept with who wrote it and when.
#[derive(Debug)]
pub struct NoteForm {
    pub person: PersonId,
    pub text: Input,
    pub error: Option<String>,
}

impl NoteForm {
    pub fn new(person: PersonId) -> Self {
        Self {
            person,
            text: Input::default(),
            error: None,
        }
    }

    fn handle(&mut self, action: Action, cx: &FormContext) -> FormStep {
        if action != Action::Submit {
            return FormStep::Stay;
        }
        let text = self.text.value().trim();
        if text.is_empty() {
            self.error = Some("Type the note first.".into());
            return FormStep::Stay;
        }
        FormStep::Save(Submission {
            person: self.person,
            payload: OpPayload::AddNote(Note { text: text.into() }),
            saved: format!("Saved: note for {}", cx.name),
        })
    }
}

/// Correcting an entry saved in error: it stays on the record, marked as
/// corrected, with the reason (nothing is ever deleted).
#[derive(Debug)]
pub struct RetractForm {
    pub person: PersonId,
    pub target: OpId,
    /// What is being corrected, in words ("Phone — No answer").
    pub what: String,
    pub reason: Input,
    pub error: Option<String>,
}

impl RetractForm {
    pub fn new(person: PersonId, target: OpId, what: String) -> Self {
        Self {
            person,
            target,
            what,
            reason: Input::new("Entered in error".into()),
            error: None,
        }
    }

    fn handle(&mut self, action: Action) -> FormStep {
        if action != Action::Submit {
            return FormStep::Stay;
        }
        let reason = self.reason.value().trim();
        if reason.is_empty() {
            self.error = Some("Say why it is being corrected.".into());
            return FormStep::Stay;
        }
        FormStep::Save(Submission {
            person: self.person,
            payload: OpPayload::Retract {
                target: self.target,
                reason: reason.into(),
            },
            saved: format!("Corrected: {} (kept, marked as corrected)", self.what),
        })
    }
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

impl Palette {
    fn handle(&mut self, action: Action, available: &[Action]) -> FormStep {
        let matches = self.matches(available);
        match action {
            Action::Down => move_selection(&mut self.selected, matches.len(), 1),
            Action::Up => move_selection(&mut self.selected, matches.len(), -1),
            Action::Submit => {
                return match matches.get(self.selected) {
                    Some(a) => FormStep::Run(*a),
                    None => FormStep::Close,
                };
            }
            _ => {}
        }
        FormStep::Stay
    }
}

#[derive(Debug)]
pub enum Overlay {
    Help {
        scroll: u16,
    },
    /// The recent messages in full (the status line may have cut one short).
    Messages {
        scroll: u16,
    },
    Palette(Palette),
    Contact(ContactForm),
    Activity(ActivityPicker),
    Rating(RatingForm),
    Note(NoteForm),
    Retract(RetractForm),
    Offer(OfferForm),
    Destination(DestinationForm),
    Details(Box<DetailsForm>),
}

impl Overlay {
    /// Takes one action (closing and locking are the app's); `palette`: the
    /// actions the palette offers.
    pub fn handle(&mut self, action: Action, cx: &FormContext, palette: &[Action]) -> FormStep {
        match self {
            Overlay::Help { scroll } | Overlay::Messages { scroll } => {
                match action {
                    Action::Down | Action::Up => {
                        *scroll = step(*scroll, action == Action::Down, 1);
                    }
                    Action::PageDown | Action::PageUp => {
                        *scroll = step(*scroll, action == Action::PageDown, 10);
                    }
                    Action::Help
                    | Action::Messages
                    | Action::Submit
                    | Action::Quit
                    | Action::Open => {
                        return FormStep::Close;
                    }
                    _ => {}
                }
                FormStep::Stay
            }
            Overlay::Palette(p) => p.handle(action, palette),
            Overlay::Contact(f) => f.handle(action, cx),
            Overlay::Activity(p) => p.handle(action, cx),
            Overlay::Rating(f) => f.handle(action, cx),
            Overlay::Note(f) => f.handle(action, cx),
            Overlay::Retract(f) => f.handle(action),
            Overlay::Offer(f) => f.handle(action, cx),
            Overlay::Destination(f) => f.handle(action, cx),
            Overlay::Details(f) => f.handle(action, cx),
        }
    }

    /// The young person a form is about.
    pub fn person(&self) -> Option<PersonId> {
        match self {
            Overlay::Contact(f) => Some(f.person),
            Overlay::Activity(p) => Some(p.person),
            Overlay::Rating(f) => Some(f.person),
            Overlay::Note(f) => Some(f.person),
            Overlay::Retract(f) => Some(f.person),
            Overlay::Offer(f) => Some(f.person),
            Overlay::Destination(f) => Some(f.person),
            Overlay::Details(f) => Some(f.person),
            Overlay::Help { .. } | Overlay::Messages { .. } | Overlay::Palette(_) => None,
        }
    }

    /// Shows why a submission was not saved.
    pub fn show_error(&mut self, why: Option<String>) {
        match self {
            Overlay::Contact(f) => f.error = why,
            Overlay::Activity(p) => p.error = why,
            Overlay::Rating(f) => f.error = why,
            Overlay::Note(f) => f.error = why,
            Overlay::Retract(f) => f.error = why,
            Overlay::Offer(f) => f.error = why,
            Overlay::Destination(f) => f.error = why,
            Overlay::Details(f) => f.error = why,
            Overlay::Help { .. } | Overlay::Messages { .. } | Overlay::Palette(_) => {}
        }
    }
}

fn step(scroll: u16, down: bool, by: u16) -> u16 {
    if down {
        scroll.saturating_add(by)
    } else {
        scroll.saturating_sub(by)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn pick(q: &str) -> Vec<u16> {
        let mut p = ActivityPicker::new(PersonId::mint());
        p.query = Input::new(q.into());
        p.refilter();
        p.matches.iter().map(|c| c.code()).collect()
    }

    /// What every form test gets: 23/11/2026 at 10:30, about Pat Rowe.
    pub(crate) fn cx(risk: &RiskConfig) -> FormContext<'_> {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
        FormContext {
            today,
            now: today.and_hms_opt(10, 30, 0).expect("time"),
            risk,
            name: "Pat Rowe".into(),
        }
    }

    #[test]
    fn a_contact_form_makes_its_attempt_or_says_what_is_missing() {
        let risk = RiskConfig::default();
        let mut form = ContactForm::new(PersonId::mint(), Channel::Phone);
        assert!(matches!(
            form.handle(Action::Submit, &cx(&risk)),
            FormStep::Stay
        ));
        assert!(form.error.as_deref().is_some_and(|e| e.contains("outcome")));
        form.handle(Action::OutcomeNoAnswer, &cx(&risk));
        assert_eq!(form.focus, ContactFocus::Note);
        form.follow_up = Input::new("31/02/2027".into());
        assert!(matches!(
            form.handle(Action::Submit, &cx(&risk)),
            FormStep::Stay
        ));
        assert_eq!(form.focus, ContactFocus::FollowUp, "the bad date is shown");
        form.follow_up = Input::new("1/12/2026".into());
        let FormStep::Save(s) = form.handle(Action::Submit, &cx(&risk)) else {
            panic!("a filled-in form is saved");
        };
        assert_eq!(s.saved, "Saved: Phone — No answer for Pat Rowe");
        let OpPayload::LogContact(a) = s.payload else {
            panic!("a contact attempt");
        };
        assert_eq!((a.at, a.outcome), (cx(&risk).now, Outcome::NoAnswer));
        assert_eq!(a.follow_up, NaiveDate::from_ymd_opt(2026, 12, 1));
    }

    #[test]
    fn the_contact_form_records_the_number_used_and_up_down_choose_another() {
        let risk = RiskConfig::default();
        let pat = crate::domain::details::tests::person();
        let mut form = ContactForm::new(pat.id, Channel::Phone).with_details(&pat);
        assert_eq!(
            form.using().map(|(u, n)| (u.label.as_str(), n)),
            Some(("Mobile", 1))
        );
        form.handle(Action::Down, &cx(&risk));
        assert_eq!(
            form.using().map(|(u, n)| (u.label.as_str(), n)),
            Some(("Other", 2))
        );
        form.handle(Action::Down, &cx(&risk));
        assert_eq!(form.using().map(|(_, n)| n), Some(1), "round again");
        form.handle(Action::Up, &cx(&risk));
        form.handle(Action::OutcomeNoAnswer, &cx(&risk));
        let FormStep::Save(s) = form.handle(Action::Submit, &cx(&risk)) else {
            panic!("saved");
        };
        let OpPayload::LogContactUsing { used, .. } = s.payload else {
            panic!("an attempt with the number it used");
        };
        assert_eq!(used.detail, "01632 960000");
        // Another channel offers its own, from its first; in person, none.
        let mut form = ContactForm::new(pat.id, Channel::Phone).with_details(&pat);
        form.handle(Action::Down, &cx(&risk));
        form.handle(Action::ChannelEmail, &cx(&risk));
        assert_eq!(
            form.using().map(|(u, n)| (u.label.as_str(), n)),
            Some(("Email", 1))
        );
        form.handle(Action::ChannelFaceToFace, &cx(&risk));
        form.handle(Action::OutcomeSpokeYoungPerson, &cx(&risk));
        let FormStep::Save(s) = form.handle(Action::Submit, &cx(&risk)) else {
            panic!("saved");
        };
        assert!(matches!(s.payload, OpPayload::LogContact(_)));
    }

    #[test]
    fn the_contact_form_takes_only_outcomes_that_go_with_the_channel() {
        let risk = RiskConfig::default();
        let mut form = ContactForm::new(PersonId::mint(), Channel::Letter);
        form.handle(Action::OutcomeNoAnswer, &cx(&risk));
        assert_eq!(form.outcome, None);
        assert!(
            form.error
                .as_deref()
                .is_some_and(|e| e.contains("No answer") && e.contains("Post returned")),
            "{:?}",
            form.error
        );
        form.handle(Action::OutcomePostReturned, &cx(&risk));
        assert_eq!(form.outcome, Some(Outcome::PostReturned));
        assert_eq!(form.error, None);
        // A phone call is never "post returned": the outcome is dropped.
        form.handle(Action::ChannelPhone, &cx(&risk));
        assert_eq!(form.outcome, None);
        form.handle(Action::OutcomeVoicemail, &cx(&risk));
        form.handle(Action::ChannelHomeVisit, &cx(&risk));
        assert_eq!(form.outcome, None, "a visit leaves no voicemail");
    }

    #[test]
    fn the_rating_form_dates_its_review_by_the_configuration() {
        let risk = RiskConfig::default();
        let suggestion = RiskSuggestion {
            rag: Rag::Amber,
            score: 2,
            factors: Vec::new(),
        };
        let mut form = RatingForm::new(PersonId::mint(), suggestion);
        assert!(matches!(
            form.handle(Action::Submit, &cx(&risk)),
            FormStep::Stay
        ));
        form.handle(Action::RagRed, &cx(&risk));
        form.reason = Input::new("  excluded twice  ".into());
        let FormStep::Save(s) = form.handle(Action::Submit, &cx(&risk)) else {
            panic!("saved");
        };
        let OpPayload::RateRisk(r) = s.payload else {
            panic!("a rating");
        };
        assert_eq!(r.reason, "excluded twice");
        assert_eq!(r.review_due, risk.review_due(Rag::Red, cx(&risk).today));
    }

    #[test]
    fn a_note_is_saved_trimmed_and_never_empty() {
        let risk = RiskConfig::default();
        let mut form = NoteForm::new(PersonId::mint());
        form.text = Input::new("   ".into());
        assert!(matches!(
            form.handle(Action::Submit, &cx(&risk)),
            FormStep::Stay
        ));
        assert!(form.error.is_some());
        form.text = Input::new("  rang college: enrolled  ".into());
        let FormStep::Save(s) = form.handle(Action::Submit, &cx(&risk)) else {
            panic!("saved");
        };
        let OpPayload::AddNote(n) = s.payload else {
            panic!("a note");
        };
        assert_eq!(n.text, "rang college: enrolled");
        assert_eq!(s.saved, "Saved: note for Pat Rowe");
    }

    #[test]
    fn the_activity_form_takes_a_typed_start_an_end_and_a_provider() {
        let risk = RiskConfig::default();
        let mut p = ActivityPicker::new(PersonId::mint());
        p.query = Input::new("310".into());
        p.refilter();
        p.handle(Action::NextField, &cx(&risk));
        assert_eq!(p.focus, PickerFocus::Start);
        // The first key typed replaces the pre-filled "today".
        let start = p.text_field();
        start.handle(tui_input::InputRequest::InsertChar('1'));
        assert_eq!(p.start.value(), "1");
        p.start = Input::new("1/9/2026".into());
        p.handle(Action::NextField, &cx(&risk));
        p.ends = Input::new("31/7/2028".into());
        p.handle(Action::NextField, &cx(&risk));
        assert_eq!(p.focus, PickerFocus::Provider);
        p.provider = Input::new(" Kent Construction Ltd ".into());
        let FormStep::Save(s) = p.handle(Action::Submit, &cx(&risk)) else {
            panic!("saved: {:?}", p.error);
        };
        let OpPayload::SetFields(sets) = s.payload else {
            panic!("a field set");
        };
        let FieldValue::CurrentActivity(a) = &sets[0].value else {
            panic!("the activity");
        };
        assert_eq!(a.code.code(), 310);
        assert_eq!(a.start, NaiveDate::from_ymd_opt(2026, 9, 1).expect("date"));
        assert_eq!(a.expected_end, NaiveDate::from_ymd_opt(2028, 7, 31));
        assert_eq!(a.provider.as_deref(), Some("Kent Construction Ltd"));
        p.handle(Action::PrevField, &cx(&risk));
        assert_eq!(p.focus, PickerFocus::Ends);
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
