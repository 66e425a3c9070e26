//! The per-account circuit breaker: after `threshold` consecutive transient failures the
//! circuit opens for a cool-down (new sends are refused with `circuit_open`, queued ones
//! wait without spending attempts); then one probe goes through (half-open): success
//! closes it, failure opens it again. Pure logic on timestamps.

use crate::Timestamp;

/// Circuit breaker states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breaker {
    Closed { failures: u32 },
    Open { until: Timestamp },
    HalfOpen { probing: bool },
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker::Closed { failures: 0 }
    }
}

/// What the breaker says about one send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Send normally.
    Pass,
    /// Send as the half-open probe (its failure spends no attempt).
    Probe,
    /// Wait until then.
    Wait(Timestamp),
}

impl Breaker {
    /// `Some(until)` while open: enqueue fails fast.
    pub(crate) fn open_until(&self, now: Timestamp) -> Option<Timestamp> {
        match *self {
            Breaker::Open { until } if now < until => Some(until),
            _ => None,
        }
    }

    /// May a send go out now? After the cool-down one probe goes through (half-open).
    pub(crate) fn allow(&mut self, now: Timestamp) -> Gate {
        match *self {
            Breaker::Closed { .. } => Gate::Pass,
            Breaker::Open { until } if now < until => Gate::Wait(until),
            Breaker::Open { .. } | Breaker::HalfOpen { probing: false } => {
                *self = Breaker::HalfOpen { probing: true };
                Gate::Probe
            }
            Breaker::HalfOpen { probing: true } => Gate::Wait(now.plus_millis(1000)),
        }
    }

    /// The probe was not sent after all (paced): let the next one through.
    pub(crate) fn release_probe(&mut self) {
        if *self == (Breaker::HalfOpen { probing: true }) {
            *self = Breaker::HalfOpen { probing: false };
        }
    }

    pub(crate) fn success(&mut self) {
        *self = Breaker::Closed { failures: 0 };
    }

    pub(crate) fn failure(&mut self, now: Timestamp, threshold: u32, cooldown_ms: u64) {
        *self = match *self {
            Breaker::Closed { failures } if failures + 1 < threshold => Breaker::Closed {
                failures: failures + 1,
            },
            _ => Breaker::Open {
                until: now.plus_millis(cooldown_ms),
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaker_cycle() {
        let t = Timestamp::from_millis;
        let mut b = Breaker::default();
        for _ in 0..4 {
            b.failure(t(0), 5, 30_000);
            assert_eq!(b.allow(t(0)), Gate::Pass);
        }
        b.failure(t(0), 5, 30_000);
        assert_eq!(b.open_until(t(1)), Some(t(30_000)));
        assert_eq!(b.allow(t(10_000)), Gate::Wait(t(30_000)));
        assert_eq!(
            b.allow(t(30_000)),
            Gate::Probe,
            "one probe after the cool-down"
        );
        assert!(matches!(b.allow(t(30_001)), Gate::Wait(_)), "only one");
        b.release_probe();
        assert_eq!(
            b.allow(t(30_002)),
            Gate::Probe,
            "a released probe goes again"
        );
        b.failure(t(30_002), 5, 30_000);
        assert_eq!(b.open_until(t(30_003)), Some(t(60_002)));
        assert_eq!(b.allow(t(60_002)), Gate::Probe);
        b.success();
        assert_eq!(b, Breaker::Closed { failures: 0 });
    }
}
