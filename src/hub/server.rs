//! The hub's HTTP interface (protocol v1, docs/sync-protocol.md). The rules
//! are plain methods of `Hub`; axum only routes requests to them, on tokio's
//! blocking pool (sled's flush waits on the disk).

use super::audit::{Event, FailureLimiter, SecurityLog};
use super::conn::{BODY_TIMEOUT, ClientAddr, SMALL_BODY_TIMEOUT};
use super::scope::can_see;
use super::store::{
    Credential, CredentialKind, Delivery, HubStore, OwnPushes, PendingDelivery, Received,
    SledHubStore,
};
use super::users::{self, Role, User};
use crate::clock::Clock;
use crate::domain::{CaseSummary, DeviceId, Op, PersonId, PersonState};
use crate::sync::protocol::{
    self, LoginRequest, LoginResponse, PageToken, PullRequest, PullResponse, PushRequest,
    PushResponse,
};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// A refusal: an HTTP status and a reason in plain words.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub reason: String,
}

impl Refusal {
    fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(e: crate::store::StoreError) -> Self {
        if matches!(e, crate::store::StoreError::DiskFull) {
            return Refusal::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "the hub's disk is full: nothing from this request was saved there",
            );
        }
        // Store errors name records by opaque ids only.
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the hub could not complete this: {e}"),
        )
    }
}

impl From<protocol::WireError> for Refusal {
    fn from(e: protocol::WireError) -> Self {
        Refusal::new(StatusCode::BAD_REQUEST, e.to_string())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, self.reason).into_response()
    }
}

pub struct Hub {
    pub store: SledHubStore,
    /// Ops stamped further ahead of the hub's clock than this are refused.
    pub max_clock_skew_millis: u64,
    /// The hub's clock (pinned with CASELOAD_TODAY in tests, like a device's).
    pub clock: Clock,
    /// The security log and the brake on failed authentication.
    pub guard: Guard,
    /// The most op bytes one pull response holds ([`PULL_PAGE_BYTES`] unless
    /// a test or a slow link wants smaller pages).
    pub pull_page_bytes: usize,
}

/// What the hub records of attacks and how it slows them (`audit.rs`).
#[derive(Debug, Default)]
pub struct Guard {
    pub log: Arc<SecurityLog>,
    pub limiter: FailureLimiter,
}

impl Guard {
    /// Refuses an address that has failed too often lately.
    fn admit(&self, client: IpAddr) -> Result<(), Refusal> {
        self.limiter.check(client, Instant::now()).map_err(|r| {
            if r.first {
                self.log.record(Event::RateLimited { client });
            }
            Refusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "too many failed sign-ins from this address: try again in {} s",
                    r.wait.as_secs().max(1)
                ),
            )
        })
    }

    /// Counts and records a failed authentication.
    fn failed(&self, client: IpAddr, event: Event) {
        self.limiter.failed(client, Instant::now());
        self.log.record(event);
    }
}

