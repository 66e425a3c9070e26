//! Webhooks in both directions, in two modules that never share a name:
//!
//! | module | direction | what it owns |
//! |---|---|---|
//! | [`meta`] | Meta → us | the `GET` handshake, `X-Hub-Signature-256` on raw bytes, typed parsing of messages and statuses |
//! | [`outgoing`] | us → customers | Standard Webhooks signing and verification, the SSRF guard on targets, the status event body, delivery with retries |

pub mod meta;
pub mod outgoing;
