//! [`SqliteStore`]: one SQLite file in WAL mode, migrations embedded.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use super::{
    Inserted, ListFilter, MessageRecord, Mutation, QueueStore, StoreError, Updated,
    WebhookDelivery, db, decode, encode, state_str,
};
use crate::BoxFuture;

/// A queue in one SQLite file (WAL journal, `synchronous=FULL`, one writer connection).
///
/// # Examples
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use wa_send::queue::{QueueStore, SqliteStore};
/// let dir = tempfile::tempdir().unwrap();
/// let store = SqliteStore::open(dir.path().join("queue.db")).await.unwrap();
/// assert_eq!(store.pending_count().await.unwrap(), 0);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies the migrations.
    ///
    /// # Errors
    /// `store_failed` when the file cannot be opened or migrated.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(db)?
            .filename(path.as_ref())
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a transaction that returned is on disk, so a crash loses nothing acknowledged.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        // One connection: SQLite has one writer anyway, and it makes every transaction atomic
        // with respect to the others without BUSY retries.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(db)?;
        sqlx::migrate!("migrations/sqlite")
            .run(&pool)
            .await
            .map_err(db)?;
        Ok(SqliteStore { pool })
    }

    async fn write(conn: &mut sqlx::SqliteConnection, r: &MessageRecord) -> Result<(), StoreError> {
        sqlx::query("UPDATE wa_messages SET status = ?, next_attempt_at = ?, lease_until = ?, provider_message_id = ?, body = ? WHERE id = ?")
            .bind(r.status().as_str())
            .bind(r.next_attempt_at as i64)
            .bind(r.lease_until.map(|l| l as i64))
            .bind(r.provider_message_id.as_deref())
            .bind(encode(&r.id, r)?)
            .bind(&r.id)
            .execute(conn)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn insert_row(
        conn: &mut sqlx::SqliteConnection,
        r: &MessageRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO wa_messages (id, account, batch_id, status, next_attempt_at, lease_until, provider_message_id, idempotency_key, created_at, body) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&r.id)
        .bind(&r.account)
        .bind(r.batch_id.as_deref())
        .bind(r.status().as_str())
        .bind(r.next_attempt_at as i64)
        .bind(r.lease_until.map(|l| l as i64))
        .bind(r.provider_message_id.as_deref())
        .bind(r.idempotency_key.as_deref())
        .bind(r.created_at as i64)
        .bind(encode(&r.id, r)?)
        .execute(conn)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn insert_impl(
        &self,
        record: MessageRecord,
        key_cutoff: u64,
    ) -> Result<Inserted, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        if let Some(key) = &record.idempotency_key {
            let row = sqlx::query("SELECT id, created_at, body FROM wa_messages WHERE account = ? AND idempotency_key = ?")
                .bind(&record.account)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
            if let Some(row) = row {
                let id: String = row.get(0);
                let created: i64 = row.get(1);
                if created as u64 > key_cutoff {
                    let existing = decode(&id, row.get::<&str, _>(2))?;
                    return Ok(Inserted::Existing(existing));
                }
                sqlx::query("UPDATE wa_messages SET idempotency_key = NULL WHERE id = ?")
                    .bind(&id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
        }
        Self::insert_row(&mut tx, &record).await?;
        tx.commit().await.map_err(db)?;
        Ok(Inserted::Created(record))
    }

    async fn insert_batch_impl(&self, records: Vec<MessageRecord>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        for r in &records {
            Self::insert_row(&mut tx, r).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn claim_impl(
        &self,
        now: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let rows = sqlx::query(
            "SELECT id, body FROM wa_messages WHERE \
             (status IN ('queued', 'scheduled', 'retrying') AND next_attempt_at <= ?1) \
             OR (status = 'processing' AND (lease_until IS NULL OR lease_until <= ?1)) \
             ORDER BY next_attempt_at, id LIMIT ?2",
        )
        .bind(now as i64)
        .bind(limit as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut r: MessageRecord = decode(row.get::<&str, _>(0), row.get::<&str, _>(1))?;
            r.claim(now, lease_ms);
            Self::write(&mut tx, &r).await?;
            out.push(r);
        }
        tx.commit().await.map_err(db)?;
        Ok(out)
    }

    async fn update_many_impl(
        &self,
        changes: Vec<(String, Mutation)>,
    ) -> Result<Vec<Updated>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let mut out = Vec::with_capacity(changes.len());
        for (id, mutation) in changes {
            let row = sqlx::query("SELECT body FROM wa_messages WHERE id = ?")
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
            let Some(row) = row else {
                out.push(None);
                continue;
            };
            let mut r: MessageRecord = decode(&id, row.get::<&str, _>(0))?;
            let changed = mutation(&mut r);
            if changed {
                Self::write(&mut tx, &r).await?;
            }
            out.push(Some((r, changed)));
        }
        tx.commit().await.map_err(db)?;
        Ok(out)
    }

    async fn list_impl(&self, f: &ListFilter) -> Result<Vec<MessageRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, body FROM wa_messages WHERE account = ? AND (? IS NULL OR batch_id = ?) AND (? IS NULL OR status = ?) \
             AND (? IS NULL OR id > ?) ORDER BY id LIMIT ?",
        )
        .bind(&f.account)
        .bind(f.batch_id.as_deref())
        .bind(f.batch_id.as_deref())
        .bind(f.status.map(|s| s.as_str()))
        .bind(f.status.map(|s| s.as_str()))
        .bind(f.after_id.as_deref())
        .bind(f.after_id.as_deref())
        .bind(f.limit.clamp(1, 1000) as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|row| decode(row.get::<&str, _>(0), row.get::<&str, _>(1)))
            .collect()
    }

    async fn save_webhook_impl(&self, d: &WebhookDelivery) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO wa_webhook_deliveries (id, state, next_attempt_at, lease_until, body) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, next_attempt_at = excluded.next_attempt_at, \
             lease_until = excluded.lease_until, body = excluded.body",
        )
        .bind(&d.id)
        .bind(state_str(d.state))
        .bind(d.next_attempt_at as i64)
        .bind(d.lease_until.map(|l| l as i64))
        .bind(encode(&d.id, d)?)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn claim_webhooks_impl(
        &self,
        now: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let rows = sqlx::query(
            "SELECT id, body FROM wa_webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ?1 \
             AND (lease_until IS NULL OR lease_until <= ?1) ORDER BY next_attempt_at, id LIMIT ?2",
        )
        .bind(now as i64)
        .bind(limit as i64)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut d: WebhookDelivery = decode(row.get::<&str, _>(0), row.get::<&str, _>(1))?;
            d.lease_until = Some(now + lease_ms);
            sqlx::query("UPDATE wa_webhook_deliveries SET lease_until = ?, body = ? WHERE id = ?")
                .bind(d.lease_until.map(|l| l as i64))
                .bind(encode(&d.id, &d)?)
                .bind(&d.id)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            out.push(d);
        }
        tx.commit().await.map_err(db)?;
        Ok(out)
    }
}

