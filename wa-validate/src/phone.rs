//! Phone numbers in E.164, parsed from whatever a human typed.
//!
//! Parsing and validation use Google's libphonenumber metadata through the
//! [`rlibphonenumber`](https://docs.rs/rlibphonenumber) port. It was chosen by measurement
//! over the `phonenumber` crate, whose hard-coded 100-entry regex cache makes a number
//! cost ~1.3 ms once traffic spans more than ~20 regions (see the `phone` criterion bench
//! and the differential test in `tests/phone_differential.rs`).
//!
//! # Input rules
//! - Digits (ASCII, full-width and Arabic-Indic), spaces and the punctuation people use
//!   when writing numbers (`+ ( ) - . /`, Unicode dashes) are accepted; letters
//!   (`phone_has_letters`) and anything else (`phone_invalid_character`) are refused.
//! - A leading `+`, `00`, or (with no default region) `011` marks an international number.
//! - Without a default region, digits with no prefix are read as international
//!   (`14155552671` is `+1 415 555 2671`), as wa.me does.
//! - With a default region, a national number (`(415) 555-2671`, `07911 123456`) is read in
//!   that region's numbering plan, trunk prefix dropped.
//! - By default the number must be *valid* (it matches a number range of its region);
//!   [`PhoneOptions::accept_possible`] accepts numbers that only have a possible length.

use std::fmt;
use std::str::FromStr;
use std::sync::{LazyLock, OnceLock};

use rlibphonenumber::{
    NumberLengthType, PHONE_NUMBER_UTIL, ParseError, PhoneNumberFormat, PhoneNumberType, Region,
    ValidationError,
};

use crate::error::{Error, Result};

/// Longest input (in characters) looked at; longer strings are `phone_too_long`.
const MAX_INPUT_CHARS: usize = 64;
/// E.164 allows at most 15 digits including the country code.
const MAX_E164_DIGITS: usize = 15;
/// The shortest `wa_id` accepted: a country code and the shortest national numbers.
const MIN_WA_ID_DIGITS: usize = 7;

/// A validated phone number.
///
/// Equality and hashing use the E.164 form only.
///
/// # Examples
/// ```
/// use wa_validate::Phone;
///
/// let p = Phone::parse("+1 (415) 555-2671")?;
/// assert_eq!(p.digits(), "14155552671");
/// assert_eq!(p.e164(), "+14155552671");
/// assert_eq!(p.country_code(), 1);
/// assert_eq!(p.region(), Some("US"));
/// assert_eq!(p.national_number(), "4155552671");
/// # Ok::<(), wa_validate::Error>(())
/// ```
#[derive(Clone)]
pub struct Phone {
    e164: String,
    country_code: u16,
    national_start: u8,
    region: Option<[u8; 3]>,
    /// Classified on first use: the line type costs a third of a parse and most callers
    /// never ask for it.
    number_type: OnceLock<NumberType>,
    valid: bool,
}

impl PartialEq for Phone {
    fn eq(&self, other: &Self) -> bool {
        self.e164 == other.e164
    }
}
impl Eq for Phone {}
impl std::hash::Hash for Phone {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.e164.hash(state);
    }
}
impl PartialOrd for Phone {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Phone {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.e164.cmp(&other.e164)
    }
}

/// Redacts all but the country code and the last two digits.
impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.digits();
        let cc = self.country_code.to_string();
        let hidden = digits.len().saturating_sub(cc.len() + 2);
        write!(
            f,
            "Phone(+{cc}{}{})",
            "*".repeat(hidden),
            &digits[digits.len().saturating_sub(2).max(cc.len())..]
        )
    }
}

/// Writes the E.164 form, `+14155552671`.
impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

/// Strict parse with no default region; see [`Phone::parse`].
impl FromStr for Phone {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Phone::parse(s)
    }
}

