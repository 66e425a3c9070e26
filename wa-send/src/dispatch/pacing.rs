//! Pacing and protection: token buckets (per sending account and per recipient pair), the
//! circuit breaker, and retry backoff with jitter. Pure logic on millisecond timestamps.

use std::collections::HashMap;

/// A token bucket refilled continuously; `try_take` says how long to wait when empty.
#[derive(Debug, Clone)]
pub(crate) struct TokenBucket {
    per_ms: f64,
    capacity: f64,
    tokens: f64,
    last: u64,
    paused_until: u64,
}

impl TokenBucket {
    /// `rate` tokens per `per_ms`, holding at most `burst`.
    pub(crate) fn new(rate: f64, per_ms: u64, burst: f64, now: u64) -> Self {
        TokenBucket {
            per_ms: rate / per_ms as f64,
            capacity: burst,
            tokens: burst,
            last: now,
            paused_until: 0,
        }
    }

    fn refill(&mut self, now: u64) {
        if now > self.last {
            self.tokens = ((now - self.last) as f64)
                .mul_add(self.per_ms, self.tokens)
                .min(self.capacity);
            self.last = now;
        }
    }

    /// Takes one token, or returns the milliseconds until one is available.
    pub(crate) fn try_take(&mut self, now: u64) -> Result<(), u64> {
        if now < self.paused_until {
            return Err(self.paused_until - now);
        }
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - self.tokens) / self.per_ms).ceil() as u64).max(1))
        }
    }

    /// Refuses every take until `until` (a provider said to slow down).
    pub(crate) fn pause(&mut self, until: u64) {
        self.paused_until = self.paused_until.max(until);
    }

    fn is_idle(&mut self, now: u64) -> bool {
        self.refill(now);
        self.tokens >= self.capacity && now >= self.paused_until
    }
}

/// Per-account throughput and per-(account, recipient) pair limits.
#[derive(Debug)]
pub(crate) struct Pacing {
    rate_per_second: Option<u32>,
    pair: Option<(u64, u32)>,
    accounts: HashMap<String, TokenBucket>,
    pairs: HashMap<(String, String), TokenBucket>,
}

impl Pacing {
    pub(crate) fn new(rate_per_second: Option<u32>, pair: Option<(u64, u32)>) -> Self {
        Pacing {
            rate_per_second,
            pair,
            accounts: HashMap::new(),
            pairs: HashMap::new(),
        }
    }

    /// The account's bucket: a paced one, or the pause-only one a provider's "slow down" made.
    fn account(&mut self, account: &str, now: u64) -> Option<&mut TokenBucket> {
        if !self.accounts.contains_key(account) {
            let rate = f64::from(self.rate_per_second?);
            self.accounts
                .insert(account.to_owned(), TokenBucket::new(rate, 1000, rate, now));
        }
        self.accounts.get_mut(account)
    }

    fn pair_bucket(
        &mut self,
        account: &str,
        recipient: &str,
        now: u64,
    ) -> Option<&mut TokenBucket> {
        if self.pairs.len() > 50_000 {
            self.pairs.retain(|_, b| !b.is_idle(now));
        }
        let key = (account.to_owned(), recipient.to_owned());
        if !self.pairs.contains_key(&key) {
            let (interval, burst) = self.pair?;
            self.pairs.insert(
                key.clone(),
                TokenBucket::new(1.0, interval, f64::from(burst), now),
            );
        }
        self.pairs.get_mut(&key)
    }

    /// Takes a slot for one message, or says how long to wait.
    pub(crate) fn try_acquire(
        &mut self,
        account: &str,
        recipient: &str,
        now: u64,
    ) -> Result<(), u64> {
        // Check the pair first so a busy recipient does not burn account throughput.
        if let Some(pair) = self.pair_bucket(account, recipient, now) {
            pair.try_take(now)?;
        }
        if let Some(bucket) = self.account(account, now) {
            bucket.try_take(now)?;
        }
        Ok(())
    }

    pub(crate) fn pause_account(&mut self, account: &str, until: u64, now: u64) {
        if let Some(b) = self.account(account, now) {
            b.pause(until);
        } else {
            // Unpaced accounts still honour a provider's "slow down".
            let mut b = TokenBucket::new(1e9, 1000, 1e9, now);
            b.pause(until);
            self.accounts.insert(account.to_owned(), b);
        }
    }

