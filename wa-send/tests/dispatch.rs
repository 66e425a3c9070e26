//! The dispatcher on a manual clock: scheduling, retries, idempotency, statuses, leases,
//! circuit breaker, pacing, bulk, cancel.

use std::sync::Arc;
use std::time::Duration;

use wa_send::queue::{Admission, ListFilter, MemoryStore, QueueStore};
use wa_send::{
    Content, DeliveryError, DispatchConfig, Dispatcher, EnqueueRequest, ManualClock, MessageStatus,
    Outbound, Recipient, SingleBackend, Status, StatusUpdate, StubBackend, Timestamp,
};

const T0: u64 = 1_750_000_000; // seconds
const MS0: u64 = T0 * 1000;

fn ms(unix_ms: u64) -> Timestamp {
    Timestamp::from_millis(unix_ms)
}

struct Rig {
    clock: Arc<ManualClock>,
    stub: StubBackend,
    d: Arc<Dispatcher>,
}

fn config() -> DispatchConfig {
    let mut c = DispatchConfig::default();
    c.rate_per_second = None;
    c.pair_limit = None;
    c.jitter_seed = Some(42);
    c
}

fn rig_with(config: DispatchConfig, store: Arc<dyn QueueStore>) -> Rig {
    let clock = Arc::new(ManualClock::at_unix(T0));
    let stub = StubBackend::new_ok();
    let d = Dispatcher::new(
        store,
        Arc::new(SingleBackend(Arc::new(stub.clone()))),
        clock.clone(),
        config,
    )
    .unwrap();
    Rig {
        clock,
        stub,
        d: Arc::new(d),
    }
}

fn rig(config: DispatchConfig) -> Rig {
    rig_with(config, Arc::new(MemoryStore::new()))
}

fn text_to(phone: &str, body: &str) -> Outbound {
    Outbound::new(Recipient::parse(phone).unwrap(), Content::text(body))
}

fn msg(body: &str) -> EnqueueRequest {
    EnqueueRequest::new(text_to("+14155552671", body))
}

fn transient() -> DeliveryError {
    DeliveryError::from_meta("stub", 500, 131000, "try again", None)
}

impl Rig {
    fn advance_ms(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }
    async fn status(&self, id: &str) -> Status {
        self.d.get("acct", id).await.unwrap().status()
    }
}

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

#[tokio::test]
async fn circuit_opens_half_opens_and_closes() {
    let mut c = config();
    c.batch_size = 1;
    c.breaker_threshold = 3;
    c.breaker_cooldown_ms = 10_000;
    c.retry.base = Duration::from_millis(100_000); // keep retries out of the way
    let r = rig(c);
    for _ in 0..3 {
        r.stub.push_error(transient());
        r.d.enqueue("acct", msg("x")).await.unwrap();
        r.d.run_once().await.unwrap();
    }
    let err = r.d.enqueue("acct", msg("y")).await.unwrap_err();
    assert_eq!(err.code(), "circuit_open");
    assert_eq!(r.d.circuit_open_until("acct"), Some(ms(MS0 + 10_000)));
    assert_eq!(r.d.circuit_open_until("other-account"), None, "per account");
    r.advance_ms(10_000);
    // Half-open: one probe; it fails, so the circuit opens again.
    let probe = r.d.enqueue("acct", msg("probe")).await.unwrap().record.id;
    r.stub.push_error(transient());
    r.d.run_once().await.unwrap();
    let p = r.d.get("acct", &probe).await.unwrap();
    assert_eq!(p.status(), Status::Retrying);
    assert_eq!(
        p.attempts, 0,
        "a failed probe spends no attempt of the message"
    );
    assert_eq!(
        r.d.enqueue("acct", msg("z")).await.unwrap_err().code(),
        "circuit_open"
    );
    r.advance_ms(10_000);
    let ok = r.d.enqueue("acct", msg("ok")).await.unwrap().record.id;
    r.d.run_once().await.unwrap();
    assert_eq!(r.status(&ok).await, Status::Sent);
    assert_eq!(r.d.circuit_open_until("acct"), None);
    assert!(r.d.enqueue("acct", msg("after")).await.is_ok());
}

