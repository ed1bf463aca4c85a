//! The commit log: what makes a commit durable with one write and one
//! `fdatasync`.
//!
//! Making sled durable at every commit cost three to four syncs (sled's own
//! `sync_file_range` per buffer, then `fdatasync` of its file, then the
//! watermark's) and ~25 KB written for a ~100 B contact: 7.5 times one write
//! and `fdatasync`. So a commit is applied to sled in memory and its ops are
//! written, sealed, to this log, in place in a file made full-size once (so a
//! write changes no metadata and cannot meet a full disk): one `pwrite`, one
//! `fdatasync`. The store makes sled durable now and then (a *checkpoint*:
//! when the log is full, on every other kind of change, on closing), then
//! empties the log. Opening replays what the log holds; a commit is skipped
//! when its ops are held already, so replaying twice changes nothing.
//!
//! A record: `MAGIC`, the cycle (16 random bytes, new at each emptying), the
//! record's number in the cycle (u64 LE), the sealed bytes' length (u32 LE),
//! the sealed bytes (bound to the cycle and number). Records of a cycle start
//! at offset 0 and follow one another; reading stops at the first that is not
//! the next of the first record's cycle, so a record torn by a crash, and
//! whatever an earlier cycle left beyond it, are never read. Emptying zeroes
//! the first record's head and syncs it.

use super::files::io;
use super::{Result, StoreError};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const LOG_FILE: &str = "store.log";
/// The log's fixed size: about 330 contacts (a record of one is about 200 B)
/// between checkpoints, and so at most that many replayed at the next open
/// after a crash. A larger log was tried and not kept: a pulled page then
/// fitted, but saving the pull's progress (not a commit) makes a checkpoint
/// at once, so the page was applied to sled in the same sync all the same
/// (docs/benchmarks.md).
pub const CAPACITY: u64 = 64 * 1024;
const MAGIC: &[u8; 4] = b"CLL1";
const HEAD: usize = MAGIC.len() + 16 + 8 + 4;

/// A record as read back, still sealed: its cycle, number and bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Record {
    pub cycle: [u8; 16],
    pub number: u64,
    pub sealed: Vec<u8>,
}

impl Record {
    /// What the seal is bound to: the record's cycle and number.
    pub fn binding(cycle: &[u8; 16], number: u64) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[..16].copy_from_slice(cycle);
        b[16..].copy_from_slice(&number.to_le_bytes());
        b
    }
}

/// The records a log holds, in order (any bytes: a damaged file is ordinary
/// input and yields the records before the damage).
pub fn parse(bytes: &[u8]) -> Vec<Record> {
    let mut records: Vec<Record> = Vec::new();
    let mut at = 0usize;
    while let Some(head) = bytes.get(at..at + HEAD) {
        if &head[..4] != MAGIC {
            break;
        }
        let cycle: [u8; 16] = head[4..20].try_into().unwrap_or_default();
        let number = u64::from_le_bytes(head[20..28].try_into().unwrap_or_default());
        let len = u32::from_le_bytes(head[28..32].try_into().unwrap_or_default()) as usize;
        let next = match records.last() {
            None => true,
            Some(last) => last.cycle == cycle && last.number + 1 == number,
        };
        let Some(sealed) = bytes.get(at + HEAD..at + HEAD + len) else {
            break;
        };
        if !next || cycle == [0; 16] {
            break;
        }
        records.push(Record {
            cycle,
            number,
            sealed: sealed.to_vec(),
        });
        at += HEAD + len;
    }
    records
}

/// The records of the first `len` bytes of `file`: its first record's head
/// alone when the log is empty (as after every clean close), else all of it.
fn read_records(file: &File, len: u64) -> std::io::Result<Vec<Record>> {
    let mut head = [0u8; HEAD];
    if len < HEAD as u64 {
        return Ok(Vec::new());
    }
    file.read_exact_at(&mut head, 0)?;
    // Emptying zeroes the first head; a new cycle is never all zeros.
    if &head[..4] != MAGIC || head[4..20] == [0; 16] {
        return Ok(Vec::new());
    }
    let mut bytes = vec![0u8; len as usize];
    file.read_exact_at(&mut bytes, 0)?;
    Ok(parse(&bytes))
}

