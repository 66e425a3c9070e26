//! API keys and limits: `Authorization: Bearer sk_live_…` (looked up by hash on every
//! request, so a rotation is seen at once), the plan's requests per minute per key with
//! `X-RateLimit-*` headers (`X-RateLimit-Reset` is the Unix time the window resets, as
//! WhatsAPI documents), and registrations per client IP.

use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::SendState;
use crate::error::{ApiError, SendApiError};
use crate::limit::{Decision, LocalLimiter, Rate, SharedLimiter};
use crate::middleware::set_rate_limit_headers;
use crate::storage::Plan;

/// Where per-key limit state lives: in this process on SQLite (one process owns the
/// file), in the database on PostgreSQL (replicas share the limit).
#[derive(Debug)]
pub enum KeyLimiter {
    /// In this process.
    Local(LocalLimiter<String>),
    /// In the shared database.
    Shared(SharedLimiter),
}

impl KeyLimiter {
    async fn check(&self, key: &str, rate: Rate) -> Result<Decision, SendApiError> {
        let now = crate::limit::now_ms();
        match self {
            KeyLimiter::Local(l) => Ok(l.check(&key.to_owned(), rate, now)),
            KeyLimiter::Shared(l) => Ok(l.check(key, rate, now).await?),
        }
    }
}

/// Per-key plan limits and the registration limit.
#[derive(Debug)]
pub struct Limits {
    plans: Vec<(Plan, Rate)>,
    /// Registrations per client IP (5 per minute).
    register: Rate,
    state: KeyLimiter,
}

impl Limits {
    /// The plans' limits, each multiplied by `multiplier` (load tests), kept in `state`.
    pub fn new(multiplier: u32, state: KeyLimiter) -> Self {
        let plans = Plan::ALL
            .into_iter()
            .map(|p| {
                (
                    p,
                    Rate::per_minute(p.per_minute().saturating_mul(multiplier.max(1))),
                )
            })
            .collect();
        Limits {
            plans,
            register: Rate::per_minute(5),
            state,
        }
    }

    fn of(&self, plan: Plan) -> Option<Rate> {
        self.plans.iter().find(|(p, _)| *p == plan).map(|(_, r)| *r)
    }

    /// Drops the state of keys that are back to a full allowance.
    pub async fn retain_recent(&self, now_ms: u64) {
        match &self.state {
            KeyLimiter::Local(l) => l.retain_recent(now_ms),
            KeyLimiter::Shared(l) => {
                if let Err(e) = l.retain_recent(now_ms).await {
                    tracing::warn!(code = e.code(), "pruning the shared limiter failed");
                }
            }
        }
    }
}

fn unix_now() -> u64 {
    crate::limit::now_ms() / 1000
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
    let key = bearer(&req);
    let account = match account_of(&send, key).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let Some(rate) = send.limits.of(account.plan) else {
        req.extensions_mut().insert(account);
        return next.run(req).await;
    };
    let plan = account.plan;
    let key = format!("plan:{}", account.id);
    let d = match send.limits.state.check(&key, rate).await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let mut resp = if d.allowed {
        req.extensions_mut().insert(account);
        next.run(req).await
    } else {
        over_plan_limit(plan, &d)
    };
    set_plan_limit_headers(&mut resp, &d);
    resp
}

/// The active account whose key the request carries.
async fn account_of(
    send: &SendState,
    key: Option<String>,
) -> Result<crate::storage::Account, SendApiError> {
    let key = key.ok_or_else(|| {
        SendApiError::new("auth_missing", "send `Authorization: Bearer sk_live_…`")
    })?;
    let account = send
        .accounts
        .authenticate(&key)
        .await?
        .ok_or_else(|| SendApiError::new("auth_invalid", "unknown API key"))?;
    if account.deactivated_at.is_some() {
        return Err(SendApiError::new(
            "account_deactivated",
            "this account has been deactivated",
        ));
    }
    Ok(account)
}

fn over_plan_limit(plan: Plan, d: &Decision) -> Response {
    crate::metrics::rate_limited("plan");
    let secs = d.retry_after_secs();
    SendApiError::new(
        "rate_limited",
        format!(
            "the {} plan allows {} requests per minute; retry in {secs} s",
            plan.as_str(),
            d.limit
        ),
    )
    .retry_after(secs)
    .into_response()
}

/// `X-RateLimit-*` (WhatsAPI documents `X-RateLimit-Reset` as the Unix time the window
/// resets), and `no-store`: answers to keyed requests are never cached.
fn set_plan_limit_headers(resp: &mut Response, d: &Decision) {
    let wait = if d.allowed {
        d.reset_secs()
    } else {
        d.retry_after_secs()
    };
    set_rate_limit_headers(
        resp.headers_mut(),
        u64::from(d.limit),
        u64::from(d.remaining),
        unix_now() + wait,
    );
    resp.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(axum::http::HeaderValue::from_static("no-store"));
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
    let d = match send
        .limits
        .state
        .check(&format!("register:{ip}"), send.limits.register)
        .await
    {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    if d.allowed {
        return next.run(req).await;
    }
    crate::metrics::rate_limited("register");
    let secs = d.retry_after_secs();
    ApiError::<crate::error::SendApi>::new(
        "rate_limited",
        format!(
            "at most {} registrations per minute; retry in {secs} s",
            d.limit
        ),
    )
    .retry_after(secs)
    .into_response()
}
