//! The topology language at work: roles, explicit addresses, IPv6 dual stack, LANs behind
//! routers and topology files, each checked with the kernel's own view and real traffic.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;

use netns_test::{Net, Node, netns_test};

use netns_test_suites::support::programs;

use programs::{default_route, kernel_addrs, ping, run_ok};

/// `(ip_forward, ipv6 forwarding)` as the node's sysctls read them.
fn forwarding(node: &Node) -> (String, String) {
    node.run(|| {
        let read = |path| {
            std::fs::read_to_string(path)
                .expect(path)
                .trim()
                .to_string()
        };
        (
            read("/proc/sys/net/ipv4/ip_forward"),
            read("/proc/sys/net/ipv6/conf/all/forwarding"),
        )
    })
}

/// Every node gets an IPv6 address mirroring its IPv4 one, routers and default routes are the
/// same in both families, and `ping -6` crosses the router at once (no duplicate address
/// detection to wait for).
#[netns_test(topology = "client -- gateway -- server")]
fn ping6_across_a_router_with_exact_addresses(net: &Net) {
    let (client, gateway, server) = (net.node("client"), net.node("gateway"), net.node("server"));
    assert_eq!(kernel_addrs(client, "-6", "eth0"), ["fd00:0:0:1::1/64"]);
    assert_eq!(kernel_addrs(gateway, "-6", "eth0"), ["fd00:0:0:1::254/64"]);
    assert_eq!(kernel_addrs(gateway, "-6", "eth1"), ["fd00:0:0:2::254/64"]);
    assert_eq!(kernel_addrs(server, "-6", "eth0"), ["fd00:0:0:2::1/64"]);
    assert_eq!(kernel_addrs(client, "-4", "eth0"), ["10.0.1.1/24"]);
    assert_eq!(server.ipv6().to_string(), "fd00:0:0:2::1");
    assert_eq!(forwarding(gateway), ("1".into(), "1".into()));
    assert_eq!(forwarding(client), ("0".into(), "0".into()));
    assert!(default_route(client, "-6").starts_with("default via fd00:0:0:1::254 dev eth0"));
    assert!(default_route(server, "-6").starts_with("default via fd00:0:0:2::254 dev eth0"));
    // One hop through the gateway, both ways.
    assert_eq!(ping(client, "-6", "fd00:0:0:2::1"), 63);
    assert_eq!(ping(server, "-6", "fd00:0:0:1::1"), 63);
    assert_eq!(ping(client, "-4", "10.0.2.1"), 63);
}

/// Node names resolve to both families; a TCP connection over IPv6 by name arrives from the
/// client's own IPv6 address.
#[netns_test(topology = "client -- gateway -- server")]
fn tcp_over_ipv6_by_name(net: &Net) {
    let server = net.node("server");
    let listener = server.run(|| TcpListener::bind("[::]:7000").expect("bind [::]:7000"));
    let echo = server.spawn(move || {
        let (mut stream, peer) = listener.accept().expect("accept");
        stream.write_all(b"hello over IPv6").expect("write");
        peer
    });
    let resolved: Vec<SocketAddr> = ("server", 7000)
        .to_socket_addrs()
        .expect("resolve server")
        .collect();
    assert!(resolved.iter().any(SocketAddr::is_ipv4), "{resolved:?}");
    let v6 = *resolved
        .iter()
        .find(|a| a.is_ipv6())
        .unwrap_or_else(|| panic!("`server` has no IPv6 address: {resolved:?}"));
    assert_eq!(v6.ip(), net.node("server").ipv6());
    let reply = net.node("client").run(|| {
        let mut stream = TcpStream::connect(v6).expect("connect over IPv6");
        let mut reply = String::new();
        stream.read_to_string(&mut reply).expect("receive");
        reply
    });
    assert_eq!(reply, "hello over IPv6");
    let peer = echo.join().expect("server thread");
    assert_eq!(peer.ip(), net.node("client").ipv6());
}

