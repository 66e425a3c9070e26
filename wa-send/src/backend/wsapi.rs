//! A WSAPI-style WhatsApp-Web instance REST API (facts §6.1): `X-Api-Key` + `X-Instance-Id`,
//! one endpoint per message type, JID recipients, RFC 7807 problem details on errors.
//!
//! WhatsApp Web cannot send templates or interactive messages, and WSAPI takes media by
//! URL (or base64), not by Cloud API media id: those give `delivery_unsupported`.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value, json};
use wa_validate::{Jid, Recipient};

use super::http;
use super::{BoxFuture, CredentialInfo, DeliveryBackend, DeliveryError, Receipt};
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

    async fn send_impl(&self, message: &Outbound) -> Result<Receipt, DeliveryError> {
        let (path, body) = request(message)?;
        let (status, headers, bytes) = self
            .exchange(self.client.post(format!("{}{path}", self.base)).json(&body))
            .await?;
        if !(200..300).contains(&status) {
            return Err(problem(status, &headers, &bytes));
        }
        let v = http::json(NAME, status, &bytes)?;
        match v
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            Some(id) => Ok(Receipt::new(NAME, id)),
            None => Err(DeliveryError::MalformedResponse {
                backend: NAME,
                http_status: status,
                detail: format!("no id in {:?}", http::quote(&bytes)),
            }),
        }
    }

    async fn verify_impl(&self) -> Result<CredentialInfo, DeliveryError> {
        let (status, headers, bytes) = self
            .exchange(self.client.get(format!("{}/instance/details", self.base)))
            .await?;
        if !(200..300).contains(&status) {
            return Err(problem(status, &headers, &bytes));
        }
        let details = http::json_object(NAME, status, &bytes)?;
        let text = |k: &str| details.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(CredentialInfo {
            backend: NAME.to_owned(),
            account_id: text("id").unwrap_or_else(|| self.instance_id.clone()),
            display_phone_number: text("phoneNumber").or_else(|| text("phone")),
            verified_name: text("name").or_else(|| text("pushName")),
            details,
        })
    }
}

impl DeliveryBackend for WsapiBackend {
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

/// RFC 7807 problem details, classified by status (WSAPI has no provider codes).
fn problem(status: u16, headers: &reqwest::header::HeaderMap, body: &[u8]) -> DeliveryError {
    let v: Option<Value> = serde_json::from_slice(body).ok();
    let field = |k: &str| {
        v.as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let message = match (field("title"), field("detail")) {
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
pub fn request(message: &Outbound) -> Result<(String, Value), DeliveryError> {
    message.validate()?;
    let to = jid(&message.recipient)?;
    let mut body = Map::new();
    body.insert("to".into(), json!(to));
    if let Some(id) = &message.reply_to {
        body.insert("replyTo".into(), json!(id));
    }
    let path = match &message.content {
        Content::Text { body: text, .. } => {
            body.insert("text".into(), json!(text));
            "/messages/text".to_owned()
        }
        Content::Media(m) => {
            let MediaSource::Link(link) = &m.source else {
                return Err(DeliveryError::Unsupported {
                    backend: NAME,
                    what: "media by Cloud API media id (use a link)",
                });
            };
            let kind = m.kind.as_str();
            body.insert(format!("{kind}URL"), json!(link));
            if m.kind == MediaKind::Document {
                let name = m.filename.clone().unwrap_or_else(|| {
                    let path = link.split(['?', '#']).next().unwrap_or(link);
                    path.rsplit('/')
                        .next()
                        .filter(|s| !s.is_empty())
                        .unwrap_or("document")
                        .to_owned()
                });
                body.insert("fileName".into(), json!(name));
            } else {
                body.insert("mimeType".into(), json!(mime_type(m.kind, link)));
            }
            if let Some(c) = &m.caption {
                body.insert("caption".into(), json!(c));
            }
            format!("/messages/{kind}")
        }
        Content::Location(l) => {
            body.insert("latitude".into(), json!(l.latitude));
            body.insert("longitude".into(), json!(l.longitude));
            if let Some(n) = &l.name {
                body.insert("name".into(), json!(n));
            }
            if let Some(a) = &l.address {
                body.insert("address".into(), json!(a));
            }
            "/messages/location".to_owned()
        }
        Content::Contacts { contacts } => {
            let [contact] = contacts.as_slice() else {
                return Err(DeliveryError::Unsupported {
                    backend: NAME,
                    what: "more than one contact per message",
                });
            };
            body.insert("displayName".into(), json!(contact.name.formatted_name));
            body.insert("vCard".into(), json!(vcard(contact)));
            "/messages/contact".to_owned()
        }
        Content::Reaction { message_id, emoji } => {
            http::path_segment("reaction.message_id", message_id).map_err(|_| {
                DeliveryError::Unsupported {
                    backend: NAME,
                    what: "message ids with /, ?, # or %",
                }
            })?;
            body.remove("replyTo");
            // In a one-to-one chat the message reacted to is usually the user's own.
            body.insert("senderId".into(), json!(to));
            body.insert("reaction".into(), json!(emoji));
            format!("/messages/{message_id}/reaction")
        }
        Content::Template(_) => {
            return Err(DeliveryError::Unsupported {
                backend: NAME,
                what: "template messages",
            });
        }
        Content::Buttons(_) | Content::List(_) | Content::LocationRequest { .. } => {
            return Err(DeliveryError::Unsupported {
                backend: NAME,
                what: "interactive messages",
            });
        }
    };
    Ok((path, Value::Object(body)))
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
