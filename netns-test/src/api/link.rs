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
//! (see the kernel's `apply/ready.rs`). Taking an interface down makes the kernel delete the
//! routes through it and its global IPv6 addresses; bringing it up restores only the connected
//! IPv4 route, so `up` adds the planned IPv6 address and routes of both families through the
//! link again.
//!
//! The settings a link has (`mtu=`, `rate=`, `delay=`, `loss=` from the topology, and what was
//! changed since) are kept with the network (the wiring, `wiring.rs`), so that [`Link::set_rate`] on a link with a
//! `delay=` keeps the delay: each end's root qdisc is rebuilt from all of them (see
//! `qdisc.rs`). On a link the relay carries (a kernel without netem, see the kernel's
//! `relay/`), the delay and loss go to the relay instead, from its next frame on, and the rate
//! stays the ends' `tbf`.

use rtnetlink::LinkUnspec;

use super::wiring::{Wiring, down_message};
use crate::topology::{self, Directed, LinkSettings, MAX_MTU, MIN_IPV6_MTU, MIN_MTU, Place};
use crate::{Error, Net, Node, Result};

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
        let ipv6_only = self.wiring.with_plan(|plan| {
            wire.ends.iter().any(|end| match end.place {
                Place::Node(n) => (plan.nodes[n].interface(&end.ifname))
                    .is_some_and(|interface| interface.ipv4.is_none()),
                Place::Bridge(_) => false,
            })
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
