//! The limits of facts §3.1, checked before sending.

use std::collections::HashSet;

use super::{
    Buttons, Content, List, Media, MediaSource, MessageError, Outbound, Recipient, Template,
    TemplateComponent, TemplateParameter,
};

/// The limits, in characters unless noted.
pub mod limits {
    /// Text body.
    pub const TEXT_BODY: usize = 4096;
    /// Media caption.
    pub const CAPTION: usize = 1024;
    /// Document file name.
    pub const FILENAME: usize = 240;
    /// Interactive body.
    pub const INTERACTIVE_BODY: usize = 1024;
    /// Interactive header and footer.
    pub const INTERACTIVE_HEADER: usize = 60;
    /// Reply buttons per message.
    pub const BUTTONS: usize = 3;
    /// Reply button title.
    pub const BUTTON_TITLE: usize = 20;
    /// Reply button id.
    pub const BUTTON_ID: usize = 256;
    /// List sections.
    pub const LIST_SECTIONS: usize = 10;
    /// List rows across all sections.
    pub const LIST_ROWS: usize = 10;
    /// List button label.
    pub const LIST_BUTTON: usize = 20;
    /// List section title.
    pub const LIST_SECTION_TITLE: usize = 24;
    /// List row title.
    pub const LIST_ROW_TITLE: usize = 24;
    /// List row description.
    pub const LIST_ROW_DESCRIPTION: usize = 72;
    /// List row id.
    pub const LIST_ROW_ID: usize = 200;
    /// Contacts per message.
    pub const CONTACTS: usize = 257;
    /// `biz_opaque_callback_data`, in bytes.
    pub const CALLBACK_DATA_BYTES: usize = 512;
    /// Template name.
    pub const TEMPLATE_NAME: usize = 512;
    /// Template text parameter (body parameters; authentication codes are ≤ 15 by Meta's rule).
    pub const TEMPLATE_TEXT_PARAMETER: usize = 32768;
    /// An authentication template's one-time code (Meta's rule, facts §5).
    pub const AUTHENTICATION_CODE: usize = 15;
    /// Provider message id referenced by replies and reactions.
    pub const MESSAGE_ID: usize = 512;
}

fn max_chars(field: impl FnOnce() -> String, value: &str, max: usize) -> Result<(), MessageError> {
    // Cheap byte test first: a string of ≤ max bytes has ≤ max chars.
    if value.len() <= max {
        return Ok(());
    }
    let actual = value.chars().count();
    if actual > max {
        Err(MessageError::TooLong {
            field: field(),
            max,
            actual,
        })
    } else {
        Ok(())
    }
}

fn required(field: &str, value: &str, max: usize) -> Result<(), MessageError> {
    if value.trim().is_empty() {
        return Err(MessageError::FieldEmpty {
            field: field.to_owned(),
        });
    }
    max_chars(|| field.to_owned(), value, max)
}

fn optional(field: &str, value: Option<&str>, max: usize) -> Result<(), MessageError> {
    match value {
        Some(v) => max_chars(|| field.to_owned(), v, max),
        None => Ok(()),
    }
}

pub(super) fn outbound(msg: &Outbound) -> Result<(), MessageError> {
    if let Recipient::Jid(jid) = &msg.recipient
        && (jid.is_status() || jid.is_broadcast())
    {
        return Err(MessageError::RecipientUnsupported {
            reason: "broadcast lists and Status take no direct messages",
        });
    }
    if let Some(id) = &msg.reply_to {
        required("reply_to", id, limits::MESSAGE_ID)?;
    }
    if let Some(data) = &msg.biz_opaque_callback_data
        && data.len() > limits::CALLBACK_DATA_BYTES
    {
        return Err(MessageError::TooLong {
            field: "biz_opaque_callback_data".to_owned(),
            max: limits::CALLBACK_DATA_BYTES,
            actual: data.len(),
        });
    }
    content(&msg.content)
}

