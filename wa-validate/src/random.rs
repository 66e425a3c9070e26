//! Randomness helpers shared by the workspace: a small seedable generator for jitter and test
//! doubles ([`SplitMix64`]) and the UUID layouts ids use ([`uuid_v4`], [`uuid_v7`]). Nothing
//! here reads the operating system's generator; callers pass the random bytes in.

/// splitmix64 (Steele, Lea & Flood): a fast, seedable, non-cryptographic generator. Good for
/// retry jitter and deterministic tests; never for codes or keys.
///
/// # Examples
/// ```
/// use wa_validate::random::SplitMix64;
/// let mut a = SplitMix64::new(7);
/// let mut b = SplitMix64::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator from `seed`.
    pub const fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

fn hyphenated(b: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(HEX[usize::from(x >> 4)] as char);
        s.push(HEX[usize::from(x & 0xf)] as char);
    }
    s
}

/// A version-4 (random) UUID from 16 random bytes, lower-case and hyphenated.
///
/// # Examples
/// ```
/// let id = wa_validate::random::uuid_v4([0xab; 16]);
/// assert_eq!(id, "abababab-abab-4bab-abab-abababababab");
/// ```
pub fn uuid_v4(mut random: [u8; 16]) -> String {
    random[6] = (random[6] & 0x0f) | 0x40;
    random[8] = (random[8] & 0x3f) | 0x80;
    hyphenated(&random)
}

/// A version-7 UUID (RFC 9562): 48 bits of Unix milliseconds, then 12 bits of `counter`
/// (so ids made in one millisecond by one process keep their order), then 62 random bits.
/// Ids sort by time as strings.
///
/// # Examples
/// ```
/// let a = wa_validate::random::uuid_v7(1_700_000_000_000, 1, [0; 8]);
/// let b = wa_validate::random::uuid_v7(1_700_000_000_000, 2, [0; 8]);
/// assert!(a < b);
/// assert_eq!(&a[14..15], "7");
/// ```
pub fn uuid_v7(unix_ms: u64, counter: u16, random: [u8; 8]) -> String {
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
    let c = counter & 0x0fff;
    b[6] = 0x70 | (c >> 8) as u8;
    b[7] = (c & 0xff) as u8;
    b[8..].copy_from_slice(&random);
    b[8] = (b[8] & 0x3f) | 0x80;
    hyphenated(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // First outputs for seed 0 (reference implementation).
        let mut g = SplitMix64::new(0);
        assert_eq!(g.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(g.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn uuid_layouts() {
        let v7 = uuid_v7(0x0123_4567_89ab, 0xabc, [0xff; 8]);
        assert_eq!(v7, "01234567-89ab-7abc-bfff-ffffffffffff");
        assert_eq!(uuid_v4([0; 16]), "00000000-0000-4000-8000-000000000000");
    }
}
