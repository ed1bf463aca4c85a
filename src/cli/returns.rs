//! `caseload report` for the returns besides the headline: the RONI
//! back-test, the Annual Activity Survey, NEET joiners and leavers, the
//! September Guarantee and Year 11 intended destinations. Each prints as a
//! table, CSV or JSON, with the records to check before it is sent.

use super::CliError;
use super::report::{History, csv_out, json_out, round1};
use crate::config::Config;
use crate::domain::dates::uk;
use crate::domain::{CaseSummary, PersonState, Summaries};
use crate::report::{self, returns::Tally};
use chrono::NaiveDate;
use serde::Serialize;

/// `report roni`: the back-test (`report/roni.rs`), each band's people and
/// how many were NEET or Not Known within 6 and 12 months.
pub(super) fn roni(
    people: Summaries<'_>,
    config: &Config,
    on: NaiveDate,
    today: NaiveDate,
    format: &str,
    history: History,
) -> Result<(), CliError> {
    let mut failed = None;
    let test = report::roni::back_test(
        people,
        |s| match history(s.id) {
            Ok(ops) => Some(PersonState::fold(
                s.id,
                ops.iter()
                    .filter(|op| crate::domain::dates::local_day(op.at.millis) <= on),
            )),
            Err(e) => {
                failed.get_or_insert(e);
                None
            }
        },
        on,
        today,
        &config.risk,
        &config.currency,
        config.cohort.send_upper_age,
    );
    if let Some(e) = failed {
        return Err(e);
    }
    #[derive(Serialize)]
    struct BandRow {
        band: &'static str,
        people: usize,
        neet_or_not_known_within_6_months: Option<usize>,
        percent_within_6_months: Option<f64>,
        neet_or_not_known_within_12_months: Option<usize>,
        percent_within_12_months: Option<f64>,
    }
    let rows: Vec<BandRow> = test
        .bands
        .iter()
        .chain(std::iter::once(&test.all))
        .map(|b| {
            let pct = |n: Option<usize>| {
                n.filter(|_| b.people > 0)
                    .map(|n| round1(n as f64 * 100.0 / b.people as f64))
            };
            BandRow {
                band: b.rag.map_or("All", |r| r.label()),
                people: b.people,
                neet_or_not_known_within_6_months: b.within_6,
                percent_within_6_months: pct(b.within_6),
                neet_or_not_known_within_12_months: b.within_12,
                percent_within_12_months: pct(b.within_12),
            }
        })
        .collect();
    match format {
        "csv" => csv_out(&rows),
        "json" => json_out(&serde_json::json!({
            "as_of": on,
            "already_neet_or_not_known": test.already_neet_or_not_known,
            "bands": rows,
        })),
        "table" => {
            outln!(
                "The band suggested on {}, from what was recorded by then (this config);",
                uk(on)
            );
            outln!("NEET or Not Known at a month-end after it, as recorded at the time:");
            outln!(
                "{:<8} {:>7} {:>22} {:>22}",
                "Band",
                "People",
                "within 6 months",
                "within 12 months"
            );
            let cell = |n: Option<usize>, pct: Option<f64>| match (n, pct) {
                (Some(n), Some(p)) => format!("{n} ({p:.1}%)"),
                (Some(n), None) => n.to_string(),
                _ => "not over yet".to_string(),
            };
            for r in &rows {
                outln!(
                    "{:<8} {:>7} {:>22} {:>22}",
                    r.band,
                    r.people,
                    cell(
                        r.neet_or_not_known_within_6_months,
                        r.percent_within_6_months
                    ),
                    cell(
                        r.neet_or_not_known_within_12_months,
                        r.percent_within_12_months
                    )
                );
            }
            outln!(
                "Left out: {} already NEET or Not Known on {}.",
                test.already_neet_or_not_known,
                uk(on)
            );
            Ok(())
        }
        other => Err(CliError::Usage(format!(
            "--format {other:?}: use table, csv or json"
        ))),
    }
}

