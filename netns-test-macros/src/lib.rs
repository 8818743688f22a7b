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
mod node;
mod validate;

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
/// `async fn name(net: &Net)` works too (with the `tokio` feature of `netns-test`, on by
/// default): the future runs to its end on a current-thread tokio runtime in the body's node
/// (see `node` below), so `tokio::spawn` in it starts tasks in that node. Inside async code,
/// reach other nodes with `net.node("x").spawn_async(future).await`: `block_on` would block the
/// runtime and panics there.
///
/// ```no_run
/// use netns_test::{Net, netns_test};
///
/// #[netns_test(topology = "client -- server", node = "client")]
/// async fn client_connects(net: &Net) {
///     let listener = net
///         .node("server")
///         .spawn_async(tokio::net::TcpListener::bind("0.0.0.0:7000"))
///         .await
///         .unwrap();
///     let server = net.node("server").spawn_async(async move { listener.accept().await });
///     // This body runs in `client`: so does the socket it opens.
///     tokio::net::TcpStream::connect("server:7000").await.unwrap();
///     let (_, peer) = server.await.unwrap();
///     assert_eq!(peer.ip(), net.node("client").ip());
/// }
/// # netns_test::main!();
/// ```
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
/// ## `capture` or `capture = "always"`
///
/// Captures every frame on every link end, from before the body starts until it ends, into one
/// pcapng file (`capture.pcapng` in the test's artifact folder, one interface per link end,
/// named `client:eth0`), which Wireshark and `tshark -r` read. `capture` (or
/// `capture = "on-failure"`) keeps the file when the test fails, `capture = "always"` also when
/// it passes. Each frame of a link appears once, as it left the node that sent it (direction
/// `out`); `both-ends` keeps it as it arrived at the other end too: `capture = "both-ends"`
/// (on failure) or `capture = "always,both-ends"`. `NETNS_TEST_CAPTURE=off|on-failure|always`
/// (each but `off` may add `,both-ends`) sets it for every test of a run.
///
/// ## `node = "name"`
///
/// The node the body runs in, instead of `host`: every socket the body opens, every thread and
/// program it starts without naming a node, belongs to that node. A sync body runs on the test's
/// thread, moved into the node for the call; an async body runs through `Node::block_on` of
/// that node. The name is checked at compile time: a name the topology lacks is an error on the
/// literal that names the closest node, if one is close enough to be a typo of it
/// (``the topology has no node `sever`: did you mean `server`? ...``), and lists the nodes it
/// has. `node = "host"` is the default, spelled out.
///
/// ## `timeout = "10s"`
///
/// The test's time limit: a number and a unit, `us`, `ms`, `s` or `m` (`500ms`, `1.5s`, `2m`;
/// the grammar of every duration, `delay=` and `NETNS_TEST_TIMEOUT` included), read at compile
/// time. A test past it is killed with every process it started and reported as
/// "timed out after 10s", with the output it printed until then. It wins over the default that
/// the `NETNS_TEST_TIMEOUT` environment variable gives every test without one; without either,
/// a test has no limit. Under cargo-nextest, keep it below nextest's `slow-timeout` ×
/// `terminate-after`, so that this report comes first; if nextest kills the test binary anyway,
/// everything the test started dies with it.
///
/// ## `crate = "path::to::netns_test"`
///
/// Where the generated code finds netns-test, when the test's crate reaches it through another
/// crate that re-exports it (a team's test kit: `pub use netns_test;`) rather than depending on
/// it by name. As with tokio's `crate = "..."`: `#[my_kit::netns_test(crate =
/// "my_kit::netns_test", topology = "a -- b")]`, and `my_kit::netns_test::main!()`.
///
/// # The topology language
///
/// ```text
/// net0 -- net1                                 a veth pair between two nodes
/// a -- b -- c                                  two links: a–b and b–c
/// {a b c} -- d                                 a–d, b–d and c–d ({a b} -- {c d}: every pair)
/// switch br0; {net0 net1 net2} -- br0          a switch (Linux bridge): one shared segment
/// switch lan; {pc1 pc2} -- lan; lan -- r1 -- wan   a LAN behind a router
/// client -- gw [subnet=10.0.100.0/24]          the IPv4 subnet of that chain's segment
/// client -- gw [subnet6=fd00:0:0:100::/64]     its IPv6 subnet
/// client@10.0.100.7 -- gw                      this end's address (also `@fd00::7`, or both:
///                                              `client@10.0.100.7@fd00::7`)
/// router edge; host multi                      roles that override the count of links
/// [ipv6=off]                                   no IPv6 in this network (on a line of its own)
/// [ipv4=off]                                   no IPv4: an IPv6-only network (likewise)
/// a -- b [mtu=1280, rate=10mbit]               link settings, on both ends of each link
/// a -- b [delay=50ms, loss=0.5%]               netem, or a userspace relay where the kernel lacks it
/// host -- ns1                                  `host` is the namespace the body starts in
/// nat home [outside=isp, type=symmetric]       router `home` is a NAT, its outside towards `isp`
/// # a comment                                  to the end of the line
/// ```
///
/// - Statements are separated by `;` or newlines. A line that ends with `--`, or an open `{` or
///   `[`, continues on the next line. `switch a b` declares several switches; a switch must be
///   declared before it is linked.
/// - Names: ASCII letters, digits, `_` and `-`, starting with a letter, at most 15 bytes.
///   `switch` is a keyword and `bridge` is reserved. `router` and `host` are keywords only at
///   the start of a statement and followed by a name: `router r1` declares `r1` a router, while
///   `client -- router -- server` has a node called `router`. `host` used as a node (`host --
///   ns1`, or `host` alone) is always the test's own namespace, so `host h1` declares `h1`.
/// - Interfaces are `eth0`, `eth1`, ... in the order a node's links appear; `lo` is up.
/// - Roles: a node with two or more links is a router (forwarding on, each family); one with
///   fewer is a host. `router NAME` makes a router of a node with one link, `host NAME` a host
///   of one with two (it does not forward, and routers do not route through it).
/// - IPv4 addressing: each segment (a link, or all links of one switch) without a `subnet` takes
///   the /24 around an explicit address on it, or else `10.0.1.0/24`, `10.0.2.0/24`, ... in
///   order, skipping subnets the text fixes. Hosts take `.1`, `.2`, ... in order of appearance
///   on the segment; routers take the highest addresses (`.254`, `.253`, ...); both skip the
///   addresses written with `@`. An `@` address is for one end of one link: write the link on
///   its own if the name has several links in its chain.
/// - IPv6 (dual stack, on unless `[ipv6=off]`): each segment also takes its `subnet6`, or the
///   /64 around an explicit IPv6 address, or else `fd00:0:0:1::/64`, `fd00:0:0:2::/64`, ... and
///   each interface the IPv6 address that mirrors its IPv4 host number: `10.0.1.254` goes with
///   `fd00:0:0:1::254`. Addresses are added without duplicate address detection, so they work
///   at once. `Node::ipv6()` returns a node's first one. Node names resolve to both families,
///   IPv4 first (so `ping server` is IPv4, `ping -6 server` IPv6).
/// - IPv6 only (`[ipv4=off]`): no node has an IPv4 address (`lo` keeps `127.0.0.1`, as on any
///   Linux host) or an IPv4 route, and routers forward IPv6 only. Each interface keeps the
///   IPv6 address it has in the dual-stack network (hosts `::1`, `::2`, ..., routers `::254`,
///   ...), and a switch may have more than 254 links. Names resolve to IPv6 alone, so
///   `ping server` and `TcpStream::connect("server:7000")` use it. `Node::ip()` and
///   `Interface::ipv4()` panic, naming the node and saying the network is IPv6-only;
///   `Node::try_ip()` and `Interface::try_ipv4()` return `None`, and `Node::addrs()` is empty.
///   A `subnet=`, an IPv4 `@address` or an `mtu=` below 1280 (the least IPv6 allows: Linux
///   takes IPv6 off a smaller link) is a compile error that says what to write instead, and so
///   is `[ipv4=off]` together with `[ipv6=off]`; `Link::set_mtu` refuses such an MTU too.
/// - Routing, the same in both families: a host gets a default route through the first router
///   on its segments; routers get routes to every other subnet through the next router on the
///   shortest path. Every node reaches every other one through routers, but for IPv4 across a
///   NAT (below).
/// - NAT: `nat home [outside=isp, type=port-restricted]` makes router `home` a NAT, translating
///   every IPv4 flow that leaves through its link to `isp` (a node or a switch it is linked to)
///   to its address there. `type` is `full-cone`, `restricted-cone`, `port-restricted` (the
///   default: the usual home router), `symmetric` or `cgnat`; `mapping=` and `filtering=`
///   (`endpoint-independent`, `address-dependent`, `address-and-port-dependent`, as RFC 4787
///   defines them), `hairpin=on|off` and `firewall6=on|off` override the type's;
///   `timeout=30s` sets how long an idle UDP mapping lives (default 2 minutes, whole seconds),
///   `tcp-timeout=10m` how long an established TCP connection lives idle (default 2 hours 4
///   minutes; after it the NAT drops the connection's packets);
///   `forward=tcp:8080:server:80` (or `forward=udp:5000:peer`, the same port) sends a port of
///   the outside address to a node inside, and may be repeated. The nodes behind a NAT are a
///   private realm: `192.168.1.0/24` onwards (`100.64.1.0/24` onwards behind a `cgnat`),
///   reused by realms side by side, so two homes can both be on `192.168.1.0/24`; the public
///   side takes `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, then `198.18.0.0/15`.
///   Nothing outside a NAT has an IPv4 route into it. IPv6 is not translated: it is routed
///   everywhere (in `2001:db8::/48`), and a NAT with `firewall6` on (every type but `cgnat`)
///   lets in only IPv6 flows that started inside, and those to a `pinhole=tcp:server:443`
///   (a port of a node inside, repeatable). At run time `Net::nat` forgets every
///   mapping, rebinds them to new ports, changes the timeouts and lists the mappings. A NAT without `outside`, with one
///   link, whose inside has another way out, or a forward to a node outside it, is a compile
///   error.
/// - Link settings apply to both ends of every link of their chain (for a link to a switch,
///   the node's interface and the bridge port):
///
///   | attribute | meaning | units | range |
///   |---|---|---|---|
///   | `mtu=1280` | the MTU of both ends | bytes | 68 to 65535; 1280 or more unless `[ipv6=off]` (Linux takes IPv6 off a smaller link) |
///   | `rate=10mbit` | what each end sends, at most (a `tbf` qdisc per end, or netem's rate where netem impairs the link) | `bit`, `kbit`, `mbit`, `gbit` per second, powers of 1000; decimals allowed (`1.5mbit`) | 1kbit to 32gbit |
///   | `delay=50ms` | added to every packet each end sends (a round trip gets it twice) | `us`, `ms`, `s` | 0 to 60s |
///   | `loss=1%` | the share of packets each end drops | percent, up to four decimals | 0.0001% to 100% |
///   | `jitter=5ms` | the delay varies uniformly within this much either side, never below 0 | a duration | 0 to 60s |
///   | `burst=4` | with `loss`, losses come in bursts this long on average (Gilbert-Elliott: a good state that loses nothing, a bad one that loses all) | packets | 1 to 1000 |
///   | `duplicate=1%` | the share of packets sent twice | percent | 0% to 100% |
///   | `reorder=25%` | the share of packets that skip the delay, overtaking those before them (needs a `delay`) | percent | 0% to 100% |
///   | `corrupt=0.1%` | the share of packets with one bit flipped after the Ethernet header (checksums then catch it) | percent | 0% to 100% |
///
///   | `profile=lte` | an access network's settings at once, the left end as the user's device: `lte` (`rate=50mbit/100mbit, delay=45ms, jitter=15ms/5ms, loss=0.2%`, from Loadero's 4G conditions), `satellite` (`delay=279ms`, RFC 2488's geostationary hop), `wifi` (`delay=10ms, jitter=10ms`, from Sui et al.'s measurements of campus Wi-Fi hops, INFOCOM 2016); each source is in `topology::PROFILES`; settings after it override it | | |
///
///   `rate` and every impairment (`delay` to `corrupt`) take one value for both directions or
///   two, `x/y`: `x` for what the left end of `a -- b` sends, `y` for what `b` sends, so
///   `client -- isp [delay=40ms/10ms, loss=1%/0%]` has a slow, lossy uplink and
///   `client -- isp [rate=2mbit/20mbit]` a slow one (`Link::set_rate` takes the same).
///
///   `delay` and `loss` use a `netem` qdisc where the kernel has `sch_netem`, and elsewhere a
///   relay: the link becomes two veth pairs through a hidden namespace where one thread per test
///   moves every frame, delayed or dropped as set (`NETNS_TEST_IMPAIR=auto|netem|relay`
///   chooses; `netem` on a kernel without it fails the test before its body with `this kernel
///   lacks sch_netem, needed for ...`). The relay carries only links built with a `delay` or a
///   `loss`: `delay=0ms` gives a link one that a test sets later with `Link::set_delay`. Byte rates (`10mbps`) are refused with a
///   suggestion, since `tc` reads them as bytes per second. At run time,
///   `net.link("a", "b")` changes the link: `down`, `up`, `set_mtu`, `set_rate`, `set_delay`,
///   `set_loss` (see `netns_test::Link`).
/// - Errors: unknown or misspelled attributes, link settings out of range or in the wrong
///   unit, bad or overlapping subnets (either family), subnets too small for their segment,
///   addresses outside their subnet or used twice, conflicting `router`/`host` declarations,
///   duplicate and self links, a dangling `--`, bad or too long names, a name used as both
///   node and switch, an empty topology.
#[proc_macro_attribute]
pub fn netns_test(
    args: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    expand::netns_test(args.into(), item.into()).into()
}
