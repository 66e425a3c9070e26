//! WhatsAPI's documented examples, verbatim.

use super::*;

/// WhatsAPI's documented requests, sent verbatim (the JSON literals of its quick start,
/// send, template, bulk, schedule, idempotency, list, retry, analytics, webhook, key
/// rotation and error sections), and a receiver written for its documented webhook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines)] // one documented walk-through, in the reference's order
async fn whatsapi_reference_examples_verbatim() {
    use Method as M;
    let seen: Shared = Arc::default();
    let (graph, hooks) = fakes(seen.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let server = start(&graph, &dir.path().join("whatsapi.db")).await;
    let base = server.1.clone();
    let c = reqwest::Client::new();

    // Step 1 — register. (The scraped page shows the e-mail as "[email protected]", its
    // obfuscation of an address; a real address is used.)
    let (s, r, _) = call(
        &c,
        M::POST,
        format!("{base}/auth/register"),
        None,
        Some(json!({ "name": "Your Name", "email": "you@example.com" })),
    )
    .await;
    assert_eq!(s, 201);
    assert_eq!(r["success"], true);
    assert_eq!(r["data"]["plan"], "free");
    let key = r["data"]["apiKey"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sk_live_") && key.len() == 8 + 48);
    let (s, me, _) = call(&c, M::GET, format!("{base}/auth/me"), Some(&key), None).await;
    assert_eq!(s, 200);
    assert_eq!(me["data"]["name"], "Your Name");
    assert_eq!(me["data"]["byocConfigured"], false);
    assert_eq!(me["data"]["messagesSent"], 0);
    assert_eq!(me["data"]["webhookUrl"], Value::Null);

    // Step 2 — credentials, then verify them.
    let (s, _, _) = call(
        &c,
        M::PUT,
        format!("{base}/auth/me/credentials"),
        Some(&key),
        Some(json!({ "whatsappAccessToken": "EAAc...", "whatsappPhoneNumberId": "1234567890" })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, r, _) = call(
        &c,
        M::POST,
        format!("{base}/auth/me/credentials/verify"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, 200, "{r}");

    // The webhook receiver, registered as documented (a loopback URL instead of
    // yourapp.com, which does not resolve here).
    let (s, r, _) = call(
        &c,
        M::PUT,
        format!("{base}/auth/me/webhook"),
        Some(&key),
        Some(json!({ "url": format!("{hooks}/whatsapi") })),
    )
    .await;
    assert_eq!(s, 200, "{r}");

    // Step 3 — the quick start's template send.
    let (s, r, h) = call(&c, M::POST, format!("{base}/send-message"), Some(&key),
        Some(json!({ "to": "14155552671", "template": { "name": "hello_world", "language": "en_US" } }))).await;
    assert_eq!(s, 202, "{r}");
    assert_eq!(r["success"], true);
    assert_eq!(r["data"]["status"], "queued");
    assert_eq!(r["data"]["scheduledFor"], Value::Null);
    let hello = r["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(hello.len(), 36, "a UUID");
    assert_eq!(&hello[14..15], "7", "version 7");
    let reset: u64 = h["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
    let now = wa_send::Clock::unix_seconds(&wa_send::SystemClock);
    assert!(
        reset >= now && reset <= now + 120,
        "X-RateLimit-Reset is a Unix time: {reset}"
    );

    // Step 4 — check it was delivered (Meta reports sent, then delivered).
    let wamid = eventually("the template sent", async || {
        let (_, v, _) = call(
            &c,
            M::GET,
            format!("{base}/messages/{hello}"),
            Some(&key),
            None,
        )
        .await;
        v["data"]["providerMessageId"].as_str().map(str::to_owned)
    })
    .await;
    // Meta redelivers every notification it is not sure we got: each status five times.
    for (status, ts) in [("sent", 1_764_000_001), ("delivered", 1_764_000_004)] {
        for _ in 0..5 {
            assert_eq!(
                post_meta(&c, &base, status_webhook(&wamid, status, ts))
                    .await
                    .status(),
                200
            );
        }
    }
    let (_, v, _) = call(
        &c,
        M::GET,
        format!("{base}/messages/{hello}"),
        Some(&key),
        None,
    )
    .await;
    let m = &v["data"];
    assert_eq!(
        (m["id"].as_str(), m["to"].as_str(), m["status"].as_str()),
        (Some(hello.as_str()), Some("14155552671"), Some("delivered"))
    );
    assert_eq!(m["body"], "[template hello_world (en_US)]");
    assert!(m["sentAt"].is_string() && m["deliveredAt"].is_string());
    assert_eq!(
        (
            m["readAt"].clone(),
            m["failedAt"].clone(),
            m["errorMessage"].clone()
        ),
        (Value::Null, Value::Null, Value::Null)
    );
    let steps: Vec<&str> = m["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    let pos = |s: &str| steps.iter().position(|x| *x == s).unwrap();
    assert!(
        pos("queued") < pos("sent") && pos("sent") < pos("delivered"),
        "{steps:?}"
    );

    // The documented send with Idempotency-Key: replays return the original answer.
    let order = json!({ "to": "14155552671", "message": "Hi Sarah! Your order #1234 has shipped.", "metadata": { "orderId": "1234" } });
    let send = |body: Value| {
        c.post(format!("{base}/send-message"))
            .header("authorization", format!("Bearer {key}"))
            .header("Idempotency-Key", "order-1234-shipped")
            .json(&body)
            .send()
    };
    let first = send(order.clone()).await.unwrap();
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let again = send(order.clone()).await.unwrap();
    assert_eq!(again.headers()["idempotency-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["data"]["id"], first["data"]["id"]);
    let other = send(json!({ "to": "14155552671", "message": "Something else" }))
        .await
        .unwrap();
    assert_eq!(other.status(), 409);
    let order_id = first["data"]["id"].as_str().unwrap().to_owned();

    // A template with variables, exactly as documented.
    let (s, _, _) = call(&c, M::POST, format!("{base}/send-message"), Some(&key),
        Some(json!({ "to": "14155552671", "template": { "name": "order_ready", "language": "en_US", "components": [{ "type": "body", "parameters": [ { "type": "text", "text": "Sarah" }, { "type": "text", "text": "#1042" } ] }] } }))).await;
    assert_eq!(s, 202);
    let sent_template = eventually("order_ready at Graph", async || {
        seen.lock()
            .unwrap()
            .graph
            .iter()
            .find(|(_, _, b)| b["template"]["name"] == "order_ready")
            .map(|(_, _, b)| b.clone())
    })
    .await;
    assert_eq!(sent_template["template"]["language"]["code"], "en_US");
    assert_eq!(
        sent_template["template"]["components"][0]["parameters"][1]["text"],
        "#1042"
    );

    // Bulk.
    let (s, r, _) = call(&c, M::POST, format!("{base}/messages/bulk"), Some(&key),
        Some(json!({ "messages": [ { "to": "14155552671", "message": "Hi Alice, your code is 1234" }, { "to": "14155552672", "message": "Hi Bob, your code is 5678" } ] }))).await;
    assert_eq!(s, 202, "{r}");
    assert_eq!(
        (
            r["data"]["totalMessages"].as_u64(),
            r["data"]["queued"].as_u64(),
            r["data"]["failedCount"].as_u64()
        ),
        (Some(2), Some(2), Some(0))
    );
    let batch = r["data"]["batchId"].as_str().unwrap().to_owned();
    let (s, r, _) = call(
        &c,
        M::GET,
        format!("{base}/messages?batchId={batch}"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(r["data"]["messages"].as_array().unwrap().len(), 2);

    // Schedule: the documented sendAt is in the past by now — a 400 naming the field —
    // and a future one is held.
    let (s, r, _) = call(&c, M::POST, format!("{base}/send-message"), Some(&key),
        Some(json!({ "to": "14155552671", "message": "Reminder: your appointment is tomorrow at 9am.", "sendAt": "2026-04-15T08:00:00.000Z" }))).await;
    assert_eq!(s, 400);
    assert_eq!(r["success"], false);
    assert_eq!(r["details"][0]["field"], "sendAt", "{r}");
    let later = wa_send::Timestamp::from_secs(now + 30 * 24 * 3600).to_rfc3339();
    let (s, r, _) = call(&c, M::POST, format!("{base}/send-message"), Some(&key),
        Some(json!({ "to": "14155552671", "message": "Reminder: your appointment is tomorrow at 9am.", "sendAt": later }))).await;
    assert_eq!(s, 202);
    assert_eq!(r["data"]["status"], "scheduled");
    assert_eq!(r["data"]["scheduledFor"], later.as_str());

    // Retry: only a failed message, and a failed one is queued again.
    let (_, r, _) = call(
        &c,
        M::POST,
        format!("{base}/send-message"),
        Some(&key),
        Some(json!({ "to": "14155550999", "message": "Nobody home" })),
    )
    .await;
    let doomed = r["data"]["id"].as_str().unwrap().to_owned();
    eventually("the undeliverable message failed", async || {
        let (_, v, _) = call(
            &c,
            M::GET,
            format!("{base}/messages/{doomed}"),
            Some(&key),
            None,
        )
        .await;
        (v["data"]["status"] == "failed").then_some(())
    })
    .await;
    let (s, failed, _) = call(
        &c,
        M::GET,
        format!("{base}/messages?status=failed&limit=50"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(
        failed["data"]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == doomed.as_str())
    );
    assert!(failed["data"]["messages"][0]["errorMessage"].is_string());
    let (s, r, _) = call(
        &c,
        M::POST,
        format!("{base}/messages/{doomed}/retry"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, 202, "{r}");
    let (s, r, _) = call(
        &c,
        M::POST,
        format!("{base}/messages/{hello}/retry"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (409, Some("message_not_retryable"))
    );

    // Analytics.
    let (s, r, _) = call(
        &c,
        M::GET,
        format!("{base}/analytics/summary"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let d = &r["data"];
    assert!(d["total"].as_u64().unwrap() >= 6);
    assert!(
        d["byStatus"].is_object() && d["deliveryRate"].is_number() && d["failureRate"].is_number()
    );
    let (_, me, _) = call(&c, M::GET, format!("{base}/auth/me"), Some(&key), None).await;
    assert_eq!(me["data"]["byocConfigured"], true);
    assert!(me["data"]["messagesSent"].as_u64().unwrap() >= 1);
    assert_eq!(me["data"]["webhookUrl"], format!("{hooks}/whatsapi"));

    // The receiver, written as the reference's Express handler is: `event` and `data`.
    let delivered = eventually(
        "a message.status_updated webhook for delivered",
        async || {
            hooks_to(&seen, "whatsapi")
                .into_iter()
                .map(|(_, b)| serde_json::from_slice::<Value>(&b).unwrap())
                .find(|e| {
                    e["event"] == "message.status_updated"
                        && e["data"]["status"] == "delivered"
                        && e["data"]["messageId"] == hello.as_str()
                })
        },
    )
    .await;
    assert_eq!(delivered["data"]["to"], "14155552671");
    assert!(delivered["timestamp"].is_string() && delivered["data"]["deliveredAt"].is_string());
    for k in ["readAt", "failedAt", "errorMessage", "metadata"] {
        assert!(delivered["data"].get(k).is_some(), "{k}");
    }
    let failed_event = eventually("the failed webhook", async || {
        hooks_to(&seen, "whatsapi")
            .into_iter()
            .map(|(_, b)| serde_json::from_slice::<Value>(&b).unwrap())
            .find(|e| e["data"]["status"] == "failed" && e["data"]["messageId"] == doomed.as_str())
    })
    .await;
    assert!(failed_event["data"]["errorMessage"].is_string());
    assert!(failed_event["data"]["failedAt"].is_string());
    let _ = order_id;
    // Five deliveries of each status produced one customer webhook each.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let per_status = |status: &str| {
        hooks_to(&seen, "whatsapi")
            .into_iter()
            .map(|(_, b)| serde_json::from_slice::<Value>(&b).unwrap())
            .filter(|e| e["data"]["status"] == status && e["data"]["messageId"] == hello.as_str())
            .count()
    };
    assert_eq!((per_status("sent"), per_status("delivered")), (1, 1));

    // After all that, `/metrics` counts sends, applied statuses and delivered webhooks.
    let text = c
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "wa_messages_sent_total",
        "wa_statuses_applied_total",
        "wa_webhooks_delivered_total",
        "http_requests_total",
    ] {
        let total: f64 = text
            .lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        assert!(total > 0.0, "{name} is zero:\n{text}");
    }

    // Remove the webhook, as documented.
    let (s, _, _) = call(
        &c,
        M::DELETE,
        format!("{base}/auth/me/webhook"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, 200);

    // Errors: the documented shape and statuses.
    let (s, r, _) = call(&c, M::GET, format!("{base}/auth/me"), None, None).await;
    assert_eq!((s, r["success"].clone()), (401, json!(false)));
    assert!(r["error"].is_string());
    let (s, _, _) = call(
        &c,
        M::GET,
        format!("{base}/auth/me"),
        Some("sk_live_0000"),
        None,
    )
    .await;
    assert_eq!(s, 401);
    let (s, r, _) = call(
        &c,
        M::POST,
        format!("{base}/send-message"),
        Some(&key),
        Some(json!({ "to": "14155552671" })),
    )
    .await;
    assert_eq!(s, 400);
    assert!(r["details"].is_array());
    let (s, _, _) = call(
        &c,
        M::GET,
        format!("{base}/messages/9dd15ee1-3d3c-44e1-9dd2-8ec6547e7e20"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(s, 404);
    // 429 with Retry-After, on another account (the plan's 20 per minute, ×10 here).
    let (_, r, _) = call(
        &c,
        M::POST,
        format!("{base}/auth/register"),
        None,
        Some(json!({ "name": "Busy", "email": "busy@example.com" })),
    )
    .await;
    let busy = r["data"]["apiKey"].as_str().unwrap().to_owned();
    let mut limited = None;
    for _ in 0..250 {
        let (s, _, h) = call(&c, M::GET, format!("{base}/auth/me"), Some(&busy), None).await;
        if s == 429 {
            limited = Some(h);
            break;
        }
    }
    let h = limited.expect("the plan limit is enforced");
    assert!(h["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(h["x-ratelimit-remaining"], "0");
    // 403: an account the operator deactivated.
    let (_, me, _) = call(&c, M::GET, format!("{base}/auth/me"), Some(&key), None).await;
    let account_id = me["data"]["id"].as_str().unwrap().to_owned();
    let r = c
        .put(format!("{base}/admin/accounts/{account_id}/status"))
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, r, _) = call(&c, M::GET, format!("{base}/auth/me"), Some(&key), None).await;
    assert_eq!((s, r["code"].as_str()), (403, Some("account_deactivated")));
    let r = c
        .put(format!("{base}/admin/accounts/{account_id}/status"))
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
        .json(&json!({"active": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Rotate the key: the new one is shown once, the old one dies at once.
    let (s, r, _) = call(
        &c,
        M::POST,
        format!("{base}/auth/me/rotate-key"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!((s, r["success"].clone()), (200, json!(true)));
    let new_key = r["data"]["apiKey"].as_str().unwrap().to_owned();
    assert_eq!(
        call(&c, M::GET, format!("{base}/auth/me"), Some(&key), None)
            .await
            .0,
        401
    );
    assert_eq!(
        call(&c, M::GET, format!("{base}/auth/me"), Some(&new_key), None)
            .await
            .0,
        200
    );
    // DELETE /auth/me/credentials, as documented.
    let (s, _, _) = call(
        &c,
        M::DELETE,
        format!("{base}/auth/me/credentials"),
        Some(&new_key),
        None,
    )
    .await;
    assert_eq!(s, 200);
}
