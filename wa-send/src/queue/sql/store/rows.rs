//! The statements and the row ↔ record mapping [`SqlStore`](super::SqlStore) is written
//! with: column lists, queries, JSON columns, and the read/write helpers on one connection.

use super::*;

pub(super) const SELECT_MESSAGE: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM wa_messages WHERE id = $1"
);
pub(super) const CLAIM: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM wa_messages WHERE due_at <= $1 ORDER BY due_at LIMIT $2"
);
pub(super) const CLAIM_LOCKED: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM wa_messages WHERE due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED"
);
pub(super) const INSERT_MESSAGE: &str = concat!(
    "INSERT INTO wa_messages (",
    message_columns!(),
    ", due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
     $17, $18, $19) ON CONFLICT (account, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING"
);
pub(super) const UPDATE_MESSAGE: &str = "UPDATE wa_messages SET status = $2, due_at = $3, next_attempt_at = $4, \
     lease_until = $5, attempts = $6, throttles = $7, first_attempt_at = $8, provider_message_id = $9, \
     backend = $10, updated_at = $11, lifecycle = $12 WHERE id = $1";
pub(super) const LIST: &str = concat!(
    "SELECT ",
    message_columns!(),
    " FROM wa_messages WHERE account = $1 AND ($2 IS NULL OR batch_id = $2) \
     AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR id > $4) ORDER BY id LIMIT $5 OFFSET $6"
);
pub(super) const INSERT_WEBHOOK: &str = concat!(
    "INSERT INTO wa_webhook_deliveries (",
    webhook_columns!(),
    ", due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
);
pub(super) const UPDATE_WEBHOOK: &str = "UPDATE wa_webhook_deliveries SET state = $2, due_at = $3, \
     next_attempt_at = $4, lease_until = $5, attempts = $6, last_error = $7 WHERE id = $1";
pub(super) const CLAIM_WEBHOOKS: &str = concat!(
    "SELECT ",
    webhook_columns!(),
    " FROM wa_webhook_deliveries WHERE due_at <= $1 ORDER BY due_at LIMIT $2"
);
pub(super) const CLAIM_WEBHOOKS_LOCKED: &str = concat!(
    "SELECT ",
    webhook_columns!(),
    " FROM wa_webhook_deliveries WHERE due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED"
);

pub(super) fn corrupt(id: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        id: id.to_owned(),
        detail: e.to_string(),
    }
}

pub(super) fn json<T: serde::Serialize>(id: &str, v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| corrupt(id, e))
}

pub(super) fn record_from(row: &Row) -> Result<MessageRecord, StoreError> {
    let id = row.text(0)?;
    let outbound = serde_json::from_str(&row.text(16)?).map_err(|e| corrupt(&id, e))?;
    let lifecycle = serde_json::from_str(&row.text(17)?).map_err(|e| corrupt(&id, e))?;
    Ok(MessageRecord {
        account: row.text(1)?,
        batch_id: row.opt_text(2)?,
        outbound,
        lifecycle,
        attempts: u32::try_from(row.uint(6)?).unwrap_or(u32::MAX),
        throttles: u32::try_from(row.uint(7)?).unwrap_or(u32::MAX),
        next_attempt_at: row.ts(4)?,
        lease_until: row.opt_ts(5)?,
        first_attempt_at: row.opt_ts(8)?,
        provider_message_id: row.opt_text(9)?,
        backend: row.opt_text(10)?,
        idempotency_key: row.opt_text(11)?,
        request_hash: row.opt_text(12)?,
        send_at: row.opt_ts(13)?,
        created_at: row.ts(14)?,
        updated_at: row.ts(15)?,
        id,
    })
}

pub(super) fn webhook_from(row: &Row) -> Result<WebhookDelivery, StoreError> {
    let id = row.text(0)?;
    let kind = row.text(2)?;
    let state = row.text(4)?;
    Ok(WebhookDelivery {
        account: row.text(1)?,
        kind: DeliveryKind::parse(&kind).ok_or_else(|| corrupt(&id, "unknown kind"))?,
        reference: row.opt_text(3)?,
        state: WebhookState::parse(&state).ok_or_else(|| corrupt(&id, "unknown state"))?,
        next_attempt_at: row.ts(5)?,
        lease_until: row.opt_ts(6)?,
        attempts: u32::try_from(row.uint(7)?).unwrap_or(u32::MAX),
        max_attempts: row
            .opt_int(8)?
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        created_at: row.ts(9)?,
        url: row.text(10)?,
        body: row.text(11)?,
        last_error: row.opt_text(12)?,
        id,
    })
}

