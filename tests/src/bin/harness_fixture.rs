//! A test binary whose tests end in every way a test can end. The harness suites run it with
//! libtest's flags and check what it prints and what it leaves behind: `tests/harness.rs`
//! mainly, and also `tests/timeouts.rs` (its timed-out and hanging tests) and `tests/refusals.rs`
//! (a host that refuses a sandbox). Each test that starts something long-lived tags it with the
//! run's marker (see `src/support/daemons.rs`) so a leak is recognisable on the host.

use std::time::Duration;

use netns_test::{Net, netns_test};

use netns_test_suites::support::daemons;

use daemons::start_daemons;

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
    println!("printed on stdout by the body");
    eprintln!("printed on stderr by the body");
    net.node("a")
        .command("echo")
        .arg("printed by a program in node a")
        .status()
        .expect("run echo");
    assert_eq!(
        net.node("a").ip().to_string(),
        "10.9.9.9",
        "the address of a"
    );
}

#[netns_test(topology = "a -- b")]
fn fails_with_daemons(net: &Net) {
    start_daemons(net);
    panic!("failing after starting daemons");
}

#[netns_test(topology = "a -- b")]
fn returns_an_error() -> Result<(), std::io::Error> {
    Err(std::io::Error::other("the body returned this error"))
}

#[netns_test(topology = "a -- b")]
fn aborts(net: &Net) {
    start_daemons(net);
    eprintln!("about to abort");
    std::process::abort();
}

#[netns_test(topology = "a -- b")]
fn kills_itself(net: &Net) {
    start_daemons(net);
    nix::sys::signal::kill(nix::unistd::getpid(), nix::sys::signal::Signal::SIGKILL).expect("kill");
}

#[netns_test(topology = "a -- b")]
fn exits_with_a_code(net: &Net) {
    start_daemons(net);
    std::process::exit(7);
}

#[netns_test(topology = "a -- b", timeout = "1s")]
fn times_out(net: &Net) {
    start_daemons(net);
    println!("daemons started, now sleeping past the timeout");
    std::thread::sleep(Duration::from_secs(3600));
}

/// Stops itself (`SIGSTOP`) before its timeout: a process that cannot report its own
/// timeout, which the harness must kill all the same.
#[netns_test(topology = "a -- b", timeout = "1s")]
#[ignore = "stops itself"]
fn stops_itself(net: &Net) {
    start_daemons(net);
    println!("daemons started, now stopping");
    nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP).expect("stop");
}

/// Runs until something kills it: the default timeout (`NETNS_TEST_TIMEOUT`), or whatever kills
/// the harness, as cargo-nextest does past its `slow-timeout`.
#[netns_test(topology = "a -- b")]
#[ignore = "runs until killed"]
fn runs_until_killed(net: &Net) {
    start_daemons(net);
    println!("daemons started, running until killed");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

#[netns_test(topology = "a -- b")]
#[ignore = "only runs when asked"]
fn ignored_by_default() {}

#[netns_test(topology = "a -- b")]
#[should_panic(expected = "expected boom")]
fn should_panic_and_does() {
    panic!("the expected boom");
}

#[netns_test(topology = "a -- b")]
#[should_panic]
fn should_panic_but_does_not() {}

mod nested {
    use netns_test::{Net, netns_test};

    #[netns_test(topology = "switch s; {x y z} -- s")]
    fn inner(net: &Net) {
        assert_eq!(net.nodes().len(), 3);
    }
}

netns_test::main!();
