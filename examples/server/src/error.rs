//! [`ApiError`]: every failure, with its HTTP status decided in one place ([`status_for`])
//! and rendered in the shape of the route family that produced it:
//!
//! | family | shape |
//! |---|---|
//! | [`LinkApi`] (link API, health, docs) | `{"error": {"code", "message"}}` |
//! | [`SendApi`] (accounts, messages, analytics, verification, Meta webhooks) | `{"success": false, "error", "code", "details"}` |
//!
//! The server's own codes are [`SERVER_CODES`]; the crates' codes pass through unchanged.
//! [`all_codes`] lists every code of the workspace with its status (the OpenAPI document's
//! table is generated from it).

use std::marker::PhantomData;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The server's own codes, with what they mean.
pub const SERVER_CODES: &[(&str, &str)] = &[
    (
        "query_unknown_parameter",
        "a parameter the endpoint does not take",
    ),
    ("query_repeated_parameter", "a parameter given twice"),
    (
        "query_invalid_encoding",
        "a parameter is not valid percent-encoded UTF-8",
    ),
    ("query_too_long", "the query string is over 4 KiB"),
    (
        "query_missing_parameter",
        "a required parameter is missing or empty",
    ),
    (
        "query_invalid_parameter",
        "a parameter's value is not one the endpoint accepts",
    ),
    (
        "query_conflicting_parameters",
        "parameters that exclude each other",
    ),
    ("rate_limited", "too many requests; see `Retry-After`"),
    ("not_found", "no such endpoint"),
    (
        "method_not_allowed",
        "the endpoint exists, but not for this method (see `Allow`)",
    ),
    ("internal_error", "a bug; logged, never detailed"),
    (
        "auth_missing",
        "no `Authorization: Bearer sk_live_…` header",
    ),
    ("auth_invalid", "the key is unknown (or was rotated)"),
    (
        "account_deactivated",
        "the operator deactivated this account",
    ),
    (
        "admin_token_invalid",
        "the operator token is missing or wrong",
    ),
    ("admin_disabled", "the server runs without `WA_ADMIN_TOKEN`"),
    ("account_not_found", "no such account (operator API)"),
    (
        "body_invalid",
        "the body is not the JSON the endpoint takes (`details` says where)",
    ),
    (
        "body_too_large",
        "the body is larger than this endpoint takes",
    ),
    (
        "request_timeout",
        "the request (its body included) took longer than the server's request timeout",
    ),
    (
        "message_type_conflict",
        "a body with both `message` and `type`",
    ),
    (
        "message_content_missing",
        "none of `message`, `template` or `type`",
    ),
    (
        "plan_bulk_cap_exceeded",
        "more messages in one bulk call than the plan allows",
    ),
    (
        "credentials_missing",
        "the account has no delivery credentials to verify",
    ),
    (
        "phone_number_id_taken",
        "another account owns this Meta phone number id",
    ),
    (
        "webhook_url_invalid",
        "the webhook URL is not http(s) or points at an internal address",
    ),
    (
        "meta_webhook_not_configured",
        "the server has no Meta app secret / verify token",
    ),
    (
        "verification_phone_missing",
        "no business number for verification links (account or server)",
    ),
    ("json_invalid", "(in `details`) the body is not valid JSON"),
    ("field_missing", "(in `details`) a required field is absent"),
    (
        "field_invalid",
        "(in `details`) a field has the wrong type or value",
    ),
    (
        "field_unknown",
        "(in `details`) a field the endpoint does not take",
    ),
];

