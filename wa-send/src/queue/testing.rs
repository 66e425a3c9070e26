//! The conformance suite every [`QueueStore`] must pass.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! wa_send::queue::testing::conformance(&wa_send::queue::MemoryStore::new()).await;
//! # });
//! ```

use super::{Inserted, ListFilter, MessageRecord, QueueStore, WebhookDelivery, WebhookState};
use crate::lifecycle::Status;
use crate::{Content, Outbound, Recipient};

const T0: u64 = 1_750_000_000_000;
const DAY: u64 = 24 * 3600 * 1000;

fn outbound(text: &str) -> Outbound {
    Outbound::new(
        Recipient::parse("+14155552671").expect("valid test number"),
        Content::text(text),
    )
}

fn record(id: &str, account: &str, now: u64) -> MessageRecord {
    MessageRecord::new(id.to_owned(), account.to_owned(), outbound(id), None, now)
}

fn keyed(id: &str, account: &str, key: &str, now: u64) -> MessageRecord {
    let mut r = record(id, account, now);
    r.idempotency_key = Some(key.to_owned());
    r.request_hash = Some(format!("hash-{id}"));
    r
}

/// Runs every check against `store`, which must be empty. Panics on the first failure.
pub async fn conformance(store: &dyn QueueStore) {
    // Insert, get, pending count.
    let a = store
        .insert(record("msg_0001", "acct_a", T0), 0)
        .await
        .expect("insert");
    assert!(matches!(a, Inserted::Created(_)));
    let got = store.get("msg_0001").await.expect("get").expect("stored");
    assert_eq!(got.status(), Status::Queued);
    assert_eq!(got.outbound, outbound("msg_0001"));
    assert!(store.get("msg_nope").await.expect("get").is_none());
    assert_eq!(store.pending_count().await.expect("count"), 1);

    // Idempotency: per account, within the cutoff, atomic.
    let first = store
        .insert(keyed("msg_0002", "acct_a", "k1", T0), T0 - DAY)
        .await
        .expect("insert");
    assert!(matches!(first, Inserted::Created(_)));
    match store
        .insert(keyed("msg_0003", "acct_a", "k1", T0 + 1), T0 + 1 - DAY)
        .await
        .expect("insert")
    {
        Inserted::Existing(r) => assert_eq!(r.id, "msg_0002"),
        other => panic!("same key must return the original: {other:?}"),
    }
    assert!(matches!(
        store
            .insert(keyed("msg_0004", "acct_b", "k1", T0), T0 - DAY)
            .await
            .expect("insert"),
        Inserted::Created(_)
    ));
    // After the key's lifetime the key is free again.
    assert!(matches!(
        store
            .insert(keyed("msg_0005", "acct_a", "k1", T0 + DAY + 1), T0 + 1)
            .await
            .expect("insert"),
        Inserted::Created(_)
    ));
    let (x, y) = tokio::join!(
        store.insert(keyed("msg_0006", "acct_a", "race", T0), 0),
        store.insert(keyed("msg_0007", "acct_a", "race", T0), 0)
    );
    let created = [x.expect("insert"), y.expect("insert")]
        .iter()
        .filter(|i| matches!(i, Inserted::Created(_)))
        .count();
    assert_eq!(created, 1, "two inserts with one key store one record");

    // Scheduling and claiming with leases.
    let mut later = record("msg_0100", "acct_c", T0);
    later = MessageRecord::new(
        later.id,
        later.account,
        later.outbound,
        Some(T0 + 60_000),
        T0,
    );
    assert_eq!(later.status(), Status::Scheduled);
    store.insert(later, 0).await.expect("insert");
    store
        .insert_batch(vec![
            record("msg_0101", "acct_c", T0 + 10),
            record("msg_0102", "acct_c", T0 + 5),
        ])
        .await
        .expect("batch");
    let claimed = store.claim_due(T0 + 20, 30_000, 100).await.expect("claim");
    let ids: Vec<&str> = claimed.iter().map(|r| r.id.as_str()).collect();
    assert!(!ids.contains(&"msg_0100"), "not due yet");
    assert!(ids.contains(&"msg_0101") && ids.contains(&"msg_0102"));
    assert!(
        claimed
            .iter()
            .all(|r| r.status() == Status::Processing && r.lease_until == Some(T0 + 20 + 30_000))
    );
    let order: Vec<u64> = claimed.iter().map(|r| r.next_attempt_at).collect();
    assert!(
        order.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {order:?}"
    );
    assert!(
        store
            .claim_due(T0 + 21, 30_000, 100)
            .await
            .expect("claim")
            .is_empty(),
        "leased records are not handed out twice"
    );
    // The lease expires: another worker gets them again, still `processing`.
    let again = store
        .claim_due(T0 + 20 + 30_000, 30_000, 100)
        .await
        .expect("claim");
    assert_eq!(again.len(), claimed.len());
    let scheduled = store
        .claim_due(T0 + 60_000, 30_000, 1)
        .await
        .expect("claim");
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0].id, "msg_0100");
    assert_eq!(
        scheduled[0].lifecycle.timeline.len(),
        2,
        "scheduled -> processing"
    );

    // Updates are atomic and persisted; provider ids are indexed.
    let (r, changed) = store
        .update(
            "msg_0101",
            Box::new(|r: &mut MessageRecord| {
                r.provider_message_id = Some("wamid.P1".to_owned());
                r.lease_until = None;
                r.lifecycle.advance(Status::Sent, T0 + 100)
            }),
        )
        .await
        .expect("update")
        .expect("exists");
    assert!(changed);
    assert_eq!(r.status(), Status::Sent);
    assert_eq!(
        store
            .get("msg_0101")
            .await
            .expect("get")
            .expect("exists")
            .status(),
        Status::Sent
    );
    assert_eq!(
        store
            .find_by_provider_id("wamid.P1")
            .await
            .expect("find")
            .as_deref(),
        Some("msg_0101")
    );
    assert!(
        store
            .find_by_provider_id("wamid.nope")
            .await
            .expect("find")
            .is_none()
    );
    let (_, changed) = store
        .update(
            "msg_0101",
            Box::new(|r: &mut MessageRecord| r.lifecycle.advance(Status::Sent, T0 + 200)),
        )
        .await
        .expect("update")
        .expect("exists");
    assert!(!changed, "a refused transition changes nothing");
    assert!(
        store
            .update("msg_nope", Box::new(|_: &mut MessageRecord| true))
            .await
            .expect("update")
            .is_none()
    );

    // Lists never cross accounts; filters and cursors.
    let mut batch = vec![];
    for i in 0..5 {
        let mut r = record(&format!("msg_0200{i}"), "acct_d", T0);
        r.batch_id = Some("batch_1".to_owned());
        batch.push(r);
    }
    store.insert_batch(batch).await.expect("batch");
    store
        .insert(record("msg_0300", "acct_d", T0), 0)
        .await
        .expect("insert");
    let all = store
        .list(&ListFilter::account("acct_d"))
        .await
        .expect("list");
    assert_eq!(all.len(), 6);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    let mut f = ListFilter::account("acct_d");
    f.batch_id = Some("batch_1".to_owned());
    f.limit = 2;
    let page1 = store.list(&f).await.expect("list");
    assert_eq!(page1.len(), 2);
    f.after_id = Some(page1[1].id.clone());
    let page2 = store.list(&f).await.expect("list");
    assert_eq!(page2.len(), 2);
    assert!(page2[0].id > page1[1].id);
    let mut f = ListFilter::account("acct_c");
    f.status = Some(Status::Sent);
    let sent = store.list(&f).await.expect("list");
    assert_eq!(
        sent.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["msg_0101"]
    );
    assert!(
        store
            .list(&ListFilter::account("acct_zzz"))
            .await
            .expect("list")
            .is_empty()
    );

    // Webhook deliveries survive, lease, and stop once delivered.
    let d = WebhookDelivery {
        id: "whd_1".to_owned(),
        account: "acct_a".to_owned(),
        url: "https://hooks.example/a".to_owned(),
        body: "{}".to_owned(),
        created_at: T0,
        attempts: 0,
        next_attempt_at: T0,
        lease_until: None,
        state: WebhookState::Pending,
        last_error: None,
        max_attempts: None,
    };
    store.push_webhook(d.clone()).await.expect("push");
    let mut claimed = store.claim_webhooks(T0, 10_000, 10).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    assert!(
        store
            .claim_webhooks(T0 + 1, 10_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    claimed[0].state = WebhookState::Delivered;
    claimed[0].attempts = 1;
    store.save_webhook(&claimed[0]).await.expect("save");
    assert!(
        store
            .claim_webhooks(T0 + 20_000, 10_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
}
