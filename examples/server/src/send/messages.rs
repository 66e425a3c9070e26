//! `/send-message`, `/messages/bulk`, `/messages`, `/messages/{id}` (+ `/cancel`, `/retry`)
//! and `/analytics/summary`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::value::RawValue;
use wa_send::queue::ListFilter;
use wa_send::{BulkRequest, EnqueueRequest, ItemError, Status};

use super::SendState;
use super::dto::{
    AnalyticsSummary, BulkAccepted, BulkBody, BulkItemResult, DryRunResult, ItemErrorView,
    MessageList, MessageView, SendAccepted, SendMessageBody, invalid, ok,
};
use crate::error::{ApiError, FieldError, SendApi, SendApiError, SendErrorBody};
use crate::extract::{QuerySpec, SendJson, StrictQuery, body_invalid, read_body, typed_json};
use crate::storage::Account;

type Result<T = Response> = std::result::Result<T, SendApiError>;

/// Most bytes of one message body (bulk bodies get this per item).
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>> {
    headers
        .get("idempotency-key")
        .map(|k| {
            k.to_str().map(str::to_owned).map_err(|_| {
                ApiError::new(
                    "idempotency_key_invalid",
                    "the Idempotency-Key header must be visible ASCII",
                )
            })
        })
        .transpose()
}

fn replayed(mut resp: Response, replayed: bool) -> Response {
    if replayed {
        resp.headers_mut()
            .insert("idempotency-replayed", HeaderValue::from_static("true"));
    }
    resp
}

async fn backend_name(send: &SendState, account: &Account) -> String {
    send.routing
        .backend(account.credentials.as_ref())
        .map_or("none", |b| b.name())
        .to_owned()
}

/// Queue one message: `{to, message}` (text), `{to, template}`, or (extension) a Cloud API
/// message with `type`. Answers 202 at once; delivery is asynchronous.
#[utoipa::path(
    post, path = "/send-message", tag = "messages", operation_id = "sendMessage",
    request_body = SendMessageBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays within 24 h return the original answer with `Idempotency-Replayed: true`; reuse with another body is 409")),
    responses(
        (status = 202, description = "Queued (or scheduled)", body = inline(super::dto::Envelope<SendAccepted>),
            headers(("Idempotency-Replayed" = String, description = "`true` on a replay"))),
        (status = 200, description = "`dry_run`: validated, nothing queued", body = inline(super::dto::Envelope<DryRunResult>)),
        (status = 400, description = "`body_invalid` with `details`, `message_*`, `delivery_unsupported`, `send_at_in_past`, `send_at_too_far`, `idempotency_key_invalid`, `message_type_conflict`, `message_content_missing`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 409, description = "`idempotency_key_conflict`", body = SendErrorBody),
        (status = 413, description = "`body_too_large`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
        (status = 503, description = "`circuit_open`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn send_message(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
    headers: HeaderMap,
    SendJson(body): SendJson<SendMessageBody, MAX_MESSAGE_BYTES>,
) -> Result {
    let parsed = body.parse("").map_err(invalid)?;
    let backend = backend_name(&send, &account).await;
    if parsed.dry_run {
        return dry_run(&parsed.outbound, backend);
    }
    let mut req = EnqueueRequest::new(parsed.outbound);
    req.send_at = parsed.send_at;
    req.idempotency_key = idempotency_key(&headers)?;
    let done = send.dispatcher.enqueue(&account.id, req).await?;
    let r = &done.record;
    let body = SendAccepted {
        id: r.id.clone(),
        status: r.status().as_str().to_owned(),
        scheduled_for: r.send_at.filter(|t| *t > r.created_at),
        dry_run_backend: backend == "dry_run",
        backend,
    };
    Ok(replayed(ok(StatusCode::ACCEPTED, body), done.replayed))
}

/// `dry_run: true`: the message is checked and the request Graph would get is shown;
/// nothing is queued or sent.
fn dry_run(outbound: &wa_send::Outbound, backend: String) -> Result {
    outbound.validate().map_err(wa_send::SendError::from)?;
    let request = wa_send::cloud_api_request_body(outbound).ok();
    let body = DryRunResult {
        dry_run: true,
        valid: true,
        backend,
        request,
    };
    Ok(ok(StatusCode::OK, body))
}

/// `{"messages": [...], "sendAt"?}` read item by item: a bulk over the plan's cap is
/// refused as soon as its cap+1-th item is seen, and each item stays raw until parsed.
struct BulkItems {
    cap: usize,
}

#[derive(Debug)]
enum BulkParse {
    Items(Vec<Box<RawValue>>),
    TooMany,
}

impl<'de> DeserializeSeed<'de> for &BulkItems {
    type Value = BulkParse;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<BulkParse, D::Error> {
        struct V(usize);
        impl<'de> Visitor<'de> for V {
            type Value = BulkParse;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an array of messages")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<BulkParse, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Box<RawValue>>()? {
                    if items.len() == self.0 {
                        return Ok(BulkParse::TooMany);
                    }
                    items.push(item);
                }
                Ok(BulkParse::Items(items))
            }
        }
        d.deserialize_seq(V(self.cap))
    }
}

/// The top of a bulk body, with `messages` counted while it is read.
fn bulk_body(bytes: &[u8], cap: usize) -> Result<(BulkParse, Option<String>)> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Top {
        messages: Box<RawValue>,
        #[serde(default, rename = "sendAt")]
        send_at: Option<String>,
    }
    let top: Top = serde_json::from_slice(bytes).map_err(|e| {
        let code = if e.is_syntax() || e.is_eof() {
            "json_invalid"
        } else {
            "field_invalid"
        };
        invalid(FieldError {
            field: String::new(),
            message: e.to_string(),
            code: code.to_owned(),
        })
    })?;
    let mut de = serde_json::Deserializer::from_str(top.messages.get());
    let items = (&BulkItems { cap }).deserialize(&mut de).map_err(|e| {
        invalid(FieldError {
            field: "messages".to_owned(),
            message: e.to_string(),
            code: "field_invalid".to_owned(),
        })
    })?;
    Ok((items, top.send_at))
}

