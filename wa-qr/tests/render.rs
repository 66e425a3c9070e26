//! Every rendered image is decoded back with rqrr and compared with its payload: all
//! error-correction levels, sizes, colours, margins, rounded modules and logos.

mod common;

use wa_qr::{Color, Ecl, Logo, Options, PngCompression, Style};

const LINK: &str = "https://wa.me/14155552671?text=Hello%20from%20the%20shop%21";

fn png_dims(png: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(png).unwrap();
    (img.width(), img.height())
}

fn assert_png(opts: &Options, payload: &str) {
    let png = opts
        .png(payload)
        .unwrap_or_else(|e| panic!("{opts:?}: {e}"));
    assert_eq!(
        common::decode_png(&png),
        vec![payload.as_bytes().to_vec()],
        "{opts:?}"
    );
}

fn assert_svg(opts: &Options, payload: &str) {
    let svg = opts.svg(payload).unwrap();
    assert_eq!(
        common::decode_svg(&svg),
        vec![payload.as_bytes().to_vec()],
        "{opts:?}"
    );
}

#[test]
fn every_ecl_style_and_format_decodes() {
    for ecl in [Ecl::Low, Ecl::Medium, Ecl::Quartile, Ecl::High] {
        for style in [Style::Square, Style::Rounded] {
            let o = Options::new().ecl(ecl).style(style);
            assert_png(&o, LINK);
            assert_svg(&o, LINK);
        }
    }
}

