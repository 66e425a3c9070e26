//! Meta Cloud API error classification (facts §3.4): by `error.code`, never by HTTP status.

use std::time::Duration;

/// How a failed delivery should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorClass {
    /// Try again with backoff (provider hiccup, timeout, 5xx, connection failure).
    Transient,
    /// Slow down; retry after the hinted delay (see [`RateLimitScope`]).
    RateLimited,
    /// The credentials are wrong, expired or lack permission: fix them, don't retry.
    Auth,
    /// The 24-hour customer-service window is closed (131047): send a template instead.
    WindowClosed,
    /// This recipient cannot get the message (not on WhatsApp, opted out, ecosystem limit).
    Undeliverable,
    /// The request itself is wrong or refused for good; retrying cannot help.
    Permanent,
}

impl ErrorClass {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Transient => "transient",
            ErrorClass::RateLimited => "rate_limited",
            ErrorClass::Auth => "auth",
            ErrorClass::WindowClosed => "window_closed",
            ErrorClass::Undeliverable => "undeliverable",
            ErrorClass::Permanent => "permanent",
        }
    }

    /// Whether an automatic retry can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorClass::Transient | ErrorClass::RateLimited)
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rate limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RateLimitScope {
    /// The whole sending account / app: pause everything.
    Account,
    /// Only this sender–recipient pair (131056): other recipients are unaffected.
    Recipient,
}

/// Classifies a Meta `error.code` (facts §3.4), with a default retry hint for rate limits.
///
/// The delays are a documented policy, not Meta's word: Meta sends no `Retry-After`.
///
/// | codes | class | hint |
/// |---|---|---|
/// | 1, 2, 131000, 131016, 131057, 131052, 131053, 134101 | transient | 134101 (template syncing): 60 s |
/// | 4, 80007 | rate-limited (account) | 60 s |
/// | 130429 | rate-limited (account) | 1 s |
/// | 131056 | rate-limited (recipient) | 6 s (1 msg / 6 s pair rate) |
/// | 131048, 131064 | rate-limited (account) | 15 min |
/// | 0, 10, 190, 200–299, 131005 | auth | — |
/// | 131047 | window closed | — |
/// | 131026, 131049, 131050, 130403 | undeliverable | — |
/// | anything else | permanent | — |
///
/// # Examples
/// ```
/// use wa_send::{classify_meta_code, ErrorClass, RateLimitScope};
///
/// let (class, scope, _) = classify_meta_code(131056);
/// assert_eq!(class, ErrorClass::RateLimited);
/// assert_eq!(scope, Some(RateLimitScope::Recipient));
/// assert_eq!(classify_meta_code(131047).0, ErrorClass::WindowClosed);
/// ```
pub fn classify_meta_code(code: i64) -> (ErrorClass, Option<RateLimitScope>, Option<Duration>) {
    use ErrorClass::*;
    let account = Some(RateLimitScope::Account);
    match code {
        1 | 2 | 131000 | 131016 | 131057 | 131052 | 131053 => (Transient, None, None),
        134101 => (Transient, None, Some(Duration::from_secs(60))),
        4 | 80007 => (RateLimited, account, Some(Duration::from_secs(60))),
        130429 => (RateLimited, account, Some(Duration::from_secs(1))),
        131056 => (
            RateLimited,
            Some(RateLimitScope::Recipient),
            Some(Duration::from_secs(6)),
        ),
        131048 | 131064 => (RateLimited, account, Some(Duration::from_secs(15 * 60))),
        0 | 10 | 190 | 200..=299 | 131005 => (Auth, None, None),
        131047 => (WindowClosed, None, None),
        131026 | 131049 | 131050 | 130403 => (Undeliverable, None, None),
        _ => (Permanent, None, None),
    }
}

/// The class of a failed HTTP exchange that carried no provider error code.
pub(crate) fn classify_http_status(status: u16) -> ErrorClass {
    match status {
        401 | 403 => ErrorClass::Auth,
        408 | 425 | 500..=599 => ErrorClass::Transient,
        429 => ErrorClass::RateLimited,
        _ => ErrorClass::Permanent,
    }
}
