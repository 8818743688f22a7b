//! NAT routers as a user meets them: the internet sees the NAT's address, nothing outside has a
//! route in, two homes share a subnet, hairpinning works exactly where enabled, a mapping
//! expires after its timeout, a flush forgets it and a rebinding moves it to a new port, an idle
//! TCP connection is forgotten after its own timeout and one that talks is not, port forwards reach the server inside, a
//! pinhole lets IPv6 reach one port of one node through the firewall,
//! IPv6 is routed but let in only for flows that started inside, and each type behaves, seen
//! from outside, as RFC 5780 behaviour discovery would classify it.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::Duration;

use netns_test::topology::{Filtering, Mapping, Protocol};
use netns_test::{Net, netns_test};
use netns_test_suites::support::datagrams::{
    PATIENCE, receive, send, server, server_and_peer, udp,
};
use netns_test_suites::support::nat::{
    BehaviourServer, Discovered, Rendezvous, discover_tcp, discover_udp, punch,
};

#[netns_test(topology = "
    switch internet
    {home server} -- internet
    peer -- home
    nat home [outside=internet]
")]
fn the_internet_sees_the_nat_address_and_no_route_leads_back_in(net: &Net) {
    let (server, peer, target) = server_and_peer(net);
    let seen = send(&peer, &server, target, "hello").expect("the server hears the peer");
    let home = net.nat("home").outside_ip();
    // The public address, and the port kept (endpoint-independent mappings preserve it).
    assert_eq!(seen, SocketAddr::from((home, 4000)));
    assert!(!home.is_private(), "{home} is a public-looking address");
    assert!(net.node("peer").ip().is_private());
    // The reply comes back through the mapping.
    assert_eq!(
        send(&server, &peer, seen, "hi").map(|s| s.ip()),
        Some(target.ip())
    );
    // The server has no route to the peer's private address: the kernel says so at once.
    let private = SocketAddr::from((net.node("peer").ip(), 4000));
    let error = server.send_to(b"in?", private).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(101), "ENETUNREACH, not {error}");
    // The mapping is listed, as conntrack has it.
    let mappings = net.nat("home").mappings().unwrap();
    assert!(
        mappings.iter().any(|m| m.protocol == Protocol::Udp
            && m.inside == SocketAddrV4::new(net.node("peer").ip(), 4000)
            && m.outside == SocketAddrV4::new(home, 4000)
            && m.remote == SocketAddrV4::new(net.node("server").ip(), 3478)),
        "{mappings:?}"
    );
}

#[netns_test(topology = "
    switch internet
    {home-a home-b server} -- internet
    peer-a -- home-a
    peer-b -- home-b
    nat home-a [outside=internet]
    nat home-b [outside=internet]
")]
fn two_homes_on_one_private_subnet_both_reach_the_internet(net: &Net) {
    assert_eq!(net.node("peer-a").ip(), net.node("peer-b").ip());
    let (server, target) = server(net);
    for (peer, home) in [("peer-a", "home-a"), ("peer-b", "home-b")] {
        let socket = udp(net, peer, 0);
        let seen = send(&socket, &server, target, peer).expect("the server hears each peer");
        assert_eq!(seen.ip(), net.nat(home).outside_ip());
        assert!(
            send(&server, &socket, seen, "back").is_some(),
            "{peer} hears the reply"
        );
    }
}

/// Two peers behind one NAT on the same inside port, each talking first to a server of its own:
/// conntrack alone would give both the same outside port (their remotes differ), and the second
/// would lose its mapping as soon as both talked to one server. Each gets a port of its own.
#[netns_test(topology = "
    switch internet; switch lan
    {home s1 s2 stranger} -- internet
    {a b} -- lan -- home
    nat home [outside=internet, type=full-cone]
")]
fn two_peers_on_one_port_get_a_mapping_each(net: &Net) {
    let (s1, s2) = (udp(net, "s1", 3478), udp(net, "s2", 3478));
    let (a, b) = (udp(net, "a", 4000), udp(net, "b", 4000));
    let to = |server: &str| SocketAddr::from((net.node(server).ip(), 3478));
    let a_public = send(&a, &s1, to("s1"), "a").expect("a reaches s1");
    let b_public = send(&b, &s2, to("s2"), "b").expect("b reaches s2");
    assert_eq!(a_public.port(), 4000, "the first keeps its port");
    assert_ne!(
        a_public, b_public,
        "two inside endpoints on one outside port"
    );
    // Endpoint-independent: each keeps its mapping towards the other server.
    assert_eq!(send(&a, &s2, to("s2"), "a again"), Some(a_public));
    assert_eq!(send(&b, &s1, to("s1"), "b again"), Some(b_public));
    // Full cone: a stranger reaches each at its own public endpoint.
    let stranger = udp(net, "stranger", 0);
    assert!(send(&stranger, &a, a_public, "to a").is_some());
    assert!(send(&stranger, &b, b_public, "to b").is_some());
}

