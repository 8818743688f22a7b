//! The interface index of every link, chosen before any exists, and creating every bridge and
//! veth pair from one socket in one batch.

use std::os::fd::{AsFd, BorrowedFd};

use super::build::{Built, Space};
use crate::kernel::netlink::{self, Socket, VethSpec};
use crate::kernel::relay;
use crate::topology::{MAX_MTU, Place, Plan, VethEnd, VethPlan};
use crate::{Error, Result};

/// The lowest interface index above every index in use in any of the namespaces.
pub(super) fn first_free_index(spaces: &mut [Space]) -> Result<u32> {
    let mut highest = netlink::LOOPBACK_INDEX;
    for space in spaces {
        let links = space.socket.links().map_err(|source| Error::Netlink {
            what: format!("listing the links of node `{}`", space.name),
            source,
        })?;
        highest = links.iter().map(|link| link.index).fold(highest, u32::max);
    }
    Ok(highest + 1)
}

/// The interface index of every link of the plan.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Layout {
    /// One per [`Plan::bridges`].
    pub(super) bridges: Vec<u32>,
    /// One `(a, b)` per [`Plan::veths`].
    pub(super) veths: Vec<(u32, u32)>,
    /// Per [`Plan::veths`], for a relayed link, the indexes of the relay's two ends (facing
    /// `a`, facing `b`) in the relay's namespace.
    pub(super) relays: Vec<Option<(u32, u32)>>,
}

impl Layout {
    /// Numbers the bridges, then both ends of each veth in order, from `first`, then the relay
    /// ends of the veths for which `relayed` is true.
    pub(super) fn new(plan: &Plan, first: u32, relayed: &[bool]) -> Layout {
        let bridges: Vec<u32> = (0..plan.bridges.len() as u32).map(|i| first + i).collect();
        let after = first + bridges.len() as u32;
        let veths = (0..plan.veths.len() as u32)
            .map(|i| (after + 2 * i, after + 2 * i + 1))
            .collect();
        let mut next = after + 2 * plan.veths.len() as u32;
        let relays = (0..plan.veths.len())
            .map(|i| {
                relayed.get(i).copied().unwrap_or(false).then(|| {
                    next += 2;
                    (next - 2, next - 1)
                })
            })
            .collect();
        Layout {
            bridges,
            veths,
            relays,
        }
    }

    /// The index of interface `ifname` of node `node`.
    pub(super) fn interface(&self, plan: &Plan, node: usize, ifname: &str) -> Option<u32> {
        plan.veths
            .iter()
            .zip(&self.veths)
            .find_map(|(veth, &(a, b))| {
                let is = |end: &VethEnd| end.place == Place::Node(node) && end.ifname == ifname;
                if is(&veth.a) {
                    Some(a)
                } else if is(&veth.b) {
                    Some(b)
                } else {
                    None
                }
            })
    }
}

/// The end of `veth` created as the main link, then its peer: a bridge port when there is one,
/// since only the main link can be enslaved in the creating request; else `a`. The `bool` says
/// whether `b` is the main end.
pub(super) fn main_and_peer(veth: &VethPlan) -> (&VethEnd, &VethEnd, bool) {
    match (&veth.a.place, &veth.b.place) {
        (Place::Node(_), Place::Bridge(_)) => (&veth.b, &veth.a, true),
        _ => (&veth.a, &veth.b, false),
    }
}

/// `node `client` eth0` or `switch `lan` port b0p1`.
pub(super) fn describe_end(plan: &Plan, end: &VethEnd) -> String {
    match end.place {
        Place::Node(n) => format!("node `{}` {}", plan.nodes[n].name, end.ifname),
        Place::Bridge(n) => format!("switch `{}` port {}", plan.bridges[n].switch, end.ifname),
    }
}

/// The namespace of one end of a veth.
fn namespace_of<'a>(built: &'a Built, place: &Place) -> BorrowedFd<'a> {
    match place {
        Place::Node(n) => built.nodes[*n].as_fd(),
        Place::Bridge(_) => built
            .switches
            .as_ref()
            .expect("a plan with bridge ports has bridges")
            .as_fd(),
    }
}

