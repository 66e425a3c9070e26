//! Durable storage for queued messages, bulk batches and outbound webhook deliveries.
//!
//! | store | feature | for |
//! |---|---|---|
//! | [`MemoryStore`] | always | tests, single-process demos (lost on exit) |
//! | [`SqlStore`] on SQLite | `sqlite` | one process, one file (WAL, one group-committing writer) — the server's default |
//! | [`SqlStore`] on PostgreSQL | `postgres` | several replicas sharing one queue (`FOR UPDATE SKIP LOCKED`) |
//!
//! Every store passes the suite in [`testing`] ([`queue_store_tests!`](crate::queue_store_tests)).
//! A store only persists records and hands out leases; every rule (transitions, retries,
//! idempotency windows, what a claim does) comes from the dispatcher as a closure applied
//! inside the store's transaction, so stores cannot disagree.

mod memory;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
pub mod sql;
pub mod testing;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use memory::MemoryStore;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use sql::{Database, SqlStore};

use crate::lifecycle::{Lifecycle, Status};
use crate::{Outbound, Timestamp};

/// One stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageRecord {
    /// Our id (a UUIDv7: ids sort by creation time).
    pub id: String,
    /// The account that owns it; every lookup is scoped to it.
    pub account: String,
    /// The bulk batch it came in, if any.
    pub batch_id: Option<String>,
    /// What to send.
    pub outbound: Outbound,
    /// Status, timeline, last error.
    pub lifecycle: Lifecycle,
    /// Send attempts that counted against the retry policy (rate-limit answers and
    /// circuit-breaker probes do not).
    pub attempts: u32,
    /// Rate-limit answers received (they wait, but spend no attempt).
    pub throttles: u32,
    /// When it may next be claimed.
    pub next_attempt_at: Timestamp,
    /// While `processing`: the lease's end; after it the send's outcome is unknown.
    pub lease_until: Option<Timestamp>,
    /// When the first send attempt started (the retry horizon counts from here).
    pub first_attempt_at: Option<Timestamp>,
    /// The provider's id once sent.
    pub provider_message_id: Option<String>,
    /// The backend that sent it.
    pub backend: Option<String>,
    /// The caller's idempotency key.
    pub idempotency_key: Option<String>,
    /// Hash of the request the key was first used with.
    pub request_hash: Option<String>,
    /// The requested send time, when scheduled.
    pub send_at: Option<Timestamp>,
    /// When it was enqueued.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl MessageRecord {
    /// A new record, `queued` (or `scheduled` when `send_at` is after `now`).
    pub fn new(
        id: String,
        account: String,
        outbound: Outbound,
        send_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Self {
        let scheduled = send_at.is_some_and(|t| t > now);
        let status = if scheduled {
            Status::Scheduled
        } else {
            Status::Queued
        };
        MessageRecord {
            id,
            account,
            batch_id: None,
            outbound,
            lifecycle: Lifecycle::new(status, now),
            attempts: 0,
            throttles: 0,
            next_attempt_at: send_at.filter(|_| scheduled).unwrap_or(now),
            lease_until: None,
            first_attempt_at: None,
            provider_message_id: None,
            backend: None,
            idempotency_key: None,
            request_hash: None,
            send_at,
            created_at: now,
            updated_at: now,
        }
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.lifecycle.status
    }

    /// When a claim may pick it up, if ever: its next attempt while waiting, its lease's
    /// end while `processing` (an expired lease means the send's outcome is unknown).
    pub fn due_at(&self) -> Option<Timestamp> {
        match self.status() {
            Status::Queued | Status::Scheduled | Status::Retrying => Some(self.next_attempt_at),
            Status::Processing => Some(self.lease_until.unwrap_or(Timestamp::EPOCH)),
            _ => None,
        }
    }

    /// Whether a claim at `now` looks at it.
    pub fn is_due(&self, now: Timestamp) -> bool {
        self.due_at().is_some_and(|t| t <= now)
    }

    /// Leases it for sending: `processing` until `now + lease_ms`.
    pub fn claim(&mut self, now: Timestamp, lease_ms: u64) {
        self.lifecycle.advance(Status::Processing, now);
        self.lease_until = Some(now.plus_millis(lease_ms));
        self.first_attempt_at.get_or_insert(now);
        self.updated_at = now;
    }
}