#[tokio::test]
async fn pacing_is_accurate() {
    let mut c = config();
    c.rate_per_second = Some(10);
    c.batch_size = 100;
    let r = rig(c);
    let items = (0..60)
        .map(|i| EnqueueRequest::new(text_to(&format!("+1415555{:04}", 2000 + i), "hi")))
        .collect();
    r.d.enqueue_bulk("acct", items).await.unwrap();
    let mut sent_at = Vec::new();
    for step in 0..=60u64 {
        let before = r.stub.sent_count();
        r.d.run_once().await.unwrap();
        for _ in before..r.stub.sent_count() {
            sent_at.push(step * 100);
        }
        r.advance_ms(100);
    }
    assert_eq!(sent_at.len(), 60);
    // A burst of 10, then one every 100 ms: never more than 10 + 10/s.
    for (i, t) in sent_at.iter().enumerate() {
        assert!((i as u64) < 10 + t / 100, "message {i} at {t} ms");
    }
    assert_eq!(*sent_at.last().unwrap(), 5_000);
    let mut too_fast = DispatchConfig::default();
    too_fast.rate_per_second = Some(1001);
    let backend = Arc::new(SingleBackend(Arc::new(StubBackend::new_ok())));
    let err = Dispatcher::new(
        Arc::new(MemoryStore::new()),
        backend,
        r.clock.clone(),
        too_fast,
    )
    .unwrap_err();
    assert_eq!(err.code(), "dispatch_config_invalid");
}

