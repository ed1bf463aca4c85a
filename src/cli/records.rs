//! Commands on the records of this device's store: list, show, record a
//! contact or an activity, import, report, history.

use super::commands::Ctx;
use super::{CliError, ReportCommand, today, view};
use crate::domain::dates::{parse_date, uk};
use crate::domain::details;
use crate::domain::{
    CaseSummary, Channel, ContactAttempt, CurrentActivity, FieldValue, OpPayload, Outcome,
    PersonId, Summaries,
};
use crate::replica::Replica;
use crate::store::StoreError;
use std::path::{Path, PathBuf};

/// `people`: everyone, or those a search finds.
pub(super) fn people(cx: &Ctx, search: Option<String>, json: bool) -> Result<(), CliError> {
    let replica = cx.unlock()?;
    let today = today()?;
    let index = replica.index();
    let mut found: Vec<&CaseSummary> = match &search {
        Some(q) => index.search(q),
        None => index.all().iter().collect(),
    };
    found.sort_by_cached_key(|s| s.list_order());
    if json {
        super::output::json(&found).map_err(|e| CliError::Usage(e.to_string()))?;
    } else {
        for s in &found {
            outln!("{}", view::summary_line(s, today, &cx.config.currency));
        }
        errln!("{} of {} young people", found.len(), index.len());
    }
    Ok(())
}

/// `show`: one young person's whole record.
pub(super) fn show(cx: &Ctx, person: String, json: bool) -> Result<(), CliError> {
    let replica = cx.unlock()?;
    let id = resolve(&replica, &person)?;
    let state = replica
        .person(id)?
        .ok_or_else(|| StoreError::UnknownPerson(person.clone()))?;
    let p = state
        .young_person()
        .ok_or_else(|| StoreError::UnknownPerson(person.clone()))?;
    if json {
        let v = view::PersonView::of(&state, p);
        super::output::json(&v).map_err(|e| CliError::Usage(e.to_string()))?;
    } else {
        out!("{}", view::person_text(&state, &p, today()?, &cx.config));
    }
    Ok(())
}

/// `contact`: logs a contact attempt made now.
pub(super) fn contact(
    cx: &Ctx,
    person: String,
    channel: String,
    outcome: String,
    note: String,
    follow_up: Option<String>,
    using: Option<String>,
) -> Result<(), CliError> {
    let mut replica = cx.unlock()?;
    let now = replica.clock().now();
    let today = now.date();
    let id = resolve(&replica, &person)?;
    let attempt = ContactAttempt {
        at: now,
        channel: Channel::parse(&channel)?,
        outcome: Outcome::parse(&outcome)?,
        note,
        follow_up: follow_up.map(|f| parse_date(&f, today)).transpose()?,
    };
    let state = replica
        .person(id)?
        .ok_or_else(|| StoreError::UnknownPerson(person.clone()))?;
    let answers = state.follow_ups_answered_by(&replica.identity().worker, today);
    let options = state
        .young_person()
        .map(|p| details::reachable(&p, attempt.channel))
        .unwrap_or_default();
    let used = details::pick_used(&options, using.as_deref())?;
    let using_words = used
        .as_ref()
        .map(|u| format!(" using {}", u.describe()))
        .unwrap_or_default();
    let op = replica.record(id, OpPayload::log_contact(attempt, used), today)?;
    outln!(
        "recorded contact attempt {} for {}{using_words}",
        op.id,
        id.short()
    );
    for f in answers {
        outln!("answered your follow-up due {}", uk(f.due));
    }
    Ok(())
}

/// `details`: contact details, preferred channel and consent.
pub(super) fn details(
    cx: &Ctx,
    person: String,
    edit: crate::domain::details::DetailsEdit,
) -> Result<(), CliError> {
    let mut replica = cx.unlock()?;
    let today = today()?;
    let id = resolve(&replica, &person)?;
    let current = replica
        .person(id)?
        .and_then(|s| s.young_person())
        .ok_or_else(|| StoreError::UnknownPerson(person.clone()))?;
    let changes = edit.changes(&current, today)?;
    if changes.is_empty() {
        outln!("nothing changed for {}", id.short());
        return Ok(());
    }
    let what: Vec<String> = changes.iter().map(|c| c.key().label()).collect();
    let op = replica.set_fields(id, changes, today)?;
    outln!(
        "recorded {} for {} ({})",
        what.join(", "),
        id.short(),
        op.id
    );
    Ok(())
}

