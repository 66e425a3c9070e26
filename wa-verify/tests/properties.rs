//! A generated code always matches its own message and never a one-character alteration.

use proptest::prelude::*;
use wa_verify::{CodeFormat, SeededRng, codes_equal, extract_codes, message_text};

fn alphabet() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "0123456789abcdef",
        "0123456789",
        "abcdefghjkmnpqrstuvwxyz23456789",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn code_matches_its_message(seed in any::<u64>(), len in 4usize..=32, alpha in alphabet(), link in ".{0,60}") {
        let f = CodeFormat::new(len, alpha).unwrap();
        let code = f.generate(&SeededRng::new(seed)).unwrap();
        prop_assert_eq!(code.len(), len);
        let text = message_text(&code, &link);
        let found = extract_codes(&text);
        prop_assert!(found.iter().any(|c| codes_equal(c, &code)), "{:?} in {:?}", code, found);
    }

    #[test]
    fn one_char_alteration_never_matches(seed in any::<u64>(), pos in 0usize..10, repl in "[0-9a-z]") {
        let code = CodeFormat::default().generate(&SeededRng::new(seed)).unwrap();
        let mut altered: Vec<char> = code.chars().collect();
        let r = repl.chars().next().unwrap();
        prop_assume!(altered[pos] != r);
        altered[pos] = r;
        let altered: String = altered.into_iter().collect();
        for c in extract_codes(&message_text(&altered, "tap send")) {
            prop_assert!(!codes_equal(&c, &code));
        }
        // dropping or adding a character doesn't match either
        let shorter = &code[..code.len() - 1];
        let longer = format!("{code}0");
        for variant in [shorter.to_owned(), longer] {
            for c in extract_codes(&message_text(&variant, "")) {
                prop_assert!(!codes_equal(&c, &code));
            }
        }
    }

    #[test]
    fn extraction_never_panics(s in any::<String>()) {
        let _ = extract_codes(&s);
    }
}
