//! Phone parsing never panics, and an accepted number's E.164 form parses back to itself.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa_validate::PhoneOptions;

fuzz_target!(|s: &str| {
    for lenient in [false, true] {
        if let Ok(p) = PhoneOptions::new().accept_possible(lenient).parse(s) {
            let again = PhoneOptions::new()
                .accept_possible(true)
                .parse(p.e164())
                .expect("an E.164 form we produced parses");
            assert_eq!(again.e164(), p.e164(), "{s:?}");
            assert!(p.digits().len() <= 15);
        }
    }
});
