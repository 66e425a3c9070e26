//! The send API's message JSON (Cloud API shapes under a `type` key) → `wa_send::Outbound`,
//! with per-field errors.
//!
//! ```json
//! {"to": "+14155552671", "type": "text", "text": {"body": "Hi", "preview_url": false},
//!  "sendAt": "2026-12-01T09:00:00Z", "metadata": {"order": "1234"}, "replyTo": "wamid…",
//!  "bizOpaqueCallbackData": "…", "dry_run": false}
//! ```

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use wa_send::{
    ButtonSubType, Buttons, Contact, Content, List, ListRow, ListSection, Location, Media,
    MediaKind, MediaSource, Outbound, Recipient, ReplyButton, Template, TemplateComponent,
    TemplateParameter,
};

use crate::send_api::ApiFailure;

/// A parsed send request.
#[derive(Debug)]
pub struct SendRequest {
    /// The message.
    pub outbound: Outbound,
    /// When to send (Unix ms).
    pub send_at: Option<u64>,
    /// Validate only.
    pub dry_run: bool,
}

const TOP: &[&str] = &[
    "to",
    "type",
    "text",
    "template",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
    "interactive",
    "sendAt",
    "metadata",
    "replyTo",
    "bizOpaqueCallbackData",
    "dry_run",
    "dryRun",
];

struct At<'a> {
    prefix: &'a str,
}

impl At<'_> {
    fn path(&self, field: &str) -> String {
        if self.prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.prefix)
        }
    }
    fn err(&self, field: &str, code: &str, msg: impl Into<String>) -> ApiFailure {
        ApiFailure::field(self.path(field), code, msg)
    }
    fn obj<'v>(&self, v: &'v Value, field: &str) -> Result<&'v Map<String, Value>, ApiFailure> {
        v.get(field)
            .and_then(Value::as_object)
            .ok_or_else(|| self.err(field, "field_invalid", "must be an object"))
    }
    fn str_req(&self, v: &Value, field: &str) -> Result<String, ApiFailure> {
        match v.get(field) {
            Some(Value::String(s)) => Ok(s.clone()),
            None | Some(Value::Null) => Err(self.err(field, "field_missing", "is required")),
            Some(_) => Err(self.err(field, "field_invalid", "must be a string")),
        }
    }
    fn str_opt(&self, v: &Value, field: &str) -> Result<Option<String>, ApiFailure> {
        match v.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.err(field, "field_invalid", "must be a string")),
        }
    }
    fn num(&self, v: &Value, field: &str) -> Result<f64, ApiFailure> {
        match v.get(field) {
            Some(Value::Number(n)) => n
                .as_f64()
                .ok_or_else(|| self.err(field, "field_invalid", "must be a number")),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map_err(|_| self.err(field, "field_invalid", "must be a number")),
            None | Some(Value::Null) => Err(self.err(field, "field_missing", "is required")),
            Some(_) => Err(self.err(field, "field_invalid", "must be a number")),
        }
    }
}

fn media_source(at: &At<'_>, v: &Value) -> Result<MediaSource, ApiFailure> {
    match (at.str_opt(v, "id")?, at.str_opt(v, "link")?) {
        (Some(id), None) => Ok(MediaSource::Id(id)),
        (None, Some(link)) => Ok(MediaSource::Link(link)),
        _ => Err(at.err("id", "field_invalid", "give exactly one of `id` and `link`")),
    }
}

fn text_of(at: &At<'_>, v: &Value, field: &str) -> Result<Option<String>, ApiFailure> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(o) => At {
            prefix: &at.path(field),
        }
        .str_req(o, "text")
        .map(Some),
    }
}

