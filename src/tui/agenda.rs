//! "My day": what needs doing, most urgent first, computed from the index.

use crate::domain::codes::StatusGroup;
use crate::domain::currency::CurrencyConfig;
use crate::domain::{CaseSummary, PersonId};
use chrono::{Days, Months, NaiveDate};

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

/// Everything due for these people on `today`, most urgent kind first, then by date.
pub fn agenda<'a>(
    people: impl IntoIterator<Item = &'a CaseSummary>,
    today: NaiveDate,
    currency: &CurrencyConfig,
) -> Vec<AgendaItem> {
    let soon = today + Days::new(7);
    let fortnight = today + Days::new(14);
    let three_months_ago = today.checked_sub_months(Months::new(3)).unwrap_or(today);
    let mut items = Vec::new();
    for s in people {
        let mut push = |kind, date| {
            items.push(AgendaItem {
                kind,
                person: s.id,
                date,
            })
        };
        if let Some(due) = s.next_follow_up {
            if due < today {
                push(AgendaKind::OverdueFollowUp, Some(due));
            } else if due == today {
                push(AgendaKind::FollowUpToday, Some(due));
            }
        }
        if let Some(a) = &s.activity {
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
        match &s.last_contact {
            Some(c) if c.at.date() >= three_months_ago => {}
            Some(c) => push(AgendaKind::NoRecentContact, Some(c.at.date())),
            None => push(AgendaKind::NoRecentContact, None),
        }
    }
    items.sort_by_key(|i| (i.kind, i.date));
    items
}
