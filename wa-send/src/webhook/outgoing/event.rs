//! The status event a customer's webhook receives: WhatsAPI's documented
//! `message.status_updated` body, plus a few fields of ours.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::lifecycle::{Status, TimelineEntry};
use crate::queue::MessageRecord;
use crate::{Recipient, Timestamp};

/// `{"event": "message.status_updated", "timestamp", "data": {…}}`.
///
/// # Examples
/// ```
/// use wa_send::webhook::outgoing::StatusEvent;
/// use wa_send::queue::MessageRecord;
/// use wa_send::{Content, Outbound, Recipient, Timestamp};
///
/// let msg = Outbound::new(Recipient::parse("+14155552671")?, Content::text("Hi")).metadata("orderId", "1234");
/// let record = MessageRecord::new("9dd15ee1-3d3c-44e1-9dd2-8ec6547e7e20".into(), "acct".into(), msg, None, Timestamp::from_secs(1));
/// let body = serde_json::to_value(StatusEvent::of(&record, Timestamp::from_secs(2)))?;
/// assert_eq!(body["event"], "message.status_updated");
/// assert_eq!(body["data"]["to"], "14155552671");
/// assert_eq!(body["data"]["metadata"]["orderId"], "1234");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct StatusEvent {
    /// Always `message.status_updated`.
    pub event: String,
    /// When the event was produced.
    #[cfg_attr(feature = "utoipa", schema(value_type = String, format = DateTime))]
    pub timestamp: Timestamp,
    /// The message after the change.
    pub data: StatusEventData,
}

/// The message in a [`StatusEvent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct StatusEventData {
    /// The message id.
    pub message_id: String,
    /// Its new status.
    #[cfg_attr(feature = "utoipa", schema(value_type = String))]
    pub status: Status,
    /// The recipient: E.164 digits without `+` for phones, else the BSUID or JID.
    pub to: String,
    /// When WhatsApp accepted it.
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<String>, format = DateTime))]
    pub sent_at: Option<Timestamp>,
    /// When it reached the device.
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<String>, format = DateTime))]
    pub delivered_at: Option<Timestamp>,
    /// When it was read.
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<String>, format = DateTime))]
    pub read_at: Option<Timestamp>,
    /// When it failed.
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<String>, format = DateTime))]
    pub failed_at: Option<Timestamp>,
    /// Why it failed.
    pub error_message: Option<String>,
    /// The stable code of the failure (our addition).
    pub error_code: Option<String>,
    /// The metadata given when it was sent.
    pub metadata: BTreeMap<String, String>,
    /// The bulk batch it came in (our addition).
    pub batch_id: Option<String>,
    /// WhatsApp's message id (our addition).
    pub provider_message_id: Option<String>,
    /// Every status reached, with its time (our addition).
    pub timeline: Vec<TimelineEntry>,
}

/// The recipient as the send API shows it: digits without `+` for phones.
pub fn recipient_label(r: &Recipient) -> String {
    match r {
        Recipient::Phone(p) => p.digits().to_owned(),
        other => other.to_string(),
    }
}

impl StatusEvent {
    /// The event announcing that `record` reached `status` (its current status, or a step
    /// the same change passed through: the later steps' times are left out).
    pub fn at_status(record: &MessageRecord, status: Status, at: Timestamp) -> Self {
        let mut e = StatusEvent::of(record, at);
        if status != e.data.status {
            e.data.status = status;
            if status == Status::Sent {
                e.data.delivered_at = None;
            }
            if matches!(status, Status::Sent | Status::Delivered) {
                e.data.read_at = None;
            }
        }
        e
    }

    /// The event for `record` as it is now, produced at `at`.
    pub fn of(record: &MessageRecord, at: Timestamp) -> Self {
        let l = &record.lifecycle;
        StatusEvent {
            event: "message.status_updated".to_owned(),
            timestamp: at,
            data: StatusEventData {
                message_id: record.id.clone(),
                status: record.status(),
                to: recipient_label(&record.outbound.recipient),
                sent_at: l.reached(Status::Sent),
                delivered_at: l.reached(Status::Delivered),
                read_at: l.reached(Status::Read),
                failed_at: (record.status() == Status::Failed)
                    .then(|| l.reached(Status::Failed))
                    .flatten(),
                error_message: l.error_message.clone(),
                error_code: l.error_code.clone(),
                metadata: record.outbound.metadata.clone(),
                batch_id: record.batch_id.clone(),
                provider_message_id: record.provider_message_id.clone(),
                timeline: l.timeline.clone(),
            },
        }
    }
}
