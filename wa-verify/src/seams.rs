//! Randomness enters through [`CodeRng`], so every behaviour can be tested with a seeded
//! generator. Time enters through the workspace's one clock seam,
//! [`wa_validate::time::Clock`] (re-exported here), tested with its `ManualClock`.

use std::sync::Mutex;

use wa_validate::random::SplitMix64;
pub use wa_validate::time::{Clock, ManualClock, SystemClock};

/// The random number generator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("random number generator failure")]
pub struct RngError;

/// A source of random bytes for codes and ids.
pub trait CodeRng: Send + Sync {
    /// Fills `buf` with random bytes.
    ///
    /// # Errors
    /// When the generator cannot produce bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), RngError>;
}

/// The operating system's CSPRNG (`getrandom`). The default.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRng;

impl CodeRng for OsRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RngError> {
        getrandom::fill(buf).map_err(|_| RngError)
    }
}

/// A deterministic generator (SplitMix64) for tests. **Not cryptographically secure.**
///
/// # Examples
/// ```
/// use wa_verify::{CodeRng, SeededRng};
/// let (a, b) = (SeededRng::new(7), SeededRng::new(7));
/// let (mut x, mut y) = ([0u8; 8], [0u8; 8]);
/// a.fill(&mut x).unwrap();
/// b.fill(&mut y).unwrap();
/// assert_eq!(x, y);
/// ```
#[derive(Debug)]
pub struct SeededRng {
    state: Mutex<SplitMix64>,
}

impl SeededRng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        SeededRng {
            state: Mutex::new(SplitMix64::new(seed)),
        }
    }
}

impl CodeRng for SeededRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RngError> {
        self.state.lock().map_err(|_| RngError)?.fill(buf);
        Ok(())
    }
}
