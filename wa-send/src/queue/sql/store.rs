//! [`SqlStore`]: every [`QueueStore`] method, written once for both engines.

use async_trait::async_trait;

use super::{Conn, Database, Engine, Row};
use crate::Timestamp;
use crate::lifecycle::Status;
use crate::queue::{
    Admission, Admit, BatchInserted, BatchRecord, DeliveryKind, Inserted, ListFilter,
    MessageRecord, MessageRef, Mutation, NewBatch, QueueStats, QueueStore, StoreError, Summary,
    Updated, WebhookDelivery, WebhookState,
};

macro_rules! message_columns {
    () => {
        "id, account, batch_id, status, next_attempt_at, lease_until, attempts, throttles, \
         first_attempt_at, provider_message_id, backend, idempotency_key, request_hash, send_at, \
         created_at, updated_at, outbound, lifecycle"
    };
}

macro_rules! webhook_columns {
    () => {
        "id, account, kind, reference, state, next_attempt_at, lease_until, attempts, \
         max_attempts, created_at, url, body, last_error"
    };
}

mod rows;
use rows::*;

/// A [`QueueStore`] on SQLite or PostgreSQL ([`Database`]).
///
/// # Examples
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use wa_send::queue::{QueueStore, SqlStore};
/// let dir = tempfile::tempdir().unwrap();
/// let store = SqlStore::open_url(&format!("sqlite://{}", dir.path().join("queue.db").display())).await.unwrap();
/// assert_eq!(store.pending_count().await.unwrap(), 0);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct SqlStore {
    db: Database,
}

impl SqlStore {
    /// The store on `db`, after applying wa-send's migrations.
    ///
    /// # Errors
    /// `store_failed` when a migration fails.
    pub async fn open(db: Database) -> Result<Self, StoreError> {
        db.migrate(sqlx::migrate!("./migrations")).await?;
        Ok(SqlStore { db })
    }

    /// [`Database::open`] then [`SqlStore::open`].
    ///
    /// # Errors
    /// As those two.
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        Self::open(Database::open(url).await?).await
    }

    /// The database (other components keep their tables in it).
    pub fn database(&self) -> &Database {
        &self.db
    }
}

#[async_trait]
impl QueueStore for SqlStore {
    async fn insert(
        &self,
        record: MessageRecord,
        key_cutoff: Timestamp,
    ) -> Result<Inserted, StoreError> {
        self.db
            .write(move |c| {
                Box::pin(async move {
                    if let Some(key) = &record.idempotency_key {
                        let found = c
                            .fetch_optional(
                                "SELECT id, created_at FROM wa_messages WHERE account = $1 AND idempotency_key = $2",
                                &[(&record.account).into(), key.into()],
                            )
                            .await?;
                        if let Some(row) = found {
                            let id = row.text(0)?;
                            if row.ts(1)? > key_cutoff {
                                let existing = get_record(c, &id).await?;
                                return existing
                                    .map(Inserted::Existing)
                                    .ok_or_else(|| corrupt(&id, "vanished"));
                            }
                            // The key's lifetime is over: it is free again.
                            c.execute(
                                "UPDATE wa_messages SET idempotency_key = NULL WHERE id = $1",
                                &[id.as_str().into()],
                            )
                            .await?;
                        }
                    }
                    if insert_record(c, &record).await? {
                        return Ok(Inserted::Created(record));
                    }
                    // A concurrent insert took the key first (PostgreSQL): its record wins.
                    let row = c
                        .fetch_optional(
                            "SELECT id FROM wa_messages WHERE account = $1 AND idempotency_key = $2",
                            &[(&record.account).into(), (&record.idempotency_key).into()],
                        )
                        .await?
                        .ok_or_else(|| corrupt(&record.id, "insert conflicted with nothing"))?;
                    let id = row.text(0)?;
                    get_record(c, &id)
                        .await?
                        .map(Inserted::Existing)
                        .ok_or_else(|| corrupt(&id, "vanished"))
                })
            })
            .await
    }

