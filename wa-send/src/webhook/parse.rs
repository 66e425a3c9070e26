//! Webhook body → [`WebhookEvent`]s. Lenient on extra fields, strict on the envelope.

use serde_json::Value;

use super::WebhookError;
use super::types::{
    InboundContent, InboundMessage, MessageContext, MessageStatus, Pricing, StatusError,
    StatusUpdate, WebhookEvent,
};

fn malformed(detail: impl Into<String>) -> WebhookError {
    WebhookError::PayloadMalformed {
        detail: detail.into(),
    }
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn ptr(v: &Value, path: &str) -> Option<String> {
    v.pointer(path).and_then(Value::as_str).map(str::to_owned)
}

/// Unix seconds, as Meta's string or as a number.
fn timestamp(v: &Value) -> Option<u64> {
    match v.get("timestamp")? {
        Value::String(t) => t.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

fn float(v: &Value, key: &str) -> Option<f64> {
    match v.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(t) => t.trim().parse().ok(),
        _ => None,
    }
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
    let root: Value =
        serde_json::from_slice(body).map_err(|e| malformed(format!("not JSON: {e}")))?;
    match root.get("object").and_then(Value::as_str) {
        Some("whatsapp_business_account") => {}
        Some(other) => {
            return Err(malformed(format!(
                "object is {other:?}, not \"whatsapp_business_account\""
            )));
        }
        None => return Err(malformed("no object field")),
    }
    let entries = root
        .get("entry")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("no entry array"))?;
    let mut events = Vec::new();
    for entry in entries {
        let waba_id = s(entry, "id");
        let Some(changes) = entry.get("changes").and_then(Value::as_array) else {
            continue;
        };
        for change in changes {
            let field = s(change, "field").unwrap_or_default();
            let value = change.get("value").cloned().unwrap_or(Value::Null);
            if field != "messages" {
                events.push(WebhookEvent::Other { field, value });
                continue;
            }
            messages_change(&value, waba_id.as_deref(), &mut events)?;
        }
    }
    Ok(events)
}

fn messages_change(
    value: &Value,
    waba_id: Option<&str>,
    events: &mut Vec<WebhookEvent>,
) -> Result<(), WebhookError> {
    let phone_number_id = ptr(value, "/metadata/phone_number_id");
    let display = ptr(value, "/metadata/display_phone_number");
    let contacts: &[Value] = value
        .get("contacts")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    for m in value
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
    {
        let id = s(m, "id")
            .filter(|i| !i.is_empty())
            .ok_or_else(|| malformed("a message has no id"))?;
        let from = s(m, "from");
        let from_user_id = s(m, "from_user_id").or_else(|| s(m, "user_id"));
        // The contact for this sender: same wa_id or user_id, else the only one.
        let contact = contacts
            .iter()
            .find(|c| {
                (from.is_some() && s(c, "wa_id") == from)
                    || (from_user_id.is_some() && s(c, "user_id") == from_user_id)
            })
            .or(if contacts.len() == 1 {
                contacts.first()
            } else {
                None
            });
        events.push(WebhookEvent::Message(InboundMessage {
            timestamp: timestamp(m)
                .ok_or_else(|| malformed(format!("message {id} has no timestamp")))?,
            from: from.clone().or_else(|| contact.and_then(|c| s(c, "wa_id"))),
            from_user_id: from_user_id.or_else(|| contact.and_then(|c| s(c, "user_id"))),
            username: contact
                .and_then(|c| s(c, "username").or_else(|| ptr(c, "/profile/username"))),
            profile_name: contact.and_then(|c| ptr(c, "/profile/name")),
            phone_number_id: phone_number_id.clone(),
            display_phone_number: display.clone(),
            waba_id: waba_id.map(str::to_owned),
            context: m.get("context").map(|c| MessageContext {
                from: s(c, "from"),
                id: s(c, "id"),
            }),
            group_id: s(m, "group_id"),
            content: content(m),
            id,
        }));
    }
    for st in value
        .get("statuses")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
    {
        let id = s(st, "id")
            .filter(|i| !i.is_empty())
            .ok_or_else(|| malformed("a status has no id"))?;
        let status =
            s(st, "status").ok_or_else(|| malformed(format!("status for {id} has no status")))?;
        let ts =
            timestamp(st).ok_or_else(|| malformed(format!("status for {id} has no timestamp")))?;
        let mut update = StatusUpdate::new(id, MessageStatus::from_wire(&status), ts);
        update.recipient_id = s(st, "recipient_id");
        update.recipient_user_id = s(st, "recipient_user_id");
        update.phone_number_id = phone_number_id.clone();
        update.biz_opaque_callback_data = s(st, "biz_opaque_callback_data");
        update.conversation_id = ptr(st, "/conversation/id");
        update.pricing = st
            .get("pricing")
            .filter(|p| p.is_object())
            .map(|p| Pricing {
                kind: s(p, "type"),
                category: s(p, "category"),
                billable: p.get("billable").and_then(Value::as_bool),
                pricing_model: s(p, "pricing_model"),
            });
        update.errors = st
            .get("errors")
            .and_then(Value::as_array)
            .map(|errs| {
                errs.iter()
                    .map(|e| StatusError {
                        code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
                        title: s(e, "title"),
                        message: s(e, "message"),
                        details: ptr(e, "/error_data/details"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        events.push(WebhookEvent::Status(update));
    }
    Ok(())
}

fn content(m: &Value) -> InboundContent {
    let kind = s(m, "type").unwrap_or_default();
    let unsupported = || InboundContent::Unsupported {
        message_type: kind.clone(),
        raw: m.clone(),
    };
    let obj = m.get(kind.as_str()).unwrap_or(&Value::Null);
    match kind.as_str() {
        "text" => match s(obj, "body") {
            Some(body) => InboundContent::Text { body },
            None => unsupported(),
        },
        "interactive" => match obj.get("type").and_then(Value::as_str) {
            Some("button_reply") => match (
                ptr(obj, "/button_reply/id"),
                ptr(obj, "/button_reply/title"),
            ) {
                (Some(id), Some(title)) => InboundContent::ButtonReply { id, title },
                _ => unsupported(),
            },
            Some("list_reply") => match (ptr(obj, "/list_reply/id"), ptr(obj, "/list_reply/title"))
            {
                (Some(id), Some(title)) => InboundContent::ListReply {
                    id,
                    title,
                    description: ptr(obj, "/list_reply/description"),
                },
                _ => unsupported(),
            },
            Some("nfm_reply") => match ptr(obj, "/nfm_reply/response_json") {
                Some(response_json) => InboundContent::FlowReply {
                    name: ptr(obj, "/nfm_reply/name"),
                    body: ptr(obj, "/nfm_reply/body"),
                    response_json,
                },
                None => unsupported(),
            },
            _ => unsupported(),
        },
        "button" => match (s(obj, "payload"), s(obj, "text")) {
            (Some(payload), Some(text)) => InboundContent::TemplateButton { payload, text },
            _ => unsupported(),
        },
        "image" | "video" | "audio" | "voice" | "document" | "sticker" => match s(obj, "id") {
            Some(media_id) => InboundContent::Media {
                kind: if kind == "voice" {
                    "audio".to_owned()
                } else {
                    kind.clone()
                },
                media_id,
                mime_type: s(obj, "mime_type"),
                sha256: s(obj, "sha256"),
                caption: s(obj, "caption"),
                filename: s(obj, "filename"),
                voice: kind == "voice"
                    || obj.get("voice").and_then(Value::as_bool).unwrap_or(false),
            },
            None => unsupported(),
        },
        "location" => match (float(obj, "latitude"), float(obj, "longitude")) {
            (Some(latitude), Some(longitude)) => InboundContent::Location {
                latitude,
                longitude,
                name: s(obj, "name"),
                address: s(obj, "address"),
            },
            _ => unsupported(),
        },
        "contacts" => match m.get("contacts").and_then(Value::as_array) {
            Some(cards) => InboundContent::Contacts {
                contacts: cards.clone(),
            },
            None => unsupported(),
        },
        "reaction" => match s(obj, "message_id") {
            Some(message_id) => InboundContent::Reaction {
                message_id,
                emoji: s(obj, "emoji").unwrap_or_default(),
            },
            None => unsupported(),
        },
        _ => unsupported(),
    }
}