/// Two peers behind one NAT; `b` sends to `a`'s public endpoint. Returns whether `a` heard it,
/// and from where.
fn hairpin(net: &Net) -> Option<SocketAddr> {
    let server = udp(net, "server", 3478);
    let a = udp(net, "a", 4000);
    let b = udp(net, "b", 5000);
    let target = SocketAddr::from((net.node("server").ip(), 3478));
    let a_public = send(&a, &server, target, "a").expect("a reaches the server");
    // `a` has sent to `b`'s public endpoint too, so that no filter stands in the way.
    let b_public = send(&b, &server, target, "b").expect("b reaches the server");
    a.send_to(b"open", b_public).unwrap();
    let _ = receive(&b);
    send(&b, &a, a_public, "via the outside")
}

#[netns_test(topology = "
    switch internet; switch lan
    {home server} -- internet
    {a b} -- lan -- home
    nat home [outside=internet, hairpin=on]
")]
fn hairpinning_works_where_enabled(net: &Net) {
    let source = hairpin(net).expect("with hairpin=on, b reaches a through the outside address");
    // `a` sees `b` as the internet would: at the NAT's outside address.
    assert_eq!(source.ip(), net.nat("home").outside_ip());
}

#[netns_test(topology = "
    switch internet; switch lan
    {home server} -- internet
    {a b} -- lan -- home
    nat home [outside=internet]
")]
fn hairpinning_is_off_by_default_for_a_home_nat(net: &Net) {
    assert_eq!(hairpin(net), None);
}

/// The peer opens a mapping by sending to the server; returns the mapping, the peer's socket
/// and a stranger's (on the internet, which has never heard from the peer): a full-cone NAT
/// lets the stranger in while the mapping lives.
fn open_mapping(net: &Net) -> (SocketAddr, UdpSocket, UdpSocket) {
    let (server, peer, target) = server_and_peer(net);
    let public = send(&peer, &server, target, "open").expect("the peer reaches the server");
    (public, peer, udp(net, "stranger", 0))
}

#[netns_test(topology = "
    switch internet
    {home server stranger} -- internet
    peer -- home
    nat home [outside=internet, type=full-cone, timeout=2s]
")]
fn a_mapping_expires_after_its_timeout(net: &Net) {
    let (public, peer, stranger) = open_mapping(net);
    assert!(send(&stranger, &peer, public, "while open").is_some());
    // Idle for longer than the timeout: the mapping is gone, and so is the door.
    thread::sleep(Duration::from_millis(3200));
    assert_eq!(send(&stranger, &peer, public, "after the timeout"), None);
    let mappings = net.nat("home").mappings().unwrap();
    assert!(mappings.is_empty(), "{mappings:?}");
}

#[netns_test(topology = "
    switch internet
    {home server stranger} -- internet
    peer -- home
    nat home [outside=internet, type=full-cone]
")]
fn set_timeout_shortens_the_mappings_made_after_it(net: &Net) {
    net.nat("home").set_timeout(Duration::from_secs(1)).unwrap();
    let (public, peer, stranger) = open_mapping(net);
    assert!(send(&stranger, &peer, public, "while open").is_some());
    thread::sleep(Duration::from_millis(2200));
    assert_eq!(send(&stranger, &peer, public, "after the timeout"), None);
    // A timeout is whole seconds.
    let error = net
        .nat("home")
        .set_timeout(Duration::from_millis(1500))
        .unwrap_err();
    assert!(format!("{error}").contains("whole"), "{error}");
}

#[netns_test(topology = "
    switch internet
    {home server} -- internet
    peer -- home
    nat home [outside=internet]