/// A switch linked to a router: the LAN behind it reaches the far side, in both families.
#[netns_test(topology = "switch lan; {pc1 pc2} -- lan; lan -- r1 -- wan_host")]
fn a_lan_behind_a_router(net: &Net) {
    let (pc1, pc2, r1, wan) = (
        net.node("pc1"),
        net.node("pc2"),
        net.node("r1"),
        net.node("wan_host"),
    );
    assert_eq!(kernel_addrs(pc1, "-4", "eth0"), ["10.0.1.1/24"]);
    assert_eq!(kernel_addrs(pc2, "-4", "eth0"), ["10.0.1.2/24"]);
    assert_eq!(kernel_addrs(r1, "-4", "eth0"), ["10.0.1.254/24"]);
    assert_eq!(kernel_addrs(r1, "-6", "eth1"), ["fd00:0:0:2::254/64"]);
    assert_eq!(kernel_addrs(wan, "-6", "eth0"), ["fd00:0:0:2::1/64"]);
    assert!(default_route(pc2, "-4").starts_with("default via 10.0.1.254 dev eth0"));
    for pc in [pc1, pc2] {
        assert_eq!(ping(pc, "-4", "wan_host"), 63);
        assert_eq!(ping(pc, "-6", "wan_host"), 63);
        assert_eq!(ping(wan, "-6", &pc.ipv6().to_string()), 63);
    }
    assert_eq!(ping(pc1, "-6", "pc2"), 64);
}

/// `router` and `host` declarations override the count of links.
#[netns_test(topology = "
    router edge         # one link, yet a router
    host multi          # two links, yet a host
    lone -- edge
    a -- multi -- b
")]
fn declared_roles_override_the_count_of_links(net: &Net) {
    let (edge, lone, multi) = (net.node("edge"), net.node("lone"), net.node("multi"));
    assert_eq!(forwarding(edge), ("1".into(), "1".into()));
    assert_eq!(forwarding(multi), ("0".into(), "0".into()));
    // A router takes the top address, a host the lowest ones.
    assert_eq!(kernel_addrs(edge, "-4", "eth0"), ["10.0.1.254/24"]);
    assert_eq!(kernel_addrs(multi, "-4", "eth0"), ["10.0.2.2/24"]);
    assert_eq!(kernel_addrs(multi, "-4", "eth1"), ["10.0.3.1/24"]);
    assert!(default_route(lone, "-4").starts_with("default via 10.0.1.254 dev eth0"));
    assert!(default_route(lone, "-6").starts_with("default via fd00:0:0:1::254 dev eth0"));
    // Without a router on its segments, `multi` has no default route.
    assert_eq!(default_route(multi, "-4"), "");
    assert_eq!(ping(lone, "-4", "edge"), 64);
}

/// Addresses written in the text are the ones the kernel has, in both families; the other end
/// of each link is still numbered automatically.
#[netns_test(topology = "
    client@10.0.100.7@fd00:0:0:100::7 -- gateway
    gateway -- server@192.168.5.20
")]
fn explicit_addresses_appear_in_ip_addr(net: &Net) {
    let (client, gateway, server) = (net.node("client"), net.node("gateway"), net.node("server"));
    assert_eq!(kernel_addrs(client, "-4", "eth0"), ["10.0.100.7/24"]);
    assert_eq!(kernel_addrs(client, "-6", "eth0"), ["fd00:0:0:100::7/64"]);
    assert_eq!(kernel_addrs(gateway, "-4", "eth0"), ["10.0.100.254/24"]);
    assert_eq!(
        kernel_addrs(gateway, "-6", "eth0"),
        ["fd00:0:0:100::254/64"]
    );
    assert_eq!(kernel_addrs(gateway, "-4", "eth1"), ["192.168.5.254/24"]);
    assert_eq!(kernel_addrs(server, "-4", "eth0"), ["192.168.5.20/24"]);
    assert_eq!(kernel_addrs(server, "-6", "eth0"), ["fd00:0:0:1::20/64"]);
    assert_eq!(client.ip().to_string(), "10.0.100.7");
    assert_eq!(ping(client, "-4", "192.168.5.20"), 63);
    assert_eq!(ping(client, "-6", "server"), 63);
}

