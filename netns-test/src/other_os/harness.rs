//! The harness on systems other than Linux: the crate compiles, test targets build, and each
//! test reports that it needs Linux (failed by default, ignored with
//! `NETNS_TEST_UNSUPPORTED=skip`). Network namespaces, veth pairs and the rest exist only there.

use libtest_mimic::{Completion, Failed};

use crate::unsupported::OnUnsupported;
use crate::{AsTopology, Error, Net, Portable, Result};

/// [`run`](crate::run()) on this system: checks the topology, then says it needs Linux.
///
/// # Errors
///
/// [`Error::Topology`] for an invalid topology text, else [`Error::NeedsLinux`].
pub fn run<T, F>(topology: impl AsTopology, _f: F) -> Result<T>
where
    T: Portable,
    F: FnOnce(&Net) -> T,
{
    topology.topology_text()?;
    Err(Error::NeedsLinux)
}

/// The verdict of every test of a `harness = false` target.
pub(crate) fn run_trial(
    _name: &str,
    _capture: bool,
    _timeout: Option<std::time::Duration>,
) -> Result<Completion, Failed> {
    OnUnsupported::from_env()
        .verdict(&Error::NeedsLinux.to_string())
        .map(Completion::ignored_with)
        .map_err(Failed::from)
}

/// The `#[test]` function of a target with libtest's harness: fails saying it needs Linux, or
/// passes printing why with `NETNS_TEST_UNSUPPORTED=skip` (libtest has no run-time skip).
#[track_caller]
pub fn run_under_libtest(_module_path: &str, _function: &str) {
    match OnUnsupported::from_env().verdict(&Error::NeedsLinux.to_string()) {
        Ok(reason) => println!("SKIPPED: {reason}"),
        Err(message) => panic!("{message}"),
    }
}
