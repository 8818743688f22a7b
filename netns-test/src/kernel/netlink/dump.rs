//! Reading a namespace back: dumps of its links, addresses, routes and neighbours, and the
//! plain structs they become (what `ip link`, `ip addr`, `ip route` and `ip neigh` show).

use std::io;
use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    BridgePortState, InfoBridgePort, InfoPortData, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
    State,
};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::Socket;

impl Socket {
    /// Every link of the namespace.
    pub(crate) fn links(&mut self) -> io::Result<Vec<Link>> {
        let request = RouteNetlinkMessage::GetLink(LinkMessage::default());
        Ok(self
            .dump(request)?
            .into_iter()
            .filter_map(|message| match message {
                RouteNetlinkMessage::NewLink(link) => Some(Link::from_message(&link)),
                _ => None,
            })
            .collect())
    }

    /// Every address of the namespace, IPv4 and IPv6.
    pub(crate) fn addresses(&mut self) -> io::Result<Vec<Address>> {
        let request = RouteNetlinkMessage::GetAddress(AddressMessage::default());
        Ok(self
            .dump(request)?
            .into_iter()
            .filter_map(|message| match message {
                RouteNetlinkMessage::NewAddress(address) => Address::from_message(&address),
                _ => None,
            })
            .collect())
    }

    /// Every IPv4 route of the namespace, of every table.
    pub(crate) fn ipv4_routes(&mut self) -> io::Result<Vec<Route>> {
        self.routes(AddressFamily::Inet)
    }

    /// Every IPv6 route of the namespace, of every table.
    pub(crate) fn ipv6_routes(&mut self) -> io::Result<Vec<Route>> {
        self.routes(AddressFamily::Inet6)
    }

    fn routes(&mut self, family: AddressFamily) -> io::Result<Vec<Route>> {
        let mut request = RouteMessage::default();
        request.header.address_family = family;
        Ok(self
            .dump(RouteNetlinkMessage::GetRoute(request))?
            .into_iter()
            .filter_map(|message| match message {
                RouteNetlinkMessage::NewRoute(route) => Some(Route::from_message(&route)),
                _ => None,
            })
            .collect())
    }

    /// Every neighbour (ARP and NDP) entry of the namespace, as `ip neigh` lists them.
    pub(crate) fn neighbours(&mut self) -> io::Result<Vec<Neighbour>> {
        let request = RouteNetlinkMessage::GetNeighbour(NeighbourMessage::default());
        Ok(self
            .dump(request)?
            .into_iter()
            .filter_map(|message| match message {
                RouteNetlinkMessage::NewNeighbour(neighbour) => Neighbour::from_message(&neighbour),
                _ => None,
            })
            .collect())
    }
}

/// A link, as a dump reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Link {
    pub index: u32,
    pub name: String,
    /// Administratively up (`IFF_UP`).
    pub admin_up: bool,
    /// The operational state (`IFLA_OPERSTATE`): `Up` once it can carry traffic.
    pub state: State,
    pub mtu: u32,
    /// `veth`, `bridge`, ...; `None` for `lo`.
    pub kind: Option<String>,
    /// The bridge it is a port of.
    pub master: Option<u32>,
    /// For a bridge port, its spanning-tree state: frames cross the bridge only through ports
    /// that are `Forwarding`.
    pub port_state: Option<BridgePortState>,
}

