//! The hub's connections: how many, from whom, and for how long. Idle, slow
//! and numerous connections are ordinary input for a server on a council's
//! network, so each has a number (docs/sync-protocol.md):
//!
//! - at most [`Limits::max_connections`] open at once, and
//!   [`Limits::per_client`] from one address; a connection over either is
//!   closed at once, before any byte is read, and logged;
//! - a TLS handshake must finish within [`HANDSHAKE_TIMEOUT`];
//! - a request's headers must arrive within [`HEADER_TIMEOUT`] of the
//!   connection waiting for them — which is also how long an idle keep-alive
//!   connection stays open (hyper's header-read timer);
//! - a body must arrive within [`SMALL_BODY_TIMEOUT`] (login, pull) or
//!   [`BODY_TIMEOUT`] (push) — the handlers' side, in `server.rs`;
//! - no connection lives longer than [`MAX_LIFETIME`].
//!
//! axum's own `serve` has none of these, so connections are accepted here and
//! served with hyper directly.

use super::audit::{Event, SecurityLog};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// A push's body (up to 16 MiB) must arrive within this.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(60);
/// A login's or a pull's body (a few hundred bytes) must arrive within this.
pub const SMALL_BODY_TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_LIFETIME: Duration = Duration::from_secs(600);
/// The default limits (`hub serve --max-connections`, `--max-connections-per-client`).
pub const MAX_CONNECTIONS: usize = 4096;
pub const MAX_PER_CLIENT: usize = 256;

/// The address a request came from, for the handlers (rate limits, the log).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub IpAddr);

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub per_client: usize,
}

impl Limits {
    /// Fits the limits to the file descriptors this process may open (raising
    /// its soft limit to the hard one first): past that, accepting would fail
    /// for everyone, honest devices included. A reserve is kept for the
    /// database, the admin socket and the logs.
    pub fn fitted_to_this_process(self) -> Limits {
        const RESERVE: u64 = 128;
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit read and write the one struct given.
        let available = unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
                if lim.rlim_cur < lim.rlim_max {
                    let raised = libc::rlimit {
                        rlim_cur: lim.rlim_max,
                        rlim_max: lim.rlim_max,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                        lim = raised;
                    }
                }
                lim.rlim_cur
            } else {
                1024
            }
        };
        let fit = available.saturating_sub(RESERVE).max(16) as usize;
        Limits {
            max_connections: self.max_connections.min(fit),
            per_client: self.per_client.min(fit),
        }
    }
}

/// Open connections, in total and by address.
struct Counts {
    total: AtomicUsize,
    by_client: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; gives its place back when dropped.
struct Admitted {
    counts: Arc<Counts>,
    client: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.counts.total.fetch_sub(1, Ordering::SeqCst);
        let mut by = self
            .counts
            .by_client
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = by.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                by.remove(&self.client);
            }
        }
    }
}

impl Counts {
    fn admit(self: &Arc<Self>, client: IpAddr, limits: Limits) -> Result<Admitted, &'static str> {
        let mut by = self.by_client.lock().unwrap_or_else(|p| p.into_inner());
        if self.total.load(Ordering::SeqCst) >= limits.max_connections {
            return Err("the hub's connection limit");
        }
        let mine = by.entry(client).or_insert(0);
        if *mine >= limits.per_client {
            return Err("the limit for one address");
        }
        *mine += 1;
        self.total.fetch_add(1, Ordering::SeqCst);
        Ok(Admitted {
            counts: self.clone(),
            client,
        })
    }
}

/// Accepts connections until `shutdown` completes, serving `app` on each.
pub async fn serve(
    tcp: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    limits: Limits,
    log: Arc<SecurityLog>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let counts = Arc::new(Counts {
        total: AtomicUsize::new(0),
        by_client: Mutex::new(HashMap::new()),
    });
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => return,
            accepted = tcp.accept() => match accepted {
                Ok(c) => c,
                Err(_) => {
                    // Out of file descriptors and the like: back off, then go on.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let admitted = match counts.admit(peer.ip(), limits) {
            Ok(a) => a,
            Err(which) => {
                log.record(Event::ConnectionRefused {
                    client: peer.ip(),
                    limit: which.into(),
                });
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (app, tls) = (app.clone(), tls.clone());
        tokio::spawn(async move {
            let _admitted = admitted;
            let _ = tokio::time::timeout(MAX_LIFETIME, async move {
                match tls {
                    Some(acceptor) => {
                        if let Ok(Ok(stream)) =
                            tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                        {
                            serve_one(stream, peer, app).await;
                        }
                    }
                    None => serve_one(stream, peer, app).await,
                }
            })
            .await;
        });
    }
}

async fn serve_one<S>(stream: S, peer: SocketAddr, app: Router)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let app = app.layer(axum::Extension(ClientAddr(peer.ip())));
    let service = TowerToHyperService::new(app);
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_given_back_and_both_limits_hold() {
        let counts = Arc::new(Counts {
            total: AtomicUsize::new(0),
            by_client: Mutex::new(HashMap::new()),
        });
        let limits = Limits {
            max_connections: 3,
            per_client: 2,
        };
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = counts.admit(a, limits).unwrap();
        let _a2 = counts.admit(a, limits).unwrap();
        assert!(counts.admit(a, limits).is_err(), "per address");
        let _b1 = counts.admit(b, limits).unwrap();
        assert!(counts.admit(b, limits).is_err(), "in total");
        drop(a1);
        assert!(counts.admit(b, limits).is_ok(), "a place came back");
    }
}
