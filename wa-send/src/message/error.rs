//! Validation errors of the message model.
//!
//! The codes and their meanings: [`MessageError::ALL_CODES`].

/// A message that breaks a WhatsApp limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// The text body is empty.
    #[error("the text body is empty")]
    TextEmpty,
    /// A field is over its length limit (in characters, bytes for callback data).
    #[error("{field} is {actual} long; the limit is {max}")]
    TooLong {
        /// Which field, e.g. `text.body` or `buttons[1].title`.
        field: String,
        /// The limit.
        max: usize,
        /// The length found.
        actual: usize,
    },
    /// A required field is empty.
    #[error("{field} must not be empty")]
    FieldEmpty {
        /// Which field.
        field: String,
    },
    /// Audio and stickers take no caption.
    #[error("{kind} messages take no caption")]
    CaptionNotAllowed {
        /// The media kind.
        kind: &'static str,
    },
    /// Only documents take a file name.
    #[error("{kind} messages take no file name")]
    FilenameNotAllowed {
        /// The media kind.
        kind: &'static str,
    },
    /// A media link is not an absolute `https` URL.
    #[error("media links must be absolute https URLs")]
    MediaLinkInvalid,
    /// Latitude or longitude is out of range.
    #[error("latitude must be within -90..=90 and longitude within -180..=180")]
    LocationInvalid,
    /// Contacts: 1 to 257.
    #[error("a contacts message carries 1 to {max} contacts, not {actual}")]
    ContactsCount {
        /// The limit (257).
        max: usize,
        /// How many were given.
        actual: usize,
    },
    /// Reply buttons: 1 to 3.
    #[error("a buttons message carries 1 to {max} buttons, not {actual}")]
    ButtonsCount {
        /// The limit (3).
        max: usize,
        /// How many were given.
        actual: usize,
    },
    /// List rows: 1 to 10 in all, 1 to 10 sections, no empty section.
    #[error(
        "a list carries 1 to 10 sections and 1 to 10 rows in all, with no empty section ({sections} sections, {rows} rows)"
    )]
    ListRowsCount {
        /// Sections given.
        sections: usize,
        /// Rows given.
        rows: usize,
    },
    /// Two buttons or rows share an id.
    #[error("the id {id:?} is used twice")]
    DuplicateId {
        /// The id.
        id: String,
    },
    /// A list with several sections needs a title on each.
    #[error("section {index} needs a title when a list has several sections")]
    SectionTitleMissing {
        /// The section's index.
        index: usize,
    },
    /// A template name is not lowercase letters, digits and `_`.
    #[error("template names are 1 to 512 lowercase letters, digits and underscores")]
    TemplateNameInvalid,
    /// A language code is not like `en` or `en_US`.
    #[error("template languages are codes like `en` or `en_US`")]
    TemplateLanguageInvalid,
    /// A media object with both or neither of `id` and `link`.
    #[error("{field} needs exactly one of `id` and `link`")]
    MediaSourceInvalid {
        /// Where.
        field: String,
    },
    /// An authentication template code that is empty or too long (Meta's limit).
    #[error("authentication codes are 1 to {max} characters, not {actual}")]
    AuthenticationCodeLength {
        /// The limit.
        max: usize,
        /// Given.
        actual: usize,
    },
    /// The recipient kind cannot receive messages.
    #[error("this recipient cannot receive messages: {reason}")]
    RecipientUnsupported {
        /// Why.
        reason: &'static str,
    },
}

wa_validate::error_codes! {
    MessageError;
    TextEmpty => "message_text_empty", "the text body is empty";
    TooLong => "message_too_long", "a field is over its limit (`field`, `max`, `actual` say which)";
    FieldEmpty => "message_field_empty", "a required field is empty (`field`)";
    CaptionNotAllowed => "message_caption_not_allowed", "audio and stickers take no caption";
    FilenameNotAllowed => "message_filename_not_allowed", "only documents take a file name";
    MediaLinkInvalid => "message_media_link_invalid", "a media link is not an absolute https URL";
    LocationInvalid => "message_location_invalid", "latitude/longitude out of range or not finite";
    ContactsCount => "message_contacts_count", "1 to 257 contacts";
    ButtonsCount => "message_buttons_count", "1 to 3 reply buttons";
    ListRowsCount => "message_list_rows_count", "1 to 10 rows in all, 1 to 10 sections, none empty";
    DuplicateId => "message_duplicate_id", "two buttons or rows share an id";
    SectionTitleMissing => "message_section_title_missing", "a list with several sections needs every title";
    TemplateNameInvalid => "message_template_name_invalid", "not lowercase letters, digits and `_`";
    TemplateLanguageInvalid => "message_template_language_invalid", "not a language code like `en` or `en_US`";
    RecipientUnsupported => "message_recipient_unsupported", "the recipient kind cannot receive this (e.g. a broadcast JID)";
    MediaSourceInvalid => "message_media_source_invalid", "a media object needs exactly one of `id` and `link`";
    AuthenticationCodeLength => "message_authentication_code_length", "an authentication template's code is not 1 to 15 characters";
}

impl MessageError {
    /// The field at fault, when one field is.
    pub fn field(&self) -> Option<&str> {
        match self {
            MessageError::TooLong { field, .. }
            | MessageError::FieldEmpty { field }
            | MessageError::MediaSourceInvalid { field } => Some(field),
            MessageError::TextEmpty => Some("text.body"),
            _ => None,
        }
    }
}
