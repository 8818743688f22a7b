//! Tests that look at the process they run in, driven by `tests/isolation.rs`: a test run alone
//! is forked without `exec` from the harness (the sandbox's `preforked.rs`), many tests are
//! forked by the fork server (`server.rs`), and each must start from the same clean state as a
//! re-executed one. Each test of a pair checks that the other has not been there before it, in
//! whichever order they run.

use std::cell::Cell;
use std::fs;
use std::os::fd::BorrowedFd;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use nix::sys::socket::{AddressFamily, SockaddrLike, SockaddrStorage, getsockname};

use netns_test::{Net, netns_test};

/// Every open descriptor but the one listing them, with what it is.
fn descriptors() -> Vec<(u32, String)> {
    let mut open: Vec<(u32, String)> = fs::read_dir("/proc/self/fd")
        .expect("list /proc/self/fd")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let fd = entry.file_name().to_str()?.parse().ok()?;
            let target = fs::read_link(entry.path()).ok()?;
            Some((fd, target.display().to_string()))
        })
        .filter(|(_, target)| !target.ends_with("/fd"))
        .collect();
    open.sort();
    open
}

/// Whether descriptor `fd` is a socket of the test's network: a netlink socket (what the
/// network is driven with) or the DNS responder's socket on `[::1]:53`, not a socket of the
/// harness or of the fork server (Unix sockets).
fn is_the_networks(fd: u32) -> bool {
    // SAFETY: the descriptor is open (just listed) and only borrowed for one call.
    let fd = unsafe { BorrowedFd::borrow_raw(fd as i32) };
    getsockname::<SockaddrStorage>(std::os::fd::AsRawFd::as_raw_fd(&fd)).is_ok_and(|address| {
        address.family() == Some(AddressFamily::Netlink)
            || address
                .as_sockaddr_in6()
                .is_some_and(|a| a.ip() == std::net::Ipv6Addr::LOCALHOST && a.port() == 53)
    })
}

/// Whether descriptor `fd` is closed when the process starts a program (`O_CLOEXEC`).
fn close_on_exec(fd: u32) -> bool {
    let info = fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap_or_default();
    let flags = info.lines().find_map(|line| line.strip_prefix("flags:"));
    flags
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
        .is_some_and(|f| f & 0o2000000 != 0)
}

/// stdin is `/dev/null`, and beyond stdout and stderr the test holds only what its network is
/// made of (namespaces, netlink sockets, and the DNS responder's sockets and epoll) and the
/// lock on its own artifact folder (closed on exec, so no program it starts holds it): no
/// pipe, file or socket of the harness, nor any descriptor the harness's own caller left open.
#[netns_test(topology = "a -- b")]
fn descriptors_are_its_own(_net: &Net) {
    let open = descriptors();
    println!("open descriptors: {open:?}");
    assert_eq!(open[0], (0, "/dev/null".to_string()), "{open:?}");
    let foreign: Vec<_> = open
        .iter()
        .filter(|(fd, target)| {
            *fd > 2
                && !(target.starts_with("net:[")
                    || (target.starts_with("socket:[") && is_the_networks(*fd))
                    || target == "anon_inode:[eventpoll]"
                    || (target.ends_with("/.descriptors_are_its_own.lock") && close_on_exec(*fd)))
        })
        .collect();
    assert!(
        foreign.is_empty(),
        "descriptors of the harness: {foreign:?}"
    );
}

/// The body runs on the only thread of its process, besides the test's DNS responder (which
/// names itself once it runs: a name not seen at once is looked for again, for a second).
#[netns_test(topology = "a -- b")]
fn one_thread(_net: &Net) {
    let others = || -> Vec<String> {
        fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|task| fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .map(|name| name.trim().to_string())
            .filter(|name| name != "netns-test-dns")
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    let mut threads = others();
    while threads.len() > 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
        threads = others();
    }
    assert_eq!(threads.len(), 1, "threads in the test process: {threads:?}");
}

/// A static that every test changes: each one must find it untouched.
static TOUCHED: AtomicUsize = AtomicUsize::new(0);

#[netns_test(topology = "a -- b")]
fn statics_first(_net: &Net) {
    assert_eq!(
        TOUCHED.fetch_add(1, Ordering::SeqCst),
        0,
        "a test changed it before"
    );
}

#[netns_test(topology = "a -- b")]
fn statics_second(_net: &Net) {
    assert_eq!(
        TOUCHED.fetch_add(1, Ordering::SeqCst),
        0,
        "a test changed it before"
    );
}

thread_local! {
    /// A thread-local that every async test changes on the thread its runtime runs on.
    static RUNTIME_SEEN: Cell<usize> = const { Cell::new(0) };
}

/// A tokio runtime that a test builds and leaves behind with a task parked on it.
static LEFT_BEHIND: OnceLock<tokio::runtime::Runtime> = OnceLock::new();

/// What an async test finds, then leaves behind for the next one to find.
fn runtime_is_fresh() {
    let tasks = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    assert_eq!(
        tasks, 0,
        "tasks alive on the test's runtime before it spawned any"
    );
    assert_eq!(
        RUNTIME_SEEN.with(|seen| seen.replace(1)),
        0,
        "a test touched this thread-local before"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("build a runtime");
    runtime.spawn(std::future::pending::<()>());
    assert!(
        LEFT_BEHIND.set(runtime).is_ok(),
        "a runtime of another test is still here"
    );
    tokio::spawn(std::future::pending::<()>());
}

#[netns_test(topology = "a -- b")]
async fn runtime_first(_net: &Net) {
    runtime_is_fresh();
}

#[netns_test(topology = "a -- b")]
async fn runtime_second(_net: &Net) {
    runtime_is_fresh();
}

/// Keeps the run going for a moment, so that `isolation.rs` can look at the fork server.
#[netns_test(topology = "a -- b")]
fn holds_the_run_open(_net: &Net) {
    std::thread::sleep(std::time::Duration::from_millis(500));
}

netns_test::main!();
