//! CloudApiBackend against a fake Graph API on 127.0.0.1.
#![cfg(feature = "cloud-api")]

mod common;

use std::time::Duration;

use common::{Fake, Reply, meta_error};
use serde_json::json;
use wa_send::{
    CloudApiBackend, Content, DeliveryBackend, ErrorClass, Outbound, Recipient, Template,
    cloud_api_request_body,
};

const TOKEN: &str = "EAAGsecret-token";

fn ok_reply() -> Reply {
    Reply::Json(
        200,
        json!({"messaging_product":"whatsapp","contacts":[{"input":"+14155552671","wa_id":"14155552671"}],"messages":[{"id":"wamid.HBgLOK"}]}),
    )
}

async fn setup() -> (Fake, CloudApiBackend) {
    let fake = Fake::start(ok_reply()).await;
    let backend = CloudApiBackend::builder(TOKEN, "106540352242922")
        .base_url(&fake.base)
        .graph_version("v24.0")
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    (fake, backend)
}

fn at(base: String) -> CloudApiBackend {
    CloudApiBackend::builder(TOKEN, "1")
        .base_url(base)
        .build()
        .unwrap()
}

backend_tests!(setup: setup, at: at, text: text, secret: TOKEN, name: "cloud_api");

fn text() -> Outbound {
    Outbound::new(
        Recipient::parse("+1 (415) 555-2671").unwrap(),
        Content::text("Hello"),
    )
}

