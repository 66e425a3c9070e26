//! `serde` support: every identity type is a string on the wire and is validated when
//! deserialised (strictly, with no default region for phones).

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::{Bsuid, Jid, Phone, Recipient, Username, UsernameKey};

struct FromStrVisitor<T>(PhantomData<T>, &'static str);

impl<T> Visitor<'_> for FromStrVisitor<T>
where
    T: FromStr<Err = crate::Error>,
{
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse()
            .map_err(|e: crate::Error| E::custom(format_args!("{}: {e}", e.code())))
    }
}

macro_rules! string_serde {
    ($($t:ty => $what:literal),* $(,)?) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str(FromStrVisitor(PhantomData, $what))
            }
        }
    )*};
}

string_serde! {
    Phone => "a phone number in international format",
    Username => "a WhatsApp username",
    UsernameKey => "a username key",
    Jid => "a JID (user@server)",
    Bsuid => "a BSUID (CC.id)",
    Recipient => "a phone number, BSUID or JID",
}

/// `#[serde(deserialize_with = "wa_validate::trusted_recipient")]`: reads a stored
/// [`Recipient`] with [`Recipient::parse_trusted`] (for data this program wrote, which must
/// keep reading after a metadata update).
///
/// # Errors
/// When the string is no recipient at all.
pub fn trusted_recipient<'de, D: Deserializer<'de>>(d: D) -> Result<Recipient, D::Error> {
    let s = String::deserialize(d)?;
    Recipient::parse_trusted(&s).map_err(|e| de::Error::custom(format_args!("{}: {e}", e.code())))
}
