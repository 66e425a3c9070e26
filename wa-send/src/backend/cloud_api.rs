//! Meta's WhatsApp Cloud API (facts §3): `POST {base}/{version}/{phone_number_id}/messages`.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value, json};
use wa_validate::Recipient;

use super::http;
use super::{BoxFuture, CredentialInfo, DeliveryBackend, DeliveryError, Receipt};
use crate::message::{
    ButtonSubType, Content, MediaSource, Outbound, TemplateComponent, TemplateParameter,
};

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

    async fn send_impl(&self, message: &Outbound) -> Result<Receipt, DeliveryError> {
        let body = request_body(message)?;
        let url = format!("{}/{}/messages", self.base, self.phone_number_id);
        let (status, headers, bytes) = self.exchange(self.client.post(url).json(&body)).await?;
        if !(200..300).contains(&status) {
            return Err(error_from_response(status, &headers, &bytes));
        }
        parse_success(status, &bytes)
    }

    async fn verify_impl(&self) -> Result<CredentialInfo, DeliveryError> {
        let url = format!(
            "{}/{}?fields=id,display_phone_number,verified_name,quality_rating",
            self.base, self.phone_number_id
        );
        let (status, headers, bytes) = self.exchange(self.client.get(url)).await?;
        if !(200..300).contains(&status) {
            return Err(error_from_response(status, &headers, &bytes));
        }
        let details = http::json_object(NAME, status, &bytes)?;
        let text = |k: &str| details.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(CredentialInfo {
            backend: NAME.to_owned(),
            account_id: text("id").unwrap_or_else(|| self.phone_number_id.clone()),
            display_phone_number: text("display_phone_number"),
            verified_name: text("verified_name"),
            details,
        })
    }
}

impl DeliveryBackend for CloudApiBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn send<'a>(&'a self, message: &'a Outbound) -> BoxFuture<'a, Result<Receipt, DeliveryError>> {
        Box::pin(self.send_impl(message))
    }

    fn verify_credentials(&self) -> BoxFuture<'_, Result<CredentialInfo, DeliveryError>> {
        Box::pin(self.verify_impl())
    }
}

