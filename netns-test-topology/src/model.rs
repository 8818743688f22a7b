//! [`Topology`]: what the user said, checked, with its [`Plan`].

use std::fmt::{self, Write as _};
use std::str::FromStr;

use crate::error::TopologyError;
use crate::network::{Link, Peer, Segment};
use crate::parse;
use crate::plan::{self, Plan};
use crate::realms::NatDecl;
use crate::resolve::Resolver;
use crate::syntax::Role;

/// A checked network: nodes, switches and the links between them, with its [`Plan`].
///
/// ```text
/// switch lan                        # a switch: one Linux bridge, one segment, one subnet
/// {pc1 pc2} -- lan                  # pc1 and pc2 each get a link to the switch
/// lan -- gw -- server@192.168.1.10 [subnet=192.168.1.0/24]
/// router edge; edge -- isp          # a router with one link
/// ```
///
/// # Grammar
///
/// ```text
/// topology   = [ statement ] { separator [ statement ] }
/// separator  = ";" | newline
/// statement  = "switch" name { name } | role name { name } | nat | options | chain
/// nat        = "nat" name [ "[" nat-attribute { [ "," ] nat-attribute } [ "," ] "]" ]
/// role       = "router" | "host"                      (a keyword only before a name)
/// options    = "[" attribute { [ "," ] attribute } [ "," ] "]"       (as in `[ipv6=off]`)
/// chain      = item { "--" item } [ options ]
/// item       = end | "{" end { [ "," ] end } [ "," ] "}"
/// end        = name { "@" address }                   (`a@10.0.1.7`, `a@fd00::7`, both)
/// attribute  = "subnet" "=" ipv4-network              (as in `subnet=10.0.100.0/24`)
///            | "subnet6" "=" ipv6-network             (as in `subnet6=fd00:0:0:100::/64`)
///            | "ipv6" "=" ( "on" | "off" )            (options only)
///            | "ipv4" "=" ( "on" | "off" )            (options only)
///            | "mtu" "=" bytes                        (68 to 65535, as in `mtu=1280`)
///            | "rate" "=" number ( "bit" | "kbit" | "mbit" | "gbit" )  (`rate=10mbit`)
///            | "loss" "=" shares                      (`loss=0.5%`, `loss=1%/0%`)
///            | "delay" "=" durations                   (`delay=40ms/10ms`: left end, right end)
///            | "jitter" "=" durations                  (`jitter=5ms`)
///            | "burst" "=" packets                     (`burst=4`, with `loss`)
///            | ( "duplicate" | "reorder" | "corrupt" ) "=" shares  (`reorder=25%`)
/// nat-attribute = "outside" "=" name                 (the neighbour the outside link goes to)
///            | "type" "=" preset                      (`full-cone`, `restricted-cone`,
///                                                      `port-restricted`, `symmetric`, `cgnat`)
///            | ( "mapping" | "filtering" ) "=" behaviour  (`endpoint-independent`,
///                                                      `address-dependent`,
///                                                      `address-and-port-dependent`)
///            | ( "hairpin" | "firewall6" ) "=" ( "on" | "off" )
///            | ( "timeout" | "tcp-timeout" ) "=" duration  (whole seconds, `timeout=30s`)
///            | "forward" "=" ( "tcp" | "udp" ) ":" port ":" name [ ":" port ]  (repeatable)
///            | "pinhole" "=" ( "tcp" | "udp" ) ":" name ":" port  (repeatable)
/// name       = letter { letter | digit | "_" | "-" }  (ASCII, at most 15 bytes)
/// ```
///
/// - Spaces and tabs are free; `#` starts a comment to the end of the line. Inside `{}` and
///   `[]`, entries are separated by spaces, commas, or both.
/// - A newline ends a statement, except inside `{}` or `[]`, after a `--` that ends a line, and
///   before a line that starts with `--`: a long chain may be broken around any `--`.
/// - Names have at most 15 bytes (`IFNAMSIZ - 1`, the Linux interface name limit). `a--b` is
///   `a -- b`. `switch` is a keyword and never a name; `bridge` is reserved. `router` and
///   `host` are keywords only at the start of a statement and before a name: `router r1`
///   declares, while `router -- b` links a node called `router`, and `host -- b` (or `host`
///   alone) is the test's own namespace.
/// - A chain of one item, such as `a` or `{a b}`, declares nodes without linking them.
///
/// # Meaning
///
/// - A **node** is a network namespace; its interfaces are `eth0`, `eth1`, ... in the order its
///   links appear. `host` is the namespace the test body starts in: `host -- a` gives the body
///   its own link to `a`.
/// - A **link** `a -- b` is a veth pair. `{a b} -- {c d}` links every pair, left to right. A
///   node and a switch may be linked in either order; two switches may not (they would form one
///   segment: use one switch, or put a router between them). A switch is declared before its
///   first link, and must have one.
/// - A **segment** is a node-to-node link, or a switch with all of its links. Segments are
///   numbered in the order of their first link.
/// - **Attributes** apply to every link of their chain. `subnet` and `subnet6` set the subnets
///   of the chain's segment, so the chain's links must all be on one segment: `a -- b [...]`,
///   or `{a b} -- lan [...]`. Options on a line of their own apply to the whole network:
///   `[ipv6=off]` leaves IPv6 out (no global IPv6 address, route or name); `[ipv4=off]` leaves
///   IPv4 out (no IPv4 address or route, names resolve to IPv6 only), and then `subnet=`,
///   IPv4 addresses and an `mtu` below 1280 (the least IPv6 allows) are errors. A network keeps at least one family: both together
///   are an error.
/// - **Link settings** apply to both ends of each link of their chain (on a link to a switch,
///   the node's interface and the bridge port): `mtu` in bytes; `rate` in bits per second, in
///   powers of 1000 (a `tbf` token bucket on each end, so each direction is limited); the
///   impairments (`delay`, `jitter`, `loss`, `burst`, `duplicate`, `reorder`, `corrupt`, or a
///   `profile` of them) act on what each end sends (so a round trip sees the delay twice), one
///   value for both directions or `x/y` (`x` for what the left end sends), by the kernel's
///   netem where it has it and a userspace relay where it does not. `jitter` and `reorder`
///   need a `delay` in the same list, `burst` a `loss`. Byte rates
///   (`mbps`) are refused, since `tc` reads them as bytes per second. Decimals are allowed
///   (`1.5mbit`, `0.5%`).
/// - **NAT.** `nat home [outside=isp]` makes router `home` a NAT whose outside is its link to
///   `isp` (a node or a switch it is linked to); every other link of `home` is inside. Its
///   behaviour is a `type` (default `port-restricted`, the usual home router), which `mapping`,
///   `filtering`, `hairpin` and `firewall6` override, in the terms of RFC 4787; `timeout` is
///   how long an idle UDP mapping lives (default 2 minutes), `tcp-timeout` how long an
///   established TCP connection lives idle (default 2 hours 4 minutes, RFC 5382), after which
///   the NAT drops its packets from either side; each `forward=tcp:8080:server:80`
///   sends a port of the outside address to a node inside, and each `pinhole=tcp:server:80`
///   lets IPv6 from outside reach that port of a node inside (or further in) through
///   `firewall6`. A NAT cuts the network into
///   *realms*: its inside, and everything reached from it without crossing a NAT, is one, whose
///   only way out is the NAT (another way out is an error). With NATs, automatic subnets come
///   from the documentation ranges `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24` (then
///   `198.18.0.0/15`) on the public side, from `192.168.1.0/24` onwards behind a home NAT and
///   from `100.64.1.0/24` onwards behind a `cgnat`; two realms side by side reuse the same
///   subnets (two homes both on `192.168.1.0/24`), a realm and the realms around it never.
///   No IPv4 route leads into a realm from outside it (and a host outside a NAT takes no
///   default route through it), so the only way in is through the NAT. IPv6 is not
///   translated: every IPv6 subnet is then in `2001:db8::/48` and routed everywhere, and a NAT
///   whose `firewall6` is on (every type but `cgnat`) lets in only IPv6 flows that started
///   inside. A NAT needs IPv4 (`[ipv4=off]` with `nat` is an error), two links or more, and an
///   `outside`.
/// - **Roles.** A node with two or more links is a router, and a node with fewer is a host,
///   unless a `router NAME` or `host NAME` statement says otherwise (a router with one link, a
///   host with two that must not forward). A node is declared once, as one or the other.
/// - **Addresses.** A segment's IPv4 subnet is its `subnet`; else, if an end on it has an
///   explicit IPv4 address, the /24 around that address; else the next of `10.0.1.0/24`,
///   `10.0.2.0/24`, ... `10.0.255.0/24`, `10.1.0.0/24`, ... that overlaps no subnet given by
///   the text. On each segment, hosts take `.1`, `.2`, ... and routers the top usable
///   addresses, `.254`, `.253`, ..., both in order of appearance on the segment and skipping
///   the addresses written in the text (`a@10.0.1.7`: that end of that link, only).
/// - **IPv6.** Unless `[ipv6=off]`, every segment also has an IPv6 subnet: its `subnet6`; else
///   the /64 around an explicit IPv6 address on it; else the next of `fd00:0:0:1::/64`,
///   `fd00:0:0:2::/64`, ... (the counter written in decimal digits, as `fd00:0:0:10::/64` for
///   the tenth) that overlaps no subnet given by the text. An interface's IPv6 address mirrors
///   its IPv4 host number in the same digits (`10.0.1.254` goes with `fd00:0:0:1::254`) unless
///   written in the text, or taken, or too large for the subnet, when it takes the next free
///   one. Addresses are added without duplicate address detection, usable at once. With
///   `[ipv4=off]` the host numbers are the same as with IPv4 (hosts `::1`, `::2`, ...,
///   routers `::254`, `::253`, ...), though no IPv4 address is given.
/// - **Routes.** A router forwards (each family the network has), and has a route to every subnet it is not
///   attached to, through the first router on a shortest path (ties go to the earlier segment,
///   then the earlier router). A host gets a default route through the first router of its
///   first segment that has one. Both families get the same routes.
///
/// # Equality and display
///
/// Two topologies are equal when they describe the same network the same way: the same nodes,
/// switches, links, roles, explicit subnets and addresses, each in the same order.
/// [`Display`](fmt::Display) prints a canonical text that parses back to an equal topology;
/// `{:#}` puts one statement on each line instead of separating them with `; `.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    nodes: Vec<String>,
    switches: Vec<String>,
    links: Vec<Link>,
    segments: Vec<Segment>,
    /// Per node, its declared role, if any.
    roles: Vec<Option<Role>>,
    /// The `nat` statements, checked.
    nats: Vec<NatDecl>,
    ipv6: bool,
    ipv4: bool,
    plan: Plan,
}

