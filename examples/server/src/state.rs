//! Shared state of the link API (limits, QR cache) and the handle of the send side.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use governor::clock::DefaultClock;
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use lru::LruCache;

use crate::config::Config;
use crate::send::SendState;

/// A per-IP limiter.
pub type IpLimiter =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// One rate-limited class of endpoints.
#[derive(Debug)]
pub struct Limit {
    /// The limit's name in metrics (`ip_json`, `ip_qr`, `register`).
    pub name: &'static str,
    /// Requests per minute.
    pub per_minute: u32,
    /// The limiter (GCRA, from `governor`).
    pub limiter: IpLimiter,
}

impl Limit {
    /// A limit named `name` of `per_minute` requests per minute per IP.
    pub fn new(name: &'static str, per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Limit {
            name,
            per_minute: n.get(),
            limiter: RateLimiter::keyed(Quota::per_minute(n))
                .with_middleware::<StateInformationMiddleware>(),
        }
    }
}

/// A rendered QR image.
#[derive(Debug, Clone)]
pub struct CachedImage {
    /// The content type.
    pub content_type: &'static str,
    /// The bytes.
    pub body: Bytes,
}

/// What every link-API handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// The public base URL (parsed once).
    pub public_base: Arc<str>,
    /// Limits for the JSON endpoints.
    pub json_limit: Arc<Limit>,
    /// Limits for the QR endpoint.
    pub qr_limit: Arc<Limit>,
    /// The send API, verification API and Meta webhooks.
    pub send: Arc<SendState>,
    qr_cache: Arc<Mutex<LruCache<String, CachedImage>>>,
    qr_renders: Arc<AtomicU64>,
}

impl AppState {
    /// State for `config` with the send side `send`.
    pub fn new(config: Arc<Config>, send: Arc<SendState>) -> Self {
        let entries =
            NonZeroUsize::new(config.qr_cache_entries.max(1)).unwrap_or(NonZeroUsize::MIN);
        AppState {
            public_base: config.public_base().into(),
            json_limit: Arc::new(Limit::new("ip_json", config.rate_limit_json)),
            qr_limit: Arc::new(Limit::new("ip_qr", config.rate_limit_qr)),
            send,
            qr_cache: Arc::new(Mutex::new(LruCache::new(entries))),
            qr_renders: Arc::new(AtomicU64::new(0)),
            config,
        }
    }

    /// A cached image, if this exact request was rendered before.
    pub fn cached_qr(&self, key: &str) -> Option<CachedImage> {
        crate::lock(&self.qr_cache).get(key).cloned()
    }

    /// Keeps a rendered image.
    pub fn store_qr(&self, key: String, image: CachedImage) {
        self.qr_renders.fetch_add(1, Ordering::Relaxed);
        crate::lock(&self.qr_cache).put(key, image);
    }

    /// How many QR images were rendered (not served from cache) since start.
    pub fn qr_render_count(&self) -> u64 {
        self.qr_renders.load(Ordering::Relaxed)
    }

    /// Drops per-IP limiter entries that are back to a full allowance.
    pub fn retain_recent(&self) {
        self.json_limit.limiter.retain_recent();
        self.qr_limit.limiter.retain_recent();
        self.send.limits.retain_recent();
    }
}
