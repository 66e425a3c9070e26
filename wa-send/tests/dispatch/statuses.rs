//! Statuses: ordering and dedupe, early statuses, leases and reconciliation.

use super::*;

#[tokio::test]
async fn statuses_are_monotonic_and_deduplicated() {
    let r = rig(config());
    let id = r.d.enqueue("acct", msg("x")).await.unwrap().record.id;
    r.d.run_once().await.unwrap();
    let wamid =
        r.d.get("acct", &id)
            .await
            .unwrap()
            .provider_message_id
            .unwrap();
    let up = |s: MessageStatus, t: u64| {
        StatusUpdate::new(wamid.clone(), s, Timestamp::from_secs(T0 + t))
    };
    assert!(
        r.d.apply_status(&up(MessageStatus::Delivered, 2))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        r.d.apply_status(&up(MessageStatus::Delivered, 2))
            .await
            .unwrap()
            .is_none(),
        "duplicate"
    );
    assert!(
        r.d.apply_status(&up(MessageStatus::Read, 5))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        r.d.apply_status(&up(MessageStatus::Delivered, 3))
            .await
            .unwrap()
            .is_none(),
        "late delivered never overwrites read"
    );
    assert!(
        r.d.apply_status(&up(MessageStatus::Sent, 1))
            .await
            .unwrap()
            .is_none()
    );
    let m = r.d.get("acct", &id).await.unwrap();
    assert_eq!(m.status(), Status::Read);
    let steps: Vec<(Status, Timestamp)> = m
        .lifecycle
        .timeline
        .iter()
        .map(|t| (t.status, t.at))
        .collect();
    assert_eq!(
        steps[3..],
        [
            (Status::Delivered, Timestamp::from_secs(T0 + 2)),
            (Status::Read, Timestamp::from_secs(T0 + 5))
        ]
    );
    assert!(
        r.d.apply_status(&StatusUpdate::new(
            "wamid.unknown",
            MessageStatus::Read,
            Timestamp::from_secs(T0)
        ))
        .await
        .unwrap()
        .is_none()
    );

    // Delivered may be skipped; failed after sent carries Meta's code.
    let id2 = r.d.enqueue("acct", msg("y")).await.unwrap().record.id;
    r.d.run_once().await.unwrap();
    let wamid2 =
        r.d.get("acct", &id2)
            .await
            .unwrap()
            .provider_message_id
            .unwrap();
    let body = format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"changes":[{{"field":"messages","value":{{"statuses":[{{"id":"{wamid2}","status":"failed","timestamp":"{T0}","errors":[{{"code":131049,"title":"ecosystem"}}]}}]}}}}]}}]}}"#
    );
    let wa_send::WebhookEvent::Status(failed) =
        &wa_send::webhook::meta::parse(body.as_bytes()).unwrap()[0]
    else {
        panic!()
    };
    let m = r.d.apply_status(failed).await.unwrap().unwrap();
    assert_eq!(m.status(), Status::Failed);
    assert_eq!(
        m.lifecycle.error_code.as_deref(),
        Some("delivery_undeliverable")
    );
}

#[tokio::test]
async fn a_status_that_beats_the_send_record_is_applied_once_recorded() {
    let r = rig(config());
    r.stub.push_ok("wamid.EARLY");
    let id = r.d.enqueue("acct", msg("x")).await.unwrap().record.id;
    let early = StatusUpdate::new(
        "wamid.EARLY",
        MessageStatus::Delivered,
        Timestamp::from_secs(T0 + 1),
    );
    assert!(
        r.d.apply_status(&early).await.unwrap().is_none(),
        "not stored yet: held"
    );
    r.d.run_once().await.unwrap();
    let m = r.d.get("acct", &id).await.unwrap();
    assert_eq!(m.status(), Status::Delivered);
    let steps: Vec<Status> = m.lifecycle.timeline.iter().map(|t| t.status).collect();
    assert_eq!(
        steps,
        [
            Status::Queued,
            Status::Processing,
            Status::Sent,
            Status::Delivered
        ]
    );
}

