//! End-to-end dispatch through the real server: messages per second from the first
//! `POST /send-message` to the last message `sent`, on SQLite, with 64 concurrent API
//! writers over 4 accounts, against a fake Graph API on loopback. In the same run:
//!
//! 1. baseline: the crate alone (`SqlStore` on SQLite + `CloudApiBackend` against the same
//!    fake, `Dispatcher::run`), no HTTP API;
//! 2. the server, no status webhooks;
//! 3. the server, every account with a status webhook whose receiver takes 10 s per call.
//!
//! `cargo bench -p wa-benches --bench server` (`WA_BENCH_MESSAGES`, default 10,000).
#![allow(missing_docs, clippy::disallowed_methods)] // a bench binary; wall-clock timing is its purpose

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use clap::Parser;
use serde_json::{Value, json};
use wa_send::queue::{QueueStore, SqlStore};
use wa_send::{
    CloudApiBackend, Content, DispatchConfig, Dispatcher, EnqueueRequest, Outbound, Recipient,
    SingleBackend, SystemClock,
};

const ACCOUNTS: usize = 4;
const WRITERS: usize = 64;

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn recipient(i: usize) -> String {
    format!("1415{:03}{:04}", 555 + (i / 10_000) % 400, 2000 + i % 8000)
}

async fn fake_graph() -> String {
    serve(Router::new().fallback(|uri: axum::http::Uri, body: axum::body::Bytes| async move {
        if body.is_empty() {
            let pnid = uri.path().split('/').nth(2).unwrap_or_default().to_owned();
            return Json(json!({"id": pnid, "display_phone_number": "+1 555 000 1111", "verified_name": "Bench"}));
        }
        Json(json!({"messages": [{"id": "wamid.BENCH"}]}))
    }))
    .await
}

