//! The command line. Each command opens the store, does one thing through the
//! replica, and exits with a code scripts can rely on (docs/user-guide.md).

/// `println!` through the one sanitiser, quiet on a closed pipe (see [`output`]).
macro_rules! outln {
    () => { $crate::cli::output::stdout("\n") };
    ($($arg:tt)*) => { $crate::cli::output::stdout(&format!("{}\n", format_args!($($arg)*))) };
}
/// `print!` through the one sanitiser.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::stdout(&format!($($arg)*)) };
}
/// `eprintln!` through the one sanitiser.
macro_rules! errln {
    () => { $crate::cli::output::stderr("\n") };
    ($($arg:tt)*) => { $crate::cli::output::stderr(&format!("{}\n", format_args!($($arg)*))) };
}

mod commands;
mod hub;
mod link;
pub mod output;
pub mod passphrase;
mod records;
mod repair;
mod report;
mod returns;
mod setup;
mod view;

use crate::clock::Clock;
use crate::domain::DomainError;
use crate::store::StoreError;
use chrono::NaiveDate;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "caseload",
    version,
    about = "Track young people into education, employment or training"
)]
pub struct Cli {
    /// Store directory [default: $XDG_DATA_HOME/caseload/store; the demo store is .../caseload/demo]
    #[arg(long, global = true, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Read the passphrase from the first line of this file instead of prompting
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Config file [default: $XDG_CONFIG_HOME/caseload/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new, empty encrypted store
    Init {
        /// Your login name, recorded as the author of your changes [default: $USER]
        #[arg(long)]
        worker: Option<String>,
    },
    /// Create a demo store of synthetic young people (demo-only passphrase)
    Demo {
        /// How many young people (at most 52,500, Kent's cohort)
        #[arg(long, default_value_t = crate::demo::DEFAULT_PEOPLE)]
        people: usize,
        /// Seed: the same seed and date give the same cohort
        #[arg(long, default_value_t = 2015)]
        seed: u64,
        /// Only create the store; do not open it
        #[arg(long)]
        no_open: bool,
    },
    /// Change the store's passphrase (the data is not re-encrypted)
    Passwd {
        /// Read the new passphrase from this file
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Decrypt every record, re-fold the op log and check it matches stored state
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Salvage a damaged store: everything that can still be read goes into a
    /// fresh store in its place (the damaged one is kept beside it); the next
    /// sync fills in the rest from the hub
    Recover,
    /// List young people (optionally matching words of a search)
    People {
        /// Words that must all appear in name, id, UPN/ULN, postcode or phone
        #[arg(long)]
        search: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one young person's record
    Show {
        /// Person id, or 4 or more characters from the start of the id `caseload people` shows
        person: String,
        #[arg(long)]
        json: bool,
    },
    /// Record a contact attempt
    Contact {
        /// Person id, or 4 or more characters from the start of the id `caseload people` shows
        person: String,
        /// phone, text, email, letter, social-media, home-visit, face-to-face, via-school…
        #[arg(long)]
        channel: String,
        /// no-answer, voicemail-left, wrong-number, post-returned, sent-no-reply, spoke-to-young-person…
        #[arg(long)]
        outcome: String,
        /// What happened, in a few words (up to 4,000 characters; new lines kept)
        #[arg(long, default_value = "")]
        note: String,
        /// Follow-up date: 12/01/2027, 2027-01-12, today, tomorrow, +3d, +2w,
        /// +1m, or a weekday (the next one after today)
        #[arg(long)]
        follow_up: Option<String>,
        /// The number, address or handle used: its label (mobile, home,
        /// parent, email, address, a platform), the number itself, or none.
        /// Without it, the record's first for the channel (as the workbench)
        #[arg(long)]
        using: Option<String>,
    },
    /// Mark an entry (a contact, note, rating, offer…) as entered in error; it
    /// stays on the record, marked corrected, with the reason
    Retract {
        /// Person id, or 4 or more characters from the start of the id `caseload people` shows
        person: String,
        /// The entry's id, or its first 8 or more characters (from `caseload history`)
        entry: String,
        /// Why it is being corrected
        #[arg(long)]
        reason: String,
    },
    /// Mark your soonest open follow-up for a young person done (a
    /// colleague's follow-up is theirs to close)
    FollowUpDone {
        /// Person id, or 4 or more characters from the start of the id `caseload people` shows
        person: String,
    },
    /// Change contact details, the preferred channel or consent; "" clears a
    /// detail, what is not given stays as it is
    Details {
        /// Person id, or 4 or more characters from the start of the id `caseload people` shows
        person: String,
        #[arg(long)]
        mobile: Option<String>,
        #[arg(long)]
        home_phone: Option<String>,
        #[arg(long)]
        parent_phone: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// Lines and town, comma-separated: "7 Mill Lane, Dover"
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        postcode: Option<String>,
        /// The channel they prefer (phone, text, email, …), or "" for none
        #[arg(long)]
        preferred: Option<String>,
        /// Social media as "Platform handle", several separated by ";"
        #[arg(long)]
        social: Option<String>,
        /// given, refused or not-asked (dated today)
        #[arg(long)]
        consent: Option<String>,
        /// How consent was given or refused, and to whom
        #[arg(long)]
        consent_note: Option<String>,
        /// wrong-number or post-returned: what this replaces or clears is
        /// kept on the record as not working
        #[arg(long, value_name = "OUTCOME")]
        not_working: Option<String>,
        /// The authority they live in: "here", or another's three-digit DfE
        /// code (e.g. 305). Only residents are counted in the headline
        #[arg(long, value_name = "LA")]
        lives_in: Option<String>,
        /// Where they learn: "here", a DfE code, or "same" (as where they
        /// live). Not given, it stays where they learn now
        #[arg(long, value_name = "LA")]
        learns_in: Option<String>,
    },
    /// Record a September Guarantee offer (Year 11 or Year 12), recorded today
    Offer {
        /// Person id, or 4 or more characters from the start of the id `caseload people` shows
        person: String,
        /// 11 or 12
        #[arg(long)]
        year: String,
        /// made, accepted, none (no offer yet) or declined
        #[arg(long)]
        status: String,
        /// The kind of place: full-time-education, apprenticeship,
        /// employment-with-training, traineeship, supported-internship,
        /// employment, undecided
        #[arg(long)]
        kind: Option<String>,
        /// The provider or employer
        #[arg(long)]
        provider: Option<String>,
    },
    /// Record a Year 11 pupil's intended destination, recorded today
    Destination {
        /// Person id, or 4 or more characters from the start of the id `caseload people` shows
        person: String,
        /// full-time-education, apprenticeship, employment-with-training,
        /// traineeship, supported-internship, employment or undecided
        kind: String,
        /// The provider or employer
        #[arg(long)]
        provider: Option<String>,
    },
    /// Add a note to a young person's record
    Note {
        /// Person id, or 4 or more characters from the start of the id `caseload people` shows
        person: String,
        /// The note (quote it); kept with your name and the time
        text: String,
    },
    /// Set the current activity (NCCIS code), confirmed today
    Activity {
        /// Person id, or 4 or more characters from the start of the id `caseload people` shows
        person: String,
        /// NCCIS activity code, for example 230
        code: String,
        /// Start date (DD/MM/YYYY or YYYY-MM-DD) [default: today]
        #[arg(long)]
        start: Option<String>,
        /// Expected end date, where there is one (a course, a contract)
        #[arg(long)]
        ends: Option<String>,
        /// The provider or employer
        #[arg(long)]
        provider: Option<String>,
    },
    /// The ops recorded for one person (the audit trail), oldest first
    History {
        /// Person id, or 4 or more characters from the start of the id `caseload people` shows
        person: String,
    },
    /// Changes made here and not yet sent to the hub, oldest first
    Outbox,
    /// Statutory figures: NEET, Not Known and participation
    #[command(subcommand)]
    Report(ReportCommand),
    /// Import young people from a file (docs/import-format.md)
    #[command(subcommand)]
    Import(ImportCommand),
    /// The central store (the hub): serve it, manage its users
    #[command(subcommand)]
    Hub(HubCommand),
    /// Connect this store to a hub with a one-time enrolment token
    Login {
        /// The hub's address, e.g. https://hub.example.org (http:// only to this machine)
        url: String,
        /// Read the enrolment token from this file instead of asking
        #[arg(long, value_name = "FILE")]
        token_file: Option<PathBuf>,
        /// Trust only this certificate authority (PEM) for the hub, e.g. a council's own
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
    },
    /// Send changes to the hub and receive what changed there
    Sync {
        /// Only show the last sync and what waits to be sent
        #[arg(long)]
        status: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum HubCommand {
    /// Run the hub
    Serve(ServeArgs),
    /// Hub users and their enrolment tokens
    #[command(subcommand)]
    User(HubUserCommand),
    /// The security log: failed sign-ins, refusals, enrolments, admin actions
    Audit {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Only this kind: auth_failed, login_failed, enrolled, refused,
        /// rate_limited, connection_refused, admin
        #[arg(long)]
        event: Option<String>,
        /// Only events from this UTC date on (YYYY-MM-DD)
        #[arg(long)]
        since: Option<String>,
        /// One JSON object a line, as stored
        #[arg(long)]
        json: bool,
    },
    /// The statutory figures over everyone on the hub
    Report {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        #[command(subcommand)]
        report: ReportCommand,
    },
    /// Assign young people to an officer
    Assign {
        /// Person ids, or unique prefixes of 8+ characters
        #[arg(required = true)]
        people: Vec<String>,
        /// The officer's login name
        #[arg(long)]
        to: String,
        /// Move them: the officer becomes the only one assigned (whoever was
        /// assigned before is not any more)
        #[arg(long = "move")]
        only: bool,
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// The hub admin recorded as the author
        #[arg(long = "as", value_name = "ADMIN")]
        admin: String,
    },
    /// Take young people off an officer's caseload
    Unassign {
        /// Person ids, or unique prefixes of 8+ characters
        #[arg(required = true)]
        people: Vec<String>,
        /// The officer's login name
        #[arg(long)]
        from: String,
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// The hub admin recorded as the author
        #[arg(long = "as", value_name = "ADMIN")]
        admin: String,
    },
    /// Tracking lists for call-centre staff
    #[command(subcommand)]
    List(HubListCommand),
    /// Import a whole council's cohort into the hub
    Import {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// The hub admin recorded as the author of the changes
        #[arg(long = "as", value_name = "ADMIN")]
        admin: String,
        #[command(subcommand)]
        import: ImportCommand,
    },
}

/// `hub serve`'s options.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The hub's data directory
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Address to listen on, e.g. 127.0.0.1:7878 (port 0 picks a free one)
    #[arg(long, value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// The server key file [default: DIR/server.key, created on first start]
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Refuse ops stamped more than this far ahead of the hub's clock
    #[arg(long, default_value_t = 300)]
    pub max_clock_skew_secs: u64,
    /// Connections open at once, from everyone; more are closed on arrival
    #[arg(long, default_value_t = crate::hub::conn::MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Connections open at once from one address
    #[arg(long, default_value_t = crate::hub::conn::MAX_PER_CLIENT)]
    pub max_connections_per_client: usize,
    /// The most op bytes in one pull response; larger pulls come in pages
    #[arg(long, default_value_t = crate::sync::protocol::PULL_PAGE_BYTES)]
    pub pull_page_bytes: usize,
    /// Refuse pushes (HTTP 507) while the data directory's disk has less
    /// free than this, in MiB
    #[arg(long, value_name = "MIB", default_value_t = crate::hub::store::DEFAULT_MIN_FREE_BYTES / (1024 * 1024))]
    pub min_free_mb: u64,
}

#[derive(Subcommand, Debug)]
pub enum HubListCommand {
    /// Make a list of everyone matching a filter today, for one or more trackers
    Create {
        name: String,
        /// e.g. status=not-known,district=thanet (status, district, area, year, group)
        #[arg(long)]
        filter: String,
        /// A tracker's login name (repeat for several)
        #[arg(long = "tracker", required = true)]
        trackers: Vec<String>,
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
    },
    /// The lists, their trackers and sizes
    Show {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum HubUserCommand {
    /// Add a user; prints a one-time enrolment token as the last line
    Add {
        name: String,
        /// officer, tracker, manager or admin
        #[arg(long)]
        role: String,
        /// The district a manager oversees
        #[arg(long)]
        district: Option<String>,
        /// The hub's data directory
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
    },
    /// List users, their roles and whether they are revoked
    List {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
    },
    /// Revoke a user: every credential of theirs stops working
    Revoke {
        name: String,
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// A cohort CSV: every row checked first; nothing is written if any row is bad
    Cohort {
        file: PathBuf,
        /// Check the file and show what would change, without writing
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Cohort, EET, NEET, Not Known and participation (academic ages 16–17), against targets
    Headline {
        /// The figures as recorded by the end of this day [default: today]
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Break down by district, area, year or group
        #[arg(long, value_name = "BY")]
        by: Option<String>,
        /// Count what was in effect on the date (activities by their start), as
        /// known at the end of this day (`today`: as known now) [default: as
        /// recorded by the end of the date itself]
        #[arg(long, value_name = "DATE")]
        known_as_of: Option<String>,
        /// Also the DfE's annual figure: `dec-feb` (the latest December–February
        /// ended by --as-of) or `dec-feb-YYYY` (from December YYYY)
        #[arg(long, value_name = "PERIOD")]
        average: Option<String>,
        /// table, csv or json
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// NEET counts by vulnerable group (16–18, SEND to the upper age), as in Kent's strategy table
    Groups {
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Count what was in effect on the date (activities by their start), as
        /// known at the end of this day (`today`: as known now) [default: as
        /// recorded by the end of the date itself]
        #[arg(long, value_name = "DATE")]
        known_as_of: Option<String>,
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// How the risk suggestion's bands foretold NEET or Not Known within 6 and 12 months, to tune the weights
    Roni {
        /// The day the suggestions are made on, from what was recorded by then
        /// [default: a year before today, so both windows are over]
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// table, csv or json
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// The Annual Activity Survey: Year 11 leavers' activity on 1 November
    ActivitySurvey {
        /// The year of the 1 November [default: the latest passed]
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// NEET joiners and leavers between two month-ends (academic ages 16–17)
    NeetFlow {
        /// The first month, YYYY-MM
        #[arg(long)]
        from: String,
        /// The second month, YYYY-MM
        #[arg(long)]
        to: String,
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// The September Guarantee: offers to Year 11 and Year 12, counted to 30 September
    Guarantee {
        /// The September [default: the latest whose 30 September has passed]
        #[arg(long)]
        year: Option<i32>,
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// Year 11's intended destinations this academic year
    Destinations {
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        #[arg(long, default_value = "table")]
        format: String,
    },
    /// One CSV row per young person in the cohort with the NCCIS fields, for the monthly return
    Nccis {
        /// The month, YYYY-MM: figures as at its last day (the month in progress: as at today, so far)
        #[arg(long)]
        month: String,
        /// Count what was in effect on the date (activities by their start), as
        /// known at the end of this day (`today`: as known now) [default: as
        /// recorded by the end of the date itself]
        #[arg(long, value_name = "DATE")]
        known_as_of: Option<String>,
    },
}

/// Everything that can stop a command, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Domain(#[from] DomainError),
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Usage(String),
    /// A file or socket that could not be read, written or opened (exit 1,
    /// not "usage": the command was right, the machine said no).
    #[error("{0}")]
    Io(String),
    #[error("the store has problems; see above")]
    Unhealthy,
    #[error("{0}")]
    Import(#[from] crate::import::ImportError),
    #[error("{0}")]
    Sync(#[from] crate::link::SyncError),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Store(StoreError::WrongPassphrase(_)) => 3,
            CliError::Store(StoreError::OpenElsewhere(_)) => 4,
            CliError::Store(
                StoreError::Damaged { .. } | StoreError::BadHeader { .. } | StoreError::Database(_),
            )
            | CliError::Unhealthy => 5,
            CliError::Store(StoreError::NotFound(_)) => 6,
            CliError::Store(StoreError::DiskFull)
            | CliError::Import(crate::import::ImportError::Store(StoreError::DiskFull)) => 9,
            CliError::Sync(
                crate::link::SyncError::Unreachable(_) | crate::link::SyncError::HubCannotSave(_),
            ) => 7,
            CliError::Sync(
                crate::link::SyncError::Refused(_)
                | crate::link::SyncError::Url(_)
                | crate::link::SyncError::Secure(_),
            ) => 8,
            CliError::Usage(_)
            | CliError::Domain(_)
            | CliError::Store(StoreError::Invalid(_))
            | CliError::Import(
                crate::import::ImportError::Invalid(_) | crate::import::ImportError::Csv(_),
            ) => 2,
            _ => 1,
        }
    }
}

/// The program's clock: the system's, or the one `CASELOAD_TODAY` pins (see
/// [`crate::clock`]), so tests and demos move every reading of the time together.
pub fn clock() -> Result<Clock, CliError> {
    Clock::from_env().map_err(CliError::Usage)
}

/// Today's date on [`clock`].
pub fn today() -> Result<NaiveDate, CliError> {
    Ok(clock()?.today())
}

/// On a panic: say where it happened, never the panic's message (which could
/// hold a name or a note) and no backtrace. The workbench installs its own,
/// which also restores the terminal.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map_or_else(
            || "unknown place".to_string(),
            |l| format!("{}:{}", l.file(), l.line()),
        );
        errln!(
            "caseload: stopped by an internal error (at {location}). Everything reported as saved is safe on disk. Please report this line; it holds no personal data."
        );
    }));
}

/// The command line as clap reads it. `--store` and `--passphrase-file` are
/// the device's and mean nothing to the hub's commands (a data directory, no
/// passphrase), so their help leaves them out; given anyway, they are ignored.
pub fn command() -> clap::Command {
    let cli = Cli::command();
    let hidden: Vec<clap::Arg> = cli
        .get_arguments()
        .filter(|a| ["store", "passphrase_file"].contains(&a.get_id().as_str()))
        .map(|a| a.clone().hide(true))
        .collect();
    // clap hands a global option down only to subcommands without one of the
    // same name, so the hub's hidden copies are the ones its commands get.
    cli.mut_subcommand("hub", |hub| hub.args(hidden))
}

pub fn default_store_dir() -> PathBuf {
    data_dir().join("store")
}

pub fn default_demo_dir() -> PathBuf {
    data_dir().join("demo")
}

fn data_dir() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("caseload")
}

pub fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("caseload: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn help(path: &[&str]) -> String {
        let mut cmd = command();
        cmd.build();
        let mut sub = &mut cmd;
        for name in path {
            sub = sub.find_subcommand_mut(name).expect("a subcommand");
        }
        sub.render_long_help().to_string()
    }

    #[test]
    fn the_command_line_is_well_formed() {
        command().debug_assert();
    }

    #[test]
    fn hub_commands_list_only_their_own_options() {
        for path in [&["hub"][..], &["hub", "serve"], &["hub", "user", "add"]] {
            let text = help(path);
            assert!(!text.contains("--store"), "{path:?}:\n{text}");
            assert!(!text.contains("--passphrase-file"), "{path:?}:\n{text}");
        }
        assert!(help(&["hub", "serve"]).contains("--config"));
        assert!(help(&["contact"]).contains("--store"));
        assert!(help(&["contact"]).contains("--passphrase-file"));
    }

    #[test]
    fn device_options_are_still_read_wherever_they_are_given() {
        let parse = |args: &[&str]| {
            let m = command().try_get_matches_from(args).expect("parses");
            Cli::from_arg_matches(&m).expect("reads")
        };
        let cli = parse(&["caseload", "--store", "s", "hub", "audit", "--data", "d"]);
        assert_eq!(cli.store, Some(PathBuf::from("s")));
        let cli = parse(&["caseload", "hub", "audit", "--data", "d", "--store", "s"]);
        assert_eq!(cli.store, Some(PathBuf::from("s")));
        let cli = parse(&["caseload", "sync", "--passphrase-file", "p"]);
        assert_eq!(cli.passphrase_file, Some(PathBuf::from("p")));
    }
}
