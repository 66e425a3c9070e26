//! The verification API (WhatAuth-compatible): `GET /api/v1/verification_code`,
//! `GET /api/v1/verification_code/{id}` and `GET|PUT /api/v1/verification_defaults`.
//! Verifications live in the server's database ([`store`]), so any replica can settle a
//! code another issued, and a restart forgets nothing.
//!
//! | file | what it owns |
//! |---|---|
//! | `mod.rs` | the routes and their handlers |
//! | `dto.rs` | the bodies |
//! | `flow.rs` | inbound messages, callbacks and their outcomes, the expiry sweep |
//! | `store.rs` | the SQL [`wa_verify::VerificationStore`] |

pub mod dto;
pub mod flow;
pub mod store;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::routing::get;
use axum::{Extension, Json, Router};
use wa_validate::Phone;
use wa_verify::{Channel, Request, VerificationStore, Verifier};

use crate::error::{ApiError, SendApiError, SendErrorBody};
use crate::extract::{SendJson, parse_query};
use crate::send::SendState;
use crate::storage::Account;
use dto::{IssuedBody, NumberList, VerificationBody, VerificationDefaults};

/// The store every verifier of this server shares.
pub type SharedStore = Arc<dyn VerificationStore>;

/// The verification API's routes (behind the send API's key check).
pub fn router(send: Arc<SendState>) -> Router {
    Router::new()
        .route("/api/v1/verification_code", get(issue))
        .route("/api/v1/verification_code/{id}", get(get_one))
        .route(
            "/api/v1/verification_defaults",
            get(get_defaults).put(put_defaults),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            send.clone(),
            crate::send::auth::authenticate,
        ))
        .with_state(send)
}

/// A verifier for `account`: its business number, this server's QR endpoint, the shared
/// store. Cheap: a verifier keeps no state of its own.
pub(crate) fn verifier_for(
    send: &SendState,
    account: &Account,
) -> Result<Verifier<SharedStore>, SendApiError> {
    let number = account
        .credentials
        .as_ref()
        .and_then(|c| c.display_phone_number().map(str::to_owned))
        .or_else(|| send.config.default_business_phone.clone())
        .ok_or_else(|| {
            ApiError::new(
                "verification_phone_missing",
                "save credentials with displayPhoneNumber (the number users write to)",
            )
        })?;
    let phone = Phone::parse(&number)?;
    let private = send.config.allow_private_targets;
    let config = wa_verify::Config::new(phone)
        .allow_insecure_callback(private)
        .allow_private_callback(private)
        .qr_base_url(format!("{}/api/v1/qr", send.config.public_base()));
    Ok(Verifier::new_with(
        config,
        send.verifications.clone(),
        send.clock.clone(),
        Arc::new(wa_verify::OsRng),
    ))
}

