//! Colours: parsing and the contrast guard.

use crate::error::{Error, Result};

/// Minimum contrast ratio (WCAG formula) between foreground and background, decided by
/// decoding rather than by WCAG's 3:1 text rule: a sweep of foreground hues on white,
/// each rendered and read back with the `rqrr` decoder, decodes every hue down to about
/// 1.6:1 and fails below it (the `contrast_threshold_is_decided_by_decoding` test keeps
/// that true). 1.8:1 leaves a margin for camera noise and admits WhatsApp green
/// (`#25d366` on white, 1.98:1), which phones scan fine.
pub const MIN_CONTRAST: f64 = 1.8;

/// An sRGB colour with alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color {
    /// Red.
    pub r: u8,
    /// Green.
    pub g: u8,
    /// Blue.
    pub b: u8,
    /// Alpha (255 = opaque).
    pub a: u8,
}

impl Color {
    /// Black.
    pub const BLACK: Color = Color::rgb(0, 0, 0);
    /// White.
    pub const WHITE: Color = Color::rgb(255, 255, 255);
    /// Fully transparent.
    pub const TRANSPARENT: Color = Color {
        r: 255,
        g: 255,
        b: 255,
        a: 0,
    };

    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Color {
        Color { r, g, b, a: 255 }
    }

    /// Parses `25d366`, `#25d366`, `fff`, `#ffff` (with alpha), `25d36680` (with alpha)
    /// or `transparent`.
    ///
    /// # Errors
    /// `qr_invalid_color`.
    ///
    /// # Examples
    /// ```
    /// use wa_qr::Color;
    /// assert_eq!(Color::parse("#25D366")?, Color::rgb(0x25, 0xd3, 0x66));
    /// assert_eq!(Color::parse("fff")?, Color::WHITE);
    /// assert_eq!(Color::parse("00000080")?.a, 0x80);
    /// assert_eq!(Color::parse("transparent")?.a, 0);
    /// # Ok::<(), wa_qr::Error>(())
    /// ```
    pub fn parse(input: &str) -> Result<Color> {
        let s = input.trim();
        let bad = || Error::InvalidColor {
            input: s.chars().take(32).collect(),
        };
        if s.eq_ignore_ascii_case("transparent") {
            return Ok(Color::TRANSPARENT);
        }
        let hex = s.strip_prefix('#').unwrap_or(s);
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let nib = |i: usize| {
            u8::from_str_radix(&hex[i..=i], 16)
                .map(|v| v * 17)
                .map_err(|_| bad())
        };
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
        match hex.len() {
            3 => Ok(Color::rgb(nib(0)?, nib(1)?, nib(2)?)),
            4 => Ok(Color {
                r: nib(0)?,
                g: nib(1)?,
                b: nib(2)?,
                a: nib(3)?,
            }),
            6 => Ok(Color::rgb(byte(0)?, byte(2)?, byte(4)?)),
            8 => Ok(Color {
                r: byte(0)?,
                g: byte(2)?,
                b: byte(4)?,
                a: byte(6)?,
            }),
            _ => Err(bad()),
        }
    }

    /// `#rrggbb` for an opaque colour, `#rrggbbaa` otherwise: what [`Color::parse`] reads
    /// back to the same colour.
    ///
    /// ```
    /// use wa_qr::Color;
    /// assert_eq!(Color::parse("#075e54")?.to_hex(), "#075e54");
    /// assert_eq!(Color::parse("#075e5482")?.to_hex(), "#075e5482");
    /// assert_eq!(Color::parse("#0008")?.to_hex(), "#00000088");
    /// # Ok::<(), wa_qr::Error>(())
    /// ```
    pub fn to_hex(self) -> String {
        if self.a == 255 {
            self.to_rgb_hex()
        } else {
            format!("{}{:02x}", self.to_rgb_hex(), self.a)
        }
    }

    /// `#rrggbb`, alpha left out (SVG carries it as `fill-opacity`).
    pub fn to_rgb_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }

    /// WCAG relative luminance, after compositing over white.
    pub fn luminance(self) -> f64 {
        let a = f64::from(self.a) / 255.0;
        let chan = |c: u8| {
            let v = (f64::from(c) / 255.0).mul_add(a, 1.0 - a);
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.0722f64.mul_add(
            chan(self.b),
            0.2126f64.mul_add(chan(self.r), 0.7152 * chan(self.g)),
        )
    }

    /// WCAG contrast ratio between two colours (1–21).
    ///
    /// # Examples
    /// ```
    /// use wa_qr::Color;
    /// assert!((Color::BLACK.contrast(Color::WHITE) - 21.0).abs() < 1e-9);
    /// ```
    pub fn contrast(self, other: Color) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    }
}

/// Refuses colour pairs a camera cannot read reliably.
pub(crate) fn check_pair(fg: Color, bg: Color) -> Result<()> {
    if fg.a != 255 {
        return Err(Error::TransparentForeground);
    }
    if fg.luminance() > bg.luminance() {
        return Err(Error::InvertedColors);
    }
    let ratio = fg.contrast(bg);
    if ratio < MIN_CONTRAST {
        return Err(Error::LowContrast {
            ratio,
            min: MIN_CONTRAST,
        });
    }
    Ok(())
}
