//! When to try again: one [`RetryPolicy`] value with a pure decision, used for message
//! sends ([`RetryPolicy::messages`]) and webhook deliveries ([`RetryPolicy::webhooks`]).
//!
//! Delays grow exponentially from `base`, capped at `max`, with "equal jitter" (attempt n
//! waits in `[d/2, d]` with `d = base·2^(n-1)`, exactly `max` once `d` reaches it), so they
//! never shrink from one attempt to the next. A retry is given up after `max_attempts`, or
//! when it would fall beyond `horizon` after the first attempt. A provider's own hint
//! (`Retry-After`) is a floor. Rate-limit answers wait the same way but spend no attempt
//! ([`RetryPolicy::next_throttled`]).

use std::time::Duration;

/// How a failure is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts before a retryable failure becomes final.
    pub max_attempts: u32,
    /// The first retry's delay.
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
    /// No retry is scheduled later than this after the first attempt.
    pub horizon: Duration,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try again after this delay.
    RetryIn(Duration),
    /// Stop: the failure is final.
    GiveUp,
}

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

impl RetryPolicy {
    /// Message sends: 2 s doubling to 2 h, retried for 24 h (at most 30 attempts): a
    /// transient failure stays alive for a day, like the webhook standards' multi-day
    /// schedules.
    pub const fn messages() -> Self {
        RetryPolicy {
            max_attempts: 30,
            base: secs(2),
            max: secs(2 * 3600),
            horizon: secs(24 * 3600),
        }
    }

    /// Webhook deliveries: 5 s doubling to 10 h, up to 12 attempts within 3 days.
    pub const fn webhooks() -> Self {
        RetryPolicy {
            max_attempts: 12,
            base: secs(5),
            max: secs(10 * 3600),
            horizon: secs(3 * 24 * 3600),
        }
    }

    /// Never retry.
    pub const fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            base: secs(0),
            max: secs(0),
            horizon: secs(0),
        }
    }

    /// The delay before retry number `n` (1-based), from `random` bits.
    pub fn delay(&self, n: u32, random: u64) -> Duration {
        let base = self.base.as_millis() as u64;
        let max = self.max.as_millis() as u64;
        let exp = n.saturating_sub(1).min(40);
        let d = base.saturating_mul(1u64 << exp);
        if d >= max {
            return self.max;
        }
        let half = d / 2;
        Duration::from_millis(half + if half == 0 { 0 } else { random % (half + 1) })
    }

    /// After `attempts` attempts (the failed one included), `elapsed` after the first:
    /// retry or give up. `hint` is the provider's own wait, a floor for the delay.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use wa_send::{Next, RetryPolicy};
    /// let p = RetryPolicy::messages();
    /// assert_eq!(p.next(1, Duration::ZERO, false, None, 0), Next::GiveUp);
    /// assert_eq!(p.next(1, Duration::ZERO, true, Some(Duration::from_secs(30)), 0), Next::RetryIn(Duration::from_secs(30)));
    /// assert_eq!(p.next(30, Duration::ZERO, true, None, 0), Next::GiveUp);
    /// ```
    pub fn next(
        &self,
        attempts: u32,
        elapsed: Duration,
        retryable: bool,
        hint: Option<Duration>,
        random: u64,
    ) -> Next {
        if !retryable || attempts >= self.max_attempts {
            return Next::GiveUp;
        }
        self.within_horizon(self.delay(attempts, random), elapsed, hint)
    }

    /// After a rate-limit answer (the `throttles`-th in a row): wait, without spending an
    /// attempt, unless the wait would pass the horizon.
    pub fn next_throttled(
        &self,
        throttles: u32,
        elapsed: Duration,
        hint: Option<Duration>,
        random: u64,
    ) -> Next {
        self.within_horizon(self.delay(throttles, random), elapsed, hint)
    }

    fn within_horizon(&self, delay: Duration, elapsed: Duration, hint: Option<Duration>) -> Next {
        let delay = delay.max(hint.unwrap_or(Duration::ZERO));
        if elapsed + delay > self.horizon {
            Next::GiveUp
        } else {
            Next::RetryIn(delay)
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::messages()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wa_validate::random::SplitMix64;

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn decision_table() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: s(2),
            max: s(60),
            horizon: s(600),
        };
        // (attempts, elapsed, retryable, hint, random) -> next
        type Row = (u32, u64, bool, Option<u64>, u64, Next);
        let table: &[Row] = &[
            (1, 0, false, None, 0, Next::GiveUp),
            (1, 0, true, None, 0, Next::RetryIn(s(1))),
            (1, 0, true, None, 1000, Next::RetryIn(s(2))),
            (2, 0, true, None, 0, Next::RetryIn(s(2))),
            (3, 0, true, None, 2000, Next::RetryIn(s(6))),
            (5, 0, true, None, 0, Next::GiveUp),
            (4, 0, true, Some(100), 0, Next::RetryIn(s(100))),
            (4, 595, true, None, 0, Next::GiveUp),
            (4, 500, true, None, 0, Next::RetryIn(s(8))),
        ];
        for &(attempts, elapsed, retryable, hint, random, want) in table {
            let got = p.next(attempts, s(elapsed), retryable, hint.map(s), random);
            assert_eq!(
                got, want,
                "{attempts} {elapsed} {retryable} {hint:?} {random}"
            );
        }
        assert_eq!(p.next_throttled(40, s(0), None, 0), Next::RetryIn(s(60)));
        assert_eq!(p.next_throttled(40, s(560), None, 0), Next::GiveUp);
    }

    #[test]
    fn delays_are_monotonic_and_capped() {
        let mut rng = SplitMix64::new(7);
        for p in [RetryPolicy::messages(), RetryPolicy::webhooks()] {
            let mut last = Duration::ZERO;
            for n in 1..60 {
                let d = p.delay(n, rng.next_u64());
                assert!(d >= last && d <= p.max, "{n}: {d:?} after {last:?}");
                last = d;
            }
        }
    }

    #[test]
    fn default_message_policy_retries_for_a_day() {
        let p = RetryPolicy::messages();
        let (mut elapsed, mut attempts) = (Duration::ZERO, 1);
        while let Next::RetryIn(d) = p.next(attempts, elapsed, true, None, u64::MAX) {
            elapsed += d;
            attempts += 1;
        }
        assert!(
            elapsed >= s(22 * 3600) && elapsed <= p.horizon,
            "{elapsed:?} over {attempts}"
        );
        assert!(
            attempts < p.max_attempts,
            "the horizon, not the count, ends it"
        );
    }
}
