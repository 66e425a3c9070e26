//! Shared state of the link API (per-IP limits, response cache) and the handle of the
//! send side.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::cache::ResponseCache;
use crate::config::Config;
use crate::limit::{LocalLimiter, Rate};
use crate::send::SendState;

/// One rate-limited class of endpoints, per client IP (in this process: per-IP limits
/// belong at the edge, and each replica keeps its own).
#[derive(Debug)]
pub struct Limit {
    /// The limit's name in metrics (`ip_json`, `ip_qr`).
    pub name: &'static str,
    /// The rate.
    pub rate: Rate,
    /// The state per IP.
    pub limiter: LocalLimiter<IpAddr>,
}

impl Limit {
    /// A limit named `name` of `per_minute` requests per minute per IP.
    pub fn new(name: &'static str, per_minute: u32) -> Self {
        Limit {
            name,
            rate: Rate::per_minute(per_minute),
            limiter: LocalLimiter::default(),
        }
    }
}

/// What every link-API handler can reach: one `Arc`, so the per-request clones that axum's
/// `State` extractor and the middleware make are one reference-count increment each.
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppStateInner>);

/// The fields of [`AppState`] (reached through `Deref`).
#[derive(Debug)]
pub struct AppStateInner {
    /// The configuration.
    pub config: Arc<Config>,
    /// The public base URL, checked once (`None` when it is not a valid base: short
    /// links then answer `link_invalid_base_url`).
    pub short_base: Option<wa_links::ShortBase>,
    /// Limits for the JSON endpoints.
    pub json_limit: Limit,
    /// Limits for the QR endpoint.
    pub qr_limit: Limit,
    /// The send API, verification API and Meta webhooks.
    pub send: Arc<SendState>,
    /// Link-API answers, for their `max-age`.
    pub cache: ResponseCache,
    qr_renders: AtomicU64,
}

impl std::ops::Deref for AppState {
    type Target = AppStateInner;
    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

impl AppState {
    /// State for `config` with the send side `send`.
    pub fn new(config: Arc<Config>, send: Arc<SendState>) -> Self {
        AppState(Arc::new(AppStateInner {
            short_base: wa_links::ShortBase::parse(&config.public_base()).ok(),
            json_limit: Limit::new("ip_json", config.rate_limit_json),
            qr_limit: Limit::new("ip_qr", config.rate_limit_qr),
            send,
            cache: ResponseCache::new(config.cache_bytes),
            qr_renders: AtomicU64::new(0),
            config,
        }))
    }

    /// Counts one QR render.
    pub fn rendered_qr(&self) {
        self.qr_renders.fetch_add(1, Ordering::Relaxed);
    }

    /// How many QR images were rendered (not served from cache) since start.
    pub fn qr_render_count(&self) -> u64 {
        self.qr_renders.load(Ordering::Relaxed)
    }

    /// Drops limiter entries that are back to a full allowance.
    pub async fn retain_recent(&self) {
        let now = crate::limit::now_ms();
        self.json_limit.limiter.retain_recent(now);
        self.qr_limit.limiter.retain_recent(now);
        self.send.limits.retain_recent(now).await;
    }
}
