//! Webhook body → [`WebhookEvent`]s, through serde types of Meta's notification JSON.
//! Lenient on extra fields, strict on the envelope.

use serde::Deserialize;
use serde_json::Value;

use super::WebhookError;
use super::types::{
    InboundContent, InboundMessage, MessageContext, MessageStatus, Pricing, StatusError,
    StatusUpdate, WebhookEvent,
};
use crate::Timestamp;

fn malformed(detail: impl Into<String>) -> WebhookError {
    WebhookError::PayloadMalformed {
        detail: detail.into(),
    }
}

/// `{"object": "whatsapp_business_account", "entry": [...]}`.
#[derive(Deserialize)]
struct Envelope {
    object: Option<String>,
    entry: Option<Vec<Entry>>,
}

#[derive(Deserialize)]
struct Entry {
    id: Option<String>,
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    #[serde(default)]
    field: String,
    #[serde(default)]
    value: Value,
}

/// The `value` of a `messages` change.
#[derive(Deserialize, Default)]
struct MessagesValue {
    metadata: Option<Metadata>,
    #[serde(default)]
    contacts: Vec<WireContact>,
    #[serde(default)]
    messages: Vec<Value>,
    #[serde(default)]
    statuses: Vec<WireStatus>,
}

#[derive(Deserialize)]
struct Metadata {
    display_phone_number: Option<String>,
    phone_number_id: Option<String>,
}

#[derive(Deserialize)]
struct WireContact {
    wa_id: Option<String>,
    user_id: Option<String>,
    username: Option<String>,
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    name: Option<String>,
    username: Option<String>,
}

/// Unix seconds, as Meta's string or as a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Text(String),
    Number(u64),
}

impl Seconds {
    fn timestamp(&self) -> Option<Timestamp> {
        match self {
            Seconds::Text(t) => t.trim().parse().ok().map(Timestamp::from_secs),
            Seconds::Number(n) => Some(Timestamp::from_secs(*n)),
        }
    }
}

/// The envelope of one inbound message.
#[derive(Deserialize)]
struct WireMessage {
    id: Option<String>,
    from: Option<String>,
    from_user_id: Option<String>,
    user_id: Option<String>,
    timestamp: Option<Seconds>,
    context: Option<WireMessageContext>,
    group_id: Option<String>,
}

#[derive(Deserialize)]
struct WireMessageContext {
    from: Option<String>,
    id: Option<String>,
}

/// What an inbound message carries, by `type` (unknown types fall to `Other`).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireInbound {
    Text {
        text: TextObj,
    },
    Interactive {
        interactive: InteractiveObj,
    },
    Button {
        button: ButtonObj,
    },
    Image {
        image: MediaObj,
    },
    Video {
        video: MediaObj,
    },
    Audio {
        audio: MediaObj,
    },
    Voice {
        voice: MediaObj,
    },
    Document {
        document: MediaObj,
    },
    Sticker {
        sticker: MediaObj,
    },
    Location {
        location: LocationObj,
    },
    Contacts {
        contacts: Vec<Value>,
    },
    Reaction {
        reaction: ReactionObj,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct TextObj {
    body: String,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(clippy::enum_variant_names)] // Meta's names
enum InteractiveObj {
    ButtonReply { button_reply: Reply },
    ListReply { list_reply: Reply },
    NfmReply { nfm_reply: FlowObj },
}

#[derive(Deserialize)]
struct Reply {
    id: String,
    title: String,
    description: Option<String>,
}

#[derive(Deserialize)]
struct FlowObj {
    name: Option<String>,
    body: Option<String>,
    response_json: String,
}

#[derive(Deserialize)]
struct ButtonObj {
    payload: String,
    text: String,
}

#[derive(Deserialize)]
struct MediaObj {
    id: String,
    mime_type: Option<String>,
    sha256: Option<String>,
    caption: Option<String>,
    filename: Option<String>,
    #[serde(default)]
    voice: bool,
}

/// A coordinate as a number or a numeric string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Coordinate {
    Number(f64),
    Text(String),
}

impl Coordinate {
    fn value(&self) -> Option<f64> {
        match self {
            Coordinate::Number(n) => Some(*n),
            Coordinate::Text(t) => t.trim().parse().ok(),
        }
    }
}

#[derive(Deserialize)]
struct LocationObj {
    latitude: Coordinate,
    longitude: Coordinate,
    name: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize)]
struct ReactionObj {
    message_id: String,
    emoji: Option<String>,
}

