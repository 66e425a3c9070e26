//! A WSAPI-style WhatsApp-Web instance REST API (facts §6.1): `X-Api-Key` + `X-Instance-Id`,
//! one endpoint per message type, JID recipients, RFC 7807 problem details on errors.
//!
//! WhatsApp Web cannot send templates or interactive messages, and WSAPI takes media by
//! URL (or base64), not by Cloud API media id: those give `delivery_unsupported`.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use wa_validate::{Jid, Recipient};

use super::http;
use super::{CredentialInfo, DeliveryBackend, DeliveryError, Receipt};
use crate::message::{Content, MediaKind, MediaSource, Outbound};

const NAME: &str = "wsapi";

/// WSAPI's public host.
pub const DEFAULT_BASE_URL: &str = "https://api.wsapi.chat";

/// Sends through a WSAPI-style instance API.
///
/// # Examples
/// ```
/// use wa_send::WsapiBackend;
///
/// let backend = WsapiBackend::builder("sk_live_key", "ins_123").build()?;
/// assert_eq!(wa_send::DeliveryBackend::name(&backend), "wsapi");
/// # Ok::<(), wa_send::DeliveryError>(())
/// ```
#[derive(Clone)]
pub struct WsapiBackend {
    client: reqwest::Client,
    api_key: String,
    instance_id: String,
    base: String,
    timeout: Duration,
}

impl fmt::Debug for WsapiBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsapiBackend")
            .field("instance_id", &self.instance_id)
            .field("base", &self.base)
            .field("api_key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// Builds a [`WsapiBackend`].
#[must_use]
pub struct WsapiBuilder {
    api_key: String,
    instance_id: String,
    base_url: String,
    timeout: Duration,
}

impl fmt::Debug for WsapiBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsapiBuilder")
            .field("instance_id", &self.instance_id)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl WsapiBuilder {
    /// The API host. Defaults to `https://api.wsapi.chat`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
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
    /// `delivery_config_invalid` for an empty key, a malformed instance id or base URL.
    pub fn build(self) -> Result<WsapiBackend, DeliveryError> {
        http::credential("the API key", &self.api_key)?;
        http::path_segment("the instance id", &self.instance_id)?;
        Ok(WsapiBackend {
            client: http::client(self.timeout)?,
            api_key: self.api_key,
            instance_id: self.instance_id,
            base: http::base_url(&self.base_url)?,
            timeout: self.timeout,
        })
    }
}

impl WsapiBackend {
    /// Starts a builder with the API key and the instance id.
    pub fn builder(api_key: impl Into<String>, instance_id: impl Into<String>) -> WsapiBuilder {
        WsapiBuilder {
            api_key: api_key.into(),
            instance_id: instance_id.into(),
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: http::DEFAULT_TIMEOUT,
        }
    }

    async fn exchange(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), DeliveryError> {
        let req = req
            .header("X-Api-Key", &self.api_key)
            .header("X-Instance-Id", &self.instance_id);
        http::exchange(NAME, self.timeout, req).await
    }
}

/// WSAPI's answer to a send: `{"id": …}`.
#[derive(Debug, Deserialize)]
struct SendAnswer {
    id: Option<String>,
}

/// `GET /instance/details`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstanceAnswer {
    id: Option<String>,
    phone_number: Option<String>,
    phone: Option<String>,
    name: Option<String>,
    push_name: Option<String>,
}

/// RFC 7807 problem details.
#[derive(Debug, Deserialize)]
struct Problem {
    title: Option<String>,
    detail: Option<String>,
}

#[async_trait]
impl DeliveryBackend for WsapiBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn check(&self, message: &Outbound) -> Result<(), DeliveryError> {
        typed_request(message).map(drop)
    }

    async fn send(&self, message: &Outbound) -> Result<Receipt, DeliveryError> {
        let (path, body) = typed_request(message)?;
        let (status, headers, bytes) = self
            .exchange(self.client.post(format!("{}{path}", self.base)).json(&body))
            .await?;
        if !(200..300).contains(&status) {
            return Err(problem(status, &headers, &bytes));
        }
        let answer: SendAnswer = http::typed(NAME, status, &bytes)?;
        match answer.id.filter(|s| !s.is_empty()) {
            Some(id) => Ok(Receipt::new(NAME, id)),
            None => Err(DeliveryError::MalformedResponse {
                backend: NAME,
                http_status: status,
                detail: format!("no id in {:?}", http::quote(&bytes)),
            }),
        }
    }

    async fn verify_credentials(&self) -> Result<CredentialInfo, DeliveryError> {
        let (status, headers, bytes) = self
            .exchange(self.client.get(format!("{}/instance/details", self.base)))
            .await?;
        if !(200..300).contains(&status) {
            return Err(problem(status, &headers, &bytes));
        }
        let details = http::json_object(NAME, status, &bytes)?;
        let a: InstanceAnswer = http::typed(NAME, status, &bytes)?;
        let mut info = CredentialInfo::new(NAME, a.id.unwrap_or_else(|| self.instance_id.clone()))
            .details(details);
        info.display_phone_number = a.phone_number.or(a.phone);
        info.verified_name = a.name.or(a.push_name);
        Ok(info)
    }
}