/// The HTTP status of every code, decided here and nowhere else.
pub fn status_for(code: &str) -> StatusCode {
    match code {
        "auth_missing" | "auth_invalid" | "admin_token_invalid" => StatusCode::UNAUTHORIZED,
        "webhook_signature_missing"
        | "webhook_signature_malformed"
        | "webhook_signature_mismatch" => StatusCode::UNAUTHORIZED,
        "plan_bulk_cap_exceeded" | "admin_disabled" | "account_deactivated" => {
            StatusCode::FORBIDDEN
        }
        "webhook_mode_invalid" | "webhook_verify_token_mismatch" | "webhook_challenge_invalid" => {
            StatusCode::FORBIDDEN
        }
        "not_found" | "message_not_found" | "verify_not_found" | "account_not_found" => {
            StatusCode::NOT_FOUND
        }
        "method_not_allowed" => StatusCode::METHOD_NOT_ALLOWED,
        "idempotency_key_conflict"
        | "message_not_cancellable"
        | "message_not_retryable"
        | "phone_number_id_taken" => StatusCode::CONFLICT,
        "body_too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "request_timeout" => StatusCode::REQUEST_TIMEOUT,
        "query_too_long" => StatusCode::URI_TOO_LONG,
        "rate_limited" | "verify_rate_limited" => StatusCode::TOO_MANY_REQUESTS,
        "internal_error"
        | "store_failed"
        | "store_corrupt"
        | "dispatch_config_invalid"
        | "verify_store_failed"
        | "verify_rng_failed"
        | "verify_code_space_exhausted"
        | "qr_png_encoding" => StatusCode::INTERNAL_SERVER_ERROR,
        // A provider that failed a credential check transiently: the gateway's upstream.
        "delivery_transient"
        | "delivery_timeout"
        | "delivery_network"
        | "delivery_malformed_response"
        | "delivery_rate_limited" => StatusCode::BAD_GATEWAY,
        "circuit_open" | "meta_webhook_not_configured" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// Every code of the workspace (the crates' and the server's) with its status and meaning.
pub fn all_codes() -> Vec<(&'static str, StatusCode, &'static str)> {
    let tables: [&[(&'static str, &'static str)]; 12] = [
        SERVER_CODES,
        wa_validate::Error::ALL_CODES,
        wa_links::Error::ALL_CODES,
        wa_qr::Error::ALL_CODES,
        wa_verify::Error::ALL_CODES,
        wa_send::MessageError::ALL_CODES,
        wa_send::DeliveryError::ALL_CODES,
        wa_send::SendError::ALL_CODES,
        wa_send::WebhookError::ALL_CODES,
        wa_send::webhook::outgoing::OutboundWebhookError::ALL_CODES,
        wa_send::queue::StoreError::ALL_CODES,
        &[
            (
                "delivery_outcome_unknown",
                "(on a message) the process died before recording the provider's answer",
            ),
            (
                "backend_unavailable",
                "(on a message) the account has no delivery backend",
            ),
        ],
    ];
    tables
        .iter()
        .flat_map(|t| t.iter())
        .map(|(code, meaning)| (*code, status_for(code), *meaning))
        .collect()
}

/// One field's problem in a `body_invalid` error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field, e.g. `text.body` or `messages[3].to`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// The stable code of the problem.
    pub code: String,
}

/// A failure of any route.
#[derive(Debug, Clone)]
pub struct ApiError<F = LinkApi> {
    /// The HTTP status ([`status_for`] of the code).
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// Human message.
    pub message: String,
    /// Per-field problems.
    pub details: Vec<FieldError>,
    /// `Retry-After` seconds.
    pub retry_after: Option<u64>,
    /// `Allow` (for 405).
    pub allow: Option<String>,
    family: PhantomData<F>,
}

/// The link API's shape: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, Copy)]
pub struct LinkApi;

/// The send API's shape: `{"success": false, "error", "code", "details"}`.
#[derive(Debug, Clone, Copy)]
pub struct SendApi;

/// A link-API error.
pub type LinkError = ApiError<LinkApi>;
/// A send-API error.
pub type SendApiError = ApiError<SendApi>;

/// The body of a link-API error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error's code and message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (never renamed).
    pub code: String,
    /// Human-readable message (may change).
    pub message: String,
}

/// The body of a send-API error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SendErrorBody {
    /// Always `false`.
    pub success: bool,
    /// Human message.
    pub error: String,
    /// Stable code.
    pub code: String,
    /// Per-field problems (validation errors).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldError>,
}

/// How a family renders an error.
pub trait Family: Send + Sync + 'static {
    /// The JSON body.
    fn body<F>(e: &ApiError<F>) -> serde_json::Value;
}

impl Family for LinkApi {
    fn body<F>(e: &ApiError<F>) -> serde_json::Value {
        serde_json::to_value(ErrorBody {
            error: ErrorDetail {
                code: e.code.to_owned(),
                message: e.message.clone(),
            },
        })
        .unwrap_or_default()
    }
}

