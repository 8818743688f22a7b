//! IPv6-only networks (`[ipv4=off]`), seen from the nodes: pings and TCP across a router, names
//! that resolve to IPv6 alone, no IPv4 address or route anywhere but `lo`'s `127.0.0.1`, and
//! IPv4 accessors that say why they have nothing.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{self, AssertUnwindSafe};
use std::time::Duration;

use netns_test::{Net, Node, netns_test};

use netns_test_suites::support::programs;

use programs::{default_route, ping, run_ok};

/// A sysctl of `node`, read inside it.
fn sysctl(node: &Node, path: &str) -> String {
    node.run(|| std::fs::read_to_string(path))
        .unwrap_or_else(|e| panic!("cannot read {path} in {}: {e}", node.name()))
        .trim()
        .to_string()
}

#[netns_test(topology = "[ipv4=off]\nclient -- gateway -- server")]
fn pings_cross_the_router_by_address_and_by_name(net: &Net) {
    let client = net.node("client");
    let server = net.node("server");
    assert_eq!(server.ipv6().to_string(), "fd00:0:0:2::1");
    // One router on the way: the hop limit comes back one lower.
    assert_eq!(ping(client, "-6", &server.ipv6().to_string()), 63);
    assert_eq!(ping(client, "-6", "server"), 63);
    // Without `-6`, the name still means the IPv6 address: it is the only one.
    let output = run_ok(client, "ping", &["-c", "1", "-W", "2", "server"]);
    assert!(output.contains("fd00:0:0:2::1"), "{output}");
    assert_eq!(ping(server, "-6", "client"), 63);
}

#[netns_test(topology = "[ipv4=off]\nclient -- gateway -- server")]
fn names_resolve_to_ipv6_addresses_only(net: &Net) {
    let resolved: Vec<SocketAddr> = net
        .node("client")
        .run(|| ("server", 7000).to_socket_addrs())
        .expect("server resolves")
        .collect();
    let expected: SocketAddr = "[fd00:0:0:2::1]:7000".parse().unwrap();
    assert_eq!(resolved, [expected]);
    let hosts = run_ok(net.node("server"), "cat", &["/etc/hosts"]);
    let names: Vec<&str> = hosts
        .lines()
        .filter(|line| !line.contains("localhost"))
        .collect();
    assert_eq!(
        names,
        [
            "fd00:0:0:1::1\tclient",
            "fd00:0:0:1::254\tgateway",
            "fd00:0:0:2::1\tserver"
        ],
        "{hosts}"
    );
}

#[netns_test(topology = "[ipv4=off]\nclient -- gateway -- server")]
fn a_tcp_connection_by_name_crosses_the_router(net: &Net) {
    let server = net.node("server");
    let listener = server.run(|| TcpListener::bind("[::]:7000").expect("bind [::]:7000"));
    let echo = server.spawn(move || {
        let (mut stream, peer) = listener.accept().expect("accept");
        let mut word = [0; 5];
        stream.read_exact(&mut word).expect("read");
        stream.write_all(&word).expect("write");
        peer.ip()
    });
    let reply = net.node("client").run(|| {
        let mut stream = TcpStream::connect("server:7000").expect("connect to server:7000");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(b"hello").expect("write");
        let mut reply = [0; 5];
        stream.read_exact(&mut reply).expect("read the echo");
        (reply, stream.peer_addr().expect("peer").ip())
    });
    assert_eq!(&reply.0, b"hello");
    assert_eq!(reply.1, IpAddr::from(server.ipv6()));
    let peer = echo.join().expect("the echo thread");
    assert_eq!(peer, IpAddr::from(net.node("client").ipv6()));
}

#[netns_test(topology = "[ipv4=off]\nclient -- gateway -- server")]
fn no_node_has_an_ipv4_address_or_route(net: &Net) {
    for node in net.nodes() {
        // `lo` keeps `127.0.0.1`, as on any Linux host; nothing else has IPv4.
        let addrs = run_ok(node, "ip", &["-4", "-o", "addr", "show"]);
        let interfaces: Vec<&str> = addrs
            .lines()
            .filter_map(|line| line.split_whitespace().nth(1))
            .collect();
        assert_eq!(interfaces, ["lo"], "{}: {addrs}", node.name());
        assert!(
            addrs.contains("inet 127.0.0.1/8"),
            "{}: {addrs}",
            node.name()
        );
        let routes = run_ok(node, "ip", &["-4", "route", "show"]);
        assert_eq!(routes.trim(), "", "IPv4 routes in {}", node.name());
        let ipv6 = run_ok(node, "ip", &["-6", "-o", "addr", "show", "scope", "global"]);
        assert!(ipv6.contains("inet6 fd00:0:0:"), "{}: {ipv6}", node.name());
    }
    let client = net.node("client");
    assert_eq!(default_route(client, "-4"), "");
    assert!(
        default_route(client, "-6").starts_with("default via fd00:0:0:1::254 dev eth0"),
        "{}",
        default_route(client, "-6")
    );
    let gateway = net.node("gateway");
    assert_eq!(
        sysctl(gateway, "/proc/sys/net/ipv6/conf/all/forwarding"),
        "1"
    );
    assert_eq!(sysctl(gateway, "/proc/sys/net/ipv4/ip_forward"), "0");
    assert_eq!(
        sysctl(client, "/proc/sys/net/ipv6/conf/all/forwarding"),
        "0"
    );
}

