//! The NAT behaviour tools of `support::nat`, on networks without NAT: there, discovery must
//! report endpoint-independent mapping and filtering with the client's own endpoint, punching
//! and hairpinning must get through, and a client socket that filters by itself (a connected
//! UDP socket) must be reported as address-and-port-dependent filtering. These prove the tools
//! tell what they see; what a NAT does is for the NAT suites.

use std::net::SocketAddrV4;
use std::time::Instant;

use netns_test::topology::{Filtering, Mapping};
use netns_test::{Net, netns_test};
use netns_test_suites::support::nat::{
    BehaviourServer, Discovered, DiscoveryOptions, Rendezvous, address_facing, discover_tcp,
    discover_tcp_with, discover_udp, discover_udp_with, hairpin, punch, tcp_forward, udp_forward,
};

/// What a discovery from `client` must say when nothing translates or filters.
fn assert_open(net: &Net, found: &Discovered) {
    assert_eq!(found.mapping, Mapping::EndpointIndependent, "{found:?}");
    assert_eq!(found.filtering, Filtering::EndpointIndependent, "{found:?}");
    assert_eq!(*found.mapped.ip(), net.node("client").ip(), "{found:?}");
    assert_eq!(found.mapped, found.local, "{found:?}");
    assert_eq!(found.seen, [found.mapped; 3], "{found:?}");
}

#[netns_test(topology = "switch internet; {client stun alt rendezvous} -- internet")]
fn udp_discovery_on_one_switch_is_endpoint_independent_with_the_own_address(net: &Net) {
    let server = BehaviourServer::start(net, "stun", "alt");
    let started = Instant::now();
    let found = discover_udp(net, "client", &server);
    println!(
        "UDP discovery, every answer coming: {:?}",
        started.elapsed()
    );
    assert_open(net, &found);
}

#[netns_test(topology = "switch internet; {r stun alt rendezvous} -- internet; client -- r")]
fn udp_discovery_through_a_router_is_endpoint_independent_with_the_own_address(net: &Net) {
    let server = BehaviourServer::start(net, "stun", "alt");
    assert_open(net, &discover_udp(net, "client", &server));
}

#[netns_test(topology = "switch internet; {client stun alt rendezvous} -- internet")]
fn tcp_discovery_on_one_switch_is_endpoint_independent_with_the_own_address(net: &Net) {
    let server = BehaviourServer::start(net, "stun", "alt");
    let started = Instant::now();
    let found = discover_tcp(net, "client", &server);
    println!(
        "TCP discovery, every callback accepted: {:?}",
        started.elapsed()
    );
    assert_open(net, &found);
}

#[netns_test(topology = "switch internet; {r stun alt rendezvous} -- internet; client -- r")]
fn tcp_discovery_through_a_router_is_endpoint_independent_with_the_own_address(net: &Net) {
    let server = BehaviourServer::start(net, "stun", "alt");
    assert_open(net, &discover_tcp(net, "client", &server));
}

/// A connected UDP socket receives from its peer only: the client's own API filters as an
/// APDF NAT would, and the filtering tests must say so (while mapping stays EIM).
#[netns_test(topology = "switch internet; {client stun alt rendezvous} -- internet")]
fn a_connected_filtering_socket_is_reported_as_address_and_port_dependent(net: &Net) {
    let server = BehaviourServer::start(net, "stun", "alt");
    let options = DiscoveryOptions {
        connect_filter_socket: true,
        ..DiscoveryOptions::default()
    };
    let started = Instant::now();
    let found = discover_udp_with(net, "client", &server, options);
    println!(
        "UDP discovery, both filtering answers lost: {:?}",
        started.elapsed()
    );
    assert_eq!(found.mapping, Mapping::EndpointIndependent, "{found:?}");
    assert_eq!(
        found.filtering,
        Filtering::AddressAndPortDependent,
        "{found:?}"
    );
    assert_eq!(*found.mapped.ip(), net.node("client").ip());
}

/// A filtering port without a listener: the client's kernel resets every callback, as an APDF
/// NAT would drop it, and the TCP filtering tests must say APDF (while mapping stays EIM).
#[netns_test(topology = "switch internet; {client stun alt rendezvous} -- internet")]
fn refused_tcp_callbacks_are_reported_as_address_and_port_dependent(net: &Net) {
    let server = BehaviourServer::start(net, "stun", "alt");
    let options = DiscoveryOptions {
        refuse_callbacks: true,
        ..DiscoveryOptions::default()
    };
    let started = Instant::now();
    let found = discover_tcp_with(net, "client", &server, options);
    println!(
        "TCP discovery, both callbacks refused: {:?}",
        started.elapsed()
    );
    assert_eq!(found.mapping, Mapping::EndpointIndependent, "{found:?}");
    assert_eq!(
        found.filtering,
        Filtering::AddressAndPortDependent,
        "{found:?}"
    );
    assert_eq!(found.mapped, found.local, "{found:?}");
}

/// Discovery run twice in one test: a second run on the same server sees the same behaviour
/// (transaction ids keep one run's answers out of the next).
#[netns_test(topology = "switch internet; {client stun alt rendezvous} -- internet")]
fn discovery_runs_again_with_the_same_result(net: &Net) {
    let server = BehaviourServer::start(net, "stun", "alt");
    let first = discover_udp(net, "client", &server);
    let second = discover_udp(net, "client", &server);
    assert_eq!(
        (first.mapping, first.filtering),
        (second.mapping, second.filtering)
    );
}

