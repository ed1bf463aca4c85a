//! Which device pushed the recent sequence numbers, in memory only: so a
//! device's pull can pass over the ops it pushed itself without reading and
//! decrypting them (they are never sent back to it). Measured: after a push
//! of 1,000, that device's pull read and decrypted those 1,000 only to leave
//! them out, 5.3–6.2 ms of a 6 ms pull (docs/benchmarks.md).
//!
//! Only what a committed push wrote is noted (never a write that may be
//! rolled back), and nothing survives a restart: a sequence number not noted
//! here is read as before, so the note can only save work, never hide an op.

use crate::domain::DeviceId;
use std::collections::VecDeque;

/// Runs of consecutive sequence numbers and the device that pushed them,
/// oldest first; the oldest are forgotten past `RUNS`.
#[derive(Default)]
pub(super) struct PushedBy {
    runs: VecDeque<Run>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    first: u64,
    last: u64,
    device: DeviceId,
}

/// Enough for every push of the last hours at a busy hub (each push is one
/// run); 40 bytes each.
const RUNS: usize = 16_384;

impl PushedBy {
    /// Notes that `device` pushed the ops numbered `first..=last`, written
    /// after everything noted so far.
    pub(super) fn note(&mut self, first: u64, last: u64, device: DeviceId) {
        if last < first || self.runs.back().is_some_and(|r| r.last >= first) {
            // Out of order would break the search below: note nothing.
            return;
        }
        match self.runs.back_mut() {
            Some(r) if r.device == device && r.last + 1 == first => r.last = last,
            _ => self.runs.push_back(Run {
                first,
                last,
                device,
            }),
        }
        if self.runs.len() > RUNS {
            self.runs.pop_front();
        }
    }

    /// The device that pushed op `seq`, when noted.
    pub(super) fn device_of(&self, seq: u64) -> Option<DeviceId> {
        let i = self.runs.partition_point(|r| r.last < seq);
        self.runs
            .get(i)
            .filter(|r| r.first <= seq)
            .map(|r| r.device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(n: u128) -> DeviceId {
        DeviceId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn knows_each_noted_number_and_nothing_else() {
        let mut by = PushedBy::default();
        by.note(3, 5, device(1));
        by.note(6, 6, device(1));
        by.note(9, 12, device(2));
        assert_eq!(
            by.runs.len(),
            2,
            "a device's consecutive pushes are one run"
        );
        for (seq, want) in [
            (2, None),
            (3, Some(device(1))),
            (6, Some(device(1))),
            (7, None),
            (9, Some(device(2))),
            (12, Some(device(2))),
            (13, None),
        ] {
            assert_eq!(by.device_of(seq), want, "seq {seq}");
        }
        // Out of order or backwards: ignored, never a wrong answer.
        by.note(4, 4, device(3));
        by.note(20, 19, device(3));
        assert_eq!(by.device_of(4), Some(device(1)));
        assert_eq!(by.device_of(19), None);
    }

    #[test]
    fn forgets_the_oldest_runs_first() {
        let mut by = PushedBy::default();
        for i in 0..(RUNS as u64 + 10) {
            by.note(i * 2, i * 2, device(u128::from(i % 2)));
        }
        assert_eq!(by.runs.len(), RUNS);
        assert_eq!(by.device_of(0), None);
        assert_eq!(by.device_of(RUNS as u64 * 2 + 18), Some(device(1)));
    }
}
