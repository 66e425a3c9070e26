//! wa-verify's error codes are pinned and unique across the workspace crates it knows.

use wa_verify::Error;

#[test]
fn all_codes_snapshot() {
    let table: String = Error::ALL_CODES
        .iter()
        .map(|(c, w)| format!("{c}: {w}\n"))
        .collect();
    insta::assert_snapshot!(table);
    let src = include_str!("../src/error.rs");
    let mut all: Vec<&str> = Error::ALL_CODES
        .iter()
        .chain(wa_validate::Error::ALL_CODES)
        .chain(wa_links::Error::ALL_CODES)
        .map(|(c, _)| *c)
        .collect();
    for (code, _) in Error::ALL_CODES {
        assert!(
            src.contains(&format!("//! | `{code}` |")),
            "{code} missing from the doc table"
        );
    }
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(n, all.len());
}
