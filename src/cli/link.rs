//! Linking this store to a hub, and syncing with it.

use super::commands::Ctx;
use super::records::fmt_hlc;
use super::{CliError, passphrase};
use std::path::PathBuf;

/// `login`: links this store to a hub with a one-time token.
pub(super) fn login(
    cx: &Ctx,
    url: String,
    token_file: Option<PathBuf>,
    ca_cert: Option<PathBuf>,
) -> Result<(), CliError> {
    let ca_pem = ca_cert
        .map(|f| {
            std::fs::read_to_string(&f)
                .map_err(|e| CliError::Io(format!("cannot read {}: {e}", f.display())))
        })
        .transpose()?;
    let mut replica = cx.unlock()?;
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

/// `sync`: every page, or (`--status`) where sync stands.
pub(super) fn sync(cx: &Ctx, status: bool) -> Result<(), CliError> {
    let mut replica = cx.unlock()?;
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
