//! Group commit: writers that finish at about the same time share one flush.
//!
//! A flush to disk costs the same whether it carries one write or fifty, so
//! when many writers wait at once the first becomes the leader and flushes
//! everything written so far; the others find their writes already durable
//! when it returns. Writers must be numbered in the order they were applied
//! (the hub uses sequence numbers, assigned by its one writer thread).

use std::sync::{Condvar, Mutex, MutexGuard};

#[derive(Debug)]
struct Marks {
    /// Highest mark applied to the database (not necessarily on disk).
    written: u64,
    /// Highest mark known to be on disk.
    durable: u64,
    flushing: bool,
}

#[derive(Debug)]
pub struct GroupCommit {
    marks: Mutex<Marks>,
    flushed: Condvar,
}

impl GroupCommit {
    /// Everything up to `durable` is already on disk (as after opening).
    pub fn new(durable: u64) -> Self {
        Self {
            marks: Mutex::new(Marks {
                written: durable,
                durable,
                flushing: false,
            }),
            flushed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Marks> {
        self.marks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records that every write up to `mark` has been applied.
    pub fn written(&self, mark: u64) {
        let mut m = self.lock();
        m.written = m.written.max(mark);
    }

    /// The highest mark on disk: what may be promised to anyone else.
    pub fn durable(&self) -> u64 {
        self.lock().durable
    }

    /// Returns once every write up to `mark` is on disk, running `flush` (on
    /// behalf of every waiter) when no flush in progress already covers it.
    pub fn wait_durable<E>(&self, mark: u64, flush: impl Fn() -> Result<(), E>) -> Result<(), E> {
        let mut m = self.lock();
        loop {
            if m.durable >= mark {
                return Ok(());
            }
            if m.flushing {
                m = self.flushed.wait(m).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            // Lead: this flush carries everything applied before it starts.
            m.flushing = true;
            let target = m.written;
            drop(m);
            let result = flush();
            m = self.lock();
            m.flushing = false;
            if result.is_ok() {
                m.durable = m.durable.max(target);
            }
            self.flushed.notify_all();
            // A failed flush is this caller's error; waiters try again themselves.
            result?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn concurrent_writers_share_flushes_and_each_waits_for_its_own() {
        let gc = Arc::new(GroupCommit::new(0));
        let flushes = Arc::new(AtomicU64::new(0));
        let applied = Arc::new(Mutex::new(0u64));
        let on_disk = Arc::new(AtomicU64::new(0));
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (gc, flushes, applied, on_disk) = (
                    gc.clone(),
                    flushes.clone(),
                    applied.clone(),
                    on_disk.clone(),
                );
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let mark = {
                            let mut a = applied.lock().unwrap_or_else(|p| p.into_inner());
                            *a += 1;
                            gc.written(*a);
                            *a
                        };
                        gc.wait_durable(mark, || {
                            let upto = *applied.lock().unwrap_or_else(|p| p.into_inner());
                            std::thread::sleep(std::time::Duration::from_millis(1));
                            on_disk.fetch_max(upto, Ordering::SeqCst);
                            flushes.fetch_add(1, Ordering::SeqCst);
                            Ok::<(), ()>(())
                        })
                        .expect("flush");
                        assert!(
                            on_disk.load(Ordering::SeqCst) >= mark,
                            "acknowledged before durable"
                        );
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("writer");
        }
        assert_eq!(gc.durable(), 800);
        let n = flushes.load(Ordering::SeqCst);
        assert!(n < 800, "{n} flushes for 800 writes: nothing was shared");
    }

    #[test]
    fn a_failed_flush_is_reported_and_not_counted_durable() {
        let gc = GroupCommit::new(3);
        gc.written(5);
        assert_eq!(gc.wait_durable(2, || Err("disk")), Ok(()));
        assert_eq!(gc.wait_durable(5, || Err("disk")), Err("disk"));
        assert_eq!(gc.durable(), 3);
        assert_eq!(gc.wait_durable(5, || Ok::<(), &str>(())), Ok(()));
        assert_eq!(gc.durable(), 5);
    }
}
