//! Property: whatever the payload, level and style, the PNG and the SVG decode back to it.

mod common;

use proptest::prelude::*;
use wa_qr::{Ecl, Options, Style};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn render_then_decode(
        payload in ".{1,120}",
        ecl in prop::sample::select(vec![Ecl::Low, Ecl::Medium, Ecl::Quartile, Ecl::High]),
        rounded in any::<bool>(),
    ) {
        let style = if rounded { Style::Rounded } else { Style::Square };
        let o = Options::new().size(400).ecl(ecl).style(style);
        let png = o.png(&payload).unwrap();
        prop_assert_eq!(common::decode_png(&png), vec![payload.as_bytes().to_vec()]);
        let svg = o.svg(&payload).unwrap();
        prop_assert_eq!(common::decode_svg(&svg), vec![payload.as_bytes().to_vec()]);
    }

    #[test]
    fn never_panics(payload in any::<Vec<u8>>(), size in 0u32..5000, margin in 0u32..20) {
        let _ = Options::new().size(size).margin(margin).png(&payload);
        let _ = Options::new().size(size).margin(margin).svg(&payload);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Every accepted colour form (3, 4, 6 or 8 hex digits, `#` optional) keeps its alpha
    /// through `to_hex`, and `to_hex` reads back to the same colour.
    #[test]
    fn colours_round_trip(hex in "#?([0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})") {
        let c = wa_qr::Color::parse(&hex).unwrap();
        prop_assert_eq!(wa_qr::Color::parse(&c.to_hex()).unwrap(), c);
        let digits = hex.trim_start_matches('#');
        let expect_alpha = match digits.len() {
            4 => u8::from_str_radix(&digits[3..4], 16).unwrap() * 17,
            8 => u8::from_str_radix(&digits[6..8], 16).unwrap(),
            _ => 255,
        };
        prop_assert_eq!(c.a, expect_alpha);
    }

    /// Anything else is refused, never guessed.
    #[test]
    fn other_colour_lengths_are_refused(hex in "[0-9a-f]{0,12}") {
        if ![3, 4, 6, 8].contains(&hex.len()) {
            prop_assert!(wa_qr::Color::parse(&hex).is_err());
        }
    }
}