fn parameter(at: &At<'_>, p: &Value) -> Result<TemplateParameter, ApiFailure> {
    let kind = at.str_req(p, "type")?;
    Ok(match kind.as_str() {
        "text" => TemplateParameter::Text {
            text: at.str_req(p, "text")?,
        },
        "currency" => {
            let c = at.obj(p, "currency")?;
            let c = Value::Object(c.clone());
            let at2 = At {
                prefix: &at.path("currency"),
            };
            let amount = at2.num(&c, "amount_1000")?;
            TemplateParameter::Currency {
                fallback_value: at2.str_req(&c, "fallback_value")?,
                code: at2.str_req(&c, "code")?,
                amount_1000: amount as i64,
            }
        }
        "date_time" => {
            let d = Value::Object(at.obj(p, "date_time")?.clone());
            TemplateParameter::DateTime {
                fallback_value: At {
                    prefix: &at.path("date_time"),
                }
                .str_req(&d, "fallback_value")?,
            }
        }
        "image" | "video" | "document" => {
            let m = Value::Object(at.obj(p, &kind)?.clone());
            let at2 = At {
                prefix: &at.path(&kind),
            };
            let source = media_source(&at2, &m)?;
            match kind.as_str() {
                "image" => TemplateParameter::Image { source },
                "video" => TemplateParameter::Video { source },
                _ => TemplateParameter::Document {
                    source,
                    filename: at2.str_opt(&m, "filename")?,
                },
            }
        }
        "payload" => TemplateParameter::Payload {
            payload: at.str_req(p, "payload")?,
        },
        "coupon_code" => TemplateParameter::CouponCode {
            coupon_code: at.str_req(p, "coupon_code")?,
        },
        other => {
            return Err(at.err(
                "type",
                "field_invalid",
                format!("unknown parameter type {other:?}"),
            ));
        }
    })
}

fn template(at: &At<'_>, t: &Value) -> Result<Template, ApiFailure> {
    let language = match t.get("language") {
        Some(Value::String(s)) => s.clone(),
        Some(o @ Value::Object(_)) => At {
            prefix: &at.path("language"),
        }
        .str_req(o, "code")?,
        _ => {
            return Err(at.err(
                "language",
                "field_missing",
                "is required (`en_US` or {\"code\":\"en_US\"})",
            ));
        }
    };
    let mut tpl = Template::new(at.str_req(t, "name")?, language);
    if let Some(components) = t.get("components").filter(|c| !c.is_null()) {
        let list = components
            .as_array()
            .ok_or_else(|| at.err("components", "field_invalid", "must be an array"))?;
        for (i, c) in list.iter().enumerate() {
            let path = at.path(&format!("components[{i}]"));
            let at2 = At { prefix: &path };
            let params = match c.get("parameters") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(ps)) => ps
                    .iter()
                    .enumerate()
                    .map(|(j, p)| {
                        parameter(
                            &At {
                                prefix: &format!("{path}.parameters[{j}]"),
                            },
                            p,
                        )
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err(at2.err("parameters", "field_invalid", "must be an array")),
            };
            let component = match at2.str_req(c, "type")?.to_ascii_lowercase().as_str() {
                "header" => TemplateComponent::header(params),
                "body" => TemplateComponent::body(params),
                "button" => {
                    let sub = match at2.str_req(c, "sub_type")?.as_str() {
                        "url" => ButtonSubType::Url,
                        "quick_reply" => ButtonSubType::QuickReply,
                        "copy_code" => ButtonSubType::CopyCode,
                        "flow" => ButtonSubType::Flow,
                        other => {
                            return Err(at2.err(
                                "sub_type",
                                "field_invalid",
                                format!("unknown button sub_type {other:?}"),
                            ));
                        }
                    };
                    let index = match c.get("index") {
                        Some(Value::Number(n)) => n.as_u64(),
                        Some(Value::String(s)) => s.parse().ok(),
                        _ => None,
                    }
                    .filter(|i| *i < 10)
                    .ok_or_else(|| {
                        at2.err("index", "field_invalid", "must be 0-9 (number or string)")
                    })?;
                    TemplateComponent::button(sub, index as u8, params)
                }
                other => {
                    return Err(at2.err(
                        "type",
                        "field_invalid",
                        format!("unknown component type {other:?}"),
                    ));
                }
            };
            tpl = tpl.component(component);
        }
    }
    Ok(tpl)
}

