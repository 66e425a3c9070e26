//! Meta's WhatsApp Cloud API (facts §3): `POST {base}/{version}/{phone_number_id}/messages`.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use wa_validate::Recipient;

use super::http;
use super::{CredentialInfo, DeliveryBackend, DeliveryError, Receipt};
use crate::message::Outbound;
use crate::message::wire::{WireContent, WireContext, WireMessage};

const NAME: &str = "cloud_api";

/// Meta's Graph API host.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";
/// The Graph API version used unless [`CloudApiBuilder::graph_version`] says otherwise.
pub const DEFAULT_GRAPH_VERSION: &str = "v24.0";

/// Sends through Meta's WhatsApp Cloud API.
///
/// The access token never appears in `Debug` output or errors.
///
/// # Examples
/// ```
/// use wa_send::CloudApiBackend;
///
/// let backend = CloudApiBackend::builder("EAAG-token", "106540352242922")
///     .graph_version("v24.0")
///     .build()?;
/// assert_eq!(wa_send::DeliveryBackend::name(&backend), "cloud_api");
/// # Ok::<(), wa_send::DeliveryError>(())
/// ```
#[derive(Clone)]
pub struct CloudApiBackend {
    client: reqwest::Client,
    token: String,
    phone_number_id: String,
    base: String,
    timeout: Duration,
}

impl fmt::Debug for CloudApiBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudApiBackend")
            .field("phone_number_id", &self.phone_number_id)
            .field("base", &self.base)
            .field("token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Builds a [`CloudApiBackend`].
#[must_use]
pub struct CloudApiBuilder {
    token: String,
    phone_number_id: String,
    base_url: String,
    version: String,
    timeout: Duration,
}

impl fmt::Debug for CloudApiBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudApiBuilder")
            .field("phone_number_id", &self.phone_number_id)
            .field("base_url", &self.base_url)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl CloudApiBuilder {
    /// The Graph host. Defaults to `https://graph.facebook.com`; tests point it at a local fake.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The Graph API version path segment. Defaults to [`DEFAULT_GRAPH_VERSION`].
    pub fn graph_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The limit for a whole request. Defaults to 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the configuration and builds the backend.
    ///
    /// # Errors
    /// `delivery_config_invalid` for an empty token, a phone number id that is not digits,
    /// a malformed version or base URL.
    pub fn build(self) -> Result<CloudApiBackend, DeliveryError> {
        http::credential("the access token", &self.token)?;
        if self.phone_number_id.is_empty()
            || self.phone_number_id.len() > 32
            || !self.phone_number_id.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(DeliveryError::Config {
                detail: "the phone number id must be digits".to_owned(),
            });
        }
        let v = self.version.strip_prefix('v').unwrap_or("");
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(DeliveryError::Config {
                detail: format!("graph version {:?} must look like v24.0", self.version),
            });
        }
        let base = format!("{}/{}", http::base_url(&self.base_url)?, self.version);
        Ok(CloudApiBackend {
            client: http::client(self.timeout)?,
            token: self.token,
            phone_number_id: self.phone_number_id,
            base,
            timeout: self.timeout,
        })
    }
}

impl CloudApiBackend {
    /// Starts a builder with the two required inputs: an access token and the sending
    /// number's phone number id.
    pub fn builder(
        token: impl Into<String>,
        phone_number_id: impl Into<String>,
    ) -> CloudApiBuilder {
        CloudApiBuilder {
            token: token.into(),
            phone_number_id: phone_number_id.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            version: DEFAULT_GRAPH_VERSION.to_owned(),
            timeout: http::DEFAULT_TIMEOUT,
        }
    }

    /// The sending number's phone number id.
    pub fn phone_number_id(&self) -> &str {
        &self.phone_number_id
    }

    async fn exchange(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), DeliveryError> {
        http::exchange(NAME, self.timeout, req.bearer_auth(&self.token)).await
    }
}

/// Graph's answer to a send (facts §3.2).
#[derive(Debug, Deserialize)]
struct SendAnswer {
    #[serde(default)]
    contacts: Vec<AnswerContact>,
    #[serde(default)]
    messages: Vec<AnswerMessage>,
}

#[derive(Debug, Deserialize)]
struct AnswerContact {
    wa_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AnswerMessage {
    id: Option<String>,
    message_status: Option<String>,
}

/// Graph's error body (facts §3.3).
#[derive(Debug, Deserialize)]
struct ErrorAnswer {
    error: GraphError,
}

#[derive(Debug, Deserialize)]
struct GraphError {
    code: Option<i64>,
    #[serde(default)]
    message: String,
    error_data: Option<GraphErrorData>,
}

#[derive(Debug, Deserialize)]
struct GraphErrorData {
    details: Option<String>,
}

/// Graph's answer to the credential check.
#[derive(Debug, Deserialize)]
struct PhoneNumberAnswer {
    id: Option<String>,
    display_phone_number: Option<String>,
    verified_name: Option<String>,
}

#[async_trait]
impl DeliveryBackend for CloudApiBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn check(&self, message: &Outbound) -> Result<(), DeliveryError> {
        wire_message(message).map(drop)
    }