/// Inserts `r`; returns whether it was stored (not when its idempotency key is taken).
pub(super) async fn insert_record(c: &mut dyn Conn, r: &MessageRecord) -> Result<bool, StoreError> {
    let outbound = json(&r.id, &r.outbound)?;
    let lifecycle = json(&r.id, &r.lifecycle)?;
    let n = c
        .execute(
            INSERT_MESSAGE,
            &[
                (&r.id).into(),
                (&r.account).into(),
                (&r.batch_id).into(),
                r.status().as_str().into(),
                r.next_attempt_at.into(),
                r.lease_until.into(),
                r.attempts.into(),
                r.throttles.into(),
                r.first_attempt_at.into(),
                (&r.provider_message_id).into(),
                (&r.backend).into(),
                (&r.idempotency_key).into(),
                (&r.request_hash).into(),
                r.send_at.into(),
                r.created_at.into(),
                r.updated_at.into(),
                outbound.as_str().into(),
                lifecycle.as_str().into(),
                r.due_at().into(),
            ],
        )
        .await?;
    Ok(n == 1)
}

pub(super) async fn write_record(c: &mut dyn Conn, r: &MessageRecord) -> Result<(), StoreError> {
    let lifecycle = json(&r.id, &r.lifecycle)?;
    c.execute(
        UPDATE_MESSAGE,
        &[
            (&r.id).into(),
            r.status().as_str().into(),
            r.due_at().into(),
            r.next_attempt_at.into(),
            r.lease_until.into(),
            r.attempts.into(),
            r.throttles.into(),
            r.first_attempt_at.into(),
            (&r.provider_message_id).into(),
            (&r.backend).into(),
            r.updated_at.into(),
            lifecycle.as_str().into(),
        ],
    )
    .await
    .map(drop)
}

pub(super) async fn insert_webhooks(
    c: &mut dyn Conn,
    hooks: &[WebhookDelivery],
) -> Result<(), StoreError> {
    for d in hooks {
        c.execute(
            INSERT_WEBHOOK,
            &[
                (&d.id).into(),
                (&d.account).into(),
                d.kind.as_str().into(),
                (&d.reference).into(),
                d.state.as_str().into(),
                d.next_attempt_at.into(),
                d.lease_until.into(),
                d.attempts.into(),
                d.max_attempts.into(),
                d.created_at.into(),
                (&d.url).into(),
                (&d.body).into(),
                (&d.last_error).into(),
                d.due_at().into(),
            ],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn write_webhook(c: &mut dyn Conn, d: &WebhookDelivery) -> Result<(), StoreError> {
    c.execute(
        UPDATE_WEBHOOK,
        &[
            (&d.id).into(),
            d.state.as_str().into(),
            d.due_at().into(),
            d.next_attempt_at.into(),
            d.lease_until.into(),
            d.attempts.into(),
            (&d.last_error).into(),
        ],
    )
    .await
    .map(drop)
}

pub(super) async fn get_record(
    c: &mut dyn Conn,
    id: &str,
) -> Result<Option<MessageRecord>, StoreError> {
    c.fetch_optional(SELECT_MESSAGE, &[id.into()])
        .await?
        .map(|r| record_from(&r))
        .transpose()
}

/// Takes a message out of the claim queue when its row cannot be read, so one corrupt
/// row cannot block every claim.
pub(super) async fn quarantine(
    c: &mut dyn Conn,
    row: &Row,
    error: &StoreError,
) -> Result<(), StoreError> {
    let id = row.text(0)?;
    tracing::error!(message_id = %id, code = error.code(), "unreadable message row taken out of the queue");
    c.execute(
        "UPDATE wa_messages SET due_at = NULL, status = 'failed' WHERE id = $1",
        &[id.as_str().into()],
    )
    .await
    .map(drop)
}