fn item_error(e: &ItemError) -> ItemErrorView {
    ItemErrorView {
        code: e.code.clone(),
        message: e.message.clone(),
        details: e
            .field
            .as_ref()
            .map(|f| FieldError {
                field: f.clone(),
                message: e.message.clone(),
                code: e.code.clone(),
            })
            .into_iter()
            .collect(),
    }
}

/// Reads every item's shape: an item the schema refuses (unknown field, wrong type,
/// missing required field) refuses the whole request, as for a single send.
fn bulk_shapes(items: &[Box<RawValue>]) -> Result<Vec<SendMessageBody>> {
    items
        .iter()
        .enumerate()
        .map(|(i, raw)| typed_json(raw.get().as_bytes(), &format!("messages[{i}]")))
        .collect::<std::result::Result<_, _>>()
        .map_err(body_invalid)
}

/// Checks one well-formed bulk item; what is wrong with its values (a number that is no
/// phone, a past `sendAt`, …) is reported in its result, not fatal.
fn bulk_item(
    i: usize,
    mut body: SendMessageBody,
    send_at: Option<&str>,
) -> std::result::Result<EnqueueRequest, ItemError> {
    let at = format!("messages[{i}]");
    if body.send_at.is_none() {
        body.send_at = send_at.map(str::to_owned);
    }
    let parsed = body.parse(&at).map_err(|d| {
        let code = match d.code.as_str() {
            "message_type_conflict" | "message_content_missing" => d.code.clone(),
            _ => "body_invalid".to_owned(),
        };
        ItemError::new(
            &code,
            format!("invalid request body: {}", d.message),
            Some(d.field),
        )
    })?;
    let mut req = EnqueueRequest::new(parsed.outbound);
    req.send_at = parsed.send_at;
    Ok(req)
}

