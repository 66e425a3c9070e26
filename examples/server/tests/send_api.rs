//! The send, account and verification APIs through `oneshot`: every error code, snapshots
//! of the error bodies.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode};
use clap::Parser;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use wa_server_example::Config;

struct Rig {
    router: Router,
    _dir: tempfile::TempDir,
}

async fn rig(extra: &[&str]) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut args = vec![
        "wa-server-example",
        "--database",
        &db,
        "--meta-app-secret",
        "s",
        "--meta-verify-token",
        "t",
    ];
    args.extend_from_slice(extra);
    let config = Config::parse_from(args);
    let router = wa_server_example::build(config)
        .await
        .unwrap()
        .router()
        .layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 9], 1))));
    Rig { router, _dir: dir }
}

impl Rig {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        key: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value, axum::http::HeaderMap) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let resp = self
            .router
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned())),
            headers,
        )
    }

    async fn register(&self) -> String {
        let (s, v, _) = self
            .call(
                "POST",
                "/auth/register",
                None,
                Some(json!({"name": "T", "email": "t@t.example"})),
                &[],
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["data"]["apiKey"].as_str().unwrap().to_owned()
    }
}

fn four_buttons() -> Value {
    (1..=4)
        .map(|i| json!({"type": "reply", "reply": {"id": format!("b{i}"), "title": "t"}}))
        .collect()
}

fn text(to: &str, body: &str) -> Value {
    json!({"to": to, "type": "text", "text": {"body": body}})
}

