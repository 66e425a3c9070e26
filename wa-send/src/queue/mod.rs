//! Durable storage for queued messages and outbound webhook deliveries.
//!
//! | store | feature | for |
//! |---|---|---|
//! | [`MemoryStore`] | always | tests, single-process demos (lost on exit) |
//! | `SqliteStore` | `sqlite` | one process, one file (WAL) — the server's default |
//! | `PostgresStore` | `postgres` | several replicas sharing one queue (`FOR UPDATE SKIP LOCKED`) |
//!
//! Every store passes [`testing::conformance`]. A store only persists records and hands out
//! leases; every rule (transitions, retries, idempotency) lives in the dispatcher and in
//! [`Lifecycle`], applied through [`QueueStore::update`], so stores cannot disagree.

mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
pub mod testing;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use postgres::PostgresStore;
#[cfg(feature = "sqlite")]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub use sqlite::SqliteStore;

use crate::lifecycle::{Lifecycle, Status};
use crate::{BoxFuture, Outbound};

/// One stored message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageRecord {
    /// Our id (`msg_…`).
    pub id: String,
    /// The account that owns it; every lookup is scoped to it.
    pub account: String,
    /// The bulk batch it came in, if any.
    pub batch_id: Option<String>,
    /// What to send.
    pub outbound: Outbound,
    /// Status, timeline, last error.
    pub lifecycle: Lifecycle,
    /// Send attempts made.
    pub attempts: u32,
    /// When it may next be claimed (Unix ms).
    pub next_attempt_at: u64,
    /// While `processing`: the lease's end (Unix ms); after it, another worker may claim it.
    pub lease_until: Option<u64>,
    /// The provider's id once sent.
    pub provider_message_id: Option<String>,
    /// The backend that sent it.
    pub backend: Option<String>,
    /// The caller's idempotency key.
    pub idempotency_key: Option<String>,
    /// Hash of the request the key was first used with.
    pub request_hash: Option<String>,
    /// The requested send time (Unix ms), when scheduled.
    pub send_at: Option<u64>,
    /// When it was enqueued (Unix ms).
    pub created_at: u64,
    /// When it last changed (Unix ms).
    pub updated_at: u64,
}

impl MessageRecord {
    /// A new record, `queued` (or `scheduled` when `send_at` is after `now`).
    pub fn new(
        id: String,
        account: String,
        outbound: Outbound,
        send_at: Option<u64>,
        now: u64,
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
            next_attempt_at: send_at.filter(|_| scheduled).unwrap_or(now),
            lease_until: None,
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

    /// Whether a worker may claim it at `now`.
    pub fn is_due(&self, now: u64) -> bool {
        match self.status() {
            Status::Queued | Status::Scheduled | Status::Retrying => self.next_attempt_at <= now,
            Status::Processing => self.lease_until.is_none_or(|l| l <= now),
            _ => false,
        }
    }

    /// Claims it: `processing` with a lease (a re-claim after an expired lease keeps the status).
    pub fn claim(&mut self, now: u64, lease_ms: u64) {
        self.lifecycle.advance(Status::Processing, now);
        self.lease_until = Some(now + lease_ms);
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

/// The state of one outbound webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WebhookState {
    /// Waiting for (another) attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Gave up after the last attempt, or the target is forbidden.
    Failed,
}

/// One outbound status webhook, kept until delivered so restarts keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The `webhook-id` (stable across retries).
    pub id: String,
    /// The account it belongs to (its signing secret is looked up at send time).
    pub account: String,
    /// The target URL.
    pub url: String,
    /// The JSON body, exactly as signed and sent.
    pub body: String,
    /// When the event happened (Unix ms).
    pub created_at: u64,
    /// Attempts made.
    pub attempts: u32,
    /// When it may next be tried (Unix ms).
    pub next_attempt_at: u64,
    /// A claim's lease end (Unix ms).
    pub lease_until: Option<u64>,
    /// Where it stands.
    pub state: WebhookState,
    /// The last failure.
    pub last_error: Option<String>,
    /// Attempts before giving up (`None`: the dispatcher's `webhook_max_attempts`).
    #[serde(default)]
    pub max_attempts: Option<u32>,
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

impl StoreError {
    /// The stable code (`store_failed`, `store_corrupt`).
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Backend(_) => "store_failed",
            StoreError::Corrupt { .. } => "store_corrupt",
        }
    }
}

