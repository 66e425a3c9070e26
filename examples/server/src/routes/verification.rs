//! The verification API (WhatAuth-compatible): `GET /api/v1/verification_code` and
//! `GET /api/v1/verification_code/{id}`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use wa_validate::Phone;
use wa_verify::{Channel, Request, Verifier};

use crate::accounts::Account;
use crate::extract::parse_query;
use crate::send_api::{ApiFailure, SendErrorBody, SendState, send_state};
use crate::state::AppState;

type AccountVerifier = Arc<Verifier<wa_verify::MemoryStore>>;

/// The verifier of an account that already issued codes.
pub fn existing_verifier(send: &SendState, account: &str) -> Option<AccountVerifier> {
    send.verifiers
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(account)
        .cloned()
}

fn verifier_for(send: &SendState, account: &Account) -> Result<AccountVerifier, ApiFailure> {
    if let Some(v) = existing_verifier(send, &account.id) {
        return Ok(v);
    }
    let number = account
        .credentials
        .as_ref()
        .and_then(|c| c.display_phone_number().map(str::to_owned))
        .or_else(|| send.default_business_phone.clone())
        .ok_or_else(|| {
            ApiFailure::new(
                400,
                "verification_phone_missing",
                "save credentials with displayPhoneNumber (the number users write to)",
            )
        })?;
    let phone = Phone::parse(&number)?;
    let config = wa_verify::Config::new(phone).allow_insecure_callback(send.allow_private_targets);
    let verifier = Arc::new(Verifier::new(config, wa_verify::MemoryStore::new()));
    send.verifiers
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(account.id.clone(), verifier.clone());
    Ok(verifier)
}

const PARAMS: &[&str] = &[
    "callback_url",
    "expires_at",
    "authorized_numbers",
    "link_message",
    "expiration_message",
    "failure_message",
    "response_message",
    "qr",
    "channel",
];

/// Issue a code the user sends to the business on WhatsApp (WhatAuth's parameters and response).
#[utoipa::path(
    get, path = "/api/v1/verification_code", tag = "verification",
    params(
        ("callback_url" = Option<String>, Query, description = "Receives the signed result (POST, expects 200/204)"),
        ("expires_at" = Option<u32>, Query, description = "Lifetime in minutes (≥ 1)"),
        ("authorized_numbers" = Option<String>, Query, description = "Comma-separated numbers allowed to validate"),
        ("link_message" = Option<String>, Query, description = "Text after the code in the preset message"),
        ("expiration_message" = Option<String>, Query, description = "Reply for an expired code"),
        ("failure_message" = Option<String>, Query, description = "Reply when the callback fails"),
        ("response_message" = Option<String>, Query, description = "Reply on success"),
        ("qr" = Option<String>, Query, description = "`1` or `true`: also return a QR"),
        ("channel" = Option<String>, Query, description = "`whatsapp` (default) or `sms`"),
    ),
    responses(
        (status = 200, description = "`{id, code, link, qr, deep_link, expires_at}`", body = Object),
        (status = 400, description = "`verify_*`, `verification_phone_missing`, `query_*`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`, `verify_rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn issue(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    uri: Uri,
) -> Result<Response, ApiFailure> {
    let send = send_state(&state)?;
    let q = parse_query(uri.query().unwrap_or(""), PARAMS)
        .map_err(|e| ApiFailure::new(e.status.as_u16(), e.code, e.message))?;
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty()).cloned();
    let mut req = Request {
        callback_url: get("callback_url"),
        authorized_numbers: get("authorized_numbers")
            .map(|s| {
                s.split(',')
                    .map(|n| n.trim().to_owned())
                    .filter(|n| !n.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        link_message: get("link_message"),
        expiration_message: get("expiration_message"),
        failure_message: get("failure_message"),
        response_message: get("response_message"),
        qr: matches!(get("qr").as_deref(), Some("1" | "true")),
        ..Request::default()
    };
    if let Some(m) = get("expires_at") {
        req.expires_at = Some(m.parse().map_err(|_| {
            ApiFailure::new(
                400,
                "query_invalid_parameter",
                "`expires_at` must be whole minutes",
            )
        })?);
    }
    req.channel = match get("channel").as_deref() {
        None | Some("whatsapp") => Channel::Whatsapp,
        Some("sms") => Channel::Sms,
        Some(_) => {
            return Err(ApiFailure::new(
                400,
                "query_invalid_parameter",
                "`channel` must be whatsapp or sms",
            ));
        }
    };
    let verifier = verifier_for(&send, &account)?;
    let issued = verifier.issue(&account.id, &req).map_err(|e| {
        let status = if e.code() == "verify_rate_limited" {
            429
        } else {
            400
        };
        ApiFailure::new(status, e.code(), e.to_string())
    })?;
    Ok(axum::Json(serde_json::to_value(&issued).unwrap_or_default()).into_response())
}

/// The state of one verification (the callback body's fields).
#[utoipa::path(
    get, path = "/api/v1/verification_code/{id}", tag = "verification",
    params(("id" = String, Path, description = "Verification id")),
    responses(
        (status = 200, description = "`{id, status, verification_code, phone_number, profile_name, expires_at, requested_at, validated_at, authorized_numbers, error}`", body = Object),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 404, description = "`verify_not_found`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get_one(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Path(id): Path<String>,
) -> Result<Response, ApiFailure> {
    let send = send_state(&state)?;
    let not_found = || ApiFailure::new(404, "verify_not_found", "no such verification");
    let verifier = existing_verifier(&send, &account.id).ok_or_else(not_found)?;
    let v = verifier.get(&id).map_err(|_| not_found())?;
    if v.app_id != account.id {
        return Err(not_found());
    }
    Ok((StatusCode::OK, axum::Json(json!(v.callback_payload()))).into_response())
}
