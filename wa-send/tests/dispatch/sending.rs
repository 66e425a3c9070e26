//! Sending, scheduling, retries, rate limits and idempotency.

use super::*;

#[tokio::test]
async fn enqueue_then_send() {
    let r = rig(config());
    let e =
        r.d.enqueue("acct", msg("hello").idempotency_key("k"))
            .await
            .unwrap();
    assert_eq!(e.record.status(), Status::Queued);
    assert!(!e.replayed);
    assert!(r.stub.sent().is_empty(), "enqueue returns before sending");
    assert_eq!(r.d.run_once().await.unwrap(), 1);
    let m = r.d.get("acct", &e.record.id).await.unwrap();
    assert_eq!(m.status(), Status::Sent);
    assert!(
        m.provider_message_id
            .as_deref()
            .unwrap()
            .starts_with("wamid.STUB")
    );
    let steps: Vec<Status> = m.lifecycle.timeline.iter().map(|t| t.status).collect();
    assert_eq!(steps, [Status::Queued, Status::Processing, Status::Sent]);
    assert_eq!(r.d.run_once().await.unwrap(), 0, "sent once");
    assert_eq!(r.stub.sent_count(), 1);
    // Another account cannot see it.
    assert_eq!(
        r.d.get("other", &e.record.id).await.unwrap_err().code(),
        "message_not_found"
    );
}

#[tokio::test]
async fn scheduling() {
    let r = rig(config());
    let e =
        r.d.enqueue("acct", msg("later").send_at(ms(MS0 + 60_000)))
            .await
            .unwrap();
    assert_eq!(e.record.status(), Status::Scheduled);
    assert_eq!(r.d.run_once().await.unwrap(), 0);
    r.advance_ms(59_999);
    assert_eq!(r.d.run_once().await.unwrap(), 0);
    r.advance_ms(1);
    assert_eq!(r.d.run_once().await.unwrap(), 1);
    assert_eq!(r.status(&e.record.id).await, Status::Sent);
    assert_eq!(
        r.d.enqueue("acct", msg("past").send_at(ms(MS0)))
            .await
            .unwrap_err()
            .code(),
        "send_at_in_past"
    );
    let now =
        r.d.enqueue("acct", msg("now").send_at(ms(MS0 + 60_000)))
            .await
            .unwrap();
    assert_eq!(
        now.record.status(),
        Status::Queued,
        "send_at == now is immediate"
    );
}

#[tokio::test]
async fn transient_errors_retry_with_backoff() {
    let r = rig(config());
    r.stub.push_error(transient());
    r.stub.push_error(transient());
    let id = r.d.enqueue("acct", msg("x")).await.unwrap().record.id;
    r.d.run_once().await.unwrap();
    let m = r.d.get("acct", &id).await.unwrap();
    assert_eq!(m.status(), Status::Retrying);
    assert_eq!(
        m.lifecycle.error_code.as_deref(),
        Some("delivery_transient")
    );
    let first_delay = m.next_attempt_at.as_millis() - MS0;
    assert!((1_000..=2_000).contains(&first_delay), "{first_delay}");
    assert_eq!(r.d.run_once().await.unwrap(), 0, "not before the backoff");
    r.advance_ms(first_delay);
    r.d.run_once().await.unwrap();
    let m = r.d.get("acct", &id).await.unwrap();
    let second_delay = m.next_attempt_at.as_millis() - (MS0 + first_delay);
    assert!((2_000..=4_000).contains(&second_delay), "{second_delay}");
    r.advance_ms(second_delay);
    r.d.run_once().await.unwrap();
    let m = r.d.get("acct", &id).await.unwrap();
    assert_eq!(m.status(), Status::Sent);
    assert_eq!(m.attempts, 3);
}

#[tokio::test]
async fn gives_up_after_max_attempts_and_fails_permanent_at_once() {
    let mut c = config();
    c.retry.max_attempts = 3;
    let r = rig(c);
    for _ in 0..3 {
        r.stub.push_error(transient());
    }
    let id = r.d.enqueue("acct", msg("x")).await.unwrap().record.id;
    for _ in 0..3 {
        r.d.run_once().await.unwrap();
        r.advance_ms(60_000);
    }
    let m = r.d.get("acct", &id).await.unwrap();
    assert_eq!((m.status(), m.attempts), (Status::Failed, 3));

    r.stub.push_error(DeliveryError::from_meta(
        "stub",
        400,
        131026,
        "Message undeliverable",
        None,
    ));
    let id = r.d.enqueue("acct", msg("y")).await.unwrap().record.id;
    r.d.run_once().await.unwrap();
    let m = r.d.get("acct", &id).await.unwrap();
    assert_eq!((m.status(), m.attempts), (Status::Failed, 1));
    assert_eq!(
        m.lifecycle.error_code.as_deref(),
        Some("delivery_undeliverable")
    );
    assert!(
        m.lifecycle
            .error_message
            .unwrap()
            .contains("Message undeliverable")
    );
}

