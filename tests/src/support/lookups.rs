//! Name lookups inside a node, through glibc's `getaddrinfo` (what `ToSocketAddrs` calls).

use std::net::ToSocketAddrs;

use netns_test::Net;

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
