//! [`SendError`]: why the dispatcher refused a request.
//!
//! | code | meaning |
//! |---|---|
//! | `message_*` | the message broke a WhatsApp limit |
//! | `send_at_in_past` | `send_at` is before now |
//! | `idempotency_key_invalid` | the key is empty, over 255 bytes or not visible ASCII |
//! | `idempotency_key_conflict` | the key was used with a different request within 24 h |
//! | `circuit_open` | the account's backend keeps failing; retry after the cool-down |
//! | `bulk_empty` | a bulk call with no messages |
//! | `bulk_too_large` | more messages than the bulk cap |
//! | `message_not_found` | no such message for this account |
//! | `message_not_cancellable` | only queued or scheduled messages can be cancelled |
//! | `dispatch_config_invalid` | the dispatcher's own configuration is out of range |
//! | `store_failed`, `store_corrupt` | the queue store failed |

use crate::MessageError;
use crate::lifecycle::Status;
use crate::queue::StoreError;

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
    /// Out-of-range configuration.
    #[error("invalid dispatcher configuration (rate 1-1000/s, sizes > 0)")]
    ConfigInvalid,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SendError {
    /// Codes of this type's own variants.
    pub const ALL_CODES: &'static [&'static str] = &[
        "send_at_in_past",
        "idempotency_key_invalid",
        "idempotency_key_conflict",
        "circuit_open",
        "bulk_empty",
        "bulk_too_large",
        "message_not_found",
        "message_not_cancellable",
        "dispatch_config_invalid",
        "store_failed",
        "store_corrupt",
    ];

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            SendError::Invalid(e) => e.code(),
            SendError::SendAtInPast => "send_at_in_past",
            SendError::IdempotencyKeyInvalid => "idempotency_key_invalid",
            SendError::IdempotencyConflict => "idempotency_key_conflict",
            SendError::CircuitOpen { .. } => "circuit_open",
            SendError::BulkEmpty => "bulk_empty",
            SendError::BulkTooLarge { .. } => "bulk_too_large",
            SendError::NotFound => "message_not_found",
            SendError::NotCancellable { .. } => "message_not_cancellable",
            SendError::ConfigInvalid => "dispatch_config_invalid",
            SendError::Store(e) => e.code(),
        }
    }
}
