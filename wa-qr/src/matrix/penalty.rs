//! The mask penalty (ISO/IEC 18004 §7.8.3), scored on bit-packed lines: rules 1–4 as
//! word operations on `u64` (versions 1–7) or `u128` (up to [`FAST_MAX`] modules).

use super::*;

const N1: u32 = 3;
const N2: u32 = 3;
const N3: u32 = 40;
const N4: u32 = 10;

/// Largest symbol scored on the `u128` fast path: the line shifted by a 4-module border
/// plus a 12-module pattern window must fit in 128 bits.
pub(super) const FAST_MAX: usize = 105;

/// The integer a line is scored in: `u64` up to 48 modules (versions 1–7), else `u128`.
trait Line:
    Copy
    + Eq
    + std::ops::BitAnd<Output = Self>
    + std::ops::BitOr<Output = Self>
    + std::ops::BitXor<Output = Self>
    + std::ops::Not<Output = Self>
    + std::ops::Shl<u32, Output = Self>
    + std::ops::Shr<u32, Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    fn from_bits(b: &Bits) -> Self;
    fn ones(self) -> u32;
    fn tz(self) -> u32;
    /// Bits `0..n` set.
    fn low_mask(n: u32) -> Self;
    fn bit(self, i: u32) -> bool {
        (self >> i) & Self::ONE != Self::ZERO
    }
}

macro_rules! impl_line {
    ($t:ty, $from:expr) => {
        impl Line for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            #[inline]
            fn from_bits(b: &Bits) -> Self {
                $from(b)
            }
            #[inline]
            fn ones(self) -> u32 {
                self.count_ones()
            }
            #[inline]
            fn tz(self) -> u32 {
                self.trailing_zeros()
            }
            #[inline]
            fn low_mask(n: u32) -> Self {
                (1 << n) - 1
            }
        }
    };
}

impl_line!(u64, |b: &Bits| b.0[0]);
impl_line!(u128, Bits::lo128);

/// The penalty of the symbol in `b`, or some value ≥ `bound` as soon as the partial sum
/// reaches `bound` (every rule adds a non-negative amount, so such a mask cannot win).
pub(super) fn penalty_fast(b: &Builder, bound: u32) -> u32 {
    if b.size <= 48 {
        penalty_lines::<u64>(b, bound)
    } else {
        penalty_lines::<u128>(b, bound)
    }
}

fn penalty_lines<L: Line>(b: &Builder, bound: u32) -> u32 {
    let size = b.size;
    let inner = L::low_mask(size as u32 - 1); // positions 0..size-2
    let mut total = 0;
    let mut dark = 0;
    for lines in [&b.rows, &b.cols] {
        for line in lines.iter() {
            let l = L::from_bits(line);
            total += rule1(l, inner) + rule3(l, size);
            if total >= bound {
                return total;
            }
        }
    }
    let mut prev = L::from_bits(&b.rows[0]);
    dark += prev.ones();
    for y in 1..size {
        let c = L::from_bits(&b.rows[y]);
        dark += c.ones();
        let v = prev ^ c;
        let h = prev ^ (prev >> 1);
        total += N2 * (!(v | (v >> 1) | h) & inner).ones();
        prev = c;
    }
    total + rule4(dark, size)
}

#[inline]
fn rule1<L: Line>(l: L, inner: L) -> u32 {
    let s = !(l ^ (l >> 1)) & inner;
    let two = s & (s >> 1);
    let five = two & (two >> 2);
    five.ones() + 2 * (five & !(five << 1)).ones()
}

#[inline]
fn rule3<L: Line>(l: L, size: usize) -> u32 {
    // Scaled patterns (n ≥ 2) need a dark run of exactly 3n ≥ 6 modules: find those runs
    // with word operations and check their neighbourhood run by run (rare).
    let mut scaled = 0;
    let two = l & (l >> 1);
    let four = two & (two >> 2);
    let six = four & (four >> 2);
    if six != L::ZERO {
        let mut starts = six & !(six << 1);
        while starts != L::ZERO {
            let p = starts.tz();
            let run = (!(l >> p)).tz();
            if run.is_multiple_of(3) && (p == 0 || !l.bit(p - 1)) {
                scaled += scaled_patterns(l, size as i64, i64::from(p), i64::from(run / 3));
            }
            starts = starts & !(L::ONE << p);
        }
    }
    let y = l << 4; // 4 light border modules on the left; zeros on the right are light too
    let nz = !y;
    // The dark 3 of 1:1:3:1:1 — (y >> 2) & (y >> 3) & (y >> 4), from `two` of the line.
    let three = (two & (l >> 2)) << 2;
    let core = y & (nz >> 1) & three & (nz >> 5) & (y >> 6);
    if core == L::ZERO {
        return N3 * scaled;
    }
    // Four light modules from each position on, then seen from the pattern's ends.
    let light2 = nz & (nz >> 1);
    let light4 = light2 & (light2 >> 2);
    let (r1, r4) = (nz >> 7, light4 >> 7);
    let (l1, l4) = (nz << 1, light4 << 4);
    N3 * (scaled + (core & r4 & l1).ones() + (core & l4 & r1).ones())
}

