//! The wa-kit reference server: the link API (`wa-validate`, `wa-links`, `wa-qr`), the send
//! API (accounts, hashed API keys, plans, `wa-send`'s durable queue and dispatcher), Meta's
//! webhooks and the WhatAuth-compatible verification API (`wa-verify`).

// utoipa's `#[utoipa::path(params(..))]` expands into fully qualified paths.
#![allow(unused_qualifications)]

pub mod accounts;
pub mod config;
pub mod crypto;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod payload;
pub mod routes;
pub mod send_api;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Method, Request, header};
use axum::routing::{get, post, put};
use tower::ServiceBuilder;
use tower_http::cors::{Any, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use config::Config;
use error::ApiError;
pub use state::AppState;

/// Builds the HTTP application.
pub fn app(state: AppState) -> Router {
    let json = Router::new()
        .route("/api/v1/username-link", get(routes::links::username_link))
        .route("/api/v1/phone-link", get(routes::links::phone_link))
        .route("/api/v1/validate/username", get(routes::validate::username))
        .route("/api/v1/validate/key", get(routes::validate::key))
        .route("/api/v1/validate/phone", get(routes::validate::phone))
        .route("/api/v1/openapi.json", get(routes::openapi::openapi_json))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::limit_json,
        ));
    let qr = Router::new()
        .route("/api/v1/qr", get(routes::qr::qr))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::limit_qr,
        ));
    let probes = Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz));
    let authed = Router::new()
        .route("/auth/me", get(routes::account::me))
        .route("/auth/me/rotate-key", post(routes::account::rotate_key))
        .route(
            "/auth/me/credentials",
            put(routes::account::put_credentials).delete(routes::account::delete_credentials),
        )
        .route(
            "/auth/me/credentials/verify",
            post(routes::account::verify_credentials),
        )
        .route("/auth/me/webhook", put(routes::account::put_webhook))
        .route("/send-message", post(routes::send::send_message))
        .route(
            "/messages/bulk",
            post(routes::send::bulk).layer(DefaultBodyLimit::max(16 * 1024 * 1024)),
        )
        .route("/messages", get(routes::send::list))
        .route("/messages/{id}", get(routes::send::get_message))
        .route("/messages/{id}/cancel", post(routes::send::cancel))
        .route(
            "/api/v1/verification_code",
            get(routes::verification::issue),
        )
        .route(
            "/api/v1/verification_code/{id}",
            get(routes::verification::get_one),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            send_api::authenticate,
        ));
    let register = Router::new()
        .route("/auth/register", post(routes::account::register))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            send_api::register_limit,
        ));
    let meta = Router::new()
        .route(
            "/webhooks/whatsapp",
            get(routes::inbound::handshake).post(routes::inbound::events),
        )
        .layer(DefaultBodyLimit::max(4 * 1024 * 1024));

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

    Router::new()
        .merge(json)
        .merge(qr)
        .merge(probes)
        .merge(authed)
        .merge(register)
        .merge(meta)
        .fallback(|| async { ApiError::new("not_found", "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new("method_not_allowed", "this endpoint answers GET only")
        })
        .layer(axum::middleware::from_fn(middleware::etag))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(cors),
        )
}
