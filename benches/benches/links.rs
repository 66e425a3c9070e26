//! Link building and parsing, against a baseline of plain `format!` + the `url` crate's
//! form encoder (`application/x-www-form-urlencoded`, which writes spaces as `+`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use wa_links::{Link, parse};
use wa_validate::Phone;

fn bench_links(c: &mut Criterion) {
    let phone = Phone::parse("+14155552671").unwrap();
    let text = "Hello from the shop! Your order #42 is ready 😀\nSee you soon & thanks";
    let mut g = c.benchmark_group("links");
    g.bench_function("wa_me/wa_links", |b| {
        b.iter(|| Link::phone(black_box(&phone)).text(black_box(text)).wa_me())
    });
    g.bench_function("wa_me/baseline_format_url_form", |b| {
        b.iter(|| {
            let enc: String =
                url::form_urlencoded::byte_serialize(black_box(text).as_bytes()).collect();
            format!("https://wa.me/{}?text={enc}", black_box(&phone).digits())
        })
    });
    g.bench_function("all_forms/wa_links", |b| {
        b.iter(|| {
            let l = Link::phone(black_box(&phone)).text(black_box(text));
            (l.wa_me(), l.api(), l.deep_link(), l.sms())
        })
    });
    let built = Link::phone(&phone).text(text).wa_me();
    g.bench_function("parse/wa_links", |b| {
        b.iter(|| parse(black_box(&built)).unwrap())
    });
    g.bench_function("parse/baseline_url_only", |b| {
        b.iter(|| {
            let u = url::Url::parse(black_box(&built)).unwrap();
            u.query_pairs().count()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_links);
criterion_main!(benches);
