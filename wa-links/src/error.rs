//! The error type of `wa-links`, with stable machine-readable codes.
//!
//! | code | meaning |
//! |---|---|
//! | `link_invalid_url` | the input is not a URL |
//! | `link_unsupported_scheme` | a scheme other than `http`, `https`, `whatsapp` or `sms` |
//! | `link_unknown_host` | not a WhatsApp host (`wa.me`, `api.whatsapp.com`, `web.whatsapp.com`, `chat.whatsapp.com`, `whatsapp.com`) |
//! | `link_invalid_path` | a WhatsApp host, but a path that is not a known link form |
//! | `link_unsupported_target` | the link form cannot address this target (e.g. an `sms:` link to a username) |
//! | `link_invalid_base_url` | the short-link base is not an absolute `http(s)` URL without query or fragment |
//!
//! A phone number or username inside a link that fails validation returns the
//! `wa-validate` error unchanged ([`Error::Invalid`]), so its code (`phone_too_short`,
//! `username_periods`, …) is the code reported.

/// A `Result` whose error defaults to [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Why a link could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not a URL.
    #[error("not a URL")]
    InvalidUrl,
    /// A scheme that no WhatsApp link uses.
    #[error("unsupported URL scheme {scheme:?}")]
    UnsupportedScheme {
        /// The scheme found.
        scheme: String,
    },
    /// Not a WhatsApp host.
    #[error("{host:?} is not a WhatsApp link host")]
    UnknownHost {
        /// The host found.
        host: String,
    },
    /// A path that is not a known link form.
    #[error("unrecognised WhatsApp link path {path:?}")]
    InvalidPath {
        /// The path found (truncated to 100 characters).
        path: String,
    },
    /// This link form cannot address this kind of target.
    #[error("a {form} link cannot address {target}")]
    UnsupportedTarget {
        /// The link form asked for (`sms`, `api.whatsapp.com`, …).
        form: &'static str,
        /// The target kind (`a username`).
        target: &'static str,
    },
    /// A short-link base that is not an absolute http(s) URL.
    #[error("the short-link base must be an absolute http(s) URL without query or fragment")]
    InvalidBaseUrl,
    /// A phone number or username in the link failed validation.
    #[error(transparent)]
    Invalid(#[from] wa_validate::Error),
}

impl Error {
    /// Every code this crate defines itself, with a one-line description. Codes of
    /// [`Error::Invalid`] come from [`wa_validate::Error::ALL_CODES`].
    pub const ALL_CODES: &'static [(&'static str, &'static str)] = &[
        ("link_invalid_url", "the input is not a URL"),
        (
            "link_unsupported_scheme",
            "a scheme other than http, https, whatsapp or sms",
        ),
        ("link_unknown_host", "not a WhatsApp host"),
        ("link_invalid_path", "a path that is not a known link form"),
        (
            "link_unsupported_target",
            "the link form cannot address this target",
        ),
        (
            "link_invalid_base_url",
            "the short-link base is not an absolute http(s) URL",
        ),
    ];

    /// The stable snake_case code.
    ///
    /// # Examples
    /// ```
    /// let err = wa_links::parse("https://example.com/14155552671").unwrap_err();
    /// assert_eq!(err.code(), "link_unknown_host");
    /// let err = wa_links::parse("https://wa.me/1415").unwrap_err();
    /// assert_eq!(err.code(), "phone_too_short");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidUrl => "link_invalid_url",
            Error::UnsupportedScheme { .. } => "link_unsupported_scheme",
            Error::UnknownHost { .. } => "link_unknown_host",
            Error::InvalidPath { .. } => "link_invalid_path",
            Error::UnsupportedTarget { .. } => "link_unsupported_target",
            Error::InvalidBaseUrl => "link_invalid_base_url",
            Error::Invalid(e) => e.code(),
        }
    }
}
