//! Tests that look at the process they run in, driven by `tests/isolation.rs`: a test run alone
//! is forked without `exec` from the harness (the sandbox's `preforked.rs`), and must start from
//! the same clean state as a re-executed one.

use std::fs;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// stdin is `/dev/null`, and beyond stdout and stderr the test holds only what its network is
/// made of (namespaces, netlink sockets, and the DNS responder's sockets and epoll): no pipe or
/// file of the harness.
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
                    || target.starts_with("socket:[")
                    || target == "anon_inode:[eventpoll]")
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

netns_test::main!();
