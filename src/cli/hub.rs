//! `caseload hub …`: the hub's own commands, run on its data directory
//! (directly, or through a running hub's admin socket).

use super::commands::Ctx;
use super::records::{checked_file, import_checked, resolve_in};
use super::{CliError, HubCommand, HubListCommand, ImportCommand, ServeArgs, today};
use crate::domain::{OpPayload, WorkerId};
use crate::store::StoreError;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Runs one hub command.
pub(super) fn run(cx: &Ctx, command: HubCommand) -> Result<(), CliError> {
    match command {
        HubCommand::Import {
            data,
            admin,
            import: ImportCommand::Cohort { file, dry_run },
        } => import_cohort(data, admin, file, dry_run),
        HubCommand::Assign {
            people,
            to,
            only,
            data,
            admin,
        } => {
            let change = if only {
                Assignment::MoveTo(to)
            } else {
                Assignment::Add(to)
            };
            assign(people, change, data, admin)
        }
        HubCommand::Unassign {
            people,
            from,
            data,
            admin,
        } => assign(people, Assignment::Remove(from), data, admin),
        HubCommand::List(HubListCommand::Create {
            name,
            filter,
            trackers,
            data,
        }) => list_create(cx, name, filter, trackers, data),
        HubCommand::List(HubListCommand::Show { data }) => list_show(data),
        HubCommand::Report { data, report } => {
            let hub = open_hub(&data)?;
            super::report::run((&hub.summaries()?).into(), &cx.config, report, &|id| {
                Ok(hub.history(id)?.into_iter().map(|r| r.op).collect())
            })
        }
        HubCommand::User(command) => hub_user(command),
        HubCommand::Audit {
            data,
            event,
            since,
            json,
        } => hub_audit(&data, event.as_deref(), since.as_deref(), json),
        HubCommand::Serve(args) => serve(args),
    }
}

/// `hub import cohort`: a whole council's cohort, all or nothing.
///
/// The file is checked on a thread of its own while the hub is opened and
/// its people read and keyed for matching: on two cores the two took about
/// as long as each other, one after the other. A bad file is reported
/// before a hub that cannot be opened, as when the check came first.
fn import_cohort(
    data: PathBuf,
    admin: String,
    file: PathBuf,
    dry_run: bool,
) -> Result<(), CliError> {
    let today = today()?;
    std::thread::scope(|scope| {
        let check = scope.spawn(|| checked_file(&file, today));
        let check_done = |check: std::thread::ScopedJoinHandle<'_, _>| {
            check
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        };
        let hub = match open_hub(&data) {
            Ok(hub) => hub,
            Err(e) => {
                check_done(check)?;
                return Err(e);
            }
        };
        let prepared = writer_for_import(hub.as_ref(), &data, &admin);
        let checked = check_done(check)?;
        let (mut target, matching) = prepared?;
        let written = import_checked(&mut target, matching, checked, &file, today, dry_run)?;
        if let Some(report) = written {
            admin_event(
                &data,
                "import",
                &format!(
                    "{} rows: {} new, {} updated (by {admin})",
                    report.rows, report.new_people, report.updated_people
                ),
            );
        }
        Ok(())
    })
}

/// What imports into the hub for `admin`, if an admin, and the hub's people
/// keyed for matching.
fn writer_for_import<'a>(
    hub: &'a dyn crate::hub::HubStore,
    data: &Path,
    admin: &str,
) -> Result<(crate::hub::writer::HubWriter<'a>, crate::import::Matching), CliError> {
    require_role(hub, admin, crate::hub::Role::Admin)?;
    let target = crate::hub::writer::HubWriter::new(
        hub,
        data,
        WorkerId::new(admin.to_string()),
        super::clock()?,
    )?;
    let matching = crate::import::Matching::of(&target);
    Ok((target, matching))
}

/// A change to who young people are assigned to.
enum Assignment {
    /// The officer is added (others stay).
    Add(String),
    /// The officer becomes the only one.
    MoveTo(String),
    /// The officer is taken off.
    Remove(String),
}

impl Assignment {
    fn officer(&self) -> &str {
        match self {
            Assignment::Add(o) | Assignment::MoveTo(o) | Assignment::Remove(o) => o,
        }
    }

    /// Changes `workers`; false if nothing changes.
    fn apply(&self, workers: &mut BTreeSet<WorkerId>) -> bool {
        let officer = WorkerId::new(self.officer());
        match self {
            Assignment::Add(_) => workers.insert(officer),
            Assignment::MoveTo(_) => {
                let only = BTreeSet::from([officer]);
                let changed = *workers != only;
                *workers = only;
                changed
            }
            Assignment::Remove(_) => workers.remove(&officer),
        }
    }

