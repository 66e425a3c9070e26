//! Differential test: wa-validate (rlibphonenumber, metadata 9.0.42) against the
//! `phonenumber` crate (metadata 9.0.33) over every region's example numbers — in
//! international and national format, plus altered (invalid) variants — and over
//! generated inputs.
//!
//! Every disagreement must be listed, with its explanation, in
//! `tests/data/phone_differential_known.txt`; a new one fails the test. The list is
//! decided by libphonenumber's own behaviour (see the notes in that file).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumberFormat};
use wa_validate::{PhoneOptions, phone};

/// What one engine says about an input: `Some((e164, type))` when valid.
type Verdict = Option<(String, String)>;

fn ours(input: &str, region: Option<&str>) -> Verdict {
    let mut opts = PhoneOptions::new();
    if let Some(r) = region {
        opts = opts.region(r);
    }
    opts.parse(input).ok().map(|p| {
        (
            p.e164().to_owned(),
            p.number_type().as_str().replace('_', ""),
        )
    })
}

fn theirs(input: &str, region: Option<&str>) -> Verdict {
    let id = match region {
        Some(r) => Some(r.parse::<phonenumber::country::Id>().ok()?),
        None => None,
    };
    let n = phonenumber::parse(id, input).ok()?;
    if !phonenumber::is_valid(&n) {
        return None;
    }
    let e164 = n.format().mode(phonenumber::Mode::E164).to_string();
    let t = format!("{:?}", n.number_type(&phonenumber::metadata::DATABASE)).to_lowercase();
    Some((e164, t))
}

fn compare(out: &mut BTreeSet<String>, what: &str, input: &str, region: Option<&str>) {
    let a = ours(input, region);
    let b = theirs(input, region);
    if a != b {
        out.insert(format!(
            "{what}\t{input}\t{}\tours={}\ttheirs={}",
            region.unwrap_or("-"),
            a.map_or("invalid".into(), |(e, t)| format!("{e}/{t}")),
            b.map_or("invalid".into(), |(e, t)| format!("{e}/{t}")),
        ));
    }
}

/// A tiny deterministic generator so the generated inputs are the same every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn engines_agree_except_where_documented() {
    let mut diffs = BTreeSet::new();
    let mut checked = 0usize;
    let regions = phone::supported_regions();
    assert!(regions.len() > 240, "{} regions", regions.len());
    for region in &regions {
        for (_, e164) in phone::example_numbers(region) {
            let n = PHONE_NUMBER_UTIL
                .parse(&e164, None)
                .expect("example parses");
            let national = n.format_as(PhoneNumberFormat::National).into_owned();
            let international = n.format_as(PhoneNumberFormat::International).into_owned();
            compare(&mut diffs, "e164", &e164, None);
            compare(&mut diffs, "intl", &international, None);
            compare(&mut diffs, "national", &national, Some(region));
            // Altered variants: one digit short, one digit long, last digit changed.
            let short = &e164[..e164.len() - 1];
            let long = format!("{e164}5");
            let last = e164.as_bytes()[e164.len() - 1];
            let changed = format!("{short}{}", char::from(b'0' + (last - b'0' + 5) % 10));
            compare(&mut diffs, "short", short, None);
            compare(&mut diffs, "long", &long, None);
            compare(&mut diffs, "changed", &changed, None);
            checked += 6;
        }
    }
    // Generated inputs: a random country code from the metadata and 4-14 random digits.
    let codes: Vec<u16> = regions
        .iter()
        .filter_map(|r| phone::country_code_for_region(r).ok())
        .collect();
    let mut rng = Lcg(0x5eed);
    let mut generated = Vec::with_capacity(20_000);
    for _ in 0..20_000 {
        let cc = codes[(rng.next() % codes.len() as u64) as usize];
        let len = 4 + rng.next() % 11;
        let mut s = format!("+{cc}");
        for _ in 0..len {
            s.push(char::from(b'0' + (rng.next() % 10) as u8));
        }
        generated.push(s);
    }
    // Grouped by country so phonenumber's 100-entry regex cache stays warm (otherwise
    // this test spends minutes recompiling regexes: the very cliff that ruled it out).
    generated.sort();
    for s in &generated {
        compare(&mut diffs, "generated", s, None);
        checked += 1;
    }

    let known_text = include_str!("data/phone_differential_known.txt");
    let known: BTreeSet<&str> = known_text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    let mut report = String::new();
    let mut new = 0;
    for d in &diffs {
        if !known.contains(d.as_str()) {
            new += 1;
            let _ = writeln!(report, "{d}");
        }
    }
    println!(
        "checked {checked} inputs over {} regions; {} disagreements, {new} undocumented",
        regions.len(),
        diffs.len()
    );
    if let Ok(path) = std::env::var("WA_DIFF_OUT") {
        let all: String = diffs.iter().map(|d| format!("{d}\n")).collect();
        std::fs::write(path, all).unwrap();
    }
    assert_eq!(new, 0, "undocumented disagreements:\n{report}");
    let stale: Vec<&&str> = known.iter().filter(|k| !diffs.contains(**k)).collect();
    assert!(
        stale.is_empty(),
        "documented disagreements that no longer occur: {stale:?}"
    );
}
