//! The dispatcher: enqueue (with idempotency, scheduling and bulk), workers that claim
//! due messages and send them through a backend with pacing, retries and a circuit
//! breaker, status ingest from Meta webhooks, and signed outbound status webhooks.
//!
//! Time comes from a [`Clock`], so tests drive everything with a [`ManualClock`]
//! (`run_once` / `deliver_webhooks_once`) without sleeping.
//!
//! [`ManualClock`]: crate::ManualClock

mod error;
mod pacing;
#[cfg(feature = "outbound-webhooks")]
mod webhooks_out;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::json;
use sha2::{Digest, Sha256};

pub use error::SendError;
use pacing::{Breaker, Pacing, backoff, splitmix};

use crate::backend::{ErrorClass, RateLimitScope, SharedBackend};
use crate::clock::Clock;
use crate::lifecycle::Status;
use crate::queue::{
    Inserted, ListFilter, MessageRecord, QueueStore, WebhookDelivery, WebhookState, new_id,
};
use crate::webhook::StatusUpdate;
use crate::{DeliveryError, Outbound};

/// Which backend sends an account's messages.
pub trait BackendRouter: Send + Sync + fmt::Debug {
    /// The backend for `account`, or `None` when it has none.
    fn backend_for(&self, account: &str) -> Option<SharedBackend>;
}

/// Every account uses the same backend.
#[derive(Debug, Clone)]
pub struct SingleBackend(pub SharedBackend);

impl BackendRouter for SingleBackend {
    fn backend_for(&self, _account: &str) -> Option<SharedBackend> {
        Some(self.0.clone())
    }
}

/// Where an account's status webhooks go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// The URL.
    pub url: String,
    /// The `whsec_…` signing secret.
    pub secret: String,
}

/// Looks up accounts' webhook targets (at enqueue time for the URL, at send time for the secret).
pub trait WebhookTargets: Send + Sync + fmt::Debug {
    /// The target of `account`, if it set one.
    fn target_for(&self, account: &str) -> Option<WebhookTarget>;

    /// The secret that signs `account`'s deliveries (also those pushed with
    /// [`Dispatcher::push_webhook`] to other URLs). Defaults to the target's secret.
    fn secret_for(&self, account: &str) -> Option<String> {
        self.target_for(account).map(|t| t.secret)
    }

    /// Called once when a delivery reaches its final state: `delivered` (a 2xx), or
    /// `failed` (given up after its last attempt, or at once for a forbidden target).
    /// Does nothing by default.
    fn delivery_finished(&self, delivery: &WebhookDelivery) {
        let _ = delivery;
    }
}

/// Dispatcher settings; [`DispatchConfig::default`] documents each default.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DispatchConfig {
    /// Attempts before a transient failure becomes final. Default 8.
    pub max_attempts: u32,
    /// First retry delay (ms). Default 2 000.
    pub base_backoff_ms: u64,
    /// Longest retry delay (ms). Default 15 minutes.
    pub max_backoff_ms: u64,
    /// Lease of a claimed message (ms); after it another worker may take it. Default 60 000.
    pub lease_ms: u64,
    /// Messages claimed (and sent concurrently) per round. Default 64.
    pub batch_size: usize,
    /// Messages per second per sending account (`None`: unpaced). Default 80, at most 1 000.
    pub rate_per_second: Option<u32>,
    /// Pair limit: one message per this many ms to one recipient, with this burst
    /// (`None`: off). Default 6 000 ms, burst 45 (facts §3.5).
    pub pair_limit: Option<(u64, u32)>,
    /// Consecutive transient failures that open an account's circuit. Default 5.
    pub breaker_threshold: u32,
    /// How long the circuit stays open before one probe (ms). Default 30 000.
    pub breaker_cooldown_ms: u64,
    /// How long idempotency keys are kept (ms). Default 24 h.
    pub idempotency_ttl_ms: u64,
    /// Most messages in one bulk call. Default 1 000.
    pub bulk_cap: usize,
    /// Webhook delivery attempts before giving up. Default 8.
    pub webhook_max_attempts: u32,
    /// First webhook retry delay (ms), doubling up to 10 h. Default 5 000.
    pub webhook_base_backoff_ms: u64,
    /// Deliver webhooks to private/loopback addresses too (tests only). Default false.
    pub allow_private_webhook_targets: bool,
    /// Seed for retry jitter (`None`: random).
    pub jitter_seed: Option<u64>,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            max_attempts: 8,
            base_backoff_ms: 2_000,
            max_backoff_ms: 15 * 60_000,
            lease_ms: 60_000,
            batch_size: 64,
            rate_per_second: Some(80),
            pair_limit: Some((6_000, 45)),
            breaker_threshold: 5,
            breaker_cooldown_ms: 30_000,
            idempotency_ttl_ms: 24 * 3_600_000,
            bulk_cap: 1_000,
            webhook_max_attempts: 8,
            webhook_base_backoff_ms: 5_000,
            allow_private_webhook_targets: false,
            jitter_seed: None,
        }
    }
}

