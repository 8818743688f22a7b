//! Root on a host that refuses user namespaces: the sandbox without one.
//!
//! The user namespace is what lets an ordinary user create the other namespaces. Real root
//! needs none: with `CAP_SYS_ADMIN` in the initial user namespace it may unshare the network,
//! mount and PID namespaces directly. So when the host refuses the user namespace (a hardened
//! sysctl, an AppArmor or seccomp policy, a chroot) and the harness runs as real root, each test
//! gets a sandbox of network + mount + PID namespaces alone. Nothing of the host is shared more
//! than before: the test's processes are root either way, and every network object still lives
//! in namespaces that die with the test.
//!
//! "Real root" means uid 0 *in the initial user namespace*: uid 0 inside some other user
//! namespace (`unshare --map-root-user`, rootless containers) is not, because its capabilities
//! stop at that namespace. Such a process could in fact make the namespaces too, but the
//! refusal it met is the one its users need to hear about, so it gets the explanation instead.

use std::fs;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::libc;

use super::sys::{self, Sandbox, Step};

/// Set once real root has been refused a user namespace: later sandboxes of this process go
/// straight to the one without.
static USER_NAMESPACE_REFUSED: AtomicBool = AtomicBool::new(false);

/// Starts a sandboxed process with `start`: in a sandbox with a user namespace, or, when the
/// host refuses one and this process is real root, without (and so from then on, for every
/// sandbox of this process). The one place that decides, for tests, probes and
/// [`run`](crate::run()) alike. `start` reports a sandbox step that failed as the error that
/// `sys.rs` encodes.
pub(crate) fn start_sandboxed<T>(mut start: impl FnMut(Sandbox) -> io::Result<T>) -> io::Result<T> {
    if USER_NAMESPACE_REFUSED.load(Ordering::Relaxed) {
        return start(Sandbox::without_user_namespace());
    }
    match start(Sandbox::for_current_user()) {
        Err(error) if may_fall_back(&error) => {
            USER_NAMESPACE_REFUSED.store(true, Ordering::Relaxed);
            start(Sandbox::without_user_namespace())
        }
        other => other,
    }
}

/// Whether `error`, a failed sandbox step, is a refusal of the user namespace that this process
/// may do without.
pub(crate) fn may_fall_back(error: &io::Error) -> bool {
    sys::decode_failure(error)
        .is_some_and(|(step, errno)| may_do_without_user_namespace(step, errno, Privileges::read()))
}

/// What decides whether the sandbox may do without a user namespace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Privileges {
    /// The real uid is 0.
    pub uid_is_root: bool,
    /// The process is in the initial user namespace (`/proc/self/uid_map` maps all ids to
    /// themselves).
    pub initial_user_namespace: bool,
    /// `CAP_SYS_ADMIN` is in the effective set.
    pub cap_sys_admin: bool,
}

/// The bit of `CAP_SYS_ADMIN` in the capability sets of `/proc/self/status`.
const CAP_SYS_ADMIN: u32 = 21;

impl Privileges {
    pub(crate) fn read() -> Privileges {
        let uid_map = fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
        let cap_eff = fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("CapEff:"))
                    .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            })
            .unwrap_or(0);
        Privileges {
            uid_is_root: nix::unistd::getuid().is_root(),
            initial_user_namespace: is_identity_map(&uid_map),
            cap_sys_admin: cap_eff & (1 << CAP_SYS_ADMIN) != 0,
        }
    }
}

/// Whether a uid map is the initial user namespace's: every id mapped to itself.
fn is_identity_map(uid_map: &str) -> bool {
    let fields: Vec<&str> = uid_map.split_whitespace().collect();
    fields == ["0", "0", "4294967295"]
}

/// Whether a sandbox that failed at `step` may be made again without a user namespace.
///
/// Only a refusal of the user namespace itself qualifies (the unshare, or writing its id maps),
/// and only for real root. `EINVAL` from the unshare is a bug (a multithreaded caller), not a
/// refusal, and the fork and pipe steps fail the same way with or without a user namespace.
fn may_do_without_user_namespace(step: Step, errno: i32, who: Privileges) -> bool {
    let refused = match step {
        Step::Unshare => errno != libc::EINVAL,
        Step::Setgroups | Step::UidMap | Step::GidMap => true,
        Step::ForkInit | Step::ForkTest | Step::Pipe => false,
    };
    refused && who.uid_is_root && who.initial_user_namespace && who.cap_sys_admin
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL_ROOT: Privileges = Privileges {
        uid_is_root: true,
        initial_user_namespace: true,
        cap_sys_admin: true,
    };

    #[test]
    fn real_root_does_without_a_refused_user_namespace() {
        for (step, errno) in [
            (Step::Unshare, libc::EPERM),
            (Step::Unshare, libc::ENOSPC),
            (Step::Unshare, libc::EUSERS),
            (Step::Setgroups, libc::EPERM),
            (Step::UidMap, libc::EPERM),
            (Step::GidMap, libc::EACCES),
        ] {
            assert!(
                may_do_without_user_namespace(step, errno, REAL_ROOT),
                "{step:?} {errno}"
            );
        }
    }

    #[test]
    fn anyone_else_gets_the_explanation() {
        let not_root = Privileges {
            uid_is_root: false,
            ..REAL_ROOT
        };
        let root_of_another_user_namespace = Privileges {
            initial_user_namespace: false,
            ..REAL_ROOT
        };
        let root_without_cap_sys_admin = Privileges {
            cap_sys_admin: false,
            ..REAL_ROOT
        };
        for who in [
            not_root,
            root_of_another_user_namespace,
            root_without_cap_sys_admin,
        ] {
            assert!(!may_do_without_user_namespace(
                Step::Unshare,
                libc::EPERM,
                who
            ));
        }
    }

    #[test]
    fn failures_that_are_not_refusals_are_not_retried() {
        assert!(!may_do_without_user_namespace(
            Step::Unshare,
            libc::EINVAL,
            REAL_ROOT
        ));
        for step in [Step::ForkInit, Step::ForkTest, Step::Pipe] {
            assert!(!may_do_without_user_namespace(
                step,
                libc::EAGAIN,
                REAL_ROOT
            ));
        }
    }

    #[test]
    fn only_the_identity_map_is_the_initial_user_namespace() {
        assert!(is_identity_map("         0          0 4294967295\n"));
        assert!(!is_identity_map("         0       1000          1\n"));
        assert!(!is_identity_map(""));
    }
}
