//! Configuring a network whose links exist: addresses, routes, bridge ports and qdiscs, one
//! batch per namespace.

use super::build::Space;
use std::io;

use super::links::{Layout, describe_end, peers};
use crate::kernel::netlink;
use crate::kernel::qdisc::Shape;
use crate::kernel::relay;
use crate::topology::{Place, Plan};
use crate::{Error, Result};

/// Queues and sends, namespace by namespace: `lo` and the peer ends up, the addresses, the
/// routes; in the switches, the peer ends that are bridge ports, enslaved and up.
pub(super) fn configure(plan: &Plan, layout: &Layout, spaces: &mut [Space]) -> Result<()> {
    for (n, (node, space)) in plan.nodes.iter().zip(spaces.iter_mut()).enumerate() {
        let socket = &mut space.socket;
        socket.set_link(
            netlink::up_message(netlink::LOOPBACK_INDEX),
            format!("setting lo up in node `{}`", node.name),
        );
        for (peer, index) in peers(plan, layout).filter(|(end, _)| end.place == Place::Node(n)) {
            socket.set_link(
                netlink::up_message(index),
                format!("setting {} up", describe_end(plan, peer)),
            );
        }
        for interface in &node.interfaces {
            let index =
                layout
                    .interface(plan, n, &interface.name)
                    .ok_or_else(|| Error::Netlink {
                        what: format!(
                            "adding the addresses of node `{}` {}: the plan has no link for \
                             this interface",
                            node.name, interface.name
                        ),
                        source: io::Error::from_raw_os_error(nix::libc::ENODEV),
                    })?;
            // With `[ipv4=off]` the plan has no IPv4 address, and none is added.
            if let Some(ipv4) = interface.ipv4 {
                socket.add_address(
                    netlink::address_message(index, ipv4.addr().into(), ipv4.prefix_len()),
                    format!("adding {ipv4} to node `{}` {}", node.name, interface.name),
                );
            }
            // `netlink::address_message` adds IPv6 addresses with IFA_F_NODAD, so that they
            // are usable at once instead of after duplicate address detection (1 to 2 s).
            if let Some(ipv6) = interface.ipv6 {
                socket.add_address(
                    netlink::address_message(index, ipv6.addr().into(), ipv6.prefix_len()),
                    format!("adding {ipv6} to node `{}` {}", node.name, interface.name),
                );
            }
        }
        for route in &node.routes {
            let destination = route.destination.map(|d| (d.addr(), d.prefix_len()));
            let shown = match route.destination {
                Some(d) => format!("{d} via {}", route.gateway),
                None => format!("default via {}", route.gateway),
            };
            socket.add_route(
                netlink::ipv4_route_message(destination, route.gateway),
                format!("adding the route `{shown}` in node `{}`", node.name),
            );
        }
        for route in &node.routes6 {
            let destination = route.destination.map(|d| (d.addr(), d.prefix_len()));
            let shown = match route.destination {
                Some(d) => format!("{d} via {}", route.gateway),
                None => format!("default via {}", route.gateway),
            };
            socket.add_route(
                netlink::ipv6_route_message(destination, route.gateway),
                format!("adding the route `{shown}` in node `{}`", node.name),
            );
        }
        socket.flush()?;
    }
    if let Some(switches) = spaces.get_mut(plan.nodes.len()) {
        let socket = &mut switches.socket;
        // Only a veth between two switches has a peer end on a bridge.
        for (peer, index) in peers(plan, layout) {
            if let Place::Bridge(m) = peer.place {
                socket.set_link(
                    netlink::port_message(index, layout.bridges[m]),
                    format!(
                        "adding {} to bridge {}",
                        describe_end(plan, peer),
                        plan.bridges[m].ifname
                    ),
                );
            }
        }
        socket.flush()?;
    }
    Ok(())
}

/// Gives both ends of every link with `rate=`, `delay=` or `loss=` its root qdisc (see
/// `qdisc.rs`), one batch per namespace. Plans without them send nothing.
pub(super) fn shape_links(plan: &Plan, layout: &Layout, spaces: &mut [Space]) -> Result<()> {
    let switches = plan.nodes.len();
    let mut queued = vec![false; spaces.len()];
    for ((veth, &(a, b)), relayed) in plan.veths.iter().zip(&layout.veths).zip(&layout.relays) {
        // A relayed link's delay and loss are the relay's; the kernel keeps its rate.
        let shape = match relayed {
            Some(_) => Shape::of(&relay::kernel_part(&veth.settings)),
            None => Shape::of(&veth.settings),
        };
        for (end, index, from_b) in [(&veth.a, a, false), (&veth.b, b, true)] {
            let Some(message) = shape.message(index, from_b) else {
                continue;
            };
            let space = match end.place {
                Place::Node(n) => n,
                Place::Bridge(_) => switches,
            };
            let what = format!("{} on {}", shape.describe(), describe_end(plan, end));
            spaces[space].socket.qdisc(message, shape.feature(), what);
            queued[space] = true;
        }
    }
    for (space, queued) in spaces.iter_mut().zip(queued) {
        if queued {
            space.socket.flush()?;
        }
    }
    Ok(())
}
