//! The send API's wire shapes: WhatsAPI's documented request and response bodies, field for
//! field, plus our documented extensions, as serde types with `ToSchema`.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wa_send::message::wire::{
    WireContent, WireInteractive, WireLocation, WireMedia, WireReaction, WireTemplate, WireText,
};
use wa_send::queue::MessageRecord;
use wa_send::{Content, Outbound, Recipient, Status, Timestamp};

use crate::error::{ApiError, FieldError, SendApiError};

/// `{"success": true, "data": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Always `true`.
    pub success: bool,
    /// The answer.
    pub data: T,
}

/// A success response with `status` and `data`.
pub fn ok<T: Serialize>(status: StatusCode, data: T) -> Response {
    (
        status,
        axum::Json(Envelope {
            success: true,
            data,
        }),
    )
        .into_response()
}

/// A message type of the extended (Cloud-API-shaped) send body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    /// `text` object.
    Text,
    /// `template` object.
    Template,
    /// `image` object.
    Image,
    /// `video` object.
    Video,
    /// `audio` object.
    Audio,
    /// `document` object.
    Document,
    /// `sticker` object.
    Sticker,
    /// `location` object.
    Location,
    /// `contacts` array.
    Contacts,
    /// `reaction` object.
    Reaction,
    /// `interactive` object.
    Interactive,
}

/// A metadata value: kept as text (numbers and booleans are written as JSON writes them).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum MetadataValue {
    /// A string.
    Text(String),
    /// A number.
    #[schema(value_type = f64)]
    Number(serde_json::Number),
    /// A boolean.
    Bool(bool),
}

impl MetadataValue {
    fn into_text(self) -> String {
        match self {
            MetadataValue::Text(s) => s,
            MetadataValue::Number(n) => n.to_string(),
            MetadataValue::Bool(b) => b.to_string(),
        }
    }
}

/// `POST /send-message` (and each item of `POST /messages/bulk`).
///
/// WhatsAPI's documented form is `{to, message}` (free-form text) or
/// `{to, template: {name, language, components}}`, with `sendAt`, `metadata` and `dry_run`.
/// Our documented extension takes any Cloud API message: `type` plus the object it names
/// (`text`, `image`, `video`, `audio`, `document`, `sticker`, `location`, `contacts`,
/// `reaction`, `interactive`), with `replyTo` and `bizOpaqueCallbackData`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "14155552671", "message": "Hi Sarah! Your order #1234 has shipped.", "metadata": {"orderId": "1234"}}))]
pub struct SendMessageBody {
    /// The recipient: E.164 digits without `+` (`14155552671`); `+` and human formats,
    /// BSUIDs and JIDs are accepted too.
    pub to: String,
    /// Free-form text (≤ 4096 characters); only inside the 24-hour service window.
    #[serde(default)]
    pub message: Option<String>,
    /// A Meta-approved template (`language` as `"en_US"` or `{"code": "en_US"}`).
    #[serde(default)]
    pub template: Option<WireTemplate>,
    /// Extension: the Cloud API message type, with its object below.
    #[serde(default, rename = "type")]
    pub kind: Option<MessageType>,
    /// Extension: `{"body", "preview_url"}`.
    #[serde(default)]
    pub text: Option<WireText>,
    /// Extension: `{"id"|"link", "caption"}`.
    #[serde(default)]
    pub image: Option<WireMedia>,
    /// Extension.
    #[serde(default)]
    pub video: Option<WireMedia>,
    /// Extension.
    #[serde(default)]
    pub audio: Option<WireMedia>,
    /// Extension: `{"id"|"link", "caption", "filename"}`.
    #[serde(default)]
    pub document: Option<WireMedia>,
    /// Extension.
    #[serde(default)]
    pub sticker: Option<WireMedia>,
    /// Extension: `{"latitude", "longitude", "name", "address"}`.
    #[serde(default)]
    pub location: Option<WireLocation>,
    /// Extension: Meta's contact objects.
    #[serde(default)]
    pub contacts: Option<Vec<wa_send::Contact>>,
    /// Extension: `{"message_id", "emoji"}`.
    #[serde(default)]
    pub reaction: Option<WireReaction>,
    /// Extension: reply buttons, a list or a location request.
    #[serde(default)]
    pub interactive: Option<WireInteractive>,
    /// ISO 8601 / RFC 3339 future date-time to send at (at most a year ahead).
    #[serde(default, rename = "sendAt")]
    pub send_at: Option<String>,
    /// Key/value data kept with the message and returned in webhooks (≤ 50 keys).
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, MetadataValue>>,
    /// Extension: the `wamid` this message replies to.
    #[serde(default, rename = "replyTo")]
    pub reply_to: Option<String>,
    /// Extension: data Meta echoes back in its status webhooks (≤ 512 bytes).
    #[serde(default, rename = "bizOpaqueCallbackData")]
    pub biz_opaque_callback_data: Option<String>,
    /// Validate and show the Cloud API request; queue nothing.
    #[serde(default, alias = "dryRun")]
    pub dry_run: bool,
}

