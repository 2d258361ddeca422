//! Compile-time behaviour of `#[rpc_method]`: what compiles, and the errors misuse gets.
//!
//! The `fail` cases snapshot only errors our macro writes (the user's function is still
//! emitted, so no compiler error follows from them). Regenerate snapshots with
//! `TRYBUILD=overwrite cargo test -p rpc-macros --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
