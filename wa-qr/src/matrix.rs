//! Module placement, masking and the ISO 18004 mask penalty, on bit-packed lines.
//!
//! Every row and every column of the symbol is a `u128` (bit `x` of row `y` is module
//! `(x, y)`), so the four penalty rules become word operations:
//! - rule 1 (runs of ≥ 5): positions where 5 neighbours agree, counted with popcount;
//! - rule 2 (2×2 blocks): XOR of neighbouring rows and bits;
//! - rule 3 (finder-like 1:1:3:1:1 with 4 light modules on one side): a bit-pattern
//!   match on the line shifted by a 4-module light border; lines that contain a dark run
//!   of 6, 9, 12… (a scaled pattern is possible) are scored by the exact run-length
//!   method instead;
//! - rule 4 (dark balance): popcount.
//!
//! Symbols wider than 105 modules (version 23 and above) use the straightforward
//! module-by-module scorer, which is also the oracle the fast path is tested against.

use std::sync::OnceLock;

use crate::encode::{Ecl, Mode, codewords};

/// A finished QR symbol: a square of dark/light modules (no quiet zone).
#[derive(Clone, PartialEq, Eq)]
pub struct QrMatrix {
    size: usize,
    version: u8,
    mask: u8,
    ecl: Ecl,
    rows: Vec<Bits>,
}

impl std::fmt::Debug for QrMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrMatrix")
            .field("version", &self.version)
            .field("size", &self.size)
            .field("ecl", &self.ecl)
            .field("mask", &self.mask)
            .finish()
    }
}

impl QrMatrix {
    /// Side length in modules (`17 + 4 × version`).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Version 1–40.
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The mask pattern chosen, 0–7.
    pub fn mask(&self) -> u8 {
        self.mask
    }

    /// The error-correction level used.
    pub fn ecl(&self) -> Ecl {
        self.ecl
    }

    /// Whether module `(x, y)` is dark. Out-of-range coordinates are light.
    #[inline]
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        y < self.size && x < self.size && self.rows[y].get(x)
    }

    /// Dark runs `[start, end)` of module row `y`, from the bit-packed row.
    pub(crate) fn runs(&self, y: usize, mut f: impl FnMut(usize, usize)) {
        let words = self.row_words(y);
        let size = self.size;
        let mut x = 0usize;
        while x < size {
            let w = words[x >> 6] >> (x & 63);
            if w & 1 == 0 {
                let skip = if w == 0 {
                    64 - (x & 63)
                } else {
                    w.trailing_zeros() as usize
                };
                x += skip;
                continue;
            }
            let len = (!w).trailing_zeros() as usize; // ones from x within this word
            let mut end = x + len;
            if len == 64 - (x & 63) {
                // the run may continue into the next word
                while end < size && self.is_dark(end, y) {
                    end += 1;
                }
            }
            let end = end.min(size);
            f(x, end);
            x = end;
        }
    }

    /// Like [`QrMatrix::runs`], split at the edges of the three finder patterns, with a
    /// flag saying whether the piece may be drawn rounded: finder patterns stay square
    /// (their rings must stay connected for detectors) when `rounded` is asked for.
    pub(crate) fn styled_runs(
        &self,
        y: usize,
        rounded: bool,
        mut f: impl FnMut(usize, usize, bool),
    ) {
        let size = self.size;
        let in_top = y < 7;
        let in_bottom = y >= size - 7;
        self.runs(y, |a, b| {
            if !rounded || !(in_top || in_bottom) {
                return f(a, b, rounded);
            }
            // Finder columns on this row: [0, 7) always, [size-7, size) on top rows.
            let right_finder = if in_top { size - 7 } else { size };
            let mut x = a;
            while x < b {
                let (end, square) = if x < 7 {
                    (b.min(7), true)
                } else if x >= right_finder {
                    (b, true)
                } else {
                    (b.min(right_finder), false)
                };
                f(x, end, !square);
                x = end;
            }
        });
    }

    /// Row `y` as 64-bit words, bit `x % 64` of word `x / 64` = module `(x, y)`.
    pub(crate) fn row_words(&self, y: usize) -> &[u64; 3] {
        &self.rows[y].0
    }
}

/// A line of up to 177 modules.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Bits([u64; 3]);

impl Bits {
    #[inline]
    fn get(&self, i: usize) -> bool {
        (self.0[i >> 6] >> (i & 63)) & 1 != 0
    }
    #[inline]
    fn set(&mut self, i: usize, v: bool) {
        let m = 1u64 << (i & 63);
        if v {
            self.0[i >> 6] |= m;
        } else {
            self.0[i >> 6] &= !m;
        }
    }
    #[inline]
    fn lo128(&self) -> u128 {
        u128::from(self.0[0]) | (u128::from(self.0[1]) << 64)
    }
}