#[tokio::test]
async fn every_send_api_error_code() {
    let r = rig(&["--plan-limit-multiplier", "100"]).await;
    let key = r.register().await;
    let k = Some(key.as_str());
    // (name, method, uri, key, body, status, code)
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<Value>,
        u16,
        &'a str,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "auth_missing",
            "GET",
            "/auth/me",
            None,
            None,
            401,
            "auth_missing",
        ),
        (
            "auth_invalid",
            "GET",
            "/auth/me",
            Some("sk_live_000000000000000000000000000000000000000000000000"),
            None,
            401,
            "auth_invalid",
        ),
        (
            "json_invalid",
            "POST",
            "/send-message",
            k,
            Some(Value::String("{".into())),
            400,
            "body_invalid",
        ),
        (
            "field_unknown",
            "POST",
            "/send-message",
            k,
            Some(json!({"to": "+14155552671", "type": "text", "text": {"body": "x"}, "sendat": 1})),
            400,
            "body_invalid",
        ),
        (
            "to_missing",
            "POST",
            "/send-message",
            k,
            Some(json!({"type": "text", "text": {"body": "x"}})),
            400,
            "body_invalid",
        ),
        (
            "to_invalid",
            "POST",
            "/send-message",
            k,
            Some(text("+1 415", "x")),
            400,
            "body_invalid",
        ),
        (
            "type_object_missing",
            "POST",
            "/send-message",
            k,
            Some(json!({"to": "+14155552671", "type": "image"})),
            400,
            "body_invalid",
        ),
        (
            "message_text_empty",
            "POST",
            "/send-message",
            k,
            Some(text("+14155552671", " ")),
            400,
            "message_text_empty",
        ),
        (
            "message_buttons_count",
            "POST",
            "/send-message",
            k,
            Some(
                json!({"to": "+14155552671", "type": "interactive", "interactive": {"type": "button", "body": {"text": "b"},
            "action": {"buttons": four_buttons()}}}),
            ),
            400,
            "message_buttons_count",
        ),
        (
            "send_at_in_past",
            "POST",
            "/send-message",
            k,
            Some(
                json!({"to": "+14155552671", "type": "text", "text": {"body": "x"}, "sendAt": "2020-01-01T00:00:00Z"}),
            ),
            400,
            "send_at_in_past",
        ),
        (
            "send_at_invalid",
            "POST",
            "/send-message",
            k,
            Some(
                json!({"to": "+14155552671", "type": "text", "text": {"body": "x"}, "sendAt": "tomorrow"}),
            ),
            400,
            "body_invalid",
        ),
        (
            "bulk_empty",
            "POST",
            "/messages/bulk",
            k,
            Some(json!({"messages": []})),
            400,
            "bulk_empty",
        ),
        (
            "plan_bulk_cap_exceeded",
            "POST",
            "/messages/bulk",
            k,
            Some(json!({"messages": vec![text("+14155552671", "x"); 101]})),
            403,
            "plan_bulk_cap_exceeded",
        ),
        (
            "message_not_found",
            "GET",
            "/messages/msg_nope",
            k,
            None,
            404,
            "message_not_found",
        ),
        (
            "list_bad_status",
            "GET",
            "/messages?status=lost",
            k,
            None,
            400,
            "query_invalid_parameter",
        ),
        (
            "list_unknown_param",
            "GET",
            "/messages?foo=1",
            k,
            None,
            400,
            "query_unknown_parameter",
        ),
        (
            "credentials_missing",
            "POST",
            "/auth/me/credentials/verify",
            k,
            None,
            400,
            "credentials_missing",
        ),
        (
            "credentials_provider",
            "PUT",
            "/auth/me/credentials",
            k,
            Some(json!({"provider": "sms"})),
            400,
            "body_invalid",
        ),
        (
            "credentials_config",
            "PUT",
            "/auth/me/credentials",
            k,
            Some(json!({"provider": "meta", "accessToken": "t", "phoneNumberId": "abc"})),
            400,
            "delivery_config_invalid",
        ),
        (
            "webhook_url_invalid",
            "PUT",
            "/auth/me/webhook",
            k,
            Some(json!({"url": "http://127.0.0.1/hook"})),
            400,
            "webhook_url_invalid",
        ),
        (
            "verification_phone_missing",
            "GET",
            "/api/v1/verification_code",
            k,
            None,
            400,
            "verification_phone_missing",
        ),
        (
            "verify_not_found",
            "GET",
            "/api/v1/verification_code/nope",
            k,
            None,
            404,
            "verify_not_found",
        ),
        (
            "webhook_verify_token_mismatch",
            "GET",
            "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1",
            None,
            None,
            403,
            "webhook_verify_token_mismatch",
        ),
        (
            "webhook_signature_missing",
            "POST",
            "/webhooks/whatsapp",
            None,
            Some(json!({})),
            401,
            "webhook_signature_missing",
        ),
    ];
    for (name, method, uri, key, body, status, code) in cases {
        let body = match body {
            Some(Value::String(raw)) if raw == "{" => None.or(Some(Value::String(raw))),
            other => other,
        };
        let (s, v, h) = if let Some(Value::String(raw)) = &body {
            // Raw, invalid JSON.
            let req = Request::builder()
                .method(method)
                .uri(uri)
                .header("authorization", format!("Bearer {}", key.unwrap()))
                .body(Body::from(raw.clone()))
                .unwrap();
            let resp = r.router.clone().oneshot(req).await.unwrap();
            let s = resp.status();
            let h = resp.headers().clone();
            let b = resp.into_body().collect().await.unwrap().to_bytes();
            (s, serde_json::from_slice(&b).unwrap(), h)
        } else {
            r.call(method, uri, key, body, &[]).await
        };
        assert_eq!(
            (s.as_u16(), v["code"].as_str().unwrap_or("")),
            (status, code),
            "{name}: {v}"
        );
        assert_eq!(v["success"], false, "{name}");
        assert_eq!(h["cache-control"], "no-store", "{name}");
        let mut v = v;
        if name == "json_invalid" {
            v["error"] = "[parser message]".into();
            if let Some(d) = v.get_mut("details").and_then(|d| d.as_array_mut()) {
                for item in d {
                    item["message"] = "[parser message]".into();
                }
            }
        }
        insta::assert_json_snapshot!(format!("send_error_{name}"), v);
    }
}

