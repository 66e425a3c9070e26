//! Shared state: configuration, rate limiters and the QR cache.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use governor::clock::DefaultClock;
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use lru::LruCache;

use crate::config::Config;

/// A per-IP limiter.
pub type IpLimiter =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// One rate-limited class of endpoints.
#[derive(Debug)]
pub struct Limit {
    /// Requests per minute.
    pub per_minute: u32,
    /// The limiter (GCRA, from `governor`).
    pub limiter: IpLimiter,
}

impl Limit {
    /// A limit of `per_minute` requests per minute per IP.
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Limit {
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

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// Limits for the JSON endpoints.
    pub json_limit: Arc<Limit>,
    /// Limits for the QR endpoint.
    pub qr_limit: Arc<Limit>,
    /// The send and verification APIs (absent: those routes answer 503).
    pub send: Option<Arc<crate::send_api::SendState>>,
    /// Registrations per IP.
    pub register_limit: Arc<Limit>,
    qr_cache: Arc<Mutex<LruCache<String, CachedImage>>>,
    qr_renders: Arc<AtomicU64>,
}

impl AppState {
    /// State for `config`.
    pub fn new(config: Config) -> Self {
        let entries =
            NonZeroUsize::new(config.qr_cache_entries.max(1)).unwrap_or(NonZeroUsize::MIN);
        AppState {
            json_limit: Arc::new(Limit::new(config.rate_limit_json)),
            qr_limit: Arc::new(Limit::new(config.rate_limit_qr)),
            send: None,
            register_limit: Arc::new(Limit::new(5)),
            qr_cache: Arc::new(Mutex::new(LruCache::new(entries))),
            qr_renders: Arc::new(AtomicU64::new(0)),
            config: Arc::new(config),
        }
    }

    /// With the send and verification APIs.
    #[must_use]
    pub fn with_send(mut self, send: crate::send_api::SendState) -> Self {
        self.send = Some(Arc::new(send));
        self
    }

    /// With already shared send and verification APIs.
    #[must_use]
    pub fn with_send_arc(mut self, send: Arc<crate::send_api::SendState>) -> Self {
        self.send = Some(send);
        self
    }

    /// A cached image, if this exact request was rendered before.
    pub fn cached_qr(&self, key: &str) -> Option<CachedImage> {
        self.qr_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// Keeps a rendered image.
    pub fn store_qr(&self, key: String, image: CachedImage) {
        self.qr_renders.fetch_add(1, Ordering::Relaxed);
        self.qr_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(key, image);
    }

    /// How many QR images were rendered (not served from cache) since start.
    pub fn qr_render_count(&self) -> u64 {
        self.qr_renders.load(Ordering::Relaxed)
    }
}
