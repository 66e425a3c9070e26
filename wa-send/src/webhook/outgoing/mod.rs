//! Webhooks we send to customers: status events and verification callbacks, signed per
//! [Standard Webhooks](https://www.standardwebhooks.com/): `webhook-id` (stable across
//! retries), `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<base64
//! HMAC-SHA256 of "id.timestamp.body">`, with `whsec_…` secrets.
//!
//! | item | what it does |
//! |---|---|
//! | [`sign`], [`verify`], [`generate_secret`] | the Standard Webhooks signature |
//! | [`check_target`], [`guarded_client`] | the SSRF guard: at registration, and at connect time on every resolved address |
//! | [`StatusEvent`] | the `message.status_updated` body |
//! | [`Deliverer`] | delivery of stored webhooks: concurrent, bounded per account, retried by [`RetryPolicy::webhooks`](crate::RetryPolicy::webhooks) |
//!
//! Error codes: [`OutboundWebhookError::ALL_CODES`].
//!
//! # Examples
//! ```
//! use wa_send::webhook::outgoing::{generate_secret, sign, verify};
//!
//! let secret = generate_secret();
//! let body = br#"{"type":"message.status"}"#;
//! let signature = sign(&secret, "whd_1", 1_750_000_000, body)?;
//! verify(&secret, "whd_1", "1750000000", &signature, body, 1_750_000_030, 300)?;
//! # Ok::<(), wa_send::webhook::outgoing::OutboundWebhookError>(())
//! ```

#[cfg(feature = "outbound-webhooks")]
mod delivery;
mod event;
mod target;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[cfg(feature = "outbound-webhooks")]
pub use delivery::Deliverer;
pub use event::{StatusEvent, StatusEventData, recipient_label};
#[cfg(feature = "outbound-webhooks")]
pub use target::guarded_client;
pub use target::{TargetPolicy, check_target, check_target_syntax};

/// Why signing, verifying or targeting a webhook failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OutboundWebhookError {
    /// The secret is not `whsec_` + base64.
    #[error("webhook secrets are whsec_ followed by base64")]
    SecretInvalid,
    /// A `webhook-*` header is missing.
    #[error("the {0} header is missing")]
    HeadersMissing(&'static str),
    /// The timestamp is outside the tolerance.
    #[error("the webhook timestamp is outside the allowed tolerance")]
    TimestampOutOfTolerance,
    /// No signature matches.
    #[error("no webhook signature matches")]
    SignatureInvalid,
    /// The URL is not an absolute http(s) URL.
    #[error("webhook URLs must be absolute http(s) URLs")]
    TargetInvalid,
    /// The URL resolves to an internal address.
    #[error("webhook URL resolves to a forbidden address ({0})")]
    TargetForbidden(String),
    /// An `http` URL where `https` is required.
    #[error("the URL must use https")]
    TargetInsecure,
    /// The URL's host does not resolve.
    #[error("the URL's host does not resolve to an address")]
    TargetUnresolvable,
}

wa_validate::error_codes! {
    OutboundWebhookError;
    SecretInvalid => "webhook_secret_invalid", "the secret is not `whsec_` + base64";
    HeadersMissing => "webhook_headers_missing", "a `webhook-*` header is missing";
    TimestampOutOfTolerance => "webhook_timestamp_out_of_tolerance", "the timestamp is too old or in the future";
    SignatureInvalid => "webhook_signature_invalid", "no `v1` signature matches";
    TargetInvalid => "webhook_target_invalid", "the URL is not an absolute http(s) URL";
    TargetForbidden => "webhook_target_forbidden", "the URL resolves to a private, loopback, link-local or otherwise internal address";
    TargetInsecure => "webhook_target_insecure", "the URL is `http` where `https` is required";
    TargetUnresolvable => "webhook_target_unresolvable", "the URL's host does not resolve";
}

/// A new `whsec_` secret with 24 random bytes.
pub fn generate_secret() -> String {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("the OS random generator is available");
    format!("whsec_{}", B64.encode(key))
}

fn key(secret: &str) -> Result<Vec<u8>, OutboundWebhookError> {
    let b64 = secret
        .strip_prefix("whsec_")
        .ok_or(OutboundWebhookError::SecretInvalid)?;
    let key = B64
        .decode(b64)
        .map_err(|_| OutboundWebhookError::SecretInvalid)?;
    if key.is_empty() {
        Err(OutboundWebhookError::SecretInvalid)
    } else {
        Ok(key)
    }
}

fn mac(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` value for a delivery.
///
/// # Errors
/// `webhook_secret_invalid`.
pub fn sign(
    secret: &str,
    id: &str,
    timestamp: u64,
    body: &[u8],
) -> Result<String, OutboundWebhookError> {
    let tag = mac(&key(secret)?, id, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    Ok(format!("v1,{}", B64.encode(tag)))
}

/// Verifies a delivery the way a receiver should: the timestamp within `tolerance_secs` of
/// `now_secs`, and any `v1` signature in the (space-separated) header matching, compared
/// in constant time.
///
/// # Errors
/// `webhook_secret_invalid`, `webhook_headers_missing`, `webhook_timestamp_out_of_tolerance`
/// or `webhook_signature_invalid`.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now_secs: u64,
    tolerance_secs: u64,
) -> Result<(), OutboundWebhookError> {
    let key = key(secret)?;
    if id.is_empty() {
        return Err(OutboundWebhookError::HeadersMissing("webhook-id"));
    }
    if signature_header.trim().is_empty() {
        return Err(OutboundWebhookError::HeadersMissing("webhook-signature"));
    }
    let ts: u64 = timestamp
        .trim()
        .parse()
        .map_err(|_| OutboundWebhookError::HeadersMissing("webhook-timestamp"))?;
    if ts.abs_diff(now_secs) > tolerance_secs {
        return Err(OutboundWebhookError::TimestampOutOfTolerance);
    }
    for candidate in signature_header.split_whitespace() {
        let Some(b64) = candidate.strip_prefix("v1,") else {
            continue;
        };
        let Ok(sig) = B64.decode(b64) else { continue };
        if mac(&key, id, timestamp.trim(), body)
            .verify_slice(&sig)
            .is_ok()
        {
            return Ok(());
        }
    }
    Err(OutboundWebhookError::SignatureInvalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_vector() {
        // The example from the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        verify(
            secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            &format!("v1,bogus {sig}"),
            body,
            1_614_265_330,
            300,
        )
        .unwrap();
        assert_eq!(
            verify(
                secret,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                "1614265330",
                &sig,
                body,
                1_614_265_330 + 301,
                300
            ),
            Err(OutboundWebhookError::TimestampOutOfTolerance)
        );
        assert_eq!(
            verify(
                secret,
                "msg_other",
                "1614265330",
                &sig,
                body,
                1_614_265_330,
                300
            ),
            Err(OutboundWebhookError::SignatureInvalid)
        );
        assert_eq!(
            sign("nope", "a", 1, b""),
            Err(OutboundWebhookError::SecretInvalid)
        );
    }
}
