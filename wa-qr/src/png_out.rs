//! PNG writer: straight from the module matrix into a 1-bit, 2-entry-palette image.

use std::io::Cursor;

use crate::bits::MsbBits;
use crate::error::{Error, Result};
use crate::logo::LogoKind;
use crate::matrix::QrMatrix;
use crate::{Color, Layout, Options, PngCompression, Style};

/// Sets bits `[a, b)` of an MSB-first bit row.
fn fill_bits(row: &mut [u8], a: usize, b: usize) {
    if a >= b {
        return;
    }
    let (first, last) = (a / 8, (b - 1) / 8);
    let head = 0xFFu8 >> (a % 8);
    let tail = 0xFFu8 << (7 - (b - 1) % 8);
    if first == last {
        row[first] |= head & tail;
    } else {
        row[first] |= head;
        row[first + 1..last].fill(0xFF);
        row[last] |= tail;
    }
}

/// Pixel rows from module rows at one scale: `k` modules at a time through a table of
/// their `k × scale`-pixel expansions (k ≤ 8, and k × scale ≤ 64).
struct Expander {
    scale: usize,
    /// Modules per table lookup; 0 above scale 64 (then pixel runs are written directly).
    k: usize,
    table: [u64; 256],
}

impl Expander {
    /// For `size`-module rows: 8 modules per lookup when the image has enough of them to
    /// repay the 256-entry table, else 4.
    fn new(scale: usize, size: usize) -> Expander {
        let per_lookup = if size * size >= 2048 { 8 } else { 4 };
        let k = (64usize.checked_div(scale).unwrap_or(0)).min(per_lookup);
        let mut table = [0u64; 256];
        if k > 0 {
            let module = u64::MAX >> (64 - scale); // 1 ≤ scale ≤ 64 when k ≥ 1
            for i in 1..1usize << k {
                // The first module (bit 0) takes the most significant pixels.
                let j = i.trailing_zeros() as usize;
                table[i] = table[i & (i - 1)] | module << ((k - 1 - j) * scale);
            }
        }
        Expander { scale, k, table }
    }

    /// Writes module row `y` of `m` into `line` as 1-bit pixels, most significant bit
    /// first: `start` light pixels, `scale` pixels per module, the rest light.
    fn row(&self, m: &QrMatrix, y: usize, start: usize, line: &mut [u8]) {
        let words = m.row_words(y);
        let mut w = MsbBits::new(line);
        w.repeat(0, start);
        let (size, k, scale) = (m.size(), self.k, self.scale);
        if k == 0 {
            for x in 0..size {
                w.repeat((words[x >> 6] >> (x & 63)) & 1, scale);
            }
            w.finish();
            return;
        }
        let mut x = 0;
        while x < size {
            let (word, bit) = (x >> 6, x & 63);
            let mut bits = words[word] >> bit;
            if bit + k > 64 && word + 1 < words.len() {
                bits |= words[word + 1] << (64 - bit);
            }
            let r = k.min(size - x);
            let chunk = self.table[(bits as usize) & ((1 << k) - 1)] >> ((k - r) * scale);
            w.push(chunk, (r * scale) as u32);
            x += r;
        }
        w.finish();
    }
}

mod huffman;
mod zlib;

use zlib::Rows;

/// The image's pixel rows, as distinct consecutive rows with repeat counts.
fn rows(m: &QrMatrix, layout: &Layout, opts: &Options) -> Rows {
    let px = layout.px as usize;
    let scale = layout.scale as usize;
    let start = layout.first_module_px();
    let row_bytes = px.div_ceil(8);
    let mut rows = Rows::new(row_bytes, m.size() + 2);
    let mut line = vec![0u8; row_bytes];
    rows.push(&line, start as u32);
    let radius = 0.4 * scale as f64;
    let expand = Expander::new(scale, m.size());
    for y in 0..m.size() {
        match opts.style {
            Style::Rounded => {
                for dy in 0..scale {
                    line.fill(0);
                    let inset = corner_inset(radius, dy, scale);
                    m.styled_runs(y, true, |a, b, round| {
                        let inset = if round { inset } else { 0 };
                        let (pa, pb) = (start + a * scale + inset, start + b * scale - inset);
                        if pa < pb {
                            fill_bits(&mut line, pa, pb);
                        }
                    });
                    rows.push(&line, 1);
                }
            }
            _ => {
                expand.row(m, y, start, &mut line);
                rows.push(&line, scale as u32);
            }
        }
    }
    line.fill(0);
    rows.push(&line, (px - start - m.size() * scale) as u32);
    rows
}