#[test]
fn exact_sizes_are_honoured_and_decode() {
    for size in [64u32, 100, 255, 256, 257, 333, 512, 1000, 1024, 2048] {
        let o = Options::new().size(size);
        let png = o.png(LINK).unwrap();
        assert_eq!(png_dims(&png), (size, size));
        assert_eq!(
            common::decode_png(&png),
            vec![LINK.as_bytes().to_vec()],
            "size {size}"
        );
        let svg = o.svg(LINK).unwrap();
        assert!(svg.contains(&format!(r#"width="{size}" height="{size}""#)));
    }
    // 4096 renders too (decoding it is slow; dimensions only)
    assert_eq!(
        png_dims(&Options::new().size(4096).png(LINK).unwrap()),
        (4096, 4096)
    );
}

#[test]
fn colours_margins_and_transparency_decode() {
    let cases = [
        ("000", "fff"),
        ("#075e54", "#ffffff"),
        ("25d366", "ffffff"), // WhatsApp green: contrast 1.98, refused below
        ("128c7e", "dcf8c6"),
        ("1f2c34", "transparent"),
        ("000000", "ffffff80"),
    ];
    for (fg, bg) in cases {
        let o = Options::new()
            .foreground(Color::parse(fg).unwrap())
            .background(Color::parse(bg).unwrap());
        match o.png(LINK) {
            Ok(png) => assert_eq!(
                common::decode_png(&png),
                vec![LINK.as_bytes().to_vec()],
                "{fg} on {bg}"
            ),
            Err(e) => assert_eq!(e.code(), "qr_low_contrast", "{fg} on {bg}"),
        }
    }
    for margin in [0u32, 1, 4, 10, 16] {
        // rqrr needs some quiet zone of its own; pad margin-0 images is not our job, but
        // the image must still be the exact size with modules where they belong.
        let o = Options::new().margin(margin).size(400);
        let png = o.png(LINK).unwrap();
        assert_eq!(png_dims(&png), (400, 400));
        if margin >= 1 {
            assert_eq!(
                common::decode_png(&png),
                vec![LINK.as_bytes().to_vec()],
                "margin {margin}"
            );
        }
    }
}

#[test]
fn compression_choice_changes_size_not_pixels() {
    let fast = Options::new().png(LINK).unwrap();
    let small = Options::new()
        .compression(PngCompression::Small)
        .png(LINK)
        .unwrap();
    let a = image::load_from_memory(&fast).unwrap().to_luma8();
    let b = image::load_from_memory(&small).unwrap().to_luma8();
    assert_eq!(a, b);
    assert!(small.len() <= fast.len());
    // The default PNG at 256 px stays within 1,500 bytes from a bare link to a long text.
    for payload in [
        "https://wa.me/14155552671",
        "https://wa.me/14155552671?text=Hello%20from%20the%20shop%21",
        "https://wa.me/14155552671?text=Hi%21%20I%20would%20like%20to%20book%20a%20table%20for%20\
         four%20on%20Friday%20at%208pm%2C%20near%20the%20window%20if%20possible.%20Order%20%231234",
    ] {
        let png = Options::new().png(payload).unwrap();
        assert!(png.len() <= 1500, "{} bytes for {payload}", png.len());
        assert_eq!(common::decode_png(&png), vec![payload.as_bytes().to_vec()]);
    }
}

fn sample_png_logo() -> Vec<u8> {
    // A 24x24 RGBA logo: a green disc on transparency, made with the image crate.
    let mut img = image::RgbaImage::new(24, 24);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let (dx, dy) = (x as i32 - 12, y as i32 - 12);
        *p = if dx * dx + dy * dy < 120 {
            image::Rgba([0x25, 0xd3, 0x66, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        };
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn logos_raise_ecl_and_still_decode() {
    let logo = Logo::png(sample_png_logo()).unwrap();
    for scale in [0.15f32, 0.2, 0.3] {
        for ecl in [Ecl::Low, Ecl::High] {
            let o = Options::new()
                .size(512)
                .ecl(ecl)
                .logo(logo.clone().scale(scale));
            assert!(o.effective_ecl() >= Ecl::Quartile);
            assert_png(&o, LINK);
            let svg = o.svg(LINK).unwrap();
            assert!(svg.contains("data:image/png;base64,"));
            // the modules under an SVG logo are still all in the path; decoding the path
            // alone proves the symbol itself is intact
            assert_eq!(common::decode_svg(&svg), vec![LINK.as_bytes().to_vec()]);
        }
    }
    let big = Options::new().logo(logo.clone().scale(0.4));
    assert_eq!(big.png(LINK).unwrap_err().code(), "qr_logo_too_large");
    let svg_logo = Logo::svg("<svg xmlns='http://www.w3.org/2000/svg'/>").unwrap();
    assert_eq!(
        Options::new()
            .logo(svg_logo.clone())
            .png(LINK)
            .unwrap_err()
            .code(),
        "qr_logo_unsupported"
    );
    assert!(
        Options::new()
            .logo(svg_logo)
            .svg(LINK)
            .unwrap()
            .contains("image/svg+xml;base64")
    );
    assert_eq!(
        Logo::png(b"not a png".to_vec()).unwrap_err().code(),
        "qr_logo_invalid"
    );
    let mut truncated = sample_png_logo();
    truncated.truncate(40);
    assert_eq!(Logo::png(truncated).unwrap_err().code(), "qr_logo_invalid");
    assert_eq!(Logo::svg("<html/>").unwrap_err().code(), "qr_logo_invalid");
}

#[test]
fn payloads_of_every_mode_decode() {
    for payload in [
        "0123456789",
        "HELLO WORLD $%*+-./:",
        "https://wa.me/message/IKJD3PCCUX2TN1",
        "Olá 😀 — ünïcödé",
        "x",
    ] {
        assert_png(&Options::new(), payload);
        assert_svg(&Options::new().style(Style::Rounded), payload);
    }
}

#[test]
fn guards_have_stable_codes() {
    let code = |o: Options| o.png(LINK).unwrap_err().code();
    assert_eq!(code(Options::new().size(63)), "qr_size_out_of_range");
    assert_eq!(code(Options::new().size(4097)), "qr_size_out_of_range");
    assert_eq!(code(Options::new().margin(17)), "qr_margin_out_of_range");
    assert_eq!(
        code(Options::new().foreground(Color::parse("ccc").unwrap())),
        "qr_low_contrast"
    );
    assert_eq!(
        code(
            Options::new()
                .foreground(Color::WHITE)
                .background(Color::BLACK)
        ),
        "qr_inverted_colors"
    );
    assert_eq!(
        code(Options::new().foreground(Color::parse("00000080").unwrap())),
        "qr_transparent_foreground"
    );
    let long = "a".repeat(2332); // fits at L, not at M
    assert!(Options::new().ecl(Ecl::Low).size(1024).png(&long).is_ok());
    assert_eq!(
        Options::new().size(1024).png(&long).unwrap_err().code(),
        "qr_payload_too_long"
    );
    assert_eq!(
        Options::new()
            .size(64)
            .png("a".repeat(1000))
            .unwrap_err()
            .code(),
        "qr_size_too_small"
    );
    for bad in ["", "#", "12", "12345", "ggg", "#1234567", "rgb(0,0,0)"] {
        assert_eq!(
            Color::parse(bad).unwrap_err().code(),
            "qr_invalid_color",
            "{bad}"
        );
    }
    assert_eq!(Ecl::parse("X").unwrap_err().code(), "qr_invalid_ecl");
}

#[test]
fn svg_snapshot() {
    let svg = Options::new()
        .size(200)
        .foreground(Color::parse("075e54").unwrap())
        .svg("https://wa.me/1")
        .unwrap();
    assert!(!svg.contains("<rect x"), "no per-module rects");
    assert_eq!(svg.matches("<path").count(), 1);
    insta::assert_snapshot!("svg_square", svg);
    let rounded = Options::new()
        .size(200)
        .style(Style::Rounded)
        .svg("https://wa.me/1")
        .unwrap();
    insta::assert_snapshot!("svg_rounded", rounded);
}

#[test]
fn png_pixels_match_the_matrix() {
    // 256 px, V3 (29 modules) + 2*4 margin = 37 -> scale 6, leftover 34 -> offset 17.
    let png = Options::new()
        .png("https://wa.me/14155552671?text=Hi")
        .unwrap();
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    let m = wa_qr::QrCode::encode("https://wa.me/14155552671?text=Hi", Ecl::Medium).unwrap();
    let m = m.matrix();
    let (scale, start) = (6u32, 17 + 4 * 6);
    for y in 0..256u32 {
        for x in 0..256u32 {
            let inside =
                x >= start && y >= start && x < start + scale * 29 && y < start + scale * 29;
            let dark = inside
                && m.is_dark(
                    ((x - start) / scale) as usize,
                    ((y - start) / scale) as usize,
                );
            assert_eq!(img.get_pixel(x, y).0[0] == 0, dark, "({x},{y})");
        }
    }
}

/// The contrast floor is where decoding stops working: every hue at or above
/// `MIN_CONTRAST` decodes, at a small and a large size; the reference's WhatsApp-green
/// example (`color=25d366`) is accepted; and the sweep finds pairs just under the floor
/// that a decoder cannot read (so the floor is not arbitrary).
#[test]
fn contrast_threshold_is_decided_by_decoding() {
    let payload = "https://wa.me/joao.silva";
    let green = Color::parse("25d366").unwrap();
    assert!(green.contrast(Color::WHITE) < 2.0);
    assert_png(&Options::new().foreground(green), payload);
    assert_svg(&Options::new().foreground(green), payload);

    // Each hue, mixed with white from full colour (t = 0) to white (t = 1).
    let hues = [
        (0, 0, 0),
        (0x25, 0xd3, 0x66),
        (255, 0, 0),
        (0, 0, 255),
        (255, 0, 255),
        (0, 128, 128),
    ];
    let mut failing_below = 0;
    for (r, g, b) in hues {
        for step in 0..=40u32 {
            let t = f64::from(step) / 40.0;
            let mix = |c: u8| (255.0 - f64::from(c)).mul_add(t, f64::from(c)).round() as u8;
            let fg = Color::rgb(mix(r), mix(g), mix(b));
            let ratio = fg.contrast(Color::WHITE);
            if ratio < 1.2 {
                break;
            }
            let opts = |size| Options::new().size(size).foreground(fg);
            if ratio >= wa_qr::MIN_CONTRAST {
                for size in [128, 512] {
                    assert_png(&opts(size), payload);
                }
            } else {
                let err = opts(256).png(payload).unwrap_err();
                assert_eq!(err.code(), "qr_low_contrast");
                // Render without the guard's opinion: the matrix at this luma contrast.
                let code = wa_qr::QrCode::encode(payload, Ecl::Medium).unwrap();
                let luma = ((u32::from(fg.r) * 299 + u32::from(fg.g) * 587 + u32::from(fg.b) * 114)
                    / 1000) as u8;
                let m = code.matrix();
                let n = m.size() + 8;
                let decoded = common::decode_luma(n * 4, n * 4, |x, y| {
                    let (mx, my) = ((x / 4) as isize - 4, (y / 4) as isize - 4);
                    if mx >= 0 && my >= 0 && m.is_dark(mx as usize, my as usize) {
                        luma
                    } else {
                        255
                    }
                });
                if decoded.is_empty() {
                    failing_below += 1;
                }
            }
        }
    }
    assert!(
        failing_below > 0,
        "some pairs under the floor do not decode"
    );
}
