//! Usernames, username keys, JIDs, BSUIDs and recipients: no panics; accepted JIDs and
//! BSUIDs print back to a string that parses to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa_validate::{Bsuid, Jid, Recipient, Username, UsernameKey};

fuzz_target!(|s: &str| {
    let _ = Username::parse(s);
    let _ = UsernameKey::parse(s);
    let _ = Recipient::parse(s);
    if let Ok(j) = Jid::parse(s) {
        assert_eq!(Jid::parse(&j.to_string()).ok(), Some(j));
    }
    if let Ok(b) = Bsuid::parse(s) {
        assert_eq!(Bsuid::parse(&b.to_string()).ok(), Some(b));
    }
});
