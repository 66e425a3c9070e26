//! Time as the workspace passes it around: [`Timestamp`] (Unix milliseconds, formatted as
//! RFC 3339 UTC with milliseconds) and the [`Clock`] seam every crate reads time through, so
//! tests can fix it with a [`ManualClock`].
//!
//! This module reads no clock by itself: [`SystemClock`] is the one implementation that
//! asks the operating system, and callers decide where it is used.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time: milliseconds since the Unix epoch, UTC.
///
/// `Display` and [`Timestamp::to_rfc3339`] give RFC 3339 with millisecond precision and a
/// `Z` suffix (`2026-03-28T10:00:01.000Z`, the format of JavaScript's `toISOString`), the one
/// format the workspace writes. With the `serde` feature it serialises as that string.
///
/// # Examples
/// ```
/// use wa_validate::time::Timestamp;
///
/// let t = Timestamp::from_millis(1_611_710_233_674);
/// assert_eq!(t.to_rfc3339(), "2021-01-27T01:17:13.674Z");
/// assert_eq!(Timestamp::parse_rfc3339("2021-01-27T02:17:13.674+01:00"), Some(t));
/// assert_eq!(t.as_secs(), 1_611_710_233);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// From milliseconds since the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Timestamp(ms)
    }

    /// From whole seconds since the epoch (saturating).
    pub const fn from_secs(secs: u64) -> Self {
        Timestamp(secs.saturating_mul(1000))
    }

    /// From a [`SystemTime`] (times before the epoch become the epoch).
    pub fn from_system_time(t: SystemTime) -> Self {
        Timestamp(
            t.duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        )
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds since the epoch.
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// As a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.0)
    }

    /// `self + d` (saturating).
    #[must_use]
    pub fn plus(self, d: Duration) -> Self {
        Timestamp(
            self.0
                .saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        )
    }

    /// `self + ms` milliseconds (saturating).
    #[must_use]
    pub const fn plus_millis(self, ms: u64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }

    /// How long after `earlier` this is (zero when it is not after it).
    pub const fn millis_since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// RFC 3339 in UTC with milliseconds: `YYYY-MM-DDTHH:MM:SS.sssZ`.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }

    /// Parses an RFC 3339 / ISO 8601 date-time with an offset (`Z` or `±hh:mm`), with or
    /// without fractional seconds (kept to the millisecond). `None` when it is not one,
    /// or is before 1970.
    ///
    /// # Examples
    /// ```
    /// use wa_validate::time::Timestamp;
    /// assert_eq!(Timestamp::parse_rfc3339("2026-05-01T09:00:00Z").unwrap().to_rfc3339(), "2026-05-01T09:00:00.000Z");
    /// assert!(Timestamp::parse_rfc3339("2026-05-01 09:00").is_none());
    /// assert!(Timestamp::parse_rfc3339("1969-12-31T23:59:59Z").is_none());
    /// ```
    pub fn parse_rfc3339(s: &str) -> Option<Timestamp> {
        let b = s.trim().as_bytes();
        let num = |r: std::ops::Range<usize>| -> Option<u64> {
            let part = b.get(r)?;
            if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
                return None;
            }
            part.iter().try_fold(0u64, |n, d| {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            })
        };
        let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
        if b.len() < 20 || !sep(4, b"-") || !sep(7, b"-") || !sep(10, b"Tt") {
            return None;
        }
        if !sep(13, b":") || !sep(16, b":") {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let mut i = 19;
        let mut millis = 0u64;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            i = start;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
            let frac = &b[start..i.min(start + 3)];
            millis = frac.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0'));
            millis *= 10u64.pow(3 - frac.len() as u32);
        }
        let offset_secs: i64 = match b.get(i)? {
            b'Z' | b'z' if i + 1 == b.len() => 0,
            c @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
                let (h, m) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
                if h > 23 || m > 59 {
                    return None;
                }
                let o = (h * 3600 + m * 60) as i64;
                if *c == b'-' { -o } else { o }
            }
            _ => return None,
        };
        let days = days_from_civil(year as i64, month, day);
        let secs =
            days * 86_400 + (hour * 3600 + minute * 60 + second.min(59)) as i64 - offset_secs;
        let secs = u64::try_from(secs).ok()?;
        Some(Timestamp(secs.checked_mul(1000)?.checked_add(millis)?))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0 / 1000;
        let (y, m, d) = civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            self.0 % 1000
        )
    }
}