/// Send many messages under one batch id. A malformed item (unknown field, wrong type)
/// refuses the request; items with invalid values are reported per item and the others
/// queued (all in one transaction). `Idempotency-Key` works as for single sends.
#[utoipa::path(
    post, path = "/messages/bulk", tag = "messages", operation_id = "sendBulk",
    request_body = BulkBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays within 24 h return the original answer with `Idempotency-Replayed: true`; reuse with another body is 409")),
    responses(
        (status = 202, description = "Queued", body = inline(super::dto::Envelope<BulkAccepted>)),
        (status = 400, description = "`body_invalid`, `bulk_empty`, `idempotency_key_invalid`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 403, description = "`plan_bulk_cap_exceeded`", body = SendErrorBody),
        (status = 409, description = "`idempotency_key_conflict`", body = SendErrorBody),
        (status = 413, description = "`body_too_large`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
        (status = 503, description = "`circuit_open`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn bulk(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
    headers: HeaderMap,
    body: Body,
) -> Result {
    let cap = send.bulk_caps.of(account.plan);
    // The plan bounds the body before anything is allocated for its items.
    let limit = cap.saturating_mul(MAX_MESSAGE_BYTES / 8) + MAX_MESSAGE_BYTES;
    let bytes = read_body(body, limit).await?;
    let mut request = bulk_request(&bytes, cap, account.plan)?;
    request.idempotency_key = idempotency_key(&headers)?;
    let outcome = send.dispatcher.enqueue_batch(&account.id, request).await?;
    let replay = outcome.replayed;
    Ok(replayed(
        ok(StatusCode::ACCEPTED, bulk_answer(&outcome)),
        replay,
    ))
}

/// The batch a bulk body asks for: at most `cap` items, each checked.
fn bulk_request(bytes: &[u8], cap: usize, plan: crate::storage::Plan) -> Result<BulkRequest> {
    let (items, send_at) = bulk_body(bytes, cap)?;
    let BulkParse::Items(items) = items else {
        return Err(ApiError::<SendApi>::new(
            "plan_bulk_cap_exceeded",
            format!(
                "the {} plan takes at most {cap} messages per bulk call",
                plan.as_str()
            ),
        ));
    };
    if items.is_empty() {
        return Err(wa_send::SendError::BulkEmpty.into());
    }
    let parsed: Vec<_> = bulk_shapes(&items)?
        .into_iter()
        .enumerate()
        .map(|(i, body)| bulk_item(i, body, send_at.as_deref()))
        .collect();
    Ok(BulkRequest::new(parsed))
}

/// The documented bulk answer, with each item's id or error.
fn bulk_answer(outcome: &wa_send::BulkOutcome) -> BulkAccepted {
    let results = outcome
        .items
        .iter()
        .enumerate()
        .map(|(index, item)| match item {
            Ok(id) => BulkItemResult {
                index,
                id: Some(id.clone()),
                error: None,
            },
            Err(e) => BulkItemResult {
                index,
                id: None,
                error: Some(item_error(e)),
            },
        })
        .collect();
    BulkAccepted {
        batch_id: outcome.batch_id.clone(),
        total_messages: outcome.total,
        queued: outcome.queued(),
        failed_count: outcome.failed_count(),
        results,
    }
}

/// One message of the calling account (another account's message is 404).
#[utoipa::path(
    get, path = "/messages/{id}", tag = "messages", operation_id = "getMessage",
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "The message and its history", body = inline(super::dto::Envelope<MessageView>)),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 404, description = "`message_not_found`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn get_one(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
    Path(id): Path<String>,
) -> Result {
    let r = send.dispatcher.get(&account.id, &id).await?;
    Ok(ok(StatusCode::OK, MessageView::from_record(&r)))
}

/// Parameters of `GET /messages`.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; values are read through `StrictQuery`
pub struct ListParams {
    /// Only this status: queued, scheduled, processing, retrying, sent, delivered, read, failed, cancelled.
    status: Option<String>,
    /// Only messages of this bulk batch.
    #[param(rename = "batchId")]
    batch_id: Option<String>,
    /// Results per page: 1-200, default 20.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// Page number, default 1.
    #[param(minimum = 1)]
    page: Option<u32>,
    /// Extension: the `nextCursor` of the previous page (instead of `page`).
    cursor: Option<String>,
}

impl QuerySpec for ListParams {
    const ALLOWED: &'static [&'static str] = &["status", "batchId", "limit", "page", "cursor"];
}

fn number(q: &StrictQuery<ListParams, SendApi>, name: &str, max: usize) -> Result<Option<usize>> {
    q.get(name)
        .map(|v| {
            v.parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| ApiError::invalid(name, &format!("a number from 1 to {max}")))
        })
        .transpose()
}

