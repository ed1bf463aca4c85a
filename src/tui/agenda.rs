//! "My day": what needs doing, most urgent first, computed from the index.

use crate::domain::codes::StatusGroup;
use crate::domain::currency::CurrencyConfig;
use crate::domain::{CaseSummary, PersonId, Summaries};
use chrono::{Days, NaiveDate};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AgendaKind {
    OverdueFollowUp,
    NeetTargetPassed,
    CurrencyExpired,
    FollowUpToday,
    NeetTargetSoon,
    ReviewDue,
    CurrencyExpiring,
    NoRecentContact,
}

impl AgendaKind {
    pub fn label(self) -> &'static str {
        match self {
            AgendaKind::OverdueFollowUp => "Follow-up overdue",
            AgendaKind::FollowUpToday => "Follow-up due today",
            AgendaKind::NeetTargetPassed => "NEET past 6-week target",
            AgendaKind::NeetTargetSoon => "NEET 6-week target soon",
            AgendaKind::CurrencyExpired => "Activity expired",
            AgendaKind::CurrencyExpiring => "Activity expires soon",
            AgendaKind::ReviewDue => "RAG review due",
            AgendaKind::NoRecentContact => "No contact in 3 months",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgendaItem {
    pub kind: AgendaKind,
    pub person: PersonId,
    pub date: Option<NaiveDate>,
}

/// The "My day" screen: its list, where the selection is, and whose
/// caseload it covers.
#[derive(Debug, Default)]
pub struct AgendaList {
    pub items: Vec<AgendaItem>,
    pub selected: usize,
    /// The first row shown (kept by the view between frames).
    pub offset: std::cell::Cell<usize>,
    /// Everyone's agenda, not only the caseworker's own caseload.
    pub everyone: bool,
}

impl AgendaList {
    /// Works the list out afresh for `me` (or everyone: asked for, or when
    /// `me` holds no caseload of their own, as a manager).
    pub fn rebuild(
        &mut self,
        all: Summaries<'_>,
        me: &crate::domain::WorkerId,
        today: NaiveDate,
        currency: &CurrencyConfig,
    ) {
        let mine: Vec<_> = all.iter().filter(|s| s.assigned.contains(me)).collect();
        self.everyone = self.everyone || mine.is_empty();
        self.items = if self.everyone {
            agenda(all, today, currency)
        } else {
            agenda(mine, today, currency)
        };
        self.selected = self.selected.min(self.items.len().saturating_sub(1));
    }

    pub fn selected_person(&self) -> Option<PersonId> {
        self.items.get(self.selected).map(|i| i.person)
    }

    pub fn move_by(&mut self, delta: isize) {
        super::caseload::move_selection(&mut self.selected, self.items.len(), delta);
    }

    /// Forgets what it showed (on lock).
    pub fn clear(&mut self) {
        self.items.clear();
    }
}

/// Everything due for these people on `today`, most urgent kind first, then by
/// date, then in the list order of people (so undated items keep one order).
pub fn agenda<'a>(
    people: impl IntoIterator<Item = &'a CaseSummary>,
    today: NaiveDate,
    currency: &CurrencyConfig,
) -> Vec<AgendaItem> {
    let soon = today + Days::new(7);
    let fortnight = today + Days::new(14);
    let mut items = Vec::new();
    for s in people {
        let mut push = |kind, date| {
            let item = AgendaItem {
                kind,
                person: s.id,
                date,
            };
            items.push((item, s))
        };
        if let Some(due) = s.next_follow_up {
            if due < today {
                push(AgendaKind::OverdueFollowUp, Some(due));
            } else if due == today {
                push(AgendaKind::FollowUpToday, Some(due));
            }
        }
        if let Some(a) = s.activity.current() {
            if let Some(target) = currency.neet_target(a)
                && currency.is_current(a, today)
            {
                if target < today {
                    push(AgendaKind::NeetTargetPassed, Some(target));
                } else if target <= soon {
                    push(AgendaKind::NeetTargetSoon, Some(target));
                }
            }
            match currency.current_until(a) {
                Some(until) if until < today && a.code.group() != StatusGroup::NotKnown => {
                    push(AgendaKind::CurrencyExpired, Some(until))
                }
                Some(until) if until <= fortnight && until >= today => {
                    push(AgendaKind::CurrencyExpiring, Some(until))
                }
                _ => {}
            }
        }
        if let Some(r) = &s.rating
            && r.review_due <= today
        {
            push(AgendaKind::ReviewDue, Some(r.review_due));
        }
        // The three-monthly check (configurable): due when the last contact is
        // older than that, or there has never been one.
        match &s.last_contact {
            Some(c) if currency.follow_up_due(c.at.date()) >= today => {}
            Some(c) => push(AgendaKind::NoRecentContact, Some(c.at.date())),
            None => push(AgendaKind::NoRecentContact, None),
        }
    }
    items.sort_by_cached_key(|(i, s)| (i.kind, i.date, s.list_order()));
    items.into_iter().map(|(i, _)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::activity::ActivitySource;
    use crate::domain::ops::{FieldSet, Hlc};
    use crate::domain::person::PersonName;
    use crate::domain::records::{Rag, RiskRating};
    use crate::domain::{
        ActivityCode, Channel, ContactAttempt, CurrentActivity, DeviceId, District, FieldValue, Op,
        OpId, OpPayload, Outcome, PersonState, WorkerId,
    };

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    /// A person with an activity, optionally a last contact (with follow-up) and a rating.
    fn person(
        n: u128,
        code: u16,
        confirmed: NaiveDate,
        contact: Option<(NaiveDate, Option<NaiveDate>)>,
        review: Option<NaiveDate>,
    ) -> CaseSummary {
        let id = PersonId(uuid::Uuid::from_u128(n));
        let mut k = n * 100;
        let mut op = |payload| {
            k += 1;
            Op {
                id: OpId(uuid::Uuid::from_u128(k)),
                at: Hlc::new(k as u64, 0),
                author: WorkerId::new("w"),
                device: DeviceId(uuid::Uuid::from_u128(1)),
                person: id,
                payload,
            }
        };
        let set = |values: Vec<FieldValue>| {
            OpPayload::SetFields(values.into_iter().map(FieldSet::new).collect())
        };
        let mut ops = vec![
            op(set(vec![
                FieldValue::Name(PersonName {
                    given: "A".into(),
                    family: "B".into(),
                    preferred: None,
                }),
                FieldValue::DateOfBirth(NaiveDate::from_ymd_opt(2010, 1, 1).unwrap()),
                FieldValue::District(District::Thanet),
            ])),
            op(set(vec![FieldValue::CurrentActivity(CurrentActivity {
                code: ActivityCode::new(code).unwrap(),
                start: confirmed,
                confirmed,
                source: ActivitySource::YoungPerson,
                expected_end: None,
                provider: None,
            })])),
        ];
        if let Some((on, follow_up)) = contact {
            ops.push(op(OpPayload::LogContact(ContactAttempt {
                at: on.and_hms_opt(10, 0, 0).unwrap(),
                channel: Channel::Phone,
                outcome: Outcome::NoAnswer,
                note: String::new(),
                follow_up,
            })));
        }
        if let Some(due) = review {
            ops.push(op(OpPayload::RateRisk(RiskRating {
                rag: Rag::Amber,
                reason: "r".into(),
                factors: vec![],
                rated_on: d(1, 1),
                review_due: due,
            })));
        }
        CaseSummary::of(&PersonState::fold(id, &ops)).unwrap()
    }

    fn kinds(items: &[AgendaItem], who: u128) -> Vec<AgendaKind> {
        items
            .iter()
            .filter(|i| i.person == PersonId(uuid::Uuid::from_u128(who)))
            .map(|i| i.kind)
            .collect()
    }

    #[test]
    fn items_alike_come_in_the_list_order_of_people_whatever_order_they_are_held_in() {
        let today = d(11, 23);
        let c = CurrencyConfig::default();
        // Never contacted: each has one undated "no recent contact" item.
        let never = |n, family: &str, born: NaiveDate| {
            let mut p = person(n, 230, d(11, 1), None, None);
            p.name.family = family.into();
            p.date_of_birth = born;
            p
        };
        let born = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap();
        let older = NaiveDate::from_ymd_opt(2009, 5, 1).unwrap();
        let people = [
            never(9, "Young", born),
            never(7, "abbott", born),
            never(8, "Young", older),
            never(6, "Mills", born),
            never(5, "Young", born),
        ];
        let order = |held: &[CaseSummary]| {
            agenda(held, today, &c)
                .iter()
                .filter(|i| i.kind == AgendaKind::NoRecentContact)
                .map(|i| i.person.0.as_u128())
                .collect::<Vec<_>>()
        };
        // Family name (case aside), then date of birth, then id.
        assert_eq!(order(&people), [7, 6, 8, 5, 9]);
        let mut reversed = people.clone();
        reversed.reverse();
        assert_eq!(order(&reversed), [7, 6, 8, 5, 9]);
    }

    #[test]
    fn each_clock_puts_the_right_people_on_the_agenda() {
        let today = d(11, 23);
        let c = CurrencyConfig::default();
        let people = [
            // NEET since 1 October: 6-week target (12 November) passed; contacted last week.
            person(1, 619, d(10, 1), Some((d(11, 16), None)), None),
            // NEET since 12 October: target 23 November is today → "soon".
            person(2, 619, d(10, 12), Some((d(11, 20), Some(d(11, 23)))), None),
            // In FE, follow-up overdue, review due, no contact since July.
            person(
                3,
                230,
                d(9, 10),
                Some((d(7, 1), Some(d(7, 15)))),
                Some(d(11, 1)),
            ),
            // Employment confirmed in May: expired 12 November; never contacted.
            person(4, 330, d(5, 12), None, None),
            // Employment confirmed 1 June: expires 1 December, within 14 days.
            person(5, 330, d(6, 1), Some((d(11, 1), None)), None),
        ];
        let items = agenda(&people, today, &c);
        assert_eq!(kinds(&items, 1), vec![AgendaKind::NeetTargetPassed]);
        assert_eq!(
            kinds(&items, 2),
            vec![AgendaKind::FollowUpToday, AgendaKind::NeetTargetSoon]
        );
        assert_eq!(
            kinds(&items, 3),
            vec![
                AgendaKind::OverdueFollowUp,
                AgendaKind::ReviewDue,
                AgendaKind::NoRecentContact
            ]
        );
        assert_eq!(
            kinds(&items, 4),
            vec![AgendaKind::CurrencyExpired, AgendaKind::NoRecentContact]
        );
        assert_eq!(kinds(&items, 5), vec![AgendaKind::CurrencyExpiring]);
        assert!(
            items
                .windows(2)
                .all(|w| (w[0].kind, w[0].date) <= (w[1].kind, w[1].date)),
            "most urgent first"
        );
    }
}