")]
fn a_rebinding_s_mappings_live_as_long_as_the_timeout_set(net: &Net) {
    let home = net.nat("home");
    home.set_timeout(Duration::from_secs(1)).unwrap();
    let (server, peer, target) = server_and_peer(net);
    let port = |text| send(&peer, &server, target, text).map(|from| from.port());
    assert_eq!(port("open"), Some(4000));
    home.rebind().unwrap();
    // Idle past the timeout set (not the topology's two minutes), the rebinding's mapping is
    // gone, as any other would be: the next packet is a new mapping, which keeps its port.
    thread::sleep(Duration::from_millis(2200));
    assert_eq!(port("after the timeout"), Some(4000));
}

#[netns_test(topology = "
    switch internet
    {home server stranger} -- internet
    peer -- home
    nat home [outside=internet, type=full-cone]
")]
fn a_flush_forgets_every_mapping(net: &Net) {
    let (public, peer, stranger) = open_mapping(net);
    assert!(send(&stranger, &peer, public, "while open").is_some());
    assert!(!net.nat("home").mappings().unwrap().is_empty());
    net.nat("home").flush().unwrap();
    assert_eq!(net.nat("home").mappings().unwrap(), []);
    assert_eq!(send(&stranger, &peer, public, "after the flush"), None);
}

/// A TCP connection from `peer` to `server` through the NAT, both ends with [`PATIENCE`] as
/// their read timeout, after one line each way.
fn tcp_connection(net: &Net) -> (TcpStream, TcpStream) {
    let listener = net
        .node("server")
        .run(|| TcpListener::bind("0.0.0.0:7000").unwrap());
    let target = SocketAddr::from((net.node("server").ip(), 7000));
    let peer = net
        .node("peer")
        .run(move || TcpStream::connect_timeout(&target, Duration::from_secs(2)).unwrap());
    let (server, _) = listener.accept().unwrap();
    for socket in [&peer, &server] {
        socket.set_read_timeout(Some(PATIENCE)).unwrap();
    }
    assert_eq!(exchange(&peer, &server, "hello"), Some("hello".into()));
    assert_eq!(exchange(&server, &peer, "welcome"), Some("welcome".into()));
    (peer, server)
}

/// Writes `text` on `from` and returns what `to` reads within [`PATIENCE`], if anything.
/// A reset on either socket fails the test: a NAT that forgot a connection drops its packets
/// and answers nothing.
fn exchange(from: &TcpStream, to: &TcpStream, text: &str) -> Option<String> {
    use std::io::{Read, Write};
    (&*from).write_all(text.as_bytes()).unwrap();
    let mut buf = [0; 64];
    match (&*to).read(&mut buf) {
        Ok(n) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(e) => panic!("read: {e}"),
    }
}

/// The TCP segments `node` has received, from its kernel's counters (`InSegs`).
fn segments_received(net: &Net, node: &str) -> u64 {
    let snmp = net
        .node(node)
        .run(|| std::fs::read_to_string("/proc/thread-self/net/snmp").unwrap());
    let mut tcp = snmp.lines().filter(|line| line.starts_with("Tcp:"));
    let (names, values) = (tcp.next().unwrap(), tcp.next().unwrap());
    let at = names.split(' ').position(|name| name == "InSegs").unwrap();
    values.split(' ').nth(at).unwrap().parse().unwrap()
}

#[netns_test(topology = "peer -- home -- server; nat home [outside=server, tcp-timeout=2s]")]
fn an_idle_tcp_connection_is_forgotten_after_its_timeout(net: &Net) {
    let (peer, server) = tcp_connection(net);
    thread::sleep(Duration::from_millis(3000));
    // Nothing of the connection crosses the NAT any more, not even untranslated: the server
    // receives no segment at all.
    let before = segments_received(net, "server");
    assert_eq!(exchange(&peer, &server, "anyone there?"), None);
    assert_eq!(segments_received(net, "server"), before);
    // The other way too, and without a reset from the router.
    assert_eq!(exchange(&server, &peer, "hello?"), None);
    assert!(server.take_error().unwrap().is_none());
    assert!(net.nat("home").mappings().unwrap().is_empty());
}

#[netns_test(topology = "peer -- home -- server; nat home [outside=server, tcp-timeout=2s]")]
fn a_tcp_connection_that_keeps_talking_outlives_the_timeout(net: &Net) {
    let (peer, server) = tcp_connection(net);
    for beat in 0..6 {
        thread::sleep(Duration::from_millis(600));
        let text = format!("beat {beat}");
        assert_eq!(exchange(&peer, &server, &text), Some(text));
    }
    assert_eq!(
        exchange(&server, &peer, "still here"),
        Some("still here".into())
    );
}

