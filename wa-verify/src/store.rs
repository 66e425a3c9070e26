//! Where verifications live: the [`VerificationStore`] trait and an in-memory store.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::model::{Status, Verification};

/// A store failure, reported as `verify_store_failed`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A pending verification already uses this code (the verifier draws another).
    #[error("code already in use")]
    CodeInUse,
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// Persistence for verifications. Synchronous on purpose: wa-verify does no I/O; an
/// async server wraps a database-backed store in `spawn_blocking` or keeps the
/// in-memory one.
pub trait VerificationStore: Send + Sync {
    /// Inserts a new verification.
    ///
    /// # Errors
    /// [`StoreError::CodeInUse`] when a `requested` verification already has this code.
    fn insert(&self, v: &Verification) -> Result<(), StoreError>;

    /// The verification with this id.
    ///
    /// # Errors
    /// On storage failure.
    fn get(&self, id: &str) -> Result<Option<Verification>, StoreError>;

    /// The most recent verification issued with this code (any status), for matching an
    /// inbound message. Codes are stored lower-case.
    ///
    /// # Errors
    /// On storage failure.
    fn find_by_code(&self, code: &str) -> Result<Option<Verification>, StoreError>;

    /// Replaces a stored verification (same id).
    ///
    /// # Errors
    /// On storage failure.
    fn update(&self, v: &Verification) -> Result<(), StoreError>;
}

/// An in-memory [`VerificationStore`].
///
/// # Examples
/// ```
/// use wa_verify::{MemoryStore, VerificationStore};
/// let store = MemoryStore::new();
/// assert!(store.get("nope").unwrap().is_none());
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<String, Verification>,
    by_code: HashMap<String, String>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many verifications are stored.
    pub fn len(&self) -> usize {
        self.inner.read().map(|i| i.by_id.len()).unwrap_or(0)
    }

    /// `true` when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Other("store lock poisoned".into())
}

impl VerificationStore for MemoryStore {
    fn insert(&self, v: &Verification) -> Result<(), StoreError> {
        let mut inner = self.inner.write().map_err(poisoned)?;
        if let Some(existing) = inner
            .by_code
            .get(&v.code)
            .and_then(|id| inner.by_id.get(id))
            && existing.status == Status::Requested
        {
            return Err(StoreError::CodeInUse);
        }
        inner.by_code.insert(v.code.clone(), v.id.clone());
        inner.by_id.insert(v.id.clone(), v.clone());
        Ok(())
    }

    fn get(&self, id: &str) -> Result<Option<Verification>, StoreError> {
        Ok(self.inner.read().map_err(poisoned)?.by_id.get(id).cloned())
    }

    fn find_by_code(&self, code: &str) -> Result<Option<Verification>, StoreError> {
        let inner = self.inner.read().map_err(poisoned)?;
        Ok(inner
            .by_code
            .get(code)
            .and_then(|id| inner.by_id.get(id))
            .cloned())
    }

    fn update(&self, v: &Verification) -> Result<(), StoreError> {
        let mut inner = self.inner.write().map_err(poisoned)?;
        match inner.by_id.get_mut(&v.id) {
            Some(slot) => {
                *slot = v.clone();
                Ok(())
            }
            None => Err(StoreError::Other("no such verification".into())),
        }
    }
}