/// Maps a non-2xx answer: Meta's `error.code` when present (facts §3.3), else the status.
fn error_from_response(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
) -> DeliveryError {
    let retry_after = http::retry_after(headers);
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let error = parsed.as_ref().and_then(|v| v.get("error"));
    match error.and_then(|e| e.get("code")).and_then(Value::as_i64) {
        Some(code) => {
            let e = error.unwrap_or(&Value::Null);
            let mut message = e
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if let Some(details) = e.pointer("/error_data/details").and_then(Value::as_str) {
                message = if message.is_empty() {
                    details.to_owned()
                } else {
                    format!("{message}: {details}")
                };
            }
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
    let malformed = |detail: String| DeliveryError::MalformedResponse {
        backend: NAME,
        http_status: status,
        detail,
    };
    let v = http::json(NAME, status, body)?;
    let first = v
        .get("messages")
        .and_then(Value::as_array)
        .and_then(|a| a.first());
    let id = first
        .and_then(|m| m.get("id"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let Some(id) = id else {
        return Err(malformed(format!(
            "no messages[0].id in {:?}",
            http::quote(body)
        )));
    };
    let mut receipt = Receipt::new(NAME, id);
    receipt.message_status = first
        .and_then(|m| m.get("message_status"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    receipt.wa_id = v
        .pointer("/contacts/0/wa_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(receipt)
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
pub fn request_body(message: &Outbound) -> Result<Value, DeliveryError> {
    message.validate()?;
    let mut body = Map::new();
    body.insert("messaging_product".into(), json!("whatsapp"));
    body.insert("recipient_type".into(), json!("individual"));
    match &message.recipient {
        Recipient::Phone(p) => {
            body.insert("to".into(), json!(p.e164()));
        }
        Recipient::Bsuid(b) => {
            body.insert("recipient".into(), json!(b.as_str()));
        }
        Recipient::Jid(j) if j.is_phone_user() => {
            body.insert("to".into(), json!(format!("+{}", j.user())));
        }
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
    }
    if let Some(id) = &message.reply_to {
        body.insert("context".into(), json!({ "message_id": id }));
    }
    if let Some(data) = &message.biz_opaque_callback_data {
        body.insert("biz_opaque_callback_data".into(), json!(data));
    }
    let kind = message.content.type_name();
    body.insert("type".into(), json!(kind));
    body.insert(kind.into(), content(&message.content)?);
    Ok(Value::Object(body))
}

fn media_object(source: &MediaSource) -> Map<String, Value> {
    let mut m = Map::new();
    match source {
        MediaSource::Id(id) => m.insert("id".into(), json!(id)),
        MediaSource::Link(link) => m.insert("link".into(), json!(link)),
    };
    m
}

fn text_header(header: Option<&str>) -> Option<Value> {
    header.map(|h| json!({ "type": "text", "text": h }))
}

fn insert_opt(obj: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        obj.insert(key.to_owned(), v);
    }
}

fn content(content: &Content) -> Result<Value, DeliveryError> {
    Ok(match content {
        Content::Text { body, preview_url } => json!({ "preview_url": preview_url, "body": body }),
        Content::Template(t) => {
            let mut obj = Map::new();
            obj.insert("name".into(), json!(t.name));
            obj.insert("language".into(), json!({ "code": t.language }));
            if !t.components.is_empty() {
                obj.insert(
                    "components".into(),
                    Value::Array(t.components.iter().map(component).collect()),
                );
            }
            Value::Object(obj)
        }
        Content::Media(m) => {
            let mut obj = media_object(&m.source);
            insert_opt(&mut obj, "caption", m.caption.as_ref().map(|c| json!(c)));
            insert_opt(&mut obj, "filename", m.filename.as_ref().map(|c| json!(c)));
            Value::Object(obj)
        }
        Content::Location(l) => {
            let mut obj = Map::new();
            obj.insert("latitude".into(), json!(l.latitude));
            obj.insert("longitude".into(), json!(l.longitude));
            insert_opt(&mut obj, "name", l.name.as_ref().map(|c| json!(c)));
            insert_opt(&mut obj, "address", l.address.as_ref().map(|c| json!(c)));
            Value::Object(obj)
        }
        Content::Contacts { contacts } => {
            serde_json::to_value(contacts).map_err(|e| DeliveryError::Config {
                detail: e.to_string(),
            })?
        }
        Content::Reaction { message_id, emoji } => {
            json!({ "message_id": message_id, "emoji": emoji })
        }
        Content::Buttons(b) => {
            let mut obj = Map::new();
            obj.insert("type".into(), json!("button"));
            insert_opt(&mut obj, "header", text_header(b.header.as_deref()));
            obj.insert("body".into(), json!({ "text": b.body }));
            insert_opt(
                &mut obj,
                "footer",
                b.footer.as_ref().map(|f| json!({ "text": f })),
            );
            let buttons: Vec<Value> = b
                .buttons
                .iter()
                .map(|x| json!({ "type": "reply", "reply": { "id": x.id, "title": x.title } }))
                .collect();
            obj.insert("action".into(), json!({ "buttons": buttons }));
            Value::Object(obj)
        }
        Content::List(l) => {
            let mut obj = Map::new();
            obj.insert("type".into(), json!("list"));
            insert_opt(&mut obj, "header", text_header(l.header.as_deref()));
            obj.insert("body".into(), json!({ "text": l.body }));
            insert_opt(
                &mut obj,
                "footer",
                l.footer.as_ref().map(|f| json!({ "text": f })),
            );
            let sections =
                serde_json::to_value(&l.sections).map_err(|e| DeliveryError::Config {
                    detail: e.to_string(),
                })?;
            obj.insert(
                "action".into(),
                json!({ "button": l.button, "sections": sections }),
            );
            Value::Object(obj)
        }
        Content::LocationRequest { body } => json!({
            "type": "location_request_message",
            "body": { "text": body },
            "action": { "name": "send_location" },
        }),
    })
}

fn component(c: &TemplateComponent) -> Value {
    match c {
        TemplateComponent::Header { parameters } => {
            json!({ "type": "header", "parameters": parameters.iter().map(parameter).collect::<Vec<_>>() })
        }
        TemplateComponent::Body { parameters } => {
            json!({ "type": "body", "parameters": parameters.iter().map(parameter).collect::<Vec<_>>() })
        }
        TemplateComponent::Button {
            sub_type,
            index,
            parameters,
        } => json!({
            "type": "button",
            "sub_type": ButtonSubType::as_str(*sub_type),
            "index": index.to_string(),
            "parameters": parameters.iter().map(parameter).collect::<Vec<_>>(),
        }),
    }
}

fn parameter(p: &TemplateParameter) -> Value {
    match p {
        TemplateParameter::Text { text } => json!({ "type": "text", "text": text }),
        TemplateParameter::Currency {
            fallback_value,
            code,
            amount_1000,
        } => {
            json!({ "type": "currency", "currency": { "fallback_value": fallback_value, "code": code, "amount_1000": amount_1000 } })
        }
        TemplateParameter::DateTime { fallback_value } => {
            json!({ "type": "date_time", "date_time": { "fallback_value": fallback_value } })
        }
        TemplateParameter::Image { source } => {
            json!({ "type": "image", "image": media_object(source) })
        }
        TemplateParameter::Video { source } => {
            json!({ "type": "video", "video": media_object(source) })
        }
        TemplateParameter::Document { source, filename } => {
            let mut obj = media_object(source);
            insert_opt(&mut obj, "filename", filename.as_ref().map(|f| json!(f)));
            json!({ "type": "document", "document": obj })
        }
        TemplateParameter::Payload { payload } => json!({ "type": "payload", "payload": payload }),
        TemplateParameter::CouponCode { coupon_code } => {
            json!({ "type": "coupon_code", "coupon_code": coupon_code })
        }
    }
}
