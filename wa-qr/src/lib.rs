#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Helpers shared by the PNG and SVG writers are unused when only one is compiled.
#![cfg_attr(not(all(feature = "png", feature = "svg")), allow(dead_code))]

mod bits;
mod color;
mod encode;
pub mod error;
mod logo;
mod matrix;
#[cfg(feature = "png")]
#[cfg_attr(docsrs, doc(cfg(feature = "png")))]
mod png_out;
#[cfg(feature = "svg")]
#[cfg_attr(docsrs, doc(cfg(feature = "svg")))]
mod svg_out;
mod text_forms;

pub use color::{Color, MIN_CONTRAST};
pub use encode::Ecl;
pub use error::{Error, Result};
pub use logo::Logo;
pub use matrix::QrMatrix;

/// Smallest image size accepted, in pixels.
pub const MIN_SIZE: u32 = 64;
/// Largest image size accepted, in pixels.
pub const MAX_SIZE: u32 = 4096;
/// Widest quiet zone accepted, in modules.
pub const MAX_MARGIN: u32 = 16;

/// A QR symbol: encode once, render as often as needed.
///
/// The data segment uses the densest single mode that fits the whole payload (numeric,
/// alphanumeric or byte), the smallest version that holds it at the requested level, and
/// the mask with the lowest ISO 18004 penalty — the same choices as the reference
/// `qrcodegen` encoder (verified module for module in `tests/differential.rs`).
///
/// # Examples
/// ```
/// let code = wa_qr::QrCode::encode("https://wa.me/14155552671?text=Hi", wa_qr::Ecl::Medium)?;
/// assert_eq!(code.matrix().version(), 3);
/// assert_eq!(code.matrix().size(), 29);
/// # Ok::<(), wa_qr::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrCode {
    matrix: QrMatrix,
}

impl QrCode {
    /// Encodes `data` at `ecl`.
    ///
    /// # Errors
    /// `qr_payload_too_long`.
    pub fn encode(data: impl AsRef<[u8]>, ecl: Ecl) -> Result<QrCode> {
        let data = data.as_ref();
        let (version, mode) = encode::choose_version(data, ecl)?;
        Ok(QrCode {
            matrix: matrix::build(data, version, mode, ecl, None),
        })
    }

    /// Encodes with a fixed mask (0–7) instead of the penalty-chosen one; for tests and
    /// comparisons.
    ///
    /// # Errors
    /// `qr_payload_too_long`.
    pub fn encode_with_mask(data: impl AsRef<[u8]>, ecl: Ecl, mask: u8) -> Result<QrCode> {
        let data = data.as_ref();
        let (version, mode) = encode::choose_version(data, ecl)?;
        Ok(QrCode {
            matrix: matrix::build(data, version, mode, ecl, Some(mask & 7)),
        })
    }

    /// The modules.
    pub fn matrix(&self) -> &QrMatrix {
        &self.matrix
    }
}

/// Module shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Style {
    /// Square modules, merged into runs (the default).
    #[default]
    Square,
    /// Runs of data modules drawn with rounded ends (corner radius 0.4 module); the three
    /// finder patterns stay square so their rings stay connected for detectors.
    Rounded,
}

/// PNG size-versus-speed choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PngCompression {
    /// wa-qr's own zlib stream for QR rows (each distinct row once, repeats as
    /// back-references, a Huffman table made for the image): ~0.5–0.9 KB at 256 px
    /// (the default).
    #[default]
    Fast,
    /// Tries the `png` crate's best DEFLATE as well and keeps the smaller file: at most the
    /// size of `Fast`, several times slower (with the `png-small` feature the second
    /// encoder is zlib-rs).
    Small,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Format {
    /// PNG (1-bit palette image; RGBA when a logo is drawn).
    #[default]
    Png,
    /// SVG (one merged `<path>`).
    Svg,
}

impl Format {
    /// The MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Png => "image/png",
            Format::Svg => "image/svg+xml",
        }
    }
}

/// Rendering options shared by every format.
///
/// # Size
/// `size` is the exact width and height of the image in pixels (64–4096). Modules are
/// drawn at an integer scale `floor(size / (modules + 2 × margin))`; the leftover pixels
/// widen the quiet zone, half (rounded down) on the left/top and the rest on the
/// right/bottom. SVG output uses the same size as its `width`/`height`.
///
/// # Examples
/// ```
/// use wa_qr::{Color, Ecl, Options, Style};
///
/// let opts = Options::new()
///     .size(512)
///     .margin(2)
///     .foreground(Color::parse("075e54")?)
///     .background(Color::parse("transparent")?)
///     .ecl(Ecl::Quartile)
///     .style(Style::Rounded);
/// let png = opts.png("https://wa.me/14155552671")?;
/// assert_eq!(&png[1..4], b"PNG");
/// let svg = opts.svg("https://wa.me/14155552671")?;
/// assert!(svg.starts_with("<svg"));
/// # Ok::<(), wa_qr::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Options {
    size: u32,
    margin: u32,
    fg: Color,
    bg: Color,
    ecl: Ecl,
    style: Style,
    compression: PngCompression,
    logo: Option<Logo>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            size: 256,
            margin: 4,
            fg: Color::BLACK,
            bg: Color::WHITE,
            ecl: Ecl::Medium,
            style: Style::Square,
            compression: PngCompression::Fast,
            logo: None,
        }
    }
}

