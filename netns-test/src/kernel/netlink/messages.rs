//! The requests this crate sends, built with rtnetlink's message builders: veth pairs placed
//! in their namespaces, bridges, links set up or enslaved, addresses and routes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, BorrowedFd};

use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage,
};
use netlink_packet_route::link::{InfoData, InfoVeth, LinkMessage};
use netlink_packet_route::route::{RouteMessage, RouteProtocol};
use rtnetlink::{
    AddressMessageBuilder, LinkBridge, LinkMessageBuilder, LinkUnspec, LinkVeth,
    RouteMessageBuilder,
};

/// A veth pair created in one request: `name` (index `index`) in the namespace `ns`, up, and
/// enslaved to the bridge with index `controller` (in `ns`) if given; its peer `peer` (index
/// `peer_index`) in `peer_ns`, *down*.
///
/// The kernel places each end directly in its namespace (`IFLA_NET_NS_FD`), whatever the
/// namespace of the socket that sends it. The peer cannot be set up in the same request: the
/// kernel configures it before the pair is joined, and `veth_open` then fails with `ENOTCONN`.
/// So the peer is set up afterwards, from a socket in its own namespace ([`up_message`]).
///
/// The indexes are chosen by the caller so that nothing has to be looked up afterwards. Older
/// kernels look a requested index up in the *sender's* namespace before creating the link (and
/// treat a match as the link to change), so it must be free there too.
pub(crate) struct VethSpec<'a> {
    pub name: &'a str,
    pub index: u32,
    pub ns: BorrowedFd<'a>,
    pub controller: Option<u32>,
    pub peer: &'a str,
    pub peer_index: u32,
    pub peer_ns: BorrowedFd<'a>,
    /// The MTU of the main end; the kernel's default (1500) if `None`.
    pub mtu: Option<u32>,
    /// The MTU of the peer.
    pub peer_mtu: Option<u32>,
}

impl VethSpec<'_> {
    pub(crate) fn message(&self) -> LinkMessage {
        let mut peer = LinkUnspec::new_with_name(self.peer)
            .index(self.peer_index)
            .setns_by_fd(self.peer_ns.as_raw_fd());
        if let Some(mtu) = self.peer_mtu {
            peer = peer.mtu(mtu);
        }
        let peer = peer.build();
        let mut builder = LinkMessageBuilder::<LinkVeth>::new(self.name, self.peer)
            .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
            .index(self.index)
            .setns_by_fd(self.ns.as_raw_fd())
            .up();
        if let Some(controller) = self.controller {
            builder = builder.controller(controller);
        }
        if let Some(mtu) = self.mtu {
            builder = builder.mtu(mtu);
        }
        builder.build()
    }
}

/// A bridge called `name`, with index `index`, created up in the namespace `ns`.
pub(crate) fn bridge_message(name: &str, index: u32, ns: BorrowedFd<'_>) -> LinkMessage {
    LinkBridge::new(name)
        .index(index)
        .setns_by_fd(ns.as_raw_fd())
        .up()
        .build()
}

/// Sets the link `index` up.
pub(crate) fn up_message(index: u32) -> LinkMessage {
    LinkUnspec::new_with_index(index).up().build()
}

/// Enslaves the link `index` to the bridge `controller` and sets it up.
pub(crate) fn port_message(index: u32, controller: u32) -> LinkMessage {
    LinkUnspec::new_with_index(index)
        .controller(controller)
        .up()
        .build()
}

/// Adds `addr/prefix_len` to the link `index`.
///
/// IPv6 addresses are added with `IFA_F_NODAD`: duplicate address detection would keep them
/// unusable ("tentative") for a second or two, and the test network has no duplicates.
pub(crate) fn address_message(index: u32, addr: IpAddr, prefix_len: u8) -> AddressMessage {
    match addr {
        IpAddr::V4(addr) => AddressMessageBuilder::<Ipv4Addr>::new()
            .index(index)
            .address(addr, prefix_len)
            .build(),
        IpAddr::V6(addr) => {
            let mut message = AddressMessageBuilder::<Ipv6Addr>::new()
                .index(index)
                .address(addr, prefix_len)
                .build();
            message.header.flags |= AddressHeaderFlags::Nodad;
            message
                .attributes
                .push(AddressAttribute::Flags(AddressFlags::Nodad));
            message
        }
    }
}

/// An IPv4 route to `destination` (the default route if `None`) via `gateway`, in the main
/// table, with protocol `boot` as `ip route add` gives it (so `ip route` shows it plainly).
pub(crate) fn ipv4_route_message(
    destination: Option<(Ipv4Addr, u8)>,
    gateway: Ipv4Addr,
) -> RouteMessage {
    let mut builder = RouteMessageBuilder::<Ipv4Addr>::new()
        .protocol(RouteProtocol::Boot)
        .gateway(gateway);
    if let Some((addr, prefix_len)) = destination {
        builder = builder.destination_prefix(addr, prefix_len);
    }
    builder.build()
}

