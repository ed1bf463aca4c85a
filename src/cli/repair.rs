//! Checking a store and getting a damaged one back: doctor and recover.

use super::CliError;
use super::passphrase;
use crate::replica::Replica;
use crate::store::encrypted::LockedStore;
use crate::store::{Origin, StoreError};
use std::path::Path;

pub(super) fn doctor(dir: &Path, pass_file: Option<&Path>, json: bool) -> Result<(), CliError> {
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

/// `caseload recover`: salvages what can be read into a fresh store, keeps
/// the damaged one beside it, and makes the next sync fetch everything again.
pub(super) fn recover(dir: &Path, pass_file: Option<&Path>) -> Result<(), CliError> {
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