/// One message to enqueue.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EnqueueRequest {
    /// What to send.
    pub outbound: Outbound,
    /// When to send (Unix ms); `None` or now: at once. A past time is an error.
    pub send_at: Option<u64>,
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

    /// Sends at `unix_ms`.
    #[must_use]
    pub fn send_at(mut self, unix_ms: u64) -> Self {
        self.send_at = Some(unix_ms);
        self
    }

    /// Sets the idempotency key.
    #[must_use]
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
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

/// The answer to a bulk enqueue.
#[derive(Debug)]
#[non_exhaustive]
pub struct BulkOutcome {
    /// The batch id shared by the queued messages.
    pub batch_id: String,
    /// How many items were given.
    pub total: usize,
    /// The message id of each queued item, or its validation error, in input order.
    pub items: Vec<Result<String, SendError>>,
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

/// What a worker decided for one claimed message, applied in the batch's transaction.
struct Step {
    id: String,
    mutation: crate::queue::Mutation,
    /// Whether a status change (and so a webhook) follows.
    emit: bool,
}

impl Step {
    fn defer(id: String, until: u64) -> Step {
        // Keep it leased until it may go: no status change, re-claimed when the lease ends.
        Step {
            id,
            emit: false,
            mutation: Box::new(move |r: &mut MessageRecord| {
                r.lease_until = Some(until);
                true
            }),
        }
    }

