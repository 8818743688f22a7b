//! Faults at run time: [`Link`] takes a link down and up, changes its MTU and its rate;
//! [`Node::disconnect`] and [`Node::reconnect`] do it to every link of a node.
//!
//! # How
//!
//! A link is a veth pair, and every change is made to **both** ends, each from a netlink socket
//! opened in that end's namespace (a node's, or the hidden namespace of the switches for a
//! bridge port): downing both ends means each side sees its carrier go, as with a pulled
//! cable. [`Link::up`] returns only once both ends report operstate `UP` (and a bridge port is
//! `forwarding` again), as building the network does, so that the next packet is not lost
//! (see the kernel's `apply/ready.rs`). Taking an interface down makes the kernel delete the routes through it
//! and its global IPv6 addresses; bringing it up restores only the connected IPv4 route, so
//! `up` adds the planned IPv6 address and routes of both families through the link again.
//!
//! The settings a link has (`mtu=`, `rate=`, `delay=`, `loss=` from the topology, and what was
//! changed since) are kept with the network, so that [`Link::set_rate`] on a link with a
//! `delay=` keeps the delay: each end's root qdisc is rebuilt from all of them (see
//! `qdisc.rs`). On a link the relay carries (a kernel without netem, see the kernel's
//! `relay/`), the delay and loss go to the relay instead, from its next frame on, and the rate
//! stays the ends' `tbf`.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_REPLACE};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::LinkMessage;
use rtnetlink::LinkUnspec;

use crate::kernel::apply::{Awaited, Built, SWITCHES, Watch, wait_until_ready};
use crate::kernel::netlink::{self, Socket};
use crate::kernel::qdisc::{self, Shape};
use crate::kernel::relay::{self, Choice, Direction, Relay};
use crate::topology::{
    self, Directed, LinkSettings, MAX_MTU, MIN_IPV6_MTU, MIN_MTU, NodePlan, Place, Plan, RoutePlan,
};
use crate::{Error, Net, Node, Result};

/// Every link of a network and the namespaces of their ends, shared by [`Net`] and its nodes.
#[derive(Debug)]
pub(crate) struct Wiring {
    /// Node names and namespaces, in plan order.
    nodes: Vec<(String, OwnedFd)>,
    /// The plan of each node, for the routes to put back when a link comes up.
    node_plans: Vec<NodePlan>,
    /// Switch names, in plan order, and their hidden namespace.
    switches: Vec<String>,
    switch_ns: Option<OwnedFd>,
    wires: Vec<Wire>,
    /// The current settings of each wire.
    settings: Mutex<Vec<LinkSettings>>,
    /// The relay of the relayed wires, if any (see the kernel's `relay/`).
    relay: Option<Arc<Relay>>,
    /// What was asked to carry `delay=` and `loss=`.
    impair: Choice,
}

/// One veth pair.
#[derive(Debug)]
struct Wire {
    ends: [End; 2],
    /// `client -- gateway`, `pc1 -- lan`.
    name: String,
    /// Its number in the relay, if the relay carries its delay and loss.
    relayed: Option<usize>,
}

/// One end of a veth pair.
#[derive(Debug)]
struct End {
    place: Place,
    /// Its interface name in its namespace: `eth0`, `b0p1`.
    ifname: String,
    index: u32,
    /// `node `client` eth0`, `switch `lan` port b0p1`.
    label: String,
}

