//! The one error type of `wa-validate`, with stable machine-readable codes.
//!
//! Every variant has a snake_case [`Error::code`] that is part of the public API: it is
//! never renamed, it is unique across the wa-kit workspace, and the reference server
//! passes it through unchanged. The [`Display`](std::fmt::Display) text is for humans
//! and may be reworded.
//!
//! | code | meaning |
//! |---|---|
//! | `phone_empty` | the input has no digits at all |
//! | `phone_has_letters` | the input contains letters (vanity numbers such as `1-800-FLOWERS` are not accepted) |
//! | `phone_invalid_character` | the input contains a character that cannot appear in a phone number |
//! | `phone_not_a_number` | the input does not look like a phone number (e.g. `+` in the middle) |
//! | `phone_too_short` | fewer digits than any number of the country |
//! | `phone_too_long` | more digits than any number of the country (or than E.164's 15) |
//! | `phone_invalid_length` | a length between the shortest and longest, but matching no number plan |
//! | `phone_invalid_country_code` | no such country calling code, or none given and no default region |
//! | `phone_unknown_region` | the default region is not a region libphonenumber knows |
//! | `phone_invalid_for_region` | possible length, but not a valid number in its region's number plan |
//! | `username_invalid_character` | a character outside `[a-z0-9._]` |
//! | `username_length` | not 3–35 characters |
//! | `username_no_letters` | no ASCII letter |
//! | `username_periods` | leading, trailing or doubled `.` |
//! | `username_www_prefix` | starts with `www.` (business policy: `www`) |
//! | `username_domain_suffix` | ends like a domain (`.com`, `.org`, …) |
//! | `username_reserved_word` | contains `whatsapp`, `instagram`, `facebook` or `oculus` |
//! | `username_key_length` | a username key that is not 4–8 characters |
//! | `username_key_invalid_character` | a username key with a character outside `[A-Za-z0-9]` |
//! | `jid_missing_server` | no `@server` part |
//! | `jid_unknown_server` | a server that is not a WhatsApp JID server |
//! | `jid_invalid_user` | a user part that the server does not allow |
//! | `jid_invalid_device` | a bad `:device` or `.agent` suffix, or one on a server without devices |
//! | `bsuid_format` | not `CC.<id>` or `CC.ENT.<id>` |
//! | `bsuid_country` | the country part is not two upper-case ASCII letters |
//! | `bsuid_id_length` | the id part is empty or longer than 128 characters |
//! | `bsuid_invalid_character` | the id part has a character outside `[A-Za-z0-9]` |
//! | `recipient_empty` | an empty recipient string |
//!
//! [`Error::ALL_CODES`] holds the same table for programs (and for the snapshot test that
//! pins it).

