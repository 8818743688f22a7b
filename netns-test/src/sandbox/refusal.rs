//! A host's refusal to make a sandbox, explained: the step, the errno, the setting responsible
//! and the command that fixes it.

use std::fmt;
use std::fs;

use nix::errno::Errno;

use super::sys::Step;

/// The settings that decide whether the host lets an unprivileged process make a user
/// namespace, read when a refusal has to be explained.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct HostFacts {
    /// `kernel.apparmor_restrict_unprivileged_userns` (Ubuntu 23.10 and later).
    pub apparmor_restrict: Option<u64>,
    /// `kernel.unprivileged_userns_clone` (Debian and Ubuntu patch).
    pub unprivileged_userns_clone: Option<u64>,
    /// `user.max_user_namespaces`.
    pub max_user_namespaces: Option<u64>,
    /// The `Seccomp:` mode of this process (2 means a filter, as in containers).
    pub seccomp: Option<u64>,
    /// Whether this process runs as root.
    pub is_root: bool,
}

impl HostFacts {
    pub(crate) fn read() -> HostFacts {
        let sysctl = |path: &str| fs::read_to_string(path).ok()?.trim().parse().ok();
        let seccomp = fs::read_to_string("/proc/self/status").ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Seccomp:"))
                .and_then(|v| v.trim().parse().ok())
        });
        HostFacts {
            apparmor_restrict: sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
            unprivileged_userns_clone: sysctl("/proc/sys/kernel/unprivileged_userns_clone"),
            max_user_namespaces: sysctl("/proc/sys/user/max_user_namespaces"),
            seccomp,
            is_root: nix::unistd::geteuid().is_root(),
        }
    }
}

/// Why the host refused to create the test's sandbox: the step, the errno, the setting
/// responsible and the command that fixes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    step: &'static str,
    errno: Errno,
    setting: String,
    fix: String,
}

impl Refusal {
    /// The step that failed, such as `write /proc/self/uid_map`.
    pub fn step(&self) -> &str {
        self.step
    }

    /// The errno the kernel gave.
    pub fn errno(&self) -> Errno {
        self.errno
    }

    /// The host setting responsible, as far as it can be told.
    pub fn setting(&self) -> &str {
        &self.setting
    }

    /// What to do about it.
    pub fn fix(&self) -> &str {
        &self.fix
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "this host refuses to create the test's user namespace: `{}` failed with {:?} ({}); \
             cause: {}; fix: {}",
            self.step,
            self.errno,
            self.errno.desc(),
            self.setting,
            self.fix
        )
    }
}

impl std::error::Error for Refusal {}

fn step_text(step: Step) -> &'static str {
    match step {
        Step::Unshare => "unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID)",
        Step::Setgroups => "write /proc/self/setgroups",
        Step::UidMap => "write /proc/self/uid_map",
        Step::GidMap => "write /proc/self/gid_map",
        Step::ForkInit => "fork the first process of the PID namespace",
        Step::ForkTest => "fork the test process",
        Step::Pipe => "create the status pipe",
    }
}

