//! Link settings, seen from the nodes: datagrams too large for an MTU, and a rate limit that
//! limits.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Output;
use std::time::{Duration, Instant};

use netns_test::{Net, Node, netns_test};

fn run(node: &Node, program: &str, args: &[&str]) -> Output {
    node.command(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} in {}: {e}", node.name()))
}

/// Whether one ping of `size` bytes of payload with "don't fragment" gets an answer.
fn pings_unfragmented(node: &Node, target: &str, size: u32) -> bool {
    let size = size.to_string();
    let args = ["-c", "1", "-W", "1", "-M", "do", "-s", &size, target];
    run(node, "ping", &args).status.success()
}

/// What `ip link show dev eth0` prints in `node`.
fn link_show(node: &Node, interface: &str) -> String {
    let output = run(node, "ip", &["-o", "link", "show", "dev", interface]);
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Sends `bytes` bytes from `from` to `to`'s port 7000 over TCP and returns how long it took,
/// from connect until the receiver has read them all.
fn transfer(net: &Net, from: &str, to: &str, bytes: usize) -> Duration {
    let listener = net
        .node(to)
        .run(|| TcpListener::bind("0.0.0.0:7000").expect("bind"));
    let receiver = net.node(to).spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut received = Vec::with_capacity(bytes);
        stream.read_to_end(&mut received).expect("read");
        stream.write_all(b"done").expect("acknowledge");
        received.len()
    });
    let target = format!("{to}:7000");
    let elapsed = net.node(from).run(|| {
        let start = Instant::now();
        let mut stream = TcpStream::connect(&target).expect("connect");
        stream.write_all(&vec![7u8; bytes]).expect("send");
        stream
            .shutdown(std::net::Shutdown::Write)
            .expect("shutdown");
        let mut ack = Vec::new();
        stream
            .read_to_end(&mut ack)
            .expect("read the acknowledgement");
        assert_eq!(ack, b"done");
        start.elapsed()
    });
    assert_eq!(receiver.join().expect("receiver"), bytes);
    elapsed
}

#[netns_test(topology = "a -- b [mtu=1280]")]
fn a_datagram_larger_than_the_mtu_does_not_pass_with_df(net: &Net) {
    let (a, b) = (net.node("a"), net.node("b"));
    assert!(link_show(a, "eth0").contains("mtu 1280"));
    assert!(link_show(b, "eth0").contains("mtu 1280"));
    // 1200 bytes of payload and 28 of headers fit in 1280; 1400 do not.
    assert!(pings_unfragmented(a, "b", 1200));
    assert!(!pings_unfragmented(a, "b", 1400));
    assert!(!pings_unfragmented(b, "a", 1400));
}

#[netns_test(topology = "client -- gateway; gateway -- server [mtu=1280]")]
fn a_router_refuses_a_datagram_too_large_for_the_next_link(net: &Net) {
    let client = net.node("client");
    // The client's own link carries 1500 bytes: the gateway refuses to forward 1428.
    assert!(link_show(client, "eth0").contains("mtu 1500"));
    assert!(pings_unfragmented(client, "server", 1200));
    let output = run(
        client,
        "ping",
        &["-c", "1", "-W", "1", "-M", "do", "-s", "1400", "server"],
    );
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("Frag needed") || text.contains("mtu = 1280"),
        "{text}"
    );
}

/// 500 kB at 1 Mbit/s (125 kB/s) take about 3.4 s after the first 64 KiB of burst; unlimited,
/// a veth carries them in milliseconds. The bound is half the expected time.
#[netns_test(topology = "client -- server [rate=1mbit]")]
fn a_rate_limit_limits(net: &Net) {
    for node in ["client", "server"] {
        let qdisc = run(net.node(node), "tc", &["qdisc", "show", "dev", "eth0"]);
        let text = String::from_utf8_lossy(&qdisc.stdout);
        assert!(
            text.contains("tbf") && text.contains("rate 1Mbit"),
            "{node}: {text}"
        );
    }
    let elapsed = transfer(net, "client", "server", 500_000);
    println!("500 kB at 1mbit: {elapsed:?}");
    assert!(
        elapsed > Duration::from_millis(1700),
        "500 kB crossed a 1 Mbit/s link in {elapsed:?}"
    );
    // And the other way: both ends are limited.
    let elapsed = transfer(net, "server", "client", 250_000);
    println!("250 kB back at 1mbit: {elapsed:?}");
    assert!(
        elapsed > Duration::from_millis(700),
        "250 kB crossed a 1 Mbit/s link in {elapsed:?}"
    );
}

netns_test::main!();
