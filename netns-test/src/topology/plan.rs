//! The plan: every namespace, interface, address, route and sysctl a topology needs.
//!
//! A [`Plan`] is pure data, computed from a [`Topology`](super::Topology) without touching the
//! kernel, and deterministic: the same text always gives the same plan. Applying it (creating
//! namespaces, links, addresses) is the runtime's job and decides nothing.
//!
//! This module is compiled into the attribute macro as well, so it must use only `std` and
//! `super::` paths.

use std::collections::{HashSet, VecDeque};
use std::net::{Ipv4Addr, Ipv6Addr};

use super::cidr6::mirror;
use super::model::{Addrs, HOST, Link, Peer, Segment};
use super::settings::LinkSettings;
use super::syntax::Role;
use super::{Ipv4Cidr, Ipv6Cidr};

/// Every kernel object a topology needs, in the order they are created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// One entry per node, in order of first appearance in the text. `host`, when the text
    /// names it, is one of them (with [`NodePlan::is_host`] set) and is not created: it is the
    /// namespace the test body starts in.
    pub nodes: Vec<NodePlan>,
    /// One Linux bridge per `switch`, all placed in one hidden namespace that no node sees.
    pub bridges: Vec<BridgePlan>,
    /// One veth pair per link, both ends created directly in their namespaces.
    pub veths: Vec<VethPlan>,
}

/// One node: a network namespace with its interfaces, routes and forwarding switch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodePlan {
    /// The name from the topology text.
    pub name: String,
    /// True for the reserved node `host`: the test's own namespace, which already exists.
    pub is_host: bool,
    /// Whether forwarding is on (a router): IPv4, and IPv6 when the node has IPv6 addresses.
    pub forwarding: bool,
    /// The node's interfaces `eth0`, `eth1`, ... in the order its links appear.
    pub interfaces: Vec<InterfacePlan>,
    /// Static IPv4 routes, in the order they are added (default route last).
    pub routes: Vec<RoutePlan>,
    /// Static IPv6 routes, the same as the IPv4 ones; empty with `[ipv6=off]`.
    pub routes6: Vec<Ipv6RoutePlan>,
}

/// One interface inside a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfacePlan {
    /// `eth0`, `eth1`, ...
    pub name: String,
    /// The IPv4 address with its prefix length.
    pub ipv4: Ipv4Cidr,
    /// The IPv6 address with its prefix length; `None` with `[ipv6=off]`.
    pub ipv6: Option<Ipv6Cidr>,
    /// The segment this interface is attached to (index into the plan's segments order, as
    /// given by [`Topology`](super::Topology)): useful for reports.
    pub segment: usize,
}

/// A route inside a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutePlan {
    /// The destination; `None` is the default route.
    pub destination: Option<Ipv4Cidr>,
    /// The next hop, on a directly attached segment.
    pub gateway: Ipv4Addr,
}

/// An IPv6 route inside a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv6RoutePlan {
    /// The destination; `None` is the default route.
    pub destination: Option<Ipv6Cidr>,
    /// The next hop's global address, on a directly attached segment.
    pub gateway: Ipv6Addr,
}

/// Where one end of a veth pair lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// Inside node number `n` (index into [`Plan::nodes`]).
    Node(usize),
    /// Inside the hidden switch namespace, as a port of bridge number `n` (index into
    /// [`Plan::bridges`]).
    Bridge(usize),
}

/// One end of a veth pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VethEnd {
    /// Which namespace it is created in.
    pub place: Place,
    /// The interface name there: `ethN` in a node, a generated port name (`b0p1`) on a bridge.
    pub ifname: String,
}

/// A veth pair: the only kind of link between namespaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VethPlan {
    /// The end in the link's first node. For a link between a node and a switch, this is the
    /// node's end, whichever way round the text wrote the link.
    pub a: VethEnd,
    /// The other end: in the second node, or a port of the switch's bridge.
    pub b: VethEnd,
    /// `mtu=`, `rate=`, `delay=`, `loss=`: applied to both ends.
    pub settings: LinkSettings,
}