impl Phone {
    /// Parses an international number (`+…`, `00…`, or bare digits starting with the
    /// country code) and requires it to be valid.
    ///
    /// # Errors
    /// Any `phone_*` code of [`Error`].
    ///
    /// # Examples
    /// ```
    /// use wa_validate::Phone;
    /// assert_eq!(Phone::parse("00 351 912 345 678")?.digits(), "351912345678");
    /// assert_eq!(Phone::parse("14155552671")?.e164(), "+14155552671");
    /// assert_eq!(Phone::parse("+1 415").unwrap_err().code(), "phone_too_short");
    /// # Ok::<(), wa_validate::Error>(())
    /// ```
    pub fn parse(input: &str) -> Result<Phone> {
        PhoneOptions::new().parse(input)
    }

    /// A WhatsApp `wa_id` (the sender id in Meta's webhooks): WhatsApp itself vouches for
    /// the number, so it is accepted whenever it is 7–15 ASCII digits (an optional `+`
    /// first) behind an assigned country calling code, whatever libphonenumber's number
    /// ranges say about it. [`Phone::is_valid`] tells whether the ranges agree.
    ///
    /// # Errors
    /// `phone_not_a_number` (not digits), `phone_too_short`, `phone_too_long`,
    /// `phone_invalid_country_code`.
    ///
    /// # Examples
    /// ```
    /// use wa_validate::Phone;
    /// // WhatAuth's own example sender, outside Chile's assigned ranges:
    /// assert!(Phone::parse("+56911111111").is_err());
    /// let p = Phone::from_wa_id("56911111111")?;
    /// assert_eq!((p.e164(), p.country_code(), p.is_valid()), ("+56911111111", 56, false));
    /// assert_eq!(Phone::from_wa_id("14155552671")?.region(), Some("US"));
    /// assert_eq!(Phone::from_wa_id("12345").unwrap_err().code(), "phone_too_short");
    /// # Ok::<(), wa_validate::Error>(())
    /// ```
    pub fn from_wa_id(wa_id: &str) -> Result<Phone> {
        let d = wa_id.strip_prefix('+').unwrap_or(wa_id);
        if d.is_empty() || !d.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::PhoneNotANumber);
        }
        if d.len() < MIN_WA_ID_DIGITS {
            return Err(Error::PhoneTooShort);
        }
        if d.len() > MAX_E164_DIGITS {
            return Err(Error::PhoneTooLong);
        }
        if let Ok(p) = PhoneOptions::new()
            .accept_possible(true)
            .parse(&format!("+{d}"))
            && p.digits() == d
        {
            return Ok(p);
        }
        let (country_code, region) = (1..=3)
            .find_map(|n| {
                let cc: u16 = d[..n].parse().ok()?;
                let region = PHONE_NUMBER_UTIL.get_region_for_country_code(i32::from(cc))?;
                Some((cc, region))
            })
            .ok_or(Error::PhoneInvalidCountryCode)?;
        let cc_len = country_code.to_string().len();
        Ok(Phone {
            e164: format!("+{d}"),
            country_code,
            national_start: u8::try_from(1 + cc_len).unwrap_or(u8::MAX),
            region: Some(region_bytes(region)),
            number_type: OnceLock::new(),
            valid: false,
        })
    }

    /// Parses a number that may be written nationally, in `region`'s numbering plan
    /// (an ISO 3166-1 alpha-2 code such as `US` or `gb`).
    ///
    /// # Errors
    /// Any `phone_*` code of [`Error`]; `phone_unknown_region` for an unknown region.
    ///
    /// # Examples
    /// ```
    /// use wa_validate::Phone;
    /// assert_eq!(Phone::parse_with_region("(415) 555-2671", "US")?.digits(), "14155552671");
    /// assert_eq!(Phone::parse_with_region("07911 123456", "GB")?.digits(), "447911123456");
    /// # Ok::<(), wa_validate::Error>(())
    /// ```
    pub fn parse_with_region(input: &str, region: &str) -> Result<Phone> {
        PhoneOptions::new().region(region).parse(input)
    }

    /// The E.164 form with its `+`: what the Cloud API `to` field wants.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The E.164 digits without `+`: what wa.me links and JIDs want.
    pub fn digits(&self) -> &str {
        &self.e164[1..]
    }

    /// The country calling code, e.g. `44`.
    pub fn country_code(&self) -> u16 {
        self.country_code
    }

    /// The national significant number (no trunk prefix), e.g. `7911123456`.
    pub fn national_number(&self) -> &str {
        &self.e164[usize::from(self.national_start)..]
    }

    /// The ISO 3166-1 region the number belongs to (`001` for non-geographic numbers such
    /// as `+800`), or `None` when the metadata cannot tell.
    pub fn region(&self) -> Option<&str> {
        self.region.as_ref().map(|r| {
            let len = if r[2] == 0 { 2 } else { 3 };
            std::str::from_utf8(&r[..len]).unwrap_or("ZZ")
        })
    }

    /// The kind of line (mobile, fixed line, …) per the metadata.
    pub fn number_type(&self) -> NumberType {
        *self.number_type.get_or_init(|| {
            PHONE_NUMBER_UTIL
                .parse(&self.e164, None)
                .map_or(NumberType::Unknown, |n| {
                    NumberType::from_engine(n.get_type())
                })
        })
    }

    /// `true` when the number matches a number range of its region; `false` when it was
    /// accepted only as *possible* (see [`PhoneOptions::accept_possible`]).
    pub fn is_valid(&self) -> bool {
        self.valid
    }
}

