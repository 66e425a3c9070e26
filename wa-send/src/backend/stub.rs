//! A scripted backend for tests: returns queued results and records what it was sent.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use std::time::Duration;

use async_trait::async_trait;

use super::{CredentialInfo, DeliveryBackend, DeliveryError, Receipt};
use crate::message::Outbound;

const NAME: &str = "stub";

#[derive(Debug, Default)]
struct Inner {
    script: VecDeque<Result<Receipt, DeliveryError>>,
    fallback: Option<DeliveryError>,
    sent: Vec<Outbound>,
    credentials: Option<DeliveryError>,
    delay: Option<Duration>,
}

/// A test double: answers `send` from a script of results, then with the fallback
/// (success with a fresh id unless built by [`StubBackend::new_error`]), and records every
/// message that reached it. Invalid messages are refused before they are recorded, as
/// real backends do. Clones share the script and the record.
///
/// # Examples
/// ```
/// use wa_send::{Content, DeliveryBackend, DeliveryError, Outbound, Recipient, StubBackend};
///
/// let stub = StubBackend::new_ok();
/// stub.push_error(DeliveryError::from_meta("stub", 400, 131000, "try again", None));
/// let msg = Outbound::new(Recipient::parse("+14155552671").unwrap(), Content::text("hi"));
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert!(stub.send(&msg).await.unwrap_err().is_retryable());
/// assert!(stub.send(&msg).await.is_ok());
/// # });
/// assert_eq!(stub.sent().len(), 2);
/// ```
#[derive(Debug, Clone, Default)]
pub struct StubBackend {
    inner: Arc<Mutex<Inner>>,
    counter: Arc<AtomicU64>,
}

impl StubBackend {
    /// Succeeds once the script is empty.
    pub fn new_ok() -> Self {
        StubBackend::default()
    }

    /// Fails with `error` once the script is empty.
    pub fn new_error(error: DeliveryError) -> Self {
        let stub = StubBackend::default();
        stub.lock().fallback = Some(error);
        stub
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues one result.
    pub fn push(&self, result: Result<Receipt, DeliveryError>) {
        self.lock().script.push_back(result);
    }

    /// Queues one success with the given provider id.
    pub fn push_ok(&self, provider_message_id: &str) {
        self.push(Ok(Receipt::new(NAME, provider_message_id)));
    }

    /// Queues one failure.
    pub fn push_error(&self, error: DeliveryError) {
        self.push(Err(error));
    }

    /// Makes `verify_credentials` fail with `error` (it succeeds by default).
    pub fn fail_credentials(&self, error: DeliveryError) {
        self.lock().credentials = Some(error);
    }

    /// Every message that reached the backend, in order.
    pub fn sent(&self) -> Vec<Outbound> {
        self.lock().sent.clone()
    }

    /// Makes every send take `delay` of real time (to test slow upstreams).
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = Some(delay);
    }

    /// How many messages reached the backend.
    pub fn sent_count(&self) -> usize {
        self.lock().sent.len()
    }

    fn answer(&self, message: &Outbound) -> Result<Receipt, DeliveryError> {
        message.validate()?;
        let mut inner = self.lock();
        inner.sent.push(message.clone());
        if let Some(result) = inner.script.pop_front() {
            return result;
        }
        match &inner.fallback {
            Some(e) => Err(e.clone()),
            None => Ok(Receipt::new(
                NAME,
                format!(
                    "wamid.STUB{:010}",
                    self.counter.fetch_add(1, Ordering::Relaxed)
                ),
            )),
        }
    }
}

#[async_trait]
impl DeliveryBackend for StubBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn send(&self, message: &Outbound) -> Result<Receipt, DeliveryError> {
        let delay = self.lock().delay;
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        self.answer(message)
    }

    async fn verify_credentials(&self) -> Result<CredentialInfo, DeliveryError> {
        match &self.lock().credentials {
            Some(e) => Err(e.clone()),
            None => Ok(CredentialInfo::new(NAME, "stub")),
        }
    }
}
