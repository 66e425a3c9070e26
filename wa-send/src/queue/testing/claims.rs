//! Claims and leases: which records a claim returns, for how long, and to whom.

use super::*;

/// Claims take due records, oldest first, lease them, and skip scheduled ones.
pub async fn claims_due_records_oldest_first(store: &dyn QueueStore) {
    let later = MessageRecord::new(
        "msg_0100".to_owned(),
        "acct_c".to_owned(),
        outbound("later"),
        Some(at(60_000)),
        T0,
    );
    assert_eq!(later.status(), Status::Scheduled);
    store.insert(later, Timestamp::EPOCH).await.expect("insert");
    for (id, t) in [("msg_0101", 10), ("msg_0102", 5)] {
        store
            .insert(record(id, "acct_c", at(t)), Timestamp::EPOCH)
            .await
            .expect("insert");
    }
    let claimed = claim_all(store, at(20), 100_000).await;
    let ids: Vec<&str> = claimed.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["msg_0102", "msg_0101"],
        "oldest first, scheduled not yet"
    );
    assert!(claimed.iter().all(|r| r.status() == Status::Processing
        && r.lease_until == Some(at(20 + 100_000))
        && r.first_attempt_at == Some(at(20))));
    let stored = store.get("msg_0101").await.expect("get").expect("exists");
    assert_eq!(stored.status(), Status::Processing, "the lease is stored");
    let scheduled = ids_of(store, at(60_000), 30_000).await;
    assert_eq!(scheduled, ["msg_0100"]);
    let m = store.get("msg_0100").await.expect("get").expect("exists");
    assert_eq!(m.lifecycle.timeline.len(), 2, "scheduled -> processing");
}

/// A leased record is not handed out again before its lease ends; after it, the claimer
/// sees it (still `processing`) and decides.
pub async fn leases_hold_until_they_expire(store: &dyn QueueStore) {
    store
        .insert(record("msg_0200", "acct_c", T0), Timestamp::EPOCH)
        .await
        .expect("insert");
    assert_eq!(ids_of(store, T0, 30_000).await, ["msg_0200"]);
    assert!(
        ids_of(store, at(29_999), 30_000).await.is_empty(),
        "leased records are not handed out twice"
    );
    let again = store
        .claim(
            at(30_000),
            30_000,
            10,
            Box::new(|r| {
                assert_eq!(
                    r.status(),
                    Status::Processing,
                    "an expired lease keeps its status"
                );
                Admission::Send
            }),
        )
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].lease_until, Some(at(60_000)));
}

/// `admit` may leave a record alone, or change it and store webhooks instead of sending.
pub async fn admit_can_skip_or_save_with_webhooks(store: &dyn QueueStore) {
    for id in ["msg_0300", "msg_0301", "msg_0302"] {
        store
            .insert(record(id, "acct_e", T0), Timestamp::EPOCH)
            .await
            .expect("insert");
    }
    let claimed = store
        .claim(
            T0,
            30_000,
            10,
            Box::new(|r| match r.id.as_str() {
                "msg_0300" => Admission::Skip,
                "msg_0301" => {
                    r.next_attempt_at = at(5_000);
                    Admission::Save(vec![delivery("whd_save", T0)])
                }
                _ => Admission::Send,
            }),
        )
        .await
        .expect("claim");
    assert_eq!(
        claimed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["msg_0302"]
    );
    let skipped = store.get("msg_0300").await.expect("get").expect("exists");
    assert_eq!(skipped, record("msg_0300", "acct_e", T0), "untouched");
    let saved = store.get("msg_0301").await.expect("get").expect("exists");
    assert_eq!(
        (saved.status(), saved.next_attempt_at),
        (Status::Queued, at(5_000))
    );
    assert!(store.get_webhook("whd_save").await.expect("get").is_some());
    assert_eq!(ids_of(store, at(4_999), 30_000).await, ["msg_0300"]);
    assert_eq!(ids_of(store, at(5_000), 30_000).await, ["msg_0301"]);
}

/// A claim takes at most `limit` records.
pub async fn claims_respect_the_limit(store: &dyn QueueStore) {
    for i in 0..10 {
        store
            .insert(
                record(&format!("msg_04{i:02}"), "acct_f", T0),
                Timestamp::EPOCH,
            )
            .await
            .expect("insert");
    }
    let first = store
        .claim(T0, 30_000, 3, Box::new(|_| Admission::Send))
        .await
        .expect("claim");
    assert_eq!(first.len(), 3);
    assert_eq!(claim_all(store, T0, 30_000).await.len(), 7);
}

/// Concurrent claimers never get the same record.
pub async fn concurrent_claims_never_share_a_record(store: &dyn QueueStore) {
    for i in 0..200 {
        store
            .insert(
                record(&format!("msg_5{i:03}"), "acct_g", T0),
                Timestamp::EPOCH,
            )
            .await
            .expect("insert");
    }
    let mut all = Vec::new();
    for _ in 0..10 {
        let claims: Vec<_> = (0..8)
            .map(|_| Box::pin(store.claim(T0, 60_000, 7, Box::new(|_| Admission::Send))))
            .collect();
        for r in join_all(claims).await {
            all.extend(r.expect("claim").into_iter().map(|m| m.id));
        }
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "no record claimed twice");
    assert_eq!(total, 200);
}

/// Polls every future on this task until all are done (they borrow the store, so they
/// cannot be spawned).
async fn join_all<F: Future + Unpin>(mut futures: Vec<F>) -> Vec<F::Output> {
    let mut out: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futures.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match std::pin::Pin::new(f).poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
