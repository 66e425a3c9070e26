//! What the send and verification APIs share: their error shape
//! (`{"success":false,"error","code","details"}`), API-key authentication with per-plan
//! limits, and the state they run on.
//!
//! | code | status | meaning |
//! |---|---|---|
//! | `auth_missing` | 401 | no `Authorization: Bearer sk_live_…` header |
//! | `auth_invalid` | 401 | the key is unknown (or was rotated) |
//! | `rate_limited` | 429 | the key's plan limit per minute is used up; see `Retry-After` |
//! | `body_invalid` | 400 | the body is not the JSON the endpoint takes (`details` says where) |
//! | `plan_bulk_cap_exceeded` | 403 | more messages in one bulk call than the plan allows |
//! | `credentials_missing` | 400 | the account has no delivery credentials to verify |
//! | `webhook_url_invalid` | 400 | the webhook URL is not http(s) or points at an internal address |
//! | `meta_webhook_not_configured` | 503 | the server has no Meta app secret / verify token |
//! | `send_api_unavailable` | 503 | the server runs without the send API |
//! | `verification_phone_missing` | 400 | neither the account nor the server names the business number for verification links |
//!
//! Codes inside `details[]` (what is wrong with one field of a `body_invalid` body):
//! `json_invalid`, `field_missing`, `field_invalid`, `field_unknown`, or the crate code of
//! the field's value (e.g. `phone_too_short` for `to`).
//! | `message_*`, `delivery_*`, `verify_*`, `send_at_in_past`, `idempotency_key_*`, `circuit_open` (503), `bulk_*`, `message_not_found` (404), `message_not_cancellable` (409), `store_*` (500) | | from the crates |

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::DefaultClock;
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use serde::Serialize;
use wa_send::{Dispatcher, SendError};

use crate::accounts::{Plan, Registry};
use crate::middleware::{reset_secs, retry_after_secs, set_rate_limit_headers};
use crate::state::AppState;

/// Codes the send API adds, with their status.
pub const SEND_API_CODES: &[(&str, u16)] = &[
    ("auth_missing", 401),
    ("auth_invalid", 401),
    ("body_invalid", 400),
    ("plan_bulk_cap_exceeded", 403),
    ("credentials_missing", 400),
    ("webhook_url_invalid", 400),
    ("meta_webhook_not_configured", 503),
    ("send_api_unavailable", 503),
    ("verification_phone_missing", 400),
];

/// Codes that appear in `details[].code` of a `body_invalid` error (besides crate codes).
pub const FIELD_CODES: &[&str] = &[
    "json_invalid",
    "field_missing",
    "field_invalid",
    "field_unknown",
];

/// One field's problem.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field, e.g. `text.body` or `messages[3].to`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// The stable code of the problem.
    pub code: String,
}

/// The send API's error body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SendErrorBody {
    /// Always `false`.
    pub success: bool,
    /// Human message.
    pub error: String,
    /// Stable code.
    pub code: String,
    /// Per-field problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldError>,
}

/// A send-API error.
#[derive(Debug)]
pub struct ApiFailure {
    /// Status.
    pub status: StatusCode,
    /// Code.
    pub code: String,
    /// Message.
    pub message: String,
    /// Field details.
    pub details: Vec<FieldError>,
    /// `Retry-After` seconds.
    pub retry_after: Option<u64>,
}

impl ApiFailure {
    /// A failure with a code and status.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiFailure {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: code.to_owned(),
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    /// A 400 `body_invalid` with one field detail.
    pub fn field(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut f = ApiFailure::new(
            400,
            "body_invalid",
            format!("invalid request body: {message}"),
        );
        f.details.push(FieldError {
            field: field.into(),
            message,
            code: code.to_owned(),
        });
        f
    }
}

/// `{"success": true, "data": …}` with `status`.
pub fn ok(status: StatusCode, data: serde_json::Value) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "success": true, "data": data })),
    )
        .into_response()
}

