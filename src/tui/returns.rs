//! The returns screen, for managers and data officers: this month's figures
//! as the DfE counts them, and the records to put right before the returns
//! go (the checks of `report::returns`), each one key from the record.

use crate::config::Config;
use crate::domain::{CaseSummary, PersonId};
use crate::replica::Replica;
use crate::report::{self, Figures, returns::Tally};
use chrono::NaiveDate;

/// One record to put right, and for which return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnsCheck {
    pub person: PersonId,
    pub name: String,
    pub return_name: &'static str,
    /// The same at 80 columns.
    pub short_name: &'static str,
    pub problem: &'static str,
}

/// What the returns screen shows, worked out when it is opened.
pub struct ReturnsData {
    pub on: NaiveDate,
    pub headline: Figures,
    pub checks: Vec<ReturnsCheck>,
    pub selected: usize,
    /// The first row shown (kept by the view between frames).
    pub offset: std::cell::Cell<usize>,
}

impl ReturnsData {
    pub fn build(replica: &Replica, today: NaiveDate, config: &Config) -> ReturnsData {
        // Reading the Year 11 and 12 records goes through tens of MB (sled's
        // cache of them, each record decoded) and keeps nothing of it; on a
        // thread of its own it leaves its pieces in that thread's heap, which
        // is handed back whole once the database is opened again. On this
        // thread, the rows kept below (a name each) were made among those
        // pieces and held 7 MB of pages there after they had gone.
        // (If no thread can be started, read here: the same rows, more memory.)
        let tallies = std::thread::scope(|s| {
            match std::thread::Builder::new()
                .name("returns".into())
                .spawn_scoped(s, || Self::tallies(replica, today, config))
            {
                Ok(reading) => reading
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(_) => Self::tallies(replica, today, config),
            }
        });
        let all = replica.index().all();
        let currency = &config.currency;
        let index = replica.index();
        let mut checks: Vec<_> = tallies
            .iter()
            .enumerate()
            .flat_map(|(n, (name, t))| t.checks.iter().map(move |c| (n, *name, c)))
            .filter_map(|(n, (return_name, short_name), c)| {
                let person = c.person?;
                let summary = index.get(person);
                let check = ReturnsCheck {
                    person,
                    name: summary.map_or_else(|| person.short(), |s| s.name.display()),
                    return_name,
                    short_name,
                    problem: c.problem,
                };
                Some((n, summary.map(CaseSummary::list_order), check))
            })
            .collect();
        // Each return's records in the list order of people, so that the rows
        // keep one order whatever order the store holds people in.
        checks.sort_by(|(n, a, x), (m, b, y)| {
            (n, a, x.person, x.problem).cmp(&(m, b, y.person, y.problem))
        });
        let checks = checks.into_iter().map(|(_, _, c)| c).collect();
        ReturnsData {
            on: today,
            headline: report::headline(all, today, currency),
            checks,
            selected: 0,
            offset: std::cell::Cell::new(0),
        }
    }

    /// Each return's tally: what the checks come from.
    fn tallies(
        replica: &Replica,
        today: NaiveDate,
        config: &Config,
    ) -> Vec<((&'static str, &'static str), Tally)> {
        let all = replica.index().all();
        let mut tallies = Vec::new();
        let survey = report::returns::latest_survey_year(today);
        if let Some(t) = report::returns::activity_survey(all, survey, &config.currency) {
            tallies.push((("Activity Survey", "Survey"), t));
        }
        // Offers and destinations are in the records, not the summaries: only
        // Year 11 and 12 are opened, once each.
        let september = report::returns::latest_guarantee(today);
        let august = NaiveDate::from_ymd_opt(september, 8, 31).unwrap_or(today);
        let records = |on: NaiveDate| {
            all.iter()
                .filter(move |s| report::returns::needs_record(s, on))
                .filter_map(|s| Some((s, replica.person(s.id).ok()??)))
        };
        for t in report::returns::september_guarantee(records(august), september)
            .into_iter()
            .flatten()
        {
            tallies.push((("September Guarantee", "Guarantee"), t));
        }
        tallies.push((
            ("Intended destinations", "Destinations"),
            report::returns::intended_destinations(records(today), today),
        ));
        tallies
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.checks.len().saturating_sub(1) as isize;
        self.selected = (self.selected as isize + delta).clamp(0, last.max(0)) as usize;
    }

    pub fn selected_person(&self) -> Option<PersonId> {
        self.checks.get(self.selected).map(|c| c.person)
    }
}
