//! The test's private mounts: a tmpfs `/run`, a `/proc` of its own PID namespace, the test's
//! scratch directory on `/run/netns-test/tmp`, node names in `/etc/hosts` and `/run/netns`, the
//! test's own `/etc/resolv.conf`, and an `/etc/gai.conf` that keeps names IPv4 first.
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

/// Where the test's scratch directory is bound, and what `TMPDIR` names in the test: a short
/// path, so that a unix socket's name there fits `sun_path` (108 bytes) whatever the length of
/// the folder bound there (a project's path, the test binary's name and the test's).
pub(crate) const SCRATCH_MOUNT: &str = "/run/netns-test/tmp";

/// Binds `folder` (the test's scratch directory) on [`SCRATCH_MOUNT`], on the private `/run`
/// that [`make_private`] mounted.
pub(crate) fn bind_scratch(folder: &Path) -> Result<()> {
    fs::create_dir_all(SCRATCH_MOUNT).map_err(|source| Error::Io {
        what: format!("cannot create {SCRATCH_MOUNT} for the scratch directory"),
        source,
    })?;
    bind(
        folder,
        Path::new(SCRATCH_MOUNT),
        format!("the scratch directory {}", folder.display()),
    )
}

/// Binds `source` on `target`; a failure names the step as `bind <what> on <target>`.
fn bind(source: &Path, target: &Path, what: impl std::fmt::Display) -> Result<()> {
    mount(
        Some(source),
        target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|errno| Error::Mount {
        step: format!("bind {what} on {}", target.display()),
        source: errno,
    })
}

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

/// Makes the nodes visible by name: `/run/netns/<node>` for `ip netns exec`, `hosts` on
/// `/etc/hosts` and `resolv_conf` on `/etc/resolv.conf` (see [`replace_resolv_conf`]).
pub(crate) fn publish<'a>(
    namespaces: impl IntoIterator<Item = (&'a str, BorrowedFd<'a>)>,
    hosts: &str,
    resolv_conf: &str,
) -> Result<()> {
    let io_error = |what: String| move |source| Error::Io { what, source };
    fs::create_dir_all("/run/netns").map_err(io_error("cannot create /run/netns".into()))?;
    for (name, fd) in namespaces {
        let target = Path::new("/run/netns").join(name);
        fs::File::create(&target)
            .map_err(io_error(format!("cannot create {}", target.display())))?;
        let source = format!("/proc/self/fd/{}", fd.as_raw_fd());
        bind(
            Path::new(&source),
            &target,
            format_args!("the namespace of node `{name}`"),
        )?;
    }
    fs::create_dir_all(STATE_DIR).map_err(io_error(format!("cannot create {STATE_DIR}")))?;
    bind_file(
        "hosts",
        hosts,
        Path::new("/etc/hosts"),
        "the test's hosts file",
    )?;
    replace_resolv_conf(resolv_conf)?;
    prefer_ipv4()
}

/// Replaces what the test's `/etc/hosts` says with `hosts`, in place (the file that
/// [`publish`] bound there keeps its inode, so the bind shows the new text).
pub(crate) fn rewrite_hosts(hosts: &str) -> Result<()> {
    let file = Path::new(STATE_DIR).join("hosts");
    fs::write(&file, hosts).map_err(|source| Error::Io {
        what: format!("cannot write {}", file.display()),
        source,
    })
}