/// The symbol while it is being built: modules kept both row-major and column-major.
struct Builder {
    size: usize,
    rows: Vec<Bits>,
    cols: Vec<Bits>,
    /// The function-module map; only filled while a version's [`Template`] is built
    /// (empty when encoding from a template).
    func_rows: Vec<Bits>,
}

impl Builder {
    fn new(version: u8) -> Self {
        let size = 17 + 4 * usize::from(version);
        Builder {
            size,
            rows: vec![Bits::default(); size],
            cols: vec![Bits::default(); size],
            func_rows: vec![Bits::default(); size],
        }
    }

    #[inline]
    fn set(&mut self, x: usize, y: usize, dark: bool) {
        self.rows[y].set(x, dark);
        self.cols[x].set(y, dark);
    }

    fn set_function(&mut self, x: usize, y: usize, dark: bool) {
        self.set(x, y, dark);
        self.func_rows[y].set(x, true);
    }

    /// Finder, timing and alignment patterns, the format modules holding
    /// [`template_format`] and the version bits.
    fn draw_function_patterns(&mut self, version: u8) {
        let size = self.size;
        for i in 0..size {
            self.set_function(6, i, i % 2 == 0);
            self.set_function(i, 6, i % 2 == 0);
        }
        for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            for dy in -4i32..=4 {
                for dx in -4i32..=4 {
                    let (x, y) = (cx as i32 + dx, cy as i32 + dy);
                    if (0..size as i32).contains(&x) && (0..size as i32).contains(&y) {
                        let dist = dx.abs().max(dy.abs());
                        self.set_function(x as usize, y as usize, dist != 2 && dist != 4);
                    }
                }
            }
        }
        let pos = alignment_positions(version, size);
        let n = pos.len();
        for i in 0..n {
            for j in 0..n {
                // the three corners hold finder patterns
                let corner = (i == 0 && (j == 0 || j == n - 1)) || (i == n - 1 && j == 0);
                if corner {
                    continue;
                }
                for dy in -2i32..=2 {
                    for dx in -2i32..=2 {
                        let dark = dx.abs().max(dy.abs()) != 1;
                        self.set_function(
                            (pos[i] as i32 + dx) as usize,
                            (pos[j] as i32 + dy) as usize,
                            dark,
                        );
                    }
                }
            }
        }
        for (x, y, dark) in format_modules(size, template_format()) {
            self.set_function(x, y, dark);
        }
        if version >= 7 {
            let mut rem = u32::from(version);
            for _ in 0..12 {
                rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
            }
            let bits = (u32::from(version) << 12) | rem;
            for i in 0..18 {
                let bit = (bits >> i) & 1 != 0;
                let a = size - 11 + i % 3;
                let b = i / 3;
                self.set_function(a, b, bit);
                self.set_function(b, a, bit);
            }
        }
    }
}

/// The 31 format-information modules: both copies of the 15 bits and the dark module.
fn format_modules(size: usize, bits: u32) -> impl Iterator<Item = (usize, usize, bool)> {
    let bits = bits | 1 << 15;
    format_positions(size).map(move |(x, y, i)| (x, y, (bits >> i) & 1 != 0))
}

/// `(x, y, bit)` of the 31 format modules; bit 15 stands for the always-dark module.
fn format_positions(size: usize) -> impl Iterator<Item = (usize, usize, u32)> {
    (0..6)
        .map(|i| (8, i, i as u32))
        .chain([(8, 7, 6), (8, 8, 7), (7, 8, 8)])
        .chain((9..15).map(|i| (14 - i, 8, i as u32)))
        .chain((0..8).map(move |i| (size - 1 - i, 8, i as u32)))
        .chain((8..15).map(move |i| (8, size - 15 + i, i as u32)))
        .chain([(8, size - 8, 15)])
}

fn format_bits(ecl: Ecl, mask: u8) -> u32 {
    let data = (ecl.format_bits() << 3) | u32::from(mask);
    let mut rem = data;
    for _ in 0..10 {
        rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    }
    ((data << 10) | rem) ^ 0x5412
}

fn alignment_positions(version: u8, size: usize) -> Vec<usize> {
    if version == 1 {
        return Vec::new();
    }
    let v = usize::from(version);
    let numalign = v / 7 + 2;
    let step = if version == 32 {
        26
    } else {
        (v * 4 + numalign * 2 + 1) / (numalign * 2 - 2) * 2
    };
    let mut result: Vec<usize> = (0..numalign - 1).map(|i| size - 7 - i * step).collect();
    result.push(6);
    result.reverse();
    result
}

