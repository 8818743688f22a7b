//! What `#[netns_test]` tells a user who gets it wrong: each `ui/<name>.rs` makes one mistake and
//! its `ui/<name>.stderr` is the message the compiler prints. `ui/pass/` holds what must compile
//! without a warning.
//!
//! After a deliberate change of a message, regenerate with `TRYBUILD=overwrite cargo test -p
//! netns-test-suites --test ui` and read every changed `.stderr`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
    cases.pass("ui/pass/*.rs");
}
