//! Link builders.

use wa_validate::{Phone, Username};

use crate::error::{Error, Result};

/// Who a link opens a chat with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// A phone number (links use its digits, no `+`).
    Phone(Phone),
    /// A WhatsApp username.
    Username(Username),
    /// Nobody: WhatsApp opens its contact picker (a "share" link).
    Share,
}

impl Target {
    fn kind(&self) -> &'static str {
        match self {
            Target::Phone(_) => "a phone number",
            Target::Username(_) => "a username",
            Target::Share => "no recipient",
        }
    }
}

/// A click-to-chat link, built from a target and an optional prefilled text, then
/// rendered in any of WhatsApp's link forms.
///
/// Prefilled text is percent-encoded as UTF-8 exactly like JavaScript's
/// `encodeURIComponent` (space is `%20`, newline `%0A`, and `& # + % ? =` are always
/// encoded).
///
/// | method | output |
/// |---|---|
/// | [`Link::wa_me`] | `https://wa.me/<digits or username>?text=…` |
/// | [`Link::api`] | `https://api.whatsapp.com/send?phone=<digits>&text=…` |
/// | [`Link::deep_link`] | `whatsapp://send?phone=<digits>&text=…` |
/// | [`Link::sms`] | `sms:+<digits>?body=…` |
/// | [`Link::short_link`] | `<base>/<username or digits>` |
///
/// # Examples
/// ```
/// use wa_links::Link;
/// use wa_validate::{Phone, Username};
///
/// let phone = Phone::parse("+1 (415) 555-2671")?;
/// let link = Link::phone(&phone).text("Hi! Is the 2nd-hand bike still for sale?");
/// assert_eq!(
///     link.wa_me(),
///     "https://wa.me/14155552671?text=Hi!%20Is%20the%202nd-hand%20bike%20still%20for%20sale%3F"
/// );
/// assert_eq!(link.sms()?, "sms:+14155552671?body=Hi!%20Is%20the%202nd-hand%20bike%20still%20for%20sale%3F");
///
/// let user = Username::parse("@joao.silva")?;
/// assert_eq!(Link::username(&user).wa_me(), "https://wa.me/joao.silva");
/// assert_eq!(
///     Link::username(&user).short_link("https://whatsusernames.link/")?,
///     "https://whatsusernames.link/joao.silva"
/// );
/// assert_eq!(Link::share().text("a & b").wa_me(), "https://wa.me/?text=a%20%26%20b");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Link {
    target: Target,
    /// The prefilled text and its encoding, made once: every form reuses it.
    text: Option<Prefilled>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Prefilled {
    raw: String,
    encoded: String,
}

impl Link {
    /// A link to a phone number.
    pub fn phone(phone: &Phone) -> Link {
        Link {
            target: Target::Phone(phone.clone()),
            text: None,
        }
    }

    /// A link to a username.
    pub fn username(username: &Username) -> Link {
        Link {
            target: Target::Username(username.clone()),
            text: None,
        }
    }

    /// A link with no recipient: WhatsApp asks whom to send the text to.
    pub fn share() -> Link {
        Link {
            target: Target::Share,
            text: None,
        }
    }

    /// A link to `target`.
    pub fn to(target: Target) -> Link {
        Link { target, text: None }
    }

