//! Template messages: the template, its components and their parameters (Meta's
//! `template` object).

use serde::{Deserialize, Serialize};

use super::{MediaSource, MessageError, limits};

/// A template message.
///
/// # Examples
/// ```
/// use wa_send::{Template, TemplateComponent, TemplateParameter};
///
/// let t = Template::new("order_update", "en_US")
///     .component(TemplateComponent::body([TemplateParameter::text("#1234")]));
/// assert_eq!(t.components.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Template {
    /// The template's name (lowercase letters, digits and `_`, ≤ 512).
    pub name: String,
    /// The language code, e.g. `en_US` or `pt_BR`.
    pub language: String,
    /// Parameters for the header, body and buttons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<TemplateComponent>,
}

impl Template {
    /// A template with no parameters.
    pub fn new(name: impl Into<String>, language: impl Into<String>) -> Self {
        Template {
            name: name.into(),
            language: language.into(),
            components: Vec::new(),
        }
    }

    /// Adds a component.
    #[must_use]
    pub fn component(mut self, component: TemplateComponent) -> Self {
        self.components.push(component);
        self
    }

    /// The authentication (OTP) template of facts §5: the code in the body and in the
    /// copy-code / one-tap URL button.
    pub fn authentication(
        name: impl Into<String>,
        language: impl Into<String>,
        code: &str,
    ) -> Result<Self, MessageError> {
        let len = code.chars().count();
        if len == 0 || len > limits::AUTHENTICATION_CODE {
            return Err(MessageError::AuthenticationCodeLength {
                max: limits::AUTHENTICATION_CODE,
                actual: len,
            });
        }
        Ok(Template::new(name, language)
            .component(TemplateComponent::body([TemplateParameter::text(code)]))
            .component(TemplateComponent::button(
                ButtonSubType::Url,
                0,
                [TemplateParameter::text(code)],
            )))
    }
}

/// One component of a template's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TemplateComponent {
    /// Header parameters (one text or media parameter).
    Header {
        /// The parameters.
        parameters: Vec<TemplateParameter>,
    },
    /// Body parameters, in `{{1}}`, `{{2}}`… order.
    Body {
        /// The parameters.
        parameters: Vec<TemplateParameter>,
    },
    /// The parameters of one button.
    Button {
        /// Which kind of button.
        sub_type: ButtonSubType,
        /// The button's position, 0-based.
        index: u8,
        /// The parameters.
        #[serde(default)]
        parameters: Vec<TemplateParameter>,
    },
}

impl TemplateComponent {
    /// Body parameters.
    pub fn body(parameters: impl IntoIterator<Item = TemplateParameter>) -> Self {
        TemplateComponent::Body {
            parameters: parameters.into_iter().collect(),
        }
    }

    /// Header parameters.
    pub fn header(parameters: impl IntoIterator<Item = TemplateParameter>) -> Self {
        TemplateComponent::Header {
            parameters: parameters.into_iter().collect(),
        }
    }

    /// Button parameters.
    pub fn button(
        sub_type: ButtonSubType,
        index: u8,
        parameters: impl IntoIterator<Item = TemplateParameter>,
    ) -> Self {
        TemplateComponent::Button {
            sub_type,
            index,
            parameters: parameters.into_iter().collect(),
        }
    }
}

/// The kind of a template button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ButtonSubType {
    /// A URL button with a dynamic suffix (also the OTP copy-code / one-tap button).
    Url,
    /// A quick-reply button with a payload.
    QuickReply,
    /// A copy-code (coupon) button.
    CopyCode,
    /// A flow button.
    Flow,
}

impl ButtonSubType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ButtonSubType::Url => "url",
            ButtonSubType::QuickReply => "quick_reply",
            ButtonSubType::CopyCode => "copy_code",
            ButtonSubType::Flow => "flow",
        }
    }
}

/// One template parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum TemplateParameter {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// A currency amount.
    Currency {
        /// What older clients show.
        fallback_value: String,
        /// ISO 4217 code.
        code: String,
        /// The amount × 1000.
        amount_1000: i64,
    },
    /// A date and time.
    DateTime {
        /// What clients show.
        fallback_value: String,
    },
    /// A header image.
    Image {
        /// The media.
        source: MediaSource,
    },
    /// A header video.
    Video {
        /// The media.
        source: MediaSource,
    },
    /// A header document.
    Document {
        /// The media.
        source: MediaSource,
        /// The file name shown.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filename: Option<String>,
    },
    /// A quick-reply button payload.
    Payload {
        /// The payload returned when the button is tapped.
        payload: String,
    },
    /// A copy-code button's coupon code.
    CouponCode {
        /// The code.
        coupon_code: String,
    },
}

impl TemplateParameter {
    /// A text parameter.
    pub fn text(text: impl Into<String>) -> Self {
        TemplateParameter::Text { text: text.into() }
    }
}
