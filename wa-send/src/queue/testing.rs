//! The conformance suite every [`QueueStore`] must pass: one function per behaviour, and
//! [`queue_store_tests!`](crate::queue_store_tests) to turn them into one named test each.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! wa_send::queue::testing::claims_due_records_oldest_first(&wa_send::queue::MemoryStore::new()).await;
//! # });
//! ```
//!
//! In a test file:
//!
//! ```ignore
//! mod memory {
//!     wa_send::queue_store_tests!(async { Some(wa_send::queue::MemoryStore::new()) });
//! }
//! ```

use super::{
    Admission, BatchInserted, BatchRecord, Change, DeliveryKind, Inserted, ListFilter,
    MessageRecord, NewBatch, QueueStore, WebhookDelivery, WebhookState,
};
use crate::lifecycle::Status;
use crate::{Content, Outbound, Recipient, Timestamp};

mod claims;
pub use claims::{
    admit_can_skip_or_save_with_webhooks, claims_due_records_oldest_first,
    claims_respect_the_limit, concurrent_claims_never_share_a_record,
    leases_hold_until_they_expire,
};

const T0: Timestamp = Timestamp::from_millis(1_750_000_000_000);
const DAY: u64 = 24 * 3600 * 1000;

fn at(ms: u64) -> Timestamp {
    T0.plus_millis(ms)
}

fn outbound(text: &str) -> Outbound {
    Outbound::new(
        Recipient::parse("+14155552671").expect("valid test number"),
        Content::text(text),
    )
}

fn record(id: &str, account: &str, now: Timestamp) -> MessageRecord {
    MessageRecord::new(id.to_owned(), account.to_owned(), outbound(id), None, now)
}

fn keyed(id: &str, account: &str, key: &str, now: Timestamp) -> MessageRecord {
    let mut r = record(id, account, now);
    r.idempotency_key = Some(key.to_owned());
    r.request_hash = Some(format!("hash-{id}"));
    r
}

fn delivery(id: &str, now: Timestamp) -> WebhookDelivery {
    WebhookDelivery::new(
        id.to_owned(),
        "acct_a",
        DeliveryKind::StatusEvent,
        "https://hooks.example/a",
        "{}".to_owned(),
        now,
    )
}

async fn claim_all(store: &dyn QueueStore, now: Timestamp, lease: u64) -> Vec<MessageRecord> {
    store
        .claim(now, lease, 100, Box::new(|_| Admission::Send))
        .await
        .expect("claim")
}

async fn ids_of(store: &dyn QueueStore, now: Timestamp, lease: u64) -> Vec<String> {
    claim_all(store, now, lease)
        .await
        .into_iter()
        .map(|r| r.id)
        .collect()
}

/// Inserted records read back whole and count as pending.
pub async fn insert_get_and_count(store: &dyn QueueStore) {
    let a = store
        .insert(record("msg_0001", "acct_a", T0), Timestamp::EPOCH)
        .await
        .expect("insert");
    assert!(matches!(a, Inserted::Created(_)));
    let got = store.get("msg_0001").await.expect("get").expect("stored");
    assert_eq!(got.status(), Status::Queued);
    assert_eq!(got.outbound, outbound("msg_0001"));
    assert_eq!(
        got,
        record("msg_0001", "acct_a", T0),
        "every field survives"
    );
    assert!(store.get("msg_nope").await.expect("get").is_none());
    assert_eq!(store.pending_count().await.expect("count"), 1);
}

/// An idempotency key returns the original within its lifetime, per account, and is free
/// again afterwards.
pub async fn idempotency_is_per_account_and_expires(store: &dyn QueueStore) {
    let first = store
        .insert(keyed("msg_0002", "acct_a", "k1", T0), at(0).plus_millis(0))
        .await
        .expect("insert");
    assert!(matches!(first, Inserted::Created(_)));
    match store
        .insert(keyed("msg_0003", "acct_a", "k1", at(1)), Timestamp::EPOCH)
        .await
        .expect("insert")
    {
        Inserted::Existing(r) => assert_eq!(r.id, "msg_0002"),
        other => panic!("same key must return the original: {other:?}"),
    }
    assert!(matches!(
        store
            .insert(keyed("msg_0004", "acct_b", "k1", T0), Timestamp::EPOCH)
            .await
            .expect("insert"),
        Inserted::Created(_)
    ));
    // After the key's lifetime the key is free again.
    assert!(matches!(
        store
            .insert(keyed("msg_0005", "acct_a", "k1", at(DAY + 1)), at(1))
            .await
            .expect("insert"),
        Inserted::Created(_)
    ));
}

