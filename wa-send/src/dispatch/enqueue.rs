//! Accepting work: enqueue (idempotency, scheduling), bulk batches, and what an owner can
//! do with a message afterwards (get, list, cancel, retry, summary).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Dispatcher, SendError};
use crate::ids;
use crate::lifecycle::Status;
use crate::queue::{
    BatchInserted, BatchRecord, Change, Inserted, ListFilter, MessageRecord, NewBatch, Summary,
};
use crate::{Outbound, Timestamp};

/// One message to enqueue.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EnqueueRequest {
    /// What to send.
    pub outbound: Outbound,
    /// When to send; `None` or now: at once. A past time is an error.
    pub send_at: Option<Timestamp>,
    /// The caller's idempotency key.
    pub idempotency_key: Option<String>,
}

impl EnqueueRequest {
    /// Send `outbound` at once, without a key.
    pub fn new(outbound: Outbound) -> Self {
        EnqueueRequest {
            outbound,
            send_at: None,
            idempotency_key: None,
        }
    }

    /// Sends at `at`.
    #[must_use]
    pub fn send_at(mut self, at: Timestamp) -> Self {
        self.send_at = Some(at);
        self
    }

    /// Sets the idempotency key.
    #[must_use]
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    fn canonical(&self) -> serde_json::Value {
        serde_json::json!({ "outbound": self.outbound, "send_at": self.send_at })
    }
}

/// The answer to an enqueue.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Enqueued {
    /// The stored message (the original one on a replay).
    pub record: MessageRecord,
    /// The idempotency key was seen before with the same request.
    pub replayed: bool,
}

/// Why one item of a bulk request was not queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ItemError {
    /// The stable code (`message_*`, `send_at_in_past`, or the caller's own).
    pub code: String,
    /// A human message.
    pub message: String,
    /// The field at fault, when known.
    pub field: Option<String>,
}

impl ItemError {
    /// An item error with a code and message.
    pub fn new(code: &str, message: impl Into<String>, field: Option<String>) -> Self {
        ItemError {
            code: code.to_owned(),
            message: message.into(),
            field,
        }
    }

    /// The stable code.
    pub fn code(&self) -> &str {
        &self.code
    }
}

impl From<&SendError> for ItemError {
    fn from(e: &SendError) -> Self {
        let field = match e {
            SendError::Invalid(m) => m.field().map(str::to_owned),
            SendError::SendAtInPast | SendError::SendAtTooFar { .. } => Some("sendAt".to_owned()),
            _ => None,
        };
        ItemError::new(e.code(), e.to_string(), field)
    }
}

/// A bulk request: items the caller already refused stay in place (so results keep the
/// input's order), and an optional idempotency key for the whole request.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct BulkRequest {
    /// The items, in order.
    pub items: Vec<Result<EnqueueRequest, ItemError>>,
    /// Replays of the same request within 24 h return the original outcome.
    pub idempotency_key: Option<String>,
}

impl BulkRequest {
    /// A request for `items`.
    pub fn new(items: Vec<Result<EnqueueRequest, ItemError>>) -> Self {
        BulkRequest {
            items,
            idempotency_key: None,
        }
    }

    /// Sets the idempotency key.
    #[must_use]
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    fn hash(&self) -> String {
        let items: Vec<serde_json::Value> = self
            .items
            .iter()
            .map(|i| match i {
                Ok(r) => r.canonical(),
                Err(e) => serde_json::json!({ "refused": e.code, "field": e.field }),
            })
            .collect();
        digest(&serde_json::Value::Array(items))
    }
}

/// The answer to a bulk enqueue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BulkOutcome {
    /// The batch id shared by the queued messages.
    pub batch_id: String,
    /// How many items were given.
    pub total: usize,
    /// The message id of each queued item, or why it was refused, in input order.
    pub items: Vec<Result<String, ItemError>>,
    /// A replay of an earlier request with the same idempotency key.
    #[serde(skip)]
    pub replayed: bool,
}

impl BulkOutcome {
    /// Items queued.
    pub fn queued(&self) -> usize {
        self.items.iter().filter(|i| i.is_ok()).count()
    }

    /// Items refused.
    pub fn failed_count(&self) -> usize {
        self.total - self.queued()
    }
}

fn digest(v: &serde_json::Value) -> String {
    hex::encode(Sha256::digest(serde_json::to_vec(v).unwrap_or_default()))
}

/// The original outcome of an existing batch with this request hash, marked replayed; a
/// different request under the same key is `idempotency_key_conflict`.
fn replay_batch(existing: &BatchRecord, hash: &str) -> Result<BulkOutcome, SendError> {
    if existing.request_hash.as_deref() != Some(hash) {
        return Err(SendError::IdempotencyConflict);
    }
    let mut original: BulkOutcome = serde_json::from_str(&existing.result).map_err(|e| {
        SendError::Store(crate::queue::StoreError::Corrupt {
            id: existing.id.clone(),
            detail: e.to_string(),
        })
    })?;
    original.replayed = true;
    Ok(original)
}

