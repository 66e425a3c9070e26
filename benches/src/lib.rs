//! Criterion benchmarks for wa-kit live in `benches/benches/*.rs`; run them with
//! `cargo bench -p wa-benches`. This library target is intentionally empty.