/// A `Result` whose error defaults to [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Why an identity was rejected.
///
/// Variants carry data, not preformatted strings. Match on [`Error::code`] for a stable
/// identifier; the enum itself is `#[non_exhaustive]` so new checks can be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The phone input contains no digits.
    #[error("the phone number is empty")]
    PhoneEmpty,
    /// The phone input contains a letter.
    #[error("the phone number contains the letter {ch:?} at position {index}")]
    PhoneHasLetters {
        /// The first letter found.
        ch: char,
        /// Its character index in the input.
        index: usize,
    },
    /// The phone input contains a character that is neither a digit nor punctuation used
    /// when writing numbers (`+ ( ) - . /` and spaces).
    #[error("the phone number contains the character {ch:?} at position {index}")]
    PhoneInvalidCharacter {
        /// The first offending character.
        ch: char,
        /// Its character index in the input.
        index: usize,
    },
    /// The input is not shaped like a phone number.
    #[error("the input is not a phone number")]
    PhoneNotANumber,
    /// Too few digits.
    #[error("the phone number is too short")]
    PhoneTooShort,
    /// Too many digits.
    #[error("the phone number is too long")]
    PhoneTooLong,
    /// A length that no number of the country has.
    #[error("the phone number has a length that no number in its country has")]
    PhoneInvalidLength,
    /// Unknown country calling code, or a national number given without a default region.
    #[error("the country calling code is missing or unknown")]
    PhoneInvalidCountryCode,
    /// The default region given is not known to the phone metadata.
    #[error("unknown region {region:?}")]
    PhoneUnknownRegion {
        /// The region as given.
        region: String,
    },
    /// The number has a possible length but is not valid in its region's numbering plan.
    #[error("the phone number is not valid in {region}")]
    PhoneInvalidForRegion {
        /// The ISO 3166-1 region (or `001` for non-geographic numbers), `ZZ` if unknown.
        region: String,
    },

    /// A username character outside `[a-z0-9._]` (after ASCII lower-casing).
    #[error("usernames may only contain a-z, 0-9, '.' and '_' (found {ch:?} at position {index})")]
    UsernameInvalidCharacter {
        /// The first offending character.
        ch: char,
        /// Its character index in the username (after a leading `@` is stripped).
        index: usize,
    },
    /// The username is not within the length limits.
    #[error("usernames must be {min} to {max} characters long (got {actual})")]
    UsernameLength {
        /// Minimum length (3).
        min: usize,
        /// Maximum length (35).
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// The username has no letter.
    #[error("usernames must contain at least one letter")]
    UsernameNoLetters,
    /// Leading, trailing or consecutive periods.
    #[error("usernames must not start or end with '.' or contain '..'")]
    UsernamePeriods,
    /// A `www.` (or, under the business policy, `www`) prefix.
    #[error("usernames must not start with {prefix:?}")]
    UsernameWwwPrefix {
        /// The prefix that matched.
        prefix: &'static str,
    },
    /// A domain-like ending.
    #[error("usernames must not end with a domain such as {suffix:?}")]
    UsernameDomainSuffix {
        /// The suffix that matched, e.g. `.com`.
        suffix: &'static str,
    },
    /// A reserved word anywhere in the name.
    #[error("usernames must not contain {word:?}")]
    UsernameReservedWord {
        /// The reserved word found.
        word: &'static str,
    },

    /// A username key of the wrong length.
    #[error("username keys must be {min} to {max} characters long (got {actual})")]
    UsernameKeyLength {
        /// Minimum length (4).
        min: usize,
        /// Maximum length (8).
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// A username key character outside `[A-Za-z0-9]`.
    #[error("username keys may only contain letters and digits (found {ch:?} at position {index})")]
    UsernameKeyInvalidCharacter {
        /// The first offending character.
        ch: char,
        /// Its character index.
        index: usize,
    },

    /// No `@server` part.
    #[error("a JID needs the form user@server")]
    JidMissingServer,
    /// An unknown server.
    #[error("{server:?} is not a WhatsApp JID server")]
    JidUnknownServer {
        /// The server part as given.
        server: String,
    },
    /// A user part the server does not allow.
    #[error("the user part of the JID is not valid for server {server}")]
    JidInvalidUser {
        /// The server the user part was checked against.
        server: &'static str,
    },
    /// A malformed `:device` / `.agent` suffix, or one on a server without devices.
    #[error("the JID device suffix is not valid")]
    JidInvalidDevice,

    /// Not `CC.<id>` / `CC.ENT.<id>`.
    #[error("a BSUID has the form CC.<id> or CC.ENT.<id>")]
    BsuidFormat,
    /// The country part is not two upper-case ASCII letters.
    #[error("the BSUID country must be two upper-case letters")]
    BsuidCountry,
    /// The id part is empty or too long.
    #[error("the BSUID id must be 1 to {max} characters (got {actual})")]
    BsuidIdLength {
        /// Maximum length (128).
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// The id part has a non-alphanumeric character.
    #[error("the BSUID id may only contain letters and digits (found {ch:?})")]
    BsuidInvalidCharacter {
        /// The first offending character.
        ch: char,
    },

    /// An empty recipient.
    #[error("the recipient is empty")]
    RecipientEmpty,
}

impl Error {
    /// Every code this crate can return, with a one-line description, in table order.
    pub const ALL_CODES: &'static [(&'static str, &'static str)] = &[
        ("phone_empty", "the input has no digits at all"),
        ("phone_has_letters", "the input contains letters"),
        (
            "phone_invalid_character",
            "a character that cannot appear in a phone number",
        ),
        (
            "phone_not_a_number",
            "the input does not look like a phone number",
        ),
        (
            "phone_too_short",
            "fewer digits than any number of the country",
        ),
        (
            "phone_too_long",
            "more digits than any number of the country",
        ),
        (
            "phone_invalid_length",
            "a length that matches no number plan of the country",
        ),
        (
            "phone_invalid_country_code",
            "missing or unknown country calling code",
        ),
        ("phone_unknown_region", "the default region is unknown"),
        (
            "phone_invalid_for_region",
            "not a valid number in its region's number plan",
        ),
        (
            "username_invalid_character",
            "a character outside [a-z0-9._]",
        ),
        ("username_length", "not 3 to 35 characters"),
        ("username_no_letters", "no ASCII letter"),
        ("username_periods", "leading, trailing or doubled period"),
        ("username_www_prefix", "starts with www."),
        ("username_domain_suffix", "ends like a domain"),
        ("username_reserved_word", "contains a reserved word"),
        (
            "username_key_length",
            "a username key that is not 4 to 8 characters",
        ),
        (
            "username_key_invalid_character",
            "a username key character outside [A-Za-z0-9]",
        ),
        ("jid_missing_server", "no @server part"),
        ("jid_unknown_server", "not a WhatsApp JID server"),
        ("jid_invalid_user", "a user part the server does not allow"),
        ("jid_invalid_device", "a bad device or agent suffix"),
        ("bsuid_format", "not CC.<id> or CC.ENT.<id>"),
        ("bsuid_country", "the country is not two upper-case letters"),
        (
            "bsuid_id_length",
            "the id is empty or longer than 128 characters",
        ),
        (
            "bsuid_invalid_character",
            "the id has a non-alphanumeric character",
        ),
        ("recipient_empty", "an empty recipient"),
    ];

    /// The stable snake_case code of this error.
    ///
    /// # Examples
    /// ```
    /// let err = wa_validate::Username::parse("ab").unwrap_err();
    /// assert_eq!(err.code(), "username_length");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::PhoneEmpty => "phone_empty",
            Error::PhoneHasLetters { .. } => "phone_has_letters",
            Error::PhoneInvalidCharacter { .. } => "phone_invalid_character",
            Error::PhoneNotANumber => "phone_not_a_number",
            Error::PhoneTooShort => "phone_too_short",
            Error::PhoneTooLong => "phone_too_long",
            Error::PhoneInvalidLength => "phone_invalid_length",
            Error::PhoneInvalidCountryCode => "phone_invalid_country_code",
            Error::PhoneUnknownRegion { .. } => "phone_unknown_region",
            Error::PhoneInvalidForRegion { .. } => "phone_invalid_for_region",
            Error::UsernameInvalidCharacter { .. } => "username_invalid_character",
            Error::UsernameLength { .. } => "username_length",
            Error::UsernameNoLetters => "username_no_letters",
            Error::UsernamePeriods => "username_periods",
            Error::UsernameWwwPrefix { .. } => "username_www_prefix",
            Error::UsernameDomainSuffix { .. } => "username_domain_suffix",
            Error::UsernameReservedWord { .. } => "username_reserved_word",
            Error::UsernameKeyLength { .. } => "username_key_length",
            Error::UsernameKeyInvalidCharacter { .. } => "username_key_invalid_character",
            Error::JidMissingServer => "jid_missing_server",
            Error::JidUnknownServer { .. } => "jid_unknown_server",
            Error::JidInvalidUser { .. } => "jid_invalid_user",
            Error::JidInvalidDevice => "jid_invalid_device",
            Error::BsuidFormat => "bsuid_format",
            Error::BsuidCountry => "bsuid_country",
            Error::BsuidIdLength { .. } => "bsuid_id_length",
            Error::BsuidInvalidCharacter { .. } => "bsuid_invalid_character",
            Error::RecipientEmpty => "recipient_empty",
        }
    }
}
