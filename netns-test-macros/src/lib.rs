//! The `#[netns_test]` attribute of [netns-test](https://docs.rs/netns-test).
//!
//! Depend on `netns-test`, which re-exports the attribute and documents its grammar; this crate
//! is an implementation detail whose version the runtime pins.
//!
//! The work happens on `proc_macro2` tokens, so that it can be unit-tested: `args` reads the
//! attribute's arguments, `item` checks the function and takes off `#[ignore]` and
//! `#[should_panic]`, `validate` runs the runtime's own topology parser at compile time, and
//! `expand` writes the output, fit for both harnesses (`libtest`).

#![forbid(unsafe_code)]

mod args;
mod errors;
mod expand;
mod item;
mod libtest;
mod validate;

/// The runtime's topology parser, compiled here from the very same source, so that a topology
/// the macro accepts is one the runtime can parse.
#[path = "../../netns-test/src/topology/mod.rs"]
#[allow(
    dead_code,
    unused_imports,
    reason = "the macro only parses: planning and most accessors are for the runtime"
)]
mod topology;

/// Marks a function as a test that runs in its own private network.
///
/// ```no_run
/// use netns_test::{Net, netns_test};
///
/// #[netns_test(topology = "client -- gateway -- server")]
/// fn client_pings_server(net: &Net) {
///     let ping = net.node("client").command("ping").args(["-c1", "server"]).status().unwrap();
///     assert!(ping.success());
/// }
///
/// netns_test::main!();
/// ```
///
/// The test target is best given `harness = false` in `Cargo.toml` and one
/// `netns_test::main!();`. In a target with libtest's default harness the attribute works too,
/// without `main!`: each test becomes a `#[test]` function that runs its body in a sandboxed
/// process of its own (see the crate docs of `netns-test` for what the custom harness adds).
///
/// # The function
///
/// `fn name(net: &Net)` or `fn name()`, returning nothing or `Result<(), E>` with `E: Debug` (an
/// `Err` fails the test with its message). `#[ignore]`, `#[ignore = "reason"]`, `#[should_panic]`
/// and `#[should_panic(expected = "...")]` mean what they mean for `#[test]`. The test's name is
/// its module path within the target and the function's name, as with libtest.
///
/// # Arguments
///
/// ## `topology = "..."`
///
/// The network, in the topology language below. Every mistake in it is a compile error on the
/// string, quoting the fragment and saying what would be valid.
///
/// ## `topology_file = "path"`
///
/// The same language, read from a file whose path is relative to the crate's manifest
/// directory (`tests/topologies/dmz.topo`). Editing the file rebuilds the test; errors name the
/// file, line and column. Give `topology` or `topology_file`, not both.
///
/// # The topology language
///
/// ```text
/// net0 -- net1                                 a veth pair between two nodes
/// a -- b -- c                                  two links: a–b and b–c
/// {a b c} -- d                                 a–d, b–d and c–d ({a b} -- {c d}: every pair)
/// switch br0; {net0 net1 net2} -- br0          a switch (Linux bridge): one shared segment
/// client -- gw [subnet=10.0.100.0/24]          the IPv4 subnet of that chain's segment
/// host -- ns1                                  `host` is the namespace the body starts in
/// # a comment                                  to the end of the line
/// ```
///
/// - Statements are separated by `;` or newlines. A line that ends with `--`, or an open `{` or
///   `[`, continues on the next line. `switch a b` declares several switches; a switch must be
///   declared before it is linked.
/// - Names: ASCII letters, digits, `_` and `-`, starting with a letter, at most 15 bytes.
///   `switch`, `router` and `bridge` are reserved; `host` is the test's own namespace.
/// - Interfaces are `eth0`, `eth1`, ... in the order a node's links appear; `lo` is up.
/// - Addressing: each segment (a link, or all links of one switch) without a `subnet` takes
///   `10.0.1.0/24`, `10.0.2.0/24`, ... in order, skipping subnets given explicitly. Plain nodes
///   take `.1`, `.2`, ... in order of appearance on the segment; routers take the highest
///   addresses (`.254`, `.253`, ...).
/// - Routing: a node with two or more links is a router (IPv4 forwarding on). A node with one
///   link gets a default route through the first router on its segment; routers get routes to
///   every other subnet through the next router on the shortest path. Every node reaches every
///   other one.
/// - Errors: unknown or misspelled attributes, bad or overlapping subnets, subnets too small for
///   their segment, duplicate and self links, a dangling `--`, bad or too long names, a name
///   used as both node and switch, an empty topology.
#[proc_macro_attribute]
pub fn netns_test(
    args: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    expand::netns_test(args.into(), item.into()).into()
}
