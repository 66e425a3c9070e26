//! Colour parsing never panics, and `to_hex` reads back to the same colour (alpha kept).
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa_qr::Color;

fuzz_target!(|s: &str| {
    if let Ok(c) = Color::parse(s) {
        assert_eq!(Color::parse(&c.to_hex()).ok(), Some(c), "{s:?}");
    }
});
