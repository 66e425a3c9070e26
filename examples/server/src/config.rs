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
    about = "wa-kit reference server: link API"
)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "WA_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Public base URL used for short links (`<base>/<username>`).
    #[arg(
        long,
        env = "WA_PUBLIC_BASE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_base_url: String,

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

    /// How many rendered QR images to keep in memory.
    #[arg(long, env = "WA_QR_CACHE_ENTRIES", default_value_t = 1024)]
    pub qr_cache_entries: usize,

    /// The notice returned with username links.
    #[arg(long, env = "WA_USERNAME_NOTICE", default_value = DEFAULT_USERNAME_NOTICE)]
    pub username_notice: String,

    /// The date the notice was last reviewed (shown as `noticeDate`).
    #[arg(long, env = "WA_USERNAME_NOTICE_DATE", default_value = DEFAULT_NOTICE_DATE)]
    pub username_notice_date: String,
}

impl Default for Config {
    fn default() -> Self {
        Config::parse_from(["wa-server-example"])
    }
}
