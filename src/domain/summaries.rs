//! Everyone's summaries as the lists, the agenda and the figures read them:
//! one sequence, which an unlocked index holds in the runs its reading
//! threads decoded rather than copied into one vector (a copy of half of
//! everyone into fresh memory on the caseworker's wait: docs/architecture.md,
//! "Unlocking").

use super::summary::CaseSummary;

/// A borrowed sequence of summaries held in runs that follow one another:
/// a position counts across the runs in order. Made from a slice too, for
/// summaries held together (the hub's, a report "as of" a past day).
#[derive(Clone, Copy, Debug)]
pub struct Summaries<'a> {
    first: &'a [CaseSummary],
    rest: &'a [Vec<CaseSummary>],
    len: usize,
}

impl<'a> Summaries<'a> {
    /// The runs in order (any of them may be empty).
    pub fn of_runs(runs: &'a [Vec<CaseSummary>]) -> Self {
        match runs.split_first() {
            Some((first, rest)) => Self {
                first,
                rest,
                len: runs.iter().map(Vec::len).sum(),
            },
            None => Self::from(&[][..]),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The summary at `position`, counted across the runs.
    pub fn get(&self, position: usize) -> Option<&'a CaseSummary> {
        if let Some(s) = self.first.get(position) {
            return Some(s);
        }
        let mut at = position.checked_sub(self.first.len())?;
        for run in self.rest {
            match run.get(at) {
                Some(s) => return Some(s),
                None => at -= run.len(),
            }
        }
        None
    }

    pub fn iter(&self) -> <Self as IntoIterator>::IntoIter {
        self.into_iter()
    }

    pub fn to_vec(&self) -> Vec<CaseSummary> {
        let mut all = Vec::with_capacity(self.len);
        all.extend(self.iter().cloned());
        all
    }
}

impl<'a> From<&'a [CaseSummary]> for Summaries<'a> {
    fn from(all: &'a [CaseSummary]) -> Self {
        Self {
            first: all,
            rest: &[],
            len: all.len(),
        }
    }
}

impl<'a> From<&'a Vec<CaseSummary>> for Summaries<'a> {
    fn from(all: &'a Vec<CaseSummary>) -> Self {
        Self::from(all.as_slice())
    }
}

impl<'a> IntoIterator for Summaries<'a> {
    type Item = &'a CaseSummary;
    type IntoIter = std::iter::Chain<
        std::slice::Iter<'a, CaseSummary>,
        std::iter::Flatten<std::slice::Iter<'a, Vec<CaseSummary>>>,
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.first.iter().chain(self.rest.iter().flatten())
    }
}

impl std::ops::Index<usize> for Summaries<'_> {
    type Output = CaseSummary;

    fn index(&self, position: usize) -> &CaseSummary {
        match self.get(position) {
            Some(s) => s,
            None => panic!(
                "position {position} is past the {} summaries held",
                self.len
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FieldValue;
    use crate::domain::ids::PersonId;
    use crate::domain::state::PersonState;

    fn person(n: u128) -> CaseSummary {
        let values = vec![
            FieldValue::Name(crate::domain::person::PersonName {
                given: "Amy".into(),
                family: "Lee".into(),
                preferred: None,
            }),
            FieldValue::DateOfBirth(chrono::NaiveDate::from_ymd_opt(2009, 1, 1).expect("date")),
            FieldValue::District(crate::domain::District::Thanet),
        ];
        let id = PersonId(uuid::Uuid::from_u128(n));
        CaseSummary::of(&PersonState::registered(id, values)).expect("registered")
    }

    fn ids<'a>(all: impl IntoIterator<Item = &'a CaseSummary>) -> Vec<u128> {
        all.into_iter().map(|s| s.id.0.as_u128()).collect()
    }

    #[test]
    fn positions_count_across_the_runs_in_order_and_empty_runs_hold_none() {
        let runs = vec![
            vec![person(1), person(2)],
            vec![],
            vec![person(3)],
            vec![person(4), person(5)],
        ];
        let all = Summaries::of_runs(&runs);
        assert_eq!(all.len(), 5);
        assert_eq!(ids(all), [1, 2, 3, 4, 5]);
        assert_eq!(ids(all.iter().rev()), [5, 4, 3, 2, 1]);
        let by_position: Vec<u128> = (0..5).map(|i| all[i].id.0.as_u128()).collect();
        assert_eq!(by_position, [1, 2, 3, 4, 5]);
        assert!(all.get(5).is_none());
        assert_eq!(ids(&all.to_vec()), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_slice_is_one_run_and_no_runs_is_empty() {
        let one = vec![person(7), person(8)];
        let all = Summaries::from(&one);
        assert_eq!((all.len(), ids(all)), (2, vec![7, 8]));
        let none = Summaries::of_runs(&[]);
        assert!(none.is_empty() && none.get(0).is_none() && none.iter().next().is_none());
        let empty_first = vec![vec![], vec![person(9)]];
        assert_eq!(Summaries::of_runs(&empty_first)[0].id.0.as_u128(), 9);
    }
}
