//! `caseload report …`: the figures as a table, CSV or JSON.

use super::{CliError, ReportCommand, today};
use crate::config::Config;
use crate::domain::codes::Learning;
use crate::domain::dates::{parse_date, uk};
use crate::domain::residence::Authority;
use crate::domain::{CaseSummary, Op, PersonId, Summaries, academic};
use crate::report::{self, Breakdown, Figures};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

#[derive(Serialize)]
struct Row {
    population: String,
    cohort: usize,
    eet: usize,
    neet: usize,
    not_known: usize,
    participating: usize,
    eet_percent: f64,
    neet_percent: f64,
    not_known_percent: f64,
    participation_percent: f64,
    neet_target: f64,
    neet_gap: f64,
    not_known_target: f64,
    not_known_gap: f64,
    participation_target: f64,
    participation_gap: f64,
    custody: usize,
    denominator: usize,
    neet_or_not_known: usize,
    neet_or_not_known_percent: f64,
    in_education_training: usize,
    in_education_training_percent: f64,
    full_time_education: usize,
    part_time_education: usize,
    apprenticeship: usize,
    work_based_learning: usize,
    employment_with_training: usize,
    other_training: usize,
}

pub(super) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl Row {
    /// A row with the targets beside the figures, and the gap (figure − target).
    fn of(population: String, f: &Figures, t: &crate::config::Targets) -> Row {
        Row {
            neet_target: t.neet_percent,
            neet_gap: round1(f.neet_pct() - t.neet_percent),
            not_known_target: t.not_known_percent,
            not_known_gap: round1(f.not_known_pct() - t.not_known_percent),
            participation_target: t.participation_percent,
            participation_gap: round1(f.participation_pct() - t.participation_percent),
            population,
            cohort: f.cohort,
            eet: f.eet,
            neet: f.neet,
            not_known: f.not_known,
            participating: f.participating,
            eet_percent: round1(f.eet_pct()),
            neet_percent: round1(f.neet_pct()),
            not_known_percent: round1(f.not_known_pct()),
            participation_percent: round1(f.participation_pct()),
            custody: f.custody,
            denominator: f.denominator(),
            neet_or_not_known: f.neet_or_not_known(),
            neet_or_not_known_percent: round1(f.neet_or_not_known_pct()),
            in_education_training: f.learning.total(),
            in_education_training_percent: round1(f.learning_pct()),
            full_time_education: f.learning.get(Learning::FullTimeEducation),
            part_time_education: f.learning.get(Learning::PartTimeEducation),
            apprenticeship: f.learning.get(Learning::Apprenticeship),
            work_based_learning: f.learning.get(Learning::WorkBasedLearning),
            employment_with_training: f.learning.get(Learning::EmploymentWithTraining),
            other_training: f.learning.get(Learning::OtherTraining),
        }
    }
}

/// `--average dec-feb` or `dec-feb-YYYY`: the December the period starts in.
fn winter(period: &str, on: NaiveDate) -> Result<i32, CliError> {
    let period = period.trim().to_lowercase();
    let december = match period.strip_prefix("dec-feb") {
        Some("") => Some(report::latest_winter(on)),
        Some(year) => year
            .strip_prefix('-')
            .and_then(|y| y.parse::<i32>().ok())
            .filter(|y| (2000..=2100).contains(y)),
        None => None,
    }
    .ok_or_else(|| {
        CliError::Usage(format!(
            "--average {period:?}: use dec-feb or dec-feb-YYYY (the December's year)"
        ))
    })?;
    if december > report::latest_winter(on) {
        return Err(CliError::Usage(format!(
            "--average {period}: December {december} to February {} has not ended by {}",
            december + 1,
            uk(on)
        )));
    }
    Ok(december)
}

#[derive(Serialize)]
struct AverageRow {
    period: String,
    month_ends: String,
    denominator: f64,
    neet: f64,
    not_known: f64,
    neet_percent: f64,
    not_known_percent: f64,
    neet_or_not_known_percent: f64,
}