impl Hub {
    /// The user and device behind a bearer device token.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<(User, DeviceId), Refusal> {
        let unauthorised = |why: &str| Refusal::new(StatusCode::UNAUTHORIZED, why.to_string());
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| unauthorised("no credentials: log in with `caseload login`"))?;
        let cred = self
            .store
            .credential(users::token_hash(token))?
            .ok_or_else(|| {
                unauthorised("these credentials are not known to the hub: log in again")
            })?;
        let CredentialKind::Device(device) = cred.kind else {
            return Err(unauthorised(
                "an enrolment token is only for `caseload login`",
            ));
        };
        let user = self
            .store
            .user(&cred.user)?
            .ok_or_else(|| unauthorised("this user no longer exists"))?;
        if user.revoked {
            return Err(unauthorised("this user's access has been revoked"));
        }
        Ok((user, device))
    }

    pub fn login(&self, req: LoginRequest) -> Result<LoginResponse, Refusal> {
        let bad = || {
            Refusal::new(
                StatusCode::UNAUTHORIZED,
                "that enrolment token is not valid (it may have been used already)",
            )
        };
        let hash = users::token_hash(&req.enrolment_token);
        let cred = self.store.credential(hash)?.ok_or_else(bad)?;
        if cred.kind != CredentialKind::Enrolment {
            return Err(bad());
        }
        let user = self.store.user(&cred.user)?.ok_or_else(bad)?;
        if user.revoked {
            return Err(Refusal::new(
                StatusCode::UNAUTHORIZED,
                "this user's access has been revoked",
            ));
        }
        // One-time: the token is spent first, and only the one request that
        // spends it gets a device credential.
        if !self.store.remove_credential(hash)? {
            return Err(bad());
        }
        let device_token = users::new_token().map_err(crate::store::StoreError::from)?;
        self.store.put_credential(
            users::token_hash(&device_token),
            &Credential {
                user: user.name.clone(),
                kind: CredentialKind::Device(req.device),
            },
        )?;
        Ok(LoginResponse {
            user: user.name,
            role: user.role,
            device_token,
        })
    }

    fn summary(&self, id: PersonId) -> Result<(Option<PersonState>, Option<CaseSummary>), Refusal> {
        let state = self.store.person(id)?;
        let summary = state.as_ref().and_then(CaseSummary::without_fingerprint);
        Ok((state, summary))
    }

    /// Accepts a batch whole or refuses it whole.
    pub fn push(
        &self,
        user: &User,
        device: DeviceId,
        req: PushRequest,
    ) -> Result<PushResponse, Refusal> {
        let now = self.clock.now_millis();
        let today = self.clock.today() + chrono::Days::new(1); // a day's grace for time zones
        let lists = self.store.lists()?;
        let mut by_person: BTreeMap<PersonId, Vec<&Op>> = BTreeMap::new();
        for op in &req.ops {
            if user.role != Role::Admin && op.author.as_str() != user.name {
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "op {} was written by {}, not by {}: nothing was accepted",
                        op.id, op.author, user.name
                    ),
                ));
            }
            // A device pushes only what it wrote: an op stamped with another
            // device's id would be withheld from that device forever (no echo).
            if op.device != device {
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "op {} was made on another device, not the one pushing it: nothing was accepted",
                        op.id
                    ),
                ));
            }
            if op.at.millis > now + self.max_clock_skew_millis {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "op {} is stamped {} s ahead of the hub's clock (the limit is {} s): check this device's clock; nothing was accepted",
                        op.id,
                        (op.at.millis - now) / 1000,
                        self.max_clock_skew_millis / 1000
                    ),
                ));
            }
            by_person.entry(op.person).or_default().push(op);
        }
        for (person, ops) in &by_person {
            let (state, before) = self.summary(*person)?;
            let mut after = state.unwrap_or_else(|| PersonState::new(*person));
            for op in ops {
                if let Err(e) = op.payload.validate_by(
                    &op.author,
                    Some(&after).filter(|s| s.is_registered()),
                    today,
                ) {
                    return Err(Refusal::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!(
                            "op {} for young person {} is invalid: {e}; nothing was accepted",
                            op.id,
                            person.short()
                        ),
                    ));
                }
                after.apply(op);
            }
            let allowed = match &before {
                Some(b) => can_see(user, b, &lists),
                None => CaseSummary::without_fingerprint(&after)
                    .is_some_and(|a| can_see(user, &a, &lists)),
            };
            if !allowed {
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    format!(
                        "young person {} is not in {}'s caseload: nothing was accepted",
                        person.short(),
                        user.name
                    ),
                ));
            }
        }
        let seqs = self.store.append(&req.ops, &user.name, now)?;
        Ok(PushResponse { seqs })
    }

    /// One page of what `device` may see and does not hold yet: the whole
    /// history of anyone newly in scope, then new ops of everyone else in
    /// scope (its own only past `own_through`), within `pull_page_bytes`.
    pub fn pull(
        &self,
        user: &User,
        device: DeviceId,
        req: PullRequest,
    ) -> Result<PullResponse, Refusal> {
        let mut delivery = self.store.delivery(device)?.unwrap_or_default();
        let lists = self.store.lists()?;
        let mut visible = BTreeSet::new();
        self.store.each_summary(&mut |s| {
            if can_see(user, s, &lists) {
                visible.insert(s.id);
            }
        })?;
        let going_on = req.page.filter(|t| {
            delivery
                .pending
                .as_ref()
                .is_some_and(|p| p.cursor == t.cursor)
        });
        let (token, restored) = match going_on {
            Some(t) => (t, false),
            None => {
                let restored = self.start_pull(&mut delivery, &visible, req.after)?;
                self.store.put_delivery(device, &delivery)?;
                let cursor = delivery.pending.as_ref().map_or(0, |p| p.cursor);
                let first = PageToken {
                    cursor,
                    histories: true,
                    person: None,
                    seq: 0,
                };
                (first, restored)
            }
        };
        let Some(pending) = delivery.pending.as_ref() else {
            return Err(Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the pull under way was lost",
            ));
        };
        let mut page = Page::new(self.pull_page_bytes);
        // The device holds what it pushed up to `own_through`: no echo. Past
        // it (a store restored from an older backup) its own ops come back.
        let held = |r: &Received| r.op.device == device && r.seq <= req.own_through;
        let mut next = if token.histories {
            self.page_histories(&mut page, pending, token, held)?
        } else {
            None
        };
        if next.is_none() {
            let from = if token.histories {
                req.after
            } else {
                token.seq
            };
            let own = OwnPushes {
                device,
                through: req.own_through,
            };
            next = self.page_since(&mut page, token.cursor, from, own, |r| {
                visible.contains(&r.op.person) && !pending.newly.contains(&r.op.person) && !held(r)
            })?;
        }
        Ok(PullResponse {
            ops: page.ops,
            cursor: token.cursor,
            left_scope: if next.is_none() {
                pending.left.iter().copied().collect()
            } else {
                Vec::new()
            },
            next,
            restored,
        })
    }

    /// Begins a new pull: counts the last one delivered if the device's cursor
    /// shows it stored it, notices a store that went back in time (and then
    /// sends everything again), and fixes what this pull will send.
    fn start_pull(
        &self,
        delivery: &mut Delivery,
        visible: &BTreeSet<PersonId>,
        after: u64,
    ) -> Result<bool, Refusal> {
        if let Some(p) = delivery.pending.take()
            && after >= p.cursor
        {
            delivery.delivered.extend(p.newly);
            delivery.delivered.retain(|id| !p.left.contains(id));
        }
        let restored = after < delivery.confirmed;
        if restored {
            delivery.delivered.clear();
        }
        delivery.confirmed = delivery.confirmed.max(after);
        let newly = visible.difference(&delivery.delivered).copied().collect();
        let left = delivery.delivered.difference(visible).copied().collect();
        delivery.pending = Some(PendingDelivery {
            cursor: self.store.last_seq()?,
            newly,
            left,
        });
        Ok(restored)
    }

    /// Whole histories of the people newly in scope, from the token on.
    fn page_histories(
        &self,
        page: &mut Page,
        pending: &PendingDelivery,
        token: PageToken,
        held: impl Fn(&Received) -> bool,
    ) -> Result<Option<PageToken>, Refusal> {
        let people = match token.person {
            Some(p) => pending.newly.range(p..),
            None => pending.newly.range(..),
        };
        for id in people {
            let sent_upto = if token.person == Some(*id) {
                token.seq
            } else {
                0
            };
            let mut history = self.store.history(*id)?;
            history.sort_by_key(|r| r.seq);
            let mut last = sent_upto;
            for r in history
                .into_iter()
                .filter(|r| r.seq > sent_upto && r.seq <= token.cursor)
            {
                if held(&r) {
                    last = r.seq;
                    continue;
                }
                if !page.add(r.op) {
                    return Ok(Some(PageToken {
                        person: Some(*id),
                        seq: last,
                        ..token
                    }));
                }
                last = r.seq;
            }
        }
        Ok(None)
    }

    /// New ops after `from` up to `cursor` that `wanted` keeps, in hub order.
    /// The ops `own` names (a device and the last number it holds of its own)
    /// are never wanted, so the store may pass over them without reading.
    fn page_since(
        &self,
        page: &mut Page,
        cursor: u64,
        from: u64,
        own: OwnPushes,
        wanted: impl Fn(&Received) -> bool,
    ) -> Result<Option<PageToken>, Refusal> {
        const CHUNK: usize = 1000;
        let mut last = from;
        loop {
            let chunk = self.store.since_except(last, CHUNK, own)?;
            let done = chunk.len() < CHUNK;
            for (seq, r) in chunk {
                if seq > cursor {
                    return Ok(None);
                }
                let Some(r) = r else {
                    last = seq;
                    continue;
                };
                if wanted(&r) && !page.add(r.op) {
                    return Ok(Some(PageToken {
                        cursor,
                        histories: false,
                        person: None,
                        seq: last,
                    }));
                }
                last = seq;
            }
            if done {
                return Ok(None);
            }
        }
    }
}