#[tokio::test]
async fn account_rate_limit_honours_retry_after() {
    let mut c = config();
    c.batch_size = 1;
    let r = rig(c);
    r.stub.push_error(DeliveryError::from_meta(
        "stub",
        400,
        130429,
        "throughput",
        Some(Duration::from_secs(5)),
    ));
    let a = r.d.enqueue("acct", msg("a")).await.unwrap().record.id;
    let b = r.d.enqueue("acct", msg("b")).await.unwrap().record.id;
    r.d.run_once().await.unwrap();
    let m = r.d.get("acct", &a).await.unwrap();
    assert_eq!(m.status(), Status::Retrying);
    assert!(m.next_attempt_at >= ms(MS0 + 5_000));
    // The whole account is paused: b waits in the queue (not in a worker), and says until when.
    r.d.run_once().await.unwrap();
    assert_eq!(r.stub.sent_count(), 1);
    let waiting = r.d.get("acct", &b).await.unwrap();
    assert_eq!(waiting.status(), Status::Queued);
    assert!(waiting.next_attempt_at >= ms(MS0 + 5_000));
    r.advance_ms(5_000);
    for _ in 0..3 {
        r.d.run_once().await.unwrap();
    }
    assert_eq!(
        (r.status(&a).await, r.status(&b).await),
        (Status::Sent, Status::Sent)
    );
}

#[tokio::test]
async fn pair_limit_backs_off_only_that_recipient() {
    let mut c = config();
    c.batch_size = 1;
    let r = rig(c);
    r.stub.push_error(DeliveryError::from_meta(
        "stub",
        400,
        131056,
        "pair rate limit",
        None,
    ));
    let x1 =
        r.d.enqueue("acct", EnqueueRequest::new(text_to("+14155552671", "x1")))
            .await
            .unwrap()
            .record
            .id;
    let y1 =
        r.d.enqueue("acct", EnqueueRequest::new(text_to("+351912345678", "y1")))
            .await
            .unwrap()
            .record
            .id;
    let x2 =
        r.d.enqueue("acct", EnqueueRequest::new(text_to("+14155552671", "x2")))
            .await
            .unwrap()
            .record
            .id;
    r.d.run_once().await.unwrap(); // x1 fails
    r.d.run_once().await.unwrap(); // y1 goes
    r.d.run_once().await.unwrap(); // x2 waits
    assert_eq!(r.status(&x1).await, Status::Retrying);
    assert_eq!(
        r.status(&y1).await,
        Status::Sent,
        "other recipients are unaffected"
    );
    assert_eq!(
        r.status(&x2).await,
        Status::Queued,
        "waiting for the pair, not in a worker"
    );
    assert_eq!(r.stub.sent_count(), 2);
    // After the pause the recipient gets one message per interval again.
    r.advance_ms(6_000);
    for _ in 0..3 {
        r.d.run_once().await.unwrap();
    }
    assert_eq!(r.stub.sent_count(), 3);
    r.advance_ms(6_000);
    for _ in 0..3 {
        r.d.run_once().await.unwrap();
    }
    assert_eq!(
        (r.status(&x1).await, r.status(&x2).await),
        (Status::Sent, Status::Sent)
    );
}

#[tokio::test]
async fn idempotency_replay_and_conflict() {
    let r = rig(config());
    let first =
        r.d.enqueue("acct", msg("same").idempotency_key("order-1"))
            .await
            .unwrap();
    let replay =
        r.d.enqueue("acct", msg("same").idempotency_key("order-1"))
            .await
            .unwrap();
    assert!(replay.replayed);
    assert_eq!(replay.record.id, first.record.id);
    assert_eq!(
        r.d.enqueue("acct", msg("different").idempotency_key("order-1"))
            .await
            .unwrap_err()
            .code(),
        "idempotency_key_conflict"
    );
    // Keys are scoped per account and kept 24 h.
    assert!(
        !r.d.enqueue("acct2", msg("same").idempotency_key("order-1"))
            .await
            .unwrap()
            .replayed
    );
    r.advance_ms(24 * 3_600_000 + 1);
    let fresh =
        r.d.enqueue("acct", msg("different").idempotency_key("order-1"))
            .await
            .unwrap();
    assert!(!fresh.replayed);
    assert_ne!(fresh.record.id, first.record.id);
    assert_eq!(
        r.d.enqueue("acct", msg("x").idempotency_key(""))
            .await
            .unwrap_err()
            .code(),
        "idempotency_key_invalid"
    );
    assert_eq!(r.stub.sent_count(), 0);
}
