//! Parsing WhatsApp links back into typed values.

use url::Url;
use wa_validate::{Phone, Username};

use crate::build::{Link, Target};
use crate::error::{Error, Result};

/// Which form a parsed link had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkKind {
    /// `https://wa.me/<digits|username>?text=…` (or `wa.me/?text=…`).
    WaMe,
    /// `https://api.whatsapp.com/send?phone=…&text=…`.
    ApiSend,
    /// `https://web.whatsapp.com/send?phone=…&text=…` (undocumented; parsed, never built).
    WebSend,
    /// `whatsapp://send?phone=…&text=…`.
    DeepLink,
    /// `sms:+<digits>?body=…`.
    Sms,
    /// `https://wa.me/message/<CODE>`: a managed link created through the Cloud API.
    Message,
    /// `https://wa.me/qr/<code>`: a consumer contact QR.
    ContactQr,
    /// `https://chat.whatsapp.com/<id>`: a group invite.
    GroupInvite,
    /// `https://whatsapp.com/channel/<code>`: a channel.
    Channel,
}

impl LinkKind {
    /// A stable snake_case name, e.g. `wa_me`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::WaMe => "wa_me",
            LinkKind::ApiSend => "api_send",
            LinkKind::WebSend => "web_send",
            LinkKind::DeepLink => "deep_link",
            LinkKind::Sms => "sms",
            LinkKind::Message => "message",
            LinkKind::ContactQr => "contact_qr",
            LinkKind::GroupInvite => "group_invite",
            LinkKind::Channel => "channel",
        }
    }
}

/// A link parsed by [`parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLink {
    /// The form it had.
    pub kind: LinkKind,
    /// The chat target for click-to-chat forms; `None` for codes and invites.
    pub target: Option<Target>,
    /// The decoded prefilled text, if any.
    pub text: Option<String>,
    /// The opaque code of `Message`, `ContactQr`, `GroupInvite` and `Channel` links.
    pub code: Option<String>,
}

impl ParsedLink {
    /// The click-to-chat [`Link`] this parsed link describes, if it is one, so it can be
    /// re-emitted in canonical form.
    ///
    /// # Examples
    /// ```
    /// let parsed = wa_links::parse("https://api.whatsapp.com/send/?phone=%2B14155552671&text=hi+there&type=phone_number&app_absent=0")?;
    /// assert_eq!(parsed.to_link().unwrap().wa_me(), "https://wa.me/14155552671?text=hi%20there");
    /// # Ok::<(), wa_links::Error>(())
    /// ```
    pub fn to_link(&self) -> Option<Link> {
        let target = self.target.clone()?;
        let link = Link::to(target);
        Some(match &self.text {
            Some(t) => link.text(t.clone()),
            None => link,
        })
    }
}

const MAX_INPUT: usize = 8192;

/// Parses any WhatsApp link form: `wa.me/<digits>`, `wa.me/+<digits>`,
/// `wa.me/<username>`, `wa.me/?text=`, `wa.me/message/<CODE>`, `wa.me/qr/<code>`,
/// `api.whatsapp.com/send`, `web.whatsapp.com/send`, `whatsapp://send`, `sms:`,
/// `chat.whatsapp.com/<id>` and `whatsapp.com/channel/<code>`. A missing `https://` is
/// assumed; `www.` and upper case in the host are accepted. Phone numbers and usernames
/// are validated with `wa-validate`.
///
/// Query values are decoded as HTML forms do (`+` is a space), which is how WhatsApp's
/// own redirects write them; text built by [`Link`] decodes back exactly.
///
/// # Errors
/// `link_*` codes, or the `wa-validate` code of an invalid phone or username.
///
/// # Examples
/// ```
/// use wa_links::{parse, LinkKind, Target};
///
/// let p = parse("https://wa.me/351912345678?text=Ol%C3%A1%21")?;
/// assert_eq!(p.kind, LinkKind::WaMe);
/// assert!(matches!(&p.target, Some(Target::Phone(ph)) if ph.digits() == "351912345678"));
/// assert_eq!(p.text.as_deref(), Some("Olá!"));
///
/// let p = parse("whatsapp://send?text=%3E%3E322c9a59dd%3C%3C&phone=+56943426553")?;
/// assert_eq!(p.kind, LinkKind::DeepLink);
/// assert_eq!(p.text.as_deref(), Some(">>322c9a59dd<<"));
///
/// let p = parse("chat.whatsapp.com/AbCdEfGhIjK1234567890")?;
/// assert_eq!(p.code.as_deref(), Some("AbCdEfGhIjK1234567890"));
/// # Ok::<(), wa_links::Error>(())
/// ```
pub fn parse(input: &str) -> Result<ParsedLink> {
    let s = input.trim();
    if s.is_empty() || s.len() > MAX_INPUT {
        return Err(Error::InvalidUrl);
    }
    let with_scheme;
    let s = if has_scheme(s) {
        s
    } else {
        with_scheme = format!("https://{s}");
        &with_scheme
    };
    let url = Url::parse(s).map_err(|_| Error::InvalidUrl)?;
    match url.scheme() {
        "http" | "https" => parse_web(&url),
        "whatsapp" => {
            if url.host_str() != Some("send") {
                return Err(invalid_path(&url));
            }
            send_query(&url, LinkKind::DeepLink)
        }
        "sms" => parse_sms(&url),
        other => Err(Error::UnsupportedScheme {
            scheme: other.chars().take(20).collect(),
        }),
    }
}

