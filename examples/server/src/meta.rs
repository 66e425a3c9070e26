//! `GET|POST /webhooks/whatsapp`: Meta's subscription handshake, the signature checked on
//! the raw bytes, each event handled once (Meta redelivers: message and status ids are
//! remembered in the database), statuses applied to messages, inbound messages routed to
//! verification.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use wa_send::webhook::meta::{self, WebhookEvent};

use crate::error::{ApiError, SendApiError, SendErrorBody};
use crate::send::SendState;

/// Meta's webhook routes.
pub fn router(send: Arc<SendState>) -> Router {
    Router::new()
        .route("/webhooks/whatsapp", get(handshake).post(events))
        .layer(DefaultBodyLimit::max(4 * 1024 * 1024))
        .with_state(send)
}

fn not_configured() -> SendApiError {
    ApiError::new(
        "meta_webhook_not_configured",
        "start the server with --meta-app-secret and --meta-verify-token",
    )
}

/// Meta's subscription check: echoes `hub.challenge` when the token matches.
#[utoipa::path(
    get, path = "/webhooks/whatsapp", tag = "meta", operation_id = "metaHandshake",
    params(
        ("hub.mode" = String, Query, description = "`subscribe`"),
        ("hub.verify_token" = String, Query, description = "The server's verify token"),
        ("hub.challenge" = String, Query, description = "Echoed back"),
    ),
    responses(
        (status = 200, description = "The challenge", body = String, content_type = "text/plain"),
        (status = 403, description = "`webhook_mode_invalid`, `webhook_verify_token_mismatch`, `webhook_challenge_invalid`", body = SendErrorBody),
        (status = 503, description = "`meta_webhook_not_configured`", body = SendErrorBody),
    ),
    security(())
)]
pub async fn handshake(
    State(send): State<Arc<SendState>>,
    uri: Uri,
) -> Result<String, SendApiError> {
    let token = send
        .config
        .meta_verify_token
        .as_deref()
        .ok_or_else(not_configured)?;
    Ok(meta::verify_handshake_query(
        uri.query().unwrap_or(""),
        token,
    )?)
}

/// What a webhook call did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventsHandled {
    /// Statuses applied.
    pub statuses: usize,
    /// Inbound messages handled.
    pub messages: usize,
    /// Events seen before (redeliveries), skipped.
    pub duplicates: usize,
}

/// Meta's events: signed (`X-Hub-Signature-256` over the raw body), each handled once.
#[utoipa::path(
    post, path = "/webhooks/whatsapp", tag = "meta", operation_id = "metaEvents",
    request_body(content = MetaNotification, description = "Meta's webhook notification, signed with `X-Hub-Signature-256` over the raw bytes"),
    responses(
        (status = 200, description = "Handled", body = inline(crate::send::dto::Envelope<EventsHandled>)),
        (status = 400, description = "`webhook_payload_malformed`", body = SendErrorBody),
        (status = 401, description = "`webhook_signature_missing`, `webhook_signature_malformed`, `webhook_signature_mismatch`", body = SendErrorBody),
        (status = 503, description = "`meta_webhook_not_configured`", body = SendErrorBody),
    ),
    security(())
)]
pub async fn events(
    State(send): State<Arc<SendState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SendApiError> {
    let secret = send
        .config
        .meta_app_secret
        .as_deref()
        .ok_or_else(not_configured)?;
    let sig = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    meta::verify_signature(&body, sig, secret.as_bytes())?;
    let events = meta::parse(&body)?;
    // Handled on a task of its own, so a caller that gives up (Meta's timeout, our own
    // request deadline) cannot cancel a handling half done: an inbound message claimed
    // but not yet settled would be lost, its redelivery answered as a duplicate.
    let done = tokio::spawn(async move {
        let mut done = EventsHandled {
            statuses: 0,
            messages: 0,
            duplicates: 0,
        };
        for event in &events {
            handle(&send, event, &mut done).await?;
        }
        Ok::<_, SendApiError>(done)
    })
    .await
    .map_err(|e| ApiError::new("internal_error", e.to_string()))??;
    let body = crate::send::dto::Envelope {
        success: true,
        data: done,
    };
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}

/// One event of a notification, once: redeliveries are counted and change nothing.
async fn handle(
    send: &Arc<SendState>,
    event: &WebhookEvent,
    done: &mut EventsHandled,
) -> Result<(), SendApiError> {
    match event {
        // Statuses apply idempotently (the lifecycle only moves forward): apply, then
        // remember the id, so a crash in between cannot drop a redelivered status.
        WebhookEvent::Status(s) => {
            let id = format!("status:{}:{}", s.message_id, s.status.as_str());
            if send.seen.contains(&id).await? {
                done.duplicates += 1;
                return Ok(());
            }
            send.dispatcher.apply_status(s).await?;
            send.seen.first_time(&id, send.now()).await?;
            done.statuses += 1;
        }
        // An inbound message is claimed first (two replicas may get one redelivery), and
        // forgotten again if handling it fails, so Meta's redelivery retries it.
        WebhookEvent::Message(m) => {
            let id = format!("message:{}", m.id);
            if !send.seen.first_time(&id, send.now()).await? {
                done.duplicates += 1;
                return Ok(());
            }
            if let Err(e) = crate::verification::flow::inbound(send, m).await {
                let _ = send.seen.forget(&id).await;
                return Err(e);
            }
            done.messages += 1;
        }
        _ => {}
    }
    Ok(())
}

/// Meta's webhook notification (`object`, `entry[].changes[].value`), as documented by
/// Meta; only what the server reads is described, and Meta's other fields are allowed.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // describes the request body; the handler parses it with wa-send
pub struct MetaNotification {
    /// `whatsapp_business_account`.
    #[schema(example = "whatsapp_business_account")]
    object: String,
    /// One entry per business account.
    entry: Vec<MetaEntry>,
}

/// One entry of a notification.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // schema only
pub struct MetaEntry {
    /// The WhatsApp Business Account id.
    id: String,
    /// The changes.
    changes: Vec<MetaChange>,
}

/// One change of an entry.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // schema only
pub struct MetaChange {
    /// `messages` (other fields are acknowledged and ignored).
    #[schema(example = "messages")]
    field: String,
    /// The change.
    value: MetaChangeValue,
}

/// The value of a `messages` change.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)] // schema only
pub struct MetaChangeValue {
    /// `whatsapp`.
    messaging_product: Option<String>,
    /// `{phone_number_id, display_phone_number}`: which business number this is about.
    #[schema(value_type = Option<HashMap<String, String>>)]
    metadata: Option<()>,
    /// The senders' profiles (`{profile: {name}, wa_id}`).
    #[schema(value_type = Option<Vec<HashMap<String, serde_json::Value>>>)]
    contacts: Option<()>,
    /// Inbound messages (Meta's message objects: `from`, `id`, `timestamp`, `type`, …).
    #[schema(value_type = Option<Vec<HashMap<String, serde_json::Value>>>)]
    messages: Option<()>,
    /// Status updates of sent messages (`id`, `status`, `timestamp`, `recipient_id`, …).
    #[schema(value_type = Option<Vec<HashMap<String, serde_json::Value>>>)]
    statuses: Option<()>,
    /// Errors Meta reports about the business account.
    #[schema(value_type = Option<Vec<HashMap<String, serde_json::Value>>>)]
    errors: Option<()>,
}
