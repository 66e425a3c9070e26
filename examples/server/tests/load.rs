//! Load through the real binary on SQLite: 4 accounts × 1,000 single sends plus a bulk each,
//! with list and get calls in between, against a fake Graph API that records every POST,
//! is sometimes slow, and sends Meta's status webhooks back (retrying until they are
//! accepted, as Meta does). Asserts no message is sent twice (by our id and by body), none
//! is lost and none is left `processing`. A second run SIGKILLs the server halfway and
//! restarts it on the same database.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use serde_json::{Value, json};

mod common;
use common::{
    GraphCall, deliver_meta_webhook, free_port, graph_accepted, graph_phone_info, serve,
    status_notification,
};

const APP_SECRET: &str = "load-app-secret";
const ACCOUNTS: usize = 4;
const SINGLES: usize = 1000;
const BULK: usize = 100;

#[derive(Default)]
struct Fake {
    /// POSTs per `biz_opaque_callback_data` (our message id) and per body text.
    by_tag: HashMap<String, u32>,
    by_body: HashMap<String, u32>,
    posts: u64,
    /// Where status webhooks go (the server; changes across a restart only in port).
    server: Option<String>,
}

type Shared = Arc<Mutex<Fake>>;

/// Meta's status webhook for `wamid`, retried until the server answers 200.
async fn deliver_status(
    fake: Shared,
    pnid: String,
    wamid: String,
    tag: String,
    status: &'static str,
) {
    let body = status_notification(&pnid, &wamid, status, &tag);
    deliver_meta_webhook(&body, APP_SECRET, |_| fake.lock().unwrap().server.clone()).await;
}

