//! Admin commands while the hub is running. sled lets one process open the
//! data directory, so the running hub listens on a Unix socket inside it
//! (`DIR/admin.sock`, 0600 in a 0700 directory, and only peers running as the
//! hub's own OS user are served) and carries out `HubStore` calls for
//! `caseload hub …` commands. The commands speak `HubStore` either way: to the
//! database directly when the hub is stopped, or through `RemoteHubStore`
//! when it runs. Whoever can use the socket could already read the server key,
//! so the socket adds no access; it only keeps one writer.
//!
//! Frames: a u32 (big-endian) length, then a postcard `Call` or `Reply`.

use super::scope::TrackingList;
use super::store::{Credential, Delivery, HubStore, Received, SledHubStore};
use super::users::User;
use crate::domain::{CaseSummary, DeviceId, Op, PersonId, PersonState};
use crate::store::{Result, StoreError};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const SOCKET_FILE: &str = "admin.sock";
/// Large enough for every summary of a big council in one reply.
const MAX_FRAME: usize = 512 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize)]
enum Call {
    Append {
        ops: Vec<Op>,
        pushed_by: String,
        now_millis: u64,
    },
    AppendSpooled {
        spool: super::spool::SpoolRef,
        pushed_by: String,
        now_millis: u64,
    },
    Since {
        after: u64,
        limit: u64,
    },
    History(PersonId),
    LastSeq,
    PutUser(User),
    User(String),
    Users,
    PutCredential([u8; 32], Credential),
    Credential([u8; 32]),
    RemoveCredential([u8; 32]),
    Person(PersonId),
    Summaries,
    PutList(TrackingList),
    Lists,
    Delivery(DeviceId),
    PutDelivery(DeviceId, Delivery),
}

#[derive(Debug, Serialize, Deserialize)]
enum Reply {
    Seqs(Vec<u64>),
    Received(Vec<Received>),
    Seq(u64),
    Done,
    User(Option<User>),
    Users(Vec<User>),
    Credential(Option<Credential>),
    Person(Option<Box<PersonState>>),
    Summaries(Vec<CaseSummary>),
    Lists(Vec<TrackingList>),
    Delivery(Option<Delivery>),
    /// The store's error, in words (it names records by opaque ids only).
    Failed(String),
    /// Whether this call removed the credential.
    Removed(bool),
}

fn execute(store: &SledHubStore, call: Call) -> Reply {
    let result = (|| -> Result<Reply> {
        Ok(match call {
            Call::Append {
                ops,
                pushed_by,
                now_millis,
            } => Reply::Seqs(store.append(&ops, &pushed_by, now_millis)?),
            Call::AppendSpooled {
                spool,
                pushed_by,
                now_millis,
            } => {
                store.append_spooled(&spool, &pushed_by, now_millis)?;
                Reply::Done
            }
            Call::Since { after, limit } => {
                Reply::Received(store.since(after, usize::try_from(limit).unwrap_or(usize::MAX))?)
            }
            Call::History(id) => Reply::Received(store.history(id)?),
            Call::LastSeq => Reply::Seq(store.last_seq()?),
            Call::PutUser(u) => {
                store.put_user(&u)?;
                Reply::Done
            }
            Call::User(name) => Reply::User(store.user(&name)?),
            Call::Users => Reply::Users(store.users()?),
            Call::PutCredential(hash, c) => {
                store.put_credential(hash, &c)?;
                Reply::Done
            }
            Call::Credential(hash) => Reply::Credential(store.credential(hash)?),
            Call::RemoveCredential(hash) => Reply::Removed(store.remove_credential(hash)?),
            Call::Person(id) => Reply::Person(store.person(id)?.map(Box::new)),
            Call::Summaries => Reply::Summaries(store.summaries()?),
            Call::PutList(l) => {
                store.put_list(&l)?;
                Reply::Done
            }
            Call::Lists => Reply::Lists(store.lists()?),
            Call::Delivery(d) => Reply::Delivery(store.delivery(d)?),
            Call::PutDelivery(d, delivery) => {
                store.put_delivery(d, &delivery)?;
                Reply::Done
            }
        })
    })();
    result.unwrap_or_else(|e| Reply::Failed(e.to_string()))
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let body = postcard::to_allocvec(value).map_err(|e| StoreError::Database(e.to_string()))?;
    let len = u32::try_from(body.len())
        .map_err(|_| StoreError::Database("admin frame too large".into()))?;
    let mut frame = len.to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    Ok(frame)
}