/// Each young person `wanted` keeps, with their record folded from their
/// whole history, one at a time (never all held at once). The first error
/// reading a history ends the run and is left in `failed`.
fn folded<'a>(
    people: Summaries<'a>,
    wanted: impl Fn(&CaseSummary) -> bool + 'a,
    history: History<'a>,
    failed: &'a std::cell::RefCell<Option<CliError>>,
) -> impl Iterator<Item = (&'a CaseSummary, PersonState)> + 'a {
    people
        .iter()
        .filter(move |s| wanted(s))
        .map_while(move |s| match history(s.id) {
            Ok(ops) => Some((s, PersonState::fold(s.id, &ops))),
            Err(e) => {
                *failed.borrow_mut() = Some(e);
                None
            }
        })
}

/// The error `folded` met, if any.
fn check_folded(failed: std::cell::RefCell<Option<CliError>>) -> Result<(), CliError> {
    failed.into_inner().map_or(Ok(()), Err)
}

#[derive(Serialize)]
struct TallyRow<'a> {
    category: &'a str,
    count: usize,
    percent: Option<f64>,
}

#[derive(Serialize)]
struct CheckRow {
    person: String,
    name: String,
    problem: &'static str,
}

/// Prints one or more tallies: a table each with its checks, or CSV (the
/// rows, one file; checks on stderr), or JSON (everything).
fn print(tallies: &[Tally], people: Summaries<'_>, format: &str) -> Result<(), CliError> {
    let rows = |t: &'_ Tally| -> Vec<(String, usize, Option<f64>)> {
        t.rows
            .iter()
            .map(|(c, n)| {
                let pct = (t.base > 0).then(|| round1(*n as f64 * 100.0 / t.base as f64));
                (c.clone(), *n, pct)
            })
            .collect()
    };
    let checks = |t: &Tally| -> Vec<CheckRow> {
        t.checks
            .iter()
            .map(|c| {
                let who = c.person.and_then(|id| people.iter().find(|s| s.id == id));
                CheckRow {
                    person: c.person.map_or("—".into(), |id| id.short()),
                    name: who.map_or(String::new(), |s| s.name.display()),
                    problem: c.problem,
                }
            })
            .collect()
    };
    match format {
        "csv" => {
            #[derive(Serialize)]
            struct Line<'a> {
                r#return: &'a str,
                category: &'a str,
                count: usize,
                percent: Option<f64>,
            }
            let mut lines = Vec::new();
            for t in tallies {
                for (c, n, p) in rows(t) {
                    lines.push((t.title.clone(), c, n, p));
                }
            }
            let lines: Vec<Line> = lines
                .iter()
                .map(|(t, c, n, p)| Line {
                    r#return: t,
                    category: c,
                    count: *n,
                    percent: *p,
                })
                .collect();
            csv_out(&lines)?;
            let to_check: usize = tallies.iter().map(|t| t.checks.len()).sum();
            if to_check > 0 {
                errln!(
                    "{to_check} records to check before sending: run with --format table or json"
                );
            }
            Ok(())
        }
        "json" => {
            let all: Vec<serde_json::Value> = tallies
                .iter()
                .map(|t| {
                    let rows = rows(t);
                    let rows: Vec<TallyRow> = rows
                        .iter()
                        .map(|(c, n, p)| TallyRow {
                            category: c,
                            count: *n,
                            percent: *p,
                        })
                        .collect();
                    serde_json::json!({
                        "return": t.title,
                        "of": t.base,
                        "rows": rows,
                        "checks": checks(t),
                    })
                })
                .collect();
            json_out(&all)
        }
        "table" => {
            for (i, t) in tallies.iter().enumerate() {
                if i > 0 {
                    outln!();
                }
                outln!("{}", t.title);
                outln!("{:<52} {:>8} {:>8}", format!("of {}", t.base), "count", "%");
                for (c, n, p) in rows(t) {
                    let p = p.map_or("–".into(), |p| format!("{p:.1}"));
                    outln!("{c:<52} {n:>8} {p:>8}");
                }
                let checks = checks(t);
                if !checks.is_empty() {
                    outln!("To check before sending ({}):", checks.len());
                    for c in checks {
                        let name: String = c.name.chars().take(20).collect();
                        outln!("  {} {:<20} {}", c.person, name, c.problem);
                    }
                }
            }
            Ok(())
        }
        other => Err(CliError::Usage(format!(
            "--format {other:?}: use table, csv or json"
        ))),
    }
}

