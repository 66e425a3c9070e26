//! First-call latency and resident memory of both phone engines, each measured in a
//! fresh process (a first call can only happen once per process).
//!
//! `cargo bench -p wa-benches --bench phone_startup` prints, per engine: the first
//! parse+validate, RSS after one region, after 15 regions and after every region.

use std::process::Command;
use std::time::Instant;

use wa_validate::{NumberType, phone};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn check(engine: &str, n: &str) -> bool {
    match engine {
        "wa_validate" => wa_validate::Phone::parse(n).is_ok(),
        _ => phonenumber::parse(None, n)
            .map(|p| phonenumber::is_valid(&p))
            .unwrap_or(false),
    }
}

fn child(engine: &str) {
    let rss0 = rss_kib();
    #[allow(clippy::disallowed_methods)] // a benchmark measures wall time
    let t = Instant::now();
    assert!(check(engine, "+14155552671"));
    let first = t.elapsed();
    let rss1 = rss_kib();
    // Example numbers come from rlibphonenumber's metadata for both engines; collecting
    // them touches only its metadata (not the regexes of the engine under test).
    let regions = phone::supported_regions();
    let examples: Vec<String> = regions
        .iter()
        .filter_map(|r| {
            phone::example_numbers(r)
                .into_iter()
                .find(|(t, _)| *t == NumberType::Mobile)
                .map(|(_, n)| n)
        })
        .collect();
    let base = rss_kib();
    for n in examples.iter().take(15) {
        check(engine, n);
    }
    let rss15 = rss_kib();
    for n in &examples {
        check(engine, n);
    }
    let rss_all = rss_kib();
    println!(
        "{engine:12} first call {:8.2} ms | RSS start {:6} KiB, after first {:6} KiB, +15 regions {:+6} KiB, +all {} regions {:+7} KiB",
        first.as_secs_f64() * 1e3,
        rss0,
        rss1,
        rss15 as i64 - base as i64,
        examples.len(),
        rss_all as i64 - base as i64,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        child(&args[pos + 1]);
        return;
    }
    let exe = std::env::current_exe().expect("exe");
    for engine in ["wa_validate", "phonenumber"] {
        for _ in 0..3 {
            let out = Command::new(&exe)
                .args(["--child", engine])
                .output()
                .expect("spawn");
            print!("{}", String::from_utf8_lossy(&out.stdout));
        }
    }
}