/// Creates every bridge and veth pair, from one socket, in one batch; a relayed link as two
/// pairs, each from a node's (or bridge's) end to the relay's namespace `relay`.
pub(super) fn create_links(
    plan: &Plan,
    built: &Built,
    layout: &Layout,
    relay: Option<BorrowedFd<'_>>,
    socket: &mut Socket,
) -> Result<()> {
    for (bridge, &index) in plan.bridges.iter().zip(&layout.bridges) {
        let switches = namespace_of(built, &Place::Bridge(0));
        socket.create_link(
            netlink::bridge_message(&bridge.ifname, index, switches),
            "bridge",
            format!(
                "creating bridge {} of switch `{}`",
                bridge.ifname, bridge.switch
            ),
        );
    }
    for (k, (veth, &(a_index, b_index))) in plan.veths.iter().zip(&layout.veths).enumerate() {
        if let (Some((relay_a, relay_b)), Some(relay)) = (layout.relays[k], relay) {
            create_relayed(
                plan,
                built,
                veth,
                k,
                [(a_index, relay_a), (b_index, relay_b)],
                layout,
                relay,
                socket,
            );
            continue;
        }
        let (main, peer, b_is_main) = main_and_peer(veth);
        let (main_index, peer_index) = if b_is_main {
            (b_index, a_index)
        } else {
            (a_index, b_index)
        };
        let controller = match main.place {
            Place::Bridge(n) => Some(layout.bridges[n]),
            Place::Node(_) => None,
        };
        let spec = VethSpec {
            name: &main.ifname,
            index: main_index,
            ns: namespace_of(built, &main.place),
            controller,
            peer: &peer.ifname,
            peer_index,
            peer_ns: namespace_of(built, &peer.place),
            mtu: veth.settings.mtu,
            peer_mtu: veth.settings.mtu,
        };
        socket.create_link(
            spec.message(),
            "veth",
            format!(
                "creating the veth pair {} -- {}",
                describe_end(plan, &veth.a),
                describe_end(plan, &veth.b)
            ),
        );
    }
    socket.flush()
}

/// Queues the two pairs of relayed link `k`: each end of `veth` paired with the relay's end
/// facing it, in the relay's namespace, with the largest MTU, so that only the node ends' MTU
/// counts. The relay's end is the main link, created up, and the node's end its peer, set up
/// with the node's other links (`configure`); an end that is a bridge port must be the main
/// link to be enslaved, so there the relay's end is the peer, made down and set up from the
/// relay's namespace (`build::start_relay`). `indexes` are `(end, relay's end)` for `a`, then
/// `b`.
#[allow(clippy::too_many_arguments)]
fn create_relayed(
    plan: &Plan,
    built: &Built,
    veth: &VethPlan,
    k: usize,
    indexes: [(u32, u32); 2],
    layout: &Layout,
    relay: BorrowedFd<'_>,
    socket: &mut Socket,
) {
    for (side_b, (end, (index, relay_index))) in [
        (false, (&veth.a, indexes[0])),
        (true, (&veth.b, indexes[1])),
    ] {
        let name = relay::end_name(k, side_b);
        let spec = match end.place {
            Place::Bridge(n) => VethSpec {
                name: &end.ifname,
                index,
                ns: namespace_of(built, &end.place),
                controller: Some(layout.bridges[n]),
                peer: &name,
                peer_index: relay_index,
                peer_ns: relay,
                mtu: veth.settings.mtu,
                peer_mtu: Some(MAX_MTU),
            },
            Place::Node(_) => VethSpec {
                name: &name,
                index: relay_index,
                ns: relay,
                controller: None,
                peer: &end.ifname,
                peer_index: index,
                peer_ns: namespace_of(built, &end.place),
                mtu: Some(MAX_MTU),
                peer_mtu: veth.settings.mtu,
            },
        };
        socket.create_link(
            spec.message(),
            "veth",
            format!(
                "creating the veth pair {} -- relay {name} of link {} -- {}",
                describe_end(plan, end),
                describe_end(plan, &veth.a),
                describe_end(plan, &veth.b)
            ),
        );
    }
}

/// The ends that were created as peers (see [`main_and_peer`]), down, with their indexes: one
/// per plain veth, and each node end of a relayed one (see `create_relayed`).
pub(super) fn peers<'a>(
    plan: &'a Plan,
    layout: &'a Layout,
) -> impl Iterator<Item = (&'a VethEnd, u32)> {
    (plan.veths.iter().zip(&layout.veths).zip(&layout.relays)).flat_map(
        |((veth, &(a, b)), relayed)| {
            let ends: Vec<(&VethEnd, u32)> = match (relayed, main_and_peer(veth)) {
                (Some(_), _) => [(&veth.a, a), (&veth.b, b)]
                    .into_iter()
                    .filter(|(end, _)| matches!(end.place, Place::Node(_)))
                    .collect(),
                (None, (_, peer, true)) => vec![(peer, a)],
                (None, (_, peer, false)) => vec![(peer, b)],
            };
            ends
        },
    )
}