/// A Linux bridge standing for a `switch`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgePlan {
    /// The switch's name in the topology text.
    pub switch: String,
    /// The bridge's interface name in the hidden namespace (`b0`, `b1`, ...): generated, so that
    /// no user name can collide with a port name.
    pub ifname: String,
}

impl Plan {
    /// The node named `name`, `host` included.
    pub fn node(&self, name: &str) -> Option<&NodePlan> {
        self.nodes.iter().find(|node| node.name == name)
    }

    /// The subnet of segment number `segment` (see [`InterfacePlan::segment`]).
    pub fn segment_subnet(&self, segment: usize) -> Option<Ipv4Cidr> {
        let mut interfaces = self.nodes.iter().flat_map(|node| &node.interfaces);
        interfaces
            .find(|i| i.segment == segment)
            .map(|i| i.ipv4.network())
    }

    /// The IPv6 subnet of segment number `segment`, if the network has IPv6.
    pub fn segment_subnet6(&self, segment: usize) -> Option<Ipv6Cidr> {
        let mut interfaces = self.nodes.iter().flat_map(|node| &node.interfaces);
        interfaces
            .find(|i| i.segment == segment)
            .and_then(|i| i.ipv6)
            .map(|ipv6| ipv6.network())
    }
}

impl NodePlan {
    /// The interface named `name` (`eth0`, ...).
    pub fn interface(&self, name: &str) -> Option<&InterfacePlan> {
        self.interfaces
            .iter()
            .find(|interface| interface.name == name)
    }
}

/// Plans a checked topology. Every segment's subnet has room for its interfaces.
pub(super) fn build(
    nodes: &[String],
    switches: &[String],
    links: &[Link],
    segments: &[Segment],
    roles: &[Option<Role>],
) -> Plan {
    // The segment of each node's interfaces, and each segment's (node, interface) members, both
    // in order of appearance; the addresses the text gives each interface.
    let mut attached: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut members: Vec<Vec<(usize, usize)>> = vec![Vec::new(); segments.len()];
    let mut explicit: Vec<Vec<Addrs>> = vec![Vec::new(); nodes.len()];
    let mut attach = |node: usize, segment: usize, addrs: Addrs| {
        members[segment].push((node, attached[node].len()));
        attached[node].push(segment);
        explicit[node].push(addrs);
        VethEnd {
            place: Place::Node(node),
            ifname: format!("eth{}", attached[node].len() - 1),
        }
    };
    let mut ports = vec![0; switches.len()];
    let mut veths = Vec::with_capacity(links.len());
    for link in links {
        let a = attach(link.node, link.segment, link.addrs[0]);
        let b = match link.peer {
            Peer::Node(node) => attach(node, link.segment, link.addrs[1]),
            Peer::Switch(switch) => {
                ports[switch] += 1;
                let ifname = format!("b{switch}p{}", ports[switch] - 1);
                VethEnd {
                    place: Place::Bridge(switch),
                    ifname,
                }
            }
        };
        veths.push(VethPlan {
            a,
            b,
            settings: link.settings,
        });
    }
    let routers = (roles.iter().zip(&attached))
        .map(|(role, attached)| role.map_or(attached.len() >= 2, |role| role == Role::Router))
        .collect();
    let network = Network::new(segments, attached, members, routers, &explicit);
    let nodes = nodes
        .iter()
        .enumerate()
        .map(|(node, name)| network.node(node, name))
        .collect();
    let bridges = switches
        .iter()
        .enumerate()
        .map(|(k, name)| BridgePlan {
            switch: name.clone(),
            ifname: format!("b{k}"),
        })
        .collect();
    Plan {
        nodes,
        bridges,
        veths,
    }
}