#[netns_test(topology = "peer -- home -- server; nat home [outside=server]")]
fn set_tcp_timeout_shortens_how_long_an_idle_connection_lives(net: &Net) {
    let home = net.nat("home");
    // By default a connection lives idle for over two hours (RFC 5382): a pause changes nothing.
    let (peer, server) = tcp_connection(net);
    thread::sleep(Duration::from_millis(2200));
    assert_eq!(exchange(&peer, &server, "later"), Some("later".into()));
    home.set_tcp_timeout(Duration::from_secs(1)).unwrap();
    // The connection takes the new timeout at its next packet.
    assert_eq!(exchange(&server, &peer, "ok"), Some("ok".into()));
    thread::sleep(Duration::from_millis(2200));
    assert_eq!(exchange(&peer, &server, "too late"), None);
    let error = home.set_tcp_timeout(Duration::ZERO).unwrap_err();
    assert!(format!("{error}").contains("whole"), "{error}");
}

#[netns_test(topology = "
    switch internet
    {home server other} -- internet
    peer -- home
    nat home [outside=internet]
")]
fn a_rebinding_gives_every_mapping_a_new_port(net: &Net) {
    let (server, peer, target) = server_and_peer(net);
    let before = send(&peer, &server, target, "before").expect("the peer reaches the server");
    assert_eq!(before.port(), 4000, "the port is preserved");
    net.nat("home").rebind().unwrap();
    // The same peer, the same socket: the server sees it arrive from another port.
    let after = send(&peer, &server, target, "after").expect("the peer still reaches it");
    assert_eq!(after.ip(), before.ip());
    assert_ne!(after.port(), before.port());
    assert!(send(&server, &peer, after, "to the new port").is_some());
    assert_eq!(send(&server, &peer, before, "to the old port"), None);
    // Endpoint-independent still: towards another server, the same new port.
    let other = udp(net, "other", 3478);
    let to_other = SocketAddr::from((net.node("other").ip(), 3478));
    assert_eq!(send(&peer, &other, to_other, "hello"), Some(after));
    // Two rebindings with no packet between move the port twice: the NAT's own mappings say
    // where each endpoint is, not conntrack's flows, which the first one forgot.
    net.nat("home").rebind().unwrap();
    net.nat("home").rebind().unwrap();
    let twice = send(&peer, &server, target, "twice").expect("the peer still reaches it");
    assert!(twice.port() != after.port() && twice.port() != before.port());
    // A flush, by contrast, is a reboot: the port is preserved again.
    net.nat("home").flush().unwrap();
    assert_eq!(send(&peer, &server, target, "rebooted"), Some(before));
}

#[netns_test(topology = "
    switch internet
    {home visitor} -- internet
    switch lan
    {web game} -- lan -- home
    nat home [outside=internet, forward=tcp:8080:web:80, forward=udp:27015:game]
")]
fn port_forwards_reach_the_servers_inside(net: &Net) {
    let home = net.nat("home").outside_ip();
    let listener = net
        .node("web")
        .run(|| TcpListener::bind("0.0.0.0:80").unwrap());
    let web = thread::spawn(move || listener.accept().unwrap().1);
    let visitor_ip = net.node("visitor").ip();
    net.node("visitor").run(move || {
        let target = SocketAddr::from((home, 8080));
        TcpStream::connect_timeout(&target, Duration::from_secs(2)).expect("the forward connects");
    });
    // A forward translates the destination only: the server sees the visitor's own address.
    assert_eq!(web.join().unwrap().ip(), visitor_ip);
    let game = udp(net, "game", 27015);
    let visitor = udp(net, "visitor", 0);
    let seen = send(&visitor, &game, SocketAddr::from((home, 27015)), "join");
    assert_eq!(seen.map(|s| s.ip()), Some(visitor_ip.into()));
    // A port that is not forwarded leads nowhere.
    assert_eq!(
        send(&visitor, &game, SocketAddr::from((home, 27016)), "other"),
        None
    );
}

