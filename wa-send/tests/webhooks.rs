//! Meta webhooks: real-shaped fixtures, signatures over raw bytes, handshake.

use std::path::Path;

use wa_send::webhook::meta::{self as webhook, InboundContent, WebhookError};
use wa_send::{MessageStatus, WebhookEvent};

const SECRET: &[u8] = b"app-secret-123";

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/webhooks");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 16);
    out
}

#[test]
fn every_fixture_verifies_and_parses() {
    for (name, body) in fixtures() {
        let sig = webhook::sign(&body, SECRET);
        webhook::verify_signature(&body, Some(&sig), SECRET)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let events = webhook::parse(&body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!events.is_empty(), "{name}");
        insta::assert_json_snapshot!(format!("webhook_{name}"), events);
    }
}

#[test]
fn signature_mismatch_on_any_change() {
    for (name, body) in fixtures() {
        let sig = webhook::sign(&body, SECRET);
        let mut tampered = body.clone();
        let i = tampered.len() / 2;
        tampered[i] ^= 0x01;
        assert_eq!(
            webhook::verify_signature(&tampered, Some(&sig), SECRET),
            Err(WebhookError::SignatureMismatch),
            "{name}"
        );
        // Truncated bodies fail the signature and, on their own, the parser.
        let truncated = &body[..body.len() - 7];
        assert_eq!(
            webhook::verify_signature(truncated, Some(&sig), SECRET),
            Err(WebhookError::SignatureMismatch)
        );
        assert_eq!(
            webhook::parse(truncated).unwrap_err().code(),
            "webhook_payload_malformed",
            "{name}"
        );
        // The wrong secret.
        assert_eq!(
            webhook::verify_signature(&body, Some(&sig), b"other"),
            Err(WebhookError::SignatureMismatch)
        );
    }
}

#[test]
fn signature_is_over_raw_bytes_not_reserialised_json() {
    let (_, body) = fixtures()
        .into_iter()
        .find(|(n, _)| n == "text_unknown_fields")
        .unwrap();
    assert!(
        std::str::from_utf8(&body).unwrap().contains("\\u00f1"),
        "fixture keeps Meta's escapes"
    );
    let sig = webhook::sign(&body, SECRET);
    let reserialised =
        serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(&body).unwrap()).unwrap();
    assert_ne!(reserialised, body);
    assert_eq!(
        webhook::verify_signature(&reserialised, Some(&sig), SECRET),
        Err(WebhookError::SignatureMismatch)
    );
    webhook::verify_signature(&body, Some(&sig), SECRET).unwrap();
}

#[test]
fn malformed_signature_headers() {
    let body = b"{}";
    let good = webhook::sign(body, SECRET);
    assert_eq!(
        webhook::verify_signature(body, None, SECRET),
        Err(WebhookError::SignatureMissing)
    );
    assert_eq!(
        webhook::verify_signature(body, Some("  "), SECRET),
        Err(WebhookError::SignatureMissing)
    );
    for bad in [
        "sha1=abc",
        &good[7..],
        "sha256=",
        "sha256=zz",
        &format!("{good}00"),
        &good.replace("sha256=", "sha256=g")[..71],
    ] {
        assert_eq!(
            webhook::verify_signature(body, Some(bad), SECRET),
            Err(WebhookError::SignatureMalformed),
            "{bad}"
        );
    }
    // Upper-case hex is the same signature.
    let upper = format!("sha256={}", good[7..].to_uppercase());
    webhook::verify_signature(body, Some(&upper), SECRET).unwrap();
}