/// Two concurrent inserts with one key store one record.
pub async fn concurrent_inserts_with_one_key_store_one(store: &dyn QueueStore) {
    let (x, y) = tokio::join!(
        store.insert(keyed("msg_0006", "acct_a", "race", T0), Timestamp::EPOCH),
        store.insert(keyed("msg_0007", "acct_a", "race", T0), Timestamp::EPOCH)
    );
    let created = [x.expect("insert"), y.expect("insert")]
        .iter()
        .filter(|i| matches!(i, Inserted::Created(_)))
        .count();
    assert_eq!(created, 1, "two inserts with one key store one record");
}

/// Updates are atomic, persisted, index provider ids, and store their webhooks in the
/// same transaction; a refused change writes nothing.
pub async fn updates_are_atomic_with_their_webhooks(store: &dyn QueueStore) {
    store
        .insert(record("msg_0600", "acct_h", T0), Timestamp::EPOCH)
        .await
        .expect("insert");
    let (r, changed) = store
        .update(
            "msg_0600",
            Box::new(|r: &mut MessageRecord| {
                r.provider_message_id = Some("wamid.P1".to_owned());
                r.lease_until = None;
                let changed = r.lifecycle.advance(Status::Sent, at(100));
                Change {
                    changed,
                    webhooks: vec![delivery("whd_upd", at(100))],
                }
            }),
        )
        .await
        .expect("update")
        .expect("exists");
    assert!(changed);
    assert_eq!(r.status(), Status::Sent);
    let stored = store.get("msg_0600").await.expect("get").expect("exists");
    assert_eq!(stored, r);
    assert!(
        !stored.is_due(at(10 * DAY)),
        "sent messages are never claimed"
    );
    let found = store
        .find_by_provider_id("wamid.P1")
        .await
        .expect("find")
        .expect("indexed");
    assert_eq!(
        (found.id.as_str(), found.account.as_str()),
        ("msg_0600", "acct_h")
    );
    assert!(
        store
            .find_by_provider_id("wamid.nope")
            .await
            .expect("find")
            .is_none()
    );
    assert!(store.get_webhook("whd_upd").await.expect("get").is_some());
    let (_, changed) = store
        .update(
            "msg_0600",
            Box::new(|r: &mut MessageRecord| {
                Change::changed(r.lifecycle.advance(Status::Sent, at(200)))
            }),
        )
        .await
        .expect("update")
        .expect("exists");
    assert!(!changed, "a refused transition changes nothing");
    assert!(
        store
            .update(
                "msg_nope",
                Box::new(|_: &mut MessageRecord| Change::changed(true))
            )
            .await
            .expect("update")
            .is_none()
    );
    let results = store
        .update_many(vec![
            (
                "msg_nope".to_owned(),
                Box::new(|_: &mut MessageRecord| Change::changed(true)),
            ),
            (
                "msg_0600".to_owned(),
                Box::new(|r: &mut MessageRecord| {
                    Change::changed(r.lifecycle.advance(Status::Read, at(300)))
                }),
            ),
        ])
        .await
        .expect("update");
    assert!(results[0].is_none(), "results keep the caller's order");
    assert_eq!(
        results[1].as_ref().map(|(r, c)| (r.status(), *c)),
        Some((Status::Read, true))
    );
}

/// Lists never cross accounts and filter by batch and status, with cursors and offsets.
pub async fn lists_filter_and_page(store: &dyn QueueStore) {
    let mut records = vec![];
    for i in 0..5 {
        let mut r = record(&format!("msg_0700{i}"), "acct_d", T0);
        r.batch_id = Some("batch_1".to_owned());
        records.push(r);
    }
    let batch = NewBatch {
        batch: BatchRecord {
            id: "batch_1".to_owned(),
            account: "acct_d".to_owned(),
            idempotency_key: None,
            request_hash: None,
            result: "{}".to_owned(),
            created_at: T0,
        },
        records,
    };
    store
        .insert_batch(batch, Timestamp::EPOCH)
        .await
        .expect("batch");
    store
        .insert(record("msg_0800", "acct_d", T0), Timestamp::EPOCH)
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
    f.after_id = None;
    f.offset = 4;
    let last = store.list(&f).await.expect("list");
    assert_eq!(
        last.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["msg_07004"]
    );
    store
        .update(
            "msg_0800",
            Box::new(|r: &mut MessageRecord| {
                Change::changed(r.lifecycle.advance(Status::Cancelled, at(1)))
            }),
        )
        .await
        .expect("update");
    let mut f = ListFilter::account("acct_d");
    f.status = Some(Status::Cancelled);
    let cancelled = store.list(&f).await.expect("list");
    assert_eq!(
        cancelled.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["msg_0800"]
    );
    assert!(
        store
            .list(&ListFilter::account("acct_zzz"))
            .await
            .expect("list")
            .is_empty()
    );
}