async fn graph(
    State(fake): State<Shared>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> (StatusCode, axum::Json<Value>) {
    let GraphCall { pnid, tag, text } = GraphCall::read(&uri, &body);
    if method == Method::GET {
        return (StatusCode::OK, graph_phone_info(&pnid, "Load"));
    }
    let n = {
        let mut f = fake.lock().unwrap();
        *f.by_tag.entry(tag.clone()).or_default() += 1;
        *f.by_body.entry(text).or_default() += 1;
        f.posts += 1;
        f.posts
    };
    // Accepted: like Meta, the statuses follow whether or not the caller stays connected.
    let wamid = format!("wamid.LOAD{n}");
    for status in ["sent", "delivered"] {
        tokio::spawn(deliver_status(
            fake.clone(),
            pnid.clone(),
            wamid.clone(),
            tag.clone(),
            status,
        ));
    }
    if n % 50 == 0 {
        // Sometimes slow, like a real upstream.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    (StatusCode::OK, graph_accepted(&wamid))
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start(graph: &str, db: &std::path::Path, port: u16) -> Server {
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_wa-server-example"))
            .args([
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--graph-base-url",
                graph,
            ])
            .args(["--meta-app-secret", APP_SECRET, "--meta-verify-token", "t"])
            .args([
                "--allow-private-targets",
                "--poll-ms",
                "20",
                "--plan-limit-multiplier",
                "1000",
            ])
            .args([
                "--dispatch-rate",
                "1000",
                "--reconcile-ms",
                "3000",
                "--webhook-retry-ms",
                "50",
            ])
            // Sends take milliseconds here: a short lease finds the killed server's orphans soon.
            .args(["--lease-ms", "5000"])
            .arg("--database")
            .arg(db)
            .env("RUST_LOG", "wa_send=info,wa_server_example=info")
            .stdout(log_file(db))
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..400 {
        if reqwest::get(format!("{base}/healthz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let _ = server.0.kill();
    panic!("server did not start");
}

/// The server's log, next to its database (kept when `WA_TEST_KEEP_LOGS` is set).
fn log_file(db: &std::path::Path) -> Stdio {
    match std::env::var_os("WA_TEST_KEEP_LOGS") {
        Some(dir) => {
            let name = format!(
                "{}-{}.log",
                db.file_stem().unwrap().to_string_lossy(),
                std::process::id()
            );
            let path = std::path::Path::new(&dir).join(name);
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap();
            Stdio::from(f)
        }
        None => Stdio::null(),
    }
}

/// Registers an account with Meta credentials (verified) and a status webhook.
async fn account(c: &reqwest::Client, base: &str, i: usize, hooks: &str) -> String {
    let r: Value =
        common::register(c, base, &format!("load{i}"), &format!("l{i}@load.example")).await;
    let key = r["data"]["apiKey"].as_str().unwrap().to_owned();
    let auth = format!("Bearer {key}");
    let r = c.put(format!("{base}/auth/me/credentials")).header("authorization", &auth)
        .json(&json!({"whatsappAccessToken": "EAAG-load", "whatsappPhoneNumberId": format!("10000000000{i}")}))
        .send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(format!("{base}/auth/me/credentials/verify"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = c
        .put(format!("{base}/auth/me/webhook"))
        .header("authorization", &auth)
        .json(&json!({"url": format!("{hooks}/events")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    key
}

/// Sends the load; returns the ids the server accepted (202). Stops early (without
/// failing) once `stop_after` sends were accepted, or when the server goes away.
async fn load(base: String, keys: Vec<String>, stop_after: usize) -> Vec<String> {
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let c = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for (a, key) in keys.iter().enumerate() {
        for worker in 0..8 {
            let (c, base, key, accepted) = (c.clone(), base.clone(), key.clone(), accepted.clone());
            tasks.spawn(async move {
                for i in (worker..SINGLES).step_by(8) {
                    if accepted.lock().unwrap().len() >= stop_after {
                        return;
                    }
                    // One recipient per message: Meta's pair limit (1 per 6 s per recipient)
                    // is not what this test measures.
                    let body = json!({"to": format!("1415555{:04}", 2000 + i), "message": format!("acct{a} single {i}")});
                    let Ok(r) = c.post(format!("{base}/send-message")).bearer_auth(&key).json(&body).send().await else {
                        return;
                    };
                    if r.status() == 202 {
                        let v: Value = r.json().await.unwrap();
                        accepted.lock().unwrap().push(v["data"]["id"].as_str().unwrap().to_owned());
                    } else {
                        panic!("send refused: {} {}", r.status(), r.text().await.unwrap_or_default());
                    }
                    if i % 25 == 0 {
                        // Reads in between, as a dashboard would.
                        let _ = c.get(format!("{base}/messages?limit=50")).bearer_auth(&key).send().await;
                    }
                }
            });
        }
        let (c, base, key, accepted) = (c.clone(), base.clone(), key.clone(), accepted.clone());
        tasks.spawn(async move {
            let messages: Vec<Value> = (0..BULK)
                .map(|i| json!({"to": format!("1415556{:04}", 2000 + i), "message": format!("acct{a} bulk {i}")}))
                .collect();
            let Ok(r) = c.post(format!("{base}/messages/bulk")).bearer_auth(&key).json(&json!({"messages": messages})).send().await else {
                return;
            };
            if r.status() == 202 {
                let v: Value = r.json().await.unwrap();
                for item in v["data"]["results"].as_array().unwrap() {
                    accepted.lock().unwrap().push(item["id"].as_str().unwrap().to_owned());
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    accepted.lock().unwrap().clone()
}

struct Outcome {
    accepted: usize,
    posts: u64,
    duplicates_by_id: u32,
    duplicates_by_body: u32,
    lost: usize,
}

/// Waits until every accepted id reached the fake and no message is pending.
async fn settle(fake: &Shared, base: &str, keys: &[String], accepted: &[String]) -> Outcome {
    let c = reqwest::Client::new();
    for _ in 0..1200 {
        let reached = {
            let f = fake.lock().unwrap();
            accepted
                .iter()
                .filter(|id| f.by_tag.contains_key(&format!("wa-kit:{id}")))
                .count()
        };
        let mut pending = 0;
        for key in keys {
            for status in ["queued", "processing", "retrying"] {
                let v: Value = c
                    .get(format!("{base}/messages?status={status}&limit=200"))
                    .bearer_auth(key)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                pending += v["data"]["messages"].as_array().map_or(0, Vec::len);
            }
        }
        if reached == accepted.len() && pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let f = fake.lock().unwrap();
    Outcome {
        accepted: accepted.len(),
        posts: f.posts,
        duplicates_by_id: f.by_tag.values().map(|n| n - 1).sum(),
        duplicates_by_body: f.by_body.values().map(|n| n - 1).sum(),
        lost: accepted
            .iter()
            .filter(|id| !f.by_tag.contains_key(&format!("wa-kit:{id}")))
            .count(),
    }
}

async fn processing(base: &str, keys: &[String]) -> usize {
    let c = reqwest::Client::new();
    let mut n = 0;
    for key in keys {
        let v: Value = c
            .get(format!("{base}/messages?status=processing&limit=200"))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        n += v["data"]["messages"].as_array().map_or(0, Vec::len);
    }
    n
}

async fn rig() -> (Shared, String, String, tempfile::TempDir) {
    let fake: Shared = Arc::default();
    let graph_url = serve(Router::new().fallback(graph).with_state(fake.clone())).await;
    let hooks = serve(Router::new().fallback(|| async { StatusCode::NO_CONTENT })).await;
    (fake, graph_url, hooks, tempfile::tempdir().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_are_dispatched_exactly_once() {
    let (fake, graph_url, hooks, dir) = rig().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _server = start(&graph_url, &dir.path().join("load.db"), port).await;
    fake.lock().unwrap().server = Some(base.clone());
    let c = reqwest::Client::new();
    let mut keys = Vec::new();
    for i in 0..ACCOUNTS {
        keys.push(account(&c, &base, i, &hooks).await);
    }
    let accepted = load(base.clone(), keys.clone(), usize::MAX).await;
    assert_eq!(
        accepted.len(),
        ACCOUNTS * (SINGLES + BULK),
        "every send was accepted"
    );
    let o = settle(&fake, &base, &keys, &accepted).await;
    let left = processing(&base, &keys).await;
    eprintln!(
        "load: {} accepted, {} POSTs to Graph, {} duplicates by id, {} by body, {} lost, {} left processing",
        o.accepted, o.posts, o.duplicates_by_id, o.duplicates_by_body, o.lost, left
    );
    assert_eq!(
        (o.duplicates_by_id, o.duplicates_by_body, o.lost, left),
        (0, 0, 0, 0)
    );
    assert_eq!(o.posts, o.accepted as u64);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_run_loses_nothing() {
    let (fake, graph_url, hooks, dir) = rig().await;
    let db = dir.path().join("kill.db");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(&graph_url, &db, port).await;
    fake.lock().unwrap().server = Some(base.clone());
    let c = reqwest::Client::new();
    let mut keys = Vec::new();
    for i in 0..ACCOUNTS {
        keys.push(account(&c, &base, i, &hooks).await);
    }
    // Kill once about half the messages reached the fake, while sends are still arriving.
    let half = (ACCOUNTS * (SINGLES + BULK)) as u64 / 2;
    let load_task = tokio::spawn(load(base.clone(), keys.clone(), usize::MAX));
    for _ in 0..600 {
        if fake.lock().unwrap().posts >= half {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    let accepted = load_task.await.unwrap();
    let at_kill = fake.lock().unwrap().posts;
    let _server = start(&graph_url, &db, port).await;
    let o = settle(&fake, &base, &keys, &accepted).await;
    eprintln!(
        "kill: {} accepted before the kill, {at_kill} POSTs at the kill, {} in all, {} duplicates by id, {} by body, {} lost",
        o.accepted, o.posts, o.duplicates_by_id, o.duplicates_by_body, o.lost
    );
    assert_eq!(o.lost, 0, "every accepted message was sent");
    {
        let f = fake.lock().unwrap();
        for (tag, n) in f.by_tag.iter().filter(|(_, n)| **n > 1) {
            eprintln!("duplicate: {tag} x{n}");
        }
    }
    // The documented guarantee: a send whose outcome the kill lost is resolved by Meta's
    // status webhook (which the fake sends, retrying), so it is never sent twice.
    assert_eq!((o.duplicates_by_id, o.duplicates_by_body), (0, 0));
    assert_eq!(processing(&base, &keys).await, 0);
}