/// A send body, checked and turned into the message model.
#[derive(Debug)]
pub struct Parsed {
    /// The message.
    pub outbound: Outbound,
    /// When to send.
    pub send_at: Option<Timestamp>,
    /// Validate only.
    pub dry_run: bool,
}

fn field(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

fn problem(at: &str, name: &str, code: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field(at, name),
        message: message.into(),
        code: code.to_owned(),
    }
}

impl SendMessageBody {
    /// The message content, from `message`, `template`, or `type` and its object.
    fn content(&mut self, at: &str) -> Result<Content, FieldError> {
        let wire = match (self.message.take(), self.kind) {
            (Some(_), Some(_)) => {
                return Err(problem(
                    at,
                    "message",
                    "message_type_conflict",
                    "give either `message` (text) or `type` with its object, not both",
                ));
            }
            (Some(text), None) => {
                return Ok(Content::text(text));
            }
            (None, None) => match self.template.take() {
                Some(template) => WireContent::Template { template },
                None => {
                    return Err(problem(
                        at,
                        "message",
                        "message_content_missing",
                        "give `message` (text), `template`, or `type` with its object",
                    ));
                }
            },
            (None, Some(kind)) => self.typed(at, kind)?,
        };
        Content::try_from(wire)
            .map_err(|e| problem(at, e.field().unwrap_or("message"), e.code(), e.to_string()))
    }

    fn typed(&mut self, at: &str, kind: MessageType) -> Result<WireContent, FieldError> {
        let name = serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let missing = || {
            problem(
                at,
                &name,
                "field_missing",
                format!("a `{name}` object is required for type {name}"),
            )
        };
        Ok(match kind {
            MessageType::Text => WireContent::Text {
                text: self.text.take().ok_or_else(missing)?,
            },
            MessageType::Template => WireContent::Template {
                template: self.template.take().ok_or_else(missing)?,
            },
            MessageType::Image => WireContent::Image {
                image: self.image.take().ok_or_else(missing)?,
            },
            MessageType::Video => WireContent::Video {
                video: self.video.take().ok_or_else(missing)?,
            },
            MessageType::Audio => WireContent::Audio {
                audio: self.audio.take().ok_or_else(missing)?,
            },
            MessageType::Document => WireContent::Document {
                document: self.document.take().ok_or_else(missing)?,
            },
            MessageType::Sticker => WireContent::Sticker {
                sticker: self.sticker.take().ok_or_else(missing)?,
            },
            MessageType::Location => WireContent::Location {
                location: self.location.take().ok_or_else(missing)?,
            },
            MessageType::Contacts => WireContent::Contacts {
                contacts: self.contacts.take().ok_or_else(missing)?,
            },
            MessageType::Reaction => WireContent::Reaction {
                reaction: self.reaction.take().ok_or_else(missing)?,
            },
            MessageType::Interactive => WireContent::Interactive {
                interactive: self.interactive.take().ok_or_else(missing)?,
            },
        })
    }

