//! Code extraction from any message text never panics, and every extracted code is found
//! again in the message wa-verify itself writes for it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    for code in wa_verify::extract_codes(s) {
        let written = wa_verify::message_text(&code, "");
        assert!(
            wa_verify::extract_codes(&written)
                .iter()
                .any(|c| wa_verify::codes_equal(c, &code)),
            "{s:?} → {code:?} → {written:?}"
        );
    }
});
