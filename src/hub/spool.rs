//! A write too large to hold in memory (a whole council's cohort import),
//! handed to the hub's writer through a file in its data directory rather
//! than in one piece: the importer writes each part as it works it out, and
//! the writer reads the parts back one at a time and writes them all or
//! nothing (`store/whole.rs`). Neither side ever holds the whole.
//!
//! The file holds young people's records, so each part is sealed, under a key
//! made for this one spool and never written down: the importer hands it to
//! the writer in memory (through the admin socket when the hub is running,
//! usable only by the hub's OS user). A spool left by a killed importer can
//! no longer be opened by anyone, and is removed when the hub next opens.

use crate::domain::Op;
use crate::store::crypto::{Sealer, SecretKey};
use crate::store::{Result, StoreError};
use serde::{Deserialize, Serialize};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const PREFIX: &str = "import-";
const SUFFIX: &str = ".spool";
const DOMAIN: &[u8] = b"caseload-spool\x01";
/// No part is larger (a damaged length cannot make the writer allocate more).
const MAX_PART_BYTES: usize = 256 * 1024 * 1024;

/// Where a finished spool is, and the key to open it.
#[derive(Clone, Serialize, Deserialize)]
pub struct SpoolRef {
    pub path: PathBuf,
    key: [u8; 32],
}

impl std::fmt::Debug for SpoolRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("SpoolRef")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io {
        action,
        path,
        source,
    }
}

/// A spool being written. Dropping it removes the file.
pub struct SpoolWriter {
    file: BufWriter<std::fs::File>,
    path: PathBuf,
    sealer: Sealer,
    parts: u64,
}

impl SpoolWriter {
    /// A new spool (mode 0600) in `dir`, the hub's data directory.
    pub fn create(dir: &Path) -> Result<Self> {
        let key = SecretKey::random()?;
        let name: [u8; 8] = crate::store::crypto::random_bytes()?;
        let hex: String = name.iter().map(|b| format!("{b:02x}")).collect();
        let path = std::path::absolute(dir.join(format!("{PREFIX}{hex}{SUFFIX}")))
            .map_err(io("find", dir))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&path).map_err(io("create", &path))?;
        Ok(Self {
            file: BufWriter::new(file),
            path,
            sealer: Sealer::new(key, DOMAIN),
            parts: 0,
        })
    }

    /// Appends one part: its length (u32 LE), then the ops sealed, bound to
    /// their place in the spool.
    pub fn push(&mut self, ops: &[Op]) -> Result<()> {
        let sealed = self.sealer.seal("part", &self.parts.to_be_bytes(), &ops)?;
        let len = u32::try_from(sealed.len())
            .ok()
            .filter(|&n| n as usize <= MAX_PART_BYTES)
            .ok_or_else(|| StoreError::Database("a part of the import is too large".into()))?;
        self.file
            .write_all(&len.to_le_bytes())
            .and_then(|()| self.file.write_all(&sealed))
            .map_err(io("write", &self.path))?;
        self.parts += 1;
        Ok(())
    }

    /// Everything pushed, written out: where the writer finds it. (No fsync:
    /// nothing is acknowledged until the writer's commit point.)
    pub fn finish(&mut self) -> Result<SpoolRef> {
        self.file.flush().map_err(io("write", &self.path))?;
        Ok(SpoolRef {
            path: self.path.clone(),
            key: *self.sealer.key().expose(),
        })
    }
}

