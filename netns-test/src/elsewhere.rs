//! The harness on systems other than Linux: the crate compiles, test targets build, and each
//! test reports that it needs Linux (failed by default, ignored with
//! `NETNS_TEST_UNSUPPORTED=skip`). Network namespaces, veth pairs and the rest exist only there.

use libtest_mimic::{Completion, Failed};

use crate::unsupported::OnUnsupported;

/// Why no test can run here.
const NEEDS_LINUX: &str = "netns-test needs Linux (network namespaces)";

/// The verdict of every test of a `harness = false` target.
pub(crate) fn run_trial(
    _name: &str,
    _capture: bool,
    _timeout: Option<std::time::Duration>,
) -> Result<Completion, Failed> {
    OnUnsupported::from_env()
        .verdict(NEEDS_LINUX)
        .map(Completion::ignored_with)
        .map_err(Failed::from)
}

/// The `#[test]` function of a target with libtest's harness: fails saying it needs Linux, or
/// passes printing why with `NETNS_TEST_UNSUPPORTED=skip` (libtest has no run-time skip).
#[track_caller]
pub fn run_under_libtest(_module_path: &str, _function: &str) {
    match OnUnsupported::from_env().verdict(NEEDS_LINUX) {
        Ok(reason) => println!("SKIPPED: {reason}"),
        Err(message) => panic!("{message}"),
    }
}
