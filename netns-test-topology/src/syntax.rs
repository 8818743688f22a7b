//! What parsing yields and resolving reads: statements, the names and addresses in them, and
//! their attributes, each with the byte range it was written at.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use std::time::Duration;

use crate::nat::{Filtering, Mapping, Preset, Protocol};
use crate::settings::LinkSettings;
use crate::{Ipv4Cidr, Ipv6Cidr};

/// A value with the byte range it was written at.
#[derive(Clone, Debug)]
pub(super) struct Spanned<T> {
    pub(super) value: T,
    pub(super) span: Range<usize>,
}

/// One statement that parsed without error.
#[derive(Debug)]
pub(super) enum Statement<'t> {
    /// `switch a b`
    Switches(Vec<Spanned<&'t str>>),
    /// `router a b` or `host a b`: the role of nodes, whatever their number of links.
    Roles {
        role: Spanned<Role>,
        names: Vec<Spanned<&'t str>>,
    },
    /// `[ipv6=off]` or `[ipv4=off]` on a line of its own: options of the whole topology.
    Options(Attributes),
    /// `nat home [outside=isp, type=port-restricted]`
    Nat {
        name: Spanned<&'t str>,
        /// The whole statement, for errors about it as a whole.
        span: Range<usize>,
        attributes: NatAttributes,
    },
    /// `a -- {b c} -- d [subnet=...]`
    Chain {
        items: Vec<Item<'t>>,
        attributes: Option<Attributes>,
    },
}

/// What a `router` or `host` declaration makes of its nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Role {
    /// Forwards, takes the top addresses, routes to every subnet; even with one link.
    Router,
    /// Does not forward, takes the low addresses, has a default route; even with two links.
    Host,
}

impl Role {
    pub(super) fn keyword(self) -> &'static str {
        match self {
            Role::Router => "router",
            Role::Host => "host",
        }
    }
}

/// One name in a chain, with the addresses written for its end of the link: `a@10.0.1.7`.
#[derive(Clone, Debug)]
pub(super) struct End<'t> {
    pub(super) name: Spanned<&'t str>,
    pub(super) v4: Option<Spanned<Ipv4Addr>>,
    pub(super) v6: Option<Spanned<Ipv6Addr>>,
    /// The whole `a@...`.
    pub(super) span: Range<usize>,
}

impl End<'_> {
    pub(super) fn has_address(&self) -> bool {
        self.v4.is_some() || self.v6.is_some()
    }
}

/// One side of a `--`: a name or a `{}` group of names.
#[derive(Debug)]
pub(super) enum Item<'t> {
    Name(End<'t>),
    Group(Vec<End<'t>>),
}

impl<'t> Item<'t> {
    pub(super) fn names(&self) -> &[End<'t>] {
        match self {
            Item::Name(name) => std::slice::from_ref(name),
            Item::Group(names) => names,
        }
    }
}

/// The attributes of one chain, each with where its value was written.
#[derive(Debug, Default)]
pub(super) struct Attributes {
    /// The whole `[...]`.
    pub(super) span: Range<usize>,
    /// `subnet=`: the IPv4 network of the chain's segment.
    pub(super) subnet: Option<Spanned<Ipv4Cidr>>,
    /// `subnet6=`: the IPv6 network of the chain's segment.
    pub(super) subnet6: Option<Spanned<Ipv6Cidr>>,
    /// `ipv6=on|off`: whether the network has IPv6 (a whole-topology option).
    pub(super) ipv6: Option<Spanned<bool>>,
    /// `ipv4=on|off`: whether the network has IPv4 (a whole-topology option).
    pub(super) ipv4: Option<Spanned<bool>>,
    /// `mtu=`, `rate=`, `delay=`, `loss=`: the settings of every link of the chain.
    pub(super) link: LinkSettings,
    /// Where the value of `mtu=` is written, if it is.
    pub(super) mtu_span: Option<Range<usize>>,
}

/// The attributes of a `nat` statement, each with where its value was written.
#[derive(Clone, Debug, Default)]
pub(super) struct NatAttributes {
    /// The whole `[...]`.
    pub(super) span: Range<usize>,
    /// `outside=`: the neighbour the outside link goes to.
    pub(super) outside: Option<Spanned<String>>,
    /// `type=`: a preset.
    pub(super) preset: Option<Spanned<Preset>>,
    pub(super) mapping: Option<Spanned<Mapping>>,
    pub(super) filtering: Option<Spanned<Filtering>>,
    pub(super) hairpin: Option<Spanned<bool>>,
    pub(super) firewall6: Option<Spanned<bool>>,
    /// `timeout=`, in whole seconds.
    pub(super) timeout: Option<Spanned<Duration>>,
    /// `tcp-timeout=`, in whole seconds.
    pub(super) tcp_timeout: Option<Spanned<Duration>>,
    /// Every `forward=`, in order.
    pub(super) forwards: Vec<Spanned<Forward>>,
    /// Every `pinhole=`, in order.
    pub(super) pinholes: Vec<Spanned<Pinhole>>,
}

/// `pinhole=tcp:server:80`, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Pinhole {
    pub(super) protocol: Protocol,
    pub(super) node: String,
    pub(super) port: u16,
}

/// `forward=tcp:8080:server:80`, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Forward {
    pub(super) protocol: Protocol,
    pub(super) outside_port: u16,
    pub(super) node: String,
    pub(super) port: u16,
}
