//! QR rendering, end to end (payload string → image bytes) and per stage, against the
//! `qrcode` crate's default path, `fast_qr`, `qrcode-generator` and `qrcodegen`, all in
//! the same run. Payload: a version-4 wa.me link at ECL M.
//!
//! Output sizes are printed once before the measurements.

use std::hint::black_box;
use std::io::Cursor;

use criterion::{Criterion, criterion_group, criterion_main};
use wa_qr::{Ecl, Options, PngCompression, QrCode};

const P: &str = "https://wa.me/14155552671?text=Hello%20from%20the%20shop%21";

fn qrcode_png(size: u32) -> Vec<u8> {
    let code = qrcode::QrCode::new(P.as_bytes()).unwrap();
    let img = code
        .render::<image::Luma<u8>>()
        .min_dimensions(size, size)
        .build();
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn qrcode_svg() -> String {
    qrcode::QrCode::new(P.as_bytes())
        .unwrap()
        .render::<qrcode::render::svg::Color<'_>>()
        .build()
}

fn fast_qr_svg() -> String {
    let qr = fast_qr::QRBuilder::new(P)
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

fn qg_png(size: u32) -> Vec<u8> {
    let sym = qg_encode(P);
    qrcode_generator::Renderer::new(&sym, size as usize)
        .to_png_vec()
        .unwrap()
}

fn qg_svg() -> String {
    let sym = qg_encode(P);
    qrcode_generator::Renderer::new(&sym, 256)
        .to_svg_string(None::<&str>)
        .unwrap()
}

fn sizes() {
    let ours256 = Options::new().size(256).png(P).unwrap();
    let ours1024 = Options::new().size(1024).png(P).unwrap();
    let small256 = Options::new()
        .size(256)
        .compression(PngCompression::Small)
        .png(P)
        .unwrap();
    let svg = Options::new().svg(P).unwrap();
    eprintln!(
        "output bytes: wa_qr png256 {} (small {}), png1024 {}, svg {}",
        ours256.len(),
        small256.len(),
        ours1024.len(),
        svg.len()
    );
    eprintln!(
        "output bytes: qrcode png256 {}, png1024 {}, svg {}",
        qrcode_png(256).len(),
        qrcode_png(1024).len(),
        qrcode_svg().len()
    );
    eprintln!(
        "output bytes: qrcode_generator png256 {}, png1024 {}, svg {}; fast_qr svg {}",
        qg_png(256).len(),
        qg_png(1024).len(),
        qg_svg().len(),
        fast_qr_svg().len()
    );
    let m = QrCode::encode(P, Ecl::Medium).unwrap();
    eprintln!(
        "payload: version {}, mask {}",
        m.matrix().version(),
        m.matrix().mask()
    );
}

fn bench_qr(c: &mut Criterion) {
    sizes();
    let mut g = c.benchmark_group("qr_encode");
    g.bench_function("wa_qr", |b| {
        b.iter(|| QrCode::encode(black_box(P), Ecl::Medium).unwrap())
    });
    g.bench_function("qrcode", |b| {
        b.iter(|| {
            qrcode::QrCode::with_error_correction_level(black_box(P), qrcode::EcLevel::M).unwrap()
        })
    });
    g.bench_function("fast_qr", |b| {
        b.iter(|| {
            fast_qr::QRBuilder::new(black_box(P))
                .ecl(fast_qr::ECL::M)
                .build()
                .unwrap()
        })
    });
    g.bench_function("qrcode_generator", |b| b.iter(|| qg_encode(black_box(P))));
    g.bench_function("qrcodegen", |b| {
        b.iter(|| {
            qrcodegen::QrCode::encode_text(black_box(P), qrcodegen::QrCodeEcc::Medium).unwrap()
        })
    });
    g.finish();

    for size in [256u32, 1024] {
        let mut g = c.benchmark_group(format!("qr_png_{size}"));
        let fast = Options::new().size(size);
        let small = Options::new().size(size).compression(PngCompression::Small);
        g.bench_function("wa_qr_fast", |b| b.iter(|| fast.png(black_box(P)).unwrap()));
        g.bench_function("wa_qr_small", |b| {
            b.iter(|| small.png(black_box(P)).unwrap())
        });
        g.bench_function("qrcode_default", |b| b.iter(|| qrcode_png(black_box(size))));
        g.bench_function("qrcode_generator", |b| b.iter(|| qg_png(black_box(size))));
        g.finish();
    }

    let mut g = c.benchmark_group("qr_svg");
    let opts = Options::new();
    g.bench_function("wa_qr", |b| b.iter(|| opts.svg(black_box(P)).unwrap()));
    g.bench_function("qrcode_default", |b| b.iter(qrcode_svg));
    g.bench_function("fast_qr", |b| b.iter(fast_qr_svg));
    g.bench_function("qrcode_generator", |b| b.iter(qg_svg));
    g.finish();
}

criterion_group!(benches, bench_qr);
criterion_main!(benches);