pub(crate) fn render(m: &QrMatrix, layout: &Layout, opts: &Options) -> Result<Vec<u8>> {
    let rows = rows(m, layout, opts);
    match &opts.logo {
        None if opts.compression == PngCompression::Fast => {
            Ok(write_indexed(&rows, layout.px, opts))
        }
        None => {
            let ours = write_indexed(&rows, layout.px, opts);
            let theirs = encode_indexed(&rows.expand(), layout.px, opts)?;
            Ok(if theirs.len() < ours.len() {
                theirs
            } else {
                ours
            })
        }
        Some(logo) if logo.kind() == LogoKind::Svg => Err(Error::LogoUnsupported),
        Some(logo) => {
            let rgba = logo.rgba.as_ref().ok_or(Error::LogoInvalid)?;
            let (px, scale) = (layout.px as usize, layout.scale as usize);
            let start = layout.first_module_px();
            let mut img = expand(&rows.expand(), px, px.div_ceil(8), opts.fg, opts.bg);
            let side = ((m.size() * scale) as f32 * logo.scale_value()).round() as usize;
            let origin = start + (m.size() * scale - side) / 2;
            draw_logo(&mut img, px, origin, side, rgba, opts.bg);
            encode_rgba(&img, layout.px, opts.compression)
        }
    }
}

/// Appends one PNG chunk (length, type, data, CRC-32 of type and data).
fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let from = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32fast::hash(&out[from..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A 1-bit, two-colour palette PNG written directly: signature, IHDR, PLTE, tRNS when a
/// colour is not opaque, one IDAT with [`zlib::compress`]'s stream, IEND.
fn write_indexed(rows: &Rows, px: u32, opts: &Options) -> Vec<u8> {
    let idat = zlib::compress(rows);
    let mut out = Vec::with_capacity(idat.len() + 96);
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    let mut ihdr = [0u8; 13];
    ihdr[..4].copy_from_slice(&px.to_be_bytes());
    ihdr[4..8].copy_from_slice(&px.to_be_bytes());
    ihdr[8] = 1; // bit depth
    ihdr[9] = 3; // indexed colour
    chunk(&mut out, b"IHDR", &ihdr);
    let (bg, fg) = (opts.bg, opts.fg);
    chunk(&mut out, b"PLTE", &[bg.r, bg.g, bg.b, fg.r, fg.g, fg.b]);
    if bg.a != 255 || fg.a != 255 {
        chunk(&mut out, b"tRNS", &[bg.a, fg.a]);
    }
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Horizontal inset (pixels) of a rounded run's ends on pixel row `dy` of a module.
fn corner_inset(r: f64, dy: usize, scale: usize) -> usize {
    let c = dy as f64 + 0.5;
    let d = if c < r {
        r - c
    } else if c > scale as f64 - r {
        c - (scale as f64 - r)
    } else {
        return 0;
    };
    (r - r.mul_add(r, -(d * d)).max(0.0).sqrt()).round() as usize
}

fn compression(c: PngCompression) -> (png::Compression, png::Filter) {
    match c {
        PngCompression::Small => (png::Compression::High, png::Filter::Adaptive),
        _ => (png::Compression::Fast, png::Filter::Up),
    }
}

fn encode_indexed(bits: &[u8], px: u32, opts: &Options) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(2048);
    {
        let mut enc = png::Encoder::new(&mut out, px, px);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::One);
        let (bg, fg) = (opts.bg, opts.fg);
        enc.set_palette(vec![bg.r, bg.g, bg.b, fg.r, fg.g, fg.b]);
        if bg.a != 255 || fg.a != 255 {
            enc.set_trns(vec![bg.a, fg.a]);
        }
        let (c, f) = compression(opts.compression);
        enc.set_compression(c);
        enc.set_filter(f);
        let mut w = enc.write_header().map_err(|_| Error::PngEncoding)?;
        w.write_image_data(bits).map_err(|_| Error::PngEncoding)?;
        w.finish().map_err(|_| Error::PngEncoding)?;
    }
    Ok(out)
}

fn encode_rgba(img: &[u8], px: u32, c: PngCompression) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, px, px);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let (c, f) = compression(c);
        enc.set_compression(c);
        enc.set_filter(f);
        let mut w = enc.write_header().map_err(|_| Error::PngEncoding)?;
        w.write_image_data(img).map_err(|_| Error::PngEncoding)?;
        w.finish().map_err(|_| Error::PngEncoding)?;
    }
    Ok(out)
}