/// `offer`: a September Guarantee offer, recorded today.
/// The year (11 or 12) and the status are as typed.
pub(super) fn offer(
    cx: &Ctx,
    person: String,
    [year, status]: [String; 2],
    kind: Option<String>,
    provider: Option<String>,
) -> Result<(), CliError> {
    use crate::domain::records::{OfferStatus, OfferYear};
    let year = match year.trim() {
        "11" => OfferYear::Year11,
        "12" => OfferYear::Year12,
        other => OfferYear::parse(other)?,
    };
    let status = match status.trim().to_ascii_lowercase().as_str() {
        "made" => OfferStatus::OfferMade,
        "accepted" => OfferStatus::OfferAccepted,
        "none" => OfferStatus::NoOffer,
        "declined" => OfferStatus::OfferDeclined,
        other => OfferStatus::parse(other)?,
    };
    let mut replica = cx.unlock()?;
    let today = today()?;
    let id = resolve(&replica, &person)?;
    let offer = crate::domain::SeptemberGuaranteeOffer {
        year,
        status,
        kind: kind.as_deref().map(destination_kind).transpose()?,
        provider: provider.filter(|p| !p.trim().is_empty()),
        recorded_on: today,
    };
    let op = replica.record(id, OpPayload::RecordOffer(offer), today)?;
    outln!(
        "recorded {} offer ({}) for {} ({})",
        year.label(),
        status.label().to_lowercase(),
        id.short(),
        op.id
    );
    Ok(())
}

/// `destination`: a Year 11 pupil's intended destination, recorded today.
pub(super) fn destination(
    cx: &Ctx,
    person: String,
    kind: String,
    provider: Option<String>,
) -> Result<(), CliError> {
    let kind = destination_kind(&kind)?;
    let mut replica = cx.unlock()?;
    let today = today()?;
    let id = resolve(&replica, &person)?;
    let destination = crate::domain::IntendedDestination {
        kind,
        provider: provider.filter(|p| !p.trim().is_empty()),
        recorded_on: today,
    };
    let op = replica.record(id, OpPayload::RecordDestination(destination), today)?;
    outln!(
        "recorded intended destination ({}) for {} ({})",
        kind.label().to_lowercase(),
        id.short(),
        op.id
    );
    Ok(())
}

/// A destination kind by its name or a short form ("training" for a
/// traineeship, "employment" for employment without training).
fn destination_kind(
    typed: &str,
) -> Result<crate::domain::records::DestinationKind, crate::domain::DomainError> {
    use crate::domain::records::DestinationKind;
    match typed.trim().to_ascii_lowercase().as_str() {
        "traineeship" | "training" => Ok(DestinationKind::Traineeship),
        "employment" => Ok(DestinationKind::Employment),
        other => DestinationKind::parse(other),
    }
}

/// `follow-up-done`: closes the caseworker's own soonest open follow-up.
pub(super) fn follow_up_done(cx: &Ctx, person: String) -> Result<(), CliError> {
    let mut replica = cx.unlock()?;
    let today = today()?;
    let id = resolve(&replica, &person)?;
    let open = replica
        .person(id)?
        .map(|s| s.open_follow_ups())
        .unwrap_or_default();
    let me = replica.identity().worker.clone();
    let Some(mine) = open.iter().find(|f| f.owner == me) else {
        return Err(CliError::Usage(match open.first() {
            Some(theirs) => format!(
                "no open follow-up of yours for {}; {}'s stays open until they close it",
                id.short(),
                theirs.owner
            ),
            None => format!("no open follow-up for {}", id.short()),
        }));
    };
    let payload = OpPayload::CompleteFollowUp {
        follow_up: mine.source,
        on: today,
    };
    let op = replica.record(id, payload, today)?;
    outln!(
        "marked done your follow-up due {} for {} ({})",
        uk(mine.due),
        id.short(),
        op.id
    );
    Ok(())
}

/// `activity`: what the young person says they are doing.
/// `dates`: the start (default today) and the expected end, as typed.
pub(super) fn activity(
    cx: &Ctx,
    person: String,
    code: String,
    dates: [Option<String>; 2],
    provider: Option<String>,
) -> Result<(), CliError> {
    let mut replica = cx.unlock()?;
    let today = today()?;
    let id = resolve(&replica, &person)?;
    let [start, ends] = dates.map(|d| d.map(|d| parse_date(&d, today)).transpose());
    let mut activity = CurrentActivity::as_told(code.parse()?, start?.unwrap_or(today), today);
    activity.expected_end = ends?;
    activity.provider = provider.filter(|p| !p.trim().is_empty()).map(Into::into);
    let op = replica.set_fields(id, vec![FieldValue::CurrentActivity(activity)], today)?;
    outln!("recorded activity {code} for {} ({})", id.short(), op.id);
    Ok(())
}