/// What [`QueueStore::insert`] did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Inserted {
    /// Stored.
    Created(MessageRecord),
    /// The account already used this idempotency key (within its lifetime): the original.
    Existing(MessageRecord),
}

/// A bulk request to store atomically: its messages and, when the caller sent an
/// idempotency key, the key and the response to replay.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NewBatch {
    /// The batch record (its key, request hash and result).
    pub batch: BatchRecord,
    /// The messages queued by it.
    pub records: Vec<MessageRecord>,
}

/// A stored bulk request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BatchRecord {
    /// The batch id.
    pub id: String,
    /// Its account.
    pub account: String,
    /// The caller's idempotency key.
    pub idempotency_key: Option<String>,
    /// Hash of the request the key was used with.
    pub request_hash: Option<String>,
    /// The outcome as JSON (what a replay returns).
    pub result: String,
    /// When it was stored.
    pub created_at: Timestamp,
}

/// What [`QueueStore::insert_batch`] did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BatchInserted {
    /// Stored, with its messages.
    Created,
    /// The account already used this idempotency key for a batch: the original.
    Existing(BatchRecord),
}

/// Which messages to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListFilter {
    /// The owner (required: lists never cross accounts).
    pub account: String,
    /// Only this batch.
    pub batch_id: Option<String>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only messages with an id after this one (ids sort by creation).
    pub after_id: Option<String>,
    /// Skip this many (page-based listing).
    pub offset: usize,
    /// At most this many (capped at 1000).
    pub limit: usize,
}

impl ListFilter {
    /// Every message of `account`, 100 at a time.
    pub fn account(account: impl Into<String>) -> Self {
        ListFilter {
            account: account.into(),
            limit: 100,
            ..ListFilter::default()
        }
    }
}

/// Message counts of one account by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Summary {
    /// All messages.
    pub total: u64,
    /// By status (statuses with no message are absent).
    pub by_status: BTreeMap<Status, u64>,
}

impl Summary {
    /// Messages with `status`.
    pub fn count(&self, status: Status) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }
}

/// The queue as a whole, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueStats {
    /// Messages not yet sent or finished (queued, scheduled, processing, retrying).
    pub pending: u64,
    /// The earliest time a pending message is due, if any.
    pub oldest_due: Option<Timestamp>,
    /// Webhook deliveries waiting.
    pub webhooks_pending: u64,
}

/// What a claim does with one due record (decided by the dispatcher, applied by the store
/// in the claim's transaction).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Admission {
    /// Lease it and hand it out for sending ([`MessageRecord::claim`]).
    Send,
    /// Store it as the closure changed it (e.g. a later `next_attempt_at`), with these
    /// webhook deliveries; it is not handed out.
    Save(Vec<WebhookDelivery>),
    /// Leave it as it is.
    Skip,
}

/// Decides, inside a claim, what happens to each due record; may change the record.
pub type Admit = Box<dyn FnMut(&mut MessageRecord) -> Admission + Send>;

/// What a [`Mutation`] did.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Change {
    /// Whether the record changed (and must be written).
    pub changed: bool,
    /// Webhook deliveries to store in the same transaction (the outbox).
    pub webhooks: Vec<WebhookDelivery>,
}

impl Change {
    /// No change.
    pub const NONE: Change = Change {
        changed: false,
        webhooks: Vec::new(),
    };

    /// Changed, or not, without webhooks.
    pub fn changed(changed: bool) -> Change {
        Change {
            changed,
            webhooks: Vec::new(),
        }
    }
}

