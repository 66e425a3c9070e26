//! Every store passes the same conformance suite.

use wa_send::queue::MemoryStore;
use wa_send::queue::testing::conformance;

#[tokio::test]
async fn memory_store() {
    conformance(&MemoryStore::new()).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.db");
    conformance(&wa_send::queue::SqliteStore::open(&path).await.unwrap()).await;
    // Reopening keeps everything (migrations are idempotent).
    let store = wa_send::queue::SqliteStore::open(&path).await.unwrap();
    use wa_send::queue::QueueStore;
    assert!(store.get("msg_0101").await.unwrap().is_some());
}

/// Runs when `WA_TEST_POSTGRES_URL` is set (`.ci/run` starts a local PostgreSQL and sets it).
#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_store() {
    let Ok(url) = std::env::var("WA_TEST_POSTGRES_URL") else {
        eprintln!("WA_TEST_POSTGRES_URL not set: PostgresStore conformance skipped");
        return;
    };
    let store = wa_send::queue::PostgresStore::connect(&url).await.unwrap();
    store.truncate().await.unwrap();
    conformance(&store).await;
}