    async fn insert_batch(
        &self,
        batch: NewBatch,
        key_cutoff: Timestamp,
    ) -> Result<BatchInserted, StoreError> {
        self.db
            .write(move |c| {
                Box::pin(async move {
                    let b = &batch.batch;
                    if let Some(key) = &b.idempotency_key {
                        let found = c
                            .fetch_optional(
                                "SELECT id, account, idempotency_key, request_hash, result, created_at \
                                 FROM wa_batches WHERE account = $1 AND idempotency_key = $2",
                                &[(&b.account).into(), key.into()],
                            )
                            .await?;
                        if let Some(row) = found {
                            let existing = BatchRecord {
                                id: row.text(0)?,
                                account: row.text(1)?,
                                idempotency_key: row.opt_text(2)?,
                                request_hash: row.opt_text(3)?,
                                result: row.text(4)?,
                                created_at: row.ts(5)?,
                            };
                            if existing.created_at > key_cutoff {
                                return Ok(BatchInserted::Existing(existing));
                            }
                            c.execute(
                                "UPDATE wa_batches SET idempotency_key = NULL WHERE id = $1",
                                &[existing.id.as_str().into()],
                            )
                            .await?;
                        }
                    }
                    c.execute(
                        "INSERT INTO wa_batches (id, account, idempotency_key, request_hash, created_at, result) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                        &[
                            (&b.id).into(),
                            (&b.account).into(),
                            (&b.idempotency_key).into(),
                            (&b.request_hash).into(),
                            b.created_at.into(),
                            (&b.result).into(),
                        ],
                    )
                    .await?;
                    for r in &batch.records {
                        insert_record(c, r).await?;
                    }
                    Ok(BatchInserted::Created)
                })
            })
            .await
    }

    async fn claim(
        &self,
        now: Timestamp,
        lease_ms: u64,
        limit: usize,
        mut admit: Admit,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        self.db
            .write(move |c| {
                Box::pin(async move {
                    let sql = match c.engine() {
                        Engine::Postgres => CLAIM_LOCKED,
                        Engine::Sqlite => CLAIM,
                    };
                    let rows = c
                        .fetch_all(sql, &[now.into(), limit.saturating_mul(2).into()])
                        .await?;
                    let mut out = Vec::with_capacity(limit.min(rows.len()));
                    for row in rows {
                        if out.len() >= limit {
                            break;
                        }
                        let mut r = match record_from(&row) {
                            Ok(r) => r,
                            Err(e) => {
                                quarantine(c, &row, &e).await?;
                                continue;
                            }
                        };
                        match admit(&mut r) {
                            Admission::Send => {
                                r.claim(now, lease_ms);
                                write_record(c, &r).await?;
                                out.push(r);
                            }
                            Admission::Save(hooks) => {
                                write_record(c, &r).await?;
                                insert_webhooks(c, &hooks).await?;
                            }
                            Admission::Skip => {}
                        }
                    }
                    Ok(out)
                })
            })
            .await
    }

    async fn update_many(
        &self,
        changes: Vec<(String, Mutation)>,
    ) -> Result<Vec<Updated>, StoreError> {
        self.db
            .write(move |c| {
                Box::pin(async move {
                    let lock = if c.engine() == Engine::Postgres {
                        " FOR UPDATE"
                    } else {
                        ""
                    };
                    let select = format!("{SELECT_MESSAGE}{lock}");
                    // Rows are locked in id order (no deadlock between concurrent batches);
                    // results come back in the caller's order.
                    let mut order: Vec<(usize, String, Mutation)> = changes
                        .into_iter()
                        .enumerate()
                        .map(|(i, (id, m))| (i, id, m))
                        .collect();
                    order.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
                    let mut out: Vec<Updated> = (0..order.len()).map(|_| None).collect();
                    for (i, id, mutation) in order {
                        let Some(row) = c.fetch_optional(&select, &[id.as_str().into()]).await?
                        else {
                            continue;
                        };
                        let mut r = record_from(&row)?;
                        let change = mutation(&mut r);
                        if change.changed {
                            write_record(c, &r).await?;
                        }
                        insert_webhooks(c, &change.webhooks).await?;
                        out[i] = Some((r, change.changed));
                    }
                    Ok(out)
                })
            })
            .await
    }

    async fn find_by_provider_id(
        &self,
        provider_message_id: &str,
    ) -> Result<Option<MessageRef>, StoreError> {
        let pid = provider_message_id.to_owned();
        self.db
            .read(move |c| {
                Box::pin(async move {
                    let row = c
                        .fetch_optional(
                            "SELECT id, account FROM wa_messages WHERE provider_message_id = $1",
                            &[pid.as_str().into()],
                        )
                        .await?;
                    row.map(|r| {
                        Ok(MessageRef {
                            id: r.text(0)?,
                            account: r.text(1)?,
                        })
                    })
                    .transpose()
                })
            })
            .await
    }

    async fn get(&self, id: &str) -> Result<Option<MessageRecord>, StoreError> {
        let id = id.to_owned();
        self.db
            .read(move |c| Box::pin(async move { get_record(c, &id).await }))
            .await
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<MessageRecord>, StoreError> {
        let f = filter.clone();
        self.db
            .read(move |c| {
                Box::pin(async move {
                    let status = f.status.map(Status::as_str);
                    let rows = c
                        .fetch_all(
                            LIST,
                            &[
                                (&f.account).into(),
                                (&f.batch_id).into(),
                                status.into(),
                                (&f.after_id).into(),
                                f.limit.clamp(1, 1000).into(),
                                f.offset.into(),
                            ],
                        )
                        .await?;
                    rows.iter().map(record_from).collect()
                })
            })
            .await
    }

    async fn summary(&self, account: &str) -> Result<Summary, StoreError> {
        let account = account.to_owned();
        self.db
            .read(move |c| {
                Box::pin(async move {
                    let rows = c
                        .fetch_all(
                            "SELECT status, COUNT(*) FROM wa_messages WHERE account = $1 GROUP BY status",
                            &[account.as_str().into()],
                        )
                        .await?;
                    let mut s = Summary::default();
                    for row in rows {
                        let status = row.text(0)?;
                        let n = row.uint(1)?;
                        if let Some(st) = Status::parse(&status) {
                            s.by_status.insert(st, n);
                        }
                        s.total += n;
                    }
                    Ok(s)
                })
            })
            .await
    }

    async fn stats(&self) -> Result<QueueStats, StoreError> {
        self.db
            .read(|c| {
                Box::pin(async move {
                    let row = c
                        .fetch_optional(
                            "SELECT COUNT(*), MIN(due_at) FROM wa_messages WHERE due_at IS NOT NULL",
                            &[],
                        )
                        .await?
                        .ok_or_else(|| corrupt("stats", "no row"))?;
                    let hooks = c
                        .fetch_optional(
                            "SELECT COUNT(*) FROM wa_webhook_deliveries WHERE due_at IS NOT NULL",
                            &[],
                        )
                        .await?
                        .ok_or_else(|| corrupt("stats", "no row"))?;
                    Ok(QueueStats {
                        pending: row.uint(0)?,
                        oldest_due: row.opt_ts(1)?,
                        webhooks_pending: hooks.uint(0)?,
                    })
                })
            })
            .await
    }

    async fn push_webhooks(&self, deliveries: Vec<WebhookDelivery>) -> Result<(), StoreError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        self.db
            .write(move |c| Box::pin(async move { insert_webhooks(c, &deliveries).await }))
            .await
    }

    async fn claim_webhooks(
        &self,
        now: Timestamp,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        self.db
            .write(move |c| {
                Box::pin(async move {
                    let sql = match c.engine() {
                        Engine::Postgres => CLAIM_WEBHOOKS_LOCKED,
                        Engine::Sqlite => CLAIM_WEBHOOKS,
                    };
                    let rows = c.fetch_all(sql, &[now.into(), limit.into()]).await?;
                    let mut out = Vec::with_capacity(rows.len());
                    for row in rows {
                        let mut d = webhook_from(&row)?;
                        d.lease_until = Some(now.plus_millis(lease_ms));
                        write_webhook(c, &d).await?;
                        out.push(d);
                    }
                    Ok(out)
                })
            })
            .await
    }

    async fn save_webhook(&self, delivery: &WebhookDelivery) -> Result<(), StoreError> {
        let d = delivery.clone();
        self.db
            .write(move |c| Box::pin(async move { write_webhook(c, &d).await }))
            .await
    }

    async fn get_webhook(&self, id: &str) -> Result<Option<WebhookDelivery>, StoreError> {
        let id = id.to_owned();
        self.db
            .read(move |c| {
                Box::pin(async move {
                    let sql = concat!(
                        "SELECT ",
                        webhook_columns!(),
                        " FROM wa_webhook_deliveries WHERE id = $1"
                    );
                    c.fetch_optional(sql, &[id.as_str().into()])
                        .await?
                        .map(|r| webhook_from(&r))
                        .transpose()
                })
            })
            .await
    }
}
