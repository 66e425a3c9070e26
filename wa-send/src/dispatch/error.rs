//! [`SendError`]: why the dispatcher refused a request.
//!
//! Its own codes: [`SendError::ALL_CODES`]; it also passes through `message_*`,
//! `delivery_*` and `store_*` codes.

use crate::lifecycle::Status;
use crate::queue::StoreError;
use crate::{DeliveryError, MessageError};

/// Why the dispatcher refused a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The message broke a limit.
    #[error(transparent)]
    Invalid(#[from] MessageError),
    /// `send_at` is in the past.
    #[error("sendAt is in the past")]
    SendAtInPast,
    /// The idempotency key is malformed.
    #[error("idempotency keys are 1 to 255 visible ASCII characters")]
    IdempotencyKeyInvalid,
    /// The idempotency key was used with another request.
    #[error("this idempotency key was already used with a different request")]
    IdempotencyConflict,
    /// The account's circuit is open.
    #[error("delivery is paused after repeated provider failures; retry in {} s", .retry_after_ms.div_ceil(1000))]
    CircuitOpen {
        /// Until the next probe.
        retry_after_ms: u64,
    },
    /// No messages.
    #[error("a bulk request needs at least one message")]
    BulkEmpty,
    /// Too many messages.
    #[error("a bulk request takes at most {max} messages, not {actual}")]
    BulkTooLarge {
        /// The cap.
        max: usize,
        /// Given.
        actual: usize,
    },
    /// No such message for this account.
    #[error("message not found")]
    NotFound,
    /// Not queued or scheduled.
    #[error("a {status} message cannot be cancelled")]
    NotCancellable {
        /// Its status.
        status: Status,
    },
    /// Not failed.
    #[error("a {status} message cannot be retried; only failed messages can")]
    NotRetryable {
        /// Its status.
        status: Status,
    },
    /// `send_at` too far ahead.
    #[error("sendAt may be at most {max_days} days ahead")]
    SendAtTooFar {
        /// The limit.
        max_days: u64,
    },
    /// The account's backend cannot carry the message.
    #[error(transparent)]
    Unsupported(DeliveryError),
    /// Out-of-range configuration.
    #[error("invalid dispatcher configuration (rate 1-1000/s, sizes > 0)")]
    ConfigInvalid,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

wa_validate::error_codes! {
    SendError, delegate {
        Self::Invalid(e) => e.code(),
        Self::Unsupported(e) => e.code(),
        Self::Store(e) => e.code(),
    };
    SendAtInPast => "send_at_in_past", "`sendAt` is before now";
    SendAtTooFar => "send_at_too_far", "`sendAt` is further ahead than allowed (a year)";
    IdempotencyKeyInvalid => "idempotency_key_invalid", "the key is empty, over 255 bytes or not visible ASCII";
    IdempotencyConflict => "idempotency_key_conflict", "the key was used with a different request within 24 h";
    CircuitOpen => "circuit_open", "the account's backend keeps failing; retry after the cool-down";
    BulkEmpty => "bulk_empty", "a bulk call with no messages";
    BulkTooLarge => "bulk_too_large", "more messages than the bulk cap";
    NotFound => "message_not_found", "no such message for this account";
    NotCancellable => "message_not_cancellable", "only queued or scheduled messages can be cancelled";
    NotRetryable => "message_not_retryable", "only failed messages can be retried";
    ConfigInvalid => "dispatch_config_invalid", "the dispatcher's own configuration is out of range";
}
