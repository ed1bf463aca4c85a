//! Making, opening and protecting a store: init, demo, passwd, and opening the
//! workbench.

use super::passphrase::{self, Secret};
use super::{CliError, today};
use crate::config::Config;
use crate::demo::{self, DemoCohort, DemoSpec};
use crate::domain::WorkerId;
use crate::replica::Replica;
use crate::store::crypto::KdfParams;
use crate::store::encrypted::{CacheSize, LockedStore};
use crate::store::{EncryptedStore, Origin, StoreError};
use std::path::Path;

pub(super) fn unlock(
    dir: &Path,
    pass_file: Option<&Path>,
    cache: CacheSize,
) -> Result<Replica, CliError> {
    // Lock and header first: a missing store or a second opener is reported
    // before anyone types a passphrase. The database opens meanwhile.
    let locked = LockedStore::open(dir)?.with_cache(cache).open_ahead();
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

pub(super) fn init(
    dir: &Path,
    pass_file: Option<&Path>,
    worker: Option<String>,
) -> Result<(), CliError> {
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
pub(super) fn demo_store(
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
pub(super) fn open_workbench(
    dir: &Path,
    pass: Option<Secret>,
    config: Config,
) -> Result<(), CliError> {
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
            store: LockedStore::open(dir)?.open_ahead(),
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

pub(super) fn passwd(
    dir: &Path,
    pass_file: Option<&Path>,
    new_file: Option<&Path>,
) -> Result<(), CliError> {
    let locked = LockedStore::open(dir)?;
    let old =
        passphrase::existing(pass_file, &dir.display().to_string()).map_err(CliError::Usage)?;
    let mut store: EncryptedStore = locked.unlock_with_passphrase(old.as_bytes())?;
    let new = passphrase::new(new_file, passphrase::ENV_NEW).map_err(CliError::Usage)?;
    store.change_passphrase(new.as_bytes())?;
    outln!("passphrase changed for {}", dir.display());
    Ok(())
}
