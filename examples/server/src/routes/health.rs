//! Liveness and readiness.

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "Alive", body = String, content_type = "text/plain")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: phone metadata is loaded in `main` before the listener opens, so answering
/// means ready.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, description = "Ready", body = String, content_type = "text/plain")))]
pub async fn readyz() -> &'static str {
    "ready"
}
