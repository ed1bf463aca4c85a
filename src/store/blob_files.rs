//! sled's large values, made durable with the rest of a flush.
//!
//! sled 0.34 writes an item larger than a quarter of its segment (128 KiB
//! here) — a leaf of summary pages, the outbox entry of a large commit, a
//! hub's leaf of large arrivals — to a file of its own in `blobs/`, and never
//! syncs that file or the directory (sled issue #1077); its log, which a flush
//! does make durable, names the file. After a power cut the log could name a
//! file that never reached the disk, and what it held would be lost though
//! acknowledged. So every flush (`DurableDb::flush`) syncs the blob files made
//! since the last one, and the directory, before it returns — before a device
//! empties its commit log, before the hub acknowledges a push.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::Mutex;

pub(crate) struct BlobFiles {
    dir: PathBuf,
    /// The files synced already: sled writes each once and never changes it.
    synced: Mutex<HashSet<OsString>>,
}

impl BlobFiles {
    /// The blob files of the database at `db_dir`. None is taken as synced:
    /// one written just before a kill may still be only in memory.
    pub(crate) fn of(db_dir: &std::path::Path) -> Self {
        Self {
            dir: db_dir.join("blobs"),
            synced: Mutex::new(HashSet::new()),
        }
    }

    /// Syncs each blob file not synced before, then the directory that names
    /// them. A file sled removes meanwhile (its value rewritten) is passed.
    pub(crate) fn sync_new(&self) -> io::Result<()> {
        let mut synced = self.synced.lock().unwrap_or_else(|p| p.into_inner());
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            // sled makes the directory with the database; none, no blobs.
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut present = HashSet::with_capacity(synced.len());
        let mut made = false;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            if !synced.contains(&name) {
                match File::open(entry.path()) {
                    Ok(file) => file.sync_all()?,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                }
                made = true;
            }
            present.insert(name);
        }
        if made {
            File::open(&self.dir)?.sync_all()?;
        }
        // Names sled has removed are forgotten: the set stays the directory's size.
        *synced = present;
        Ok(())
    }

    #[cfg(test)]
    fn synced(&self) -> HashSet<OsString> {
        self.synced.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{SledOptions, open_sled};

    fn names_in(dir: &std::path::Path) -> HashSet<OsString> {
        std::fs::read_dir(dir)
            .map(|entries| entries.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_flush_syncs_the_files_sled_keeps_large_values_in() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db");
        let options = SledOptions {
            cache_bytes: 1 << 20,
            background_flush: false,
        };
        let db = open_sled(&path, options).expect("open");
        let blobs = path.join("blobs");
        // One value over 128 KiB: sled writes it to a file of its own.
        db.insert(b"large", vec![7u8; 300 * 1024]).expect("insert");
        let written = names_in(&blobs);
        assert!(
            !written.is_empty(),
            "sled kept the value in a file of its own"
        );
        assert!(db.blob_files().synced().is_empty());
        db.flush().expect("flush");
        assert_eq!(db.blob_files().synced(), written);
        // A file sled removed is forgotten; one made since is synced next.
        db.insert(b"large", vec![8u8; 300 * 1024]).expect("rewrite");
        db.insert(b"larger", vec![9u8; 400 * 1024]).expect("insert");
        db.flush().expect("flush");
        assert_eq!(db.blob_files().synced(), names_in(&blobs));
        assert!(names_in(&blobs).len() >= 2);
    }

    #[test]
    fn no_blob_directory_is_nothing_to_sync() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = BlobFiles::of(&dir.path().join("absent"));
        assert!(files.sync_new().is_ok());
        assert!(files.synced().is_empty());
    }
}