/// The line type of a number, as libphonenumber classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NumberType {
    /// A landline.
    FixedLine,
    /// A mobile number.
    Mobile,
    /// Cannot be told apart (e.g. the US and Canada).
    FixedLineOrMobile,
    /// Toll-free.
    TollFree,
    /// Premium rate.
    PremiumRate,
    /// Shared cost.
    SharedCost,
    /// Voice over IP.
    Voip,
    /// A personal (follow-me) number.
    PersonalNumber,
    /// A pager.
    Pager,
    /// Universal access number.
    Uan,
    /// Voicemail access.
    Voicemail,
    /// Matches no known range (only for numbers accepted as possible).
    Unknown,
}

impl NumberType {
    /// A stable snake_case name, e.g. `fixed_line_or_mobile`.
    ///
    /// # Examples
    /// ```
    /// let p = wa_validate::Phone::parse("+44 7911 123456")?;
    /// assert_eq!(p.number_type().as_str(), "mobile");
    /// # Ok::<(), wa_validate::Error>(())
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            NumberType::FixedLine => "fixed_line",
            NumberType::Mobile => "mobile",
            NumberType::FixedLineOrMobile => "fixed_line_or_mobile",
            NumberType::TollFree => "toll_free",
            NumberType::PremiumRate => "premium_rate",
            NumberType::SharedCost => "shared_cost",
            NumberType::Voip => "voip",
            NumberType::PersonalNumber => "personal_number",
            NumberType::Pager => "pager",
            NumberType::Uan => "uan",
            NumberType::Voicemail => "voicemail",
            NumberType::Unknown => "unknown",
        }
    }

    /// `true` for types WhatsApp accounts are commonly registered on (mobile, fixed line,
    /// or either).
    pub fn is_likely_whatsapp(self) -> bool {
        matches!(
            self,
            NumberType::Mobile | NumberType::FixedLine | NumberType::FixedLineOrMobile
        )
    }

    fn from_engine(t: PhoneNumberType) -> Self {
        match t {
            PhoneNumberType::FixedLine => NumberType::FixedLine,
            PhoneNumberType::Mobile => NumberType::Mobile,
            PhoneNumberType::FixedLineOrMobile => NumberType::FixedLineOrMobile,
            PhoneNumberType::TollFree => NumberType::TollFree,
            PhoneNumberType::PremiumRate => NumberType::PremiumRate,
            PhoneNumberType::SharedCost => NumberType::SharedCost,
            PhoneNumberType::VoIP => NumberType::Voip,
            PhoneNumberType::PersonalNumber => NumberType::PersonalNumber,
            PhoneNumberType::Pager => NumberType::Pager,
            PhoneNumberType::UAN => NumberType::Uan,
            PhoneNumberType::VoiceMail => NumberType::Voicemail,
            PhoneNumberType::Unknown => NumberType::Unknown,
        }
    }
}

