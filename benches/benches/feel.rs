//! What users feel, each against its own baseline in the same run:
//!
//! 1. **Pacing accuracy**: one business number with 80 msg/s configured (Meta's default
//!    throughput), a backlog far larger than the window, the real clock; messages per
//!    second over the window against the configured 80 (target 80 ± 5 %).
//!    `WA_BENCH_PACING_SECS` (default 10; 60 for the full window).
//! 2. **Server memory under a 100k bulk**: the real router in-process on SQLite,
//!    100,000 messages accepted as 1,000 bulk calls of 100 (the free plan's cap), peak RSS
//!    (`VmHWM`) against the same process's RSS before the first call (target < 300 MB).
//!
//! `cargo bench -p wa-benches --bench feel`.
#![allow(missing_docs, clippy::disallowed_methods)] // a bench binary; wall-clock timing is its purpose

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::Request;
use clap::Parser;
use serde_json::{Value, json};
use tower::ServiceExt;
use wa_send::queue::MemoryStore;
use wa_send::{
    Content, DispatchConfig, Dispatcher, DryRunBackend, EnqueueRequest, Outbound, Recipient,
    SingleBackend, Status, SystemClock,
};

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn pacing(secs: u64) {
    let configured = 80u32;
    let mut config = DispatchConfig::default();
    config.rate_per_second = Some(configured);
    config.pair_limit = None;
    config.bulk_cap = 100_000;
    let d = Arc::new(
        Dispatcher::new(
            Arc::new(MemoryStore::new()),
            Arc::new(SingleBackend(Arc::new(DryRunBackend::new()))),
            Arc::new(SystemClock),
            config,
        )
        .unwrap(),
    );
    let backlog = (secs as usize + 5) * configured as usize * 2;
    let items = (0..backlog)
        .map(|i| {
            EnqueueRequest::new(Outbound::new(
                Recipient::parse(&format!("+1415555{:04}", i % 10_000)).unwrap(),
                Content::text(format!("m{i}")),
            ))
        })
        .collect();
    d.enqueue_bulk("pacing", items).await.unwrap();
    let sent = async || {
        let s = d.summary("pacing").await.unwrap();
        s.count(Status::Sent) + s.count(Status::Delivered) + s.count(Status::Read)
    };
    let (stop_tx, mut stop) = tokio::sync::watch::channel(false);
    let run = tokio::spawn(d.clone().run(Duration::from_millis(5), async move {
        let _ = stop.wait_for(|s| *s).await;
    }));
    // Skip the initial burst: measure a steady window.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (start_n, started) = (sent().await, Instant::now());
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let n = sent().await - start_n;
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let _ = stop_tx.send(true);
    let _ = run.await;
    println!(
        "pacing: {rate:.1} msg/s over {secs} s against {configured} configured = {:.1} % (target 100 ± 5 %)",
        rate / f64::from(configured) * 100.0
    );
}

async fn call(router: &axum::Router, req: Request<Body>) -> Value {
    let resp = router.clone().oneshot(req).await.unwrap();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

async fn bulk_memory(total: usize) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("feel.db").display());
    let config = wa_server_example::Config::parse_from([
        "wa-server-example",
        "--database",
        &db,
        "--plan-limit-multiplier",
        "1000000",
    ]);
    let mut server = wa_server_example::build(config).await.unwrap();
    let router = server
        .router()
        .layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 9], 1))));
    let (stop_tx, mut stop) = tokio::sync::watch::channel(false);
    let background = tokio::spawn(async move {
        server
            .run_background(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
    });
    let reg = call(
        &router,
        Request::post("/auth/register")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"name":"feel","email":"feel@example.com"}"#))
            .unwrap(),
    )
    .await;
    let key = reg["data"]["apiKey"].as_str().unwrap().to_owned();
    let before = peak_rss_mb();
    let started = Instant::now();
    let mut queued = 0u64;
    for call_no in 0..total / 100 {
        let messages: Vec<Value> = (0..100)
            .map(|i| json!({"to": format!("1415555{:04}", (call_no * 100 + i) % 10_000), "message": format!("Order {call_no}-{i} has shipped. Thanks for shopping with us!")}))
            .collect();
        let v = call(
            &router,
            Request::post("/messages/bulk")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {key}"))
                .body(Body::from(json!({"messages": messages}).to_string()))
                .unwrap(),
        )
        .await;
        queued += v["data"]["queued"].as_u64().unwrap_or(0);
    }
    let accepted_in = started.elapsed();
    let after = peak_rss_mb();
    let _ = stop_tx.send(true);
    let _ = background.await;
    println!(
        "bulk memory: {queued} of {total} queued in {:.1} s; peak RSS {after:.0} MB against {before:.0} MB before the first call (+{:.0} MB; target < 300 MB)",
        accepted_in.as_secs_f64(),
        after - before
    );
}

fn main() {
    let secs = std::env::var("WA_BENCH_PACING_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        pacing(secs).await;
        bulk_memory(100_000).await;
    });
}