/// Whether `from` can open a TCP connection to `to`'s IPv6 address on `port`.
fn tcp6_connects(net: &Net, from: &str, to: &str, port: u16) -> bool {
    let listener = net
        .node(to)
        .run(move || TcpListener::bind(("::", port)).unwrap());
    let target = SocketAddr::from((net.node(to).ipv6(), port));
    let connected = net
        .node(from)
        .run(move || TcpStream::connect_timeout(&target, Duration::from_millis(500)).is_ok());
    drop(listener);
    connected
}

#[netns_test(topology = "
    switch internet
    {home server} -- internet
    peer -- home
    nat home [outside=internet]
")]
fn ipv6_is_not_translated_and_only_flows_from_inside_get_in(net: &Net) {
    assert!(tcp6_connects(net, "peer", "server", 7000), "out");
    assert!(
        !tcp6_connects(net, "server", "peer", 7001),
        "in, through the firewall"
    );
}

/// Whether a datagram from `from` reaches `to`'s IPv6 address on `port`.
fn udp6_arrives(net: &Net, from: &str, to: &str, port: u16) -> bool {
    let receiver = net
        .node(to)
        .run(move || UdpSocket::bind(("::", port)).unwrap());
    receiver.set_read_timeout(Some(PATIENCE)).unwrap();
    let target = SocketAddr::from((net.node(to).ipv6(), port));
    let sender = net.node(from).run(|| UdpSocket::bind("[::]:0").unwrap());
    sender.send_to(b"knock", target).unwrap();
    receive_any(&receiver)
}

/// Whether a datagram comes to `socket` within [`PATIENCE`].
fn receive_any(socket: &UdpSocket) -> bool {
    let mut buf = [0; 64];
    match socket.recv_from(&mut buf) {
        Ok(_) => true,
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
        Err(e) => panic!("recv_from: {e}"),
    }
}

#[netns_test(topology = "
    switch internet
    {home visitor} -- internet
    switch lan
    {web pc} -- lan -- home
    nat home [outside=internet, pinhole=tcp:web:443, pinhole=udp:web:4433]
")]
fn a_pinhole_lets_ipv6_in_to_one_port_of_one_node(net: &Net) {
    assert!(tcp6_connects(net, "visitor", "web", 443), "the pinhole");
    assert!(!tcp6_connects(net, "visitor", "web", 444), "another port");
    assert!(!tcp6_connects(net, "visitor", "pc", 443), "another node");
    assert!(udp6_arrives(net, "visitor", "web", 4433), "the UDP pinhole");
    assert!(
        !udp6_arrives(net, "visitor", "web", 443),
        "TCP's port, over UDP"
    );
    assert!(
        !udp6_arrives(net, "visitor", "pc", 4433),
        "another node, over UDP"
    );
    // IPv4 is another matter: without a forward, the NAT's outside address leads nowhere.
    let outside = SocketAddr::from((net.nat("home").outside_ip(), 443));
    let connected = net
        .node("visitor")
        .run(move || TcpStream::connect_timeout(&outside, Duration::from_millis(500)).is_ok());
    assert!(!connected);
}

#[netns_test(topology = "
    switch internet
    {home server} -- internet
    peer -- home
    nat home [outside=internet, firewall6=off]
")]
fn without_the_ipv6_firewall_the_inside_is_reachable(net: &Net) {
    assert!(tcp6_connects(net, "server", "peer", 7001));
    // IPv4 stays translated and closed.
    assert_ne!(net.node("peer").ip(), Ipv4Addr::UNSPECIFIED);
}

/// What behaviour discovery found, as `(mapping, filtering)`.
fn found(discovered: &Discovered) -> (Mapping, Filtering) {
    (discovered.mapping, discovered.filtering)
}

/// One test per NAT: discovery from behind it, by RFC 5780's tests over UDP and over TCP,
/// finds the mapping and filtering its declaration says, and the outside address as the mapped
/// one. `name: "nat attributes" => preset whose behaviour it must have, or (mapping, filtering)`.
macro_rules! discovered {
    ($($name:ident: $attributes:literal => $mapping:ident, $filtering:ident;)*) => {$(
        #[netns_test(topology = concat!(
            "switch internet
             {home stun alt} -- internet
             client -- home
             nat home [outside=internet, ", $attributes, "]"
        ))]
        fn $name(net: &Net) {
            let server = BehaviourServer::start(net, "stun", "alt");
            let expected = (Mapping::$mapping, Filtering::$filtering);
            let udp = discover_udp(net, "client", &server);
            assert_eq!(found(&udp), expected, "over UDP: {udp:?}");
            assert_eq!(*udp.mapped.ip(), net.nat("home").outside_ip());
            let tcp = discover_tcp(net, "client", &server);
            assert_eq!(found(&tcp), expected, "over TCP: {tcp:?}");
            assert_eq!(*tcp.mapped.ip(), net.nat("home").outside_ip());
        }
    )*};
}

