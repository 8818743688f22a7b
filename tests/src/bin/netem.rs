//! Tests with `delay=` and `loss=`, which need the kernel's `sch_netem`. `tests/netem.rs` runs
//! them: where the kernel has netem they must pass (and so show that the delay and the loss
//! are there); where it lacks it they must fail before the body runs, saying so.

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

netns_test::main!();
