//! A six-hour throttle storm loses nothing.

use super::*;

/// Answers 130429 (throughput reached) until the storm ends, then accepts everything.
#[derive(Debug)]
struct Storm {
    clock: Arc<ManualClock>,
    until: Timestamp,
    calls: std::sync::atomic::AtomicU64,
}

#[wa_send::async_trait]
impl wa_send::DeliveryBackend for Storm {
    fn name(&self) -> &'static str {
        "storm"
    }
    async fn send(&self, _: &Outbound) -> Result<wa_send::Receipt, DeliveryError> {
        let n = self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if wa_send::Clock::timestamp(&*self.clock) < self.until {
            return Err(DeliveryError::from_meta(
                "storm",
                400,
                130429,
                "throughput",
                None,
            ));
        }
        Ok(wa_send::Receipt::new("storm", format!("wamid.storm{n}")))
    }
    async fn verify_credentials(&self) -> Result<wa_send::CredentialInfo, DeliveryError> {
        Ok(wa_send::CredentialInfo::new("storm", "acct"))
    }
}

/// A six-hour throttle storm on the default retry policy: every message is sent once it
/// ends, and no throttled answer spent one of a message's attempts.
#[tokio::test]
async fn every_message_survives_a_six_hour_throttle_storm() {
    let clock = Arc::new(ManualClock::at_unix(T0));
    let storm = Arc::new(Storm {
        clock: clock.clone(),
        until: ms(MS0 + 6 * 3600 * 1000),
        calls: Default::default(),
    });
    let d = Arc::new(
        Dispatcher::new(
            Arc::new(MemoryStore::new()),
            Arc::new(SingleBackend(storm.clone())),
            clock.clone(),
            config(),
        )
        .unwrap(),
    );
    let mut ids = Vec::new();
    for i in 0..50 {
        ids.push(
            d.enqueue("acct", msg(&format!("m{i}")))
                .await
                .unwrap()
                .record
                .id,
        );
    }
    let mut steps = 0;
    loop {
        while d.run_once().await.unwrap() > 0 {}
        let mut left = 0;
        for id in &ids {
            if d.get("acct", id).await.unwrap().status() != Status::Sent {
                left += 1;
            }
        }
        if left == 0 {
            break;
        }
        steps += 1;
        assert!(
            steps < 3 * 24 * 60,
            "{left} messages still unsent after {steps} minutes"
        );
        clock.advance(Duration::from_secs(60));
    }
    let elapsed = wa_send::Clock::unix_seconds(&*clock) - T0;
    assert!(elapsed >= 6 * 3600, "sent during the storm");
    for id in &ids {
        let m = d.get("acct", id).await.unwrap();
        assert_eq!(m.attempts, 1, "throttles are not attempts");
    }
    println!(
        "throttle storm: 50/50 sent {} min after it began ({} calls to the backend)",
        elapsed / 60,
        storm.calls.load(std::sync::atomic::Ordering::Relaxed)
    );
}
