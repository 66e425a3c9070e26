//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, generated from the handlers.

use std::sync::OnceLock;

use axum::response::Response;
use utoipa::OpenApi;

use super::cached_json;
use crate::error::{ErrorBody, ErrorDetail, SERVER_CODES};

/// The document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "wa-kit API",
        description = "WhatsApp links, validation and QR codes. No key; CORS on; per-IP rate limits with \
X-RateLimit-Limit / X-RateLimit-Remaining / X-RateLimit-Reset on every response and 429 + Retry-After when exceeded. \
Errors are `{\"error\":{\"code\",\"message\"}}` with stable codes.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        super::links::username_link,
        super::links::phone_link,
        super::validate::username,
        super::validate::key,
        super::validate::phone,
        super::qr::qr,
        openapi_json,
        super::health::healthz,
        super::health::readyz,
        super::account::register,
        super::account::me,
        super::account::rotate_key,
        super::account::put_credentials,
        super::account::delete_credentials,
        super::account::verify_credentials,
        super::account::put_webhook,
        super::send::send_message,
        super::send::bulk,
        super::send::get_message,
        super::send::list,
        super::send::cancel,
        super::inbound::handshake,
        super::inbound::events,
        super::verification::issue,
        super::verification::get_one,
    ),
    modifiers(&ApiKeyScheme),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        super::qr::QrFormat,
        super::qr::QrStyle,
        crate::send_api::SendErrorBody,
        crate::send_api::FieldError,
        super::send::MessageView,
        super::send::TimelineView,
    )),
    tags(
        (name = "links", description = "Click-to-chat links"),
        (name = "validate", description = "Validation of usernames, keys and phone numbers"),
        (name = "qr", description = "QR codes"),
        (name = "meta", description = "This document"),
        (name = "health", description = "Probes"),
        (name = "accounts", description = "Accounts, API keys, credentials and webhook targets"),
        (name = "send", description = "The send API: queue, lifecycle, bulk, idempotency"),
        (name = "verification", description = "Reverse-OTP verification (WhatAuth-compatible)"),
    )
)]
pub struct ApiDoc;

/// Declares the `api_key` bearer scheme the send API uses.
#[derive(Debug)]
struct ApiKeyScheme;

impl utoipa::Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sk_live_<48 hex>")
                    .build(),
            ),
        );
    }
}

/// The document as JSON (built once).
pub fn document() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        let mut text = doc.info.description.take().unwrap_or_default();
        text.push_str("\n\n## Error codes\n\n| code | status | meaning |\n|---|---|---|\n");
        for (code, status) in SERVER_CODES.iter().chain(crate::send_api::SEND_API_CODES) {
            text.push_str(&format!(
                "| `{code}` | {status} | see the server's error module |\n"
            ));
        }
        let crates = [
            wa_validate::Error::ALL_CODES,
            wa_links::Error::ALL_CODES,
            wa_qr::Error::ALL_CODES,
        ];
        for (code, meaning) in crates.iter().flat_map(|c| c.iter()) {
            let status = if *code == "qr_png_encoding" { 500 } else { 400 };
            text.push_str(&format!("| `{code}` | {status} | {meaning} |\n"));
        }
        let send_codes = wa_send::MessageError::ALL_CODES
            .iter()
            .chain(wa_send::DeliveryError::ALL_CODES)
            .chain(wa_send::SendError::ALL_CODES)
            .chain(wa_send::WebhookError::ALL_CODES)
            .chain(wa_send::outbound::OutboundWebhookError::ALL_CODES);
        for code in send_codes {
            text.push_str(&format!("| `{code}` | see each operation | wa-send |\n"));
        }
        for code in crate::send_api::FIELD_CODES {
            text.push_str(&format!(
                "| `{code}` | in `details[]` of `body_invalid` | send API |\n"
            ));
        }
        doc.info.description = Some(text);
        serde_json::to_value(doc).unwrap_or_default()
    })
}

/// The OpenAPI document.
#[utoipa::path(
    get, path = "/api/v1/openapi.json", tag = "meta",
    responses(
        (status = 200, description = "OpenAPI 3.1 document", body = Object),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "`query_*` codes", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    )
)]
pub async fn openapi_json() -> Response {
    cached_json(document(), 3600)
}