fn check_key(key: Option<&str>) -> Result<(), SendError> {
    match key {
        Some(k) if k.is_empty() || k.len() > 255 || !k.bytes().all(|b| b.is_ascii_graphic()) => {
            Err(SendError::IdempotencyKeyInvalid)
        }
        _ => Ok(()),
    }
}

impl Dispatcher {
    fn prepare(
        &self,
        account: &str,
        req: &EnqueueRequest,
        now: Timestamp,
    ) -> Result<MessageRecord, SendError> {
        req.outbound.validate()?;
        check_key(req.idempotency_key.as_deref())?;
        if let Some(at) = req.send_at {
            if at < now {
                return Err(SendError::SendAtInPast);
            }
            if at.millis_since(now) > self.config.max_schedule_ahead_ms {
                return Err(SendError::SendAtTooFar {
                    max_days: self.config.max_schedule_ahead_ms / 86_400_000,
                });
            }
        }
        let mut record = MessageRecord::new(
            ids::uuid(now),
            account.to_owned(),
            req.outbound.clone(),
            req.send_at,
            now,
        );
        record.idempotency_key = req.idempotency_key.clone();
        record.request_hash = req
            .idempotency_key
            .as_ref()
            .map(|_| digest(&req.canonical()));
        Ok(record)
    }

    /// `circuit_open` while `account`'s circuit is open at `now`: enqueue fails fast.
    fn check_circuit(&self, account: &str, now: Timestamp) -> Result<(), SendError> {
        match self.circuit_open_until(account) {
            Some(until) => Err(SendError::CircuitOpen {
                retry_after_ms: until.millis_since(now),
            }),
            None => Ok(()),
        }
    }

    /// The account's backend can carry `outbound` (a WSAPI instance takes no templates, …).
    async fn check_backend(
        &self,
        backend: Option<&crate::SharedBackend>,
        outbound: &Outbound,
    ) -> Result<(), SendError> {
        match backend {
            Some(b) => b.check(outbound).map_err(|e| match e {
                crate::DeliveryError::Invalid(m) => SendError::Invalid(m),
                other => SendError::Unsupported(other),
            }),
            None => Ok(()),
        }
    }

    /// Enqueues one message and returns at once with its id (`queued`, or `scheduled`).
    ///
    /// # Errors
    /// The message's `message_*` code, `delivery_unsupported` when the account's backend
    /// cannot carry it, `send_at_in_past`, `send_at_too_far`, `idempotency_key_invalid`,
    /// `idempotency_key_conflict` (same key, different request), `circuit_open`, or a
    /// store code.
    pub async fn enqueue(&self, account: &str, req: EnqueueRequest) -> Result<Enqueued, SendError> {
        let now = self.now();
        self.check_circuit(account, now)?;
        let record = self.prepare(account, &req, now)?;
        let backend = self.router.backend_for(account).await?;
        self.check_backend(backend.as_ref(), &record.outbound)
            .await?;
        let hash = record.request_hash.clone();
        let cutoff = Timestamp::from_millis(
            now.as_millis()
                .saturating_sub(self.config.idempotency_ttl_ms),
        );
        match self.store.insert(record, cutoff).await? {
            Inserted::Created(record) => {
                self.wake.notify_one();
                Ok(Enqueued {
                    record,
                    replayed: false,
                })
            }
            Inserted::Existing(original) if original.request_hash == hash => Ok(Enqueued {
                record: original,
                replayed: true,
            }),
            Inserted::Existing(_) => Err(SendError::IdempotencyConflict),
        }
    }

    /// Enqueues many messages under one batch id; invalid items are reported, not fatal.
    ///
    /// # Errors
    /// `bulk_empty`, `bulk_too_large`, `circuit_open` or a store code.
    pub async fn enqueue_bulk(
        &self,
        account: &str,
        items: Vec<EnqueueRequest>,
    ) -> Result<BulkOutcome, SendError> {
        self.enqueue_batch(
            account,
            BulkRequest::new(items.into_iter().map(Ok).collect()),
        )
        .await
    }