/// `note`: adds a note to a record.
pub(super) fn note(cx: &Ctx, person: String, text: String) -> Result<(), CliError> {
    let mut replica = cx.unlock()?;
    let today = today()?;
    let id = resolve(&replica, &person)?;
    let note = crate::domain::records::Note { text };
    let op = replica.record(id, OpPayload::AddNote(note), today)?;
    outln!("recorded note {} for {}", op.id, id.short());
    Ok(())
}

/// `retract`: marks an entry of a record as entered in error.
pub(super) fn retract(
    cx: &Ctx,
    person: String,
    entry: String,
    reason: String,
) -> Result<(), CliError> {
    let mut replica = cx.unlock()?;
    let today = today()?;
    let id = resolve(&replica, &person)?;
    let state = replica
        .person(id)?
        .ok_or_else(|| StoreError::UnknownPerson(person.clone()))?;
    let given = entry.trim().to_ascii_lowercase().replace('-', "");
    if given.len() < 8 || !given.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(CliError::Usage(format!(
            "{:?} is not an entry id: give the id `caseload history` shows, or its first 8 or more characters",
            crate::domain::text::printable(&entry)
        )));
    }
    let found: Vec<_> = replica
        .ops_for(id)?
        .into_iter()
        .filter(|op| op.id.begins_with(&given))
        .filter(|op| state.has_entry(op.id))
        .collect();
    let target = match found.as_slice() {
        [op] => op.id,
        [] => {
            return Err(CliError::Usage(format!(
                "no entry {given} on {}'s record that can be corrected (a field such as the activity is corrected by setting it again)",
                id.short()
            )));
        }
        _ => {
            return Err(CliError::Usage(format!(
                "{given} matches several entries: give more of the id"
            )));
        }
    };
    let op = replica.record(id, OpPayload::Retract { target, reason }, today)?;
    outln!("corrected {target} on {} ({})", id.short(), op.id);
    Ok(())
}

/// `outbox`: the changes waiting to be sent.
pub(super) fn outbox(cx: &Ctx) -> Result<(), CliError> {
    let replica = cx.unlock()?;
    let ops = replica.outbox()?;
    for op in &ops {
        outln!(
            "{}  {:<20} {:<12} {}",
            fmt_hlc(op.at.millis),
            op.payload.kind(),
            op.author,
            op.person.short()
        );
    }
    errln!("{} changes waiting to sync", ops.len());
    Ok(())
}

/// `import cohort`: a cohort file into this store, all or nothing.
pub(super) fn import_cohort(cx: &Ctx, file: PathBuf, dry_run: bool) -> Result<(), CliError> {
    let today = today()?;
    let (checked, mut replica, matching) = checked_and_unlocked(cx, &file, today)?;
    import_checked(&mut replica, matching, checked, &file, today, dry_run).map(drop)
}

/// Reads a checked cohort file again into `target`, or for `--dry-run` only
/// works out what it would do, and prints which. The report, if written.
pub(super) fn import_checked(
    target: &mut impl crate::store::OpTarget,
    matching: crate::import::Matching,
    checked: crate::import::CohortFile,
    file: &Path,
    today: chrono::NaiveDate,
    dry_run: bool,
) -> Result<Option<crate::import::ImportReport>, CliError> {
    let rows = checked.read(today).map_err(|e| show_row_errors(file, e))?;
    if dry_run {
        let report = crate::import::plan_matching(target, matching, rows, today)
            .map_err(|e| show_row_errors(file, e))?;
        print_dry_run(&report);
        return Ok(None);
    }
    let report = crate::import::apply_matching(target, matching, rows, today)
        .map_err(|e| show_row_errors(file, e))?;
    print_import(&report);
    Ok(Some(report))
}

/// `report`: the statutory figures over this store.
pub(super) fn report(cx: &Ctx, report: ReportCommand) -> Result<(), CliError> {
    let replica = cx.unlock()?;
    super::report::run(replica.index().all(), &cx.config, report, &|id| {
        Ok(replica.ops_for(id)?)
    })
}

/// `history`: every change to one record, oldest first.
pub(super) fn history(cx: &Ctx, person: String) -> Result<(), CliError> {
    let replica = cx.unlock()?;
    let id = resolve(&replica, &person)?;
    let mut ops = replica.ops_for(id)?;
    ops.sort_by_key(|o| o.stamp());
    for op in ops {
        let when = fmt_hlc(op.at.millis);
        outln!(
            "{when}  {:<20} {:<12} {}",
            op.payload.kind(),
            op.author,
            op.id
        );
    }
    Ok(())
}

pub(super) fn resolve(replica: &Replica, given: &str) -> Result<PersonId, CliError> {
    resolve_in(replica.index().all(), given)
}

