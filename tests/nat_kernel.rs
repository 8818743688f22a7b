//! NAT rules in the kernel, seen from real sockets in the nodes: each test builds a plain
//! network (no `nat` statement), installs a hand-made NAT plan in `gw`, and checks what the
//! inside and the outside observe. `tests/nat.rs` is the same behaviour as the language
//! declares it; this suite isolates the rules from the realms.
//!
//! `{a b} -- lan -- gw -- wan -- {s1 s2}`: `gw`'s `eth0` is inside, `eth1` outside. Without
//! realms the outside still has a route to the inside, so "nothing unsolicited gets in" is the
//! NAT's doing, not the routing's.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use netns_test::__private::{flush_nat, install_nat, nat_mappings, probe_nat, set_nat_timeout};
use netns_test::topology::{
    Behaviour, DEFAULT_TCP_TIMEOUT, DEFAULT_TIMEOUT, Filtering, Mapping, NatPlan, PortForward,
    Preset, Protocol,
};
use netns_test::{Net, Node, netns_test};

/// How long a datagram that should not arrive is waited for.
const SILENCE: Duration = Duration::from_millis(300);

/// The NAT plan of `gw` with `behaviour`.
fn nat(net: &Net, behaviour: Behaviour) -> NatPlan {
    let plan = net.topology().plan();
    let node = plan.nodes.iter().position(|n| n.name == "gw").unwrap();
    let outside = plan.nodes[node]
        .interfaces
        .iter()
        .find(|i| i.name == "eth1")
        .unwrap();
    NatPlan {
        node,
        preset: None,
        behaviour,
        timeout: DEFAULT_TIMEOUT,
        tcp_timeout: DEFAULT_TCP_TIMEOUT,
        outside: "eth1".into(),
        outside_ipv4: outside.ipv4.unwrap().addr(),
        inside: vec!["eth0".into()],
        forwards: Vec::new(),
        pinholes: Vec::new(),
    }
}

fn install(net: &Net, behaviour: Behaviour) -> NatPlan {
    let plan = nat(net, behaviour);
    install_nat(net, "gw", &plan).unwrap();
    plan
}

/// A UDP socket of `node` on `port` (0: any).
fn udp(node: &Node, port: u16) -> UdpSocket {
    let socket = node.run(|| UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).unwrap());
    socket.set_read_timeout(Some(SILENCE)).unwrap();
    socket
}

fn to(node: &Node, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(node.ip(), port)
}

/// The next datagram's text and sender, if one comes within [`SILENCE`].
fn recv(socket: &UdpSocket) -> Option<(String, SocketAddrV4)> {
    let mut buf = [0; 1500];
    let (len, from) = socket.recv_from(&mut buf).ok()?;
    let SocketAddr::V4(from) = from else {
        panic!("an IPv6 sender: {from}")
    };
    Some((String::from_utf8_lossy(&buf[..len]).into_owned(), from))
}

/// Sends `text` from `socket` to `target` and returns whom `receiver` saw it from.
fn seen_from(socket: &UdpSocket, target: SocketAddrV4, receiver: &UdpSocket) -> SocketAddrV4 {
    socket.send_to(b"hello", target).unwrap();
    let (text, from) = recv(receiver).expect("the datagram did not arrive");
    assert_eq!(text, "hello");
    from
}

