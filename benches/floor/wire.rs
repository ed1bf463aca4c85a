//! The physical limit of a sync over loopback, measured in the same run as
//! the hub: the same request bodies through 127.0.0.1 to a server that does
//! nothing but make each one durable — written in place into a file made
//! ready beforehand and `fdatasync`ed, the bodies that arrive together synced
//! together, as the hub's writer does — and answer once it is, with as many
//! bytes as asked. No HTTP, no decoding, no checks, no store, no TLS: what no
//! sync can do without, and what each figure of the sync bench is divided by.
//! In place because appending makes every sync a journal commit of the
//! file's size as well (several milliseconds on the bench machines), which a
//! store that allocates its space ahead, as sled does, never pays.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

/// A body to make durable and the connection's thread to tell once it is.
type ToWrite = (Vec<u8>, mpsc::Sender<()>);

pub struct FloorServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accepting: Option<JoinHandle<()>>,
}

impl FloorServer {
    /// Listens on 127.0.0.1 and appends what it is sent to a file in `dir`.
    pub fn start(dir: &Path) -> FloorServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("floor listen");
        let addr = listener.local_addr().expect("floor addr");
        let file = InPlace::new(&dir.join("floor-server.log"), 32 << 20);
        let (to_writer, writes) = mpsc::channel::<ToWrite>();
        std::thread::spawn(move || write_durably(file, writes));
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let accepting = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let to_writer = to_writer.clone();
                std::thread::spawn(move || answer(conn, &to_writer));
            }
        });
        FloorServer {
            addr,
            stop,
            accepting: Some(accepting),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for FloorServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread, which then sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
    }
}

/// One request on a connection of its own (as each sync of a device makes):
/// the body's length and the reply's, then the body; the reply, and a byte
/// that says it is durable (as the hub's answer does), once it is.
pub fn exchange(addr: SocketAddr, body: &[u8], reply_len: usize) -> Vec<u8> {
    let mut conn = TcpStream::connect(addr).expect("floor connect");
    conn.set_nodelay(true).expect("nodelay");
    let mut head = [0u8; 8];
    head[..4].copy_from_slice(&u32::try_from(body.len()).expect("size").to_le_bytes());
    head[4..].copy_from_slice(&u32::try_from(reply_len).expect("size").to_le_bytes());
    conn.write_all(&head).expect("floor send");
    conn.write_all(body).expect("floor send");
    let mut reply = vec![0u8; reply_len + 1];
    conn.read_exact(&mut reply).expect("floor reply");
    reply.truncate(reply_len);
    reply
}

fn answer(mut conn: TcpStream, to_writer: &mpsc::Sender<ToWrite>) {
    let _ = conn.set_nodelay(true);
    let mut head = [0u8; 8];
    if conn.read_exact(&mut head).is_err() {
        return; // the wake-up at stopping
    }
    let len = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize;
    let (body_len, reply_len) = (len(&head[..4]), len(&head[4..]));
    let mut body = vec![0u8; body_len];
    if conn.read_exact(&mut body).is_err() {
        return;
    }
    if body_len > 0 {
        let (durable, wait) = mpsc::channel();
        if to_writer.send((body, durable)).is_err() || wait.recv().is_err() {
            return;
        }
    }
    let _ = conn.write_all(&vec![0x5a; reply_len + 1]);
}

/// Group commit: everything waiting is written, synced once, and answered.
fn write_durably(mut file: InPlace, writes: mpsc::Receiver<ToWrite>) {
    while let Ok(first) = writes.recv() {
        let mut batch = vec![first];
        batch.extend(writes.try_iter());
        for (body, _) in &batch {
            file.write(body);
        }
        file.sync();
        for (_, durable) in batch {
            let _ = durable.send(());
        }
    }
}

/// A file whose space is written once beforehand (zeros, synced), then
/// written over in turn, so that a sync carries data and nothing else.
pub struct InPlace {
    file: File,
    size: u64,
    at: u64,
}

impl InPlace {
    pub fn new(path: &Path, size: usize) -> InPlace {
        let mut file = File::create(path).expect("floor file");
        file.write_all(&vec![0u8; size]).expect("floor file");
        file.sync_all().expect("floor file");
        InPlace {
            file,
            size: size as u64,
            at: 0,
        }
    }

    pub fn write(&mut self, bytes: &[u8]) {
        let len = bytes.len() as u64;
        assert!(len <= self.size, "a body larger than the floor's file");
        if self.at + len > self.size {
            self.at = 0;
        }
        self.file.write_all_at(bytes, self.at).expect("floor write");
        self.at += len;
    }

    pub fn sync(&self) {
        self.file.sync_data().expect("floor fdatasync");
    }
}
