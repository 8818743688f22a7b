//! The test binary the leak audit (`tests/leaks.rs`) runs: its tests end in every way a test
//! can end, start daemons, fill a node with links, hang past their timeout, or hang until the
//! harness is killed. Each
//! long-lived program it starts carries `FIXTURE_MARKER` on its command line, so that a
//! survivor is recognisable on the host.

use std::io::Write;
use std::process::Stdio;

use netns_test::{Net, netns_test};

use netns_test_suites::support::daemons;

use daemons::start_daemons;

/// Tells the audit that test `name` is running, by creating a file in `FIXTURE_READY_DIR`.
fn announce(name: &str) {
    let dir = std::env::var("FIXTURE_READY_DIR").expect("FIXTURE_READY_DIR is set");
    std::fs::File::create(format!("{dir}/{name}"))
        .and_then(|mut f| f.write_all(b"running\n"))
        .expect("announce the test");
}

#[netns_test(topology = "a -- b")]
fn passes(net: &Net) {
    assert_eq!(net.node("b").ip().to_string(), "10.0.1.2");
}

#[netns_test(topology = "a -- b")]
fn passes_with_daemons(net: &Net) {
    start_daemons(net);
}

#[netns_test(topology = "a -- b")]
fn fails_an_assertion(net: &Net) {
    start_daemons(net);
    assert_eq!(net.node("a").ip().to_string(), "10.9.9.9");
}

#[netns_test(topology = "a -- b")]
fn panics(net: &Net) {
    start_daemons(net);
    panic!("a panic with daemons running");
}

#[netns_test(topology = "a -- b")]
fn aborts(net: &Net) {
    start_daemons(net);
    std::process::abort();
}

#[netns_test(topology = "a -- b")]
fn exits_with_a_code(net: &Net) {
    start_daemons(net);
    std::process::exit(7);
}

#[netns_test(topology = "a -- b")]
fn kills_itself(net: &Net) {
    start_daemons(net);
    nix::sys::signal::kill(nix::unistd::getpid(), nix::sys::signal::Signal::SIGKILL).expect("kill");
}

/// A node with 32 links from the topology and 200 more veth pairs added by the test itself.
#[netns_test(topology = "a -- b; hub -- {
    n0 n1 n2 n3 n4 n5 n6 n7 n8 n9 n10 n11 n12 n13 n14 n15
    n16 n17 n18 n19 n20 n21 n22 n23 n24 n25 n26 n27 n28 n29 n30 n31
}")]
fn fills_a_node_with_links(net: &Net) {
    start_daemons(net);
    let batch: String = (0..200)
        .map(|i| format!("link add extra{i} type veth peer name peer{i}\n"))
        .collect();
    let mut ip = net
        .node("hub")
        .command("ip")
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("start ip -batch");
    ip.stdin
        .take()
        .expect("stdin")
        .write_all(batch.as_bytes())
        .expect("feed ip -batch");
    assert!(ip.wait().expect("wait for ip").success());
    let links = net
        .node("hub")
        .command("ip")
        .args(["-o", "link"])
        .output()
        .expect("ip link");
    let count = String::from_utf8_lossy(&links.stdout).lines().count();
    // lo, 32 links of the topology, 400 veth ends.
    assert_eq!(count, 1 + 32 + 400);
}

/// Hangs with daemons running past its own time limit: the harness must kill it with all it
/// started. The line it prints tells the audit that the daemons were running when it was killed.
#[netns_test(topology = "a -- b", timeout = "2s")]
fn times_out(net: &Net) {
    start_daemons(net);
    println!("daemons started, hanging past the timeout");
    loop {
        std::thread::park();
    }
}

/// Hangs with daemons running until something kills it: only the run that SIGKILLs the harness
/// asks for it.
#[netns_test(topology = "a -- b")]
#[ignore = "hangs until the harness is killed"]
fn hangs(net: &Net) {
    start_daemons(net);
    announce("hangs");
    loop {
        std::thread::park();
    }
}

netns_test::main!();