impl Topology {
    /// Parses, checks and plans `text`.
    ///
    /// # Errors
    ///
    /// Every problem the text has, in syntax or in meaning, each with the byte range it is
    /// about. A text that parses always has a plan.
    pub fn parse(text: &str) -> Result<Topology, TopologyError> {
        let mut diagnostics = Vec::new();
        let (statements, complete) = parse::parse(text, &mut diagnostics);
        let mut resolver = Resolver::default();
        for statement in &statements {
            resolver.statement(statement, &mut diagnostics);
        }
        let finished = resolver.finish(text, complete, &mut diagnostics);
        if !diagnostics.is_empty() {
            return Err(TopologyError::new(text, diagnostics));
        }
        let (ipv6, ipv4) = (resolver.ipv6(), resolver.ipv4());
        let Resolver {
            nodes,
            switches,
            links,
            roles,
            ..
        } = resolver;
        let roles: Vec<Option<Role>> = roles.into_iter().map(|r| r.map(|r| r.value)).collect();
        let plan = plan::build(&nodes, &switches, &links, &finished, &roles, ipv4);
        let (segments, nats) = (finished.segments, finished.nats);
        Ok(Topology {
            nodes,
            switches,
            links,
            segments,
            roles,
            nats,
            ipv6,
            ipv4,
            plan,
        })
    }

