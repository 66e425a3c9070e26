//! wa-qr's error codes are pinned and documented.

#[test]
fn all_codes_snapshot() {
    let table: String = wa_qr::Error::ALL_CODES
        .iter()
        .map(|(c, w)| format!("{c}: {w}\n"))
        .collect();
    insta::assert_snapshot!(table);
    let src = include_str!("../src/error.rs");
    for (code, _) in wa_qr::Error::ALL_CODES {
        assert!(
            src.contains(&format!("//! | `{code}` |")),
            "{code} missing from the doc table"
        );
    }
}