/// Mask inversion patterns: `MASK_LINES[mask][k]` holds, over the varying coordinate
/// (0..192), the inversion bits of a row whose `y % 12 == k` (rows) — and, transposed, of
/// a column whose `x % 12 == k` (columns, in the second half of the table). Every mask
/// is periodic with period 12 in each coordinate.
static MASK_LINES: [[[Bits; 12]; 8]; 2] = mask_tables();

const fn mask_bit_const(mask: u8, x: usize, y: usize) -> bool {
    match mask {
        0 => (x + y).is_multiple_of(2),
        1 => y.is_multiple_of(2),
        2 => x.is_multiple_of(3),
        3 => (x + y).is_multiple_of(3),
        4 => (x / 3 + y / 2).is_multiple_of(2),
        5 => x * y % 2 + x * y % 3 == 0,
        6 => (x * y % 2 + x * y % 3).is_multiple_of(2),
        _ => ((x + y) % 2 + x * y % 3).is_multiple_of(2),
    }
}

const fn mask_tables() -> [[[Bits; 12]; 8]; 2] {
    let mut t = [[[Bits([0; 3]); 12]; 8]; 2];
    let mut o = 0;
    while o < 2 {
        let mut m = 0;
        while m < 8 {
            let mut k = 0;
            while k < 12 {
                let mut i = 0;
                while i < 192 {
                    let on = if o == 0 {
                        mask_bit_const(m as u8, i, k)
                    } else {
                        mask_bit_const(m as u8, k, i)
                    };
                    if on {
                        t[o][m][k].0[i >> 6] |= 1u64 << (i & 63);
                    }
                    i += 1;
                }
                k += 1;
            }
            m += 1;
        }
        o += 1;
    }
    t
}

/// Builds the symbol for `data` at `version`/`ecl`, choosing the mask with the lowest
/// penalty (or using `forced_mask`).
/// Everything about a symbol that depends only on its version: function patterns
/// (format bits are redrawn per mask), which modules carry data, and the order data bits
/// are placed in. Built once per version and shared.
struct Template {
    rows: Vec<Bits>,
    cols: Vec<Bits>,
    data_rows: Vec<Bits>,
    data_cols: Vec<Bits>,
    /// `(x, y)` of data bit `i`, in placement order.
    order: Vec<(u8, u8)>,
    /// `(x, y)` of both copies of format bit `i` (0–14), which the template holds drawn
    /// for ECL M and mask 0 ([`template_format`]).
    format: [[(u8, u8); 2]; 15],
}

/// The format bits the templates are drawn with.
fn template_format() -> u32 {
    format_bits(Ecl::Medium, 0)
}

static TEMPLATES: [OnceLock<Template>; 41] = [const { OnceLock::new() }; 41];

fn template(version: u8) -> &'static Template {
    TEMPLATES[usize::from(version)].get_or_init(|| {
        let mut b = Builder::new(version);
        b.draw_function_patterns(version);
        let size = b.size;
        let mut data_rows = vec![Bits::default(); size];
        let mut data_cols = vec![Bits::default(); size];
        for (y, (func, data)) in b.func_rows.iter().zip(data_rows.iter_mut()).enumerate() {
            for (x, col) in data_cols.iter_mut().enumerate() {
                if !func.get(x) {
                    data.set(x, true);
                    col.set(y, true);
                }
            }
        }
        let mut order = Vec::with_capacity(size * size);
        let mut right = size as i32 - 1;
        while right >= 1 {
            if right == 6 {
                right = 5;
            }
            let upward = ((right + 1) & 2) == 0;
            for vert in 0..size {
                let y = if upward { size - 1 - vert } else { vert };
                for j in 0..2 {
                    let x = (right - j) as usize;
                    if !b.func_rows[y].get(x) {
                        order.push((x as u8, y as u8));
                    }
                }
            }
            right -= 2;
        }
        Template {
            rows: b.rows,
            cols: b.cols,
            data_rows,
            data_cols,
            order,
            format: {
                let mut at = [[(0u8, 0u8); 2]; 15];
                let mut seen = [0usize; 15];
                for (x, y, i) in format_positions(size).filter(|&(_, _, i)| i < 15) {
                    let i = i as usize;
                    at[i][seen[i]] = (x as u8, y as u8);
                    seen[i] += 1;
                }
                at
            },
        }
    })
}

