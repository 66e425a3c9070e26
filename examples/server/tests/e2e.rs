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

mod common;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_and_verify_end_to_end() {
    let seen: Shared = Arc::default();
    let (graph, hooks) = fakes(seen.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start(&graph, &dir.path().join("e2e.db")).await;
    let base = server.1.clone();
    let c = reqwest::Client::new();

    // Register, save credentials, verify them, set the webhook.
    let r: Value = c
        .post(format!("{base}/auth/register"))
        .json(&json!({"name": "Acme", "email": "ops@acme.example"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = r["data"]["apiKey"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sk_live_") && key.len() == 56);
    // Verification callbacks have their own secret (changed on purpose: it was the
    // status-webhook secret).
    let callback_secret = r["data"]["callbackSecret"].as_str().unwrap().to_owned();
    let auth = format!("Bearer {key}");
    let r = c
        .put(format!("{base}/auth/me/credentials"))
        .header("authorization", &auth)
        .json(&json!({"provider": "meta", "accessToken": "EAAG-secret", "phoneNumberId": PNID, "displayPhoneNumber": "+1 415 555 0000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        !r.text().await.unwrap().contains("EAAG-secret"),
        "secrets are never returned"
    );
    let r: Value = c
        .post(format!("{base}/auth/me/credentials/verify"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["data"]["verifiedName"], "Acme", "{r}");
    let r: Value = c
        .put(format!("{base}/auth/me/webhook"))
        .header("authorization", &auth)
        .json(&json!({"url": format!("{hooks}/status")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = r["data"]["signingSecret"].as_str().unwrap().to_owned();
    let me: Value = c
        .get(format!("{base}/auth/me"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["byocConfigured"], true);
    assert!(!me.to_string().contains(&key) && !me.to_string().contains("EAAG"));

    // Send a template.
    let body = json!({"to": "+1 415 555 2671", "type": "template", "metadata": {"order": "1234"},
        "template": {"name": "order_update", "language": {"code": "en_US"},
                     "components": [{"type": "body", "parameters": [{"type": "text", "text": "#1234"}]}]}});
    let r = c
        .post(format!("{base}/send-message"))
        .header("authorization", &auth)
        .header("idempotency-key", "order-1234")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let v: Value = r.json().await.unwrap();
    let id = v["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(v["data"]["backend"], "cloud_api");
    let replay = c
        .post(format!("{base}/send-message"))
        .header("authorization", &auth)
        .header("idempotency-key", "order-1234")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.headers()["idempotency-replayed"], "true");
    let wamid = eventually("sent", async || {
        let v: Value = c
            .get(format!("{base}/messages/{id}"))
            .header("authorization", &auth)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (v["data"]["status"] == "sent")
            .then(|| v["data"]["providerMessageId"].as_str().unwrap().to_owned())
    })
    .await;
    {
        let st = seen.lock().unwrap();
        let sends: Vec<_> = st.graph.iter().filter(|(m, _, _)| m == "POST").collect();
        assert_eq!(sends.len(), 1, "the replay was not sent again");
        assert_eq!(sends[0].1, format!("/v24.0/{PNID}/messages"));
        assert_eq!(sends[0].2["to"], "+14155552671");
        assert_eq!(
            sends[0].2["template"]["components"][0]["parameters"][0]["text"],
            "#1234"
        );
    }

    // Meta reports delivered, then read (signed); the message follows.
    for (status, ts) in [("delivered", 1_750_000_100), ("read", 1_750_000_200)] {
        let payload = meta_body(
            json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": PNID},
            "statuses": [{"id": wamid, "status": status, "timestamp": ts.to_string(), "recipient_id": "14155552671"}]}),
        );
        assert_eq!(post_meta(&c, &base, payload).await.status(), 200);
        let v: Value = c
            .get(format!("{base}/messages/{id}"))
            .header("authorization", &auth)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["data"]["status"], status);
    }
    let v: Value = c
        .get(format!("{base}/messages/{id}"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let steps: Vec<&str> = v["data"]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["queued", "processing", "sent", "delivered", "read"]);
    assert_eq!(v["data"]["metadata"]["order"], "1234");
    // A forged webhook is refused.
    let forged = c
        .post(format!("{base}/webhooks/whatsapp"))
        .header("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    // The customer's webhook got sent, delivered and read, each signed.
    let events = eventually("three status webhooks", async || {
        let st = seen.lock().unwrap();
        let got: Vec<_> = st
            .hooks
            .iter()
            .filter(|(w, _, _)| w == "status")
            .cloned()
            .collect();
        (got.len() >= 3).then_some(got)
    })
    .await;
    let mut statuses = Vec::new();
    for (_, headers, body) in &events {
        let h = |n: &str| headers[n].to_str().unwrap().to_owned();
        let now = h("webhook-timestamp").parse::<u64>().unwrap();
        wa_send::webhook::outgoing::verify(
            &secret,
            &h("webhook-id"),
            &h("webhook-timestamp"),
            &h("webhook-signature"),
            body,
            now,
            300,
        )
        .unwrap();
        let v: Value = serde_json::from_slice(body).unwrap();
        statuses.push(v["data"]["status"].as_str().unwrap().to_owned());
    }
    statuses.sort();
    assert_eq!(statuses, ["delivered", "read", "sent"]);

    // Verification: issue, the user sends >>code<<, callback + reply.
    let handshake = c
        .get(format!("{base}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"))
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.text().await.unwrap(), "1158201444");
    let issued: Value = c
        .get(format!("{base}/api/v1/verification_code"))
        .query(&[
            ("callback_url", format!("{hooks}/callback")),
            ("expires_at", "5".to_owned()),
            ("response_message", "You are verified!".to_owned()),
        ])
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = issued["code"].as_str().unwrap().to_owned();
    assert!(
        issued["link"]
            .as_str()
            .unwrap()
            .starts_with("https://wa.me/14155550000?text=%3E%3E"),
        "{issued}"
    );
    let inbound = meta_body(
        json!({"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": PNID},
        "contacts": [{"profile": {"name": "Sheena"}, "wa_id": "16505551234"}],
        "messages": [{"from": "16505551234", "id": "wamid.IN1", "timestamp": "1750000300", "type": "text", "text": {"body": format!(">>{code}<<\nJust tap the \"send\" button.")}}]}),
    );
    assert_eq!(post_meta(&c, &base, inbound).await.status(), 200);
    let (headers, body) = eventually("the verification callback", async || {
        let st = seen.lock().unwrap();
        st.hooks
            .iter()
            .find(|(w, _, _)| w == "callback")
            .map(|(_, h, b)| (h.clone(), b.clone()))
    })
    .await;
    let h = |n: &str| headers[n].to_str().unwrap().to_owned();
    let now = h("webhook-timestamp").parse::<u64>().unwrap();
    wa_send::webhook::outgoing::verify(
        &callback_secret,
        &h("webhook-id"),
        &h("webhook-timestamp"),
        &h("webhook-signature"),
        &body,
        now,
        300,
    )
    .unwrap();
    let cb: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (
            cb["status"].as_str(),
            cb["phone_number"].as_str(),
            cb["profile_name"].as_str()
        ),
        (Some("validated"), Some("+16505551234"), Some("Sheena"))
    );
    assert_eq!(cb["verification_code"], code.as_str());
    let reply = eventually("the reply through Graph", async || {
        let st = seen.lock().unwrap();
        st.graph
            .iter()
            .find(|(m, _, b)| m == "POST" && b["to"] == "+16505551234")
            .map(|(_, _, b)| b.clone())
    })
    .await;
    assert_eq!(
        reply["text"]["body"], "You are verified!",
        "sent once the callback was delivered"
    );
    let polled: Value = c
        .get(format!(
            "{base}/api/v1/verification_code/{}",
            issued["id"].as_str().unwrap()
        ))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(polled["status"], "validated");

    // A callback that keeps failing: after three tries the verification fails and the user
    // gets the failure message instead.
    let issued: Value = c
        .get(format!("{base}/api/v1/verification_code"))
        .query(&[
            ("callback_url", format!("{hooks}/fail")),
            ("failure_message", "Sorry, please try again.".to_owned()),
        ])
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = issued["code"].as_str().unwrap().to_owned();
    let inbound = meta_body(
        json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": PNID},
        "contacts": [{"profile": {"name": "Bob"}, "wa_id": "16505550123"}],
        "messages": [{"from": "16505550123", "id": "wamid.IN2", "timestamp": "1750000400", "type": "text", "text": {"body": format!(">>{code}<<")}}]}),
    );
    assert_eq!(post_meta(&c, &base, inbound).await.status(), 200);
    let reply = eventually("the failure reply", async || {
        let st = seen.lock().unwrap();
        st.graph
            .iter()
            .find(|(m, _, b)| m == "POST" && b["to"] == "+16505550123")
            .map(|(_, _, b)| b.clone())
    })
    .await;
    assert_eq!(reply["text"]["body"], "Sorry, please try again.");
    assert_eq!(
        seen.lock()
            .unwrap()
            .hooks
            .iter()
            .filter(|(w, _, _)| w == "fail")
            .count(),
        3,
        "three tries"
    );
    let polled: Value = c
        .get(format!(
            "{base}/api/v1/verification_code/{}",
            issued["id"].as_str().unwrap()
        ))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(polled["status"], "failed");

    // Keys: rotation kills the old key at once.
    let rotated: Value = c
        .post(format!("{base}/auth/me/rotate-key"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        c.get(format!("{base}/auth/me"))
            .header("authorization", &auth)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let new_auth = format!("Bearer {}", rotated["data"]["apiKey"].as_str().unwrap());
    assert_eq!(
        c.get(format!("{base}/auth/me"))
            .header("authorization", &new_auth)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Another account cannot see this message.
    let other: Value = c
        .post(format!("{base}/auth/register"))
        .json(&json!({"name": "B", "email": "b@b.example"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other_auth = format!("Bearer {}", other["data"]["apiKey"].as_str().unwrap());
    assert_eq!(
        c.get(format!("{base}/messages/{id}"))
            .header("authorization", &other_auth)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
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

/// Registers, saves and verifies Meta credentials whose business number is
/// `+56 9 4342 6553` (WhatAuth's example); returns the key and the callback secret.
async fn whatauth_account(c: &reqwest::Client, base: &str) -> (String, String) {
    let r: Value = c
        .post(format!("{base}/auth/register"))
        .json(&json!({"name": "MyCompany", "email": "dev@mycompany.io"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = r["data"]["apiKey"].as_str().unwrap().to_owned();
    let callback_secret = r["data"]["callbackSecret"].as_str().unwrap().to_owned();
    let auth = format!("Bearer {key}");
    let r = c
        .put(format!("{base}/auth/me/credentials"))
        .header("authorization", &auth)
        .json(&json!({"whatsappAccessToken": "EAAG-secret", "whatsappPhoneNumberId": PNID, "displayPhoneNumber": "+56 9 4342 6553"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(format!("{base}/auth/me/credentials/verify"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    (key, callback_secret)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_api_as_documented_survives_a_restart() {
    let seen: Shared = Arc::default();
    let (graph, hooks) = fakes(seen.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("verify.db");
    let server = start(&graph, &db).await;
    let base = server.1.clone();
    let c = reqwest::Client::new();
    let (key, callback_secret) = whatauth_account(&c, &base).await;

    // The phone number id now routes inbound traffic to that account; another account with
    // a token Graph accepts for the same id cannot claim it.
    let other: Value = c
        .post(format!("{base}/auth/register"))
        .json(&json!({"name": "Squatter", "email": "s@other.example"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other_auth = format!("Bearer {}", other["data"]["apiKey"].as_str().unwrap());
    let r = c
        .put(format!("{base}/auth/me/credentials"))
        .header("authorization", &other_auth)
        .json(&json!({"whatsappAccessToken": "EAAG-other", "whatsappPhoneNumberId": PNID}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(format!("{base}/auth/me/credentials/verify"))
        .header("authorization", &other_auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "phone_number_id_taken");

    // WhatAuth's cURL sample, every parameter as documented.
    let r = c
        .get(format!("{base}/api/v1/verification_code"))
        .query(&[
            ("callback_url", "https://mycompany.io/webhook/whatsauth"),
            ("expires_at", "10"),
            (
                "link_message",
                "Send this message to verify your phone in MyCompany",
            ),
            ("expiration_message", "Sorry, this code is expired"),
            (
                "failure_message",
                "Oops! someting went wrong, please try again.",
            ),
            (
                "response_message",
                "Welcome! you just verified your phone as easy as it could be.",
            ),
        ])
        .header("authorization", format!("Bearer {key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let issued: Value = r.json().await.unwrap();
    let code = issued["code"].as_str().unwrap();
    assert!(
        code.len() == 10
            && code
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let text = format!(
        "%3E%3E{code}%3C%3C%0ASend%20this%20message%20to%20verify%20your%20phone%20in%20MyCompany"
    );
    assert_eq!(
        issued["link"],
        format!("https://wa.me/56943426553?text={text}")
    );
    assert_eq!(
        issued["deep_link"],
        format!("whatsapp://send?phone=56943426553&text={text}")
    );
    assert_eq!(issued["qr"], Value::Null, "no qr asked for");

    // Application defaults, overridden per request.
    let auth = format!("Bearer {key}");
    let defaults = json!({"qr": true, "response_message": "Default welcome", "callback_url": format!("{hooks}/callback"), "expires_at": 5});
    let r = c
        .put(format!("{base}/api/v1/verification_defaults"))
        .header("authorization", &auth)
        .json(&defaults)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let got: Value = c
        .get(format!("{base}/api/v1/verification_defaults"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["response_message"], "Default welcome");
    assert_eq!(got["expires_at"], 5);
    let bad = c
        .put(format!("{base}/api/v1/verification_defaults"))
        .header("authorization", &auth)
        .json(&json!({"expires_at": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<Value>().await.unwrap()["code"],
        "verify_expiry_too_short"
    );
    let issued: Value = c
        .get(format!(
            "{base}/api/v1/verification_code?link_message=Tap%20send"
        ))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let link = issued["link"].as_str().unwrap().to_owned();
    assert!(
        link.ends_with("%3C%3C%0ATap%20send"),
        "the request overrides: {link}"
    );
    // `qr` (a default here) is this server's own QR endpoint, and decodes to the link.
    let qr = issued["qr"].as_str().unwrap();
    assert!(qr.starts_with(&format!("{base}/api/v1/qr?data=")), "{qr}");
    let png = c.get(qr).send().await.unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    assert_eq!(decode_qr(&png.bytes().await.unwrap()), link);

    // The server restarts before the user answers: nothing is forgotten.
    drop(server);
    let server = start(&graph, &db).await;
    let base = server.1.clone();
    // WhatAuth's example sender, a number outside libphonenumber's Chilean ranges: WhatsApp
    // vouches for it, so it validates.
    let code = issued["code"].as_str().unwrap();
    inbound_text(
        &c,
        &base,
        "wamid.WA1",
        "56911111111",
        "Some Folk",
        &format!(">>{code}<<\nTap send"),
    )
    .await;
    let (headers, body) =
        eventually("the callback", async || hooks_to(&seen, "callback").pop()).await;
    check_signed(&callback_secret, &headers, &body);
    let cb: Value = serde_json::from_slice(&body).unwrap();
    let mut keys: Vec<&str> = cb.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "authorized_numbers",
            "error",
            "expires_at",
            "id",
            "phone_number",
            "profile_name",
            "requested_at",
            "status",
            "validated_at",
            "verification_code"
        ]
    );
    assert_eq!(cb["id"], issued["id"]);
    assert_eq!(cb["status"], "validated");
    assert_eq!(cb["verification_code"], code);
    assert_eq!(cb["phone_number"], "+56911111111");
    assert_eq!(cb["profile_name"], "Some Folk");
    assert_eq!(cb["authorized_numbers"], json!([]));
    assert_eq!(cb["error"], Value::Null);
    for t in ["expires_at", "requested_at", "validated_at"] {
        assert!(
            wa_send::Timestamp::parse_rfc3339(cb[t].as_str().unwrap()).is_some(),
            "{t}"
        );
    }
    let reply = eventually("the reply", async || graph_text_to(&seen, "+56911111111")).await;
    assert_eq!(reply, "Default welcome");
    // Meta redelivers the same message four more times: nothing changes.
    for _ in 0..4 {
        inbound_text(
            &c,
            &base,
            "wamid.WA1",
            "56911111111",
            "Some Folk",
            &format!(">>{code}<<\nTap send"),
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let replies = seen
        .lock()
        .unwrap()
        .graph
        .iter()
        .filter(|(m, _, b)| m == "POST" && b["to"] == "+56911111111")
        .count();
    assert_eq!((hooks_to(&seen, "callback").len(), replies), (1, 1));
    let polled: Value = c
        .get(format!(
            "{base}/api/v1/verification_code/{}",
            cb["id"].as_str().unwrap()
        ))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(polled["status"], "validated");

    // A callback answered 201 is a failure (only 200 and 204 count).
    let issued: Value = c
        .get(format!("{base}/api/v1/verification_code"))
        .query(&[("callback_url", format!("{hooks}/created"))])
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = issued["code"].as_str().unwrap();
    inbound_text(
        &c,
        &base,
        "wamid.WA2",
        "14155550123",
        "Bob",
        &format!(">>{code}<<"),
    )
    .await;
    let reply = eventually("the failure reply", async || {
        graph_text_to(&seen, "+14155550123")
    })
    .await;
    assert_eq!(
        reply,
        "We could not complete your verification. Please try again."
    );
    assert_eq!(hooks_to(&seen, "created").len(), 3, "three tries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_code_calls_back_once() {
    use clap::Parser;
    let seen: Shared = Arc::default();
    let (_graph, hooks) = fakes(seen.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("expiry.db").display());
    let config = wa_server_example::Config::parse_from([
        "wa-server-example",
        "--database",
        &db,
        "--allow-private-targets",
        "--poll-ms",
        "20",
        "--webhook-retry-ms",
        "20",
        "--default-business-phone",
        "+56943426553",
    ]);
    let clock = Arc::new(wa_send::ManualClock::at(wa_send::Clock::timestamp(
        &wa_send::SystemClock,
    )));
    let mut server = wa_server_example::build_with_clock(config, clock.clone())
        .await
        .unwrap();
    let base = serve(server.router()).await;
    tokio::spawn(async move { server.run_background(std::future::pending()).await });
    let c = reqwest::Client::new();
    let r: Value = c
        .post(format!("{base}/auth/register"))
        .json(&json!({"name": "A", "email": "a@a.example"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let auth = format!("Bearer {}", r["data"]["apiKey"].as_str().unwrap());
    let callback_secret = r["data"]["callbackSecret"].as_str().unwrap().to_owned();
    let issued: Value = c
        .get(format!("{base}/api/v1/verification_code"))
        .query(&[
            ("callback_url", format!("{hooks}/expired")),
            ("expires_at", "1".to_owned()),
        ])
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    clock.advance(Duration::from_secs(61));
    let (headers, body) = eventually("the expired callback", async || {
        hooks_to(&seen, "expired").pop()
    })
    .await;
    check_signed(&callback_secret, &headers, &body);
    let cb: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (cb["id"].clone(), cb["status"].clone()),
        (issued["id"].clone(), json!("expired"))
    );
    assert_eq!(cb["phone_number"], Value::Null);
    // The sweep runs every second; a few more rounds send nothing more.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(hooks_to(&seen, "expired").len(), 1, "exactly once");
    let polled: Value = c
        .get(format!(
            "{base}/api/v1/verification_code/{}",
            cb["id"].as_str().unwrap()
        ))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(polled["status"], "expired");
}

mod verification_store {
    use wa_send::queue::Database;
    use wa_server_example::verification::store::SqlVerificationStore;

    async fn on(url: String) -> SqlVerificationStore {
        let db = Database::open(&url).await.unwrap();
        wa_server_example::storage::migrate(&db).await.unwrap();
        SqlVerificationStore::new(db)
    }

    mod sqlite {
        wa_verify::verification_store_tests!(async {
            Some(super::on(wa_send::queue::testing::temp_sqlite_url()).await)
        });
    }

    mod postgres {
        wa_verify::verification_store_tests!(async {
            match wa_send::queue::testing::fresh_postgres_url().await {
                Some(url) => Some(super::on(url).await),
                None => None,
            }
        });
    }
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

/// WhatsAPI's documented requests, sent verbatim (the JSON literals of its quick start,
/// send, template, bulk, schedule, idempotency, list, retry, analytics, webhook, key
/// rotation and error sections), and a receiver written for its documented webhook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines)] // one documented walk-through, in the reference's order
async fn whatsapi_reference_examples_verbatim() {
    use Method as M;
    let seen: Shared = Arc::default();
    let (graph, hooks) = fakes(seen.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start(&graph, &dir.path().join("whatsapi.db")).await;
    let base = server.1.clone();
    let c = reqwest::Client::new();

    // Step 1 — register. (The scraped page shows the e-mail as "[email protected]", its
    // obfuscation of an address; a real address is used.)
    let (s, r, _) = call(
        &c,
        M::POST,
        format!("{base}/auth/register"),
        None,
        Some(json!({ "name": "Your Name", "email": "you@example.com" })),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(r["success"], true);
    assert_eq!(r["data"]["plan"], "free");
    let key = r["data"]["apiKey"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sk_live_") && key.len() == 8 + 48);
    let (s, me, _) = call(&c, M::GET, format!("{base}/auth/me"), Some(&key), None).await;
    assert_eq!(s, 200);
    assert_eq!(me["data"]["name"], "Your Name");
    assert_eq!(me["data"]["byocConfigured"], false);
    assert_eq!(me["data"]["messagesSent"], 0);
    assert_eq!(me["data"]["webhookUrl"], Value::Null);

    // Step 2 — credentials, then verify them.
    let (s, _, _) = call(
        &c,
        M::PUT,
        format!("{base}/auth/me/credentials"),
        Some(&key),
        Some(json!({ "whatsappAccessToken": "EAAc...", "whatsappPhoneNumberId": "1234567890" })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, r, _) = call(
        &c,
        M::POST,
        format!("{base}/auth/me/credentials/verify"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, 200, "{r}");

    // The webhook receiver, registered as documented (a loopback URL instead of
    // yourapp.com, which does not resolve here).
    let (s, r, _) = call(
        &c,
        M::PUT,
        format!("{base}/auth/me/webhook"),
        Some(&key),
        Some(json!({ "url": format!("{hooks}/whatsapi") })),
    )
    .await;
    assert_eq!(s, 200, "{r}");

    // Step 3 — the quick start's template send.
    let (s, r, h) = call(&c, M::POST, format!("{base}/send-message"), Some(&key),
        Some(json!({ "to": "14155552671", "template": { "name": "hello_world", "language": "en_US" } }))).await;
    assert_eq!(s, 202, "{r}");
    assert_eq!(r["success"], true);
    assert_eq!(r["data"]["status"], "queued");
    assert_eq!(r["data"]["scheduledFor"], Value::Null);
    let hello = r["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(hello.len(), 36, "a UUID");
    assert_eq!(&hello[14..15], "7", "version 7");
    let reset: u64 = h["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    let now = wa_send::Clock::unix_seconds(&wa_send::SystemClock);
    assert!(
        reset >= now && reset <= now + 120,
        "X-RateLimit-Reset is a Unix time: {reset}"
    );

    // Step 4 — check it was delivered (Meta reports sent, then delivered).
    let wamid = eventually("the template sent", async || {
        let (_, v, _) = call(
            &c,
            M::GET,
            format!("{base}/messages/{hello}"),
            Some(&key),
            None,
        )
        .await;
        v["data"]["providerMessageId"].as_str().map(str::to_owned)
    })
    .await;
    // Meta redelivers every notification it is not sure we got: each status five times.
    for (status, ts) in [("sent", 1_764_000_001), ("delivered", 1_764_000_004)] {
        for _ in 0..5 {
            assert_eq!(
                post_meta(&c, &base, status_webhook(&wamid, status, ts))
                    .await
                    .status(),
                200
            );
        }
    }
    let (_, v, _) = call(
        &c,
        M::GET,
        format!("{base}/messages/{hello}"),
        Some(&key),
        None,
    )
    .await;
    let m = &v["data"];
    assert_eq!(
        (m["id"].as_str(), m["to"].as_str(), m["status"].as_str()),
        (Some(hello.as_str()), Some("14155552671"), Some("delivered"))
    );
    assert_eq!(m["body"], "[template hello_world (en_US)]");
    assert!(m["sentAt"].is_string() && m["deliveredAt"].is_string());
    assert_eq!(
        (
            m["readAt"].clone(),
            m["failedAt"].clone(),
            m["errorMessage"].clone()
        ),
        (Value::Null, Value::Null, Value::Null)
    );
    let steps: Vec<&str> = m["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    let pos = |s: &str| steps.iter().position(|x| *x == s).unwrap();
    assert!(
        pos("queued") < pos("sent") && pos("sent") < pos("delivered"),
        "{steps:?}"
    );

    // The documented send with Idempotency-Key: replays return the original answer.
    let order = json!({ "to": "14155552671", "message": "Hi Sarah! Your order #1234 has shipped.", "metadata": { "orderId": "1234" } });
    let send = |body: Value| {
        c.post(format!("{base}/send-message"))
            .header("authorization", format!("Bearer {key}"))
            .header("Idempotency-Key", "order-1234-shipped")
            .json(&body)
            .send()
    };
    let first = send(order.clone()).await.unwrap();
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let again = send(order.clone()).await.unwrap();
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["data"]["id"], first["data"]["id"]);
    let other = send(json!({ "to": "14155552671", "message": "Something else" }))
        .await
        .unwrap();
    assert_eq!(other.status(), 409);
    let order_id = first["data"]["id"].as_str().unwrap().to_owned();

    // A template with variables, exactly as documented.
    let (s, _, _) = call(&c, M::POST, format!("{base}/send-message"), Some(&key),
        Some(json!({ "to": "14155552671", "template": { "name": "order_ready", "language": "en_US", "components": [{ "type": "body", "parameters": [ { "type": "text", "text": "Sarah" }, { "type": "text", "text": "#1042" } ] }] } }))).await;
    assert_eq!(s, 202);
    let sent_template = eventually("order_ready at Graph", async || {
        seen.lock()
            .unwrap()
            .graph
            .iter()
            .find(|(_, _, b)| b["template"]["name"] == "order_ready")
            .map(|(_, _, b)| b.clone())
    })
    .await;
    assert_eq!(sent_template["template"]["language"]["code"], "en_US");
    assert_eq!(
        sent_template["template"]["components"][0]["parameters"][1]["text"],
        "#1042"
    );

    // Bulk.
    let (s, r, _) = call(&c, M::POST, format!("{base}/messages/bulk"), Some(&key),
        Some(json!({ "messages": [ { "to": "14155552671", "message": "Hi Alice, your code is 1234" }, { "to": "14155552672", "message": "Hi Bob, your code is 5678" } ] }))).await;
    assert_eq!(s, 202, "{r}");
    assert_eq!(
        (
            r["data"]["totalMessages"].as_u64(),
            r["data"]["queued"].as_u64(),
            r["data"]["failedCount"].as_u64()
        ),
        (Some(2), Some(2), Some(0))
    );
    let batch = r["data"]["batchId"].as_str().unwrap().to_owned();
    let (s, r, _) = call(
        &c,
        M::GET,
        format!("{base}/messages?batchId={batch}"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(r["data"]["messages"].as_array().unwrap().len(), 2);

    // Schedule: the documented sendAt is in the past by now — a 400 naming the field —
    // and a future one is held.
    let (s, r, _) = call(&c, M::POST, format!("{base}/send-message"), Some(&key),
        Some(json!({ "to": "14155552671", "message": "Reminder: your appointment is tomorrow at 9am.", "sendAt": "2026-04-15T08:00:00.000Z" }))).await;
    assert_eq!(s, 400);
    assert_eq!(r["success"], false);
    assert_eq!(r["details"][0]["field"], "sendAt", "{r}");
    let later = wa_send::Timestamp::from_secs(now + 30 * 24 * 3600).to_rfc3339();
    let (s, r, _) = call(&c, M::POST, format!("{base}/send-message"), Some(&key),
        Some(json!({ "to": "14155552671", "message": "Reminder: your appointment is tomorrow at 9am.", "sendAt": later }))).await;
    assert_eq!(s, 202);
    assert_eq!(r["data"]["status"], "scheduled");
    assert_eq!(r["data"]["scheduledFor"], later.as_str());

    // Retry: only a failed message, and a failed one is queued again.
    let (_, r, _) = call(
        &c,
        M::POST,
        format!("{base}/send-message"),
        Some(&key),
        Some(json!({ "to": "14155550999", "message": "Nobody home" })),
    )
    .await;
    let doomed = r["data"]["id"].as_str().unwrap().to_owned();
    eventually("the undeliverable message failed", async || {
        let (_, v, _) = call(
            &c,
            M::GET,
            format!("{base}/messages/{doomed}"),
            Some(&key),
            None,
        )
        .await;
        (v["data"]["status"] == "failed").then_some(())
    })
    .await;
    let (s, failed, _) = call(
        &c,
        M::GET,
        format!("{base}/messages?status=failed&limit=50"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        failed["data"]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == doomed.as_str())
    );
    assert!(failed["data"]["messages"][0]["errorMessage"].is_string());
    let (s, r, _) = call(
        &c,
        M::POST,
        format!("{base}/messages/{doomed}/retry"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, 202, "{r}");
    let (s, r, _) = call(
        &c,
        M::POST,
        format!("{base}/messages/{hello}/retry"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (409, Some("message_not_retryable"))
    );

    // Analytics.
    let (s, r, _) = call(
        &c,
        M::GET,
        format!("{base}/analytics/summary"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let d = &r["data"];
    assert!(d["total"].as_u64().unwrap() >= 6);
    assert!(
        d["byStatus"].is_object() && d["deliveryRate"].is_number() && d["failureRate"].is_number()
    );
    let (_, me, _) = call(&c, M::GET, format!("{base}/auth/me"), Some(&key), None).await;
    assert_eq!(me["data"]["byocConfigured"], true);
    assert!(me["data"]["messagesSent"].as_u64().unwrap() >= 1);
    assert_eq!(me["data"]["webhookUrl"], format!("{hooks}/whatsapi"));

    // The receiver, written as the reference's Express handler is: `event` and `data`.
    let delivered = eventually(
        "a message.status_updated webhook for delivered",
        async || {
            hooks_to(&seen, "whatsapi")
                .into_iter()
                .map(|(_, b)| serde_json::from_slice::<Value>(&b).unwrap())
                .find(|e| {
                    e["event"] == "message.status_updated"
                        && e["data"]["status"] == "delivered"
                        && e["data"]["messageId"] == hello.as_str()
                })
        },
    )
    .await;
    assert_eq!(delivered["data"]["to"], "14155552671");
    assert!(delivered["timestamp"].is_string() && delivered["data"]["deliveredAt"].is_string());
    for k in ["readAt", "failedAt", "errorMessage", "metadata"] {
        assert!(delivered["data"].get(k).is_some(), "{k}");
    }
    let failed_event = eventually("the failed webhook", async || {
        hooks_to(&seen, "whatsapi")
            .into_iter()
            .map(|(_, b)| serde_json::from_slice::<Value>(&b).unwrap())
            .find(|e| e["data"]["status"] == "failed" && e["data"]["messageId"] == doomed.as_str())
    })
    .await;
    assert!(failed_event["data"]["errorMessage"].is_string());
    assert!(failed_event["data"]["failedAt"].is_string());
    let _ = order_id;
    // Five deliveries of each status produced one customer webhook each.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let per_status = |status: &str| {
        hooks_to(&seen, "whatsapi")
            .into_iter()
            .map(|(_, b)| serde_json::from_slice::<Value>(&b).unwrap())
            .filter(|e| e["data"]["status"] == status && e["data"]["messageId"] == hello.as_str())
            .count()
    };
    assert_eq!((per_status("sent"), per_status("delivered")), (1, 1));

    // After all that, `/metrics` counts sends, applied statuses and delivered webhooks.
    let text = c
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "wa_messages_sent_total",
        "wa_statuses_applied_total",
        "wa_webhooks_delivered_total",
        "http_requests_total",
    ] {
        let total: f64 = text
            .lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        assert!(total > 0.0, "{name} is zero:\n{text}");
    }

    // Remove the webhook, as documented.
    let (s, _, _) = call(
        &c,
        M::DELETE,
        format!("{base}/auth/me/webhook"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, 200);

    // Errors: the documented shape and statuses.
    let (s, r, _) = call(&c, M::GET, format!("{base}/auth/me"), None, None).await;
    assert_eq!((s, r["success"].clone()), (401, json!(false)));
    assert!(r["error"].is_string());
    let (s, _, _) = call(
        &c,
        M::GET,
        format!("{base}/auth/me"),
        Some("sk_live_0000"),
        None,
    )
    .await;
    assert_eq!(s, 401);
    let (s, r, _) = call(
        &c,
        M::POST,
        format!("{base}/send-message"),
        Some(&key),
        Some(json!({ "to": "14155552671" })),
    )
    .await;
    assert_eq!(s, 400);
    assert!(r["details"].is_array());
    let (s, _, _) = call(
        &c,
        M::GET,
        format!("{base}/messages/9dd15ee1-3d3c-44e1-9dd2-8ec6547e7e20"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, 404);
    // 429 with Retry-After, on another account (the plan's 20 per minute, ×10 here).
    let (_, r, _) = call(
        &c,
        M::POST,
        format!("{base}/auth/register"),
        None,
        Some(json!({ "name": "Busy", "email": "busy@example.com" })),
    )
    .await;
    let busy = r["data"]["apiKey"].as_str().unwrap().to_owned();
    let mut limited = None;
    for _ in 0..250 {
        let (s, _, h) = call(&c, M::GET, format!("{base}/auth/me"), Some(&busy), None).await;
        if s == 429 {
            limited = Some(h);
            break;
        }
    }
    let h = limited.expect("the plan limit is enforced");
    assert!(h["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(h["x-ratelimit-remaining"], "0");
    // 403: an account the operator deactivated.
    let (_, me, _) = call(&c, M::GET, format!("{base}/auth/me"), Some(&key), None).await;
    let account_id = me["data"]["id"].as_str().unwrap().to_owned();
    let r = c
        .put(format!("{base}/admin/accounts/{account_id}/status"))
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, r, _) = call(&c, M::GET, format!("{base}/auth/me"), Some(&key), None).await;
    assert_eq!((s, r["code"].as_str()), (403, Some("account_deactivated")));
    let r = c
        .put(format!("{base}/admin/accounts/{account_id}/status"))
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
        .json(&json!({"active": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Rotate the key: the new one is shown once, the old one dies at once.
    let (s, r, _) = call(
        &c,
        M::POST,
        format!("{base}/auth/me/rotate-key"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!((s, r["success"].clone()), (200, json!(true)));
    let new_key = r["data"]["apiKey"].as_str().unwrap().to_owned();
    assert_eq!(
        call(&c, M::GET, format!("{base}/auth/me"), Some(&key), None)
            .await
            .0,
        401
    );
    assert_eq!(
        call(&c, M::GET, format!("{base}/auth/me"), Some(&new_key), None)
            .await
            .0,
        200
    );
    // DELETE /auth/me/credentials, as documented.
    let (s, _, _) = call(
        &c,
        M::DELETE,
        format!("{base}/auth/me/credentials"),
        Some(&new_key),
        None,
    )
    .await;
    assert_eq!(s, 200);
}
