//! Delivering stored webhooks: claim, sign, POST through the guarded client, retry by
//! [`RetryPolicy::webhooks`](crate::RetryPolicy::webhooks). Runs on its own task with its
//! own concurrency limits (overall and per account), so a slow or dead receiver delays
//! only its own account's webhooks, never a message.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::target::{TargetPolicy, check_target_syntax, guarded_client};
use super::{OutboundWebhookError, sign};
use crate::dispatch::{DispatchConfig, DispatchStats, Next, RetryPolicy, WebhookTargets};
use crate::queue::{QueueStore, StoreError, WebhookDelivery, WebhookState};
use crate::{Clock, Timestamp};

const LEASE_MS: u64 = 60_000;

/// Delivers stored webhook deliveries (the dispatcher owns one; see
/// [`Dispatcher::deliver_webhooks_once`](crate::Dispatcher::deliver_webhooks_once)).
pub struct Deliverer {
    store: Arc<dyn QueueStore>,
    clock: Arc<dyn Clock>,
    targets: std::sync::OnceLock<Arc<dyn WebhookTargets>>,
    client: reqwest::Client,
    policy: TargetPolicy,
    retry: RetryPolicy,
    concurrency: usize,
    per_account: usize,
    stats: Arc<DispatchStats>,
    busy: Mutex<HashMap<String, usize>>,
    jitter: Mutex<wa_validate::random::SplitMix64>,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("policy", &self.policy)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// One attempt's failure: why, and whether another attempt may help.
struct Failure {
    why: String,
    retry: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    fn final_(why: impl Into<String>) -> Self {
        Failure {
            why: why.into(),
            retry: false,
            retry_after: None,
        }
    }
}

impl From<OutboundWebhookError> for Failure {
    fn from(e: OutboundWebhookError) -> Self {
        Failure::final_(e.to_string())
    }
}

impl Deliverer {
    pub(crate) fn new(
        store: Arc<dyn QueueStore>,
        clock: Arc<dyn Clock>,
        config: &DispatchConfig,
        stats: Arc<DispatchStats>,
    ) -> Result<Self, reqwest::Error> {
        let policy = TargetPolicy::PUBLIC.allow_private(config.allow_private_webhook_targets);
        let mut seed = [0u8; 8];
        let _ = getrandom::fill(&mut seed);
        Ok(Deliverer {
            client: guarded_client(policy, Duration::from_millis(config.webhook_timeout_ms))?,
            store,
            clock,
            targets: std::sync::OnceLock::new(),
            policy,
            retry: config.webhook_retry,
            concurrency: config.webhook_concurrency,
            per_account: config.webhook_per_account_concurrency,
            stats,
            busy: Mutex::new(HashMap::new()),
            jitter: Mutex::new(wa_validate::random::SplitMix64::new(
                config.jitter_seed.unwrap_or(u64::from_le_bytes(seed)),
            )),
        })
    }

    pub(crate) fn set_targets(&self, targets: Arc<dyn WebhookTargets>) {
        let _ = self.targets.set(targets);
    }

    fn now(&self) -> Timestamp {
        self.clock.timestamp()
    }

    /// Takes a per-account slot, or returns the delivery to the queue for later.
    fn take_slot(&self, account: &str) -> bool {
        let mut busy = crate::dispatch::lock(&self.busy);
        let n = busy.entry(account.to_owned()).or_default();
        if *n >= self.per_account {
            return false;
        }
        *n += 1;
        true
    }

