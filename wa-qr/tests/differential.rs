//! Differential test: over 10,000+ generated payloads (every level, versions 1–40,
//! numeric / alphanumeric / byte data), our encoder chooses the same version and mask and
//! produces the same module matrix as `qrcodegen`, and every symbol decodes with `rqrr`.

mod common;

use qrcodegen::{QrCode as Ref, QrCodeEcc, QrSegment, Version};
use wa_qr::{Ecl, QrCode};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

fn payload(rng: &mut Lcg, kind: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| match kind {
            0 => b'0' + rng.below(10) as u8,
            1 => ALNUM[rng.below(45) as usize],
            2 => rng.below(256) as u8,
            _ => b"https://wa.me/14155552671?text=Hello%20"[rng.below(39) as usize],
        })
        .collect()
}

fn reference(data: &[u8], ecl: Ecl) -> Option<Ref> {
    let e = match ecl {
        Ecl::Low => QrCodeEcc::Low,
        Ecl::Medium => QrCodeEcc::Medium,
        Ecl::Quartile => QrCodeEcc::Quartile,
        Ecl::High => QrCodeEcc::High,
    };
    let seg = if data.iter().all(u8::is_ascii_digit) {
        QrSegment::make_numeric(std::str::from_utf8(data).unwrap())
    } else if data.iter().all(|b| ALNUM.contains(b)) {
        QrSegment::make_alphanumeric(std::str::from_utf8(data).unwrap())
    } else {
        QrSegment::make_bytes(data)
    };
    Ref::encode_segments_advanced(&[seg], e, Version::MIN, Version::MAX, None, false).ok()
}

/// Max payload length per kind at V40-L, to spread lengths over all versions.
const MAX_LEN: [usize; 4] = [7089, 4296, 2953, 2953];

/// Checks one payload against qrcodegen and rqrr; returns the version used, if any.
fn check(i: usize, data: &[u8], ecl: Ecl) -> Option<u8> {
    match (QrCode::encode(data, ecl), reference(data, ecl)) {
        (Err(e), None) => {
            assert_eq!(e.code(), "qr_payload_too_long");
            None
        }
        (Ok(o), Some(r)) => {
            let m = o.matrix();
            assert_eq!(m.version(), r.version().value(), "payload #{i}");
            assert_eq!(m.mask(), r.mask().value(), "payload #{i} v{}", m.version());
            assert_eq!(m.size() as i32, r.size());
            for y in 0..m.size() {
                for x in 0..m.size() {
                    assert_eq!(
                        m.is_dark(x, y),
                        r.get_module(x as i32, y as i32),
                        "payload #{i} ({x},{y})"
                    );
                }
            }
            let decoded = common::decode_matrix(m, 2);
            assert_eq!(
                decoded,
                vec![data.to_vec()],
                "payload #{i} v{} did not decode",
                m.version()
            );
            Some(m.version())
        }
        (o, t) => panic!(
            "payload #{i}: ours {:?} theirs {:?}",
            o.map(|c| c.matrix().version()),
            t.map(|r| r.version().value())
        ),
    }
}

/// The longest payload of `kind` that our encoder fits in `version` at `ecl`.
fn longest_in(rng: &mut Lcg, kind: u64, version: u8, ecl: Ecl) -> usize {
    let (mut lo, mut hi) = (1usize, MAX_LEN[kind as usize]);
    let probe = payload(rng, kind, hi);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        match QrCode::encode(&probe[..mid], ecl) {
            Ok(c) if c.matrix().version() <= version => lo = mid,
            _ => hi = mid - 1,
        }
    }
    lo
}

#[test]
fn matches_qrcodegen_and_decodes() {
    let mut rng = Lcg(2026);
    let ecls = [Ecl::Low, Ecl::Medium, Ecl::Quartile, Ecl::High];
    let mut cases: Vec<(Vec<u8>, Ecl, Option<u8>)> = Vec::new();
    // Every level x version x mode, at a random length inside that version's range.
    for &ecl in &ecls {
        for kind in 0..4 {
            let mut prev = 0;
            for version in 1..=40u8 {
                let max = longest_in(&mut rng, kind, version, ecl);
                let len = (prev + 1 + rng.below((max - prev).max(1) as u64) as usize).min(max);
                prev = max;
                cases.push((payload(&mut rng, kind, len), ecl, Some(version)));
            }
        }
    }
    // Plus random payloads, mostly link-sized, and a few that are too long.
    for i in 0..9_800u64 {
        let kind = i % 4;
        let ecl = ecls[(i / 4 % 4) as usize];
        let len = match rng.below(50) {
            0..=34 => 1 + rng.below(120) as usize,
            35..=48 => 1 + rng.below(400) as usize,
            _ => MAX_LEN[kind as usize] + rng.below(50) as usize,
        };
        cases.push((payload(&mut rng, kind, len), ecl, None));
    }
    // rqrr takes milliseconds per decode: spread the cases over every core.
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let chunk = cases.len().div_ceil(threads);
    let results: Vec<Vec<(usize, Option<u8>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .chunks(chunk)
            .enumerate()
            .map(|(t, part)| {
                s.spawn(move || {
                    part.iter()
                        .enumerate()
                        .map(|(j, (data, ecl, want))| {
                            let i = t * chunk + j;
                            let got = check(i, data, *ecl);
                            if want.is_some() {
                                assert_eq!(got, *want, "payload #{i}");
                            }
                            (usize::from(*ecl as u8), got)
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker panicked"))
            .collect()
    });
    let mut seen = [[false; 41]; 4];
    let mut checked = 0;
    for (e, v) in results.into_iter().flatten() {
        if let Some(v) = v {
            seen[e][usize::from(v)] = true;
            checked += 1;
        }
    }
    assert!(checked >= 10_000, "{checked}");
    assert!(seen.iter().all(|row| row[1..].iter().all(|s| *s)));
}

#[test]
fn forced_masks_match_too() {
    let data = b"https://wa.me/14155552671?text=Hello%20from%20the%20shop%21";
    for mask in 0..8u8 {
        let o = QrCode::encode_with_mask(data, Ecl::Medium, mask).unwrap();
        let seg = QrSegment::make_bytes(data);
        let r = Ref::encode_segments_advanced(
            &[seg],
            QrCodeEcc::Medium,
            Version::MIN,
            Version::MAX,
            Some(qrcodegen::Mask::new(mask)),
            false,
        )
        .unwrap();
        for y in 0..o.matrix().size() {
            for x in 0..o.matrix().size() {
                assert_eq!(o.matrix().is_dark(x, y), r.get_module(x as i32, y as i32));
            }
        }
    }
}
