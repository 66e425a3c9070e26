//! Parsing any body as a Meta webhook notification never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let _ = wa_send::webhook::meta::parse(body);
});