fn expand(bits: &[u8], px: usize, row_bytes: usize, fg: Color, bg: Color) -> Vec<u8> {
    let mut img = Vec::with_capacity(px * px * 4);
    for y in 0..px {
        for x in 0..px {
            let on = bits[y * row_bytes + x / 8] & (0x80 >> (x % 8)) != 0;
            let c = if on { fg } else { bg };
            img.extend_from_slice(&[c.r, c.g, c.b, c.a]);
        }
    }
    img
}

/// Clears a background box and draws the logo into it (nearest neighbour, alpha over the
/// background, aspect ratio kept).
fn draw_logo(
    img: &mut [u8],
    px: usize,
    origin: usize,
    side: usize,
    logo: &(u32, u32, Vec<u8>),
    bg: Color,
) {
    let bg = if bg.a == 0 { Color::WHITE } else { bg };
    let (lw, lh, data) = (logo.0 as usize, logo.1 as usize, &logo.2);
    let fit = side as f64 / lw.max(lh) as f64;
    let (dw, dh) = (((lw as f64) * fit) as usize, ((lh as f64) * fit) as usize);
    let (ox, oy) = (origin + (side - dw) / 2, origin + (side - dh) / 2);
    for y in origin..origin + side {
        for x in origin..origin + side {
            let p = (y * px + x) * 4;
            img[p..p + 4].copy_from_slice(&[bg.r, bg.g, bg.b, 255]);
            if x >= ox && x < ox + dw && y >= oy && y < oy + dh && dw > 0 && dh > 0 {
                let sx = ((x - ox) * lw / dw).min(lw - 1);
                let sy = ((y - oy) * lh / dh).min(lh - 1);
                let s = (sy * lw + sx) * 4;
                let a = u32::from(data[s + 3]);
                for k in 0..3 {
                    let v = (u32::from(data[s + k]) * a + u32::from(img[p + k]) * (255 - a)) / 255;
                    img[p + k] = v as u8;
                }
            }
        }
    }
}