/// Who is attached where, and with which address.
struct Network<'a> {
    segments: &'a [Segment],
    /// Per node, the segment of each interface.
    attached: Vec<Vec<usize>>,
    /// Per segment, `(node, interface)` in order of appearance.
    members: Vec<Vec<(usize, usize)>>,
    /// Per node, whether it is a router: declared so, or with two or more links.
    routers: Vec<bool>,
    /// Per node, the IPv4 address of each interface.
    addresses: Vec<Vec<Ipv4Addr>>,
    /// Per node, the IPv6 address of each interface, when the network has IPv6.
    addresses6: Vec<Vec<Option<Ipv6Addr>>>,
}

impl<'a> Network<'a> {
    /// Gives addresses: the text's first; then on each segment, hosts count up from `.1`,
    /// routers down from the top, skipping the addresses already taken. An IPv6 address mirrors
    /// the IPv4 host number.
    fn new(
        segments: &'a [Segment],
        attached: Vec<Vec<usize>>,
        members: Vec<Vec<(usize, usize)>>,
        routers: Vec<bool>,
        explicit: &[Vec<Addrs>],
    ) -> Self {
        let mut addresses: Vec<Vec<Ipv4Addr>> = attached
            .iter()
            .map(|a| vec![Ipv4Addr::UNSPECIFIED; a.len()])
            .collect();
        let mut addresses6: Vec<Vec<Option<Ipv6Addr>>> =
            attached.iter().map(|a| vec![None; a.len()]).collect();
        for (segment, members) in members.iter().enumerate() {
            let subnet = segments[segment].subnet;
            let mut taken: HashSet<Ipv4Addr> = members
                .iter()
                .filter_map(|&(node, interface)| explicit[node][interface].v4)
                .collect();
            let (mut hosts, mut routers_seen) = (0, 0);
            for &(node, interface) in members {
                if let Some(address) = explicit[node][interface].v4 {
                    addresses[node][interface] = address;
                    continue;
                }
                let address = loop {
                    let address = if routers[node] {
                        routers_seen += 1;
                        subnet.nth_last_host(routers_seen - 1)
                    } else {
                        hosts += 1;
                        subnet.nth_host(hosts - 1)
                    };
                    match address {
                        Some(address) if taken.contains(&address) => continue,
                        address => break address,
                    }
                };
                debug_assert!(
                    address.is_some(),
                    "segment {segment} was checked to be large enough"
                );
                let address = address.unwrap_or(Ipv4Addr::UNSPECIFIED);
                taken.insert(address);
                addresses[node][interface] = address;
            }
            if let Some(subnet6) = segments[segment].subnet6 {
                let mut taken6: HashSet<Ipv6Addr> = members
                    .iter()
                    .filter_map(|&(node, interface)| explicit[node][interface].v6)
                    .collect();
                for &(node, interface) in members {
                    let address = explicit[node][interface].v6.unwrap_or_else(|| {
                        let number = u32::from(addresses[node][interface])
                            - u32::from(subnet.network().addr());
                        let address = ipv6_for(subnet6, number, &taken6);
                        taken6.insert(address);
                        address
                    });
                    addresses6[node][interface] = Some(address);
                }
            }
        }
        Self {
            segments,
            attached,
            members,
            routers,
            addresses,
            addresses6,
        }
    }

    fn is_router(&self, node: usize) -> bool {
        self.routers[node]
    }

    fn node(&self, node: usize, name: &str) -> NodePlan {
        let interfaces = self.attached[node]
            .iter()
            .enumerate()
            .map(|(i, &segment)| InterfacePlan {
                name: format!("eth{i}"),
                ipv4: self.segments[segment]
                    .subnet
                    .with_addr(self.addresses[node][i]),
                ipv6: (self.segments[segment].subnet6)
                    .zip(self.addresses6[node][i])
                    .map(|(subnet6, address)| subnet6.with_addr(address)),
                segment,
            })
            .collect();
        // Each route as the next hop's `(node, interface)`, then in both families.
        let hops: Vec<(Option<usize>, (usize, usize))> = if self.is_router(node) {
            self.router_routes(node)
        } else {
            self.default_route(node).into_iter().collect()
        };
        let routes = hops
            .iter()
            .map(|&(segment, (n, i))| RoutePlan {
                destination: segment.map(|s| self.segments[s].subnet),
                gateway: self.addresses[n][i],
            })
            .collect();
        let routes6 = hops
            .iter()
            .filter_map(|&(segment, (n, i))| {
                Some(Ipv6RoutePlan {
                    destination: match segment {
                        Some(s) => Some(self.segments[s].subnet6?),
                        None => None,
                    },
                    gateway: self.addresses6[n][i]?,
                })
            })
            .collect();
        NodePlan {
            name: name.to_owned(),
            is_host: name == HOST,
            forwarding: self.is_router(node),
            interfaces,
            routes,
            routes6,
        }
    }