/// One pull response's ops, within a byte budget (a single larger op still
/// goes, alone).
struct Page {
    ops: Vec<Op>,
    bytes: usize,
    budget: usize,
}

impl Page {
    fn new(budget: usize) -> Page {
        Page {
            ops: Vec::new(),
            bytes: 0,
            budget,
        }
    }

    /// Adds an op if it fits; false (and nothing added) if the page is full.
    fn add(&mut self, op: Op) -> bool {
        let size = postcard::experimental::serialized_size(&op).unwrap_or(0);
        if !self.ops.is_empty() && self.bytes + size > self.budget {
            return false;
        }
        self.bytes += size;
        self.ops.push(op);
        true
    }
}

async fn blocking<T: serde::Serialize + Send + 'static>(
    f: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => (StatusCode::OK, protocol::encode(&v)).into_response(),
        Ok(Err(r)) => r.into_response(),
        Err(_) => Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response(),
    }
}

/// Reads a body of at most `limit` bytes: a small one within
/// [`SMALL_BODY_TIMEOUT`], a larger one within [`BODY_TIMEOUT`].
async fn read_body(body: Body, limit: usize) -> Result<Bytes, Refusal> {
    let within = if limit <= protocol::MAX_SMALL_BODY {
        SMALL_BODY_TIMEOUT
    } else {
        BODY_TIMEOUT
    };
    match tokio::time::timeout(within, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(_)) => Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is over this endpoint's limit of {limit} bytes"),
        )),
        Err(_) => Err(Refusal::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s",
                within.as_secs()
            ),
        )),
    }
}

