//! The dispatcher: enqueue, the worker that claims and sends, status ingest, and the loops
//! that run them.
//!
//! | file | what it owns |
//! |---|---|
//! | `mod.rs` | [`Dispatcher`], [`DispatchConfig`], the routing traits, the run loop |
//! | `enqueue.rs` | enqueue (idempotency, scheduling, bulk), get, list, cancel, retry, summary |
//! | `worker.rs` | claims (what each due message may do now), sending, recording outcomes |
//! | `status.rs` | provider statuses (Meta webhooks, dry-run), with reconciliation and the early buffer |
//! | `retry.rs` | [`RetryPolicy`]: the one retry decision for sends and webhooks |
//! | `breaker.rs` | the per-account circuit breaker |
//! | `pacing.rs` | token buckets per account and per recipient pair |
//! | `stats.rs` | counters the server exports as metrics |
//! | `error.rs` | [`SendError`] |
//!
//! # Delivery guarantee
//! **At most once to the provider per accepted message**, with one exception. A send's
//! outcome is written to the store as soon as the provider answers (a failing write is
//! retried, never the send). If the process dies between the provider's answer and that
//! write, the message's lease expires with its outcome unknown: it is not re-sent at once,
//! but moved to `retrying` with the code `delivery_outcome_unknown` for a reconciliation
//! window (default 10 minutes). Every message is sent with its id in
//! `biz_opaque_callback_data` (unless the caller set that field), so Meta's status webhook
//! for it resolves the message even though its `wamid` was never recorded. Only when no
//! status arrives within the window is it sent again ([`UnknownOutcome::Resend`], the
//! default) or failed ([`UnknownOutcome::Fail`]). So a duplicate needs both a crash inside
//! that window *and* no status webhook from the provider for the first copy.
//!
//! Time comes from a [`Clock`], so tests drive everything with a
//! [`ManualClock`](crate::ManualClock) (`run_once` / `deliver_webhooks_once`) without
//! sleeping.

mod breaker;
mod enqueue;
mod error;
mod pacing;
mod retry;
mod stats;
mod status;
mod worker;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use wa_validate::random::SplitMix64;

pub use enqueue::{BulkOutcome, BulkRequest, EnqueueRequest, Enqueued, ItemError};
pub use error::SendError;
pub use retry::{Next, RetryPolicy};
#[cfg(feature = "outbound-webhooks")]
pub(crate) use stats::bump as stats_bump;
pub use stats::{DispatchStats, StatsSnapshot};

use crate::backend::SharedBackend;
use crate::queue::{DeliveryKind, QueueStore, StoreError, WebhookDelivery};
use crate::webhook::meta::StatusUpdate;
use crate::{Clock, Timestamp};

/// Which backend sends an account's messages.
#[async_trait]
pub trait BackendRouter: Send + Sync + fmt::Debug {
    /// The backend for `account`, or `None` when it has none.
    ///
    /// # Errors
    /// When the account's configuration cannot be read (the send is retried later).
    async fn backend_for(&self, account: &str) -> Result<Option<SharedBackend>, StoreError>;
}

/// Every account uses the same backend.
#[derive(Debug, Clone)]
pub struct SingleBackend(pub SharedBackend);

