//! The SSRF guard for every URL we call on a customer's behalf (status webhooks,
//! verification callbacks): one policy, applied when the URL is registered
//! ([`check_target`]) and again when each request connects ([`guarded_client`]'s resolver
//! refuses every resolved address [`wa_validate::net::is_public_ip`] rejects), so DNS
//! rebinding cannot reach an internal address. Redirects are never followed and proxies
//! from the environment are ignored.

use std::net::{IpAddr, SocketAddr};

use super::OutboundWebhookError;

/// What a target URL may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TargetPolicy {
    /// Require `https` (verification callbacks; the reference requires it).
    pub require_https: bool,
    /// Allow private, loopback and other internal addresses. For tests only.
    pub allow_private: bool,
}

impl TargetPolicy {
    /// `http` or `https`, public addresses only.
    pub const PUBLIC: TargetPolicy = TargetPolicy {
        require_https: false,
        allow_private: false,
    };

    /// `https` only, public addresses only.
    pub const PUBLIC_HTTPS: TargetPolicy = TargetPolicy {
        require_https: true,
        allow_private: false,
    };

    /// This policy, with internal addresses allowed when `allow` (tests).
    #[must_use]
    pub const fn allow_private(mut self, allow: bool) -> Self {
        self.allow_private = allow;
        self
    }
}

/// The host and port of `url` if its form is acceptable: an absolute `http(s)` URL (https
/// when the policy says so), with a host, no credentials, at most 2048 bytes, and not an
/// IP literal the policy forbids. Does no I/O.
///
/// # Errors
/// `webhook_target_invalid`, `webhook_target_insecure` or `webhook_target_forbidden`.
///
/// # Examples
/// ```
/// use wa_send::webhook::outgoing::{check_target_syntax, TargetPolicy};
/// assert!(check_target_syntax("https://hooks.example.com/x", TargetPolicy::PUBLIC_HTTPS).is_ok());
/// for bad in ["https://127.0.0.1/cb", "https://[::1]:8443/cb", "https://169.254.169.254/cb", "http://hooks.example.com/x"] {
///     assert!(check_target_syntax(bad, TargetPolicy::PUBLIC_HTTPS).is_err(), "{bad}");
/// }
/// ```
pub fn check_target_syntax(
    url: &str,
    policy: TargetPolicy,
) -> Result<(String, u16), OutboundWebhookError> {
    let parsed = url::Url::parse(url).map_err(|_| OutboundWebhookError::TargetInvalid)?;
    match parsed.scheme() {
        "https" => {}
        "http" if !policy.require_https => {}
        "http" => return Err(OutboundWebhookError::TargetInsecure),
        _ => return Err(OutboundWebhookError::TargetInvalid),
    }
    if url.len() > 2048 || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(OutboundWebhookError::TargetInvalid);
    }
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or(OutboundWebhookError::TargetInvalid)?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = parsed
        .port_or_known_default()
        .ok_or(OutboundWebhookError::TargetInvalid)?;
    if let Ok(ip) = host.parse::<IpAddr>() {
        allowed(ip, policy)?;
    }
    Ok((host, port))
}

fn allowed(ip: IpAddr, policy: TargetPolicy) -> Result<(), OutboundWebhookError> {
    if policy.allow_private || wa_validate::net::is_public_ip(ip) {
        Ok(())
    } else {
        Err(OutboundWebhookError::TargetForbidden(ip.to_string()))
    }
}

/// [`check_target_syntax`], then resolves the host and refuses it when any address it
/// resolves to is forbidden. Returns the addresses.
///
/// # Errors
/// As [`check_target_syntax`], and `webhook_target_unresolvable` when the host does not
/// resolve.
pub async fn check_target(
    url: &str,
    policy: TargetPolicy,
) -> Result<Vec<SocketAddr>, OutboundWebhookError> {
    let (host, port) = check_target_syntax(url, policy)?;
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| OutboundWebhookError::TargetUnresolvable)?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(OutboundWebhookError::TargetUnresolvable);
    }
    for a in &addrs {
        allowed(a.ip(), policy)?;
    }
    Ok(addrs)
}

#[cfg(feature = "outbound-webhooks")]
mod client {
    use std::sync::Arc;
    use std::time::Duration;

    use reqwest::dns::{Addrs, Name, Resolve, Resolving};

    use super::{OutboundWebhookError, TargetPolicy, allowed};

    /// Resolves with the system resolver, then drops every address the policy forbids; a
    /// name left with none fails to resolve, so no connection is ever made to it.
    #[derive(Debug)]
    struct GuardedResolver(TargetPolicy);

    impl Resolve for GuardedResolver {
        fn resolve(&self, name: Name) -> Resolving {
            let policy = self.0;
            Box::pin(async move {
                let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
                let ok: Vec<_> = found.filter(|a| allowed(a.ip(), policy).is_ok()).collect();
                if ok.is_empty() {
                    return Err(Box::new(OutboundWebhookError::TargetForbidden(
                        name.as_str().to_owned(),
                    ))
                        as Box<dyn std::error::Error + Send + Sync>);
                }
                Ok(Box::new(ok.into_iter()) as Addrs)
            })
        }
    }

    /// An HTTP client that can only connect to addresses `policy` allows (checked on every
    /// resolution), never follows redirects and ignores proxy settings. IP-literal URLs do
    /// not go through a resolver: check them with
    /// [`check_target_syntax`](super::check_target_syntax) before each request.
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised.
    pub fn guarded_client(
        policy: TargetPolicy,
        timeout: Duration,
    ) -> Result<reqwest::Client, reqwest::Error> {
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver(policy)))
            .user_agent(concat!("wa-send-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
    }
}

#[cfg(feature = "outbound-webhooks")]
pub use client::guarded_client;