/// `scheme:` before any `/`, `?` or `.` (so `wa.me/…` and `wa.me:443/…` have none).
fn has_scheme(s: &str) -> bool {
    match s.find([':', '/', '?', '.']) {
        Some(i) if s.as_bytes()[i] == b':' => {
            i > 0
                && s.as_bytes()[0].is_ascii_alphabetic()
                && s[..i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-')
        }
        _ => false,
    }
}

fn parse_web(url: &Url) -> Result<ParsedLink> {
    let host = url.host_str().unwrap_or("");
    let host = host.strip_prefix("www.").unwrap_or(host);
    let segs: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let coded = |kind, code: &str| -> Result<ParsedLink> {
        if code.is_empty()
            || code.len() > 128
            || !code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(invalid_path(url));
        }
        Ok(ParsedLink {
            kind,
            target: None,
            text: None,
            code: Some(code.to_owned()),
        })
    };
    match (host, segs.as_slice()) {
        ("wa.me", []) => Ok(ParsedLink {
            kind: LinkKind::WaMe,
            target: Some(Target::Share),
            text: query(url, "text"),
            code: None,
        }),
        ("wa.me" | "api.whatsapp.com", ["message", code]) => coded(LinkKind::Message, code),
        ("wa.me", ["qr", code]) => coded(LinkKind::ContactQr, code),
        ("wa.me", [who]) => {
            let who = percent_encoding::percent_decode_str(who).decode_utf8_lossy();
            let target = if who.starts_with('+') || who.bytes().all(|b| b.is_ascii_digit()) {
                Target::Phone(Phone::parse(&who)?)
            } else {
                Target::Username(Username::parse(&who)?)
            };
            Ok(ParsedLink {
                kind: LinkKind::WaMe,
                target: Some(target),
                text: query(url, "text"),
                code: None,
            })
        }
        ("api.whatsapp.com", ["send"]) => send_query(url, LinkKind::ApiSend),
        ("web.whatsapp.com", ["send"]) => send_query(url, LinkKind::WebSend),
        ("chat.whatsapp.com", [code]) => coded(LinkKind::GroupInvite, code),
        ("whatsapp.com", ["channel", code]) => coded(LinkKind::Channel, code),
        (
            "wa.me" | "api.whatsapp.com" | "web.whatsapp.com" | "chat.whatsapp.com"
            | "whatsapp.com",
            _,
        ) => Err(invalid_path(url)),
        (other, _) => Err(Error::UnknownHost {
            host: other.chars().take(100).collect(),
        }),
    }
}

fn send_query(url: &Url, kind: LinkKind) -> Result<ParsedLink> {
    let target = match query(url, "phone") {
        Some(p) if !p.trim().is_empty() => Target::Phone(Phone::parse(&p)?),
        _ => Target::Share,
    };
    Ok(ParsedLink {
        kind,
        target: Some(target),
        text: query(url, "text"),
        code: None,
    })
}

fn parse_sms(url: &Url) -> Result<ParsedLink> {
    // `sms:` is opaque: the path is the recipient, the query holds `body`.
    let path = percent_encoding::percent_decode_str(url.path()).decode_utf8_lossy();
    let target = if path.trim().is_empty() {
        Target::Share
    } else {
        Target::Phone(Phone::parse(&path)?)
    };
    Ok(ParsedLink {
        kind: LinkKind::Sms,
        target: Some(target),
        text: query(url, "body"),
        code: None,
    })
}

/// The first value of `name`, form-decoded; an empty value is `None`.
fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

fn invalid_path(url: &Url) -> Error {
    Error::InvalidPath {
        path: url.path().chars().take(100).collect(),
    }
}