/// The summary counts an account's messages by status.
pub async fn summary_counts_by_status(store: &dyn QueueStore) {
    for id in ["msg_0900", "msg_0901", "msg_0902"] {
        store
            .insert(record(id, "acct_s", T0), Timestamp::EPOCH)
            .await
            .expect("insert");
    }
    store
        .insert(record("msg_0903", "acct_other", T0), Timestamp::EPOCH)
        .await
        .expect("insert");
    store
        .update(
            "msg_0900",
            Box::new(|r: &mut MessageRecord| {
                Change::changed(r.lifecycle.advance(Status::Cancelled, at(1)))
            }),
        )
        .await
        .expect("update");
    let s = store.summary("acct_s").await.expect("summary");
    assert_eq!(s.total, 3);
    assert_eq!(
        (s.count(Status::Queued), s.count(Status::Cancelled)),
        (2, 1)
    );
    assert_eq!(store.summary("acct_none").await.expect("summary").total, 0);
}

/// A batch stores all its messages or none, and its idempotency key replays the batch.
pub async fn batches_are_idempotent(store: &dyn QueueStore) {
    let batch = |id: &str, key: &str, n: usize, now: Timestamp| NewBatch {
        batch: BatchRecord {
            id: id.to_owned(),
            account: "acct_b".to_owned(),
            idempotency_key: Some(key.to_owned()),
            request_hash: Some("h".to_owned()),
            result: format!("{{\"batch\":\"{id}\"}}"),
            created_at: now,
        },
        records: (0..n)
            .map(|i| {
                let mut r = record(&format!("{id}_m{i}"), "acct_b", now);
                r.batch_id = Some(id.to_owned());
                r
            })
            .collect(),
    };
    assert_eq!(
        store
            .insert_batch(batch("bat_1", "bk", 3, T0), Timestamp::EPOCH)
            .await
            .expect("batch"),
        BatchInserted::Created
    );
    match store
        .insert_batch(batch("bat_2", "bk", 3, at(1)), Timestamp::EPOCH)
        .await
        .expect("batch")
    {
        BatchInserted::Existing(b) => assert_eq!(
            (b.id.as_str(), b.result.as_str()),
            ("bat_1", "{\"batch\":\"bat_1\"}")
        ),
        other => panic!("the key replays the first batch: {other:?}"),
    }
    assert!(
        store.get("bat_2_m0").await.expect("get").is_none(),
        "nothing stored on replay"
    );
    assert_eq!(store.summary("acct_b").await.expect("summary").total, 3);
    assert_eq!(
        store
            .insert_batch(batch("bat_3", "bk", 1, at(DAY + 1)), at(1))
            .await
            .expect("batch"),
        BatchInserted::Created,
        "the key expires"
    );
}

