//! The link API's response cache: successful public GET answers (JSON and QR images),
//! keyed by path and normalised query (parameters decoded and sorted, so every option that
//! changes the output is part of the key), kept for their `max-age`, bounded in bytes.
//! Like the reference service's CDN, an answer served from here does not count against
//! the per-IP limit.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use lru::LruCache;

/// A stored answer.
#[derive(Debug, Clone)]
pub struct Cached {
    /// `Content-Type`.
    pub content_type: HeaderValue,
    /// `Cache-Control`.
    pub cache_control: HeaderValue,
    /// The body.
    pub body: Bytes,
    /// Unix milliseconds.
    expires: u64,
}

/// Answers by key, least recently used evicted first once the byte budget is spent.
#[derive(Debug)]
pub struct ResponseCache {
    inner: std::sync::Mutex<Inner>,
    max_bytes: usize,
}

#[derive(Debug)]
struct Inner {
    entries: LruCache<String, Cached>,
    bytes: usize,
}

/// What an entry costs against the budget: its key, body and a fixed overhead.
fn cost(key: &str, c: &Cached) -> usize {
    key.len() + c.body.len() + 256
}

impl ResponseCache {
    /// A cache holding at most `max_bytes` of keys and bodies.
    pub fn new(max_bytes: usize) -> Self {
        ResponseCache {
            inner: std::sync::Mutex::new(Inner {
                entries: LruCache::unbounded(),
                bytes: 0,
            }),
            max_bytes,
        }
    }

    /// The answer stored under `key`, if it is still fresh at `now_ms`.
    pub fn get(&self, key: &str, now_ms: u64) -> Option<Cached> {
        let mut inner = crate::lock(&self.inner);
        let hit = inner.entries.get(key)?.clone();
        if hit.expires > now_ms {
            return Some(hit);
        }
        if let Some(old) = inner.entries.pop(key) {
            inner.bytes -= cost(key, &old);
        }
        None
    }

    /// Keeps a `200` answer whose `Cache-Control` is `public, max-age=N` (N > 0) for N
    /// seconds; ignores anything else, and bodies over an eighth of the budget.
    pub fn put(
        &self,
        key: String,
        (status, headers): (StatusCode, &HeaderMap),
        body: &Bytes,
        now_ms: u64,
    ) {
        let Some(max_age) = public_max_age(headers) else {
            return;
        };
        if status != StatusCode::OK || body.len() > self.max_bytes / 8 {
            return;
        }
        let (Some(content_type), Some(cache_control)) = (
            headers.get(header::CONTENT_TYPE),
            headers.get(header::CACHE_CONTROL),
        ) else {
            return;
        };
        let entry = Cached {
            content_type: content_type.clone(),
            cache_control: cache_control.clone(),
            body: body.clone(),
            expires: now_ms.saturating_add(max_age.saturating_mul(1000)),
        };
        let mut inner = crate::lock(&self.inner);
        inner.bytes += cost(&key, &entry);
        if let Some(old) = inner.entries.put(key.clone(), entry) {
            inner.bytes -= cost(&key, &old);
        }
        while inner.bytes > self.max_bytes {
            match inner.entries.pop_lru() {
                Some((k, v)) => inner.bytes -= cost(&k, &v),
                None => break,
            }
        }
    }

    /// Whether answers are kept at all (`--cache-bytes 0` turns the cache off, and with it
    /// the per-request key).
    ///
    /// ```
    /// use wa_server_example::cache::ResponseCache;
    /// assert!(ResponseCache::new(64 * 1024 * 1024).enabled());
    /// assert!(!ResponseCache::new(0).enabled());
    /// ```
    pub fn enabled(&self) -> bool {
        self.max_bytes > 0
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        crate::lock(&self.inner).bytes
    }
}

fn public_max_age(headers: &HeaderMap) -> Option<u64> {
    let cc = headers.get(header::CACHE_CONTROL)?.to_str().ok()?;
    let mut public = false;
    let mut max_age = None;
    for part in cc.split(',').map(str::trim) {
        if part.eq_ignore_ascii_case("public") {
            public = true;
        } else if let Some(v) = part.strip_prefix("max-age=") {
            max_age = v.parse::<u64>().ok();
        }
    }
    max_age.filter(|&n| public && n > 0)
}

/// The cache key of a request: its path and its query's parameters, decoded and sorted.
/// `None` when the query cannot be decoded (the handler reports that).
///
/// Decoded names and values are written back with `%`, `&` and `=` escaped, so a value
/// that holds `&size=64` cannot stand for a request that gives `size` itself.
pub fn key(path: &str, query: Option<&str>) -> Option<String> {
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::new();
    let mut len = path.len();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s| crate::extract::decode_cow(s).ok();
        let (k, v) = (decode(k)?, decode(v)?);
        len += 2 + k.len() + v.len();
        pairs.push((k, v));
    }
    pairs.sort_unstable();
    let mut out = String::with_capacity(len + 8);
    out.push_str(path);
    for (i, (k, v)) in pairs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        push_escaped(&mut out, k);
        out.push('=');
        push_escaped(&mut out, v);
    }
    Some(out)
}

/// Writes `s` with `%`, `&` and `=` percent-escaped and every other character as is (a
/// `percent_encoding` set would also escape all non-ASCII, changing every such key).
fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '&' => out.push_str("%26"),
            '=' => out.push_str("%3D"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cc: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cc));
        h
    }

    #[test]
    fn keys_normalise_order_and_encoding() {
        assert_eq!(
            key("/api/v1/qr", Some("username=joao.silva&color=%2325d366")),
            key("/api/v1/qr", Some("color=#25d366&username=joao.silva"))
        );
        assert_ne!(
            key("/api/v1/qr", Some("color=ff000080")),
            key("/api/v1/qr", Some("color=ff0000")),
            "every option is part of the key"
        );
        assert_eq!(key("/x", Some("a=%ff")), None);
        assert_ne!(
            key("/api/v1/qr", Some("data=hello%26format%3Dsvg")),
            key("/api/v1/qr", Some("data=hello&format=svg")),
            "a value holding `&name=` is not two parameters"
        );
        assert_ne!(key("/x", Some("a=%253D")), key("/x", Some("a=%3D")));
        assert_eq!(
            key("/x", Some("b=1+2&a=%C3%A1")).as_deref(),
            Some("/x?a=á&b=1 2")
        );
    }

    #[test]
    fn bounded_in_bytes_fresh_and_only_public() {
        let c = ResponseCache::new(64 * 1024);
        let body = Bytes::from(vec![0u8; 4096]);
        let public = headers("public, max-age=60");
        for i in 0..100 {
            c.put(format!("k{i}"), (StatusCode::OK, &public), &body, 0);
        }
        assert!(c.bytes() <= 64 * 1024, "{}", c.bytes());
        assert!(c.get("k99", 0).is_some() && c.get("k0", 0).is_none());
        assert!(c.get("k99", 60_000).is_none(), "stale after max-age");
        let private = headers("private, no-cache");
        c.put("private".into(), (StatusCode::OK, &private), &body, 0);
        c.put("err".into(), (StatusCode::BAD_REQUEST, &public), &body, 0);
        assert!(c.get("private", 0).is_none() && c.get("err", 0).is_none());
    }
}
