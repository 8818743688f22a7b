//! Asking the host, without running a test, whether it lets this process make a test sandbox.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use nix::errno::Errno;

use super::fallback;
use super::refusal::{HostFacts, Refusal, diagnose};
use super::sys::{self, Sandbox};

/// What the host offers for test sandboxes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SandboxSupport {
    /// A user namespace with the others: tests run rootless.
    UserNamespace,
    /// The user namespace is refused, but this process is real root: tests run in network, mount
    /// and PID namespaces alone. The refusal says why the user namespace was refused.
    RootWithoutUserNamespace(Refusal),
    /// Tests cannot run here; the refusal says why and what fixes it.
    Refused(Refusal),
}

/// Makes a sandbox the way the harness does for a test (a fresh process that unshares the user,
/// network, mount and PID namespaces), runs `true` in it, and says how that went.
///
/// # Errors
///
/// When the probe could not be run at all (no `true` program, the test process did not succeed).
pub fn probe_sandbox() -> std::io::Result<SandboxSupport> {
    match run_true(Sandbox::for_current_user()) {
        Ok(()) => Ok(SandboxSupport::UserNamespace),
        Err(error) => {
            let Some((step, errno)) = sys::decode_failure(&error) else {
                return Err(error);
            };
            let refusal = diagnose(step, Errno::from_raw(errno), &HostFacts::read());
            if fallback::may_fall_back(&error)
                && run_true(Sandbox::without_user_namespace()).is_ok()
            {
                Ok(SandboxSupport::RootWithoutUserNamespace(refusal))
            } else {
                Ok(SandboxSupport::Refused(refusal))
            }
        }
    }
}

fn run_true(sandbox: Sandbox) -> std::io::Result<()> {
    let mut command = Command::new("true");
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: `Sandbox::enter` only makes async-signal-safe system calls, as `pre_exec` requires.
    unsafe {
        command.pre_exec(move || sandbox.enter());
    }
    let status = command.status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "`true` in a fresh sandbox ended with {status}"
        )))
    }
}