#[derive(Debug)]
struct Writing {
    cycle: [u8; 16],
    next: u64,
    at: u64,
}

/// Appends records in place; empties the log after a checkpoint.
#[derive(Debug)]
pub struct CommitLog {
    path: PathBuf,
    file: File,
    state: Mutex<Writing>,
}

/// Why a record was not written.
#[derive(Debug)]
pub enum Refused {
    /// No room left before a checkpoint: nothing was written.
    Full,
    Failed(StoreError),
}

impl CommitLog {
    /// Opens the log at `path`, making it full-size (zeros, synced) if it is
    /// missing or not full-size; returns it with the records it holds.
    pub fn open(path: &Path) -> Result<(Self, Vec<Record>)> {
        let open = || {
            OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
        };
        let (file, records) = match open() {
            Ok(file) => {
                let len = file.metadata().map_err(io("cannot read", path))?.len();
                let records =
                    read_records(&file, len.min(CAPACITY)).map_err(io("cannot read", path))?;
                if len == CAPACITY {
                    (file, records)
                } else {
                    // Another size (a log of an earlier, smaller capacity, or
                    // a damaged one): its records are kept and the file made
                    // full-size, once, so that every later write is in place.
                    let mut bytes = vec![0u8; CAPACITY as usize];
                    file.read_exact_at(&mut bytes[..len.min(CAPACITY) as usize], 0)
                        .map_err(io("cannot read", path))?;
                    super::files::write_atomic(path, &bytes)?;
                    (open().map_err(io("cannot open", path))?, records)
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Made whole once, so that every later write is in place.
                super::files::write_atomic(path, &vec![0u8; CAPACITY as usize])?;
                (open().map_err(io("cannot open", path))?, Vec::new())
            }
            Err(e) => return Err(io("cannot open", path)(e)),
        };
        let log = Self {
            path: path.to_path_buf(),
            file,
            state: Mutex::new(Writing {
                cycle: [0; 16],
                next: 0,
                at: 0,
            }),
        };
        // Appending goes on after what is held (replayed by the caller), in
        // the same cycle; an empty log starts a new one.
        {
            let mut w = log.lock();
            match records.last() {
                Some(last) => {
                    w.cycle = last.cycle;
                    w.next = last.number + 1;
                    w.at = records.iter().map(|r| (HEAD + r.sealed.len()) as u64).sum();
                }
                None => w.cycle = new_cycle()?,
            }
        }
        Ok((log, records))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Writing> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether anything is held since the last emptying.
    pub fn is_empty(&self) -> bool {
        self.lock().at == 0
    }

    /// Whether a record of `sealed_len` sealed bytes fits in the log at all
    /// (emptied first if need be).
    pub fn could_hold(sealed_len: usize) -> bool {
        (HEAD + sealed_len) as u64 <= CAPACITY
    }

    /// Writes the next record durably; `seal` seals it bound to the binding
    /// it is given ([`Record::binding`]).
    pub fn append(
        &self,
        seal: impl FnOnce(&[u8; 24]) -> Result<Vec<u8>>,
    ) -> std::result::Result<(), Refused> {
        let mut w = self.lock();
        let sealed = seal(&Record::binding(&w.cycle, w.next)).map_err(Refused::Failed)?;
        let len = u32::try_from(sealed.len()).map_err(|_| Refused::Full)?;
        let end = w.at + (HEAD + sealed.len()) as u64;
        if end > CAPACITY {
            return Err(Refused::Full);
        }
        let mut record = Vec::with_capacity(HEAD + sealed.len());
        record.extend_from_slice(MAGIC);
        record.extend_from_slice(&w.cycle);
        record.extend_from_slice(&w.next.to_le_bytes());
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&sealed);
        self.file
            .write_all_at(&record, w.at)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| Refused::Failed(write_error(&self.path, e)))?;
        w.at = end;
        w.next += 1;
        Ok(())
    }

