//! The outbound message model: one [`Outbound`] per message, with a [`Content`] for every
//! WhatsApp message type.
//!
//! | content | Cloud API | WSAPI |
//! |---|---|---|
//! | [`Content::Text`] | `text` | `/messages/text` |
//! | [`Content::Template`] | `template` | — |
//! | [`Content::Media`] (image, video, audio, document, sticker) | by media id or `https` link | by link |
//! | [`Content::Location`] | `location` | `/messages/location` |
//! | [`Content::Contacts`] | `contacts` (≤ 257) | `/messages/contact` (one, as vCard) |
//! | [`Content::Reaction`] | `reaction` (empty emoji removes) | `/messages/{id}/reaction` |
//! | [`Content::Buttons`] | `interactive` `button` (≤ 3) | — |
//! | [`Content::List`] | `interactive` `list` (≤ 10 rows) | — |
//! | [`Content::LocationRequest`] | `interactive` `location_request_message` | — |
//!
//! Limits (facts §3.1) are checked by [`Outbound::validate`] before any backend sends; every
//! violation has a stable `message_*` code (see [`MessageError`]).

mod contact;
mod error;
mod template;
mod validate;
pub mod wire;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
pub use wa_validate::Recipient;

pub use contact::{Contact, ContactEmail, ContactName, ContactOrg, ContactPhone, ContactUrl};
pub use error::MessageError;
pub use template::{ButtonSubType, Template, TemplateComponent, TemplateParameter};
pub use validate::limits;

/// One message to deliver.
///
/// # Examples
/// ```
/// use wa_send::{Content, Outbound, Recipient};
///
/// let msg = Outbound::new(Recipient::parse("+1 415 555 2671")?, Content::text("Hello!"));
/// msg.validate()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Outbound {
    /// Who receives it: a phone number, a BSUID or a JID. Read back from storage as
    /// trusted ([`Recipient::parse_trusted`]): it was validated when it was accepted.
    #[serde(deserialize_with = "wa_validate::trusted_recipient")]
    pub recipient: Recipient,
    /// What is sent.
    pub content: Content,
    /// The provider message id (`wamid…`) this message replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Caller's key/value data kept with the message; never sent to WhatsApp.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Opaque data Meta echoes back in status webhooks (≤ 512 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
}

impl Outbound {
    /// A message with no reply context, metadata or callback data.
    pub fn new(recipient: Recipient, content: Content) -> Self {
        Outbound {
            recipient,
            content,
            reply_to: None,
            metadata: BTreeMap::new(),
            biz_opaque_callback_data: None,
        }
    }

    /// Makes the message a reply to the provider message `wamid`.
    #[must_use]
    pub fn reply_to(mut self, wamid: impl Into<String>) -> Self {
        self.reply_to = Some(wamid.into());
        self
    }

    /// Adds one metadata entry.
    #[must_use]
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets the data Meta echoes back in status webhooks.
    #[must_use]
    pub fn biz_opaque_callback_data(mut self, data: impl Into<String>) -> Self {
        self.biz_opaque_callback_data = Some(data.into());
        self
    }

    /// Checks every limit of facts §3.1.
    ///
    /// # Errors
    /// The first violated limit, as a [`MessageError`] with a stable `message_*` code.
    pub fn validate(&self) -> Result<(), MessageError> {
        validate::outbound(self)
    }
}

/// What a message carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Content {
    /// Plain text (≤ 4096 characters).
    Text {
        /// The text.
        body: String,
        /// Ask WhatsApp to render a preview of the first URL.
        #[serde(default)]
        preview_url: bool,
    },
    /// A pre-approved template.
    Template(Template),
    /// An image, video, audio, document or sticker.
    Media(Media),
    /// A location pin.
    Location(Location),
    /// One or more contact cards (≤ 257).
    Contacts {
        /// The cards.
        contacts: Vec<Contact>,
    },
    /// A reaction to an earlier message; an empty emoji removes it.
    Reaction {
        /// The message reacted to.
        message_id: String,
        /// The emoji, or empty to remove the reaction.
        emoji: String,
    },
    /// Up to three reply buttons.
    Buttons(Buttons),
    /// A list of up to ten rows in up to ten sections.
    List(List),
    /// Asks the user to share their location.
    LocationRequest {
        /// The text above the button (≤ 1024 characters).
        body: String,
    },
}

impl Content {
    /// Text without a link preview.
    pub fn text(body: impl Into<String>) -> Self {
        Content::Text {
            body: body.into(),
            preview_url: false,
        }
    }

    /// A one-line human summary: the text itself for text messages, otherwise what the
    /// message is (`[template hello_world (en_US)]`, `[image] caption`, `[location] name`…).
    ///
    /// # Examples
    /// ```
    /// use wa_send::{Content, Template};
    /// assert_eq!(Content::text("Hi").summary(), "Hi");
    /// assert_eq!(Content::Template(Template::new("hello_world", "en_US")).summary(), "[template hello_world (en_US)]");
    /// ```
    pub fn summary(&self) -> String {
        match self {
            Content::Text { body, .. } => body.clone(),
            Content::Template(t) => format!("[template {} ({})]", t.name, t.language),
            Content::Media(m) => match &m.caption {
                Some(c) => format!("[{}] {c}", m.kind.as_str()),
                None => format!("[{}]", m.kind.as_str()),
            },
            Content::Location(l) => match &l.name {
                Some(n) => format!("[location] {n}"),
                None => format!("[location] {}, {}", l.latitude, l.longitude),
            },
            Content::Contacts { contacts } => format!("[contacts] {}", contacts.len()),
            Content::Reaction { emoji, .. } => format!("[reaction] {emoji}"),
            Content::Buttons(b) => b.body.clone(),
            Content::List(l) => l.body.clone(),
            Content::LocationRequest { body } => body.clone(),
        }
    }