#[async_trait]
impl BackendRouter for SingleBackend {
    async fn backend_for(&self, _account: &str) -> Result<Option<SharedBackend>, StoreError> {
        Ok(Some(self.0.clone()))
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

/// Looks up accounts' webhook targets (when an event is produced, for the URL; at send
/// time, for the secret).
///
/// A lookup that fails returns the store's error, never `None`: `None` means the account
/// has no target, so its events are not produced, while an error makes the caller retry
/// (a status ingest answers 500 so Meta redelivers; a worker retries the lookup; a delivery
/// is put back without counting an attempt).
#[async_trait]
pub trait WebhookTargets: Send + Sync + fmt::Debug {
    /// The status-webhook target of `account`, if it set one.
    ///
    /// # Errors
    /// The store's error when the account could not be read.
    async fn target_for(&self, account: &str) -> Result<Option<WebhookTarget>, StoreError>;

    /// The secret that signs `account`'s deliveries of `kind`. Defaults to the status
    /// target's secret for every kind.
    ///
    /// # Errors
    /// The store's error when the account could not be read.
    async fn secret_for(
        &self,
        account: &str,
        kind: DeliveryKind,
    ) -> Result<Option<String>, StoreError> {
        let _ = kind;
        Ok(self.target_for(account).await?.map(|t| t.secret))
    }

    /// Called once when a delivery reaches its final state: delivered, or failed (given
    /// up after its last attempt, or at once for a forbidden target). Does nothing by
    /// default.
    async fn delivery_finished(&self, delivery: &WebhookDelivery) {
        let _ = delivery;
    }
}

/// What to do with a message whose send's outcome is unknown once its reconciliation
/// window has passed without a provider status (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnknownOutcome {
    /// Send it again (a duplicate if the first copy was in fact accepted).
    #[default]
    Resend,
    /// Fail it with `delivery_outcome_unknown`; its owner may retry it.
    Fail,
}

/// Dispatcher settings; [`DispatchConfig::default`] documents each default.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DispatchConfig {
    /// How failed sends are retried. Default [`RetryPolicy::messages`].
    pub retry: RetryPolicy,
    /// How failed webhook deliveries are retried. Default [`RetryPolicy::webhooks`].
    pub webhook_retry: RetryPolicy,
    /// Lease of a claimed message (ms): longer than any send takes. Default 60 000.
    pub lease_ms: u64,
    /// Most messages one claim takes. Default 64.
    pub batch_size: usize,
    /// Sends in flight at once (the run loop keeps this many going). Default 256.
    pub concurrency: usize,
    /// Sends in flight at once for one account, so one account's slow upstream cannot
    /// hold every slot. Default 128.
    pub per_account_concurrency: usize,
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
    /// How far ahead `send_at` may be (ms). Default 366 days.
    pub max_schedule_ahead_ms: u64,
    /// How long a message whose send's outcome is unknown waits for the provider's status
    /// before [`DispatchConfig::unknown_outcome`] applies (ms). Default 10 minutes.
    pub reconcile_window_ms: u64,
    /// What happens after the reconciliation window. Default [`UnknownOutcome::Resend`].
    pub unknown_outcome: UnknownOutcome,
    /// Put `wa-kit:<message id>` in `biz_opaque_callback_data` when the caller left it
    /// empty, so statuses can be matched even when a `wamid` was never recorded. Default true.
    pub tag_callback_data: bool,
    /// How long a webhook receiver may take (ms). Default 10 000 (WhatsAPI documents 10 s).
    pub webhook_timeout_ms: u64,
    /// Webhook deliveries in flight at once. Default 64.
    pub webhook_concurrency: usize,
    /// Webhook deliveries in flight at once for one account. Default 4.
    pub webhook_per_account_concurrency: usize,
    /// Deliver webhooks to private/loopback addresses too (tests only). Default false.
    pub allow_private_webhook_targets: bool,
    /// How long shutdown waits for sends in flight (ms). Default 35 000 (over the 30 s send timeout).
    pub drain_timeout_ms: u64,
    /// Seed for retry jitter (`None`: random).
    pub jitter_seed: Option<u64>,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            retry: RetryPolicy::messages(),
            webhook_retry: RetryPolicy::webhooks(),
            lease_ms: 60_000,
            batch_size: 64,
            concurrency: 256,
            per_account_concurrency: 128,
            rate_per_second: Some(80),
            pair_limit: Some((6_000, 45)),
            breaker_threshold: 5,
            breaker_cooldown_ms: 30_000,
            idempotency_ttl_ms: 24 * 3_600_000,
            bulk_cap: 1_000,
            max_schedule_ahead_ms: 366 * 24 * 3_600_000,
            reconcile_window_ms: 10 * 60_000,
            unknown_outcome: UnknownOutcome::Resend,
            tag_callback_data: true,
            webhook_timeout_ms: 10_000,
            webhook_concurrency: 64,
            webhook_per_account_concurrency: 4,
            allow_private_webhook_targets: false,
            drain_timeout_ms: 35_000,
            jitter_seed: None,
        }
    }
}

