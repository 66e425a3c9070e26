//! The conformance suite every [`VerificationStore`] must pass: one async function per
//! behaviour, and [`verification_store_tests!`](crate::verification_store_tests) to turn
//! them into one named test each (it expands to `#[tokio::test]`s, so the calling crate
//! needs `tokio` as a dev-dependency; the functions themselves need no runtime).
//!
//! ```
//! # pollster::block_on(async {
//! wa_verify::testing::updates_are_optimistic(&wa_verify::MemoryStore::new()).await;
//! # });
//! ```
//!
//! In a test file:
//!
//! ```ignore
//! mod memory {
//!     wa_verify::verification_store_tests!(async { Some(wa_verify::MemoryStore::new()) });
//! }
//! ```

use wa_validate::{Phone, Recipient};

use crate::model::{Channel, Messages, Status, Timestamp, Verification};
use crate::store::{StoreError, VerificationStore};

const T0: Timestamp = Timestamp::from_millis(1_750_000_000_000);
const MINUTE: u64 = 60_000;

fn at(ms: u64) -> Timestamp {
    T0.plus_millis(ms)
}

/// A pending verification with every field set.
fn sample(id: &str, app: &str, code: &str, expires_in: u64) -> Verification {
    Verification {
        id: id.to_owned(),
        app_id: app.to_owned(),
        code: code.to_owned(),
        status: Status::Requested,
        channel: Channel::Whatsapp,
        qr: true,
        requested_at: T0,
        expires_at: at(expires_in),
        validated_at: None,
        phone_number: None,
        profile_name: None,
        authorized_numbers: vec![Phone::parse("+14155552671").expect("valid test number")],
        callback_url: Some("https://hooks.example/verify?session=1".into()),
        messages: Messages {
            link: "Just tap \"send\" ✅".into(),
            expiration: "expired".into(),
            failure: "failed".into(),
            response: "welcome".into(),
        },
        attempts: 0,
        error: None,
        revision: 0,
    }
}

async fn must_get<S: VerificationStore + ?Sized>(store: &S, id: &str) -> Verification {
    store
        .get(id)
        .await
        .expect("get")
        .unwrap_or_else(|| panic!("{id} is stored"))
}

fn next(mut v: Verification) -> Verification {
    v.revision += 1;
    v
}

/// What goes in comes out, field for field, including senders libphonenumber rejects.
pub async fn insert_and_get_round_trip<S: VerificationStore + ?Sized>(store: &S) {
    let v = sample("v-1", "app-a", "0a1b2c3d4e", 5 * MINUTE);
    store.insert(&v).await.expect("insert");
    assert_eq!(must_get(store, "v-1").await, v);
    assert!(store.get("v-unknown").await.expect("get").is_none());

    // Validated by a wa_id outside the number ranges, with a profile name and an error.
    let mut done = next(v.clone());
    done.status = Status::Validated;
    done.validated_at = Some(at(MINUTE));
    done.phone_number = Some(Recipient::Phone(
        Phone::from_wa_id("56911111111").expect("a plausible wa_id"),
    ));
    done.profile_name = Some("Some Folk".into());
    done.error = Some("callback answered 500".into());
    assert!(store.update(&done).await.expect("update"));
    assert_eq!(must_get(store, "v-1").await, done);

    let mut bsuid = sample("v-2", "app-a", "ffffffffff", 5 * MINUTE);
    bsuid.phone_number = Some(Recipient::parse("US.13491208655302741918").expect("bsuid"));
    bsuid.channel = Channel::Sms;
    bsuid.callback_url = None;
    bsuid.authorized_numbers.clear();
    store.insert(&bsuid).await.expect("insert");
    assert_eq!(must_get(store, "v-2").await, bsuid);
}

/// A code is unique among one application's pending verifications; another application,
/// or a settled verification, does not block it; lookups find the most recent.
pub async fn codes_are_unique_among_pending_per_app<S: VerificationStore + ?Sized>(store: &S) {
    let first = sample("c-1", "app-a", "abcabcabca", 5 * MINUTE);
    store.insert(&first).await.expect("insert");
    let clash = sample("c-2", "app-a", "abcabcabca", 5 * MINUTE);
    assert_eq!(store.insert(&clash).await, Err(StoreError::CodeInUse));
    assert!(store.get("c-2").await.expect("get").is_none());
    store
        .insert(&sample("c-3", "app-b", "abcabcabca", 5 * MINUTE))
        .await
        .expect("another app may use the code");
    let found = store
        .find_by_code("app-a", "abcabcabca")
        .await
        .expect("find");
    assert_eq!(found.map(|v| v.id), Some("c-1".to_owned()));
    assert!(
        store
            .find_by_code("app-c", "abcabcabca")
            .await
            .expect("find")
            .is_none()
    );

    let mut settled = next(first);
    settled.status = Status::Failed;
    assert!(store.update(&settled).await.expect("update"));
    store
        .insert(&sample("c-4", "app-a", "abcabcabca", 5 * MINUTE))
        .await
        .expect("a settled code can be drawn again");
    let found = store
        .find_by_code("app-a", "abcabcabca")
        .await
        .expect("find");
    assert_eq!(found.map(|v| v.id), Some("c-4".to_owned()));
}