/// Changed on purpose (exactly-once): an expired lease means the send's outcome is unknown,
/// so the message is not re-sent at once but waits for the provider's status.
#[tokio::test]
async fn expired_lease_waits_for_reconciliation_then_resends() {
    let store: Arc<dyn QueueStore> = Arc::new(MemoryStore::new());
    let r = rig_with(config(), store.clone());
    let id = r.d.enqueue("acct", msg("x")).await.unwrap().record.id;
    // A worker claims it and dies.
    let claimed = store
        .claim(ms(MS0), 60_000, 10, Box::new(|_| Admission::Send))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(r.d.run_once().await.unwrap(), 0, "leased");
    r.advance_ms(60_000);
    assert_eq!(r.d.run_once().await.unwrap(), 1, "the orphan is looked at");
    let m = r.d.get("acct", &id).await.unwrap();
    assert_eq!(m.status(), Status::Retrying);
    assert_eq!(
        m.lifecycle.error_code.as_deref(),
        Some("delivery_outcome_unknown")
    );
    assert_eq!(r.stub.sent_count(), 0, "not re-sent blindly");
    r.advance_ms(9 * 60_000);
    r.d.run_once().await.unwrap();
    assert_eq!(
        r.stub.sent_count(),
        0,
        "still inside the reconciliation window"
    );
    r.advance_ms(60_000);
    r.d.run_once().await.unwrap();
    assert_eq!(
        r.status(&id).await,
        Status::Sent,
        "no status came: sent again"
    );
    assert_eq!(r.stub.sent_count(), 1);
    assert_eq!(r.d.stats().snapshot().resent_after_unknown, 1);
}

#[tokio::test]
async fn a_tagged_status_reconciles_an_unknown_outcome_without_a_resend() {
    let store: Arc<dyn QueueStore> = Arc::new(MemoryStore::new());
    let r = rig_with(config(), store.clone());
    let id = r.d.enqueue("acct", msg("x")).await.unwrap().record.id;
    // The first worker sent it (the provider got our id in biz_opaque_callback_data), then died.
    store
        .claim(ms(MS0), 60_000, 10, Box::new(|_| Admission::Send))
        .await
        .unwrap();
    r.advance_ms(60_000);
    r.d.run_once().await.unwrap();
    let mut delivered = StatusUpdate::new(
        "wamid.LOST",
        MessageStatus::Delivered,
        Timestamp::from_secs(T0 + 61),
    );
    delivered.biz_opaque_callback_data = Some(format!("wa-kit:{id}"));
    let m =
        r.d.apply_status(&delivered)
            .await
            .unwrap()
            .expect("matched by its tag");
    assert_eq!(m.status(), Status::Delivered);
    assert_eq!(m.provider_message_id.as_deref(), Some("wamid.LOST"));
    assert_eq!(m.lifecycle.error_code, None);
    r.advance_ms(20 * 60_000);
    r.d.run_once().await.unwrap();
    assert_eq!(r.stub.sent_count(), 0, "reconciled: never sent twice");
    assert_eq!(r.d.stats().snapshot().reconciled, 1);
}

#[tokio::test]
async fn sends_carry_the_message_id_unless_the_caller_set_callback_data() {
    let r = rig(config());
    let id = r.d.enqueue("acct", msg("x")).await.unwrap().record.id;
    let own =
        r.d.enqueue(
            "acct",
            EnqueueRequest::new(text_to("+14155552671", "y").biz_opaque_callback_data("order=1")),
        )
        .await
        .unwrap();
    r.d.run_once().await.unwrap();
    let sent = r.stub.sent();
    assert_eq!(
        sent[0].biz_opaque_callback_data.as_deref(),
        Some(format!("wa-kit:{id}").as_str())
    );
    assert_eq!(sent[1].biz_opaque_callback_data.as_deref(), Some("order=1"));
    let stored = r.d.get("acct", &own.record.id).await.unwrap();
    assert_eq!(
        stored.outbound.biz_opaque_callback_data.as_deref(),
        Some("order=1"),
        "the stored message is the caller's"
    );
}
