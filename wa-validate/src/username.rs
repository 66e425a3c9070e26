//! WhatsApp usernames and username keys.
//!
//! [`Username::parse`] applies WhatsApp's own client checks (`validateUsernameLocally`)
//! in the client's order, so the first failing rule is the one reported:
//!
//! 1. characters in `[a-z0-9._]` (the input is ASCII-lower-cased first) — `username_invalid_character`
//! 2. 3 to 35 characters — `username_length`
//! 3. at least one letter — `username_no_letters`
//! 4. no leading, trailing or doubled `.` — `username_periods`
//! 5. no `www.` prefix — `username_www_prefix`
//! 6. no domain-like ending (`.com .org .net .int .edu .gov .mil .arpa .html .htm .txt .xml`) — `username_domain_suffix`
//! 7. none of `whatsapp instagram facebook oculus` anywhere — `username_reserved_word`
//!
//! [`UsernamePolicy::Business`] adds Meta's stricter business-username rules: a `www`
//! prefix even without the dot, and the `.us` and `.in` endings.
//!
//! Surrounding whitespace and one leading `@` are stripped; comparison is
//! case-insensitive (`MyID` is `myid`) but `.` and `_` are significant.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Minimum username length.
pub const USERNAME_MIN_LEN: usize = 3;
/// Maximum username length.
pub const USERNAME_MAX_LEN: usize = 35;

const CLIENT_SUFFIXES: [&str; 12] = [
    ".com", ".org", ".net", ".int", ".edu", ".gov", ".mil", ".arpa", ".html", ".htm", ".txt",
    ".xml",
];
const BUSINESS_EXTRA_SUFFIXES: [&str; 2] = [".us", ".in"];
const RESERVED_WORDS: [&str; 4] = ["whatsapp", "instagram", "facebook", "oculus"];

/// Which rule set [`Username::parse_with`] enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UsernamePolicy {
    /// WhatsApp's consumer client rules (the default).
    #[default]
    Client,
    /// The client rules plus Meta's business-username rules (`www` prefix without a dot,
    /// `.us` / `.in` endings).
    Business,
}

/// A valid, normalised (lower-case, no `@`) WhatsApp username.
///
/// # Examples
/// ```
/// use wa_validate::Username;
///
/// let u = Username::parse("@My.Shop_")?;
/// assert_eq!(u.as_str(), "my.shop_");
/// assert_eq!(Username::parse("my..shop").unwrap_err().code(), "username_periods");
/// # Ok::<(), wa_validate::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Username(String);

impl Username {
    /// Validates under [`UsernamePolicy::Client`].
    ///
    /// # Errors
    /// The first failing `username_*` rule, in the client's order.
    pub fn parse(input: &str) -> Result<Username> {
        Self::parse_with(input, UsernamePolicy::Client)
    }

    /// Validates under the given policy.
    ///
    /// # Errors
    /// The first failing `username_*` rule.
    ///
    /// # Examples
    /// ```
    /// use wa_validate::{Username, UsernamePolicy};
    /// assert!(Username::parse("wwwshop").is_ok());
    /// let err = Username::parse_with("wwwshop", UsernamePolicy::Business).unwrap_err();
    /// assert_eq!(err.code(), "username_www_prefix");
    /// ```
    pub fn parse_with(input: &str, policy: UsernamePolicy) -> Result<Username> {
        let trimmed = input.trim();
        let body = trimmed.strip_prefix('@').unwrap_or(trimmed);
        let lower = body.to_ascii_lowercase();

        // 1. characters
        if let Some((index, ch)) = lower
            .chars()
            .enumerate()
            .find(|(_, c)| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '_'))
        {
            return Err(Error::UsernameInvalidCharacter { ch, index });
        }
        // 2. length (only ASCII is left, so bytes == UTF-16 units)
        let len = lower.len();
        if !(USERNAME_MIN_LEN..=USERNAME_MAX_LEN).contains(&len) {
            return Err(Error::UsernameLength {
                min: USERNAME_MIN_LEN,
                max: USERNAME_MAX_LEN,
                actual: len,
            });
        }
        // 3. a letter
        if !lower.bytes().any(|b| b.is_ascii_lowercase()) {
            return Err(Error::UsernameNoLetters);
        }
        // 4. periods
        if lower.starts_with('.') || lower.ends_with('.') || lower.contains("..") {
            return Err(Error::UsernamePeriods);
        }
        // 5. www
        if lower.starts_with("www.") {
            return Err(Error::UsernameWwwPrefix { prefix: "www." });
        }
        if policy == UsernamePolicy::Business && lower.starts_with("www") {
            return Err(Error::UsernameWwwPrefix { prefix: "www" });
        }
        // 6. domain-like suffix
        let extra: &[&'static str] = match policy {
            UsernamePolicy::Business => &BUSINESS_EXTRA_SUFFIXES,
            UsernamePolicy::Client => &[],
        };
        if let Some(suffix) = CLIENT_SUFFIXES
            .iter()
            .chain(extra)
            .find(|s| lower.ends_with(**s))
        {
            return Err(Error::UsernameDomainSuffix { suffix });
        }
        // 7. reserved words
        if let Some(word) = RESERVED_WORDS.iter().find(|w| lower.contains(**w)) {
            return Err(Error::UsernameReservedWord { word });
        }
        Ok(Username(lower))
    }

    /// The normalised username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Username {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Username::parse(s)
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Minimum username key length accepted.
pub const KEY_MIN_LEN: usize = 4;
/// Maximum username key length accepted.
pub const KEY_MAX_LEN: usize = 8;

