//! Rate limits: one GCRA ("generic cell rate algorithm") rule, kept either in this process
//! ([`LocalLimiter`], the per-IP link-API limits and everything on SQLite) or in the
//! shared PostgreSQL database ([`SharedLimiter`], per-key plan limits and registrations
//! when several replicas serve one account), so a limit holds across replicas.
//!
//! A limit of `n` per minute admits a burst of `n`, then one request every `60/n` s. The
//! state per key is one number, the theoretical arrival time (TAT), in Unix microseconds
//! (so limits up to millions per minute keep their precision).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::Mutex;

use wa_send::queue::Database;
use wa_send::queue::sql::{Engine, Value};

const SHARDS: usize = 16;

/// The limiters' clock: Unix milliseconds, real time (tests that drive the server's clock
/// keep real-time limits).
pub fn now_ms() -> u64 {
    wa_send::Clock::unix_millis(&wa_send::SystemClock)
}

/// A limit: `per_minute` requests per minute per key, bursting to `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests per minute.
    pub per_minute: u32,
}

impl Rate {
    /// `n` per minute (1 to 60 million).
    pub fn per_minute(n: u32) -> Self {
        Rate {
            per_minute: n.clamp(1, 60_000_000),
        }
    }

    /// Microseconds one request uses of the allowance.
    fn interval_us(self) -> u64 {
        60_000_000 / u64::from(self.per_minute)
    }

    /// The whole allowance, in microseconds.
    fn window_us(self) -> u64 {
        self.interval_us() * u64::from(self.per_minute)
    }

    /// The decision for a key whose TAT is `tat` (µs) at `now_ms`, and the TAT to store
    /// if allowed.
    pub fn decide(self, tat: Option<u64>, now_ms: u64) -> (Decision, Option<u64>) {
        let now = now_ms * 1000;
        let base = tat.unwrap_or(now).max(now);
        let next = base + self.interval_us();
        if next - now <= self.window_us() {
            (self.describe(true, next, now), Some(next))
        } else {
            (self.describe(false, base, now), None)
        }
    }

    /// The state of a key without using any of its allowance.
    pub fn peek(self, tat: Option<u64>, now_ms: u64) -> Decision {
        let now = now_ms * 1000;
        self.describe(true, tat.unwrap_or(now).max(now), now)
    }

    fn describe(self, allowed: bool, tat: u64, now: u64) -> Decision {
        let t = self.interval_us();
        let used = tat.saturating_sub(now);
        let remaining = self.window_us().saturating_sub(used) / t;
        let retry_after = if allowed {
            0
        } else {
            (tat + t).saturating_sub(now + self.window_us())
        };
        Decision {
            allowed,
            limit: self.per_minute,
            remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
            reset_ms: used.div_ceil(1000),
            retry_after_ms: retry_after.div_ceil(1000),
        }
    }
}

/// What a limiter decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may go ahead.
    pub allowed: bool,
    /// The limit (requests per minute).
    pub limit: u32,
    /// Requests left now.
    pub remaining: u32,
    /// Milliseconds until the whole allowance is back.
    pub reset_ms: u64,
    /// When refused: milliseconds until a retry can succeed.
    pub retry_after_ms: u64,
}

impl Decision {
    /// Whole seconds until a retry can succeed (at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after_ms.div_ceil(1000).max(1)
    }

    /// Whole seconds until the allowance is full again.
    pub fn reset_secs(&self) -> u64 {
        self.reset_ms.div_ceil(1000)
    }
}

/// GCRA state in this process, sharded by key.
#[derive(Debug)]
pub struct LocalLimiter<K> {
    shards: Vec<Mutex<HashMap<K, u64>>>,
    hasher: RandomState,
}