/// The body as JSON, or `body_invalid` (`json_invalid`).
///
/// # Errors
/// When the bytes are not JSON.
pub fn json_body(bytes: &[u8]) -> Result<serde_json::Value, ApiFailure> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiFailure::field(
            "",
            "json_invalid",
            format!("the body is not valid JSON: {e}"),
        )
    })
}

/// Checks that `v` is an object with no field outside `allowed`.
///
/// # Errors
/// `body_invalid` (`field_invalid` or `field_unknown`).
pub fn check_fields(v: &serde_json::Value, allowed: &[&str]) -> Result<(), ApiFailure> {
    let obj = v
        .as_object()
        .ok_or_else(|| ApiFailure::field("", "field_invalid", "the body must be a JSON object"))?;
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiFailure::field(
            k.clone(),
            "field_unknown",
            "is not a field of this endpoint",
        )),
        None => Ok(()),
    }
}

/// [`json_body`] then [`check_fields`].
///
/// # Errors
/// As those two.
pub fn body_object(bytes: &[u8], allowed: &[&str]) -> Result<serde_json::Value, ApiFailure> {
    let v = json_body(bytes)?;
    check_fields(&v, allowed)?;
    Ok(v)
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        if self.status.is_server_error() && self.status != StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(code = %self.code, message = %self.message, "send API failure");
        }
        let body = SendErrorBody {
            success: false,
            error: self.message,
            code: self.code,
            details: self.details,
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

impl From<SendError> for ApiFailure {
    fn from(e: SendError) -> Self {
        ApiFailure::from(&e)
    }
}

impl From<&SendError> for ApiFailure {
    fn from(e: &SendError) -> Self {
        let code = e.code();
        let status = match e {
            SendError::IdempotencyConflict | SendError::NotCancellable { .. } => 409,
            SendError::NotFound => 404,
            SendError::CircuitOpen { .. } => 503,
            SendError::Store(_) | SendError::ConfigInvalid => 500,
            _ => 400,
        };
        let mut f = ApiFailure::new(status, code, e.to_string());
        if let SendError::CircuitOpen { retry_after_ms } = *e {
            f.retry_after = Some(retry_after_ms.div_ceil(1000).max(1));
        }
        if let SendError::Invalid(m) = e {
            f.details.push(FieldError {
                field: m.field().unwrap_or("message").to_owned(),
                message: m.to_string(),
                code: code.to_owned(),
            });
        }
        f
    }
}

impl From<wa_validate::Error> for ApiFailure {
    fn from(e: wa_validate::Error) -> Self {
        ApiFailure::new(400, e.code(), e.to_string())
    }
}

type KeyedLimiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// The state of the send and verification APIs.
pub struct SendState {
    /// Accounts.
    pub registry: Arc<Registry>,
    /// The dispatcher.
    pub dispatcher: Arc<Dispatcher>,
    limiters: HashMap<Plan, (u32, KeyedLimiter)>,
    /// Verifiers per account (codes live in memory; they expire within minutes).
    pub verifiers: Mutex<HashMap<String, Arc<wa_verify::Verifier<wa_verify::MemoryStore>>>>,
    /// Meta app secret (signature of inbound webhooks).
    pub meta_app_secret: Option<String>,
    /// Meta verify token (subscription handshake).
    pub meta_verify_token: Option<String>,
    /// The business number for verification links when an account has none.
    pub default_business_phone: Option<String>,
    /// Allow callbacks / webhooks to private addresses (tests only).
    pub allow_private_targets: bool,
}

impl std::fmt::Debug for SendState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendState")
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

impl SendState {
    /// Builds the state; `multiplier` scales every plan's limit (load tests).
    pub fn new(registry: Arc<Registry>, dispatcher: Arc<Dispatcher>, multiplier: u32) -> Self {
        let limiters = Plan::ALL
            .into_iter()
            .map(|p| {
                let n = NonZeroU32::new(p.per_minute().saturating_mul(multiplier.max(1)))
                    .unwrap_or(NonZeroU32::MIN);
                (
                    p,
                    (
                        n.get(),
                        RateLimiter::keyed(Quota::per_minute(n))
                            .with_middleware::<StateInformationMiddleware>(),
                    ),
                )
            })
            .collect();
        SendState {
            registry,
            dispatcher,
            limiters,
            verifiers: Mutex::new(HashMap::new()),
            meta_app_secret: None,
            meta_verify_token: None,
            default_business_phone: None,
            allow_private_targets: false,
        }
    }

    fn limit(&self, plan: Plan) -> Option<&(u32, KeyedLimiter)> {
        self.limiters.get(&plan)
    }
}

/// The send state, or 503.
pub fn send_state(state: &AppState) -> Result<Arc<SendState>, ApiFailure> {
    state.send.clone().ok_or_else(|| {
        ApiFailure::new(
            503,
            "send_api_unavailable",
            "this server runs without the send API",
        )
    })
}

/// Authenticates `Authorization: Bearer sk_live_…`, applies the plan's per-key limit, and
/// puts the [`Account`](crate::accounts::Account) in the request's extensions.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let send = match send_state(&state) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let key = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .map(str::to_owned);
    let Some(key) = key else {
        return ApiFailure::new(
            401,
            "auth_missing",
            "send `Authorization: Bearer sk_live_…`",
        )
        .into_response();
    };
    let Some(account) = send.registry.authenticate(&key) else {
        return ApiFailure::new(401, "auth_invalid", "unknown API key").into_response();
    };
    let plan = account.plan;
    let (limit, mut resp) = match send
        .limit(plan)
        .map(|(n, l)| (*n, l.check_key(&account.id)))
    {
        Some((per_minute, Ok(snapshot))) => {
            let remaining = snapshot.remaining_burst_capacity();
            req.extensions_mut().insert(account);
            let resp = next.run(req).await;
            (
                (
                    u64::from(per_minute),
                    u64::from(remaining),
                    reset_secs(per_minute, remaining),
                ),
                resp,
            )
        }
        Some((per_minute, Err(not_until))) => {
            let secs = retry_after_secs(&not_until);
            let mut f = ApiFailure::new(
                429,
                "rate_limited",
                format!(
                    "the {plan:?} plan allows {per_minute} requests per minute; retry in {secs} s"
                ),
            );
            f.retry_after = Some(secs);
            ((u64::from(per_minute), 0, secs), f.into_response())
        }
        None => {
            req.extensions_mut().insert(account);
            ((0, 0, 0), next.run(req).await)
        }
    };
    set_rate_limit_headers(resp.headers_mut(), limit.0, limit.1, limit.2);
    resp
}

