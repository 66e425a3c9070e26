//! Crash safety: a child process dispatching a 10,000-message batch from SQLite is killed
//! with SIGKILL mid-way and restarted; afterwards every message reached the (deduplicating)
//! fake Graph API and none is missing.
#![cfg(all(unix, feature = "sqlite", feature = "cloud-api"))]

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use serde_json::{Value, json};
use wa_send::queue::{QueueStore, SqlStore};
use wa_send::{
    CloudApiBackend, Content, DispatchConfig, Dispatcher, EnqueueRequest, Outbound, Recipient,
    SingleBackend, Status, SystemClock,
};

const TOTAL: usize = 10_000;

/// The child: enqueue (first run only), then dispatch until nothing is pending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by `crash_and_restart_loses_nothing` as a child process"]
async fn crash_child() {
    let (Ok(db), Ok(graph)) = (
        std::env::var("WA_CRASH_DB"),
        std::env::var("WA_CRASH_GRAPH"),
    ) else {
        return;
    };
    let store = Arc::new(SqlStore::open_url(&db).await.unwrap());
    let backend = CloudApiBackend::builder("token", "106540352242922")
        .base_url(graph)
        .build()
        .unwrap();
    let mut config = DispatchConfig::default();
    config.rate_per_second = None;
    config.pair_limit = None;
    config.lease_ms = 2_000;
    config.batch_size = 64;
    // Sends whose outcome the kill lost wait this long for a status that never comes here
    // (no webhooks in this test), then go again: the documented exception.
    config.reconcile_window_ms = 300;
    let d = Arc::new(
        Dispatcher::new(
            store.clone(),
            Arc::new(SingleBackend(Arc::new(backend))),
            Arc::new(SystemClock),
            config,
        )
        .unwrap(),
    );
    if std::env::var("WA_CRASH_ENQUEUE").is_ok() {
        for chunk in 0..TOTAL / 1000 {
            let items = (0..1000)
                .map(|i| {
                    let key = format!("crash-{}", chunk * 1000 + i);
                    let o = Outbound::new(
                        Recipient::parse("+14155552671").unwrap(),
                        Content::text(key.clone()),
                    )
                    .biz_opaque_callback_data(key);
                    EnqueueRequest::new(o)
                })
                .collect();
            assert_eq!(d.enqueue_bulk("acct", items).await.unwrap().queued(), 1000);
        }
    }
    while store.pending_count().await.unwrap() > 0 {
        if d.run_once().await.unwrap() == 0 {
            // Only leased messages of the killed process are left: wait for their leases.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn spawn_child(db: &str, graph: &str, enqueue: bool) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["crash_child", "--exact", "--ignored", "--test-threads=1"])
        .env("WA_CRASH_DB", db)
        .env("WA_CRASH_GRAPH", graph)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if enqueue {
        cmd.env("WA_CRASH_ENQUEUE", "1");
    }
    cmd.spawn().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_and_restart_loses_nothing() {
    // The fake Graph API: counts deliveries per message key (biz_opaque_callback_data).
    let seen: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let s2 = seen.clone();
    let app = Router::new().fallback(move |Json(body): Json<Value>| {
        let seen = s2.clone();
        async move {
            let key = body["biz_opaque_callback_data"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            *seen.lock().unwrap().entry(key.clone()).or_default() += 1;
            Json(json!({"messages": [{"id": format!("wamid.{key}")}]}))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let graph = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("crash.db").display());
    let distinct = || seen.lock().unwrap().len();

    let mut first = spawn_child(&db, &graph, true);
    #[allow(clippy::disallowed_methods)] // a wall-clock deadline for a real child process
    let deadline = Instant::now() + Duration::from_secs(300);
    while distinct() < TOTAL / 3 {
        assert!(
            first.try_wait().unwrap().is_none(),
            "the child finished before it could be killed"
        );
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        assert!(now < deadline, "the child made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let at_kill = distinct();
    assert!(at_kill < TOTAL, "killed mid-way");

    let mut second = spawn_child(&db, &graph, false);
    let status = tokio::task::spawn_blocking(move || second.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "the restarted child finishes cleanly");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), TOTAL, "every message reached the provider");
    let duplicates: u32 = seen.values().map(|n| n - 1).sum();
    // Only messages in flight at the kill may be sent twice (≤ one batch), and only because
    // no status webhook reconciles them in this test.
    assert!(duplicates <= 64, "{duplicates} duplicates");
    let store = SqlStore::open_url(&db).await.unwrap();
    assert_eq!(store.pending_count().await.unwrap(), 0);
    let mut filter = wa_send::queue::ListFilter::account("acct");
    filter.limit = 1000;
    let mut sent = 0;
    loop {
        let page = store.list(&filter).await.unwrap();
        let Some(last) = page.last() else { break };
        for r in &page {
            assert_eq!(r.status(), Status::Sent);
            let key = r.outbound.biz_opaque_callback_data.as_deref().unwrap();
            assert_eq!(
                r.provider_message_id.as_deref(),
                Some(format!("wamid.{key}").as_str())
            );
            sent += 1;
        }
        filter.after_id = Some(last.id.clone());
    }
    assert_eq!(sent, TOTAL);
    eprintln!(
        "crash test: killed after {at_kill} distinct sends; {duplicates} duplicate sends after restart"
    );
}
