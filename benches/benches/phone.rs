//! Phone parse + validate: wa-validate (rlibphonenumber) against the `phonenumber` crate,
//! measured in the same run.
//!
//! - `warm/*`: one number, repeated (the best case for both engines);
//! - `few_regions/*`: a round robin over 10 regions' example mobile numbers;
//! - `all_regions/*`: a round robin over one example number per region (245): the case
//!   a public API sees, where `phonenumber`'s 100-entry regex cache thrashes;
//! - `first_call/*`: building the engine's metadata and parsing once (ours only: the
//!   `phonenumber` database is a private lazy static; see the `phone_startup` bench for
//!   both engines measured in fresh processes).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wa_validate::{NumberType, Phone, phone};

fn example_per_region(only: Option<&[&str]>) -> Vec<String> {
    phone::supported_regions()
        .iter()
        .filter(|r| only.is_none_or(|o| o.contains(&r.as_str())))
        .filter_map(|r| {
            let ex = phone::example_numbers(r);
            ex.iter()
                .find(|(t, _)| *t == NumberType::Mobile)
                .or_else(|| ex.first())
                .map(|(_, n)| n.clone())
        })
        .collect()
}

fn theirs(n: &str) -> bool {
    phonenumber::parse(None, n)
        .map(|p| phonenumber::is_valid(&p))
        .unwrap_or(false)
}

fn ours(n: &str) -> bool {
    Phone::parse(n).is_ok()
}

fn bench_phone(c: &mut Criterion) {
    phone::warm_up();
    let mut g = c.benchmark_group("phone");
    let one = "+1 (415) 555-2671";
    g.throughput(Throughput::Elements(1));
    g.bench_function("warm/wa_validate", |b| b.iter(|| ours(black_box(one))));
    g.bench_function("warm/phonenumber", |b| b.iter(|| theirs(black_box(one))));

    for (name, set) in [
        (
            "few_regions",
            example_per_region(Some(&[
                "US", "GB", "BR", "IN", "DE", "FR", "PT", "ES", "MX", "NG",
            ])),
        ),
        ("all_regions", example_per_region(None)),
    ] {
        g.throughput(Throughput::Elements(set.len() as u64));
        g.bench_with_input(BenchmarkId::new(name, "wa_validate"), &set, |b, set| {
            b.iter(|| set.iter().filter(|n| ours(n)).count())
        });
        if name == "all_regions" {
            g.sample_size(10);
        }
        g.bench_with_input(BenchmarkId::new(name, "phonenumber"), &set, |b, set| {
            b.iter(|| set.iter().filter(|n| theirs(n)).count())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("phone_first_call");
    g.sample_size(10);
    g.bench_function("wa_validate_engine", |b| {
        b.iter(|| {
            let util = rlibphonenumber::PhoneNumberUtil::new().unwrap();
            util.parse("+14155552671", None)
                .map(|n| util.is_valid_number(&n))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_phone);
criterion_main!(benches);
