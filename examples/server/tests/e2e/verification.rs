//! The verification API: WhatAuth's documented request and callback, a restart between
//! issue and answer, the `expired` callback, and the server's `VerificationStore`s.

use super::*;

/// Registers, saves and verifies Meta credentials whose business number is
/// `+56 9 4342 6553` (WhatAuth's example); returns the key and the callback secret.
async fn whatauth_account(c: &reqwest::Client, base: &str) -> (String, String) {
    let r: Value = common::register(c, base, "MyCompany", "dev@mycompany.io").await;
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
    let other: Value = common::register(&c, &base, "Squatter", "s@other.example").await;
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
    let r: Value = common::register(&c, &base, "A", "a@a.example").await;
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

/// A Meta delivery abandoned part-way (Meta's own timeout, a retry that went to another
/// replica, the request deadline) still settles its inbound message: the handling runs to
/// the end on a task of its own, so the redelivery finds it done instead of claimed and
/// lost. Every point of abandonment is tried, one fresh code each, on the in-process
/// router served on loopback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_inbound_delivery_still_settles_its_code() {
    use std::future::Future;
    use std::net::SocketAddr;
    use std::task::Poll;

    use axum::extract::connect_info::MockConnectInfo;
    use clap::Parser;
    use tower::ServiceExt;

    let (graph, _hooks) = fakes(Arc::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("abandon.db").display());
    let config = wa_server_example::Config::parse_from([
        "wa-server-example",
        "--database",
        &db,
        "--graph-base-url",
        &graph,
        "--meta-app-secret",
        APP_SECRET,
        "--meta-verify-token",
        VERIFY_TOKEN,
        "--plan-limit-multiplier",
        "10",
    ]);
    let server = wa_server_example::build(config).await.unwrap();
    let router = server
        .router()
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 1))));
    let base = serve(router.clone()).await;
    let c = reqwest::Client::new();
    let (key, _) = whatauth_account(&c, &base).await;
    for polls in 1..=16 {
        let issued: Value = c
            .get(format!("{base}/api/v1/verification_code"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let code = issued["code"].as_str().unwrap();
        let body = meta_body(
            json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": PNID},
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": "14155552671"}],
            "messages": [{"from": "14155552671", "id": format!("wamid.ABANDONED{polls}"), "timestamp": "1750000300", "type": "text", "text": {"body": format!(">>{code}<<")}}]}),
        );
        let sig = wa_send::webhook::meta::sign(body.as_bytes(), APP_SECRET.as_bytes());
        let request = axum::http::Request::post("/webhooks/whatsapp")
            .header("x-hub-signature-256", &sig)
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.clone()))
            .unwrap();
        // Poll the delivery `polls` times, a millisecond apart, then abandon it.
        let mut delivery = Box::pin(router.clone().oneshot(request));
        for _ in 0..polls {
            let step = std::future::poll_fn(|cx| Poll::Ready(delivery.as_mut().poll(cx))).await;
            if step.is_ready() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        drop(delivery);
        // Meta redelivers until it gets a 200.
        assert_eq!(post_meta(&c, &base, body).await.status(), 200);
        let mut status = Value::Null;
        for _ in 0..200 {
            let v: Value = c
                .get(format!(
                    "{base}/api/v1/verification_code/{}",
                    issued["id"].as_str().unwrap()
                ))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            status = v["status"].clone();
            if status == "validated" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(status, "validated", "abandoned after {polls} polls");
    }
}