impl AverageRow {
    fn of(a: &report::Average) -> AverageRow {
        let round2 = |x: f64| (x * 100.0).round() / 100.0;
        AverageRow {
            period: format!(
                "December {} to February {}",
                a.month_ends[0].format("%Y"),
                a.month_ends[2].format("%Y")
            ),
            month_ends: a
                .month_ends
                .iter()
                .map(|d| uk(*d))
                .collect::<Vec<_>>()
                .join(" "),
            denominator: round2(a.denominator),
            neet: round2(a.neet),
            not_known: round2(a.not_known),
            neet_percent: round1(a.neet_pct()),
            not_known_percent: round1(a.not_known_pct()),
            neet_or_not_known_percent: round1(a.neet_or_not_known_pct()),
        }
    }
}

fn as_of(given: Option<String>) -> Result<NaiveDate, CliError> {
    let today = today()?;
    match given {
        None => Ok(today),
        Some(s) => {
            let d = parse_date(&s, today)?;
            if d > today {
                return Err(CliError::Usage(format!(
                    "--as-of {} is in the future: figures can only be as recorded",
                    uk(d)
                )));
            }
            Ok(d)
        }
    }
}

/// `--known-as-of`: the records as known at the end of that day, each
/// activity dated from its start, and that day; when not given, the records
/// as they are (counted as recorded by `on`) and no day.
fn as_known<'a>(
    people: Summaries<'a>,
    on: NaiveDate,
    known: Option<String>,
) -> Result<(Option<NaiveDate>, Known<'a>), CliError> {
    let Some(given) = known else {
        return Ok((None, Known::AsTheyAre(people)));
    };
    let today = today()?;
    let known = parse_date(&given, today)?;
    if known > today {
        return Err(CliError::Usage(format!(
            "--known-as-of {} is in the future: only what is known can be counted",
            uk(known)
        )));
    }
    if known < on {
        return Err(CliError::Usage(format!(
            "--known-as-of {} is before the date counted ({}): what was known then is the default",
            uk(known),
            uk(on)
        )));
    }
    let view = people
        .iter()
        .filter_map(|s| s.in_effect_as_known(known))
        .collect();
    Ok((Some(known), Known::AsKnownThen(view)))
}

/// The records a report counts: as they are, or as known on a past day.
enum Known<'a> {
    AsTheyAre(Summaries<'a>),
    AsKnownThen(Vec<CaseSummary>),
}

impl Known<'_> {
    fn summaries(&self) -> Summaries<'_> {
        match self {
            Known::AsTheyAre(all) => *all,
            Known::AsKnownThen(then) => Summaries::from(then),
        }
    }
}

/// The first line of a report: which day, and as known when.
fn counted(on: NaiveDate, known: Option<NaiveDate>) -> String {
    match known {
        None => format!("as recorded at the end of {}", uk(on)),
        Some(k) => format!(
            "in effect on {} (activities from their start), as known at the end of {}",
            uk(on),
            uk(k)
        ),
    }
}

pub(super) fn csv_out<T: Serialize>(rows: &[T]) -> Result<(), CliError> {
    super::output::csv_rows(rows).map_err(|e| CliError::Usage(e.to_string()))
}

pub(super) fn json_out<T: Serialize>(value: &T) -> Result<(), CliError> {
    super::output::json(value).map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(())
}

/// The DfE's own figures under the table: the combined headline, both
/// participation figures labelled, what the percentages are taken over, and
/// the December–February average when asked for.
fn print_dfe_lines(total: &Figures, average: Option<&AverageRow>) {
    if total.denominator() > 0 {
        outln!(
            "{:<14} {:>5.1}%  the DfE headline since 2016",
            "NEET or NK",
            total.neet_or_not_known_pct()
        );
        outln!(
            "In education and training {:.1}% (DfE: part-time education in; gap year,",
            total.learning_pct()
        );
        outln!("  re-engagement and employment without training out)");
        let types: Vec<String> = Learning::ALL
            .iter()
            .map(|l| format!("{} {}", l.label(), total.learning.get(*l)))
            .collect();
        // Wrapped to fit 80 columns.
        let mut line = String::from(" ");
        for t in types {
            if line.chars().count() + t.chars().count() + 3 > 78 {
                outln!("{line}");
                line = String::from(" ");
            }
            line.push_str(if line.trim().is_empty() { " " } else { " · " });
            line.push_str(&t);
        }
        outln!("{line}");
        outln!(
            "Meeting the duty to participate {:.1}% (ESA 2008 s.2: re-engagement in)",
            total.participation_pct()
        );
    }
    outln!(
        "Percentages of {} (the cohort {} less {} in custody); custody and asylum",
        total.denominator(),
        total.cohort,
        total.custody
    );
    outln!("  seekers not yet able to participate count as neither EET nor NEET.");
    if let Some(a) = average {
        outln!();
        outln!("{} (month-ends {}):", a.period, a.month_ends);
        outln!(
            "  NEET {:.1}% · Not Known {:.1}% · NEET or Not Known {:.1}% (of {:.1} on average)",
            a.neet_percent,
            a.not_known_percent,
            a.neet_or_not_known_percent,
            a.denominator
        );
    }
}

