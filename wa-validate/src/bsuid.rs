//! Business-scoped user ids (BSUIDs): `US.13491208655302741918`, and the parent
//! (portfolio-wide) form `US.ENT.…`.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Longest id part accepted.
pub const BSUID_MAX_ID_LEN: usize = 128;

/// A business-scoped user id, as carried in Cloud API webhooks' `user_id` and sent in
/// the `recipient` field.
///
/// # Examples
/// ```
/// use wa_validate::Bsuid;
///
/// let b = Bsuid::parse("US.13491208655302741918")?;
/// assert_eq!(b.country(), "US");
/// assert_eq!(b.id(), "13491208655302741918");
/// assert!(!b.is_parent());
///
/// assert!(Bsuid::parse("US.ENT.8a7b6c")?.is_parent());
/// assert_eq!(Bsuid::parse("us.123").unwrap_err().code(), "bsuid_country");
/// # Ok::<(), wa_validate::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bsuid {
    raw: String,
    parent: bool,
}

impl Bsuid {
    /// Validates `CC.<id>` or `CC.ENT.<id>` (surrounding whitespace trimmed).
    ///
    /// # Errors
    /// `bsuid_format`, `bsuid_country`, `bsuid_id_length`, `bsuid_invalid_character`.
    pub fn parse(input: &str) -> Result<Bsuid> {
        let s = input.trim();
        let (country, rest) = s.split_once('.').ok_or(Error::BsuidFormat)?;
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(Error::BsuidCountry);
        }
        let (parent, id) = match rest.strip_prefix("ENT.") {
            Some(id) => (true, id),
            None => (false, rest),
        };
        if let Some(ch) = id.chars().find(|c| !c.is_ascii_alphanumeric()) {
            return Err(Error::BsuidInvalidCharacter { ch });
        }
        if id.is_empty() || id.len() > BSUID_MAX_ID_LEN {
            return Err(Error::BsuidIdLength {
                max: BSUID_MAX_ID_LEN,
                actual: id.len(),
            });
        }
        Ok(Bsuid {
            raw: s.to_owned(),
            parent,
        })
    }

    /// The two-letter country prefix.
    pub fn country(&self) -> &str {
        &self.raw[..2]
    }

    /// The opaque id after the country (and `ENT.`).
    pub fn id(&self) -> &str {
        let start = if self.parent { 7 } else { 3 };
        &self.raw[start..]
    }

    /// `true` for a parent BSUID (`CC.ENT.…`) shared across a business portfolio.
    pub fn is_parent(&self) -> bool {
        self.parent
    }

    /// The whole id.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

/// Shows the country and the id length only: BSUIDs identify people.
impl fmt::Debug for Bsuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Bsuid({}.{}<{} chars>)",
            self.country(),
            if self.parent { "ENT." } else { "" },
            self.id().len()
        )
    }
}

impl fmt::Display for Bsuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl FromStr for Bsuid {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Bsuid::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors() {
        let code = |s: &str| Bsuid::parse(s).unwrap_err().code();
        assert_eq!(code("US13491208655302741918"), "bsuid_format");
        assert_eq!(code("USA.1"), "bsuid_country");
        assert_eq!(code("US."), "bsuid_id_length");
        assert_eq!(code("US.ENT."), "bsuid_id_length");
        assert_eq!(code(&format!("US.{}", "1".repeat(129))), "bsuid_id_length");
        assert_eq!(code("US.12-3"), "bsuid_invalid_character");
        assert!(Bsuid::parse(&format!("US.{}", "a".repeat(128))).is_ok());
    }
}
