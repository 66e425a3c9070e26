//! WsapiBackend against a fake WSAPI on 127.0.0.1.
#![cfg(feature = "wsapi")]

mod common;

use std::time::Duration;

use common::{Fake, Reply};
use serde_json::json;
use wa_send::{
    Content, DeliveryBackend, ErrorClass, Media, MediaKind, MediaSource, Outbound, Recipient,
    Template, WsapiBackend,
};

const KEY: &str = "sk_wsapi_secret";

async fn setup() -> (Fake, WsapiBackend) {
    let fake = Fake::start(Reply::Json(200, json!({"id": "3EB0C767D26A1D8E2B"}))).await;
    let backend = WsapiBackend::builder(KEY, "ins_123")
        .base_url(&fake.base)
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    (fake, backend)
}

fn at(base: String) -> WsapiBackend {
    WsapiBackend::builder(KEY, "ins_123")
        .base_url(base)
        .build()
        .unwrap()
}

backend_tests!(setup: setup, at: at, text: text, secret: KEY, name: "wsapi");

fn text() -> Outbound {
    Outbound::new(
        Recipient::parse("+1 415 555 2671").unwrap(),
        Content::text("Hello"),
    )
}

#[tokio::test]
async fn text_goes_to_its_endpoint_with_both_headers() {
    let (fake, backend) = setup().await;
    let receipt = backend.send(&text().reply_to("3EB0ABC")).await.unwrap();
    assert_eq!(receipt.provider_message_id, "3EB0C767D26A1D8E2B");
    let req = fake.last();
    assert_eq!(req.path_and_query, "/messages/text");
    assert_eq!(req.header("x-api-key"), Some(KEY));
    assert_eq!(req.header("x-instance-id"), Some("ins_123"));
    assert_eq!(
        req.json(),
        json!({"to": "14155552671@s.whatsapp.net", "text": "Hello", "replyTo": "3EB0ABC"})
    );
}

#[tokio::test]
async fn jid_recipients_pass_through() {
    let (fake, backend) = setup().await;
    let msg = Outbound::new(
        Recipient::parse("120363025246125486@g.us").unwrap(),
        Content::text("hi group"),
    );
    backend.send(&msg).await.unwrap();
    assert_eq!(fake.last().json()["to"], "120363025246125486@g.us");
}

#[tokio::test]
async fn media_by_link() {
    let (fake, backend) = setup().await;
    let msg = Outbound::new(
        Recipient::parse("+14155552671").unwrap(),
        Content::Media(
            Media::new(
                MediaKind::Image,
                MediaSource::Link("https://example.com/cat.png?x=1".into()),
            )
            .caption("cat"),
        ),
    );
    backend.send(&msg).await.unwrap();
    let req = fake.last();
    assert_eq!(req.path_and_query, "/messages/image");
    assert_eq!(req.json()["imageURL"], "https://example.com/cat.png?x=1");
    assert_eq!(req.json()["mimeType"], "image/png");
}

#[tokio::test]
async fn unsupported_content_never_reaches_the_network() {
    let (fake, backend) = setup().await;
    let t = Outbound::new(
        Recipient::parse("+14155552671").unwrap(),
        Content::Template(Template::new("hello_world", "en_US")),
    );
    assert_eq!(
        backend.send(&t).await.unwrap_err().code(),
        "delivery_unsupported"
    );
    let b = Outbound::new(
        Recipient::parse("US.13491208655302741918").unwrap(),
        Content::text("hi"),
    );
    assert_eq!(
        backend.send(&b).await.unwrap_err().code(),
        "delivery_unsupported"
    );
    assert!(fake.seen().is_empty());
}

#[tokio::test]
async fn problem_details_are_classified_by_status() {
    let (fake, backend) = setup().await;
    let problem = |status: u16, title: &str| {
        Reply::Json(
            status,
            json!({"type": "about:blank", "title": title, "status": status, "detail": "details here", "instance": "/messages/text"}),
        )
    };
    let cases = [
        (
            problem(401, "Unauthorized"),
            ErrorClass::Auth,
            "delivery_auth",
        ),
        (problem(403, "Forbidden"), ErrorClass::Auth, "delivery_auth"),
        (
            problem(400, "Bad Request"),
            ErrorClass::Permanent,
            "delivery_rejected",
        ),
        (
            problem(404, "Instance not found"),
            ErrorClass::Permanent,
            "delivery_rejected",
        ),
        (
            problem(429, "Too Many Requests"),
            ErrorClass::RateLimited,
            "delivery_rate_limited",
        ),
        (
            problem(500, "Internal Server Error"),
            ErrorClass::Transient,
            "delivery_transient",
        ),
        (
            problem(503, "Unavailable"),
            ErrorClass::Transient,
            "delivery_transient",
        ),
    ];
    for (reply, class, code) in cases {
        fake.push(reply);
        let err = backend.send(&text()).await.unwrap_err();
        assert_eq!((err.class(), err.code()), (class, code));
        assert!(err.to_string().contains("details here"), "{err}");
    }
    fake.push(Reply::Raw(429, "", vec![("retry-after", "3")]));
    assert_eq!(
        backend.send(&text()).await.unwrap_err().retry_after(),
        Some(Duration::from_secs(3))
    );
}

#[tokio::test]
async fn answers_without_an_id_are_malformed() {
    let (fake, backend) = setup().await;
    // Timeouts, empty and truncated bodies: `backend_conformance`.
    for reply in [
        Reply::Json(200, json!({"messageId": "x"})),
        Reply::Raw(204, "", vec![]),
    ] {
        fake.push(reply.clone());
        let err = backend.send(&text()).await.unwrap_err();
        assert_eq!(err.code(), "delivery_malformed_response", "{reply:?}");
        assert!(err.is_retryable());
    }
}

#[tokio::test]
async fn credential_check() {
    let (fake, backend) = setup().await;
    fake.push(Reply::Json(
        200,
        json!({"id": "ins_123", "name": "Support line", "phoneNumber": "14155550000"}),
    ));
    let info = backend.verify_credentials().await.unwrap();
    assert_eq!(info.account_id, "ins_123");
    assert_eq!(info.display_phone_number.as_deref(), Some("14155550000"));
    let req = fake.last();
    assert_eq!(
        (req.method.as_str(), req.path_and_query.as_str()),
        ("GET", "/instance/details")
    );
    fake.push(Reply::Json(
        401,
        json!({"title": "Unauthorized", "status": 401}),
    ));
    assert_eq!(
        backend.verify_credentials().await.unwrap_err().class(),
        ErrorClass::Auth
    );
}

#[test]
fn config_is_checked_and_key_redacted() {
    assert_eq!(
        WsapiBackend::builder("", "ins").build().unwrap_err().code(),
        "delivery_config_invalid"
    );
    assert_eq!(
        WsapiBackend::builder("k", "a/b")
            .build()
            .unwrap_err()
            .code(),
        "delivery_config_invalid"
    );
    assert_eq!(
        WsapiBackend::builder("k", "ins")
            .base_url("http://x/?q=1")
            .build()
            .unwrap_err()
            .code(),
        "delivery_config_invalid"
    );
    let b = WsapiBackend::builder(KEY, "ins").build().unwrap();
    assert!(!format!("{b:?}").contains(KEY));
}
