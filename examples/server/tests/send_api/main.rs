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

mod flows;

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
