//! The error type of `wa-links`, with stable machine-readable codes.
//!
//! The codes are listed once, in [`Error::ALL_CODES`].
//!
//! A phone number or username inside a link that fails validation returns the
//! `wa-validate` error unchanged ([`Error::Invalid`]), so its code (`phone_too_short`,
//! `username_periods`, …) is the code reported.
//!
//! ```
//! let err = wa_links::parse("https://example.com/14155552671").unwrap_err();
//! assert_eq!(err.code(), "link_unknown_host");
//! let err = wa_links::parse("https://wa.me/1415").unwrap_err();
//! assert_eq!(err.code(), "phone_too_short");
//! ```

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

wa_validate::error_codes! {
    Error, delegate { Self::Invalid(e) => e.code() };
    InvalidUrl => "link_invalid_url", "the input is not a URL";
    UnsupportedScheme => "link_unsupported_scheme", "a scheme other than http, https, whatsapp or sms";
    UnknownHost => "link_unknown_host", "not a WhatsApp host";
    InvalidPath => "link_invalid_path", "a path that is not a known link form";
    UnsupportedTarget => "link_unsupported_target", "the link form cannot address this target";
    InvalidBaseUrl => "link_invalid_base_url", "the short-link base is not an absolute http(s) URL";
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_the_documented_ones() {
        assert_eq!(super::Error::InvalidBaseUrl.code(), "link_invalid_base_url");
        assert_eq!(super::Error::ALL_CODES.len(), 6);
    }
}
