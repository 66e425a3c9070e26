//! Velocity limits: the windows an issue counts against (per app, per number, per number
//! prefix) and whether one is full, read from the store's event counts.

use super::*;

impl<S: VerificationStore> Verifier<S> {
    /// The velocity-limit windows an issue for these numbers counts against.
    pub(super) fn issue_windows(
        &self,
        app_id: &str,
        numbers: &[wa_validate::Phone],
    ) -> Vec<(String, (u32, Duration))> {
        let c = &self.config;
        let mut keys = vec![(format!("app:{app_id}"), c.per_app_limit)];
        for p in numbers {
            keys.push((format!("phone:{app_id}:{}", p.e164()), c.per_phone_limit));
            keys.push((prefix_key(app_id, p), c.per_prefix_limit));
        }
        keys
    }

    /// `Err(RateLimited)` when any window is full.
    pub(super) async fn check_windows(&self, windows: &[(String, (u32, Duration))]) -> Result<()> {
        let now = self.clock.timestamp();
        for (key, (limit, window)) in windows {
            if let Some(retry_after) = self.window_full(key, *limit, *window, now).await? {
                return Err(Error::RateLimited { retry_after });
            }
        }
        Ok(())
    }

    pub(super) async fn window_full(
        &self,
        key: &str,
        limit: u32,
        window: Duration,
        now: Timestamp,
    ) -> Result<Option<Duration>> {
        // Events exactly `window` old have left the window.
        let since = minus(now, window).plus_millis(1);
        let (n, oldest) = self
            .store
            .count_events(key, since)
            .await
            .map_err(store_err)?;
        if n < limit {
            return Ok(None);
        }
        let free_at = oldest.unwrap_or(now).plus(window);
        let wait = Duration::from_millis(free_at.millis_since(now));
        Ok(Some(wait.max(Duration::from_secs(1))))
    }
}