#[netns_test(topology = "[ipv4=off]\nclient -- gateway -- server")]
fn ipv4_accessors_say_the_network_is_ipv6_only(net: &Net) {
    let client = net.node("client");
    assert_eq!(client.try_ip(), None);
    assert_eq!(client.addrs().count(), 0);
    assert_eq!(client.interfaces()[0].try_ipv4(), None);
    assert_eq!(
        client.interfaces()[0].ipv6().map(|a| a.to_string()),
        Some("fd00:0:0:1::1/64".to_string())
    );
    let message = |f: &dyn Fn()| {
        let payload = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("it panics");
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        message(&|| {
            client.ip();
        }),
        "node `client` has no IPv4 address: the topology says `[ipv4=off]`, so the network is \
         IPv6-only; use `Node::ipv6()`, or `Node::try_ip()` where IPv4 is optional"
    );
    assert_eq!(
        message(&|| {
            net.node("gateway").interfaces()[1].ipv4();
        }),
        "`eth1` of node `gateway` has no IPv4 address: the topology says `[ipv4=off]`, so the \
         network is IPv6-only; use `Interface::ipv6()`, or `Interface::try_ipv4()` where IPv4 \
         is optional"
    );
}

#[netns_test(topology = "[ipv4=off]\nclient -- gateway -- server")]
fn the_report_shows_ipv6_and_ipv6_forwarding(net: &Net) {
    let report = net.report();
    assert!(
        report.contains("node `gateway` (forwarding on)"),
        "{report}"
    );
    assert!(
        report.contains("node `client` (forwarding off)"),
        "{report}"
    );
    assert!(report.contains("fd00:0:0:2::254/64"), "{report}");
    assert!(!report.contains("10.0."), "{report}");
    let picture = net.topology().picture();
    assert!(
        picture.starts_with("client(eth0 fd00:0:0:1::1/64) --- (eth0 fd00:0:0:1::254/64)gateway"),
        "{picture}"
    );
}

#[netns_test(topology = "[ipv4=off]\nclient -- gateway -- server")]
fn a_link_that_goes_down_and_up_gets_its_ipv6_routes_back(net: &Net) {
    let client = net.node("client");
    let link = net.link("client", "gateway");
    link.down().unwrap();
    let failed = client
        .command("ping")
        .args(["-6", "-c", "1", "-W", "1", "server"])
        .output()
        .expect("run ping");
    assert!(
        !failed.status.success(),
        "a ping crossed a link that is down"
    );
    link.up().unwrap();
    // The kernel drops an interface's IPv6 addresses and routes when it goes down.
    assert_eq!(ping(client, "-6", "server"), 63);
    assert!(default_route(client, "-6").starts_with("default via fd00:0:0:1::254"));
    assert_eq!(default_route(client, "-4"), "");
}

#[netns_test(topology = "[ipv4=off]\nclient -- gateway -- server")]
fn an_mtu_below_the_ipv6_minimum_is_refused_at_run_time(net: &Net) {
    let link = net.link("client", "gateway");
    let message = link.set_mtu(1000).unwrap_err().to_string();
    assert_eq!(
        message,
        "invalid link setting: an MTU of 1000 on `client -- gateway` is below 1280, the least MTU IPv6 allows, and \
         the topology says `[ipv4=off]`, so the link would carry nothing; use 1280 or more"
    );
    link.set_mtu(1280).expect("1280 is allowed");
    assert_eq!(ping(net.node("client"), "-6", "server"), 63);
}

#[netns_test(topology = "[ipv4=off]; switch lan; {a b c} -- lan")]
fn hosts_on_a_switch_reach_each_other_by_name(net: &Net) {
    let a = net.node("a");
    assert_eq!(ping(a, "-6", "b"), 64);
    assert_eq!(ping(a, "-6", "c"), 64);
    assert_eq!(net.node("c").ipv6().to_string(), "fd00:0:0:1::3");
}

netns_test::main!();
