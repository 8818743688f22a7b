//! Network namespaces of the calling *thread*: open, create, enter, and come back.
//!
//! # Why everything here is per thread
//!
//! Linux keeps the network namespace per thread, not per process: `unshare(CLONE_NEWNET)` and
//! `setns(fd, CLONE_NEWNET)` move only the calling thread, and `/proc/thread-self/ns/net` names
//! the calling thread's namespace (`/proc/self/ns/net` would name the thread-group leader's). A
//! namespace is kept alive by any open file descriptor of it, so a node is nothing more than an
//! [`OwnedFd`]: no bind mount under `/run/netns` is needed, and dropping the last fd (with no
//! process left inside) lets the kernel tear it down with all its links.
//!
//! # Why [`create`] unshares on the calling thread
//!
//! There are two ways to make a namespace without leaving the caller in it: unshare on the
//! calling thread and `setns` back, or let a short-lived thread unshare and hand back an fd of
//! its namespace. Measured rootless on the project's machines (2 cores, kernel 6.18, release
//! build, median of 200): unsharing here and going back costs 0.55 to 0.65 ms, the thread 0.7
//! to 0.8 ms (and 2.4 to 3.7 ms while the machine was busy compiling); the two `setns` calls
//! cost about 5 µs. Three threads unsharing in parallel take no less than three namespaces
//! made in a row (about 1.9 ms). So [`create`] unshares on the calling thread, and namespaces
//! are made one after the other.
//!
//! A thread that is temporarily inside a node (to open a netlink socket there, or to write
//! `/proc/sys/net/...`, which follows the calling thread's namespace) uses [`Entered`], which
//! takes it back on drop.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::fcntl::{OFlag, open};
use nix::sched::{CloneFlags, setns, unshare};
use nix::sys::stat::Mode;

/// The calling thread's network namespace.
const THREAD_NET_NS: &str = "/proc/thread-self/ns/net";

/// An fd of the calling thread's network namespace.
pub(crate) fn current() -> nix::Result<OwnedFd> {
    open(
        THREAD_NET_NS,
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// A new network namespace, with only `lo` (down) in it. The calling thread stays where it was.
///
/// Creating a network namespace needs `CAP_SYS_ADMIN` in the user namespace that owns the
/// caller's namespace (uid 0 of the test's user namespace has it).
pub(crate) fn create() -> nix::Result<OwnedFd> {
    let home = current()?;
    unshare(CloneFlags::CLONE_NEWNET)?;
    let created = current();
    // Going back to a namespace the thread was just in cannot fail short of a kernel bug; if it
    // did, the error says so rather than leave the caller unaware of where it is.
    enter(home.as_fd())?;
    created
}

/// Moves the calling thread into the network namespace `ns`. Sockets it opens from now on, and
/// threads and processes it starts, belong to `ns`.
pub(crate) fn enter(ns: BorrowedFd<'_>) -> nix::Result<()> {
    setns(ns, CloneFlags::CLONE_NEWNET)
}

/// The calling thread, temporarily inside another network namespace; dropping it takes the
/// thread back to the namespace it was in.
#[derive(Debug)]
pub(crate) struct Entered {
    /// Where to go back to; taken by [`Entered::leave`].
    home: Option<OwnedFd>,
}

impl Entered {
    /// Enters `ns`, remembering the namespace to come back to.
    pub(crate) fn new(ns: BorrowedFd<'_>) -> nix::Result<Entered> {
        let home = current()?;
        enter(ns)?;
        Ok(Entered { home: Some(home) })
    }

    /// Goes back now, reporting a failure instead of panicking.
    pub(crate) fn leave(mut self) -> nix::Result<()> {
        match self.home.take() {
            Some(home) => enter(home.as_fd()),
            None => Ok(()),
        }
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        // A thread left in the wrong namespace would silently put every later socket in the wrong
        // place: that must not go unnoticed. Going back to where the thread was cannot fail short
        // of a kernel bug.
        if let Some(home) = self.home.take()
            && let Err(errno) = enter(home.as_fd())
        {
            panic!("cannot take the thread back to its network namespace: {errno}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use super::*;

    /// `current` names the thread's own namespace: the same inode as the process's.
    #[test]
    fn current_is_the_threads_namespace() {
        let fd = current().expect("open /proc/thread-self/ns/net");
        let stat = nix::sys::stat::fstat(fd.as_fd()).expect("fstat");
        let path = std::fs::metadata("/proc/thread-self/ns/net").expect("stat");
        use std::os::unix::fs::MetadataExt;
        assert_eq!(stat.st_ino, path.ino());
        assert!(fd.as_raw_fd() >= 0);
    }
}
