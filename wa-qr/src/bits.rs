//! An MSB-first bit writer into a byte slice, 32 bits at a time: the data codewords of a
//! symbol and the 1-bit pixel rows of a PNG are both written with it.

/// Writes bits most significant first into `out`, which must hold every byte written.
pub(crate) struct MsbBits<'a> {
    out: &'a mut [u8],
    /// Bytes written.
    at: usize,
    acc: u64,
    /// Bits held in `acc` (< 32 between calls).
    n: u32,
}

impl<'a> MsbBits<'a> {
    pub(crate) fn new(out: &'a mut [u8]) -> Self {
        MsbBits {
            out,
            at: 0,
            acc: 0,
            n: 0,
        }
    }

    /// Bits written so far.
    pub(crate) fn len(&self) -> usize {
        self.at * 8 + self.n as usize
    }

    /// Appends the low `n` bits of `bits` (n ≤ 64), most significant first.
    #[inline]
    pub(crate) fn push(&mut self, bits: u64, n: u32) {
        if n > 32 {
            self.push32((bits >> 32) & (u64::MAX >> (96 - n)), n - 32);
            self.push32(bits & 0xFFFF_FFFF, 32);
        } else if n > 0 {
            self.push32(bits & (u64::MAX >> (64 - n)), n);
        }
    }

    /// Appends `bits`, which holds nothing above its low `n` bits (n ≤ 32).
    #[inline]
    fn push32(&mut self, bits: u64, n: u32) {
        self.acc = (self.acc << n) | bits;
        self.n += n;
        if self.n >= 32 {
            self.n -= 32;
            let word = (self.acc >> self.n) as u32;
            self.out[self.at..self.at + 4].copy_from_slice(&word.to_be_bytes());
            self.at += 4;
        }
    }

    /// Appends `count` copies of `bit` (0 or 1).
    pub(crate) fn repeat(&mut self, bit: u64, mut count: usize) {
        while count > 0 {
            let k = count.min(32) as u32;
            self.push32(bit.wrapping_neg() & ((1u64 << k) - 1), k);
            count -= k as usize;
        }
    }

    /// Writes the bits held, the last byte padded with zero bits, clears the rest of
    /// `out`, and returns the bytes written.
    pub(crate) fn finish(mut self) -> usize {
        while self.n > 0 {
            let k = self.n.min(8);
            self.n -= k;
            // Bits above the `k` wanted ones fall off the byte.
            self.out[self.at] = ((self.acc >> self.n) << (8 - k)) as u8;
            self.at += 1;
        }
        self.out[self.at..].fill(0);
        self.at
    }
}

#[cfg(test)]
mod tests {
    use super::MsbBits;

    #[test]
    fn writes_most_significant_bits_first() {
        let mut out = [0xFFu8; 8];
        let mut w = MsbBits::new(&mut out);
        w.push(0b101, 3);
        w.push(0x00FF_FFFF_FFFF, 36); // only the low 36 bits count
        w.repeat(0, 2);
        w.repeat(1, 3);
        w.push(0, 0);
        assert_eq!(w.len(), 44);
        assert_eq!(w.finish(), 6);
        assert_eq!(
            out,
            [
                0b1011_1111,
                0xFF,
                0xFF,
                0xFF,
                0b1111_1110,
                0b0111_0000,
                0,
                0
            ]
        );
    }
}