/// A change applied atomically to one record, with the webhooks it emits.
pub type Mutation = Box<dyn FnOnce(&mut MessageRecord) -> Change + Send>;

/// The result of an update: the record after it and whether it changed; `None` if absent.
pub type Updated = Option<(MessageRecord, bool)>;

/// What a webhook delivery carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliveryKind {
    /// A `message.status_updated` event to the account's webhook (any 2xx succeeds).
    StatusEvent,
    /// A verification callback (only 200 or 204 succeed, as WhatAuth documents).
    Callback,
}

impl DeliveryKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::StatusEvent => "status_event",
            DeliveryKind::Callback => "callback",
        }
    }

    /// Parses [`DeliveryKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "status_event" => Some(DeliveryKind::StatusEvent),
            "callback" => Some(DeliveryKind::Callback),
            _ => None,
        }
    }

    /// Whether `status` counts as delivered for this kind.
    pub fn accepts(self, status: u16) -> bool {
        match self {
            DeliveryKind::StatusEvent => (200..300).contains(&status),
            DeliveryKind::Callback => status == 200 || status == 204,
        }
    }
}

/// The state of one outbound webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WebhookState {
    /// Waiting for (another) attempt.
    Pending,
    /// The receiver accepted it.
    Delivered,
    /// Given up after the last attempt, or the target is forbidden.
    Failed,
}

impl WebhookState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookState::Pending => "pending",
            WebhookState::Delivered => "delivered",
            WebhookState::Failed => "failed",
        }
    }

    /// Parses [`WebhookState::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(WebhookState::Pending),
            "delivered" => Some(WebhookState::Delivered),
            "failed" => Some(WebhookState::Failed),
            _ => None,
        }
    }
}

/// One outbound webhook, kept until delivered so restarts keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The `webhook-id` (stable across retries).
    pub id: String,
    /// The account it belongs to (its signing secret is looked up at send time).
    pub account: String,
    /// What it carries.
    pub kind: DeliveryKind,
    /// The caller's reference (e.g. the verification id of a callback).
    pub reference: Option<String>,
    /// The target URL.
    pub url: String,
    /// The JSON body, exactly as signed and sent.
    pub body: String,
    /// When the event happened.
    pub created_at: Timestamp,
    /// Attempts made.
    pub attempts: u32,
    /// When it may next be tried.
    pub next_attempt_at: Timestamp,
    /// A claim's lease end.
    pub lease_until: Option<Timestamp>,
    /// Where it stands.
    pub state: WebhookState,
    /// The last failure.
    pub last_error: Option<String>,
    /// Attempts before giving up (`None`: the retry policy's).
    pub max_attempts: Option<u32>,
}

impl WebhookDelivery {
    /// A new pending delivery, due at `now`.
    pub fn new(
        id: String,
        account: &str,
        kind: DeliveryKind,
        url: &str,
        body: String,
        now: Timestamp,
    ) -> Self {
        WebhookDelivery {
            id,
            account: account.to_owned(),
            kind,
            reference: None,
            url: url.to_owned(),
            body,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            lease_until: None,
            state: WebhookState::Pending,
            last_error: None,
            max_attempts: None,
        }
    }

    /// When a claim may pick it up, if ever.
    pub fn due_at(&self) -> Option<Timestamp> {
        (self.state == WebhookState::Pending).then(|| {
            self.lease_until
                .map_or(self.next_attempt_at, |l| l.max(self.next_attempt_at))
        })
    }
}

/// A message's id and account, found by its provider id.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageRef {
    /// The message id.
    pub id: String,
    /// Its account.
    pub account: String,
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed or is unreachable.
    #[error("queue store failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored record could not be read back.
    #[error("corrupt record {id}: {detail}")]
    Corrupt {
        /// Its id.
        id: String,
        /// What failed.
        detail: String,
    },
}

