//! The September Guarantee offer and the intended destination forms: the two
//! statutory things recorded about what comes next. Each field is a choice
//! (↑/↓ changes it) or text (typed); Tab moves between them and Enter saves.

use super::action::Action;
use super::forms::{FormContext, FormStep, Submission};
use crate::domain::records::{
    DestinationKind, IntendedDestination, OfferStatus, OfferYear, SeptemberGuaranteeOffer,
};
use crate::domain::{OpPayload, PersonId};
use tui_input::Input;

/// The option after (or before) `current` in `all`, wrapping round.
fn cycle<T: Copy + PartialEq>(all: &[T], current: T, down: bool) -> T {
    let at = all.iter().position(|o| *o == current).unwrap_or(0);
    let next = if down {
        (at + 1) % all.len()
    } else {
        (at + all.len() - 1) % all.len()
    };
    all[next]
}

/// "Not known yet", then every kind: the offer's kind is optional.
fn cycle_kind(current: Option<DestinationKind>, down: bool) -> Option<DestinationKind> {
    let mut all: Vec<Option<DestinationKind>> = vec![None];
    all.extend(DestinationKind::ALL.iter().copied().map(Some));
    cycle(&all, current, down)
}

/// The provider or employer as typed; empty means none.
fn provider(input: &Input) -> Option<String> {
    Some(input.value().trim().to_string()).filter(|p| !p.is_empty())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferField {
    Year,
    Status,
    Kind,
    Provider,
}

#[derive(Debug)]
pub struct OfferForm {
    pub person: PersonId,
    pub year: OfferYear,
    pub status: OfferStatus,
    pub kind: Option<DestinationKind>,
    pub provider: Input,
    pub focus: OfferField,
    pub error: Option<String>,
}

impl OfferForm {
    /// `year_group`: the young person's, which picks the offer year (Year 11
    /// and younger: the Year 11 offer).
    pub fn new(person: PersonId, year_group: i32) -> Self {
        Self {
            person,
            year: if year_group <= 11 {
                OfferYear::Year11
            } else {
                OfferYear::Year12
            },
            status: OfferStatus::OfferMade,
            kind: None,
            provider: Input::default(),
            focus: OfferField::Status,
            error: None,
        }
    }

    pub fn text_field(&mut self) -> Option<&mut Input> {
        (self.focus == OfferField::Provider).then_some(&mut self.provider)
    }

    pub fn handle(&mut self, action: Action, cx: &FormContext) -> FormStep {
        use OfferField::*;
        const ORDER: [OfferField; 4] = [Year, Status, Kind, Provider];
        match action {
            Action::NextField | Action::PrevField => {
                self.focus = cycle(&ORDER, self.focus, action == Action::NextField);
            }
            Action::Up | Action::Down => {
                let down = action == Action::Down;
                match self.focus {
                    Year => self.year = cycle(OfferYear::ALL, self.year, down),
                    Status => self.status = cycle(OfferStatus::ALL, self.status, down),
                    Kind => self.kind = cycle_kind(self.kind, down),
                    Provider => {}
                }
            }
            Action::Submit => return self.submission(cx),
            _ => {}
        }
        FormStep::Stay
    }

    fn submission(&mut self, cx: &FormContext) -> FormStep {
        let offer = SeptemberGuaranteeOffer {
            year: self.year,
            status: self.status,
            kind: self.kind,
            provider: provider(&self.provider),
            recorded_on: cx.today,
        };
        if let Err(e) = offer.validate(cx.today) {
            self.error = Some(e.to_string());
            return FormStep::Stay;
        }
        let saved = format!(
            "Saved: {} — {} for {}",
            offer.year.label(),
            offer.status.label().to_lowercase(),
            cx.name
        );
        FormStep::Save(Submission {
            person: self.person,
            payload: OpPayload::RecordOffer(offer),
            saved,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DestinationField {
    Kind,
    Provider,
}

#[derive(Debug)]
pub struct DestinationForm {
    pub person: PersonId,
    pub kind: DestinationKind,
    pub provider: Input,
    pub focus: DestinationField,
    pub error: Option<String>,
}

impl DestinationForm {
    /// Starts from the last destination recorded, if any.
    pub fn new(person: PersonId, last: Option<&IntendedDestination>) -> Self {
        Self {
            person,
            kind: last.map_or(DestinationKind::FullTimeEducation, |d| d.kind),
            provider: Input::new(last.and_then(|d| d.provider.clone()).unwrap_or_default()),
            focus: DestinationField::Kind,
            error: None,
        }
    }

    pub fn text_field(&mut self) -> Option<&mut Input> {
        (self.focus == DestinationField::Provider).then_some(&mut self.provider)
    }

    pub fn handle(&mut self, action: Action, cx: &FormContext) -> FormStep {
        match action {
            Action::NextField | Action::PrevField => {
                self.focus = match self.focus {
                    DestinationField::Kind => DestinationField::Provider,
                    DestinationField::Provider => DestinationField::Kind,
                };
            }
            Action::Up | Action::Down if self.focus == DestinationField::Kind => {
                self.kind = cycle(DestinationKind::ALL, self.kind, action == Action::Down);
            }
            Action::Submit => {
                let destination = IntendedDestination {
                    kind: self.kind,
                    provider: provider(&self.provider),
                    recorded_on: cx.today,
                };
                if let Err(e) = destination.validate(cx.today) {
                    self.error = Some(e.to_string());
                    return FormStep::Stay;
                }
                let saved = format!(
                    "Saved: intends {} for {}",
                    destination.kind.label().to_lowercase(),
                    cx.name
                );
                return FormStep::Save(Submission {
                    person: self.person,
                    payload: OpPayload::RecordDestination(destination),
                    saved,
                });
            }
            _ => {}
        }
        FormStep::Stay
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::risk::RiskConfig;
    use crate::tui::forms::tests::cx;

    #[test]
    fn an_offer_is_chosen_with_arrows_and_typed_provider() {
        let risk = RiskConfig::default();
        let mut form = OfferForm::new(PersonId::mint(), 11);
        assert_eq!(form.year, OfferYear::Year11);
        assert_eq!(OfferForm::new(PersonId::mint(), 12).year, OfferYear::Year12);
        form.handle(Action::Down, &cx(&risk));
        assert_eq!(form.status, OfferStatus::OfferAccepted);
        form.handle(Action::NextField, &cx(&risk));
        form.handle(Action::Down, &cx(&risk));
        form.handle(Action::Down, &cx(&risk));
        assert_eq!(form.kind, Some(DestinationKind::Apprenticeship));
        form.handle(Action::NextField, &cx(&risk));
        assert!(form.text_field().is_some(), "typing goes in the provider");
        form.provider = Input::new("  Kent Training  ".into());
        let FormStep::Save(s) = form.handle(Action::Submit, &cx(&risk)) else {
            panic!("saved");
        };
        assert_eq!(s.saved, "Saved: Year 11 — offer accepted for Pat Rowe");
        let OpPayload::RecordOffer(o) = s.payload else {
            panic!("an offer");
        };
        assert_eq!(o.provider.as_deref(), Some("Kent Training"));
        assert_eq!(o.recorded_on, cx(&risk).today);
        // Up from the first option wraps round to the last.
        form.focus = OfferField::Kind;
        form.kind = None;
        form.handle(Action::Up, &cx(&risk));
        assert_eq!(form.kind, DestinationKind::ALL.last().copied());
    }

    #[test]
    fn a_destination_starts_from_the_last_one_and_an_empty_provider_is_none() {
        let risk = RiskConfig::default();
        let last = IntendedDestination {
            kind: DestinationKind::Apprenticeship,
            provider: Some("BAE".into()),
            recorded_on: cx(&risk).today,
        };
        let mut form = DestinationForm::new(PersonId::mint(), Some(&last));
        assert_eq!(form.kind, DestinationKind::Apprenticeship);
        assert_eq!(form.provider.value(), "BAE");
        form.handle(Action::Up, &cx(&risk));
        assert_eq!(form.kind, DestinationKind::FullTimeEducation);
        form.handle(Action::NextField, &cx(&risk));
        form.provider = Input::new("   ".into());
        let FormStep::Save(s) = form.handle(Action::Submit, &cx(&risk)) else {
            panic!("saved");
        };
        let OpPayload::RecordDestination(d) = s.payload else {
            panic!("a destination");
        };
        assert_eq!(
            (d.kind, d.provider),
            (DestinationKind::FullTimeEducation, None)
        );
        assert_eq!(s.saved, "Saved: intends full-time education for Pat Rowe");
    }
}
