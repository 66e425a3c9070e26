//! `GET /api/v1/username-link` and `GET /api/v1/phone-link`.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use wa_links::Link;
use wa_validate::{Username, UsernameKey};

use super::cached_json;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{QuerySpec, StrictQuery};
use crate::state::AppState;

/// Parameters of `/api/v1/username-link`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; values are read through `StrictQuery`
pub struct UsernameLinkParams {
    /// WhatsApp username, with or without `@` (3–35 characters).
    #[param(min_length = 1)]
    username: String,
    /// Optional username key: the documented 4–8 letters/digits (WhatsApp generates 4 digits).
    key: Option<String>,
    /// Optional text to prefill.
    text: Option<String>,
}

impl QuerySpec for UsernameLinkParams {
    const ALLOWED: &'static [&'static str] = &["username", "key", "text"];
}

/// A username link.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsernameLinkResponse<'a> {
    /// The normalised username (lowercase, no `@`).
    username: &'a str,
    /// `https://wa.me/<username>` with the prefilled text.
    link: String,
    /// `<public base URL>/<username>`.
    short_link: String,
    /// The key, normalised, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    /// Whether the key has WhatsApp's current 4-digit format (only with `key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    key_whatsapp_format: Option<bool>,
    /// How username links behave today (configurable).
    notice: &'a str,
    /// When the notice was last reviewed (YYYY-MM-DD).
    notice_date: &'a str,
}

/// A link to a username.
#[utoipa::path(
    get, path = "/api/v1/username-link", tag = "links", operation_id = "usernameLink", params(UsernameLinkParams),
    responses(
        (status = 200, description = "The link", body = UsernameLinkResponse<'_>),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "`username_*`, `username_key_*`, `query_*` codes", body = ErrorBody),
        (status = 414, description = "`query_too_long`", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    )
)]
pub async fn username_link(
    State(state): State<AppState>,
    q: StrictQuery<UsernameLinkParams>,
) -> Result<Response, ApiError> {
    let username = Username::parse(q.require("username")?)?;
    let key = q.get("key").map(UsernameKey::parse).transpose()?;
    let mut link = Link::username(&username);
    if let Some(text) = q.get("text") {
        link = link.text(text);
    }
    let body = UsernameLinkResponse {
        username: username.as_str(),
        link: link.wa_me(),
        short_link: short_link(&state, &link)?,
        key_whatsapp_format: key.as_ref().map(UsernameKey::is_whatsapp_format),
        key: key.as_ref().map(UsernameKey::as_str),
        notice: &state.config.username_notice,
        notice_date: &state.config.username_notice_date,
    };
    Ok(cached_json(&body, super::FIVE_MINUTES))
}

/// Parameters of `/api/v1/phone-link`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; values are read through `StrictQuery`
pub struct PhoneLinkParams {
    /// A phone number in any human format: `+1 (415) 555-2671`, `00351…`, or national with `region`.
    #[param(min_length = 1)]
    phone: String,
    /// Optional text to prefill.
    text: Option<String>,
    /// ISO 3166-1 alpha-2 region for national numbers (e.g. `GB`).
    region: Option<String>,
}

impl QuerySpec for PhoneLinkParams {
    const ALLOWED: &'static [&'static str] = &["phone", "text", "region"];
}

/// Every link form for a phone number.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PhoneLinkResponse<'a> {
    /// E.164 (`+14155552671`).
    phone: &'a str,
    /// `https://wa.me/<digits>?text=…`.
    link: String,
    /// `https://api.whatsapp.com/send?phone=<digits>&text=…`.
    api_link: String,
    /// `whatsapp://send?phone=<digits>&text=…`.
    deep_link: String,
    /// `sms:+<digits>?body=…`.
    sms_link: String,
    /// `<public base URL>/<digits>`.
    short_link: String,
}

/// A link to a phone number.
#[utoipa::path(
    get, path = "/api/v1/phone-link", tag = "links", operation_id = "phoneLink", params(PhoneLinkParams),
    responses(
        (status = 200, description = "The links", body = PhoneLinkResponse<'_>),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "`phone_*`, `query_*` codes", body = ErrorBody),
        (status = 414, description = "`query_too_long`", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    )
)]
pub async fn phone_link(
    State(state): State<AppState>,
    q: StrictQuery<PhoneLinkParams>,
) -> Result<Response, ApiError> {
    let options = super::phone_options(q.get("region"));
    let phone = options.parse(q.require("phone")?)?;
    let mut link = Link::phone(&phone);
    if let Some(text) = q.get("text") {
        link = link.text(text);
    }
    let body = PhoneLinkResponse {
        phone: phone.e164(),
        link: link.wa_me(),
        api_link: link.api()?,
        deep_link: link.deep_link()?,
        sms_link: link.sms()?,
        short_link: short_link(&state, &link)?,
    };
    Ok(cached_json(&body, super::FIVE_MINUTES))
}

/// The short link of `link` on this server's public base (checked once at start-up).
fn short_link(state: &AppState, link: &Link) -> Result<String, ApiError> {
    let base = state
        .short_base
        .as_ref()
        .ok_or(wa_links::Error::InvalidBaseUrl)?;
    Ok(link.short_link_at(base)?)
}
