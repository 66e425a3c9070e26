//! End-to-end throughput of wa-send: enqueue → dispatch → sent, for a batch of
//! `WA_BENCH_MESSAGES` messages (default 100,000), with peak RSS per phase.
//!
//! Three pipelines in one run, so the figures are comparable as ratios:
//! 1. baseline: `MemoryStore` + `DryRunBackend` (no I/O at all);
//! 2. `SqlStore` on SQLite (WAL, synchronous=FULL) + `DryRunBackend`;
//! 3. `SqlStore` on SQLite + `CloudApiBackend` against a fake Graph API on 127.0.0.1.
//!
//! `cargo bench -p wa-benches --bench dispatch` (pacing off: this measures the machinery,
//! not Meta's 80 msg/s default). `WA_BENCH_ONLY=memory|sqlite|cloud` runs one pipeline
//! alone, for a peak RSS that earlier pipelines' freed memory cannot inflate.
#![allow(missing_docs, clippy::disallowed_methods)] // a bench binary; wall-clock timing is its purpose

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use serde_json::{Value, json};
use wa_send::queue::{MemoryStore, QueueStore, SqlStore};
use wa_send::{
    CloudApiBackend, Content, DispatchConfig, Dispatcher, DryRunBackend, EnqueueRequest, Outbound,
    Recipient, SharedBackend, SingleBackend, SystemClock,
};

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn reset_peak_rss() {
    // Linux: writing 5 resets VmHWM to the current RSS.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

struct Phase {
    name: &'static str,
    enqueue: Duration,
    dispatch: Duration,
    peak_rss_mib: f64,
}

async fn run(
    name: &'static str,
    n: usize,
    store: Arc<dyn QueueStore>,
    backend: SharedBackend,
) -> Phase {
    reset_peak_rss();
    let mut config = DispatchConfig::default();
    config.rate_per_second = None;
    config.pair_limit = None;
    config.batch_size = 256;
    config.bulk_cap = 10_000;
    let d = Arc::new(
        Dispatcher::new(
            store.clone(),
            Arc::new(SingleBackend(backend)),
            Arc::new(SystemClock),
            config,
        )
        .unwrap(),
    );
    let started = Instant::now();
    for chunk in 0..n.div_ceil(10_000) {
        let items = (chunk * 10_000..((chunk + 1) * 10_000).min(n))
            .map(|i| {
                let o = Outbound::new(
                    Recipient::parse("+14155552671").unwrap(),
                    Content::text(format!("message {i}")),
                )
                .biz_opaque_callback_data(format!("k{i}"));
                EnqueueRequest::new(o)
            })
            .collect();
        d.enqueue_bulk("acct", items).await.unwrap();
    }
    let enqueue = started.elapsed();
    let started = Instant::now();
    while d.run_once().await.unwrap() > 0 {}
    let dispatch = started.elapsed();
    assert_eq!(store.pending_count().await.unwrap(), 0);
    Phase {
        name,
        enqueue,
        dispatch,
        peak_rss_mib: peak_rss_kib() as f64 / 1024.0,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing useful: run small.
    let n: usize = std::env::var("WA_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let app = Router::new().fallback(|Json(body): Json<Value>| async move {
            Json(json!({"messages": [{"id": format!("wamid.{}", body["biz_opaque_callback_data"].as_str().unwrap_or(""))}]}))
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let graph = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let dir = tempfile::tempdir().unwrap();

        let only = std::env::var("WA_BENCH_ONLY").unwrap_or_default();
        let wanted = |name: &str| only.is_empty() || only == name;
        let mut phases = Vec::new();
        if wanted("memory") {
            phases.push(run("memory + dry-run (baseline)", n, Arc::new(MemoryStore::new()), Arc::new(DryRunBackend::new())).await);
        }
        if wanted("sqlite") {
            let sqlite = Arc::new(SqlStore::open_url(&format!("sqlite://{}", dir.path().join("a.db").display())).await.unwrap());
            phases.push(run("sqlite + dry-run", n, sqlite, Arc::new(DryRunBackend::new())).await);
        }
        if wanted("cloud") {
            let sqlite = Arc::new(SqlStore::open_url(&format!("sqlite://{}", dir.path().join("b.db").display())).await.unwrap());
            let cloud = CloudApiBackend::builder("token", "106540352242922").base_url(graph).build().unwrap();
            phases.push(run("sqlite + Cloud API (loopback fake)", n, sqlite, Arc::new(cloud)).await);
        }

        let base = phases[0].dispatch.as_secs_f64() + phases[0].enqueue.as_secs_f64();
        println!("{n} messages, enqueue → dispatch → sent (pacing off)");
        println!("{:<38} {:>12} {:>12} {:>12} {:>10} {:>14}", "pipeline", "enqueue/s", "dispatch/s", "end-to-end/s", "× base", "peak RSS MiB");
        for p in &phases {
            let total = p.enqueue.as_secs_f64() + p.dispatch.as_secs_f64();
            println!(
                "{:<38} {:>12.0} {:>12.0} {:>12.0} {:>10.3} {:>14.1}",
                p.name,
                n as f64 / p.enqueue.as_secs_f64(),
                n as f64 / p.dispatch.as_secs_f64(),
                n as f64 / total,
                base / total,
                p.peak_rss_mib
            );
        }
    });
}
