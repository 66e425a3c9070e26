//! Delivering stored status webhooks: sign, check the target, POST, retry with backoff.

use std::time::Duration;

use super::{
    Dispatcher, SendError, lock,
    pacing::{backoff, splitmix},
};
use crate::outbound::{check_target, sign};
use crate::queue::{WebhookDelivery, WebhookState};

const LEASE_MS: u64 = 60_000;
const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_RETRY_MS: u64 = 10 * 3_600_000;

pub(super) async fn deliver_once(d: &Dispatcher) -> Result<usize, SendError> {
    let now = d.now();
    let due = d.store.claim_webhooks(now, LEASE_MS, 32).await?;
    let n = due.len();
    for mut delivery in due {
        let outcome = attempt(d, &delivery, now).await;
        let done = d.now().max(now);
        delivery.attempts += 1;
        delivery.lease_until = None;
        match outcome {
            Ok(()) => {
                delivery.state = WebhookState::Delivered;
                delivery.last_error = None;
            }
            Err((error, retry)) => {
                delivery.last_error = Some(error);
                let max = delivery
                    .max_attempts
                    .unwrap_or(d.config.webhook_max_attempts);
                if retry && delivery.attempts < max {
                    let random = splitmix(&mut lock(&d.jitter));
                    delivery.next_attempt_at = done
                        + backoff(
                            delivery.attempts,
                            d.config.webhook_base_backoff_ms,
                            MAX_RETRY_MS,
                            random,
                        );
                } else {
                    delivery.state = WebhookState::Failed;
                }
            }
        }
        d.store.save_webhook(&delivery).await?;
        if delivery.state != WebhookState::Pending
            && let Some(t) = &d.targets
        {
            t.delivery_finished(&delivery);
        }
    }
    Ok(n)
}

/// One POST. `Err((why, retry?))`.
async fn attempt(
    d: &Dispatcher,
    delivery: &WebhookDelivery,
    now: u64,
) -> Result<(), (String, bool)> {
    let secret = d
        .targets
        .as_ref()
        .and_then(|t| t.secret_for(&delivery.account))
        .ok_or(("the account has no signing secret".to_owned(), false))?;
    let (host, addrs) = check_target(&delivery.url, d.config.allow_private_webhook_targets)
        .await
        .map_err(|e| (e.to_string(), false))?;
    let timestamp = now / 1000;
    let signature = sign(&secret, &delivery.id, timestamp, delivery.body.as_bytes())
        .map_err(|e| (e.to_string(), false))?;
    let mut builder = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    if host.parse::<std::net::IpAddr>().is_err() {
        // Connect only to the addresses that were checked.
        builder = builder.resolve_to_addrs(&host, &addrs);
    }
    let client = builder.build().map_err(|e| (e.to_string(), true))?;
    let resp = client
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.body.clone())
        .send()
        .await
        .map_err(|e| (e.without_url().to_string(), true))?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err((format!("HTTP {}", resp.status().as_u16()), true))
    }
}