/// Registration limit per client IP (5 per minute), in the send API's error shape.
pub async fn register_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = crate::middleware::client_ip(req.headers(), peer, state.config.trusted_proxies);
    match state.register_limit.limiter.check_key(&ip) {
        Ok(_) => next.run(req).await,
        Err(not_until) => {
            let secs = retry_after_secs(&not_until);
            let mut f = ApiFailure::new(
                429,
                "rate_limited",
                format!(
                    "at most {} registrations per minute; retry in {secs} s",
                    state.register_limit.per_minute
                ),
            );
            f.retry_after = Some(secs);
            f.into_response()
        }
    }
}

/// Builds the send and verification APIs for `config`: accounts, the SQLite queue and the
/// dispatcher. Returns the state and the receiver of the dry-run backend's synthetic
/// statuses (feed it to [`apply_dry_run_statuses`]).
///
/// # Errors
/// When the database or the secret key cannot be used.
pub async fn open(config: &crate::Config) -> Result<(SendState, Background), String> {
    let secrets = crate::crypto::SecretBox::new(config.secret_key.as_deref())?;
    if !secrets.is_encrypting() {
        tracing::warn!("WA_SECRET_KEY is not set: provider credentials are stored unencrypted");
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let dry_run: wa_send::SharedBackend =
        Arc::new(wa_send::DryRunBackend::new().on_status(move |s| {
            let _ = tx.send(s);
        }));
    let settings = crate::accounts::BackendSettings {
        graph_base_url: config.graph_base_url.clone(),
        graph_version: config.graph_version.clone(),
        wsapi_base_url: config.wsapi_base_url.clone(),
    };
    let registry = Arc::new(
        Registry::open(&config.database, secrets, settings, dry_run)
            .await
            .map_err(|e| format!("accounts: {e:?}"))?,
    );
    let (failed_tx, failed_rx) = tokio::sync::mpsc::unbounded_channel();
    registry.report_failures_to(failed_tx);
    let store = Arc::new(
        wa_send::queue::SqliteStore::open(&config.database)
            .await
            .map_err(|e| e.to_string())?,
    );
    let mut dc = wa_send::DispatchConfig::default();
    dc.rate_per_second = Some(config.dispatch_rate);
    dc.bulk_cap = 5000;
    dc.allow_private_webhook_targets = config.allow_private_targets;
    dc.webhook_base_backoff_ms = config.webhook_retry_ms.max(1);
    let dispatcher = Dispatcher::new(store, registry.clone(), Arc::new(wa_send::SystemClock), dc)
        .map_err(|e| e.to_string())?;
    let dispatcher = Arc::new(dispatcher.with_webhooks(registry.clone()));
    let mut state = SendState::new(registry, dispatcher, config.plan_limit_multiplier);
    state.meta_app_secret = config.meta_app_secret.clone();
    state.meta_verify_token = config.meta_verify_token.clone();
    state.default_business_phone = config.default_business_phone.clone();
    state.allow_private_targets = config.allow_private_targets;
    Ok((
        state,
        Background {
            statuses: rx,
            failed_callbacks: failed_rx,
        },
    ))
}

/// The background feeds [`open`] sets up; run them with [`Background::spawn`].
#[derive(Debug)]
pub struct Background {
    /// Synthetic statuses of the dry-run backend.
    pub statuses: tokio::sync::mpsc::UnboundedReceiver<wa_send::StatusUpdate>,
    /// Webhook deliveries that finished (delivered or given up).
    pub failed_callbacks: tokio::sync::mpsc::UnboundedReceiver<wa_send::queue::WebhookDelivery>,
}

impl Background {
    /// Spawns the tasks that apply dry-run statuses and turn finished verification callbacks
    /// into replies.
    pub fn spawn(self, send: &Arc<SendState>) {
        tokio::spawn(apply_dry_run_statuses(
            send.dispatcher.clone(),
            self.statuses,
        ));
        tokio::spawn(relay_failed_callbacks(send.clone(), self.failed_callbacks));
    }
}

/// A verification callback's outcome decides the user's reply (WhatAuth's behaviour):
/// delivered → `response_message`; given up → the verification fails and the user gets
/// `failure_message`.
async fn relay_failed_callbacks(
    send: Arc<SendState>,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<wa_send::queue::WebhookDelivery>,
) {
    while let Some(d) = rx.recv().await {
        let Ok(body) = serde_json::from_str::<serde_json::Value>(&d.body) else {
            continue;
        };
        let (Some(id), Some(_)) = (
            body.get("id").and_then(|v| v.as_str()),
            body.get("verification_code"),
        ) else {
            continue;
        };
        let Some(verifier) = crate::routes::verification::existing_verifier(&send, &d.account)
        else {
            continue;
        };
        let reply = if d.state == wa_send::queue::WebhookState::Delivered {
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
            let msg = wa_send::Outbound::new(to, wa_send::Content::text(text));
            if let Err(e) = send
                .dispatcher
                .enqueue(&d.account, wa_send::EnqueueRequest::new(msg))
                .await
            {
                tracing::warn!(code = e.code(), "could not queue the verification reply");
            }
        }
    }
}

/// Applies the dry-run backend's synthetic statuses (the dispatcher holds those that arrive
/// before the send is recorded).
pub async fn apply_dry_run_statuses(
    dispatcher: Arc<Dispatcher>,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<wa_send::StatusUpdate>,
) {
    while let Some(update) = rx.recv().await {
        if let Err(e) = dispatcher.apply_status(&update).await {
            tracing::warn!(code = e.code(), "could not apply a dry-run status");
        }
    }
}