async fn crate_alone(n: usize, graph: &str, dir: &std::path::Path) -> f64 {
    let store = Arc::new(
        SqlStore::open_url(&format!("sqlite://{}", dir.join("crate.db").display()))
            .await
            .unwrap(),
    );
    let mut config = DispatchConfig::default();
    config.rate_per_second = None;
    config.pair_limit = None;
    config.bulk_cap = 10_000;
    let cloud = CloudApiBackend::builder("token", "106540352242922")
        .base_url(graph)
        .build()
        .unwrap();
    let d = Arc::new(
        Dispatcher::new(
            store.clone(),
            Arc::new(SingleBackend(Arc::new(cloud))),
            Arc::new(SystemClock),
            config,
        )
        .unwrap(),
    );
    let (stop_tx, mut stop) = tokio::sync::watch::channel(false);
    let run = tokio::spawn(d.clone().run(Duration::from_millis(20), async move {
        let _ = stop.wait_for(|s| *s).await;
    }));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let d = d.clone();
        tasks.spawn(async move {
            for i in (w..n).step_by(WRITERS) {
                let o = Outbound::new(
                    Recipient::parse(&format!("+{}", recipient(i))).unwrap(),
                    Content::text(format!("message {i}")),
                );
                d.enqueue(&format!("acct{}", i % ACCOUNTS), EnqueueRequest::new(o))
                    .await
                    .unwrap();
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    while store.pending_count().await.unwrap() > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let _ = stop_tx.send(true);
    let _ = run.await;
    rate
}

/// A replica of the server on `db`: its base URL, and the sender that stops it.
async fn replica(
    db: &str,
    graph: &str,
) -> (
    String,
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let config = wa_server_example::Config::parse_from([
        "wa-server-example",
        "--database",
        db,
        "--graph-base-url",
        graph,
        "--plan-limit-multiplier",
        "100000",
        "--dispatch-rate",
        "1000",
        "--poll-ms",
        "20",
        "--allow-private-targets",
    ]);
    let mut server = wa_server_example::build(config).await.unwrap();
    let router = server.router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let (stop_tx, mut stop) = tokio::sync::watch::channel(false);
    let background = tokio::spawn(async move {
        server
            .run_background(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
    });
    (base, stop_tx, background)
}

/// `n` messages through `replicas` servers on the database `db` (writers spread over
/// them); messages per second from the first request to the last `sent`.
async fn through_server(
    n: usize,
    graph: &str,
    hook: Option<&str>,
    db: &str,
    replicas: usize,
    name: &str,
) -> f64 {
    let mut servers = Vec::new();
    for _ in 0..replicas {
        servers.push(replica(db, graph).await);
    }
    let bases: Arc<Vec<String>> = Arc::new(servers.iter().map(|s| s.0.clone()).collect());
    let base = bases[0].clone();
    let c = reqwest::Client::builder()
        .pool_max_idle_per_host(WRITERS)
        .build()
        .unwrap();
    let mut keys = Vec::new();
    for a in 0..ACCOUNTS {
        let r: Value = c
            .post(format!("{base}/auth/register"))
            .json(&json!({"name": "bench", "email": format!("b{a}@bench.example")}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let key = r["data"]["apiKey"].as_str().unwrap().to_owned();
        let put = c.put(format!("{base}/auth/me/credentials")).bearer_auth(&key)
            .json(&json!({"whatsappAccessToken": "EAAG-bench", "whatsappPhoneNumberId": format!("20000000000{a}")}))
            .send().await.unwrap();
        assert_eq!(put.status(), 200);
        if let Some(h) = hook {
            let r = c
                .put(format!("{base}/auth/me/webhook"))
                .bearer_auth(&key)
                .json(&json!({"url": h}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        keys.push(key);
    }
    let keys = Arc::new(keys);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (c, bases, keys) = (c.clone(), bases.clone(), keys.clone());
        tasks.spawn(async move {
            let base = &bases[w % bases.len()];
            for i in (w..n).step_by(WRITERS) {
                let body = json!({"to": recipient(i), "message": format!("message {i}")});
                let r = c
                    .post(format!("{base}/send-message"))
                    .bearer_auth(&keys[i % ACCOUNTS])
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 202);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let accepted = started.elapsed();
    loop {
        let mut sent = 0;
        for key in keys.iter() {
            let v: Value = c
                .get(format!("{base}/analytics/summary"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            sent += v["data"]["byStatus"]["sent"].as_u64().unwrap_or(0);
        }
        if sent as usize >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = started.elapsed();
    println!(
        "  {name}: accepted in {:.2} s ({:.0} req/s), all sent after {:.2} s",
        accepted.as_secs_f64(),
        n as f64 / accepted.as_secs_f64(),
        total.as_secs_f64()
    );
    for (_, stop_tx, background) in servers {
        let _ = stop_tx.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), background).await;
    }
    n as f64 / total.as_secs_f64()
}

fn main() {
    let n: usize = std::env::var("WA_BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let graph = fake_graph().await;
        let slow_hook = serve(Router::new().fallback(|| async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            "late"
        }))
        .await;
        let dir = tempfile::tempdir().unwrap();
        println!("{n} messages, {WRITERS} concurrent writers, {ACCOUNTS} accounts, SQLite, accepted → sent");
        let sqlite = |name: &str| format!("sqlite://{}", dir.path().join(format!("{name}.db")).display());
        if std::env::var("WA_BENCH_ONLY").as_deref() == Ok("postgres") {
            // Profiling aid: the PostgreSQL rows alone.
            let pg = wa_send::queue::testing::fresh_postgres_url().await.unwrap();
            let replicas = std::env::var("WA_BENCH_REPLICAS").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
            let rate = through_server(n, &graph, None, &pg, replicas, "postgres").await;
            println!("{replicas} replica(s) on PostgreSQL: {rate:.0} msg/s");
            return;
        }
        let base = crate_alone(n, &graph, dir.path()).await;
        let plain = through_server(n, &graph, None, &sqlite("server"), 1, "server").await;
        let hooked = through_server(n, &graph, Some(&format!("{slow_hook}/hook")), &sqlite("slow"), 1, "server-slow-webhooks").await;
        println!("{:<46} {:>10} {:>10}", "pipeline", "msg/s", "× crate");
        println!("{:<46} {:>10.0} {:>10.3}", "crate alone (Dispatcher::run, no HTTP)", base, 1.0);
        println!("{:<46} {:>10.0} {:>10.3}", "server: POST /send-message → sent", plain, plain / base);
        println!("{:<46} {:>10.0} {:>10.3}", "server, webhook receiver taking 10 s per call", hooked, hooked / base);
        println!("slow webhooks change send throughput by {:+.1} %", (hooked / plain - 1.0) * 100.0);
        // Scale-out: one and two replicas on one PostgreSQL database, against one on SQLite.
        if std::env::var_os("WA_TEST_POSTGRES_URL").is_some() {
            let pg1 = wa_send::queue::testing::fresh_postgres_url().await.unwrap();
            let one = through_server(n, &graph, None, &pg1, 1, "postgres-1").await;
            let pg2 = wa_send::queue::testing::fresh_postgres_url().await.unwrap();
            let two = through_server(n, &graph, None, &pg2, 2, "postgres-2").await;
            println!("{:<46} {:>10} {:>10}", "scale-out", "msg/s", "ratio");
            println!("{:<46} {:>10.0} {:>10.3}", "one replica on SQLite (baseline)", plain, 1.0);
            println!("{:<46} {:>10.0} {:>10.3}", "one replica on PostgreSQL (× SQLite)", one, one / plain);
            println!("{:<46} {:>10.0} {:>10.3}", "two replicas on PostgreSQL (× one PostgreSQL)", two, two / one);
        } else {
            println!("scale-out rows skipped: set WA_TEST_POSTGRES_URL to a PostgreSQL database");
        }
    });
}