impl Link {
    fn from_message(message: &LinkMessage) -> Link {
        let mut link = Link {
            index: message.header.index,
            name: String::new(),
            admin_up: message.header.flags.contains(LinkFlags::Up),
            state: State::Unknown,
            mtu: 0,
            kind: None,
            master: None,
            port_state: None,
        };
        for attribute in &message.attributes {
            match attribute {
                LinkAttribute::IfName(name) => link.name.clone_from(name),
                LinkAttribute::OperState(state) => link.state = *state,
                LinkAttribute::Mtu(mtu) => link.mtu = *mtu,
                LinkAttribute::Controller(index) => link.master = Some(*index),
                LinkAttribute::LinkInfo(infos) => {
                    for info in infos {
                        match info {
                            LinkInfo::Kind(kind) => link.kind = Some(kind.to_string()),
                            LinkInfo::PortData(InfoPortData::BridgePort(port)) => {
                                link.port_state = port.iter().find_map(|a| match a {
                                    InfoBridgePort::State(state) => Some(*state),
                                    _ => None,
                                });
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        link
    }
}

/// The name `ip` gives an operational state.
pub(crate) fn state_name(state: State) -> String {
    match state {
        State::Unknown => "UNKNOWN".into(),
        State::NotPresent => "NOTPRESENT".into(),
        State::Down => "DOWN".into(),
        State::LowerLayerDown => "LOWERLAYERDOWN".into(),
        State::Testing => "TESTING".into(),
        State::Dormant => "DORMANT".into(),
        State::Up => "UP".into(),
        State::Other(n) => format!("STATE{n}"),
        _ => format!("{state:?}").to_uppercase(),
    }
}

/// An address of a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Address {
    pub index: u32,
    pub addr: IpAddr,
    pub prefix_len: u8,
}

impl Address {
    fn from_message(message: &AddressMessage) -> Option<Address> {
        // `IFA_LOCAL` is the interface's own address; `IFA_ADDRESS` differs only on
        // point-to-point links (where it is the peer's), and IPv6 has only `IFA_ADDRESS`.
        let mut local = None;
        let mut address = None;
        for attribute in &message.attributes {
            match attribute {
                AddressAttribute::Local(ip) => local = Some(*ip),
                AddressAttribute::Address(ip) => address = Some(*ip),
                _ => {}
            }
        }
        Some(Address {
            index: message.header.index,
            addr: local.or(address)?,
            prefix_len: message.header.prefix_len,
        })
    }
}

/// A route, with what `ip route` shows of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Route {
    pub table: u32,
    pub kind: RouteType,
    /// `None` for the default route.
    pub destination: Option<(IpAddr, u8)>,
    pub gateway: Option<IpAddr>,
    pub oif: Option<u32>,
    pub protocol: RouteProtocol,
    pub scope: RouteScope,
    pub prefsrc: Option<IpAddr>,
    pub metric: Option<u32>,
    /// The next hop's link has no carrier.
    pub linkdown: bool,
}

impl Route {
    pub(super) fn from_message(message: &RouteMessage) -> Route {
        let header = &message.header;
        let mut route = Route {
            table: u32::from(header.table),
            kind: header.kind,
            destination: None,
            gateway: None,
            oif: None,
            protocol: header.protocol,
            scope: header.scope,
            prefsrc: None,
            metric: None,
            linkdown: header.flags.contains(RouteFlags::Linkdown),
        };
        for attribute in &message.attributes {
            match attribute {
                RouteAttribute::Table(table) => route.table = *table,
                RouteAttribute::Destination(addr) => {
                    route.destination =
                        ip_of(addr).map(|ip| (ip, header.destination_prefix_length));
                }
                RouteAttribute::Gateway(addr) => route.gateway = ip_of(addr),
                RouteAttribute::PrefSource(addr) => route.prefsrc = ip_of(addr),
                RouteAttribute::Oif(index) => route.oif = Some(*index),
                RouteAttribute::Priority(metric) => route.metric = Some(*metric),
                _ => {}
            }
        }
        if route.destination.is_none() && header.destination_prefix_length != 0 {
            // Cannot happen for IPv4; keep the length rather than claim "default".
            let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
            route.destination = Some((any, header.destination_prefix_length));
        }
        route
    }
}

/// A neighbour entry: the link-layer address of an IP address on a link, and how sure the
/// kernel is of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Neighbour {
    pub index: u32,
    pub addr: IpAddr,
    /// `None` while the address is being resolved (or failed to be).
    pub lladdr: Option<Vec<u8>>,
    pub state: NeighbourState,
}

impl Neighbour {
    fn from_message(message: &NeighbourMessage) -> Option<Neighbour> {
        let mut addr = None;
        let mut lladdr = None;
        for attribute in &message.attributes {
            match attribute {
                NeighbourAttribute::Destination(NeighbourAddress::Inet(ip)) => {
                    addr = Some(IpAddr::V4(*ip));
                }
                NeighbourAttribute::Destination(NeighbourAddress::Inet6(ip)) => {
                    addr = Some(IpAddr::V6(*ip));
                }
                NeighbourAttribute::LinkLayerAddress(bytes) => lladdr = Some(bytes.clone()),
                _ => {}
            }
        }
        Some(Neighbour {
            index: message.header.ifindex,
            addr: addr?,
            lladdr,
            state: message.header.state,
        })
    }
}

fn ip_of(addr: &RouteAddress) -> Option<IpAddr> {
    match addr {
        RouteAddress::Inet(ip) => Some(IpAddr::V4(*ip)),
        RouteAddress::Inet6(ip) => Some(IpAddr::V6(*ip)),
        _ => None,
    }
}