/// A name resolves to both families, IPv4 first (as before dual stack): a UDP datagram sent to
/// `server:port` reaches a socket bound to `0.0.0.0`. (This relies on the host having an
/// `/etc/gai.conf` for the test to replace, as Debian and Ubuntu do.)
#[netns_test(topology = "client -- gateway -- server")]
fn names_resolve_ipv4_first(net: &Net) {
    let server = net.node("server");
    let socket = server.run(|| UdpSocket::bind("0.0.0.0:9000").expect("bind 0.0.0.0:9000"));
    let resolved: Vec<SocketAddr> = net.node("client").run(|| {
        let client = UdpSocket::bind("[::]:0").expect("bind [::]:0");
        client.send_to(b"by name", "server:9000").expect("send");
        ("server", 9000)
            .to_socket_addrs()
            .expect("resolve")
            .collect()
    });
    assert_eq!(
        resolved.iter().map(SocketAddr::ip).collect::<Vec<_>>(),
        [IpAddr::from(server.ip()), IpAddr::from(server.ipv6())]
    );
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut buffer = [0; 16];
    let (n, from) = socket.recv_from(&mut buffer).expect("receive the datagram");
    assert_eq!(&buffer[..n], b"by name");
    assert_eq!(from.ip(), IpAddr::from(net.node("client").ip()));
}

/// `[ipv6=off]` leaves no global IPv6 address, route or name.
#[netns_test(topology = "a -- r -- b\n[ipv6=off]")]
fn ipv6_off_leaves_no_global_ipv6(net: &Net) {
    for node in net.nodes() {
        let global = run_ok(node, "ip", &["-6", "-o", "addr", "show", "scope", "global"]);
        assert_eq!(global, "", "node {}", node.name());
        assert_eq!(default_route(node, "-6"), "", "node {}", node.name());
        assert!(node.interfaces().iter().all(|i| i.ipv6().is_none()));
    }
    assert_eq!(forwarding(net.node("r")), ("1".into(), "0".into()));
    let hosts = std::fs::read_to_string("/etc/hosts").expect("read /etc/hosts");
    assert!(!hosts.contains("fd00"), "{hosts}");
    assert_eq!(ping(net.node("a"), "-4", "b"), 63);
}

/// Asking for the IPv6 address of a network without IPv6 says why there is none.
#[netns_test(topology = "a -- b; [ipv6=off]")]
#[should_panic(expected = "node `a` has no IPv6 address: the topology says `[ipv6=off]`")]
fn ipv6_of_a_node_without_ipv6(net: &Net) {
    net.node("a").ipv6();
}

/// A topology read from a file, with the same language: a firewall between an uplink, a DMZ
/// and an office LAN.
#[netns_test(topology_file = "topologies/dmz.topo")]
fn a_topology_file(net: &Net) {
    let (web, pc1, internet) = (net.node("web"), net.node("pc1"), net.node("internet"));
    assert_eq!(kernel_addrs(web, "-4", "eth0"), ["172.16.1.80/24"]);
    assert_eq!(kernel_addrs(web, "-6", "eth0"), ["fd00:d3a::80/64"]);
    assert_eq!(
        kernel_addrs(net.node("mail"), "-4", "eth0"),
        ["172.16.1.1/24"]
    );
    assert_eq!(kernel_addrs(internet, "-4", "eth0"), ["192.0.2.1/24"]);
    assert_eq!(forwarding(net.node("fw")), ("1".into(), "1".into()));
    assert_eq!(ping(pc1, "-4", "web"), 63);
    assert_eq!(ping(pc1, "-6", "web"), 63);
    assert_eq!(ping(internet, "-6", "fd00:d3a::80"), 63);
    assert_eq!(ping(internet, "-4", "pc2"), 63);
}

netns_test::main!();
