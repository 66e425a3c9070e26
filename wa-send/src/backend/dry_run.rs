//! A backend that sends nothing: every valid message is accepted with a synthetic id.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use super::{CredentialInfo, DeliveryBackend, DeliveryError, Receipt};
use crate::message::{Content, Outbound};
use crate::webhook::meta::{MessageStatus, StatusUpdate};
use crate::{Clock, SystemClock};

const NAME: &str = "dry_run";

type StatusSink = Arc<dyn Fn(StatusUpdate) + Send + Sync>;

/// Accepts every valid message without sending it, with ids like `wamid.DRYRUN…`.
///
/// With [`DryRunBackend::on_status`] it also emits the statuses a real send would bring
/// later (`sent`, `delivered`, `read`; only `sent` for reactions, as Meta does), shaped
/// exactly like parsed Meta status webhooks, so the rest of a pipeline can be exercised.
///
/// # Examples
/// ```
/// use std::sync::{Arc, Mutex};
/// use wa_send::{Content, DeliveryBackend, DryRunBackend, MessageStatus, Outbound, Recipient};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = seen.clone();
/// let backend = DryRunBackend::new().on_status(move |s| sink.lock().unwrap().push(s.status));
/// let msg = Outbound::new(Recipient::parse("+14155552671").unwrap(), Content::text("hi"));
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// backend.send(&msg).await.unwrap();
/// # });
/// assert_eq!(*seen.lock().unwrap(), [MessageStatus::Sent, MessageStatus::Delivered, MessageStatus::Read]);
/// ```
#[derive(Clone)]
pub struct DryRunBackend {
    prefix: String,
    counter: Arc<AtomicU64>,
    clock: Arc<dyn Clock>,
    sink: Option<StatusSink>,
}

impl fmt::Debug for DryRunBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DryRunBackend")
            .field("prefix", &self.prefix)
            .field("emits_statuses", &self.sink.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for DryRunBackend {
    fn default() -> Self {
        DryRunBackend::new()
    }
}

impl DryRunBackend {
    /// A dry-run backend on the system clock, emitting no statuses.
    pub fn new() -> Self {
        let mut seed = [0u8; 6];
        // Ids only need to differ between processes; a failing OS RNG is not worth an error.
        let _ = getrandom::fill(&mut seed);
        DryRunBackend {
            prefix: hex::encode_upper(seed),
            counter: Arc::new(AtomicU64::new(0)),
            clock: Arc::new(SystemClock),
            sink: None,
        }
    }

    /// Emits synthetic statuses for every accepted message to `sink`, synchronously,
    /// before `send` returns.
    #[must_use]
    pub fn on_status(mut self, sink: impl Fn(StatusUpdate) + Send + Sync + 'static) -> Self {
        self.sink = Some(Arc::new(sink));
        self
    }

    /// The clock used for status timestamps. Defaults to the system clock.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn send_now(&self, message: &Outbound) -> Result<Receipt, DeliveryError> {
        message.validate()?;
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let id = format!("wamid.DRYRUN{}{n:010}", self.prefix);
        if let Some(sink) = &self.sink {
            let statuses: &[MessageStatus] = if matches!(message.content, Content::Reaction { .. })
            {
                &[MessageStatus::Sent]
            } else {
                &[
                    MessageStatus::Sent,
                    MessageStatus::Delivered,
                    MessageStatus::Read,
                ]
            };
            let at = self.clock.timestamp();
            for status in statuses {
                let mut update = StatusUpdate::new(id.clone(), *status, at);
                update.recipient_id = message.recipient.phone_digits().map(str::to_owned);
                update.biz_opaque_callback_data = message.biz_opaque_callback_data.clone();
                sink(update);
            }
        }
        Ok(Receipt::new(NAME, id))
    }
}

#[async_trait]
impl DeliveryBackend for DryRunBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn send(&self, message: &Outbound) -> Result<Receipt, DeliveryError> {
        self.send_now(message)
    }

    async fn verify_credentials(&self) -> Result<CredentialInfo, DeliveryError> {
        Ok(CredentialInfo::new(NAME, "dry-run").details(serde_json::json!({ "dry_run": true })))
    }
}