fn interactive(at: &At<'_>, v: &Value) -> Result<Content, ApiFailure> {
    let header = match v.get("header") {
        None | Some(Value::Null) => None,
        Some(h) => Some(
            At {
                prefix: &at.path("header"),
            }
            .str_req(h, "text")?,
        ),
    };
    let footer = text_of(at, v, "footer")?;
    let body =
        text_of(at, v, "body")?.ok_or_else(|| at.err("body", "field_missing", "is required"))?;
    let action = v.get("action").cloned().unwrap_or(Value::Null);
    let act = At {
        prefix: &at.path("action"),
    };
    Ok(match at.str_req(v, "type")?.as_str() {
        "button" => {
            let list = action
                .get("buttons")
                .and_then(Value::as_array)
                .ok_or_else(|| act.err("buttons", "field_missing", "is required"))?;
            let mut buttons = Vec::new();
            for (i, b) in list.iter().enumerate() {
                let path = act.path(&format!("buttons[{i}].reply"));
                let r = b.get("reply").cloned().unwrap_or(Value::Null);
                let at2 = At { prefix: &path };
                buttons.push(ReplyButton::new(
                    at2.str_req(&r, "id")?,
                    at2.str_req(&r, "title")?,
                ));
            }
            let mut b = Buttons::new(body, buttons);
            b.header = header;
            b.footer = footer;
            Content::Buttons(b)
        }
        "list" => {
            let sections = action
                .get("sections")
                .and_then(Value::as_array)
                .ok_or_else(|| act.err("sections", "field_missing", "is required"))?;
            let mut out = Vec::new();
            for (i, s) in sections.iter().enumerate() {
                let path = act.path(&format!("sections[{i}]"));
                let at2 = At { prefix: &path };
                let rows = s
                    .get("rows")
                    .and_then(Value::as_array)
                    .ok_or_else(|| at2.err("rows", "field_missing", "is required"))?;
                let mut parsed = Vec::new();
                for (j, r) in rows.iter().enumerate() {
                    let rp = format!("{path}.rows[{j}]");
                    let at3 = At { prefix: &rp };
                    let mut row = ListRow::new(at3.str_req(r, "id")?, at3.str_req(r, "title")?);
                    row.description = at3.str_opt(r, "description")?;
                    parsed.push(row);
                }
                out.push(ListSection::new(
                    at2.str_opt(s, "title")?.as_deref(),
                    parsed,
                ));
            }
            let mut l = List::new(body, act.str_req(&action, "button")?, out);
            l.header = header;
            l.footer = footer;
            Content::List(l)
        }
        "location_request_message" => Content::LocationRequest { body },
        other => {
            return Err(at.err(
                "type",
                "field_invalid",
                format!("unknown interactive type {other:?}"),
            ));
        }
    })
}

