//! Link settings and link faults, seen from the nodes: traffic that stops and resumes, datagrams
//! too large for an MTU, and a rate limit that limits.

use std::process::Output;
use std::time::Duration;

use netns_test::{Net, Node, netns_test};
use netns_test_suites::support::programs::{pings, pings6};
use netns_test_suites::support::transfer::timed_tcp_transfer;

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

#[netns_test(topology = "client -- gateway -- server")]
fn traffic_stops_when_a_link_is_down_and_resumes_when_it_is_up(net: &Net) {
    let (client, gateway) = (net.node("client"), net.node("gateway"));
    assert!(pings(client, "server"));
    let link = net.link("client", "gateway");
    assert_eq!(link.name(), "client -- gateway");
    link.down().unwrap();
    // Both ends are down, so each side sees it.
    assert!(link_show(client, "eth0").contains("state DOWN"));
    assert!(link_show(gateway, "eth0").contains("state DOWN"));
    assert!(!pings(client, "server"));
    assert!(!pings(gateway, "client"));
    // The other link of the gateway is untouched.
    assert!(pings(gateway, "server"));
    link.up().unwrap();
    // `up` waits until the link can carry traffic: the very next ping is answered.
    assert!(pings(client, "server"));
    // IPv6 too: the addresses and routes the kernel dropped with the interface are back. The
    // wait covers one retransmitted neighbour solicitation (1 s): on a loaded machine the
    // interface's IPv6 start-up after `up` can swallow the first one, and what this checks is
    // that the path exists again, not how soon.
    let ping6 = run(client, "ping", &["-6", "-c", "1", "-W", "3", "server"]);
    assert!(ping6.status.success(), "{ping6:?}");
}

#[netns_test(topology = "switch lan; {pc1 pc2} -- lan")]
fn a_link_to_a_switch_goes_down_and_up(net: &Net) {
    let pc1 = net.node("pc1");
    let link = net.link("lan", "pc1");
    assert_eq!(link.name(), "pc1 -- lan");
    link.down().unwrap();
    assert!(link_show(pc1, "eth0").contains("state DOWN"));
    assert!(!pings(net.node("pc2"), "pc1"));
    link.up().unwrap();
    // pc2's failed ping left its ARP entry for pc1 resolving: the kernel sends the next request
    // when its retransmit timer fires, up to a second later, so this ping may wait that long.
    let ping = run(net.node("pc2"), "ping", &["-c", "1", "-W", "3", "pc1"]);
    assert!(ping.status.success());
}

#[netns_test(topology = "client -- r1 -- server; r1 -- admin")]
fn disconnect_cuts_a_router_off_and_reconnect_undoes_it(net: &Net) {
    let router = net.node("r1");
    assert!(pings(net.node("client"), "server"));
    router.disconnect().unwrap();
    for interface in ["eth0", "eth1", "eth2"] {
        assert!(link_show(router, interface).contains("state DOWN"));
    }
    assert!(!pings(net.node("client"), "server"));
    assert!(!pings(net.node("admin"), "client"));
    // Both ends of each link went down: the far side's interface too.
    let far = link_show(net.node("server"), "eth0");
    assert!(far.contains("state DOWN"), "{far}");
    router.reconnect().unwrap();
    assert!(pings(net.node("client"), "server"));
    assert!(pings(net.node("admin"), "client"));
    let ping6 = run(
        net.node("admin"),
        "ping",
        &["-6", "-c", "1", "-W", "1", "client"],
    );
    assert!(ping6.status.success(), "{ping6:?}");
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

#[netns_test(topology = "a -- b")]
fn set_mtu_lowers_the_mtu_at_run_time(net: &Net) {
    let (a, b) = (net.node("a"), net.node("b"));
    assert!(pings_unfragmented(a, "b", 1400));
    let link = net.link("a", "b");
    link.set_mtu(1280).unwrap();
    assert!(link_show(b, "eth0").contains("mtu 1280"));
    assert!(!pings_unfragmented(a, "b", 1400));
    assert!(pings_unfragmented(a, "b", 1200));
    assert_eq!(link.settings().mtu, Some(1280));
    let error = link.set_mtu(70000).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid link setting: an MTU of 70000 is out of range: an MTU is 68 to 65535 bytes"
    );
}

#[netns_test(topology = "client -- gateway -- server")]
fn ipv6_comes_back_when_the_mtu_is_raised_to_1280_again(net: &Net) {
    let (client, server) = (net.node("client"), net.node("server"));
    let server6 = server.ipv6().to_string();
    assert!(pings6(client, &server6));
    let link = net.link("client", "gateway");
    link.set_mtu(1000).unwrap();
    assert!(!pings6(client, &server6), "IPv6 needs an MTU of 1280");
    assert!(pings(client, &server.ip().to_string()));
    link.down().unwrap();
    link.up().expect("a link without IPv6 comes up");
    assert!(pings(client, &server.ip().to_string()));
    link.set_mtu(1500).unwrap();
    assert!(pings6(client, &server6));
    assert!(pings6(server, &client.ipv6().to_string()));
}

