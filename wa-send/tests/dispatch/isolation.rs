//! One slow upstream or webhook receiver does not delay the others.

use super::*;

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
        async fn target_for(
            &self,
            _: &str,
        ) -> Result<Option<wa_send::WebhookTarget>, wa_send::queue::StoreError> {
            Ok(Some(self.0.clone()))
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
