//! Cross-cutting layers: per-IP rate limits, ETag / conditional GET, request ids and tracing.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::cache::Cached;
use crate::error::LinkError as ApiError;
use crate::limit::Decision;
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

/// Sets `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`.
pub fn set_rate_limit_headers(h: &mut HeaderMap, limit: u64, remaining: u64, reset: u64) {
    h.insert(X_RATELIMIT_LIMIT.clone(), HeaderValue::from(limit));
    h.insert(X_RATELIMIT_REMAINING.clone(), HeaderValue::from(remaining));
    h.insert(X_RATELIMIT_RESET.clone(), HeaderValue::from(reset));
}

fn with_limit_headers(mut resp: Response, d: &Decision) -> Response {
    set_rate_limit_headers(
        resp.headers_mut(),
        u64::from(d.limit),
        u64::from(d.remaining),
        d.reset_secs(),
    );
    resp
}

fn refused(limit: &Limit, d: &Decision) -> Response {
    crate::metrics::rate_limited(limit.name);
    let wait = d.retry_after_secs();
    let mut resp = ApiError::new(
        "rate_limited",
        format!(
            "rate limit of {} requests per minute exceeded; retry in {wait} s",
            d.limit
        ),
    )
    .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    resp
}

fn from_cache(hit: Cached) -> Response {
    let mut resp = Response::new(Body::from(hit.body));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, hit.content_type);
    h.insert(header::CACHE_CONTROL, hit.cache_control);
    h.insert("x-cache", HeaderValue::from_static("hit"));
    resp
}

/// Runs the handler and keeps a cacheable answer; returns it with its body read.
async fn run_and_keep(
    state: &AppState,
    key: Option<String>,
    req: Request,
    next: Next,
) -> (Response, Option<Bytes>) {
    let resp = next.run(req).await;
    let Some(key) = key else { return (resp, None) };
    if resp.status() != StatusCode::OK {
        return (resp, None);
    }
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_TAGGED_BODY).await else {
        return (
            ApiError::new("internal_error", "response body could not be read").into_response(),
            None,
        );
    };
    let now = crate::limit::now_ms();
    state
        .cache
        .put(key, (parts.status, &parts.headers), &bytes, now);
    (
        Response::from_parts(parts, Body::from(bytes.clone())),
        Some(bytes),
    )
}

/// The per-IP limit with the response cache in front of it: an answer served from the
/// cache, or a `304` to `If-None-Match`, uses none of the allowance (as the reference
/// service's CDN does).
async fn limited(state: &AppState, limit: &Limit, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = client_ip(req.headers(), peer, state.config.trusted_proxies);
    let now = crate::limit::now_ms();
    let cacheable = state.cache.enabled()
        && req.method() == Method::GET
        && !req.headers().contains_key(header::AUTHORIZATION);
    let key = cacheable
        .then(|| crate::cache::key(req.uri().path(), req.uri().query()))
        .flatten();
    if let Some(hit) = key.as_deref().and_then(|k| state.cache.get(k, now)) {
        return with_limit_headers(from_cache(hit), &limit.limiter.peek(&ip, limit.rate, now));
    }
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(inm) = if_none_match {
        // Conditional: answer first; an unchanged answer (304) is free.
        let (resp, bytes) = run_and_keep(state, key, req, next).await;
        if bytes.is_some_and(|b| etag_matches(&inm, &etag_of(&b))) {
            return with_limit_headers(resp, &limit.limiter.peek(&ip, limit.rate, now));
        }
        let d = limit.limiter.check(&ip, limit.rate, now);
        if !d.allowed {
            return with_limit_headers(refused(limit, &d), &d);
        }
        return with_limit_headers(resp, &d);
    }
    let d = limit.limiter.check(&ip, limit.rate, now);
    if !d.allowed {
        return with_limit_headers(refused(limit, &d), &d);
    }
    let (resp, _) = run_and_keep(state, key, req, next).await;
    with_limit_headers(resp, &d)
}

/// Rate limit for the JSON endpoints.
pub async fn limit_json(State(state): State<AppState>, req: Request, next: Next) -> Response {
    limited(&state, &state.json_limit, req, next).await
}

/// Rate limit for the QR endpoint.
pub async fn limit_qr(State(state): State<AppState>, req: Request, next: Next) -> Response {
    limited(&state, &state.qr_limit, req, next).await
}

/// The strong ETag of a body.
fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    format!("\"{}\"", hex::encode(&digest[..16]))
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
    let tag = etag_of(&bytes);
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
