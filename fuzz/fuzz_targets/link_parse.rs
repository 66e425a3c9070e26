//! Parsing any string as a WhatsApp link never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    let _ = wa_links::parse(s);
});