/// A username key: the code that protects a username from first contact by strangers.
///
/// WhatsApp's client generates exactly four digits; the link-API seed documents "4–8
/// letters or numbers". Both are accepted (surrounding whitespace trimmed, case kept),
/// and [`UsernameKey::is_whatsapp_format`] says whether the key has WhatsApp's current
/// shape.
///
/// # Examples
/// ```
/// use wa_validate::UsernameKey;
///
/// assert!(UsernameKey::parse("1234")?.is_whatsapp_format());
/// assert!(!UsernameKey::parse("ab12cd")?.is_whatsapp_format());
/// assert_eq!(UsernameKey::parse("12").unwrap_err().code(), "username_key_length");
/// # Ok::<(), wa_validate::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UsernameKey(String);

impl UsernameKey {
    /// Validates a key.
    ///
    /// # Errors
    /// `username_key_invalid_character` or `username_key_length`.
    pub fn parse(input: &str) -> Result<UsernameKey> {
        let key = input.trim();
        if let Some((index, ch)) = key
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
        {
            return Err(Error::UsernameKeyInvalidCharacter { ch, index });
        }
        if !(KEY_MIN_LEN..=KEY_MAX_LEN).contains(&key.len()) {
            return Err(Error::UsernameKeyLength {
                min: KEY_MIN_LEN,
                max: KEY_MAX_LEN,
                actual: key.len(),
            });
        }
        Ok(UsernameKey(key.to_owned()))
    }

    /// `true` when the key is exactly four ASCII digits, as WhatsApp generates them.
    pub fn is_whatsapp_format(&self) -> bool {
        self.0.len() == 4 && self.0.bytes().all(|b| b.is_ascii_digit())
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Keys are secrets of a sort: `Debug` hides them.
impl fmt::Debug for UsernameKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UsernameKey({} chars)", self.0.len())
    }
}

impl fmt::Display for UsernameKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for UsernameKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        UsernameKey::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_first_failure_wins() {
        // invalid character beats length
        assert_eq!(
            Username::parse("a!").unwrap_err().code(),
            "username_invalid_character"
        );
        // length beats no-letters
        assert_eq!(Username::parse("12").unwrap_err().code(), "username_length");
        // no-letters beats periods
        assert_eq!(
            Username::parse(".12").unwrap_err().code(),
            "username_no_letters"
        );
        // periods beats www
        assert_eq!(
            Username::parse("www.a.").unwrap_err().code(),
            "username_periods"
        );
        // www beats suffix
        assert_eq!(
            Username::parse("www.a.com").unwrap_err().code(),
            "username_www_prefix"
        );
        // suffix beats reserved word
        assert_eq!(
            Username::parse("whatsapp.com").unwrap_err().code(),
            "username_domain_suffix"
        );
        assert_eq!(
            Username::parse("mywhatsappshop").unwrap_err().code(),
            "username_reserved_word"
        );
    }

    #[test]
    fn business_policy_is_stricter() {
        for name in ["wwwshop", "shop.us", "shop.in"] {
            assert!(Username::parse(name).is_ok(), "{name}");
            assert!(
                Username::parse_with(name, UsernamePolicy::Business).is_err(),
                "{name}"
            );
        }
    }

    #[test]
    fn key_debug_hides_value() {
        assert_eq!(
            format!("{:?}", UsernameKey::parse("1234").unwrap()),
            "UsernameKey(4 chars)"
        );
    }
}
