//! [`Nat`]: a NAT router of the network at run time, as `nat NAME [...]` declared it.
//!
//! The rules themselves are the kernel's (`kernel/netfilter`), installed while the network is
//! built; this is the handle a body uses to reboot a NAT (forget every mapping), rebind its
//! ports, change how long its mappings and idle TCP connections live, and read them; moving it to
//! a new address is `readdress.rs`.

use std::net::Ipv4Addr;
use std::time::Duration;

use super::net::{Net, Node};
use crate::Result;
use crate::kernel::netfilter;
use crate::topology::{NatMapping, NatPlan};

/// A NAT router: `net.nat("home")`.
#[derive(Clone, Copy, Debug)]
pub struct Nat<'n> {
    net: &'n Net,
    /// Its number in the plan's NATs.
    index: usize,
}

impl<'n> Nat<'n> {
    pub(crate) fn net(&self) -> &'n Net {
        self.net
    }

    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// The router's node.
    pub fn node(&self) -> &'n Node {
        &self.net.nodes()[self.plan().node]
    }

    /// What the topology declared: behaviour, outside interface and address, port forwards.
    pub fn plan(&self) -> &'n NatPlan {
        &self.net.topology().plan().nats[self.index]
    }

    /// The NAT as it is now: the topology's, with the outside address and the timeouts it was
    /// given since ([`Nat::rebind_address`], [`Nat::set_timeout`], [`Nat::set_tcp_timeout`]).
    fn now(&self) -> NatPlan {
        (self.net.wiring()).with_plan(|plan| plan.nats[self.index].clone())
    }

    /// The outside address, which every flow from inside leaves with: what a server on the
    /// outside sees as the source of the NAT's inside nodes (the one
    /// [`Nat::rebind_address`] moved it to, if it did).
    pub fn outside_ip(&self) -> Ipv4Addr {
        self.now().outside_ipv4
    }

    /// Forgets every mapping at once, as a router that reboots does (or a NAT that rebinds):
    /// conntrack's table is flushed and so are the NAT's own maps, so the next packet of every
    /// flow from inside gets a mapping anew (for a symmetric NAT, a new port), and nothing from
    /// outside gets in through a mapping that was open.
    ///
    /// # Errors
    ///
    /// If the kernel refuses, with what it refused.
    pub fn flush(&self) -> Result<()> {
        let name = self.node().name().to_owned();
        self.node().run(move || netfilter::flush(&name))
    }

    /// Rebinds the NAT: forgets every mapping, as [`Nat::flush`] does, and gives each inside
    /// endpoint that had one a new outside port, which its next packet leaves through (the
    /// next port after its old one that no other mapping or forward has). A server then sees
    /// the same peer arrive from a new port, as after a NAT rebinding (RFC 9000 section 9.3),
    /// and nothing sent to the old port gets in. Where [`Nat::flush`] is a reboot, after which
    /// a port-preserving NAT gives the same ports again, this is the change of binding QUIC
    /// and other peer-to-peer stacks must survive. A NAT with address-and-port-dependent
    /// mapping (`symmetric`) keeps no mappings between flows: its next flows take random
    /// ports, as every new flow there does. TCP connections through the NAT end, as after a
    /// flush.
    ///
    /// # Errors
    ///
    /// If the kernel refuses, with what it refused.
    pub fn rebind(&self) -> Result<()> {
        let plan = self.now();
        let name = self.node().name().to_owned();
        self.node().run(move || netfilter::rebind(&plan, &name))
    }

    /// Sets the UDP mapping timeout (the `timeout=` of the topology), in whole seconds: how
    /// long a mapping lives without packets. Mappings made or refreshed from now on get it;
    /// one idle since before keeps the time it had left (conntrack reads its timeout when a
    /// packet refreshes a flow).
    ///
    /// # Errors
    ///
    /// If `timeout` is not a whole number of seconds from 1 s to a day, or the kernel refuses.
    pub fn set_timeout(&self, timeout: Duration) -> Result<()> {
        crate::topology::check_timeout(timeout)
            .map_err(|problem| crate::Error::InvalidNatSetting { problem })?;
        let plan = self.now();
        let name = self.node().name().to_owned();
        self.node()
            .run(move || netfilter::set_timeout(&plan, &name, timeout))?;
        // What a rebinding gives its new mappings from now on.
        (self.net.wiring()).with_plan(|plan| plan.nats[self.index].timeout = timeout);
        Ok(())
    }

    /// Sets how long an established TCP connection through the NAT lives without packets (the
    /// `tcp-timeout=` of the topology), in whole seconds. A connection idle longer is forgotten:
    /// its next packets, from either side, are dropped, as by a NAT that lost the mapping, so
    /// a test sees what its keepalives (or their absence) do. Connections take the new timeout
    /// at their next packet.
    ///
    /// # Errors
    ///
    /// If `timeout` is not a whole number of seconds from 1 s to a day, or the kernel refuses.
    pub fn set_tcp_timeout(&self, timeout: Duration) -> Result<()> {
        crate::topology::check_timeout(timeout)
            .map_err(|problem| crate::Error::InvalidNatSetting { problem })?;
        let name = self.node().name().to_owned();
        self.node()
            .run(move || netfilter::set_tcp_timeout(&name, timeout))?;
        (self.net.wiring()).with_plan(|plan| plan.nats[self.index].tcp_timeout = timeout);
        Ok(())
    }

    /// The flows the NAT translates now, from conntrack: each inside endpoint, the outside
    /// address and port it goes out as, and the endpoint outside. TCP and UDP only, in the
    /// kernel's order. A flow expires from this list when conntrack forgets it.
    ///
    /// # Errors
    ///
    /// If conntrack cannot be read.
    pub fn mappings(&self) -> Result<Vec<NatMapping>> {
        let name = self.node().name().to_owned();
        self.node().run(move || netfilter::mappings(&name))
    }
}

impl Net {
    /// The NAT router called `name`.
    ///
    /// # Panics
    ///
    /// If `name` is not a node declared `nat`; the message names the NATs the topology has.
    #[track_caller]
    pub fn nat(&self, name: &str) -> Nat<'_> {
        let plan = self.topology().plan();
        let found = (plan.nats.iter()).position(|nat| plan.nodes[nat.node].name == name);
        match found {
            Some(index) => Nat { net: self, index },
            None => {
                let nats: Vec<String> = (plan.nats.iter())
                    .map(|nat| format!("`{}`", plan.nodes[nat.node].name))
                    .collect();
                let known = if nats.is_empty() {
                    "the topology has no NAT (declare one with `nat NAME [outside=...]`)".to_owned()
                } else {
                    format!("its NATs are {}", nats.join(", "))
                };
                let what = if plan.node(name).is_some() {
                    format!("`{name}` is not a NAT")
                } else {
                    format!("the topology has no node `{name}`")
                };
                panic!("{what}: {known}")
            }
        }
    }

    /// Every NAT router, in order of declaration.
    pub fn nats(&self) -> impl Iterator<Item = Nat<'_>> {
        (0..self.topology().plan().nats.len()).map(|index| Nat { net: self, index })
    }
}
