//! A scriptable HTTP server on 127.0.0.1 standing in for Graph API or WSAPI.
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the fake answers.
#[derive(Debug, Clone)]
pub enum Reply {
    Json(u16, serde_json::Value),
    Raw(u16, &'static str, Vec<(&'static str, &'static str)>),
    /// Never answers (the client must time out).
    Hang,
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    seen: Vec<Recorded>,
}

#[derive(Clone)]
pub struct Fake {
    pub base: String,
    state: Arc<Mutex<State>>,
    default: Reply,
}

impl Fake {
    pub async fn start(default: Reply) -> Fake {
        let state = Arc::new(Mutex::new(State::default()));
        let s2 = state.clone();
        let d2 = default.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = s2.clone();
                let default = d2.clone();
                async move {
                    let reply = {
                        let mut st = state.lock().unwrap();
                        st.seen.push(Recorded {
                            method,
                            path_and_query: uri
                                .path_and_query()
                                .map(|p| p.to_string())
                                .unwrap_or_default(),
                            headers,
                            body,
                        });
                        st.script.pop_front().unwrap_or(default)
                    };
                    respond(reply).await
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Fake {
            base: format!("http://{addr}"),
            state,
            default,
        }
    }

    pub fn push(&self, reply: Reply) {
        self.state.lock().unwrap().script.push_back(reply);
    }

    pub fn seen(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn last(&self) -> Recorded {
        self.seen()
            .last()
            .cloned()
            .expect("the fake received a request")
    }
}

async fn respond(reply: Reply) -> Response {
    match reply {
        Reply::Json(status, v) => {
            (StatusCode::from_u16(status).unwrap(), axum::Json(v)).into_response()
        }
        Reply::Raw(status, body, headers) => {
            let mut resp = (StatusCode::from_u16(status).unwrap(), body).into_response();
            for (k, v) in headers {
                resp.headers_mut().insert(k, v.parse().unwrap());
            }
            resp
        }
        Reply::Hang => std::future::pending().await,
    }
}

/// A Graph API error body.
pub fn meta_error(code: i64, message: &str) -> serde_json::Value {
    serde_json::json!({"error": {"message": format!("(#{code}) {message}"), "type": "OAuthException", "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": message}, "fbtrace_id": "Axyz"}})
}

/// The behaviours every HTTP [`wa_send::DeliveryBackend`] shares, as one named test each,
/// run against the fake server of this module:
/// - `$setup`: `async fn() -> (Fake, Backend)`, a backend pointed at a fresh fake;
/// - `$at`: `fn(base_url: String) -> Backend`, a backend pointed anywhere;
/// - `$text`: `fn() -> Outbound`, a message the backend can send;
/// - `$secret`: the credential that must never show in errors or `Debug` output;
/// - `$name`: the backend's [`wa_send::DeliveryBackend::name`].
///
/// Backend-specific behaviour (request shapes, error mapping) stays in each backend's file.
#[macro_export]
macro_rules! backend_tests {
    (setup: $setup:path, at: $at:path, text: $text:path, secret: $secret:expr, name: $name:literal $(,)?) => {
        mod backend_conformance {
            use super::*;
            use wa_send::{DeliveryBackend, DeliveryError, ErrorClass};

            #[tokio::test]
            async fn timeouts_are_transient() {
                let (fake, backend) = $setup().await;
                fake.push(common::Reply::Hang);
                let err = backend.send(&$text()).await.unwrap_err();
                assert!(matches!(err, DeliveryError::Timeout { .. }), "{err:?}");
                assert_eq!(err.class(), ErrorClass::Transient);
                assert_eq!(err.code(), "delivery_timeout");
            }

            #[tokio::test]
            async fn connection_refused_is_transient_and_hides_the_secret() {
                // Bind then drop a listener to get a port nobody listens on.
                let port = std::net::TcpListener::bind("127.0.0.1:0")
                    .unwrap()
                    .local_addr()
                    .unwrap()
                    .port();
                let backend = $at(format!("http://127.0.0.1:{port}"));
                let err = backend.send(&$text()).await.unwrap_err();
                assert_eq!(err.code(), "delivery_network");
                assert!(err.is_retryable());
                assert!(!err.to_string().contains($secret));
                assert!(!format!("{err:?}").contains($secret));
            }

            #[tokio::test]
            async fn empty_or_truncated_success_bodies_are_malformed_and_retryable() {
                let (fake, backend) = $setup().await;
                for reply in [
                    common::Reply::Raw(200, "", vec![]),
                    common::Reply::Raw(200, "not json", vec![]),
                    common::Reply::Raw(200, "{\"id\":", vec![]),
                ] {
                    fake.push(reply.clone());
                    let err = backend.send(&$text()).await.unwrap_err();
                    assert_eq!(err.code(), "delivery_malformed_response", "{reply:?}");
                    assert!(err.is_retryable());
                }
            }

            #[tokio::test]
            async fn usable_as_trait_object() {
                let (_fake, backend) = $setup().await;
                // The trait is object-safe: shared (`Arc`) and boxed backends are used the
                // same way.
                let shared: wa_send::SharedBackend = std::sync::Arc::new(backend.clone());
                assert!(shared.send(&$text()).await.is_ok());
                let boxed: Box<dyn DeliveryBackend> = Box::new(backend);
                assert_eq!(boxed.name(), $name);
                assert!(boxed.send(&$text()).await.is_ok());
            }

            #[tokio::test]
            async fn debug_output_hides_the_secret() {
                let (_fake, backend) = $setup().await;
                assert!(!format!("{backend:?}").contains($secret));
            }
        }
    };
}
