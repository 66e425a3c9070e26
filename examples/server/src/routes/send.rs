//! The send API: `POST /send-message`, `POST /messages/bulk`, `GET /messages/{id}`,
//! `GET /messages`, `POST /messages/{id}/cancel`.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use wa_send::queue::{ListFilter, MessageRecord};
use wa_send::{EnqueueRequest, Status};

use crate::accounts::Account;
use crate::extract::{QuerySpec, StrictQuery};
use crate::payload::{self, rfc3339};
use crate::send_api::{ApiFailure, SendErrorBody, body_object, json_body, ok, send_state};
use crate::state::AppState;

/// A timeline step.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineView {
    /// The status.
    status: String,
    /// When (RFC 3339).
    at: String,
}

/// A message as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    id: String,
    status: String,
    to: String,
    #[serde(rename = "type")]
    kind: String,
    batch_id: Option<String>,
    provider_message_id: Option<String>,
    backend: Option<String>,
    attempts: u32,
    created_at: String,
    updated_at: String,
    scheduled_for: Option<String>,
    sent_at: Option<String>,
    delivered_at: Option<String>,
    read_at: Option<String>,
    failed_at: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    metadata: std::collections::BTreeMap<String, String>,
    timeline: Vec<TimelineView>,
}

impl MessageView {
    /// From a stored record.
    pub fn from_record(r: &MessageRecord) -> Self {
        let at = |s: Status| {
            r.lifecycle
                .timeline
                .iter()
                .find(|t| t.status == s)
                .map(|t| rfc3339(t.at))
        };
        MessageView {
            id: r.id.clone(),
            status: r.status().as_str().to_owned(),
            to: r.outbound.recipient.to_string(),
            kind: r.outbound.content.type_name().to_owned(),
            batch_id: r.batch_id.clone(),
            provider_message_id: r.provider_message_id.clone(),
            backend: r.backend.clone(),
            attempts: r.attempts,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            scheduled_for: r.send_at.filter(|t| *t > r.created_at).map(rfc3339),
            sent_at: at(Status::Sent),
            delivered_at: at(Status::Delivered),
            read_at: at(Status::Read),
            failed_at: at(Status::Failed),
            error_code: r.lifecycle.error_code.clone(),
            error_message: r.lifecycle.error_message.clone(),
            metadata: r.outbound.metadata.clone(),
            timeline: r
                .lifecycle
                .timeline
                .iter()
                .map(|t| TimelineView {
                    status: t.status.as_str().to_owned(),
                    at: rfc3339(t.at),
                })
                .collect(),
        }
    }
}

fn backend_name(state: &AppState, account: &Account) -> String {
    state
        .send
        .as_ref()
        .and_then(|s| wa_send::BackendRouter::backend_for(&*s.registry, &account.id))
        .map_or("none", |b| b.name())
        .to_owned()
}

