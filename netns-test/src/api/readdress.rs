//! [`Nat::rebind_address`]: a NAT router moves to a new outside address, as a home router whose
//! ISP hands it another lease does, or a phone whose carrier NAT picks another public address.
//!
//! The move, in order:
//! 1. in the router: the new address is added to its outside interface beside the old one
//!    (with `promote_secondaries`, so that removing the old one later keeps the new one and
//!    moves the subnet's route onto it), the chains that name the address are rebuilt and
//!    conntrack's flows forgotten (see the kernel's `netfilter`), then the old address goes;
//! 2. the plan as the network stands now, which a link that comes up again and every report
//!    read, and the names the DNS responder answers, take the new address.
//!
//! No other node changes: no route leads through a NAT's outside address, since nothing
//! outside a NAT has a route in (the plan's rule), and a neighbour learns the new address's
//! hardware address by ARP when it first answers to it.
//!
//! Which address: the free one of the outside subnet next below the old one, wrapping around,
//! free meaning that no interface on that segment has it now (so two NATs that move on one
//! switch do not meet). Routers take the top of a subnet and hosts the bottom, so moving down
//! from a router's `.254` takes `.253`, far from the hosts.

use std::net::Ipv4Addr;

use super::nat::Nat;
use crate::kernel::netfilter;
use crate::kernel::netlink::{self, Socket};
use crate::topology::{Ipv4Cidr, NatPlan, Plan};
use crate::{Error, Result};

/// How a NAT moves: from `old` (with the subnet's prefix length) to `new`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Move {
    pub(crate) old: Ipv4Cidr,
    pub(crate) new: Ipv4Addr,
}

/// Where NAT number `nat` of `plan` (which says where everything is now) moves to; `Err`
/// with its outside subnet when every address there is taken.
pub(crate) fn next_move(plan: &Plan, nat: usize) -> std::result::Result<Move, Ipv4Cidr> {
    let nat = &plan.nats[nat];
    let outside = (plan.nodes[nat.node].interface(&nat.outside))
        .expect("a NAT's outside interface is one of its router's");
    let old = (outside.ipv4).expect("a NAT's outside interface has an IPv4 address");
    let taken: Vec<Ipv4Addr> = (plan.nodes.iter())
        .flat_map(|node| &node.interfaces)
        .filter(|interface| interface.segment == outside.segment)
        .filter_map(|interface| interface.ipv4.map(|a| a.addr()))
        .collect();
    let network = u32::from(old.network().addr());
    let broadcast = u32::from(old.broadcast());
    let current = u32::from(old.addr());
    // A /31 or /32 has no address beside the two ends of the link.
    if broadcast.saturating_sub(network) < 2 {
        return Err(old.network());
    }
    let below = (network + 1..current).rev();
    let above = (current + 1..broadcast).rev();
    (below.chain(above))
        .map(Ipv4Addr::from)
        .find(|candidate| !taken.contains(candidate))
        .map(|new| Move { old, new })
        .ok_or(old.network())
}

/// `plan` after NAT number `nat` made `change`: its outside interface and its plan have the
/// new address.
pub(crate) fn apply(plan: &mut Plan, nat: usize, change: Move) {
    let router = plan.nats[nat].node;
    plan.nats[nat].outside_ipv4 = change.new;
    let outside = plan.nats[nat].outside.clone();
    let interfaces = plan.nodes[router].interfaces.iter_mut();
    for interface in interfaces.filter(|i| i.name == outside) {
        interface.ipv4 = Some(change.old.with_addr(change.new));
    }
}

/// What the router's own namespace does (the calling thread is in it): see the module's docs.
fn in_router(nat: &NatPlan, node: &str, change: Move) -> Result<()> {
    let outside = nat.outside.as_str();
    let promote = format!("/proc/sys/net/ipv4/conf/{outside}/promote_secondaries");
    std::fs::write(&promote, "1").map_err(|source| Error::Sysctl {
        node: node.to_owned(),
        path: promote.into(),
        source,
    })?;
    let index = nix::net::if_::if_nametoindex(outside).map_err(|errno| Error::Netlink {
        what: format!("finding interface {outside} in node `{node}`"),
        source: errno.into(),
    })?;
    let prefix = change.old.prefix_len();
    let address = |addr: Ipv4Addr| netlink::address_message(index, addr.into(), prefix);
    let mut socket = Socket::open().map_err(|source| Error::Netlink {
        what: format!("opening a netlink socket in node `{node}`"),
        source,
    })?;
    socket.add_address(
        address(change.new),
        format!("adding {}/{prefix} to node `{node}` {outside}", change.new),
    );
    socket.flush()?;
    netfilter::readdress(nat, node)?;
    socket.delete_address(
        address(change.old.addr()),
        format!("removing {} from node `{node}` {outside}", change.old),
    );
    socket.flush()
}