/// Webhook deliveries survive, lease, and stop once finished.
pub async fn webhook_deliveries_lease_and_finish(store: &dyn QueueStore) {
    store
        .push_webhooks(vec![delivery("whd_1", T0)])
        .await
        .expect("push");
    let mut claimed = store.claim_webhooks(T0, 10_000, 10).await.expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].kind, DeliveryKind::StatusEvent);
    assert!(
        store
            .claim_webhooks(at(1), 10_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert_eq!(
        store
            .claim_webhooks(at(10_000), 10_000, 10)
            .await
            .expect("claim")
            .len(),
        1,
        "an expired lease frees it"
    );
    claimed[0].state = WebhookState::Delivered;
    claimed[0].attempts = 1;
    claimed[0].lease_until = None;
    store.save_webhook(&claimed[0]).await.expect("save");
    assert!(
        store
            .claim_webhooks(at(30_000), 10_000, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let stored = store
        .get_webhook("whd_1")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (stored.state, stored.attempts),
        (WebhookState::Delivered, 1)
    );
}

/// Stats count pending messages and report the oldest due time.
pub async fn stats_report_pending_and_oldest_due(store: &dyn QueueStore) {
    assert_eq!(store.stats().await.expect("stats").pending, 0);
    store
        .insert(record("msg_1000", "acct_t", at(7)), Timestamp::EPOCH)
        .await
        .expect("insert");
    store
        .insert(record("msg_1001", "acct_t", at(3)), Timestamp::EPOCH)
        .await
        .expect("insert");
    store
        .push_webhooks(vec![delivery("whd_s", T0)])
        .await
        .expect("push");
    let s = store.stats().await.expect("stats");
    assert_eq!(
        (s.pending, s.oldest_due, s.webhooks_pending),
        (2, Some(at(3)), 1)
    );
}

/// Runs every check, each on a fresh store from `make`.
pub async fn conformance<S, F, Fut>(make: F)
where
    S: QueueStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    insert_get_and_count(&make().await).await;
    idempotency_is_per_account_and_expires(&make().await).await;
    concurrent_inserts_with_one_key_store_one(&make().await).await;
    claims_due_records_oldest_first(&make().await).await;
    leases_hold_until_they_expire(&make().await).await;
    admit_can_skip_or_save_with_webhooks(&make().await).await;
    claims_respect_the_limit(&make().await).await;
    concurrent_claims_never_share_a_record(&make().await).await;
    updates_are_atomic_with_their_webhooks(&make().await).await;
    lists_filter_and_page(&make().await).await;
    summary_counts_by_status(&make().await).await;
    batches_are_idempotent(&make().await).await;
    webhook_deliveries_lease_and_finish(&make().await).await;
    stats_report_pending_and_oldest_due(&make().await).await;
}

/// A fresh SQLite URL in the system's temporary directory (one file per call).
pub fn temp_sqlite_url() -> String {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    let path = std::env::temp_dir().join(format!("wa-send-test-{}.db", hex::encode(b)));
    format!("sqlite://{}", path.display())
}

/// A PostgreSQL URL on a fresh schema of the database at `base_url` (each test sees empty
/// tables), or `None` when `WA_TEST_POSTGRES_URL` is unset — then it says so on stderr, and
/// panics instead when `WA_REQUIRE_POSTGRES` is set (CI).
///
/// # Panics
/// When the schema cannot be created, or the database is required but not configured.
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub async fn fresh_postgres_url() -> Option<String> {
    let Ok(base) = std::env::var("WA_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("WA_REQUIRE_POSTGRES").is_none(),
            "WA_REQUIRE_POSTGRES is set but WA_TEST_POSTGRES_URL is not"
        );
        eprintln!("SKIPPED: WA_TEST_POSTGRES_URL is not set, so this PostgreSQL test did not run");
        return None;
    };
    let mut b = [0u8; 6];
    let _ = getrandom::fill(&mut b);
    let schema = format!("t_{}", hex::encode(b));
    let db = super::Database::open(&base)
        .await
        .expect("PostgreSQL reachable");
    let create = format!("CREATE SCHEMA {schema}");
    db.write(move |c| Box::pin(async move { c.execute(&create, &[]).await.map(drop) }))
        .await
        .expect("create schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}

/// One `#[tokio::test]` per behaviour of the [`QueueStore`] conformance suite, each on a
/// fresh store from `$setup` (an `async` block yielding `Option<store>`; `None` skips).
///
/// ```ignore
/// mod sqlite {
///     wa_send::queue_store_tests!(async {
///         Some(wa_send::queue::SqlStore::open_url(&wa_send::queue::testing::temp_sqlite_url()).await.unwrap())
///     });
/// }
/// ```
#[macro_export]
macro_rules! queue_store_tests {
    ($setup:expr) => {
        $crate::queue_store_tests!(@each $setup;
            insert_get_and_count,
            idempotency_is_per_account_and_expires,
            concurrent_inserts_with_one_key_store_one,
            claims_due_records_oldest_first,
            leases_hold_until_they_expire,
            admit_can_skip_or_save_with_webhooks,
            claims_respect_the_limit,
            concurrent_claims_never_share_a_record,
            updates_are_atomic_with_their_webhooks,
            lists_filter_and_page,
            summary_counts_by_status,
            batches_are_idempotent,
            webhook_deliveries_lease_and_finish,
            stats_report_pending_and_oldest_due
        );
    };
    (@each $setup:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(store) = $setup.await {
                    $crate::queue::testing::$name(&store).await;
                }
            }
        )*
    };
}