impl Wiring {
    pub(crate) fn new(plan: &Plan, built: &Built) -> Result<Wiring> {
        let dup = |fd: &OwnedFd, name: &str| {
            fd.try_clone().map_err(|source| Error::Io {
                what: format!("cannot duplicate the namespace fd of `{name}`"),
                source,
            })
        };
        let nodes = (plan.nodes.iter().zip(&built.nodes))
            .map(|(node, fd)| Ok((node.name.clone(), dup(fd, &node.name)?)))
            .collect::<Result<Vec<_>>>()?;
        let switch_ns = match &built.switches {
            Some(fd) => Some(dup(fd, SWITCHES)?),
            None => None,
        };
        let switches: Vec<String> = plan.bridges.iter().map(|b| b.switch.clone()).collect();
        let name_of = |place: &Place| match place {
            Place::Node(n) => plan.nodes[*n].name.clone(),
            Place::Bridge(n) => switches[*n].clone(),
        };
        let label = |place: &Place, ifname: &str| match place {
            Place::Node(n) => format!("node `{}` {ifname}", plan.nodes[*n].name),
            Place::Bridge(n) => format!("switch `{}` port {ifname}", switches[*n]),
        };
        let wires = (plan.veths.iter().zip(&built.veths).zip(&built.relayed))
            .map(|((veth, &(a, b)), &relayed)| Wire {
                relayed,
                name: format!("{} -- {}", name_of(&veth.a.place), name_of(&veth.b.place)),
                ends: [
                    End {
                        place: veth.a.place.clone(),
                        ifname: veth.a.ifname.clone(),
                        index: a,
                        label: label(&veth.a.place, &veth.a.ifname),
                    },
                    End {
                        place: veth.b.place.clone(),
                        ifname: veth.b.ifname.clone(),
                        index: b,
                        label: label(&veth.b.place, &veth.b.ifname),
                    },
                ],
            })
            .collect();
        let settings = Mutex::new(plan.veths.iter().map(|v| v.settings).collect());
        Ok(Wiring {
            nodes,
            node_plans: plan.nodes.clone(),
            switches,
            switch_ns,
            wires,
            settings,
            relay: built.relay.clone(),
            impair: built.impair,
        })
    }

    /// The name of the node or switch at `place`.
    fn name_of(&self, place: &Place) -> &str {
        match place {
            Place::Node(n) => &self.nodes[*n].0,
            Place::Bridge(n) => &self.switches[*n],
        }
    }

