//! The worker: claims decide what each due message may do now (send, wait for pacing or
//! the circuit, be reconciled), sends run concurrently, and each outcome is written as soon
//! as the provider answers, with the webhooks it emits in the same transaction.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use super::breaker::Gate as Breaking;
use super::stats::bump;
use super::{Dispatcher, Next, SendError, UnknownOutcome, WebhookTarget, lock, status_events};
use crate::backend::{ErrorClass, RateLimitScope, Receipt};
use crate::lifecycle::Status;
use crate::queue::{Admission, Change, MessageRecord, Mutation, StoreError};
use crate::{DeliveryError, Timestamp};

/// The code of a message whose send's outcome is unknown (see the module docs).
pub(crate) const OUTCOME_UNKNOWN: &str = "delivery_outcome_unknown";
const CALLBACK_TAG: &str = "wa-kit:";

/// The `biz_opaque_callback_data` that names message `id`.
pub(crate) fn callback_tag(id: &str) -> String {
    format!("{CALLBACK_TAG}{id}")
}

/// The message id a tagged `biz_opaque_callback_data` names.
pub(crate) fn untag(data: &str) -> Option<&str> {
    data.strip_prefix(CALLBACK_TAG).filter(|id| !id.is_empty())
}

/// What a claimed message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Send it.
    Send,
    /// Its lease expired mid-send: record the unknown outcome and wait for reconciliation.
    Orphaned,
    /// Its reconciliation window passed without a status, and the policy is to fail.
    FailUnknown,
}

fn is_unknown(r: &MessageRecord) -> bool {
    r.status() == Status::Retrying && r.lifecycle.error_code.as_deref() == Some(OUTCOME_UNKNOWN)
}

/// Per-claim state of the admission closure.
#[derive(Default)]
struct Round {
    /// Messages of each account deferred in this claim (to stagger their next attempts).
    deferred: HashMap<String, u64>,
    /// What each admitted message is for, and its account.
    actions: HashMap<String, (Action, String)>,
}

fn elapsed(r: &MessageRecord, now: Timestamp) -> Duration {
    Duration::from_millis(now.millis_since(r.first_attempt_at.unwrap_or(now)))
}

impl Dispatcher {
    /// What a claim does with `r` at `now` (runs inside the store's transaction).
    fn admit(&self, r: &mut MessageRecord, now: Timestamp, round: &mut Round) -> Admission {
        if r.status() == Status::Processing {
            round
                .actions
                .insert(r.id.clone(), (Action::Orphaned, r.account.clone()));
            return Admission::Send;
        }
        if is_unknown(r) && self.config.unknown_outcome == UnknownOutcome::Fail {
            round
                .actions
                .insert(r.id.clone(), (Action::FailUnknown, r.account.clone()));
            return Admission::Send;
        }
        let account = r.account.clone();
        let mut gate = lock(&self.gate);
        let busy = gate.in_flight.get(&account).copied().unwrap_or(0);
        let defer = |r: &mut MessageRecord, until: Timestamp| {
            r.next_attempt_at = until;
            r.updated_at = now;
            Admission::Save(Vec::new())
        };
        if busy >= self.config.per_account_concurrency {
            // The account has its share of sends in flight: move the message behind every
            // message due now, so other accounts' messages go first.
            return defer(r, now.plus_millis(1));
        }
        let probe = match gate.breakers.entry(account.clone()).or_default().allow(now) {
            Breaking::Wait(until) => return defer(r, until),
            Breaking::Probe => true,
            Breaking::Pass => false,
        };
        let recipient = r.outbound.recipient.to_string();
        let raw = now.as_millis();
        if let Err(wait) = gate.pacing.try_acquire(&account, &recipient, raw) {
            if probe && let Some(b) = gate.breakers.get_mut(&account) {
                b.release_probe();
            }
            let k = round.deferred.entry(account.clone()).or_default();
            let stagger = gate.pacing.account_interval_ms(&account).unwrap_or(0) * *k;
            *k += 1;
            return defer(r, now.plus_millis(wait + stagger));
        }
        *gate.in_flight.entry(account.clone()).or_default() += 1;
        round.actions.insert(r.id.clone(), (Action::Send, account));
        Admission::Send
    }

