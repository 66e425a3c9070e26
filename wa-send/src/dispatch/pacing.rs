//! Pacing: token buckets per sending account (messages per second) and per
//! (account, recipient) pair (Meta's pair rate), plus the pauses a provider's "slow down"
//! imposes. Pure logic on timestamps; a message that must wait is told how long, so it
//! waits in the queue (`queued`/`retrying` with a later next attempt), not in a worker.

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

    /// Milliseconds between two messages of `account` at its pace (`None`: unpaced).
    pub(crate) fn account_interval_ms(&self, _account: &str) -> Option<u64> {
        self.rate_per_second.map(|r| 1000 / u64::from(r.max(1)))
    }

    pub(crate) fn pause_pair(&mut self, account: &str, recipient: &str, until: u64, now: u64) {
        let entry = self
            .pairs
            .entry((account.to_owned(), recipient.to_owned()))
            .or_insert_with(|| TokenBucket::new(1.0, 6000, 1.0, now));
        entry.pause(until);
    }
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
}