    fn namespace(&self, place: &Place) -> BorrowedFd<'_> {
        match place {
            Place::Node(n) => self.nodes[*n].1.as_fd(),
            Place::Bridge(_) => self
                .switch_ns
                .as_ref()
                .expect("a network with bridge ports has a switch namespace")
                .as_fd(),
        }
    }

    /// The node whose namespace holds `end`, or the switches'.
    fn space_of(&self, end: &End) -> &str {
        match end.place {
            Place::Node(n) => self.nodes[n].0.as_str(),
            Place::Bridge(_) => SWITCHES,
        }
    }

    /// A socket in the namespace of `end`.
    fn socket(&self, end: &End) -> Result<Socket> {
        Socket::open_in(self.namespace(&end.place), self.space_of(end))
    }

    /// The wires with `node` at one end, in plan order.
    fn wires_of(&self, node: usize) -> impl Iterator<Item = usize> + '_ {
        (self.wires.iter().enumerate())
            .filter(move |(_, w)| w.ends.iter().any(|e| e.place == Place::Node(node)))
            .map(|(i, _)| i)
    }

    /// Sends `message(index)` to each end of each of `wires`; `what` says what it does.
    fn set_ends(&self, wires: &[usize], message: fn(u32) -> LinkMessage, what: &str) -> Result<()> {
        for &wire in wires {
            for end in &self.wires[wire].ends {
                let mut socket = self.socket(end)?;
                socket.set_link(message(end.index), format!("{what} {}", end.label));
                socket.flush()?;
            }
        }
        Ok(())
    }

    /// Sets both ends of each of `wires` up, waits until they can carry traffic, and puts back
    /// what the kernel deleted when they went down (see [`Wiring::restore`]).
    fn up(&self, wires: &[usize]) -> Result<()> {
        self.set_ends(wires, netlink::up_message, "setting up")?;
        self.wait_up(wires)?;
        for &wire in wires {
            // Below 1280 bytes the ends have no IPv6 to put back (see `Link::set_mtu`).
            let mtu = self.settings.lock().unwrap_or_else(|e| e.into_inner())[wire].mtu;
            let ipv6 = mtu.is_none_or(|mtu| mtu >= MIN_IPV6_MTU);
            for end in &self.wires[wire].ends {
                self.restore(end, ipv6)?;
            }
        }
        Ok(())
    }

    /// Puts back what the kernel deleted when the interface `end` of a node went down: its
    /// IPv6 address and the planned routes through it, of both families (of IPv4 alone without
    /// `ipv6`).
    ///
    /// Taking an interface down makes the kernel delete every route through it (its own
    /// subnets' routes come back with the interface; static ones do not), and, with the default
    /// `keep_addr_on_down=0`, its global IPv6 addresses (IPv4 addresses stay). Without this, a
    /// link that comes up would leave its nodes without their default routes and IPv6.
    /// Replacing (rather than adding) makes it harmless for what is still there.
    fn restore(&self, end: &End, ipv6: bool) -> Result<()> {
        let Place::Node(n) = end.place else {
            return Ok(());
        };
        let node = &self.node_plans[n];
        let Some(interface) = node.interface(&end.ifname) else {
            return Ok(());
        };
        let mut socket = self.socket(end)?;
        let replace = NLM_F_CREATE | NLM_F_REPLACE;
        let shown = |destination: Option<String>, gateway: String| match destination {
            Some(d) => format!(
                "restoring the route `{d} via {gateway}` in node `{}`",
                node.name
            ),
            None => format!(
                "restoring the route `default via {gateway}` in node `{}`",
                node.name
            ),
        };
        let subnet = interface.ipv4.map(|ipv4| ipv4.network());
        let attached = |r: &&RoutePlan| subnet.is_some_and(|s| s.contains(r.gateway));
        for route in node.routes.iter().filter(attached) {
            let destination = route.destination.map(|d| (d.addr(), d.prefix_len()));
            let message = netlink::ipv4_route_message(destination, route.gateway);
            let what = shown(
                route.destination.map(|d| d.to_string()),
                route.gateway.to_string(),
            );
            socket.push(RouteNetlinkMessage::NewRoute(message), replace, what, None);
        }
        if let Some(ipv6) = interface.ipv6.filter(|_| ipv6) {
            let message =
                netlink::address_message(end.index, ipv6.addr().into(), ipv6.prefix_len());
            let what = format!("restoring {ipv6} on {}", end.label);
            socket.push(
                RouteNetlinkMessage::NewAddress(message),
                replace,
                what,
                None,
            );
            let subnet = ipv6.network();
            for route in node.routes6.iter().filter(|r| subnet.contains(r.gateway)) {
                let destination = route.destination.map(|d| (d.addr(), d.prefix_len()));
                let message = netlink::ipv6_route_message(destination, route.gateway);
                let what = shown(
                    route.destination.map(|d| d.to_string()),
                    route.gateway.to_string(),
                );
                socket.push(RouteNetlinkMessage::NewRoute(message), replace, what, None);
            }
        }
        socket.flush()
    }

    /// Waits until every end of `wires` is ready again (see `ready.rs` of the kernel's apply).
    fn wait_up(&self, wires: &[usize]) -> Result<()> {
        let ends: Vec<&End> = wires.iter().flat_map(|&w| &self.wires[w].ends).collect();
        let mut sockets = ends
            .iter()
            .map(|end| self.socket(end))
            .collect::<Result<Vec<_>>>()?;
        let mut watches: Vec<Watch<'_>> = (sockets.iter_mut().zip(&ends))
            .map(|(socket, end)| Watch {
                socket,
                space: self.space_of(end),
                awaited: vec![Awaited::new(
                    end.index,
                    end.label.clone(),
                    matches!(end.place, Place::Bridge(_)),
                )],
            })
            .collect();
        wait_until_ready(&mut watches)
    }

    /// Changes the settings of `wire` with `change` and rebuilds both ends' root qdisc if its
    /// shape changed. The settings are kept only if that worked.
    /// The settings each link has now (`client -- gateway: rate=10mbit`), one line per link that
    /// has any, for the failure report: they may differ from the topology's, changed at run time.
    pub(crate) fn settings_lines(&self) -> Vec<String> {
        let settings = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        self.wires
            .iter()
            .zip(settings.iter())
            .filter(|(_, settings)| !settings.is_empty())
            .map(|(wire, settings)| format!("{}: {}", wire.name, settings.entries().join(", ")))
            .collect()
    }

    /// Changes the settings of `wire` with `change`: on a relayed wire, the relay's directions
    /// and the kernel's `tbf`; else both ends' root qdisc, if its shape changed. The settings
    /// are kept only if that worked.
    fn reshape(&self, wire: usize, change: impl FnOnce(&mut LinkSettings)) -> Result<()> {
        let mut settings = self.settings.lock().unwrap_or_else(|e| e.into_inner());
        let mut new = settings[wire];
        change(&mut new);
        let relayed = self.wires[wire].relayed.zip(self.relay.as_ref());
        let kernel = |s: &LinkSettings| match relayed {
            Some(_) => relay::kernel_part(s),
            None => *s,
        };
        if relayed.is_none()
            && relay::impairs(&new)
            && !relay::impairs(&settings[wire])
            && self.impair == Choice::Relay
        {
            return Err(Error::InvalidSetting {
                problem: self.not_relayed(wire, &new, "NETNS_TEST_IMPAIR=relay asks for the relay"),
            });
        }
        let (old_shape, new_shape) = (
            Shape::of(&kernel(&settings[wire])),
            Shape::of(&kernel(&new)),
        );
        if old_shape != new_shape {
            for (end, from_b) in self.wires[wire].ends.iter().zip([false, true]) {
                let mut socket = self.socket(end)?;
                let message = new_shape.message(end.index, from_b);
                let (feature, what) = match &message {
                    Some(_) => (new_shape.feature(), new_shape.describe()),
                    None => (None, format!("removing {}", old_shape.describe())),
                };
                let message = message.unwrap_or_else(|| qdisc::delete_root(end.index));
                socket.qdisc(message, feature, format!("{what} on {}", end.label));
                socket.flush().map_err(|error| match error {
                    Error::KernelLacks {
                        feature: "sch_netem",
                        needed_for,
                        source,
                    } => Error::KernelLacks {
                        feature: "sch_netem",
                        needed_for: format!(
                            "{needed_for} ({})",
                            self.not_relayed(wire, &new, "the relay stands in for it")
                        ),
                        source,
                    },
                    other => other,
                })?;
            }
        }
        if let Some((slot, relay)) = relayed {
            relay.set(slot, Direction::of(&new));
        }
        settings[wire] = new;
        Ok(())
    }

    /// Why a wire built without an impairment cannot get one from the relay at run time.
    fn not_relayed(&self, wire: usize, new: &LinkSettings, why: &str) -> String {
        format!(
            "{why}, but it carries only links built with a delay or a loss, and link `{}` was \
             built without; give it `delay=0ms` in the topology to have it relayed from the \
             start (now: {})",
            self.wires[wire].name,
            new.entries().join(", ")
        )
    }
}

