//! The error-code table is part of the public API: a rename shows up as a snapshot diff.

use wa_validate::Error;

#[test]
fn all_codes_snapshot() {
    let table: String = Error::ALL_CODES
        .iter()
        .map(|(code, what)| format!("{code}: {what}\n"))
        .collect();
    insta::assert_snapshot!(table);
}

#[test]
fn codes_are_unique_snake_case() {
    let mut codes: Vec<&str> = Error::ALL_CODES.iter().map(|(c, _)| *c).collect();
    for c in &codes {
        assert!(
            c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{c}"
        );
    }
    codes.sort_unstable();
    let n = codes.len();
    codes.dedup();
    assert_eq!(codes.len(), n, "duplicate code");
}

#[test]
fn module_doc_table_lists_every_code() {
    let src = include_str!("../src/error.rs");
    for (code, _) in Error::ALL_CODES {
        assert!(
            src.contains(&format!("//! | `{code}` |")),
            "{code} missing from the doc table"
        );
    }
}
