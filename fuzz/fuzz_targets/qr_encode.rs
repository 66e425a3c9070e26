//! Encoding and rendering any payload never panics; an encoded symbol has a valid size.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wa_qr::{Ecl, Options, QrCode};

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(3000)];
    for ecl in [Ecl::Low, Ecl::High] {
        if let Ok(code) = QrCode::encode(data, ecl) {
            let size = code.matrix().size();
            assert!((21..=177).contains(&size) && (size - 17) % 4 == 0, "{size}");
            let _ = Options::new().ecl(ecl).size(64).svg(data);
        }
    }
});