/// Puts `text` where the resolver reads `/etc/resolv.conf`, so that the host's servers are never
/// asked.
///
/// A plain file is bound over. A symbolic link (systemd-resolved's points into `/run`) is
/// followed: a target under `/run` is on the test's own tmpfs, so the file is written there;
/// an existing target elsewhere is bound over. A host without the file (or whose link leads
/// nowhere outside `/run`) is left so, since a test cannot create a file in `/etc` without
/// real root: glibc then asks `127.0.0.1:53`, where nothing answers, and a lookup that
/// `/etc/hosts` does not settle fails at once.
fn replace_resolv_conf(text: &str) -> Result<()> {
    let link = Path::new("/etc/resolv.conf");
    let target = match fs::read_link(link) {
        Ok(target) => resolve_dangling(&Path::new("/etc").join(target)),
        Err(_) => link.to_path_buf(),
    };
    if target.starts_with("/run") {
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).map_err(|source| Error::Io {
                what: format!("cannot create {} for /etc/resolv.conf", dir.display()),
                source,
            })?;
        }
        return fs::write(&target, text).map_err(|source| Error::Io {
            what: format!(
                "cannot write {} (where /etc/resolv.conf leads)",
                target.display()
            ),
            source,
        });
    }
    if !target.exists() {
        return Ok(());
    }
    bind_file(
        "resolv.conf",
        text,
        &target,
        "the test's resolver configuration",
    )
}

/// Writes `text` to the file `name` of the test's state folder and binds that file over
/// `target`, for this mount namespace alone; `what` names the file in the error.
fn bind_file(name: &str, text: &str, target: &Path, what: &str) -> Result<()> {
    let file = Path::new(STATE_DIR).join(name);
    fs::write(&file, text).map_err(|source| Error::Io {
        what: format!("cannot write {}", file.display()),
        source,
    })?;
    bind(&file, target, what)
}

/// `path` with its longest existing ancestor made canonical and the rest kept: the target of
/// a link that points to a file not there (yet), such as one on the test's empty `/run`.
fn resolve_dangling(path: &Path) -> std::path::PathBuf {
    for ancestor in path.ancestors() {
        if let Ok(real) = fs::canonicalize(ancestor) {
            return match path.strip_prefix(ancestor) {
                // Joining an empty rest would add a final `/`.
                Ok(rest) if !rest.as_os_str().is_empty() => real.join(rest),
                _ => real,
            };
        }
    }
    path.to_path_buf()
}

/// glibc's address-selection rules (`gai.conf`) that rank IPv4 before IPv6 ULAs.
///
/// Node names resolve to both families, and glibc's default rules put an `fd00::/8` address
/// before an IPv4 one, so without this a client that connects or sends to `server:port` would
/// use IPv6, and a server bound to `0.0.0.0` would not hear it. With it, a name means what it
/// meant before dual stack, and IPv6 is one explicit choice away (`ping -6 server`,
/// `Node::ipv6()`). The table is glibc's default with the IPv4-mapped line raised, as the
/// stock `gai.conf` suggests for sites that prefer IPv4. In an IPv6-only network
/// (`[ipv4=off]`) names have IPv6 addresses alone, so the same table is right there too.
const GAI_CONF: &str = "\
precedence ::1/128 50
precedence ::/0 40
precedence 2002::/16 30
precedence ::/96 20
precedence ::ffff:0:0/96 100
";

/// Binds [`GAI_CONF`] on `/etc/gai.conf`, if the host has that file to bind on (Debian and
/// Ubuntu ship one; a test cannot create a file in `/etc` without real root). Without it,
/// names resolve IPv6 first, as glibc's defaults say.
fn prefer_ipv4() -> Result<()> {
    let target = Path::new("/etc/gai.conf");
    if !target.exists() {
        return Ok(());
    }
    let file = Path::new(STATE_DIR).join("gai.conf");
    fs::write(&file, GAI_CONF).map_err(|source| Error::Io {
        what: format!("cannot write {}", file.display()),
        source,
    })?;
    bind(&file, target, "the test's address-selection rules")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// systemd-resolved's link, `../run/systemd/resolve/stub-resolv.conf`, seen from `/etc`
    /// while the test's `/run` is empty: the target is still found under `/run`.
    #[test]
    fn a_dangling_link_target_is_made_absolute() {
        let target = Path::new("/etc").join("../run/netns-test-nowhere/resolve/stub-resolv.conf");
        assert_eq!(
            resolve_dangling(&target),
            Path::new("/run/netns-test-nowhere/resolve/stub-resolv.conf")
        );
        let existing = resolve_dangling(Path::new("/etc/../etc/passwd"));
        assert_eq!(existing.as_os_str(), "/etc/passwd");
    }
}
