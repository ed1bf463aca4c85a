//! The device side of sync: log in once with an enrolment token, then push the
//! outbox and pull what changed. The hub's address and this device's
//! credential are kept in the encrypted store, never in a plain file.

use crate::domain::{PersonId, WorkerId};
use crate::replica::Replica;
use crate::store::{CaseStore, Origin, StoreError};
use crate::sync::protocol::Role;
use crate::sync::protocol::{
    self, LoginRequest, LoginResponse, PullRequest, PullResponse, PushRequest, PushResponse,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::Read;
use std::time::Duration;

const META_HUB: &str = "hub";
/// Where a sync stands beyond the cursor; kept apart from [`HubLink`] so links
/// stored by earlier versions still read.
const META_PROGRESS: &str = "hub-progress";

/// A sync's progress, held sealed in the store's meta tree.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgress {
    /// The highest sequence number the hub gave an op this store pushed (see
    /// [`PullRequest::own_through`]). A restored backup holds its own, older
    /// value, which is what gets its later pushes sent back to it.
    pub own_through: u64,
    /// The next page of a pull under way: an interrupted first sync resumes
    /// here instead of starting again.
    pub page: Option<protocol::PageToken>,
}

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
    /// A council's own certificate authority (PEM), trusted instead of the
    /// public web's when given at login.
    pub ca_pem: Option<String>,
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
    #[error("cannot make a secure connection to the hub at {0}")]
    Secure(String),
    #[error("the hub refused: {0}")]
    Refused(String),
    #[error(
        "the hub cannot save anything at the moment ({0}); your changes are kept here and will be sent next time"
    )]
    HubCannotSave(String),
    #[error("the hub's answer could not be read: {0}")]
    Protocol(String),
    #[error("not logged in to a hub: run `caseload login HUB_URL` first")]
    NotLoggedIn,
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// `http://` is allowed only to this machine; anything else must be `https://`.
/// The address is read by a real URL parser (the one the HTTP client uses), so
/// "loopback" is decided on the host that will actually be connected to; a user
/// name or password in the address (`http://[::1]@elsewhere`) is refused.
pub fn check_url(given: &str) -> Result<String, SyncError> {
    let given = given.trim();
    let not_an_address = || {
        SyncError::Url(format!(
            "{:?} is not a hub address (for example https://hub.example.org)",
            crate::domain::text::printable(given)
        ))
    };
    let url = url::Url::parse(given).map_err(|_| not_an_address())?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SyncError::Url(
            "a hub address must not hold a user name or password (the part before @): give just https://host[:port]"
                .into(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(SyncError::Url(
            "a hub address has no ?query or #fragment".into(),
        ));
    }
    let host = url.host().ok_or_else(not_an_address)?;
    let loopback = match &host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    let address = url.as_str().trim_end_matches('/').to_string();
    match url.scheme() {
        "https" => Ok(address),
        "http" if loopback => Ok(address),
        "http" => Err(SyncError::Url(format!(
            "refusing plain http:// to {host}: young people's records only travel encrypted; use https://"
        ))),
        other => Err(SyncError::Url(format!(
            "unsupported scheme {other}:// (use https://)"
        ))),
    }
}

/// An HTTP agent for one hub: rustls, trusting the public web's authorities
/// or, when given, only the council's own.
fn agent(ca_pem: Option<&str>) -> Result<ureq::Agent, SyncError> {
    let mut builder = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout(Duration::from_secs(120));
    if let Some(pem) = ca_pem {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| {
                SyncError::Url(format!("the hub's CA certificate is not valid PEM: {e}"))
            })?;
            roots.add(cert).map_err(|e| {
                SyncError::Url(format!("the hub's CA certificate cannot be used: {e}"))
            })?;
        }
        if roots.is_empty() {
            return Err(SyncError::Url(
                "the hub's CA file holds no certificate (expected PEM \"BEGIN CERTIFICATE\")"
                    .into(),
            ));
        }
        let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| SyncError::Url(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        builder = builder.tls_config(std::sync::Arc::new(config));
    }
    Ok(builder.build())
}

