//! Configuration from flags and environment variables (flags win).

use std::net::SocketAddr;

use clap::Parser;

/// The default notice shown with username links.
pub const DEFAULT_USERNAME_NOTICE: &str = "WhatsApp has not published an official link format for usernames. \
wa.me/<username> links are reported to work where usernames have rolled out. If the account has a username key, \
first-time contacts must also enter the 4-digit key in WhatsApp: it is not carried in the link.";

/// The date the default notice was last checked.
pub const DEFAULT_NOTICE_DATE: &str = "2026-11-23";

/// Server configuration.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "wa-server-example",
    version,
    about = "wa-kit reference server: the link API, the send API, the verification API and Meta's webhooks"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "WA_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Public base URL of this server (short links `<base>/<username>`, QR image URLs).
    /// Defaults to `http://<bind address>`.
    #[arg(long, env = "WA_PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,

    /// JSON endpoints: requests per minute per client IP.
    #[arg(long, env = "WA_RATE_LIMIT_JSON", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_json: u32,

    /// QR endpoint: requests per minute per client IP.
    #[arg(long, env = "WA_RATE_LIMIT_QR", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub rate_limit_qr: u32,

    /// Number of reverse proxies in front of the server whose `X-Forwarded-For` entries are
    /// trusted. 0 (the default) ignores the header and uses the socket address.
    #[arg(long, env = "WA_TRUSTED_PROXIES", default_value_t = 0)]
    pub trusted_proxies: u8,

    /// Bytes of link-API answers (JSON and QR images) kept in memory for their `max-age`;
    /// answers served from here do not count against the per-IP limits.
    #[arg(long, env = "WA_CACHE_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub cache_bytes: usize,

    /// Longest a request may take, reading its body included (ms); slower requests answer
    /// 408 `request_timeout` in their API's error shape.
    #[arg(long, env = "WA_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,

    /// Longest a connection may take to send a request's headers, and longest an idle
    /// keep-alive connection is held open before it is closed (ms).
    #[arg(long, env = "WA_HEADER_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_timeout_ms: u64,

    /// The notice returned with username links.
    #[arg(long, env = "WA_USERNAME_NOTICE", default_value = DEFAULT_USERNAME_NOTICE)]
    pub username_notice: String,

    /// The date the notice was last reviewed (shown as `noticeDate`).
    #[arg(long, env = "WA_USERNAME_NOTICE_DATE", default_value = DEFAULT_NOTICE_DATE)]
    pub username_notice_date: String,

    /// Where all state lives: `sqlite://path` (or a bare path; the default is a local
    /// `wa-kit.db` file) or `postgres://user:password@host/db` (several replicas).
    #[arg(long, env = "WA_DATABASE", default_value = "sqlite://wa-kit.db")]
    pub database: String,

    /// Database connections: SQLite's read pool, or the PostgreSQL pool of this replica.
    #[arg(long, env = "WA_DB_CONNECTIONS", default_value_t = 16, value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub db_connections: u32,

    /// 64 hex characters: encrypts stored provider secrets (ChaCha20-Poly1305). Without it
    /// secrets are stored unencrypted and a warning is logged.
    #[arg(long, env = "WA_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Meta Graph API host (tests point it at a local fake).
    #[arg(
        long,
        env = "WA_GRAPH_BASE_URL",
        default_value = "https://graph.facebook.com"
    )]
    pub graph_base_url: String,

    /// Meta Graph API version.
    #[arg(long, env = "WA_GRAPH_VERSION", default_value = "v24.0")]
    pub graph_version: String,

    /// WSAPI host.
    #[arg(
        long,
        env = "WA_WSAPI_BASE_URL",
        default_value = "https://api.wsapi.chat"
    )]
    pub wsapi_base_url: String,

    /// Meta app secret: verifies `X-Hub-Signature-256` on `POST /webhooks/whatsapp`.
    #[arg(long, env = "WA_META_APP_SECRET", hide_env_values = true)]
    pub meta_app_secret: Option<String>,

    /// Token Meta must present in the `GET /webhooks/whatsapp` handshake.
    #[arg(long, env = "WA_META_VERIFY_TOKEN", hide_env_values = true)]
    pub meta_verify_token: Option<String>,

    /// Business number for verification links of accounts that saved none.
    #[arg(long, env = "WA_DEFAULT_BUSINESS_PHONE")]
    pub default_business_phone: Option<String>,

    /// Messages per second per sending account (1-1000).
    #[arg(long, env = "WA_DISPATCH_RATE", default_value_t = 80, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub dispatch_rate: u32,

    /// Multiplies every plan's per-minute limit (load tests).
    #[arg(long, env = "WA_PLAN_LIMIT_MULTIPLIER", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub plan_limit_multiplier: u32,

    /// Allow webhooks and callbacks to private/loopback addresses. For tests only.
    #[arg(long, env = "WA_ALLOW_PRIVATE_TARGETS")]
    pub allow_private_targets: bool,

    /// First retry delay of webhook and callback deliveries, in milliseconds (doubling).
    #[arg(long, env = "WA_WEBHOOK_RETRY_MS", default_value_t = 5000)]
    pub webhook_retry_ms: u64,

    /// How often idle workers look for due messages, in milliseconds.
    #[arg(long, env = "WA_POLL_MS", default_value_t = 200)]
    pub poll_ms: u64,

    /// How long a message whose send's outcome was lost (a crash) waits for the provider's
    /// status before it is sent again, in milliseconds.
    #[arg(long, env = "WA_RECONCILE_MS", default_value_t = 600_000)]
    pub reconcile_ms: u64,

    /// How long a claimed message is leased to its sender, in milliseconds (longer than a
    /// send takes; after it, the send's outcome counts as unknown).
    #[arg(long, env = "WA_LEASE_MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(1000..))]
    pub lease_ms: u64,

    /// Sends in flight at once.
    #[arg(long, env = "WA_DISPATCH_CONCURRENCY", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub dispatch_concurrency: u64,

    /// Operator token for `/admin/*` (plans, deactivation). Without it those routes answer 403.
    #[arg(long, env = "WA_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Bulk cap of the free plan (at most the basic plan's).
    #[arg(long, env = "WA_BULK_CAP_FREE", default_value_t = 100)]
    pub bulk_cap_free: usize,

    /// Bulk cap of the basic plan.
    #[arg(long, env = "WA_BULK_CAP_BASIC", default_value_t = 100)]
    pub bulk_cap_basic: usize,

    /// Bulk cap of the pro plan.
    #[arg(long, env = "WA_BULK_CAP_PRO", default_value_t = 1000)]
    pub bulk_cap_pro: usize,

    /// Bulk cap of the enterprise plan.
    #[arg(long, env = "WA_BULK_CAP_ENTERPRISE", default_value_t = 5000)]
    pub bulk_cap_enterprise: usize,

    /// Log lines as `text` or `json`.
    #[arg(long, env = "WA_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}

impl Config {
    /// The public base URL: `WA_PUBLIC_BASE_URL`, else `http://<bind address>` (loopback
    /// when bound to every interface).
    pub fn public_base(&self) -> String {
        if let Some(b) = &self.public_base_url {
            return b.trim_end_matches('/').to_owned();
        }
        let mut addr = self.bind;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::parse_from(["wa-server-example"])
    }
}
