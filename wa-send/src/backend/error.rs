//! [`DeliveryError`]: why a backend did not accept a message, classified for retries.
//!
//! | code | class | meaning |
//! |---|---|---|
//! | `message_*` | permanent | the message broke a limit ([`MessageError`]) |
//! | `delivery_unsupported` | permanent | this backend cannot carry this content or recipient |
//! | `delivery_transient` | transient | provider error worth retrying (e.g. Meta 131000, HTTP 5xx) |
//! | `delivery_rate_limited` | rate-limited | account/app throughput limit (e.g. 130429, 80007) |
//! | `delivery_pair_rate_limited` | rate-limited | too many messages to this recipient (131056) |
//! | `delivery_auth` | auth | credentials invalid, expired or lacking permission |
//! | `delivery_window_closed` | window-closed | 24-hour window closed: send a template (131047) |
//! | `delivery_undeliverable` | undeliverable | recipient cannot receive it (131026, 131050, …) |
//! | `delivery_rejected` | permanent | any other provider refusal |
//! | `delivery_timeout` | transient | no answer in time |
//! | `delivery_network` | transient | connection failed |
//! | `delivery_malformed_response` | transient (2xx, 5xx) / by status | the provider's answer could not be read |
//! | `delivery_config_invalid` | permanent | the backend's own configuration is wrong (e.g. base URL) |

use std::sync::Arc;
use std::time::Duration;

use super::classify::{ErrorClass, RateLimitScope, classify_http_status, classify_meta_code};
use crate::MessageError;

type Source = Arc<dyn std::error::Error + Send + Sync>;

/// Why a message was not accepted.
///
/// `Display` never contains credentials or recipients.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// The message broke a WhatsApp limit; nothing was sent.
    #[error(transparent)]
    Invalid(#[from] MessageError),
    /// This backend cannot carry this content or recipient.
    #[error("the {backend} backend cannot send {what}")]
    Unsupported {
        /// The backend.
        backend: &'static str,
        /// What it cannot send, e.g. `template messages`.
        what: &'static str,
    },
    /// The provider answered with an error.
    #[error("{backend} rejected the message ({class}{}): {message}", .provider_code.map(|c| format!(", code {c}")).unwrap_or_default())]
    Provider {
        /// The backend.
        backend: &'static str,
        /// How to handle it.
        class: ErrorClass,
        /// The provider's code (Meta `error.code`), when it gave one.
        provider_code: Option<i64>,
        /// The HTTP status.
        http_status: u16,
        /// The provider's message (for humans; may change).
        message: String,
        /// How long to wait before retrying (provider header or documented policy).
        retry_after: Option<Duration>,
        /// What a rate limit applies to.
        scope: Option<RateLimitScope>,
    },
    /// The provider did not answer in time.
    #[error("{backend} did not answer within {timeout:?}")]
    Timeout {
        /// The backend.
        backend: &'static str,
        /// The limit.
        timeout: Duration,
    },
    /// The connection failed.
    #[error("could not reach {backend}: {source}")]
    Network {
        /// The backend.
        backend: &'static str,
        /// The cause.
        source: Source,
    },
    /// The provider's answer could not be read.
    #[error("{backend} answered HTTP {http_status} with a body that could not be read: {detail}")]
    MalformedResponse {
        /// The backend.
        backend: &'static str,
        /// The HTTP status.
        http_status: u16,
        /// What was wrong.
        detail: String,
    },
    /// The backend's own configuration is wrong.
    #[error("invalid backend configuration: {detail}")]
    Config {
        /// What is wrong.
        detail: String,
    },
}

