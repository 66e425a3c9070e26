//! wa-links' error codes are pinned, unique, and disjoint from wa-validate's.

use wa_links::Error;

#[test]
fn all_codes_snapshot() {
    let table: String = Error::ALL_CODES
        .iter()
        .map(|(c, w)| format!("{c}: {w}\n"))
        .collect();
    insta::assert_snapshot!(table);
}

#[test]
fn codes_unique_across_crates() {
    let mut all: Vec<&str> = Error::ALL_CODES
        .iter()
        .chain(wa_validate::Error::ALL_CODES)
        .map(|(c, _)| *c)
        .collect();
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), n);
    // The doc table is generated from the same list by `wa_validate::error_codes!`, so
    // every code is documented by construction.
}