#[tokio::test]
async fn bulk_cancel_and_lists() {
    let mut c = config();
    c.bulk_cap = 5;
    let r = rig(c);
    let items = vec![
        msg("a"),
        msg("b"),
        EnqueueRequest::new(text_to("+14155552671", "")),
        msg("d").send_at(ms(MS0 + 1000)),
    ];
    let out = r.d.enqueue_bulk("acct", items).await.unwrap();
    assert_eq!((out.total, out.queued(), out.failed_count()), (4, 3, 1));
    assert_eq!(
        out.items[2].as_ref().unwrap_err().code(),
        "message_text_empty"
    );
    let mut f = ListFilter::account("acct");
    f.batch_id = Some(out.batch_id.clone());
    assert_eq!(r.d.list(&f).await.unwrap().len(), 3);
    assert_eq!(
        r.d.enqueue_bulk("acct", vec![]).await.unwrap_err().code(),
        "bulk_empty"
    );
    assert_eq!(
        r.d.enqueue_bulk("acct", (0..6).map(|_| msg("x")).collect())
            .await
            .unwrap_err()
            .code(),
        "bulk_too_large"
    );

    let scheduled = out.items[3].as_ref().unwrap().clone();
    assert_eq!(
        r.d.cancel("other", &scheduled).await.unwrap_err().code(),
        "message_not_found"
    );
    assert_eq!(
        r.d.cancel("acct", &scheduled).await.unwrap().status(),
        Status::Cancelled
    );
    r.d.run_once().await.unwrap();
    let sent = out.items[0].as_ref().unwrap();
    assert_eq!(
        r.d.cancel("acct", sent).await.unwrap_err().code(),
        "message_not_cancellable"
    );
    r.advance_ms(5_000);
    r.d.run_once().await.unwrap();
    assert_eq!(
        r.stub.sent_count(),
        2,
        "the cancelled message is never sent"
    );
    let mut f = ListFilter::account("acct");
    f.status = Some(Status::Sent);
    assert_eq!(r.d.list(&f).await.unwrap().len(), 2);
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn nothing_queued_is_lost_on_restart() {
    let url = wa_send::queue::testing::temp_sqlite_url();
    let ids: Vec<String> = {
        let store = Arc::new(wa_send::queue::SqlStore::open_url(&url).await.unwrap());
        let r = rig_with(config(), store);
        let out =
            r.d.enqueue_bulk("acct", (0..20).map(|i| msg(&format!("m{i}"))).collect())
                .await
                .unwrap();
        out.items.into_iter().map(Result::unwrap).collect()
    };
    let store = Arc::new(wa_send::queue::SqlStore::open_url(&url).await.unwrap());
    let r = rig_with(config(), store);
    r.d.run_once().await.unwrap();
    for id in &ids {
        assert_eq!(r.status(id).await, Status::Sent);
    }
    assert_eq!(r.stub.sent_count(), 20);
}

/// Accounts with their own backends (the run-loop tests use real time).
#[derive(Debug)]
struct PerAccount(std::collections::HashMap<String, wa_send::SharedBackend>);

#[wa_send::async_trait]
impl wa_send::BackendRouter for PerAccount {
    async fn backend_for(
        &self,
        account: &str,
    ) -> Result<Option<wa_send::SharedBackend>, wa_send::queue::StoreError> {
        Ok(self.0.get(account).cloned())
    }
}

async fn wait_until(what: &str, secs: u64, mut done: impl AsyncFnMut() -> bool) -> Duration {
    #[allow(clippy::disallowed_methods)] // a wall-clock bound for a real-time test
    let start = std::time::Instant::now();
    while !done().await {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upstream_does_not_delay_other_accounts() {
    let slow = StubBackend::new_ok();
    slow.set_delay(Duration::from_secs(2));
    let fast = StubBackend::new_ok();
    let router = PerAccount(
        [
            (
                "slow".to_owned(),
                Arc::new(slow.clone()) as wa_send::SharedBackend,
            ),
            (
                "fast".to_owned(),
                Arc::new(fast.clone()) as wa_send::SharedBackend,
            ),
        ]
        .into(),
    );
    let mut c = config();
    c.concurrency = 64;
    c.per_account_concurrency = 16;
    let store: Arc<dyn QueueStore> = Arc::new(MemoryStore::new());
    let d = Arc::new(
        Dispatcher::new(store, Arc::new(router), Arc::new(wa_send::SystemClock), c).unwrap(),
    );
    d.enqueue_bulk("slow", (0..200).map(|i| msg(&format!("s{i}"))).collect())
        .await
        .unwrap();
    d.enqueue_bulk("fast", (0..50).map(|i| msg(&format!("f{i}"))).collect())
        .await
        .unwrap();
    let (stop_tx, mut stop) = tokio::sync::watch::channel(false);
    let run = tokio::spawn(d.clone().run(Duration::from_millis(20), async move {
        let _ = stop.wait_for(|s| *s).await;
    }));
    let took = wait_until("the fast account's messages", 10, async || {
        fast.sent_count() == 50
    })
    .await;
    assert!(
        took < Duration::from_millis(1000),
        "{took:?} behind a 2 s upstream"
    );
    assert!(
        slow.sent_count() <= 16,
        "the slow account holds at most its share of slots"
    );
    let _ = stop_tx.send(true);
    run.await.unwrap();
    // The drain waited for the slow sends in flight: their outcomes are recorded.
    let mut f = ListFilter::account("slow");
    f.status = Some(Status::Processing);
    assert!(
        d.list(&f).await.unwrap().is_empty(),
        "nothing left in processing"
    );
}

#[cfg(feature = "outbound-webhooks")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_webhook_receiver_does_not_delay_sends() {
    #[derive(Debug)]
    struct Target(wa_send::WebhookTarget);
    #[wa_send::async_trait]
    impl wa_send::WebhookTargets for Target {
        async fn target_for(&self, _: &str) -> Option<wa_send::WebhookTarget> {
            Some(self.0.clone())
        }
    }
    // A receiver that takes 10 s per call.
    let app = axum::Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        "late"
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let stub = StubBackend::new_ok();
    let mut c = config();
    c.allow_private_webhook_targets = true;
    let d = Dispatcher::new(
        Arc::new(MemoryStore::new()),
        Arc::new(SingleBackend(Arc::new(stub.clone()))),
        Arc::new(wa_send::SystemClock),
        c,
    )
    .unwrap()
    .with_webhooks(Arc::new(Target(wa_send::WebhookTarget {
        url,
        secret: wa_send::webhook::outgoing::generate_secret(),
    })));
    let d = Arc::new(d);
    let (stop_tx, mut stop) = tokio::sync::watch::channel(false);
    let run = tokio::spawn(d.clone().run(Duration::from_millis(20), async move {
        let _ = stop.wait_for(|s| *s).await;
    }));
    for batch in 0..5 {
        d.enqueue_bulk(
            "acct",
            (0..100).map(|i| msg(&format!("{batch}-{i}"))).collect(),
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = wait_until("every message sent", 10, async || stub.sent_count() == 500).await;
    assert!(
        took < Duration::from_secs(3),
        "{took:?} with a 10 s webhook receiver"
    );
    assert!(
        d.stats().snapshot().webhook_attempts > 0,
        "webhooks were being delivered"
    );
    let _ = stop_tx.send(true);
    run.await.unwrap();
}

/// Answers 130429 (throughput reached) until the storm ends, then accepts everything.
#[derive(Debug)]
struct Storm {
    clock: Arc<ManualClock>,
    until: Timestamp,
    calls: std::sync::atomic::AtomicU64,
}

#[wa_send::async_trait]
impl wa_send::DeliveryBackend for Storm {
    fn name(&self) -> &'static str {
        "storm"
    }
    async fn send(&self, _: &Outbound) -> Result<wa_send::Receipt, DeliveryError> {
        let n = self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if wa_send::Clock::timestamp(&*self.clock) < self.until {
            return Err(DeliveryError::from_meta(
                "storm",
                400,
                130429,
                "throughput",
                None,
            ));
        }
        Ok(wa_send::Receipt::new("storm", format!("wamid.storm{n}")))
    }
    async fn verify_credentials(&self) -> Result<wa_send::CredentialInfo, DeliveryError> {
        Ok(wa_send::CredentialInfo::new("storm", "acct"))
    }
}

/// A six-hour throttle storm on the default retry policy: every message is sent once it
/// ends, and no throttled answer spent one of a message's attempts.
#[tokio::test]
async fn every_message_survives_a_six_hour_throttle_storm() {
    let clock = Arc::new(ManualClock::at_unix(T0));
    let storm = Arc::new(Storm {
        clock: clock.clone(),
        until: ms(MS0 + 6 * 3600 * 1000),
        calls: Default::default(),
    });
    let d = Arc::new(
        Dispatcher::new(
            Arc::new(MemoryStore::new()),
            Arc::new(SingleBackend(storm.clone())),
            clock.clone(),
            config(),
        )
        .unwrap(),
    );
    let mut ids = Vec::new();
    for i in 0..50 {
        ids.push(
            d.enqueue("acct", msg(&format!("m{i}")))
                .await
                .unwrap()
                .record
                .id,
        );
    }
    let mut steps = 0;
    loop {
        while d.run_once().await.unwrap() > 0 {}
        let mut left = 0;
        for id in &ids {
            if d.get("acct", id).await.unwrap().status() != Status::Sent {
                left += 1;
            }
        }
        if left == 0 {
            break;
        }
        steps += 1;
        assert!(
            steps < 3 * 24 * 60,
            "{left} messages still unsent after {steps} minutes"
        );
        clock.advance(Duration::from_secs(60));
    }
    let elapsed = wa_send::Clock::unix_seconds(&*clock) - T0;
    assert!(elapsed >= 6 * 3600, "sent during the storm");
    for id in &ids {
        let m = d.get("acct", id).await.unwrap();
        assert_eq!(m.attempts, 1, "throttles are not attempts");
    }
    println!(
        "throttle storm: 50/50 sent {} min after it began ({} calls to the backend)",
        elapsed / 60,
        storm.calls.load(std::sync::atomic::Ordering::Relaxed)
    );
}