    /// Every namespace, interface, address and route this topology needs.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The nodes, in order of first appearance; `host` among them if the text names it.
    pub fn node_names(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(String::as_str)
    }

    /// The switches, in order of declaration.
    pub fn switch_names(&self) -> impl Iterator<Item = &str> {
        self.switches.iter().map(String::as_str)
    }

    /// Whether the network has IPv6 (it does unless the text says `[ipv6=off]`).
    pub fn has_ipv6(&self) -> bool {
        self.ipv6
    }

    /// Whether the network has IPv4 (it does unless the text says `[ipv4=off]`).
    pub fn has_ipv4(&self) -> bool {
        self.ipv4
    }
}

impl FromStr for Topology {
    type Err = TopologyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut statements = Vec::new();
        if !self.switches.is_empty() {
            statements.push(format!("switch {}", self.switches.join(" ")));
        }
        // The links alone bring nodes in this order; if that is not the order of the text,
        // a group statement listing every node first restores it.
        let (mut order, mut seen) = (Vec::new(), vec![false; self.nodes.len()]);
        for link in &self.links {
            for node in [Some(link.node), peer_node(link.peer)]
                .into_iter()
                .flatten()
            {
                if !std::mem::replace(&mut seen[node], true) {
                    order.push(node);
                }
            }
        }
        let declare_all = order.iter().enumerate().any(|(i, &node)| i != node);
        if declare_all {
            statements.push(format!("{{{}}}", self.nodes.join(" ")));
        }
        let mut subnet_given = vec![false; self.segments.len()];
        for link in &self.links {
            let peer = match link.peer {
                Peer::Node(node) => &self.nodes[node],
                Peer::Switch(switch) => &self.switches[switch],
            };
            let [mine, theirs] = link.addrs;
            let mut statement = format!("{}{mine} -- {peer}{theirs}", self.nodes[link.node]);
            let segment = &self.segments[link.segment];
            let mut attributes = Vec::new();
            if !std::mem::replace(&mut subnet_given[link.segment], true) {
                if segment.explicit {
                    attributes.push(format!("subnet={}", segment.subnet));
                }
                if let (true, Some(subnet6)) = (segment.explicit6, segment.subnet6) {
                    attributes.push(format!("subnet6={subnet6}"));
                }
            }
            attributes.extend(link.settings.entries());
            if !attributes.is_empty() {
                write!(statement, " [{}]", attributes.join(", "))?;
            }
            statements.push(statement);
        }
        if !declare_all {
            statements.extend(self.nodes[order.len()..].iter().cloned());
        }
        for role in [Role::Router, Role::Host] {
            let names: Vec<&str> = (self.roles.iter().zip(&self.nodes))
                .filter(|(r, _)| **r == Some(role))
                .map(|(_, name)| name.as_str())
                .collect();
            if !names.is_empty() {
                statements.push(format!("{} {}", role.keyword(), names.join(" ")));
            }
        }
        for nat in &self.nats {
            statements.push(self.nat_statement(nat));
        }
        if !self.ipv6 {
            statements.push("[ipv6=off]".to_owned());
        }
        if !self.ipv4 {
            statements.push("[ipv4=off]".to_owned());
        }
        f.write_str(&statements.join(if f.alternate() { "\n" } else { "; " }))
    }
}

