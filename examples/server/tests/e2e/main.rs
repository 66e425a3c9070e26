//! End to end with the real binary, a fake Graph API and a webhook receiver on loopback:
//! register → credentials → verify → send a template → signed Meta status webhooks →
//! `GET /messages/{id}` shows delivered then read → the customer webhook got every change,
//! signed; and the verification flow: issue → signed inbound `>>code<<` → callback → reply,
//! WhatAuth's documented request and callback verbatim, a restart between issue and
//! answer, and the `expired` callback of a code nobody used.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Value, json};

#[path = "../common/mod.rs"]
mod common;
mod reference;
mod send;
mod verification;
use common::{meta_body, serve};

const APP_SECRET: &str = "meta-app-secret";
const VERIFY_TOKEN: &str = "meta-verify-token";
const PNID: &str = "106540352242922";
const ADMIN_TOKEN: &str = "operator-token";

#[derive(Default)]
struct Seen {
    graph: Vec<(String, String, Value)>,
    hooks: Vec<(String, HeaderMap, Bytes)>,
}

type Shared = Arc<Mutex<Seen>>;

async fn fakes(seen: Shared) -> (String, String) {
    let s1 = seen.clone();
    let graph = Router::new().fallback(move |method: Method, uri: Uri, body: Bytes| {
        let seen = s1.clone();
        async move {
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let mut st = seen.lock().unwrap();
            st.graph.push((method.to_string(), uri.to_string(), v.clone()));
            if method == Method::GET {
                // The number the path names: the credential check proves who owns it.
                let id = uri.path().rsplit('/').next().unwrap_or(PNID).to_owned();
                return (StatusCode::OK, axum::Json(json!({"id": id, "display_phone_number": "+1 555-078-3881", "verified_name": "Acme"})));
            }
            // A recipient who cannot receive messages (Meta's 131026).
            if v["to"] == "+14155550999" {
                return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": {"message": "(#131026) Message undeliverable", "type": "OAuthException", "code": 131026, "fbtrace_id": "AbC"}})));
            }
            let n = st.graph.len();
            (StatusCode::OK, axum::Json(json!({"messaging_product": "whatsapp", "contacts": [{"wa_id": "14155552671"}], "messages": [{"id": format!("wamid.E2E{n}")}]})))
        }
    });
    let s2 = seen.clone();
    let hooks = Router::new().route(
        "/{which}",
        axum::routing::post(
            move |Path(which): Path<String>, headers: HeaderMap, body: Bytes| {
                let seen = s2.clone();
                async move {
                    let status = match which.as_str() {
                        "fail" => StatusCode::INTERNAL_SERVER_ERROR,
                        // Success is exactly 200 or 204 (WhatAuth).
                        "created" => StatusCode::CREATED,
                        _ => StatusCode::NO_CONTENT,
                    };
                    seen.lock().unwrap().hooks.push((which, headers, body));
                    status
                }
            },
        ),
    );
    (serve(graph).await, serve(hooks).await)
}

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start(graph: &str, db: &std::path::Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_wa-server-example"))
        .args([
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--graph-base-url",
            graph,
            "--meta-app-secret",
            APP_SECRET,
        ])
        .args([
            "--meta-verify-token",
            VERIFY_TOKEN,
            "--allow-private-targets",
            "--poll-ms",
            "20",
            "--plan-limit-multiplier",
            "10",
            "--webhook-retry-ms",
            "20",
        ])
        .arg("--database")
        .arg(db)
        .env("WA_SECRET_KEY", "ab".repeat(32))
        .env("WA_ADMIN_TOKEN", ADMIN_TOKEN)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child, format!("http://127.0.0.1:{port}"));
    for _ in 0..300 {
        if reqwest::get(format!("{}/readyz", server.1))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not start");
}

async fn eventually<T>(what: &str, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn post_meta(client: &reqwest::Client, base: &str, body: String) -> reqwest::Response {
    let sig = wa_send::webhook::meta::sign(body.as_bytes(), APP_SECRET.as_bytes());
    client
        .post(format!("{base}/webhooks/whatsapp"))
        .header("x-hub-signature-256", sig)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn hooks_to(seen: &Shared, which: &str) -> Vec<(HeaderMap, Bytes)> {
    seen.lock()
        .unwrap()
        .hooks
        .iter()
        .filter(|(w, _, _)| w == which)
        .map(|(_, h, b)| (h.clone(), b.clone()))
        .collect()
}

fn graph_text_to(seen: &Shared, to: &str) -> Option<String> {
    seen.lock()
        .unwrap()
        .graph
        .iter()
        .find(|(m, _, b)| m == "POST" && b["to"] == to)
        .map(|(_, _, b)| b["text"]["body"].as_str().unwrap_or_default().to_owned())
}

fn check_signed(secret: &str, headers: &HeaderMap, body: &[u8]) {
    let h = |n: &str| headers[n].to_str().unwrap().to_owned();
    let now = h("webhook-timestamp").parse::<u64>().unwrap();
    wa_send::webhook::outgoing::verify(
        secret,
        &h("webhook-id"),
        &h("webhook-timestamp"),
        &h("webhook-signature"),
        body,
        now,
        300,
    )
    .unwrap();
}

fn decode_qr(png: &[u8]) -> String {
    let img = image::load_from_memory(png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    grids[0].decode().unwrap().1
}

async fn inbound_text(
    c: &reqwest::Client,
    base: &str,
    wamid: &str,
    wa_id: &str,
    name: &str,
    text: &str,
) {
    let body = meta_body(
        json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": PNID},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": wamid, "timestamp": "1750000300", "type": "text", "text": {"body": text}}]}),
    );
    assert_eq!(post_meta(c, base, body).await.status(), 200);
}

/// One call of the send API: status, JSON body, headers.
async fn call(
    c: &reqwest::Client,
    method: Method,
    url: String,
    key: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, HeaderMap) {
    let mut req = c.request(method, url);
    if let Some(k) = key {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, r.json().await.unwrap_or(Value::Null), headers)
}

fn status_webhook(wamid: &str, status: &str, ts: u64) -> String {
    meta_body(
        json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1234567890"},
        "statuses": [{"id": wamid, "status": status, "timestamp": ts.to_string(), "recipient_id": "14155552671"}]}),
    )
}
