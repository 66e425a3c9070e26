//! `ApiError`: every failure becomes `{"error":{"code","message"}}` with one status per code.
//!
//! Codes of the server itself (the crates' codes pass through unchanged):
//!
//! | code | status | meaning |
//! |---|---|---|
//! | `query_unknown_parameter` | 400 | a parameter the endpoint does not take |
//! | `query_repeated_parameter` | 400 | a parameter given twice |
//! | `query_invalid_encoding` | 400 | a parameter is not valid percent-encoded UTF-8 |
//! | `query_too_long` | 414 | the query string is over 4 KiB |
//! | `query_missing_parameter` | 400 | a required parameter is missing or empty |
//! | `query_invalid_parameter` | 400 | a parameter's value is not one the endpoint accepts |
//! | `query_conflicting_parameters` | 400 | parameters that exclude each other |
//! | `rate_limited` | 429 | too many requests from this client; see `Retry-After` |
//! | `not_found` | 404 | no such endpoint |
//! | `method_not_allowed` | 405 | the endpoint exists but not for this method |
//! | `internal_error` | 500 | a bug; logged, never detailed |

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Codes the server adds to the crates' codes.
pub const SERVER_CODES: &[(&str, u16)] = &[
    // keep in step with the table above
    ("query_unknown_parameter", 400),
    ("query_repeated_parameter", 400),
    ("query_invalid_encoding", 400),
    ("query_too_long", 414),
    ("query_missing_parameter", 400),
    ("query_invalid_parameter", 400),
    ("query_conflicting_parameters", 400),
    ("rate_limited", 429),
    ("not_found", 404),
    ("method_not_allowed", 405),
    ("internal_error", 500),
];

/// An API error.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// Human message.
    pub message: String,
}

/// The body of every error.
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

impl ApiError {
    /// An error with a server code; its status comes from [`SERVER_CODES`].
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        let status = SERVER_CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(StatusCode::BAD_REQUEST, |(_, s)| {
                StatusCode::from_u16(*s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            });
        ApiError {
            status,
            code,
            message: message.into(),
        }
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

    /// The detail for bodies and for validation responses.
    pub fn detail(&self) -> ErrorDetail {
        ErrorDetail {
            code: self.code.to_owned(),
            message: self.message.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "request failed");
        }
        let mut resp = (
            self.status,
            axum::Json(ErrorBody {
                error: self.detail(),
            }),
        )
            .into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

impl From<wa_validate::Error> for ApiError {
    fn from(e: wa_validate::Error) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<wa_links::Error> for ApiError {
    fn from(e: wa_links::Error) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<wa_qr::Error> for ApiError {
    fn from(e: wa_qr::Error) -> Self {
        let status = match e.code() {
            "qr_png_encoding" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError {
            status,
            code: e.code(),
            message: e.to_string(),
        }
    }
}
