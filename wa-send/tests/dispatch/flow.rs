//! The circuit breaker, pacing, bulk, cancel, lists and restarts.

use super::*;

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
