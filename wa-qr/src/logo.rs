//! Centred logos.

use std::sync::Arc;

use crate::encode::Ecl;
use crate::error::{Error, Result};

/// A logo drawn over the centre of the code.
///
/// The error-correction level is raised to at least Q, and the logo's area may cover at
/// most half of what that level can restore (12.5 % of the symbol at Q, 15 % at H);
/// larger logos are refused with `qr_logo_too_large`. The default width is 20 % of the
/// symbol (4 % of its area).
///
/// # Examples
/// ```
/// let logo = wa_qr::Logo::svg(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><circle cx=".5" cy=".5" r=".5" fill="green"/></svg>"#)?
///     .scale(0.25);
/// let svg = wa_qr::Options::new().logo(logo).svg("https://wa.me/14155552671")?;
/// assert!(svg.contains("data:image/svg+xml;base64,"));
/// # Ok::<(), wa_qr::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Logo {
    kind: LogoKind,
    bytes: Arc<[u8]>,
    scale: f32,
    #[cfg(feature = "png")]
    pub(crate) rgba: Option<Arc<(u32, u32, Vec<u8>)>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogoKind {
    Png,
    Svg,
}

impl Logo {
    /// A PNG logo (validated and decoded now).
    ///
    /// # Errors
    /// `qr_logo_invalid`.
    pub fn png(bytes: impl Into<Vec<u8>>) -> Result<Logo> {
        let bytes: Vec<u8> = bytes.into();
        if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Err(Error::LogoInvalid);
        }
        #[cfg(feature = "png")]
        let rgba = Some(Arc::new(crate::png_out::decode_rgba(&bytes)?));
        Ok(Logo {
            kind: LogoKind::Png,
            bytes: bytes.into(),
            scale: 0.2,
            #[cfg(feature = "png")]
            rgba,
        })
    }

    /// An SVG logo (SVG output only).
    ///
    /// # Errors
    /// `qr_logo_invalid` when the text has no `<svg` element.
    pub fn svg(text: impl Into<String>) -> Result<Logo> {
        let text: String = text.into();
        if !text.contains("<svg") {
            return Err(Error::LogoInvalid);
        }
        Ok(Logo {
            kind: LogoKind::Svg,
            bytes: text.into_bytes().into(),
            scale: 0.2,
            #[cfg(feature = "png")]
            rgba: None,
        })
    }

    /// Logo width as a share of the symbol width (quiet zone excluded). Defaults to 0.2.
    pub fn scale(mut self, share: f32) -> Self {
        self.scale = if share.is_finite() {
            share.clamp(0.01, 1.0)
        } else {
            0.2
        };
        self
    }

    pub(crate) fn scale_value(&self) -> f32 {
        self.scale
    }

    pub(crate) fn kind(&self) -> LogoKind {
        self.kind
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn check_fits(&self, ecl: Ecl) -> Result<()> {
        let percent = f64::from(self.scale) * f64::from(self.scale) * 100.0;
        let max = f64::from(ecl.recovery_percent()) / 2.0;
        if percent > max {
            return Err(Error::LogoTooLarge { percent, max });
        }
        Ok(())
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub(crate) fn base64_into(data: &[u8], out: &mut String) {
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut s = String::new();
            super::base64_into(i.as_bytes(), &mut s);
            assert_eq!(s, o);
        }
    }
}