#[tokio::test]
async fn success_sends_the_documented_request() {
    let (fake, backend) = setup().await;
    let msg = Outbound::new(
        Recipient::parse("+14155552671").unwrap(),
        Content::Template(Template::authentication("otp", "en_US", "123456").unwrap()),
    );
    let receipt = backend.send(&msg).await.unwrap();
    assert_eq!(receipt.provider_message_id, "wamid.HBgLOK");
    assert_eq!(receipt.wa_id.as_deref(), Some("14155552671"));
    assert_eq!(receipt.backend, "cloud_api");
    let req = fake.last();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path_and_query, "/v24.0/106540352242922/messages");
    assert_eq!(
        req.header("authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert!(
        req.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(req.json(), cloud_api_request_body(&msg).unwrap());
    assert_eq!(req.json()["to"], "+14155552671");
}

#[tokio::test]
async fn message_status_is_kept() {
    let (fake, backend) = setup().await;
    fake.push(Reply::Json(
        200,
        json!({"messages":[{"id":"wamid.T","message_status":"accepted"}]}),
    ));
    let r = backend.send(&text()).await.unwrap();
    assert_eq!(r.message_status.as_deref(), Some("accepted"));
    assert_eq!(r.wa_id, None);
}

#[tokio::test]
async fn each_error_class_from_the_code_not_the_status() {
    let (fake, backend) = setup().await;
    let cases: &[(u16, i64, ErrorClass, &str)] = &[
        (400, 131000, ErrorClass::Transient, "delivery_transient"),
        (500, 100, ErrorClass::Permanent, "delivery_rejected"),
        (
            400,
            130429,
            ErrorClass::RateLimited,
            "delivery_rate_limited",
        ),
        (
            400,
            131056,
            ErrorClass::RateLimited,
            "delivery_pair_rate_limited",
        ),
        (401, 190, ErrorClass::Auth, "delivery_auth"),
        (
            400,
            131047,
            ErrorClass::WindowClosed,
            "delivery_window_closed",
        ),
        (
            400,
            131026,
            ErrorClass::Undeliverable,
            "delivery_undeliverable",
        ),
        (200, 131009, ErrorClass::Permanent, "delivery_rejected"),
    ];
    for &(status, code, class, wire) in cases {
        fake.push(Reply::Json(status, meta_error(code, "something")));
        let err = backend.send(&text()).await.unwrap_err();
        if status == 200 {
            // A 200 carrying an error object has no message id: unreadable, retried.
            assert_eq!(err.code(), "delivery_malformed_response");
            continue;
        }
        assert_eq!(err.class(), class, "code {code}");
        assert_eq!(err.code(), wire);
        assert_eq!(err.provider_code(), Some(code));
        assert!(err.to_string().contains("something"), "{err}");
    }
}

#[tokio::test]
async fn retry_after_header_is_honoured() {
    let (fake, backend) = setup().await;
    fake.push(Reply::Raw(
        429,
        r#"{"error":{"code":130429,"message":"throughput"}}"#,
        vec![("retry-after", "7"), ("content-type", "application/json")],
    ));
    let err = backend.send(&text()).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn malformed_responses() {
    let (fake, backend) = setup().await;
    let cases: &[(Reply, ErrorClass)] = &[
        (Reply::Raw(200, "not json", vec![]), ErrorClass::Transient),
        (
            Reply::Raw(200, r#"{"messages":[{"id":"wamid.tru"#, vec![]),
            ErrorClass::Transient,
        ),
        (
            Reply::Json(200, json!({"messages":[]})),
            ErrorClass::Transient,
        ),
        (
            Reply::Json(200, json!({"messages":[{"id":""}]})),
            ErrorClass::Transient,
        ),
        (
            Reply::Raw(502, "<html>Bad gateway</html>", vec![]),
            ErrorClass::Transient,
        ),
        (
            Reply::Raw(400, "<html>nope</html>", vec![]),
            ErrorClass::Permanent,
        ),
        (
            Reply::Json(400, json!({"error":{"message":"no code"}})),
            ErrorClass::Permanent,
        ),
    ];
    for (reply, class) in cases {
        fake.push(reply.clone());
        let err = backend.send(&text()).await.unwrap_err();
        assert_eq!(err.class(), *class, "{reply:?} gave {err:?}");
    }
    // 5xx without a code is classified by status, not as malformed.
    fake.push(Reply::Raw(503, "down", vec![]));
    assert_eq!(
        backend.send(&text()).await.unwrap_err().code(),
        "delivery_transient"
    );
}

#[tokio::test]
async fn invalid_messages_never_reach_the_network() {
    let (fake, backend) = setup().await;
    let msg = Outbound::new(Recipient::parse("+14155552671").unwrap(), Content::text(""));
    assert_eq!(
        backend.send(&msg).await.unwrap_err().code(),
        "message_text_empty"
    );
    let group = Outbound::new(
        Recipient::parse("120363025246125486@g.us").unwrap(),
        Content::text("hi"),
    );
    assert_eq!(
        backend.send(&group).await.unwrap_err().code(),
        "delivery_unsupported"
    );
    assert!(fake.seen().is_empty());
}

#[tokio::test]
async fn bsuid_goes_in_recipient() {
    let (fake, backend) = setup().await;
    let msg = Outbound::new(
        Recipient::parse("US.13491208655302741918").unwrap(),
        Content::text("hi"),
    );
    backend.send(&msg).await.unwrap();
    let body = fake.last().json();
    assert_eq!(body["recipient"], "US.13491208655302741918");
    assert!(body.get("to").is_none());
}

#[tokio::test]
async fn credential_check() {
    let (fake, backend) = setup().await;
    fake.push(Reply::Json(200, json!({"id":"106540352242922","display_phone_number":"+1 555-078-3881","verified_name":"Acme","quality_rating":"GREEN"})));
    let info = backend.verify_credentials().await.unwrap();
    assert_eq!(info.verified_name.as_deref(), Some("Acme"));
    assert_eq!(info.account_id, "106540352242922");
    let req = fake.last();
    assert_eq!(req.method, "GET");
    assert!(
        req.path_and_query
            .starts_with("/v24.0/106540352242922?fields="),
        "{}",
        req.path_and_query
    );

    fake.push(Reply::Json(
        401,
        meta_error(190, "Error validating access token"),
    ));
    let err = backend.verify_credentials().await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Auth);

    fake.push(Reply::Raw(200, "[]", vec![]));
    assert_eq!(
        backend.verify_credentials().await.unwrap_err().code(),
        "delivery_malformed_response"
    );
}

#[test]
fn config_is_checked_and_token_redacted() {
    for (token, id, base, version) in [
        ("", "1", "https://graph.facebook.com", "v24.0"),
        ("t", "abc", "https://graph.facebook.com", "v24.0"),
        ("t", "1/2", "https://graph.facebook.com", "v24.0"),
        ("t", "1", "ftp://x", "v24.0"),
        ("t", "1", "not a url", "v24.0"),
        ("t", "1", "https://graph.facebook.com", "24"),
    ] {
        let err = CloudApiBackend::builder(token, id)
            .base_url(base)
            .graph_version(version)
            .build()
            .unwrap_err();
        assert_eq!(err.code(), "delivery_config_invalid");
    }
    let b = CloudApiBackend::builder(TOKEN, "1").build().unwrap();
    assert!(!format!("{b:?}").contains(TOKEN));
}
