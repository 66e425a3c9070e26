//! An in-memory [`QueueStore`]: everything behind one mutex.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use super::{
    Admission, Admit, BatchInserted, BatchRecord, Inserted, ListFilter, MessageRecord, MessageRef,
    Mutation, NewBatch, QueueStats, QueueStore, StoreError, Summary, Updated, WebhookDelivery,
};
use crate::Timestamp;

#[derive(Debug, Default)]
struct Inner {
    messages: BTreeMap<String, MessageRecord>,
    /// Claimable records by (due time, id), so claims do not scan everything.
    due: BTreeSet<(Timestamp, String)>,
    keys: HashMap<(String, String), String>,
    provider_ids: HashMap<String, String>,
    batches: HashMap<String, BatchRecord>,
    batch_keys: HashMap<(String, String), String>,
    webhooks: BTreeMap<String, WebhookDelivery>,
}

/// Keeps everything in memory (lost when the process ends).
///
/// # Examples
/// ```
/// use wa_send::queue::{MemoryStore, QueueStore};
/// let store = MemoryStore::new();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(store.pending_count().await.unwrap(), 0);
/// # });
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<Inner>);

impl Inner {
    fn put(&mut self, record: MessageRecord) {
        if let Some(old) = self.messages.get(&record.id)
            && let Some(t) = old.due_at()
        {
            self.due.remove(&(t, old.id.clone()));
        }
        if let Some(t) = record.due_at() {
            self.due.insert((t, record.id.clone()));
        }
        if let Some(pid) = &record.provider_message_id {
            self.provider_ids.insert(pid.clone(), record.id.clone());
        }
        self.messages.insert(record.id.clone(), record);
    }