impl DeliveryError {
    /// Codes of this type's own variants (plus every [`MessageError`] code), with their
    /// meanings; the module docs add each code's retry class.
    pub const ALL_CODES: &'static [(&'static str, &'static str)] = &[
        (
            "delivery_unsupported",
            "this backend cannot carry this content or recipient",
        ),
        (
            "delivery_transient",
            "provider error worth retrying (e.g. Meta 131000, HTTP 5xx)",
        ),
        (
            "delivery_rate_limited",
            "account/app throughput limit (e.g. 130429, 80007)",
        ),
        (
            "delivery_pair_rate_limited",
            "too many messages to this recipient (131056)",
        ),
        (
            "delivery_auth",
            "credentials invalid, expired or lacking permission",
        ),
        (
            "delivery_window_closed",
            "24-hour window closed: send a template (131047)",
        ),
        (
            "delivery_undeliverable",
            "the recipient cannot receive it (131026, 131050, …)",
        ),
        ("delivery_rejected", "any other provider refusal"),
        ("delivery_timeout", "no answer in time"),
        ("delivery_network", "the connection failed"),
        (
            "delivery_malformed_response",
            "the provider's answer could not be read",
        ),
        (
            "delivery_config_invalid",
            "the backend's own configuration is wrong (e.g. base URL)",
        ),
    ];

    /// A provider error classified from a Meta `error.code` (facts §3.4).
    ///
    /// # Examples
    /// ```
    /// use wa_send::{DeliveryError, ErrorClass};
    ///
    /// let e = DeliveryError::from_meta("cloud_api", 400, 131056, "pair rate limit", None);
    /// assert_eq!(e.class(), ErrorClass::RateLimited);
    /// assert_eq!(e.code(), "delivery_pair_rate_limited");
    /// assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(6)));
    /// ```
    pub fn from_meta(
        backend: &'static str,
        http_status: u16,
        code: i64,
        message: impl Into<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        let (class, scope, hint) = classify_meta_code(code);
        DeliveryError::Provider {
            backend,
            class,
            provider_code: Some(code),
            http_status,
            message: message.into(),
            retry_after: retry_after.or(hint),
            scope,
        }
    }

    /// A provider error with no provider code, classified by HTTP status.
    pub fn from_http_status(
        backend: &'static str,
        http_status: u16,
        message: impl Into<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        let class = classify_http_status(http_status);
        DeliveryError::Provider {
            backend,
            class,
            provider_code: None,
            http_status,
            message: message.into(),
            retry_after: if class == ErrorClass::RateLimited {
                retry_after.or(Some(Duration::from_secs(1)))
            } else {
                retry_after
            },
            scope: (class == ErrorClass::RateLimited).then_some(RateLimitScope::Account),
        }
    }

    /// How to handle this failure.
    pub fn class(&self) -> ErrorClass {
        match self {
            DeliveryError::Invalid(_)
            | DeliveryError::Unsupported { .. }
            | DeliveryError::Config { .. } => ErrorClass::Permanent,
            DeliveryError::Provider { class, .. } => *class,
            DeliveryError::Timeout { .. } | DeliveryError::Network { .. } => ErrorClass::Transient,
            DeliveryError::MalformedResponse { http_status, .. } => match *http_status {
                // A 2xx we could not read may have been accepted: at-least-once says retry.
                200..=299 => ErrorClass::Transient,
                s => classify_http_status(s),
            },
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            DeliveryError::Invalid(e) => e.code(),
            DeliveryError::Unsupported { .. } => "delivery_unsupported",
            DeliveryError::Provider { class, scope, .. } => match class {
                ErrorClass::Transient => "delivery_transient",
                ErrorClass::RateLimited if *scope == Some(RateLimitScope::Recipient) => {
                    "delivery_pair_rate_limited"
                }
                ErrorClass::RateLimited => "delivery_rate_limited",
                ErrorClass::Auth => "delivery_auth",
                ErrorClass::WindowClosed => "delivery_window_closed",
                ErrorClass::Undeliverable => "delivery_undeliverable",
                ErrorClass::Permanent => "delivery_rejected",
            },
            DeliveryError::Timeout { .. } => "delivery_timeout",
            DeliveryError::Network { .. } => "delivery_network",
            DeliveryError::MalformedResponse { .. } => "delivery_malformed_response",
            DeliveryError::Config { .. } => "delivery_config_invalid",
        }
    }

    /// Whether an automatic retry can succeed.
    pub fn is_retryable(&self) -> bool {
        self.class().is_retryable()
    }

    /// How long to wait before retrying, when the provider or the policy says.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            DeliveryError::Provider { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// What a rate limit applies to (`None` unless rate-limited).
    pub fn rate_limit_scope(&self) -> Option<RateLimitScope> {
        match self {
            DeliveryError::Provider { scope, .. } => *scope,
            _ => None,
        }
    }

    /// The provider's own error code, when it gave one.
    pub fn provider_code(&self) -> Option<i64> {
        match self {
            DeliveryError::Provider { provider_code, .. } => *provider_code,
            _ => None,
        }
    }

    /// A network failure from any error type.
    pub fn network(
        backend: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        DeliveryError::Network {
            backend,
            source: Arc::new(source),
        }
    }
}