impl QueueStore for SqliteStore {
    fn insert(
        &self,
        record: MessageRecord,
        key_cutoff: u64,
    ) -> BoxFuture<'_, Result<Inserted, StoreError>> {
        Box::pin(self.insert_impl(record, key_cutoff))
    }

    fn insert_batch(&self, records: Vec<MessageRecord>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.insert_batch_impl(records))
    }

    fn claim_due(
        &self,
        now: u64,
        lease_ms: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<MessageRecord>, StoreError>> {
        Box::pin(self.claim_impl(now, lease_ms, limit))
    }

    fn update(&self, id: &str, mutation: Mutation) -> BoxFuture<'_, Result<Updated, StoreError>> {
        // One change is a batch of one: a single read-modify-write path per store.
        let changes = vec![(id.to_owned(), mutation)];
        Box::pin(async move { Ok(self.update_many_impl(changes).await?.pop().flatten()) })
    }

    fn update_many(
        &self,
        changes: Vec<(String, Mutation)>,
    ) -> BoxFuture<'_, Result<Vec<Updated>, StoreError>> {
        Box::pin(self.update_many_impl(changes))
    }

    fn find_by_provider_id(
        &self,
        provider_message_id: &str,
    ) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
        let pid = provider_message_id.to_owned();
        Box::pin(async move {
            let row = sqlx::query("SELECT id FROM wa_messages WHERE provider_message_id = ?")
                .bind(pid)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
            Ok(row.map(|r| r.get::<String, _>(0)))
        })
    }

    fn get(&self, id: &str) -> BoxFuture<'_, Result<Option<MessageRecord>, StoreError>> {
        let id = id.to_owned();
        Box::pin(async move {
            let row = sqlx::query("SELECT body FROM wa_messages WHERE id = ?")
                .bind(&id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
            row.map(|r| decode(&id, r.get::<&str, _>(0))).transpose()
        })
    }

    fn list(&self, filter: &ListFilter) -> BoxFuture<'_, Result<Vec<MessageRecord>, StoreError>> {
        let filter = filter.clone();
        Box::pin(async move { self.list_impl(&filter).await })
    }

    fn push_webhook(&self, delivery: WebhookDelivery) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move { self.save_webhook_impl(&delivery).await })
    }

    fn claim_webhooks(
        &self,
        now: u64,
        lease_ms: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<WebhookDelivery>, StoreError>> {
        Box::pin(self.claim_webhooks_impl(now, lease_ms, limit))
    }

    fn save_webhook(&self, delivery: &WebhookDelivery) -> BoxFuture<'_, Result<(), StoreError>> {
        let d = delivery.clone();
        Box::pin(async move { self.save_webhook_impl(&d).await })
    }

    fn pending_count(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT COUNT(*) FROM wa_messages WHERE status IN ('queued', 'scheduled', 'processing', 'retrying')")
                .fetch_one(&self.pool)
                .await
                .map_err(db)?;
            Ok(row.get::<i64, _>(0) as u64)
        })
    }
}
