//! Meta's Cloud API message JSON as serde types: the one definition of that wire shape.
//!
//! [`WireContent`] is the `{"type": "text", "text": {…}}` part of a send request, an
//! internally tagged enum on `type`; [`WireMessage`] is the whole request body. The Cloud API
//! backend serialises them, and the reference server deserialises its extended send body
//! with them, so both directions share one type per object.
//!
//! # Examples
//! ```
//! use wa_send::message::wire::WireContent;
//! use wa_send::Content;
//!
//! let wire: WireContent = serde_json::from_str(r#"{"type":"text","text":{"body":"Hi"}}"#)?;
//! let content = Content::try_from(wire)?;
//! assert_eq!(content, Content::text("Hi"));
//! let back = serde_json::to_value(WireContent::from(&content))?;
//! assert_eq!(back["text"]["body"], "Hi");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{
    ButtonSubType, Buttons, Contact, Content, List, ListSection, Location, Media, MediaKind,
    MediaSource, MessageError, ReplyButton, Template, TemplateComponent, TemplateParameter,
};

/// The typed part of a Cloud API send request: `type` plus the object it names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum WireContent {
    /// `{"type":"text","text":{"body","preview_url"}}`.
    Text {
        /// The text object.
        text: WireText,
    },
    /// `{"type":"template","template":{"name","language","components"}}`.
    Template {
        /// The template object.
        template: WireTemplate,
    },
    /// An image.
    Image {
        /// The media object.
        image: WireMedia,
    },
    /// A video.
    Video {
        /// The media object.
        video: WireMedia,
    },
    /// An audio file.
    Audio {
        /// The media object.
        audio: WireMedia,
    },
    /// A document.
    Document {
        /// The media object.
        document: WireMedia,
    },
    /// A sticker.
    Sticker {
        /// The media object.
        sticker: WireMedia,
    },
    /// A location pin.
    Location {
        /// The location object.
        location: WireLocation,
    },
    /// Contact cards.
    Contacts {
        /// The cards (Meta's contact objects).
        #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Object>))]
        contacts: Vec<Contact>,
    },
    /// A reaction.
    Reaction {
        /// The reaction object.
        reaction: WireReaction,
    },
    /// Reply buttons, a list, or a location request.
    Interactive {
        /// The interactive object.
        interactive: WireInteractive,
    },
}

/// `text`: the body and whether to preview its first URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WireText {
    /// Render a preview of the first URL.
    #[serde(default)]
    pub preview_url: bool,
    /// The text (≤ 4096 characters).
    pub body: String,
}

/// `template`: Meta's template object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WireTemplate {
    /// The approved template's name.
    pub name: String,
    /// Its language: `"en_US"` or `{"code":"en_US"}` when read; always the object when written.
    pub language: WireLanguage,
    /// Values for the template's variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<WireComponent>,
}

/// A template language, read as `"en_US"` or `{"code":"en_US"}`, written as the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireLanguage {
    /// The language code.
    pub code: String,
}

impl Serialize for WireLanguage {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Object<'a> {
            code: &'a str,
        }
        Object { code: &self.code }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for WireLanguage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(
            untagged,
            expecting = "a language code like \"en_US\" or {\"code\": \"en_US\"}"
        )]
        enum Either {
            Code(String),
            Object {
                code: String,
                #[allow(dead_code)] // Meta's optional `policy` ("deterministic") is accepted
                #[serde(default)]
                policy: Option<String>,
            },
        }
        Ok(match Either::deserialize(d)? {
            Either::Code(code) | Either::Object { code, .. } => WireLanguage { code },
        })
    }
}

/// One template component with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WireComponent {
    /// Header variables.
    Header {
        /// The values.
        #[serde(default)]
        parameters: Vec<WireParameter>,
    },
    /// Body variables (`{{1}}`, `{{2}}`, …).
    Body {
        /// The values.
        #[serde(default)]
        parameters: Vec<WireParameter>,
    },
    /// A button's variable.
    Button {
        /// The button kind.
        sub_type: ButtonSubType,
        /// The button's position, written as a string (`"0"`), read as a string or number.
        index: WireIndex,
        /// The values.
        #[serde(default)]
        parameters: Vec<WireParameter>,
    },
}

/// A button index: Meta's docs write `"0"`, older ones `0`; both are read, `"0"` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireIndex(pub u8);

impl Serialize for WireIndex {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for WireIndex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged, expecting = "a button index 0-9, as a number or a string")]
        enum Either {
            Number(u8),
            Text(String),
        }
        let n = match Either::deserialize(d)? {
            Either::Number(n) => n,
            Either::Text(t) => t
                .trim()
                .parse()
                .map_err(|_| serde::de::Error::custom("a button index 0-9"))?,
        };
        Ok(WireIndex(n))
    }
}

