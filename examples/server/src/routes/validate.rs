//! `GET /api/v1/validate/{username,key,phone}`: 200 with `valid` and, when invalid, the
//! crate's error code.

use axum::response::Response;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};
use wa_validate::{Username, UsernameKey};

use super::cached_json;
use crate::error::{ApiError, ErrorBody, ErrorDetail};
use crate::extract::{QuerySpec, StrictQuery};

fn detail(e: &wa_validate::Error) -> ErrorDetail {
    ErrorDetail {
        code: e.code().to_owned(),
        message: e.to_string(),
    }
}

/// Parameters of `/api/v1/validate/username`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query
pub struct ValidateUsernameParams {
    /// The username to check.
    #[param(min_length = 1)]
    username: String,
}

impl QuerySpec for ValidateUsernameParams {
    const ALLOWED: &'static [&'static str] = &["username"];
}

/// A username check.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsernameValidation {
    /// Whether WhatsApp's rules accept it.
    valid: bool,
    /// Lowercase, without `@` (when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    normalized: Option<String>,
    /// Why not (when invalid).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorDetail>,
}

/// Checks a username.
#[utoipa::path(
    get, path = "/api/v1/validate/username", tag = "validate", operation_id = "validateUsername", params(ValidateUsernameParams),
    responses(
        (status = 200, description = "The verdict; `error.code` is a `username_*` code", body = UsernameValidation),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "`query_*` codes", body = ErrorBody),
        (status = 414, description = "`query_too_long`", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    )
)]
pub async fn username(q: StrictQuery<ValidateUsernameParams>) -> Result<Response, ApiError> {
    let body = match Username::parse(q.require("username")?) {
        Ok(u) => UsernameValidation {
            valid: true,
            normalized: Some(u.as_str().to_owned()),
            error: None,
        },
        Err(e) => UsernameValidation {
            valid: false,
            normalized: None,
            error: Some(detail(&e)),
        },
    };
    Ok(cached_json(&body, super::FIVE_MINUTES))
}

/// Parameters of `/api/v1/validate/key`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query
pub struct ValidateKeyParams {
    /// The username key to check.
    #[param(min_length = 1)]
    key: String,
}

impl QuerySpec for ValidateKeyParams {
    const ALLOWED: &'static [&'static str] = &["key"];
}

/// A username-key check.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyValidation {
    /// Whether it is 4–8 letters/digits.
    valid: bool,
    /// The key, normalised (when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    normalized: Option<String>,
    /// Whether it has WhatsApp's current 4-digit format (when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    whatsapp_format: Option<bool>,
    /// Why not (when invalid).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorDetail>,
}

/// Checks a username key.
#[utoipa::path(
    get, path = "/api/v1/validate/key", tag = "validate", operation_id = "validateUsernameKey", params(ValidateKeyParams),
    responses(
        (status = 200, description = "The verdict; `error.code` is a `username_key_*` code", body = KeyValidation),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "`query_*` codes", body = ErrorBody),
        (status = 414, description = "`query_too_long`", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    )
)]
pub async fn key(q: StrictQuery<ValidateKeyParams>) -> Result<Response, ApiError> {
    let body = match UsernameKey::parse(q.require("key")?) {
        Ok(k) => KeyValidation {
            valid: true,
            whatsapp_format: Some(k.is_whatsapp_format()),
            normalized: Some(k.as_str().to_owned()),
            error: None,
        },
        Err(e) => KeyValidation {
            valid: false,
            normalized: None,
            whatsapp_format: None,
            error: Some(detail(&e)),
        },
    };
    Ok(cached_json(&body, super::FIVE_MINUTES))
}

/// Parameters of `/api/v1/validate/phone`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query
pub struct ValidatePhoneParams {
    /// The phone number, in any human format.
    #[param(min_length = 1)]
    phone: String,
    /// ISO 3166-1 alpha-2 region for national numbers.
    region: Option<String>,
}

impl QuerySpec for ValidatePhoneParams {
    const ALLOWED: &'static [&'static str] = &["phone", "region"];
}

/// A phone check.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PhoneValidation {
    /// Whether it is a valid number (libphonenumber metadata).
    valid: bool,
    /// E.164 (when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    normalized: Option<String>,
    /// Digits for wa.me links (when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    digits: Option<String>,
    /// Country calling code (when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    country_code: Option<u16>,
    /// ISO region (when known).
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    /// `mobile`, `fixed_line`, `fixed_line_or_mobile`, `voip`, … (when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    number_type: Option<String>,
    /// Whether the line type can plausibly use WhatsApp (when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    likely_whatsapp: Option<bool>,
    /// Why not (when invalid).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorDetail>,
}

/// Checks a phone number.
#[utoipa::path(
    get, path = "/api/v1/validate/phone", tag = "validate", operation_id = "validatePhone", params(ValidatePhoneParams),
    responses(
        (status = 200, description = "The verdict; `error.code` is a `phone_*` code", body = PhoneValidation),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "`query_*` codes", body = ErrorBody),
        (status = 414, description = "`query_too_long`", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    )
)]
pub async fn phone(q: StrictQuery<ValidatePhoneParams>) -> Result<Response, ApiError> {
    let options = super::phone_options(q.get("region"));
    let body = match options.parse(q.require("phone")?) {
        Ok(p) => {
            let kind = p.number_type();
            PhoneValidation {
                valid: true,
                normalized: Some(p.e164().to_owned()),
                digits: Some(p.digits().to_owned()),
                country_code: Some(p.country_code()),
                region: p.region().map(str::to_owned),
                number_type: Some(kind.as_str().to_owned()),
                likely_whatsapp: Some(kind.is_likely_whatsapp()),
                error: None,
            }
        }
        Err(e) => PhoneValidation {
            valid: false,
            normalized: None,
            digits: None,
            country_code: None,
            region: None,
            number_type: None,
            likely_whatsapp: None,
            error: Some(detail(&e)),
        },
    };
    Ok(cached_json(&body, super::FIVE_MINUTES))
}
