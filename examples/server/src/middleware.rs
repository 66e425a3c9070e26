//! Cross-cutting layers: per-IP rate limits, ETag / conditional GET, request ids and tracing.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use sha2::{Digest, Sha256};

use crate::error::LinkError as ApiError;
use crate::state::{AppState, Limit};

/// `X-RateLimit-Limit`.
pub static X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
/// `X-RateLimit-Remaining`.
pub static X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
/// `X-RateLimit-Reset` (seconds until the full allowance is back).
pub static X_RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// Largest body the ETag layer hashes (bigger bodies pass through untagged).
const MAX_TAGGED_BODY: usize = 16 * 1024 * 1024;

/// The client's address: the socket peer, or — only with `trusted_proxies` > 0 — the
/// `X-Forwarded-For` entry that the outermost trusted proxy saw.
pub fn client_ip(headers: &HeaderMap, peer: Option<IpAddr>, trusted_proxies: u8) -> IpAddr {
    let fallback = peer.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    if trusted_proxies == 0 {
        return fallback;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let n = usize::from(trusted_proxies);
    if hops.len() < n {
        return fallback;
    }
    hops[hops.len() - n].parse().unwrap_or(fallback)
}

/// Seconds until a refused request may be retried (rounded up, at least 1).
pub fn retry_after_secs(
    not_until: &governor::NotUntil<<DefaultClock as governor::clock::Clock>::Instant>,
) -> u64 {
    let d: Duration = not_until.wait_time_from(DefaultClock::default().now());
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

/// Seconds until the whole allowance is back: GCRA refills one request every 60/limit s.
pub fn reset_secs(per_minute: u32, remaining: u32) -> u64 {
    let used = u64::from(per_minute.saturating_sub(remaining));
    (used * 60).div_ceil(u64::from(per_minute.max(1)))
}

/// Sets `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`.
pub fn set_rate_limit_headers(h: &mut HeaderMap, limit: u64, remaining: u64, reset: u64) {
    h.insert(X_RATELIMIT_LIMIT.clone(), HeaderValue::from(limit));
    h.insert(X_RATELIMIT_REMAINING.clone(), HeaderValue::from(remaining));
    h.insert(X_RATELIMIT_RESET.clone(), HeaderValue::from(reset));
}

async fn limited(state: &AppState, limit: &Arc<Limit>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = client_ip(req.headers(), peer, state.config.trusted_proxies);
    let per_minute = limit.per_minute;
    let (mut resp, remaining, reset) = match limit.limiter.check_key(&ip) {
        Ok(snapshot) => {
            let remaining = snapshot.remaining_burst_capacity();
            (
                next.run(req).await,
                remaining,
                reset_secs(per_minute, remaining),
            )
        }
        Err(not_until) => {
            crate::metrics::rate_limited(limit.name);
            let wait = retry_after_secs(&not_until);
            let mut resp = ApiError::new(
                "rate_limited",
                format!(
                    "rate limit of {per_minute} requests per minute exceeded; retry in {wait} s"
                ),
            )
            .into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            (resp, 0, wait)
        }
    };
    set_rate_limit_headers(
        resp.headers_mut(),
        u64::from(per_minute),
        u64::from(remaining),
        reset,
    );
    resp
}

/// Rate limit for the JSON endpoints.
pub async fn limit_json(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.json_limit.clone();
    limited(&state, &limit, req, next).await
}

/// Rate limit for the QR endpoint.
pub async fn limit_qr(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.qr_limit.clone();
    limited(&state, &limit, req, next).await
}

fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let bare = etag.trim_matches('"');
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == bare)
}

/// Adds a strong `ETag` to successful GET responses and answers `If-None-Match` with 304.
pub async fn etag(req: Request, next: Next) -> Response {
    let is_get = matches!(*req.method(), Method::GET | Method::HEAD);
    let private = req.headers().contains_key(header::AUTHORIZATION);
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let resp = next.run(req).await;
    if !is_get || resp.status() != StatusCode::OK {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_TAGGED_BODY).await else {
        return ApiError::new("internal_error", "response body could not be read").into_response();
    };
    let digest = Sha256::digest(&bytes);
    let tag = format!("\"{}\"", hex::encode(&digest[..16]));
    if let Ok(v) = HeaderValue::from_str(&tag) {
        parts.headers.insert(header::ETAG, v);
    }
    // Answers to authenticated requests are never stored by shared caches.
    let default = if private {
        "private, no-cache"
    } else {
        "public, max-age=60"
    };
    parts
        .headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static(default));
    if if_none_match.is_some_and(|inm| etag_matches(&inm, &tag)) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.remove(header::CONTENT_TYPE);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_only_when_trusted() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.7"),
        );
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(client_ip(&h, Some(peer), 0), peer);
        assert_eq!(
            client_ip(&h, Some(peer), 1),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(&h, Some(peer), 2),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(&h, Some(peer), 3),
            peer,
            "fewer hops than proxies: use the socket"
        );
        h.insert("x-forwarded-for", HeaderValue::from_static("garbage"));
        assert_eq!(client_ip(&h, Some(peer), 1), peer);
    }

    #[test]
    fn if_none_match_forms() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("W/\"abc\", \"x\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }
}