    /// The security log's action, then the words for the report: "assigned
    /// N young people to x (M already were)" and the like.
    fn words(&self) -> [&'static str; 4] {
        match self {
            Assignment::Add(_) => ["assign", "assigned", "to", "already were"],
            Assignment::MoveTo(_) => ["move", "moved", "to", "already were only theirs"],
            Assignment::Remove(_) => ["unassign", "unassigned", "from", "were not theirs"],
        }
    }
}

/// `hub assign` and `hub unassign`: who young people are assigned to.
fn assign(
    people: Vec<String>,
    change: Assignment,
    data: PathBuf,
    admin: String,
) -> Result<(), CliError> {
    use crate::domain::FieldValue;
    use crate::domain::ops::FieldSet;
    use crate::store::OpTarget;
    let hub = open_hub(&data)?;
    require_role(hub.as_ref(), &admin, crate::hub::Role::Admin)?;
    if !matches!(change, Assignment::Remove(_)) {
        require_role(hub.as_ref(), change.officer(), crate::hub::Role::Officer)?;
    }
    let summaries = hub.summaries()?;
    let mut writer = crate::hub::writer::HubWriter::new(
        hub.as_ref(),
        &data,
        WorkerId::new(admin.clone()),
        super::clock()?,
    )?;
    let mut ops = Vec::new();
    for given in &people {
        let id = resolve_in((&summaries).into(), given)?;
        let state = hub
            .person(id)?
            .ok_or_else(|| StoreError::UnknownPerson(given.clone()))?;
        let mut workers = state
            .young_person()
            .map(|p| p.assigned_workers)
            .unwrap_or_default();
        if !change.apply(&mut workers) {
            continue;
        }
        let supersedes = state
            .register(crate::domain::ops::FieldKey::AssignedWorkers)
            .map(|r| r.heads())
            .unwrap_or_default();
        ops.push(writer.new_op(
            id,
            OpPayload::SetFields(vec![FieldSet {
                value: FieldValue::AssignedWorkers(workers),
                supersedes,
            }]),
        ));
    }
    writer.commit(&ops)?;
    let [action, done, preposition, unchanged] = change.words();
    let officer = change.officer();
    admin_event(
        &data,
        action,
        &format!(
            "{} young people {preposition} {officer} (by {admin})",
            ops.len()
        ),
    );
    outln!(
        "{done} {} young people {preposition} {officer} ({} {unchanged})",
        ops.len(),
        people.len() - ops.len()
    );
    Ok(())
}

/// `hub list create`: everyone a filter keeps today, for trackers.
fn list_create(
    cx: &Ctx,
    name: String,
    filter: String,
    trackers: Vec<String>,
    data: PathBuf,
) -> Result<(), CliError> {
    let filter = crate::report::PeopleFilter::parse(&filter).map_err(CliError::Usage)?;
    let hub = open_hub(&data)?;
    for t in &trackers {
        require_role(hub.as_ref(), t, crate::hub::Role::Tracker)?;
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
        .filter(|s| filter.keeps(s, today, &cx.config.currency))
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

/// `hub list show`.
fn list_show(data: PathBuf) -> Result<(), CliError> {
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

/// `hub serve`: runs the hub until stopped.
fn serve(args: ServeArgs) -> Result<(), CliError> {
    let ServeArgs {
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
    } = args;
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
    let store =
        crate::hub::SledHubStore::open(&data, key_file.as_deref()).map_err(|e| match e {
            StoreError::OpenElsewhere(_) => CliError::Usage(format!(
                "the hub's data at {} is in use by another process",
                data.display()
            )),
            other => other.into(),
        })?;
    store.set_min_free_bytes(min_free_mb.saturating_mul(1024 * 1024));
    let hub = crate::hub::server::Hub {
        store,
        max_clock_skew_millis: max_clock_skew_secs * 1000,
        clock: super::clock()?,
        pull_page_bytes: pull_page_bytes.max(1),
        guard: crate::hub::server::Guard {
            log: std::sync::Arc::new(crate::hub::audit::SecurityLog::open(&data).map_err(|e| {
                CliError::Io(format!(
                    "cannot open the security log in {}: {e}",
                    data.display()
                ))
            })?),
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

/// Refuses unless `name` is a hub user with `role`, not revoked.
fn require_role(
    hub: &dyn crate::hub::HubStore,
    name: &str,
    role: crate::hub::Role,
) -> Result<(), CliError> {
    match hub.user(name)? {
        Some(u) if u.role == role && !u.revoked => Ok(()),
        _ if role == crate::hub::Role::Admin => Err(CliError::Usage(format!(
            "{name} is not an active hub admin"
        ))),
        _ => Err(CliError::Usage(format!(
            "{name} is not an active {} on this hub",
            role.name()
        ))),
    }
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