impl<K: Hash + Eq + Clone> Default for LocalLimiter<K> {
    fn default() -> Self {
        LocalLimiter {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> LocalLimiter<K> {
    fn shard(&self, key: &K) -> &Mutex<HashMap<K, u64>> {
        let i = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        &self.shards[i]
    }

    /// Uses one request of `key`'s allowance, if there is one.
    pub fn check(&self, key: &K, rate: Rate, now_ms: u64) -> Decision {
        let mut map = crate::lock(self.shard(key));
        let (decision, next) = rate.decide(map.get(key).copied(), now_ms);
        if let Some(next) = next {
            map.insert(key.clone(), next);
        }
        decision
    }

    /// `key`'s state without using its allowance.
    pub fn peek(&self, key: &K, rate: Rate, now_ms: u64) -> Decision {
        rate.peek(crate::lock(self.shard(key)).get(key).copied(), now_ms)
    }

    /// Forgets keys whose allowance is full again (they are indistinguishable from new
    /// ones), so the table holds only keys active within the last minute.
    pub fn retain_recent(&self, now_ms: u64) {
        let now = now_ms * 1000;
        for shard in &self.shards {
            crate::lock(shard).retain(|_, tat| *tat > now);
        }
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| crate::lock(s).len()).sum()
    }

    /// `true` when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// GCRA state in the shared PostgreSQL database: one row per key, updated by one atomic
/// upsert (the row lock orders concurrent requests from every replica).
#[derive(Debug, Clone)]
pub struct SharedLimiter {
    db: Database,
}

impl SharedLimiter {
    /// On `db` (migrated: table `wa_rate_limits`).
    pub fn new(db: Database) -> Self {
        SharedLimiter { db }
    }

    /// Uses one request of `key`'s allowance, if there is one.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn check(
        &self,
        key: &str,
        rate: Rate,
        now_ms: u64,
    ) -> Result<Decision, wa_send::queue::StoreError> {
        let sql = match self.db.engine() {
            Engine::Postgres => {
                "INSERT INTO wa_rate_limits (key, tat, ok) VALUES ($1, $2 + $3, 1) \
                 ON CONFLICT (key) DO UPDATE SET \
                 tat = CASE WHEN GREATEST(wa_rate_limits.tat, $2) + $3 - $2 <= $4 \
                       THEN GREATEST(wa_rate_limits.tat, $2) + $3 ELSE wa_rate_limits.tat END, \
                 ok = CASE WHEN GREATEST(wa_rate_limits.tat, $2) + $3 - $2 <= $4 THEN 1 ELSE 0 END \
                 RETURNING tat, ok"
            }
            _ => {
                "INSERT INTO wa_rate_limits (key, tat, ok) VALUES ($1, $2 + $3, 1) \
                 ON CONFLICT (key) DO UPDATE SET \
                 tat = CASE WHEN MAX(wa_rate_limits.tat, $2) + $3 - $2 <= $4 \
                       THEN MAX(wa_rate_limits.tat, $2) + $3 ELSE wa_rate_limits.tat END, \
                 ok = CASE WHEN MAX(wa_rate_limits.tat, $2) + $3 - $2 <= $4 THEN 1 ELSE 0 END \
                 RETURNING tat, ok"
            }
        };
        // One atomic statement: in autocommit on PostgreSQL, a single round trip.
        let rows = self
            .db
            .write_one(
                sql,
                vec![
                    Value::from(key),
                    Value::from(now_ms * 1000),
                    Value::from(rate.interval_us()),
                    Value::from(rate.window_us()),
                ],
            )
            .await?;
        let row = rows.first().ok_or_else(|| {
            wa_send::queue::StoreError::backend("the limiter upsert returned no row")
        })?;
        let tat = row.uint(0)?;
        let allowed = row.int(1)? == 1;
        Ok(rate.describe(allowed, tat, now_ms * 1000))
    }

    /// Forgets keys whose allowance is full again.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn retain_recent(&self, now_ms: u64) -> Result<u64, wa_send::queue::StoreError> {
        self.db
            .execute(
                "DELETE FROM wa_rate_limits WHERE tat <= $1",
                vec![Value::from(now_ms * 1000)],
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_refills_one_interval_at_a_time() {
        let rate = Rate::per_minute(60); // one per second, burst 60
        let l = LocalLimiter::<&str>::default();
        for i in 0..60 {
            let d = l.check(&"k", rate, 0);
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 59 - i);
        }
        let refused = l.check(&"k", rate, 0);
        assert!(!refused.allowed);
        assert_eq!((refused.remaining, refused.retry_after_ms), (0, 1000));
        assert_eq!(refused.reset_ms, 60_000);
        assert!(!l.check(&"k", rate, 999).allowed);
        assert!(l.check(&"k", rate, 1000).allowed);
        assert!(!l.check(&"k", rate, 1000).allowed);
        // Peeking uses nothing.
        assert_eq!(l.peek(&"k", rate, 1000).remaining, 0);
        assert_eq!(l.peek(&"other", rate, 1000).remaining, 60);
        assert!(l.check(&"other", rate, 1000).allowed);
    }

    #[test]
    fn idle_keys_are_forgotten() {
        let rate = Rate::per_minute(5);
        let l = LocalLimiter::<u32>::default();
        for k in 0..1000 {
            l.check(&k, rate, 0);
        }
        assert_eq!(l.len(), 1000);
        l.retain_recent(11_999);
        assert_eq!(l.len(), 1000, "each key still has 12 s of use outstanding");
        l.retain_recent(12_000);
        assert!(l.is_empty());
    }
}
