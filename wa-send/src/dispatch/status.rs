//! Provider statuses (Meta's webhooks, the dry-run backend): applied monotonically to the
//! stored message, matched by `wamid`, or by our id in `biz_opaque_callback_data` when the
//! `wamid` was never recorded (reconciliation); statuses of untagged messages that beat
//! the worker's own record are held in memory until it lands.

use super::stats::bump;
use super::worker::{OUTCOME_UNKNOWN, untag};
use super::{Dispatcher, SendError, lock, status_events};
use crate::DeliveryError;
use crate::lifecycle::Status;
use crate::queue::{Change, MessageRecord, MessageRef};
use crate::webhook::meta::StatusUpdate;

/// Provider ids whose statuses are held while their sends are being recorded.
const MAX_EARLY_STATUSES: usize = 10_000;

impl Dispatcher {
    /// Applies a provider status to the stored message it refers to. Duplicates and
    /// out-of-order statuses are no-ops (monotonic lifecycle). A status whose `wamid` is not
    /// stored yet is matched by the message id in its `biz_opaque_callback_data`
    /// (reconciling a send whose outcome was lost), or, for untagged messages, held in
    /// memory (up to 10,000 provider ids) and applied once the send is recorded. Returns
    /// the message when it changed.
    ///
    /// # Errors
    /// A store code.
    pub async fn apply_status(
        &self,
        update: &StatusUpdate,
    ) -> Result<Option<MessageRecord>, SendError> {
        let Some(to) = Status::from_provider(update.status) else {
            return Ok(None);
        };
        let Some((found, reconciling)) = self.status_subject(update).await? else {
            return Ok(None);
        };
        let error = status_error(update);
        let at = update.timestamp;
        let now = self.now();
        let target = self.target(&found.account).await?;
        let wamid = update.message_id.clone();
        let result = self
            .store
            .update(
                &found.id,
                Box::new(move |r: &mut MessageRecord| {
                    let reconciling = r.provider_message_id.is_none();
                    let before = r.lifecycle.timeline.len();
                    let moved = match (&error, to) {
                        (Some((code, message)), Status::Failed) => {
                            r.lifecycle.fail(Status::Failed, at, code, message)
                        }
                        _ => r.lifecycle.advance(to, at),
                    };
                    if !moved {
                        return Change::NONE;
                    }
                    if reconciling {
                        r.provider_message_id = Some(wamid);
                        r.lease_until = None;
                    }
                    r.updated_at = now;
                    Change {
                        changed: true,
                        webhooks: status_events(target.as_ref(), r, before, now),
                    }
                }),
            )
            .await?;
        match result {
            Some((record, true)) => {
                bump(&self.stats.statuses_applied);
                if reconciling {
                    tracing::info!(message_id = %record.id, "a provider status resolved a send whose outcome was unknown");
                    bump(&self.stats.reconciled);
                }
                Ok(Some(record))
            }
            _ => Ok(None),
        }
    }

    /// The message a status is about (by `wamid`, else by its callback tag) and whether its
    /// send outcome was unknown. A status for a send not recorded yet is held for it.
    async fn status_subject(
        &self,
        update: &StatusUpdate,
    ) -> Result<Option<(MessageRef, bool)>, SendError> {
        if let Some(r) = self.store.find_by_provider_id(&update.message_id).await? {
            return Ok(Some((r, false)));
        }
        if let Some(found) = self.by_tag(update).await? {
            return Ok(Some(found));
        }
        self.hold(update);
        // The send may have been recorded meanwhile: look once more.
        if self
            .store
            .find_by_provider_id(&update.message_id)
            .await?
            .is_some()
        {
            self.apply_held(&update.message_id).await;
        }
        Ok(None)
    }

    /// The message a tagged status names when its `wamid` is not recorded, and whether
    /// that message's send outcome was unknown.
    async fn by_tag(&self, update: &StatusUpdate) -> Result<Option<(MessageRef, bool)>, SendError> {
        let Some(id) = update.biz_opaque_callback_data.as_deref().and_then(untag) else {
            return Ok(None);
        };
        Ok(self.store.get(id).await?.map(|r| {
            let unknown = r.lifecycle.error_code.as_deref() == Some(OUTCOME_UNKNOWN);
            (
                MessageRef {
                    id: r.id,
                    account: r.account,
                },
                unknown,
            )
        }))
    }

    fn hold(&self, update: &StatusUpdate) {
        let mut early = lock(&self.early);
        if early.len() < MAX_EARLY_STATUSES || early.contains_key(&update.message_id) {
            early
                .entry(update.message_id.clone())
                .or_default()
                .push(update.clone());
        }
    }

    /// Applies the statuses held for `provider_message_id`, now that its send is recorded.
    pub(super) async fn apply_held(&self, provider_message_id: &str) {
        let held = lock(&self.early)
            .remove(provider_message_id)
            .unwrap_or_default();
        for u in held {
            if let Err(e) = Box::pin(self.apply_status(&u)).await {
                bump(&self.stats.store_errors);
                tracing::error!(code = e.code(), "applying a held status failed");
            }
        }
    }
}

/// A failed status's first error as its stable code and text.
fn status_error(update: &StatusUpdate) -> Option<(String, String)> {
    update.errors.first().map(|e| {
        let text = e
            .message
            .clone()
            .or_else(|| e.title.clone())
            .unwrap_or_default();
        let d = DeliveryError::from_meta("cloud_api", 200, e.code, text, None);
        (d.code().to_owned(), d.to_string())
    })
}