/// `report activity-survey [--year YYYY]`: by default the latest 1 November passed.
pub(super) fn activity_survey(
    people: Summaries<'_>,
    config: &Config,
    year: Option<i32>,
    format: &str,
) -> Result<(), CliError> {
    let today = super::today()?;
    let latest = report::returns::latest_survey_year(today);
    let year = year.unwrap_or(latest);
    if year > latest {
        return Err(CliError::Usage(format!(
            "--year {year}: 1 November {year} has not come yet"
        )));
    }
    let tally = report::returns::activity_survey(people, year, &config.currency)
        .ok_or_else(|| CliError::Usage(format!("--year {year}: no such year")))?;
    print(&[tally], people, format)
}

/// `report neet-flow --from YYYY-MM --to YYYY-MM`: between the two month-ends.
pub(super) fn neet_flow(
    people: Summaries<'_>,
    config: &Config,
    from: &str,
    to: &str,
    format: &str,
) -> Result<(), CliError> {
    let today = super::today()?;
    let month_end = |flag: &str, month: &str| -> Result<NaiveDate, CliError> {
        let first =
            NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| {
                CliError::Usage(format!(
                    "--{flag} {month:?}: use YYYY-MM, for example 2027-01"
                ))
            })?;
        let end = report::month_end(first);
        if end > today {
            return Err(CliError::Usage(format!(
                "--{flag} {month}: the month has not ended"
            )));
        }
        Ok(end)
    };
    let (from, to) = (month_end("from", from)?, month_end("to", to)?);
    if from >= to {
        return Err(CliError::Usage(
            "--from must be a month before --to".to_string(),
        ));
    }
    print(
        &[report::returns::neet_flow(
            people,
            from,
            to,
            &config.currency,
        )],
        people,
        format,
    )
}

/// `report guarantee [--year YYYY]`: Year 11 and Year 12 of the September
/// Guarantee of YYYY [default: the latest whose 30 September has passed].
pub(super) fn guarantee(
    people: Summaries<'_>,
    september: Option<i32>,
    format: &str,
    history: History,
) -> Result<(), CliError> {
    let latest = report::returns::latest_guarantee(super::today()?);
    let september = september.unwrap_or(latest);
    if september > latest {
        return Err(CliError::Usage(format!(
            "--year {september}: offers are counted to 30 September {september}, not yet passed"
        )));
    }
    let august = NaiveDate::from_ymd_opt(september, 8, 31)
        .ok_or_else(|| CliError::Usage(format!("--year {september}: no such year")))?;
    let failed = std::cell::RefCell::new(None);
    let records = folded(
        people,
        move |s| report::returns::needs_record(s, august),
        history,
        &failed,
    );
    let tallies = report::returns::september_guarantee(records, september)
        .ok_or_else(|| CliError::Usage(format!("--year {september}: no such year")))?;
    check_folded(failed)?;
    print(&tallies, people, format)
}

/// `report destinations [--as-of DATE]`: Year 11's intended destinations.
pub(super) fn destinations(
    people: Summaries<'_>,
    on: NaiveDate,
    format: &str,
    history: History,
) -> Result<(), CliError> {
    let failed = std::cell::RefCell::new(None);
    let records = folded(
        people,
        move |s| report::returns::needs_record(s, on),
        history,
        &failed,
    );
    let tally = report::returns::intended_destinations(records, on);
    check_folded(failed)?;
    print(&[tally], people, format)
}
