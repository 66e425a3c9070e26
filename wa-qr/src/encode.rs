//! Data encoding: segment mode, version choice, Reed–Solomon error correction and
//! interleaving (ISO/IEC 18004), producing the final codeword sequence.

use crate::bits::MsbBits;
use crate::error::{Error, Result};

/// Error-correction level: how much of the symbol may be damaged (or covered by a logo)
/// and still decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Ecl {
    /// ~7 % recoverable.
    Low,
    /// ~15 % recoverable (the default).
    #[default]
    Medium,
    /// ~25 % recoverable.
    Quartile,
    /// ~30 % recoverable.
    High,
}

impl Ecl {
    pub(crate) fn ordinal(self) -> usize {
        self as usize
    }

    pub(crate) fn format_bits(self) -> u32 {
        match self {
            Ecl::Low => 1,
            Ecl::Medium => 0,
            Ecl::Quartile => 3,
            Ecl::High => 2,
        }
    }

    /// Share of codewords the level can restore (7, 15, 25, 30 %).
    pub fn recovery_percent(self) -> u32 {
        match self {
            Ecl::Low => 7,
            Ecl::Medium => 15,
            Ecl::Quartile => 25,
            Ecl::High => 30,
        }
    }

    /// Parses `L`, `M`, `Q` or `H` (any case).
    ///
    /// # Errors
    /// `qr_invalid_ecl`.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(wa_qr::Ecl::parse("q")?, wa_qr::Ecl::Quartile);
    /// # Ok::<(), wa_qr::Error>(())
    /// ```
    pub fn parse(s: &str) -> Result<Ecl> {
        match s.trim() {
            "L" | "l" => Ok(Ecl::Low),
            "M" | "m" => Ok(Ecl::Medium),
            "Q" | "q" => Ok(Ecl::Quartile),
            "H" | "h" => Ok(Ecl::High),
            _ => Err(Error::InvalidEcl),
        }
    }
}

