#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod bsuid;
mod codes;
pub mod error;
pub mod jid;
pub mod net;
pub mod phone;
pub mod random;
pub mod recipient;
pub mod time;
pub mod username;

#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
mod serde_impl;
#[cfg(feature = "serde")]
pub use serde_impl::trusted_recipient;

pub use bsuid::Bsuid;
pub use error::{Error, Result};
pub use jid::{Jid, JidServer};
pub use phone::{NumberType, Phone, PhoneOptions};
pub use recipient::Recipient;
pub use username::{Username, UsernameKey, UsernamePolicy};