#[netns_test(topology = "switch internet; {client stun alt rendezvous} -- internet")]
#[should_panic(expected = "never answered client")]
fn a_server_that_cannot_be_reached_is_a_setup_failure_that_says_so(net: &Net) {
    let server = BehaviourServer::start(net, "stun", "alt");
    net.node("stun").disconnect().unwrap();
    discover_udp(net, "client", &server);
}

/// The server's threads end when it is dropped: the process has as many threads as before.
#[netns_test(topology = "switch internet; {client stun alt rendezvous} -- internet")]
fn dropping_the_servers_ends_their_threads(net: &Net) {
    let threads = || std::fs::read_dir("/proc/self/task").unwrap().count();
    let before = threads();
    let server = BehaviourServer::start(net, "stun", "alt");
    let rendezvous = Rendezvous::start(net, "rendezvous");
    assert!(
        threads() >= before + 7,
        "4 UDP, 2 TCP and 1 rendezvous thread"
    );
    discover_udp(net, "client", &server);
    drop(server);
    drop(rendezvous);
    assert_eq!(threads(), before);
}

#[netns_test(topology = "switch internet; {peer-a peer-b rendezvous} -- internet")]
fn peers_on_one_switch_punch_both_ways_from_their_own_endpoints(net: &Net) {
    let rendezvous = Rendezvous::start(net, "rendezvous");
    let result = punch(net, "peer-a", "peer-b", &rendezvous);
    assert!(result.a_heard_b && result.b_heard_a, "{result:?}");
    assert_eq!(*result.a_public.ip(), net.node("peer-a").ip());
    assert_eq!(*result.b_public.ip(), net.node("peer-b").ip());
    assert_eq!(result.a_heard_b_from, Some(result.b_public));
    assert_eq!(result.b_heard_a_from, Some(result.a_public));
}

#[netns_test(topology = "
    switch internet; {home-a home-b rendezvous} -- internet
    peer-a -- home-a; peer-b -- home-b
")]
fn peers_behind_two_routers_punch_both_ways(net: &Net) {
    let rendezvous = Rendezvous::start(net, "rendezvous");
    let result = punch(net, "peer-a", "peer-b", &rendezvous);
    assert!(result.a_heard_b && result.b_heard_a, "{result:?}");
    assert_eq!(result.a_heard_b_from, Some(result.b_public));
}

/// Without a NAT the public endpoint is the peer's own, so the probe arrives directly, from the
/// sender's own endpoint.
#[netns_test(topology = "switch lan; {peer-a peer-b rendezvous} -- lan")]
fn a_hairpin_probe_without_nat_arrives_from_the_sender_endpoint(net: &Net) {
    let rendezvous = Rendezvous::start(net, "rendezvous");
    let probe = hairpin(net, "peer-a", "peer-b", &rendezvous);
    assert!(probe.delivered, "{probe:?}");
    assert_eq!(probe.source, Some(probe.from_public));
    assert_eq!(*probe.to_public.ip(), net.node("peer-b").ip());
}

/// Through a router, to the server's own address (what a NAT's forward will stand in for).
#[netns_test(topology = "client -- r -- server")]
fn forward_probes_reach_a_server_and_say_what_it_saw(net: &Net) {
    let target = SocketAddrV4::new(net.node("server").ip(), 5000);
    let udp = udp_forward(net, "client", target, "server", 5000);
    assert!(udp.answered, "{udp:?}");
    assert_eq!(
        udp.server_saw.map(|s| *s.ip()),
        Some(net.node("client").ip())
    );
    let tcp = tcp_forward(net, "client", target, "server", 5000);
    assert!(tcp.answered, "{tcp:?}");
    assert_eq!(
        tcp.server_saw.map(|s| *s.ip()),
        Some(net.node("client").ip())
    );
}

/// The router's address on each side, as a NAT suite finds the outside address to probe.
#[netns_test(topology = "client -- r -- server")]
fn the_address_facing_a_node_is_the_one_on_its_subnet(net: &Net) {
    let r = net.node("r");
    let toward_server = address_facing(net, "r", "server");
    let toward_client = address_facing(net, "r", "client");
    assert_ne!(toward_server, toward_client);
    assert!(
        r.addrs()
            .any(|cidr| cidr.addr() == toward_server && cidr.contains(net.node("server").ip()))
    );
    assert!(
        r.addrs()
            .any(|cidr| cidr.addr() == toward_client && cidr.contains(net.node("client").ip()))
    );
}

/// A probe to a port nobody forwards is observed as unanswered, not a panic.
#[netns_test(topology = "client -- r -- server")]
fn forward_probes_to_a_closed_port_report_no_answer(net: &Net) {
    let target = SocketAddrV4::new(net.node("server").ip(), 5001);
    let udp = udp_forward(net, "client", target, "server", 5000);
    assert_eq!((udp.answered, udp.server_saw), (false, None));
    let tcp = tcp_forward(net, "client", target, "server", 5000);
    assert_eq!((tcp.answered, tcp.server_saw), (false, None));
}

netns_test::main!();
