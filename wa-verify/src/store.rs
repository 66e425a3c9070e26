//! Where verifications live: the [`VerificationStore`] trait and an in-memory store.
//!
//! The trait is `async` so a store can be a database (the reference server keeps
//! verifications in its SQLite or PostgreSQL database); wa-verify itself does no I/O and
//! starts no runtime. Every store passes the suite in [`crate::testing`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use crate::model::{Status, Timestamp, Verification};

/// A store failure, reported as `verify_store_failed`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A pending verification of the same application already uses this code (the
    /// verifier draws another).
    #[error("code already in use")]
    CodeInUse,
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// Persistence for verifications and the velocity-limit counters.
///
/// Writes are optimistic: [`VerificationStore::update`] writes a verification only over
/// the revision it was read at, so two replicas settling one verification at once (a
/// validation racing the expiry sweep, say) cannot both win.
#[async_trait]
pub trait VerificationStore: Send + Sync {
    /// Inserts a new verification (its `revision` is 0).
    ///
    /// # Errors
    /// [`StoreError::CodeInUse`] when a `requested` verification of the same application
    /// has this code.
    async fn insert(&self, v: &Verification) -> Result<(), StoreError>;

    /// The verification with this id.
    ///
    /// # Errors
    /// On storage failure.
    async fn get(&self, id: &str) -> Result<Option<Verification>, StoreError>;

    /// The verification of application `app_id` with this code, for matching an inbound
    /// message: the pending one if there is one, else the most recently issued. Codes are
    /// stored lower-case.
    ///
    /// # Errors
    /// On storage failure.
    async fn find_by_code(
        &self,
        app_id: &str,
        code: &str,
    ) -> Result<Option<Verification>, StoreError>;

    /// Writes `v` if the stored copy is still at revision `v.revision - 1`; `Ok(false)`
    /// (and no write) when another writer changed it first or it does not exist.
    ///
    /// # Errors
    /// On storage failure.
    async fn update(&self, v: &Verification) -> Result<bool, StoreError>;

    /// Up to `limit` verifications still `requested` whose expiry is at or before `now`,
    /// earliest expiry first.
    ///
    /// # Errors
    /// On storage failure.
    async fn due_for_expiry(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Verification>, StoreError>;

    /// How many events were recorded under `key` at or after `since`, and the earliest of
    /// them (the velocity limits' sliding windows).
    ///
    /// # Errors
    /// On storage failure.
    async fn count_events(
        &self,
        key: &str,
        since: Timestamp,
    ) -> Result<(u32, Option<Timestamp>), StoreError>;

    /// Records one event under `key` at `at`.
    ///
    /// # Errors
    /// On storage failure.
    async fn record_event(&self, key: &str, at: Timestamp) -> Result<(), StoreError>;

    /// Forgets events recorded before `before` and settled verifications that expired
    /// before it; returns how many rows went.
    ///
    /// # Errors
    /// On storage failure.
    async fn prune(&self, before: Timestamp) -> Result<u64, StoreError>;
}

#[async_trait]
impl<T: VerificationStore + ?Sized> VerificationStore for Arc<T> {
    async fn insert(&self, v: &Verification) -> Result<(), StoreError> {
        (**self).insert(v).await
    }
    async fn get(&self, id: &str) -> Result<Option<Verification>, StoreError> {
        (**self).get(id).await
    }
    async fn find_by_code(
        &self,
        app_id: &str,
        code: &str,
    ) -> Result<Option<Verification>, StoreError> {
        (**self).find_by_code(app_id, code).await
    }
    async fn update(&self, v: &Verification) -> Result<bool, StoreError> {
        (**self).update(v).await
    }
    async fn due_for_expiry(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Verification>, StoreError> {
        (**self).due_for_expiry(now, limit).await
    }
    async fn count_events(
        &self,
        key: &str,
        since: Timestamp,
    ) -> Result<(u32, Option<Timestamp>), StoreError> {
        (**self).count_events(key, since).await
    }
    async fn record_event(&self, key: &str, at: Timestamp) -> Result<(), StoreError> {
        (**self).record_event(key, at).await
    }
    async fn prune(&self, before: Timestamp) -> Result<u64, StoreError> {
        (**self).prune(before).await
    }
}

/// An in-memory [`VerificationStore`], for tests and single-process embedders that accept
/// losing pending verifications on restart.
///
/// # Examples
/// ```
/// use wa_verify::{MemoryStore, VerificationStore};
/// # pollster::block_on(async {
/// let store = MemoryStore::new();
/// assert!(store.get("nope").await.unwrap().is_none());
/// # });
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<String, Verification>,
    /// `(app, code)` → ids, oldest first.
    by_code: HashMap<(String, String), Vec<String>>,
    events: HashMap<String, VecDeque<Timestamp>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many verifications are stored.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// `true` when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl VerificationStore for MemoryStore {
    async fn insert(&self, v: &Verification) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let key = (v.app_id.clone(), v.code.clone());
        let taken = inner.by_code.get(&key).is_some_and(|ids| {
            ids.iter().any(|id| {
                inner
                    .by_id
                    .get(id)
                    .is_some_and(|e| e.status == Status::Requested)
            })
        });
        if taken {
            return Err(StoreError::CodeInUse);
        }
        inner.by_code.entry(key).or_default().push(v.id.clone());
        inner.by_id.insert(v.id.clone(), v.clone());
        Ok(())
    }

