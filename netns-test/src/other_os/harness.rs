//! The harness's verdicts on systems other than Linux: every test needs Linux (failed by
//! default, ignored with `NETNS_TEST_UNSUPPORTED=skip`), and [`run`] says so too. Network
//! namespaces, veth pairs and the rest exist only there.

use crate::config::Config;
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

/// The verdict of every test: `Ok(reason)` to report it ignored, `Err(message)` failed.
pub(crate) fn verdict(config: &Config) -> Result<String, String> {
    config
        .on_unsupported
        .verdict(&Error::NeedsLinux.to_string())
}

/// The `#[test]` function of a target with libtest's harness: fails saying it needs Linux, or
/// passes printing why with `NETNS_TEST_UNSUPPORTED=skip` (libtest has no run-time skip).
#[track_caller]
pub fn run_under_libtest(_module_path: &str, _function: &str) {
    match verdict(&Config::from_env()) {
        Ok(reason) => println!("SKIPPED: {reason}"),
        Err(message) => panic!("{message}"),
    }
}
