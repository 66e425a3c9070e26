//! The error type of `wa-verify`, with stable machine-readable codes.
//!
//! | code | meaning |
//! |---|---|
//! | `verify_expiry_too_short` | `expires_at` below 1 minute |
//! | `verify_expiry_too_long` | `expires_at` above the application's maximum (default 10 minutes) |
//! | `verify_callback_url_invalid` | `callback_url` is not an absolute http(s) URL |
//! | `verify_callback_url_insecure` | `callback_url` is `http://` and insecure callbacks are not allowed |
//! | `verify_authorized_number_invalid` | an entry of `authorized_numbers` is not a valid phone number |
//! | `verify_message_too_long` | a message text is longer than 1,024 characters |
//! | `verify_code_format` | a code length or alphabet the generator cannot use |
//! | `verify_code_space_exhausted` | no unused code could be found (the code space is too small) |
//! | `verify_rng_failed` | the random number generator failed |
//! | `verify_rate_limited` | too many verifications for this number or application; retry later |
//! | `verify_not_found` | no verification with this id |
//! | `verify_not_pending` | the verification is no longer `requested` |
//! | `verify_store_failed` | the verification store reported an error |

use std::time::Duration;

/// A `Result` whose error defaults to [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Why a verification operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `expires_at` below the 1-minute minimum.
    #[error("expires_at must be at least 1 minute")]
    ExpiryTooShort,
    /// `expires_at` above the configured maximum.
    #[error("expires_at must be at most {max} minutes")]
    ExpiryTooLong {
        /// The maximum in minutes.
        max: u32,
    },
    /// Not an absolute http(s) URL.
    #[error("callback_url must be an absolute http(s) URL")]
    CallbackUrlInvalid,
    /// `http://` while insecure callbacks are off.
    #[error("callback_url must use https")]
    CallbackUrlInsecure,
    /// An authorized number failed phone validation.
    #[error("authorized_numbers[{index}] is not a valid phone number ({})", source.code())]
    AuthorizedNumberInvalid {
        /// Its position in the list.
        index: usize,
        /// The phone validation error.
        source: wa_validate::Error,
    },
    /// A message text over the limit.
    #[error("{field} must be at most {max} characters")]
    MessageTooLong {
        /// The parameter name.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// A code format the generator cannot use.
    #[error(
        "codes need 4 to 32 characters from an alphabet of 2 to 64 distinct ASCII letters or digits"
    )]
    CodeFormat,
    /// No unused code found.
    #[error("could not generate an unused code")]
    CodeSpaceExhausted,
    /// The RNG failed.
    #[error("the random number generator failed")]
    RngFailed,
    /// A velocity limit was hit.
    #[error("too many verifications; retry in {}s", retry_after.as_secs())]
    RateLimited {
        /// When a retry can succeed.
        retry_after: Duration,
    },
    /// Unknown id.
    #[error("verification not found")]
    NotFound,
    /// The verification is settled.
    #[error("the verification is no longer pending")]
    NotPending,
    /// The store failed.
    #[error("verification store error: {0}")]
    Store(String),
}

impl Error {
    /// Every code, with a one-line description.
    pub const ALL_CODES: &'static [(&'static str, &'static str)] = &[
        ("verify_expiry_too_short", "expires_at below 1 minute"),
        ("verify_expiry_too_long", "expires_at above the maximum"),
        (
            "verify_callback_url_invalid",
            "callback_url is not an absolute http(s) URL",
        ),
        (
            "verify_callback_url_insecure",
            "callback_url is http:// and insecure callbacks are off",
        ),
        (
            "verify_authorized_number_invalid",
            "an authorized number is not a valid phone number",
        ),
        ("verify_message_too_long", "a message text is too long"),
        ("verify_code_format", "an unusable code length or alphabet"),
        (
            "verify_code_space_exhausted",
            "no unused code could be found",
        ),
        ("verify_rng_failed", "the random number generator failed"),
        ("verify_rate_limited", "too many verifications; retry later"),
        ("verify_not_found", "no verification with this id"),
        (
            "verify_not_pending",
            "the verification is no longer requested",
        ),
        (
            "verify_store_failed",
            "the verification store reported an error",
        ),
    ];

    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::ExpiryTooShort => "verify_expiry_too_short",
            Error::ExpiryTooLong { .. } => "verify_expiry_too_long",
            Error::CallbackUrlInvalid => "verify_callback_url_invalid",
            Error::CallbackUrlInsecure => "verify_callback_url_insecure",
            Error::AuthorizedNumberInvalid { .. } => "verify_authorized_number_invalid",
            Error::MessageTooLong { .. } => "verify_message_too_long",
            Error::CodeFormat => "verify_code_format",
            Error::CodeSpaceExhausted => "verify_code_space_exhausted",
            Error::RngFailed => "verify_rng_failed",
            Error::RateLimited { .. } => "verify_rate_limited",
            Error::NotFound => "verify_not_found",
            Error::NotPending => "verify_not_pending",
            Error::Store(_) => "verify_store_failed",
        }
    }
}
