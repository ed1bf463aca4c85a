//! The store directory: private permissions, the lock, atomic header writes.

use super::{Result, StoreError};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub const HEADER_FILE: &str = "store.header";
pub const LOCK_FILE: &str = "store.lock";
pub const DB_DIR: &str = "db";
pub const WATERMARK_FILE: &str = "store.watermark";

pub(super) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| {
        if super::is_disk_full(&source) {
            StoreError::DiskFull
        } else {
            StoreError::Io {
                action,
                path,
                source,
            }
        }
    }
}

/// Creates the store directory (and parents) with mode 0700.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io("cannot create", dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io("cannot protect", dir))
}

/// Holds the store's exclusive lock for as long as it lives. The lock is an OS
/// file lock, so it is released if the process dies. Clones share one lock, held
/// until the last clone is dropped.
#[derive(Debug, Clone)]
pub struct StoreLock {
    _file: std::sync::Arc<File>,
}

impl StoreLock {
    pub fn acquire(dir: &Path) -> Result<Self> {
        Self::acquire_named(dir, LOCK_FILE)
    }

    /// The same, with a lock file of another name (the hub's data directory).
    pub fn acquire_named(dir: &Path, name: &str) -> Result<Self> {
        let path = dir.join(name);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(io("cannot open the lock file", &path))?;
        // A lock just released can stay held for a moment by a child process
        // between fork and exec (it shares the open file), so wait briefly
        // before saying the store is in use.
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(300);
        loop {
            match file.try_lock() {
                Ok(()) => {
                    return Ok(Self {
                        _file: std::sync::Arc::new(file),
                    });
                }
                Err(fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(StoreError::OpenElsewhere(dir.to_path_buf()));
                }
                Err(fs::TryLockError::Error(e)) => return Err(io("cannot lock", &path)(e)),
            }
        }
    }
}

/// Replaces a file atomically: write a sibling, fsync it, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp: PathBuf = path.with_extension("tmp");
    let written = (|| {
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io("cannot write", &tmp))?;
        f.write_all(bytes).map_err(io("cannot write", &tmp))?;
        f.sync_all().map_err(io("cannot sync", &tmp))
    })();
    if let Err(e) = written {
        // A half-written copy is of no use to anyone (and a full disk wants the room).
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, path).map_err(io("cannot replace", path))?;
    sync_parent(path)
}

/// Swaps two directories in one step (Linux's `renameat2(RENAME_EXCHANGE)`),
/// then makes the swap durable: killed at any moment, each name holds one
/// whole directory, never neither.
pub fn exchange(a: &Path, b: &Path) -> Result<()> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        a,
        rustix::fs::CWD,
        b,
        rustix::fs::RenameFlags::EXCHANGE,
    )
    .map_err(|e| io("cannot swap", a)(e.into()))?;
    sync_parent(a)
}

/// Renames, durably (the directory holding both is synced).
pub fn rename_durably(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(io("cannot rename", from))?;
    sync_parent(to)
}

fn sync_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(parent) => File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(io("cannot sync", parent)),
        None => Ok(()),
    }
}

/// Tightens every file under `dir` to 0600 and every directory to 0700, in case
/// something was created under a looser umask. Returns the paths it had to fix.
pub fn tighten_permissions(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut fixed = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).map_err(io("cannot read", &d))? {
            let entry = entry.map_err(io("cannot read", &d))?;
            let path = entry.path();
            let meta = entry.metadata().map_err(io("cannot inspect", &path))?;
            let want = if meta.is_dir() {
                stack.push(path.clone());
                0o700
            } else {
                0o600
            };
            if meta.permissions().mode() & 0o777 != want {
                fs::set_permissions(&path, fs::Permissions::from_mode(want))
                    .map_err(io("cannot protect", &path))?;
                fixed.push(path);
            }
        }
    }
    let meta = fs::metadata(dir).map_err(io("cannot inspect", dir))?;
    if meta.permissions().mode() & 0o777 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(io("cannot protect", dir))?;
        fixed.push(dir.to_path_buf());
    }
    Ok(fixed)
}
