//! Verifications in the server's database (SQLite or PostgreSQL, one schema): the columns
//! the store queries, and the whole verification as a JSON document beside them.

use wa_send::queue::Database;
use wa_send::queue::sql::{Row, Value};
use wa_verify::{StoreError, Timestamp, Verification, VerificationStore, async_trait};

/// A [`VerificationStore`] on the server's [`Database`]; passes wa-verify's conformance
/// suite on both engines.
#[derive(Debug, Clone)]
pub struct SqlVerificationStore {
    db: Database,
}

impl SqlVerificationStore {
    /// On `db` (migrated by [`crate::storage::migrate`]).
    pub fn new(db: Database) -> Self {
        SqlVerificationStore { db }
    }
}

fn err(e: wa_send::queue::StoreError) -> StoreError {
    StoreError::Other(e.to_string())
}

fn documents(rows: Vec<Row>) -> Result<Vec<Verification>, StoreError> {
    rows.into_iter()
        .map(|r| Verification::from_json(&r.text(0).map_err(err)?))
        .collect()
}

fn one(rows: Vec<Row>) -> Result<Option<Verification>, StoreError> {
    Ok(documents(rows)?.into_iter().next())
}

#[async_trait]
impl VerificationStore for SqlVerificationStore {
    async fn insert(&self, v: &Verification) -> Result<(), StoreError> {
        // A second pending verification with this app and code hits the partial unique
        // index and inserts nothing.
        let n = self
            .db
            .execute(
                "INSERT INTO wa_verifications \
                 (id, app_id, code, status, requested_at, expires_at, revision, data) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                vec![
                    Value::from(&v.id),
                    Value::from(&v.app_id),
                    Value::from(&v.code),
                    Value::from(v.status.as_str()),
                    Value::from(v.requested_at),
                    Value::from(v.expires_at),
                    Value::from(v.revision),
                    Value::from(&v.to_json()?),
                ],
            )
            .await
            .map_err(err)?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::CodeInUse)
        }
    }

    async fn get(&self, id: &str) -> Result<Option<Verification>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT data FROM wa_verifications WHERE id = $1",
                vec![id.into()],
            )
            .await
            .map_err(err)?;
        one(rows)
    }

    async fn find_by_code(
        &self,
        app_id: &str,
        code: &str,
    ) -> Result<Option<Verification>, StoreError> {
        // The pending one if there is one (at most one per code), else the latest.
        let rows = self
            .db
            .query(
                "SELECT data FROM wa_verifications WHERE app_id = $1 AND code = $2 \
                 ORDER BY CASE WHEN status = 'requested' THEN 0 ELSE 1 END, requested_at DESC, id DESC \
                 LIMIT 1",
                vec![app_id.into(), code.into()],
            )
            .await
            .map_err(err)?;
        one(rows)
    }

    async fn update(&self, v: &Verification) -> Result<bool, StoreError> {
        let Some(previous) = v.revision.checked_sub(1) else {
            return Ok(false);
        };
        let n = self
            .db
            .execute(
                "UPDATE wa_verifications SET status = $3, revision = $4, data = $5 \
                 WHERE id = $1 AND revision = $2",
                vec![
                    Value::from(&v.id),
                    Value::from(previous),
                    Value::from(v.status.as_str()),
                    Value::from(v.revision),
                    Value::from(&v.to_json()?),
                ],
            )
            .await
            .map_err(err)?;
        Ok(n == 1)
    }

    async fn due_for_expiry(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Verification>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT data FROM wa_verifications WHERE status = 'requested' AND expires_at <= $1 \
                 ORDER BY expires_at, id LIMIT $2",
                vec![now.into(), limit.into()],
            )
            .await
            .map_err(err)?;
        documents(rows)
    }

    async fn count_events(
        &self,
        key: &str,
        since: Timestamp,
    ) -> Result<(u32, Option<Timestamp>), StoreError> {
        let rows = self
            .db
            .query(
                "SELECT COUNT(*), MIN(at) FROM wa_verify_events WHERE key = $1 AND at >= $2",
                vec![key.into(), since.into()],
            )
            .await
            .map_err(err)?;
        let Some(row) = rows.first() else {
            return Ok((0, None));
        };
        let n = u32::try_from(row.int(0).map_err(err)?).unwrap_or(u32::MAX);
        Ok((n, row.opt_ts(1).map_err(err)?))
    }

    async fn record_event(&self, key: &str, at: Timestamp) -> Result<(), StoreError> {
        self.db
            .execute(
                "INSERT INTO wa_verify_events (key, at) VALUES ($1, $2)",
                vec![key.into(), at.into()],
            )
            .await
            .map(drop)
            .map_err(err)
    }

    async fn prune(&self, before: Timestamp) -> Result<u64, StoreError> {
        let events = self
            .db
            .execute(
                "DELETE FROM wa_verify_events WHERE at < $1",
                vec![before.into()],
            )
            .await
            .map_err(err)?;
        let settled = self
            .db
            .execute(
                "DELETE FROM wa_verifications WHERE status <> 'requested' AND expires_at < $1",
                vec![before.into()],
            )
            .await
            .map_err(err)?;
        Ok(events + settled)
    }
}
