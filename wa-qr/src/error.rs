//! The error type of `wa-qr`, with stable machine-readable codes.
//!
//! | code | meaning |
//! |---|---|
//! | `qr_payload_too_long` | the payload does not fit a version-40 symbol at the chosen error-correction level |
//! | `qr_invalid_ecl` | an error-correction level other than `L`, `M`, `Q`, `H` |
//! | `qr_size_out_of_range` | an image size outside 64–4096 pixels |
//! | `qr_size_too_small` | the size gives less than one pixel per module for this payload |
//! | `qr_margin_out_of_range` | a quiet zone wider than 16 modules |
//! | `qr_invalid_color` | a colour that is not `rgb`, `rgba`, `rrggbb` or `rrggbbaa` hex (optional `#`), or `transparent` |
//! | `qr_transparent_foreground` | a foreground that is not fully opaque |
//! | `qr_low_contrast` | a contrast ratio under 1.8:1 (WCAG formula; transparent backgrounds count as white) |
//! | `qr_inverted_colors` | a foreground lighter than its background (many scanners cannot read inverted codes) |
//! | `qr_logo_too_large` | the logo covers more than half of what the error-correction level can restore |
//! | `qr_logo_invalid` | the logo is not a readable PNG or SVG image |
//! | `qr_logo_unsupported` | an SVG logo on PNG output (SVG logos need SVG output) |
//! | `qr_png_encoding` | the PNG encoder failed |

/// A `Result` whose error defaults to [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;

use crate::encode::Ecl;

/// Why a QR code could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Too much data.
    #[error("{bytes} bytes do not fit in a QR code at error correction {ecl:?}")]
    PayloadTooLong {
        /// Payload length in bytes.
        bytes: usize,
        /// The level asked for.
        ecl: Ecl,
    },
    /// Unknown ECL string.
    #[error("error correction must be one of L, M, Q, H")]
    InvalidEcl,
    /// Size outside the documented range.
    #[error("size must be {min} to {max} pixels (got {actual})")]
    SizeOutOfRange {
        /// Minimum.
        min: u32,
        /// Maximum.
        max: u32,
        /// Given.
        actual: u32,
    },
    /// Fewer pixels than modules.
    #[error("{size} pixels is too small for a {modules}-module code (including margin)")]
    SizeTooSmall {
        /// Requested size.
        size: u32,
        /// Modules across, margin included.
        modules: u32,
    },
    /// Margin too wide.
    #[error("margin must be at most {max} modules")]
    MarginOutOfRange {
        /// Maximum.
        max: u32,
    },
    /// Unparseable colour.
    #[error("unreadable colour {input:?}")]
    InvalidColor {
        /// The input (truncated).
        input: String,
    },
    /// A see-through foreground.
    #[error("the foreground colour must be fully opaque")]
    TransparentForeground,
    /// Contrast too low for cameras.
    #[error("contrast {ratio:.2}:1 is below the minimum of {min}:1")]
    LowContrast {
        /// The measured ratio.
        ratio: f64,
        /// The minimum.
        min: f64,
    },
    /// Light modules on dark.
    #[error("the foreground must be darker than the background")]
    InvertedColors,
    /// Logo too big for the ECL.
    #[error(
        "the logo covers {percent:.1}% of the code; at most {max:.1}% is safe at this error correction"
    )]
    LogoTooLarge {
        /// Area share covered.
        percent: f64,
        /// Allowed share.
        max: f64,
    },
    /// Unreadable logo.
    #[error("the logo is not a readable PNG or SVG image")]
    LogoInvalid,
    /// SVG logo on PNG output.
    #[error("SVG logos can only be used with SVG output")]
    LogoUnsupported,
    /// PNG encoder failure.
    #[error("PNG encoding failed")]
    PngEncoding,
}

/// An error enum's codes written once: `code()` and `ALL_CODES` from one list (the shape of
/// `wa_validate::error_codes!`, kept local because wa-qr does not depend on wa-validate and
/// its libphonenumber engine).
macro_rules! error_codes {
    ($ty:ident; $( $variant:ident => $code:literal, $desc:literal; )*) => {
        impl $ty {
            /// Every code, with a one-line description; pinned by a snapshot test and never
            /// renamed.
            pub const ALL_CODES: &'static [(&'static str, &'static str)] =
                &[ $( ($code, $desc) ),* ];

            /// The stable snake_case code.
            ///
            /// # Examples
            /// ```
            /// let err = wa_qr::Color::parse("#12345").unwrap_err();
            /// assert_eq!(err.code(), "qr_invalid_color");
            /// ```
            pub fn code(&self) -> &'static str {
                match self {
                    $( Self::$variant { .. } => $code, )*
                }
            }
        }
    };
}

error_codes! {
    Error;
    PayloadTooLong => "qr_payload_too_long", "the payload does not fit at the chosen error correction";
    InvalidEcl => "qr_invalid_ecl", "error correction other than L, M, Q, H";
    SizeOutOfRange => "qr_size_out_of_range", "image size outside 64 to 4096 pixels";
    SizeTooSmall => "qr_size_too_small", "less than one pixel per module";
    MarginOutOfRange => "qr_margin_out_of_range", "quiet zone wider than 16 modules";
    InvalidColor => "qr_invalid_color", "unreadable colour";
    TransparentForeground => "qr_transparent_foreground", "foreground not fully opaque";
    LowContrast => "qr_low_contrast", "contrast ratio under 1.8:1";
    InvertedColors => "qr_inverted_colors", "foreground lighter than background";
    LogoTooLarge => "qr_logo_too_large", "logo larger than the error correction can restore";
    LogoInvalid => "qr_logo_invalid", "logo is not a readable PNG or SVG";
    LogoUnsupported => "qr_logo_unsupported", "SVG logo on PNG output";
    PngEncoding => "qr_png_encoding", "the PNG encoder failed";
}