/// Builds the symbol for `data` at `version`/`ecl`, choosing the mask with the lowest
/// penalty (or using `forced_mask`).
pub(crate) fn build(
    data: &[u8],
    version: u8,
    mode: Mode,
    ecl: Ecl,
    forced_mask: Option<u8>,
) -> QrMatrix {
    let cw = codewords(data, version, mode, ecl);
    let t = template(version);
    let size = 17 + 4 * usize::from(version);
    let mut b = Builder {
        size,
        rows: t.rows.clone(),
        cols: t.cols.clone(),
        func_rows: Vec::new(),
    };
    // Remainder bits beyond the codewords stay light; only dark bits are visited.
    for (&byte, slots) in cw.iter().zip(t.order.chunks_exact(8)) {
        let mut bits = byte;
        while bits != 0 {
            let k = bits.leading_zeros() as usize;
            bits &= !(0x80 >> k);
            let (x, y) = slots[k];
            b.set(usize::from(x), usize::from(y), true);
        }
    }
    let chosen = forced_mask.unwrap_or_else(|| best_mask(&b, t, ecl));
    let mut out = Builder {
        size,
        rows: vec![Bits::default(); size],
        cols: Vec::new(),
        func_rows: Vec::new(),
    };
    masked_into(&mut out, &b, t, ecl, chosen, false);
    QrMatrix {
        size,
        version,
        mask: chosen,
        ecl,
        rows: out.rows,
    }
}

/// `b` with mask `mask` applied to its data modules and the format bits of `ecl`/`mask`
/// drawn, written into `out` (rows, and columns when `cols`). `b` is unmasked, with the
/// template's format bits.
fn masked_into(out: &mut Builder, b: &Builder, t: &Template, ecl: Ecl, mask: u8, cols: bool) {
    let m = usize::from(mask);
    // Words a line occupies (the rest stay zero).
    let words = b.size.div_ceil(64);
    let lines = [
        (&mut out.rows, &b.rows, &MASK_LINES[0][m], &t.data_rows),
        (&mut out.cols, &b.cols, &MASK_LINES[1][m], &t.data_cols),
    ];
    for (to, from, masks, data) in lines.into_iter().take(1 + usize::from(cols)) {
        let mut k = 0;
        for ((to, from), data) in to.iter_mut().zip(from.iter()).zip(data.iter()) {
            let mask = &masks[k];
            k = if k == 11 { 0 } else { k + 1 };
            for w in 0..words {
                to.0[w] = from.0[w] ^ (mask.0[w] & data.0[w]);
            }
        }
    }
    // Format modules differ from the template's where these bits differ.
    let mut delta = format_bits(ecl, mask) ^ template_format();
    while delta != 0 {
        let i = delta.trailing_zeros() as usize;
        delta &= delta - 1;
        for (x, y) in t.format[i] {
            let (x, y) = (usize::from(x), usize::from(y));
            out.rows[y].0[x >> 6] ^= 1 << (x & 63);
            if cols {
                out.cols[x].0[y >> 6] ^= 1 << (y & 63);
            }
        }
    }
}

/// The mask with the lowest penalty (the first on ties), as ISO/IEC 18004 §7.8.3 chooses.
fn best_mask(b: &Builder, t: &Template, ecl: Ecl) -> u8 {
    let fast = b.size <= FAST_MAX;
    let mut best = (u32::MAX, 0u8);
    let mut scratch = Builder {
        size: b.size,
        rows: vec![Bits::default(); b.size],
        cols: vec![Bits::default(); b.size],
        func_rows: Vec::new(),
    };
    for mask in 0..8u8 {
        masked_into(&mut scratch, b, t, ecl, mask, true);
        let s = &scratch;
        let p = if fast {
            penalty_fast(s, best.0)
        } else {
            penalty_generic(s.size, |x, y| s.rows[y].get(x))
        };
        if p < best.0 {
            best = (p, mask);
        }
    }
    best.1
}

mod penalty;
use penalty::penalty_generic;
use penalty::{FAST_MAX, penalty_fast};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::choose_version;

    /// The bit-packed scorer equals the module-by-module one on every mask of many symbols.
    #[test]
    fn fast_penalty_matches_generic() {
        let mut seed = 1u64;
        for round in 0..300 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            let len = (seed >> 40) as usize % 400 + 1;
            let data: Vec<u8> = (0..len)
                .map(|i| ((seed >> (i % 50)) as u8).wrapping_add(i as u8))
                .collect();
            let ecl = [Ecl::Low, Ecl::Medium, Ecl::Quartile, Ecl::High][round % 4];
            let Ok((ver, mode)) = choose_version(&data, ecl) else {
                continue;
            };
            if 17 + 4 * usize::from(ver) > FAST_MAX {
                continue;
            }
            for mask in 0..8 {
                let m = build(&data, ver, mode, ecl, Some(mask));
                let mut b = Builder::new(ver);
                for y in 0..m.size {
                    for x in 0..m.size {
                        b.set(x, y, m.is_dark(x, y));
                    }
                }
                assert_eq!(
                    penalty_fast(&b, u32::MAX),
                    penalty_generic(m.size, |x, y| m.is_dark(x, y)),
                    "v{ver} mask {mask}"
                );
            }
        }
    }
}
