//! A hybrid logical clock (Kulkarni et al., 2014). Timestamps follow wall time
//! closely but never go backwards, and an op made after seeing another op always
//! gets a later timestamp, even when the other device's clock runs ahead.

use crate::domain::Hlc;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HlcClock {
    last: Hlc,
}

impl HlcClock {
    /// Resumes from the last timestamp this device issued or observed.
    pub fn resume(last: Hlc) -> Self {
        Self { last }
    }

    pub fn last(&self) -> Hlc {
        self.last
    }

    /// The next timestamp for a local event at wall time `now_millis`.
    pub fn tick(&mut self, now_millis: u64) -> Hlc {
        self.last = if now_millis > self.last.millis {
            Hlc::new(now_millis, 0)
        } else {
            Hlc::new(self.last.millis, self.last.counter.saturating_add(1))
        };
        self.last
    }

    /// Moves the clock past a timestamp received from elsewhere.
    pub fn observe(&mut self, remote: Hlc) {
        if remote > self.last {
            self.last = remote;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_goes_backwards_even_if_the_wall_clock_does() {
        let mut c = HlcClock::default();
        let a = c.tick(1000);
        let b = c.tick(900);
        let d = c.tick(1000);
        assert!(a < b && b < d);
        assert_eq!(a, Hlc::new(1000, 0));
        assert_eq!(b, Hlc::new(1000, 1));
    }

    #[test]
    fn events_after_observing_a_fast_peer_sort_after_it() {
        let mut c = HlcClock::default();
        c.tick(1000);
        c.observe(Hlc::new(5000, 3));
        let next = c.tick(1001);
        assert!(next > Hlc::new(5000, 3));
    }
}