/// The caller, from the request's headers alone: nothing of the body is read
/// before this succeeds. Failures are counted against the address and logged.
async fn caller(
    hub: &Arc<Hub>,
    client: IpAddr,
    headers: HeaderMap,
) -> Result<(User, DeviceId), Refusal> {
    hub.guard.admit(client)?;
    let hub = hub.clone();
    tokio::task::spawn_blocking(move || {
        hub.authenticate(&headers).inspect_err(|r| {
            if r.status == StatusCode::UNAUTHORIZED {
                hub.guard.failed(
                    client,
                    Event::AuthFailed {
                        client,
                        reason: r.reason.clone(),
                    },
                );
            }
        })
    })
    .await
    .unwrap_or_else(|_| {
        Err(Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
        ))
    })
}

/// The caller, then (only then) their request body of at most `limit` bytes.
async fn caller_and_body(
    hub: &Arc<Hub>,
    client: IpAddr,
    headers: HeaderMap,
    body: Body,
    limit: usize,
) -> Result<(User, DeviceId, Bytes), Refusal> {
    let (user, device) = caller(hub, client, headers).await?;
    Ok((user, device, read_body(body, limit).await?))
}

async fn login(
    State(hub): State<Arc<Hub>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    body: Body,
) -> Response {
    if let Err(r) = hub.guard.admit(client) {
        return r.into_response();
    }
    let body = match read_body(body, protocol::MAX_SMALL_BODY).await {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    blocking(move || {
        let req: LoginRequest = protocol::decode_limited(&body, protocol::MAX_SMALL_BODY as u64)?;
        let device = req.device;
        match hub.login(req) {
            Ok(answer) => {
                hub.guard.log.record(Event::Enrolled {
                    client,
                    user: answer.user.clone(),
                    device,
                });
                Ok(answer)
            }
            Err(r) => {
                if r.status == StatusCode::UNAUTHORIZED {
                    hub.guard.failed(
                        client,
                        Event::LoginFailed {
                            client,
                            reason: r.reason.clone(),
                        },
                    );
                }
                Err(r)
            }
        }
    })
    .await
}

async fn push(
    State(hub): State<Arc<Hub>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (user, device, body) =
        match caller_and_body(&hub, client, headers, body, protocol::MAX_BODY).await {
            Ok(c) => c,
            Err(r) => return r.into_response(),
        };
    blocking(move || {
        let req: PushRequest = protocol::decode_limited(&body, protocol::MAX_PUSH_INFLATED)?;
        if req.ops.len() > protocol::PUSH_BATCH {
            return Err(Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "a push holds at most {} ops; this one holds {}",
                    protocol::PUSH_BATCH,
                    req.ops.len()
                ),
            ));
        }
        let name = user.name.clone();
        hub.push(&user, device, req).inspect_err(|r| {
            hub.guard.log.record(Event::Refused {
                client,
                user: name,
                status: r.status.as_u16(),
                what: refusal_kind(r.status).into(),
            })
        })
    })
    .await
}

