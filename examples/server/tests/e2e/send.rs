//! Register → credentials → verify → send a template → signed status webhooks → the
//! customer webhook, through the real binary.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_and_verify_end_to_end() {
    let seen: Shared = Arc::default();
    let (graph, hooks) = fakes(seen.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start(&graph, &dir.path().join("e2e.db")).await;
    let base = server.1.clone();
    let c = reqwest::Client::new();

    // Register, save credentials, verify them, set the webhook.
    let r: Value = common::register(&c, &base, "Acme", "ops@acme.example").await;
    let key = r["data"]["apiKey"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sk_live_") && key.len() == 56);
    // Verification callbacks have their own secret (changed on purpose: it was the
    // status-webhook secret).
    let callback_secret = r["data"]["callbackSecret"].as_str().unwrap().to_owned();
    let auth = format!("Bearer {key}");
    let r = c
        .put(format!("{base}/auth/me/credentials"))
        .header("authorization", &auth)
        .json(&json!({"provider": "meta", "accessToken": "EAAG-secret", "phoneNumberId": PNID, "displayPhoneNumber": "+1 415 555 0000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        !r.text().await.unwrap().contains("EAAG-secret"),
        "secrets are never returned"
    );
    let r: Value = c
        .post(format!("{base}/auth/me/credentials/verify"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["data"]["verifiedName"], "Acme", "{r}");
    let r: Value = c
        .put(format!("{base}/auth/me/webhook"))
        .header("authorization", &auth)
        .json(&json!({"url": format!("{hooks}/status")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = r["data"]["signingSecret"].as_str().unwrap().to_owned();
    let me: Value = c
        .get(format!("{base}/auth/me"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["byocConfigured"], true);
    assert!(!me.to_string().contains(&key) && !me.to_string().contains("EAAG"));

    // Send a template.
    let body = json!({"to": "+1 415 555 2671", "type": "template", "metadata": {"order": "1234"},
        "template": {"name": "order_update", "language": {"code": "en_US"},
                     "components": [{"type": "body", "parameters": [{"type": "text", "text": "#1234"}]}]}});
    let r = c
        .post(format!("{base}/send-message"))
        .header("authorization", &auth)
        .header("idempotency-key", "order-1234")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let v: Value = r.json().await.unwrap();
    let id = v["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(v["data"]["backend"], "cloud_api");
    let replay = c
        .post(format!("{base}/send-message"))
        .header("authorization", &auth)
        .header("idempotency-key", "order-1234")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.headers()["idempotency-replayed"], "true");
    let wamid = eventually("sent", async || {
        let v: Value = c
            .get(format!("{base}/messages/{id}"))
            .header("authorization", &auth)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (v["data"]["status"] == "sent")
            .then(|| v["data"]["providerMessageId"].as_str().unwrap().to_owned())
    })
    .await;
    {
        let st = seen.lock().unwrap();
        let sends: Vec<_> = st.graph.iter().filter(|(m, _, _)| m == "POST").collect();
        assert_eq!(sends.len(), 1, "the replay was not sent again");
        assert_eq!(sends[0].1, format!("/v24.0/{PNID}/messages"));
        assert_eq!(sends[0].2["to"], "+14155552671");
        assert_eq!(
            sends[0].2["template"]["components"][0]["parameters"][0]["text"],
            "#1234"
        );
    }

    // Meta reports delivered, then read (signed); the message follows.
    for (status, ts) in [("delivered", 1_750_000_100), ("read", 1_750_000_200)] {
        let payload = meta_body(
            json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": PNID},
            "statuses": [{"id": wamid, "status": status, "timestamp": ts.to_string(), "recipient_id": "14155552671"}]}),
        );
        assert_eq!(post_meta(&c, &base, payload).await.status(), 200);
        let v: Value = c
            .get(format!("{base}/messages/{id}"))
            .header("authorization", &auth)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["data"]["status"], status);
    }
    let v: Value = c
        .get(format!("{base}/messages/{id}"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let steps: Vec<&str> = v["data"]["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["queued", "processing", "sent", "delivered", "read"]);
    assert_eq!(v["data"]["metadata"]["order"], "1234");
    // A forged webhook is refused.
    let forged = c
        .post(format!("{base}/webhooks/whatsapp"))
        .header("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);

    // The customer's webhook got sent, delivered and read, each signed.
    let events = eventually("three status webhooks", async || {
        let st = seen.lock().unwrap();
        let got: Vec<_> = st
            .hooks
            .iter()
            .filter(|(w, _, _)| w == "status")
            .cloned()
            .collect();
        (got.len() >= 3).then_some(got)
    })
    .await;
    let mut statuses = Vec::new();
    for (_, headers, body) in &events {
        let h = |n: &str| headers[n].to_str().unwrap().to_owned();
        let now = h("webhook-timestamp").parse::<u64>().unwrap();
        wa_send::webhook::outgoing::verify(
            &secret,
            &h("webhook-id"),
            &h("webhook-timestamp"),
            &h("webhook-signature"),
            body,
            now,
            300,
        )
        .unwrap();
        let v: Value = serde_json::from_slice(body).unwrap();
        statuses.push(v["data"]["status"].as_str().unwrap().to_owned());
    }
    statuses.sort();
    assert_eq!(statuses, ["delivered", "read", "sent"]);

    // Verification: issue, the user sends >>code<<, callback + reply.
    let handshake = c
        .get(format!("{base}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444"))
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.text().await.unwrap(), "1158201444");
    let issued: Value = c
        .get(format!("{base}/api/v1/verification_code"))
        .query(&[
            ("callback_url", format!("{hooks}/callback")),
            ("expires_at", "5".to_owned()),
            ("response_message", "You are verified!".to_owned()),
        ])
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = issued["code"].as_str().unwrap().to_owned();
    assert!(
        issued["link"]
            .as_str()
            .unwrap()
            .starts_with("https://wa.me/14155550000?text=%3E%3E"),
        "{issued}"
    );
    let inbound = meta_body(
        json!({"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": PNID},
        "contacts": [{"profile": {"name": "Sheena"}, "wa_id": "16505551234"}],
        "messages": [{"from": "16505551234", "id": "wamid.IN1", "timestamp": "1750000300", "type": "text", "text": {"body": format!(">>{code}<<\nJust tap the \"send\" button.")}}]}),
    );
    assert_eq!(post_meta(&c, &base, inbound).await.status(), 200);
    let (headers, body) = eventually("the verification callback", async || {
        let st = seen.lock().unwrap();
        st.hooks
            .iter()
            .find(|(w, _, _)| w == "callback")
            .map(|(_, h, b)| (h.clone(), b.clone()))
    })
    .await;
    let h = |n: &str| headers[n].to_str().unwrap().to_owned();
    let now = h("webhook-timestamp").parse::<u64>().unwrap();
    wa_send::webhook::outgoing::verify(
        &callback_secret,
        &h("webhook-id"),
        &h("webhook-timestamp"),
        &h("webhook-signature"),
        &body,
        now,
        300,
    )
    .unwrap();
    let cb: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (
            cb["status"].as_str(),
            cb["phone_number"].as_str(),
            cb["profile_name"].as_str()
        ),
        (Some("validated"), Some("+16505551234"), Some("Sheena"))
    );
    assert_eq!(cb["verification_code"], code.as_str());
    let reply = eventually("the reply through Graph", async || {
        let st = seen.lock().unwrap();
        st.graph
            .iter()
            .find(|(m, _, b)| m == "POST" && b["to"] == "+16505551234")
            .map(|(_, _, b)| b.clone())
    })
    .await;
    assert_eq!(
        reply["text"]["body"], "You are verified!",
        "sent once the callback was delivered"
    );
    let polled: Value = c
        .get(format!(
            "{base}/api/v1/verification_code/{}",
            issued["id"].as_str().unwrap()
        ))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(polled["status"], "validated");

    // A callback that keeps failing: after three tries the verification fails and the user
    // gets the failure message instead.
    let issued: Value = c
        .get(format!("{base}/api/v1/verification_code"))
        .query(&[
            ("callback_url", format!("{hooks}/fail")),
            ("failure_message", "Sorry, please try again.".to_owned()),
        ])
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = issued["code"].as_str().unwrap().to_owned();
    let inbound = meta_body(
        json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": PNID},
        "contacts": [{"profile": {"name": "Bob"}, "wa_id": "16505550123"}],
        "messages": [{"from": "16505550123", "id": "wamid.IN2", "timestamp": "1750000400", "type": "text", "text": {"body": format!(">>{code}<<")}}]}),
    );
    assert_eq!(post_meta(&c, &base, inbound).await.status(), 200);
    let reply = eventually("the failure reply", async || {
        let st = seen.lock().unwrap();
        st.graph
            .iter()
            .find(|(m, _, b)| m == "POST" && b["to"] == "+16505550123")
            .map(|(_, _, b)| b.clone())
    })
    .await;
    assert_eq!(reply["text"]["body"], "Sorry, please try again.");
    assert_eq!(
        seen.lock()
            .unwrap()
            .hooks
            .iter()
            .filter(|(w, _, _)| w == "fail")
            .count(),
        3,
        "three tries"
    );
    let polled: Value = c
        .get(format!(
            "{base}/api/v1/verification_code/{}",
            issued["id"].as_str().unwrap()
        ))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(polled["status"], "failed");

    // Keys: rotation kills the old key at once.
    let rotated: Value = c
        .post(format!("{base}/auth/me/rotate-key"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        c.get(format!("{base}/auth/me"))
            .header("authorization", &auth)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let new_auth = format!("Bearer {}", rotated["data"]["apiKey"].as_str().unwrap());
    assert_eq!(
        c.get(format!("{base}/auth/me"))
            .header("authorization", &new_auth)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Another account cannot see this message.
    let other: Value = common::register(&c, &base, "B", "b@b.example").await;
    let other_auth = format!("Bearer {}", other["data"]["apiKey"].as_str().unwrap());
    assert_eq!(
        c.get(format!("{base}/messages/{id}"))
            .header("authorization", &other_auth)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}
