//! A test binary whose tests fail with a `netns_test::Error`, returned or unwrapped, so that
//! `tests/errors.rs` can check what a user reads then: the message and its causes, not the
//! variant's fields.

use std::time::Duration;

use netns_test::{Net, netns_test};

/// `2mbps` is refused: `tc` would read it as bytes per second.
#[netns_test(topology = "client -- server")]
fn returns_an_error(net: &Net) -> netns_test::Result<()> {
    net.link("client", "server").set_rate("2mbps")?;
    Ok(())
}

/// No server ever listens on port 9.
#[netns_test(topology = "client -- server")]
fn unwraps_an_error(net: &Net) {
    net.node("server")
        .wait_for_tcp(9, Duration::from_millis(100))
        .unwrap();
}

/// Passes on a kernel with `sch_netem`; elsewhere returns the error that says the kernel lacks
/// it, with the kernel's errno as its cause.
#[netns_test(topology = "client -- server")]
fn returns_an_error_with_a_cause(net: &Net) -> netns_test::Result<()> {
    net.link("client", "server").set_delay("50ms")?;
    Ok(())
}

netns_test::main!();
