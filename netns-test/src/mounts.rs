//! The test's private mounts: a tmpfs `/run`, a `/proc` of its own PID namespace, node names in
//! `/etc/hosts` and `/run/netns`.
//!
//! The mount namespace is the test's own (made with the sandbox), and `/` is made private first,
//! so none of this propagates to the host. Nothing is ever unmounted: the mounts vanish with the
//! namespace when the test's last process is gone.

use std::fs;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::path::Path;

use nix::mount::{MsFlags, mount};

use crate::{Error, Result};

/// Where the generated files of the test live (on the private tmpfs).
const STATE_DIR: &str = "/run/netns-test";

/// Makes `/` private, mounts a tmpfs on `/run` and a fresh `/proc`.
pub(crate) fn make_private() -> Result<()> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|source| Error::Mount {
        step: "make / private (mount --make-rprivate /)".into(),
        source,
    })?;
    mount(
        Some("tmpfs"),
        "/run",
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=0755"),
    )
    .map_err(|source| Error::Mount {
        step: "mount a private tmpfs on /run".into(),
        source,
    })?;
    // A /proc of the test's PID namespace, so that `ps` and `/proc/<pid>` show the test's own
    // processes. Some container runtimes forbid it (a masked /proc); the test still works, with
    // the host's view of /proc, so a refusal is not an error.
    let _ = mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    );
    Ok(())
}

/// Makes the nodes visible by name: `/run/netns/<node>` for `ip netns exec`, and an `/etc/hosts`
/// that maps every node's name to its first address.
pub(crate) fn publish<'a>(
    namespaces: impl IntoIterator<Item = (&'a str, BorrowedFd<'a>)>,
    hosts: &str,
) -> Result<()> {
    let io_error = |what: String| move |source| Error::Io { what, source };
    fs::create_dir_all("/run/netns").map_err(io_error("cannot create /run/netns".into()))?;
    for (name, fd) in namespaces {
        let target = Path::new("/run/netns").join(name);
        fs::File::create(&target)
            .map_err(io_error(format!("cannot create {}", target.display())))?;
        let source = format!("/proc/self/fd/{}", fd.as_raw_fd());
        mount(
            Some(source.as_str()),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|source| Error::Mount {
            step: format!(
                "bind the namespace of node `{name}` on {}",
                target.display()
            ),
            source,
        })?;
    }
    fs::create_dir_all(STATE_DIR).map_err(io_error(format!("cannot create {STATE_DIR}")))?;
    let hosts_file = Path::new(STATE_DIR).join("hosts");
    fs::write(&hosts_file, hosts)
        .map_err(io_error(format!("cannot write {}", hosts_file.display())))?;
    mount(
        Some(&hosts_file),
        "/etc/hosts",
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|source| Error::Mount {
        step: "bind the test's hosts file on /etc/hosts".into(),
        source,
    })?;
    Ok(())
}