discovered! {
    full_cone_is_eim_eif: "type=full-cone" => EndpointIndependent, EndpointIndependent;
    restricted_cone_is_eim_adf: "type=restricted-cone" => EndpointIndependent, AddressDependent;
    port_restricted_is_eim_apdf: "type=port-restricted"
        => EndpointIndependent, AddressAndPortDependent;
    symmetric_is_apdm_apdf: "type=symmetric" => AddressAndPortDependent, AddressAndPortDependent;
    cgnat_is_eim_eif: "type=cgnat" => EndpointIndependent, EndpointIndependent;
    address_dependent_mapping_is_adm: "mapping=address-dependent"
        => AddressDependent, AddressAndPortDependent;
    a_preset_takes_a_filtering_override: "type=symmetric, filtering=endpoint-independent"
        => AddressAndPortDependent, EndpointIndependent;
}

/// One test per pair of NAT types: two peers, each behind a home of its type, punch through
/// both with the help of a rendezvous server on the internet. `name: a, b => works;`.
macro_rules! punching {
    ($($name:ident: $a:literal, $b:literal => $works:expr;)*) => {$(
        #[netns_test(topology = concat!(
            "switch internet
             {home-a home-b rendezvous} -- internet
             peer-a -- home-a
             peer-b -- home-b
             nat home-a [outside=internet, type=", $a, "]
             nat home-b [outside=internet, type=", $b, "]"
        ))]
        fn $name(net: &Net) {
            let rendezvous = Rendezvous::start(net, "rendezvous");
            let punched = punch(net, "peer-a", "peer-b", &rendezvous);
            let both = punched.a_heard_b && punched.b_heard_a;
            assert_eq!(both, $works, "{} against {}: {punched:?}", $a, $b);
        }
    )*};
}

punching! {
    punch_full_cone_full_cone: "full-cone", "full-cone" => true;
    punch_full_cone_restricted_cone: "full-cone", "restricted-cone" => true;
    punch_full_cone_port_restricted: "full-cone", "port-restricted" => true;
    punch_full_cone_symmetric: "full-cone", "symmetric" => true;
    punch_full_cone_cgnat: "full-cone", "cgnat" => true;
    punch_restricted_cone_restricted_cone: "restricted-cone", "restricted-cone" => true;
    punch_restricted_cone_port_restricted: "restricted-cone", "port-restricted" => true;
    punch_restricted_cone_symmetric: "restricted-cone", "symmetric" => true;
    punch_restricted_cone_cgnat: "restricted-cone", "cgnat" => true;
    punch_port_restricted_port_restricted: "port-restricted", "port-restricted" => true;
    punch_port_restricted_symmetric: "port-restricted", "symmetric" => false;
    punch_port_restricted_cgnat: "port-restricted", "cgnat" => true;
    punch_symmetric_symmetric: "symmetric", "symmetric" => false;
    punch_symmetric_cgnat: "symmetric", "cgnat" => true;
    punch_cgnat_cgnat: "cgnat", "cgnat" => true;
}

#[netns_test(topology = "
    switch internet
    {isp home-b rendezvous} -- internet
    peer-a -- home-a -- isp
    peer-b -- home-b
    nat home-a [outside=isp, type=port-restricted]
    nat isp [outside=internet, type=cgnat]
    nat home-b [outside=internet, type=port-restricted]
")]
fn double_nat_punches_as_the_real_thing_does(net: &Net) {
    let rendezvous = Rendezvous::start(net, "rendezvous");
    let punched = punch(net, "peer-a", "peer-b", &rendezvous);
    assert!(punched.a_heard_b && punched.b_heard_a, "{punched:?}");
    // Peer a's public endpoint is the carrier's address; the home's own outside address is a
    // shared one, in 100.64.0.0/10.
    assert_eq!(*punched.a_public.ip(), net.nat("isp").outside_ip());
    assert_eq!(net.nat("home-a").outside_ip().octets()[..2], [100, 64]);
}

netns_test::main!();
