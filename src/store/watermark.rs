//! The watermark file, written in place: two slots, each a block of its own,
//! written in turn and synced with one `fdatasync`.
//!
//! Replacing the file at every commit (write a copy, fsync, rename, fsync the
//! directory) cost half of a durable commit. In place, the file never changes
//! size, so `fdatasync` writes one block and no metadata. A write cut short
//! (a kill, a power cut) can spoil only the slot being written; the other
//! still holds the previous watermark, which lags the database by one commit
//! at most: the harmless direction (the database is durable before its
//! watermark is written).
//!
//! A slot: `MAGIC`, its generation (u64 LE), the sealed watermark's length
//! (u16 LE), the sealed bytes, zeros. Generation `g` lives in slot `g % 2`; the
//! newest readable slot is the watermark. The generation is bound into the
//! seal by the caller, so a slot's number cannot be changed unnoticed.
//! A file of any other size than two slots is a whole sealed watermark from
//! before slots (a few dozen bytes); the first write replaces it with slots,
//! atomically.

use super::files::{self, io};
use super::{Result, StoreError};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const MAGIC: &[u8; 8] = b"CLWMARK2";
/// One filesystem block a slot, so a torn write cannot reach the other.
const SLOT: usize = 4096;
const HEAD: usize = MAGIC.len() + 8 + 2;

/// What the file holds, not yet unsealed.
#[derive(Debug, PartialEq, Eq)]
pub enum Saved {
    /// A watermark from before slots.
    Whole(Vec<u8>),
    /// The slots whose layout is intact, newest generation first.
    Slots(Vec<(u64, Vec<u8>)>),
}

/// Reads the watermark file (`NotFound` when there is none).
pub fn read(path: &Path) -> std::io::Result<Saved> {
    Ok(parse(std::fs::read(path)?))
}

/// The file's bytes, taken apart (any bytes: a damaged file is ordinary input).
pub fn parse(bytes: Vec<u8>) -> Saved {
    if bytes.len() != 2 * SLOT {
        return Saved::Whole(bytes);
    }
    let mut slots: Vec<(u64, Vec<u8>)> = bytes.chunks(SLOT).filter_map(parse_slot).collect();
    slots.sort_by_key(|s| std::cmp::Reverse(s.0));
    Saved::Slots(slots)
}

fn parse_slot(slot: &[u8]) -> Option<(u64, Vec<u8>)> {
    let rest = slot.strip_prefix(MAGIC)?;
    let generation = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
    let len = u16::from_le_bytes(rest.get(8..10)?.try_into().ok()?) as usize;
    Some((generation, rest.get(10..10 + len)?.to_vec()))
}

fn slot_bytes(generation: u64, sealed: &[u8]) -> Result<Vec<u8>> {
    let len = u16::try_from(sealed.len())
        .ok()
        .filter(|&n| HEAD + n as usize <= SLOT)
        .ok_or_else(|| StoreError::Database("the watermark does not fit its slot".into()))?;
    let mut slot = Vec::with_capacity(SLOT);
    slot.extend_from_slice(MAGIC);
    slot.extend_from_slice(&generation.to_le_bytes());
    slot.extend_from_slice(&len.to_le_bytes());
    slot.extend_from_slice(sealed);
    slot.resize(SLOT, 0);
    Ok(slot)
}

/// Writes watermarks in place, one generation after another.
#[derive(Debug)]
pub struct WatermarkWriter {
    path: PathBuf,
    state: Mutex<Writing>,
}

#[derive(Debug)]
struct Writing {
    /// Open once the file is known to have slots.
    file: Option<File>,
    next: u64,
}

impl WatermarkWriter {
    /// A writer that will make the file anew (with slots) at its first write.
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            state: Mutex::new(Writing {
                file: None,
                next: 1,
            }),
        }
    }

    /// Continues a file with slots whose newest readable generation is `newest`.
    pub fn resume_after(&self, newest: u64) -> Result<()> {
        let file = OpenOptions::new()
            .write(true)
            .open(&self.path)
            .map_err(io("cannot open", &self.path))?;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *state = Writing {
            file: Some(file),
            next: newest + 1,
        };
        Ok(())
    }

    /// Writes the next generation, durably; `seal` seals the watermark bound
    /// to the generation it is given.
    pub fn write(&self, seal: impl FnOnce(u64) -> Result<Vec<u8>>) -> Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let generation = state.next;
        let slot = slot_bytes(generation, &seal(generation)?)?;
        match &state.file {
            Some(file) => {
                let at = (generation % 2) * SLOT as u64;
                file.write_all_at(&slot, at)
                    .and_then(|()| file.sync_data())
                    .map_err(io("cannot write", &self.path))?;
            }
            None => {
                // Made whole, both slots, so the file's size never changes again.
                let mut whole = vec![0u8; 2 * SLOT];
                let at = (generation % 2) as usize * SLOT;
                whole[at..at + SLOT].copy_from_slice(&slot);
                files::write_atomic(&self.path, &whole)?;
                state.file = Some(
                    OpenOptions::new()
                        .write(true)
                        .open(&self.path)
                        .map_err(io("cannot open", &self.path))?,
                );
            }
        }
        state.next = generation + 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(generation: u64) -> Result<Vec<u8>> {
        Ok(format!("watermark {generation}").into_bytes())
    }

    fn newest(path: &Path) -> (u64, Vec<u8>) {
        match read(path).unwrap() {
            Saved::Slots(slots) => slots[0].clone(),
            Saved::Whole(_) => panic!("no slots"),
        }
    }

    #[test]
    fn generations_alternate_slots_in_a_file_that_never_changes_size() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("store.watermark");
        let w = WatermarkWriter::new(path.clone());
        for _ in 0..5 {
            w.write(plain).unwrap();
            assert_eq!(std::fs::metadata(&path).unwrap().len(), 2 * SLOT as u64);
        }
        assert_eq!(newest(&path), (5, b"watermark 5".to_vec()));
        match read(&path).unwrap() {
            Saved::Slots(slots) => assert_eq!(slots[1].0, 4),
            Saved::Whole(_) => panic!("no slots"),
        }
        // Reopened: it goes on from the newest.
        let again = WatermarkWriter::new(path.clone());
        again.resume_after(5).unwrap();
        again.write(plain).unwrap();
        assert_eq!(newest(&path), (6, b"watermark 6".to_vec()));
    }

    #[test]
    fn a_torn_slot_leaves_the_one_before() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("store.watermark");
        let w = WatermarkWriter::new(path.clone());
        w.write(plain).unwrap();
        w.write(plain).unwrap();
        // Generation 2 lives in slot 0: spoil its head, as a torn write would.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[3] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(newest(&path), (1, b"watermark 1".to_vec()));
    }

    #[test]
    fn a_watermark_from_before_slots_is_read_whole_then_replaced_by_slots() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("store.watermark");
        std::fs::write(&path, b"\x01sealed").unwrap();
        assert_eq!(read(&path).unwrap(), Saved::Whole(b"\x01sealed".to_vec()));
        WatermarkWriter::new(path.clone()).write(plain).unwrap();
        assert_eq!(newest(&path), (1, b"watermark 1".to_vec()));
    }

    #[test]
    fn a_watermark_too_long_for_its_slot_is_refused_and_nothing_written() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("store.watermark");
        let w = WatermarkWriter::new(path.clone());
        assert!(w.write(|_| Ok(vec![0; SLOT])).is_err());
        assert!(!path.exists());
    }
}
