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

/// A JSON 200 with a `Cache-Control` max-age (the ETag layer adds the validator).
pub(crate) fn cached_json<T: Serialize>(value: &T, max_age_secs: u32) -> Response {
    let mut resp = axum::Json(value).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age_secs}")) {
        resp.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    resp
}

/// Phone parsing options for a request's optional `region` parameter.
pub(crate) fn phone_options(region: Option<&str>) -> wa_validate::PhoneOptions {
    match region {
        Some(r) => wa_validate::PhoneOptions::new().region(r),
        None => wa_validate::PhoneOptions::new(),
    }
}
