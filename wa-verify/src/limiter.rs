//! Sliding-window counters for the velocity limits (clock-driven, no background task).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Counts events per key within a window.
#[derive(Debug, Default)]
pub(crate) struct Window {
    events: Mutex<HashMap<String, VecDeque<SystemTime>>>,
}

impl Window {
    /// `Err(retry_after)` when `key` already has `limit` events within `window` of `now`.
    pub(crate) fn check(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: SystemTime,
    ) -> Result<(), Duration> {
        let mut map = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(q) = map.get_mut(key) else {
            return Ok(());
        };
        prune(q, window, now);
        if q.len() >= limit as usize {
            let oldest = q.front().copied().unwrap_or(now);
            let retry = (oldest + window)
                .duration_since(now)
                .unwrap_or(Duration::ZERO);
            return Err(retry.max(Duration::from_secs(1)));
        }
        Ok(())
    }

    /// Records one event for `key`.
    pub(crate) fn record(&self, key: &str, window: Duration, now: SystemTime) {
        let mut map = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Keep the map bounded: drop keys whose events have all aged out.
        if map.len() > 10_000 {
            map.retain(|_, q| {
                prune(q, window, now);
                !q.is_empty()
            });
        }
        let q = map.entry(key.to_owned()).or_default();
        prune(q, window, now);
        q.push_back(now);
    }
}

fn prune(q: &mut VecDeque<SystemTime>, window: Duration, now: SystemTime) {
    while let Some(&t) = q.front() {
        if now.duration_since(t).unwrap_or(Duration::ZERO) >= window {
            q.pop_front();
        } else {
            break;
        }
    }
}