impl Nat<'_> {
    /// Moves the NAT to a new outside address, and returns it: every flow from inside leaves
    /// from it at its next packet, keeping its outside port (and what its filtering lets in),
    /// and the old address leads nowhere. A server then sees the same peer arrive from a new
    /// address, as after an address change that a QUIC connection must survive (RFC 9000
    /// section 9, the interop runner's `rebind-addr`); [`Nat::rebind`] changes the ports
    /// instead, and calling both changes both. TCP connections through the NAT end, as after a
    /// [`Nat::flush`].
    ///
    /// The new address is the free one of the outside subnet next below the old (`.253` for a
    /// router on `.254`, wrapping around). Port forwards answer on it, the NAT's name resolves
    /// to it from outside (over the test's DNS), and [`Nat::outside_ip`], [`Nat::mappings`] and
    /// failure reports say it; [`Nat::plan`], [`Net::topology`](crate::Net::topology) and the
    /// router's [`Node::interfaces`](crate::Node::interfaces) keep the address the network was
    /// built with.
    ///
    /// # Errors
    ///
    /// [`Error::NoFreeAddress`] when every address of the outside subnet is taken (a `/30` has
    /// room for its two ends only); otherwise, if the kernel refuses, with what it refused.
    pub fn rebind_address(&self) -> Result<Ipv4Addr> {
        let wiring = self.net().wiring();
        let (change, nat) = wiring.with_plan(|plan| {
            let change = next_move(plan, self.index()).map_err(|subnet| Error::NoFreeAddress {
                nat: self.node().name().to_owned(),
                subnet: subnet.to_string(),
            })?;
            let mut after = plan.nats[self.index()].clone();
            after.outside_ipv4 = change.new;
            Ok::<_, Error>((change, after))
        })?;
        let name = self.node().name().to_owned();
        self.node().run(move || in_router(&nat, &name, change))?;
        wiring.with_plan(|plan| apply(plan, self.index(), change));
        let router = self.node().index();
        let mut names = self
            .net()
            .names()
            .write()
            .unwrap_or_else(|e| e.into_inner());
        names.move_ipv4(router, change.old.addr(), change.new);
        Ok(change.new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::Topology;

    fn plan(topology: &str) -> Plan {
        Topology::parse(topology)
            .expect("a topology")
            .plan()
            .clone()
    }

    fn outside(plan: &Plan, nat: usize) -> Ipv4Addr {
        let nat = &plan.nats[nat];
        plan.nodes[nat.node]
            .interface(&nat.outside)
            .unwrap()
            .ipv4
            .unwrap()
            .addr()
    }

    #[test]
    fn a_router_on_254_moves_down() {
        let mut plan = plan("peer -- home -- server; nat home [outside=server]");
        let first = outside(&plan, 0);
        assert_eq!(first.octets()[3], 254);
        let change = next_move(&plan, 0).unwrap();
        assert_eq!(change.old.addr(), first);
        assert_eq!(change.new.octets()[3], 253);
        apply(&mut plan, 0, change);
        assert_eq!(outside(&plan, 0), change.new);
        assert_eq!(plan.nats[0].outside_ipv4, change.new);
        assert_eq!(next_move(&plan, 0).unwrap().new.octets()[3], 252);
    }

    #[test]
    fn below_the_lowest_free_address_it_wraps_around_to_the_top() {
        let mut plan = plan("peer -- home -- server; nat home [outside=server]");
        let server = outside_of_server(&plan);
        assert_eq!(server.octets()[3], 1);
        let change = next_move(&plan, 0).unwrap();
        let two = Ipv4Addr::from(u32::from(server) + 1);
        apply(
            &mut plan,
            0,
            Move {
                old: change.old,
                new: two,
            },
        );
        let next = next_move(&plan, 0).unwrap();
        assert_eq!(next.old.addr(), two);
        assert_eq!(next.new.octets()[3], 254);
    }

    fn outside_of_server(plan: &Plan) -> Ipv4Addr {
        plan.node("server").unwrap().interfaces[0]
            .ipv4
            .unwrap()
            .addr()
    }

    #[test]
    fn the_addresses_of_the_other_nodes_on_the_segment_are_skipped() {
        let mut plan =
            plan("switch lan; {a b} -- lan; peer -- home -- lan; nat home [outside=lan]");
        let a = plan.node("a").unwrap().interfaces[0].ipv4.unwrap().addr();
        let b = plan.node("b").unwrap().interfaces[0].ipv4.unwrap().addr();
        assert_eq!((a.octets()[3], b.octets()[3]), (1, 2));
        let change = next_move(&plan, 0).unwrap();
        let three = Ipv4Addr::from(u32::from(b) + 1);
        apply(
            &mut plan,
            0,
            Move {
                old: change.old,
                new: three,
            },
        );
        assert_eq!(next_move(&plan, 0).unwrap().new.octets()[3], 254);
    }

    #[test]
    fn no_route_leads_through_a_nat_s_outside_address() {
        for topology in [
            "peer -- home -- mid -- server; nat home [outside=mid]",
            "peer -- home -- isp -- server; nat home [outside=isp]; nat isp [outside=server]",
            "switch internet; {home server} -- internet; peer -- home; nat home [outside=internet]",
        ] {
            let plan = plan(topology);
            for nat in 0..plan.nats.len() {
                let address = outside(&plan, nat);
                let routes = plan.nodes.iter().flat_map(|node| &node.routes);
                assert!(routes.clone().all(|r| r.gateway != address), "{topology}");
            }
        }
    }

    #[test]
    fn a_full_subnet_has_no_move() {
        let plan = plan(
            "peer -- home; home -- server [subnet=198.51.100.0/30]; nat home [outside=server]",
        );
        assert_eq!(
            next_move(&plan, 0),
            Err(Ipv4Cidr::new(Ipv4Addr::new(198, 51, 100, 0), 30).unwrap())
        );
    }
}
