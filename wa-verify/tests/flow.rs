//! Every transition and every reply, with a fixed clock and a seeded RNG; the store
//! conformance suite on the in-memory store; the error codes.

use std::sync::Arc;
use std::time::Duration;

use wa_validate::{Phone, Recipient};
use wa_verify::{
    Channel, Config, Inbound, ManualClock, MemoryStore, Outcome, Request, SeededRng, Status,
    Verifier,
};

const T0: u64 = 1_611_703_033; // 2021-01-26T23:17:13Z

fn setup(config: Config) -> (Verifier<MemoryStore>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at_unix(T0));
    let v = Verifier::new_with(
        config,
        MemoryStore::new(),
        clock.clone(),
        Arc::new(SeededRng::new(42)),
    );
    (v, clock)
}

fn business() -> Phone {
    Phone::parse("+56943426553").unwrap()
}

fn msg(from: &str, text: String) -> Inbound {
    Inbound {
        from: Recipient::parse(from).unwrap(),
        profile_name: Some("Some Folk".into()),
        text,
    }
}

fn code_msg(code: &str) -> String {
    format!(">>{code}<<\nJust tap the \"send\" button.")
}

#[tokio::test]
async fn issued_response_snapshot() {
    let (v, _) = setup(Config::new(business()).qr_base_url("https://example.org/api/v1/qr"));
    let issued = v
        .issue(
            "app",
            &Request {
                qr: Some(true),
                ..Request::default()
            },
        )
        .await
        .unwrap();
    insta::assert_json_snapshot!("issued_whatsapp", issued);
    let sms = v
        .issue(
            "app",
            &Request {
                channel: Some(Channel::Sms),
                ..Request::default()
            },
        )
        .await
        .unwrap();
    insta::assert_json_snapshot!("issued_sms", sms);
    // The link decodes to exactly the message the user sends.
    let parsed = wa_links::parse(&issued.link).unwrap();
    assert_eq!(parsed.text.unwrap(), code_msg(&issued.code));
    let parsed = wa_links::parse(&issued.deep_link).unwrap();
    assert_eq!(parsed.text.unwrap(), code_msg(&issued.code));
}

