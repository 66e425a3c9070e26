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

mod flow;
mod isolation;
mod sending;
mod statuses;
mod storm;