#[derive(Deserialize)]
struct WireStatus {
    id: Option<String>,
    status: Option<String>,
    timestamp: Option<Seconds>,
    recipient_id: Option<String>,
    recipient_user_id: Option<String>,
    biz_opaque_callback_data: Option<String>,
    conversation: Option<Conversation>,
    pricing: Option<Value>,
    #[serde(default)]
    errors: Vec<WireStatusError>,
}

#[derive(Deserialize)]
struct Conversation {
    id: Option<String>,
}

#[derive(Deserialize)]
struct WirePricing {
    #[serde(rename = "type")]
    kind: Option<String>,
    category: Option<String>,
    billable: Option<bool>,
    pricing_model: Option<String>,
}

#[derive(Deserialize)]
struct WireStatusError {
    #[serde(default)]
    code: i64,
    title: Option<String>,
    message: Option<String>,
    error_data: Option<ErrorData>,
}

#[derive(Deserialize)]
struct ErrorData {
    details: Option<String>,
}

/// Parses a webhook body (after [`verify_signature`](super::verify_signature)).
///
/// Events come out in body order: per entry, per change, messages then statuses.
///
/// # Errors
/// `webhook_payload_malformed` when the body is not JSON, `object` is not
/// `whatsapp_business_account`, `entry` is missing, or a message or status lacks its id,
/// status or timestamp.
pub fn parse(body: &[u8]) -> Result<Vec<WebhookEvent>, WebhookError> {
    let root: Envelope =
        serde_json::from_slice(body).map_err(|e| malformed(format!("not JSON: {e}")))?;
    match root.object.as_deref() {
        Some("whatsapp_business_account") => {}
        Some(other) => {
            return Err(malformed(format!(
                "object is {other:?}, not \"whatsapp_business_account\""
            )));
        }
        None => return Err(malformed("no object field")),
    }
    let entries = root.entry.ok_or_else(|| malformed("no entry array"))?;
    let mut events = Vec::new();
    for entry in entries {
        for change in entry.changes {
            if change.field != "messages" {
                events.push(WebhookEvent::Other {
                    field: change.field,
                    value: change.value,
                });
                continue;
            }
            let value: MessagesValue = if change.value.is_null() {
                MessagesValue::default()
            } else {
                serde_json::from_value(change.value)
                    .map_err(|e| malformed(format!("messages change: {e}")))?
            };
            messages_change(value, entry.id.as_deref(), &mut events)?;
        }
    }
    Ok(events)
}

fn messages_change(
    value: MessagesValue,
    waba_id: Option<&str>,
    events: &mut Vec<WebhookEvent>,
) -> Result<(), WebhookError> {
    let (phone_number_id, display) = value.metadata.map_or((None, None), |m| {
        (m.phone_number_id, m.display_phone_number)
    });
    let to = BusinessNumber {
        phone_number_id: phone_number_id.as_deref(),
        display: display.as_deref(),
        waba_id,
    };
    for raw in value.messages {
        events.push(WebhookEvent::Message(inbound_message(
            raw,
            &value.contacts,
            &to,
        )?));
    }
    for st in value.statuses {
        events.push(WebhookEvent::Status(status_update(st, to.phone_number_id)?));
    }
    Ok(())
}

/// The business number a change was sent to.
struct BusinessNumber<'a> {
    phone_number_id: Option<&'a str>,
    display: Option<&'a str>,
    waba_id: Option<&'a str>,
}

/// One inbound message, with its sender's contact (same `wa_id` or `user_id`, else the
/// only contact).
fn inbound_message(
    raw: Value,
    contacts: &[WireContact],
    to: &BusinessNumber<'_>,
) -> Result<InboundMessage, WebhookError> {
    let m: WireMessage =
        serde_json::from_value(raw.clone()).map_err(|e| malformed(format!("a message: {e}")))?;
    let id =
        m.id.filter(|i| !i.is_empty())
            .ok_or_else(|| malformed("a message has no id"))?;
    let timestamp = m
        .timestamp
        .as_ref()
        .and_then(Seconds::timestamp)
        .ok_or_else(|| malformed(format!("message {id} has no timestamp")))?;
    let from_user_id = m.from_user_id.or(m.user_id);
    // The contact for this sender: same wa_id or user_id, else the only one.
    let contact = contacts
        .iter()
        .find(|c| {
            (m.from.is_some() && c.wa_id == m.from)
                || (from_user_id.is_some() && c.user_id == from_user_id)
        })
        .or(if contacts.len() == 1 {
            contacts.first()
        } else {
            None
        });
    let profile = contact.and_then(|c| c.profile.as_ref());
    Ok(InboundMessage {
        timestamp,
        from: m.from.or_else(|| contact.and_then(|c| c.wa_id.clone())),
        from_user_id: from_user_id.or_else(|| contact.and_then(|c| c.user_id.clone())),
        username: contact
            .and_then(|c| c.username.clone())
            .or_else(|| profile.and_then(|p| p.username.clone())),
        profile_name: profile.and_then(|p| p.name.clone()),
        phone_number_id: to.phone_number_id.map(str::to_owned),
        display_phone_number: to.display.map(str::to_owned),
        waba_id: to.waba_id.map(str::to_owned),
        context: m.context.map(|c| MessageContext {
            from: c.from,
            id: c.id,
        }),
        group_id: m.group_id,
        content: content(raw),
        id,
    })
}

