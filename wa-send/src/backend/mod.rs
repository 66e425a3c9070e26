//! Delivery backends: where an [`Outbound`] message leaves the process.
//!
//! | backend | feature | sends to |
//! |---|---|---|
//! | [`CloudApiBackend`](crate::CloudApiBackend) | `cloud-api` | Meta's WhatsApp Cloud API (`graph.facebook.com`) |
//! | [`WsapiBackend`](crate::WsapiBackend) | `wsapi` | a WSAPI-style WhatsApp-Web instance REST API |
//! | [`DryRunBackend`] | always | nowhere: synthetic ids, optional synthetic statuses |
//! | [`StubBackend`] | always | nowhere: scripted results for tests, records what it got |
//!
//! [`DeliveryBackend`] is object-safe: hold backends as `Arc<dyn DeliveryBackend>` (or
//! [`SharedBackend`]) and pick one at run time.

mod classify;
mod dry_run;
mod error;
mod stub;

#[cfg(any(feature = "cloud-api", feature = "wsapi"))]
pub(crate) mod http;

#[cfg(feature = "cloud-api")]
#[cfg_attr(docsrs, doc(cfg(feature = "cloud-api")))]
pub mod cloud_api;
#[cfg(feature = "wsapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "wsapi")))]
pub mod wsapi;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use classify::{ErrorClass, RateLimitScope, classify_meta_code};
pub use dry_run::DryRunBackend;
pub use error::DeliveryError;
pub use stub::StubBackend;

use async_trait::async_trait;

use crate::Outbound;

/// A boxed, `Send` future (what `#[async_trait]` methods return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A backend shared between tasks.
pub type SharedBackend = Arc<dyn DeliveryBackend>;

/// Sends messages somewhere.
///
/// Implement it with [`async_trait`](https://docs.rs/async-trait) (re-exported as
/// [`wa_send::async_trait`](crate::async_trait)) and write plain `async fn`s; the trait is
/// object-safe, so hold backends as [`SharedBackend`] and pick one at run time.
/// Implementations check what they can carry ([`DeliveryBackend::check`]) before any I/O,
/// classify every failure into a [`DeliveryError`], and never panic on provider input.
///
/// # Examples
/// ```
/// use std::sync::Arc;
/// use wa_send::{Content, DeliveryBackend, DryRunBackend, Outbound, Recipient};
///
/// # tokio_test_block_on(async {
/// let backend: Arc<dyn DeliveryBackend> = Arc::new(DryRunBackend::new());
/// let msg = Outbound::new(Recipient::parse("+14155552671").unwrap(), Content::text("hi"));
/// let receipt = backend.send(&msg).await.unwrap();
/// assert!(receipt.provider_message_id.starts_with("wamid."));
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[async_trait]
pub trait DeliveryBackend: Send + Sync + fmt::Debug {
    /// A short, stable name for logs and receipts (`cloud_api`, `wsapi`, `dry_run`, `stub`).
    fn name(&self) -> &'static str;

    /// Whether this backend can carry `message` at all, before anything is queued: the
    /// message's limits ([`Outbound::validate`]) and the types and recipients it supports.
    /// The default checks the limits only.
    ///
    /// # Errors
    /// The message's `message_*` error, or `delivery_unsupported`.
    fn check(&self, message: &Outbound) -> Result<(), DeliveryError> {
        message.validate().map_err(DeliveryError::from)
    }

    /// Sends one message.
    ///
    /// # Errors
    /// A classified [`DeliveryError`]; [`DeliveryError::class`] tells whether and when to retry.
    async fn send(&self, message: &Outbound) -> Result<Receipt, DeliveryError>;

    /// Checks that the configured credentials work (a cheap authenticated read).
    ///
    /// # Errors
    /// [`ErrorClass::Auth`] for bad credentials, or any other classified failure.
    async fn verify_credentials(&self) -> Result<CredentialInfo, DeliveryError>;
}

/// What a backend returns for an accepted message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Receipt {
    /// The provider's message id (`wamid.…` for the Cloud API); status webhooks refer to it.
    pub provider_message_id: String,
    /// The backend that accepted it ([`DeliveryBackend::name`]).
    pub backend: String,
    /// The WhatsApp id the provider resolved the recipient to, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa_id: Option<String>,
    /// The provider's `message_status` (e.g. `accepted`), when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_status: Option<String>,
}

impl Receipt {
    /// A receipt with only an id.
    pub fn new(backend: &str, provider_message_id: impl Into<String>) -> Self {
        Receipt {
            provider_message_id: provider_message_id.into(),
            backend: backend.to_owned(),
            wa_id: None,
            message_status: None,
        }
    }
}

/// What a credential check learned about the sending account.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct CredentialInfo {
    /// The backend checked.
    pub backend: String,
    /// The account: the phone number id, or the instance id.
    pub account_id: String,
    /// The number shown to users, when the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_phone_number: Option<String>,
    /// The verified business name, when the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_name: Option<String>,
    /// The provider's whole answer.
    #[serde(default)]
    pub details: serde_json::Value,
}

impl CredentialInfo {
    /// What a backend's credential check returns: its name and the provider-side account
    /// (phone number id or instance id) the credentials belong to.
    ///
    /// # Examples
    /// ```
    /// let info = wa_send::CredentialInfo::new("my_backend", "106540352242922")
    ///     .display_phone_number("+1 555-078-3881")
    ///     .verified_name("Acme");
    /// assert_eq!(info.account_id, "106540352242922");
    /// ```
    pub fn new(backend: &str, account_id: impl Into<String>) -> Self {
        CredentialInfo {
            backend: backend.to_owned(),
            account_id: account_id.into(),
            display_phone_number: None,
            verified_name: None,
            details: serde_json::Value::Null,
        }
    }

    /// Sets the number users see.
    #[must_use]
    pub fn display_phone_number(mut self, number: impl Into<String>) -> Self {
        self.display_phone_number = Some(number.into());
        self
    }

    /// Sets the verified business name.
    #[must_use]
    pub fn verified_name(mut self, name: impl Into<String>) -> Self {
        self.verified_name = Some(name.into());
        self
    }

    /// Keeps the provider's whole answer.
    #[must_use]
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}
