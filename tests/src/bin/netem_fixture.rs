//! Tests with `delay=` and `loss=`. `tests/netem.rs` runs them on each path
//! (`NETNS_TEST_IMPAIR`): on the relay and on `auto` they must pass (and so show that the delay
//! and the loss are there); forced onto netem, they pass where the kernel has it and fail before
//! the body where it lacks it, saying so.

use netns_test::{Net, netns_test};

/// The round-trip time of one ping from `a` to `b`, in milliseconds, if it was answered.
fn ping_ms(net: &Net) -> Option<f64> {
    println!("the body runs");
    let output = net
        .node("a")
        .command("ping")
        .args(["-c", "1", "-W", "2", "b"])
        .output()
        .expect("run ping");
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .find_map(|word| word.strip_prefix("time="))
        .and_then(|ms| ms.parse().ok())
}

#[netns_test(topology = "a -- b [delay=50ms]")]
fn delay(net: &Net) {
    // 50 ms each way.
    let rtt = ping_ms(net).expect("the ping is answered");
    assert!(rtt >= 100.0, "a round trip took {rtt} ms");
}

#[netns_test(topology = "a -- b [loss=100%]")]
fn loss(net: &Net) {
    assert_eq!(
        ping_ms(net),
        None,
        "a ping crossed a link that loses every packet"
    );
}

/// A delay set and cleared while the test runs shows in the round trip; where the path cannot
/// do it (netem forced on a kernel without it), the call fails naming netem, and the link is
/// left as it was.
#[netns_test(topology = "a -- b [delay=0ms]")]
fn delay_at_run_time(net: &Net) {
    let link = net.link("a", "b");
    match link.set_delay("50ms") {
        Ok(()) => {
            let rtt = ping_ms(net).expect("the ping is answered");
            assert!(rtt >= 100.0, "a round trip took {rtt} ms");
            link.clear_delay().expect("clear the delay");
            let rtt = ping_ms(net).expect("the ping is answered");
            assert!(
                rtt < 50.0,
                "a round trip took {rtt} ms after the delay was cleared"
            );
        }
        Err(error) => {
            assert!(ping_ms(net).is_some(), "the link stopped carrying traffic");
            assert_eq!(
                link.settings().delay_us,
                Some(netns_test::topology::Directed::both(0))
            );
            println!("the link still carries traffic");
            panic!("{error}");
        }
    }
}

/// As [`delay_at_run_time`], with a loss of every packet.
#[netns_test(topology = "a -- b [delay=0ms]")]
fn loss_at_run_time(net: &Net) {
    let link = net.link("a", "b");
    match link.set_loss("100%") {
        Ok(()) => {
            assert_eq!(ping_ms(net), None, "a ping crossed a link that loses all");
            link.clear_loss().expect("clear the loss");
            assert!(
                ping_ms(net).is_some(),
                "the loss is still there once cleared"
            );
        }
        Err(error) => {
            assert!(ping_ms(net).is_some(), "the link stopped carrying traffic");
            assert_eq!(link.settings().loss_ppm, None);
            println!("the link still carries traffic");
            panic!("{error}");
        }
    }
}

/// A link built without a delay or loss, given one at run time: netem can (where the kernel has
/// it); the relay cannot, and the call says how to write the topology instead.
#[netns_test(topology = "a -- b")]
fn delay_at_run_time_on_a_plain_link(net: &Net) {
    let link = net.link("a", "b");
    match link.set_delay("50ms") {
        Ok(()) => {
            let rtt = ping_ms(net).expect("the ping is answered");
            assert!(rtt >= 100.0, "a round trip took {rtt} ms");
        }
        Err(error) => {
            assert!(ping_ms(net).is_some(), "the link stopped carrying traffic");
            println!("the link still carries traffic");
            panic!("{error}");
        }
    }
}

netns_test::main!();