fn content(content: &Content) -> Result<(), MessageError> {
    match content {
        Content::Text { body, .. } => {
            if body.trim().is_empty() {
                return Err(MessageError::TextEmpty);
            }
            max_chars(|| "text.body".to_owned(), body, limits::TEXT_BODY)
        }
        Content::Template(t) => template(t),
        Content::Media(m) => media(m),
        Content::Location(l) => {
            let ok = l.latitude.is_finite()
                && l.longitude.is_finite()
                && (-90.0..=90.0).contains(&l.latitude)
                && (-180.0..=180.0).contains(&l.longitude);
            if !ok {
                return Err(MessageError::LocationInvalid);
            }
            optional("location.name", l.name.as_deref(), 1000)?;
            optional("location.address", l.address.as_deref(), 1000)
        }
        Content::Contacts { contacts } => {
            if contacts.is_empty() || contacts.len() > limits::CONTACTS {
                return Err(MessageError::ContactsCount {
                    max: limits::CONTACTS,
                    actual: contacts.len(),
                });
            }
            for (i, c) in contacts.iter().enumerate() {
                if c.name.formatted_name.trim().is_empty() {
                    return Err(MessageError::FieldEmpty {
                        field: format!("contacts[{i}].name.formatted_name"),
                    });
                }
            }
            Ok(())
        }
        Content::Reaction { message_id, emoji } => {
            required("reaction.message_id", message_id, limits::MESSAGE_ID)?;
            // One emoji can be several scalar values (ZWJ sequences, flags, skin tones).
            max_chars(|| "reaction.emoji".to_owned(), emoji, 16)
        }
        Content::Buttons(b) => buttons(b),
        Content::List(l) => list(l),
        Content::LocationRequest { body } => {
            required("interactive.body", body, limits::INTERACTIVE_BODY)
        }
    }
}

fn media_source(field: &str, source: &MediaSource) -> Result<(), MessageError> {
    match source {
        MediaSource::Id(id) => required(field, id, 256),
        MediaSource::Link(link) => match url::Url::parse(link) {
            Ok(u) if u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
            _ => Err(MessageError::MediaLinkInvalid),
        },
    }
}

fn media(m: &Media) -> Result<(), MessageError> {
    media_source(&format!("{}.id", m.kind.as_str()), &m.source)?;
    if let Some(caption) = &m.caption {
        if !m.kind.allows_caption() {
            return Err(MessageError::CaptionNotAllowed {
                kind: m.kind.as_str(),
            });
        }
        max_chars(
            || format!("{}.caption", m.kind.as_str()),
            caption,
            limits::CAPTION,
        )?;
    }
    if let Some(name) = &m.filename {
        if m.kind != super::MediaKind::Document {
            return Err(MessageError::FilenameNotAllowed {
                kind: m.kind.as_str(),
            });
        }
        required("document.filename", name, limits::FILENAME)?;
    }
    Ok(())
}

fn template(t: &Template) -> Result<(), MessageError> {
    let name_ok = !t.name.is_empty()
        && t.name.len() <= limits::TEMPLATE_NAME
        && t.name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !name_ok {
        return Err(MessageError::TemplateNameInvalid);
    }
    if !language_ok(&t.language) {
        return Err(MessageError::TemplateLanguageInvalid);
    }
    for (ci, c) in t.components.iter().enumerate() {
        let params = match c {
            TemplateComponent::Header { parameters } | TemplateComponent::Body { parameters } => {
                parameters
            }
            TemplateComponent::Button { parameters, .. } => parameters,
        };
        for (pi, p) in params.iter().enumerate() {
            let field = || format!("template.components[{ci}].parameters[{pi}]");
            match p {
                TemplateParameter::Text { text } => {
                    if text.is_empty() {
                        return Err(MessageError::FieldEmpty { field: field() });
                    }
                    max_chars(field, text, limits::TEMPLATE_TEXT_PARAMETER)?;
                }
                TemplateParameter::Image { source }
                | TemplateParameter::Video { source }
                | TemplateParameter::Document { source, .. } => {
                    media_source(&field(), source)?;
                }
                TemplateParameter::Payload { payload: s }
                | TemplateParameter::CouponCode { coupon_code: s } => {
                    required(&field(), s, 2000)?;
                }
                TemplateParameter::Currency {
                    fallback_value: s, ..
                }
                | TemplateParameter::DateTime { fallback_value: s } => {
                    required(&field(), s, 1000)?;
                }
            }
        }
    }
    Ok(())
}

