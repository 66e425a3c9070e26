//! Liveness and readiness.

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", operation_id = "liveness", responses((status = 200, description = "Alive", body = String, content_type = "text/plain")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers and the dispatcher's loop ran in the last 30 s (phone
/// metadata is loaded before the listener opens). The answer is
/// [`crate::metrics::readyz`]'s; this item documents it.
#[utoipa::path(get, path = "/readyz", tag = "health", operation_id = "readiness",
    responses(
        (status = 200, description = "Ready", body = String, content_type = "text/plain"),
        (status = 503, description = "Not ready, and why", body = String, content_type = "text/plain"),
    ),
    security(())
)]
pub async fn readyz() -> &'static str {
    "ready"
}