    fn release_slot(&self, account: &str, action: Action) {
        if action != Action::Send {
            return;
        }
        let mut gate = lock(&self.gate);
        if let Some(n) = gate.in_flight.get_mut(account) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                gate.in_flight.remove(account);
            }
        }
    }

    /// One claim of up to `limit` messages.
    async fn claim(
        self: &Arc<Self>,
        limit: usize,
    ) -> Result<Vec<(MessageRecord, Action)>, SendError> {
        let now = self.now();
        let round = Arc::new(std::sync::Mutex::new(Round::default()));
        let (me, r2) = (Arc::clone(self), round.clone());
        let admit = Box::new(move |r: &mut MessageRecord| me.admit(r, now, &mut lock(&r2)));
        let claimed = self
            .store
            .claim(now, self.config.lease_ms, limit, admit)
            .await;
        let actions = std::mem::take(&mut lock(&round).actions);
        match claimed {
            Ok(records) => Ok(records
                .into_iter()
                .map(|r| {
                    let action = actions.get(&r.id).map_or(Action::Send, |a| a.0);
                    (r, action)
                })
                .collect()),
            Err(e) => {
                // The transaction rolled back: nothing it admitted is in flight.
                for (action, account) in actions.values() {
                    self.release_slot(account, *action);
                    if let Some(b) = lock(&self.gate).breakers.get_mut(account) {
                        b.release_probe();
                    }
                }
                Err(e.into())
            }
        }
    }

    /// Claims due messages, sends them concurrently and records every outcome; returns how
    /// many were claimed. Tests drive the dispatcher with it on a manual clock; [`run`]
    /// keeps sends going continuously instead.
    ///
    /// # Errors
    /// A store code; send failures are recorded on the messages, never returned.
    ///
    /// [`run`]: Dispatcher::run
    pub async fn run_once(self: &Arc<Self>) -> Result<usize, SendError> {
        let claimed = self.claim(self.config.batch_size).await?;
        let n = claimed.len();
        let mut tasks = JoinSet::new();
        for (record, action) in claimed {
            let me = Arc::clone(self);
            tasks.spawn(async move { me.process(record, action, None).await });
        }
        while tasks.join_next().await.is_some() {}
        Ok(n)
    }

    /// The send loop of [`Dispatcher::run`].
    pub(super) async fn send_loop(
        self: Arc<Self>,
        idle: Duration,
        mut stop: watch::Receiver<bool>,
    ) {
        let slots = Arc::new(Semaphore::new(self.config.concurrency));
        let mut tasks = JoinSet::new();
        let mut pause = idle;
        while !*stop.borrow() {
            self.stats
                .last_tick
                .store(self.now().as_millis(), std::sync::atomic::Ordering::Relaxed);
            while let Some(done) = tasks.try_join_next() {
                if let Err(e) = done {
                    tracing::error!(error = %e, "a send task panicked; its message is reconciled when its lease expires");
                }
            }
            let free = slots.available_permits().min(self.config.batch_size);
            let mut full = false;
            if free > 0 {
                match self.claim(free).await {
                    Ok(claimed) => {
                        pause = idle;
                        full = claimed.len() == free;
                        for (record, action) in claimed {
                            let Ok(permit) = slots.clone().acquire_owned().await else {
                                break;
                            };
                            let me = self.clone();
                            tasks.spawn(
                                async move { me.process(record, action, Some(permit)).await },
                            );
                        }
                    }
                    Err(e) => {
                        bump(&self.stats.store_errors);
                        tracing::error!(code = e.code(), error = %e, "claiming due messages failed; retrying");
                        pause = (pause * 2).clamp(idle, Duration::from_secs(5));
                        full = false;
                    }
                }
            }
            if full && slots.available_permits() > 0 {
                continue;
            }
            tokio::select! {
                _ = stop.changed() => {}
                () = self.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        self.drain(tasks).await;
    }

    /// Shutdown: claim nothing more, wait for sends in flight so their outcomes are
    /// recorded.
    async fn drain(&self, mut tasks: JoinSet<()>) {
        if tasks.is_empty() {
            return;
        }
        tracing::info!(
            in_flight = tasks.len(),
            "shutdown: waiting for sends in flight"
        );
        let deadline = tokio::time::sleep(Duration::from_millis(self.config.drain_timeout_ms));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = tasks.join_next() => if next.is_none() { return },
                () = &mut deadline => {
                    tracing::warn!(in_flight = tasks.len(), "shutdown: sends still in flight after the drain timeout; their outcomes are reconciled after restart");
                    tasks.abort_all();
                    return;
                }
            }
        }
    }

    async fn process(
        self: Arc<Self>,
        record: MessageRecord,
        action: Action,
        permit: Option<OwnedSemaphorePermit>,
    ) {
        let account = record.account.clone();
        match action {
            Action::Send => self.send_one(record).await,
            Action::Orphaned => self.orphaned(record).await,
            Action::FailUnknown => {
                let now = self.now();
                let message = "the outcome of the last send is unknown and no status arrived from the provider; retry the message to send it again".to_owned();
                self.finish(&record, now, Status::Failed, OUTCOME_UNKNOWN, message)
                    .await;
            }
        }
        self.release_slot(&account, action);
        drop(permit);
        self.wake.notify_one();
    }

    /// A lease that expired mid-send: the provider may or may not have the message.
    async fn orphaned(&self, record: MessageRecord) {
        let now = self.now();
        bump(&self.stats.unknown_outcomes);
        tracing::warn!(message_id = %record.id, "a send's outcome is unknown (its lease expired); waiting for the provider's status before sending again");
        let window = self.config.reconcile_window_ms;
        let make = move || -> Mutation {
            Box::new(move |r: &mut MessageRecord| {
                if r.status() != Status::Processing {
                    return Change::NONE;
                }
                r.lease_until = None;
                r.next_attempt_at = now.plus_millis(window);
                r.updated_at = now;
                Change::changed(r.lifecycle.fail(
                    Status::Retrying,
                    now,
                    OUTCOME_UNKNOWN,
                    "the process sending this message stopped before recording the provider's answer; waiting for its status webhook",
                ))
            })
        };
        self.record(&record.id, make).await;
    }

    async fn send_one(&self, record: MessageRecord) {
        let backend = match self.router.backend_for(&record.account).await {
            Ok(Some(b)) => b,
            Ok(None) => {
                let now = self.now();
                let msg = "no delivery backend for this account".to_owned();
                self.finish(&record, now, Status::Failed, "backend_unavailable", msg)
                    .await;
                return;
            }
            Err(e) => {
                bump(&self.stats.store_errors);
                tracing::error!(message_id = %record.id, code = e.code(), "could not look up the account's backend; retrying soon");
                let now = self.now();
                let mut hold = record.clone();
                hold.next_attempt_at = now.plus_millis(1_000);
                self.finish(&hold, now, Status::Retrying, e.code(), e.to_string())
                    .await;
                return;
            }
        };
        let mut outbound = record.outbound.clone();
        if self.config.tag_callback_data && outbound.biz_opaque_callback_data.is_none() {
            outbound.biz_opaque_callback_data = Some(callback_tag(&record.id));
        }
        let started = self.now();
        bump(&self.stats.attempts);
        let result = backend.send(&outbound).await;
        let done = self.now().max(started);
        self.stats.send_latency_ms_total.fetch_add(
            done.millis_since(started),
            std::sync::atomic::Ordering::Relaxed,
        );
        match result {
            Ok(receipt) => self.sent(&record, receipt, done).await,
            Err(error) => self.failed_attempt(&record, &error, done).await,
        }
    }

    async fn sent(&self, record: &MessageRecord, receipt: Receipt, done: Timestamp) {
        lock(&self.gate)
            .breakers
            .entry(record.account.clone())
            .or_default()
            .success();
        bump(&self.stats.sent);
        if record.lifecycle.error_code.as_deref() == Some(OUTCOME_UNKNOWN) {
            bump(&self.stats.resent_after_unknown);
        }
        let target = self.target_of(record).await;
        let pid = receipt.provider_message_id.clone();
        let make = move || -> Mutation {
            let (receipt, target) = (receipt.clone(), target.clone());
            Box::new(move |r: &mut MessageRecord| {
                r.attempts += 1;
                r.lease_until = None;
                r.provider_message_id = Some(receipt.provider_message_id);
                r.backend = Some(receipt.backend);
                r.updated_at = done;
                // A status webhook may already have moved it further: keep that.
                let before = r.lifecycle.timeline.len();
                let moved = r.lifecycle.advance(Status::Sent, done);
                let webhooks = if moved {
                    status_events(target.as_ref(), r, before, done)
                } else {
                    Vec::new()
                };
                Change {
                    changed: true,
                    webhooks,
                }
            })
        };
        self.record(&record.id, make).await;
        self.apply_held(&pid).await;
    }

    async fn failed_attempt(&self, record: &MessageRecord, error: &DeliveryError, now: Timestamp) {
        let class = error.class();
        let probe = self.gate_failure(record, error, now);
        let (attempts, throttles, next) = self.next_after_failure(record, error, probe, now);
        let (code, message) = (error.code(), error.to_string());
        tracing::warn!(message_id = %record.id, code, class = class.as_str(), attempts, "send failed");
        let (status, next_at) = match next {
            Next::RetryIn(d) => {
                bump(if class == ErrorClass::RateLimited {
                    &self.stats.throttled
                } else {
                    &self.stats.retried
                });
                (Status::Retrying, Some(now.plus(d)))
            }
            Next::GiveUp => {
                bump(&self.stats.failed);
                (Status::Failed, None)
            }
        };
        let mut counted = record.clone();
        counted.attempts = attempts;
        counted.throttles = throttles;
        if let Some(at) = next_at {
            counted.next_attempt_at = at;
        }
        self.finish(&counted, now, status, code, message).await;
    }

    /// Tells the account's breaker and pacing about a failure (a transient failure counts
    /// against the breaker, any answer from the provider closes it, a rate limit pauses the
    /// account or the pair); returns whether this send was the breaker's probe.
    fn gate_failure(&self, record: &MessageRecord, error: &DeliveryError, now: Timestamp) -> bool {
        let account = &record.account;
        let class = error.class();
        let mut gate = lock(&self.gate);
        let b = gate.breakers.entry(account.clone()).or_default();
        let probe = *b == super::breaker::Breaker::HalfOpen { probing: true };
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
        if class == ErrorClass::RateLimited {
            let until = now.as_millis()
                + error
                    .retry_after()
                    .map_or(self.config.retry.base.as_millis() as u64, |d| {
                        d.as_millis() as u64
                    });
            match error.rate_limit_scope() {
                Some(RateLimitScope::Recipient) => gate.pacing.pause_pair(
                    account,
                    &record.outbound.recipient.to_string(),
                    until,
                    now.as_millis(),
                ),
                _ => gate.pacing.pause_account(account, until, now.as_millis()),
            }
        }
        probe
    }

    /// The attempts and throttles the record will show and what happens next, by
    /// `RetryPolicy`: throttling and a failed breaker probe wait
    /// without spending an attempt; anything else spends one.
    fn next_after_failure(
        &self,
        record: &MessageRecord,
        error: &DeliveryError,
        probe: bool,
        now: Timestamp,
    ) -> (u32, u32, Next) {
        let (class, hint) = (error.class(), error.retry_after());
        let elapsed = elapsed(record, now);
        let random = self.random();
        if class == ErrorClass::RateLimited {
            let t = record.throttles + 1;
            (
                record.attempts,
                t,
                self.config.retry.next_throttled(t, elapsed, hint, random),
            )
        } else if probe && class == ErrorClass::Transient {
            let wait = Duration::from_millis(self.config.breaker_cooldown_ms);
            (
                record.attempts,
                record.throttles,
                self.config.retry.next_throttled(1, elapsed, Some(wait), 0),
            )
        } else {
            let a = record.attempts + 1;
            (
                a,
                record.throttles,
                self.config
                    .retry
                    .next(a, elapsed, class.is_retryable(), hint, random),
            )
        }
    }

    /// Records a failed or retrying outcome for `record` (whose `attempts`, `throttles` and
    /// `next_attempt_at` are the new values), if it is still the send this worker made.
    async fn finish(
        &self,
        record: &MessageRecord,
        now: Timestamp,
        status: Status,
        code: &str,
        message: String,
    ) {
        let target = self.target_of(record).await;
        let (attempts, throttles, next_at) =
            (record.attempts, record.throttles, record.next_attempt_at);
        let code = code.to_owned();
        let make = move || -> Mutation {
            let (target, code, message) = (target.clone(), code.clone(), message.clone());
            Box::new(move |r: &mut MessageRecord| {
                if !(r.status() == Status::Processing || is_unknown(r)) {
                    // A status webhook settled it meanwhile.
                    return Change::NONE;
                }
                r.attempts = attempts;
                r.throttles = throttles;
                r.lease_until = None;
                r.next_attempt_at = next_at;
                r.updated_at = now;
                let before = r.lifecycle.timeline.len();
                let moved = r.lifecycle.fail(status, now, &code, &message);
                Change {
                    changed: true,
                    webhooks: if moved {
                        status_events(target.as_ref(), r, before, now)
                    } else {
                        Vec::new()
                    },
                }
            })
        };
        self.record(&record.id, make).await;
    }

    /// Writes an outcome, retrying the write (never the send) until it is stored.
    pub(super) async fn record(&self, id: &str, make: impl Fn() -> Mutation + Send + Sync) {
        let done = self
            .until_stored("recording a send's outcome", id, || {
                self.store.update(id, make())
            })
            .await;
        if done.is_none() {
            tracing::error!(message_id = %id, "giving up recording this outcome; the message is reconciled when its lease expires");
        }
    }

    /// The webhook target of `record`'s account, its lookup retried like a write: an
    /// event is not dropped because one read failed.
    async fn target_of(&self, record: &MessageRecord) -> Option<WebhookTarget> {
        self.until_stored("reading the account's webhook target", &record.id, || {
            self.target(&record.account)
        })
        .await
        .flatten()
    }

    /// Runs the store operation `op` (for message `id`) until it succeeds, logging each
    /// failure; `None` after 1,000 failures.
    pub(super) async fn until_stored<T, F>(
        &self,
        what: &'static str,
        id: &str,
        op: impl FnMut() -> F + Send,
    ) -> Option<T>
    where
        F: Future<Output = Result<T, StoreError>> + Send,
    {
        super::until_stored(&self.stats, 1_000, op, |e, attempt| {
            tracing::error!(message_id = %id, code = e.code(), attempt, error = %e, "{what} failed; retrying");
        })
        .await
    }
}