/// A person id, or a unique prefix of 8 or more hex digits, among `people`.
/// The fewest characters of an id that may name a young person (when only
/// one id starts with them); `people` shows eight.
const MIN_ID_PREFIX: usize = 4;

/// A young person named by their id, or by its first characters, on the
/// device and on the hub alike. A name is not an id: the answer says how to
/// search.
pub(super) fn resolve_in(people: Summaries<'_>, given: &str) -> Result<PersonId, CliError> {
    if let Ok(id) = given.parse::<PersonId>() {
        return Ok(id);
    }
    let prefix = given.trim().to_lowercase().replace('-', "");
    if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(CliError::Usage(format!(
            "{:?} is not an id (the first column of `caseload people`); to find someone by name: caseload people --search {:?}",
            crate::domain::text::printable(given),
            crate::domain::text::printable(given.trim()),
        )));
    }
    let found: Vec<PersonId> = people
        .iter()
        .filter(|s| s.id.begins_with(&prefix))
        .map(|s| s.id)
        .collect();
    match found.as_slice() {
        [one] if prefix.len() >= MIN_ID_PREFIX => Ok(*one),
        [] => Err(StoreError::UnknownPerson(given.to_string()).into()),
        _ => Err(CliError::Usage(format!(
            "{given:?} does not name exactly one young person; give {MIN_ID_PREFIX} or more characters of the id, enough to tell it from the others"
        ))),
    }
}

pub(super) fn fmt_hlc(millis: u64) -> String {
    crate::domain::dates::local_time(millis)
        .format("%d/%m/%Y %H:%M:%S")
        .to_string()
}

/// Reads and checks a cohort file on its own (before any store is opened:
/// a bad file is told without a passphrase), holding none of its rows.
/// The file checked and the store unlocked for an import. With the
/// passphrase at hand (file or environment) the check runs on one core while
/// the key is derived on the other (Argon2id uses one lane); with a prompt the
/// file is checked first, so nobody types a passphrase for a file that is
/// refused. The file's problems are reported before an unlocking error.
/// The store's people are keyed for matching as soon as it is open, while
/// the file may still be being checked.
fn checked_and_unlocked(
    cx: &Ctx,
    file: &Path,
    today: chrono::NaiveDate,
) -> Result<(crate::import::CohortFile, Replica, crate::import::Matching), CliError> {
    let opened = || -> Result<_, CliError> {
        let replica = cx.unlock_for_bulk_writes()?;
        let matching = crate::import::Matching::of(&replica);
        Ok((replica, matching))
    };
    if !super::passphrase::at_hand(cx.pass_file) {
        let checked = checked_file(file, today)?;
        let (replica, matching) = opened()?;
        return Ok((checked, replica, matching));
    }
    std::thread::scope(|scope| {
        let check = scope.spawn(|| checked_file(file, today));
        let unlocked = opened();
        let checked = check
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        let (replica, matching) = unlocked?;
        Ok((checked, replica, matching))
    })
}

pub(super) fn checked_file(
    file: &Path,
    today: chrono::NaiveDate,
) -> Result<crate::import::CohortFile, CliError> {
    crate::import::CohortFile::check(file, today).map_err(|e| show_row_errors(file, e))
}

/// The most problems printed one by one; the rest are counted.
const MAX_ROW_ERRORS_SHOWN: usize = 100;

/// Prints a refused file's problems (line, column, reason), at most
/// [`MAX_ROW_ERRORS_SHOWN`] of them, and passes the error on.
fn show_row_errors(file: &Path, e: crate::import::ImportError) -> CliError {
    if let crate::import::ImportError::Invalid(errors) = &e {
        for row in errors.iter().take(MAX_ROW_ERRORS_SHOWN) {
            errln!("{}: {}", file.display(), row);
        }
        if errors.len() > MAX_ROW_ERRORS_SHOWN {
            errln!(
                "{}: … and {} more problems",
                file.display(),
                errors.len() - MAX_ROW_ERRORS_SHOWN
            );
        }
    }
    e.into()
}

/// What an import would do, from the same checks as the import itself.
fn print_dry_run(r: &crate::import::ImportReport) {
    outln!(
        "{} rows checked: all valid; the import would make {} new young people, update {} ({} fields), leave {} unchanged (nothing written: --dry-run)",
        r.rows,
        r.new_people,
        r.updated_people,
        r.changed_fields,
        r.unchanged
    );
}

fn print_import(r: &crate::import::ImportReport) {
    outln!(
        "imported {} rows: {} new young people, {} updated ({} fields changed), {} unchanged",
        r.rows,
        r.new_people,
        r.updated_people,
        r.changed_fields,
        r.unchanged
    );
}
