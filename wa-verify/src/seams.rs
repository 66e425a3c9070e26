//! Time and randomness enter through these small object-safe traits, so every
//! behaviour can be tested with a fixed clock and a seeded generator.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one sanctioned place that reads the real clock
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until told to move; for tests.
///
/// # Examples
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use wa_verify::{Clock, FixedClock};
///
/// let clock = FixedClock::at_unix(1_700_000_000);
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_secs(1_700_000_060));
/// ```
#[derive(Debug, Default)]
pub struct FixedClock {
    millis: AtomicU64,
}

impl FixedClock {
    /// A clock showing `secs` seconds after the Unix epoch.
    pub fn at_unix(secs: u64) -> Self {
        FixedClock {
            millis: AtomicU64::new(secs * 1000),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.millis.fetch_add(
            u64::try_from(by.as_millis()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.millis.load(Ordering::SeqCst))
    }
}

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
    state: Mutex<u64>,
}

impl SeededRng {
    /// A generator with this seed.
    pub fn new(seed: u64) -> Self {
        SeededRng {
            state: Mutex::new(seed),
        }
    }
}

impl CodeRng for SeededRng {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RngError> {
        let mut s = self.state.lock().map_err(|_| RngError)?;
        for chunk in buf.chunks_mut(8) {
            *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}