impl Family for SendApi {
    fn body<F>(e: &ApiError<F>) -> serde_json::Value {
        serde_json::to_value(SendErrorBody {
            success: false,
            error: e.message.clone(),
            code: e.code.to_owned(),
            details: e.details.clone(),
        })
        .unwrap_or_default()
    }
}

impl<F> ApiError<F> {
    /// An error with `code`; its status comes from [`status_for`].
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status: status_for(code),
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
            allow: None,
            family: PhantomData,
        }
    }

    /// A 400 `body_invalid` with one field detail.
    pub fn field(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut e = ApiError::new("body_invalid", format!("invalid request body: {message}"));
        e.details.push(FieldError {
            field: field.into(),
            message,
            code: code.to_owned(),
        });
        e
    }

    /// A missing required parameter.
    pub fn missing(name: &str) -> Self {
        ApiError::new(
            "query_missing_parameter",
            format!("the `{name}` parameter is required"),
        )
    }

    /// A parameter value the endpoint does not accept.
    pub fn invalid(name: &str, expected: &str) -> Self {
        ApiError::new(
            "query_invalid_parameter",
            format!("`{name}` must be {expected}"),
        )
    }

    /// With `Retry-After`.
    #[must_use]
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// The same error in another family's shape.
    pub fn into_family<G>(self) -> ApiError<G> {
        ApiError {
            status: self.status,
            code: self.code,
            message: self.message,
            details: self.details,
            retry_after: self.retry_after,
            allow: self.allow,
            family: PhantomData,
        }
    }

    /// The code and message (validation responses embed them).
    pub fn detail(&self) -> ErrorDetail {
        ErrorDetail {
            code: self.code.to_owned(),
            message: self.message.clone(),
        }
    }
}

impl<F: Family> IntoResponse for ApiError<F> {
    fn into_response(self) -> Response {
        if self.status.is_server_error() && self.status != StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(code = self.code, message = %self.message, "request failed");
        }
        let mut resp = (self.status, axum::Json(F::body(&self))).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if let Some(allow) = self
            .allow
            .as_deref()
            .and_then(|a| HeaderValue::from_str(a).ok())
        {
            h.insert(header::ALLOW, allow);
        }
        resp
    }
}

macro_rules! from_crate_error {
    ($($ty:ty),* $(,)?) => {$(
        impl<F> From<$ty> for ApiError<F> {
            fn from(e: $ty) -> Self {
                ApiError::new(e.code(), e.to_string())
            }
        }
    )*};
}

from_crate_error!(
    wa_validate::Error,
    wa_links::Error,
    wa_qr::Error,
    wa_verify::Error,
    wa_send::DeliveryError,
    wa_send::WebhookError,
    wa_send::queue::StoreError,
    wa_send::webhook::outgoing::OutboundWebhookError,
);

impl<F> From<wa_send::SendError> for ApiError<F> {
    fn from(e: wa_send::SendError) -> Self {
        let mut out = ApiError::new(e.code(), e.to_string());
        if let wa_send::SendError::CircuitOpen { retry_after_ms } = e {
            out = out.retry_after(retry_after_ms.div_ceil(1000));
        }
        if let wa_send::SendError::Invalid(m) = &e {
            out.details.push(FieldError {
                field: m.field().unwrap_or("message").to_owned(),
                message: m.to_string(),
                code: m.code().to_owned(),
            });
        }
        if matches!(
            e,
            wa_send::SendError::SendAtInPast | wa_send::SendError::SendAtTooFar { .. }
        ) {
            out.details.push(FieldError {
                field: "sendAt".to_owned(),
                message: e.to_string(),
                code: e.code().to_owned(),
            });
        }
        out
    }
}

impl<F> From<crate::storage::AccountError> for ApiError<F> {
    fn from(e: crate::storage::AccountError) -> Self {
        match e {
            crate::storage::AccountError::Store(s) => s.into(),
            crate::storage::AccountError::PhoneNumberIdTaken => {
                ApiError::new("phone_number_id_taken", e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_unique_and_has_a_status() {
        let all = all_codes();
        let mut codes: Vec<&str> = all.iter().map(|(c, _, _)| *c).collect();
        codes.sort_unstable();
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n, "codes collide");
        assert_eq!(status_for("message_not_found"), StatusCode::NOT_FOUND);
        assert_eq!(status_for("phone_empty"), StatusCode::BAD_REQUEST);
    }
}