    fn free_slot(&self, account: &str) {
        let mut busy = crate::dispatch::lock(&self.busy);
        if let Some(n) = busy.get_mut(account) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                busy.remove(account);
            }
        }
    }

    /// Claims due deliveries; those whose account is at its limit go back unleased.
    async fn claim(&self, limit: usize) -> Result<Vec<WebhookDelivery>, StoreError> {
        let now = self.now();
        let claimed = self.store.claim_webhooks(now, LEASE_MS, limit).await?;
        let mut out = Vec::with_capacity(claimed.len());
        for mut d in claimed {
            if self.take_slot(&d.account) {
                out.push(d);
            } else {
                d.lease_until = None;
                d.next_attempt_at = now.plus_millis(500);
                self.store.save_webhook(&d).await?;
            }
        }
        Ok(out)
    }

    /// Delivers due webhooks once and waits for them; returns how many were attempted.
    ///
    /// # Errors
    /// A store code.
    pub async fn deliver_once(&self) -> Result<usize, StoreError> {
        let due = self.claim(self.concurrency).await?;
        let n = due.len();
        let attempts: Vec<_> = due.into_iter().map(|d| self.deliver(d)).collect();
        for a in attempts {
            a.await;
        }
        Ok(n)
    }

    /// Runs until `stop` turns true: keeps up to the configured number of deliveries in
    /// flight, claiming as they finish, else every `idle`.
    pub(crate) async fn run(self: &Arc<Self>, idle: Duration, mut stop: watch::Receiver<bool>) {
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        while !*stop.borrow() {
            while tasks.try_join_next().is_some() {}
            let free = slots.available_permits();
            let mut got = 0;
            if free > 0 {
                match self.claim(free).await {
                    Ok(due) => {
                        got = due.len();
                        for d in due {
                            let Ok(permit) = slots.clone().acquire_owned().await else {
                                break;
                            };
                            let me = self.clone();
                            tasks.spawn(async move {
                                me.deliver(d).await;
                                drop(permit);
                            });
                        }
                    }
                    Err(e) => {
                        crate::dispatch::stats_bump(&self.stats.store_errors);
                        tracing::error!(code = e.code(), error = %e, "claiming webhook deliveries failed");
                    }
                }
            }
            if got > 0 && got == free {
                continue;
            }
            tokio::select! {
                _ = stop.changed() => {}
                () = tokio::time::sleep(idle) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        // In-flight deliveries keep their leases; unfinished ones are retried after restart.
        tasks.abort_all();
    }

    /// One attempt for `d`, recorded. When the signing secret cannot be read (a store
    /// error), `d` goes back unattempted and uncounted, due again in a second.
    async fn deliver(&self, mut d: WebhookDelivery) {
        let now = self.now();
        let secret = match self.targets.get() {
            Some(t) => t.secret_for(&d.account, d.kind).await,
            None => Ok(None),
        };
        let secret = match secret {
            Ok(secret) => secret,
            Err(e) => {
                self.free_slot(&d.account);
                crate::dispatch::stats_bump(&self.stats.store_errors);
                tracing::error!(delivery_id = %d.id, code = e.code(), error = %e, "reading the webhook's signing secret failed; the delivery is put back");
                d.lease_until = None;
                d.next_attempt_at = now.plus_millis(1_000);
                self.save(&d).await;
                return;
            }
        };
        crate::dispatch::stats_bump(&self.stats.webhook_attempts);
        let outcome = self.attempt(&d, now, secret).await;
        self.free_slot(&d.account);
        let done = self.now().max(now);
        d.attempts += 1;
        d.lease_until = None;
        match outcome {
            Ok(()) => {
                d.state = WebhookState::Delivered;
                d.last_error = None;
                crate::dispatch::stats_bump(&self.stats.webhooks_delivered);
            }
            Err(f) => {
                crate::dispatch::stats_bump(&self.stats.webhook_errors);
                tracing::warn!(delivery_id = %d.id, kind = d.kind.as_str(), attempts = d.attempts, error = %f.why, "webhook delivery failed");
                let mut policy = self.retry;
                if let Some(max) = d.max_attempts {
                    policy.max_attempts = max;
                }
                let elapsed = Duration::from_millis(done.millis_since(d.created_at));
                let random = crate::dispatch::lock(&self.jitter).next_u64();
                match policy.next(d.attempts, elapsed, f.retry, f.retry_after, random) {
                    Next::RetryIn(wait) => d.next_attempt_at = done.plus(wait),
                    Next::GiveUp => {
                        d.state = WebhookState::Failed;
                        crate::dispatch::stats_bump(&self.stats.webhooks_failed);
                    }
                }
                d.last_error = Some(f.why);
            }
        }
        self.save(&d).await;
        if d.state != WebhookState::Pending
            && let Some(t) = self.targets.get()
        {
            t.delivery_finished(&d).await;
        }
    }

    /// Writes `d`, retrying a failing write (20 tries, backing off to 5 s); a delivery
    /// whose write never lands is claimed again when its lease expires.
    async fn save(&self, d: &WebhookDelivery) {
        let op = || self.store.save_webhook(d);
        crate::dispatch::until_stored(&self.stats, 20, op, |e, attempt| {
            tracing::error!(delivery_id = %d.id, code = e.code(), attempt, "recording a webhook delivery failed; retrying the write");
        })
        .await;
    }

    /// One POST, signed with `secret` (an account without one fails for good).
    async fn attempt(
        &self,
        d: &WebhookDelivery,
        now: Timestamp,
        secret: Option<String>,
    ) -> Result<(), Failure> {
        let secret = secret.ok_or_else(|| Failure::final_("the account has no signing secret"))?;
        // IP-literal URLs skip the resolver: check them here, on every attempt.
        let policy = match d.kind {
            crate::queue::DeliveryKind::Callback => TargetPolicy {
                require_https: !self.policy.allow_private,
                ..self.policy
            },
            _ => self.policy,
        };
        check_target_syntax(&d.url, policy)?;
        let timestamp = now.as_secs();
        let signature = sign(&secret, &d.id, timestamp, d.body.as_bytes())?;
        let resp = self
            .client
            .post(&d.url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(d.body.clone())
            .send()
            .await
            .map_err(|e| {
                // A forbidden address never becomes allowed.
                let forbidden = format!("{e:?}").contains("forbidden address");
                Failure {
                    why: e.without_url().to_string(),
                    retry: !forbidden,
                    retry_after: None,
                }
            })?;
        let status = resp.status().as_u16();
        if d.kind.accepts(status) {
            return Ok(());
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.min(24 * 3600)));
        Err(Failure {
            why: format!("HTTP {status}"),
            // 410 Gone: the receiver asks us to stop.
            retry: status != 410,
            retry_after,
        })
    }
}
