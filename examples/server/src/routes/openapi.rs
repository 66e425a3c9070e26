//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, generated from the handlers.

use std::sync::OnceLock;

use axum::response::Response;
use utoipa::OpenApi;

use super::cached_json;
use crate::error::{ErrorBody, ErrorDetail};

/// The document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "wa-kit API",
        description = "WhatsApp links, validation and QR codes. No key; CORS on; per-IP rate limits with \
X-RateLimit-Limit / X-RateLimit-Remaining / X-RateLimit-Reset on every response and 429 + Retry-After when exceeded. \
Identical requests (the same parameters in any order or encoding) within an answer's `max-age` are served from the \
server's cache (`X-Cache: hit`) and, like `304 Not Modified` answers to `If-None-Match`, do not count against the limit. \
Errors are `{\"error\":{\"code\",\"message\"}}` with stable codes.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    paths(
        super::links::username_link,
        super::links::phone_link,
        super::validate::username,
        super::validate::key,
        super::validate::phone,
        super::qr::qr,
        super::short::short_link,
        openapi_json,
        super::health::healthz,
        super::health::readyz,
        crate::metrics::metrics_text,
        crate::send::accounts::register,
        crate::send::accounts::me,
        crate::send::accounts::rotate_key,
        crate::send::accounts::put_credentials,
        crate::send::accounts::delete_credentials,
        crate::send::accounts::verify_credentials,
        crate::send::accounts::put_webhook,
        crate::send::accounts::delete_webhook,
        crate::send::messages::send_message,
        crate::send::messages::bulk,
        crate::send::messages::get_one,
        crate::send::messages::list,
        crate::send::messages::cancel,
        crate::send::messages::retry,
        crate::send::messages::summary,
        crate::send::admin::set_plan,
        crate::send::admin::set_status,
        crate::meta::handshake,
        crate::meta::events,
        crate::verification::issue,
        crate::verification::get_one,
        crate::verification::get_defaults,
        crate::verification::put_defaults,
    ),
    modifiers(&ApiKeyScheme, &PublicOperations),
    servers((url = "/", description = "This server")),
    components(schemas(
        ErrorBody,
        ErrorDetail,
        super::qr::QrFormat,
        super::qr::QrStyle,
        crate::error::SendErrorBody,
        crate::error::FieldError,
        wa_send::webhook::outgoing::StatusEvent,
        wa_send::webhook::outgoing::StatusEventData,
    )),
    tags(
        (name = "links", description = "Click-to-chat links"),
        (name = "validate", description = "Validation of usernames, keys and phone numbers"),
        (name = "qr", description = "QR codes"),
        (name = "meta", description = "This document"),
        (name = "health", description = "Probes"),
        (name = "accounts", description = "Accounts, API keys, credentials and webhook targets"),
        (name = "messages", description = "The send API: queue, lifecycle, bulk, idempotency, analytics"),
        (name = "admin", description = "Operator API (WA_ADMIN_TOKEN)"),
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
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Marks every operation that declares no scheme as public (`security: []`), so a
/// generated client sends no key there.
#[derive(Debug)]
struct PublicOperations;

impl utoipa::Modify for PublicOperations {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.head,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                op.security.get_or_insert_with(Vec::new);
            }
        }
    }
}

/// The OpenAPI 3.1 `webhooks` section: what this server POSTs to customers — the status
/// event (to the account's webhook URL) and the verification callback (to the
/// `callback_url` given at issue time) — with their Standard Webhooks signature headers.
fn webhooks() -> serde_json::Value {
    let headers = serde_json::json!([
        {"name": "webhook-id", "in": "header", "required": true, "description": "Stable id of this event; retries carry the same id", "schema": {"type": "string"}},
        {"name": "webhook-timestamp", "in": "header", "required": true, "description": "Unix seconds when it was signed", "schema": {"type": "string"}},
        {"name": "webhook-signature", "in": "header", "required": true, "description": "`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the account's `whsec_` secret", "schema": {"type": "string"}},
    ]);
    let hook = |id: &str, summary: &str, schema: &str| {
        serde_json::json!({"post": {
            "operationId": id,
            "security": [],
            "summary": summary,
            "parameters": headers,
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}},
            "responses": {
                "200": {"description": "Received (any 2xx); anything else is retried with the same `webhook-id`"},
                "204": {"description": "Received"}
            }
        }})
    };
    serde_json::json!({
        "messageStatusUpdated": hook("messageStatusUpdated", "A message changed status (`message.status_updated`)", "StatusEvent"),
        "verificationCallback": hook("verificationCallback", "A verification finished (validated, expired or failed)", "VerificationBody"),
    })
}

/// The document as JSON (built once).
pub fn document() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        let mut text = doc.info.description.take().unwrap_or_default();
        text.push_str("\n\n## Error codes\n\nEvery code of every API with its HTTP status (codes in `details[]` of a `body_invalid` error are marked so).\n\n| code | status | meaning |\n|---|---|---|\n");
        for (code, status, meaning) in crate::error::all_codes() {
            text.push_str(&format!("| `{code}` | {} | {meaning} |\n", status.as_u16()));
        }
        doc.info.description = Some(text);
        let mut value = serde_json::to_value(doc).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.insert("webhooks".to_owned(), webhooks());
        }
        value
    })
}

/// The OpenAPI document.
#[utoipa::path(
    get, path = "/api/v1/openapi.json", tag = "meta", operation_id = "getOpenApiDocument",
    responses(
        (status = 200, description = "OpenAPI 3.1 document", body = HashMap<String, serde_json::Value>),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "`query_*` codes", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    )
)]
pub async fn openapi_json() -> Response {
    cached_json(document(), "public, max-age=3600")
}
