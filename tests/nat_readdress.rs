//! A NAT that moves to a new outside address (`Nat::rebind_address`), as a user meets it: the
//! same peer arrives from the new address on the same port, the old address leads nowhere, a
//! port forward, the NAT's name and its reports follow, two NATs on one switch never take the
//! same address, the address survives its link going down and up, and a full subnet is named.

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use netns_test::{Error, Net, netns_test};
use netns_test_suites::support::datagrams::{send, server, server_and_peer, udp};
use netns_test_suites::support::lookups::resolved;
use netns_test_suites::support::programs::{kernel_addrs, pings};

/// The IPv4 addresses `name` resolves to in `node`.
fn resolve(net: &Net, node: &str, name: &str) -> Vec<IpAddr> {
    resolved(net, node, name)
        .into_iter()
        .filter(IpAddr::is_ipv4)
        .collect()
}

#[netns_test(topology = "
    switch internet
    {home server} -- internet
    peer -- home
    nat home [outside=internet]
")]
fn the_same_peer_arrives_from_the_new_address_on_the_same_port(net: &Net) {
    let (server, peer, target) = server_and_peer(net);
    let home = net.nat("home");
    let old = home.outside_ip();
    let before = send(&peer, &server, target, "before").expect("the peer reaches the server");
    assert_eq!(before, SocketAddr::from((old, 4000)));
    let new = home.rebind_address().unwrap();
    assert_ne!(new, old);
    assert_eq!(home.outside_ip(), new);
    assert_eq!(home.plan().outside_ipv4, old, "the plan is the topology's");
    // The same socket, nothing reconnected: the server sees the peer at the new address.
    let after = send(&peer, &server, target, "after").expect("the peer still reaches it");
    assert_eq!(after, SocketAddr::from((new, 4000)));
    assert!(send(&server, &peer, after, "to the new address").is_some());
    assert_eq!(send(&server, &peer, before, "to the old address"), None);
    let mappings = home.mappings().unwrap();
    assert!(
        mappings.iter().any(|m| SocketAddr::V4(m.outside) == after)
            && mappings.iter().all(|m| SocketAddr::V4(m.outside) != before),
        "{mappings:?}"
    );
    // The router holds the new address alone; pings reach it there only.
    let addrs = kernel_addrs(
        net.node("home"),
        "-4",
        net.nat("home").plan().outside.as_str(),
    );
    assert!(
        addrs.iter().any(|a| a.starts_with(&format!("{new}/"))),
        "{addrs:?}"
    );
    assert!(
        !addrs.iter().any(|a| a.starts_with(&format!("{old}/"))),
        "{addrs:?}"
    );
    assert!(pings(net.node("server"), &new.to_string()));
    assert!(!pings(net.node("server"), &old.to_string()));
    // A second move goes on to another address, and a port rebinding on top changes the port.
    let third = home.rebind_address().unwrap();
    assert!(third != new && third != old);
    home.rebind().unwrap();
    let last = send(&peer, &server, target, "last").expect("the peer still reaches it");
    assert_eq!(last.ip(), IpAddr::from(third));
    assert_ne!(last.port(), 4000);
}

#[netns_test(topology = "
    switch internet
    {home visitor} -- internet
    web -- home
    nat home [outside=internet, forward=tcp:8080:web:80]
")]
fn a_port_forward_and_the_nat_s_name_follow_the_new_address(net: &Net) {
    let home = net.nat("home");
    let old = home.outside_ip();
    assert_eq!(resolve(net, "visitor", "home"), [IpAddr::from(old)]);
    let inside = resolve(net, "web", "home");
    let new = home.rebind_address().unwrap();
    assert_eq!(resolve(net, "visitor", "home"), [IpAddr::from(new)]);
    assert_eq!(
        resolve(net, "web", "home"),
        inside,
        "inside, the name has not moved"
    );
    let listener = net
        .node("web")
        .run(|| TcpListener::bind("0.0.0.0:80").unwrap());
    let web = thread::spawn(move || listener.accept().map(|(_, from)| from.ip()));
    let connects = |address| {
        net.node("visitor").run(move || {
            let target = SocketAddr::from((address, 8080));
            TcpStream::connect_timeout(&target, Duration::from_millis(500)).is_ok()
        })
    };
    assert!(!connects(old), "the old address forwards nothing");
    assert!(connects(new), "the forward answers on the new address");
    assert_eq!(web.join().unwrap().unwrap(), net.node("visitor").ip());
    // The report, which a failing test prints, shows the address the router has now.
    let report = net.report();
    assert!(report.contains(&new.to_string()), "{report}");
    assert!(!report.contains(&format!("{old}/")), "{report}");
}

#[netns_test(topology = "
    switch internet
    {home-a home-b server} -- internet
    peer-a -- home-a
    peer-b -- home-b
    nat home-a [outside=internet]
    nat home-b [outside=internet]
")]
fn nats_that_move_on_one_switch_never_take_the_same_address(net: &Net) {
    let (server, target) = server(net);
    let (a, b) = (net.nat("home-a"), net.nat("home-b"));
    let server_ip = net.node("server").ip();
    for _ in 0..3 {
        for nat in [a, b] {
            assert_ne!(nat.rebind_address().unwrap(), server_ip);
        }
        assert_ne!(a.outside_ip(), b.outside_ip());
        for (peer, nat) in [("peer-a", a), ("peer-b", b)] {
            let socket = udp(net, peer, 0);
            let from = send(&socket, &server, target, peer).expect("the peer reaches the server");
            assert_eq!(from.ip(), IpAddr::from(nat.outside_ip()));
        }
    }
}

#[netns_test(topology = "peer -- home -- server; nat home [outside=server]")]
fn the_new_address_survives_its_link_going_down_and_up(net: &Net) {
    let home = net.nat("home");
    let new = home.rebind_address().unwrap();
    let link = net.link("home", "server");
    link.down().unwrap();
    link.up().unwrap();
    let (server, peer, target) = server_and_peer(net);
    assert_eq!(
        send(&peer, &server, target, "hello"),
        Some(SocketAddr::from((new, 4000)))
    );
}

#[netns_test(
    topology = "peer -- home; home -- server [subnet=198.51.100.0/30]; nat home [outside=server]"
)]
fn a_full_outside_subnet_is_named_with_the_fix(net: &Net) {
    let home = net.nat("home");
    let old = home.outside_ip();
    let error = home.rebind_address().unwrap_err();
    assert!(matches!(error, Error::NoFreeAddress { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "`nat home` cannot move to a new outside address: every address of its outside subnet \
         198.51.100.0/30 is taken; give its outside link a larger subnet (`[subnet=.../24]`)"
    );
    assert_eq!(home.outside_ip(), old, "nothing moved");
}

netns_test::main!();