/// RFC 7807 problem details, classified by status (WSAPI has no provider codes).
fn problem(status: u16, headers: &reqwest::header::HeaderMap, body: &[u8]) -> DeliveryError {
    let p = serde_json::from_slice::<Problem>(body).ok();
    let (title, detail) = p.map_or((None, None), |p| (p.title, p.detail));
    let message = match (title, detail) {
        (Some(t), Some(d)) => format!("{t}: {d}"),
        (Some(t), None) => t,
        (None, Some(d)) => d,
        (None, None) => http::quote(body),
    };
    DeliveryError::from_http_status(NAME, status, message, http::retry_after(headers))
}

fn jid(recipient: &Recipient) -> Result<String, DeliveryError> {
    match recipient {
        Recipient::Phone(p) => Ok(Jid::from_phone(p).to_string()),
        Recipient::Jid(j) => Ok(j.to_string()),
        Recipient::Bsuid(_) => Err(DeliveryError::Unsupported {
            backend: NAME,
            what: "BSUID recipients",
        }),
        _ => Err(DeliveryError::Unsupported {
            backend: NAME,
            what: "this recipient kind",
        }),
    }
}

/// A MIME type from the link's extension, else the kind's usual type.
fn mime_type(kind: MediaKind, link: &str) -> &'static str {
    let path = link.split(['?', '#']).next().unwrap_or(link);
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "mp4" => "video/mp4",
        "3gp" => "video/3gpp",
        "mp3" => "audio/mpeg",
        "ogg" | "opus" => "audio/ogg",
        "aac" => "audio/aac",
        "m4a" => "audio/mp4",
        "amr" => "audio/amr",
        "pdf" => "application/pdf",
        _ => match kind {
            MediaKind::Image => "image/jpeg",
            MediaKind::Video => "video/mp4",
            MediaKind::Audio => "audio/ogg",
            MediaKind::Sticker => "image/webp",
            _ => "application/octet-stream",
        },
    }
}

/// One WSAPI send body (the official SDKs' field names).
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Body<'a> {
    Text(TextBody<'a>),
    Media(MediaBody<'a>),
    Location(LocationBody<'a>),
    Contact(ContactBody<'a>),
    Reaction(ReactionBody<'a>),
}

/// `POST /messages/text`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TextBody<'a> {
    to: String,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<&'a str>,
}

/// `POST /messages/{image,video,audio,document,sticker}`.
#[derive(Debug, Serialize)]
struct MediaBody<'a> {
    to: String,
    #[serde(rename = "imageURL", skip_serializing_if = "Option::is_none")]
    image_url: Option<&'a str>,
    #[serde(rename = "videoURL", skip_serializing_if = "Option::is_none")]
    video_url: Option<&'a str>,
    #[serde(rename = "audioURL", skip_serializing_if = "Option::is_none")]
    audio_url: Option<&'a str>,
    #[serde(rename = "documentURL", skip_serializing_if = "Option::is_none")]
    document_url: Option<&'a str>,
    #[serde(rename = "stickerURL", skip_serializing_if = "Option::is_none")]
    sticker_url: Option<&'a str>,
    #[serde(rename = "mimeType", skip_serializing_if = "Option::is_none")]
    mime_type: Option<&'static str>,
    #[serde(rename = "fileName", skip_serializing_if = "Option::is_none")]
    file_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    caption: Option<&'a str>,
    #[serde(rename = "replyTo", skip_serializing_if = "Option::is_none")]
    reply_to: Option<&'a str>,
}

/// `POST /messages/location`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LocationBody<'a> {
    to: String,
    latitude: f64,
    longitude: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<&'a str>,
}

/// `POST /messages/contact`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ContactBody<'a> {
    to: String,
    display_name: &'a str,
    #[serde(rename = "vCard")]
    v_card: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<&'a str>,
}

/// `POST /messages/{id}/reaction`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReactionBody<'a> {
    to: String,
    // In a one-to-one chat the message reacted to is usually the user's own.
    sender_id: String,
    reaction: &'a str,
}

fn unsupported(what: &'static str) -> DeliveryError {
    DeliveryError::Unsupported {
        backend: NAME,
        what,
    }
}

fn media_body<'a>(
    m: &'a crate::message::Media,
    to: String,
    reply_to: Option<&'a str>,
) -> Result<MediaBody<'a>, DeliveryError> {
    let MediaSource::Link(link) = &m.source else {
        return Err(unsupported("media by Cloud API media id (use a link)"));
    };
    let mut body = MediaBody {
        to,
        image_url: None,
        video_url: None,
        audio_url: None,
        document_url: None,
        sticker_url: None,
        mime_type: None,
        file_name: None,
        caption: m.caption.as_deref(),
        reply_to,
    };
    let slot = match m.kind {
        MediaKind::Image => &mut body.image_url,
        MediaKind::Video => &mut body.video_url,
        MediaKind::Audio => &mut body.audio_url,
        MediaKind::Document => &mut body.document_url,
        MediaKind::Sticker => &mut body.sticker_url,
    };
    *slot = Some(link);
    if m.kind == MediaKind::Document {
        body.file_name = Some(m.filename.clone().unwrap_or_else(|| {
            let path = link.split(['?', '#']).next().unwrap_or(link);
            path.rsplit('/')
                .next()
                .filter(|s| !s.is_empty())
                .unwrap_or("document")
                .to_owned()
        }));
    } else {
        body.mime_type = Some(mime_type(m.kind, link));
    }
    Ok(body)
}

