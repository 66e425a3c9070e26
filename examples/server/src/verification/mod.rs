//! The verification API (WhatAuth-compatible): `GET /api/v1/verification_code` and
//! `GET /api/v1/verification_code/{id}`, the inbound messages that carry codes, and the
//! callbacks whose outcome decides the user's reply.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use wa_send::queue::{DeliveryKind, WebhookDelivery, WebhookState};
use wa_send::{Content, EnqueueRequest, Outbound, Recipient};
use wa_validate::Phone;
use wa_verify::{Channel, Request, Verifier};

use crate::error::{ApiError, SendApiError, SendErrorBody};
use crate::extract::parse_query;
use crate::send::SendState;
use crate::storage::Account;

type AccountVerifier = Arc<Verifier<wa_verify::MemoryStore>>;

/// Pending verifications, per account.
#[derive(Debug, Default)]
pub struct Verifications {
    verifiers: Mutex<HashMap<String, AccountVerifier>>,
}

impl Verifications {
    fn existing(&self, account: &str) -> Option<AccountVerifier> {
        crate::lock(&self.verifiers).get(account).cloned()
    }
}

/// The verification API's routes (behind the send API's key check).
pub fn router(send: Arc<SendState>) -> Router {
    Router::new()
        .route("/api/v1/verification_code", get(issue))
        .route("/api/v1/verification_code/{id}", get(get_one))
        .route_layer(axum::middleware::from_fn_with_state(
            send.clone(),
            crate::send::auth::authenticate,
        ))
        .with_state(send)
}

fn verifier_for(send: &SendState, account: &Account) -> Result<AccountVerifier, SendApiError> {
    if let Some(v) = send.verification.existing(&account.id) {
        return Ok(v);
    }
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
    let config =
        wa_verify::Config::new(phone).allow_insecure_callback(send.config.allow_private_targets);
    let verifier = Arc::new(Verifier::new(config, wa_verify::MemoryStore::new()));
    crate::lock(&send.verification.verifiers).insert(account.id.clone(), verifier.clone());
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

fn request(uri: &Uri) -> Result<Request, SendApiError> {
    let q = parse_query(uri.query().unwrap_or(""), PARAMS).map_err(ApiError::into_family)?;
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
        req.expires_at = Some(
            m.parse()
                .map_err(|_| ApiError::invalid("expires_at", "whole minutes"))?,
        );
    }
    req.channel = match get("channel").as_deref() {
        None | Some("whatsapp") => Channel::Whatsapp,
        Some("sms") => Channel::Sms,
        Some(_) => return Err(ApiError::invalid("channel", "whatsapp or sms")),
    };
    Ok(req)
}

/// Issue a verification code: the user sends it to the business on WhatsApp.
#[utoipa::path(
    get, path = "/api/v1/verification_code", tag = "verification", operation_id = "issueVerificationCode",
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
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
    uri: Uri,
) -> Result<Response, SendApiError> {
    let req = request(&uri)?;
    let verifier = verifier_for(&send, &account)?;
    let issued = verifier.issue(&account.id, &req)?;
    Ok(axum::Json(issued).into_response())
}

/// One verification of the calling account, in the callback's shape.
#[utoipa::path(
    get, path = "/api/v1/verification_code/{id}", tag = "verification", operation_id = "getVerification",
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
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
    Path(id): Path<String>,
) -> Result<Response, SendApiError> {
    let not_found = || ApiError::new("verify_not_found", "no such verification");
    let verifier = send
        .verification
        .existing(&account.id)
        .ok_or_else(not_found)?;
    let v = verifier.get(&id).map_err(|_| not_found())?;
    if v.app_id != account.id {
        return Err(not_found());
    }
    Ok((StatusCode::OK, axum::Json(v.callback_payload())).into_response())
}

/// An inbound WhatsApp message: a code for one of the receiving account's verifications.
///
/// # Errors
/// A store failure (the webhook is answered 500 so Meta redelivers it).
pub async fn inbound(
    send: &Arc<SendState>,
    m: &wa_send::InboundMessage,
) -> Result<(), SendApiError> {
    let Some(pnid) = m.phone_number_id.as_deref() else {
        return Ok(());
    };
    let Some(account) = send.accounts.by_phone_number_id(pnid).await? else {
        tracing::info!("inbound message for a phone number id no account has verified; ignored");
        return Ok(());
    };
    let Some(verifier) = send.verification.existing(&account.id) else {
        return Ok(());
    };
    let Some(text) = m.text() else { return Ok(()) };
    let from = match (&m.from, &m.from_user_id) {
        (Some(wa_id), _) => Recipient::parse(&format!("+{wa_id}")),
        (None, Some(bsuid)) => Recipient::parse(bsuid),
        (None, None) => return Ok(()),
    };
    let Ok(from) = from else {
        tracing::warn!("inbound message from a sender id that is not a phone or BSUID; ignored");
        return Ok(());
    };
    let inbound = wa_verify::Inbound {
        from: from.clone(),
        profile_name: m.profile_name.clone(),
        text: text.to_owned(),
    };
    let outcome = verifier.handle_inbound(&inbound)?;
    tracing::info!(outcome = outcome.kind(), "verification message");
    crate::metrics::verification(outcome.kind());
    // With a callback the reply waits for its result (response_message when delivered,
    // failure_message when given up); otherwise it goes at once.
    if let wa_verify::Outcome::Validated {
        callback: Some(cb), ..
    } = &outcome
    {
        let body = serde_json::to_string(&cb.payload)
            .map_err(|e| ApiError::new("internal_error", e.to_string()))?;
        let now = send.now();
        let mut d = WebhookDelivery::new(
            wa_send::ids::prefixed("msg", now),
            &account.id,
            DeliveryKind::Callback,
            &cb.url,
            body,
            now,
        );
        d.reference = Some(cb.payload.id.clone());
        // Three tries; then the verification fails and the user gets `failure_message`.
        d.max_attempts = Some(3);
        send.dispatcher.store().push_webhooks(vec![d]).await?;
        return Ok(());
    }
    if let Some(reply) = outcome.reply() {
        let msg = Outbound::new(from, Content::text(reply)).reply_to(m.id.clone());
        send.dispatcher
            .enqueue(&account.id, EnqueueRequest::new(msg))
            .await?;
    }
    Ok(())
}

/// A verification callback's outcome decides the user's reply (WhatAuth's behaviour):
/// delivered → `response_message`; given up → the verification fails and the user gets
/// `failure_message`.
pub async fn callback_finished(send: Arc<SendState>, d: WebhookDelivery) {
    if d.kind != DeliveryKind::Callback {
        return;
    }
    let (Some(id), Some(verifier)) = (
        d.reference.as_deref(),
        send.verification.existing(&d.account),
    ) else {
        return;
    };
    let reply = if d.state == WebhookState::Delivered {
        verifier
            .get(id)
            .ok()
            .map(|v| (v.phone_number.clone(), v.messages.response.clone()))
    } else {
        let error = d
            .last_error
            .clone()
            .unwrap_or_else(|| "callback failed".to_owned());
        verifier
            .callback_failed(id, &error)
            .ok()
            .map(|(v, text)| (v.phone_number, text))
    };
    if let Some((Some(to), text)) = reply {
        let msg = Outbound::new(to, Content::text(text));
        if let Err(e) = send
            .dispatcher
            .enqueue(&d.account, EnqueueRequest::new(msg))
            .await
        {
            tracing::warn!(code = e.code(), "could not queue the verification reply");
        }
    }
}