/// The calling account's messages, oldest first, a page at a time.
#[utoipa::path(
    get, path = "/messages", tag = "messages", operation_id = "listMessages",
    params(ListParams),
    responses(
        (status = 200, description = "A page of messages", body = inline(super::dto::Envelope<MessageList>)),
        (status = 400, description = "`query_*`", body = SendErrorBody),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 414, description = "`query_too_long`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn list(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
    q: StrictQuery<ListParams, SendApi>,
) -> Result {
    let (filter, page) = list_filter(&account, &q)?;
    let limit = filter.limit;
    let records = send.dispatcher.list(&filter).await?;
    let next_cursor = (records.len() == limit)
        .then(|| records.last().map(|r| r.id.clone()))
        .flatten();
    Ok(ok(
        StatusCode::OK,
        MessageList {
            messages: records.iter().map(MessageView::from_record).collect(),
            page,
            limit,
            next_cursor,
        },
    ))
}

/// The filter and page number of a list query (`limit` default 20, max 200; `page`
/// default 1; a `cursor` replaces the page).
fn list_filter(
    account: &Account,
    q: &StrictQuery<ListParams, SendApi>,
) -> std::result::Result<(ListFilter, usize), SendApiError> {
    let mut filter = ListFilter::account(account.id.clone());
    filter.batch_id = q.get("batchId").map(str::to_owned);
    if let Some(s) = q.get("status") {
        filter.status = Some(Status::parse(s).ok_or_else(|| {
            ApiError::invalid(
                "status",
                "one of queued, scheduled, processing, retrying, sent, delivered, read, failed, cancelled",
            )
        })?);
    }
    let limit = number(q, "limit", 200)?.unwrap_or(20);
    let page = number(q, "page", 1_000_000)?.unwrap_or(1);
    filter.limit = limit;
    filter.after_id = q.get("cursor").map(str::to_owned);
    if filter.after_id.is_none() {
        filter.offset = (page - 1) * limit;
    }
    Ok((filter, page))
}

/// Extension: cancel a queued or scheduled message.
#[utoipa::path(
    post, path = "/messages/{id}/cancel", tag = "messages", operation_id = "cancelMessage",
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 200, description = "Cancelled", body = inline(super::dto::Envelope<MessageView>)),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 404, description = "`message_not_found`", body = SendErrorBody),
        (status = 409, description = "`message_not_cancellable`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn cancel(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
    Path(id): Path<String>,
) -> Result {
    let r = send.dispatcher.cancel(&account.id, &id).await?;
    Ok(ok(StatusCode::OK, MessageView::from_record(&r)))
}

/// Re-queue a failed message (only `failed` ones), with a fresh retry budget.
#[utoipa::path(
    post, path = "/messages/{id}/retry", tag = "messages", operation_id = "retryMessage",
    params(("id" = String, Path, description = "Message id")),
    responses(
        (status = 202, description = "Queued again", body = inline(super::dto::Envelope<MessageView>)),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 404, description = "`message_not_found`", body = SendErrorBody),
        (status = 409, description = "`message_not_retryable`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn retry(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
    Path(id): Path<String>,
) -> Result {
    let r = send.dispatcher.retry(&account.id, &id).await?;
    Ok(ok(StatusCode::ACCEPTED, MessageView::from_record(&r)))
}

fn rate(n: u64, total: u64) -> f64 {
    if total == 0 {
        return 0.0;
    }
    ((n as f64 / total as f64) * 100.0).round() / 100.0
}

/// Delivery statistics of the account: total, by status, delivery and failure rates
/// (computed by the queue store).
#[utoipa::path(
    get, path = "/analytics/summary", tag = "messages", operation_id = "analyticsSummary",
    responses(
        (status = 200, description = "The summary", body = inline(super::dto::Envelope<AnalyticsSummary>)),
        (status = 401, description = "`auth_missing`, `auth_invalid`", body = SendErrorBody),
        (status = 429, description = "`rate_limited`", body = SendErrorBody),
    ),
    security(("api_key" = []))
)]
pub async fn summary(
    State(send): State<Arc<SendState>>,
    Extension(account): Extension<Account>,
) -> Result {
    let s = send.dispatcher.summary(&account.id).await?;
    let delivered = s.count(Status::Delivered) + s.count(Status::Read);
    let by_status: BTreeMap<String, u64> = s
        .by_status
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), *v))
        .collect();
    Ok(ok(
        StatusCode::OK,
        AnalyticsSummary {
            total: s.total,
            by_status,
            delivery_rate: rate(delivered, s.total),
            failure_rate: rate(s.count(Status::Failed), s.total),
        },
    ))
}
