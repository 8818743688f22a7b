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

use crate::cidr6::mirror;
use crate::nat::{NatPlan, Pinhole, PortForward};
use crate::network::{Addrs, HOST, Link, Peer, Segment};
use crate::realms::{NatDecl, Realms};
use crate::resolve::Finished;
use crate::settings::LinkSettings;
use crate::syntax::Role;
use crate::{Ipv4Cidr, Ipv6Cidr};

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
    /// One entry per router declared `nat`, in order of declaration.
    pub nats: Vec<NatPlan>,
    /// Per address realm (see [`InterfacePlan::realm`]), the realm its NAT leads out to;
    /// `None` for a public realm. A topology without `nat` has one realm, `0`, public.
    pub realm_parents: Vec<Option<usize>>,
}

/// One node: a network namespace with its interfaces, routes and forwarding switch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodePlan {
    /// The name from the topology text.
    pub name: String,
    /// True for the reserved node `host`: the test's own namespace, which already exists.
    pub is_host: bool,
    /// Whether forwarding is on (a router): for each family the node has addresses of.
    pub forwarding: bool,
    /// The node's interfaces `eth0`, `eth1`, ... in the order its links appear.
    pub interfaces: Vec<InterfacePlan>,
    /// Static IPv4 routes, in the order they are added (default route last); empty with
    /// `[ipv4=off]`.
    pub routes: Vec<RoutePlan>,
    /// Static IPv6 routes, the same as the IPv4 ones; empty with `[ipv6=off]`.
    pub routes6: Vec<Ipv6RoutePlan>,
}

