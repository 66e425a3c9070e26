//! An in-memory [`QueueStore`]: everything behind one mutex.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{
    Inserted, ListFilter, MessageRecord, Mutation, QueueStore, StoreError, Updated,
    WebhookDelivery, WebhookState,
};
use crate::BoxFuture;

/// When a record may next be claimed, if ever.
fn due_key(r: &MessageRecord) -> Option<(u64, String)> {
    use crate::lifecycle::Status;
    match r.status() {
        Status::Queued | Status::Scheduled | Status::Retrying => {
            Some((r.next_attempt_at, r.id.clone()))
        }
        Status::Processing => Some((r.lease_until.unwrap_or(0), r.id.clone())),
        _ => None,
    }
}

#[derive(Debug, Default)]
struct Inner {
    messages: BTreeMap<String, MessageRecord>,
    /// Claimable records by (due time, id), so claims do not scan everything.
    due: BTreeSet<(u64, String)>,
    keys: HashMap<(String, String), String>,
    provider_ids: HashMap<String, String>,
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
        if let Some(old) = self.messages.get(&record.id).and_then(due_key) {
            self.due.remove(&old);
        }
        if let Some(key) = due_key(&record) {
            self.due.insert(key);
        }
        self.messages.insert(record.id.clone(), record);
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

fn ready<'a, T: Send + 'a>(v: T) -> BoxFuture<'a, T> {
    Box::pin(async move { v })
}

impl QueueStore for MemoryStore {
    fn insert(
        &self,
        record: MessageRecord,
        key_cutoff: u64,
    ) -> BoxFuture<'_, Result<Inserted, StoreError>> {
        let mut inner = self.lock();
        if let Some(key) = &record.idempotency_key {
            let k = (record.account.clone(), key.clone());
            if let Some(existing) = inner.keys.get(&k).and_then(|id| inner.messages.get(id))
                && existing.created_at > key_cutoff
            {
                return ready(Ok(Inserted::Existing(existing.clone())));
            }
            inner.keys.insert(k, record.id.clone());
        }
        inner.put(record.clone());
        ready(Ok(Inserted::Created(record)))
    }

    fn insert_batch(&self, records: Vec<MessageRecord>) -> BoxFuture<'_, Result<(), StoreError>> {
        let mut inner = self.lock();
        for r in records {
            inner.put(r);
        }
        ready(Ok(()))
    }

    fn claim_due(
        &self,
        now: u64,
        lease_ms: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<MessageRecord>, StoreError>> {
        let mut inner = self.lock();
        let ids: Vec<String> = inner
            .due
            .iter()
            .take_while(|(t, _)| *t <= now)
            .take(limit)
            .map(|(_, id)| id.clone())
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(mut m) = inner.messages.get(&id).cloned() else {
                continue;
            };
            m.claim(now, lease_ms);
            out.push(m.clone());
            inner.put(m);
        }
        ready(Ok(out))
    }

    fn update(&self, id: &str, mutation: Mutation) -> BoxFuture<'_, Result<Updated, StoreError>> {
        let mut inner = self.lock();
        let result = match inner.messages.get(id).cloned() {
            None => None,
            Some(mut m) => {
                let changed = mutation(&mut m);
                if let Some(pid) = &m.provider_message_id {
                    inner.provider_ids.insert(pid.clone(), m.id.clone());
                }
                if changed {
                    inner.put(m.clone());
                }
                Some((m, changed))
            }
        };
        ready(Ok(result))
    }

    fn find_by_provider_id(
        &self,
        provider_message_id: &str,
    ) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
        ready(Ok(self
            .lock()
            .provider_ids
            .get(provider_message_id)
            .cloned()))
    }

    fn get(&self, id: &str) -> BoxFuture<'_, Result<Option<MessageRecord>, StoreError>> {
        ready(Ok(self.lock().messages.get(id).cloned()))
    }

    fn list(&self, filter: &ListFilter) -> BoxFuture<'_, Result<Vec<MessageRecord>, StoreError>> {
        let inner = self.lock();
        let limit = filter.limit.clamp(1, 1000);
        let out = inner
            .messages
            .values()
            .filter(|m| m.account == filter.account)
            .filter(|m| filter.batch_id.is_none() || m.batch_id == filter.batch_id)
            .filter(|m| filter.status.is_none_or(|s| m.status() == s))
            .filter(|m| filter.after_id.as_ref().is_none_or(|a| m.id > *a))
            .take(limit)
            .cloned()
            .collect();
        ready(Ok(out))
    }

    fn push_webhook(&self, delivery: WebhookDelivery) -> BoxFuture<'_, Result<(), StoreError>> {
        self.lock().webhooks.insert(delivery.id.clone(), delivery);
        ready(Ok(()))
    }

    fn claim_webhooks(
        &self,
        now: u64,
        lease_ms: u64,
        limit: usize,
    ) -> BoxFuture<'_, Result<Vec<WebhookDelivery>, StoreError>> {
        let mut inner = self.lock();
        let mut out = Vec::new();
        for d in inner.webhooks.values_mut() {
            if out.len() >= limit {
                break;
            }
            if d.state == WebhookState::Pending
                && d.next_attempt_at <= now
                && d.lease_until.is_none_or(|l| l <= now)
            {
                d.lease_until = Some(now + lease_ms);
                out.push(d.clone());
            }
        }
        ready(Ok(out))
    }

    fn save_webhook(&self, delivery: &WebhookDelivery) -> BoxFuture<'_, Result<(), StoreError>> {
        self.lock()
            .webhooks
            .insert(delivery.id.clone(), delivery.clone());
        ready(Ok(()))
    }

    fn pending_count(&self) -> BoxFuture<'_, Result<u64, StoreError>> {
        let n = self
            .lock()
            .messages
            .values()
            .filter(|m| !m.status().is_terminal() && !m.status().is_sent())
            .count();
        ready(Ok(n as u64))
    }
}