    /// Enqueues a bulk request in one transaction: every valid item is queued under one
    /// batch id, or none is. With an idempotency key, a replay within 24 h returns the
    /// original outcome (`replayed`), and the key used with another request is a conflict.
    ///
    /// # Errors
    /// `bulk_empty`, `bulk_too_large`, `idempotency_key_invalid`,
    /// `idempotency_key_conflict`, `circuit_open` or a store code.
    pub async fn enqueue_batch(
        &self,
        account: &str,
        request: BulkRequest,
    ) -> Result<BulkOutcome, SendError> {
        self.check_bulk(&request)?;
        let now = self.now();
        self.check_circuit(account, now)?;
        let hash = request.hash();
        let backend = self.router.backend_for(account).await?;
        let batch_id = ids::uuid(now);
        let total = request.items.len();
        let mut records = Vec::with_capacity(total);
        let mut items = Vec::with_capacity(total);
        for item in request.items {
            let prepared = match item {
                Err(e) => Err(e),
                Ok(r) => self.prepare_item(account, backend.as_ref(), r, now).await,
            };
            match prepared {
                Ok(mut rec) => {
                    rec.batch_id = Some(batch_id.clone());
                    items.push(Ok(rec.id.clone()));
                    records.push(rec);
                }
                Err(e) => items.push(Err(e)),
            }
        }
        let outcome = BulkOutcome {
            batch_id: batch_id.clone(),
            total,
            items,
            replayed: false,
        };
        let batch = BatchRecord {
            id: batch_id,
            account: account.to_owned(),
            idempotency_key: request.idempotency_key.clone(),
            request_hash: Some(hash.clone()),
            result: serde_json::to_string(&outcome).unwrap_or_default(),
            created_at: now,
        };
        let cutoff = Timestamp::from_millis(
            now.as_millis()
                .saturating_sub(self.config.idempotency_ttl_ms),
        );
        let inserted = self
            .store
            .insert_batch(NewBatch { batch, records }, cutoff)
            .await?;
        match inserted {
            BatchInserted::Created => {
                self.wake.notify_one();
                Ok(outcome)
            }
            BatchInserted::Existing(b) => replay_batch(&b, &hash),
        }
    }

    /// The bulk-wide checks: not empty, within the cap, a usable idempotency key.
    fn check_bulk(&self, request: &BulkRequest) -> Result<(), SendError> {
        if request.items.is_empty() {
            return Err(SendError::BulkEmpty);
        }
        if request.items.len() > self.config.bulk_cap {
            return Err(SendError::BulkTooLarge {
                max: self.config.bulk_cap,
                actual: request.items.len(),
            });
        }
        check_key(request.idempotency_key.as_deref())
    }

    /// One bulk item as a record, or the item's error (the batch has its own idempotency
    /// key; items never carry one).
    async fn prepare_item(
        &self,
        account: &str,
        backend: Option<&crate::SharedBackend>,
        mut request: EnqueueRequest,
        now: Timestamp,
    ) -> Result<MessageRecord, ItemError> {
        request.idempotency_key = None;
        let rec = self
            .prepare(account, &request, now)
            .map_err(|e| ItemError::from(&e))?;
        self.check_backend(backend, &rec.outbound)
            .await
            .map_err(|e| ItemError::from(&e))?;
        Ok(rec)
    }

    /// One message of `account` (another account's message is `message_not_found`).
    ///
    /// # Errors
    /// `message_not_found` or a store code.
    pub async fn get(&self, account: &str, id: &str) -> Result<MessageRecord, SendError> {
        match self.store.get(id).await? {
            Some(r) if r.account == account => Ok(r),
            _ => Err(SendError::NotFound),
        }
    }

    /// Messages of one account.
    ///
    /// # Errors
    /// A store code.
    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<MessageRecord>, SendError> {
        Ok(self.store.list(filter).await?)
    }

    /// Counts of `account`'s messages by status.
    ///
    /// # Errors
    /// A store code.
    pub async fn summary(&self, account: &str) -> Result<Summary, SendError> {
        Ok(self.store.summary(account).await?)
    }

    /// Applies an owner's action to one of its messages; `refused` says why it did not apply.
    async fn owner_action(
        &self,
        account: &str,
        id: &str,
        act: impl FnOnce(&mut MessageRecord, Timestamp) -> bool + Send + 'static,
        refused: fn(Status) -> SendError,
    ) -> Result<MessageRecord, SendError> {
        self.get(account, id).await?;
        let now = self.now();
        let target = self.target(account).await?;
        let (record, changed) = self
            .store
            .update(
                id,
                Box::new(move |r: &mut MessageRecord| {
                    let before = r.lifecycle.timeline.len();
                    if !act(r, now) {
                        return Change::NONE;
                    }
                    r.updated_at = now;
                    Change {
                        changed: true,
                        webhooks: super::status_events(target.as_ref(), r, before, now),
                    }
                }),
            )
            .await?
            .ok_or(SendError::NotFound)?;
        if !changed {
            return Err(refused(record.status()));
        }
        self.wake.notify_one();
        Ok(record)
    }

    /// Cancels a queued or scheduled message.
    ///
    /// # Errors
    /// `message_not_found`, `message_not_cancellable` or a store code.
    pub async fn cancel(&self, account: &str, id: &str) -> Result<MessageRecord, SendError> {
        self.owner_action(
            account,
            id,
            |r, now| r.lifecycle.advance(Status::Cancelled, now),
            |status| SendError::NotCancellable { status },
        )
        .await
    }

    /// Puts a failed message back in the queue with a fresh retry budget.
    ///
    /// # Errors
    /// `message_not_found`, `message_not_retryable` or a store code.
    pub async fn retry(&self, account: &str, id: &str) -> Result<MessageRecord, SendError> {
        self.owner_action(
            account,
            id,
            |r, now| {
                if !r.lifecycle.requeue(now) {
                    return false;
                }
                r.attempts = 0;
                r.throttles = 0;
                r.first_attempt_at = None;
                r.next_attempt_at = now;
                r.lease_until = None;
                true
            },
            |status| SendError::NotRetryable { status },
        )
        .await
    }
}