fn down_message(index: u32) -> LinkMessage {
    LinkUnspec::new_with_index(index).down().build()
}

/// One link of the network (a veth pair), to break and change while the test runs.
///
/// Got from [`Net::link`]. Every method changes both ends of the link, and returns once the
/// kernel has done it.
///
/// # Example
///
/// ```no_run
/// use std::process::Command;
///
/// use netns_test::{Net, netns_test};
///
/// fn ping(net: &Net, from: &str, to: &str) -> bool {
///     let mut ping: Command = net.node(from).command("ping");
///     ping.args(["-c1", "-W1", to]).output().unwrap().status.success()
/// }
///
/// #[netns_test(topology = "client -- gateway -- server")]
/// fn the_gateway_link_fails(net: &Net) -> netns_test::Result<()> {
///     let link = net.link("client", "gateway");
///     link.down()?;
///     assert!(!ping(net, "client", "server"));
///     link.up()?; // returns once both ends can carry traffic again
///     assert!(ping(net, "client", "server"));
///     Ok(())
/// }
///
/// netns_test::main!();
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Link<'n> {
    wiring: &'n Wiring,
    wire: usize,
}

impl Net {
    /// The link between `a` and `b`, in either order; `b` may be a switch
    /// (`net.link("pc1", "lan")`).
    ///
    /// # Panics
    ///
    /// If there is no such link; the message lists the links the network has.
    #[track_caller]
    pub fn link(&self, a: &str, b: &str) -> Link<'_> {
        let wiring = self.wiring();
        let found = wiring.wires.iter().position(|wire| {
            let [x, y] = &wire.ends;
            let (x, y) = (wiring.name_of(&x.place), wiring.name_of(&y.place));
            (x, y) == (a, b) || (x, y) == (b, a)
        });
        match found {
            Some(wire) => Link { wiring, wire },
            None => {
                let links: Vec<&str> = wiring.wires.iter().map(|w| w.name.as_str()).collect();
                let links = if links.is_empty() {
                    "none".to_string()
                } else {
                    links.join(", ")
                };
                panic!("this network has no link `{a} -- {b}`; its links are: {links}")
            }
        }
    }
}