#[rustfmt::skip]
static ECC_CODEWORDS_PER_BLOCK: [[u8; 41]; 4] = [
    [0,  7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
    [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
    [0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
    [0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
];

#[rustfmt::skip]
static NUM_ERROR_CORRECTION_BLOCKS: [[u8; 41]; 4] = [
    [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4,  4,  4,  4,  4,  6,  6,  6,  6,  7,  8,  8,  9,  9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
    [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5,  5,  8,  9,  9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
    [0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8,  8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
    [0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
];

/// Bits available for data and ECC (function patterns excluded).
pub(crate) fn num_raw_data_modules(ver: u8) -> usize {
    let v = usize::from(ver);
    let mut result = (16 * v + 128) * v + 64;
    if v >= 2 {
        let numalign = v / 7 + 2;
        result -= (25 * numalign - 10) * numalign - 55;
        if v >= 7 {
            result -= 36;
        }
    }
    result
}

pub(crate) fn num_data_codewords(ver: u8, ecl: Ecl) -> usize {
    let v = usize::from(ver);
    num_raw_data_modules(ver) / 8
        - usize::from(ECC_CODEWORDS_PER_BLOCK[ecl.ordinal()][v])
            * usize::from(NUM_ERROR_CORRECTION_BLOCKS[ecl.ordinal()][v])
}

/// The encoding mode of the (single) data segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Numeric,
    Alphanumeric,
    Byte,
}

const ALNUM: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

fn alnum_value(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'A'..=b'Z' => Some(u32::from(b - b'A') + 10),
        _ => ALNUM.iter().position(|&c| c == b).map(|p| p as u32),
    }
}

impl Mode {
    fn of(data: &[u8]) -> Mode {
        if data.iter().all(u8::is_ascii_digit) {
            Mode::Numeric
        } else if data.iter().all(|&b| alnum_value(b).is_some()) {
            Mode::Alphanumeric
        } else {
            Mode::Byte
        }
    }

    fn indicator(self) -> u32 {
        match self {
            Mode::Numeric => 1,
            Mode::Alphanumeric => 2,
            Mode::Byte => 4,
        }
    }

    fn count_bits(self, ver: u8) -> usize {
        let i = match ver {
            1..=9 => 0,
            10..=26 => 1,
            _ => 2,
        };
        match self {
            Mode::Numeric => [10, 12, 14][i],
            Mode::Alphanumeric => [9, 11, 13][i],
            Mode::Byte => [8, 16, 16][i],
        }
    }

    fn data_bits(self, n: usize) -> usize {
        match self {
            Mode::Numeric => n / 3 * 10 + [0, 4, 7][n % 3],
            Mode::Alphanumeric => n / 2 * 11 + (n % 2) * 6,
            Mode::Byte => n * 8,
        }
    }
}

/// The smallest version (1–40) that holds `data` at `ecl`, and the segment mode.
pub(crate) fn choose_version(data: &[u8], ecl: Ecl) -> Result<(u8, Mode)> {
    let mode = Mode::of(data);
    let n = data.len();
    for ver in 1..=40u8 {
        let count_bits = mode.count_bits(ver);
        if n >= 1 << count_bits {
            continue;
        }
        let used = 4 + count_bits + mode.data_bits(n);
        if used <= num_data_codewords(ver, ecl) * 8 {
            return Ok((ver, mode));
        }
    }
    Err(Error::PayloadTooLong { bytes: n, ecl })
}

/// Data codewords (segment, terminator, padding) followed by ECC, interleaved.
pub(crate) fn codewords(data: &[u8], ver: u8, mode: Mode, ecl: Ecl) -> Vec<u8> {
    let capacity = num_data_codewords(ver, ecl);
    let mut bytes = vec![0u8; capacity];
    let mut bb = MsbBits::new(&mut bytes);
    bb.push(mode.indicator().into(), 4);
    bb.push(data.len() as u64, mode.count_bits(ver) as u32);
    match mode {
        Mode::Numeric => {
            for chunk in data.chunks(3) {
                let v = chunk
                    .iter()
                    .fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
                bb.push(v.into(), chunk.len() as u32 * 3 + 1);
            }
        }
        Mode::Alphanumeric => {
            for chunk in data.chunks(2) {
                let v = chunk
                    .iter()
                    .fold(0u32, |a, &c| a * 45 + alnum_value(c).unwrap_or(0));
                bb.push(v.into(), chunk.len() as u32 * 5 + 1);
            }
        }
        Mode::Byte => {
            for &b in data {
                bb.push(u64::from(b), 8);
            }
        }
    }
    let cap_bits = capacity * 8;
    bb.repeat(0, (cap_bits - bb.len()).min(4));
    let used = bb.finish();
    let mut pad = 0xEC;
    for b in &mut bytes[used..] {
        *b = pad;
        pad ^= 0xEC ^ 0x11;
    }
    add_ecc_and_interleave(&bytes, ver, ecl)
}

fn add_ecc_and_interleave(data: &[u8], ver: u8, ecl: Ecl) -> Vec<u8> {
    let v = usize::from(ver);
    let numblocks = usize::from(NUM_ERROR_CORRECTION_BLOCKS[ecl.ordinal()][v]);
    let blockecclen = usize::from(ECC_CODEWORDS_PER_BLOCK[ecl.ordinal()][v]);
    let rawcodewords = num_raw_data_modules(ver) / 8;
    let numshortblocks = numblocks - rawcodewords % numblocks;
    let shortblocklen = rawcodewords / numblocks;
    let divisor = &RS_DIVISORS[blockecclen][..blockecclen];

    let mut result = vec![0u8; rawcodewords];
    let mut k = 0;
    let mut ecc = [0u8; 30];
    for i in 0..numblocks {
        let datlen = shortblocklen - blockecclen + usize::from(i >= numshortblocks);
        let dat = &data[k..k + datlen];
        k += datlen;
        rs_remainder(dat, divisor, &mut ecc[..blockecclen]);
        // Interleave: data byte j of block i goes to j*numblocks + i, except that short
        // blocks have no byte at index shortblocklen-blockecclen.
        for (j, &b) in dat.iter().enumerate() {
            let pos = if j < shortblocklen - blockecclen {
                j * numblocks + i
            } else {
                // only long blocks reach here
                (shortblocklen - blockecclen) * numblocks + (i - numshortblocks)
            };
            result[pos] = b;
        }
        let data_total = data.len();
        for (j, &b) in ecc[..blockecclen].iter().enumerate() {
            result[data_total + j * numblocks + i] = b;
        }
    }
    result
}

static GF: GfTables = GfTables::new();

struct GfTables {
    exp: [u8; 512],
    log: [u8; 256],
}

impl GfTables {
    const fn new() -> Self {
        let mut exp = [0u8; 512];
        let mut log = [0u8; 256];
        let mut x: u32 = 1;
        let mut i = 0;
        while i < 255 {
            exp[i] = x as u8;
            log[x as usize] = i as u8;
            x <<= 1;
            if x & 0x100 != 0 {
                x ^= 0x11D;
            }
            i += 1;
        }
        while i < 512 {
            exp[i] = exp[i - 255];
            i += 1;
        }
        GfTables { exp, log }
    }

    const fn mul(&self, a: u8, b: u8) -> u8 {
        if a == 0 || b == 0 {
            0
        } else {
            self.exp[self.log[a as usize] as usize + self.log[b as usize] as usize]
        }
    }
}

/// Marks a zero coefficient in [`RS_DIVISORS`] (logarithms are 0..=254).
const LOG_ZERO: u8 = 255;

/// Reed–Solomon generator polynomials for every degree 1–30 (index = degree), highest
/// coefficient first with the leading 1 dropped, as logarithms ([`LOG_ZERO`] for 0);
/// computed at compile time.
static RS_DIVISORS: [[u8; 30]; 31] = rs_divisors();

const fn rs_divisors() -> [[u8; 30]; 31] {
    let mut all = [[LOG_ZERO; 30]; 31];
    let mut degree = 1;
    while degree <= 30 {
        let mut result = [0u8; 30];
        result[degree - 1] = 1;
        let mut root: u8 = 1;
        let mut k = 0;
        while k < degree {
            let mut j = 0;
            while j < degree {
                result[j] = GF.mul(result[j], root);
                if j + 1 < degree {
                    result[j] ^= result[j + 1];
                }
                j += 1;
            }
            root = GF.mul(root, 0x02);
            k += 1;
        }
        let mut j = 0;
        while j < degree {
            if result[j] != 0 {
                all[degree][j] = GF.log[result[j] as usize];
            }
            j += 1;
        }
        degree += 1;
    }
    all
}

/// The remainder of `data` · x^n divided by the generator whose logarithms are
/// `divisor` (n = `out.len()` ≤ 30), into `out`.
fn rs_remainder(data: &[u8], divisor: &[u8], out: &mut [u8]) {
    let n = out.len();
    let mut rem = [0u8; 31];
    for &b in data {
        let factor = b ^ rem[0];
        if factor == 0 {
            rem.copy_within(1..=n, 0);
            continue;
        }
        let lf = usize::from(GF.log[usize::from(factor)]);
        for j in 0..n {
            let d = divisor[j];
            let term = if d == LOG_ZERO {
                0
            } else {
                GF.exp[lf + usize::from(d)]
            };
            rem[j] = rem[j + 1] ^ term;
        }
    }
    out.copy_from_slice(&rem[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacities() {
        // ISO 18004 Table 7: V1-L holds 19 data codewords, V40-H 1276.
        assert_eq!(num_data_codewords(1, Ecl::Low), 19);
        assert_eq!(num_data_codewords(40, Ecl::High), 1276);
        assert_eq!(num_data_codewords(40, Ecl::Low), 2956);
        assert_eq!(choose_version(&[b'a'; 2953], Ecl::Low).unwrap().0, 40);
        assert_eq!(
            choose_version(&[b'a'; 2954], Ecl::Low).unwrap_err().code(),
            "qr_payload_too_long"
        );
    }
}
