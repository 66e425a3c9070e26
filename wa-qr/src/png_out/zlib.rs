//! A zlib stream written for QR images: 1-bit rows that repeat.
//!
//! The image arrives as *distinct consecutive rows* with a repeat count each (a module row
//! is `scale` identical pixel rows, the quiet zone many). Every row is stored with PNG's
//! `None` filter, so a repeat is one DEFLATE back-reference at the distance of one row, and
//! a row equal to an earlier one is one back-reference to it; long runs of one byte inside
//! a row are back-references at distance 1. Everything else is literals, coded with a
//! dynamic Huffman table built for this image (QR rows use few distinct byte values).
//!
//! Adler-32 is computed per distinct row and combined for its repeats, so the cost is
//! proportional to the distinct rows, not to the pixels.

use super::huffman::Code;

/// Earlier rows with the current row's hash bucket compared against it, latest first.
const LOOKBACK: usize = 16;
/// The row-hash table has 2^`BUCKET_BITS` buckets.
const BUCKET_BITS: u32 = 8;
const BUCKETS: usize = 1 << BUCKET_BITS;
/// Shortest run of one byte coded as a back-reference at distance 1.
const MIN_RUN: usize = 5;
const WINDOW: usize = 32 * 1024;
const MOD_ADLER: u64 = 65_521;

#[derive(Clone, Copy)]
enum Token {
    Lit(u8),
    /// `len` literal bytes of the rows' data from offset `from`.
    Lits {
        from: u32,
        len: u32,
    },
    /// A back-reference; `len` is 3..=258.
    Copy {
        len: u16,
        dist: u16,
    },
}

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// Order in which the code-length code's lengths are sent (RFC 1951 §3.2.7).
const CL_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// The code of `v` in a DEFLATE base table: the last entry of `base` not above `v`.
const fn code_of(base: &[u16], v: usize) -> u8 {
    let mut code = 0;
    while code + 1 < base.len() && base[code + 1] as usize <= v {
        code += 1;
    }
    code as u8
}

/// The length code (0–28) of each length 3..=258, at `len - 3`.
static LEN_CODES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = code_of(&LEN_BASE, i + 3);
        i += 1;
    }
    t
};

/// The distance code (0–29) of distances 1..=256 at `dist - 1`, and of larger ones at
/// `256 + (dist - 1) / 128` (codes above 15 span whole multiples of 128, as in zlib).
static DIST_CODES: [u8; 512] = {
    let mut t = [0u8; 512];
    let mut i = 0;
    while i < 256 {
        t[i] = code_of(&DIST_BASE, i + 1);
        t[256 + i] = code_of(&DIST_BASE, i * 128 + 1);
        i += 1;
    }
    t
};

fn len_code(len: u16) -> usize {
    usize::from(LEN_CODES[usize::from(len) - 3])
}

fn dist_code(dist: u16) -> usize {
    let d = usize::from(dist) - 1;
    usize::from(if d < 256 {
        DIST_CODES[d]
    } else {
        DIST_CODES[256 + (d >> 7)]
    })
}

/// Image rows as distinct consecutive rows of `row_bytes` each, with a repeat count.
pub(crate) struct Rows {
    row_bytes: usize,
    data: Vec<u8>,
    counts: Vec<u32>,
}

impl Rows {
    pub(crate) fn new(row_bytes: usize, capacity: usize) -> Rows {
        Rows {
            row_bytes,
            data: Vec::with_capacity(row_bytes * capacity),
            counts: Vec::with_capacity(capacity),
        }
    }

    /// Appends `count` copies of `row` (merged with the previous row when equal).
    pub(crate) fn push(&mut self, row: &[u8], count: u32) {
        debug_assert_eq!(row.len(), self.row_bytes);
        if count == 0 {
            return;
        }
        if let Some(last) = self.counts.last_mut()
            && self.data[self.data.len() - self.row_bytes..] == *row
        {
            *last += count;
            return;
        }
        self.data.extend_from_slice(row);
        self.counts.push(count);
    }

    /// Every pixel row, in order (for writers that need the whole image).
    pub(crate) fn expand(&self) -> Vec<u8> {
        let total: u32 = self.counts.iter().sum();
        let mut out = Vec::with_capacity(total as usize * self.row_bytes);
        for (row, &n) in self.data.chunks_exact(self.row_bytes).zip(&self.counts) {
            for _ in 0..n {
                out.extend_from_slice(row);
            }
        }
        out
    }
}