/// One interface inside a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfacePlan {
    /// `eth0`, `eth1`, ...
    pub name: String,
    /// The IPv4 address with its prefix length; `None` with `[ipv4=off]`.
    pub ipv4: Option<Ipv4Cidr>,
    /// The IPv6 address with its prefix length; `None` with `[ipv6=off]`.
    pub ipv6: Option<Ipv6Cidr>,
    /// The segment this interface is attached to (index into the plan's segments order, as
    /// given by [`Topology`](super::Topology)): useful for reports.
    pub segment: usize,
    /// The address realm of its segment (index into [`Plan::realm_parents`]): `0` everywhere
    /// without `nat`; with NATs, each NAT's inside and all that lies behind it without crossing
    /// another NAT is a realm of its own, whose addresses only that realm and the realms inside
    /// it can reach. Two sibling realms may reuse the same addresses.
    pub realm: usize,
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

    /// The IPv4 subnet of segment number `segment` (see [`InterfacePlan::segment`]), if the
    /// network has IPv4.
    pub fn segment_subnet(&self, segment: usize) -> Option<Ipv4Cidr> {
        let mut interfaces = self.nodes.iter().flat_map(|node| &node.interfaces);
        interfaces
            .find(|i| i.segment == segment)
            .and_then(|i| i.ipv4)
            .map(|ipv4| ipv4.network())
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

impl InterfacePlan {
    /// The address pictures show, with its prefix length: the IPv4 one, or the IPv6 one in a
    /// network with `[ipv4=off]`.
    pub(crate) fn shown(&self) -> String {
        match (self.ipv4, self.ipv6) {
            (Some(ipv4), _) => ipv4.to_string(),
            (None, Some(ipv6)) => ipv6.to_string(),
            (None, None) => String::new(),
        }
    }

    /// The subnet pictures show: that of [`InterfacePlan::shown`].
    pub(crate) fn shown_subnet(&self) -> String {
        match (self.ipv4, self.ipv6) {
            (Some(ipv4), _) => ipv4.network().to_string(),
            (None, Some(ipv6)) => ipv6.network().to_string(),
            (None, None) => String::new(),
        }
    }

    /// The address alone of [`InterfacePlan::shown`].
    pub(crate) fn shown_addr(&self) -> String {
        match (self.ipv4, self.ipv6) {
            (Some(ipv4), _) => ipv4.addr().to_string(),
            (None, Some(ipv6)) => ipv6.addr().to_string(),
            (None, None) => String::new(),
        }
    }
}

impl NodePlan {
    /// Whether the node has IPv4: an IPv4 address on every interface (so also a node without
    /// links), as in every network without `[ipv4=off]`.
    pub fn has_ipv4(&self) -> bool {
        self.interfaces.iter().all(|i| i.ipv4.is_some())
    }

    /// Whether the node has IPv6: an IPv6 address on an interface.
    pub fn has_ipv6(&self) -> bool {
        self.interfaces.iter().any(|i| i.ipv6.is_some())
    }

    /// The interface named `name` (`eth0`, ...).
    pub fn interface(&self, name: &str) -> Option<&InterfacePlan> {
        self.interfaces
            .iter()
            .find(|interface| interface.name == name)
    }
}

/// Plans a checked topology. Every segment's subnet has room for its interfaces. Without
/// `ipv4`, the IPv4 subnets of `segments` only number the IPv6 addresses.
pub(super) fn build(
    nodes: &[String],
    switches: &[String],
    links: &[Link],
    finished: &Finished,
    roles: &[Option<Role>],
    ipv4: bool,
) -> Plan {
    let Finished {
        segments,
        nats,
        realms,
    } = finished;
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
    let mut network = Network::new(segments, attached, members, routers, &explicit);
    network.ipv4 = ipv4;
    for nat in nats {
        network.nat_outside[nat.node] = Some(nat.outside_segment);
    }
    let nodes = nodes
        .iter()
        .enumerate()
        .map(|(node, name)| network.node(node, name, &realms.of_segment))
        .collect();
    let bridges = switches
        .iter()
        .enumerate()
        .map(|(k, name)| BridgePlan {
            switch: name.clone(),
            ifname: format!("b{k}"),
        })
        .collect();
    let nats = nats.iter().map(|nat| network.nat(nat, realms)).collect();
    Plan {
        nodes,
        bridges,
        veths,
        nats,
        realm_parents: realms.parent.clone(),
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
    /// Whether the IPv4 addresses are planned (no `[ipv4=off]`), or only number the IPv6 ones.
    ipv4: bool,
    /// Per node, the segment of its outside link if it is a NAT: IPv4 routes do not enter a
    /// NAT from there (nothing outside a NAT has a route into its inside).
    nat_outside: Vec<Option<usize>>,
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
        let nat_outside = vec![None; attached.len()];
        Self {
            segments,
            attached,
            members,
            routers,
            addresses,
            addresses6,
            ipv4: true,
            nat_outside,
        }
    }

    fn is_router(&self, node: usize) -> bool {
        self.routers[node]
    }

    /// The plan of node `node`, whose interfaces' realms are those of their segments in
    /// `realm_of`.
    fn node(&self, node: usize, name: &str, realm_of: &[usize]) -> NodePlan {
        let interfaces = self.attached[node]
            .iter()
            .enumerate()
            .map(|(i, &segment)| InterfacePlan {
                name: format!("eth{i}"),
                ipv4: (self.ipv4).then(|| {
                    self.segments[segment]
                        .subnet
                        .with_addr(self.addresses[node][i])
                }),
                ipv6: (self.segments[segment].subnet6)
                    .zip(self.addresses6[node][i])
                    .map(|(subnet6, address)| subnet6.with_addr(address)),
                segment,
                realm: realm_of[segment],
            })
            .collect();
        // Each route as the next hop's `(node, interface)`, then in both families: the same
        // routes, but that IPv4 ones stop at NATs.
        let hops = |ipv4: bool| -> Vec<(Option<usize>, (usize, usize))> {
            if self.is_router(node) {
                self.router_routes(node, ipv4)
            } else {
                self.default_route(node, ipv4).into_iter().collect()
            }
        };
        let hops6 = hops(false);
        let hops4 = if self.nat_outside.iter().any(Option::is_some) {
            hops(true)
        } else {
            hops6.clone()
        };
        let routes = hops4
            .iter()
            .filter(|_| self.ipv4)
            .map(|&(segment, (n, i))| RoutePlan {
                destination: segment.map(|s| self.segments[s].subnet),
                gateway: self.addresses[n][i],
            })
            .collect();
        let routes6 = hops6
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

    /// Whether an IPv4 route may go through `router` from `segment`: not into a NAT from its
    /// outside.
    fn enters(&self, router: usize, segment: usize, ipv4: bool) -> bool {
        !(ipv4 && self.nat_outside[router] == Some(segment))
    }

    /// A host's default route, through the first router of its first segment that has one
    /// (for IPv4, one that is not a NAT seen from its outside).
    fn default_route(&self, host: usize, ipv4: bool) -> Option<(Option<usize>, (usize, usize))> {
        let mut routers = (self.attached[host].iter())
            .flat_map(|&segment| self.members[segment].iter().map(move |m| (segment, m)))
            .filter(|&(segment, &(n, _))| {
                n != host && self.is_router(n) && self.enters(n, segment, ipv4)
            });
        routers.next().map(|(_, &hop)| (None, hop))
    }

    /// The plan of one NAT: its interfaces and outside address, and where its forwards go.
    fn nat(&self, nat: &NatDecl, realms: &Realms) -> NatPlan {
        let node = nat.node;
        let names = |keep: &dyn Fn(usize) -> bool| -> Vec<String> {
            (self.attached[node].iter().enumerate())
                .filter(|&(_, &segment)| keep(segment))
                .map(|(i, _)| format!("eth{i}"))
                .collect()
        };
        let outside_index = (self.attached[node].iter())
            .position(|&segment| segment == nat.outside_segment)
            .unwrap_or(0);
        let inside_realm = (self.attached[node].iter())
            .find(|&&segment| segment != nat.outside_segment)
            .map(|&segment| realms.of_segment[segment]);
        let forwards = (nat.forwards.iter())
            .map(|(forward, target)| {
                let interface = (self.attached[*target].iter())
                    .position(|&segment| Some(realms.of_segment[segment]) == inside_realm)
                    .unwrap_or(0);
                PortForward {
                    protocol: forward.protocol,
                    outside_port: forward.outside_port,
                    node: *target,
                    address: self.addresses[*target][interface],
                    port: forward.port,
                }
            })
            .collect();
        let pinholes = (nat.pinholes.iter())
            .map(|(pinhole, target)| Pinhole {
                protocol: pinhole.protocol,
                node: *target,
                addresses: self.addresses6[*target].iter().flatten().copied().collect(),
                port: pinhole.port,
            })
            .collect();
        NatPlan {
            node,
            preset: nat.preset,
            behaviour: nat.behaviour,
            timeout: nat.timeout,
            tcp_timeout: nat.tcp_timeout,
            outside: format!("eth{outside_index}"),
            outside_ipv4: self.addresses[node][outside_index],
            inside: names(&|segment| segment != nat.outside_segment),
            forwards,
            pinholes,
        }
    }

    /// A router's routes to every subnet it is not attached to, by breadth-first search over
    /// segments: the first router found on the way to a segment is the next hop. Each route is
    /// the destination segment and the next hop's `(node, interface)`.
    fn router_routes(&self, start: usize, ipv4: bool) -> Vec<(Option<usize>, (usize, usize))> {
        // Per segment: not reached yet, attached (`Some(None)`), or through a gateway.
        let mut via: Vec<Option<Option<(usize, usize)>>> = vec![None; self.segments.len()];
        let mut queue = VecDeque::new();
        for &segment in &self.attached[start] {
            via[segment] = Some(None);
            queue.push_back((segment, None));
        }
        while let Some((segment, first_hop)) = queue.pop_front() {
            for &(router, interface) in &self.members[segment] {
                if router == start || !self.is_router(router) || !self.enters(router, segment, ipv4)
                {
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