#[tokio::test]
async fn send_flow_idempotency_bulk_cancel_and_scoping() {
    let r = rig(&["--plan-limit-multiplier", "100"]).await;
    let key = r.register().await;
    let k = Some(key.as_str());
    let (s, v, h) = r
        .call(
            "POST",
            "/send-message",
            k,
            Some(text("+14155552671", "hi")),
            &[("idempotency-key", "abc")],
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["data"]["backend"], "dry_run");
    assert_eq!(v["data"]["dryRunBackend"], true);
    assert!(h.get("idempotency-replayed").is_none());
    let id = v["data"]["id"].as_str().unwrap().to_owned();
    let (s, v2, h) = r
        .call(
            "POST",
            "/send-message",
            k,
            Some(text("+14155552671", "hi")),
            &[("idempotency-key", "abc")],
        )
        .await;
    assert_eq!(
        (s, v2["data"]["id"].as_str()),
        (StatusCode::ACCEPTED, Some(id.as_str()))
    );
    assert_eq!(h["idempotency-replayed"], "true");
    let (s, v, _) = r
        .call(
            "POST",
            "/send-message",
            k,
            Some(text("+14155552671", "other")),
            &[("idempotency-key", "abc")],
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("idempotency_key_conflict"))
    );

    let (s, v, _) = r.call("POST", "/send-message", k, Some(json!({"to": "+14155552671", "type": "text", "text": {"body": "x"}, "dry_run": true})), &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["data"]["request"]["text"]["body"], "x");

    // sendAt may be at most a year ahead (changed on purpose: it was unbounded).
    let at = wa_send::Timestamp::from_millis(
        (wa_send::Clock::unix_seconds(&wa_send::SystemClock) + 30 * 86_400) * 1000,
    );
    let later = json!({"to": "+14155552671", "type": "text", "text": {"body": "later"}, "sendAt": at.to_rfc3339()});
    // A past sendAt in one item is that item's own error, with its own code.
    let past = json!({"to": "+14155552671", "type": "text", "text": {"body": "past"}, "sendAt": "2020-01-01T00:00:00Z"});
    let (s, v, _) = r
        .call(
            "POST",
            "/messages/bulk",
            k,
            Some(json!({"messages": [past]})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["data"]["results"][0]["error"]["code"], "send_at_in_past");
    let (s, v, _) = r
        .call(
            "POST",
            "/messages/bulk",
            k,
            Some(json!({"messages": [text("+14155552671", "a"), text("nope", "b"), later]})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(
        (
            v["data"]["totalMessages"].as_u64(),
            v["data"]["queued"].as_u64(),
            v["data"]["failedCount"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(v["data"]["results"][1]["error"]["code"], "body_invalid");
    let batch = v["data"]["batchId"].as_str().unwrap().to_owned();
    let scheduled = v["data"]["results"][2]["id"].as_str().unwrap().to_owned();
    let (_, v, _) = r
        .call("GET", &format!("/messages/{scheduled}"), k, None, &[])
        .await;
    assert_eq!(v["data"]["status"], "scheduled");
    assert_eq!(v["data"]["scheduledFor"], at.to_rfc3339().as_str());
    let (_, v, _) = r
        .call(
            "GET",
            &format!("/messages?batchId={batch}&limit=1"),
            k,
            None,
            &[],
        )
        .await;
    assert_eq!(v["data"]["messages"].as_array().unwrap().len(), 1);
    let cursor = v["data"]["nextCursor"].as_str().unwrap().to_owned();
    let (_, v, _) = r
        .call(
            "GET",
            &format!("/messages?batchId={batch}&limit=1&cursor={cursor}"),
            k,
            None,
            &[],
        )
        .await;
    assert_eq!(v["data"]["messages"].as_array().unwrap().len(), 1);
    let (s, v, _) = r
        .call(
            "POST",
            &format!("/messages/{scheduled}/cancel"),
            k,
            None,
            &[],
        )
        .await;
    assert_eq!(
        (s, v["data"]["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (s, v, _) = r
        .call(
            "POST",
            &format!("/messages/{scheduled}/cancel"),
            k,
            None,
            &[],
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("message_not_cancellable"))
    );

    let other = r.register().await;
    let (s, _, _) = r
        .call("GET", &format!("/messages/{id}"), Some(&other), None, &[])
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another account's message is 404");
    let (_, me, _) = r.call("GET", "/auth/me", k, None, &[]).await;
    assert_eq!(me["data"]["messagesSent"], 3);
    assert_eq!(me["data"]["plan"], "free");
}

#[tokio::test]
async fn plan_and_register_limits() {
    let r = rig(&[]).await;
    let key = r.register().await;
    for i in 0..20u64 {
        let (s, _, h) = r.call("GET", "/auth/me", Some(&key), None, &[]).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h["x-ratelimit-limit"], "20");
        assert_eq!(h["x-ratelimit-remaining"], (19 - i).to_string().as_str());
    }
    let (s, v, h) = r.call("GET", "/auth/me", Some(&key), None, &[]).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (429, Some("rate_limited"))
    );
    assert!(h.contains_key("retry-after"));
    // Registration: 5 per minute per IP (one used above).
    for _ in 0..4 {
        r.register().await;
    }
    let (s, v, _) = r
        .call(
            "POST",
            "/auth/register",
            None,
            Some(json!({"name": "x", "email": "x@x.example"})),
            &[],
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (429, Some("rate_limited"))
    );
}

/// `Idempotency-Key` on bulk sends: the replay is the original answer, another body 409.
#[tokio::test]
async fn bulk_idempotency_replays_and_conflicts() {
    let r = rig(&["--plan-limit-multiplier", "100"]).await;
    let key = r.register().await;
    let k = Some(key.as_str());
    let body = json!({"messages": [{"to": "14155552671", "message": "Hi Alice"}, {"to": "14155552672", "message": "Hi Bob"}]});
    let hdr = [("idempotency-key", "bulk-1")];
    let (s, first, h) = r
        .call("POST", "/messages/bulk", k, Some(body.clone()), &hdr)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{first}");
    assert!(h.get("idempotency-replayed").is_none());
    let (s, again, h) = r
        .call("POST", "/messages/bulk", k, Some(body.clone()), &hdr)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(h["idempotency-replayed"], "true");
    assert_eq!(again["data"]["batchId"], first["data"]["batchId"]);
    let (_, list, _) = r
        .call(
            "GET",
            &format!(
                "/messages?batchId={}",
                first["data"]["batchId"].as_str().unwrap()
            ),
            k,
            None,
            &[],
        )
        .await;
    assert_eq!(
        list["data"]["messages"].as_array().map(Vec::len),
        Some(2),
        "{list}"
    );
    let other = json!({"messages": [{"to": "14155552671", "message": "Hi Carol"}]});
    let (s, v, _) = r.call("POST", "/messages/bulk", k, Some(other), &hdr).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("idempotency_key_conflict"))
    );
}

/// Ten rotations while four senders hammer the API: once `rotate-key` has answered, the
/// old key is refused and the new one accepted on every later request; requests racing
/// the rotation get 202 or 401, never anything else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_is_atomic_under_concurrent_senders() {
    let r = std::sync::Arc::new(rig(&["--plan-limit-multiplier", "1000"]).await);
    let mut key = r.register().await;
    for round in 0..10 {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let senders: Vec<_> = (0..4)
            .map(|i| {
                let (r, stop, key) = (r.clone(), stop.clone(), key.clone());
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let body =
                            json!({"to": "14155552671", "message": format!("r{round} s{i}")});
                        let (s, _, _) = r
                            .call("POST", "/send-message", Some(&key), Some(body), &[])
                            .await;
                        seen.push(s.as_u16());
                    }
                    seen
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let (s, v, _) = r
            .call("POST", "/auth/me/rotate-key", Some(&key), None, &[])
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let new = v["data"]["apiKey"].as_str().unwrap().to_owned();
        let checks: Vec<_> = [(key.clone(), 401), (new.clone(), 202)]
            .into_iter()
            .flat_map(|(k, want)| {
                let r = r.clone();
                (0..4).map(move |_| {
                    let (r, k) = (r.clone(), k.clone());
                    tokio::spawn(async move {
                        let body = json!({"to": "14155552671", "message": "after"});
                        let (s, _, _) = r
                            .call("POST", "/send-message", Some(&k), Some(body), &[])
                            .await;
                        (s.as_u16(), want)
                    })
                })
            })
            .collect();
        for c in checks {
            let (got, want) = c.await.unwrap();
            assert_eq!(got, want, "round {round}");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for s in senders {
            let statuses = s.await.unwrap();
            assert!(
                statuses.iter().all(|s| *s == 202 || *s == 401),
                "round {round}: {statuses:?}"
            );
            // A sender's requests after its first 401 are all 401: no flapping back.
            if let Some(p) = statuses.iter().position(|s| *s == 401) {
                assert!(statuses[p..].iter().all(|s| *s == 401), "round {round}");
            }
        }
        key = new;
    }
}