fn typed_request(message: &Outbound) -> Result<(String, Body<'_>), DeliveryError> {
    message.validate()?;
    let to = jid(&message.recipient)?;
    let reply_to = message.reply_to.as_deref();
    Ok(match &message.content {
        Content::Text { body, .. } => (
            "/messages/text".to_owned(),
            Body::Text(TextBody {
                to,
                text: body,
                reply_to,
            }),
        ),
        Content::Media(m) => (
            format!("/messages/{}", m.kind.as_str()),
            Body::Media(media_body(m, to, reply_to)?),
        ),
        Content::Location(l) => (
            "/messages/location".to_owned(),
            Body::Location(LocationBody {
                to,
                latitude: l.latitude,
                longitude: l.longitude,
                name: l.name.as_deref(),
                address: l.address.as_deref(),
                reply_to,
            }),
        ),
        Content::Contacts { contacts } => {
            let [contact] = contacts.as_slice() else {
                return Err(unsupported("more than one contact per message"));
            };
            (
                "/messages/contact".to_owned(),
                Body::Contact(ContactBody {
                    to,
                    display_name: &contact.name.formatted_name,
                    v_card: vcard(contact),
                    reply_to,
                }),
            )
        }
        Content::Reaction { message_id, emoji } => {
            http::path_segment("reaction.message_id", message_id)
                .map_err(|_| unsupported("message ids with /, ?, # or %"))?;
            (
                format!("/messages/{message_id}/reaction"),
                Body::Reaction(ReactionBody {
                    sender_id: to.clone(),
                    to,
                    reaction: emoji,
                }),
            )
        }
        Content::Template(_) => return Err(unsupported("template messages")),
        Content::Buttons(_) | Content::List(_) | Content::LocationRequest { .. } => {
            return Err(unsupported("interactive messages"));
        }
    })
}

/// The path (under the base URL) and JSON body WSAPI receives for `message`.
///
/// # Errors
/// The message's validation error, or `delivery_unsupported` for content WhatsApp Web
/// cannot send through this API (templates, interactive, media ids, several contacts,
/// BSUID recipients).
///
/// # Examples
/// ```
/// use wa_send::{wsapi_request, Content, Outbound, Recipient};
///
/// let msg = Outbound::new(Recipient::parse("+1 415 555 2671")?, Content::text("Hi"));
/// let (path, body) = wsapi_request(&msg)?;
/// assert_eq!(path, "/messages/text");
/// assert_eq!(body["to"], "14155552671@s.whatsapp.net");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn request(message: &Outbound) -> Result<(String, serde_json::Value), DeliveryError> {
    let (path, body) = typed_request(message)?;
    let value = serde_json::to_value(body).map_err(|e| DeliveryError::Config {
        detail: e.to_string(),
    })?;
    Ok((path, value))
}

/// A vCard 3.0 for a contact card (escaping `\`, `,`, `;` and newlines).
fn vcard(c: &crate::message::Contact) -> String {
    fn esc(s: &str) -> String {
        s.replace('\\', "\\\\")
            .replace(',', "\\,")
            .replace(';', "\\;")
            .replace('\n', "\\n")
            .replace('\r', "")
    }
    let mut out = String::from("BEGIN:VCARD\r\nVERSION:3.0\r\n");
    out.push_str(&format!("FN:{}\r\n", esc(&c.name.formatted_name)));
    out.push_str(&format!(
        "N:{};{};;;\r\n",
        esc(c.name.last_name.as_deref().unwrap_or("")),
        esc(c.name.first_name.as_deref().unwrap_or(""))
    ));
    if let Some(org) = c.org.as_ref().and_then(|o| o.company.as_deref()) {
        out.push_str(&format!("ORG:{}\r\n", esc(org)));
    }
    for p in &c.phones {
        let kind = p.kind.as_deref().unwrap_or("CELL");
        match &p.wa_id {
            Some(wa) => out.push_str(&format!(
                "TEL;type={};waid={}:{}\r\n",
                esc(kind),
                esc(wa),
                esc(&p.phone)
            )),
            None => out.push_str(&format!("TEL;type={}:{}\r\n", esc(kind), esc(&p.phone))),
        }
    }
    for e in &c.emails {
        out.push_str(&format!("EMAIL:{}\r\n", esc(&e.email)));
    }
    for u in &c.urls {
        out.push_str(&format!("URL:{}\r\n", esc(&u.url)));
    }
    out.push_str("END:VCARD");
    out
}