/// Prints a report over `people`: a device's index, or everyone on the hub.
/// Every op of one young person (for figures that need their whole history).
pub type History<'a> = &'a dyn Fn(PersonId) -> Result<Vec<Op>, CliError>;

pub fn run(
    people: Summaries<'_>,
    config: &Config,
    command: ReportCommand,
    history: History,
) -> Result<(), CliError> {
    let currency = &config.currency;
    match command {
        ReportCommand::Headline {
            as_of: date,
            by,
            known_as_of,
            average,
            format,
        } => {
            let on = as_of(date)?;
            let (known, view) = as_known(people, on, known_as_of)?;
            let people = view.summaries();
            let average = match average {
                Some(period) => {
                    let december = winter(&period, on)?;
                    report::winter_average(people, december, currency).map(|a| AverageRow::of(&a))
                }
                None => None,
            };
            let total = report::headline(people, on, currency);
            let t = &config.targets;
            let mut rows = vec![Row::of("All (academic ages 16–17)".into(), &total, t)];
            if let Some(by) = by {
                let breakdown = match by.to_lowercase().as_str() {
                    "district" => Breakdown::District,
                    "area" => Breakdown::Area,
                    "year" => Breakdown::Year,
                    "group" => Breakdown::Group,
                    other => {
                        return Err(CliError::Usage(format!(
                            "--by {other:?}: use district, area, year or group"
                        )));
                    }
                };
                rows.extend(
                    report::headline_by(people, on, currency, breakdown)
                        .iter()
                        .map(|(name, f)| Row::of(name.clone(), f, t)),
                );
            }
            match format.as_str() {
                // One header a file: with --average, the average alone.
                "csv" => match &average {
                    Some(a) => csv_out(std::slice::from_ref(a)),
                    None => csv_out(&rows),
                },
                "json" => json_out(&serde_json::json!({
                    "as_of": on,
                    "known_as_of": known.unwrap_or(on),
                    "activities_dated_by": if known.is_some() { "start" } else { "recording" },
                    "definition": "DfE: percentages of the cohort less young adult offenders in custody (710); custody and refugees / asylum seekers (720) neither EET nor NEET",
                    "targets": { "neet_percent": t.neet_percent, "not_known_percent": t.not_known_percent, "participation_percent": t.participation_percent },
                    "rows": rows,
                    "average": average,
                })),
                "table" => {
                    outln!("Figures {} (currency applied)", counted(on, known));
                    outln!(
                        "{:<34} {:>7} {:>7} {:>7} {:>7} {:>10}",
                        "",
                        "Cohort",
                        "EET %",
                        "NEET %",
                        "NK %",
                        "Duty %"
                    );
                    for r in &rows {
                        // No percentage of nobody: an empty row reads "–".
                        let pct = |v: f64| {
                            if r.cohort == 0 {
                                "–".to_string()
                            } else {
                                format!("{v:.1}")
                            }
                        };
                        outln!(
                            "{:<34} {:>7} {:>7} {:>7} {:>7} {:>10}",
                            r.population,
                            r.cohort,
                            pct(r.eet_percent),
                            pct(r.neet_percent),
                            pct(r.not_known_percent),
                            pct(r.participation_percent)
                        );
                    }
                    let gap = |name: &str, actual: f64, target: f64, lower_better: bool| {
                        if total.cohort == 0 {
                            outln!(
                                "{name:<14}     –   target {target:>5.1}%  (nobody in the cohort)"
                            );
                            return;
                        }
                        let met = if lower_better {
                            actual <= target
                        } else {
                            actual >= target
                        };
                        outln!(
                            "{name:<14} {actual:>5.1}%  target {target:>5.1}%  gap {:>+5.1}  {}",
                            actual - target,
                            if met { "met" } else { "NOT met" }
                        );
                    };
                    outln!();
                    gap("NEET", total.neet_pct(), t.neet_percent, true);
                    gap(
                        "Not Known",
                        total.not_known_pct(),
                        t.not_known_percent,
                        true,
                    );
                    gap(
                        "Meeting duty",
                        total.participation_pct(),
                        t.participation_percent,
                        false,
                    );
                    print_dfe_lines(&total, average.as_ref());
                    Ok(())
                }
                other => Err(CliError::Usage(format!(
                    "--format {other:?}: use table, csv or json"
                ))),
            }
        }
        ReportCommand::Groups {
            as_of: date,
            known_as_of,
            format,
        } => {
            let on = as_of(date)?;
            let (known, view) = as_known(people, on, known_as_of)?;
            let people = view.summaries();
            #[derive(Serialize)]
            struct GroupRow {
                group: &'static str,
                cohort: usize,
                neet: usize,
                neet_target: Option<u32>,
                neet_gap: Option<i64>,
                neet_percent: f64,
                not_known: usize,
            }
            let rows: Vec<GroupRow> =
                report::by_group(people, on, currency, config.cohort.send_upper_age)
                    .into_iter()
                    .map(|(g, f)| GroupRow {
                        group: g.label(),
                        cohort: f.cohort,
                        neet: f.neet,
                        neet_target: config.targets.group_neet(g),
                        neet_gap: config
                            .targets
                            .group_neet(g)
                            .map(|t| f.neet as i64 - i64::from(t)),
                        neet_percent: round1(f.neet_pct()),
                        not_known: f.not_known,
                    })
                    .collect();
            match format.as_str() {
                "csv" => csv_out(&rows),
                "json" => json_out(&rows),
                "table" => {
                    outln!(
                        "NEET by vulnerable group, {} (16–18, SEND to {})",
                        counted(on, known),
                        config.cohort.send_upper_age
                    );
                    outln!(
                        "{:<34} {:>7} {:>6} {:>7} {:>5} {:>7} {:>10}",
                        "Group",
                        "Cohort",
                        "NEET",
                        "Target",
                        "Gap",
                        "NEET %",
                        "Not Known"
                    );
                    for r in &rows {
                        // A group without a target shows "–" for it and its gap.
                        let target = r.neet_target.map_or("–".into(), |t| t.to_string());
                        let gap = r.neet_gap.map_or("–".into(), |g| format!("{g:+}"));
                        outln!(
                            "{:<34} {:>7} {:>6} {:>7} {:>5} {:>7.1} {:>10}",
                            r.group,
                            r.cohort,
                            r.neet,
                            target,
                            gap,
                            r.neet_percent,
                            r.not_known
                        );
                    }
                    Ok(())
                }
                other => Err(CliError::Usage(format!(
                    "--format {other:?}: use table, csv or json"
                ))),
            }
        }
        ReportCommand::Roni {
            as_of: date,
            format,
        } => {
            let today = today()?;
            let on = match date {
                Some(_) => as_of(date)?,
                // The last day of the month a year before this one: its
                // twelfth month-end after is the last one over.
                None => NaiveDate::from_ymd_opt(today.year(), today.month(), 1)
                    .and_then(|first| first.checked_sub_months(chrono::Months::new(12)))
                    .and_then(|d| d.pred_opt())
                    .unwrap_or(today),
            };
            super::returns::roni(people, config, on, today, &format, history)
        }
        ReportCommand::ActivitySurvey { year, format } => {
            super::returns::activity_survey(people, config, year, &format)
        }
        ReportCommand::NeetFlow { from, to, format } => {
            super::returns::neet_flow(people, config, &from, &to, &format)
        }
        ReportCommand::Guarantee { year, format } => {
            super::returns::guarantee(people, year, &format, history)
        }
        ReportCommand::Destinations {
            as_of: date,
            format,
        } => super::returns::destinations(people, as_of(date)?, &format, history),
        ReportCommand::Nccis { month, known_as_of } => {
            let first =
                NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| {
                    CliError::Usage(format!(
                        "--month {month:?}: use YYYY-MM, for example 2027-01"
                    ))
                })?;
            let last = report::month_end(first);
            let today = today()?;
            if first > today {
                return Err(CliError::Usage(format!("--month {month} is in the future")));
            }
            // Never a day not yet lived: the month in progress is as at today.
            let on = last.min(today);
            let (known, view) = as_known(people, on, known_as_of)?;
            let people = view.summaries();
            let rows = nccis_rows(people, on, config);
            csv_out(&rows)?;
            errln!(
                "{} young people in the cohort, {}",
                rows.len(),
                counted(on, known)
            );
            if on < last {
                errln!(
                    "{} has not ended: these are its figures so far, not its return",
                    first.format("%B %Y")
                );
            }
            Ok(())
        }
    }
}

