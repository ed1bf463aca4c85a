//! The device side of sync: log in once with an enrolment token, then push the
//! outbox and pull what changed. The hub's address and this device's
//! credential are kept in the encrypted store, never in a plain file.

use super::protocol::{
    self, LoginRequest, LoginResponse, PullRequest, PullResponse, PushRequest, PushResponse,
};
use crate::domain::{PersonId, WorkerId};
use crate::hub::Role;
use crate::replica::Replica;
use crate::store::{CaseStore, Origin, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::Read;
use std::time::Duration;

const META_HUB: &str = "hub";

/// The link to a hub, held sealed in the store's meta tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubLink {
    pub url: String,
    pub user: String,
    pub role: Role,
    pub device_token: String,
    /// Every hub op up to here is stored on this device.
    pub cursor: u64,
    pub last_sync_millis: Option<u64>,
}

impl Drop for HubLink {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.device_token);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{0}")]
    Url(String),
    #[error(
        "the hub at {0} cannot be reached (offline, or the hub is not running); your changes are kept and will be sent next time"
    )]
    Unreachable(String),
    #[error("the hub refused: {0}")]
    Refused(String),
    #[error("the hub's answer could not be read: {0}")]
    Protocol(String),
    #[error("not logged in to a hub: run `caseload login HUB_URL` first")]
    NotLoggedIn,
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// `http://` is allowed only to this machine; anything else must be `https://`.
pub fn check_url(url: &str) -> Result<String, SyncError> {
    let url = url.trim().trim_end_matches('/').to_string();
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        SyncError::Url(format!(
            "{url:?} is not a hub address (for example https://hub.example.org)"
        ))
    })?;
    let host = rest.split('/').next().unwrap_or("");
    let host = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match scheme {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(SyncError::Url(format!(
            "refusing plain http:// to {host}: young people's records only travel encrypted; use https://"
        ))),
        other => Err(SyncError::Url(format!(
            "unsupported scheme {other}:// (use https://)"
        ))),
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
}

fn call<Req: Serialize, Resp: serde::de::DeserializeOwned>(
    url: &str,
    path: &str,
    token: Option<&str>,
    body: &Req,
) -> Result<Resp, SyncError> {
    let mut req = agent().post(&format!("{url}/{}/{path}", protocol::VERSION));
    req = req.set("content-type", "application/vnd.caseload.v1");
    if let Some(t) = token {
        req = req.set("authorization", &format!("Bearer {t}"));
    }
    let read = |r: ureq::Response| -> Result<Vec<u8>, SyncError> {
        let mut buf = Vec::new();
        r.into_reader()
            .take(protocol::MAX_BODY as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        Ok(buf)
    };
    match req.send_bytes(&protocol::encode(body)) {
        Ok(r) => protocol::decode(&read(r)?).map_err(|e| SyncError::Protocol(e.to_string())),
        Err(ureq::Error::Status(code, r)) => {
            let text = String::from_utf8_lossy(&read(r)?).into_owned();
            Err(SyncError::Refused(format!("{text} (HTTP {code})")))
        }
        Err(ureq::Error::Transport(_)) => Err(SyncError::Unreachable(url.to_string())),
    }
}

pub fn link(replica: &Replica) -> Result<Option<HubLink>, SyncError> {
    Ok(replica.store().meta(META_HUB)?)
}

/// Exchanges the one-time enrolment token for this device's credential.
pub fn login(
    replica: &mut Replica,
    url: &str,
    enrolment_token: &str,
) -> Result<HubLink, SyncError> {
    let url = check_url(url)?;
    let resp: LoginResponse = call(
        &url,
        "login",
        None,
        &LoginRequest {
            enrolment_token: enrolment_token.trim().to_string(),
            device: replica.identity().device,
        },
    )?;
    let link = HubLink {
        url,
        user: resp.user.clone(),
        role: resp.role,
        device_token: resp.device_token.clone(),
        cursor: 0,
        last_sync_millis: None,
    };
    replica.store().put_meta(META_HUB, &link)?;
    replica.set_worker(WorkerId::new(resp.user))?;
    Ok(link)
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub pushed: usize,
    pub pulled: usize,
    pub removed: usize,
}

/// Pushes the outbox, then pulls. Safe to repeat at any point: pushes are
/// idempotent by op id and the cursor only moves once pulled ops are stored.
pub fn sync(replica: &mut Replica) -> Result<SyncReport, SyncError> {
    let mut link = link(replica)?.ok_or(SyncError::NotLoggedIn)?;
    let mut report = SyncReport::default();
    let outbox = replica.store().outbox_entries()?;
    for chunk in outbox.chunks(protocol::PUSH_BATCH) {
        let ops = chunk.iter().map(|(_, op)| op.clone()).collect();
        let _: PushResponse = call(
            &link.url,
            "push",
            Some(&link.device_token),
            &PushRequest { ops },
        )?;
        let keys: Vec<Vec<u8>> = chunk.iter().map(|(k, _)| k.clone()).collect();
        replica.store().ack_outbox(&keys)?;
        report.pushed += chunk.len();
    }
    let pulled: PullResponse = call(
        &link.url,
        "pull",
        Some(&link.device_token),
        &PullRequest { after: link.cursor },
    )?;
    report.pulled = pulled.ops.len();
    replica.commit(&pulled.ops, Origin::Remote)?;
    // Anyone out of scope goes, unless changes of theirs still wait to be sent.
    let waiting: BTreeSet<PersonId> = replica
        .store()
        .outbox_entries()?
        .iter()
        .map(|(_, op)| op.person)
        .collect();
    for id in pulled.left_scope.iter().filter(|id| !waiting.contains(id)) {
        replica.remove_person(*id)?;
        report.removed += 1;
    }
    link.cursor = pulled.cursor;
    link.last_sync_millis = Some(super::clock::now_millis());
    replica.store().put_meta(META_HUB, &link)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_this_machine() {
        assert!(check_url("http://127.0.0.1:8080").is_ok());
        assert!(check_url("http://localhost:8080/").is_ok());
        assert!(check_url("http://[::1]:8080").is_ok());
        assert!(check_url("https://hub.kent.example").is_ok());
        let e = check_url("http://10.0.0.5:8080").unwrap_err().to_string();
        assert!(e.contains("refusing plain http:// to 10.0.0.5"), "{e}");
        assert!(check_url("http://hub.kent.example").is_err());
        assert!(check_url("ftp://x").is_err());
        assert!(check_url("hub").is_err());
    }
}