impl Drop for SpoolWriter {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A spool read back, part by part.
pub struct SpoolReader {
    file: BufReader<std::fs::File>,
    path: PathBuf,
    sealer: Sealer,
    parts: u64,
}

impl SpoolReader {
    /// Only a spool in the hub's own data directory is read.
    pub fn open(spool: &SpoolRef, data_dir: &Path) -> Result<Self> {
        let refused =
            || StoreError::Database("the import's spool is not in the hub's data directory".into());
        let dir = std::fs::canonicalize(data_dir).map_err(io("find", data_dir))?;
        let path = std::fs::canonicalize(&spool.path).map_err(io("open", &spool.path))?;
        let is_spool = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX));
        if path.parent() != Some(dir.as_path()) || !is_spool {
            return Err(refused());
        }
        let file = std::fs::File::open(&path).map_err(io("open", &path))?;
        Ok(Self {
            file: BufReader::new(file),
            path,
            sealer: Sealer::new(SecretKey::from_bytes(spool.key), DOMAIN),
            parts: 0,
        })
    }

    /// The next part, None at the end. A part cut short, reordered or
    /// altered is an error (each is sealed with its place).
    pub fn next_part(&mut self) -> Result<Option<Vec<Op>>> {
        let mut len = [0u8; 4];
        match self.file.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(io("read", &self.path)(e)),
        }
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_PART_BYTES {
            return Err(damaged());
        }
        let mut sealed = vec![0u8; len];
        self.file.read_exact(&mut sealed).map_err(|_| damaged())?;
        let ops: Vec<Op> = self
            .sealer
            .unseal("part", &self.parts.to_be_bytes(), &sealed)
            .map_err(|_| damaged())?;
        self.parts += 1;
        Ok(Some(ops))
    }
}

fn damaged() -> StoreError {
    StoreError::Database("the import's spool is damaged; nothing was imported".into())
}

/// Removes spools left by importers that were killed (they cannot be opened:
/// their keys were never written down).
pub fn remove_leftovers(data_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(PREFIX) && name.ends_with(SUFFIX) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(n: usize, seed: u64) -> Vec<Op> {
        crate::demo::DemoCohort::test_ops(n, seed)
    }

    #[test]
    fn parts_come_back_in_order_and_the_file_goes_with_the_writer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (ops(3, 1), ops(5, 2));
        let mut writer = SpoolWriter::create(dir.path()).expect("create");
        writer.push(&a).expect("a");
        writer.push(&b).expect("b");
        let spool = writer.finish().expect("finish");
        let raw = std::fs::read(&spool.path).expect("read");
        let plain = postcard::to_allocvec(&a).expect("encode");
        assert!(
            !raw.windows(32).any(|w| w == &plain[..32]),
            "sealed, not plain"
        );
        let mut reader = SpoolReader::open(&spool, dir.path()).expect("open");
        assert_eq!(reader.next_part().expect("1"), Some(a));
        assert_eq!(reader.next_part().expect("2"), Some(b));
        assert_eq!(reader.next_part().expect("end"), None);
        assert!(!format!("{spool:?}").contains(&format!("{:?}", spool.key)));
        drop(writer);
        assert!(!spool.path.exists(), "removed with its writer");
    }

    #[test]
    fn a_damaged_or_foreign_spool_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut writer = SpoolWriter::create(dir.path()).expect("create");
        writer.push(&ops(3, 1)).expect("a");
        writer.push(&ops(3, 2)).expect("b");
        let spool = writer.finish().expect("finish");
        // A byte changed in the second part: the first still reads.
        let mut raw = std::fs::read(&spool.path).expect("read");
        let last = raw.len() - 10;
        raw[last] ^= 1;
        std::fs::write(&spool.path, &raw).expect("write");
        let mut reader = SpoolReader::open(&spool, dir.path()).expect("open");
        assert!(reader.next_part().expect("first").is_some());
        assert!(reader.next_part().is_err());
        // Cut short.
        std::fs::write(&spool.path, &raw[..raw.len() / 2]).expect("write");
        let mut reader = SpoolReader::open(&spool, dir.path()).expect("open");
        assert!(reader.next_part().and_then(|_| reader.next_part()).is_err());
        // Another directory's file is never read.
        let other = tempfile::tempdir().expect("tempdir");
        assert!(SpoolReader::open(&spool, other.path()).is_err());
        let outside = SpoolRef {
            path: other.path().join("x"),
            ..spool
        };
        assert!(SpoolReader::open(&outside, dir.path()).is_err());
    }
}