/// The IPv6 twin of [`ipv4_route_message`]. The gateway is a global address of the next hop,
/// which is usable at once since addresses are added without duplicate address detection.
pub(crate) fn ipv6_route_message(
    destination: Option<(Ipv6Addr, u8)>,
    gateway: Ipv6Addr,
) -> RouteMessage {
    let mut builder = RouteMessageBuilder::<Ipv6Addr>::new()
        .protocol(RouteProtocol::Boot)
        .gateway(gateway);
    if let Some((addr, prefix_len)) = destination {
        builder = builder.destination_prefix(addr, prefix_len);
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use netlink_packet_core::{
        NLM_F_ACK, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    };
    use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkFlags, LinkInfo};
    use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

    use super::super::dump::Route;
    use super::super::socket::serialize;
    use super::*;

    /// Serialises `message` and parses it back, as the kernel would read it.
    fn round_trip(message: RouteNetlinkMessage) -> (NetlinkHeader, RouteNetlinkMessage) {
        let mut bytes = Vec::new();
        serialize(&mut bytes, message, NLM_F_REQUEST | NLM_F_ACK, 42);
        assert_eq!(bytes.len() % 4, 0);
        let parsed = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&bytes).expect("parse");
        match parsed.payload {
            NetlinkPayload::InnerMessage(inner) => (parsed.header, inner),
            other => panic!("unexpected payload {other:?}"),
        }
    }

    #[test]
    fn a_veth_places_both_ends_with_their_indexes() {
        let a = std::fs::File::open("/dev/null").expect("open");
        let b = std::fs::File::open("/dev/null").expect("open");
        let spec = VethSpec {
            name: "b0p0",
            index: 7,
            ns: a.as_fd(),
            controller: Some(3),
            peer: "eth0",
            peer_index: 8,
            peer_ns: b.as_fd(),
            mtu: Some(1280),
            peer_mtu: Some(1280),
        };
        let (header, message) = round_trip(RouteNetlinkMessage::NewLink(spec.message()));
        assert_eq!(header.sequence_number, 42);
        let RouteNetlinkMessage::NewLink(link) = message else {
            panic!("not a link message");
        };
        assert_eq!(link.header.index, 7);
        assert!(link.header.flags.contains(LinkFlags::Up));
        assert!(link.header.change_mask.contains(LinkFlags::Up));
        let attrs = &link.attributes;
        assert!(attrs.contains(&LinkAttribute::IfName("b0p0".into())));
        assert!(attrs.contains(&LinkAttribute::NetNsFd(a.as_raw_fd())));
        assert!(attrs.contains(&LinkAttribute::Controller(3)));
        assert!(attrs.contains(&LinkAttribute::Mtu(1280)));
        let infos = attrs
            .iter()
            .find_map(|a| match a {
                LinkAttribute::LinkInfo(infos) => Some(infos),
                _ => None,
            })
            .expect("IFLA_LINKINFO");
        assert!(infos.contains(&LinkInfo::Kind(InfoKind::Veth)));
        let peer = infos
            .iter()
            .find_map(|i| match i {
                LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))) => Some(peer),
                _ => None,
            })
            .expect("the peer");
        assert_eq!(peer.header.index, 8);
        // Setting the peer up in the same request fails (ENOTCONN): it is set up afterwards.
        assert!(!peer.header.change_mask.contains(LinkFlags::Up));
        assert!(
            peer.attributes
                .contains(&LinkAttribute::IfName("eth0".into()))
        );
        assert!(
            peer.attributes
                .contains(&LinkAttribute::NetNsFd(b.as_raw_fd()))
        );
        assert!(peer.attributes.contains(&LinkAttribute::Mtu(1280)));
    }

    #[test]
    fn ipv6_addresses_skip_duplicate_address_detection() {
        let v6 = address_message(4, "fd00::1".parse().unwrap(), 64);
        assert!(
            v6.attributes
                .contains(&AddressAttribute::Flags(AddressFlags::Nodad))
        );
        let v4 = address_message(4, "10.0.1.1".parse().unwrap(), 24);
        assert_eq!(v4.header.index, 4);
        assert_eq!(v4.header.prefix_len, 24);
        assert!(
            v4.attributes
                .contains(&AddressAttribute::Local("10.0.1.1".parse().unwrap()))
        );
    }

    #[test]
    fn routes_are_static_boot_routes_of_the_main_table() {
        let gateway: Ipv4Addr = "10.0.1.254".parse().unwrap();
        let default = ipv4_route_message(None, gateway);
        assert_eq!(default.header.destination_prefix_length, 0);
        assert_eq!(default.header.table, 254);
        assert_eq!(default.header.protocol, RouteProtocol::Boot);
        let parsed = Route::from_message(&default);
        assert_eq!(parsed.destination, None);
        assert_eq!(parsed.gateway, Some(IpAddr::V4(gateway)));
        let net = ipv4_route_message(Some(("10.0.2.0".parse().unwrap(), 24)), gateway);
        let parsed = Route::from_message(&net);
        assert_eq!(parsed.destination, Some(("10.0.2.0".parse().unwrap(), 24)));
    }

    #[test]
    fn ipv6_routes_are_built_the_same_way() {
        let gateway: Ipv6Addr = "fd00:0:0:1::254".parse().unwrap();
        let default = Route::from_message(&ipv6_route_message(None, gateway));
        assert_eq!(default.destination, None);
        assert_eq!(default.gateway, Some(IpAddr::V6(gateway)));
        assert_eq!(default.protocol, RouteProtocol::Boot);
        let net = ipv6_route_message(Some(("fd00:0:0:2::".parse().unwrap(), 64)), gateway);
        assert_eq!(net.header.address_family, AddressFamily::Inet6);
        let parsed = Route::from_message(&net);
        assert_eq!(
            parsed.destination,
            Some(("fd00:0:0:2::".parse().unwrap(), 64))
        );
    }
}
