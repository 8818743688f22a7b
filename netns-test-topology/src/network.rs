//! The checked network behind a [`Topology`](crate::Topology): its links, what each links, the
//! segments and the addresses the text wrote. What the resolver produces and the planner reads.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::settings::LinkSettings;
use crate::syntax::End;
use crate::{Ipv4Cidr, Ipv6Cidr};

/// The name of the test's own namespace: the node the body starts in, which a topology may also
/// link (`host -- a`).
pub const HOST: &str = "host";

/// What a node is linked to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Peer {
    Node(usize),
    Switch(usize),
}

/// The addresses written in the text for one end of a link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Addrs {
    pub(crate) v4: Option<Ipv4Addr>,
    pub(crate) v6: Option<Ipv6Addr>,
}

impl Addrs {
    pub(crate) fn of(end: &End<'_>) -> Addrs {
        Addrs {
            v4: end.v4.as_ref().map(|a| a.value),
            v6: end.v6.as_ref().map(|a| a.value),
        }
    }
}

impl fmt::Display for Addrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(v4) = self.v4 {
            write!(f, "@{v4}")?;
        }
        if let Some(v6) = self.v6 {
            write!(f, "@{v6}")?;
        }
        Ok(())
    }
}

/// One link. A link always has a node on at least one side: that is `node` (the left one when
/// both are nodes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Link {
    pub(crate) node: usize,
    pub(crate) peer: Peer,
    pub(crate) segment: usize,
    /// The explicit addresses of the node's end, then of the peer's end.
    pub(crate) addrs: [Addrs; 2],
    /// `mtu=`, `rate=`, `delay=`, `loss=` of the link's chain.
    pub(crate) settings: LinkSettings,
}

/// One segment: a node-to-node link, or a switch with all of its links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) subnet: Ipv4Cidr,
    /// Whether the text gave the subnet (otherwise it was derived or allocated).
    pub(crate) explicit: bool,
    /// The IPv6 subnet; `None` with `[ipv6=off]`.
    pub(crate) subnet6: Option<Ipv6Cidr>,
    /// Whether the text gave the IPv6 subnet.
    pub(crate) explicit6: bool,
}
