//! The routes, grouped by what they serve.

pub mod health;
pub mod links;
pub mod openapi;
pub mod pages;
pub mod qr;
pub mod short;
pub mod validate;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// `Cache-Control` of the link and validation answers: five minutes, public.
pub(crate) const FIVE_MINUTES: &str = "public, max-age=300";

/// A JSON 200 with `cache_control` (e.g. [`FIVE_MINUTES`]; the ETag layer adds the
/// validator).
pub(crate) fn cached_json<T: Serialize>(value: &T, cache_control: &'static str) -> Response {
    // One pre-sized buffer (the link responses are ~300–600 bytes) and room for the headers
    // the layers add (cache, ETag, rate limits, request id, CORS), so neither regrows.
    let mut body = Vec::with_capacity(768);
    if serde_json::to_writer(&mut body, value).is_err() {
        return crate::error::ApiError::<crate::error::LinkApi>::new(
            "internal_error",
            "the response could not be serialised",
        )
        .into_response();
    }
    let mut resp = Response::new(axum::body::Body::from(body));
    let headers = resp.headers_mut();
    headers.reserve(12);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    resp
}

/// Phone parsing options for a request's optional `region` parameter.
pub(crate) fn phone_options(region: Option<&str>) -> wa_validate::PhoneOptions {
    match region {
        Some(r) => wa_validate::PhoneOptions::new().region(r),
        None => wa_validate::PhoneOptions::new(),
    }
}
