//! Meta's inbound webhooks (facts §4), as pure functions: no web framework, no I/O.
//!
//! 1. [`verify_handshake`] answers the `GET` subscription check.
//! 2. [`verify_signature`] checks `X-Hub-Signature-256` over the **raw** body bytes, in
//!    constant time, before anything is parsed.
//! 3. [`parse`] turns the body into typed [`WebhookEvent`]s: inbound messages and status
//!    updates. Unknown fields are ignored; unknown message types and change fields are
//!    kept as such, never dropped silently.
//!
//! Error codes: [`WebhookError::ALL_CODES`].
//!
//! # Examples
//! ```
//! use hmac::{Hmac, Mac};
//! use wa_send::webhook::meta::{self, WebhookEvent};
//!
//! let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
//!   "metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
//!   "contacts":[{"profile":{"name":"Sheena"},"wa_id":"16505551234"}],
//!   "messages":[{"from":"16505551234","id":"wamid.A","timestamp":"1749416383","type":"text","text":{"body":"hi"}}]}}]}]}"#;
//! let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"app-secret").unwrap();
//! mac.update(body);
//! let header = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
//!
//! meta::verify_signature(body, Some(&header), b"app-secret")?;
//! let events = meta::parse(body)?;
//! let WebhookEvent::Message(m) = &events[0] else { panic!() };
//! assert_eq!(m.profile_name.as_deref(), Some("Sheena"));
//! assert_eq!(m.text(), Some("hi"));
//! # Ok::<(), wa_send::webhook::meta::WebhookError>(())
//! ```

mod parse;
mod types;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub use parse::parse;
pub use types::{
    InboundContent, InboundMessage, MessageContext, MessageStatus, Pricing, StatusError,
    StatusUpdate, WebhookEvent,
};

/// Why a webhook request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// `hub.mode` is not `subscribe`.
    #[error("hub.mode must be \"subscribe\"")]
    ModeInvalid,
    /// `hub.verify_token` is missing or does not match.
    #[error("hub.verify_token does not match")]
    VerifyTokenMismatch,
    /// `hub.challenge` is missing or not a plain token.
    #[error("hub.challenge must be 1 to 256 letters, digits, '-', '_' or '.'")]
    ChallengeInvalid,
    /// No signature header.
    #[error("the X-Hub-Signature-256 header is missing")]
    SignatureMissing,
    /// The signature header is not `sha256=<64 hex digits>`.
    #[error("the X-Hub-Signature-256 header must be sha256=<64 hex digits>")]
    SignatureMalformed,
    /// The signature does not match the body.
    #[error("the X-Hub-Signature-256 signature does not match the body")]
    SignatureMismatch,
    /// The body is not a WhatsApp webhook document.
    #[error("the webhook body is not a WhatsApp webhook document: {detail}")]
    PayloadMalformed {
        /// What was wrong.
        detail: String,
    },
}

wa_validate::error_codes! {
    WebhookError;
    ModeInvalid => "webhook_mode_invalid", "`hub.mode` is not `subscribe`";
    VerifyTokenMismatch => "webhook_verify_token_mismatch", "`hub.verify_token` is missing or wrong";
    ChallengeInvalid => "webhook_challenge_invalid", "`hub.challenge` is missing, too long or not a plain token";
    SignatureMissing => "webhook_signature_missing", "no `X-Hub-Signature-256` header";
    SignatureMalformed => "webhook_signature_malformed", "the header is not `sha256=<64 hex>`";
    SignatureMismatch => "webhook_signature_mismatch", "the HMAC does not match the body";
    PayloadMalformed => "webhook_payload_malformed", "the body is not a WhatsApp webhook JSON document (e.g. truncated)";
}

/// Checks Meta's `GET` subscription request and returns the challenge to echo back with
/// status 200 (reply 403 on any error).
///
/// The token comparison is constant-time. The challenge must be a plain token (Meta sends
/// digits), so echoing it cannot inject markup.
///
/// # Errors
/// `webhook_mode_invalid`, `webhook_verify_token_mismatch` or `webhook_challenge_invalid`.
///
/// # Examples
/// ```
/// let challenge = wa_send::webhook::meta::verify_handshake(Some("subscribe"), Some("my-token"), Some("1158201444"), "my-token")?;
/// assert_eq!(challenge, "1158201444");
/// # Ok::<(), wa_send::webhook::meta::WebhookError>(())
/// ```
pub fn verify_handshake<'a>(
    mode: Option<&str>,
    verify_token: Option<&str>,
    challenge: Option<&'a str>,
    expected_token: &str,
) -> Result<&'a str, WebhookError> {
    if mode != Some("subscribe") {
        return Err(WebhookError::ModeInvalid);
    }
    let token = verify_token.unwrap_or("");
    if expected_token.is_empty() || !bool::from(token.as_bytes().ct_eq(expected_token.as_bytes())) {
        return Err(WebhookError::VerifyTokenMismatch);
    }
    match challenge {
        Some(c)
            if !c.is_empty()
                && c.len() <= 256
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) =>
        {
            Ok(c)
        }
        _ => Err(WebhookError::ChallengeInvalid),
    }
}

/// [`verify_handshake`] on a raw query string (`hub.mode=subscribe&hub.verify_token=…`).
///
/// Returns the challenge as an owned string.
///
/// # Errors
/// As [`verify_handshake`]; a repeated parameter counts as a mismatch.
pub fn verify_handshake_query(query: &str, expected_token: &str) -> Result<String, WebhookError> {
    let mut mode = None;
    let mut token = None;
    let mut challenge = None;
    let mut repeated = false;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match k.as_ref() {
            "hub.mode" => &mut mode,
            "hub.verify_token" => &mut token,
            "hub.challenge" => &mut challenge,
            _ => continue,
        };
        repeated |= slot.is_some();
        *slot = Some(v.into_owned());
    }
    if repeated {
        return Err(WebhookError::VerifyTokenMismatch);
    }
    verify_handshake(
        mode.as_deref(),
        token.as_deref(),
        challenge.as_deref(),
        expected_token,
    )
    .map(str::to_owned)
}

/// Checks `X-Hub-Signature-256: sha256=<hex>` against HMAC-SHA256(app secret, raw body),
/// in constant time. Call it on the bytes as received, before any JSON parsing.
///
/// # Errors
/// `webhook_signature_missing`, `webhook_signature_malformed` or `webhook_signature_mismatch`.
pub fn verify_signature(
    body: &[u8],
    header: Option<&str>,
    app_secret: &[u8],
) -> Result<(), WebhookError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(WebhookError::SignatureMissing)?;
    let hex_sig = header
        .strip_prefix("sha256=")
        .ok_or(WebhookError::SignatureMalformed)?;
    if hex_sig.len() != 64 {
        return Err(WebhookError::SignatureMalformed);
    }
    let sig = hex::decode(hex_sig).map_err(|_| WebhookError::SignatureMalformed)?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(app_secret)
        .map_err(|_| WebhookError::SignatureMismatch)?;
    mac.update(body);
    mac.verify_slice(&sig)
        .map_err(|_| WebhookError::SignatureMismatch)
}

/// The `X-Hub-Signature-256` value for `body`: what Meta sends (and what test fakes send).
pub fn sign(body: &[u8], app_secret: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(app_secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}