    async fn get(&self, id: &str) -> Result<Option<Verification>, StoreError> {
        Ok(self.lock().by_id.get(id).cloned())
    }

    async fn find_by_code(
        &self,
        app_id: &str,
        code: &str,
    ) -> Result<Option<Verification>, StoreError> {
        let inner = self.lock();
        let key = (app_id.to_owned(), code.to_owned());
        let Some(ids) = inner.by_code.get(&key) else {
            return Ok(None);
        };
        let found: Vec<&Verification> = ids.iter().filter_map(|id| inner.by_id.get(id)).collect();
        // The pending one if there is one (at most one per code), else the latest.
        Ok(found
            .iter()
            .find(|v| v.status == Status::Requested)
            .or(found.last())
            .map(|v| (*v).clone()))
    }

    async fn update(&self, v: &Verification) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.by_id.get_mut(&v.id) {
            Some(slot) if slot.revision.checked_add(1) == Some(v.revision) => {
                *slot = v.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn due_for_expiry(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Verification>, StoreError> {
        let inner = self.lock();
        let mut due: Vec<Verification> = inner
            .by_id
            .values()
            .filter(|v| v.status == Status::Requested && v.expires_at <= now)
            .cloned()
            .collect();
        due.sort_by(|a, b| a.expires_at.cmp(&b.expires_at).then(a.id.cmp(&b.id)));
        due.truncate(limit);
        Ok(due)
    }

    async fn count_events(
        &self,
        key: &str,
        since: Timestamp,
    ) -> Result<(u32, Option<Timestamp>), StoreError> {
        let inner = self.lock();
        let Some(q) = inner.events.get(key) else {
            return Ok((0, None));
        };
        let recent: Vec<Timestamp> = q.iter().copied().filter(|t| *t >= since).collect();
        let n = u32::try_from(recent.len()).unwrap_or(u32::MAX);
        Ok((n, recent.into_iter().min()))
    }

    async fn record_event(&self, key: &str, at: Timestamp) -> Result<(), StoreError> {
        self.lock()
            .events
            .entry(key.to_owned())
            .or_default()
            .push_back(at);
        Ok(())
    }

    async fn prune(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        let mut gone = 0u64;
        inner.events.retain(|_, q| {
            let n = q.len();
            q.retain(|t| *t >= before);
            gone += (n - q.len()) as u64;
            !q.is_empty()
        });
        let old: Vec<String> = inner
            .by_id
            .values()
            .filter(|v| v.status != Status::Requested && v.expires_at < before)
            .map(|v| v.id.clone())
            .collect();
        for id in &old {
            if let Some(v) = inner.by_id.remove(id) {
                let key = (v.app_id, v.code);
                if let Some(ids) = inner.by_code.get_mut(&key) {
                    ids.retain(|i| i != id);
                    if ids.is_empty() {
                        inner.by_code.remove(&key);
                    }
                }
                gone += 1;
            }
        }
        Ok(gone)
    }
}