/// `en`, `en_US`, `pt_BR`, `zh_CN`, `es_419`-like codes (Meta's list uses `_`).
fn language_ok(code: &str) -> bool {
    let (lang, region) = match code.split_once('_') {
        Some((l, r)) => (l, Some(r)),
        None => (code, None),
    };
    let lang_ok = (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_lowercase());
    let region_ok = region.is_none_or(|r| {
        (2..=3).contains(&r.len())
            && r.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    });
    lang_ok && region_ok
}

fn interactive_frame(
    header: Option<&str>,
    body: &str,
    footer: Option<&str>,
) -> Result<(), MessageError> {
    optional("interactive.header", header, limits::INTERACTIVE_HEADER)?;
    required("interactive.body", body, limits::INTERACTIVE_BODY)?;
    optional("interactive.footer", footer, limits::INTERACTIVE_HEADER)
}

fn buttons(b: &Buttons) -> Result<(), MessageError> {
    interactive_frame(b.header.as_deref(), &b.body, b.footer.as_deref())?;
    if b.buttons.is_empty() || b.buttons.len() > limits::BUTTONS {
        return Err(MessageError::ButtonsCount {
            max: limits::BUTTONS,
            actual: b.buttons.len(),
        });
    }
    let mut seen = HashSet::new();
    for (i, button) in b.buttons.iter().enumerate() {
        required(&format!("buttons[{i}].id"), &button.id, limits::BUTTON_ID)?;
        required(
            &format!("buttons[{i}].title"),
            &button.title,
            limits::BUTTON_TITLE,
        )?;
        if !seen.insert(button.id.as_str()) {
            return Err(MessageError::DuplicateId {
                id: button.id.clone(),
            });
        }
    }
    Ok(())
}

fn list(l: &List) -> Result<(), MessageError> {
    interactive_frame(l.header.as_deref(), &l.body, l.footer.as_deref())?;
    required("list.button", &l.button, limits::LIST_BUTTON)?;
    let rows: usize = l.sections.iter().map(|s| s.rows.len()).sum();
    let sections = l.sections.len();
    if sections == 0
        || sections > limits::LIST_SECTIONS
        || rows == 0
        || rows > limits::LIST_ROWS
        || l.sections.iter().any(|s| s.rows.is_empty())
    {
        return Err(MessageError::ListRowsCount { sections, rows });
    }
    let mut seen = HashSet::new();
    for (si, s) in l.sections.iter().enumerate() {
        match s.title.as_deref() {
            Some(t) => required(
                &format!("sections[{si}].title"),
                t,
                limits::LIST_SECTION_TITLE,
            )?,
            None if sections > 1 => return Err(MessageError::SectionTitleMissing { index: si }),
            None => {}
        }
        for (ri, r) in s.rows.iter().enumerate() {
            required(
                &format!("sections[{si}].rows[{ri}].id"),
                &r.id,
                limits::LIST_ROW_ID,
            )?;
            required(
                &format!("sections[{si}].rows[{ri}].title"),
                &r.title,
                limits::LIST_ROW_TITLE,
            )?;
            optional(
                &format!("sections[{si}].rows[{ri}].description"),
                r.description.as_deref(),
                limits::LIST_ROW_DESCRIPTION,
            )?;
            if !seen.insert(r.id.as_str()) {
                return Err(MessageError::DuplicateId { id: r.id.clone() });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::language_ok;

    #[test]
    fn languages() {
        for ok in ["en", "en_US", "pt_BR", "es_419", "fil"] {
            assert!(language_ok(ok), "{ok}");
        }
        for bad in ["", "EN", "en-US", "en_us", "english", "e", "en_", "_US"] {
            assert!(!language_ok(bad), "{bad}");
        }
    }
}
