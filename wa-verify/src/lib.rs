#![doc = include_str!("../README.md")]

mod code;
pub mod error;
mod model;
mod seams;
mod store;
mod stored;
pub mod testing;
mod verifier;

/// The attribute [`VerificationStore`] implementations need (re-exported so implementers
/// use the same version).
pub use async_trait::async_trait;
pub use code::{CLOSE, CodeFormat, OPEN, codes_equal, extract_codes, message_text};
pub use error::{Error, Result};
pub use model::{
    Callback, CallbackPayload, Channel, Config, Inbound, Issued, MAX_MESSAGE_CHARS, Messages,
    Outcome, Request, Status, Timestamp, Verification,
};
pub use seams::{Clock, CodeRng, ManualClock, OsRng, RngError, SeededRng, SystemClock};
pub use store::{MemoryStore, StoreError, VerificationStore};
pub use verifier::{Verifier, expire_due};