    pub(crate) fn pause_pair(&mut self, account: &str, recipient: &str, until: u64, now: u64) {
        let entry = self
            .pairs
            .entry((account.to_owned(), recipient.to_owned()))
            .or_insert_with(|| TokenBucket::new(1.0, 6000, 1.0, now));
        entry.pause(until);
    }
}

/// Circuit breaker states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breaker {
    Closed { failures: u32 },
    Open { until: u64 },
    HalfOpen { probing: bool },
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker::Closed { failures: 0 }
    }
}

impl Breaker {
    /// `Some(until)` while open: enqueue fails fast.
    pub(crate) fn open_until(&self, now: u64) -> Option<u64> {
        match *self {
            Breaker::Open { until } if now < until => Some(until),
            _ => None,
        }
    }

    /// May a send go out now? After the cool-down one probe goes through (half-open).
    pub(crate) fn allow(&mut self, now: u64) -> Result<(), u64> {
        match *self {
            Breaker::Closed { .. } => Ok(()),
            Breaker::Open { until } if now < until => Err(until - now),
            Breaker::Open { .. } | Breaker::HalfOpen { probing: false } => {
                *self = Breaker::HalfOpen { probing: true };
                Ok(())
            }
            Breaker::HalfOpen { probing: true } => Err(1000),
        }
    }

    pub(crate) fn success(&mut self) {
        *self = Breaker::Closed { failures: 0 };
    }

    pub(crate) fn failure(&mut self, now: u64, threshold: u32, cooldown_ms: u64) {
        *self = match *self {
            Breaker::Closed { failures } if failures + 1 < threshold => Breaker::Closed {
                failures: failures + 1,
            },
            _ => Breaker::Open {
                until: now + cooldown_ms,
            },
        };
    }
}

/// Exponential backoff with "equal jitter": attempt n waits in `[d/2, d]` with
/// `d = base·2^(n-1)`, and exactly `max` once `d` reaches it, so delays never decrease
/// from one attempt to the next and never exceed `max`.
pub(crate) fn backoff(attempt: u32, base_ms: u64, max_ms: u64, random: u64) -> u64 {
    let exp = attempt.saturating_sub(1).min(40);
    let d = base_ms.saturating_mul(1u64 << exp);
    if d >= max_ms {
        return max_ms;
    }
    let half = d / 2;
    half + if half == 0 { 0 } else { random % (half + 1) }
}

/// splitmix64: a small, seedable jitter source.
pub(crate) fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_paces_exactly() {
        let mut b = TokenBucket::new(80.0, 1000, 80.0, 0);
        let mut sent = 0;
        // 10 simulated seconds in 1 ms steps: 80 burst + 80/s.
        for now in 0..10_000u64 {
            while b.try_take(now).is_ok() {
                sent += 1;
            }
        }
        assert!((879..=881).contains(&sent), "{sent}");
        assert!(matches!(b.try_take(10_000), Ok(()) | Err(1..=13)));
    }

    #[test]
    fn backoff_is_monotonic_and_capped() {
        let mut seed = 7;
        let mut last = 0;
        for attempt in 1..30 {
            let d = backoff(attempt, 1000, 900_000, splitmix(&mut seed));
            assert!(d >= last && d <= 900_000, "{attempt}: {d} after {last}");
            last = d;
        }
    }

    #[test]
    fn breaker_cycle() {
        let mut b = Breaker::default();
        for _ in 0..4 {
            b.failure(0, 5, 30_000);
            assert!(b.allow(0).is_ok());
        }
        b.failure(0, 5, 30_000);
        assert_eq!(b.open_until(1), Some(30_000));
        assert_eq!(b.allow(10_000), Err(20_000));
        assert!(b.allow(30_000).is_ok(), "one probe after the cool-down");
        assert!(b.allow(30_001).is_err(), "only one");
        b.failure(30_002, 5, 30_000);
        assert_eq!(b.open_until(30_003), Some(60_002));
        assert!(b.allow(60_002).is_ok());
        b.success();
        assert_eq!(b, Breaker::Closed { failures: 0 });
    }
}
