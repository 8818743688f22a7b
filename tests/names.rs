//! Names of the test's own (`Net::set_name`), as a user meets them: a name resolves in every
//! node through `/etc/hosts` and over DNS, in any case, and a client connects by it; it moves
//! from one server to another and the next lookup follows; removed, it is unknown again;
//! behind a NAT it resolves as the node's own name does, following the NAT when it moves; and
//! a name that cannot be one is refused, saying why.

use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener, TcpStream};

use netns_test::{Error, Net, netns_test};
use netns_test_suites::support::lookups::{NOT_KNOWN, dig_short, lookup, resolved};
use netns_test_suites::support::programs::run_ok;

/// The addresses of `node`, IPv4 first.
fn addresses(net: &Net, node: &str) -> Vec<IpAddr> {
    let node = net.node(node);
    vec![IpAddr::V4(node.ip()), IpAddr::V6(node.ipv6())]
}

#[netns_test(topology = "client -- gateway -- server")]
fn a_name_set_resolves_everywhere_and_a_client_connects_by_it(net: &Net) {
    net.set_name("api.example.com", "server").unwrap();
    for node in ["client", "gateway", "server"] {
        assert_eq!(
            resolved(net, node, "api.example.com"),
            addresses(net, "server")
        );
    }
    assert_eq!(
        resolved(net, "client", "API.Example.COM"),
        addresses(net, "server")
    );
    // Over DNS too, and in /etc/hosts beside the node's own name.
    let dig = dig_short(net.node("client"), &["api.example.com", "A"]);
    assert_eq!(dig, [net.node("server").ip().to_string()]);
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap();
    let line = format!("{}\tserver api.example.com", net.node("server").ip());
    assert!(hosts.lines().any(|l| l == line), "{hosts}");
    // The reverse name stays the node's own.
    let reverse = dig_short(
        net.node("client"),
        &["-x", &net.node("server").ip().to_string()],
    );
    assert_eq!(reverse, ["server."]);
    let listener = net
        .node("server")
        .run(|| TcpListener::bind("0.0.0.0:8443").unwrap());
    let served = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"hello").unwrap();
    });
    let mut answer = String::new();
    net.node("client").run(|| {
        let mut stream = TcpStream::connect("api.example.com:8443").unwrap();
        stream.read_to_string(&mut answer).unwrap();
    });
    served.join().unwrap();
    assert_eq!(answer, "hello");
}

#[netns_test(topology = "switch lan; {client blue green} -- lan")]
fn a_name_moves_between_servers_and_is_removed(net: &Net) {
    let name = "svc.example.com";
    net.set_name(name, "blue").unwrap();
    assert_eq!(resolved(net, "client", name), addresses(net, "blue"));
    net.set_name(name, "green").unwrap();
    assert_eq!(resolved(net, "client", name), addresses(net, "green"));
    // A resolver that caches may not keep the old answer: its TTL is 0.
    let answer = run_ok(net.node("client"), "dig", &["+noall", "+answer", name, "A"]);
    let fields: Vec<&str> = answer.split_whitespace().collect();
    assert_eq!(fields[..2], [format!("{name}.").as_str(), "0"], "{answer}");
    assert_eq!(
        dig_short(net.node("client"), &[name, "AAAA"]),
        [net.node("green").ipv6().to_string()]
    );
    net.remove_name(name).unwrap();
    let error = lookup(net, "client", name).unwrap_err();
    assert_eq!(error.to_string(), NOT_KNOWN);
    assert!(dig_short(net.node("client"), &[name, "A"]).is_empty());
    let again = net.remove_name(name).unwrap_err();
    assert_eq!(
        again.to_string(),
        "invalid name `svc.example.com`: no such name was set (`Net::set_name` sets one)"
    );
}

#[netns_test(topology = "
    switch internet
    {home server} -- internet
    printer -- home
    nat home [outside=internet]
")]
fn behind_a_nat_a_name_resolves_as_the_node_s_own_does(net: &Net) {
    net.set_name("printer.home.arpa", "printer").unwrap();
    net.set_name("router.example.net", "home").unwrap();
    // Inside its home, the printer's private address; outside, its global IPv6 address alone.
    assert_eq!(
        resolved(net, "home", "printer.home.arpa"),
        addresses(net, "printer")
    );
    let printer6 = IpAddr::V6(net.node("printer").ipv6());
    assert_eq!(resolved(net, "server", "printer.home.arpa"), [printer6]);
    // The router is its outside address outside, and follows it when it moves.
    let outside = |net: &Net| IpAddr::V4(net.nat("home").outside_ip());
    assert_eq!(
        resolved(net, "server", "router.example.net")[0],
        outside(net)
    );
    net.nat("home").rebind_address().unwrap();
    assert_eq!(
        resolved(net, "server", "router.example.net")[0],
        outside(net)
    );
}

#[netns_test(topology = "client -- server")]
fn a_name_that_cannot_be_one_is_refused_saying_why(net: &Net) {
    let refused = |name: &str| {
        let error = net.set_name(name, "server").unwrap_err();
        assert!(matches!(error, Error::InvalidName { .. }), "{error:?}");
        error.to_string()
    };
    assert_eq!(
        refused("api_v2.example.com"),
        "invalid name `api_v2.example.com`: a name has letters, digits, `-` and dots only, and \
         `api_v2` has `_`"
    );
    assert_eq!(
        refused("client"),
        "invalid name `client`: it is already the name of a node (or of localhost), which \
         cannot be moved"
    );
    assert!(refused("localhost").contains("already the name"));
    assert!(refused("10.0.0.7").contains("reads as an address"));
    // Nothing was set.
    assert_eq!(
        lookup(net, "client", "api_v2.example.com")
            .unwrap_err()
            .to_string(),
        NOT_KNOWN
    );
}

netns_test::main!();
