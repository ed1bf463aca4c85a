//! Writing: opening the forms with what they need, saving what they make
//! through the replica, and saying what was saved.

use super::*;
use crate::domain::Outcome;
use crate::domain::details;
use crate::tui::action::palette_actions;
use crate::tui::details::DetailsForm;
use crate::tui::guarantee::{DestinationForm, OfferForm};

impl App {
    /// Commits through the replica; true once it is on disk. Refusals become the
    /// status message (and the form's error), never a panic.
    pub(super) fn save(&mut self, id: PersonId, payload: OpPayload) -> bool {
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

    pub(super) fn after_commit(&mut self) {
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

    pub(super) fn error_text(&self) -> Option<String> {
        self.status
            .as_ref()
            .filter(|s| s.kind == StatusKind::Error)
            .map(|s| s.text.clone())
    }

    pub(super) fn apply_overlay(&mut self, action: Action) {
        match action {
            Action::Back => {
                self.overlay = None;
                return;
            }
            Action::Lock => {
                self.lock("locked by the user");
                return;
            }
            Action::ClearField => {
                if let Some(field) = self.focused_text() {
                    field.reset();
                    self.after_edit();
                }
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
    pub(super) fn mark_follow_up_done(&mut self) {
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
    pub(super) fn save_submission(&mut self, submission: Submission) {
        let Submission {
            person,
            payload,
            saved,
        } = submission;
        let contact = payload.contact().is_some();
        let found_not_working = not_working(&payload);
        let used = match &payload {
            OpPayload::LogContactUsing { used, .. } => Some(used.clone()),
            _ => None,
        };
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
        if let Some(how) = found_not_working {
            self.open_details_for(person, Some(how));
            if let (Some(Overlay::Details(form)), Some(used)) = (self.overlay.as_mut(), &used) {
                form.focus_on(used);
            }
        }
    }

    pub(super) fn open_contact_form(&mut self) {
        let today = self.today();
        let (Some(id), Some(replica)) = (self.target_person(), self.replica()) else {
            return;
        };
        let state = replica.person(id).ok().flatten();
        let person = state.as_ref().and_then(|s| s.young_person());
        let channel = person
            .as_ref()
            .and_then(|p| p.contact_preferences.preferred)
            .unwrap_or(Channel::Phone);
        let mut form = ContactForm::new(id, channel);
        if let Some(p) = &person {
            form = form.with_details(p);
        }
        form.answers = state
            .map(|s| s.follow_ups_answered_by(&replica.identity().worker, today))
            .unwrap_or_default()
            .into_iter()
            .map(|f| f.due)
            .collect();
        self.overlay = Some(Overlay::Contact(form));
    }

    pub(super) fn open_rating_form(&mut self) {
        if let Some(id) = self.target_person()
            && let Some(state) = self.replica().and_then(|r| r.person(id).ok().flatten())
        {
            let suggestion = risk::suggest(&state, self.today(), &self.config.risk);
            self.overlay = Some(Overlay::Rating(RatingForm::new(id, suggestion)));
        }
    }

    /// `not_working`: offered after an attempt that found a number or address
    /// not working (what is then changed or cleared is kept as such).
    pub(super) fn open_details_form(&mut self, not_working: Option<Outcome>) {
        if let Some(id) = self.target_person() {
            self.open_details_for(id, not_working);
        }
    }

    pub(super) fn open_details_for(&mut self, id: PersonId, not_working: Option<Outcome>) {
        if let Some(person) = self
            .replica()
            .and_then(|r| r.person(id).ok().flatten())
            .and_then(|s| s.young_person())
        {
            self.overlay = Some(Overlay::Details(Box::new(DetailsForm::new(
                person,
                not_working,
            ))));
        }
    }

    pub(super) fn open_offer_form(&mut self) {
        let today = self.today();
        if let Some(id) = self.target_person()
            && let Some(p) = self.replica().and_then(|r| r.index().get(id))
        {
            let year = crate::domain::academic::year_group(p.date_of_birth, today);
            self.overlay = Some(Overlay::Offer(OfferForm::new(id, year)));
        }
    }

    pub(super) fn open_destination_form(&mut self) {
        if let Some(id) = self.target_person()
            && let Some(state) = self.replica().and_then(|r| r.person(id).ok().flatten())
        {
            let last = state.latest_destination().map(|d| &d.value);
            self.overlay = Some(Overlay::Destination(DestinationForm::new(id, last)));
        }
    }

    /// Undo corrects the entry just saved here (a retraction with a reason).
    pub(super) fn open_undo(&mut self) {
        match self.last_saved.clone() {
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
        }
    }

    /// One key in the tracking queue: a phone attempt with that outcome, then on.
    pub(super) fn log_queue_outcome(&mut self, outcome: Outcome) {
        let Some(id) = self.queue.current() else {
            return;
        };
        let attempt = ContactAttempt {
            at: self.clock.now(),
            channel: Channel::Phone,
            outcome,
            note: String::new(),
            follow_up: None,
        };
        // The card's first number is the one rung: taken from the card itself.
        let used = self
            .queue
            .pane
            .as_ref()
            .filter(|pane| pane.person.id == id)
            .and_then(|pane| {
                details::reachable(&pane.person, Channel::Phone)
                    .into_iter()
                    .next()
            });
        let to = used
            .as_ref()
            .map(|u| format!(" to {}", u.describe()))
            .unwrap_or_default();
        let found_not_working = matches!(outcome, Outcome::WrongNumber).then_some(outcome);
        if self.save(id, OpPayload::log_contact(attempt, used)) {
            self.set_status(
                StatusKind::Info,
                format!("Saved: Phone{to} — {}", outcome.label()),
            );
            self.queue_logged();
            if let Some(how) = found_not_working {
                self.open_details_for(id, Some(how));
            }
        }
    }
}

/// An entry saved in this session, which `undo` can correct.
#[derive(Clone, Debug)]
pub(super) struct LastSaved {
    pub(super) person: PersonId,
    pub(super) op: crate::domain::OpId,
    pub(super) what: String,
}

/// What an undo would correct, in words; None for what is not an entry (a
/// field changed is corrected by setting it again; a correction by another).
fn undoable(payload: &OpPayload) -> Option<String> {
    match payload {
        OpPayload::LogContact(c) | OpPayload::LogContactUsing { attempt: c, .. } => {
            Some(format!("{} — {}", c.channel.label(), c.outcome.label()))
        }
        OpPayload::AddNote(_) => Some("note".into()),
        OpPayload::RateRisk(r) => Some(format!("rating {}", r.rag.label())),
        _ => None,
    }
}

/// The outcome of an attempt that found a number or address not working:
/// the contact details form is offered next, to change or clear it.
fn not_working(payload: &OpPayload) -> Option<Outcome> {
    payload
        .contact()
        .map(|c| c.outcome)
        .filter(|o| matches!(o, Outcome::WrongNumber | Outcome::PostReturned))
}
