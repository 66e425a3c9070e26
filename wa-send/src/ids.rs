//! Ids: UUIDv7 for messages and batches (they sort by creation time, as the send API's
//! examples show UUIDs), and prefixed ids for webhook deliveries.

use std::sync::Mutex;

use wa_validate::random::uuid_v7;

use crate::Timestamp;

/// (last millisecond, counter within it).
static LAST: Mutex<(u64, u16)> = Mutex::new((0, 0));

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // A failing OS generator leaves zeros; time and the counter still keep ids apart in
    // one process.
    let _ = getrandom::fill(&mut b);
    b
}

/// A fresh UUIDv7 at `now`; ids made by one process sort in creation order.
///
/// # Examples
/// ```
/// use wa_send::{ids, Timestamp};
/// let a = ids::uuid(Timestamp::from_secs(1_750_000_000));
/// let b = ids::uuid(Timestamp::from_secs(1_750_000_000));
/// assert!(a < b);
/// assert_eq!(a.len(), 36);
/// ```
pub fn uuid(now: Timestamp) -> String {
    let (ms, counter) = {
        let mut last = LAST
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let ms = now.as_millis().max(last.0);
        let counter = if ms == last.0 {
            last.1.wrapping_add(1) & 0x0fff
        } else {
            0
        };
        // When 4096 ids share one millisecond, borrow the next millisecond.
        let ms = if ms == last.0 && counter == 0 {
            ms + 1
        } else {
            ms
        };
        *last = (ms, counter);
        (ms, counter)
    };
    uuid_v7(ms, counter, random())
}

/// `<prefix>_<32 hex>`, time-ordered like [`uuid`] (no `.`: Standard Webhooks ids).
pub fn prefixed(prefix: &str, now: Timestamp) -> String {
    format!("{prefix}_{}", uuid(now).replace('-', ""))
}
