//! QR rendering, end to end (payload string → image bytes) and per stage, against the
//! `qrcode` crate's default path, `fast_qr`, `qrcode-generator` and `qrcodegen`, all in
//! the same run, for three payloads at ECL M: a bare `wa.me/<digits>` (version 2), a link
//! with a short text (version 4) and one with a long prefilled text (version 10).
//!
//! Output sizes are printed once before the measurements.

use std::hint::black_box;
use std::io::Cursor;

use criterion::{Criterion, criterion_group, criterion_main};
use wa_qr::{Ecl, Options, PngCompression, QrCode};

const PAYLOADS: [(&str, &str); 3] = [
    ("v2", "https://wa.me/14155552671"),
    (
        "v4",
        "https://wa.me/14155552671?text=Hello%20from%20the%20shop%21",
    ),
    (
        "v10",
        "https://wa.me/14155552671?text=Hi%21%20I%20would%20like%20to%20book%20a%20table%20for%20four%20\
on%20Friday%20at%208pm%2C%20near%20the%20window%20if%20possible.%20Order%20%231234",
    ),
];

fn qrcode_png(p: &str, size: u32) -> Vec<u8> {
    let code = qrcode::QrCode::new(p.as_bytes()).unwrap();
    let img = code
        .render::<image::Luma<u8>>()
        .min_dimensions(size, size)
        .build();
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn qrcode_svg(p: &str) -> String {
    qrcode::QrCode::new(p.as_bytes())
        .unwrap()
        .render::<qrcode::render::svg::Color<'_>>()
        .build()
}

fn fast_qr_svg(p: &str) -> String {
    let qr = fast_qr::QRBuilder::new(p)
        .ecl(fast_qr::ECL::M)
        .build()
        .unwrap();
    fast_qr::convert::svg::SvgBuilder::default().to_str(&qr)
}

fn qg_encode(p: &str) -> qrcode_generator::Symbol {
    use qrcode_generator::qr::{Encoder, ErrorCorrection};
    Encoder::new(ErrorCorrection::Medium)
        .encode_text(p)
        .unwrap()
}

fn qg_png(p: &str, size: u32) -> Vec<u8> {
    let sym = qg_encode(p);
    qrcode_generator::Renderer::new(&sym, size as usize)
        .to_png_vec()
        .unwrap()
}

fn qg_svg(p: &str) -> String {
    let sym = qg_encode(p);
    qrcode_generator::Renderer::new(&sym, 256)
        .to_svg_string(None::<&str>)
        .unwrap()
}

fn sizes(name: &str, p: &str) {
    let ours256 = Options::new().size(256).png(p).unwrap();
    let ours1024 = Options::new().size(1024).png(p).unwrap();
    let small256 = Options::new()
        .size(256)
        .compression(PngCompression::Small)
        .png(p)
        .unwrap();
    let svg = Options::new().svg(p).unwrap();
    let m = QrCode::encode(p, Ecl::Medium).unwrap();
    eprintln!(
        "{name}: version {}, mask {}; output bytes: wa_qr png256 {} (small {}), png1024 {}, svg {}; \
         qrcode png256 {}, png1024 {}, svg {}; qrcode_generator png256 {}, png1024 {}, svg {}; fast_qr svg {}",
        m.matrix().version(),
        m.matrix().mask(),
        ours256.len(),
        small256.len(),
        ours1024.len(),
        svg.len(),
        qrcode_png(p, 256).len(),
        qrcode_png(p, 1024).len(),
        qrcode_svg(p).len(),
        qg_png(p, 256).len(),
        qg_png(p, 1024).len(),
        qg_svg(p).len(),
        fast_qr_svg(p).len()
    );
}

fn bench_qr(c: &mut Criterion) {
    for (name, p) in PAYLOADS {
        sizes(name, p);
        bench_payload(c, name, p);
    }
}

fn bench_payload(c: &mut Criterion, name: &str, p: &str) {
    let mut g = c.benchmark_group(format!("qr_encode/{name}"));
    g.bench_function("wa_qr", |b| {
        b.iter(|| QrCode::encode(black_box(p), Ecl::Medium).unwrap())
    });
    g.bench_function("qrcode", |b| {
        b.iter(|| {
            qrcode::QrCode::with_error_correction_level(black_box(p), qrcode::EcLevel::M).unwrap()
        })
    });
    g.bench_function("fast_qr", |b| {
        b.iter(|| {
            fast_qr::QRBuilder::new(black_box(p))
                .ecl(fast_qr::ECL::M)
                .build()
                .unwrap()
        })
    });
    g.bench_function("qrcode_generator", |b| b.iter(|| qg_encode(black_box(p))));
    g.bench_function("qrcodegen", |b| {
        b.iter(|| {
            qrcodegen::QrCode::encode_text(black_box(p), qrcodegen::QrCodeEcc::Medium).unwrap()
        })
    });
    g.finish();

    for size in [256u32, 1024] {
        let mut g = c.benchmark_group(format!("qr_png_{size}/{name}"));
        let fast = Options::new().size(size);
        let small = Options::new().size(size).compression(PngCompression::Small);
        g.bench_function("wa_qr_fast", |b| b.iter(|| fast.png(black_box(p)).unwrap()));
        g.bench_function("wa_qr_small", |b| {
            b.iter(|| small.png(black_box(p)).unwrap())
        });
        g.bench_function("qrcode_default", |b| {
            b.iter(|| qrcode_png(black_box(p), black_box(size)))
        });
        g.bench_function("qrcode_generator", |b| {
            b.iter(|| qg_png(black_box(p), black_box(size)))
        });
        g.finish();
    }

    let mut g = c.benchmark_group(format!("qr_svg/{name}"));
    let opts = Options::new();
    g.bench_function("wa_qr", |b| b.iter(|| opts.svg(black_box(p)).unwrap()));
    g.bench_function("qrcode_default", |b| b.iter(|| qrcode_svg(black_box(p))));
    g.bench_function("fast_qr", |b| b.iter(|| fast_qr_svg(black_box(p))));
    g.bench_function("qrcode_generator", |b| b.iter(|| qg_svg(black_box(p))));
    g.finish();
}

criterion_group!(benches, bench_qr);
criterion_main!(benches);