fn frame_len(header: [u8; 4]) -> Result<usize> {
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_FRAME {
        return Err(StoreError::Database(format!(
            "admin frame of {len} bytes is over the limit"
        )));
    }
    Ok(len)
}

/// Reads one admin call frame (length prefix and postcard body) as the socket
/// does, without executing it: the untrusted-bytes half, for the fuzz target.
pub fn check_call_frame(frame: &[u8]) -> Result<(), String> {
    let header: [u8; 4] = frame
        .get(..4)
        .and_then(|h| h.try_into().ok())
        .ok_or("short header")?;
    let len = frame_len(header).map_err(|e| e.to_string())?;
    let body = frame.get(4..4 + len).ok_or("short body")?;
    postcard::from_bytes::<Call>(body)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Serves the admin socket until the runtime stops. Removes a stale socket
/// file first (the data directory's lock shows no other hub holds it).
pub async fn serve_socket(
    dir: &Path,
    hub: std::sync::Arc<super::server::Hub>,
) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let path = dir.join(SOCKET_FILE);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = tokio::net::UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    // SAFETY: getuid has no preconditions and cannot fail.
    let own_uid = unsafe { libc::getuid() };
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            };
            if !stream.peer_cred().is_ok_and(|c| c.uid() == own_uid) {
                continue;
            }
            let hub = hub.clone();
            tokio::spawn(async move {
                loop {
                    let mut header = [0u8; 4];
                    if stream.read_exact(&mut header).await.is_err() {
                        return;
                    }
                    let Ok(len) = frame_len(header) else { return };
                    let mut body = vec![0u8; len];
                    if stream.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let hub = hub.clone();
                    let reply = tokio::task::spawn_blocking(move || {
                        match postcard::from_bytes::<Call>(&body) {
                            Ok(call) => execute(&hub.store, call),
                            Err(e) => Reply::Failed(format!("unreadable admin call: {e}")),
                        }
                    })
                    .await
                    .unwrap_or_else(|_| Reply::Failed("internal error".into()));
                    let Ok(frame) = encode(&reply) else { return };
                    if stream.write_all(&frame).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(())
}

/// `HubStore` through a running hub's admin socket.
pub struct RemoteHubStore {
    path: PathBuf,
    stream: Mutex<UnixStream>,
}

impl RemoteHubStore {
    /// Connects to the hub serving `dir`; `None` when no hub is listening.
    pub fn connect(dir: &Path) -> Option<Self> {
        let path = dir.join(SOCKET_FILE);
        let stream = UnixStream::connect(&path).ok()?;
        Some(Self {
            path,
            stream: Mutex::new(stream),
        })
    }

    fn call(&self, call: Call) -> Result<Reply> {
        let io = |source| StoreError::Io {
            action: "cannot talk to the running hub through",
            path: self.path.clone(),
            source,
        };
        let mut stream = self.stream.lock().unwrap_or_else(|p| p.into_inner());
        stream.write_all(&encode(&call)?).map_err(io)?;
        let mut header = [0u8; 4];
        stream.read_exact(&mut header).map_err(io)?;
        let mut body = vec![0u8; frame_len(header)?];
        stream.read_exact(&mut body).map_err(io)?;
        match postcard::from_bytes(&body).map_err(|e| StoreError::Database(e.to_string()))? {
            Reply::Failed(why) => Err(StoreError::Database(format!("the running hub: {why}"))),
            reply => Ok(reply),
        }
    }
}

fn unexpected(_reply: Reply) -> StoreError {
    // Not shown: a reply may hold young people's details.
    StoreError::Database("the running hub answered a different call".into())
}

impl HubStore for RemoteHubStore {
    fn append(&self, ops: &[Op], pushed_by: &str, now_millis: u64) -> Result<Vec<u64>> {
        match self.call(Call::Append {
            ops: ops.to_vec(),
            pushed_by: pushed_by.to_string(),
            now_millis,
        })? {
            Reply::Seqs(s) => Ok(s),
            r => Err(unexpected(r)),
        }
    }
    fn append_spooled(
        &self,
        spool: &super::spool::SpoolRef,
        pushed_by: &str,
        now_millis: u64,
    ) -> Result<()> {
        match self.call(Call::AppendSpooled {
            spool: spool.clone(),
            pushed_by: pushed_by.to_string(),
            now_millis,
        })? {
            Reply::Done => Ok(()),
            r => Err(unexpected(r)),
        }
    }
    fn since(&self, after: u64, limit: usize) -> Result<Vec<Received>> {
        match self.call(Call::Since {
            after,
            limit: limit as u64,
        })? {
            Reply::Received(r) => Ok(r),
            r => Err(unexpected(r)),
        }
    }
    fn history(&self, person: PersonId) -> Result<Vec<Received>> {
        match self.call(Call::History(person))? {
            Reply::Received(r) => Ok(r),
            r => Err(unexpected(r)),
        }
    }
    fn last_seq(&self) -> Result<u64> {
        match self.call(Call::LastSeq)? {
            Reply::Seq(s) => Ok(s),
            r => Err(unexpected(r)),
        }
    }
    fn put_user(&self, user: &User) -> Result<()> {
        match self.call(Call::PutUser(user.clone()))? {
            Reply::Done => Ok(()),
            r => Err(unexpected(r)),
        }
    }
    fn user(&self, name: &str) -> Result<Option<User>> {
        match self.call(Call::User(name.to_string()))? {
            Reply::User(u) => Ok(u),
            r => Err(unexpected(r)),
        }
    }
    fn users(&self) -> Result<Vec<User>> {
        match self.call(Call::Users)? {
            Reply::Users(u) => Ok(u),
            r => Err(unexpected(r)),
        }
    }
    fn put_credential(&self, token_hash: [u8; 32], credential: &Credential) -> Result<()> {
        match self.call(Call::PutCredential(token_hash, credential.clone()))? {
            Reply::Done => Ok(()),
            r => Err(unexpected(r)),
        }
    }
    fn credential(&self, token_hash: [u8; 32]) -> Result<Option<Credential>> {
        match self.call(Call::Credential(token_hash))? {
            Reply::Credential(c) => Ok(c),
            r => Err(unexpected(r)),
        }
    }
    fn remove_credential(&self, token_hash: [u8; 32]) -> Result<bool> {
        match self.call(Call::RemoveCredential(token_hash))? {
            Reply::Removed(removed) => Ok(removed),
            r => Err(unexpected(r)),
        }
    }
    fn person(&self, id: PersonId) -> Result<Option<PersonState>> {
        match self.call(Call::Person(id))? {
            Reply::Person(p) => Ok(p.map(|p| *p)),
            r => Err(unexpected(r)),
        }
    }
    fn each_summary(&self, visit: &mut dyn FnMut(&CaseSummary)) -> Result<()> {
        self.summaries()?.iter().for_each(visit);
        Ok(())
    }
    fn summaries(&self) -> Result<Vec<CaseSummary>> {
        match self.call(Call::Summaries)? {
            Reply::Summaries(s) => Ok(s),
            r => Err(unexpected(r)),
        }
    }
    fn put_list(&self, list: &TrackingList) -> Result<()> {
        match self.call(Call::PutList(list.clone()))? {
            Reply::Done => Ok(()),
            r => Err(unexpected(r)),
        }
    }
    fn lists(&self) -> Result<Vec<TrackingList>> {
        match self.call(Call::Lists)? {
            Reply::Lists(l) => Ok(l),
            r => Err(unexpected(r)),
        }
    }
    fn delivery(&self, device: DeviceId) -> Result<Option<Delivery>> {
        match self.call(Call::Delivery(device))? {
            Reply::Delivery(d) => Ok(d),
            r => Err(unexpected(r)),
        }
    }
    fn put_delivery(&self, device: DeviceId, delivery: &Delivery) -> Result<()> {
        match self.call(Call::PutDelivery(device, delivery.clone()))? {
            Reply::Done => Ok(()),
            r => Err(unexpected(r)),
        }
    }
}
