//! Every store passes the same conformance suite: one named test per behaviour.

mod memory {
    wa_send::queue_store_tests!(async { Some(wa_send::queue::MemoryStore::new()) });
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use wa_send::queue::{QueueStore, SqlStore, testing};

    wa_send::queue_store_tests!(async {
        Some(
            SqlStore::open_url(&testing::temp_sqlite_url())
                .await
                .unwrap(),
        )
    });

    #[tokio::test]
    async fn reopening_keeps_everything() {
        let url = testing::temp_sqlite_url();
        testing::insert_get_and_count(&SqlStore::open_url(&url).await.unwrap()).await;
        // Migrations are idempotent and the data is on disk.
        let store = SqlStore::open_url(&url).await.unwrap();
        assert!(store.get("msg_0001").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn the_claim_query_reads_the_due_index_without_sorting() {
        let store = SqlStore::open_url(&testing::temp_sqlite_url())
            .await
            .unwrap();
        let plan = store
            .database()
            .read(|c| {
                Box::pin(async move {
                    c.fetch_all(
                        "EXPLAIN QUERY PLAN SELECT id FROM wa_messages WHERE due_at <= $1 ORDER BY due_at LIMIT $2",
                        &[1i64.into(), 10i64.into()],
                    )
                    .await
                })
            })
            .await
            .unwrap();
        let text: Vec<String> = plan.iter().map(|r| r.text(3).unwrap()).collect();
        assert!(
            text.iter().any(|t| t.contains("wa_messages_due")),
            "{text:?}"
        );
        assert!(
            !text.iter().any(|t| t.contains("TEMP B-TREE")),
            "no sort: {text:?}"
        );
    }
}

/// Runs when `WA_TEST_POSTGRES_URL` is set (`.ci/run` starts a local PostgreSQL, sets it and
/// `WA_REQUIRE_POSTGRES`, so CI fails instead of skipping).
#[cfg(feature = "postgres")]
mod postgres {
    use wa_send::queue::{SqlStore, testing};

    wa_send::queue_store_tests!(async {
        match testing::fresh_postgres_url().await {
            Some(url) => Some(SqlStore::open_url(&url).await.unwrap()),
            None => None,
        }
    });
}
