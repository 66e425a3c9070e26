//! What happens after a code is issued: the user's message settles it, the customer's
//! callback is delivered (signed, retried, only 200/204 counts), its outcome decides the
//! user's reply, and codes that expire unused are settled by a sweep that posts their
//! `expired` callback.

use std::sync::Arc;

use wa_send::queue::{DeliveryKind, WebhookDelivery, WebhookState};
use wa_send::{Content, EnqueueRequest, Outbound, Recipient};
use wa_validate::Phone;
use wa_verify::{CallbackPayload, Outcome, Status, VerificationStore};

use super::verifier_for;
use crate::error::{ApiError, SendApiError};
use crate::send::SendState;

/// Tries a validated verification's callback gets before the user is told it failed.
const VALIDATED_CALLBACK_ATTEMPTS: u32 = 3;
/// Expiries settled per sweep.
const SWEEP_BATCH: usize = 200;

/// The sender of an inbound message: its `wa_id` as WhatsApp reports it (authoritative,
/// whatever libphonenumber thinks of its range), else its BSUID.
fn sender(wa_id: Option<&str>, bsuid: Option<&str>) -> Result<Recipient, &'static str> {
    match (wa_id, bsuid) {
        (Some(wa_id), _) => Phone::from_wa_id(wa_id)
            .map(Recipient::Phone)
            .map_err(|e| e.code()),
        (None, Some(bsuid)) => Recipient::parse(bsuid).map_err(|e| e.code()),
        (None, None) => Err("sender_missing"),
    }
}

/// The country code of a `wa_id`, the most of a number a log line may carry.
fn country_of(wa_id: Option<&str>) -> String {
    wa_id.and_then(|d| Phone::from_wa_id(d).ok()).map_or_else(
        || "unknown".to_owned(),
        |p| format!("+{}", p.country_code()),
    )
}

/// An inbound WhatsApp message: a code for one of the receiving account's verifications.
///
/// # Errors
/// A store failure (the webhook is answered 500 so Meta redelivers it).
pub async fn inbound(
    send: &Arc<SendState>,
    m: &wa_send::InboundMessage,
) -> Result<(), SendApiError> {
    let (Some(pnid), Some(text)) = (m.phone_number_id.as_deref(), m.text()) else {
        return Ok(());
    };
    let Some(account) = send.accounts.by_phone_number_id(pnid).await? else {
        tracing::info!(
            reason = "phone_number_id_unclaimed",
            "inbound message ignored: no account has verified this phone number id"
        );
        return Ok(());
    };
    let Some(from) = accepted_sender(m) else {
        return Ok(());
    };
    let verifier = match verifier_for(send, &account) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(
                reason = e.code,
                "inbound message ignored: no business number"
            );
            return Ok(());
        }
    };
    let msg = wa_verify::Inbound {
        from,
        profile_name: m.profile_name.clone(),
        text: text.to_owned(),
    };
    let outcome = verifier.handle_inbound(&account.id, &msg).await?;
    tracing::info!(outcome = outcome.kind(), "verification message");
    crate::metrics::verification(outcome.kind());
    answer(send, &account.id, m, msg.from, &outcome).await
}

/// The sender of `m`, or `None` (logged with the reason and the country code only).
fn accepted_sender(m: &wa_send::InboundMessage) -> Option<Recipient> {
    match sender(m.from.as_deref(), m.from_user_id.as_deref()) {
        Ok(from) => Some(from),
        Err(reason) => {
            tracing::warn!(
                reason,
                country = %country_of(m.from.as_deref()),
                "inbound message ignored: its sender is neither a wa_id nor a BSUID"
            );
            None
        }
    }
}

/// What follows an outcome: with a callback the reply waits for its result
/// (`response_message` when delivered, `failure_message` when given up); otherwise the
/// reply, if any, goes at once.
async fn answer(
    send: &SendState,
    account: &str,
    m: &wa_send::InboundMessage,
    from: Recipient,
    outcome: &Outcome,
) -> Result<(), SendApiError> {
    if let Outcome::Validated {
        callback: Some(cb), ..
    } = outcome
    {
        let attempts = Some(VALIDATED_CALLBACK_ATTEMPTS);
        return queue_callback(send, account, &cb.url, &cb.payload, attempts).await;
    }
    if let Some(reply) = outcome.reply() {
        let msg = Outbound::new(from, Content::text(reply)).reply_to(m.id.clone());
        send.dispatcher
            .enqueue(account, EnqueueRequest::new(msg))
            .await?;
    }
    Ok(())
}