fn is_leap(y: u64) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u64, d: u64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u64, u64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Where time comes from. Object-safe: hold it as `Arc<dyn Clock>`.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use wa_validate::time::{Clock, ManualClock, Timestamp};
///
/// let clock = ManualClock::at_unix(1_750_000_000);
/// clock.advance(Duration::from_millis(1500));
/// assert_eq!(clock.timestamp(), Timestamp::from_millis(1_750_000_001_500));
/// ```
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// The current time as a [`Timestamp`].
    fn timestamp(&self) -> Timestamp {
        Timestamp::from_system_time(self.now())
    }

    /// Milliseconds since the Unix epoch.
    fn unix_millis(&self) -> u64 {
        self.timestamp().as_millis()
    }

    /// Seconds since the Unix epoch.
    fn unix_seconds(&self) -> u64 {
        self.timestamp().as_secs()
    }
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place in the workspace that reads the real clock
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to: the test double for [`Clock`].
#[derive(Debug, Default)]
pub struct ManualClock {
    millis: AtomicU64,
}

impl ManualClock {
    /// A clock at `secs` seconds after the Unix epoch.
    pub fn at_unix(secs: u64) -> Self {
        ManualClock {
            millis: AtomicU64::new(secs.saturating_mul(1000)),
        }
    }

    /// A clock at `t`.
    pub fn at(t: Timestamp) -> Self {
        ManualClock {
            millis: AtomicU64::new(t.as_millis()),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.millis.fetch_add(
            u64::try_from(by.as_millis()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }

    /// Sets the clock.
    pub fn set(&self, to: SystemTime) {
        self.millis.store(
            Timestamp::from_system_time(to).as_millis(),
            Ordering::SeqCst,
        );
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.millis.load(Ordering::SeqCst))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 date-time or Unix milliseconds")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Timestamp, E> {
                Timestamp::parse_rfc3339(s)
                    .ok_or_else(|| E::custom("not an RFC 3339 date-time with an offset"))
            }
            fn visit_u64<E: serde::de::Error>(self, ms: u64) -> Result<Timestamp, E> {
                Ok(Timestamp(ms))
            }
            fn visit_i64<E: serde::de::Error>(self, ms: i64) -> Result<Timestamp, E> {
                u64::try_from(ms)
                    .map(Timestamp)
                    .map_err(|_| E::custom("a time before 1970"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        for ms in [
            0u64,
            951_782_400_000,     // 2000-02-29
            1_611_710_233_674,   // 2021-01-27T01:17:13.674Z
            4_102_444_799_999,   // 2099-12-31T23:59:59.999Z
            253_402_300_799_000, // 9999-12-31T23:59:59Z
        ] {
            let t = Timestamp(ms);
            assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Some(t), "{t}");
        }
        assert_eq!(
            Timestamp(951_782_400_000).to_rfc3339(),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(
            Timestamp::parse_rfc3339("2026-03-28T10:00:01Z").map(Timestamp::as_millis),
            Some(1_774_692_001_000)
        );
        assert_eq!(
            Timestamp::parse_rfc3339("2026-03-28T10:00:01.5-03:00"),
            Timestamp::parse_rfc3339("2026-03-28T13:00:01.500Z")
        );
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-02-01T24:00:00Z",
            "2026-02-01T00:00:00",
            "2026-02-01T00:00:00.Z",
            "2026-02-01T00:00:00+0100",
            "2026-02-01T00:00:00Zjunk",
            "+2026-02-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn civil_matches_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for z in [-1, 0, 1, 11_016, 11_017, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }
}
