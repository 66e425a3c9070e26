//! [`PostgresStore`]: a queue several server replicas share; claims use
//! `FOR UPDATE SKIP LOCKED`, so concurrent workers never take the same row.

use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row};

use super::{
    Inserted, ListFilter, MessageRecord, Mutation, QueueStore, StoreError, Updated,
    WebhookDelivery, db, decode, encode, state_str,
};
use crate::BoxFuture;

/// A queue in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:pass@host/db`) and applies the migrations.
    ///
    /// # Errors
    /// `store_failed` when the database cannot be reached or migrated.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect(url)
            .await
            .map_err(db)?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(db)?;
        Ok(PostgresStore { pool })
    }

    /// Deletes every row (tests).
    ///
    /// # Errors
    /// `store_failed`.
    pub async fn truncate(&self) -> Result<(), StoreError> {
        sqlx::query("TRUNCATE wa_messages, wa_webhook_deliveries")
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn write(conn: &mut sqlx::PgConnection, r: &MessageRecord) -> Result<(), StoreError> {
        sqlx::query("UPDATE wa_messages SET status = $1, next_attempt_at = $2, lease_until = $3, provider_message_id = $4, body = $5 WHERE id = $6")
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
        conn: &mut sqlx::PgConnection,
        r: &MessageRecord,
        body: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO wa_messages (id, account, batch_id, status, next_attempt_at, lease_until, provider_message_id, idempotency_key, created_at, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
        .bind(body)
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn existing(
        &self,
        account: &str,
        key: &str,
    ) -> Result<Option<(i64, MessageRecord)>, StoreError> {
        let row = sqlx::query("SELECT id, created_at, body FROM wa_messages WHERE account = $1 AND idempotency_key = $2")
            .bind(account)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.map(|row| {
            Ok((
                row.get::<i64, _>(1),
                decode(row.get::<&str, _>(0), row.get::<&str, _>(2))?,
            ))
        })
        .transpose()
    }

    async fn insert_impl(
        &self,
        record: MessageRecord,
        key_cutoff: u64,
    ) -> Result<Inserted, StoreError> {
        let found = match &record.idempotency_key {
            Some(key) => self.existing(&record.account, key).await?,
            None => None,
        };
        if let Some((created, existing)) = found {
            if created as u64 > key_cutoff {
                return Ok(Inserted::Existing(existing));
            }
            sqlx::query(
                "UPDATE wa_messages SET idempotency_key = NULL WHERE id = $1 AND created_at <= $2",
            )
            .bind(&existing.id)
            .bind(key_cutoff as i64)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        }
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let body = encode(&record.id, &record)?;
        match Self::insert_row(&mut conn, &record, &body).await {
            Ok(()) => Ok(Inserted::Created(record)),
            // A concurrent insert with the same key won the unique index: return it.
            Err(sqlx::Error::Database(e))
                if e.is_unique_violation() && record.idempotency_key.is_some() =>
            {
                let key = record.idempotency_key.as_deref().unwrap_or_default();
                match self.existing(&record.account, key).await? {
                    Some((_, existing)) => Ok(Inserted::Existing(existing)),
                    None => Err(db(sqlx::Error::Database(e))),
                }
            }
            Err(e) => Err(db(e)),
        }
    }

    async fn insert_batch_impl(&self, records: Vec<MessageRecord>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        for r in &records {
            Self::insert_row(&mut tx, r, &encode(&r.id, r)?)
                .await
                .map_err(db)?;
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
             (status IN ('queued', 'scheduled', 'retrying') AND next_attempt_at <= $1) \
             OR (status = 'processing' AND (lease_until IS NULL OR lease_until <= $1)) \
             ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
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
            let row = sqlx::query("SELECT body FROM wa_messages WHERE id = $1 FOR UPDATE")
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
            "SELECT id, body FROM wa_messages WHERE account = $1 AND ($2::text IS NULL OR batch_id = $2) \
             AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5",
        )
        .bind(&f.account)
        .bind(f.batch_id.as_deref())
        .bind(f.status.map(|s| s.as_str()))
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
            "INSERT INTO wa_webhook_deliveries (id, state, next_attempt_at, lease_until, body) VALUES ($1, $2, $3, $4, $5) \
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
            "SELECT id, body FROM wa_webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1 \
             AND (lease_until IS NULL OR lease_until <= $1) ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
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
            sqlx::query(
                "UPDATE wa_webhook_deliveries SET lease_until = $1, body = $2 WHERE id = $3",
            )
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

impl QueueStore for PostgresStore {
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
            let row = sqlx::query("SELECT id FROM wa_messages WHERE provider_message_id = $1")
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
            let row = sqlx::query("SELECT body FROM wa_messages WHERE id = $1")
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
