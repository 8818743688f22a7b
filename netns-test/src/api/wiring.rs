//! The wiring: every link of a network (a veth pair), the namespaces of its two ends, the
//! settings each link has now, and the plan as the network stands now (the topology's, with the
//! addresses that [`Nat::rebind_address`](crate::Nat::rebind_address) changed since). Shared by
//! [`Net`](crate::Net), its nodes and every [`Link`](super::Link); what a link that comes up
//! again gets back (`restore`), and what reports show, come from here.

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
use crate::topology::{LinkSettings, MIN_IPV6_MTU, Place, Plan, RoutePlan};
use crate::{Error, Result};

/// Every link of a network and the namespaces of their ends, shared by [`Net`] and its nodes.
#[derive(Debug)]
pub(crate) struct Wiring {
    /// Node names and namespaces, in plan order.
    nodes: Vec<(String, OwnedFd)>,
    /// The plan as the network stands now: the topology's, with the addresses and routes that
    /// [`Nat::rebind_address`](crate::Nat::rebind_address) changed since. What a link that comes
    /// up gets back, and what reports show.
    now: Mutex<Plan>,
    /// Switch names, in plan order, and their hidden namespace.
    switches: Vec<String>,
    switch_ns: Option<OwnedFd>,
    pub(super) wires: Vec<Wire>,
    /// The current settings of each wire.
    pub(super) settings: Mutex<Vec<LinkSettings>>,
    /// The relay of the relayed wires, if any (see the kernel's `relay/`).
    relay: Option<Arc<Relay>>,
    /// What was asked to carry `delay=` and `loss=`.
    impair: Choice,
}

/// One veth pair.
#[derive(Debug)]
pub(super) struct Wire {
    pub(super) ends: [End; 2],
    /// `client -- gateway`, `pc1 -- lan`.
    pub(super) name: String,
    /// Its number in the relay, if the relay carries its delay and loss.
    relayed: Option<usize>,
}

/// One end of a veth pair.
#[derive(Debug)]
pub(super) struct End {
    pub(super) place: Place,
    /// Its interface name in its namespace: `eth0`, `b0p1`.
    pub(super) ifname: String,
    pub(super) index: u32,
    /// `node `client` eth0`, `switch `lan` port b0p1`.
    pub(super) label: String,
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
            now: Mutex::new(plan.clone()),
            switches,
            switch_ns,
            wires,
            settings,
            relay: built.relay.clone(),
            impair: built.impair,
        })
    }

    /// The plan as the network stands now (see [`Wiring::now`]).
    pub(crate) fn plan_now(&self) -> Plan {
        self.now.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reads or changes the plan as the network stands now with `f`.
    pub(crate) fn with_plan<T>(&self, f: impl FnOnce(&mut Plan) -> T) -> T {
        f(&mut self.now.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The name of the node or switch at `place`.
    pub(super) fn name_of(&self, place: &Place) -> &str {
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
    pub(super) fn socket(&self, end: &End) -> Result<Socket> {
        Socket::open_in(self.namespace(&end.place), self.space_of(end))
    }

    /// The wires with `node` at one end, in plan order.
    pub(super) fn wires_of(&self, node: usize) -> impl Iterator<Item = usize> + '_ {
        (self.wires.iter().enumerate())
            .filter(move |(_, w)| w.ends.iter().any(|e| e.place == Place::Node(node)))
            .map(|(i, _)| i)
    }

    /// Sends `message(index)` to each end of each of `wires`; `what` says what it does.
    pub(super) fn set_ends(
        &self,
        wires: &[usize],
        message: fn(u32) -> LinkMessage,
        what: &str,
    ) -> Result<()> {
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
    pub(super) fn up(&self, wires: &[usize]) -> Result<()> {
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
    pub(super) fn restore(&self, end: &End, ipv6: bool) -> Result<()> {
        let Place::Node(n) = end.place else {
            return Ok(());
        };
        let node = self.with_plan(|plan| plan.nodes[n].clone());
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
    pub(super) fn reshape(
        &self,
        wire: usize,
        change: impl FnOnce(&mut LinkSettings),
    ) -> Result<()> {
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

pub(super) fn down_message(index: u32) -> LinkMessage {
    LinkUnspec::new_with_index(index).down().build()
}
