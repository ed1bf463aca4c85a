//! The commands: this file reads what was given before the command and sends
//! each command to its family's module (`records`, `setup`, `repair`,
//! `link`, `hub`), which has one function per command.

use super::{Cli, CliError, Command, ImportCommand, passphrase};
use super::{hub, link, records, repair, setup};
use crate::config::Config;
use crate::replica::Replica;
use crate::store::encrypted::CacheSize;
use std::path::{Path, PathBuf};

/// What every command starts from: the options given before it.
pub(super) struct Ctx<'a> {
    store: Option<PathBuf>,
    pub pass_file: Option<&'a Path>,
    pub config: Config,
}

impl Ctx<'_> {
    /// The store given with --store, or the usual one.
    pub fn store_dir(&self) -> PathBuf {
        self.store.clone().unwrap_or_else(super::default_store_dir)
    }

    /// The store given with --store, or the demo one.
    pub fn demo_dir(&self) -> PathBuf {
        self.store.clone().unwrap_or_else(super::default_demo_dir)
    }

    /// Opens the store, asking for (or reading) its passphrase.
    pub fn unlock(&self) -> Result<Replica, CliError> {
        setup::unlock(&self.store_dir(), self.pass_file, CacheSize::Interactive)
    }

    /// Opens the store to rewrite much of it (a cohort import).
    pub fn unlock_for_bulk_writes(&self) -> Result<Replica, CliError> {
        setup::unlock(&self.store_dir(), self.pass_file, CacheSize::BulkWrites)
    }
}

pub fn run(cli: Cli) -> Result<(), CliError> {
    let cx = Ctx {
        store: cli.store.clone(),
        pass_file: cli.passphrase_file.as_deref(),
        config: Config::load(cli.config.as_deref())?,
    };
    let Some(command) = cli.command else {
        let pass = passphrase::given(cx.pass_file).map_err(CliError::Usage)?;
        return setup::open_workbench(&cx.store_dir(), pass, cx.config.clone());
    };
    match command {
        Command::Init { worker } => setup::init(&cx.store_dir(), cx.pass_file, worker),
        Command::Demo {
            people,
            seed,
            no_open,
        } => {
            let dir = cx.demo_dir();
            let pass = setup::demo_store(&dir, people, seed, cx.pass_file)?;
            if no_open {
                Ok(())
            } else {
                setup::open_workbench(&dir, Some(pass), cx.config.clone())
            }
        }
        Command::Passwd {
            new_passphrase_file,
        } => setup::passwd(
            &cx.store_dir(),
            cx.pass_file,
            new_passphrase_file.as_deref(),
        ),
        Command::Doctor { json } => repair::doctor(&cx.store_dir(), cx.pass_file, json),
        Command::Recover => repair::recover(&cx.store_dir(), cx.pass_file),
        Command::People { search, json } => records::people(&cx, search, json),
        Command::Show { person, json } => records::show(&cx, person, json),
        Command::Contact {
            person,
            channel,
            outcome,
            note,
            follow_up,
            using,
        } => records::contact(&cx, person, channel, outcome, note, follow_up, using),
        Command::Activity {
            person,
            code,
            start,
            ends,
            provider,
        } => records::activity(&cx, person, code, [start, ends], provider),
        Command::Note { person, text } => records::note(&cx, person, text),
        Command::FollowUpDone { person } => records::follow_up_done(&cx, person),
        Command::Details {
            person,
            mobile,
            home_phone,
            parent_phone,
            email,
            address,
            postcode,
            preferred,
            social,
            consent,
            consent_note,
            not_working,
            lives_in,
            learns_in,
        } => {
            let edit = crate::domain::details::DetailsEdit {
                phones: [mobile, home_phone, parent_phone],
                email,
                address,
                postcode,
                preferred,
                social,
                consent,
                consent_note,
                not_working: not_working
                    .map(|o| crate::domain::Outcome::parse(&o))
                    .transpose()?,
                lives_in,
                learns_in,
            };
            records::details(&cx, person, edit)
        }
        Command::Offer {
            person,
            year,
            status,
            kind,
            provider,
        } => records::offer(&cx, person, [year, status], kind, provider),
        Command::Destination {
            person,
            kind,
            provider,
        } => records::destination(&cx, person, kind, provider),
        Command::Retract {
            person,
            entry,
            reason,
        } => records::retract(&cx, person, entry, reason),
        Command::Outbox => records::outbox(&cx),
        Command::Import(ImportCommand::Cohort { file, dry_run }) => {
            records::import_cohort(&cx, file, dry_run)
        }
        Command::History { person } => records::history(&cx, person),
        Command::Report(report) => records::report(&cx, report),
        Command::Hub(command) => hub::run(&cx, command),
        Command::Login {
            url,
            token_file,
            ca_cert,
        } => link::login(&cx, url, token_file, ca_cert),
        Command::Sync { status } => link::sync(&cx, status),
    }
}