/// Adler-32 state.
struct Adler {
    a: u64,
    b: u64,
}

impl Adler {
    /// Appends `count` copies of a filter byte 0 followed by `row`.
    fn push_repeated(&mut self, row: &[u8], count: u32) {
        // One copy of the n-byte sequence adds s = Σ bᵢ to A and n·A + Σ (n − i)·bᵢ to B.
        let n = row.len() as u64 + 1;
        // w = Σ (n − 1 − i)·bᵢ, as the sum of the running sums of the row.
        let (mut s, mut w) = (0u64, 0u64);
        for &b in row {
            s += u64::from(b);
            w += s;
        }
        let (s, w, k) = (s % MOD_ADLER, w % MOD_ADLER, u64::from(count));
        // k copies: A += k·s and B += k·n·A + n·s·k(k−1)/2 + k·w (one reduction per row;
        // every term stays far below 2⁶⁴ for n ≤ 513 and k ≤ 4096).
        let pairs = k * k.saturating_sub(1) / 2 % MOD_ADLER;
        self.b =
            (self.b + k * n % MOD_ADLER * self.a + n * s % MOD_ADLER * pairs + k * w) % MOD_ADLER;
        self.a = (self.a + k * s) % MOD_ADLER;
    }

    fn value(&self) -> u32 {
        ((self.b << 16) | self.a) as u32
    }
}

/// The zlib stream (header, one dynamic-Huffman DEFLATE block, Adler-32) of the rows, each
/// preceded by filter byte 0.
pub(crate) fn compress(rows: &Rows) -> Vec<u8> {
    let stride = rows.row_bytes + 1;
    let mut tokens = Vec::with_capacity(rows.data.len() / 2);
    let mut adler = Adler { a: 1, b: 0 };
    // Per distinct row: its stream offset, hash and the previous row in its hash bucket;
    // per bucket, its latest row (index + 1, 0 for none).
    let mut starts: Vec<(usize, u64, u32)> = Vec::with_capacity(rows.counts.len());
    let mut buckets = [0u32; BUCKETS];
    let mut pos = 0usize;
    let rb = rows.row_bytes;
    for (idx, (row, &count)) in rows.data.chunks_exact(rb).zip(&rows.counts).enumerate() {
        adler.push_repeated(row, count);
        let hash = row_hash(row);
        let bucket = (hash >> (64 - BUCKET_BITS)) as usize;
        let mut earlier = None;
        let mut link = buckets[bucket];
        for _ in 0..LOOKBACK {
            let Some(i) = (link as usize).checked_sub(1) else {
                break;
            };
            let (start, h, prev) = starts[i];
            if pos - start > WINDOW {
                break;
            }
            if h == hash && rows.data[i * rb..][..rb] == *row {
                earlier = Some(start);
                break;
            }
            link = prev;
        }
        match earlier {
            Some(start) => push_copy(&mut tokens, stride, pos - start),
            None => push_literal_row(&mut tokens, row, idx * rb),
        }
        starts.push((pos, hash, buckets[bucket]));
        buckets[bucket] = idx as u32 + 1;
        pos += stride;
        let repeats = (count as usize - 1) * stride;
        push_copy(&mut tokens, repeats, stride);
        pos += repeats;
    }
    let mut out = Vec::with_capacity(rows.data.len() / 2 + 128);
    out.extend_from_slice(&[0x78, 0x01]);
    // Header < 600 bytes (316 lengths of ≤ 14 bits and the rest); a literal ≤ 15 bits, a
    // copy ≤ 48.
    let bound = 600
        + tokens
            .iter()
            .map(|t| match t {
                Token::Lit(_) => 2,
                Token::Lits { len, .. } => 2 * *len as usize,
                Token::Copy { .. } => 6,
            })
            .sum::<usize>();
    let mut out = write_block(BitWriter::new(out, bound), &tokens, &rows.data).finish();
    out.extend_from_slice(&adler.value().to_be_bytes());
    out
}

