//! The error type of `wa-verify`, with stable machine-readable codes.
//!
//! Every code and its meaning is listed in [`Error::ALL_CODES`].

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
    /// A loopback, private, link-local or otherwise non-public host (an IP literal or
    /// `localhost`), while private callbacks are not allowed.
    #[error("callback_url must name a public host")]
    CallbackUrlPrivate,
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

wa_validate::error_codes! {
    Error;
    ExpiryTooShort => "verify_expiry_too_short", "expires_at below 1 minute";
    ExpiryTooLong => "verify_expiry_too_long", "expires_at above the maximum";
    CallbackUrlInvalid => "verify_callback_url_invalid", "callback_url is not an absolute http(s) URL";
    CallbackUrlInsecure => "verify_callback_url_insecure", "callback_url is http:// and insecure callbacks are off";
    CallbackUrlPrivate => "verify_callback_url_private", "callback_url names a non-public host";
    AuthorizedNumberInvalid => "verify_authorized_number_invalid", "an authorized number is not a valid phone number";
    MessageTooLong => "verify_message_too_long", "a message text is too long";
    CodeFormat => "verify_code_format", "an unusable code length or alphabet";
    CodeSpaceExhausted => "verify_code_space_exhausted", "no unused code could be found";
    RngFailed => "verify_rng_failed", "the random number generator failed";
    RateLimited => "verify_rate_limited", "too many verifications; retry later";
    NotFound => "verify_not_found", "no verification with this id";
    NotPending => "verify_not_pending", "the verification is no longer requested";
    Store => "verify_store_failed", "the verification store reported an error";
}

impl From<crate::store::StoreError> for Error {
    fn from(e: crate::store::StoreError) -> Self {
        Error::Store(e.to_string())
    }
}