/// Decodes any PNG to RGBA8 (limited to 16 MiB of pixels).
pub(crate) fn decode_rgba(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>)> {
    let mut dec =
        png::Decoder::new_with_limits(Cursor::new(bytes), png::Limits { bytes: 16 << 20 });
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = dec.read_info().map_err(|_| Error::LogoInvalid)?;
    let mut buf = vec![0u8; reader.output_buffer_size().ok_or(Error::LogoInvalid)?];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|_| Error::LogoInvalid)?;
    let (w, h) = (info.width, info.height);
    let n = (w * h) as usize;
    let rgba = match info.color_type {
        png::ColorType::Rgba => buf[..n * 4].to_vec(),
        png::ColorType::Rgb => buf[..n * 3]
            .chunks(3)
            .flat_map(|c| [c[0], c[1], c[2], 255])
            .collect(),
        png::ColorType::GrayscaleAlpha => buf[..n * 2]
            .chunks(2)
            .flat_map(|c| [c[0], c[0], c[0], c[1]])
            .collect(),
        png::ColorType::Grayscale => buf[..n].iter().flat_map(|&g| [g, g, g, 255]).collect(),
        png::ColorType::Indexed => return Err(Error::LogoInvalid),
    };
    if w == 0 || h == 0 {
        return Err(Error::LogoInvalid);
    }
    Ok((w, h, rgba))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::write_indexed;
    use super::zlib::Rows;
    use crate::Options;

    /// The packed 1-bit rows of a PNG, as the `png` crate decodes them.
    fn decode_packed(png_bytes: &[u8]) -> (u32, Vec<u8>) {
        let mut checked = png::DecodeOptions::default();
        checked.set_ignore_adler32(false);
        checked.set_ignore_crc(false);
        let dec = png::Decoder::new_with_options(std::io::Cursor::new(png_bytes), checked);
        let mut reader = dec.read_info().expect("a valid PNG header");
        let mut buf = vec![0u8; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).expect("a valid image stream");
        assert_eq!(info.bit_depth, png::BitDepth::One);
        buf.truncate(info.buffer_size());
        (info.width, buf)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Any rows, any repeats: the stream inflates to exactly the rows (repeats, earlier
        /// equal rows, byte runs and rows beyond the 32 KiB window included).
        #[test]
        fn the_zlib_stream_inflates_to_the_rows(
            px in 64u32..4097,
            palette in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..8), 1..6),
            picks in prop::collection::vec((0usize..6, 1u32..600, any::<bool>()), 1..60),
        ) {
            let row_bytes = px.div_ceil(8) as usize;
            // Rows made of a few byte patterns (so runs and equal rows occur), or flat.
            let make = |k: usize, flat: bool| -> Vec<u8> {
                let p = &palette[k % palette.len()];
                (0..row_bytes).map(|i| if flat { p[0] } else { p[(i / 3) % p.len()] }).collect()
            };
            let mut rows = Rows::new(row_bytes, picks.len());
            let mut left = px;
            for &(k, n, flat) in &picks {
                let n = n.min(left);
                rows.push(&make(k, flat), n);
                left -= n;
            }
            rows.push(&vec![0u8; row_bytes], left);
            let png_bytes = write_indexed(&rows, px, &Options::new());
            let (w, packed) = decode_packed(&png_bytes);
            prop_assert_eq!(w, px);
            prop_assert!(packed == rows.expand(), "decoded rows differ");
        }
    }

    /// The table expansion of module rows equals filling each dark run's pixels, at every
    /// scale from 1 to 70 (table widths 8, 4, 2, 1 and the direct path), with offsets.
    #[test]
    fn table_expanded_rows_equal_filled_runs() {
        for data in ["1", "https://wa.me/14155552671", &"x".repeat(400)] {
            let code = crate::QrCode::encode(data, crate::Ecl::Medium).unwrap();
            let m = code.matrix();
            for scale in 1..=70usize {
                let expand = super::Expander::new(scale, m.size());
                for start in [0usize, 3, 13] {
                    let px = start * 2 + m.size() * scale;
                    let mut line = vec![0xA5u8; px.div_ceil(8)];
                    for y in 0..m.size() {
                        expand.row(m, y, start, &mut line);
                        let mut want = vec![0u8; line.len()];
                        m.runs(y, |a, b| {
                            super::fill_bits(&mut want, start + a * scale, start + b * scale);
                        });
                        assert_eq!(line, want, "scale {scale}, start {start}, row {y}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_transparent_background_is_written() {
        let opts = Options::new().background(crate::Color::parse("transparent").unwrap());
        let png_bytes = opts.png("https://wa.me/1").unwrap();
        let dec = png::Decoder::new(std::io::Cursor::new(&png_bytes[..]));
        let reader = dec.read_info().unwrap();
        assert_eq!(reader.info().trns.as_deref(), Some(&[0u8, 255][..]));
    }
}