/// The result of an update: the record after it and whether it changed; `None` if absent.
pub type Updated = Option<(MessageRecord, bool)>;

/// A change applied atomically to one record; returns whether it changed anything.
pub type Mutation = Box<dyn FnOnce(&mut MessageRecord) -> bool + Send>;

/// Persists messages and webhook deliveries. Implement it for another database and run
/// [`testing::conformance`] against it.
pub trait QueueStore: Send + Sync + fmt::Debug {
    /// Stores `record`. When it has an idempotency key already used by its account after
    /// `key_cutoff` (Unix ms), stores nothing and returns the original; older uses of the
    /// key are forgotten. Atomic: two concurrent inserts with one key store one record.
    fn insert(
        &self,
        record: MessageRecord,
        key_cutoff: u64,
    ) -> BoxFuture<'_, Result<Inserted, StoreError>>;

    /// Stores many records without idempotency keys in one transaction.
    fn insert_batch(&self, records: Vec<MessageRecord>) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Claims up to `limit` records due at `now` ([`MessageRecord::is_due`]), oldest
    /// `next_attempt_at` first, giving each a lease of `lease_ms`. A record is handed to
    /// one claimer at a time.
    fn claim_due(
        &self,
        now: u64,
        lease_ms: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<MessageRecord>, StoreError>>;

    /// Applies `mutation` to record `id` atomically; `None` when there is no such record.
    fn update(&self, id: &str, mutation: Mutation) -> BoxFuture<'_, Result<Updated, StoreError>>;

    /// Applies several mutations, in order, in one transaction where the store has them
    /// (one durable write per worker round instead of one per message).
    fn update_many(
        &self,
        changes: Vec<(String, Mutation)>,
    ) -> BoxFuture<'_, Result<Vec<Updated>, StoreError>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(changes.len());
            for (id, mutation) in changes {
                out.push(self.update(&id, mutation).await?);
            }
            Ok(out)
        })
    }

    /// The id of the record sent with `provider_message_id`.
    fn find_by_provider_id(
        &self,
        provider_message_id: &str,
    ) -> BoxFuture<'_, Result<Option<String>, StoreError>>;

    /// One record.
    fn get(&self, id: &str) -> BoxFuture<'_, Result<Option<MessageRecord>, StoreError>>;

    /// Records of one account, by id.
    fn list(&self, filter: &ListFilter) -> BoxFuture<'_, Result<Vec<MessageRecord>, StoreError>>;

    /// Keeps a webhook delivery.
    fn push_webhook(&self, delivery: WebhookDelivery) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Claims up to `limit` pending deliveries due at `now`, with a lease.
    fn claim_webhooks(
        &self,
        now: u64,
        lease_ms: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<WebhookDelivery>, StoreError>>;

    /// Saves a delivery after an attempt.
    fn save_webhook(&self, delivery: &WebhookDelivery) -> BoxFuture<'_, Result<(), StoreError>>;

    /// How many records are not yet in a final state (queued, scheduled, processing, retrying).
    fn pending_count(&self) -> BoxFuture<'_, Result<u64, StoreError>>;
}

/// A fresh id with a prefix, sortable by creation time (and by creation order within one
/// process): `<prefix>_<13 hex ms><6 hex sequence><10 hex random>`.
pub fn new_id(prefix: &str, now_ms: u64) -> String {
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & 0xff_ffff;
    let mut r = [0u8; 5];
    // A failing OS RNG leaves zeros; time and sequence still keep ids apart in one process.
    let _ = getrandom::fill(&mut r);
    format!("{prefix}_{now_ms:013x}{seq:06x}{}", hex::encode(r))
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn db(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Box::new(e))
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn decode<T: serde::de::DeserializeOwned>(id: &str, body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt {
        id: id.to_owned(),
        detail: e.to_string(),
    })
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn encode<T: Serialize>(id: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        id: id.to_owned(),
        detail: e.to_string(),
    })
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn state_str(s: WebhookState) -> &'static str {
    match s {
        WebhookState::Pending => "pending",
        WebhookState::Delivered => "delivered",
        WebhookState::Failed => "failed",
    }
}