fn behaviour(mapping: Mapping, filtering: Filtering) -> Behaviour {
    Behaviour {
        mapping,
        filtering,
        hairpin: false,
        firewall6: true,
    }
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn the_outside_sees_the_nat_address_and_eim_keeps_one_port_for_every_destination(net: &Net) {
    let plan = install(net, Preset::PortRestricted.behaviour());
    let (a, s1, s2) = (net.node("a"), net.node("s1"), net.node("s2"));
    let inside = udp(a, 4000);
    let (r1, r2) = (udp(s1, 3478), udp(s2, 3478));
    let first = seen_from(&inside, to(s1, 3478), &r1);
    assert_eq!(
        *first.ip(),
        plan.outside_ipv4,
        "s1 must see the NAT, not {}",
        a.ip()
    );
    // Linux keeps the port when it is free: port preservation.
    assert_eq!(first.port(), 4000);
    let second = seen_from(&inside, to(s2, 3478), &r2);
    assert_eq!(second, first, "an endpoint-independent mapping");
    // The mapping holds even when the port is taken: b's flow from its own port 4000 to s1
    // gets another port, and a keeps 4000 towards a new destination.
    let other = udp(net.node("b"), 4000);
    let b_seen = seen_from(&other, to(s1, 3478), &r1);
    assert_eq!(*b_seen.ip(), plan.outside_ipv4);
    assert_ne!(b_seen.port(), 4000);
    let r1b = udp(s1, 3479);
    assert_eq!(seen_from(&other, to(s1, 3479), &r1b), b_seen);
    assert_eq!(seen_from(&inside, to(s1, 3479), &r1b), first);
    // The replies come back through the mapping.
    r1.send_to(b"back", first).unwrap();
    assert_eq!(recv(&inside).map(|(t, _)| t).as_deref(), Some("back"));
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn an_apdm_nat_gives_every_destination_its_own_port(net: &Net) {
    let plan = install(net, Preset::Symmetric.behaviour());
    let (a, s1) = (net.node("a"), net.node("s1"));
    let inside = udp(a, 4000);
    let (r1, r2) = (udp(s1, 3478), udp(s1, 3479));
    let first = seen_from(&inside, to(s1, 3478), &r1);
    let second = seen_from(&inside, to(s1, 3479), &r2);
    assert_eq!(*first.ip(), plan.outside_ipv4);
    assert_ne!(first.port(), second.port(), "a symmetric NAT reused a port");
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn an_adm_nat_keeps_one_port_per_remote_address(net: &Net) {
    install(
        net,
        behaviour(
            Mapping::AddressDependent,
            Filtering::AddressAndPortDependent,
        ),
    );
    let (a, s1, s2) = (net.node("a"), net.node("s1"), net.node("s2"));
    let inside = udp(a, 4000);
    let (r1, r1b, r2) = (udp(s1, 3478), udp(s1, 3479), udp(s2, 3478));
    let first = seen_from(&inside, to(s1, 3478), &r1);
    assert_eq!(seen_from(&inside, to(s1, 3479), &r1b), first);
    assert_ne!(seen_from(&inside, to(s2, 3478), &r2).port(), first.port());
}

/// Opens a mapping from `a`:4000 to `s1`:3478; returns the inside socket and the mapping.
fn open_mapping(net: &Net) -> (UdpSocket, SocketAddrV4) {
    let inside = udp(net.node("a"), 4000);
    let r1 = udp(net.node("s1"), 3478);
    let mapped = seen_from(&inside, to(net.node("s1"), 3478), &r1);
    assert_ne!(
        *mapped.ip(),
        net.node("a").ip(),
        "the flow left untranslated"
    );
    (inside, mapped)
}

/// Whether a datagram from `node`:`port` to `mapped` reaches `inside`.
fn gets_in(net: &Net, node: &str, port: u16, mapped: SocketAddrV4, inside: &UdpSocket) -> bool {
    let sender = udp(net.node(node), port);
    sender.send_to(b"knock", mapped).unwrap();
    recv(inside).is_some_and(|(text, _)| text == "knock")
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn eif_lets_anyone_in_through_a_mapping(net: &Net) {
    install(net, Preset::FullCone.behaviour());
    let (inside, mapped) = open_mapping(net);
    assert!(gets_in(net, "s2", 5000, mapped, &inside), "a third party");
    assert!(gets_in(net, "s1", 5001, mapped, &inside));
    // Where no mapping is, nothing gets in, though `a` listens on that port too.
    let closed = SocketAddrV4::new(*mapped.ip(), 4001);
    let unmapped = udp(net.node("a"), 4001);
    assert!(!gets_in(net, "s2", 5002, closed, &unmapped));
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn adf_lets_in_only_a_contacted_address(net: &Net) {
    install(net, Preset::RestrictedCone.behaviour());
    let (inside, mapped) = open_mapping(net);
    assert!(
        !gets_in(net, "s2", 3478, mapped, &inside),
        "an address never contacted"
    );
    assert!(
        gets_in(net, "s1", 5000, mapped, &inside),
        "the contacted address, another port"
    );
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn apdf_lets_in_only_the_contacted_address_and_port(net: &Net) {
    install(net, Preset::PortRestricted.behaviour());
    let (inside, mapped) = open_mapping(net);
    assert!(!gets_in(net, "s2", 3478, mapped, &inside));
    assert!(!gets_in(net, "s1", 5000, mapped, &inside));
    // s1's port 3478 is taken by the socket `open_mapping` made and dropped; bind it again.
    assert!(gets_in(net, "s1", 3478, mapped, &inside));
}

/// `b` sends to `a`'s mapping; returns whom `a` saw it from, if it arrived.
fn hairpinned(net: &Net, plan: &NatPlan) -> Option<SocketAddrV4> {
    let (inside, mapped) = open_mapping(net);
    let b = udp(net.node("b"), 4500);
    // b has a mapping of its own first, so that the NAT has one to show.
    let r2 = udp(net.node("s2"), 3478);
    let b_mapped = seen_from(&b, to(net.node("s2"), 3478), &r2);
    b.send_to(b"hairpin", mapped).unwrap();
    let (text, from) = recv(&inside)?;
    assert_eq!(text, "hairpin");
    assert_eq!(*from.ip(), plan.outside_ipv4);
    assert_eq!(from, b_mapped, "a must see b's public endpoint");
    Some(from)
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn hairpinning_reaches_an_inside_node_through_its_mapping(net: &Net) {
    let plan = install(net, Preset::Cgnat.behaviour());
    assert!(hairpinned(net, &plan).is_some());
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn without_hairpinning_the_nat_address_does_not_lead_back_inside(net: &Net) {
    let plan = install(net, Preset::FullCone.behaviour());
    assert_eq!(hairpinned(net, &plan), None);
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn a_port_forward_reaches_a_server_inside(net: &Net) {
    let mut plan = nat(net, Preset::PortRestricted.behaviour());
    let a = net.node("a");
    plan.forwards.push(PortForward {
        protocol: Protocol::Tcp,
        outside_port: 8080,
        node: net.nodes().iter().position(|n| n.name() == "a").unwrap(),
        address: a.ip(),
        port: 80,
    });
    install_nat(net, "gw", &plan).unwrap();
    let listener = a.run(|| TcpListener::bind((Ipv4Addr::UNSPECIFIED, 80)).unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, peer) = listener.accept().unwrap();
        stream.write_all(b"served").unwrap();
        peer
    });
    let target = SocketAddrV4::new(plan.outside_ipv4, 8080);
    let mut text = String::new();
    let mut stream = net
        .node("s1")
        .run(|| TcpStream::connect_timeout(&target.into(), Duration::from_secs(2)))
        .unwrap();
    stream.read_to_string(&mut text).unwrap();
    assert_eq!(text, "served");
    let peer = server.join().unwrap();
    assert_eq!(
        peer.ip(),
        std::net::IpAddr::V4(net.node("s1").ip()),
        "the server sees the client"
    );
    let mappings = nat_mappings(net, "gw").unwrap();
    let shown: Vec<String> = mappings.iter().map(ToString::to_string).collect();
    let expected = format!("tcp {}:80 -> {target} -> {peer}", a.ip());
    assert!(shown.contains(&expected), "{expected} not in {shown:?}");
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn with_hairpinning_a_port_forward_serves_the_inside_too(net: &Net) {
    let mut plan = nat(net, Preset::Cgnat.behaviour());
    let a = net.node("a");
    plan.forwards.push(PortForward {
        protocol: Protocol::Tcp,
        outside_port: 8080,
        node: net.nodes().iter().position(|n| n.name() == "a").unwrap(),
        address: a.ip(),
        port: 80,
    });
    install_nat(net, "gw", &plan).unwrap();
    let listener = a.run(|| TcpListener::bind((Ipv4Addr::UNSPECIFIED, 80)).unwrap());
    let server = std::thread::spawn(move || listener.accept().unwrap().1);
    let target = SocketAddrV4::new(plan.outside_ipv4, 8080);
    let connected = net
        .node("b")
        .run(|| TcpStream::connect_timeout(&target.into(), Duration::from_secs(2)));
    assert!(connected.is_ok(), "{connected:?}");
    // The server sees the NAT's address, so that its answers go back through the NAT.
    assert_eq!(
        server.join().unwrap().ip(),
        std::net::IpAddr::V4(plan.outside_ipv4)
    );
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn mappings_lists_the_flows_the_nat_translated(net: &Net) {
    install(net, Preset::PortRestricted.behaviour());
    let (_inside, mapped) = open_mapping(net);
    let shown: Vec<String> = nat_mappings(net, "gw")
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect();
    let a = net.node("a").ip();
    let s1 = net.node("s1").ip();
    assert_eq!(shown, [format!("udp {a}:4000 -> {mapped} -> {s1}:3478")]);
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn flush_forgets_every_mapping(net: &Net) {
    install(net, Preset::FullCone.behaviour());
    let (inside, mapped) = open_mapping(net);
    assert!(gets_in(net, "s2", 5000, mapped, &inside));
    flush_nat(net, "gw").unwrap();
    assert!(nat_mappings(net, "gw").unwrap().is_empty());
    assert!(
        !gets_in(net, "s2", 5001, mapped, &inside),
        "the door stayed open"
    );
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn after_a_flush_a_symmetric_nat_gives_a_flow_a_new_port(net: &Net) {
    install(net, Preset::Symmetric.behaviour());
    let (inside, mapped) = open_mapping(net);
    flush_nat(net, "gw").unwrap();
    let r1 = udp(net.node("s1"), 3478);
    let again = seen_from(&inside, to(net.node("s1"), 3478), &r1);
    assert_ne!(again, mapped);
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn a_mapping_expires_after_the_timeout(net: &Net) {
    let plan = install(net, Preset::FullCone.behaviour());
    set_nat_timeout(net, "gw", &plan, Duration::from_secs(1)).unwrap();
    let (inside, mapped) = open_mapping(net);
    assert!(gets_in(net, "s2", 5000, mapped, &inside));
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        !gets_in(net, "s2", 5001, mapped, &inside),
        "the mapping outlived its timeout"
    );
    let timeout = net
        .node("gw")
        .run(|| std::fs::read_to_string("/proc/sys/net/netfilter/nf_conntrack_udp_timeout"));
    assert_eq!(timeout.unwrap().trim(), "1");
}

/// Whether a datagram from `s1` to `a` over IPv6 arrives.
fn ipv6_gets_in(net: &Net) -> bool {
    let (a, s1) = (net.node("a"), net.node("s1"));
    let target = std::net::SocketAddrV6::new(a.ipv6(), 6000, 0, 0);
    let receiver = a.run(|| UdpSocket::bind(target).unwrap());
    receiver.set_read_timeout(Some(SILENCE)).unwrap();
    let sender = s1.run(|| UdpSocket::bind("[::]:0").unwrap());
    sender.send_to(b"six", target).unwrap();
    let mut buf = [0; 16];
    receiver.recv_from(&mut buf).is_ok()
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn ipv6_from_outside_is_blocked_by_the_firewall_and_open_without_it(net: &Net) {
    let mut plan = install(net, Preset::PortRestricted.behaviour());
    assert!(!ipv6_gets_in(net), "firewall6 let an unsolicited packet in");
    // A flow `a` starts is answered, untranslated.
    let (a, s1) = (net.node("a"), net.node("s1"));
    let inside = a.run(|| UdpSocket::bind("[::]:6001").unwrap());
    inside.set_read_timeout(Some(SILENCE)).unwrap();
    let server = s1.run(|| UdpSocket::bind("[::]:6002").unwrap());
    server.set_read_timeout(Some(SILENCE)).unwrap();
    inside.send_to(b"out", (s1.ipv6(), 6002)).unwrap();
    let mut buf = [0; 16];
    let (_, from) = server
        .recv_from(&mut buf)
        .expect("IPv6 out is not filtered");
    assert_eq!(
        from.ip(),
        std::net::IpAddr::V6(a.ipv6()),
        "IPv6 is never translated"
    );
    server.send_to(b"back", from).unwrap();
    assert!(
        inside.recv_from(&mut buf).is_ok(),
        "the answer to a flow from inside"
    );
    plan.behaviour.firewall6 = false;
    install_nat(net, "gw", &plan).unwrap();
    assert!(ipv6_gets_in(net), "without firewall6 IPv6 is not filtered");
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn the_probe_finds_everything_nat_needs_here(net: &Net) {
    let results = net.node("gw").run(probe_nat);
    for (feature, result) in &results {
        assert_eq!(result, &Ok(()), "{feature}");
    }
    assert_eq!(results.len(), 5);
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn nothing_unsolicited_crosses_the_nat_though_a_route_leads_inside(net: &Net) {
    install(net, Preset::FullCone.behaviour());
    let inside = udp(net.node("a"), 4000);
    let direct = to(net.node("a"), 4000);
    assert!(
        !gets_in(net, "s1", 5000, direct, &inside),
        "an unsolicited datagram crossed"
    );
}

#[netns_test(
    topology = "switch lan; switch wan; {a b} -- lan; lan -- gw; gw -- wan; {s1 s2} -- wan"
)]
fn a_refused_message_is_named_with_its_node(net: &Net) {
    // No NAT in `gw`: the batch's first message, which flushes the recording chain, fails.
    let plan = nat(net, Preset::FullCone.behaviour());
    let error = set_nat_timeout(net, "gw", &plan, Duration::from_secs(1)).unwrap_err();
    let text = format!("{error:?}");
    assert!(
        text.starts_with(
            "netlink request failed: flushing chain record of table inet netns_test_nat in node `gw`"
        ),
        "{text}"
    );
    assert!(text.contains("No such file or directory"), "{text}");
}

netns_test::main!();
