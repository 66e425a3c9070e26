//! Signed status webhooks to a receiver on loopback: signatures, retries with a stable id,
//! persistence, and the private-address guard.
#![cfg(feature = "outbound-webhooks")]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use wa_send::queue::{MemoryStore, QueueStore, StoreError};
use wa_send::webhook::outgoing::{TargetPolicy, check_target, generate_secret, verify};
use wa_send::{
    Content, DispatchConfig, Dispatcher, EnqueueRequest, ManualClock, MessageStatus, Outbound,
    Recipient, SingleBackend, StatusUpdate, StubBackend, Timestamp, WebhookTarget, WebhookTargets,
    async_trait,
};

const T0: u64 = 1_750_000_000;

/// The one account `acct`'s target; its next `failing` lookups fail as a store would.
#[derive(Debug)]
struct Targets {
    target: WebhookTarget,
    failing: AtomicU32,
}

#[async_trait]
impl WebhookTargets for Targets {
    async fn target_for(&self, account: &str) -> Result<Option<WebhookTarget>, StoreError> {
        let fail = self
            .failing
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if fail {
            return Err(StoreError::backend("the accounts table is unreachable"));
        }
        Ok((account == "acct").then(|| self.target.clone()))
    }
}

#[derive(Default)]
struct Received {
    calls: Vec<(HeaderMap, Bytes)>,
    fail_next: u32,
}

async fn receiver() -> (String, Arc<Mutex<Received>>) {
    let state = Arc::new(Mutex::new(Received::default()));
    let s2 = state.clone();
    let app = Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let state = s2.clone();
            async move {
                let mut st = state.lock().unwrap();
                st.calls.push((headers, body));
                if st.fail_next > 0 {
                    st.fail_next -= 1;
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), state)
}

fn dispatcher(
    url: &str,
    secret: &str,
    allow_private: bool,
    store: Arc<dyn QueueStore>,
    clock: Arc<ManualClock>,
) -> Arc<Dispatcher> {
    dispatcher_with(url, secret, allow_private, store, clock).0
}

/// The dispatcher and its targets (to make lookups fail).
fn dispatcher_with(
    url: &str,
    secret: &str,
    allow_private: bool,
    store: Arc<dyn QueueStore>,
    clock: Arc<ManualClock>,
) -> (Arc<Dispatcher>, Arc<Targets>) {
    let mut c = DispatchConfig::default();
    c.rate_per_second = None;
    c.pair_limit = None;
    c.allow_private_webhook_targets = allow_private;
    c.jitter_seed = Some(1);
    let backend = Arc::new(SingleBackend(Arc::new(StubBackend::new_ok())));
    let d = Dispatcher::new(store, backend, clock, c).unwrap();
    let targets = Arc::new(Targets {
        target: WebhookTarget {
            url: url.to_owned(),
            secret: secret.to_owned(),
        },
        failing: AtomicU32::new(0),
    });
    (Arc::new(d.with_webhooks(targets.clone())), targets)
}

fn msg() -> EnqueueRequest {
    let mut o = Outbound::new(
        Recipient::parse("+14155552671").unwrap(),
        Content::text("hi"),
    );
    o.metadata.insert("order".into(), "1234".into());
    EnqueueRequest::new(o)
}