    /// Checks the body and builds the message; `at` prefixes field names (`messages[2]`).
    ///
    /// # Errors
    /// A [`FieldError`] naming the field (recipient errors carry the `phone_*` code).
    pub fn parse(mut self, at: &str) -> Result<Parsed, FieldError> {
        let recipient =
            Recipient::parse(&self.to).map_err(|e| problem(at, "to", e.code(), e.to_string()))?;
        let content = self.content(at)?;
        let mut outbound = Outbound::new(recipient, content);
        outbound.reply_to = self.reply_to;
        outbound.biz_opaque_callback_data = self.biz_opaque_callback_data;
        if let Some(meta) = self.metadata {
            if meta.len() > 50 {
                return Err(problem(at, "metadata", "field_invalid", "at most 50 keys"));
            }
            for (k, v) in meta {
                let v = v.into_text();
                if k.len() > 64 || v.len() > 1024 {
                    return Err(problem(
                        at,
                        &format!("metadata.{k}"),
                        "field_invalid",
                        "keys ≤ 64 and values ≤ 1024 bytes",
                    ));
                }
                outbound.metadata.insert(k, v);
            }
        }
        let send_at = self
            .send_at
            .map(|s| {
                Timestamp::parse_rfc3339(&s).ok_or_else(|| {
                    problem(
                        at,
                        "sendAt",
                        "field_invalid",
                        "must be an ISO 8601 date-time with a time zone, e.g. 2026-05-01T09:00:00Z",
                    )
                })
            })
            .transpose()?;
        Ok(Parsed {
            outbound,
            send_at,
            dry_run: self.dry_run,
        })
    }
}

/// `202` answer of `POST /send-message`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SendAccepted {
    /// The message id (a UUID).
    pub id: String,
    /// `queued`, or `scheduled` with `sendAt`.
    pub status: String,
    /// The requested send time, when scheduled.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_for: Option<Timestamp>,
    /// Extension: the backend that will send it (`cloud_api`, `wsapi`, `dry_run`).
    pub backend: String,
    /// Extension: `true` while the account has no credentials (nothing leaves the machine).
    pub dry_run_backend: bool,
}

/// `200` answer of a `dry_run` send: nothing was queued.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DryRunResult {
    /// Always `true`.
    pub dry_run: bool,
    /// The message passed every check.
    pub valid: bool,
    /// The backend that would send it.
    pub backend: String,
    /// The exact Cloud API request body it would become.
    #[schema(value_type = Option<Object>)]
    pub request: Option<serde_json::Value>,
}

/// `POST /messages/bulk`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // the schema of the body the handler reads item by item
pub struct BulkBody {
    /// The messages; each item takes the fields of `POST /send-message`.
    pub messages: Vec<SendMessageBody>,
    /// Extension: a default `sendAt` for items that have none.
    #[schema(rename = "sendAt")]
    pub send_at: Option<String>,
}

/// What happened to one bulk item.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkItemResult {
    /// Its position in `messages`.
    pub index: usize,
    /// The queued message's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Why it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ItemErrorView>,
}

/// A refused bulk item's error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemErrorView {
    /// Stable code.
    pub code: String,
    /// Human message.
    pub message: String,
    /// The field at fault.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldError>,
}

/// `202` answer of `POST /messages/bulk`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkAccepted {
    /// The batch id (filter with `GET /messages?batchId=`).
    pub batch_id: String,
    /// Items given.
    pub total_messages: usize,
    /// Items queued.
    pub queued: usize,
    /// Items refused.
    pub failed_count: usize,
    /// Extension: each item's id or error, in order.
    pub results: Vec<BulkItemResult>,
}