/// Queues a signed callback delivery (the dispatcher's webhook deliverer sends it with the
/// account's callback secret; success is 200 or 204).
async fn queue_callback(
    send: &SendState,
    account: &str,
    url: &str,
    payload: &CallbackPayload,
    max_attempts: Option<u32>,
) -> Result<(), SendApiError> {
    let body = serde_json::to_string(payload)
        .map_err(|e| ApiError::new("internal_error", e.to_string()))?;
    let now = send.now();
    let mut d = WebhookDelivery::new(
        wa_send::ids::prefixed("cb", now),
        account,
        DeliveryKind::Callback,
        url,
        body,
        now,
    );
    d.reference = Some(payload.id.clone());
    d.max_attempts = max_attempts;
    send.dispatcher.store().push_webhooks(vec![d]).await?;
    Ok(())
}

/// Settles verifications whose code expired unused and queues their `expired`
/// callbacks. Each is settled exactly once, whichever replica sweeps.
///
/// # Errors
/// A store failure.
pub async fn sweep_expired(send: &SendState) -> Result<usize, SendApiError> {
    let store = send.verifications.as_ref();
    let expired = wa_verify::expire_due(store, send.now(), SWEEP_BATCH).await?;
    for v in &expired {
        if let Some(url) = &v.callback_url {
            queue_callback(send, &v.app_id, url, &v.callback_payload(), None).await?;
        }
    }
    Ok(expired.len())
}

/// A callback's outcome decides the user's reply (WhatAuth's behaviour): delivered →
/// `response_message`; given up → the verification fails and the user gets
/// `failure_message`. `expired` callbacks have no one to reply to.
pub async fn callback_finished(send: Arc<SendState>, d: WebhookDelivery) {
    if d.kind != DeliveryKind::Callback {
        return;
    }
    let Some(id) = d.reference.as_deref() else {
        return;
    };
    let Ok(Some(v)) = send.verifications.get(id).await else {
        return;
    };
    if v.status != Status::Validated {
        return;
    }
    let Ok(account) = send.accounts.get(&d.account).await else {
        return;
    };
    let Some(account) = account else { return };
    let Ok(verifier) = verifier_for(&send, &account) else {
        return;
    };
    let reply = if d.state == WebhookState::Delivered {
        Some((v.phone_number.clone(), v.messages.response.clone()))
    } else {
        let error = d
            .last_error
            .clone()
            .unwrap_or_else(|| "callback failed".to_owned());
        verifier
            .callback_failed(id, &error)
            .await
            .ok()
            .map(|(v, text)| (v.phone_number, text))
    };
    if let Some((Some(to), text)) = reply {
        let msg = Outbound::new(to, Content::text(text));
        if let Err(e) = send
            .dispatcher
            .enqueue(&d.account, EnqueueRequest::new(msg))
            .await
        {
            tracing::warn!(code = e.code(), "could not queue the verification reply");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wa_ids_are_trusted_and_drops_say_why() {
        // WhatAuth's example sender is outside libphonenumber's ranges, but WhatsApp says so.
        let from = sender(Some("56911111111"), None).unwrap();
        assert_eq!(from.to_string(), "+56911111111");
        let bsuid = sender(None, Some("US.13491208655302741918")).unwrap();
        assert_eq!(bsuid.to_string(), "US.13491208655302741918");
        assert_eq!(sender(Some("12"), None).unwrap_err(), "phone_too_short");
        assert_eq!(sender(Some("abc"), None).unwrap_err(), "phone_not_a_number");
        assert_eq!(sender(None, None).unwrap_err(), "sender_missing");
        // A log line carries the country code only.
        assert_eq!(country_of(Some("56911111111")), "+56");
        assert_eq!(country_of(Some("abc")), "unknown");
    }
}