    /// A host's default route, through the first router of its first segment that has one.
    fn default_route(&self, host: usize) -> Option<(Option<usize>, (usize, usize))> {
        let mut routers = (self.attached[host].iter())
            .flat_map(|&segment| &self.members[segment])
            .filter(|&&(n, _)| n != host && self.is_router(n));
        routers.next().map(|&hop| (None, hop))
    }

    /// A router's routes to every subnet it is not attached to, by breadth-first search over
    /// segments: the first router found on the way to a segment is the next hop. Each route is
    /// the destination segment and the next hop's `(node, interface)`.
    fn router_routes(&self, start: usize) -> Vec<(Option<usize>, (usize, usize))> {
        // Per segment: not reached yet, attached (`Some(None)`), or through a gateway.
        let mut via: Vec<Option<Option<(usize, usize)>>> = vec![None; self.segments.len()];
        let mut queue = VecDeque::new();
        for &segment in &self.attached[start] {
            via[segment] = Some(None);
            queue.push_back((segment, None));
        }
        while let Some((segment, first_hop)) = queue.pop_front() {
            for &(router, interface) in &self.members[segment] {
                if router == start || !self.is_router(router) {
                    continue;
                }
                let gateway = first_hop.unwrap_or((router, interface));
                for &next in &self.attached[router] {
                    if via[next].is_none() {
                        via[next] = Some(Some(gateway));
                        queue.push_back((next, Some(gateway)));
                    }
                }
            }
        }
        (via.into_iter().enumerate())
            .filter_map(|(segment, via)| Some((Some(segment), via.flatten()?)))
            .collect()
    }
}

/// The IPv6 address of the interface whose IPv4 host number is `number`: the one that mirrors
/// it (`.254` gives `::254`), or if that is taken or does not fit, the next free one from
/// `number` up. The subnet was checked to have room.
fn ipv6_for(subnet: Ipv6Cidr, number: u32, taken: &HashSet<Ipv6Addr>) -> Ipv6Addr {
    let free = |n: u128| subnet.host(n).filter(|a| n != 0 && !taken.contains(a));
    let mirrored = mirror(u64::from(number)).and_then(free);
    mirrored
        .or_else(|| (u128::from(number)..).take(1 << 20).find_map(free))
        .or_else(|| (1..).take(1 << 20).find_map(free))
        .unwrap_or(Ipv6Addr::UNSPECIFIED)
}

/// Helpers for the tests of plans, here and in `language_tests`.
#[cfg(test)]
pub(super) mod testing {
    use super::super::Topology;
    use super::Plan;

    /// The plan of `text`, which must parse.
    pub fn plan_of(text: &str) -> Plan {
        match Topology::parse(text) {
            Ok(topology) => topology.plan().clone(),
            Err(error) => panic!("{text:?} does not parse:\n{error}"),
        }
    }

    /// A node as `ip` would show it, both families: addresses, routes and forwarding on one
    /// line.
    pub fn show(plan: &Plan, name: &str) -> String {
        show_families(plan, name, true)
    }

    /// [`show`] without IPv6 addresses and routes, for the tests of IPv4 alone.
    pub fn show_ipv4(plan: &Plan, name: &str) -> String {
        show_families(plan, name, false)
    }