impl Topology {
    /// A checked `nat` statement as canonical text: `nat home [outside=isp, type=symmetric]`.
    fn nat_statement(&self, nat: &NatDecl) -> String {
        let outside = match nat.outside {
            Peer::Node(node) => &self.nodes[node],
            Peer::Switch(switch) => &self.switches[switch],
        };
        let mut attributes = vec![format!("outside={outside}")];
        if let Some(preset) = nat.preset {
            attributes.push(format!("type={preset}"));
        }
        let (b, written) = (nat.behaviour, nat.written);
        let on = |on: bool| if on { "on" } else { "off" };
        if written.mapping {
            attributes.push(format!("mapping={}", b.mapping.name()));
        }
        if written.filtering {
            attributes.push(format!("filtering={}", b.filtering.name()));
        }
        if written.hairpin {
            attributes.push(format!("hairpin={}", on(b.hairpin)));
        }
        if written.firewall6 {
            attributes.push(format!("firewall6={}", on(b.firewall6)));
        }
        if written.timeout {
            attributes.push(format!("timeout={}", crate::format_duration(nat.timeout)));
        }
        if written.tcp_timeout {
            let timeout = crate::format_duration(nat.tcp_timeout);
            attributes.push(format!("tcp-timeout={timeout}"));
        }
        for (forward, node) in &nat.forwards {
            attributes.push(format!(
                "forward={}:{}:{}:{}",
                forward.protocol.name(),
                forward.outside_port,
                self.nodes[*node],
                forward.port
            ));
        }
        for (pinhole, node) in &nat.pinholes {
            let protocol = pinhole.protocol.name();
            let port = pinhole.port;
            attributes.push(format!("pinhole={protocol}:{}:{port}", self.nodes[*node]));
        }
        format!("nat {} [{}]", self.nodes[nat.node], attributes.join(", "))
    }
}

