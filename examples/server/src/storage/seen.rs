//! The inbound-webhook dedupe ids (Meta message and status ids), kept for a retention
//! window so a redelivered notification changes nothing.

use super::*;

/// Ids of Meta webhook events already handled.
#[derive(Debug, Clone)]
pub struct Seen {
    db: Database,
}

/// How long handled event ids are remembered (Meta retries deliveries for up to 7 days).
pub const SEEN_RETENTION_MS: u64 = 8 * 24 * 3_600_000;

impl Seen {
    /// On `db`.
    pub fn new(db: Database) -> Self {
        Seen { db }
    }

    /// Records `id`; `true` when it was not seen before (handle it), `false` for a redelivery.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn first_time(&self, id: &str, now: Timestamp) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.db
            .write(move |c| {
                Box::pin(async move {
                    let n = c
                        .execute(
                            "INSERT INTO wa_inbound_seen (id, seen_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                            &[id.as_str().into(), now.into()],
                        )
                        .await?;
                    Ok(n == 1)
                })
            })
            .await
    }

    /// Whether `id` was handled before.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn contains(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.db
            .read(move |c| {
                Box::pin(async move {
                    Ok(c.fetch_optional(
                        "SELECT 1 FROM wa_inbound_seen WHERE id = $1",
                        &[id.as_str().into()],
                    )
                    .await?
                    .is_some())
                })
            })
            .await
    }

    /// Forgets `id` (its handling failed: a redelivery must handle it again).
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn forget(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.db
            .write(move |c| {
                Box::pin(async move {
                    c.execute(
                        "DELETE FROM wa_inbound_seen WHERE id = $1",
                        &[id.as_str().into()],
                    )
                    .await
                    .map(drop)
                })
            })
            .await
    }

    /// Forgets ids older than the retention window; returns how many.
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn prune(&self, now: Timestamp) -> Result<u64, StoreError> {
        let cutoff = Timestamp::from_millis(now.as_millis().saturating_sub(SEEN_RETENTION_MS));
        self.db
            .write(move |c| {
                Box::pin(async move {
                    c.execute(
                        "DELETE FROM wa_inbound_seen WHERE seen_at < $1",
                        &[cutoff.into()],
                    )
                    .await
                })
            })
            .await
    }
}