/// Send one message (202 + id; the message is queued, not yet sent).
#[utoipa::path(
    post, path = "/send-message", tag = "send",
    request_body(content = Object, description = "`{to, type, <type>: {...Cloud API shape}, sendAt?, metadata?, replyTo?, bizOpaqueCallbackData?, dry_run?}`"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays return the original result with `Idempotency-Replayed: true`; reuse with another body is 409")),
    responses(
        (status = 202, description = "Queued (or scheduled)", body = Object),
        (status = 200, description = "`dry_run`: validated, nothing queued", body = Object),
        (status = 400, description = "`body_invalid` with `details`, `message_*`, `send_at_in_past`, `idempotency_key_invalid`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 409, description = "`idempotency_key_conflict`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
        (status = 503, description = "`circuit_open`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn send_message(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiFailure> {
    let send = send_state(&state)?;
    let req = payload::parse(&json_body(&body)?)?;
    let backend = backend_name(&state, &account);
    if req.dry_run {
        req.outbound.validate().map_err(wa_send::SendError::from)?;
        let preview = wa_send::cloud_api_request_body(&req.outbound).ok();
        return Ok(ok(
            StatusCode::OK,
            json!({ "dryRun": true, "valid": true, "backend": backend, "request": preview }),
        ));
    }
    let mut enqueue = EnqueueRequest::new(req.outbound);
    enqueue.send_at = req.send_at;
    if let Some(key) = headers.get("idempotency-key") {
        let key = key.to_str().map_err(|_| {
            ApiFailure::new(
                400,
                "idempotency_key_invalid",
                "the Idempotency-Key header must be visible ASCII",
            )
        })?;
        enqueue.idempotency_key = Some(key.to_owned());
    }
    let done = send.dispatcher.enqueue(&account.id, enqueue).await?;
    if !done.replayed {
        send.registry.add_sent(&account.id, 1).await;
    }
    let r = &done.record;
    let mut resp = ok(
        StatusCode::ACCEPTED,
        json!({
            "id": r.id,
            "status": r.status().as_str(),
            "scheduledFor": r.send_at.filter(|t| *t > r.created_at).map(rfc3339),
            "backend": backend,
            "dryRunBackend": backend == "dry_run",
        }),
    );
    if done.replayed {
        resp.headers_mut()
            .insert("idempotency-replayed", HeaderValue::from_static("true"));
    }
    Ok(resp)
}

/// Send many messages under one batch id; invalid items are reported per item.
#[utoipa::path(
    post, path = "/messages/bulk", tag = "send",
    request_body(content = Object, description = "`{messages: [<send-message body>...], sendAt?}`"),
    responses(
        (status = 202, description = "`{batchId, totalMessages, queued, failedCount, results}`", body = Object),
        (status = 400, description = "`body_invalid`, `bulk_empty`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 403, description = "`plan_bulk_cap_exceeded`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
        (status = 503, description = "`circuit_open`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn bulk(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    body: Bytes,
) -> Result<Response, ApiFailure> {
    let send = send_state(&state)?;
    let v = body_object(&body, &["messages", "sendAt"])?;
    let items = v
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiFailure::field("messages", "field_missing", "an array is required"))?;
    if items.is_empty() {
        return Err(ApiFailure::new(
            400,
            "bulk_empty",
            "a bulk request needs at least one message",
        ));
    }
    let cap = account.plan.bulk_cap();
    if items.len() > cap {
        return Err(ApiFailure::new(
            403,
            "plan_bulk_cap_exceeded",
            format!(
                "the {:?} plan takes at most {cap} messages per bulk call",
                account.plan
            ),
        ));
    }
    let mut parsed: Vec<Result<EnqueueRequest, ApiFailure>> = Vec::with_capacity(items.len());
    for item in items {
        let mut item = item.clone();
        if let (Some(o), Some(at)) = (item.as_object_mut(), v.get("sendAt")) {
            o.entry("sendAt").or_insert(at.clone());
        }
        parsed.push(payload::parse(&item).map(|r| {
            let mut e = EnqueueRequest::new(r.outbound);
            e.send_at = r.send_at;
            e
        }));
    }
    let valid: Vec<EnqueueRequest> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok().cloned())
        .collect();
    let outcome = if valid.is_empty() {
        None
    } else {
        Some(send.dispatcher.enqueue_bulk(&account.id, valid).await?)
    };
    let mut queued_ids = outcome
        .as_ref()
        .map(|o| o.items.iter())
        .into_iter()
        .flatten();
    let mut results = Vec::with_capacity(items.len());
    let mut queued = 0;
    for (index, p) in parsed.into_iter().enumerate() {
        match p {
            Err(e) => results.push(json!({ "index": index, "error": { "code": e.code, "message": e.message, "details": e.details } })),
            Ok(_) => match queued_ids.next() {
                Some(Ok(id)) => {
                    queued += 1;
                    results.push(json!({ "index": index, "id": id }));
                }
                Some(Err(e)) => {
                    let f = ApiFailure::from(e);
                    results.push(json!({ "index": index, "error": { "code": f.code, "message": f.message, "details": f.details } }));
                }
                None => {}
            },
        }
    }
    send.registry.add_sent(&account.id, queued).await;
    Ok(ok(
        StatusCode::ACCEPTED,
        json!({
            "batchId": outcome.as_ref().map(|o| o.batch_id.clone()),
            "totalMessages": items.len(),
            "queued": queued,
            "failedCount": items.len() as u64 - queued,
            "results": results,
        }),
    ))
}

/// One message of the calling account (another account's message is 404).
#[utoipa::path(
    get, path = "/messages/{id}", tag = "send",
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "`{success, data: message}`", body = Object),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 404, description = "`message_not_found`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get_message(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Path(id): Path<String>,
) -> Result<Response, ApiFailure> {
    let send = send_state(&state)?;
    let r = send.dispatcher.get(&account.id, &id).await?;
    Ok(ok(
        StatusCode::OK,
        serde_json::to_value(MessageView::from_record(&r)).unwrap_or_default(),
    ))
}

/// Parameters of `GET /messages`.
#[derive(Debug)]
pub struct ListParams;

impl QuerySpec for ListParams {
    const ALLOWED: &'static [&'static str] = &["batchId", "status", "limit", "cursor"];
}

