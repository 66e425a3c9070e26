//! Huffman codes for [`super::zlib`]: length-limited code lengths (two-queue Huffman, then
//! miniz's Kraft repair) and canonical, bit-reversed codes for DEFLATE.

use super::zlib::BitWriter;

/// A Huffman code: per symbol, its bit-reversed code in the high bits and its length in
/// the low byte (one load per symbol written). `N` symbols; `M` = 2`N` is the Huffman tree's scratch size.
pub(super) struct Code<const N: usize, const M: usize> {
    table: [u32; N],
    pub(super) lens: [u8; N],
}

impl<const N: usize, const M: usize> Code<N, M> {
    pub(super) fn new(freqs: &[u32; N], limit: u8) -> Self {
        let mut lens = [0u8; N];
        code_lengths::<N, M>(freqs, limit, &mut lens);
        let mut table = [0u32; N];
        canonical(&lens, &mut table);
        Code { table, lens }
    }

    #[inline(always)]
    pub(super) fn put(&self, w: &mut BitWriter, sym: usize) {
        let e = self.table[sym];
        w.put(u64::from(e >> 8), e as u8);
    }
}

/// Huffman code lengths (at most `limit` bits) into `lens` for the symbols with a non-zero
/// frequency; at least two symbols get a code. Scratch arrays are sized for this alphabet
/// (`N` symbols, `M` = 2`N` tree nodes), so a small code zeroes little.
fn code_lengths<const N: usize, const M: usize>(freqs: &[u32; N], limit: u8, lens: &mut [u8]) {
    debug_assert!(M >= 2 * N.max(2));
    let mut syms = [0u16; N];
    let mut n = 0;
    for (s, &f) in freqs.iter().enumerate() {
        if f > 0 {
            syms[n] = s as u16;
            n += 1;
        }
    }
    if n < 2 {
        // A one-symbol code still needs two codes of one bit.
        let other = u16::from(n == 1 && syms[0] == 0);
        syms[n] = other;
        n += 1;
        if n < 2 {
            syms[n] = 1;
            n += 1;
        }
    }
    let syms = &mut syms[..n];
    // Ascending (frequency, symbol), sorted as one integer key each.
    let mut keys = [0u64; N];
    for (k, &s) in keys.iter_mut().zip(syms.iter()) {
        *k = (u64::from(freqs[usize::from(s)]) << 16) | u64::from(s);
    }
    keys[..n].sort_unstable();
    for (s, &k) in syms.iter_mut().zip(keys.iter()) {
        *s = k as u16;
    }
    // Two-queue Huffman: leaves in ascending weight, internal nodes as they are made.
    // A weight is at most the sum of the frequencies: the token count, far below 2³².
    let mut weight = [0u32; M];
    for (w, &s) in weight.iter_mut().zip(syms.iter()) {
        *w = freqs[usize::from(s)].max(1);
    }
    let mut parent = [0u16; M];
    let (mut leaf, mut inner) = (0usize, n);
    for node in n..2 * n - 1 {
        for _ in 0..2 {
            let take_leaf = leaf < n && (inner >= node || weight[leaf] <= weight[inner]);
            let i = if take_leaf { &mut leaf } else { &mut inner };
            weight[node] += weight[*i];
            parent[*i] = node as u16;
            *i += 1;
        }
    }
    let mut depth = [0u8; M];
    for node in (0..2 * n - 2).rev() {
        depth[node] = depth[usize::from(parent[node])] + 1;
    }
    let per_len = limited_counts(&depth[..n], usize::from(limit));
    // Shortest codes to the most frequent symbols (`syms` is in ascending frequency).
    let mut it = syms.iter().rev();
    for (l, &count) in per_len.iter().enumerate().skip(1) {
        for _ in 0..count {
            if let Some(&s) = it.next() {
                lens[usize::from(s)] = l as u8;
            }
        }
    }
}

/// Codes per length for leaves at `depths`, clamped to `limit` bits with the Kraft sum
/// repaired (as miniz does: each step moves one code from the longest length up).
fn limited_counts(depths: &[u8], limit: usize) -> [u32; 16] {
    let mut per_len = [0u32; 33];
    for &d in depths {
        per_len[usize::from(d).min(32)] += 1;
    }
    for l in limit + 1..33 {
        per_len[limit] += per_len[l];
        per_len[l] = 0;
    }
    let kraft = |per_len: &[u32; 33]| -> u64 {
        (1..=limit)
            .map(|l| u64::from(per_len[l]) << (limit - l))
            .sum()
    };
    while kraft(&per_len) > 1u64 << limit {
        per_len[limit] -= 1;
        if let Some(l) = (1..limit).rev().find(|&l| per_len[l] > 0) {
            per_len[l] -= 1;
            per_len[l + 1] += 2;
        }
    }
    let mut out = [0u32; 16];
    out.copy_from_slice(&per_len[..16]);
    out
}

/// Canonical codes from lengths, bit-reversed for DEFLATE's LSB-first bit order, packed
/// as `code << 8 | len`.
fn canonical(lens: &[u8], table: &mut [u32]) {
    // Most symbols have no code: skipping them also spares a chain of increments of
    // `count[0]`, each waiting on the last.
    let mut count = [0u16; 16];
    for &l in lens {
        if l != 0 {
            count[usize::from(l)] += 1;
        }
    }
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for l in 1..16 {
        code = (code + count[l - 1]) << 1;
        next[l] = code;
    }
    for (e, &l) in table.iter_mut().zip(lens) {
        if l != 0 {
            let c = next[usize::from(l)];
            next[usize::from(l)] += 1;
            *e = (u32::from(c.reverse_bits() >> (16 - l)) << 8) | u32::from(l);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_lengths_are_complete_and_limited() {
        // Fibonacci frequencies force a deep tree; the limit must hold and Kraft be exact.
        let mut f = vec![1u32, 1];
        while f.len() < 30 {
            f.push(f[f.len() - 1] + f[f.len() - 2]);
        }
        for limit in [7u8, 15] {
            let f: [u32; 30] = f.clone().try_into().unwrap();
            let mut lens = vec![0u8; f.len()];
            code_lengths::<30, 60>(&f, limit, &mut lens);
            assert!(lens.iter().all(|&l| (1..=limit).contains(&l)), "{lens:?}");
            let kraft: f64 = lens.iter().map(|&l| 0.5f64.powi(i32::from(l))).sum();
            assert!((kraft - 1.0).abs() < 1e-12, "{kraft}");
        }
        for (freqs, want) in [([0, 5, 0], [1, 1, 0]), ([0, 0, 0], [1, 1, 0])] {
            let mut lens = [0u8; 3];
            code_lengths::<3, 8>(&freqs, 15, &mut lens);
            assert_eq!(lens, want, "{freqs:?}");
        }
        let mut lens = [0u8; 2];
        code_lengths::<2, 4>(&[5, 0], 15, &mut lens);
        assert_eq!(lens, [1, 1]);
    }
}