/// One status notification.
fn status_update(
    st: WireStatus,
    phone_number_id: Option<&str>,
) -> Result<StatusUpdate, WebhookError> {
    let id = st
        .id
        .filter(|i| !i.is_empty())
        .ok_or_else(|| malformed("a status has no id"))?;
    let status = st
        .status
        .ok_or_else(|| malformed(format!("status for {id} has no status")))?;
    let ts = st
        .timestamp
        .as_ref()
        .and_then(Seconds::timestamp)
        .ok_or_else(|| malformed(format!("status for {id} has no timestamp")))?;
    let mut update = StatusUpdate::new(id, MessageStatus::from_wire(&status), ts);
    update.recipient_id = st.recipient_id;
    update.recipient_user_id = st.recipient_user_id;
    update.phone_number_id = phone_number_id.map(str::to_owned);
    update.biz_opaque_callback_data = st.biz_opaque_callback_data;
    update.conversation_id = st.conversation.and_then(|c| c.id);
    update.pricing = st
        .pricing
        .filter(Value::is_object)
        .and_then(|p| serde_json::from_value::<WirePricing>(p).ok())
        .map(|p| Pricing {
            kind: p.kind,
            category: p.category,
            billable: p.billable,
            pricing_model: p.pricing_model,
        });
    update.errors = st
        .errors
        .into_iter()
        .map(|e| StatusError {
            code: e.code,
            title: e.title,
            message: e.message,
            details: e.error_data.and_then(|d| d.details),
        })
        .collect();
    Ok(update)
}

/// The typed content of one message; a type this crate does not model, or a known type
/// whose object is not as documented, is kept whole as `Unsupported`.
fn content(raw: Value) -> InboundContent {
    let parsed = serde_json::from_value::<WireInbound>(raw.clone()).ok();
    let media = |kind: &str, m: MediaObj, voice: bool| InboundContent::Media {
        kind: kind.to_owned(),
        media_id: m.id,
        mime_type: m.mime_type,
        sha256: m.sha256,
        caption: m.caption,
        filename: m.filename,
        voice: voice || m.voice,
    };
    match parsed {
        Some(WireInbound::Text { text }) => InboundContent::Text { body: text.body },
        Some(WireInbound::Interactive { interactive }) => match interactive {
            InteractiveObj::ButtonReply { button_reply: r } => InboundContent::ButtonReply {
                id: r.id,
                title: r.title,
            },
            InteractiveObj::ListReply { list_reply: r } => InboundContent::ListReply {
                id: r.id,
                title: r.title,
                description: r.description,
            },
            InteractiveObj::NfmReply { nfm_reply: f } => InboundContent::FlowReply {
                name: f.name,
                body: f.body,
                response_json: f.response_json,
            },
        },
        Some(WireInbound::Button { button }) => InboundContent::TemplateButton {
            payload: button.payload,
            text: button.text,
        },
        Some(WireInbound::Image { image }) => media("image", image, false),
        Some(WireInbound::Video { video }) => media("video", video, false),
        Some(WireInbound::Audio { audio }) => media("audio", audio, false),
        Some(WireInbound::Voice { voice }) => media("audio", voice, true),
        Some(WireInbound::Document { document }) => media("document", document, false),
        Some(WireInbound::Sticker { sticker }) => media("sticker", sticker, false),
        Some(WireInbound::Location { location }) => {
            match (location.latitude.value(), location.longitude.value()) {
                (Some(latitude), Some(longitude)) => InboundContent::Location {
                    latitude,
                    longitude,
                    name: location.name,
                    address: location.address,
                },
                _ => unsupported(raw),
            }
        }
        Some(WireInbound::Contacts { contacts }) => InboundContent::Contacts { contacts },
        Some(WireInbound::Reaction { reaction }) => InboundContent::Reaction {
            message_id: reaction.message_id,
            emoji: reaction.emoji.unwrap_or_default(),
        },
        Some(WireInbound::Other) | None => unsupported(raw),
    }
}

fn unsupported(raw: Value) -> InboundContent {
    let message_type = raw
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    InboundContent::Unsupported { message_type, raw }
}