#[tokio::test]
async fn validated_with_callback_payload_snapshot() {
    let (v, clock) = setup(Config::new(business()));
    let issued = v
        .issue(
            "app",
            &Request {
                callback_url: Some("https://example.org/hook?session_id=abc".into()),
                authorized_numbers: Some(vec!["+56 9 6123 4567".into()]),
                expires_at: Some(10),
                ..Request::default()
            },
        )
        .await
        .unwrap();
    clock.advance(Duration::from_millis(364_606));
    let out = v
        .handle_inbound("app", &msg("+56961234567", code_msg(&issued.code)))
        .await
        .unwrap();
    let Outcome::Validated {
        verification,
        reply,
        callback,
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(reply, "Thanks! Your phone number is verified.");
    assert_eq!(verification.status, Status::Validated);
    let cb = callback.unwrap();
    assert_eq!(cb.url, "https://example.org/hook?session_id=abc");
    insta::assert_json_snapshot!("callback_validated", cb.payload);
    // single use
    let again = v
        .handle_inbound("app", &msg("+56961234567", code_msg(&issued.code)))
        .await
        .unwrap();
    assert_eq!(again.kind(), "already_used");
    assert_eq!(again.reply(), None);
}

#[tokio::test]
async fn expiry_replies_with_expiration_message() {
    let (v, clock) = setup(Config::new(business()));
    let req = Request {
        expires_at: Some(1),
        expiration_message: Some("Too late!".into()),
        ..Request::default()
    };
    let issued = v.issue("app", &req).await.unwrap();
    clock.advance(Duration::from_secs(59));
    assert_eq!(v.get(&issued.id).await.unwrap().status, Status::Requested);
    clock.advance(Duration::from_secs(1));
    assert_eq!(v.get(&issued.id).await.unwrap().status, Status::Expired);
    let out = v
        .handle_inbound("app", &msg("+14155552671", code_msg(&issued.code)))
        .await
        .unwrap();
    assert_eq!(out.kind(), "expired");
    assert_eq!(out.reply(), Some("Too late!"));
    let Outcome::Expired { verification, .. } = out else {
        unreachable!()
    };
    insta::assert_json_snapshot!("callback_expired", verification.callback_payload());
}

#[tokio::test]
async fn callback_failure_marks_failed_and_selects_failure_message() {
    let (v, _) = setup(Config::new(business()).failure_message("Sorry, try again"));
    let issued = v
        .issue(
            "app",
            &Request {
                callback_url: Some("https://example.org/h".into()),
                ..Request::default()
            },
        )
        .await
        .unwrap();
    let out = v
        .handle_inbound("app", &msg("+14155552671", code_msg(&issued.code)))
        .await
        .unwrap();
    assert_eq!(out.kind(), "validated");
    let (ver, reply) = v
        .callback_failed(&issued.id, "callback answered 500")
        .await
        .unwrap();
    assert_eq!(reply, "Sorry, try again");
    assert_eq!(ver.status, Status::Failed);
    assert_eq!(
        ver.callback_payload().error.as_deref(),
        Some("callback answered 500")
    );
    assert_eq!(
        v.callback_failed(&issued.id, "x").await.unwrap_err().code(),
        "verify_not_pending"
    );
    assert_eq!(
        v.callback_failed("nope", "x").await.unwrap_err().code(),
        "verify_not_found"
    );
    assert_eq!(
        v.handle_inbound("app", &msg("+14155552671", code_msg(&issued.code)))
            .await
            .unwrap()
            .kind(),
        "already_used"
    );
}

#[tokio::test]
async fn unauthorized_attempts_lock_the_code() {
    let (v, _) = setup(Config::new(business()).max_attempts(3));
    let req = Request {
        authorized_numbers: Some(vec!["(415) 555-2671".into()]),
        ..Request::default()
    };
    // national format needs a region
    assert_eq!(
        v.issue("app", &req).await.unwrap_err().code(),
        "verify_authorized_number_invalid"
    );
    let (v, _) = setup(Config::new(business()).max_attempts(3).default_region("US"));
    let issued = v.issue("app", &req).await.unwrap();
    for i in 1..=3 {
        let out = v
            .handle_inbound(
                "app",
                &msg(&format!("+4474001234{i:02}"), code_msg(&issued.code)),
            )
            .await
            .unwrap();
        assert_eq!(out.kind(), "unauthorized");
        assert_eq!(
            out.reply(),
            Some("This number is not allowed to use this code.")
        );
    }
    // locked, even for the right number
    let out = v
        .handle_inbound("app", &msg("+14155552671", code_msg(&issued.code)))
        .await
        .unwrap();
    assert_eq!(out.kind(), "locked");
    assert_eq!(out.reply(), None);
    assert_eq!(v.get(&issued.id).await.unwrap().attempts, 3);
}

#[tokio::test]
async fn bsuid_sender_is_not_an_authorized_phone_but_can_validate_open_codes() {
    let (v, _) = setup(Config::new(business()));
    let open = v.issue("app", &Request::default()).await.unwrap();
    let out = v
        .handle_inbound("app", &msg("US.13491208655302741918", code_msg(&open.code)))
        .await
        .unwrap();
    let Outcome::Validated { verification, .. } = out else {
        panic!()
    };
    assert_eq!(
        verification.callback_payload().phone_number.as_deref(),
        Some("US.13491208655302741918")
    );
    let bound = v
        .issue(
            "app",
            &Request {
                authorized_numbers: Some(vec!["+14155552671".into()]),
                ..Request::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        v.handle_inbound("app", &msg("US.1349", code_msg(&bound.code)))
            .await
            .unwrap()
            .kind(),
        "unauthorized"
    );
}

#[tokio::test]
async fn unknown_codes_and_sender_failure_limit() {
    let (v, _) = setup(Config::new(business()).per_sender_failures(3, Duration::from_secs(600)));
    assert_eq!(
        v.handle_inbound("app", &msg("+14155552671", "hello".into()))
            .await
            .unwrap()
            .kind(),
        "no_code"
    );
    for _ in 0..3 {
        let out = v
            .handle_inbound("app", &msg("+14155552671", ">>0000000000<<".into()))
            .await
            .unwrap();
        assert_eq!(out.kind(), "unknown_code");
        assert_eq!(out.reply(), None);
    }
    let issued = v.issue("app", &Request::default()).await.unwrap();
    // now ignored, even with a real code
    assert_eq!(
        v.handle_inbound("app", &msg("+14155552671", code_msg(&issued.code)))
            .await
            .unwrap()
            .kind(),
        "sender_rate_limited"
    );
    // another sender is unaffected
    assert_eq!(
        v.handle_inbound("app", &msg("+14155550000", code_msg(&issued.code)))
            .await
            .unwrap()
            .kind(),
        "validated"
    );

    let (v, _) = setup(Config::new(business()).unknown_code_message(Some("Unknown code".into())));
    assert_eq!(
        v.handle_inbound("app", &msg("+14155552671", ">>abc<<".into()))
            .await
            .unwrap()
            .reply(),
        Some("Unknown code")
    );
}

#[tokio::test]
async fn velocity_limits_on_issue() {
    let (v, clock) = setup(
        Config::new(business())
            .per_phone_limit(2, Duration::from_secs(600))
            .per_app_limit(3, Duration::from_secs(600)),
    );
    let to = |n: &str| Request {
        authorized_numbers: Some(vec![n.into()]),
        ..Request::default()
    };
    v.issue("app", &to("+14155552671")).await.unwrap();
    v.issue("app", &to("+14155552671")).await.unwrap();
    let err = v.issue("app", &to("+1 415 555 2671")).await.unwrap_err();
    assert_eq!(err.code(), "verify_rate_limited");
    v.issue("app", &to("+14155550000")).await.unwrap();
    assert_eq!(
        v.issue("app", &Request::default())
            .await
            .unwrap_err()
            .code(),
        "verify_rate_limited"
    );
    assert_eq!(
        v.issue("other-app", &Request::default()).await.map(|_| ()),
        Ok(())
    );
    clock.advance(Duration::from_secs(600));
    v.issue("app", &to("+14155552671")).await.unwrap();
}

#[tokio::test]
async fn number_prefix_sweeps_are_limited() {
    let (v, _) = setup(Config::new(business()).per_prefix_limit(3, Duration::from_secs(600)));
    for last in ["2671", "2672", "2673"] {
        let req = Request {
            authorized_numbers: Some(vec![format!("+1415555{last}")]),
            ..Request::default()
        };
        v.issue("app", &req).await.unwrap();
    }
    let req = Request {
        authorized_numbers: Some(vec!["+14155552674".into()]),
        ..Request::default()
    };
    assert_eq!(
        v.issue("app", &req).await.unwrap_err().code(),
        "verify_rate_limited"
    );
    let other = Request {
        authorized_numbers: Some(vec!["+14155562674".into()]),
        ..Request::default()
    };
    assert!(v.issue("app", &other).await.is_ok());
}

#[tokio::test]
async fn reissue_gives_a_new_code_and_supersedes_the_old() {
    let (v, _) = setup(Config::new(business()));
    let first = v
        .issue(
            "app",
            &Request {
                response_message: Some("ok!".into()),
                ..Request::default()
            },
        )
        .await
        .unwrap();
    let second = v.reissue(&first.id).await.unwrap();
    assert_ne!(first.code, second.code);
    assert_eq!(v.get(&first.id).await.unwrap().status, Status::Failed);
    assert_eq!(
        v.handle_inbound("app", &msg("+14155552671", code_msg(&first.code)))
            .await
            .unwrap()
            .kind(),
        "already_used"
    );
    let out = v
        .handle_inbound("app", &msg("+14155552671", code_msg(&second.code)))
        .await
        .unwrap();
    assert_eq!(out.reply(), Some("ok!"));
    assert_eq!(
        v.reissue(&second.id).await.unwrap_err().code(),
        "verify_not_pending"
    );
}

#[tokio::test]
async fn request_validation_errors() {
    let (v, _) = setup(Config::new(business()));
    let code = |r: Request| v.check(&r).unwrap_err().code();
    assert_eq!(
        code(Request {
            expires_at: Some(0),
            ..Request::default()
        }),
        "verify_expiry_too_short"
    );
    assert_eq!(
        code(Request {
            expires_at: Some(11),
            ..Request::default()
        }),
        "verify_expiry_too_long"
    );
    assert_eq!(
        code(Request {
            callback_url: Some("not a url".into()),
            ..Request::default()
        }),
        "verify_callback_url_invalid"
    );
    assert_eq!(
        code(Request {
            callback_url: Some("ftp://x.org/".into()),
            ..Request::default()
        }),
        "verify_callback_url_invalid"
    );
    assert_eq!(
        code(Request {
            callback_url: Some("http://x.org/".into()),
            ..Request::default()
        }),
        "verify_callback_url_insecure"
    );
    assert_eq!(
        code(Request {
            authorized_numbers: Some(vec!["+1 415".into()]),
            ..Request::default()
        }),
        "verify_authorized_number_invalid"
    );
    assert_eq!(
        code(Request {
            link_message: Some("x".repeat(1025)),
            ..Request::default()
        }),
        "verify_message_too_long"
    );
    // Callbacks go to public hosts only (the server re-checks resolved addresses when it
    // connects).
    for url in [
        "https://127.0.0.1:8443/cb",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]:8443/cb",
        "https://[::ffff:10.0.0.1]/cb",
        "https://10.1.2.3/cb",
        "https://localhost/cb",
        "https://api.localhost./cb",
    ] {
        assert_eq!(
            code(Request {
                callback_url: Some(url.into()),
                ..Request::default()
            }),
            "verify_callback_url_private",
            "{url}"
        );
    }
    assert!(
        v.check(&Request {
            callback_url: Some("https://8.8.8.8/cb".into()),
            ..Request::default()
        })
        .is_ok()
    );
    let (v, _) = setup(
        Config::new(business())
            .allow_insecure_callback(true)
            .allow_private_callback(true)
            .max_expires_minutes(60),
    );
    assert!(
        v.issue(
            "app",
            &Request {
                callback_url: Some("http://127.0.0.1:9/cb".into()),
                expires_at: Some(60),
                ..Request::default()
            }
        )
        .await
        .is_ok()
    );
}

#[tokio::test]
async fn code_space_exhaustion_is_reported() {
    // A 4-char binary alphabet has 16 codes; with 16 pending the next issue must fail cleanly.
    let fmt = wa_verify::CodeFormat::new(4, "01").unwrap();
    let (v, _) = setup(
        Config::new(business())
            .code_format(fmt)
            .per_app_limit(1000, Duration::from_secs(1)),
    );
    let mut codes = std::collections::HashSet::new();
    let mut exhausted = false;
    for _ in 0..64 {
        match v.issue("app", &Request::default()).await {
            Ok(i) => assert!(codes.insert(i.code), "codes are unique among pending ones"),
            Err(e) => {
                assert_eq!(e.code(), "verify_code_space_exhausted");
                exhausted = true;
                break;
            }
        }
    }
    assert!(exhausted);
    assert!(codes.len() <= 16);
}

#[test]
fn all_codes_snapshot() {
    let table: String = wa_verify::Error::ALL_CODES
        .iter()
        .map(|(c, w)| format!("{c}: {w}\n"))
        .collect();
    insta::assert_snapshot!(table);
    let mut all: Vec<&str> = wa_verify::Error::ALL_CODES
        .iter()
        .chain(wa_validate::Error::ALL_CODES)
        .chain(wa_links::Error::ALL_CODES)
        .map(|(c, _)| *c)
        .collect();
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(n, all.len());
}

mod memory_store {
    wa_verify::verification_store_tests!(async { Some(wa_verify::MemoryStore::new()) });
}
