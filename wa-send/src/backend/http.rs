//! What the HTTP backends share: client set-up, base URLs, error mapping.

use std::time::Duration;

use super::DeliveryError;

/// Default time for a whole request.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time to connect.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Provider bodies quoted in errors are cut to this many bytes.
const MAX_QUOTED_BODY: usize = 300;

pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, DeliveryError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .user_agent(concat!("wa-send/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| DeliveryError::Config {
            detail: format!("HTTP client: {e}"),
        })
}

/// Checks and normalises a base URL: absolute http(s), no query or fragment, no trailing `/`.
pub(crate) fn base_url(raw: &str) -> Result<String, DeliveryError> {
    let url = url::Url::parse(raw).map_err(|e| DeliveryError::Config {
        detail: format!("base URL {raw:?}: {e}"),
    })?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(DeliveryError::Config {
            detail: format!("base URL {raw:?} must be an absolute http(s) URL without query"),
        });
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// A path segment we put in URLs (ids): visible ASCII without `/`, `?`, `#`, `%`.
pub(crate) fn path_segment(what: &str, value: &str) -> Result<(), DeliveryError> {
    let ok = !value.is_empty()
        && value.len() <= 256
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"/?#%\\".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(DeliveryError::Config {
            detail: format!("{what} must be a non-empty id without /, ?, # or %"),
        })
    }
}

/// A credential we put in a header: non-empty visible ASCII.
pub(crate) fn credential(what: &str, value: &str) -> Result<(), DeliveryError> {
    if value.trim().is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DeliveryError::Config {
            detail: format!("{what} must be non-empty visible ASCII"),
        });
    }
    Ok(())
}

/// Sends `req` and reads the whole answer: (status, headers, body).
pub(crate) async fn exchange(
    backend: &'static str,
    timeout: Duration,
    req: reqwest::RequestBuilder,
) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), DeliveryError> {
    let resp = req
        .send()
        .await
        .map_err(|e| map_reqwest(backend, timeout, e))?;
    body(backend, timeout, resp).await
}

/// A provider answer as JSON, or `delivery_malformed_response`.
pub(crate) fn json(
    backend: &'static str,
    http_status: u16,
    bytes: &[u8],
) -> Result<serde_json::Value, DeliveryError> {
    serde_json::from_slice(bytes).map_err(|e| DeliveryError::MalformedResponse {
        backend,
        http_status,
        detail: e.to_string(),
    })
}

/// A provider answer that must be a JSON object.
/// The answer read as `T`, or `delivery_malformed_response`.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    backend: &'static str,
    http_status: u16,
    bytes: &[u8],
) -> Result<T, DeliveryError> {
    serde_json::from_slice(bytes).map_err(|e| DeliveryError::MalformedResponse {
        backend,
        http_status,
        detail: e.to_string(),
    })
}

pub(crate) fn json_object(
    backend: &'static str,
    http_status: u16,
    bytes: &[u8],
) -> Result<serde_json::Value, DeliveryError> {
    let v = json(backend, http_status, bytes)?;
    if !v.is_object() {
        return Err(DeliveryError::MalformedResponse {
            backend,
            http_status,
            detail: "expected an object".to_owned(),
        });
    }
    Ok(v)
}

pub(crate) fn map_reqwest(
    backend: &'static str,
    timeout: Duration,
    e: reqwest::Error,
) -> DeliveryError {
    if e.is_timeout() {
        DeliveryError::Timeout { backend, timeout }
    } else {
        // Never keep the URL: it may carry ids the caller considers private.
        DeliveryError::network(backend, e.without_url())
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare for APIs and ignored).
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(24 * 3600)))
}

/// Reads a response body, mapping a body-read timeout too.
async fn body(
    backend: &'static str,
    timeout: Duration,
    resp: reqwest::Response,
) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), DeliveryError> {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| map_reqwest(backend, timeout, e))?;
    Ok((status, headers, bytes.to_vec()))
}

/// A short, printable quote of a provider body for error messages.
pub(crate) fn quote(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    let mut cut = s.len().min(MAX_QUOTED_BODY);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out: String = s[..cut]
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if cut < s.len() {
        out.push('…');
    }
    out
}