    /// The prefilled message. Defaults to none; an empty text is the same as none.
    pub fn text(mut self, text: impl Into<String>) -> Link {
        let raw = text.into();
        self.text = (!raw.is_empty()).then(|| Prefilled {
            encoded: crate::encode::encode_text(&raw),
            raw,
        });
        self
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The prefilled text, if any.
    pub fn prefilled_text(&self) -> Option<&str> {
        self.text.as_ref().map(|t| t.raw.as_str())
    }

    /// `https://wa.me/…`: the official form, for every target.
    pub fn wa_me(&self) -> String {
        let who = match &self.target {
            Target::Phone(p) => p.digits(),
            Target::Username(u) => u.as_str(),
            Target::Share => "",
        };
        let mut s = self.buffer("https://wa.me/".len() + who.len(), "text");
        s.push_str("https://wa.me/");
        s.push_str(who);
        self.push_query(&mut s, '?', "text");
        s
    }

    /// `https://api.whatsapp.com/send?phone=…&text=…`, the legacy form.
    ///
    /// # Errors
    /// `link_unsupported_target` for a username (this form only takes phone numbers).
    pub fn api(&self) -> Result<String> {
        self.send_form("https://api.whatsapp.com/send", "api.whatsapp.com")
    }

    /// `whatsapp://send?phone=…&text=…`, the app deep link.
    ///
    /// # Errors
    /// `link_unsupported_target` for a username.
    pub fn deep_link(&self) -> Result<String> {
        self.send_form("whatsapp://send", "whatsapp://")
    }

    /// `sms:+<digits>?body=…`: the SMS fallback (`sms:?body=…` with no recipient).
    ///
    /// # Errors
    /// `link_unsupported_target` for a username.
    pub fn sms(&self) -> Result<String> {
        let who = match &self.target {
            Target::Phone(p) => p.e164(),
            Target::Share => "",
            Target::Username(_) => return Err(self.unsupported("sms")),
        };
        let mut s = self.buffer("sms:".len() + who.len(), "body");
        s.push_str("sms:");
        s.push_str(who);
        self.push_query(&mut s, '?', "body");
        Ok(s)
    }

    /// `<base>/<username>` (or `<base>/<digits>`): a short link on the caller's own
    /// redirect domain. The text is not carried; the redirect adds it if it wants.
    ///
    /// # Errors
    /// `link_invalid_base_url` when `base` is not an absolute http(s) URL without query or
    /// fragment; `link_unsupported_target` for a share link.
    pub fn short_link(&self, base: &str) -> Result<String> {
        self.short_link_at(&ShortBase::parse(base)?)
    }

    /// [`Link::short_link`] on a base checked once ([`ShortBase::parse`]), for servers
    /// that build many short links on one base.
    ///
    /// # Errors
    /// `link_unsupported_target` for a share link.
    ///
    /// # Examples
    /// ```
    /// use wa_links::{Link, ShortBase};
    /// let base = ShortBase::parse("https://wa.example/")?;
    /// let phone = wa_validate::Phone::parse("+1 415 555 2671").unwrap();
    /// assert_eq!(Link::phone(&phone).short_link_at(&base)?, "https://wa.example/14155552671");
    /// # Ok::<(), wa_links::Error>(())
    /// ```
    pub fn short_link_at(&self, base: &ShortBase) -> Result<String> {
        let mut s = String::with_capacity(base.0.len() + 36);
        s.push_str(&base.0);
        s.push('/');
        match &self.target {
            Target::Phone(p) => s.push_str(p.digits()),
            Target::Username(u) => s.push_str(u.as_str()),
            Target::Share => return Err(self.unsupported("short")),
        }
        Ok(s)
    }

    fn send_form(&self, prefix: &str, form: &'static str) -> Result<String> {
        let digits = match &self.target {
            Target::Phone(p) => Some(p.digits()),
            Target::Share => None,
            Target::Username(_) => return Err(self.unsupported(form)),
        };
        let head = prefix.len() + digits.map_or(0, |d| "?phone=".len() + d.len());
        let mut s = self.buffer(head, "text");
        s.push_str(prefix);
        let mut sep = '?';
        if let Some(d) = digits {
            s.push_str("?phone=");
            s.push_str(d);
            sep = '&';
        }
        self.push_query(&mut s, sep, "text");
        Ok(s)
    }

    /// An empty string with room for `head` bytes and the `name=` query.
    fn buffer(&self, head: usize, name: &str) -> String {
        let query = self
            .text
            .as_ref()
            .map_or(0, |t| 2 + name.len() + t.encoded.len());
        String::with_capacity(head + query)
    }

    fn push_query(&self, s: &mut String, sep: char, name: &str) {
        if let Some(t) = &self.text {
            s.push(sep);
            s.push_str(name);
            s.push('=');
            s.push_str(&t.encoded);
        }
    }

    fn unsupported(&self, form: &'static str) -> Error {
        Error::UnsupportedTarget {
            form,
            target: self.target.kind(),
        }
    }
}

impl core::fmt::Display for Link {
    /// The canonical `https://wa.me/…` form ([`Link::wa_me`]).
    ///
    /// ```
    /// let phone = wa_validate::Phone::parse("+1 415 555 2671")?;
    /// let link = wa_links::Link::phone(&phone).text("hi there");
    /// assert_eq!(link.to_string(), "https://wa.me/14155552671?text=hi%20there");
    /// # Ok::<(), wa_validate::Error>(())
    /// ```
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.wa_me())
    }
}

/// serde as the canonical `wa.me` string; deserialising accepts every click-to-chat form
/// [`crate::parse`] reads (`api.whatsapp.com`, `whatsapp://`, …).
#[cfg(feature = "serde")]
mod serde_impl {
    use super::Link;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    impl Serialize for Link {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&self.wa_me())
        }
    }

    impl<'de> Deserialize<'de> for Link {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            crate::parse(&s)
                .map_err(D::Error::custom)?
                .to_link()
                .ok_or_else(|| D::Error::custom("not a click-to-chat link"))
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn serde_is_the_wa_me_string() {
            let phone = wa_validate::Phone::parse("+14155552671").unwrap();
            let link = super::Link::phone(&phone).text("Olá");
            let json = serde_json::to_string(&link).unwrap();
            assert_eq!(json, r#""https://wa.me/14155552671?text=Ol%C3%A1""#);
            let back: super::Link = serde_json::from_str(&json).unwrap();
            assert_eq!(back.wa_me(), link.wa_me());
            let from_api: super::Link = serde_json::from_str(
                r#""https://api.whatsapp.com/send?phone=14155552671&text=Ol%C3%A1""#,
            )
            .unwrap();
            assert_eq!(from_api.wa_me(), link.wa_me());
        }
    }
}

/// The base URL short links are built on: `http(s)`, a host, no query or fragment; kept
/// without its trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortBase(String);

impl ShortBase {
    /// Checks `base` once.
    ///
    /// # Errors
    /// `link_invalid_base_url`.
    ///
    /// # Examples
    /// ```
    /// let base = wa_links::ShortBase::parse("https://wa.example/")?;
    /// assert_eq!(base.as_str(), "https://wa.example");
    /// assert!(wa_links::ShortBase::parse("ftp://wa.example").is_err());
    /// # Ok::<(), wa_links::Error>(())
    /// ```
    pub fn parse(base: &str) -> Result<ShortBase> {
        let url = url::Url::parse(base).map_err(|_| Error::InvalidBaseUrl)?;
        if !matches!(url.scheme(), "http" | "https")
            || url.host_str().is_none()
            || url.query().is_some()
            || url.fragment().is_some()
        {
            return Err(Error::InvalidBaseUrl);
        }
        Ok(ShortBase(url.as_str().trim_end_matches('/').to_owned()))
    }

    /// The normalised base, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
