//! PNG writer: straight from the module matrix into a 1-bit, 2-entry-palette image.

use std::io::Cursor;

use crate::error::{Error, Result};
use crate::logo::LogoKind;
use crate::matrix::QrMatrix;
use crate::{Color, Layout, Options, PngCompression, Style};

/// Sets bits `[a, b)` of an MSB-first bit row.
fn fill_bits(row: &mut [u8], a: usize, b: usize) {
    let mut i = a;
    while i < b && !i.is_multiple_of(8) {
        row[i / 8] |= 0x80 >> (i % 8);
        i += 1;
    }
    while i + 8 <= b {
        row[i / 8] = 0xFF;
        i += 8;
    }
    while i < b {
        row[i / 8] |= 0x80 >> (i % 8);
        i += 1;
    }
}

pub(crate) fn render(m: &QrMatrix, layout: &Layout, opts: &Options) -> Result<Vec<u8>> {
    let px = layout.px as usize;
    let scale = layout.scale as usize;
    let start = (layout.offset + layout.margin * layout.scale) as usize;
    let row_bytes = px.div_ceil(8);
    let mut bits = vec![0u8; row_bytes * px];
    let mut line = vec![0u8; row_bytes];
    let radius = 0.4 * scale as f64;
    for y in 0..m.size() {
        let top = start + y * scale;
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
                    bits[(top + dy) * row_bytes..][..row_bytes].copy_from_slice(&line);
                }
            }
            _ => {
                line.fill(0);
                m.runs(y, |a, b| {
                    fill_bits(&mut line, start + a * scale, start + b * scale)
                });
                for dy in 0..scale {
                    bits[(top + dy) * row_bytes..][..row_bytes].copy_from_slice(&line);
                }
            }
        }
    }
    match &opts.logo {
        None => encode_indexed(&bits, layout.px, opts),
        Some(logo) if logo.kind() == LogoKind::Svg => Err(Error::LogoUnsupported),
        Some(logo) => {
            let rgba = logo.rgba.as_ref().ok_or(Error::LogoInvalid)?;
            let mut img = expand(&bits, px, row_bytes, opts.fg, opts.bg);
            let side = ((m.size() * scale) as f32 * logo.scale_value()).round() as usize;
            let origin = start + (m.size() * scale - side) / 2;
            draw_logo(&mut img, px, origin, side, rgba, opts.bg);
            encode_rgba(&img, layout.px, opts.compression)
        }
    }
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
        if bg.a != 255 {
            enc.set_trns(vec![bg.a]);
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