/// Explains a failed sandbox step from the host's settings. Pure, so every known case is
/// unit-tested.
pub(crate) fn diagnose(step: Step, errno: Errno, host: &HostFacts) -> Refusal {
    let refusal = |setting: &str, fix: &str| Refusal {
        step: step_text(step),
        errno,
        setting: setting.to_string(),
        fix: fix.to_string(),
    };
    match (step, errno) {
        (Step::Unshare, Errno::EPERM) if host.unprivileged_userns_clone == Some(0) => refusal(
            "kernel.unprivileged_userns_clone = 0 forbids unprivileged user namespaces",
            "sudo sysctl -w kernel.unprivileged_userns_clone=1 \
             (persist it in /etc/sysctl.d/99-userns.conf)",
        ),
        (Step::Unshare, Errno::EPERM) if host.seccomp == Some(2) => refusal(
            "a seccomp filter blocks unshare (a container's default profile, such as Docker's)",
            "run the container with `--security-opt seccomp=unconfined`, or with a seccomp \
             profile that allows unshare and clone with CLONE_NEWUSER",
        ),
        (Step::Unshare, Errno::EPERM) => refusal(
            "a security module or a container runtime forbids user namespaces",
            "check `sysctl kernel.unprivileged_userns_clone user.max_user_namespaces` and the \
             AppArmor/SELinux policy; inside a container, allow unshare in its seccomp profile",
        ),
        (Step::Unshare, Errno::ENOSPC) if host.max_user_namespaces == Some(0) => refusal(
            "user.max_user_namespaces = 0 forbids user namespaces",
            "sudo sysctl -w user.max_user_namespaces=15000 \
             (persist it in /etc/sysctl.d/99-userns.conf)",
        ),
        (Step::Unshare, Errno::ENOSPC) => refusal(
            "the limit user.max_user_namespaces (or the nesting depth of 32) is reached",
            "raise it: sudo sysctl -w user.max_user_namespaces=15000",
        ),
        (Step::Unshare, Errno::EINVAL) => refusal(
            "the process that unshares must have one thread (this is a bug in netns-test)",
            "report it, with the output of this run",
        ),
        (Step::Setgroups | Step::UidMap | Step::GidMap, Errno::EPERM)
            if host.apparmor_restrict == Some(1) =>
        {
            refusal(
                "kernel.apparmor_restrict_unprivileged_userns = 1 (Ubuntu 23.10 and later, \
                 GitHub's ubuntu-24.04 runners) takes every capability inside new user namespaces",
                "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 \
                 (or give the test binaries an AppArmor profile with `userns,`)",
            )
        }
        (Step::Setgroups | Step::UidMap | Step::GidMap, _) => refusal(
            "a security module forbids writing the user namespace's id maps",
            "check the AppArmor/SELinux policy for user namespaces \
             (sysctl kernel.apparmor_restrict_unprivileged_userns)",
        ),
        (Step::ForkInit | Step::ForkTest | Step::Pipe, _) => refusal(
            "the process or file limits of this user are exhausted",
            "check `ulimit -u` and `ulimit -n`",
        ),
        (Step::Unshare, _) => refusal(
            "this kernel lacks user, network, mount or PID namespaces",
            "use a kernel built with CONFIG_USER_NS, CONFIG_NET_NS and CONFIG_PID_NS",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> HostFacts {
        HostFacts {
            max_user_namespaces: Some(96365),
            seccomp: Some(0),
            ..HostFacts::default()
        }
    }

    #[test]
    fn ubuntu_apparmor_restriction_names_the_sysctl_and_the_fix() {
        let host = HostFacts {
            apparmor_restrict: Some(1),
            ..facts()
        };
        let text = diagnose(Step::UidMap, Errno::EPERM, &host).to_string();
        assert!(
            text.contains("`write /proc/self/uid_map` failed with EPERM"),
            "{text}"
        );
        assert!(
            text.contains("kernel.apparmor_restrict_unprivileged_userns = 1"),
            "{text}"
        );
        assert!(
            text.contains("sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"),
            "{text}"
        );
    }

    #[test]
    fn debian_unprivileged_userns_clone() {
        let host = HostFacts {
            unprivileged_userns_clone: Some(0),
            ..facts()
        };
        let r = diagnose(Step::Unshare, Errno::EPERM, &host);
        assert!(r.step().starts_with("unshare("));
        assert!(r.setting().contains("kernel.unprivileged_userns_clone = 0"));
        assert!(
            r.fix()
                .contains("sudo sysctl -w kernel.unprivileged_userns_clone=1")
        );
    }

    #[test]
    fn max_user_namespaces_zero() {
        let host = HostFacts {
            max_user_namespaces: Some(0),
            ..facts()
        };
        let r = diagnose(Step::Unshare, Errno::ENOSPC, &host);
        assert_eq!(r.errno(), Errno::ENOSPC);
        assert!(r.setting().contains("user.max_user_namespaces = 0"));
        assert!(r.fix().contains("sudo sysctl -w user.max_user_namespaces="));
    }

    #[test]
    fn container_seccomp() {
        let host = HostFacts {
            seccomp: Some(2),
            ..facts()
        };
        let r = diagnose(Step::Unshare, Errno::EPERM, &host);
        assert!(r.setting().contains("seccomp"));
        assert!(r.fix().contains("--security-opt seccomp=unconfined"));
    }

    /// Every branch of the diagnosis, with the words that tell the cases apart.
    #[test]
    fn every_known_case_has_its_own_cause_and_fix() {
        let with = |change: fn(&mut HostFacts)| {
            let mut host = facts();
            change(&mut host);
            host
        };
        let cases = [
            (
                Step::Unshare,
                Errno::EPERM,
                with(|h| h.unprivileged_userns_clone = Some(0)),
                "unprivileged_userns_clone = 0",
                "kernel.unprivileged_userns_clone=1",
            ),
            (
                Step::Unshare,
                Errno::EPERM,
                with(|h| h.seccomp = Some(2)),
                "seccomp filter",
                "seccomp=unconfined",
            ),
            (
                Step::Unshare,
                Errno::EPERM,
                facts(),
                "security module or a container runtime",
                "AppArmor/SELinux",
            ),
            (
                Step::Unshare,
                Errno::ENOSPC,
                with(|h| h.max_user_namespaces = Some(0)),
                "user.max_user_namespaces = 0",
                "user.max_user_namespaces=15000",
            ),
            (
                Step::Unshare,
                Errno::ENOSPC,
                facts(),
                "nesting depth of 32",
                "user.max_user_namespaces=15000",
            ),
            (
                Step::Unshare,
                Errno::EINVAL,
                facts(),
                "must have one thread",
                "report it",
            ),
            (
                Step::Unshare,
                Errno::ENOSYS,
                facts(),
                "kernel lacks user, network, mount or PID namespaces",
                "CONFIG_USER_NS",
            ),
            (
                Step::UidMap,
                Errno::EPERM,
                with(|h| h.apparmor_restrict = Some(1)),
                "apparmor_restrict_unprivileged_userns = 1",
                "apparmor_restrict_unprivileged_userns=0",
            ),
            (
                Step::Setgroups,
                Errno::EPERM,
                with(|h| h.apparmor_restrict = Some(1)),
                "apparmor_restrict_unprivileged_userns = 1",
                "apparmor_restrict_unprivileged_userns=0",
            ),
            (
                Step::GidMap,
                Errno::EACCES,
                facts(),
                "forbids writing the user namespace's id maps",
                "AppArmor/SELinux",
            ),
            (
                Step::ForkInit,
                Errno::EAGAIN,
                facts(),
                "process or file limits",
                "ulimit -u",
            ),
            (
                Step::Pipe,
                Errno::EMFILE,
                facts(),
                "process or file limits",
                "ulimit -n",
            ),
        ];
        for (step, errno, host, setting, fix) in cases {
            let refusal = diagnose(step, errno, &host);
            assert!(
                refusal.setting().contains(setting),
                "{step:?} {errno:?}: {refusal}"
            );
            assert!(refusal.fix().contains(fix), "{step:?} {errno:?}: {refusal}");
        }
    }

    #[test]
    fn every_message_names_step_errno_setting_and_fix() {
        let steps = [Step::Unshare, Step::Setgroups, Step::UidMap, Step::GidMap];
        for step in steps {
            for errno in [Errno::EPERM, Errno::ENOSPC, Errno::EINVAL, Errno::EACCES] {
                let text = diagnose(step, errno, &facts()).to_string();
                assert!(text.contains(step_text(step)), "{text}");
                assert!(text.contains(&format!("with {errno:?} (")), "{text}");
                assert!(text.contains("cause: ") && text.contains("fix: "), "{text}");
            }
        }
    }
}