/// A timeline step.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineView {
    /// The status.
    pub status: String,
    /// When.
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// A message, as `GET /messages/{id}` shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    /// The message id.
    pub id: String,
    /// The recipient, E.164 digits without `+` for phones.
    pub to: String,
    /// The text, or a readable summary for templates and media.
    pub body: String,
    /// `queued`, `scheduled`, `processing`, `retrying`, `sent`, `delivered`, `read`,
    /// `failed` or `cancelled`.
    pub status: String,
    /// When WhatsApp accepted it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<Timestamp>,
    /// When it reached the device.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<Timestamp>,
    /// When it was read.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub read_at: Option<Timestamp>,
    /// When it failed.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub failed_at: Option<Timestamp>,
    /// Why it failed (or why the last attempt failed).
    pub error_message: Option<String>,
    /// The metadata given when it was sent.
    pub metadata: BTreeMap<String, String>,
    /// Every status reached, in order.
    pub timeline: Vec<TimelineView>,
    /// Extension: the stable code of the last failure.
    pub error_code: Option<String>,
    /// Extension: the Cloud API type (`text`, `template`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Extension: the bulk batch.
    pub batch_id: Option<String>,
    /// Extension: WhatsApp's message id (`wamid…`).
    pub provider_message_id: Option<String>,
    /// Extension: the backend that sent it.
    pub backend: Option<String>,
    /// Extension: send attempts that counted.
    pub attempts: u32,
    /// Extension: when it was accepted.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Extension: when it last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Extension: the requested send time, when scheduled.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub scheduled_for: Option<Timestamp>,
    /// Extension: while waiting (queued, scheduled, retrying), when the next attempt is due.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<Timestamp>,
}

impl MessageView {
    /// From a stored record.
    pub fn from_record(r: &MessageRecord) -> Self {
        let l = &r.lifecycle;
        let waiting = matches!(
            r.status(),
            Status::Queued | Status::Scheduled | Status::Retrying
        );
        MessageView {
            id: r.id.clone(),
            to: wa_send::webhook::outgoing::recipient_label(&r.outbound.recipient),
            body: r.outbound.content.summary(),
            status: r.status().as_str().to_owned(),
            sent_at: l.reached(Status::Sent),
            delivered_at: l.reached(Status::Delivered),
            read_at: l.reached(Status::Read),
            failed_at: (r.status() == Status::Failed)
                .then(|| l.reached(Status::Failed))
                .flatten(),
            error_message: l.error_message.clone(),
            metadata: r.outbound.metadata.clone(),
            timeline: l
                .timeline
                .iter()
                .map(|t| TimelineView {
                    status: t.status.as_str().to_owned(),
                    at: t.at,
                })
                .collect(),
            error_code: l.error_code.clone(),
            kind: r.outbound.content.type_name().to_owned(),
            batch_id: r.batch_id.clone(),
            provider_message_id: r.provider_message_id.clone(),
            backend: r.backend.clone(),
            attempts: r.attempts,
            created_at: r.created_at,
            updated_at: r.updated_at,
            scheduled_for: r.send_at.filter(|t| *t > r.created_at),
            next_attempt_at: waiting.then_some(r.next_attempt_at),
        }
    }
}

/// `GET /messages`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageList {
    /// This page's messages, oldest first.
    pub messages: Vec<MessageView>,
    /// The page number.
    pub page: usize,
    /// Results per page.
    pub limit: usize,
    /// Extension: the id to pass as `cursor` for the next page (when one may follow).
    pub next_cursor: Option<String>,
}

/// `GET /analytics/summary`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsSummary {
    /// All messages of the account.
    pub total: u64,
    /// Counts by status (statuses with none are left out).
    pub by_status: BTreeMap<String, u64>,
    /// Delivered or read, over total (two decimals).
    pub delivery_rate: f64,
    /// Failed, over total (two decimals).
    pub failure_rate: f64,
}

mod accounts;
pub use accounts::*;