impl fmt::Display for NumberType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to parse a phone number: default region and strictness.
///
/// # Examples
/// ```
/// use wa_validate::PhoneOptions;
///
/// let opts = PhoneOptions::new().region("PT");
/// assert_eq!(opts.parse("912 345 678")?.e164(), "+351912345678");
///
/// // A number with a possible length but outside every allocated range:
/// let lenient = PhoneOptions::new().accept_possible(true);
/// let p = lenient.parse("+1 415 123 4567")?;
/// assert!(!p.is_valid());
/// # Ok::<(), wa_validate::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct PhoneOptions {
    region: Option<String>,
    accept_possible: bool,
}

impl PhoneOptions {
    /// Strict parsing with no default region.
    pub fn new() -> Self {
        Self::default()
    }

    /// The region national numbers are read in (ISO 3166-1 alpha-2, any case). Defaults
    /// to none: numbers must then carry their country code.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Accept numbers that have a possible length for their country even if no number
    /// range matches ([`Phone::is_valid`] is then `false`). Defaults to `false`.
    pub fn accept_possible(mut self, yes: bool) -> Self {
        self.accept_possible = yes;
        self
    }

    /// Parses `input` under these options.
    ///
    /// # Errors
    /// Any `phone_*` code of [`Error`].
    pub fn parse(&self, input: &str) -> Result<Phone> {
        let region = match &self.region {
            None => None,
            Some(r) => Some(resolve_region(r)?),
        };
        let cleaned = clean(input, region.is_some())?;
        let util = &*PHONE_NUMBER_UTIL;
        let number = util.parse(&cleaned, region).map_err(|e| match e {
            ParseError::InvalidCountryCode => Error::PhoneInvalidCountryCode,
            ParseError::NotANumber(_) => Error::PhoneNotANumber,
            ParseError::TooShortAfterIdd | ParseError::TooShortNsn => Error::PhoneTooShort,
            ParseError::TooLongNsn => Error::PhoneTooLong,
        })?;
        // Same as `is_valid()`, keeping the region for below instead of resolving it twice.
        let number_region = number.get_region_code();
        let valid = number_region.is_some_and(|r| number.is_valid_for_region(r));
        // A number that matches a range of its region is valid whatever its length class
        // (e.g. Canada's 7-digit `310-xxxx` numbers are "local only" yet valid).
        if !valid {
            match number.is_possible_with_reason() {
                Ok(NumberLengthType::IsPossible) => {}
                Ok(NumberLengthType::IsPossibleLocalOnly) | Err(ValidationError::TooShort) => {
                    return Err(Error::PhoneTooShort);
                }
                Err(ValidationError::TooLong) => return Err(Error::PhoneTooLong),
                Err(ValidationError::InvalidLength) => return Err(Error::PhoneInvalidLength),
                Err(ValidationError::InvalidCountryCode) => {
                    return Err(Error::PhoneInvalidCountryCode);
                }
            }
        }
        let e164 = number.format_as(PhoneNumberFormat::E164).into_owned();
        if e164.len() - 1 > MAX_E164_DIGITS {
            return Err(Error::PhoneTooLong);
        }
        if !valid && !self.accept_possible {
            let r = number_region.or(region);
            return Err(Error::PhoneInvalidForRegion {
                region: r.map_or_else(|| "ZZ".to_owned(), |r| r.as_region_str().to_string()),
            });
        }
        let country_code =
            u16::try_from(number.country_code).map_err(|_| Error::PhoneInvalidCountryCode)?;
        let cc_len = country_code.to_string().len();
        // The E.164 form must read back as itself, or it would name another number. Two
        // kinds of input break that, and only they pay the re-parse: a national number
        // starting with 0 after the country code (Italy's fixed lines, or a trunk prefix
        // left in: `+49 00 1234 5678`), and a number matching no range (accepted only as
        // "possible"), which libphonenumber may read back with a national or carrier
        // prefix stripped (`+86 12346 6061129` re-parses as `+86 6061129`).
        if !valid || e164.as_bytes().get(1 + cc_len) == Some(&b'0') {
            let again = util.parse(&e164, None).ok();
            if again.map(|n| n.format_as(PhoneNumberFormat::E164).into_owned())
                != Some(e164.clone())
            {
                let r = number_region.or(region);
                return Err(Error::PhoneInvalidForRegion {
                    region: r.map_or_else(|| "ZZ".to_owned(), |r| r.as_region_str().to_string()),
                });
            }
        }
        Ok(Phone {
            national_start: u8::try_from(1 + cc_len).unwrap_or(u8::MAX),
            country_code,
            region: number_region.map(region_bytes),
            number_type: OnceLock::new(),
            valid,
            e164,
        })
    }
}