fn content(v: &Value, kind: &str) -> Result<Content, ApiFailure> {
    let missing = || {
        ApiFailure::field(
            kind,
            "field_missing",
            format!("a `{kind}` object is required for type {kind}"),
        )
    };
    let obj = v.get(kind).filter(|o| !o.is_null()).ok_or_else(missing)?;
    let at = At { prefix: kind };
    Ok(match kind {
        "text" => Content::Text {
            body: at.str_req(obj, "body")?,
            preview_url: obj
                .get("preview_url")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
        "image" | "video" | "audio" | "document" | "sticker" => {
            let k = match kind {
                "image" => MediaKind::Image,
                "video" => MediaKind::Video,
                "audio" => MediaKind::Audio,
                "document" => MediaKind::Document,
                _ => MediaKind::Sticker,
            };
            let mut m = Media::new(k, media_source(&at, obj)?);
            m.caption = at.str_opt(obj, "caption")?;
            m.filename = at.str_opt(obj, "filename")?;
            Content::Media(m)
        }
        "location" => {
            let mut l = Location::new(at.num(obj, "latitude")?, at.num(obj, "longitude")?);
            l.name = at.str_opt(obj, "name")?;
            l.address = at.str_opt(obj, "address")?;
            Content::Location(l)
        }
        "contacts" => {
            let contacts: Vec<Contact> = serde_json::from_value(obj.clone())
                .map_err(|e| at.err("", "field_invalid", e.to_string()))?;
            Content::Contacts { contacts }
        }
        "reaction" => Content::Reaction {
            message_id: at.str_req(obj, "message_id")?,
            emoji: at.str_opt(obj, "emoji")?.unwrap_or_default(),
        },
        "template" => Content::Template(template(&at, obj)?),
        "interactive" => interactive(&at, obj)?,
        _ => {
            return Err(ApiFailure::field(
                "type",
                "field_invalid",
                format!("unknown message type {kind:?}"),
            ));
        }
    })
}

/// Parses a send request; `now_ms` checks `sendAt`.
///
/// # Errors
/// `body_invalid` with `details` naming the field; recipient codes (`phone_*`, …).
pub fn parse(v: &Value) -> Result<SendRequest, ApiFailure> {
    crate::send_api::check_fields(v, TOP)?;
    let top = At { prefix: "" };
    let to = top.str_req(v, "to")?;
    let recipient = Recipient::parse(&to).map_err(|e| {
        let mut f = ApiFailure::field("to", e.code(), e.to_string());
        f.code = "body_invalid".to_owned();
        f
    })?;
    let kind = top.str_req(v, "type")?;
    let mut outbound = Outbound::new(recipient, content(v, &kind)?);
    outbound.reply_to = top.str_opt(v, "replyTo")?;
    outbound.biz_opaque_callback_data = top.str_opt(v, "bizOpaqueCallbackData")?;
    if let Some(m) = v.get("metadata").filter(|m| !m.is_null()) {
        let map = m
            .as_object()
            .ok_or_else(|| top.err("metadata", "field_invalid", "must be an object of strings"))?;
        if map.len() > 50 {
            return Err(top.err("metadata", "field_invalid", "at most 50 keys"));
        }
        let mut out = BTreeMap::new();
        for (k, val) in map {
            let s = match val {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => val.to_string(),
                _ => {
                    return Err(top.err(
                        &format!("metadata.{k}"),
                        "field_invalid",
                        "must be a string, number or boolean",
                    ));
                }
            };
            if k.len() > 64 || s.len() > 1024 {
                return Err(top.err(
                    &format!("metadata.{k}"),
                    "field_invalid",
                    "keys ≤ 64 and values ≤ 1024 bytes",
                ));
            }
            out.insert(k.clone(), s);
        }
        outbound.metadata = out;
    }
    let send_at = match v.get("sendAt") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map_err(|_| {
                    top.err(
                        "sendAt",
                        "field_invalid",
                        "must be an RFC 3339 date-time, e.g. 2026-12-01T09:00:00Z",
                    )
                })?;
            Some(
                u64::try_from(t.unix_timestamp_nanos() / 1_000_000)
                    .map_err(|_| top.err("sendAt", "field_invalid", "must be after 1970"))?,
            )
        }
        Some(_) => {
            return Err(top.err(
                "sendAt",
                "field_invalid",
                "must be an RFC 3339 date-time string",
            ));
        }
    };
    let dry_run = match v.get("dry_run").or_else(|| v.get("dryRun")) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(top.err("dry_run", "field_invalid", "must be a boolean")),
    };
    Ok(SendRequest {
        outbound,
        send_at,
        dry_run,
    })
}

/// RFC 3339 for Unix ms.
pub fn rfc3339(ms: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
