//! Outbound status webhooks signed per [Standard Webhooks](https://www.standardwebhooks.com/):
//! `webhook-id` (stable across retries), `webhook-timestamp` (Unix seconds) and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, with `whsec_…` secrets.
//!
//! | code | meaning |
//! |---|---|
//! | `webhook_secret_invalid` | the secret is not `whsec_` + base64 |
//! | `webhook_headers_missing` | a `webhook-*` header is missing |
//! | `webhook_timestamp_out_of_tolerance` | the timestamp is too old or in the future |
//! | `webhook_signature_invalid` | no `v1` signature matches |
//! | `webhook_target_invalid` | the URL is not an absolute http(s) URL |
//! | `webhook_target_forbidden` | the URL resolves to a private, loopback, link-local or otherwise internal address |
//!
//! # Examples
//! ```
//! use wa_send::outbound::{generate_secret, sign, verify};
//!
//! let secret = generate_secret();
//! let body = br#"{"type":"message.status"}"#;
//! let signature = sign(&secret, "whd_1", 1_750_000_000, body)?;
//! verify(&secret, "whd_1", "1750000000", &signature, body, 1_750_000_030, 300)?;
//! # Ok::<(), wa_send::outbound::OutboundWebhookError>(())
//! ```

use std::net::IpAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

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
}

impl OutboundWebhookError {
    /// Every code.
    pub const ALL_CODES: &'static [&'static str] = &[
        "webhook_secret_invalid",
        "webhook_headers_missing",
        "webhook_timestamp_out_of_tolerance",
        "webhook_signature_invalid",
        "webhook_target_invalid",
        "webhook_target_forbidden",
    ];

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            OutboundWebhookError::SecretInvalid => "webhook_secret_invalid",
            OutboundWebhookError::HeadersMissing(_) => "webhook_headers_missing",
            OutboundWebhookError::TimestampOutOfTolerance => "webhook_timestamp_out_of_tolerance",
            OutboundWebhookError::SignatureInvalid => "webhook_signature_invalid",
            OutboundWebhookError::TargetInvalid => "webhook_target_invalid",
            OutboundWebhookError::TargetForbidden(_) => "webhook_target_forbidden",
        }
    }
}

/// A new `whsec_` secret with 24 random bytes.
pub fn generate_secret() -> String {
    let mut key = [0u8; 24];
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

/// Whether an address must never receive customer webhooks (SSRF guard).
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1])) // carrier-grade NAT
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
                || o[0] >= 240 // reserved
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_forbidden_ip(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local
                || (seg[0] & 0xffc0) == 0xfe80 // link-local
                || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
                || (seg[0] == 0x0064 && seg[1] == 0xff9b) // NAT64 onto IPv4 (may reach private space)
        }
    }
}

/// Checks a customer webhook URL: absolute http(s), and every address its host resolves to
/// allowed (unless `allow_private`, for tests on loopback). Returns the host, port and the
/// addresses to connect to, so the request is pinned to what was checked (no DNS rebinding).
///
/// # Errors
/// `webhook_target_invalid` or `webhook_target_forbidden`.
pub async fn check_target(
    url: &str,
    allow_private: bool,
) -> Result<(String, Vec<std::net::SocketAddr>), OutboundWebhookError> {
    let parsed = url::Url::parse(url).map_err(|_| OutboundWebhookError::TargetInvalid)?;
    if !matches!(parsed.scheme(), "http" | "https")
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(OutboundWebhookError::TargetInvalid);
    }
    let host = parsed
        .host_str()
        .ok_or(OutboundWebhookError::TargetInvalid)?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = parsed
        .port_or_known_default()
        .ok_or(OutboundWebhookError::TargetInvalid)?;
    let addrs: Vec<std::net::SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![std::net::SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| OutboundWebhookError::TargetInvalid)?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(OutboundWebhookError::TargetInvalid);
    }
    if !allow_private && let Some(bad) = addrs.iter().find(|a| is_forbidden_ip(a.ip())) {
        return Err(OutboundWebhookError::TargetForbidden(bad.ip().to_string()));
    }
    Ok((host, addrs))
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

    #[test]
    fn forbidden_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::",
        ] {
            assert!(is_forbidden_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_forbidden_ip(ip.parse().unwrap()), "{ip}");
        }
    }
}
