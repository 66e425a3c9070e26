//! Who a message goes to: a phone number, a BSUID or a JID — never a bare string.

use std::fmt;
use std::str::FromStr;

use crate::bsuid::Bsuid;
use crate::error::{Error, Result};
use crate::jid::Jid;
use crate::phone::Phone;

/// A message recipient.
///
/// [`Recipient::parse`] tells the forms apart by shape: anything with `@` is a JID,
/// `CC.` followed by more is a BSUID, everything else is read as an international phone
/// number.
///
/// # Examples
/// ```
/// use wa_validate::Recipient;
///
/// assert!(matches!(Recipient::parse("+1 415 555 2671")?, Recipient::Phone(_)));
/// assert!(matches!(Recipient::parse("US.13491208655302741918")?, Recipient::Bsuid(_)));
/// assert!(matches!(Recipient::parse("120363041234567890@g.us")?, Recipient::Jid(_)));
/// assert_eq!(Recipient::parse("+1 415 555 2671")?.to_string(), "+14155552671");
/// # Ok::<(), wa_validate::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Recipient {
    /// A phone number (E.164).
    Phone(Phone),
    /// A business-scoped user id.
    Bsuid(Bsuid),
    /// A JID (user, group, LID, newsletter, …).
    Jid(Jid),
}

impl Recipient {
    /// Detects the form and validates it.
    ///
    /// # Errors
    /// `recipient_empty`, or the code of the form it was read as.
    pub fn parse(input: &str) -> Result<Recipient> {
        let s = input.trim();
        if s.is_empty() {
            return Err(Error::RecipientEmpty);
        }
        if s.contains('@') {
            return Jid::parse(s).map(Recipient::Jid);
        }
        let b = s.as_bytes();
        if b.len() > 3 && b[0].is_ascii_alphabetic() && b[1].is_ascii_alphabetic() && b[2] == b'.' {
            return Bsuid::parse(s).map(Recipient::Bsuid);
        }
        Phone::parse(s).map(Recipient::Phone)
    }

    /// Reads a recipient this program wrote itself (a stored message) or WhatsApp
    /// reported: a `+digits` number is taken as WhatsApp vouches for it
    /// ([`Phone::from_wa_id`]), so a number accepted once still reads after the numbering
    /// metadata changes; other forms parse as in [`Recipient::parse`].
    ///
    /// # Errors
    /// As [`Phone::from_wa_id`] and [`Recipient::parse`].
    ///
    /// # Examples
    /// ```
    /// use wa_validate::Recipient;
    /// assert!(Recipient::parse("+56911111111").is_err());
    /// assert_eq!(Recipient::parse_trusted("+56911111111")?.to_string(), "+56911111111");
    /// assert!(Recipient::parse_trusted("US.13491208655302741918").is_ok());
    /// # Ok::<(), wa_validate::Error>(())
    /// ```
    pub fn parse_trusted(input: &str) -> Result<Recipient> {
        let s = input.trim();
        match s.strip_prefix('+') {
            Some(d) if !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) => {
                Phone::from_wa_id(d).map(Recipient::Phone)
            }
            _ => Recipient::parse(s),
        }
    }

    /// The phone number, if this recipient is one (or a phone-user JID is not: use
    /// [`Recipient::phone_digits`] for that).
    pub fn as_phone(&self) -> Option<&Phone> {
        match self {
            Recipient::Phone(p) => Some(p),
            _ => None,
        }
    }

    /// The phone digits (no `+`) of a phone recipient or a phone-user JID.
    ///
    /// # Examples
    /// ```
    /// use wa_validate::Recipient;
    /// assert_eq!(Recipient::parse("14155552671@c.us")?.phone_digits(), Some("14155552671"));
    /// assert_eq!(Recipient::parse("US.1")?.phone_digits(), None);
    /// # Ok::<(), wa_validate::Error>(())
    /// ```
    pub fn phone_digits(&self) -> Option<&str> {
        match self {
            Recipient::Phone(p) => Some(p.digits()),
            Recipient::Jid(j) if j.is_phone_user() => Some(j.user()),
            _ => None,
        }
    }
}

impl From<Phone> for Recipient {
    fn from(p: Phone) -> Self {
        Recipient::Phone(p)
    }
}
impl From<Bsuid> for Recipient {
    fn from(b: Bsuid) -> Self {
        Recipient::Bsuid(b)
    }
}
impl From<Jid> for Recipient {
    fn from(j: Jid) -> Self {
        Recipient::Jid(j)
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recipient::Phone(p) => fmt::Display::fmt(p, f),
            Recipient::Bsuid(b) => fmt::Display::fmt(b, f),
            Recipient::Jid(j) => fmt::Display::fmt(j, f),
        }
    }
}

impl FromStr for Recipient {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Recipient::parse(s)
    }
}
