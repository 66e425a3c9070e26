//! The wa-kit reference server.
//!
//! This is the placeholder that later issues grow into the full link, send and
//! verification API; today it answers `GET /healthz` and `GET /readyz`.

use axum::{Router, routing::get};

/// Builds the HTTP application. Tests call this directly with `tower::ServiceExt::oneshot`.
pub fn app() -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz() -> &'static str {
    // The phone metadata is loaded eagerly in `main` before the listener opens,
    // so being able to answer means being ready.
    "ready"
}
