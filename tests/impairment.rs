//! `delay=` and `loss=` seen from the nodes, on whichever path this machine uses (the kernel's
//! netem, or the userspace relay where the kernel lacks it; `NETNS_TEST_IMPAIR=relay` forces the
//! relay): ping round trips, UDP streams with sequence numbers, a TCP bulk transfer, ARP and
//! neighbour discovery, settings changed while the test runs, and a relay no node can see.
//!
//! The bounds are generous: they catch a delay or loss that is missing or grossly wrong, not a
//! few percent of error (the accuracy is measured by `cargo xtask bench`).

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use netns_test::{Net, Node, netns_test};
use netns_test_suites::support::transfer::tcp_transfer;

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

/// Makes `from` and `to` know each other's MAC addresses for good (a permanent neighbour
/// entry each way), so that a measurement sends no ARP request, which a lossy link could lose
/// and leave the neighbour unresolved for seconds.
fn resolve(net: &Net, from: &str, to: &str) {
    let mac = |node: &str| {
        let output = net
            .node(node)
            .command("ip")
            .args(["-o", "link", "show", "eth0"])
            .output();
        let text = String::from_utf8_lossy(&output.expect("ip link").stdout).into_owned();
        let words: Vec<&str> = text.split_whitespace().collect();
        let at = words
            .iter()
            .position(|w| *w == "link/ether")
            .expect("a MAC address");
        words[at + 1].to_string()
    };
    for (here, there) in [(from, to), (to, from)] {
        let ip = net.node(there).ip().to_string();
        let status = net
            .node(here)
            .command("ip")
            .args([
                "neigh",
                "replace",
                &ip,
                "lladdr",
                &mac(there),
                "dev",
                "eth0",
            ])
            .args(["nud", "permanent"])
            .status()
            .expect("ip neigh");
        assert!(status.success(), "cannot add {there}'s address to {here}");
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// What `count` UDP datagrams numbered 0.. sent from `from` to `to` look like on arrival: the
/// sequence numbers received, in the order they came. The neighbours are set first (see
/// [`resolve`]); the receiver reads while the sender sends.
fn udp_stream(net: &Net, from: &str, to: &str, count: u32) -> Vec<u32> {
    resolve(net, from, to);
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

/// The one-way delays of `count` datagrams from `from` to `to`, in milliseconds, of those that
/// arrived: each carries the time it was sent (both nodes share the machine's clock).
fn one_way_ms(net: &Net, from: &str, to: &str, count: u32) -> Vec<f64> {
    resolve(net, from, to);
    let receiver = net
        .node(to)
        .run(|| UdpSocket::bind("0.0.0.0:9001").expect("bind"));
    let receiving = net.node(to).spawn(move || {
        receiver
            .set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        let mut delays = Vec::new();
        let mut buffer = [0u8; 16];
        while let Ok((len, _)) = receiver.recv_from(&mut buffer) {
            assert_eq!(len, 16, "a datagram of {len} bytes");
            let sent = u128::from_be_bytes(buffer);
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            delays.push((now - sent) as f64 / 1e6);
        }
        delays
    });
    let target = format!("{to}:9001");
    net.node(from).run(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").expect("bind");
        for _ in 0..count {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            socket.send_to(&now.to_be_bytes(), &target).expect("send");
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    receiving.join().expect("the receiver")
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
    assert_eq!(tcp_transfer(net, "a", "b", bytes).0, bytes);
}

#[netns_test(topology = "client -- server [delay=20ms, loss=2%]")]
fn an_http_exchange_crosses_a_delayed_lossy_link(net: &Net) {
    let listener = net
        .node("server")
        .run(|| TcpListener::bind("0.0.0.0:8080").expect("bind"));
    let body = vec![b'x'; 1 << 20];
    let serving = net.node("server").spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).expect("read the request");
            request.push(byte[0]);
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("write the head");
        stream.write_all(&body).expect("write the body");
        String::from_utf8_lossy(&request).into_owned()
    });
    let url = format!("http://{}:8080/file", net.node("server").ip());
    let output = net
        .node("client")
        .command("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{size_download}",
        ])
        .args(["--max-time", "60", &url])
        .output()
        .expect("run curl");
    let request = serving.join().expect("the server");
    assert!(request.starts_with("GET /file HTTP/1.1"), "{request}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "200 1048576");
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

#[netns_test(topology = "switch lan; pc1 -- lan [delay=10ms]; pc2 -- lan")]
fn a_delayed_link_to_a_switch_delays_what_crosses_it(net: &Net) {
    // The relay's end facing a bridge port is made down and set up apart from the others.
    let slow = rtts(net.node("pc1"), "pc2", 3);
    assert_eq!(slow.len(), 3, "round trips to pc2: {slow:?}");
    let least = slow.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(least >= 19.0, "10 ms each way through the switch: {slow:?}");
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

#[netns_test(topology = "a -- b [delay=30ms/1ms]")]
fn each_direction_has_its_own_delay(net: &Net) {
    let there = one_way_ms(net, "a", "b", 20);
    let back = one_way_ms(net, "b", "a", 20);
    assert!(there.len() >= 18 && back.len() >= 18, "{there:?} {back:?}");
    assert!(
        median(&there) >= 29.0 && median(&there) < 60.0,
        "a to b: {there:?}"
    );
    assert!(
        median(&back) >= 0.9 && median(&back) < 15.0,
        "b to a: {back:?}"
    );
}

#[netns_test(topology = "a -- b [delay=10ms, jitter=5ms]")]
fn jitter_spreads_the_delay(net: &Net) {
    let delays = one_way_ms(net, "a", "b", 100);
    assert!(delays.len() >= 95, "{delays:?}");
    let least = delays.iter().copied().fold(f64::INFINITY, f64::min);
    let most = delays.iter().copied().fold(0.0, f64::max);
    // Uniform in 5..15 ms: over 100 draws both ends are reached within a couple of ms.
    assert!((4.9..8.0).contains(&least), "least {least}: {delays:?}");
    assert!((12.0..40.0).contains(&most), "most {most}: {delays:?}");
}

#[netns_test(topology = "a -- b [duplicate=10%]")]
fn duplicate_sends_about_the_share_set_twice(net: &Net) {
    let received = udp_stream(net, "a", "b", 2000);
    let twice = received.len() - 2000;
    assert!((120..=300).contains(&twice), "{twice} duplicates of 2000");
    let mut unique = received.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 2000, "a datagram was lost");
}

#[netns_test(topology = "a -- b [delay=10ms, reorder=20%]")]
fn reorder_sends_about_the_share_set_ahead(net: &Net) {
    let received = udp_stream(net, "a", "b", 2000);
    assert_eq!(received.len(), 2000, "a datagram was lost");
    let mut highest = 0;
    let mut late = 0;
    for &seq in &received {
        if seq < highest {
            late += 1;
        }
        highest = highest.max(seq);
    }
    // About 400 datagrams overtake the ones delayed before them; each pushes several late.
    assert!(late >= 200, "only {late} of 2000 arrived after a later one");
}

#[netns_test(topology = "a -- b [loss=10%, burst=5]")]
fn bursty_loss_loses_in_runs(net: &Net) {
    let received = udp_stream(net, "a", "b", 2000);
    let lost = 2000 - received.len();
    // Bursts make the count vary about three times as much as independent losses.
    assert!((60..=400).contains(&lost), "lost {lost} of 2000");
    let runs = received
        .windows(2)
        .filter(|w| w[1] > w[0] + 1)
        .count()
        .max(1);
    let mean = lost as f64 / runs as f64;
    // Independent losses of 10% come in runs of 1.1 on average; bursts of 5 here.
    assert!(mean >= 2.5, "{lost} losses in {runs} runs");
}

#[netns_test(topology = "phone -- sat [profile=satellite]")]
fn the_satellite_profile_takes_half_a_second_a_round_trip(net: &Net) {
    // Without waiting for ARP, which would cost one more round trip.
    resolve(net, "phone", "sat");
    let rtts = rtts(net.node("phone"), "sat", 3);
    assert!(!rtts.is_empty(), "no answer");
    let least = rtts.iter().copied().fold(f64::INFINITY, f64::min);
    assert!((557.0..700.0).contains(&least), "round trips: {rtts:?}");
}

#[netns_test(topology = "laptop -- ap [profile=wifi]")]
fn the_wifi_profile_spreads_round_trips_around_20_ms(net: &Net) {
    resolve(net, "laptop", "ap");
    let mut rtts = rtts(net.node("laptop"), "ap", 30);
    assert!(rtts.len() >= 28, "round trips: {rtts:?}");
    rtts.sort_by(f64::total_cmp);
    // 0 to 20 ms each way, uniformly: a round trip of 0 to 40 ms, 20 ms in the middle.
    let (least, most) = (rtts[0], rtts[rtts.len() - 1]);
    assert!((12.0..28.0).contains(&median(&rtts)), "{rtts:?}");
    assert!(most - least > 10.0, "round trips barely vary: {rtts:?}");
    assert!(most < 60.0, "{rtts:?}");
}

#[netns_test(topology = "phone -- tower [profile=lte]")]
fn the_lte_profile_gives_the_phone_a_slower_uplink(net: &Net) {
    let qdisc = |node: &str| {
        let output = (net.node(node).command("tc"))
            .args(["qdisc", "show", "dev", "eth0"])
            .output();
        String::from_utf8_lossy(&output.expect("tc").stdout).into_owned()
    };
    assert!(qdisc("phone").contains("rate 50Mbit"), "{}", qdisc("phone"));
    assert!(
        qdisc("tower").contains("rate 100Mbit"),
        "{}",
        qdisc("tower")
    );
}

#[netns_test(topology = "a -- b [corrupt=10%]")]
fn corrupted_datagrams_fail_their_checksums(net: &Net) {
    let received = udp_stream(net, "a", "b", 2000);
    // A flipped bit anywhere in the IP or UDP header or payload fails a checksum, so the
    // receiver drops the datagram: about 10% are missing, and none arrives altered.
    let lost = 2000 - received.len();
    assert!((120..=300).contains(&lost), "lost {lost} of 2000");
    assert!(
        received.iter().all(|&seq| seq < 2000),
        "an altered datagram arrived"
    );
}

netns_test::main!();
