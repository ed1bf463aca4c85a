//! The contact details form: phones, email, address, preferred channel,
//! consent and the authorities they live and learn in, each a line of text, pre-filled from the record. Opened with its
//! key, or offered straight after an attempt that found a number or address
//! not working — then what is changed or cleared is kept as not working.

use super::action::Action;
use super::forms::{FormContext, FormStep, Submission};
use crate::domain::details::{DetailsEdit, EDITED_PHONES, UsedDetail, shown};
use crate::domain::{FieldSet, OpPayload, Outcome, PersonId, YoungPerson};
use tui_input::Input;

/// The form's lines, in order: label and what it holds.
pub const FIELDS: [&str; 12] = [
    "Mobile:",
    "Home phone:",
    "Parent/carer:",
    "Email:",
    "Address:",
    "Postcode:",
    "Social media:",
    "Prefers:",
    "Consent:",
    "  source:",
    "Lives in LA:",
    "Learns in LA:",
];
const EMAIL: usize = 3;
const ADDRESS: usize = 4;

#[derive(Debug)]
pub struct DetailsForm {
    pub person: PersonId,
    pub inputs: [Input; 12],
    pub focus: usize,
    /// Set when offered after a wrong number or returned post.
    pub not_working: Option<Outcome>,
    pub error: Option<String>,
    /// The record as it was when the form opened. It is the record's own
    /// data, so the form is closed when the workbench locks.
    before: YoungPerson,
}

impl DetailsForm {
    pub fn new(person: YoungPerson, not_working: Option<Outcome>) -> Self {
        let shown = shown(&person);
        let texts = [
            shown.phones[0].clone(),
            shown.phones[1].clone(),
            shown.phones[2].clone(),
            shown.email.clone(),
            shown.address.clone(),
            shown.postcode.clone(),
            shown.social.clone(),
            shown.preferred.clone(),
            shown.consent.clone(),
            shown.consent_note.clone(),
            shown.lives_in.clone(),
            shown.learns_in.clone(),
        ];
        Self {
            person: person.id,
            inputs: texts.map(Input::new),
            focus: if not_working == Some(Outcome::PostReturned) {
                ADDRESS
            } else {
                0
            },
            not_working,
            error: None,
            before: person,
        }
    }

    /// Starts at the detail an attempt found not working (the home number
    /// rung, rather than the mobile), where the form has a field for it.
    pub fn focus_on(&mut self, used: &UsedDetail) {
        let phone = EDITED_PHONES.iter().position(|l| {
            l.label() == used.label
                && self
                    .before
                    .phones
                    .iter()
                    .any(|p| p.label == *l && p.number == used.detail)
        });
        self.focus = match (phone, used.label.as_str()) {
            (Some(i), _) => i,
            (None, "Email") => EMAIL,
            (None, "Address") => ADDRESS,
            _ => self.focus,
        };
    }

    pub fn text_field(&mut self) -> &mut Input {
        &mut self.inputs[self.focus]
    }

    pub fn handle(&mut self, action: Action, cx: &FormContext) -> FormStep {
        let n = FIELDS.len();
        match action {
            Action::NextField | Action::Down => self.focus = (self.focus + 1) % n,
            Action::PrevField | Action::Up => self.focus = (self.focus + n - 1) % n,
            Action::Submit => return self.submission(cx),
            _ => {}
        }
        FormStep::Stay
    }

    /// What the caseworker changed: only fields whose text differs.
    fn edit(&self) -> DetailsEdit {
        let typed = |i: usize, was: &str| {
            let now = self.inputs[i].value();
            (now.trim() != was.trim()).then(|| now.to_string())
        };
        let s = shown(&self.before);
        DetailsEdit {
            phones: [
                typed(0, &s.phones[0]),
                typed(1, &s.phones[1]),
                typed(2, &s.phones[2]),
            ],
            email: typed(3, &s.email),
            address: typed(4, &s.address),
            postcode: typed(5, &s.postcode),
            social: typed(6, &s.social),
            preferred: typed(7, &s.preferred),
            consent: typed(8, &s.consent),
            consent_note: typed(9, &s.consent_note),
            not_working: self.not_working,
            lives_in: typed(10, &s.lives_in),
            learns_in: typed(11, &s.learns_in),
        }
    }

    fn submission(&mut self, cx: &FormContext) -> FormStep {
        let changes = match self.edit().changes(&self.before, cx.today) {
            Ok(c) => c,
            Err(e) => {
                self.error = Some(e.to_string());
                return FormStep::Stay;
            }
        };
        if changes.is_empty() {
            return FormStep::Close;
        }
        let kept = changes
            .iter()
            .any(|c| c.key() == crate::domain::ops::FieldKey::NotWorking);
        FormStep::Save(Submission {
            person: self.person,
            payload: OpPayload::SetFields(changes.into_iter().map(FieldSet::new).collect()),
            saved: format!(
                "Saved: contact details for {}{}",
                cx.name,
                if kept {
                    "; the old one is kept as not working"
                } else {
                    ""
                }
            ),
        })
    }
}