/// A quick hash of a row (equal rows, equal hashes), to skip most row comparisons.
fn row_hash(row: &[u8]) -> u64 {
    let mut h = row.len() as u64;
    let mut words = row.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
        h = (h.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    for &b in words.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    h
}

/// Filter byte 0, then the row's bytes (at `from` in the rows' data) as literal spans, with
/// runs of one byte as distance-1 copies.
fn push_literal_row(tokens: &mut Vec<Token>, row: &[u8], from: usize) {
    tokens.push(Token::Lit(0));
    let mut span = 0;
    let mut prev = 0u8;
    let mut i = 0;
    let flush = |tokens: &mut Vec<Token>, a: usize, b: usize| {
        if b > a {
            tokens.push(Token::Lits {
                from: (from + a) as u32,
                len: (b - a) as u32,
            });
        }
    };
    while i < row.len() {
        if row[i] != prev {
            prev = row[i];
            i += 1;
            continue;
        }
        let run = row[i..].iter().take_while(|&&b| b == prev).count();
        if run >= MIN_RUN {
            flush(tokens, span, i);
            push_copy(tokens, run, 1);
            span = i + run;
        }
        i += run;
    }
    flush(tokens, span, row.len());
}

/// A copy of `len` bytes from `dist` back, split into pieces of 3..=258 (`len` ≥ 3 or 0).
fn push_copy(tokens: &mut Vec<Token>, mut len: usize, dist: usize) {
    debug_assert!(len == 0 || len >= 3);
    while len > 0 {
        let piece = match len {
            0..=258 => len,
            259..=260 => len - 3,
            _ => 258,
        };
        tokens.push(Token::Copy {
            len: piece as u16,
            dist: dist as u16,
        });
        len -= piece;
    }
}

/// One final dynamic-Huffman block. The writer is taken by value so its bit buffer stays in
/// registers in the token loop.
fn write_block(mut w: BitWriter, tokens: &[Token], data: &[u8]) -> BitWriter {
    let mut lit = [0u32; 286];
    let mut dist = [0u32; 30];
    // Literal bytes repeat (QR rows hold few distinct values): four histograms, so that
    // consecutive equal bytes do not wait on each other's increment.
    let mut bytes = [[0u32; 256]; 4];
    for t in tokens {
        match *t {
            Token::Lit(b) => lit[b as usize] += 1,
            Token::Lits { from, len } => {
                let span = &data[from as usize..][..len as usize];
                let mut quads = span.chunks_exact(4);
                for q in &mut quads {
                    bytes[0][q[0] as usize] += 1;
                    bytes[1][q[1] as usize] += 1;
                    bytes[2][q[2] as usize] += 1;
                    bytes[3][q[3] as usize] += 1;
                }
                for &b in quads.remainder() {
                    bytes[0][b as usize] += 1;
                }
            }
            Token::Copy { len, dist: d } => {
                lit[257 + len_code(len)] += 1;
                dist[dist_code(d)] += 1;
            }
        }
    }
    for (i, f) in lit.iter_mut().take(256).enumerate() {
        *f += bytes[0][i] + bytes[1][i] + bytes[2][i] + bytes[3][i];
    }
    lit[256] = 1;
    // At least two distance codes, so the code is complete (as zlib does).
    for f in dist.iter_mut().take(2) {
        *f = (*f).max(1);
    }
    let lit = Code::<286, 572>::new(&lit, 15);
    let dist = Code::<30, 60>::new(&dist, 15);
    w = write_header(w, &lit.lens, &dist.lens);
    for t in tokens {
        match *t {
            Token::Lit(b) => lit.put(&mut w, b as usize),
            Token::Lits { from, len } => {
                for &b in &data[from as usize..][..len as usize] {
                    lit.put(&mut w, b as usize);
                }
            }
            Token::Copy { len, dist: d } => {
                let lc = len_code(len);
                lit.put(&mut w, 257 + lc);
                w.put(u64::from(len - LEN_BASE[lc]), LEN_EXTRA[lc]);
                let dc = dist_code(d);
                dist.put(&mut w, dc);
                w.put(u64::from(d - DIST_BASE[dc]), DIST_EXTRA[dc]);
            }
        }
    }
    lit.put(&mut w, 256);
    w
}

/// The dynamic block header: counts, the code-length code and both codes' lengths.
fn write_header(mut w: BitWriter, lit_lens: &[u8], dist_lens: &[u8]) -> BitWriter {
    let hlit = 257.max(lit_lens.iter().rposition(|&l| l != 0).map_or(0, |i| i + 1));
    let hdist = 1.max(dist_lens.iter().rposition(|&l| l != 0).map_or(0, |i| i + 1));
    let mut all = Vec::with_capacity(hlit + hdist);
    all.extend_from_slice(&lit_lens[..hlit]);
    all.extend_from_slice(&dist_lens[..hdist]);
    let runs = run_length(&all);
    let mut cl_freq = [0u32; 19];
    for &(sym, _) in &runs {
        cl_freq[sym as usize] += 1;
    }
    let cl = Code::<19, 38>::new(&cl_freq, 7);
    let hclen = 4.max(
        CL_ORDER
            .iter()
            .rposition(|&s| cl.lens[s] != 0)
            .map_or(0, |i| i + 1),
    );
    w.put(1, 1); // BFINAL
    w.put(2, 2); // dynamic Huffman
    w.put((hlit - 257) as u64, 5);
    w.put((hdist - 1) as u64, 5);
    w.put((hclen - 4) as u64, 4);
    for &s in &CL_ORDER[..hclen] {
        w.put(u64::from(cl.lens[s]), 3);
    }
    for (sym, extra) in runs {
        cl.put(&mut w, sym as usize);
        match sym {
            16 => w.put(u64::from(extra), 2),
            17 => w.put(u64::from(extra), 3),
            18 => w.put(u64::from(extra), 7),
            _ => {}
        }
    }
    w
}

/// Code lengths as code-length symbols 0..=18 with their extra-bit values.
fn run_length(lens: &[u8]) -> Vec<(u8, u8)> {
    let mut out = Vec::with_capacity(lens.len());
    let mut i = 0;
    while i < lens.len() {
        let l = lens[i];
        let run = lens[i..].iter().take_while(|&&x| x == l).count();
        let mut left = run;
        if l == 0 {
            while left >= 11 {
                let n = left.min(138);
                out.push((18, (n - 11) as u8));
                left -= n;
            }
            if left >= 3 {
                out.push((17, (left - 3) as u8));
                left = 0;
            }
        } else {
            out.push((l, 0));
            left -= 1;
            while left >= 3 {
                let n = left.min(6);
                out.push((16, (n - 3) as u8));
                left -= n;
            }
        }
        out.extend(std::iter::repeat_n((l, 0), left));
        i += run;
    }
    out
}

/// LSB-first bit writer into a buffer sized in advance (no reallocation, so the bit buffer
/// stays in registers).
pub(super) struct BitWriter {
    buf: Vec<u8>,
    pos: usize,
    acc: u64,
    n: u8,
}

impl BitWriter {
    /// A writer after `prefix` with room for `bound` more bytes.
    fn new(mut prefix: Vec<u8>, bound: usize) -> BitWriter {
        let pos = prefix.len();
        prefix.resize(pos + bound + 8, 0);
        BitWriter {
            buf: prefix,
            pos,
            acc: 0,
            n: 0,
        }
    }

    #[inline(always)]
    pub(super) fn put(&mut self, bits: u64, n: u8) {
        self.acc |= bits << self.n;
        self.n += n;
        if self.n >= 32 {
            self.buf[self.pos..self.pos + 4].copy_from_slice(&(self.acc as u32).to_le_bytes());
            self.pos += 4;
            self.acc >>= 32;
            self.n -= 32;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        while self.n > 0 {
            self.buf[self.pos] = self.acc as u8;
            self.pos += 1;
            self.acc >>= 8;
            self.n = self.n.saturating_sub(8);
        }
        self.buf.truncate(self.pos);
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_tables_match_the_base_tables() {
        for len in 3..=258u16 {
            let want = LEN_BASE.partition_point(|&b| b <= len) - 1;
            assert_eq!(len_code(len), want, "length {len}");
        }
        for dist in 1..=32_768u32 {
            let d = dist as u16;
            let want = DIST_BASE.partition_point(|&b| u32::from(b) <= dist) - 1;
            assert_eq!(dist_code(d), want, "distance {dist}");
        }
    }

    #[test]
    fn adler_matches_the_plain_sum() {
        let row = [0u8, 0xFF, 0x0F, 0xF0, 7];
        let mut a = Adler { a: 1, b: 0 };
        a.push_repeated(&row, 3);
        let mut plain = Vec::new();
        for _ in 0..3 {
            plain.push(0);
            plain.extend_from_slice(&row);
        }
        let (mut x, mut y) = (1u64, 0u64);
        for &b in &plain {
            x = (x + u64::from(b)) % MOD_ADLER;
            y = (y + x) % MOD_ADLER;
        }
        assert_eq!(a.value(), ((y << 16) | x) as u32);
    }
}
