//! Send flows: idempotency, bulk, cancel, scoping, plan limits and key rotation.

use super::*;

#[tokio::test]
async fn send_flow_idempotency_bulk_cancel_and_scoping() {
    let r = rig(&["--plan-limit-multiplier", "100"]).await;
    let key = r.register().await;
    let k = Some(key.as_str());
    let (s, v, h) = r
        .call(
            "POST",
            "/send-message",
            k,
            Some(text("+14155552671", "hi")),
            &[("idempotency-key", "abc")],
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["data"]["backend"], "dry_run");
    assert_eq!(v["data"]["dryRunBackend"], true);
    assert!(h.get("idempotency-replayed").is_none());
    let id = v["data"]["id"].as_str().unwrap().to_owned();
    let (s, v2, h) = r
        .call(
            "POST",
            "/send-message",
            k,
            Some(text("+14155552671", "hi")),
            &[("idempotency-key", "abc")],
        )
        .await;
    assert_eq!(
        (s, v2["data"]["id"].as_str()),
        (StatusCode::ACCEPTED, Some(id.as_str()))
    );
    assert_eq!(h["idempotency-replayed"], "true");
    let (s, v, _) = r
        .call(
            "POST",
            "/send-message",
            k,
            Some(text("+14155552671", "other")),
            &[("idempotency-key", "abc")],
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("idempotency_key_conflict"))
    );

    let (s, v, _) = r.call("POST", "/send-message", k, Some(json!({"to": "+14155552671", "type": "text", "text": {"body": "x"}, "dry_run": true})), &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["data"]["request"]["text"]["body"], "x");

    // sendAt may be at most a year ahead (changed on purpose: it was unbounded).
    let at = wa_send::Timestamp::from_millis(
        (wa_send::Clock::unix_seconds(&wa_send::SystemClock) + 30 * 86_400) * 1000,
    );
    let later = json!({"to": "+14155552671", "type": "text", "text": {"body": "later"}, "sendAt": at.to_rfc3339()});
    // A past sendAt in one item is that item's own error, with its own code.
    let past = json!({"to": "+14155552671", "type": "text", "text": {"body": "past"}, "sendAt": "2020-01-01T00:00:00Z"});
    let (s, v, _) = r
        .call(
            "POST",
            "/messages/bulk",
            k,
            Some(json!({"messages": [past]})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["data"]["results"][0]["error"]["code"], "send_at_in_past");
    let (s, v, _) = r
        .call(
            "POST",
            "/messages/bulk",
            k,
            Some(json!({"messages": [text("+14155552671", "a"), text("nope", "b"), later]})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(
        (
            v["data"]["totalMessages"].as_u64(),
            v["data"]["queued"].as_u64(),
            v["data"]["failedCount"].as_u64()
        ),
        (Some(3), Some(2), Some(1))
    );
    assert_eq!(v["data"]["results"][1]["error"]["code"], "body_invalid");
    let batch = v["data"]["batchId"].as_str().unwrap().to_owned();
    let scheduled = v["data"]["results"][2]["id"].as_str().unwrap().to_owned();
    let (_, v, _) = r
        .call("GET", &format!("/messages/{scheduled}"), k, None, &[])
        .await;
    assert_eq!(v["data"]["status"], "scheduled");
    assert_eq!(v["data"]["scheduledFor"], at.to_rfc3339().as_str());
    let (_, v, _) = r
        .call(
            "GET",
            &format!("/messages?batchId={batch}&limit=1"),
            k,
            None,
            &[],
        )
        .await;
    assert_eq!(v["data"]["messages"].as_array().unwrap().len(), 1);
    let cursor = v["data"]["nextCursor"].as_str().unwrap().to_owned();
    let (_, v, _) = r
        .call(
            "GET",
            &format!("/messages?batchId={batch}&limit=1&cursor={cursor}"),
            k,
            None,
            &[],
        )
        .await;
    assert_eq!(v["data"]["messages"].as_array().unwrap().len(), 1);
    let (s, v, _) = r
        .call(
            "POST",
            &format!("/messages/{scheduled}/cancel"),
            k,
            None,
            &[],
        )
        .await;
    assert_eq!(
        (s, v["data"]["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (s, v, _) = r
        .call(
            "POST",
            &format!("/messages/{scheduled}/cancel"),
            k,
            None,
            &[],
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("message_not_cancellable"))
    );

    let other = r.register().await;
    let (s, _, _) = r
        .call("GET", &format!("/messages/{id}"), Some(&other), None, &[])
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another account's message is 404");
    let (_, me, _) = r.call("GET", "/auth/me", k, None, &[]).await;
    assert_eq!(me["data"]["messagesSent"], 3);
    assert_eq!(me["data"]["plan"], "free");
}

#[tokio::test]
async fn plan_and_register_limits() {
    let r = rig(&[]).await;
    let key = r.register().await;
    for i in 0..20u64 {
        let (s, _, h) = r.call("GET", "/auth/me", Some(&key), None, &[]).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h["x-ratelimit-limit"], "20");
        assert_eq!(h["x-ratelimit-remaining"], (19 - i).to_string().as_str());
    }
    let (s, v, h) = r.call("GET", "/auth/me", Some(&key), None, &[]).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (429, Some("rate_limited"))
    );
    assert!(h.contains_key("retry-after"));
    // Registration: 5 per minute per IP (one used above).
    for _ in 0..4 {
        r.register().await;
    }
    let (s, v, _) = r
        .call(
            "POST",
            "/auth/register",
            None,
            Some(json!({"name": "x", "email": "x@x.example"})),
            &[],
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (429, Some("rate_limited"))
    );
}

/// `Idempotency-Key` on bulk sends: the replay is the original answer, another body 409.
#[tokio::test]
async fn bulk_idempotency_replays_and_conflicts() {
    let r = rig(&["--plan-limit-multiplier", "100"]).await;
    let key = r.register().await;
    let k = Some(key.as_str());
    let body = json!({"messages": [{"to": "14155552671", "message": "Hi Alice"}, {"to": "14155552672", "message": "Hi Bob"}]});
    let hdr = [("idempotency-key", "bulk-1")];
    let (s, first, h) = r
        .call("POST", "/messages/bulk", k, Some(body.clone()), &hdr)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{first}");
    assert!(h.get("idempotency-replayed").is_none());
    let (s, again, h) = r
        .call("POST", "/messages/bulk", k, Some(body.clone()), &hdr)
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(h["idempotency-replayed"], "true");
    assert_eq!(again["data"]["batchId"], first["data"]["batchId"]);
    let (_, list, _) = r
        .call(
            "GET",
            &format!(
                "/messages?batchId={}",
                first["data"]["batchId"].as_str().unwrap()
            ),
            k,
            None,
            &[],
        )
        .await;
    assert_eq!(
        list["data"]["messages"].as_array().map(Vec::len),
        Some(2),
        "{list}"
    );
    let other = json!({"messages": [{"to": "14155552671", "message": "Hi Carol"}]});
    let (s, v, _) = r.call("POST", "/messages/bulk", k, Some(other), &hdr).await;
    assert_eq!(
        (s.as_u16(), v["code"].as_str()),
        (409, Some("idempotency_key_conflict"))
    );
}

/// Ten rotations while four senders hammer the API: once `rotate-key` has answered, the
/// old key is refused and the new one accepted on every later request; requests racing
/// the rotation get 202 or 401, never anything else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_is_atomic_under_concurrent_senders() {
    let r = std::sync::Arc::new(rig(&["--plan-limit-multiplier", "1000"]).await);
    let mut key = r.register().await;
    for round in 0..10 {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let senders: Vec<_> = (0..4)
            .map(|i| {
                let (r, stop, key) = (r.clone(), stop.clone(), key.clone());
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let body =
                            json!({"to": "14155552671", "message": format!("r{round} s{i}")});
                        let (s, _, _) = r
                            .call("POST", "/send-message", Some(&key), Some(body), &[])
                            .await;
                        seen.push(s.as_u16());
                    }
                    seen
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let (s, v, _) = r
            .call("POST", "/auth/me/rotate-key", Some(&key), None, &[])
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let new = v["data"]["apiKey"].as_str().unwrap().to_owned();
        let checks: Vec<_> = [(key.clone(), 401), (new.clone(), 202)]
            .into_iter()
            .flat_map(|(k, want)| {
                let r = r.clone();
                (0..4).map(move |_| {
                    let (r, k) = (r.clone(), k.clone());
                    tokio::spawn(async move {
                        let body = json!({"to": "14155552671", "message": "after"});
                        let (s, _, _) = r
                            .call("POST", "/send-message", Some(&k), Some(body), &[])
                            .await;
                        (s.as_u16(), want)
                    })
                })
            })
            .collect();
        for c in checks {
            let (got, want) = c.await.unwrap();
            assert_eq!(got, want, "round {round}");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for s in senders {
            let statuses = s.await.unwrap();
            assert!(
                statuses.iter().all(|s| *s == 202 || *s == 401),
                "round {round}: {statuses:?}"
            );
            // A sender's requests after its first 401 are all 401: no flapping back.
            if let Some(p) = statuses.iter().position(|s| *s == 401) {
                assert!(statuses[p..].iter().all(|s| *s == 401), "round {round}");
            }
        }
        key = new;
    }
}
