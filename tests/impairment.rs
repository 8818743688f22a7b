//! `delay=` and `loss=` seen from the nodes, on whichever path this machine uses (the kernel's
//! netem, or the userspace relay where the kernel lacks it; `NETNS_TEST_IMPAIR=relay` forces the
//! relay): ping round trips, UDP streams with sequence numbers, a TCP bulk transfer, ARP and
//! neighbour discovery, settings changed while the test runs, and a relay no node can see.
//!
//! The bounds are generous: they catch a delay or loss that is missing or grossly wrong, not a
//! few percent of error (the accuracy is measured by `cargo xtask bench`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use netns_test::{Net, Node, netns_test};

/// The round-trip times of `count` pings from `from` to `to`, in milliseconds, of those
/// answered.
fn rtts(node: &Node, to: &str, count: u32) -> Vec<f64> {
    let count = count.to_string();
    let output = node
        .command("ping")
        .args(["-c", &count, "-i", "0.05", "-W", "2", to])
        .output()
        .expect("run ping");
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .filter_map(|word| word.strip_prefix("time="))
        .filter_map(|ms| ms.parse().ok())
        .collect()
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// What `count` UDP datagrams numbered 0.. sent from `from` to `to` look like on arrival: the
/// sequence numbers received, in the order they came. A ping first resolves the neighbours, so
/// that no datagram waits for ARP; the receiver reads while the sender sends.
fn udp_stream(net: &Net, from: &str, to: &str, count: u32) -> Vec<u32> {
    assert!(
        !rtts(net.node(from), to, 1).is_empty(),
        "{from} cannot reach {to}"
    );
    let receiver = net
        .node(to)
        .run(|| UdpSocket::bind("0.0.0.0:9000").expect("bind"));
    let receiving = net.node(to).spawn(move || {
        receiver
            .set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        let mut received = Vec::new();
        let mut buffer = [0u8; 16];
        while let Ok((len, _)) = receiver.recv_from(&mut buffer) {
            assert_eq!(len, 4, "a datagram of {len} bytes");
            received.push(u32::from_be_bytes(buffer[..4].try_into().unwrap()));
        }
        received
    });
    let target = format!("{to}:9000");
    net.node(from).run(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").expect("bind");
        for seq in 0..count {
            socket.send_to(&seq.to_be_bytes(), &target).expect("send");
            // Paced, so that no queue on the way overflows: only the setting may lose.
            if seq % 20 == 19 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    });
    receiving.join().expect("the receiver")
}

/// Sends `bytes` from `from` to `to` over TCP; returns what the receiver counted.
fn tcp_transfer(net: &Net, from: &str, to: &str, bytes: usize) -> usize {
    let listener = net
        .node(to)
        .run(|| TcpListener::bind("0.0.0.0:7000").expect("bind"));
    let receiver = net.node(to).spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut received = 0;
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            match stream.read(&mut buffer).expect("read") {
                0 => break,
                n => received += n,
            }
        }
        stream.write_all(b"done").expect("acknowledge");
        received
    });
    let target = format!("{to}:7000");
    net.node(from).run(|| {
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
    });
    receiver.join().expect("the receiver")
}

#[netns_test(topology = "a -- b [delay=20ms]")]
fn a_delay_shows_in_every_round_trip(net: &Net) {
    let rtts = rtts(net.node("a"), "b", 10);
    assert!(rtts.len() >= 9, "answered: {rtts:?}");
    // 20 ms each way: every round trip takes at least 40 ms, and not grossly more.
    let least = rtts.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(least >= 39.0, "a round trip took {least} ms: {rtts:?}");
    assert!(median(&rtts) < 80.0, "round trips: {rtts:?}");
}

#[netns_test(topology = "a -- b [loss=100%]")]
fn a_link_that_loses_everything_carries_nothing(net: &Net) {
    assert!(rtts(net.node("a"), "b", 3).is_empty());
}

#[netns_test(topology = "a -- b [loss=10%]")]
fn loss_drops_about_the_share_set(net: &Net) {
    let received = udp_stream(net, "a", "b", 2000);
    let lost = 2000 - received.len();
    // 10% of 2000 is 200, with a standard deviation of 13.4: 120 to 300 is six of them.
    assert!((120..=300).contains(&lost), "lost {lost} of 2000");
    assert!(received.windows(2).all(|w| w[0] < w[1]), "reordered");
}

#[netns_test(topology = "a -- b [delay=5ms]")]
fn a_delay_alone_loses_and_reorders_nothing(net: &Net) {
    let received = udp_stream(net, "a", "b", 2000);
    assert_eq!(received, (0..2000).collect::<Vec<u32>>());
}

#[netns_test(topology = "a -- b [delay=2ms, loss=1%]")]
fn a_tcp_bulk_transfer_crosses_a_delayed_lossy_link(net: &Net) {
    let bytes = 16 << 20;
    assert_eq!(tcp_transfer(net, "a", "b", bytes), bytes);
}

#[netns_test(topology = "a -- r -- b [delay=1ms]")]
fn arp_and_neighbour_discovery_cross_the_link(net: &Net) {
    // IPv4 needs ARP across the delayed link, IPv6 neighbour discovery (multicast).
    assert!(!rtts(net.node("a"), "r", 1).is_empty(), "IPv4");
    let r6 = net.node("r").ipv6().to_string();
    assert!(!rtts(net.node("a"), &r6, 1).is_empty(), "IPv6 to {r6}");
    let b6 = net.node("b").ipv6().to_string();
    assert!(!rtts(net.node("a"), &b6, 1).is_empty(), "IPv6 to {b6}");
    let neighbours = net.node("a").command("ip").args(["neigh", "show"]).output();
    let neighbours = String::from_utf8_lossy(&neighbours.expect("ip neigh").stdout).into_owned();
    assert!(neighbours.contains("lladdr"), "{neighbours}");
}

#[netns_test(topology = "a -- b [delay=0ms]")]
fn delay_and_loss_change_at_run_time(net: &Net) {
    let link = net.link("a", "b");
    assert!(median(&rtts(net.node("a"), "b", 5)) < 20.0);
    link.set_delay("30ms").expect("set the delay");
    let slow = rtts(net.node("a"), "b", 5);
    let least = slow.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(least >= 59.0, "round trips with 30 ms each way: {slow:?}");
    link.set_loss("100%").expect("set the loss");
    assert!(rtts(net.node("a"), "b", 3).is_empty(), "a ping crossed");
    link.clear_loss().expect("clear the loss");
    link.clear_delay().expect("clear the delay");
    let fast = rtts(net.node("a"), "b", 5);
    assert!(fast.len() >= 4, "{fast:?}");
    assert!(median(&fast) < 20.0, "round trips after clearing: {fast:?}");
    assert!(link.settings().delay_us.is_none());
}

#[netns_test(topology = "a -- b [delay=1ms]")]
fn the_relay_is_no_node(net: &Net) {
    let names: Vec<&str> = net.nodes().iter().map(|n| n.name()).collect();
    assert_eq!(names, ["a", "b"]);
    let hosts = std::fs::read_to_string("/etc/hosts").expect("read /etc/hosts");
    assert!(!hosts.contains("relay"), "{hosts}");
    // The nodes see a plain link: one interface each besides `lo`.
    let links = net.node("a").command("ip").args(["-o", "link"]).output();
    let links = String::from_utf8_lossy(&links.expect("ip link").stdout).into_owned();
    assert_eq!(links.lines().count(), 2, "{links}");
}

netns_test::main!();
