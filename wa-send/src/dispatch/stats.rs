//! Counters of what the dispatcher did, for logs and metrics (the server exports them).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::Timestamp;

/// What the dispatcher has done since it started. Every field only grows, except
/// `last_tick`, the last time the send loop ran (readiness probes look at it).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct DispatchStats {
    /// Messages handed to a backend.
    pub attempts: AtomicU64,
    /// Messages the provider accepted.
    pub sent: AtomicU64,
    /// Messages failed for good.
    pub failed: AtomicU64,
    /// Transient failures scheduled for another attempt.
    pub retried: AtomicU64,
    /// Rate-limit answers (waited out without spending an attempt).
    pub throttled: AtomicU64,
    /// Messages found in flight with an expired lease (outcome unknown).
    pub unknown_outcomes: AtomicU64,
    /// Messages whose unknown outcome a provider status resolved.
    pub reconciled: AtomicU64,
    /// Messages sent again after an unknown outcome.
    pub resent_after_unknown: AtomicU64,
    /// Store operations that failed (each is logged; writes of outcomes are retried).
    pub store_errors: AtomicU64,
    /// Provider statuses applied.
    pub statuses_applied: AtomicU64,
    /// Webhook delivery attempts.
    pub webhook_attempts: AtomicU64,
    /// Webhooks delivered.
    pub webhooks_delivered: AtomicU64,
    /// Webhooks given up.
    pub webhooks_failed: AtomicU64,
    /// Webhook attempts that failed (and may be retried).
    pub webhook_errors: AtomicU64,
    /// Sum of send latencies in milliseconds (divide by `attempts` for the mean).
    pub send_latency_ms_total: AtomicU64,
    /// When the send loop last ran (Unix ms; 0 before the first round).
    pub last_tick: AtomicU64,
}

/// A copy of [`DispatchStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
#[allow(missing_docs)] // the fields mirror DispatchStats
pub struct StatsSnapshot {
    pub attempts: u64,
    pub sent: u64,
    pub failed: u64,
    pub retried: u64,
    pub throttled: u64,
    pub unknown_outcomes: u64,
    pub reconciled: u64,
    pub resent_after_unknown: u64,
    pub store_errors: u64,
    pub statuses_applied: u64,
    pub webhook_attempts: u64,
    pub webhooks_delivered: u64,
    pub webhooks_failed: u64,
    pub webhook_errors: u64,
    pub send_latency_ms_total: u64,
    pub last_tick: Option<Timestamp>,
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl DispatchStats {
    /// Every counter, read now.
    pub fn snapshot(&self) -> StatsSnapshot {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let tick = g(&self.last_tick);
        StatsSnapshot {
            attempts: g(&self.attempts),
            sent: g(&self.sent),
            failed: g(&self.failed),
            retried: g(&self.retried),
            throttled: g(&self.throttled),
            unknown_outcomes: g(&self.unknown_outcomes),
            reconciled: g(&self.reconciled),
            resent_after_unknown: g(&self.resent_after_unknown),
            store_errors: g(&self.store_errors),
            statuses_applied: g(&self.statuses_applied),
            webhook_attempts: g(&self.webhook_attempts),
            webhooks_delivered: g(&self.webhooks_delivered),
            webhooks_failed: g(&self.webhooks_failed),
            webhook_errors: g(&self.webhook_errors),
            send_latency_ms_total: g(&self.send_latency_ms_total),
            last_tick: (tick > 0).then(|| Timestamp::from_millis(tick)),
        }
    }
}