impl Link<'_> {
    /// `client -- gateway`: the link's two sides, in the order of the topology (a node first).
    pub fn name(&self) -> &str {
        &self.wiring.wires[self.wire].name
    }

    /// The link's current settings: those of the topology, as changed since.
    pub fn settings(&self) -> LinkSettings {
        self.wiring
            .settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())[self.wire]
    }

    /// Takes both ends down: no frame crosses the link, and each side sees its carrier go (its
    /// routes through the link are marked `linkdown`).
    pub fn down(&self) -> Result<()> {
        self.wiring
            .set_ends(&[self.wire], down_message, "setting down")
    }

    /// Brings both ends up again, waits until they can carry traffic, and puts back their IPv6
    /// addresses and the routes through them (the kernel deletes those when an interface goes
    /// down), so that the next packet gets through, in either family (in IPv4 alone while
    /// [`Link::set_mtu`] holds the link below 1280 bytes).
    ///
    /// Nodes behind a switch keep their own state meanwhile: one that tried to reach a node of
    /// the downed link still has its ARP request pending, and sends the next one when the
    /// kernel's retransmit timer fires, up to a second after `up` returns.
    pub fn up(&self) -> Result<()> {
        self.wiring.up(&[self.wire])
    }

    /// Sets the MTU of both ends, in bytes (68 to 65535; at least 1280 in an IPv6-only
    /// network, where a smaller MTU would take IPv6, and so every address, off the link). A
    /// larger IPv4 datagram with DF set is refused; without DF it is fragmented. In a network
    /// with both families, an MTU below 1280 takes IPv6 off the link while it lasts, as the
    /// kernel does (the topology refuses such an `mtu=` from the start); raising it to 1280 or
    /// more puts back the ends' IPv6 addresses and the routes through them.
    pub fn set_mtu(&self, mtu: u32) -> Result<()> {
        if !(MIN_MTU..=MAX_MTU).contains(&mtu) {
            return Err(Error::InvalidSetting {
                problem: format!(
                    "an MTU of {mtu} is out of range: an MTU is {MIN_MTU} to {MAX_MTU} bytes"
                ),
            });
        }
        let wire = &self.wiring.wires[self.wire];
        let ipv6_only = wire.ends.iter().any(|end| match end.place {
            Place::Node(n) => (self.wiring.node_plans[n].interface(&end.ifname))
                .is_some_and(|interface| interface.ipv4.is_none()),
            Place::Bridge(_) => false,
        });
        if ipv6_only && mtu < MIN_IPV6_MTU {
            return Err(Error::InvalidSetting {
                problem: format!(
                    "an MTU of {mtu} on `{}` is below {MIN_IPV6_MTU}, the least MTU IPv6 \
                     allows, and the topology says `[ipv4=off]`, so the link would carry \
                     nothing; use {MIN_IPV6_MTU} or more",
                    wire.name
                ),
            });
        }
        let before = self.settings().mtu;
        for end in &wire.ends {
            let mut socket = self.wiring.socket(end)?;
            let message = LinkUnspec::new_with_index(end.index).mtu(mtu).build();
            socket.set_link(
                message,
                format!("setting the MTU of {} to {mtu}", end.label),
            );
            socket.flush()?;
        }
        self.wiring
            .settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())[self.wire]
            .mtu = Some(mtu);
        // Below 1280 the kernel took IPv6 off the ends, addresses and routes with it; raised
        // again, it gives them back only their link-local addresses.
        if before.is_some_and(|before| before < MIN_IPV6_MTU) && mtu >= MIN_IPV6_MTU {
            for end in &wire.ends {
                self.wiring.restore(end, true)?;
            }
        }
        Ok(())
    }

    /// Limits what each end sends to `rate`, written as in the topology: `"1mbit"`,
    /// `"512kbit"`, `"1.5mbit"` (`bit`, `kbit`, `mbit`, `gbit`; powers of 1000), or one rate
    /// per direction, `"10mbit/1mbit"`: the first for what the end written on the left of
    /// the link in the topology (`a` in `a -- b`) sends, the second for what the right end
    /// sends, whichever order `net.link` was given its nodes in.
    /// Replaces a previous rate, and keeps a `delay=` or `loss=` the link has.
    pub fn set_rate(&self, rate: &str) -> Result<()> {
        let rate = topology::parse_directed(rate, topology::parse_rate)
            .map_err(|problem| Error::InvalidSetting { problem })?;
        self.wiring.reshape(self.wire, |s| s.rate = Some(rate))
    }

    /// Removes the link's rate limit, if it has one.
    pub fn clear_rate(&self) -> Result<()> {
        self.wiring.reshape(self.wire, |s| s.rate = None)
    }

    /// Delays every packet each end sends by `delay`, written as in the topology: `"50ms"`,
    /// `"1s"`, `"250us"`. Replaces a previous delay, and keeps the link's rate and loss.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] for a bad delay; [`Error::KernelLacks`] naming `sch_netem`
    /// where the kernel has no netem and the link was built without a delay or loss, so that
    /// the relay does not carry it (the message says to give it `delay=0ms` in the topology);
    /// the link is then left as it was.
    pub fn set_delay(&self, delay: &str) -> Result<()> {
        let delay =
            topology::parse_delay(delay).map_err(|problem| Error::InvalidSetting { problem })?;
        self.wiring
            .reshape(self.wire, |s| s.delay_us = Some(Directed::both(delay)))
    }

    /// Removes the link's delay, if it has one.
    pub fn clear_delay(&self) -> Result<()> {
        self.wiring.reshape(self.wire, |s| s.delay_us = None)
    }

    /// Makes each end drop this share of the packets it sends, written as in the topology:
    /// `"1%"`, `"0.5%"`, `"100%"`. Replaces a previous loss, and keeps the link's rate and
    /// delay.
    ///
    /// # Errors
    ///
    /// As [`set_delay`](Self::set_delay).
    pub fn set_loss(&self, loss: &str) -> Result<()> {
        let loss =
            topology::parse_loss(loss).map_err(|problem| Error::InvalidSetting { problem })?;
        self.wiring
            .reshape(self.wire, |s| s.loss_ppm = Some(Directed::both(loss)))
    }

    /// Removes the link's loss, if it has one.
    pub fn clear_loss(&self) -> Result<()> {
        self.wiring.reshape(self.wire, |s| s.loss_ppm = None)
    }
}

impl Node {
    /// Takes every link of this node down, both ends: the node is cut off, as if all its
    /// cables were pulled. [`reconnect`](Self::reconnect) undoes it.
    pub fn disconnect(&self) -> Result<()> {
        let wires: Vec<usize> = self.wiring().wires_of(self.index()).collect();
        self.wiring().set_ends(&wires, down_message, "setting down")
    }

    /// Brings every link of this node up again and waits until they can carry traffic.
    pub fn reconnect(&self) -> Result<()> {
        let wires: Vec<usize> = self.wiring().wires_of(self.index()).collect();
        self.wiring().up(&wires)
    }
}
