//! The wa-kit reference server: the link API (`wa-validate`, `wa-links`, `wa-qr`), the send
//! API (accounts, hashed API keys, plans, `wa-send`'s durable queue and dispatcher), Meta's
//! webhooks and the WhatAuth-compatible verification API (`wa-verify`).
//!
//! | module | what it owns |
//! |---|---|
//! | [`routes`] | the link API (links, validation, QR), probes, the OpenAPI document |
//! | [`send`] | the send API: accounts, messages, analytics, the operator API |
//! | [`verification`] | the verification API and the inbound messages that carry codes |
//! | [`meta`] | Meta's webhooks (handshake, signatures, dedupe) |
//! | [`storage`] | the server's tables in the shared database |
//! | [`error`] | the one error type and every code's status |
//! | [`extract`], [`middleware`] | strict queries and typed bodies; limits, ETags, request ids |
//! | [`bootstrap`] | opening the database and wiring everything for `main` and tests |

// utoipa's `#[utoipa::path(params(..))]` expands into fully qualified paths.
#![allow(unused_qualifications)]

pub mod bootstrap;
pub mod cache;
pub mod config;
pub mod crypto;
pub mod error;
pub mod extract;
pub mod limit;
pub mod meta;
pub mod metrics;
pub mod middleware;
pub mod routes;
pub mod send;
pub mod serve;
pub mod state;
pub mod storage;
pub mod verification;

use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, Method, header};
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::cors::{Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use bootstrap::{Server, build, build_with_clock};
pub use config::Config;
use error::{ApiError, LinkApi, SendApi};
pub use state::AppState;

/// Locks `m`, recovering from a poisoned lock (the data behind every lock here stays
/// consistent: each critical section is one insert, remove or read).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Paths whose errors take the send API's shape.
fn is_send_family(path: &str) -> bool {
    [
        "/auth/",
        "/send-message",
        "/messages",
        "/analytics",
        "/admin/",
        "/webhooks/",
        "/api/v1/verification_code",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// Answers 408 `request_timeout` (in the path's API family's shape) when the request,
/// body reading included, takes longer than `limit`.
async fn deadline(
    axum::extract::State(limit): axum::extract::State<std::time::Duration>,
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let send_family = is_send_family(req.uri().path());
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) if send_family => {
            ApiError::<SendApi>::new("request_timeout", "the request took too long").into_response()
        }
        Err(_) => {
            ApiError::<LinkApi>::new("request_timeout", "the request took too long").into_response()
        }
    }
}

async fn not_found(req: Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = req.uri().path();
    if is_send_family(path) {
        ApiError::<SendApi>::new("not_found", "no such endpoint").into_response()
    } else {
        ApiError::<LinkApi>::new("not_found", "no such endpoint").into_response()
    }
}

async fn method_not_allowed(req: Request) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = req.uri().path().to_owned();
    let message = format!("{} is not allowed on {path}", req.method());
    if is_send_family(&path) {
        ApiError::<SendApi>::new("method_not_allowed", message).into_response()
    } else {
        ApiError::<LinkApi>::new("method_not_allowed", message).into_response()
    }
}

/// `router` behind the JSON endpoints' per-IP limit (and response cache), as the link
/// API's JSON routes are.
///
/// # Examples
/// A route of your own behind the same stack as the link API's JSON routes:
/// ```no_run
/// # async fn demo(config: wa_server_example::Config) -> Result<(), String> {
/// use axum::{Router, routing::get};
/// use wa_server_example::{build, json_limited, with_shared_layers};
///
/// let server = build(config).await?;
/// let state = server.state.clone();
/// let ping = Router::new().route("/ping", get(|| async { "pong" }));
/// let app = with_shared_layers(json_limited(ping, &state).with_state(state.clone()), &state);
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
pub fn json_limited(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    router.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        middleware::limit_json,
    ))
}

/// The link API's routes.
fn link_api(state: AppState) -> Router {
    let json = Router::new()
        .route("/api/v1/username-link", get(routes::links::username_link))
        .route("/api/v1/phone-link", get(routes::links::phone_link))
        .route("/api/v1/validate/username", get(routes::validate::username))
        .route("/api/v1/validate/key", get(routes::validate::key))
        .route("/api/v1/validate/phone", get(routes::validate::phone))
        .route("/api/v1/openapi.json", get(routes::openapi::openapi_json))
        .route("/{short}", get(routes::short::short_link));
    let json = json_limited(json, &state);
    let qr = Router::new()
        .route("/api/v1/qr", get(routes::qr::qr))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::limit_qr,
        ));
    let probes = Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(metrics::readyz))
        .route("/metrics", get(metrics::metrics_text));
    // Static pages: not limited (the link API calls they make are).
    let pages = Router::new()
        .route("/", get(routes::pages::index))
        .route("/docs", get(routes::pages::docs))
        .route("/docs/redoc.standalone.js", get(routes::pages::redoc))
        .route("/llms.txt", get(routes::pages::llms));
    json.merge(qr).merge(probes).merge(pages).with_state(state)
}

/// Builds the HTTP application: each API family's router, merged, with the shared layers.
pub fn app(state: AppState) -> Router {
    let send = state.send.clone();
    let routes = link_api(state.clone())
        .merge(send::router(send.clone()))
        .merge(verification::router(send.clone()))
        .merge(meta::router(send))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    with_shared_layers(routes, &state)
}

/// The layers every route of [`app`] runs behind: the request deadline, ETags, metrics
/// and access log, request ids, tracing and CORS (see [`json_limited`] for an example).
pub fn with_shared_layers(routes: Router, state: &AppState) -> Router {
    let state_timeout = state.config.request_timeout_ms;
    let expose = [
        middleware::X_RATELIMIT_LIMIT.clone(),
        middleware::X_RATELIMIT_REMAINING.clone(),
        middleware::X_RATELIMIT_RESET.clone(),
        header::RETRY_AFTER,
        header::ETAG,
        HeaderName::from_static("x-request-id"),
        HeaderName::from_static("idempotency-replayed"),
    ];
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers(expose);
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
        // The path only: queries carry phone numbers and texts, which stay out of logs.
        let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
        tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
    });
    routes
        .layer(axum::middleware::from_fn_with_state(
            std::time::Duration::from_millis(state_timeout),
            deadline,
        ))
        .layer(axum::middleware::from_fn(middleware::etag))
        .layer(axum::middleware::from_fn(metrics::access))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(cors),
        )
}