wa_validate::error_codes! {
    StoreError;
    Backend => "store_failed", "the database failed or is unreachable";
    Corrupt => "store_corrupt", "a stored record could not be read back";
}

impl StoreError {
    /// A backend failure with a message.
    pub fn backend(message: impl Into<String>) -> Self {
        StoreError::Backend(message.into().into())
    }
}

/// Persists messages, batches and webhook deliveries. Implement it for another database
/// and run [`queue_store_tests!`](crate::queue_store_tests) against it.
#[async_trait]
pub trait QueueStore: Send + Sync + fmt::Debug {
    /// Stores `record`. When it has an idempotency key already used by its account after
    /// `key_cutoff`, stores nothing and returns the original; older uses of the key are
    /// forgotten. Atomic: two concurrent inserts with one key store one record.
    async fn insert(
        &self,
        record: MessageRecord,
        key_cutoff: Timestamp,
    ) -> Result<Inserted, StoreError>;

    /// Stores a bulk request and its messages in one transaction, unless its batch's
    /// idempotency key was already used by its account after `key_cutoff` (then nothing is
    /// stored and the original batch is returned).
    async fn insert_batch(
        &self,
        batch: NewBatch,
        key_cutoff: Timestamp,
    ) -> Result<BatchInserted, StoreError>;

    /// Looks at up to `2 × limit` records due at `now` ([`MessageRecord::is_due`]), oldest
    /// first, and applies `admit` to each in one transaction: at most `limit` are leased
    /// for `lease_ms` and returned ([`Admission::Send`]); others are saved as changed or
    /// left alone. A record is handed to one claimer at a time.
    async fn claim(
        &self,
        now: Timestamp,
        lease_ms: u64,
        limit: usize,
        admit: Admit,
    ) -> Result<Vec<MessageRecord>, StoreError>;

    /// Applies several mutations, in order, in one transaction, with the webhooks they
    /// emit; `None` for absent records.
    async fn update_many(
        &self,
        changes: Vec<(String, Mutation)>,
    ) -> Result<Vec<Updated>, StoreError>;

    /// Applies `mutation` to record `id` atomically; `None` when there is no such record.
    async fn update(&self, id: &str, mutation: Mutation) -> Result<Updated, StoreError> {
        Ok(self
            .update_many(vec![(id.to_owned(), mutation)])
            .await?
            .pop()
            .flatten())
    }

    /// The message sent with `provider_message_id`.
    async fn find_by_provider_id(
        &self,
        provider_message_id: &str,
    ) -> Result<Option<MessageRef>, StoreError>;

    /// One record.
    async fn get(&self, id: &str) -> Result<Option<MessageRecord>, StoreError>;

    /// Records of one account, by id.
    async fn list(&self, filter: &ListFilter) -> Result<Vec<MessageRecord>, StoreError>;

    /// Counts of one account's messages by status (an aggregate query, not a scan of
    /// records in the caller).
    async fn summary(&self, account: &str) -> Result<Summary, StoreError>;

    /// Queue-wide numbers for metrics.
    async fn stats(&self) -> Result<QueueStats, StoreError>;

    /// Keeps webhook deliveries.
    async fn push_webhooks(&self, deliveries: Vec<WebhookDelivery>) -> Result<(), StoreError>;

    /// Claims up to `limit` pending deliveries due at `now`, with a lease.
    async fn claim_webhooks(
        &self,
        now: Timestamp,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError>;

    /// Saves a delivery after an attempt.
    async fn save_webhook(&self, delivery: &WebhookDelivery) -> Result<(), StoreError>;

    /// One delivery.
    async fn get_webhook(&self, id: &str) -> Result<Option<WebhookDelivery>, StoreError>;

    /// How many records are not yet in a final or sent state.
    async fn pending_count(&self) -> Result<u64, StoreError> {
        Ok(self.stats().await?.pending)
    }
}
