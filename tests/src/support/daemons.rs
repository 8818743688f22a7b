//! Long-lived programs that the fixture binaries' tests start in their nodes and never wait
//! for, as a real test might leave a server running: the sandbox must end them, however the
//! test ends. Shared by `harness_fixture`, `leaks_fixture` and `leaks_many_fixture`.
//!
//! Each program carries the run's marker on its command line, so that the suites driving these
//! binaries (`harness.rs`, `leaks.rs`) recognise a survivor on the host.

use std::process::Stdio;

use netns_test::Net;

/// Tags the `sleep` processes that tests start. The suites give each run its own marker through
/// `FIXTURE_MARKER` (a number, as `sleep` wants).
fn marker() -> String {
    std::env::var("FIXTURE_MARKER").unwrap_or_else(|_| "31337".into())
}

/// Starts a `sleep MARKER` in every node.
pub fn start_sleeps(net: &Net) {
    let marker = marker();
    for node in net.nodes() {
        let daemon = node
            .command("sleep")
            .arg(&marker)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sleep");
        // Never waited for on purpose: the sandbox must reap and kill it.
        std::mem::forget(daemon);
    }
}

/// Starts a `sleep MARKER` in every node, and in node `a` a thread listening on port 9000 that
/// never ends.
pub fn start_daemons(net: &Net) {
    start_sleeps(net);
    net.node("a").spawn(|| {
        let listener = std::net::TcpListener::bind("0.0.0.0:9000").expect("bind");
        for _ in listener.incoming() {}
    });
}
