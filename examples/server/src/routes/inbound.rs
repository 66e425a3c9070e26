//! `GET|POST /webhooks/whatsapp`: Meta's subscription handshake, signature check on the raw
//! bytes, status updates applied to messages (and forwarded to accounts' webhooks), and
//! inbound messages routed to verification.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use wa_send::webhook::{self, WebhookEvent};
use wa_send::{Content, EnqueueRequest, Outbound, Recipient};

use crate::send_api::{ApiFailure, SendErrorBody, SendState, send_state};
use crate::state::AppState;

/// Meta's subscription check: echoes `hub.challenge` when `hub.verify_token` matches.
#[utoipa::path(
    get, path = "/webhooks/whatsapp", tag = "meta",
    params(
        ("hub.mode" = String, Query, description = "`subscribe`"),
        ("hub.verify_token" = String, Query, description = "The server's verify token"),
        ("hub.challenge" = String, Query, description = "Echoed back"),
    ),
    responses(
        (status = 200, description = "The challenge", body = String, content_type = "text/plain"),
        (status = 403, description = "`webhook_mode_invalid`, `webhook_verify_token_mismatch`, `webhook_challenge_invalid`", body = SendErrorBody),
        (status = 503, description = "`meta_webhook_not_configured`", body = SendErrorBody),
    )
)]
pub async fn handshake(State(state): State<AppState>, uri: Uri) -> Result<String, ApiFailure> {
    let send = send_state(&state)?;
    let token = send
        .meta_verify_token
        .as_deref()
        .ok_or_else(not_configured)?;
    webhook::verify_handshake_query(uri.query().unwrap_or(""), token)
        .map_err(|e| ApiFailure::new(403, e.code(), e.to_string()))
}

fn not_configured() -> ApiFailure {
    ApiFailure::new(
        503,
        "meta_webhook_not_configured",
        "start the server with --meta-app-secret and --meta-verify-token",
    )
}

/// Meta's event delivery (signed with `X-Hub-Signature-256`).
#[utoipa::path(
    post, path = "/webhooks/whatsapp", tag = "meta",
    request_body(content = Object, description = "Meta's webhook payload, signed"),
    responses(
        (status = 200, description = "Accepted", body = Object),
        (status = 400, description = "`webhook_payload_malformed`", body = SendErrorBody),
        (status = 401, description = "`webhook_signature_missing`, `webhook_signature_malformed`, `webhook_signature_mismatch`", body = SendErrorBody),
        (status = 503, description = "`meta_webhook_not_configured`", body = SendErrorBody),
    )
)]
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiFailure> {
    let send = send_state(&state)?;
    let secret = send.meta_app_secret.as_deref().ok_or_else(not_configured)?;
    let sig = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    webhook::verify_signature(&body, sig, secret.as_bytes())
        .map_err(|e| ApiFailure::new(401, e.code(), e.to_string()))?;
    let events =
        webhook::parse(&body).map_err(|e| ApiFailure::new(400, e.code(), e.to_string()))?;
    let (mut statuses, mut messages) = (0, 0);
    for event in &events {
        match event {
            WebhookEvent::Status(s) => {
                statuses += 1;
                send.dispatcher.apply_status(s).await?;
            }
            WebhookEvent::Message(m) => {
                messages += 1;
                inbound_message(&send, m).await?;
            }
            _ => {}
        }
    }
    Ok((
        StatusCode::OK,
        axum::Json(
            json!({ "success": true, "data": { "statuses": statuses, "messages": messages } }),
        ),
    )
        .into_response())
}

/// Routes an inbound message to the verifier of the account that owns the number.
async fn inbound_message(
    send: &Arc<SendState>,
    m: &wa_send::InboundMessage,
) -> Result<(), ApiFailure> {
    let Some(account) = m
        .phone_number_id
        .as_deref()
        .and_then(|p| send.registry.by_phone_number_id(p))
    else {
        return Ok(());
    };
    let Some(verifier) = crate::routes::verification::existing_verifier(send, &account.id) else {
        return Ok(());
    };
    let Some(text) = m.text() else { return Ok(()) };
    let from = match (&m.from, &m.from_user_id) {
        (Some(wa_id), _) => Recipient::parse(&format!("+{wa_id}")),
        (None, Some(bsuid)) => Recipient::parse(bsuid),
        (None, None) => return Ok(()),
    };
    let Ok(from) = from else { return Ok(()) };
    let inbound = wa_verify::Inbound {
        from: from.clone(),
        profile_name: m.profile_name.clone(),
        text: text.to_owned(),
    };
    let outcome = verifier
        .handle_inbound(&inbound)
        .map_err(|e| ApiFailure::new(500, e.code(), e.to_string()))?;
    tracing::info!(outcome = outcome.kind(), "verification message");
    // With a callback the reply waits for its result (response_message when delivered,
    // failure_message when given up); otherwise it goes at once.
    if let wa_verify::Outcome::Validated {
        callback: Some(cb), ..
    } = &outcome
    {
        let body = serde_json::to_string(&cb.payload)
            .map_err(|e| ApiFailure::new(500, "internal_error", e.to_string()))?;
        // Three tries; then the verification fails and the user gets `failure_message`.
        send.dispatcher
            .push_webhook(&account.id, &cb.url, body, Some(3))
            .await?;
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
