//! The text forms of the option types: `Display`, `FromStr` and (with the `serde`
//! feature) serde as those strings — `"#25d366"`, `"M"`, `"rounded"` — so options read
//! from a config file or a query string use the same spelling as the HTTP API.

use core::fmt;
use core::str::FromStr;

use crate::{Color, Ecl, Error, Style};

impl fmt::Display for Color {
    /// `#rrggbb`, or `#rrggbbaa` when not opaque (see [`Color::to_hex`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl FromStr for Color {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Color::parse(s)
    }
}

impl fmt::Display for Ecl {
    /// `L`, `M`, `Q` or `H`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ecl::Low => "L",
            Ecl::Medium => "M",
            Ecl::Quartile => "Q",
            Ecl::High => "H",
        })
    }
}

impl FromStr for Ecl {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ecl::parse(s)
    }
}

impl Style {
    /// `square` or `rounded`.
    ///
    /// ```
    /// assert_eq!(wa_qr::Style::Rounded.as_str(), "rounded");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Style::Square => "square",
            Style::Rounded => "rounded",
        }
    }

    /// Reads `square` or `rounded` (ASCII case ignored).
    ///
    /// ```
    /// assert_eq!(wa_qr::Style::from_name("Rounded"), Some(wa_qr::Style::Rounded));
    /// assert_eq!(wa_qr::Style::from_name("dots"), None);
    /// ```
    pub fn from_name(s: &str) -> Option<Style> {
        [Style::Square, Style::Rounded]
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for Style {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::*;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    impl Serialize for Color {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self)
        }
    }
    impl<'de> Deserialize<'de> for Color {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            Color::parse(&s).map_err(D::Error::custom)
        }
    }
    impl Serialize for Ecl {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(self)
        }
    }
    impl<'de> Deserialize<'de> for Ecl {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            Ecl::parse(&s).map_err(D::Error::custom)
        }
    }
    impl Serialize for Style {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self.as_str())
        }
    }
    impl<'de> Deserialize<'de> for Style {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            Style::from_name(&s)
                .ok_or_else(|| D::Error::unknown_variant(&s, &["square", "rounded"]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip() {
        for s in ["#25d366", "#075e5482"] {
            assert_eq!(s.parse::<Color>().unwrap().to_string(), s);
        }
        for e in [Ecl::Low, Ecl::Medium, Ecl::Quartile, Ecl::High] {
            assert_eq!(e.to_string().parse::<Ecl>().unwrap(), e);
        }
        for st in [Style::Square, Style::Rounded] {
            assert_eq!(Style::from_name(&st.to_string()), Some(st));
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_uses_the_text_forms() {
        let v = serde_json::json!({"c": Color::rgb(0x25, 0xd3, 0x66), "e": Ecl::High, "s": Style::Rounded});
        assert_eq!(v.to_string(), r##"{"c":"#25d366","e":"H","s":"rounded"}"##);
        let c: Color = serde_json::from_str(r##""#0008""##).unwrap();
        assert_eq!(c.a, 0x88);
        assert!(serde_json::from_str::<Style>(r#""dots""#).is_err());
    }
}