/// Messages of the calling account, oldest first, paginated by `cursor`.
#[utoipa::path(
    get, path = "/messages", tag = "send",
    params(
        ("batchId" = Option<String>, Query, description = "Only this batch"),
        ("status" = Option<String>, Query, description = "queued, scheduled, processing, retrying, sent, delivered, read, failed, cancelled"),
        ("limit" = Option<u32>, Query, description = "1-1000, default 100"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "`{success, data: {messages, nextCursor}}`", body = Object),
        (status = 400, description = "`query_*`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    uri: axum::http::Uri,
) -> Result<Response, ApiFailure> {
    let send = send_state(&state)?;
    let q = crate::extract::parse_query(uri.query().unwrap_or(""), ListParams::ALLOWED)
        .map_err(|e| ApiFailure::new(e.status.as_u16(), e.code, e.message))?;
    let q: StrictQuery<ListParams> = StrictQuery::from_values(q);
    let mut filter = ListFilter::account(account.id.clone());
    filter.batch_id = q.get("batchId").map(str::to_owned);
    if let Some(s) = q.get("status") {
        filter.status =
            Some(Status::parse(s).ok_or_else(|| {
                ApiFailure::new(400, "query_invalid_parameter", "unknown status")
            })?);
    }
    if let Some(l) = q.get("limit") {
        filter.limit = l
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                ApiFailure::new(400, "query_invalid_parameter", "`limit` must be 1-1000")
            })?;
    }
    filter.after_id = q.get("cursor").map(str::to_owned);
    let records = send.dispatcher.list(&filter).await?;
    let next = (records.len() == filter.limit)
        .then(|| records.last().map(|r| r.id.clone()))
        .flatten();
    let views: Vec<MessageView> = records.iter().map(MessageView::from_record).collect();
    Ok(ok(
        StatusCode::OK,
        json!({ "messages": views, "nextCursor": next }),
    ))
}

/// Cancel a queued or scheduled message.
#[utoipa::path(
    post, path = "/messages/{id}/cancel", tag = "send",
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "Cancelled", body = Object),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 404, description = "`message_not_found`", body = SendErrorBody),
        (status = 409, description = "`message_not_cancellable`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn cancel(
    State(state): State<AppState>,
    Extension(account): Extension<Account>,
    Path(id): Path<String>,
) -> Result<Response, ApiFailure> {
    let send = send_state(&state)?;
    let r = send.dispatcher.cancel(&account.id, &id).await?;
    Ok(ok(
        StatusCode::OK,
        serde_json::to_value(MessageView::from_record(&r)).unwrap_or_default(),
    ))
}