/// The account's stored defaults (none: every parameter falls back to the built-in ones).
fn defaults_of(account: &Account) -> VerificationDefaults {
    account
        .verification_defaults
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default()
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

/// The query as a request. An empty text parameter counts as not given; `expires_at`,
/// `qr` and `channel` must hold a value when present.
fn request(uri: &Uri) -> Result<Request, SendApiError> {
    let q = parse_query(uri.query().unwrap_or(""), PARAMS).map_err(ApiError::into_family)?;
    let get = |k: &str| q.get(k).filter(|v| !v.is_empty()).cloned();
    let expires_at = q
        .get("expires_at")
        .map(|m| m.trim().parse::<u32>())
        .transpose()
        .map_err(|_| ApiError::invalid("expires_at", "whole minutes"))?;
    let qr = match q.get("qr").map(String::as_str) {
        None => None,
        Some("1" | "true") => Some(true),
        Some("0" | "false") => Some(false),
        Some(_) => return Err(ApiError::invalid("qr", "0 or 1")),
    };
    let channel = q
        .get("channel")
        .map(|c| Channel::parse(c).ok_or_else(|| ApiError::invalid("channel", "whatsapp or sms")))
        .transpose()?;
    Ok(Request {
        expires_at,
        callback_url: get("callback_url"),
        authorized_numbers: get("authorized_numbers").map(|s| NumberList::Csv(s).numbers()),
        link_message: get("link_message"),
        expiration_message: get("expiration_message"),
        failure_message: get("failure_message"),
        response_message: get("response_message"),
        qr,
        channel,
    })
}

/// Issue a verification code: the user sends it to the business on WhatsApp. Every
/// parameter not given takes the application's default (`/api/v1/verification_defaults`).
#[utoipa::path(
    get, path = "/api/v1/verification_code", tag = "verification", operation_id = "issueVerificationCode",
    params(
        ("callback_url" = Option<String>, Query, description = "HTTPS URL receiving the signed result (POST; 200 or 204 is success)"),
        ("expires_at" = Option<u32>, Query, description = "Lifetime in minutes (1 to 10)", minimum = 1, maximum = 10),
        ("authorized_numbers" = Option<String>, Query, description = "Comma-separated numbers allowed to validate"),
        ("link_message" = Option<String>, Query, description = "Text after the code in the preset message"),
        ("expiration_message" = Option<String>, Query, description = "Reply for an expired code"),
        ("failure_message" = Option<String>, Query, description = "Reply when the callback fails"),
        ("response_message" = Option<String>, Query, description = "Reply on success"),
        ("qr" = Option<String>, Query, description = "`1`: also return the URL of a QR image of the link", pattern = "^(0|1|true|false)$"),
        ("channel" = Option<String>, Query, description = "`whatsapp` (default) or `sms`", pattern = "^(whatsapp|sms)$"),
    ),
    responses(
        (status = 200, description = "The code and its links", body = IssuedBody),
        (status = 400, description = "`verify_*`, `verification_phone_missing`, `query_*`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`, `verify_rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn issue(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
    uri: Uri,
) -> Result<Json<IssuedBody>, SendApiError> {
    let req = request(&uri)?.with_defaults(&defaults_of(&account).to_request());
    let verifier = verifier_for(&send, &account)?;
    let issued = verifier.issue(&account.id, &req).await?;
    Ok(Json(issued.into()))
}

/// One verification of the calling account, in the callback's shape.
#[utoipa::path(
    get, path = "/api/v1/verification_code/{id}", tag = "verification", operation_id = "getVerification",
    params(("id" = String, Path, description = "Verification id")),
    responses(
        (status = 200, description = "The verification", body = VerificationBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 404, description = "`verify_not_found`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get_one(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
    Path(id): Path<String>,
) -> Result<Json<VerificationBody>, SendApiError> {
    let not_found = || ApiError::new("verify_not_found", "no such verification");
    let mut v = send
        .verifications
        .get(&id)
        .await
        .map_err(wa_verify::Error::from)?
        .filter(|v| v.app_id == account.id)
        .ok_or_else(not_found)?;
    v.status = v.status_at(send.now());
    Ok(Json(v.callback_payload().into()))
}

/// The application's verification defaults.
#[utoipa::path(
    get, path = "/api/v1/verification_defaults", tag = "verification", operation_id = "getVerificationDefaults",
    responses(
        (status = 200, description = "The stored defaults (`null`: the built-in default)", body = VerificationDefaults),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get_defaults(Extension(account): Extension<Account>) -> Json<VerificationDefaults> {
    Json(defaults_of(&account))
}

/// Replaces the application's verification defaults; each is checked as a request
/// parameter would be.
#[utoipa::path(
    put, path = "/api/v1/verification_defaults", tag = "verification", operation_id = "putVerificationDefaults",
    request_body = VerificationDefaults,
    responses(
        (status = 200, description = "The saved defaults", body = VerificationDefaults),
        (status = 400, description = "`body_invalid`, `verify_*`, `verification_phone_missing`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn put_defaults(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
    SendJson(defaults): SendJson<VerificationDefaults>,
) -> Result<Json<VerificationDefaults>, SendApiError> {
    // Checked as request parameters are (a callback host's addresses are checked again
    // when a callback connects).
    verifier_for(&send, &account)?.check(&defaults.to_request())?;
    let json = serde_json::to_string(&defaults)
        .map_err(|e| ApiError::new("internal_error", e.to_string()))?;
    send.accounts
        .set_verification_defaults(&account.id, json)
        .await?;
    Ok(Json(defaults))
}
