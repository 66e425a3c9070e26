//! Helpers shared by the server's test binaries: loopback fakes and Meta's notification
//! envelope. Each binary uses a subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use axum::Router;
use serde_json::{Value, json};

/// Serves `app` on a free loopback port; returns its base URL.
pub(crate) async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A loopback port free right now (for a server binary started with `--bind`).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Meta's webhook envelope around one `messages`-field `value`.
pub(crate) fn meta_body(value: Value) -> String {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}).to_string()
}

/// One request to a fake Graph API, as the fakes need it: the phone-number id from the
/// path and, for a message POST, its callback tag and text body.
pub(crate) struct GraphCall {
    pub(crate) pnid: String,
    pub(crate) tag: String,
    pub(crate) text: String,
}

impl GraphCall {
    pub(crate) fn read(uri: &axum::http::Uri, body: &[u8]) -> GraphCall {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let field = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        GraphCall {
            pnid: uri.path().split('/').nth(2).unwrap_or_default().to_owned(),
            tag: field(&v["biz_opaque_callback_data"]),
            text: field(&v["text"]["body"]),
        }
    }
}

/// Graph's answer to a credential check of `pnid`.
pub(crate) fn graph_phone_info(pnid: &str, name: &str) -> axum::Json<Value> {
    axum::Json(
        json!({"id": pnid, "display_phone_number": "+1 555-000-1111", "verified_name": name}),
    )
}

/// Graph's answer to an accepted message.
pub(crate) fn graph_accepted(wamid: &str) -> axum::Json<Value> {
    axum::Json(
        json!({"messaging_product": "whatsapp", "contacts": [{"wa_id": "14155552671"}], "messages": [{"id": wamid}]}),
    )
}

/// A Meta status notification for one message (with its callback tag).
pub(crate) fn status_notification(pnid: &str, wamid: &str, status: &str, tag: &str) -> String {
    meta_body(
        json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": pnid},
        "statuses": [{"id": wamid, "status": status, "timestamp": "1750000000", "recipient_id": "14155552671", "biz_opaque_callback_data": tag}]}),
    )
}

/// Posts Meta's webhook `body`, signed with `app_secret`, until a server answers 2xx (up
/// to a minute); `base(attempt)` names the server to try (`None`: none is up yet).
pub(crate) async fn deliver_meta_webhook(
    body: &str,
    app_secret: &str,
    mut base: impl FnMut(usize) -> Option<String>,
) {
    let sig = wa_send::webhook::meta::sign(body.as_bytes(), app_secret.as_bytes());
    let client = reqwest::Client::new();
    for attempt in 0..600 {
        if let Some(base) = base(attempt) {
            let r = client
                .post(format!("{base}/webhooks/whatsapp"))
                .header("x-hub-signature-256", &sig)
                .header("content-type", "application/json")
                .body(body.to_owned())
                .timeout(std::time::Duration::from_secs(5))
                .send()
                .await;
            if r.is_ok_and(|r| r.status().is_success()) {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// `POST /auth/register` with `name` and `email`; the response body (`data.apiKey`,
/// `data.callbackSecret`, …).
pub(crate) async fn register(c: &reqwest::Client, base: &str, name: &str, email: &str) -> Value {
    c.post(format!("{base}/auth/register"))
        .json(&json!({"name": name, "email": email}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
