//! The sandbox: a process of its own for each test, in fresh user, network, mount and PID
//! namespaces, and the host's refusal to make one explained.
//!
//! This component owns every `fork` of the crate and the only `unsafe` process plumbing
//! (`sys.rs`: the code between `fork` and `exec`, and its reasons). Around it:
//!
//! - `spawn.rs`: start a test process in a sandbox (by re-executing the binary) and wait for it;
//! - `preforked.rs`: a test run alone, in a sandbox forked without `exec` from the top of
//!   `main` (under cargo-nextest, every test): why that is safe, and when it is not done;
//! - `watch.rs`: waiting with a time limit, and killing a sandbox past it;
//! - `fallback.rs`: real root on a host that refuses user namespaces, decided in one place;
//! - `refusal.rs`: why the host refused, with the setting and the fix ([`Refusal`]);
//! - `probe.rs`: asking the host without running a test ([`probe_sandbox`]).
//!
//! It knows nothing of networks or of tests' bodies: it never calls into the harness, the
//! kernel plumbing or the test API. What it is told (the test's name, a time limit, whether the
//! user keeps a failed test) comes from the harness as parameters.

mod fallback;
mod preforked;
mod probe;
mod refusal;
mod served;
mod server;
mod spawn;
mod sys;
mod watch;

pub(crate) use fallback::start_sandboxed;
pub(crate) use preforked::{Forked, Waiting, fork_test};
pub use probe::{SandboxSupport, probe_sandbox};
pub use refusal::Refusal;
pub(crate) use refusal::{HostFacts, diagnose};
pub(crate) use served::ForkServer;
pub(crate) use server::start_fork_server;
pub(crate) use spawn::{describe_status, run_test};
pub(crate) use sys::{
    Sandbox, Side, decode_failure, enter_before_exec, exit_now, fork_into_sandbox,
};
pub(crate) use watch::TIMED_OUT;