    /// The wire name of the type (`text`, `template`, `image`, …, `interactive`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Content::Text { .. } => "text",
            Content::Template(_) => "template",
            Content::Media(m) => m.kind.as_str(),
            Content::Location(_) => "location",
            Content::Contacts { .. } => "contacts",
            Content::Reaction { .. } => "reaction",
            Content::Buttons(_) | Content::List(_) | Content::LocationRequest { .. } => {
                "interactive"
            }
        }
    }
}

/// An image, video, audio, document or sticker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Media {
    /// Which kind.
    pub kind: MediaKind,
    /// Where the file is.
    pub source: MediaSource,
    /// Caption (image, video, document; ≤ 1024 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// File name shown (documents only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

impl Media {
    /// Media of `kind` from `source`, without caption or file name.
    pub fn new(kind: MediaKind, source: MediaSource) -> Self {
        Media {
            kind,
            source,
            caption: None,
            filename: None,
        }
    }

    /// Sets the caption.
    #[must_use]
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// Sets the file name (documents).
    #[must_use]
    pub fn filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }
}

/// The kind of a media message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MediaKind {
    /// jpeg/png, ≤ 5 MB.
    Image,
    /// mp4/3gp, ≤ 16 MB.
    Video,
    /// aac/amr/mp3/m4a/ogg, ≤ 16 MB; no caption.
    Audio,
    /// Any file, ≤ 100 MB.
    Document,
    /// webp; no caption.
    Sticker,
}

impl MediaKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }

    /// Whether this kind takes a caption.
    pub fn allows_caption(self) -> bool {
        matches!(
            self,
            MediaKind::Image | MediaKind::Video | MediaKind::Document
        )
    }
}

/// Where a media file is: an uploaded media id or a public `https` URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MediaSource {
    /// A media id returned by the upload API (recommended by Meta).
    Id(String),
    /// A public `https` URL.
    Link(String),
}

/// A location pin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// Latitude in degrees, −90..=90.
    pub latitude: f64,
    /// Longitude in degrees, −180..=180.
    pub longitude: f64,
    /// Place name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl Location {
    /// A pin without name or address.
    pub fn new(latitude: f64, longitude: f64) -> Self {
        Location {
            latitude,
            longitude,
            name: None,
            address: None,
        }
    }
}

/// Up to three reply buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Buttons {
    /// Text header (≤ 60 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Body text (≤ 1024 characters, required).
    pub body: String,
    /// Footer (≤ 60 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    /// One to three buttons with unique ids.
    pub buttons: Vec<ReplyButton>,
}

impl Buttons {
    /// Buttons under `body`.
    pub fn new(body: impl Into<String>, buttons: impl IntoIterator<Item = ReplyButton>) -> Self {
        Buttons {
            header: None,
            body: body.into(),
            footer: None,
            buttons: buttons.into_iter().collect(),
        }
    }
}

/// One reply button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct ReplyButton {
    /// Returned in the reply webhook (≤ 256 characters).
    pub id: String,
    /// Label (≤ 20 characters).
    pub title: String,
}

impl ReplyButton {
    /// A button.
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        ReplyButton {
            id: id.into(),
            title: title.into(),
        }
    }
}

/// A list message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct List {
    /// Text header (≤ 60 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// Body text (≤ 1024 characters, required).
    pub body: String,
    /// Footer (≤ 60 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
    /// The label of the button that opens the list (≤ 20 characters).
    pub button: String,
    /// One to ten sections, ten rows in all.
    pub sections: Vec<ListSection>,
}

impl List {
    /// A list.
    pub fn new(
        body: impl Into<String>,
        button: impl Into<String>,
        sections: impl IntoIterator<Item = ListSection>,
    ) -> Self {
        List {
            header: None,
            body: body.into(),
            footer: None,
            button: button.into(),
            sections: sections.into_iter().collect(),
        }
    }
}

/// One section of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct ListSection {
    /// Title (≤ 24 characters; required when there is more than one section).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The rows.
    pub rows: Vec<ListRow>,
}

impl ListSection {
    /// A section.
    pub fn new(title: Option<&str>, rows: impl IntoIterator<Item = ListRow>) -> Self {
        ListSection {
            title: title.map(str::to_owned),
            rows: rows.into_iter().collect(),
        }
    }
}

/// One row of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct ListRow {
    /// Returned in the reply webhook (≤ 200 characters).
    pub id: String,
    /// Title (≤ 24 characters).
    pub title: String,
    /// Description (≤ 72 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl ListRow {
    /// A row without description.
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        ListRow {
            id: id.into(),
            title: title.into(),
            description: None,
        }
    }
}
