//! Name lookups inside a node, through glibc's `getaddrinfo` (what `ToSocketAddrs` calls), and
//! over DNS alone with `dig`.

use std::io;
use std::net::{IpAddr, ToSocketAddrs};

use netns_test::{Net, Node};

use super::programs::run_ok;

/// glibc's text for EAI_NONAME: the name is known not to exist (an answer, not a timeout).
pub const NOT_KNOWN: &str = "failed to lookup address information: Name or service not known";

/// glibc's text for EAI_AGAIN: no server answered (here: at once, since none listens).
pub const NO_SERVER: &str =
    "failed to lookup address information: Temporary failure in name resolution";

/// Looks up a name no test has in `node`, and asserts the lookup fails with `expected`.
pub fn unknown_name_fails_with(net: &Net, node: &str, expected: &str) {
    let error = net
        .node(node)
        .run(|| ("no-such-host.example", 80).to_socket_addrs())
        .expect_err("an unknown name");
    assert_eq!(error.to_string(), expected);
}

/// Asserts that `server` resolves in `node` to (among others) the address `Node::ip` gives.
pub fn node_name_resolves(net: &Net, node: &str, server: &str) {
    let found = net
        .node(node)
        .run(|| (server, 80).to_socket_addrs())
        .expect("a node name");
    let expected = net.node(server).ip();
    assert!(found.map(|a| a.ip()).any(|ip| ip == expected));
}

/// What looking `name` up in `node` gives: its addresses, each once, in glibc's order, or the
/// error (`NOT_KNOWN` for a name that does not exist).
pub fn lookup(net: &Net, node: &str, name: &str) -> io::Result<Vec<IpAddr>> {
    let name = name.to_string();
    let found = net
        .node(node)
        .run(move || (name.as_str(), 80).to_socket_addrs())?;
    let mut addresses: Vec<IpAddr> = found.map(|addr| addr.ip()).collect();
    addresses.dedup();
    Ok(addresses)
}

/// The addresses `name` resolves to in `node`; panics, saying so, if it does not resolve.
pub fn resolved(net: &Net, node: &str, name: &str) -> Vec<IpAddr> {
    lookup(net, node, name).unwrap_or_else(|error| panic!("{node} looks up {name}: {error}"))
}

/// `dig` in `node`, one try of one second, the answer section only.
pub fn dig_short(node: &Node, args: &[&str]) -> Vec<String> {
    let mut all = vec!["+short", "+time=1", "+tries=1"];
    all.extend_from_slice(args);
    run_ok(node, "dig", &all)
        .lines()
        .map(str::to_string)
        .collect()
}
