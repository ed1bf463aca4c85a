//! One function per command.

use super::passphrase::{self, Secret};
use super::view;
use super::{Cli, CliError, Command, today};
use crate::config::Config;
use crate::demo::{self, DemoCohort, DemoSpec};
use crate::domain::dates::parse_date;
use crate::domain::{
    CaseSummary, Channel, ContactAttempt, CurrentActivity, FieldValue, OpPayload, Outcome,
    PersonId, WorkerId,
};
use crate::replica::Replica;
use crate::store::crypto::KdfParams;
use crate::store::encrypted::LockedStore;
use crate::store::{EncryptedStore, Origin, StoreError};
use std::path::Path;

pub fn run(cli: Cli) -> Result<(), CliError> {
    let config = Config::load(cli.config.as_deref())?;
    let store_dir = |demo: bool| {
        cli.store.clone().unwrap_or_else(|| {
            if demo {
                super::default_demo_dir()
            } else {
                super::default_store_dir()
            }
        })
    };
    let pass_file = cli.passphrase_file.as_deref();
    match cli.command {
        None => {
            let pass = passphrase::given(pass_file).map_err(CliError::Usage)?;
            open_workbench(&store_dir(false), pass, config)
        }
        Some(Command::Init { worker }) => init(&store_dir(false), pass_file, worker),
        Some(Command::Demo {
            people,
            seed,
            no_open,
        }) => {
            let dir = store_dir(true);
            let pass = demo_store(&dir, people, seed, pass_file)?;
            if no_open {
                Ok(())
            } else {
                open_workbench(&dir, Some(pass), config)
            }
        }
        Some(Command::Passwd {
            new_passphrase_file,
        }) => passwd(&store_dir(false), pass_file, new_passphrase_file.as_deref()),
        Some(Command::Doctor { json }) => doctor(&store_dir(false), pass_file, json),
        Some(Command::Recover) => recover(&store_dir(false), pass_file),
        Some(Command::People { search, json }) => {
            let replica = unlock(&store_dir(false), pass_file)?;
            let today = today()?;
            let index = replica.index();
            let mut found: Vec<&CaseSummary> = match &search {
                Some(q) => index.search(q),
                None => index.all().iter().collect(),
            };
            found.sort_by_key(|s| s.name.sort_key());
            if json {
                super::output::json(&found).map_err(|e| CliError::Usage(e.to_string()))?;
            } else {
                for s in &found {
                    outln!("{}", view::summary_line(s, today));
                }
                errln!("{} of {} young people", found.len(), index.len());
            }
            Ok(())
        }
        Some(Command::Show { person, json }) => {
            let replica = unlock(&store_dir(false), pass_file)?;
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
                out!("{}", view::person_text(&state, &p, today()?, &config));
            }
            Ok(())
        }
        Some(Command::Contact {
            person,
            channel,
            outcome,
            note,
            follow_up,
        }) => {
            let mut replica = unlock(&store_dir(false), pass_file)?;
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
            let op = replica.record(id, OpPayload::LogContact(attempt), today)?;
            outln!("recorded contact attempt {} for {}", op.id, id.short());
            Ok(())
        }
        Some(Command::Activity {
            person,
            code,
            start,
        }) => {
            let mut replica = unlock(&store_dir(false), pass_file)?;
            let today = today()?;
            let id = resolve(&replica, &person)?;
            let start = start.map(|s| parse_date(&s, today)).transpose()?;
            let activity = CurrentActivity::as_told(code.parse()?, start.unwrap_or(today), today);
            let op = replica.set_fields(id, vec![FieldValue::CurrentActivity(activity)], today)?;
            outln!("recorded activity {code} for {} ({})", id.short(), op.id);
            Ok(())
        }
        Some(Command::Outbox) => {
            let replica = unlock(&store_dir(false), pass_file)?;
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
        Some(Command::Import(super::ImportCommand::Cohort { file, dry_run })) => {
            let today = today()?;
            let rows = checked_rows(&file, today)?;
            let mut replica = unlock(&store_dir(false), pass_file)?;
            if dry_run {
                let (report, _) = crate::import::plan(&mut replica, &rows, today)
                    .map_err(|e| show_row_errors(&file, e))?;
                print_dry_run(&report);
                return Ok(());
            }
            print_import(
                &crate::import::apply(&mut replica, &rows, today)
                    .map_err(|e| show_row_errors(&file, e))?,
            );
            Ok(())
        }
        Some(Command::Hub(super::HubCommand::Import {
            data,
            admin,
            import: super::ImportCommand::Cohort { file, dry_run },
        })) => {
            let today = today()?;
            let rows = checked_rows(&file, today)?;
            let hub = open_hub(&data)?;
            match hub.user(&admin)? {
                Some(u) if u.role == crate::hub::Role::Admin && !u.revoked => {}
                _ => {
                    return Err(CliError::Usage(format!(
                        "{admin} is not an active hub admin"
                    )));
                }
            }
            let mut target = crate::hub::writer::HubWriter::new(
                hub.as_ref(),
                WorkerId::new(admin.clone()),
                super::clock()?,
            )?;
            if dry_run {
                let (report, _) = crate::import::plan(&mut target, &rows, today)
                    .map_err(|e| show_row_errors(&file, e))?;
                print_dry_run(&report);
                return Ok(());
            }
            let report = crate::import::apply(&mut target, &rows, today)
                .map_err(|e| show_row_errors(&file, e))?;
            admin_event(
                &data,
                "import",
                &format!(
                    "{} rows: {} new, {} updated (by {admin})",
                    report.rows, report.new_people, report.updated_people
                ),
            );
            print_import(&report);
            Ok(())
        }
        Some(Command::Hub(super::HubCommand::Assign {
            people,
            to,
            data,
            admin,
        })) => {
            use crate::domain::FieldValue;
            use crate::domain::ops::FieldSet;
            let hub = open_hub(&data)?;
            require_admin(hub.as_ref(), &admin)?;
            match hub.user(&to)? {
                Some(u) if u.role == crate::hub::Role::Officer && !u.revoked => {}
                _ => {
                    return Err(CliError::Usage(format!(
                        "{to} is not an active officer on this hub"
                    )));
                }
            }
            let summaries = hub.summaries()?;
            let mut writer = crate::hub::writer::HubWriter::new(
                hub.as_ref(),
                WorkerId::new(admin.clone()),
                super::clock()?,
            )?;
            let mut ops = Vec::new();
            for given in &people {
                let id = resolve_in(&summaries, given)?;
                let state = hub
                    .person(id)?
                    .ok_or_else(|| StoreError::UnknownPerson(given.clone()))?;
                let mut workers = state
                    .young_person()
                    .map(|p| p.assigned_workers)
                    .unwrap_or_default();
                if !workers.insert(WorkerId::new(to.clone())) {
                    continue;
                }
                let supersedes = state
                    .register(crate::domain::ops::FieldKey::AssignedWorkers)
                    .map(|r| r.heads())
                    .unwrap_or_default();
                use crate::store::OpTarget;
                ops.push(writer.new_op(
                    id,
                    OpPayload::SetFields(vec![FieldSet {
                        value: FieldValue::AssignedWorkers(workers),
                        supersedes,
                    }]),
                ));
            }
            use crate::store::OpTarget;
            writer.commit(&ops)?;
            admin_event(
                &data,
                "assign",
                &format!("{} young people to {to} (by {admin})", ops.len()),
            );
            outln!(
                "assigned {} young people to {to} ({} already were)",
                ops.len(),
                people.len() - ops.len()
            );
            Ok(())
        }
        Some(Command::Hub(super::HubCommand::List(super::HubListCommand::Create {
            name,
            filter,
            trackers,
            data,
        }))) => {
            let filter = crate::report::PeopleFilter::parse(&filter).map_err(CliError::Usage)?;
            let hub = open_hub(&data)?;
            for t in &trackers {
                match hub.user(t)? {
                    Some(u) if u.role == crate::hub::Role::Tracker && !u.revoked => {}
                    _ => {
                        return Err(CliError::Usage(format!(
                            "{t} is not an active tracker on this hub"
                        )));
                    }
                }
            }
            if hub.lists()?.iter().any(|l| l.name == name) {
                return Err(CliError::Usage(format!(
                    "a list called {name:?} already exists"
                )));
            }
            let today = today()?;
            let members = hub
                .summaries()?
                .iter()
                .filter(|s| filter.keeps(s, today, &config.currency))
                .map(|s| s.id)
                .collect::<std::collections::BTreeSet<_>>();
            let count = members.len();
            hub.put_list(&crate::hub::TrackingList {
                name: name.clone(),
                trackers: trackers.into_iter().collect(),
                members,
            })?;
            admin_event(
                &data,
                "list create",
                &format!("{name} ({count} young people)"),
            );
            outln!("list {name:?}: {count} young people");
            Ok(())
        }
        Some(Command::Hub(super::HubCommand::List(super::HubListCommand::Show { data }))) => {
            let hub = open_hub(&data)?;
            for l in hub.lists()? {
                outln!(
                    "{:<40} {:>6} people  trackers: {}",
                    l.name,
                    l.members.len(),
                    l.trackers.iter().cloned().collect::<Vec<_>>().join(", ")
                );
            }
            Ok(())
        }
        Some(Command::Hub(super::HubCommand::Report { data, report })) => {
            let hub = open_hub(&data)?;
            super::report::run(&hub.summaries()?, &config, report)
        }
        Some(Command::Hub(super::HubCommand::User(command))) => hub_user(command),
        Some(Command::Hub(super::HubCommand::Audit {
            data,
            event,
            since,
            json,
        })) => hub_audit(&data, event.as_deref(), since.as_deref(), json),
        Some(Command::Hub(super::HubCommand::Serve {
            data,
            listen,
            key_file,
            tls_cert,
            tls_key,
            max_clock_skew_secs,
            max_connections,
            max_connections_per_client,
            pull_page_bytes,
            min_free_mb,
        })) => {
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => {
                    Some(crate::hub::tls::server_config(&cert, &key).map_err(CliError::Usage)?)
                }
                _ if !listen.ip().is_loopback() => {
                    return Err(CliError::Usage(format!(
                        "refusing to serve plain HTTP on {listen}: only loopback addresses (127.0.0.1, [::1]) may go without TLS; give --tls-cert and --tls-key"
                    )));
                }
                _ => None,
            };
            let store = crate::hub::SledHubStore::open(&data, key_file.as_deref()).map_err(
                |e| match e {
                    StoreError::OpenElsewhere(_) => CliError::Usage(format!(
                        "the hub's data at {} is in use by another process",
                        data.display()
                    )),
                    other => other.into(),
                },
            )?;
            store.set_min_free_bytes(min_free_mb.saturating_mul(1024 * 1024));
            let hub = crate::hub::server::Hub {
                store,
                max_clock_skew_millis: max_clock_skew_secs * 1000,
                clock: super::clock()?,
                pull_page_bytes: pull_page_bytes.max(1),
                guard: crate::hub::server::Guard {
                    log: std::sync::Arc::new(crate::hub::audit::SecurityLog::open(&data).map_err(
                        |e| {
                            CliError::Io(format!(
                                "cannot open the security log in {}: {e}",
                                data.display()
                            ))
                        },
                    )?),
                    limiter: Default::default(),
                },
            };
            let limits = crate::hub::conn::Limits {
                max_connections,
                per_client: max_connections_per_client,
            };
            crate::hub::server::serve(hub, listen, tls, limits, &data)
                .map_err(|e| CliError::Io(format!("cannot serve on {listen}: {e}")))
        }
        Some(Command::Login {
            url,
            token_file,
            ca_cert,
        }) => {
            let ca_pem = ca_cert
                .map(|f| {
                    std::fs::read_to_string(&f)
                        .map_err(|e| CliError::Io(format!("cannot read {}: {e}", f.display())))
                })
                .transpose()?;
            let mut replica = unlock(&store_dir(false), pass_file)?;
            let token = match token_file {
                Some(f) => std::fs::read_to_string(&f)
                    .map_err(|e| CliError::Io(format!("cannot read {}: {e}", f.display())))?,
                None => passphrase::prompt_token().map_err(CliError::Usage)?,
            };
            let link = crate::link::login(&mut replica, &url, token.trim(), ca_pem)?;
            outln!(
                "logged in to {} as {} ({})",
                link.url,
                link.user,
                link.role.name()
            );
            Ok(())
        }
        Some(Command::Sync { status }) => {
            let mut replica = unlock(&store_dir(false), pass_file)?;
            if status {
                let waiting = replica.outbox()?.len();
                match crate::link::link(&replica)? {
                    None => outln!("not logged in to a hub; {waiting} changes waiting"),
                    Some(l) => outln!(
                        "hub {} as {}; last sync {}; {waiting} changes waiting to be sent",
                        l.url,
                        l.user,
                        l.last_sync_millis.map_or("never".to_string(), fmt_hlc)
                    ),
                }
                return Ok(());
            }
            let r = crate::link::sync(&mut replica)?;
            if r.restored {
                outln!(
                    "this store is older than what it last synced (restored from a backup?): the hub sent everything you may see again"
                );
            }
            outln!(
                "synced: {} sent, {} received, {} no longer in your caseload",
                r.pushed,
                r.pulled,
                r.removed
            );
            Ok(())
        }
        Some(Command::Report(report)) => {
            let replica = unlock(&store_dir(false), pass_file)?;
            super::report::run(replica.index().all(), &config, report)
        }
        Some(Command::History { person }) => {
            let replica = unlock(&store_dir(false), pass_file)?;
            let id = resolve(&replica, &person)?;
            let mut ops = replica.ops_for(id)?;
            ops.sort_by_key(|o| o.stamp());
            for op in ops {
                let when = chrono::DateTime::from_timestamp_millis(op.at.millis as i64)
                    .map(|t| t.format("%d/%m/%Y %H:%M:%S").to_string())
                    .unwrap_or_default();
                outln!(
                    "{when}  {:<20} {:<12} {}",
                    op.payload.kind(),
                    op.author,
                    op.id
                );
            }
            Ok(())
        }
    }
}