    /// Empties the log (after a checkpoint made everything in it durable
    /// elsewhere): the first record's head is zeroed and synced, and a new
    /// cycle begins.
    pub fn empty(&self) -> Result<()> {
        let mut w = self.lock();
        if w.at == 0 {
            return Ok(());
        }
        self.file
            .write_all_at(&[0u8; HEAD], 0)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| write_error(&self.path, e))?;
        *w = Writing {
            cycle: new_cycle()?,
            next: 0,
            at: 0,
        };
        Ok(())
    }
}

fn write_error(path: &Path, e: std::io::Error) -> StoreError {
    io("cannot write", path)(e)
}

fn new_cycle() -> Result<[u8; 16]> {
    let mut c = [0u8; 16];
    getrandom::getrandom(&mut c)
        .map_err(|e| StoreError::Database(format!("no randomness: {e}")))?;
    // All zeros marks an emptied log.
    c[0] |= 1;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(n: u8) -> impl FnOnce(&[u8; 24]) -> Result<Vec<u8>> {
        move |binding| {
            let mut v = binding.to_vec();
            v.push(n);
            Ok(v)
        }
    }

    /// A new log in a temporary directory, holding `records` records
    /// (numbered from 0, each ending in its number).
    fn log_holding(records: u8) -> (tempfile::TempDir, PathBuf, CommitLog) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(LOG_FILE);
        let (log, _) = CommitLog::open(&path).unwrap();
        for n in 0..records {
            log.append(plain(n)).unwrap();
        }
        (tmp, path, log)
    }

    #[test]
    fn records_are_read_back_in_order_and_appending_goes_on_after_them() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(LOG_FILE);
        let (log, held) = CommitLog::open(&path).unwrap();
        assert!(held.is_empty() && log.is_empty());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), CAPACITY);
        for n in 0..3 {
            log.append(plain(n)).unwrap();
        }
        drop(log);
        let (log, held) = CommitLog::open(&path).unwrap();
        assert_eq!(held.len(), 3);
        assert_eq!(held.iter().map(|r| r.number).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(held[2].sealed.last(), Some(&2));
        log.append(plain(3)).unwrap();
        drop(log);
        let (_, held) = CommitLog::open(&path).unwrap();
        assert_eq!(held.len(), 4);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), CAPACITY);
    }

    #[test]
    fn an_emptied_log_reads_nothing_and_an_older_cycle_is_never_read() {
        let (_tmp, path, log) = log_holding(5);
        log.empty().unwrap();
        drop(log);
        let (log, held) = CommitLog::open(&path).unwrap();
        assert!(held.is_empty(), "emptied");
        // A new cycle writes over the start; what the old one left beyond it
        // (records of the same size, numbered 1 to 4) is not read.
        log.append(plain(9)).unwrap();
        drop(log);
        let (_, held) = CommitLog::open(&path).unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].sealed.last(), Some(&9));
    }

    #[test]
    fn a_log_of_another_size_keeps_its_records_and_is_made_full_size() {
        let (_tmp, path, log) = log_holding(3);
        drop(log);
        // Cut short (the log's head and records intact): its records count.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(1024);
        std::fs::write(&path, &bytes).unwrap();
        let (log, held) = CommitLog::open(&path).unwrap();
        assert_eq!(held.len(), 3, "nothing acknowledged is lost");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), CAPACITY);
        log.append(plain(3)).unwrap();
        drop(log);
        let (_, held) = CommitLog::open(&path).unwrap();
        assert_eq!(
            held.iter().map(|r| r.number).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        // A file too short to hold a head reads as empty.
        std::fs::write(&path, [0u8; 5]).unwrap();
        let (_, held) = CommitLog::open(&path).unwrap();
        assert!(held.is_empty());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), CAPACITY);
    }

    #[test]
    fn a_torn_record_ends_the_log_and_a_full_log_refuses() {
        let (_tmp, path, log) = log_holding(2);
        drop(log);
        let mut bytes = std::fs::read(&path).unwrap();
        let second = HEAD + 25;
        bytes[second] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let (log, held) = CommitLog::open(&path).unwrap();
        assert_eq!(held.len(), 1, "the torn second record is not read");
        assert!(matches!(
            log.append(|_| Ok(vec![0; CAPACITY as usize])),
            Err(Refused::Full)
        ));
        assert_eq!(parse(&[]), vec![]);
        assert_eq!(parse(&[0xff; 100]), vec![]);
    }
}