    async fn send(&self, message: &Outbound) -> Result<Receipt, DeliveryError> {
        let body = wire_message(message)?;
        let url = format!("{}/{}/messages", self.base, self.phone_number_id);
        let (status, headers, bytes) = self.exchange(self.client.post(url).json(&body)).await?;
        if !(200..300).contains(&status) {
            return Err(error_from_response(status, &headers, &bytes));
        }
        parse_success(status, &bytes)
    }

    async fn verify_credentials(&self) -> Result<CredentialInfo, DeliveryError> {
        let url = format!(
            "{}/{}?fields=id,display_phone_number,verified_name,quality_rating",
            self.base, self.phone_number_id
        );
        let (status, headers, bytes) = self.exchange(self.client.get(url)).await?;
        if !(200..300).contains(&status) {
            return Err(error_from_response(status, &headers, &bytes));
        }
        let details = http::json_object(NAME, status, &bytes)?;
        let answer: PhoneNumberAnswer = http::typed(NAME, status, &bytes)?;
        let mut info = CredentialInfo::new(
            NAME,
            answer.id.unwrap_or_else(|| self.phone_number_id.clone()),
        )
        .details(details);
        info.display_phone_number = answer.display_phone_number;
        info.verified_name = answer.verified_name;
        Ok(info)
    }
}

/// Maps a non-2xx answer: Meta's `error.code` when present (facts §3.3), else the status.
fn error_from_response(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
) -> DeliveryError {
    let retry_after = http::retry_after(headers);
    let parsed = serde_json::from_slice::<ErrorAnswer>(body).ok();
    match parsed
        .as_ref()
        .and_then(|a| a.error.code.map(|c| (c, &a.error)))
    {
        Some((code, e)) => {
            let details = e.error_data.as_ref().and_then(|d| d.details.as_deref());
            let message = match details {
                Some(d) if e.message.is_empty() => d.to_owned(),
                Some(d) => format!("{}: {d}", e.message),
                None => e.message.clone(),
            };
            DeliveryError::from_meta(NAME, status, code, message, retry_after)
        }
        None if status >= 500 || status == 429 || status == 401 || status == 403 => {
            DeliveryError::from_http_status(NAME, status, http::quote(body), retry_after)
        }
        None => DeliveryError::MalformedResponse {
            backend: NAME,
            http_status: status,
            detail: format!("no error.code in {:?}", http::quote(body)),
        },
    }
}

fn parse_success(status: u16, body: &[u8]) -> Result<Receipt, DeliveryError> {
    let answer: SendAnswer = http::typed(NAME, status, body)?;
    let first = answer.messages.into_iter().next();
    let Some((id, message_status)) = first.and_then(|m| {
        m.id.filter(|i| !i.is_empty())
            .map(|i| (i, m.message_status))
    }) else {
        return Err(DeliveryError::MalformedResponse {
            backend: NAME,
            http_status: status,
            detail: format!("no messages[0].id in {:?}", http::quote(body)),
        });
    };
    let mut receipt = Receipt::new(NAME, id);
    receipt.message_status = message_status;
    receipt.wa_id = answer.contacts.into_iter().next().and_then(|c| c.wa_id);
    Ok(receipt)
}

/// The typed request body for `message` (after validation).
fn wire_message(message: &Outbound) -> Result<WireMessage<'_>, DeliveryError> {
    message.validate()?;
    let (to, recipient) = match &message.recipient {
        Recipient::Phone(p) => (Some(p.e164().to_owned()), None),
        Recipient::Bsuid(b) => (None, Some(b.as_str())),
        Recipient::Jid(j) if j.is_phone_user() => (Some(format!("+{}", j.user())), None),
        Recipient::Jid(_) => {
            return Err(DeliveryError::Unsupported {
                backend: NAME,
                what: "JIDs other than phone users",
            });
        }
        _ => {
            return Err(DeliveryError::Unsupported {
                backend: NAME,
                what: "this recipient kind",
            });
        }
    };
    Ok(WireMessage {
        messaging_product: "whatsapp",
        recipient_type: "individual",
        to,
        recipient,
        context: message.reply_to.as_ref().map(|id| WireContext {
            message_id: id.clone(),
        }),
        biz_opaque_callback_data: message.biz_opaque_callback_data.as_deref(),
        content: WireContent::from(&message.content),
    })
}

/// The exact JSON body the Cloud API receives for `message` (after validation).
///
/// # Errors
/// The message's validation error, or `delivery_unsupported` for JIDs that are not phone
/// users (groups, LIDs, newsletters go through other Meta APIs).
///
/// # Examples
/// ```
/// use wa_send::{cloud_api_request_body, Content, Outbound, Recipient};
///
/// let msg = Outbound::new(Recipient::parse("+1 415 555 2671")?, Content::text("Hi"));
/// let body = cloud_api_request_body(&msg)?;
/// assert_eq!(body["to"], "+14155552671");
/// assert_eq!(body["text"]["body"], "Hi");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn request_body(message: &Outbound) -> Result<serde_json::Value, DeliveryError> {
    serde_json::to_value(wire_message(message)?).map_err(|e| DeliveryError::Config {
        detail: e.to_string(),
    })
}