    fn push_webhooks(&mut self, hooks: Vec<WebhookDelivery>) {
        for d in hooks {
            self.webhooks.insert(d.id.clone(), d);
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl QueueStore for MemoryStore {
    async fn insert(
        &self,
        record: MessageRecord,
        key_cutoff: Timestamp,
    ) -> Result<Inserted, StoreError> {
        let mut inner = self.lock();
        if let Some(key) = &record.idempotency_key {
            let k = (record.account.clone(), key.clone());
            if let Some(existing) = inner.keys.get(&k).and_then(|id| inner.messages.get(id))
                && existing.created_at > key_cutoff
            {
                return Ok(Inserted::Existing(existing.clone()));
            }
            inner.keys.insert(k, record.id.clone());
        }
        inner.put(record.clone());
        Ok(Inserted::Created(record))
    }

    async fn insert_batch(
        &self,
        batch: NewBatch,
        key_cutoff: Timestamp,
    ) -> Result<BatchInserted, StoreError> {
        let mut inner = self.lock();
        let b = batch.batch;
        if let Some(key) = &b.idempotency_key {
            let k = (b.account.clone(), key.clone());
            if let Some(existing) = inner
                .batch_keys
                .get(&k)
                .and_then(|id| inner.batches.get(id))
                && existing.created_at > key_cutoff
            {
                return Ok(BatchInserted::Existing(existing.clone()));
            }
            inner.batch_keys.insert(k, b.id.clone());
        }
        for r in batch.records {
            inner.put(r);
        }
        inner.batches.insert(b.id.clone(), b);
        Ok(BatchInserted::Created)
    }

    async fn claim(
        &self,
        now: Timestamp,
        lease_ms: u64,
        limit: usize,
        mut admit: Admit,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let mut inner = self.lock();
        let ids: Vec<String> = inner
            .due
            .iter()
            .take_while(|(t, _)| *t <= now)
            .take(limit.saturating_mul(2))
            .map(|(_, id)| id.clone())
            .collect();
        let mut out = Vec::new();
        for id in ids {
            if out.len() >= limit {
                break;
            }
            let Some(mut m) = inner.messages.get(&id).cloned() else {
                continue;
            };
            match admit(&mut m) {
                Admission::Send => {
                    m.claim(now, lease_ms);
                    out.push(m.clone());
                    inner.put(m);
                }
                Admission::Save(hooks) => {
                    inner.put(m);
                    inner.push_webhooks(hooks);
                }
                Admission::Skip => {}
            }
        }
        Ok(out)
    }

    async fn update_many(
        &self,
        changes: Vec<(String, Mutation)>,
    ) -> Result<Vec<Updated>, StoreError> {
        let mut inner = self.lock();
        let mut out = Vec::with_capacity(changes.len());
        for (id, mutation) in changes {
            let Some(mut m) = inner.messages.get(&id).cloned() else {
                out.push(None);
                continue;
            };
            let change = mutation(&mut m);
            if change.changed {
                inner.put(m.clone());
            }
            inner.push_webhooks(change.webhooks);
            out.push(Some((m, change.changed)));
        }
        Ok(out)
    }

    async fn find_by_provider_id(
        &self,
        provider_message_id: &str,
    ) -> Result<Option<MessageRef>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .provider_ids
            .get(provider_message_id)
            .and_then(|id| inner.messages.get(id))
            .map(|m| MessageRef {
                id: m.id.clone(),
                account: m.account.clone(),
            }))
    }

    async fn get(&self, id: &str) -> Result<Option<MessageRecord>, StoreError> {
        Ok(self.lock().messages.get(id).cloned())
    }

    async fn list(&self, filter: &ListFilter) -> Result<Vec<MessageRecord>, StoreError> {
        let inner = self.lock();
        let limit = filter.limit.clamp(1, 1000);
        Ok(inner
            .messages
            .values()
            .filter(|m| m.account == filter.account)
            .filter(|m| filter.batch_id.is_none() || m.batch_id == filter.batch_id)
            .filter(|m| filter.status.is_none_or(|s| m.status() == s))
            .filter(|m| filter.after_id.as_ref().is_none_or(|a| m.id > *a))
            .skip(filter.offset)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn summary(&self, account: &str) -> Result<Summary, StoreError> {
        let inner = self.lock();
        let mut s = Summary::default();
        for m in inner.messages.values().filter(|m| m.account == account) {
            *s.by_status.entry(m.status()).or_default() += 1;
            s.total += 1;
        }
        Ok(s)
    }

    async fn stats(&self) -> Result<QueueStats, StoreError> {
        let inner = self.lock();
        Ok(QueueStats {
            pending: inner.due.len() as u64,
            oldest_due: inner.due.first().map(|(t, _)| *t),
            webhooks_pending: inner
                .webhooks
                .values()
                .filter(|d| d.due_at().is_some())
                .count() as u64,
        })
    }

    async fn push_webhooks(&self, deliveries: Vec<WebhookDelivery>) -> Result<(), StoreError> {
        self.lock().push_webhooks(deliveries);
        Ok(())
    }

    async fn claim_webhooks(
        &self,
        now: Timestamp,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let mut inner = self.lock();
        let mut due: Vec<(Timestamp, String)> = inner
            .webhooks
            .values()
            .filter_map(|d| d.due_at().filter(|t| *t <= now).map(|t| (t, d.id.clone())))
            .collect();
        due.sort();
        let mut out = Vec::new();
        for (_, id) in due.into_iter().take(limit) {
            if let Some(d) = inner.webhooks.get_mut(&id) {
                d.lease_until = Some(now.plus_millis(lease_ms));
                out.push(d.clone());
            }
        }
        Ok(out)
    }

    async fn save_webhook(&self, delivery: &WebhookDelivery) -> Result<(), StoreError> {
        self.lock()
            .webhooks
            .insert(delivery.id.clone(), delivery.clone());
        Ok(())
    }

    async fn get_webhook(&self, id: &str) -> Result<Option<WebhookDelivery>, StoreError> {
        Ok(self.lock().webhooks.get(id).cloned())
    }
}