fn fmt_hlc(millis: u64) -> String {
    chrono::DateTime::from_timestamp_millis(millis as i64)
        .map(|t| t.format("%d/%m/%Y %H:%M:%S").to_string())
        .unwrap_or_default()
}

fn require_admin(hub: &dyn crate::hub::HubStore, admin: &str) -> Result<(), CliError> {
    match hub.user(admin)? {
        Some(u) if u.role == crate::hub::Role::Admin && !u.revoked => Ok(()),
        _ => Err(CliError::Usage(format!(
            "{admin} is not an active hub admin"
        ))),
    }
}

/// A person id, or a unique prefix of 8 or more hex digits, among `people`.
/// The fewest characters of an id that may name a young person (when only
/// one id starts with them); `people` shows eight.
const MIN_ID_PREFIX: usize = 4;

/// A young person named by their id, or by its first characters, on the
/// device and on the hub alike. A name is not an id: the answer says how to
/// search.
fn resolve_in(people: &[CaseSummary], given: &str) -> Result<PersonId, CliError> {
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
        .filter(|s| s.id.0.simple().to_string().starts_with(&prefix))
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

/// Reads and checks a cohort file (before any store is opened: a bad file
/// is told without a passphrase).
fn checked_rows(
    file: &Path,
    today: chrono::NaiveDate,
) -> Result<Vec<crate::import::CohortRow>, CliError> {
    let reader = std::fs::File::open(file)
        .map_err(|e| CliError::Io(format!("cannot read {}: {e}", file.display())))?;
    crate::import::parse(std::io::BufReader::new(reader), today)
        .map_err(|e| show_row_errors(file, e))
}

/// Prints the hub's security log, filtered.
fn hub_audit(
    data: &Path,
    event: Option<&str>,
    since: Option<&str>,
    json: bool,
) -> Result<(), CliError> {
    if let Some(s) = since {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| CliError::Usage(format!("--since {s:?} is not YYYY-MM-DD")))?;
    }
    let (entries, skipped) = crate::hub::audit::read(data).map_err(|e| {
        CliError::Io(format!(
            "cannot read {}: {e}",
            crate::hub::audit::SecurityLog::path(data).display()
        ))
    })?;
    let mut shown = 0;
    for e in entries
        .iter()
        .filter(|e| event.is_none_or(|k| e.event.name() == k))
        .filter(|e| since.is_none_or(|d| e.at.as_str() >= d))
    {
        shown += 1;
        if json {
            super::output::json_line(e).map_err(|e| CliError::Usage(e.to_string()))?;
        } else {
            let detail = serde_json::to_value(&e.event)
                .ok()
                .and_then(|v| v.as_object().cloned())
                .map(|o| {
                    o.iter()
                        .filter(|(k, _)| k.as_str() != "event")
                        .map(|(k, v)| match v.as_str() {
                            Some(s) => format!("{k}={s}"),
                            None => format!("{k}={v}"),
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            outln!("{} {:<18} {detail}", e.at, e.event.name());
        }
    }
    errln!("{shown} events");
    if skipped > 0 {
        errln!("{skipped} lines of the log could not be read");
    }
    Ok(())
}

/// `caseload recover`: salvages what can be read into a fresh store, keeps
/// the damaged one beside it, and makes the next sync fetch everything again.
fn recover(dir: &Path, pass_file: Option<&Path>) -> Result<(), CliError> {
    use crate::store::CaseStore;
    use crate::store::encrypted::EncryptedStore;
    let locked = LockedStore::open(dir)?;
    let fresh_dir = sibling(dir, "recovering");
    if finish_interrupted_recovery(dir, &fresh_dir)? {
        return Ok(());
    }
    let pass =
        passphrase::existing(pass_file, &dir.display().to_string()).map_err(CliError::Usage)?;
    let damaged = locked.unlock_for_salvage(pass.as_bytes()).map_err(|e| match e {
        StoreError::Database(why) => CliError::Usage(format!(
            "nothing in {} can be read ({why}). Keep the directory for your IT team, make a new store with `caseload init` and log in again: the hub holds everything that was synced",
            dir.display()
        )),
        other => other.into(),
    })?;
    let salvage = damaged.salvage();
    drop(damaged);
    let identity = salvage.meta.iter().any(|(n, _)| n == "identity");
    if !identity {
        return Err(CliError::Usage(
            "the store's identity (worker and device) cannot be read, so nothing was recovered: make a new store with `caseload init` and log in again; the hub holds everything that was synced".into(),
        ));
    }
    // Marked as a store being built until it has taken the damaged one's place.
    crate::store::files::create_private_dir(&fresh_dir)?;
    std::fs::write(fresh_dir.join(BEING_RECOVERED), b"")
        .map_err(|e| CliError::Io(format!("cannot write in {}: {e}", fresh_dir.display())))?;
    let fresh = EncryptedStore::create(&fresh_dir, pass.as_bytes(), locked.kdf())?;
    for (name, plain) in &salvage.meta {
        // The clock and counts are rebuilt by the commits below; the pull's
        // progress starts again so that the hub sends everything.
        if matches!(name.as_str(), "identity" | "hub") {
            fresh.put_meta_plain(name, plain)?;
        }
    }
    fresh.commit(&salvage.synced, Origin::Remote)?;
    fresh.commit(&salvage.outbox, Origin::Local)?;
    let linked = {
        let replica = Replica::open(fresh)?;
        crate::link::start_over(&replica)?
    };
    // One atomic swap: killed at any moment, `dir` holds the damaged store or
    // the whole fresh one, never neither (see `finish_interrupted_recovery`).
    crate::store::files::exchange(dir, &fresh_dir)?;
    let kept = keep_damaged(dir, &fresh_dir)?;
    outln!(
        "recovered {} changes ({} of them waiting to be sent) into a fresh store at {}",
        salvage.synced.len() + salvage.outbox.len(),
        salvage.outbox.len(),
        dir.display()
    );
    outln!(
        "could not be read: {} changes, {} waiting changes, {} settings{}",
        salvage.lost_ops,
        salvage.lost_outbox,
        salvage.lost_meta.len(),
        if salvage.lost_meta.is_empty() {
            String::new()
        } else {
            format!(" ({})", salvage.lost_meta.join(", "))
        }
    );
    outln!("the damaged store is kept at {}", kept.display());
    if linked {
        outln!("next: `caseload sync` fetches everything this device may see from the hub again");
    } else {
        outln!("this store is not linked to a hub: what could not be read is lost");
    }
    Ok(())
}

/// Inside a store being built by `recover`, until it is swapped into place.
const BEING_RECOVERED: &str = "being-recovered";

/// After the swap: the damaged store (now at `fresh_dir`) is renamed to be
/// kept, and the fresh one (at `dir`) loses its mark. Returns where the
/// damaged store is kept.
fn keep_damaged(dir: &Path, fresh_dir: &Path) -> Result<std::path::PathBuf, CliError> {
    let stamp = super::clock()?.now().format("%Y%m%dT%H%M%S").to_string();
    let kept = (1..)
        .map(|n| match n {
            1 => sibling(dir, &format!("damaged-{stamp}")),
            n => sibling(dir, &format!("damaged-{stamp}-{n}")),
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| sibling(dir, "damaged"));
    crate::store::files::rename_durably(fresh_dir, &kept)?;
    keep_damaged_done(dir)?;
    Ok(kept)
}

/// The fresh store in place loses its "being built" mark: last of all.
fn keep_damaged_done(dir: &Path) -> Result<(), CliError> {
    match std::fs::remove_file(dir.join(BEING_RECOVERED)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CliError::Io(format!("cannot tidy {}: {e}", dir.display()))),
    }
}

/// Tidies what an earlier `recover`, killed part-way, left; true if that
/// recovery had already put the fresh store in place (and is now finished).
/// - The store itself marked as being built: the swap happened, the tidying
///   did not. The damaged store (`STORE.recovering`, if still there) is kept.
/// - Otherwise `STORE.recovering` is an unfinished fresh store (the damaged one
///   is still in place): it is removed, and recovery starts over.
fn finish_interrupted_recovery(dir: &Path, fresh_dir: &Path) -> Result<bool, CliError> {
    if dir.join(BEING_RECOVERED).exists() {
        let said = if fresh_dir.exists() {
            let kept = keep_damaged(dir, fresh_dir)?;
            format!("the damaged store is kept at {}", kept.display())
        } else {
            keep_damaged_done(dir)?;
            "the damaged store was already set aside".to_string()
        };
        outln!(
            "an earlier `caseload recover` was stopped after the fresh store was in place: it is finished now, and {said}"
        );
        return Ok(true);
    }
    if fresh_dir.exists() {
        std::fs::remove_dir_all(fresh_dir)
            .map_err(|e| CliError::Io(format!("cannot remove {}: {e}", fresh_dir.display())))?;
    }
    Ok(false)
}

/// `dir` with a suffix, beside it: `…/store` → `…/store.recovering`.
fn sibling(dir: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    dir.with_file_name(name)
}

/// Records an admin command in the hub's security log: who ran it (the OS
/// account), what, and on whom (staff names and counts only).
fn admin_event(data: &Path, action: &str, subject: &str) {
    let by = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| format!("uid {}", own_uid()));
    if let Ok(log) = crate::hub::audit::SecurityLog::open(data) {
        log.record(crate::hub::audit::Event::Admin {
            by,
            action: action.to_string(),
            subject: subject.to_string(),
        });
    }
}

/// The real user id, for the log when the environment names no user.
fn own_uid() -> u32 {
    // SAFETY: getuid has no arguments and cannot fail.
    unsafe { libc::getuid() }
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

/// The hub's store: opened directly when the hub is stopped, or reached
/// through the running hub's admin socket.
fn open_hub(dir: &Path) -> Result<Box<dyn crate::hub::HubStore>, CliError> {
    match crate::hub::SledHubStore::open(dir, None) {
        Ok(store) => Ok(Box::new(store)),
        Err(StoreError::OpenElsewhere(_)) => {
            match crate::hub::admin::RemoteHubStore::connect(dir) {
                Some(remote) => Ok(Box::new(remote)),
                None => Err(CliError::Usage(format!(
                    "the hub's data at {} is in use by another process, and no running hub answers on {}",
                    dir.display(),
                    dir.join(crate::hub::admin::SOCKET_FILE).display()
                ))),
            }
        }
        Err(other) => Err(other.into()),
    }
}

fn hub_user(command: super::HubUserCommand) -> Result<(), CliError> {
    use crate::hub::store::{Credential, CredentialKind};
    use crate::hub::{Role, User, users};
    match command {
        super::HubUserCommand::Add {
            name,
            role,
            district,
            data,
        } => {
            User::check_name(&name).map_err(CliError::Usage)?;
            let role = Role::parse(&role).map_err(CliError::Usage)?;
            let district = district
                .map(|d| crate::domain::District::parse(&d))
                .transpose()?;
            if role == Role::Manager && district.is_none() {
                return Err(CliError::Usage("a manager needs --district".into()));
            }
            let hub = open_hub(&data)?;
            if hub.user(&name)?.is_some() {
                return Err(CliError::Usage(format!(
                    "a user called {name} already exists"
                )));
            }
            let token = users::new_token().map_err(StoreError::from)?;
            hub.put_user(&User {
                name: name.clone(),
                role,
                district,
                revoked: false,
                created_millis: super::clock()?.now_millis(),
            })?;
            hub.put_credential(
                users::token_hash(&token),
                &Credential {
                    user: name.clone(),
                    kind: CredentialKind::Enrolment,
                },
            )?;
            admin_event(&data, &format!("user add ({})", role.name()), &name);
            outln!(
                "added {name} ({}); give them this one-time enrolment token for `caseload login`:",
                role.name()
            );
            outln!("{token}");
            Ok(())
        }
        super::HubUserCommand::List { data } => {
            let hub = open_hub(&data)?;
            for u in hub.users()? {
                outln!(
                    "{:<24} {:<8} {:<22} {}",
                    u.name,
                    u.role.name(),
                    u.district.map_or("", |d| d.label()),
                    if u.revoked { "revoked" } else { "active" }
                );
            }
            Ok(())
        }
        super::HubUserCommand::Revoke { name, data } => {
            let hub = open_hub(&data)?;
            let mut user = hub
                .user(&name)?
                .ok_or_else(|| CliError::Usage(format!("no hub user called {name}")))?;
            user.revoked = true;
            hub.put_user(&user)?;
            admin_event(&data, "user revoke", &name);
            outln!("revoked {name}: their tokens no longer work");
            Ok(())
        }
    }
}

fn unlock(dir: &Path, pass_file: Option<&Path>) -> Result<Replica, CliError> {
    // Lock and header first: a missing store or a second opener is reported
    // before anyone types a passphrase.
    let locked = LockedStore::open(dir)?;
    let pass =
        passphrase::existing(pass_file, &dir.display().to_string()).map_err(CliError::Usage)?;
    let store = locked.unlock_with_passphrase(pass.as_bytes())?;
    let mut replica = Replica::open(store)?;
    replica.set_clock(super::clock()?);
    for d in replica.damaged() {
        errln!(
            "caseload: warning: {} record {} is damaged ({}); the rest opened normally",
            d.tree,
            d.record,
            d.reason
        );
    }
    Ok(replica)
}

fn resolve(replica: &Replica, given: &str) -> Result<PersonId, CliError> {
    resolve_in(replica.index().all(), given)
}

fn init(dir: &Path, pass_file: Option<&Path>, worker: Option<String>) -> Result<(), CliError> {
    let worker = worker
        .or_else(|| std::env::var("USER").ok())
        .filter(|w| !w.trim().is_empty())
        .ok_or_else(|| CliError::Usage("give your login name with --worker".into()))?;
    if dir.join(crate::store::files::HEADER_FILE).exists() {
        return Err(StoreError::AlreadyExists(dir.to_path_buf()).into());
    }
    let pass = passphrase::new(pass_file, passphrase::ENV).map_err(CliError::Usage)?;
    Replica::init(
        dir,
        pass.as_bytes(),
        WorkerId::new(worker),
        KdfParams::DEFAULT,
    )?;
    outln!("created an encrypted store at {}", dir.display());
    Ok(())
}

/// Creates the demo store if it is not there; returns its passphrase.
fn demo_store(
    dir: &Path,
    people: usize,
    seed: u64,
    pass_file: Option<&Path>,
) -> Result<Secret, CliError> {
    if people == 0 || people > demo::MAX_PEOPLE {
        return Err(CliError::Usage(format!(
            "--people must be from 1 to {}",
            demo::MAX_PEOPLE
        )));
    }
    let today = today()?;
    let pass: Secret = passphrase::given(pass_file)
        .map_err(CliError::Usage)?
        .unwrap_or_else(|| demo::DEMO_PASSPHRASE.to_string().into());
    if dir.join(crate::store::files::HEADER_FILE).exists() {
        outln!("the demo store already exists at {}", dir.display());
        return Ok(pass);
    }
    let mut replica = Replica::init(
        dir,
        pass.as_bytes(),
        WorkerId::new(demo::DEMO_WORKER),
        KdfParams::DEFAULT,
    )?;
    replica.set_clock(super::clock()?);
    let mut batch = Vec::new();
    for (n, person_ops) in DemoCohort::new(DemoSpec {
        people,
        seed,
        today,
    })
    .enumerate()
    {
        batch.extend(person_ops);
        if n % 500 == 499 {
            // Demo data arrives as if from the hub: it is not queued for pushing.
            replica.commit(&batch, Origin::Remote)?;
            batch.clear();
        }
    }
    replica.commit(&batch, Origin::Remote)?;
    outln!(
        "created a demo store of {} synthetic young people at {}",
        replica.index().len(),
        dir.display()
    );
    if pass.as_str() == demo::DEMO_PASSPHRASE {
        outln!(
            "demo-only passphrase (synthetic data, never use it for a real store): {}",
            demo::DEMO_PASSPHRASE
        );
    }
    Ok(pass)
}

/// Opens the full-screen workbench on `dir`: unlocking with `pass` if given,
/// else asking on the lock screen; offering to create a store if there is none.
fn open_workbench(dir: &Path, pass: Option<Secret>, config: Config) -> Result<(), CliError> {
    use crate::tui::app::{App, Session};
    use crate::tui::keymap::Keymap;
    use crate::tui::theme::Theme;
    let clock = super::clock()?;
    let (keymap, problems) = Keymap::load(&config.ui.keymap, config.ui.keymap_overrides.as_deref());
    let theme = Theme::from_env(config.ui.theme);
    let mut log = crate::logfile::Log::open(crate::logfile::default_path().as_deref());
    for p in &problems {
        log.event(&format!("keymap problem: {p}"));
    }
    let session = if dir.join(crate::store::files::HEADER_FILE).exists() {
        Session::Locked {
            store: LockedStore::open(dir)?,
            input: Default::default(),
            error: None,
        }
    } else {
        Session::Create {
            dir: dir.to_path_buf(),
            first: Default::default(),
            second: Default::default(),
            on_second: false,
            error: None,
        }
    };
    let mut app = App::new(session, config, keymap, theme, clock, log);
    app.startup_problems = problems
        .iter()
        .map(|p| format!("{p} (using the default keymap)"))
        .collect();
    if let Some(p) = pass {
        app.unlock_with(&p);
    }
    crate::tui::run(&mut app).map_err(|e| CliError::Usage(e.to_string()))
}

fn passwd(dir: &Path, pass_file: Option<&Path>, new_file: Option<&Path>) -> Result<(), CliError> {
    let locked = LockedStore::open(dir)?;
    let old =
        passphrase::existing(pass_file, &dir.display().to_string()).map_err(CliError::Usage)?;
    let mut store: EncryptedStore = locked.unlock_with_passphrase(old.as_bytes())?;
    let new = passphrase::new(new_file, passphrase::ENV_NEW).map_err(CliError::Usage)?;
    store.change_passphrase(new.as_bytes())?;
    outln!("passphrase changed for {}", dir.display());
    Ok(())
}

fn doctor(dir: &Path, pass_file: Option<&Path>, json: bool) -> Result<(), CliError> {
    let locked = LockedStore::open(dir)?;
    let pass =
        passphrase::existing(pass_file, &dir.display().to_string()).map_err(CliError::Usage)?;
    let store = locked.unlock_with_passphrase(pass.as_bytes())?;
    let report = store.doctor()?;
    if json {
        super::output::json(&report).map_err(|e| CliError::Usage(e.to_string()))?;
    } else {
        outln!(
            "checked {} people, {} ops, {} waiting to sync",
            report.people,
            report.ops,
            report.outbox
        );
        for d in &report.damaged {
            outln!("damaged: {} record {}: {}", d.tree, d.record, d.reason);
        }
        for id in &report.state_mismatch {
            outln!("mismatch: stored state of {id} differs from the fold of its ops");
        }
        for id in &report.summary_mismatch {
            outln!("mismatch: stored summary of {id} differs from its state");
        }
        if report.orphan_ops > 0 {
            outln!("{} ops belong to no stored person", report.orphan_ops);
        }
        if let Some((saved, found)) = report.rolled_back {
            outln!(
                "rolled back: {saved} changes were saved but {found} are here (records were put back to an older copy, or lost); sync to fetch them from the hub again"
            );
        }
        for p in &report.permissions_fixed {
            outln!("tightened permissions of {}", p.display());
        }
        if report.is_healthy() {
            outln!("store is healthy");
        }
    }
    if report.is_healthy() {
        Ok(())
    } else {
        Err(CliError::Unhealthy)
    }
}