/// A template variable's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WireParameter {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An amount of money.
    Currency {
        /// The money object.
        currency: WireCurrency,
    },
    /// A date and time (shown as given).
    DateTime {
        /// The fallback object.
        date_time: WireFallback,
    },
    /// A header image.
    Image {
        /// The media.
        image: WireMedia,
    },
    /// A header video.
    Video {
        /// The media.
        video: WireMedia,
    },
    /// A header document.
    Document {
        /// The media.
        document: WireMedia,
    },
    /// A quick-reply button's payload.
    Payload {
        /// The payload.
        payload: String,
    },
    /// A copy-code button's coupon.
    CouponCode {
        /// The code.
        coupon_code: String,
    },
}

/// `currency`: what is shown, the ISO 4217 code and the amount × 1000 (an integer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WireCurrency {
    /// Text shown when the amount cannot be localised.
    pub fallback_value: String,
    /// ISO 4217 code.
    pub code: String,
    /// The amount multiplied by 1000, as an integer.
    pub amount_1000: i64,
}

/// `date_time`: the text shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WireFallback {
    /// The text shown.
    pub fallback_value: String,
}

/// A media object: exactly one of `id` (uploaded media) and `link` (an https URL).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WireMedia {
    /// An uploaded media id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// An `https` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Caption (image, video, document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// File name (documents).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// `location`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WireLocation {
    /// Degrees, -90 to 90 (a number, or a numeric string as in Meta's examples).
    #[serde(deserialize_with = "finite_number")]
    pub latitude: f64,
    /// Degrees, -180 to 180.
    #[serde(deserialize_with = "finite_number")]
    pub longitude: f64,
    /// Place name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// A finite number given as a JSON number or a numeric string.
fn finite_number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged, expecting = "a finite number")]
    enum Either {
        Number(f64),
        Text(String),
    }
    let v = match Either::deserialize(d)? {
        Either::Number(n) => n,
        Either::Text(t) => t
            .trim()
            .parse::<f64>()
            .map_err(|_| serde::de::Error::custom("a finite number"))?,
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err(serde::de::Error::custom("a finite number"))
    }
}

/// `reaction`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WireReaction {
    /// The message reacted to.
    pub message_id: String,
    /// The emoji; empty removes the reaction.
    pub emoji: String,
}

/// `interactive`: reply buttons, a list, or a location request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WireInteractive {
    /// Up to three reply buttons.
    Button {
        /// A text header.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<WireHeader>,
        /// The body.
        body: WireBody,
        /// A footer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<WireBody>,
        /// The buttons.
        action: WireButtons,
    },
    /// A list of rows in sections.
    List {
        /// A text header.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<WireHeader>,
        /// The body.
        body: WireBody,
        /// A footer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<WireBody>,
        /// The button label and the sections.
        action: WireListAction,
    },
    /// Asks for the user's location.
    LocationRequestMessage {
        /// The body.
        body: WireBody,
        /// `{"name":"send_location"}`.
        action: WireNamedAction,
    },
}

/// An interactive header (text headers only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WireHeader {
    /// A text header.
    Text {
        /// The text.
        text: String,
    },
}

/// `{"text": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WireBody {
    /// The text.
    pub text: String,
}

/// `{"buttons": [{"type":"reply","reply":{"id","title"}}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WireButtons {
    /// The buttons.
    pub buttons: Vec<WireButton>,
}

/// One reply button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WireButton {
    /// A reply button.
    Reply {
        /// Its id and title.
        reply: ReplyButton,
    },
}

/// `{"button": <label>, "sections": […]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WireListAction {
    /// The label of the button that opens the list.
    pub button: String,
    /// The sections.
    pub sections: Vec<ListSection>,
}

/// `{"name": "send_location"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WireNamedAction {
    /// The action's name.
    pub name: String,
}

/// The `context` of a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireContext {
    /// The message replied to.
    pub message_id: String,
}

/// A whole Cloud API send request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WireMessage<'a> {
    /// Always `whatsapp`.
    pub messaging_product: &'static str,
    /// Always `individual`.
    pub recipient_type: &'static str,
    /// The phone, `+` and country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// A BSUID, instead of `to`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<&'a str>,
    /// The message replied to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<WireContext>,
    /// Echoed back in status webhooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<&'a str>,
    /// The typed part.
    #[serde(flatten)]
    pub content: WireContent,
}

#[cfg(feature = "utoipa")]
mod schemas {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};

    impl utoipa::PartialSchema for super::WireLanguage {
        fn schema() -> RefOr<Schema> {
            let code = ObjectBuilder::new()
                .schema_type(Type::Object)
                .property("code", ObjectBuilder::new().schema_type(Type::String))
                .required("code");
            OneOfBuilder::new()
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .examples(["en_US"]),
                )
                .item(code)
                .description(Some(
                    "A language code like `en_US`, or Meta's `{\"code\": \"en_US\"}`",
                ))
                .into()
        }
    }

    impl utoipa::ToSchema for super::WireLanguage {}

    impl utoipa::PartialSchema for super::WireIndex {
        fn schema() -> RefOr<Schema> {
            OneOfBuilder::new()
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .examples(["0"]),
                )
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0))
                        .maximum(Some(9)),
                )
                .description(Some("The button's position, `\"0\"` (or `0`)"))
                .into()
        }
    }

    impl utoipa::ToSchema for super::WireIndex {}
}

mod convert;