fn peer_node(peer: Peer) -> Option<usize> {
    match peer {
        Peer::Node(node) => Some(node),
        Peer::Switch(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::support::EXAMPLES;

    fn parse(text: &str) -> Topology {
        Topology::parse(text).unwrap_or_else(|error| panic!("{text:?}:\n{error}"))
    }

    #[test]
    fn display_output_parses_back_to_an_equal_topology() {
        for text in EXAMPLES {
            let topology = parse(text);
            for shown in [format!("{topology}"), format!("{topology:#}")] {
                let again = parse(&shown);
                assert_eq!(again, topology, "{text:?} was shown as {shown:?}");
                assert_eq!(again.to_string(), topology.to_string(), "{text:?}");
            }
        }
    }

    #[test]
    fn display_is_canonical() {
        let shown = |text: &str| parse(text).to_string();
        assert_eq!(shown(EXAMPLES[2]), EXAMPLES[2]);
        assert_eq!(
            shown("switch lan; {pc1 pc2} -- lan; lan -- r1 -- wan"),
            "switch lan; pc1 -- lan; pc2 -- lan; r1 -- lan; r1 -- wan"
        );
        assert_eq!(
            shown("switch s; {a b} -- s [subnet=10.0.0.0/29]"),
            "switch s; a -- s [subnet=10.0.0.0/29]; b -- s"
        );
        // Links alone would bring the nodes in as a, c, b: a group keeps the text's order.
        assert_eq!(
            shown("{a b} -- c; x; d -- e"),
            "{a b c x d e}; a -- c; b -- c; d -- e"
        );
        assert_eq!(shown("a -- b; c; d"), "a -- b; c; d");
        assert_eq!(
            format!("{:#}", parse("switch lan; {a b} -- lan")),
            "switch lan\na -- lan\nb -- lan"
        );
    }

    #[test]
    fn equal_networks_written_differently_are_equal() {
        let chain = parse("a -- b -- c");
        assert_eq!(parse("a -- b\nb -- c"), chain);
        assert_eq!(parse("a--b--c # same"), chain);
        assert_eq!(
            parse("a -- b; b -- c [subnet=10.0.2.0/24]").plan(),
            chain.plan()
        );
        assert_ne!(parse("a -- b; b -- c [subnet=10.0.2.0/24]"), chain);
        let switch = parse("switch s; {a b} -- s [subnet=10.0.0.0/24]");
        assert_eq!(
            parse("switch s; a -- s [subnet=10.0.0.0/24]; s -- b"),
            switch
        );
        // The order of first appearance is part of what was said.
        assert_ne!(parse("{a b} -- c"), parse("a -- c; b -- c"));
    }

    #[test]
    fn names_in_order_of_appearance() {
        let topology: Topology = "switch lan; {pc1 pc2} -- lan; host -- pc1".parse().unwrap();
        assert_eq!(
            topology.node_names().collect::<Vec<_>>(),
            ["pc1", "pc2", "host"]
        );
        assert_eq!(topology.switch_names().collect::<Vec<_>>(), ["lan"]);
        assert_eq!(topology.plan().nodes.len(), 3);
        assert!(topology.plan().nodes[2].is_host);
        let lone = parse("a; {b c}");
        assert_eq!(lone.node_names().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(lone.plan().veths.is_empty());
    }
}
