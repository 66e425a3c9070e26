//! The typed events of a Meta webhook.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// One event from a webhook body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum WebhookEvent {
    /// A user sent the business a message.
    Message(InboundMessage),
    /// A status change of a message the business sent.
    Status(StatusUpdate),
    /// A change of another field (`account_update`, `message_template_status_update`, …),
    /// kept so callers can see it arrived.
    Other {
        /// The change's `field`.
        field: String,
        /// The change's `value`, untouched.
        value: serde_json::Value,
    },
}

/// A message a user sent to the business.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InboundMessage {
    /// The message id (`wamid.…`); deduplicate on it.
    pub id: String,
    /// The sender's WhatsApp id (phone digits), unless withheld.
    pub from: Option<String>,
    /// The sender's business-scoped user id (BSUID), when given.
    pub from_user_id: Option<String>,
    /// The sender's WhatsApp username, when given.
    pub username: Option<String>,
    /// The sender's profile name.
    pub profile_name: Option<String>,
    /// When the user sent it (Meta gives whole seconds).
    pub timestamp: Timestamp,
    /// The receiving number's phone number id.
    pub phone_number_id: Option<String>,
    /// The receiving number as displayed.
    pub display_phone_number: Option<String>,
    /// The WhatsApp Business Account id (`entry[].id`).
    pub waba_id: Option<String>,
    /// The message replied to, if any.
    pub context: Option<MessageContext>,
    /// The group, for group messages.
    pub group_id: Option<String>,
    /// What was sent.
    pub content: InboundContent,
}

impl InboundMessage {
    /// The text a user typed: a text body, a media caption, or a button/list reply title.
    pub fn text(&self) -> Option<&str> {
        match &self.content {
            InboundContent::Text { body } => Some(body),
            InboundContent::Media { caption, .. } => caption.as_deref(),
            InboundContent::ButtonReply { title, .. } | InboundContent::ListReply { title, .. } => {
                Some(title)
            }
            InboundContent::TemplateButton { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// The message an inbound message replies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageContext {
    /// Who sent the original.
    pub from: Option<String>,
    /// The original's id.
    pub id: Option<String>,
}

/// What an inbound message carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum InboundContent {
    /// Text.
    Text {
        /// The text.
        body: String,
    },
    /// A tap on a reply button.
    ButtonReply {
        /// The button's id.
        id: String,
        /// The button's title.
        title: String,
    },
    /// A pick from a list.
    ListReply {
        /// The row's id.
        id: String,
        /// The row's title.
        title: String,
        /// The row's description.
        description: Option<String>,
    },
    /// A tap on a template quick-reply button.
    TemplateButton {
        /// The button's payload.
        payload: String,
        /// The button's text.
        text: String,
    },
    /// A completed flow.
    FlowReply {
        /// The flow's name.
        name: Option<String>,
        /// The body shown.
        body: Option<String>,
        /// The flow's response, a JSON document in a string.
        response_json: String,
    },
    /// Image, video, audio, voice, document or sticker (download by media id within 7 days).
    Media {
        /// `image`, `video`, `audio`, `document` or `sticker`.
        kind: String,
        /// The media id.
        media_id: String,
        /// MIME type.
        mime_type: Option<String>,
        /// SHA-256 of the file.
        sha256: Option<String>,
        /// Caption.
        caption: Option<String>,
        /// File name (documents).
        filename: Option<String>,
        /// Whether an audio is a voice note.
        voice: bool,
    },
    /// A shared location.
    Location {
        /// Latitude.
        latitude: f64,
        /// Longitude.
        longitude: f64,
        /// Place name.
        name: Option<String>,
        /// Address.
        address: Option<String>,
    },
    /// Shared contact cards, as sent by Meta.
    Contacts {
        /// The cards.
        contacts: Vec<serde_json::Value>,
    },
    /// A reaction (empty emoji: removed).
    Reaction {
        /// The message reacted to.
        message_id: String,
        /// The emoji.
        emoji: String,
    },
    /// A type this crate does not model (`order`, `system`, `unsupported`, …).
    Unsupported {
        /// Meta's `type`.
        message_type: String,
        /// The whole message object.
        raw: serde_json::Value,
    },
}

/// A status reported by Meta for a sent message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MessageStatus {
    /// Accepted by WhatsApp's servers.
    Sent,
    /// Reached the user's device.
    Delivered,
    /// Opened.
    Read,
    /// A voice message was played.
    Played,
    /// Could not be delivered (see [`StatusUpdate::errors`]).
    Failed,
    /// Deleted by the business.
    Deleted,
    /// A status this crate does not know.
    Unknown,
}

impl MessageStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Played => "played",
            MessageStatus::Failed => "failed",
            MessageStatus::Deleted => "deleted",
            MessageStatus::Unknown => "unknown",
        }
    }

    pub(crate) fn from_wire(s: &str) -> MessageStatus {
        match s {
            "sent" => MessageStatus::Sent,
            "delivered" => MessageStatus::Delivered,
            "read" => MessageStatus::Read,
            "played" => MessageStatus::Played,
            "failed" => MessageStatus::Failed,
            "deleted" => MessageStatus::Deleted,
            _ => MessageStatus::Unknown,
        }
    }
}

/// A status update for a sent message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StatusUpdate {
    /// The provider message id (`wamid.…`) the status is about.
    pub message_id: String,
    /// The new status.
    pub status: MessageStatus,
    /// When the status changed (Meta gives whole seconds).
    pub timestamp: Timestamp,
    /// The recipient's WhatsApp id.
    pub recipient_id: Option<String>,
    /// The recipient's BSUID, when given.
    pub recipient_user_id: Option<String>,
    /// The sending number's phone number id.
    pub phone_number_id: Option<String>,
    /// The data given at send time, echoed back.
    pub biz_opaque_callback_data: Option<String>,
    /// The conversation id, when given.
    pub conversation_id: Option<String>,
    /// Pricing, on one of `delivered` / `read`.
    pub pricing: Option<Pricing>,
    /// Why it failed (for `failed`).
    pub errors: Vec<StatusError>,
}

impl StatusUpdate {
    /// A bare status.
    pub fn new(message_id: impl Into<String>, status: MessageStatus, timestamp: Timestamp) -> Self {
        StatusUpdate {
            message_id: message_id.into(),
            status,
            timestamp,
            recipient_id: None,
            recipient_user_id: None,
            phone_number_id: None,
            biz_opaque_callback_data: None,
            conversation_id: None,
            pricing: None,
            errors: Vec::new(),
        }
    }

    /// A key that identifies this update for deduplication (Meta retries deliveries).
    pub fn dedup_key(&self) -> String {
        format!("{}:{}", self.message_id, self.status.as_str())
    }
}

/// How a message was priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Pricing {
    /// `regular`, `free_customer_service` or `free_entry_point`.
    pub kind: Option<String>,
    /// `marketing`, `utility`, `authentication`, `service`, …
    pub category: Option<String>,
    /// Deprecated by Meta but still sent.
    pub billable: Option<bool>,
    /// E.g. `PMP`.
    pub pricing_model: Option<String>,
}

/// One error of a `failed` status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StatusError {
    /// Meta's error code (classify with [`classify_meta_code`](crate::classify_meta_code)).
    pub code: i64,
    /// Title.
    pub title: Option<String>,
    /// Message.
    pub message: Option<String>,
    /// `error_data.details`.
    pub details: Option<String>,
}
