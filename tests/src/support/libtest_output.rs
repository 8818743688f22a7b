//! Reading what a test binary printed in libtest's format, for the suites that run the fixture
//! binaries (`harness.rs`, `leaks.rs`).

/// The text printed under `---- NAME ----` for the failed test `name`, up to the next section.
pub fn failure_of<'a>(stdout: &'a str, name: &str) -> &'a str {
    let header = format!("---- {name} ----");
    let start = stdout
        .find(&header)
        .unwrap_or_else(|| panic!("no failure section for {name}:\n{stdout}"));
    let rest = &stdout[start + header.len()..];
    let end = rest
        .find("\n---- ")
        .or_else(|| rest.find("\nfailures:"))
        .unwrap_or(rest.len());
    &rest[..end]
}
