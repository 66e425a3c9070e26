#![doc = include_str!("../README.md")]

mod build;
mod encode;
pub mod error;
mod parse;

pub use build::{Link, ShortBase, Target};
pub use encode::encode_text;
pub use error::{Error, Result};
pub use parse::{LinkKind, ParsedLink, parse};
/// The identity types the builders take, so users need not name `wa-validate` themselves.
pub use wa_validate::{Phone, Username, UsernameKey};