/// Per-account admission state: pacing, breakers, sends in flight.
#[derive(Debug)]
struct Gate {
    pacing: pacing::Pacing,
    breakers: HashMap<String, breaker::Breaker>,
    in_flight: HashMap<String, usize>,
}

/// Sends queued messages through backends.
pub struct Dispatcher {
    store: Arc<dyn QueueStore>,
    router: Arc<dyn BackendRouter>,
    clock: Arc<dyn Clock>,
    config: DispatchConfig,
    gate: Mutex<Gate>,
    jitter: Mutex<SplitMix64>,
    targets: Option<Arc<dyn WebhookTargets>>,
    /// Statuses that arrived before their send was recorded (untagged messages only).
    early: Mutex<HashMap<String, Vec<StatusUpdate>>>,
    stats: Arc<DispatchStats>,
    wake: tokio::sync::Notify,
    #[cfg(feature = "outbound-webhooks")]
    deliverer: Arc<crate::webhook::outgoing::Deliverer>,
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("store", &self.store)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The webhook deliveries a change of `record` produces: one `message.status_updated`
/// event to the account's target, for every status a customer hears about (not the
/// internal `queued`, `scheduled` and `processing`).
pub(crate) fn status_events(
    target: Option<&WebhookTarget>,
    record: &crate::queue::MessageRecord,
    before: usize,
    now: Timestamp,
) -> Vec<WebhookDelivery> {
    use crate::lifecycle::Status;
    let Some(target) = target else {
        return Vec::new();
    };
    // One event per status this change reached: a `delivered` that arrives before `sent`
    // reaches both (the lifecycle records the implied step), and each is announced once.
    let reached = record
        .lifecycle
        .timeline
        .iter()
        .skip(before)
        .map(|t| t.status);
    reached
        .filter(|s| !matches!(s, Status::Queued | Status::Scheduled | Status::Processing))
        .map(|s| {
            let event = crate::webhook::outgoing::StatusEvent::at_status(record, s, now);
            let body = serde_json::to_string(&event).unwrap_or_default();
            WebhookDelivery::new(
                crate::ids::prefixed("msg", now),
                &record.account,
                DeliveryKind::StatusEvent,
                &target.url,
                body,
                now,
            )
        })
        .collect()
}

/// Locks `m`, recovering from a poisoned lock (the state is plain data; a panic elsewhere
/// leaves it consistent enough to go on).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs the store operation `op` until it succeeds or `tries` attempts have failed,
/// backing off from 50 ms to 5 s. Each failure is counted as a store error and handed to
/// `failed` with its attempt number (for the caller's log line). `None` when every try
/// failed.
pub(crate) async fn until_stored<T, F>(
    stats: &DispatchStats,
    tries: u32,
    mut op: impl FnMut() -> F + Send,
    mut failed: impl FnMut(&StoreError, u32) + Send,
) -> Option<T>
where
    F: Future<Output = Result<T, StoreError>> + Send,
{
    let mut delay = Duration::from_millis(50);
    for attempt in 1..=tries {
        match op().await {
            Ok(v) => return Some(v),
            Err(e) => {
                stats_bump(&stats.store_errors);
                failed(&e, attempt);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
    None
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
            || config.concurrency == 0
            || config.per_account_concurrency == 0
            || config.webhook_concurrency == 0
            || config.webhook_per_account_concurrency == 0
            || config.bulk_cap == 0
            || config.retry.max_attempts == 0
            || config.pair_limit.is_some_and(|(i, b)| i == 0 || b == 0)
        {
            return Err(SendError::ConfigInvalid);
        }
        let seed = config.jitter_seed.unwrap_or_else(|| {
            let mut b = [0u8; 8];
            let _ = getrandom::fill(&mut b);
            u64::from_le_bytes(b)
        });
        let stats = Arc::new(DispatchStats::default());
        #[cfg(feature = "outbound-webhooks")]
        let deliverer = Arc::new(
            crate::webhook::outgoing::Deliverer::new(
                store.clone(),
                clock.clone(),
                &config,
                stats.clone(),
            )
            .map_err(|_| SendError::ConfigInvalid)?,
        );
        Ok(Dispatcher {
            gate: Mutex::new(Gate {
                pacing: pacing::Pacing::new(config.rate_per_second, config.pair_limit),
                breakers: HashMap::new(),
                in_flight: HashMap::new(),
            }),
            jitter: Mutex::new(SplitMix64::new(seed)),
            store,
            router,
            clock,
            config,
            targets: None,
            early: Mutex::new(HashMap::new()),
            stats,
            wake: tokio::sync::Notify::new(),
            #[cfg(feature = "outbound-webhooks")]
            deliverer,
        })
    }

    /// Sends status webhooks to the targets `targets` names.
    #[must_use]
    pub fn with_webhooks(mut self, targets: Arc<dyn WebhookTargets>) -> Self {
        #[cfg(feature = "outbound-webhooks")]
        self.deliverer.set_targets(targets.clone());
        self.targets = Some(targets);
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn QueueStore> {
        &self.store
    }

    /// The settings.
    pub fn config(&self) -> &DispatchConfig {
        &self.config
    }

    /// Counters (sent, failed, retried, store errors, webhook deliveries, …).
    pub fn stats(&self) -> &DispatchStats {
        &self.stats
    }

    fn now(&self) -> Timestamp {
        self.clock.timestamp()
    }

    fn random(&self) -> u64 {
        lock(&self.jitter).next_u64()
    }

    /// The account's status-webhook target, if it has one.
    async fn target(&self, account: &str) -> Result<Option<WebhookTarget>, StoreError> {
        match &self.targets {
            Some(t) => t.target_for(account).await,
            None => Ok(None),
        }
    }

    /// `Some(until)` while `account`'s circuit is open.
    pub fn circuit_open_until(&self, account: &str) -> Option<Timestamp> {
        let now = self.now();
        lock(&self.gate)
            .breakers
            .get(account)
            .and_then(|b| b.open_until(now))
    }

    /// Whether any account's circuit is open (for metrics).
    pub fn open_circuits(&self) -> usize {
        let now = self.now();
        lock(&self.gate)
            .breakers
            .values()
            .filter(|b| b.open_until(now).is_some())
            .count()
    }

    /// Delivers due webhooks once (claims, sends concurrently, records); returns how many
    /// were attempted.
    ///
    /// # Errors
    /// A store code.
    #[cfg(feature = "outbound-webhooks")]
    #[cfg_attr(docsrs, doc(cfg(feature = "outbound-webhooks")))]
    pub async fn deliver_webhooks_once(&self) -> Result<usize, SendError> {
        Ok(self.deliverer.deliver_once().await?)
    }

    /// Runs until `shutdown` completes: the send loop (keeps up to
    /// [`DispatchConfig::concurrency`] sends in flight, claiming as slots free up, waking
    /// at once on enqueue, else every `idle`) and, on its own task, webhook delivery.
    /// Every error is logged and counted, never dropped. On shutdown it stops claiming and
    /// waits up to [`DispatchConfig::drain_timeout_ms`] for sends in flight, so their
    /// outcomes are recorded.
    pub async fn run(self: Arc<Self>, idle: Duration, shutdown: impl Future<Output = ()> + Send) {
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        #[cfg(feature = "outbound-webhooks")]
        let hooks = {
            let deliverer = self.deliverer.clone();
            let stop = stop.clone();
            tokio::spawn(async move { deliverer.run(idle, stop).await })
        };
        let sends = tokio::spawn(self.clone().send_loop(idle, stop));
        shutdown.await;
        let _ = stop_tx.send(true);
        let _ = sends.await;
        #[cfg(feature = "outbound-webhooks")]
        let _ = hooks.await;
    }
}