    fn failed(id: String, now: u64, code: &'static str, message: String) -> Step {
        Step {
            id,
            emit: true,
            mutation: Box::new(move |r: &mut MessageRecord| {
                r.lease_until = None;
                r.updated_at = now;
                r.lifecycle.fail(Status::Failed, now, code, &message)
            }),
        }
    }
}

/// Sends queued messages through backends.
pub struct Dispatcher {
    store: Arc<dyn QueueStore>,
    router: Arc<dyn BackendRouter>,
    clock: Arc<dyn Clock>,
    config: DispatchConfig,
    pacing: Mutex<Pacing>,
    breakers: Mutex<HashMap<String, Breaker>>,
    jitter: Mutex<u64>,
    targets: Option<Arc<dyn WebhookTargets>>,
    /// Statuses that arrived before their send was recorded, by provider id.
    early: Mutex<HashMap<String, Vec<StatusUpdate>>>,
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("store", &self.store)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Provider ids whose statuses are held while their sends are being recorded.
const MAX_EARLY_STATUSES: usize = 10_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn request_hash(req: &EnqueueRequest) -> String {
    let canonical =
        serde_json::to_vec(&json!({ "outbound": req.outbound, "send_at": req.send_at }))
            .unwrap_or_default();
    hex::encode(Sha256::digest(canonical))
}

fn rfc3339(ms: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Dispatcher {
    /// A dispatcher over `store`, sending through `router`, on `clock`.
    ///
    /// # Errors
    /// `dispatch_config_invalid` when `rate_per_second` is 0 or over 1 000, or a size is 0.
    pub fn new(
        store: Arc<dyn QueueStore>,
        router: Arc<dyn BackendRouter>,
        clock: Arc<dyn Clock>,
        config: DispatchConfig,
    ) -> Result<Self, SendError> {
        if config.rate_per_second.is_some_and(|r| r == 0 || r > 1000)
            || config.batch_size == 0
            || config.bulk_cap == 0
            || config.max_attempts == 0
            || config.pair_limit.is_some_and(|(i, b)| i == 0 || b == 0)
        {
            return Err(SendError::ConfigInvalid);
        }
        let seed = config.jitter_seed.unwrap_or_else(|| {
            let mut b = [0u8; 8];
            let _ = getrandom::fill(&mut b);
            u64::from_le_bytes(b)
        });
        Ok(Dispatcher {
            pacing: Mutex::new(Pacing::new(config.rate_per_second, config.pair_limit)),
            breakers: Mutex::new(HashMap::new()),
            jitter: Mutex::new(seed),
            store,
            router,
            clock,
            config,
            targets: None,
            early: Mutex::new(HashMap::new()),
        })
    }

    /// Sends status webhooks to the targets `targets` names.
    #[must_use]
    pub fn with_webhooks(mut self, targets: Arc<dyn WebhookTargets>) -> Self {
        self.targets = Some(targets);
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn QueueStore> {
        &self.store
    }

    fn now(&self) -> u64 {
        self.clock.unix_millis()
    }

    /// `Some(until)` while `account`'s circuit is open.
    pub fn circuit_open_until(&self, account: &str) -> Option<u64> {
        let now = self.now();
        lock(&self.breakers)
            .get(account)
            .and_then(|b| b.open_until(now))
    }

    /// `circuit_open` while `account`'s circuit is open at `now`: enqueue fails fast.
    fn check_circuit(&self, account: &str, now: u64) -> Result<(), SendError> {
        match lock(&self.breakers)
            .get(account)
            .and_then(|b| b.open_until(now))
        {
            Some(until) => Err(SendError::CircuitOpen {
                retry_after_ms: until - now,
            }),
            None => Ok(()),
        }
    }

    fn prepare(account: &str, req: &EnqueueRequest, now: u64) -> Result<MessageRecord, SendError> {
        req.outbound.validate()?;
        if let Some(key) = &req.idempotency_key
            && (key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(SendError::IdempotencyKeyInvalid);
        }
        if req.send_at.is_some_and(|t| t < now) {
            return Err(SendError::SendAtInPast);
        }
        let mut record = MessageRecord::new(
            new_id("msg", now),
            account.to_owned(),
            req.outbound.clone(),
            req.send_at,
            now,
        );
        record.idempotency_key = req.idempotency_key.clone();
        record.request_hash = req.idempotency_key.as_ref().map(|_| request_hash(req));
        Ok(record)
    }

    /// Enqueues one message and returns at once with its id (`queued`, or `scheduled`).
    ///
    /// # Errors
    /// The message's `message_*` code, `send_at_in_past`, `idempotency_key_invalid`,
    /// `idempotency_key_conflict` (same key, different request), `circuit_open`, or a store code.
    pub async fn enqueue(&self, account: &str, req: EnqueueRequest) -> Result<Enqueued, SendError> {
        let now = self.now();
        self.check_circuit(account, now)?;
        let record = Self::prepare(account, &req, now)?;
        let cutoff = now.saturating_sub(self.config.idempotency_ttl_ms);
        match self.store.insert(record, cutoff).await? {
            Inserted::Created(record) => Ok(Enqueued {
                record,
                replayed: false,
            }),
            Inserted::Existing(original) => {
                if original.request_hash.as_deref() == Some(request_hash(&req).as_str()) {
                    Ok(Enqueued {
                        record: original,
                        replayed: true,
                    })
                } else {
                    Err(SendError::IdempotencyConflict)
                }
            }
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
        if items.is_empty() {
            return Err(SendError::BulkEmpty);
        }
        if items.len() > self.config.bulk_cap {
            return Err(SendError::BulkTooLarge {
                max: self.config.bulk_cap,
                actual: items.len(),
            });
        }
        let now = self.now();
        self.check_circuit(account, now)?;
        let batch_id = new_id("bat", now);
        let total = items.len();
        let mut records = Vec::with_capacity(total);
        let mut results = Vec::with_capacity(total);
        for mut item in items {
            // Keys are per message on the single endpoint; a batch is one request.
            item.idempotency_key = None;
            match Self::prepare(account, &item, now) {
                Ok(mut r) => {
                    r.batch_id = Some(batch_id.clone());
                    results.push(Ok(r.id.clone()));
                    records.push(r);
                }
                Err(e) => results.push(Err(e)),
            }
        }
        if !records.is_empty() {
            self.store.insert_batch(records).await?;
        }
        Ok(BulkOutcome {
            batch_id,
            total,
            items: results,
        })
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

    /// Cancels a queued or scheduled message.
    ///
    /// # Errors
    /// `message_not_found`, `message_not_cancellable` or a store code.
    pub async fn cancel(&self, account: &str, id: &str) -> Result<MessageRecord, SendError> {
        self.get(account, id).await?;
        let now = self.now();
        let (record, changed) = self
            .store
            .update(
                id,
                Box::new(move |r: &mut MessageRecord| {
                    let moved = r.lifecycle.advance(Status::Cancelled, now);
                    if moved {
                        r.updated_at = now;
                    }
                    moved
                }),
            )
            .await?
            .ok_or(SendError::NotFound)?;
        if !changed {
            return Err(SendError::NotCancellable {
                status: record.status(),
            });
        }
        self.emit(&record, now).await?;
        Ok(record)
    }

    /// Claims due messages, sends them concurrently, and records every outcome in one
    /// store transaction; returns how many were claimed.
    ///
    /// # Errors
    /// A store code; send failures are recorded on the messages, never returned.
    pub async fn run_once(self: &Arc<Self>) -> Result<usize, SendError> {
        let now = self.now();
        let claimed = self
            .store
            .claim_due(now, self.config.lease_ms, self.config.batch_size)
            .await?;
        let n = claimed.len();
        let mut tasks = tokio::task::JoinSet::new();
        for record in claimed {
            let me = Arc::clone(self);
            tasks.spawn(async move { me.process(record, now).await });
        }
        let mut steps = Vec::with_capacity(n);
        while let Some(done) = tasks.join_next().await {
            // A panicked task leaves its message leased; it is re-claimed after the lease.
            if let Ok(step) = done {
                steps.push(step);
            }
        }
        let emits: Vec<bool> = steps.iter().map(|s| s.emit).collect();
        let results = self
            .store
            .update_many(steps.into_iter().map(|s| (s.id, s.mutation)).collect())
            .await?;
        let done = self.now().max(now);
        for (result, emit) in results.into_iter().zip(emits) {
            let Some((record, changed)) = result else {
                continue;
            };
            if changed && emit {
                self.emit(&record, done).await?;
            }
            let early = record
                .provider_message_id
                .as_ref()
                .and_then(|p| lock(&self.early).remove(p));
            for update in early.into_iter().flatten() {
                self.apply_status(&update).await?;
            }
        }
        Ok(n)
    }

    async fn process(&self, record: MessageRecord, now: u64) -> Step {
        let account = record.account.clone();
        let Some(backend) = self.router.backend_for(&account) else {
            return Step::failed(
                record.id,
                now,
                "backend_unavailable",
                "no delivery backend for this account".to_owned(),
            );
        };
        let allowed = lock(&self.breakers)
            .entry(account.clone())
            .or_default()
            .allow(now);
        if let Err(wait) = allowed {
            return Step::defer(record.id, now + wait);
        }
        let recipient = record.outbound.recipient.to_string();
        let paced = lock(&self.pacing).try_acquire(&account, &recipient, now);
        if let Err(wait) = paced {
            // Not sent: give the half-open probe back.
            self.release_probe(&account);
            return Step::defer(record.id, now + wait);
        }
        let result = backend.send(&record.outbound).await;
        let done = self.now().max(now);
        match result {
            Ok(receipt) => {
                lock(&self.breakers).entry(account).or_default().success();
                Step {
                    id: record.id,
                    emit: true,
                    mutation: Box::new(move |r: &mut MessageRecord| {
                        r.attempts += 1;
                        r.lease_until = None;
                        r.provider_message_id = Some(receipt.provider_message_id);
                        r.backend = Some(receipt.backend);
                        r.updated_at = done;
                        // A status webhook may already have moved it further: keep that.
                        r.lifecycle.advance(Status::Sent, done);
                        true
                    }),
                }
            }
            Err(error) => self.failed_attempt(record, &recipient, &error, done),
        }
    }

    fn release_probe(&self, account: &str) {
        let mut breakers = lock(&self.breakers);
        if let Some(b @ Breaker::HalfOpen { probing: true }) = breakers.get_mut(account) {
            *b = Breaker::HalfOpen { probing: false };
        }
    }

    fn failed_attempt(
        &self,
        record: MessageRecord,
        recipient: &str,
        error: &DeliveryError,
        now: u64,
    ) -> Step {
        let account = record.account.clone();
        let class = error.class();
        {
            let mut breakers = lock(&self.breakers);
            let b = breakers.entry(account.clone()).or_default();
            if class == ErrorClass::Transient {
                b.failure(
                    now,
                    self.config.breaker_threshold,
                    self.config.breaker_cooldown_ms,
                );
            } else {
                // The provider answered: the path works.
                b.success();
            }
        }
        let hint = error.retry_after().map(|d| d.as_millis() as u64);
        if class == ErrorClass::RateLimited {
            let until = now + hint.unwrap_or(self.config.base_backoff_ms);
            let mut pacing = lock(&self.pacing);
            match error.rate_limit_scope() {
                Some(RateLimitScope::Recipient) => {
                    pacing.pause_pair(&account, recipient, until, now)
                }
                _ => pacing.pause_account(&account, until, now),
            }
        }
        let attempts = record.attempts + 1;
        let (code, message) = (error.code(), error.to_string());
        if class.is_retryable() && attempts < self.config.max_attempts {
            let random = splitmix(&mut lock(&self.jitter));
            let delay = backoff(
                attempts,
                self.config.base_backoff_ms,
                self.config.max_backoff_ms,
                random,
            )
            .max(hint.unwrap_or(0));
            return Step {
                id: record.id,
                emit: true,
                mutation: Box::new(move |r: &mut MessageRecord| {
                    r.attempts = attempts;
                    r.lease_until = None;
                    r.next_attempt_at = now + delay;
                    r.updated_at = now;
                    r.lifecycle.fail(Status::Retrying, now, code, &message);
                    true
                }),
            };
        }
        let mut step = Step::failed(record.id, now, code, message);
        let inner = step.mutation;
        step.mutation = Box::new(move |r: &mut MessageRecord| {
            r.attempts = attempts;
            inner(r)
        });
        step
    }

    /// Applies a Meta status webhook to the stored message it refers to. Duplicates and
    /// out-of-order statuses are no-ops (monotonic lifecycle). A status for a provider id
    /// not stored yet (it can beat the worker's own record of the send) is held in memory
    /// and applied when the send is recorded (up to 10,000 provider ids). Returns the
    /// message when it changed.
    ///
    /// # Errors
    /// A store code.
    pub async fn apply_status(
        &self,
        update: &StatusUpdate,
    ) -> Result<Option<MessageRecord>, SendError> {
        let Some(to) = Status::from_provider(update.status) else {
            return Ok(None);
        };
        let Some(id) = self.store.find_by_provider_id(&update.message_id).await? else {
            // A provider (or the dry-run backend) can report a status before the worker has
            // recorded the send: keep it until the provider id is stored.
            {
                let mut early = lock(&self.early);
                if early.len() < MAX_EARLY_STATUSES || early.contains_key(&update.message_id) {
                    early
                        .entry(update.message_id.clone())
                        .or_default()
                        .push(update.clone());
                }
            }
            // The send may have been recorded meanwhile (after `run_once` looked for held
            // statuses): look once more, and apply what is held if so.
            if self
                .store
                .find_by_provider_id(&update.message_id)
                .await?
                .is_none()
            {
                return Ok(None);
            }
            let held = lock(&self.early)
                .remove(&update.message_id)
                .unwrap_or_default();
            let mut changed = None;
            for u in held {
                if let Some(r) = Box::pin(self.apply_status(&u)).await? {
                    changed = Some(r);
                }
            }
            return Ok(changed);
        };
        let at = update.timestamp.saturating_mul(1000);
        let error = update.errors.first().map(|e| {
            let d = DeliveryError::from_meta(
                "cloud_api",
                200,
                e.code,
                e.message
                    .clone()
                    .or_else(|| e.title.clone())
                    .unwrap_or_default(),
                None,
            );
            (d.code().to_owned(), d.to_string())
        });
        let now = self.now();
        let result = self
            .store
            .update(
                &id,
                Box::new(move |r: &mut MessageRecord| {
                    let moved = match (&error, to) {
                        (Some((code, message)), Status::Failed) => {
                            r.lifecycle.fail(Status::Failed, at, code, message)
                        }
                        _ => r.lifecycle.advance(to, at),
                    };
                    if moved {
                        r.updated_at = now;
                    }
                    moved
                }),
            )
            .await?;
        match result {
            Some((record, true)) => {
                self.emit(&record, now).await?;
                Ok(Some(record))
            }
            _ => Ok(None),
        }
    }

    /// The status-change event sent to the account's webhook.
    pub fn event_body(record: &MessageRecord, at: u64) -> serde_json::Value {
        json!({
            "type": "message.status",
            "timestamp": rfc3339(at),
            "data": {
                "id": record.id,
                "status": record.status().as_str(),
                "batchId": record.batch_id,
                "providerMessageId": record.provider_message_id,
                "attempts": record.attempts,
                "errorCode": record.lifecycle.error_code,
                "errorMessage": record.lifecycle.error_message,
                "metadata": record.outbound.metadata,
                "timeline": record.lifecycle.timeline,
            }
        })
    }

    async fn emit(&self, record: &MessageRecord, now: u64) -> Result<(), SendError> {
        let Some(target) = self
            .targets
            .as_ref()
            .and_then(|t| t.target_for(&record.account))
        else {
            return Ok(());
        };
        let body = Self::event_body(record, now).to_string();
        self.queue_delivery(&record.account, &target.url, body, None, now)
            .await?;
        Ok(())
    }

    /// Stores a new pending delivery; returns its `webhook-id`.
    async fn queue_delivery(
        &self,
        account: &str,
        url: &str,
        body: String,
        max_attempts: Option<u32>,
        now: u64,
    ) -> Result<String, SendError> {
        let delivery = WebhookDelivery {
            id: new_id("whd", now),
            account: account.to_owned(),
            url: url.to_owned(),
            body,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            lease_until: None,
            state: WebhookState::Pending,
            last_error: None,
            max_attempts,
        };
        let id = delivery.id.clone();
        self.store.push_webhook(delivery).await?;
        Ok(id)
    }

    /// Queues a signed delivery of `body` to `url` for `account` (e.g. a verification
    /// callback): persisted, retried (up to `max_attempts`, default the dispatcher's) and
    /// guarded like status webhooks.
    ///
    /// # Errors
    /// A store code.
    pub async fn push_webhook(
        &self,
        account: &str,
        url: &str,
        body: String,
        max_attempts: Option<u32>,
    ) -> Result<String, SendError> {
        self.queue_delivery(account, url, body, max_attempts, self.now())
            .await
    }

    /// Delivers due status webhooks once; returns how many were attempted.
    ///
    /// # Errors
    /// A store code.
    #[cfg(feature = "outbound-webhooks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "outbound-webhooks")))]
    pub async fn deliver_webhooks_once(&self) -> Result<usize, SendError> {
        webhooks_out::deliver_once(self).await
    }

    /// Runs workers until `shutdown` completes: send rounds back to back while there is
    /// work, else every `idle` interval; webhook deliveries in between.
    pub async fn run(
        self: Arc<Self>,
        idle: std::time::Duration,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            let sent = self.run_once().await.unwrap_or(0);
            #[cfg(feature = "outbound-webhooks")]
            let _ = self.deliver_webhooks_once().await;
            if sent == 0 {
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(idle) => {}
                }
            } else if futures_ready(&mut shutdown).await {
                return;
            }
        }
    }
}

/// Whether `f` has completed, without waiting.
async fn futures_ready<F: Future<Output = ()> + Unpin>(f: &mut F) -> bool {
    tokio::select! {
        biased;
        () = f => true,
        () = std::future::ready(()) => false,
    }
}
