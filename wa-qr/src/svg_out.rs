//! SVG writer: one `<path>` of merged horizontal runs, written without `fmt`.

use crate::logo::LogoKind;
use crate::matrix::QrMatrix;
use crate::{Layout, Options, Style};

fn push_u32(out: &mut String, mut v: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// Writes `tenths / 10` with one decimal when needed.
fn push_tenths(out: &mut String, tenths: u32) {
    push_u32(out, tenths / 10);
    if !tenths.is_multiple_of(10) {
        out.push('.');
        out.push(char::from(b'0' + (tenths % 10) as u8));
    }
}

/// Corner radius of rounded runs, in tenths of a module.
pub(crate) const ROUND_TENTHS: u32 = 4;

pub(crate) fn render(m: &QrMatrix, layout: &Layout, opts: &Options) -> String {
    let size = m.size() as u32;
    let total = layout.total;
    let margin = layout.margin;
    let mut out = String::with_capacity(256 + (size * size) as usize);
    out.push_str(r#"<svg xmlns="http://www.w3.org/2000/svg" width=""#);
    push_u32(&mut out, layout.px);
    out.push_str(r#"" height=""#);
    push_u32(&mut out, layout.px);
    out.push_str(r#"" viewBox="0 0 "#);
    push_u32(&mut out, total);
    out.push(' ');
    push_u32(&mut out, total);
    out.push_str(r#"" shape-rendering="crispEdges">"#);
    if opts.bg.a != 0 {
        out.push_str(r#"<rect width="100%" height="100%" fill=""#);
        out.push_str(&opts.bg.to_rgb_hex());
        if opts.bg.a != 255 {
            out.push_str(r#"" fill-opacity=""#);
            push_opacity(&mut out, opts.bg.a);
        }
        out.push_str(r#""/>"#);
    }
    out.push_str(r#"<path fill=""#);
    out.push_str(&opts.fg.to_rgb_hex());
    if opts.fg.a != 255 {
        out.push_str(r#"" fill-opacity=""#);
        push_opacity(&mut out, opts.fg.a);
    }
    out.push_str(r#"" d=""#);
    let rounded = opts.style == Style::Rounded;
    for y in 0..size as usize {
        m.styled_runs(y, rounded, |a, b, round| {
            let len = (b - a) as u32;
            let (px, py) = (a as u32 + margin, y as u32 + margin);
            if round {
                push_rounded_run(&mut out, px, py, len);
            } else {
                out.push('M');
                push_u32(&mut out, px);
                out.push(' ');
                push_u32(&mut out, py);
                out.push('h');
                push_u32(&mut out, len);
                out.push_str("v1h-");
                push_u32(&mut out, len);
                out.push('z');
            }
        });
    }
    out.push_str(r#""/>"#);
    if let Some(logo) = &opts.logo {
        push_logo(&mut out, logo, size, margin, opts);
    }
    out.push_str("</svg>");
    out
}

fn push_opacity(out: &mut String, a: u8) {
    let thousandths = u32::from(a) * 1000 / 255;
    out.push_str("0.");
    let s = format!("{thousandths:03}");
    out.push_str(&s);
}

/// A run of `len` modules at `(x, y)` as a rounded rectangle with radius 0.4.
fn push_rounded_run(out: &mut String, x: u32, y: u32, len: u32) {
    let r = ROUND_TENTHS;
    let w = len * 10 - 2 * r; // straight part, tenths
    let h = 10 - 2 * r;
    out.push('M');
    push_tenths(out, x * 10 + r);
    out.push(' ');
    push_u32(out, y);
    out.push('h');
    push_tenths(out, w);
    out.push_str("a.4 .4 0 0 1 .4 .4v");
    push_tenths(out, h);
    out.push_str("a.4 .4 0 0 1 -.4 .4h-");
    push_tenths(out, w);
    out.push_str("a.4 .4 0 0 1 -.4 -.4v-");
    push_tenths(out, h);
    out.push_str("a.4 .4 0 0 1 .4 -.4z");
}

fn push_logo(out: &mut String, logo: &crate::Logo, size: u32, margin: u32, opts: &Options) {
    let side = (size as f32 * logo.scale_value()).round().max(1.0);
    let origin = margin as f32 + (size as f32 - side) / 2.0;
    let bg = if opts.bg.a == 0 {
        crate::Color::WHITE
    } else {
        opts.bg
    };
    out.push_str(&format!(
        r#"<rect x="{origin}" y="{origin}" width="{side}" height="{side}" fill="{}"/>"#,
        bg.to_rgb_hex()
    ));
    let mime = match logo.kind() {
        LogoKind::Png => "image/png",
        LogoKind::Svg => "image/svg+xml",
    };
    out.push_str(&format!(
        r#"<image x="{origin}" y="{origin}" width="{side}" height="{side}" preserveAspectRatio="xMidYMid meet" href="data:{mime};base64,"#
    ));
    crate::logo::base64_into(logo.bytes(), out);
    out.push_str(r#""/>"#);
}