/// The kernel deletes the routes through an interface that goes down, the default routes
/// behind a NAT among them: they come back with the link, and the NATs translate again.
#[netns_test(
    topology = "peer -- home -- isp -- server; nat home [outside=isp]; nat isp [outside=server]"
)]
fn traffic_through_two_nats_resumes_after_their_links_come_back(net: &Net) {
    let (peer, server) = (net.node("peer"), net.node("server").ip().to_string());
    assert!(pings(peer, &server));
    let outside = net.link("home", "isp");
    outside.down().unwrap();
    assert!(!pings(peer, &server));
    outside.up().unwrap();
    assert!(pings(peer, &server));
    net.node("isp").disconnect().unwrap();
    assert!(!pings(peer, &server));
    net.node("isp").reconnect().unwrap();
    assert!(pings(peer, &server));
    assert!(pings6(peer, &net.node("server").ipv6().to_string()));
}

/// 500 kB at 1 Mbit/s (125 kB/s) take about 3.5 s after the first 65 KiB of burst; unlimited,
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
    let elapsed = timed_tcp_transfer(net, "client", "server", 500_000);
    println!("500 kB at 1mbit: {elapsed:?}");
    assert!(
        elapsed > Duration::from_millis(1700),
        "500 kB crossed a 1 Mbit/s link in {elapsed:?}"
    );
    // And the other way: both ends are limited.
    let elapsed = timed_tcp_transfer(net, "server", "client", 250_000);
    println!("250 kB back at 1mbit: {elapsed:?}");
    assert!(
        elapsed > Duration::from_millis(700),
        "250 kB crossed a 1 Mbit/s link in {elapsed:?}"
    );
}

/// The rate of the token bucket on `node`'s `eth0`, as `tc` shows it.
fn tbf_rate(node: &Node) -> String {
    let qdisc = run(node, "tc", &["qdisc", "show", "dev", "eth0"]);
    let text = String::from_utf8_lossy(&qdisc.stdout).into_owned();
    let rate = text.split_whitespace().skip_while(|w| *w != "rate").nth(1);
    rate.unwrap_or_else(|| panic!("no rate on {}: {text}", node.name()))
        .to_string()
}

#[netns_test(topology = "phone -- tower [rate=10mbit/1mbit]")]
fn a_rate_per_direction_limits_each_direction_to_its_own(net: &Net) {
    assert_eq!(tbf_rate(net.node("phone")), "10Mbit");
    assert_eq!(tbf_rate(net.node("tower")), "1Mbit");
    // 250 kB: at 1 Mbit/s at least 1.4 s after the bucket's 66 kB; at 10 Mbit/s about 0.2 s.
    let up = timed_tcp_transfer(net, "phone", "tower", 250_000);
    let down = timed_tcp_transfer(net, "tower", "phone", 250_000);
    println!("250 kB at 10mbit: {up:?}, back at 1mbit: {down:?}");
    assert!(down > Duration::from_millis(1200), "{down:?}");
    assert!(up > Duration::from_millis(100), "{up:?}");
    assert!(up * 3 < down, "phone to tower {up:?}, back {down:?}");
}

#[netns_test(topology = "a -- b")]
fn set_rate_takes_a_rate_per_direction(net: &Net) {
    let link = net.link("b", "a");
    link.set_rate("1mbit/10mbit").unwrap();
    // The first value is for what the left end of the topology's `a -- b` sends.
    assert_eq!(tbf_rate(net.node("a")), "1Mbit");
    assert_eq!(tbf_rate(net.node("b")), "10Mbit");
    let report = net.report();
    assert!(
        report.ends_with("link settings now:\n  a -- b: rate=1mbit/10mbit\n"),
        "{report}"
    );
    let error = link.set_rate("1mbit/").unwrap_err();
    assert!(
        error.to_string().contains("is not one value or two"),
        "{error}"
    );
}

/// A token bucket drops a packet larger than itself: the bucket holds the largest packet.
#[netns_test(topology = "a -- b [mtu=65535, rate=10mbit]")]
fn a_rate_limited_link_carries_its_largest_packets(net: &Net) {
    // 65507 bytes of payload and 28 of headers: the largest IPv4 datagram, unfragmented.
    assert!(pings_unfragmented(net.node("a"), "b", 65507));
}

#[netns_test(topology = "a -- b")]
fn set_rate_limits_at_run_time_and_clear_rate_lifts_the_limit(net: &Net) {
    let link = net.link("a", "b");
    link.set_rate("1mbit").unwrap();
    assert_eq!(
        link.settings().rate,
        Some(netns_test::topology::Directed::both(1_000_000))
    );
    let report = net.report();
    assert!(
        report.ends_with("link settings now:\n  a -- b: rate=1mbit\n"),
        "{report}"
    );
    // 300 kB: about 1.9 s at 1 Mbit/s after the burst.
    let limited = timed_tcp_transfer(net, "a", "b", 300_000);
    println!("300 kB at 1mbit: {limited:?}");
    assert!(limited > Duration::from_millis(900), "{limited:?}");
    link.clear_rate().unwrap();
    assert!(!net.report().contains("link settings now"));
    let qdisc = run(net.node("a"), "tc", &["qdisc", "show", "dev", "eth0"]);
    assert!(!String::from_utf8_lossy(&qdisc.stdout).contains("tbf"));
    let free = timed_tcp_transfer(net, "a", "b", 300_000);
    println!("300 kB unlimited: {free:?}");
    // Limited, it could not take less than 1.9 s.
    assert!(free < Duration::from_millis(900), "{free:?}");
    let error = link.set_rate("10mbps").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("write `10mbit` for bits per second"),
        "{error}"
    );
}

#[netns_test(topology = "a -- b")]
#[should_panic(expected = "this network has no link `a -- c`; its links are: a -- b")]
fn a_missing_link_is_named_with_the_links_there_are(net: &Net) {
    net.link("a", "c");
}

netns_test::main!();
