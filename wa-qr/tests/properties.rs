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
