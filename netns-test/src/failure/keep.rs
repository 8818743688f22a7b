//! Keep on failure: with `NETNS_TEST_KEEP=1`, a failed test's network stays up, and the report
//! says how to enter each node from another terminal, until the user presses Enter.
//!
//! # How a node is entered from the host
//!
//! The nodes are network namespaces held by open file descriptors of the test process, owned by
//! the test's user namespace, which belongs to the user who runs the tests. From the host that
//! user can therefore:
//!
//! 1. open the node's namespace through the test process's fd table, `/proc/<pid>/fd/<n>` (the
//!    same user may read another of its processes' fds);
//! 2. enter the test's user namespace (`--user`), which gives the capabilities needed to enter
//!    its network and mount namespaces; `--preserve-credentials` keeps the user's own ids (which
//!    the namespace maps to root) instead of switching groups, which the namespace forbids;
//! 3. enter the node's network namespace and the test's mount namespace (`--mount`), where
//!    `/etc/hosts` knows the nodes' names and `ip netns` lists them.
//!
//! `nsenter` opens every namespace file before it enters any, so the `/proc/<pid>/fd/<n>` path
//! is read from the host's `/proc`. The pid is the test process's pid on the host, read at the
//! start of the test, before its own `/proc` is mounted (afterwards `/proc/self` says 2).
//!
//! # Waiting
//!
//! The test reads a line from its terminal (`/dev/tty`), not from stdin, which the harness
//! closes. Without a terminal (CI), it says so and ends at once rather than hang. A test
//! outside the terminal's foreground process group (cargo-nextest gives each test a group of
//! its own) cannot read the terminal: it is told so by the kernel (with SIGTTIN blocked, the
//! read fails with EIO rather than stopping the whole group), and waits for Ctrl-C instead, or
//! until the terminal is closed. The harness
//! does not capture the output of any test while `NETNS_TEST_KEEP` is set: the commands must
//! reach the user while the test waits, not after it ends.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::{AsFd, AsRawFd};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};

use crate::Net;
use crate::config::KEEP_ENV;

/// The pid of this process as the host sees it. Must be called before the test's own `/proc`
/// is mounted.
pub(crate) fn host_pid() -> Option<u32> {
    std::fs::read_link("/proc/self")
        .ok()?
        .to_str()?
        .parse()
        .ok()
}

/// Prints how to enter every node, then waits for Enter on the terminal.
pub(crate) fn hold(net: &Net, host_pid: Option<u32>) {
    let Some(pid) = host_pid else {
        eprintln!("netns-test: {KEEP_ENV}: cannot tell this test's pid on the host; not waiting");
        return;
    };
    let tty = match File::open("/dev/tty") {
        Ok(tty) => tty,
        Err(error) => {
            eprintln!(
                "netns-test: {KEEP_ENV} is set but this test has no terminal to wait on \
                 (/dev/tty: {error}); its network goes away now"
            );
            return;
        }
    };
    eprintln!(
        "\nnetns-test: {KEEP_ENV} is set: the network of this test stays up until you press \
         Enter here.\n{}",
        commands(net, pid)
    );
    // A process outside the terminal's foreground process group that reads it would be stopped
    // with its whole group (SIGTTIN); with the signal blocked, the read fails instead.
    let mut ttin = SigSet::empty();
    ttin.add(Signal::SIGTTIN);
    let blocked = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&ttin), None).is_ok();
    let mut line = String::new();
    match BufReader::new(&tty).read_line(&mut line) {
        Err(error) if blocked && error.raw_os_error() == Some(Errno::EIO as i32) => {
            eprintln!(
                "netns-test: this test runs in the background of its terminal (as under \
                 cargo-nextest) and cannot read Enter: press Ctrl-C to end it"
            );
            wait_for_hangup(&tty);
        }
        _ => {}
    }
}

/// Waits until the terminal goes away (or a signal ends the process), so that a test left in
/// the background does not outlive the terminal it was kept for.
fn wait_for_hangup(tty: &File) {
    loop {
        let mut fds = [PollFd::new(tty.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::from(1000u16));
        let events = fds[0].revents().unwrap_or(PollFlags::POLLHUP);
        if events.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL) {
            return;
        }
        if events.contains(PollFlags::POLLIN) {
            // Input meant for the foreground: do not spin on it.
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}

/// The message with one `nsenter` command per node.
fn commands(net: &Net, pid: u32) -> String {
    let mut text = String::from("Enter a node from another terminal (as the same user):\n");
    let width = net
        .nodes()
        .iter()
        .map(|n| n.name().len())
        .max()
        .unwrap_or(0);
    for node in net.nodes() {
        let _ = writeln!(
            text,
            "  {:width$}  {}",
            node.name(),
            nsenter(pid, node.ns().as_raw_fd())
        );
    }
    text.push_str(
        "(a shell in the node; add a command to run just that, such as `ip addr` or \
         `nft list ruleset`)\n",
    );
    text
}

/// The command that enters the namespace held by fd `fd` of process `pid`, with the test's
/// user and mount namespaces.
pub(crate) fn nsenter(pid: u32, fd: i32) -> String {
    format!(
        "nsenter --target {pid} --user --preserve-credentials --mount --net=/proc/{pid}/fd/{fd}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_names_the_process_and_the_fd() {
        assert_eq!(
            nsenter(4242, 7),
            "nsenter --target 4242 --user --preserve-credentials --mount --net=/proc/4242/fd/7"
        );
    }
}