#[derive(Serialize)]
struct NccisRow {
    person_id: String,
    upn: String,
    uln: String,
    family_name: String,
    given_name: String,
    date_of_birth: NaiveDate,
    gender: &'static str,
    postcode: String,
    district: &'static str,
    academic_age: i32,
    activity_code: String,
    activity_start: Option<NaiveDate>,
    activity_confirmed: Option<NaiveDate>,
    currency_expired: bool,
    reported_group: &'static str,
    characteristics: String,
    send: &'static str,
    level_of_need: String,
    intended_destination: String,
    september_guarantee: String,
    /// "this" or another authority's DfE code.
    la_of_residence: String,
    la_of_education: String,
}

fn la_text(a: Authority) -> String {
    match a {
        Authority::Here => "this".into(),
        Authority::Other(c) => c.code().to_string(),
    }
}

/// The monthly return: everyone in the statutory cohort at `on`, with the
/// activity recorded by then.
fn nccis_rows(people: Summaries<'_>, on: NaiveDate, config: &Config) -> Vec<NccisRow> {
    let mut rows: Vec<NccisRow> = people
        .iter()
        .filter(|s| {
            s.known_on(on)
                && academic::in_statutory_cohort(
                    s.date_of_birth,
                    on,
                    s.send.has_ehc_plan(),
                    config.cohort.send_upper_age,
                )
        })
        .map(|s| {
            let activity = s.activity_on(on);
            let expired = activity.is_some_and(|a| !config.currency.is_current(a, on));
            NccisRow {
                person_id: s.id.to_string(),
                upn: s
                    .upn
                    .as_ref()
                    .map(|u| u.as_str().to_string())
                    .unwrap_or_default(),
                uln: s
                    .uln
                    .as_ref()
                    .map(|u| u.as_str().to_string())
                    .unwrap_or_default(),
                family_name: s.name.family.to_string(),
                given_name: s.name.given.to_string(),
                date_of_birth: s.date_of_birth,
                gender: s.gender.label(),
                postcode: s
                    .postcode
                    .as_ref()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                district: s.district.label(),
                academic_age: academic::academic_age(s.date_of_birth, on),
                activity_code: activity.map(|a| a.code.to_string()).unwrap_or_default(),
                activity_start: activity.map(|a| a.start),
                activity_confirmed: activity.map(|a| a.confirmed),
                currency_expired: expired,
                reported_group: config.currency.effective_group(activity, on).label(),
                characteristics: s
                    .characteristics
                    .iter()
                    .filter(|(_, span)| span.covers(on))
                    .map(|(c, _)| c.label())
                    .collect::<Vec<_>>()
                    .join("; "),
                send: s.send.label(),
                level_of_need: s
                    .level_of_need
                    .map(|l| l.label().to_string())
                    .unwrap_or_default(),
                intended_destination: s
                    .destination
                    .map(|d| d.label().to_string())
                    .unwrap_or_default(),
                september_guarantee: s
                    .offer
                    .map(|(y, st)| format!("{y}: {st}"))
                    .unwrap_or_default(),
                la_of_residence: la_text(s.residence.lives),
                la_of_education: la_text(s.residence.learns_in()),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.family_name, &a.given_name, &a.person_id).cmp(&(
            &b.family_name,
            &b.given_name,
            &b.person_id,
        ))
    });
    rows
}