impl Options {
    /// Defaults: 256 px, margin 4, black on white, ECL M, square modules, fast PNG.
    pub fn new() -> Self {
        Self::default()
    }
    /// Image size in pixels (64–4096). Defaults to 256.
    pub fn size(mut self, px: u32) -> Self {
        self.size = px;
        self
    }
    /// Quiet zone in modules (0–16). Defaults to 4, the ISO minimum.
    pub fn margin(mut self, modules: u32) -> Self {
        self.margin = modules;
        self
    }
    /// Module colour. Defaults to black.
    pub fn foreground(mut self, c: Color) -> Self {
        self.fg = c;
        self
    }
    /// Background colour (may be transparent). Defaults to white.
    pub fn background(mut self, c: Color) -> Self {
        self.bg = c;
        self
    }
    /// Error-correction level. Defaults to M. A logo raises it to at least Q.
    pub fn ecl(mut self, ecl: Ecl) -> Self {
        self.ecl = ecl;
        self
    }
    /// Module style. Defaults to square.
    pub fn style(mut self, s: Style) -> Self {
        self.style = s;
        self
    }
    /// PNG compression. Defaults to fast.
    pub fn compression(mut self, c: PngCompression) -> Self {
        self.compression = c;
        self
    }
    /// A logo drawn in the centre. Defaults to none.
    pub fn logo(mut self, logo: Logo) -> Self {
        self.logo = Some(logo);
        self
    }

    /// The error-correction level actually used (at least Q with a logo).
    pub fn effective_ecl(&self) -> Ecl {
        if self.logo.is_some() {
            self.ecl.max(Ecl::Quartile)
        } else {
            self.ecl
        }
    }

    /// Encodes `data` and checks every option.
    fn prepare(&self, data: &[u8]) -> Result<(QrCode, Layout)> {
        if !(MIN_SIZE..=MAX_SIZE).contains(&self.size) {
            return Err(Error::SizeOutOfRange {
                min: MIN_SIZE,
                max: MAX_SIZE,
                actual: self.size,
            });
        }
        if self.margin > MAX_MARGIN {
            return Err(Error::MarginOutOfRange { max: MAX_MARGIN });
        }
        color::check_pair(self.fg, self.bg)?;
        let ecl = self.effective_ecl();
        let code = QrCode::encode(data, ecl)?;
        if let Some(logo) = &self.logo {
            logo.check_fits(ecl)?;
        }
        let layout = Layout::new(code.matrix.size() as u32, self.margin, self.size)?;
        Ok((code, layout))
    }

    /// Renders `data` as a PNG.
    ///
    /// # Errors
    /// Any option or payload code; `qr_logo_unsupported` for an SVG logo.
    #[cfg(feature = "png")]
    #[cfg_attr(docsrs, doc(cfg(feature = "png")))]
    pub fn png(&self, data: impl AsRef<[u8]>) -> Result<Vec<u8>> {
        let (code, layout) = self.prepare(data.as_ref())?;
        png_out::render(&code.matrix, &layout, self)
    }

    /// Renders `data` as an SVG document.
    ///
    /// # Errors
    /// Any option or payload code.
    #[cfg(feature = "svg")]
    #[cfg_attr(docsrs, doc(cfg(feature = "svg")))]
    pub fn svg(&self, data: impl AsRef<[u8]>) -> Result<String> {
        let (code, layout) = self.prepare(data.as_ref())?;
        Ok(svg_out::render(&code.matrix, &layout, self))
    }

    /// Renders in `format`.
    ///
    /// # Errors
    /// As [`Options::png`] / [`Options::svg`].
    #[cfg(all(feature = "png", feature = "svg"))]
    pub fn render(&self, data: impl AsRef<[u8]>, format: Format) -> Result<Vec<u8>> {
        match format {
            Format::Png => self.png(data),
            Format::Svg => self.svg(data).map(String::into_bytes),
        }
    }
}

/// Pixel geometry of a rendering.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    /// Modules across, quiet zone included.
    pub(crate) total: u32,
    /// Pixels per module.
    pub(crate) scale: u32,
    /// Pixels before the first quiet-zone module (leftover / 2).
    pub(crate) offset: u32,
    /// Image size.
    pub(crate) px: u32,
    /// Quiet zone in modules.
    pub(crate) margin: u32,
}

impl Layout {
    /// Pixels before the first module of the symbol (the leftover plus the quiet zone).
    pub(crate) fn first_module_px(&self) -> usize {
        (self.offset + self.margin * self.scale) as usize
    }

    fn new(modules: u32, margin: u32, px: u32) -> Result<Layout> {
        let total = modules + 2 * margin;
        let scale = px / total;
        if scale == 0 {
            return Err(Error::SizeTooSmall {
                size: px,
                modules: total,
            });
        }
        Ok(Layout {
            total,
            scale,
            offset: (px - scale * total) / 2,
            px,
            margin,
        })
    }
}