/// Of two writers that read the same revision, exactly one wins.
pub async fn updates_are_optimistic<S: VerificationStore + ?Sized>(store: &S) {
    let v = sample("u-1", "app-a", "1111111111", 5 * MINUTE);
    store.insert(&v).await.expect("insert");
    let mut validated = next(must_get(store, "u-1").await);
    validated.status = Status::Validated;
    let mut expired = next(must_get(store, "u-1").await);
    expired.status = Status::Expired;
    assert!(store.update(&validated).await.expect("first writer"));
    assert!(!store.update(&expired).await.expect("second writer"));
    assert_eq!(must_get(store, "u-1").await.status, Status::Validated);
    // Skipping a revision, or writing the same revision again, is refused too.
    let mut skip = must_get(store, "u-1").await;
    skip.revision += 2;
    assert!(!store.update(&skip).await.expect("update"));
    assert!(!store.update(&validated).await.expect("update"));
    let ghost = next(sample("u-none", "app-a", "2222222222", MINUTE));
    assert!(
        !store
            .update(&ghost)
            .await
            .expect("unknown ids are not created")
    );
    assert!(store.get("u-none").await.expect("get").is_none());
}

/// Only `requested` verifications past their expiry are due, earliest first, up to the
/// limit.
pub async fn due_for_expiry_lists_pending_past_expiry<S: VerificationStore + ?Sized>(store: &S) {
    for (id, code, expires) in [
        ("e-3", "3333333333", 3 * MINUTE),
        ("e-1", "1111111111", MINUTE),
        ("e-2", "2222222222", 2 * MINUTE),
        ("e-9", "9999999999", 9 * MINUTE),
    ] {
        store
            .insert(&sample(id, "app-a", code, expires))
            .await
            .expect("insert");
    }
    let mut done = next(must_get(store, "e-2").await);
    done.status = Status::Validated;
    assert!(store.update(&done).await.expect("update"));
    let ids = |vs: Vec<Verification>| vs.into_iter().map(|v| v.id).collect::<Vec<_>>();
    let due = store.due_for_expiry(at(5 * MINUTE), 10).await.expect("due");
    assert_eq!(ids(due), ["e-1", "e-3"]);
    let due = store.due_for_expiry(at(5 * MINUTE), 1).await.expect("due");
    assert_eq!(ids(due), ["e-1"]);
    let due = store.due_for_expiry(at(MINUTE), 10).await.expect("due");
    assert_eq!(ids(due), ["e-1"], "due at exactly the expiry");
    assert!(
        store
            .due_for_expiry(at(MINUTE - 1), 10)
            .await
            .expect("due")
            .is_empty()
    );
}

/// Event counters count per key since a time and report the earliest.
pub async fn events_count_per_key_in_a_window<S: VerificationStore + ?Sized>(store: &S) {
    for ms in [0, 1_000, 2_000] {
        store
            .record_event("phone:a:+1", at(ms))
            .await
            .expect("record");
    }
    store
        .record_event("phone:a:+2", at(0))
        .await
        .expect("record");
    assert_eq!(
        store.count_events("phone:a:+1", T0).await.expect("count"),
        (3, Some(T0))
    );
    assert_eq!(
        store
            .count_events("phone:a:+1", at(1_000))
            .await
            .expect("count"),
        (2, Some(at(1_000)))
    );
    assert_eq!(
        store
            .count_events("phone:a:+1", at(2_001))
            .await
            .expect("count"),
        (0, None)
    );
    assert_eq!(
        store.count_events("phone:b:+1", T0).await.expect("count"),
        (0, None)
    );
}

/// Pruning forgets old events and settled verifications, never pending ones.
pub async fn prune_keeps_what_is_still_needed<S: VerificationStore + ?Sized>(store: &S) {
    store.record_event("k", at(0)).await.expect("record");
    store
        .record_event("k", at(10 * MINUTE))
        .await
        .expect("record");
    let old = sample("p-1", "app-a", "1212121212", MINUTE);
    let pending = sample("p-2", "app-a", "3434343434", MINUTE);
    store.insert(&old).await.expect("insert");
    store.insert(&pending).await.expect("insert");
    let mut settled = next(old);
    settled.status = Status::Expired;
    assert!(store.update(&settled).await.expect("update"));

    let gone = store.prune(at(5 * MINUTE)).await.expect("prune");
    assert_eq!(gone, 2, "one event and one settled verification");
    assert_eq!(
        store.count_events("k", T0).await.expect("count"),
        (1, Some(at(10 * MINUTE)))
    );
    assert!(store.get("p-1").await.expect("get").is_none());
    assert_eq!(must_get(store, "p-2").await, pending);
}

/// Expands to one `#[tokio::test]` per behaviour of [`crate::testing`]. `$setup` is an
/// async expression yielding `Option<store>` (`None` skips, e.g. when no database is
/// configured).
#[macro_export]
macro_rules! verification_store_tests {
    ($setup:expr) => {
        $crate::verification_store_tests!(@each $setup;
            insert_and_get_round_trip,
            codes_are_unique_among_pending_per_app,
            updates_are_optimistic,
            due_for_expiry_lists_pending_past_expiry,
            events_count_per_key_in_a_window,
            prune_keeps_what_is_still_needed
        );
    };
    (@each $setup:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(store) = $setup.await {
                    $crate::testing::$name(&store).await;
                }
            }
        )*
    };
}
