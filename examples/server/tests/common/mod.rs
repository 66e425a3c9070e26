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