fn region_bytes(r: Region) -> [u8; 3] {
    let s = r.as_region_str();
    let b = s.as_bytes();
    let mut out = [0u8; 3];
    for (o, c) in out.iter_mut().zip(b) {
        *o = *c;
    }
    out
}

fn resolve_region(r: &str) -> Result<Region> {
    let unknown = || Error::PhoneUnknownRegion {
        region: r.to_owned(),
    };
    let region = Region::from_code(r.trim()).map_err(|_| unknown())?;
    if PHONE_NUMBER_UTIL
        .get_country_code_for_region(region)
        .is_none()
    {
        return Err(unknown());
    }
    Ok(region)
}

mod clean;
mod regions;

use clean::clean;
pub use regions::{country_code_for_region, example_numbers, supported_regions, warm_up};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_examples() {
        assert_eq!(
            Phone::parse("+1 (415) 555-2671").unwrap().digits(),
            "14155552671"
        );
        assert_eq!(Phone::parse("14155552671").unwrap().digits(), "14155552671");
        assert_eq!(
            Phone::parse("00 351 912 345 678").unwrap().digits(),
            "351912345678"
        );
        let uk = Phone::parse("+44 7911 123456").unwrap();
        // libphonenumber allocates the 7911 block to Guernsey, which shares +44.
        assert_eq!(uk.region(), Some("GG"));
        assert_eq!(
            Phone::parse("+44 7400 123456").unwrap().region(),
            Some("GB")
        );
        assert_eq!(uk.number_type(), NumberType::Mobile);
        assert_eq!(
            Phone::parse_with_region("(415) 555-2671", "US")
                .unwrap()
                .e164(),
            "+14155552671"
        );
    }

    #[test]
    fn debug_redacts() {
        let p = Phone::parse("+14155552671").unwrap();
        assert_eq!(format!("{p:?}"), "Phone(+1********71)");
    }

    #[test]
    fn errors() {
        let code = |s: &str| Phone::parse(s).unwrap_err().code();
        assert_eq!(code(""), "phone_empty");
        assert_eq!(code(" + "), "phone_empty");
        assert_eq!(code("1-800-FLOWERS"), "phone_has_letters");
        assert_eq!(code("+1 415 555 2671 #"), "phone_invalid_character");
        assert_eq!(code("14+155552671"), "phone_not_a_number");
        assert_eq!(code("+1 415"), "phone_too_short");
        assert_eq!(code("+1 415 555 2671 123456"), "phone_too_long");
        assert_eq!(code("+999 1234567"), "phone_invalid_country_code");
        assert_eq!(code("07911 123456"), "phone_invalid_country_code");
        assert_eq!(code("+1 415 123 4567"), "phone_invalid_for_region");
        assert_eq!(
            Phone::parse_with_region("123", "XX").unwrap_err().code(),
            "phone_unknown_region"
        );
    }
}