fn call<Req: Serialize, Resp: serde::de::DeserializeOwned>(
    agent: &ureq::Agent,
    url: &str,
    path: &str,
    token: Option<&str>,
    body: &Req,
) -> Result<Resp, SyncError> {
    let mut req = agent.post(&format!("{url}/{}/{path}", protocol::VERSION));
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
            if code == 507 {
                // The hub's disk is full: nothing is wrong with this device.
                return Err(SyncError::HubCannotSave(text));
            }
            Err(SyncError::Refused(format!("{text} (HTTP {code})")))
        }
        Err(ureq::Error::Transport(t)) => match tls_failure(&t) {
            // A certificate this device does not trust, and the like: not "offline".
            Some(why) => Err(SyncError::Secure(format!("{url}: {why}"))),
            None => Err(SyncError::Unreachable(url.to_string())),
        },
    }
}

/// The TLS error behind a failed connection, if that is what it was.
fn tls_failure(t: &ureq::Transport) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(t);
    while let Some(e) = cause {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls.to_string());
        }
        if let Some(tls) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls.to_string());
        }
        cause = e.source();
    }
    None
}

pub fn link(replica: &Replica) -> Result<Option<HubLink>, SyncError> {
    Ok(replica.store().meta(META_HUB)?)
}

/// Exchanges the one-time enrolment token for this device's credential.
/// `ca_pem`: the council's own certificate authority, when the hub's
/// certificate is not from a public one.
pub fn login(
    replica: &mut Replica,
    url: &str,
    enrolment_token: &str,
    ca_pem: Option<String>,
) -> Result<HubLink, SyncError> {
    let url = check_url(url)?;
    let resp: LoginResponse = call(
        &agent(ca_pem.as_deref())?,
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
        ca_pem,
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
    /// More pages wait at the hub: sync again (at once).
    pub more: bool,
    /// The hub saw this store had gone back in time (restored from a backup)
    /// and is sending everything again.
    pub restored: bool,
}

/// What one sync sends: read from the store quickly, so the network part can
/// run away from it (the workbench does it on a worker thread).
pub struct Outgoing {
    link: HubLink,
    progress: SyncProgress,
    outbox: Vec<(Vec<u8>, crate::domain::Op)>,
}

/// What came back: applied to the store by `finish`.
pub struct Incoming {
    link: HubLink,
    progress: SyncProgress,
    pushed: Vec<Vec<u8>>,
    /// The highest sequence number the hub gave what was pushed.
    pushed_through: u64,
    pulled: PullResponse,
}

/// Step 1 (needs the store): the link, the progress and the outbox.
pub fn prepare(replica: &Replica) -> Result<Outgoing, SyncError> {
    Ok(Outgoing {
        link: link(replica)?.ok_or(SyncError::NotLoggedIn)?,
        progress: replica
            .store()
            .meta::<SyncProgress>(META_PROGRESS)?
            .unwrap_or_default(),
        outbox: replica.store().outbox_entries()?,
    })
}

/// Step 2 (network only): pushes the outbox in batches, then pulls. Safe to
/// repeat: pushes are idempotent by op id, and a pull is only counted once a
/// later pull shows its cursor was stored.
pub fn exchange(out: Outgoing) -> Result<Incoming, SyncError> {
    let Outgoing {
        link,
        progress,
        outbox,
    } = out;
    let agent = agent(link.ca_pem.as_deref())?;
    let mut pushed = Vec::with_capacity(outbox.len());
    let mut pushed_through = 0;
    for chunk in outbox.chunks(protocol::PUSH_BATCH) {
        let ops = chunk.iter().map(|(_, op)| op.clone()).collect();
        let answer: PushResponse = call(
            &agent,
            &link.url,
            "push",
            Some(&link.device_token),
            &PushRequest { ops },
        )?;
        pushed_through = answer.seqs.iter().copied().fold(pushed_through, u64::max);
        pushed.extend(chunk.iter().map(|(k, _)| k.clone()));
    }
    let pulled: PullResponse = call(
        &agent,
        &link.url,
        "pull",
        Some(&link.device_token),
        &PullRequest {
            after: link.cursor,
            own_through: progress.own_through.max(pushed_through),
            page: progress.page,
        },
    )?;
    Ok(Incoming {
        link,
        progress,
        pushed,
        pushed_through,
        pulled,
    })
}

/// Step 3 (needs the store): clears what the hub acknowledged, stores what it
/// sent, removes people out of scope, and only then moves the cursor (after
/// the last page; before it, the next page's token).
pub fn finish(replica: &mut Replica, incoming: Incoming) -> Result<SyncReport, SyncError> {
    let Incoming {
        mut link,
        mut progress,
        pushed,
        pushed_through,
        pulled,
    } = incoming;
    replica.store().ack_outbox(&pushed)?;
    progress.own_through = progress.own_through.max(pushed_through);
    let removed = store_pulled(replica, &pulled)?;
    progress.page = pulled.next;
    if pulled.next.is_none() {
        link.cursor = pulled.cursor;
    }
    link.last_sync_millis = Some(replica.clock().now_millis());
    // Both or neither, so the pull's progress and the cursor always agree.
    let store = replica.store();
    store.put_metas(vec![
        store.meta_write(META_PROGRESS, &progress)?,
        store.meta_write(META_HUB, &link)?,
    ])?;
    Ok(SyncReport {
        pushed: pushed.len(),
        pulled: pulled.ops.len(),
        removed,
        more: pulled.next.is_some(),
        restored: pulled.restored,
    })
}

/// Stores a pull's ops and removes the people who left scope, unless changes
/// of theirs still wait to be sent. Returns how many were removed. Safe to
/// repeat with the same (or an older) response.
pub fn store_pulled(replica: &mut Replica, pulled: &PullResponse) -> Result<usize, SyncError> {
    replica.commit(&pulled.ops, Origin::Remote)?;
    if pulled.left_scope.is_empty() {
        // The usual page: the outbox is not read (every op of it decrypted,
        // and anything waiting applied to sled first) for nothing.
        return Ok(0);
    }
    let waiting: BTreeSet<PersonId> = replica
        .store()
        .outbox_entries()?
        .iter()
        .map(|(_, op)| op.person)
        .collect();
    let mut removed = 0;
    for id in pulled.left_scope.iter().filter(|id| !waiting.contains(id)) {
        replica.remove_person(*id)?;
        removed += 1;
    }
    Ok(removed)
}

/// Makes the next sync fetch everything this device may see again (a
/// recovered store): the cursor goes back to the start and the pull's progress
/// is forgotten. Returns whether the store is linked to a hub.
pub fn start_over(replica: &Replica) -> Result<bool, SyncError> {
    let Some(mut link) = link(replica)? else {
        return Ok(false);
    };
    link.cursor = 0;
    replica.store().put_meta(META_HUB, &link)?;
    replica
        .store()
        .put_meta(META_PROGRESS, &SyncProgress::default())?;
    Ok(true)
}

/// One whole sync, in the calling thread: every page, each stored as it
/// arrives (so memory stays bounded and an interruption loses no page).
pub fn sync(replica: &mut Replica) -> Result<SyncReport, SyncError> {
    let mut total = SyncReport::default();
    loop {
        let incoming = exchange(prepare(replica)?)?;
        let page = finish(replica, incoming)?;
        total.pushed += page.pushed;
        total.pulled += page.pulled;
        total.removed += page.removed;
        total.restored |= page.restored;
        if !page.more {
            return Ok(total);
        }
    }
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

    #[test]
    fn loopback_is_decided_on_the_host_actually_connected_to() {
        for sneaky in [
            "http://[::1]@vm:17878",
            "http://127.0.0.1@hub.kent.example",
            "http://localhost:x@10.0.0.5",
            "http://127.0.0.1:80@evil.example/",
        ] {
            let e = check_url(sneaky).unwrap_err().to_string();
            assert!(
                e.contains("user name or password") || e.contains("refusing plain http"),
                "{sneaky}: {e}"
            );
        }
        assert!(check_url("http://127.0.0.1.evil.example").is_err());
        assert!(
            check_url("http://0x7f.1/").is_ok(),
            "127.0.0.1 written another way"
        );
        assert_eq!(
            check_url("https://hub.kent.example/caseload/").unwrap(),
            "https://hub.kent.example/caseload"
        );
    }

    #[test]
    fn a_ca_file_without_a_certificate_is_named_as_such() {
        let e = agent(Some("not a certificate"))
            .err()
            .map(|e| e.to_string());
        assert!(
            e.as_deref()
                .is_some_and(|e| e.contains("holds no certificate")),
            "{e:?}"
        );
    }
}
