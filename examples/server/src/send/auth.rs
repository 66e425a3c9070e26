//! API keys and limits: `Authorization: Bearer sk_live_…` (looked up by hash on every
//! request, so a rotation is seen at once), the plan's requests per minute per key with
//! `X-RateLimit-*` headers (`X-RateLimit-Reset` is the Unix time the window resets, as
//! WhatsAPI documents), and registrations per client IP.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::DefaultClock;
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::SendState;
use crate::error::{ApiError, SendApiError};
use crate::middleware::{retry_after_secs, set_rate_limit_headers};
use crate::state::Limit;
use crate::storage::Plan;

type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// Per-key plan limits and the registration limit (in this process; see the README for
/// the scale-out note).
pub struct Limits {
    plans: Vec<(Plan, u32, KeyedLimiter)>,
    /// Registrations per client IP (5 per minute).
    pub register: Limit,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits").finish_non_exhaustive()
    }
}

impl Limits {
    /// The plans' limits, each multiplied by `multiplier` (load tests).
    pub fn new(multiplier: u32) -> Self {
        let plans = Plan::ALL
            .into_iter()
            .map(|p| {
                let n = NonZeroU32::new(p.per_minute().saturating_mul(multiplier.max(1)))
                    .unwrap_or(NonZeroU32::MIN);
                (
                    p,
                    n.get(),
                    RateLimiter::keyed(Quota::per_minute(n))
                        .with_middleware::<StateInformationMiddleware>(),
                )
            })
            .collect();
        Limits {
            plans,
            register: Limit::new("register", 5),
        }
    }

    fn of(&self, plan: Plan) -> Option<&(Plan, u32, KeyedLimiter)> {
        self.plans.iter().find(|(p, _, _)| *p == plan)
    }

    /// Drops the state of keys that are back to a full allowance.
    pub fn retain_recent(&self) {
        for (_, _, l) in &self.plans {
            l.retain_recent();
        }
        self.register.limiter.retain_recent();
    }
}

fn unix_now() -> u64 {
    wa_send::Clock::unix_seconds(&wa_send::SystemClock)
}

/// The bearer key of a request.
fn bearer(req: &Request) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let key = v
        .strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))?;
    Some(key.trim().to_owned())
}

/// Authenticates the request, applies the plan's per-key limit, and puts the
/// [`Account`](crate::storage::Account) in the request's extensions.
pub async fn authenticate(
    State(send): State<Arc<SendState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(key) = bearer(&req) else {
        return SendApiError::new("auth_missing", "send `Authorization: Bearer sk_live_…`")
            .into_response();
    };
    let account = match send.accounts.authenticate(&key).await {
        Ok(Some(a)) => a,
        Ok(None) => return SendApiError::new("auth_invalid", "unknown API key").into_response(),
        Err(e) => return SendApiError::from(e).into_response(),
    };
    let Some((plan, per_minute, limiter)) = send.limits.of(account.plan) else {
        req.extensions_mut().insert(account);
        return next.run(req).await;
    };
    let (plan, per_minute) = (*plan, *per_minute);
    let mut resp = match limiter.check_key(&account.id) {
        Ok(snapshot) => {
            let remaining = snapshot.remaining_burst_capacity();
            req.extensions_mut().insert(account);
            let mut resp = next.run(req).await;
            let reset = unix_now() + crate::middleware::reset_secs(per_minute, remaining);
            set_rate_limit_headers(
                resp.headers_mut(),
                u64::from(per_minute),
                u64::from(remaining),
                reset,
            );
            return resp;
        }
        Err(not_until) => {
            crate::metrics::rate_limited("plan");
            let secs = retry_after_secs(&not_until);
            let mut resp = SendApiError::new(
                "rate_limited",
                format!(
                    "the {} plan allows {per_minute} requests per minute; retry in {secs} s",
                    plan.as_str()
                ),
            )
            .retry_after(secs)
            .into_response();
            set_rate_limit_headers(
                resp.headers_mut(),
                u64::from(per_minute),
                0,
                unix_now() + secs,
            );
            resp
        }
    };
    resp.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(axum::http::HeaderValue::from_static("no-store"));
    resp
}

/// Registration limit per client IP (5 per minute), in the send API's error shape.
pub async fn register_limit(
    State(send): State<Arc<SendState>>,
    req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = crate::middleware::client_ip(req.headers(), peer, send.config.trusted_proxies);
    match send.limits.register.limiter.check_key(&ip) {
        Ok(_) => next.run(req).await,
        Err(not_until) => {
            crate::metrics::rate_limited("register");
            let secs = retry_after_secs(&not_until);
            ApiError::<crate::error::SendApi>::new(
                "rate_limited",
                format!(
                    "at most {} registrations per minute; retry in {secs} s",
                    send.limits.register.per_minute
                ),
            )
            .retry_after(secs)
            .into_response()
        }
    }
}
