//! Short links: `GET /{username}` and `GET /{digits}` (the `shortLink` of the link API's
//! answers) redirect to the wa.me link.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::IntoParams;
use wa_links::Link;
use wa_validate::{Phone, Username};

use crate::error::{ApiError, ErrorBody};
use crate::extract::{QuerySpec, StrictQuery};
use crate::state::AppState;

/// First path segments that belong to the server, never to a short link (matched without
/// regard to case). Routes with these names answer for themselves; the rest are 404.
pub const RESERVED: &[&str] = &[
    "api",
    "auth",
    "messages",
    "send-message",
    "analytics",
    "admin",
    "webhooks",
    "healthz",
    "readyz",
    "metrics",
    "docs",
    "openapi.json",
    "llms.txt",
    "robots.txt",
    "favicon.ico",
    "static",
    "assets",
    "index.html",
    "well-known",
    ".well-known",
];

/// Parameters of a short link.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; values are read through `StrictQuery`
pub struct ShortLinkParams {
    /// Optional text to prefill.
    text: Option<String>,
}

impl QuerySpec for ShortLinkParams {
    const ALLOWED: &'static [&'static str] = &["text"];
}

/// The wa.me link a short link stands for, if `segment` is one.
fn target(segment: &str) -> Option<Link> {
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(segment)) {
        return None;
    }
    if segment.bytes().all(|b| b.is_ascii_digit()) {
        return Phone::parse(&format!("+{segment}"))
            .ok()
            .map(|p| Link::phone(&p));
    }
    Username::parse(segment).ok().map(|u| Link::username(&u))
}

/// Redirect a short link (`<public base>/<username>` or `<public base>/<digits>`) to its
/// wa.me link.
#[utoipa::path(
    get, path = "/{short}", tag = "links", operation_id = "shortLink",
    params(
        ("short" = String, Path, description = "A WhatsApp username or a phone number's digits (E.164 without `+`)"),
        ShortLinkParams,
    ),
    responses(
        (status = 302, description = "To the wa.me link (`Location`)"),
        (status = 400, description = "`query_*` codes", body = ErrorBody),
        (status = 404, description = "`not_found`: not a valid username or phone number, or a reserved path", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    )
)]
pub async fn short_link(
    State(_state): State<AppState>,
    Path(segment): Path<String>,
    q: StrictQuery<ShortLinkParams>,
) -> Result<Response, ApiError> {
    let mut link = target(&segment)
        .ok_or_else(|| ApiError::new("not_found", "no such endpoint or short link"))?;
    if let Some(text) = q.get("text") {
        link = link.text(text);
    }
    let location = HeaderValue::from_str(&link.wa_me())
        .map_err(|_| ApiError::new("internal_error", "unrepresentable link"))?;
    let mut resp = StatusCode::FOUND.into_response();
    resp.headers_mut().insert(header::LOCATION, location);
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(resp)
}