/// A refusal's kind for the security log (its text may name records).
fn refusal_kind(status: StatusCode) -> &'static str {
    match status {
        StatusCode::FORBIDDEN => "out of scope, or another's author or device",
        StatusCode::UNPROCESSABLE_ENTITY => "an op failed validation",
        StatusCode::PAYLOAD_TOO_LARGE => "too large",
        StatusCode::BAD_REQUEST => "malformed, or stamped ahead of the clock",
        _ => "other",
    }
}

async fn pull(
    State(hub): State<Arc<Hub>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let (user, device, body) =
        match caller_and_body(&hub, client, headers, body, protocol::MAX_SMALL_BODY).await {
            Ok(c) => c,
            Err(r) => return r.into_response(),
        };
    blocking(move || {
        hub.pull(
            &user,
            device,
            protocol::decode_limited(&body, protocol::MAX_SMALL_BODY as u64)?,
        )
    })
    .await
}

/// A body declared larger than the limit is refused before any of it is read
/// (`DefaultBodyLimit` still stops one that grows past the limit undeclared).
async fn refuse_declared_oversize(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > protocol::MAX_BODY as u64) {
        return Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is over the hub's limit of {} bytes: send fewer ops per push",
                protocol::MAX_BODY
            ),
        )
        .into_response();
    }
    next.run(request).await
}

pub fn router(hub: Arc<Hub>) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/v1/login", post(login))
        .route("/v1/push", post(push))
        .route("/v1/pull", post(pull))
        .layer(DefaultBodyLimit::max(protocol::MAX_BODY))
        .layer(axum::middleware::from_fn(refuse_declared_oversize))
        .with_state(hub)
}

/// Ends the process (exit 9) once the database has met a full disk itself:
/// sled then refuses everything until opened again, so the hub's service
/// manager starts it afresh (docs/sync-protocol.md). Everything acknowledged
/// is on disk; devices push again what was not.
async fn stop_if_the_database_fails(hub: Arc<Hub>) {
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if hub.store.failed() {
            eprintln!(
                "caseload hub: the disk under the hub's data is full; stopping so that the database is opened afresh once there is room (everything acknowledged is saved)"
            );
            std::process::exit(9);
        }
    }
}

/// Serves until Ctrl-C or SIGTERM: HTTPS when given a TLS configuration
/// (plain HTTP otherwise: the caller allows that on loopback only), and the
/// admin socket in the data directory. Prints the address it listens on.
pub fn serve(
    hub: Hub,
    listen: std::net::SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: super::conn::Limits,
    data_dir: &std::path::Path,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let hub = Arc::new(hub);
    let limits = limits.fitted_to_this_process();
    runtime.block_on(async move {
        super::admin::serve_socket(data_dir, hub.clone()).await?;
        let tcp = tokio::net::TcpListener::bind(listen).await?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!("caseload hub listening on {scheme}://{}", tcp.local_addr()?);
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {},
            }
        };
        tokio::spawn(stop_if_the_database_fails(hub.clone()));
        let app = router(hub.clone());
        let tls = tls.map(tokio_rustls::TlsAcceptor::from);
        super::conn::serve(tcp, tls, app, limits, hub.guard.log.clone(), shutdown).await;
        let _ = std::fs::remove_file(data_dir.join(super::admin::SOCKET_FILE));
        Ok(())
    })
}