#[tokio::test]
async fn every_status_change_is_delivered_signed_and_retried() {
    let (url, received) = receiver().await;
    let secret = generate_secret();
    let clock = Arc::new(ManualClock::at_unix(T0));
    let store: Arc<dyn QueueStore> = Arc::new(MemoryStore::new());
    let d = dispatcher(&url, &secret, true, store.clone(), clock.clone());
    let id = d.enqueue("acct", msg()).await.unwrap().record.id;
    d.run_once().await.unwrap();
    let wamid = d
        .get("acct", &id)
        .await
        .unwrap()
        .provider_message_id
        .unwrap();
    d.apply_status(&StatusUpdate::new(
        wamid.clone(),
        MessageStatus::Delivered,
        Timestamp::from_secs(T0 + 1),
    ))
    .await
    .unwrap();
    d.apply_status(&StatusUpdate::new(
        wamid.clone(),
        MessageStatus::Delivered,
        Timestamp::from_secs(T0 + 1),
    ))
    .await
    .unwrap(); // duplicate: no event
    d.apply_status(&StatusUpdate::new(
        wamid,
        MessageStatus::Read,
        Timestamp::from_secs(T0 + 2),
    ))
    .await
    .unwrap();
    received.lock().unwrap().fail_next = 1; // the first delivery attempt fails
    assert_eq!(d.deliver_webhooks_once().await.unwrap(), 3);
    let calls = received.lock().unwrap().calls.clone();
    assert_eq!(calls.len(), 3);
    let mut statuses = Vec::new();
    for (headers, body) in &calls {
        let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_owned();
        verify(
            &secret,
            &h("webhook-id"),
            &h("webhook-timestamp"),
            &h("webhook-signature"),
            body,
            T0,
            300,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        // The reference's documented shape (changed on purpose from `type`/`data.id`).
        assert_eq!(v["event"], "message.status_updated");
        assert_eq!(v["data"]["messageId"], id.as_str());
        assert_eq!(v["data"]["to"], "14155552671");
        assert_eq!(v["data"]["metadata"]["order"], "1234");
        statuses.push(v["data"]["status"].as_str().unwrap().to_owned());
    }
    statuses.sort();
    assert_eq!(statuses, ["delivered", "read", "sent"]);
    // The failed one is retried later with the same webhook-id.
    let failed_id = calls[0].0["webhook-id"].to_str().unwrap().to_owned();
    assert_eq!(
        d.deliver_webhooks_once().await.unwrap(),
        0,
        "not before its backoff"
    );
    clock.advance(Duration::from_secs(10));
    assert_eq!(d.deliver_webhooks_once().await.unwrap(), 1);
    let calls = received.lock().unwrap().calls.clone();
    assert_eq!(calls.len(), 4);
    assert_eq!(calls[3].0["webhook-id"].to_str().unwrap(), failed_id);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(d.deliver_webhooks_once().await.unwrap(), 0, "all delivered");
}

/// A failing account read delays an event or a delivery; it never drops one, and a
/// delivery put back for it does not spend one of its attempts.
#[tokio::test]
async fn a_failing_target_lookup_delays_events_and_deliveries_and_loses_none() {
    let (url, received) = receiver().await;
    let secret = generate_secret();
    let clock = Arc::new(ManualClock::at_unix(T0));
    let store: Arc<dyn QueueStore> = Arc::new(MemoryStore::new());
    let (d, targets) = dispatcher_with(&url, &secret, true, store.clone(), clock.clone());
    let id = d.enqueue("acct", msg()).await.unwrap().record.id;
    // The worker's lookup after the send fails twice: it retries, the `sent` event is made.
    targets.failing.store(2, Ordering::SeqCst);
    d.run_once().await.unwrap();
    let wamid = d
        .get("acct", &id)
        .await
        .unwrap()
        .provider_message_id
        .unwrap();
    // A status whose lookup fails is refused (Meta redelivers it), then applied.
    let delivered = StatusUpdate::new(
        wamid,
        MessageStatus::Delivered,
        Timestamp::from_secs(T0 + 1),
    );
    targets.failing.store(1, Ordering::SeqCst);
    let refused = d.apply_status(&delivered).await.unwrap_err();
    assert_eq!(refused.code(), "store_failed");
    assert!(d.apply_status(&delivered).await.unwrap().is_some());
    // Both deliveries' secret lookups fail: put back unattempted, due in a second.
    targets.failing.store(2, Ordering::SeqCst);
    assert_eq!(d.deliver_webhooks_once().await.unwrap(), 2);
    assert!(received.lock().unwrap().calls.is_empty());
    assert_eq!(
        d.deliver_webhooks_once().await.unwrap(),
        0,
        "not before a second"
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(d.deliver_webhooks_once().await.unwrap(), 2);
    let calls = received.lock().unwrap().calls.clone();
    let mut statuses: Vec<String> = calls
        .iter()
        .map(|(_, body)| {
            let v: serde_json::Value = serde_json::from_slice(body).unwrap();
            v["data"]["status"].as_str().unwrap().to_owned()
        })
        .collect();
    statuses.sort();
    assert_eq!(statuses, ["delivered", "sent"]);
    for (headers, _) in &calls {
        let hook = headers["webhook-id"].to_str().unwrap();
        let stored = store.get_webhook(hook).await.unwrap().unwrap();
        assert_eq!(stored.attempts, 1, "the put-back was not counted");
    }
}

#[tokio::test]
async fn private_targets_are_refused_without_the_opt_out() {
    let (url, received) = receiver().await;
    let clock = Arc::new(ManualClock::at_unix(T0));
    let d = dispatcher(
        &url,
        &generate_secret(),
        false,
        Arc::new(MemoryStore::new()),
        clock.clone(),
    );
    d.enqueue("acct", msg()).await.unwrap();
    d.run_once().await.unwrap();
    assert_eq!(d.deliver_webhooks_once().await.unwrap(), 1);
    clock.advance(Duration::from_secs(100_000));
    assert_eq!(
        d.deliver_webhooks_once().await.unwrap(),
        0,
        "a forbidden target is not retried"
    );
    assert!(received.lock().unwrap().calls.is_empty());
    for bad in [
        "http://127.0.0.1/x",
        "http://10.0.0.8/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest",
        "ftp://example.com/x",
        "http://user:pw@example.com/",
    ] {
        assert!(
            check_target(bad, TargetPolicy::PUBLIC).await.is_err(),
            "{bad}"
        );
    }
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn pending_deliveries_survive_a_restart() {
    let (url, received) = receiver().await;
    let secret = generate_secret();
    let url_db = wa_send::queue::testing::temp_sqlite_url();
    let clock = Arc::new(ManualClock::at_unix(T0));
    {
        let store = Arc::new(wa_send::queue::SqlStore::open_url(&url_db).await.unwrap());
        let d = dispatcher(&url, &secret, true, store, clock.clone());
        d.enqueue("acct", msg()).await.unwrap();
        d.run_once().await.unwrap(); // a `sent` event is stored, not yet delivered
    }
    let store = Arc::new(wa_send::queue::SqlStore::open_url(&url_db).await.unwrap());
    let d = dispatcher(&url, &secret, true, store, clock);
    assert_eq!(d.deliver_webhooks_once().await.unwrap(), 1);
    assert_eq!(received.lock().unwrap().calls.len(), 1);
}