/// Patterns `n:n:3n:n:n` (n ≥ 2) around the dark run `[p, p + 3n)`, scored like
/// [`finder_count_runs`]: ≥ 4n light on one side and ≥ n on the other, where a light run
/// that reaches the edge of the symbol continues into the quiet zone.
fn scaled_patterns<L: Line>(l: L, size: i64, p: i64, n: i64) -> u32 {
    let dark = |i: i64| i >= 0 && i < size && l.bit(i as u32);
    // Length of the run of `color` starting at `i` going in `dir`; `None` if it reaches
    // the edge (only light runs may, and they count as unbounded then).
    let run = |mut i: i64, dir: i64, color: bool| -> (i64, bool) {
        let mut len = 0;
        while i >= 0 && i < size && dark(i) == color {
            len += 1;
            i += dir;
        }
        (len, i < 0 || i >= size)
    };
    let side = |start: i64, dir: i64| -> Option<i64> {
        let (light, edge) = run(start, dir, false);
        if light != n || edge {
            return None;
        }
        let (d, _) = run(start + dir * n, dir, true);
        if d != n {
            return None;
        }
        let (outer, edge) = run(start + dir * 2 * n, dir, false);
        Some(if edge { outer + size } else { outer })
    };
    let (Some(left), Some(right)) = (side(p - 1, -1), side(p + 3 * n, 1)) else {
        return 0;
    };
    u32::from(right >= 4 * n && left >= n) + u32::from(left >= 4 * n && right >= n)
}

fn rule4(dark: u32, size: usize) -> u32 {
    let total = (size * size) as i64;
    let dark = i64::from(dark);
    let k = ((dark * 20 - total * 10).abs() + total - 1) / total - 1;
    (k as u32) * N4
}

/// Finder-like pattern count of one line, by run lengths (ISO 18004 rule 3 as
/// qrcodegen states it: 1:1:3:1:1 at any scale n, with ≥ 4n light on one side and ≥ n
/// on the other, the quiet zone counting as light).
fn finder_count_runs(size: usize, line: impl Iterator<Item = bool>) -> u32 {
    let size = size as i64;
    let mut hist = [0i64; 7];
    let add = |hist: &mut [i64; 7], mut len: i64| {
        if hist[0] == 0 {
            len += size;
        }
        hist.copy_within(0..6, 1);
        hist[0] = len;
    };
    let count = |h: &[i64; 7]| -> u32 {
        let n = h[1];
        let core = n > 0 && h[2] == n && h[3] == n * 3 && h[4] == n && h[5] == n;
        u32::from(core && h[0] >= n * 4 && h[6] >= n)
            + u32::from(core && h[6] >= n * 4 && h[0] >= n)
    };
    let mut color = false;
    let mut run = 0i64;
    let mut total = 0;
    for m in line {
        if m == color {
            run += 1;
        } else {
            add(&mut hist, run);
            if !color {
                total += count(&hist);
            }
            color = m;
            run = 1;
        }
    }
    if color {
        add(&mut hist, run);
        run = 0;
    }
    add(&mut hist, run + size);
    total + count(&hist)
}

/// Module-by-module penalty (rules 1–4), for large symbols and as the test oracle.
pub(crate) fn penalty_generic(size: usize, dark: impl Fn(usize, usize) -> bool) -> u32 {
    let mut total = 0;
    for transposed in [false, true] {
        for a in 0..size {
            let at = |b: usize| if transposed { dark(a, b) } else { dark(b, a) };
            let mut color = at(0);
            let mut run = 0;
            for b in 0..size {
                if at(b) == color {
                    run += 1;
                    if run == 5 {
                        total += N1;
                    } else if run > 5 {
                        total += 1;
                    }
                } else {
                    color = at(b);
                    run = 1;
                }
            }
            total += N3 * finder_count_runs(size, (0..size).map(at));
        }
    }
    let mut darks = 0;
    for y in 0..size {
        for x in 0..size {
            darks += u32::from(dark(x, y));
            if x + 1 < size && y + 1 < size {
                let c = dark(x, y);
                if c == dark(x + 1, y) && c == dark(x, y + 1) && c == dark(x + 1, y + 1) {
                    total += N2;
                }
            }
        }
    }
    total + rule4(darks, size)
}
