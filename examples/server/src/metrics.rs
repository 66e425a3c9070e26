//! Operations: `/metrics` (Prometheus text, via the `metrics` facade and
//! `metrics-exporter-prometheus`), the per-request access log and request metrics, and
//! `/readyz` (the database answers and the dispatcher loop ticked recently).
//!
//! | metric | kind | what |
//! |---|---|---|
//! | `http_requests_total{method,route,status}` | counter | requests answered |
//! | `http_request_duration_seconds{method,route}` | histogram | time to answer |
//! | `wa_rate_limited_total{limit}` | counter | 429s by limit (`ip_json`, `ip_qr`, `plan`, `register`) |
//! | `wa_send_attempts_total`, `wa_messages_sent_total`, `wa_messages_failed_total`, `wa_messages_retried_total`, `wa_messages_throttled_total` | counter | dispatcher outcomes |
//! | `wa_messages_unknown_outcome_total`, `wa_messages_reconciled_total`, `wa_messages_resent_after_unknown_total` | counter | crash recovery |
//! | `wa_send_latency_seconds_total` | counter | summed send latency (divide by attempts) |
//! | `wa_statuses_applied_total` | counter | provider statuses applied |
//! | `wa_store_errors_total` | counter | store failures (each logged; writes retried) |
//! | `wa_webhook_attempts_total`, `wa_webhooks_delivered_total`, `wa_webhooks_failed_total`, `wa_webhook_errors_total` | counter | outbound webhooks |
//! | `wa_queue_depth`, `wa_queue_oldest_due_age_seconds`, `wa_webhooks_pending` | gauge | the queue now |
//! | `wa_circuits_open` | gauge | accounts whose circuit is open |
//! | `wa_dispatcher_tick_age_seconds` | gauge | since the send loop last ran |
//! | `wa_verifications_total{outcome}` | counter | verification messages by outcome |

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// The process's recorder (installed once; every server in the process shares it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
            .unwrap_or_else(|_| PrometheusBuilder::new());
        match builder.install_recorder() {
            Ok(h) => h,
            // Another recorder is installed (a test harness): render from an unused one.
            Err(_) => PrometheusBuilder::new().build_recorder().handle(),
        }
    })
}

/// Counts a 429 of `limit`.
pub fn rate_limited(limit: &'static str) {
    metrics::counter!("wa_rate_limited_total", "limit" => limit).increment(1);
}

/// Counts a verification message's outcome.
pub fn verification(outcome: &'static str) {
    metrics::counter!("wa_verifications_total", "outcome" => outcome).increment(1);
}

/// One access-log line per request at `info` (method, route, status, latency, request id;
/// never the query or the body), and the request metrics.
pub async fn access(req: Request, next: Next) -> Response {
    let _ = handle();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    #[allow(clippy::disallowed_methods)] // request latency is wall-clock time
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    tracing::info!(method = %method, route = %route, status, latency_ms = elapsed.as_secs_f64() * 1000.0, request_id = %id, "request");
    metrics::counter!("http_requests_total", "method" => method.to_string(), "route" => route.clone(), "status" => status.to_string()).increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method.to_string(), "route" => route).record(elapsed.as_secs_f64());
    resp
}

fn secs_since(now: wa_send::Timestamp, t: Option<wa_send::Timestamp>) -> f64 {
    t.map_or(0.0, |t| now.millis_since(t) as f64 / 1000.0)
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(
    get, path = "/metrics", tag = "health", operation_id = "metrics",
    responses((status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain")),
    security(())
)]
pub async fn metrics_text(State(state): State<AppState>) -> Response {
    let d = &state.send.dispatcher;
    let s = d.stats().snapshot();
    let counters: [(&'static str, u64); 14] = [
        ("wa_send_attempts_total", s.attempts),
        ("wa_messages_sent_total", s.sent),
        ("wa_messages_failed_total", s.failed),
        ("wa_messages_retried_total", s.retried),
        ("wa_messages_throttled_total", s.throttled),
        ("wa_messages_unknown_outcome_total", s.unknown_outcomes),
        ("wa_messages_reconciled_total", s.reconciled),
        (
            "wa_messages_resent_after_unknown_total",
            s.resent_after_unknown,
        ),
        ("wa_store_errors_total", s.store_errors),
        ("wa_statuses_applied_total", s.statuses_applied),
        ("wa_webhook_attempts_total", s.webhook_attempts),
        ("wa_webhooks_delivered_total", s.webhooks_delivered),
        ("wa_webhooks_failed_total", s.webhooks_failed),
        ("wa_webhook_errors_total", s.webhook_errors),
    ];
    for (name, v) in counters {
        metrics::counter!(name).absolute(v);
    }
    metrics::gauge!("wa_send_latency_seconds_total").set(s.send_latency_ms_total as f64 / 1000.0);
    let now = state.send.now();
    if let Ok(q) = d.store().stats().await {
        metrics::gauge!("wa_queue_depth").set(q.pending as f64);
        let oldest = q.oldest_due.filter(|t| *t <= now);
        metrics::gauge!("wa_queue_oldest_due_age_seconds").set(secs_since(now, oldest));
        metrics::gauge!("wa_webhooks_pending").set(q.webhooks_pending as f64);
    }
    metrics::gauge!("wa_circuits_open").set(d.open_circuits() as f64);
    metrics::gauge!("wa_dispatcher_tick_age_seconds").set(secs_since(now, s.last_tick));
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        handle().render(),
    )
        .into_response()
}

/// How stale the dispatcher's last tick may be for `/readyz`.
pub const READY_TICK: Duration = Duration::from_secs(30);

/// Why the server is not ready, if it is not.
pub async fn not_ready(state: &AppState) -> Option<String> {
    if let Err(e) = state.send.accounts.database().ping().await {
        return Some(format!("database: {}", e.code()));
    }
    let tick = state.send.dispatcher.stats().snapshot().last_tick;
    match tick {
        None => Some("dispatcher: not started".to_owned()),
        Some(t) if state.send.now().millis_since(t) > READY_TICK.as_millis() as u64 => {
            Some("dispatcher: its loop has not run for 30 s".to_owned())
        }
        Some(_) => None,
    }
}

/// `/readyz` answer.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match not_ready(&state).await {
        None => "ready".into_response(),
        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}")).into_response(),
    }
}