#[test]
fn typed_content() {
    let get = |name: &str| {
        let (_, body) = fixtures().into_iter().find(|(n, _)| n == name).unwrap();
        webhook::parse(&body).unwrap()
    };
    let WebhookEvent::Message(m) = &get("button_reply")[0] else {
        panic!()
    };
    assert_eq!(
        m.content,
        InboundContent::ButtonReply {
            id: "yes".into(),
            title: "Yes".into()
        }
    );
    assert_eq!(
        m.context.as_ref().unwrap().id.as_deref(),
        Some("wamid.ORIGINAL")
    );
    assert_eq!(m.profile_name.as_deref(), Some("Sheena Nelson"));
    assert_eq!(m.from.as_deref(), Some("16505551234"));
    assert_eq!(m.timestamp, wa_send::Timestamp::from_secs(1_749_416_383));

    let WebhookEvent::Message(m) = &get("bsuid_sender")[0] else {
        panic!()
    };
    assert_eq!(m.from, None);
    assert_eq!(m.from_user_id.as_deref(), Some("BR.13491208655302741918"));
    assert_eq!(m.username.as_deref(), Some("ze.silva"));

    let statuses: Vec<_> = get("statuses")
        .into_iter()
        .map(|e| match e {
            WebhookEvent::Status(s) => s,
            other => panic!("{other:?}"),
        })
        .collect();
    let kinds: Vec<_> = statuses.iter().map(|s| s.status).collect();
    assert_eq!(
        kinds,
        [
            MessageStatus::Sent,
            MessageStatus::Delivered,
            MessageStatus::Read,
            MessageStatus::Failed,
            MessageStatus::Played
        ]
    );
    assert_eq!(statuses[3].errors[0].code, 131049);
    assert_eq!(
        statuses[0].biz_opaque_callback_data.as_deref(),
        Some("order=1234")
    );
    assert_eq!(
        statuses[0].pricing.as_ref().unwrap().category.as_deref(),
        Some("utility")
    );

    // Several contacts: each message gets its own sender's name.
    let batch = get("batch_mixed");
    assert!(matches!(&batch[0], WebhookEvent::Other { field, .. } if field == "account_update"));
    let WebhookEvent::Message(b) = &batch[1] else {
        panic!()
    };
    assert_eq!(
        (b.text(), b.profile_name.as_deref()),
        (Some("from B"), Some("B"))
    );
    let WebhookEvent::Message(a) = &batch[2] else {
        panic!()
    };
    assert_eq!(
        (a.text(), a.profile_name.as_deref()),
        (Some("from A"), Some("A"))
    );
}

#[test]
fn envelope_errors() {
    for bad in [
        &b""[..],
        b"null",
        b"[]",
        br#"{"object":"page","entry":[]}"#,
        br#"{"entry":[]}"#,
        br#"{"object":"whatsapp_business_account"}"#,
        br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"type":"text"}]}}]}]}"#,
        br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"w","timestamp":"1"}]}}]}]}"#,
        b"\xff\xfe{",
    ] {
        assert_eq!(webhook::parse(bad).unwrap_err().code(), "webhook_payload_malformed", "{}", String::from_utf8_lossy(bad));
    }
    // Empty but well-formed: no events, no error.
    assert!(
        webhook::parse(br#"{"object":"whatsapp_business_account","entry":[]}"#)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn handshake() {
    assert_eq!(
        webhook::verify_handshake(Some("subscribe"), Some("tok"), Some("1158201444"), "tok"),
        Ok("1158201444")
    );
    assert_eq!(
        webhook::verify_handshake(Some("unsubscribe"), Some("tok"), Some("1"), "tok"),
        Err(WebhookError::ModeInvalid)
    );
    assert_eq!(
        webhook::verify_handshake(None, Some("tok"), Some("1"), "tok"),
        Err(WebhookError::ModeInvalid)
    );
    assert_eq!(
        webhook::verify_handshake(Some("subscribe"), Some("nope"), Some("1"), "tok"),
        Err(WebhookError::VerifyTokenMismatch)
    );
    assert_eq!(
        webhook::verify_handshake(Some("subscribe"), None, Some("1"), "tok"),
        Err(WebhookError::VerifyTokenMismatch)
    );
    assert_eq!(
        webhook::verify_handshake(Some("subscribe"), Some(""), Some("1"), ""),
        Err(WebhookError::VerifyTokenMismatch)
    );
    for bad in [None, Some(""), Some("<script>"), Some("a b")] {
        assert_eq!(
            webhook::verify_handshake(Some("subscribe"), Some("tok"), bad, "tok"),
            Err(WebhookError::ChallengeInvalid)
        );
    }
    assert_eq!(
        webhook::verify_handshake_query(
            "hub.mode=subscribe&hub.challenge=42&hub.verify_token=t%20k",
            "t k"
        )
        .unwrap(),
        "42"
    );
    assert_eq!(
        webhook::verify_handshake_query(
            "hub.mode=subscribe&hub.challenge=42&hub.verify_token=tok&hub.verify_token=tok",
            "tok"
        ),
        Err(WebhookError::VerifyTokenMismatch)
    );
}

proptest::proptest! {
    #[test]
    fn parse_never_panics(body in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        let _ = webhook::parse(&body);
        let _ = webhook::verify_signature(&body, Some("sha256=00"), SECRET);
    }

    #[test]
    fn parse_never_panics_on_json_like(s in r#"\{"object":"whatsapp_business_account","entry":\[\{"changes":\[\{"field":"messages","value":\{"(messages|statuses|contacts)":\[\{("[a-z_]{1,9}":("[a-z0-9]{0,5}"|[0-9]{1,3}|null|\{\}|\[\]),?){0,6}\}\]\}\}\]\}\]\}"#) {
        let _ = webhook::parse(s.as_bytes());
    }
}