    fn show_families(plan: &Plan, name: &str, ipv6: bool) -> String {
        let node = plan.node(name).unwrap();
        let mut parts: Vec<String> = node
            .interfaces
            .iter()
            .map(|i| match i.ipv6.filter(|_| ipv6) {
                Some(ipv6) => format!("{} {} {ipv6}", i.name, i.ipv4),
                None => format!("{} {}", i.name, i.ipv4),
            })
            .collect();
        for route in &node.routes {
            let to = route
                .destination
                .map_or("default".into(), |d| d.to_string());
            parts.push(format!("{to} via {}", route.gateway));
        }
        if ipv6 {
            for route in &node.routes6 {
                let to = route
                    .destination
                    .map_or("default".into(), |d| d.to_string());
                parts.push(format!("{to} via {}", route.gateway));
            }
        }
        if node.forwarding {
            parts.push("forwarding".to_owned());
        }
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{plan_of, show_ipv4};
    use super::*;

    fn end(place: Place, ifname: &str) -> VethEnd {
        VethEnd {
            place,
            ifname: ifname.to_owned(),
        }
    }

    #[test]
    fn two_nodes() {
        let plan = plan_of("net0 -- net1");
        assert_eq!(show_ipv4(&plan, "net0"), "eth0 10.0.1.1/24");
        assert_eq!(show_ipv4(&plan, "net1"), "eth0 10.0.1.2/24");
        assert!(plan.bridges.is_empty());
        let veth = VethPlan {
            a: end(Place::Node(0), "eth0"),
            b: end(Place::Node(1), "eth0"),
            settings: LinkSettings::default(),
        };
        assert_eq!(plan.veths, [veth]);
        assert!(!plan.nodes[0].is_host);
        assert_eq!(plan.segment_subnet(0), "10.0.1.0/24".parse().ok());
        assert_eq!(plan.segment_subnet(1), None);
    }

    #[test]
    fn three_nodes_on_a_switch() {
        let plan = plan_of("switch br0; {net0 net1 net2} -- br0");
        assert_eq!(show_ipv4(&plan, "net0"), "eth0 10.0.1.1/24");
        assert_eq!(show_ipv4(&plan, "net1"), "eth0 10.0.1.2/24");
        assert_eq!(show_ipv4(&plan, "net2"), "eth0 10.0.1.3/24");
        let bridge = BridgePlan {
            switch: "br0".to_owned(),
            ifname: "b0".to_owned(),
        };
        assert_eq!(plan.bridges, [bridge]);
        let veths: Vec<VethPlan> = (0..3)
            .map(|n| VethPlan {
                a: end(Place::Node(n), "eth0"),
                b: end(Place::Bridge(0), &format!("b0p{n}")),
                settings: LinkSettings::default(),
            })
            .collect();
        assert_eq!(plan.veths, veths);
        assert!(plan.nodes.iter().all(|n| n.interfaces[0].segment == 0));
    }

    #[test]
    fn gateway_with_explicit_subnets() {
        let plan = plan_of(
            "client -- gateway [subnet=10.0.100.0/24]; gateway -- server [subnet=192.168.100.0/24]",
        );
        assert_eq!(
            show_ipv4(&plan, "client"),
            "eth0 10.0.100.1/24, default via 10.0.100.254"
        );
        assert_eq!(
            show_ipv4(&plan, "gateway"),
            "eth0 10.0.100.254/24, eth1 192.168.100.254/24, forwarding"
        );
        assert_eq!(
            show_ipv4(&plan, "server"),
            "eth0 192.168.100.1/24, default via 192.168.100.254"
        );
    }

    #[test]
    fn host_gets_its_own_link() {
        let plan = plan_of("host -- nstest [subnet=10.0.0.0/24]");
        assert_eq!(show_ipv4(&plan, "host"), "eth0 10.0.0.1/24");
        assert_eq!(show_ipv4(&plan, "nstest"), "eth0 10.0.0.2/24");
        assert!(plan.nodes[0].is_host);
        assert!(!plan.nodes[1].is_host);
    }

    #[test]
    fn gateway_with_automatic_subnets() {
        let plan = plan_of("client -- gateway -- server");
        assert_eq!(
            show_ipv4(&plan, "client"),
            "eth0 10.0.1.1/24, default via 10.0.1.254"
        );
        assert_eq!(
            show_ipv4(&plan, "gateway"),
            "eth0 10.0.1.254/24, eth1 10.0.2.254/24, forwarding"
        );
        assert_eq!(
            show_ipv4(&plan, "server"),
            "eth0 10.0.2.1/24, default via 10.0.2.254"
        );
        assert_eq!(plan.nodes[1].interfaces[1].segment, 1);
    }

    #[test]
    fn chain_of_routers_routes_both_ways() {
        let plan = plan_of("a -- r1 -- r2 -- r3 -- b");
        assert_eq!(
            show_ipv4(&plan, "a"),
            "eth0 10.0.1.1/24, default via 10.0.1.254"
        );
        assert_eq!(
            show_ipv4(&plan, "r1"),
            "eth0 10.0.1.254/24, eth1 10.0.2.254/24, \
             10.0.3.0/24 via 10.0.2.253, 10.0.4.0/24 via 10.0.2.253, forwarding"
        );
        assert_eq!(
            show_ipv4(&plan, "r2"),
            "eth0 10.0.2.253/24, eth1 10.0.3.254/24, \
             10.0.1.0/24 via 10.0.2.254, 10.0.4.0/24 via 10.0.3.253, forwarding"
        );
        assert_eq!(
            show_ipv4(&plan, "r3"),
            "eth0 10.0.3.253/24, eth1 10.0.4.254/24, \
             10.0.1.0/24 via 10.0.3.254, 10.0.2.0/24 via 10.0.3.254, forwarding"
        );
        assert_eq!(
            show_ipv4(&plan, "b"),
            "eth0 10.0.4.1/24, default via 10.0.4.254"
        );
    }

    #[test]
    fn switch_with_a_router() {
        let plan = plan_of("switch lan; {pc1 pc2} -- lan; lan -- r1 -- wan");
        assert_eq!(
            show_ipv4(&plan, "pc1"),
            "eth0 10.0.1.1/24, default via 10.0.1.254"
        );
        assert_eq!(
            show_ipv4(&plan, "pc2"),
            "eth0 10.0.1.2/24, default via 10.0.1.254"
        );
        assert_eq!(
            show_ipv4(&plan, "r1"),
            "eth0 10.0.1.254/24, eth1 10.0.2.254/24, forwarding"
        );
        assert_eq!(
            show_ipv4(&plan, "wan"),
            "eth0 10.0.2.1/24, default via 10.0.2.254"
        );
        let r1 = VethPlan {
            a: end(Place::Node(2), "eth0"),
            b: end(Place::Bridge(0), "b0p2"),
            settings: LinkSettings::default(),
        };
        assert_eq!(plan.veths[2], r1);
        let wan = VethPlan {
            a: end(Place::Node(2), "eth1"),
            b: end(Place::Node(3), "eth0"),
            settings: LinkSettings::default(),
        };
        assert_eq!(plan.veths[3], wan);
    }

    #[test]
    fn automatic_subnets_skip_explicit_ones() {
        let plan = plan_of("a -- b; c -- d [subnet=10.0.1.0/24]; e -- f");
        assert_eq!(show_ipv4(&plan, "a"), "eth0 10.0.2.1/24");
        assert_eq!(show_ipv4(&plan, "c"), "eth0 10.0.1.1/24");
        assert_eq!(show_ipv4(&plan, "e"), "eth0 10.0.3.1/24");
        let plan = plan_of("a -- b; c -- d [subnet=10.0.0.0/23]");
        assert_eq!(show_ipv4(&plan, "a"), "eth0 10.0.2.1/24");
    }

    #[test]
    fn routers_on_a_shared_switch_take_the_top_addresses() {
        let plan = plan_of("switch core; {r1 r2} -- core; a -- r1; r2 -- b; pc -- core");
        assert_eq!(
            show_ipv4(&plan, "pc"),
            "eth0 10.0.1.1/24, default via 10.0.1.254"
        );
        assert_eq!(
            show_ipv4(&plan, "r1"),
            "eth0 10.0.1.254/24, eth1 10.0.2.254/24, 10.0.3.0/24 via 10.0.1.253, forwarding"
        );
        assert_eq!(
            show_ipv4(&plan, "r2"),
            "eth0 10.0.1.253/24, eth1 10.0.3.254/24, 10.0.2.0/24 via 10.0.1.254, forwarding"
        );
        assert_eq!(
            show_ipv4(&plan, "b"),
            "eth0 10.0.3.1/24, default via 10.0.3.254"
        );
    }

    #[test]
    fn ties_go_to_the_earlier_path() {
        // Two equally short paths from r1 to the b segment: through r2 (written first) and r3.
        let plan = plan_of("r1 -- r2 -- r4 -- b; r1 -- r3 -- r4");
        let r1 = plan.node("r1").unwrap();
        let to_b = &r1
            .routes
            .iter()
            .find(|r| r.destination == "10.0.3.0/24".parse().ok());
        assert_eq!(to_b.unwrap().gateway, Ipv4Addr::new(10, 0, 1, 253));
    }

    #[test]
    fn unconnected_parts_get_no_routes_to_each_other() {
        let plan = plan_of("a -- r1 -- b; c -- r2 -- d; lone");
        assert_eq!(
            show_ipv4(&plan, "r1"),
            "eth0 10.0.1.254/24, eth1 10.0.2.254/24, forwarding"
        );
        assert_eq!(
            show_ipv4(&plan, "r2"),
            "eth0 10.0.3.254/24, eth1 10.0.4.254/24, forwarding"
        );
        assert_eq!(show_ipv4(&plan, "lone"), "");
    }

    #[test]
    fn groups_link_every_pair_in_order() {
        let plan = plan_of("{a b} -- {c d}");
        // Every node has two links, so all four are routers, in a square.
        assert_eq!(
            show_ipv4(&plan, "a"),
            "eth0 10.0.1.254/24, eth1 10.0.2.254/24, \
             10.0.3.0/24 via 10.0.1.253, 10.0.4.0/24 via 10.0.2.253, forwarding"
        );
        assert_eq!(
            show_ipv4(&plan, "c"),
            "eth0 10.0.1.253/24, eth1 10.0.3.253/24, \
             10.0.2.0/24 via 10.0.1.254, 10.0.4.0/24 via 10.0.3.254, forwarding"
        );
        let names: Vec<(&str, &str)> = plan
            .veths
            .iter()
            .map(|v| (v.a.ifname.as_str(), v.b.ifname.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("eth0", "eth0"),
                ("eth1", "eth0"),
                ("eth0", "eth1"),
                ("eth1", "eth1")
            ]
        );
        assert_eq!(plan.nodes[2].interface("eth1").unwrap().segment, 2);
    }

    #[test]
    fn link_settings_go_to_every_link_of_their_chain() {
        let plan = plan_of(
            "switch lan; {a b} -- lan [mtu=1280, rate=1mbit]; lan -- c; c -- d [delay=5ms]",
        );
        let mtus: Vec<Option<u32>> = plan.veths.iter().map(|v| v.settings.mtu).collect();
        assert_eq!(mtus, [Some(1280), Some(1280), None, None]);
        assert_eq!(plan.veths[1].settings.rate, Some(1_000_000));
        assert_eq!(plan.veths[3].settings.delay_us, Some(5_000));
        assert_eq!(plan.veths[3].settings.rate, None);
    }

    #[test]
    fn names_stay_within_ifnamsiz() {
        let text: String = (0..300).map(|n| format!("n{n} -- sw;")).collect();
        let plan = plan_of(&format!("switch sw; n -- sw [subnet=10.0.0.0/22]; {text}"));
        assert_eq!(plan.veths[300].b.ifname, "b0p300");
        assert_eq!(show_ipv4(&plan, "n299"), "eth0 10.0.1.45/22");
    }
}
