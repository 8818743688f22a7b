//! A small blocking rtnetlink client: batched requests with their acks, and dumps.
//!
//! # Why blocking, and why batches
//!
//! rtnetlink's own client is async and needs a tokio runtime; the core of this crate has none.
//! Its message *builders* are plain data, though, so they are used here and the messages are
//! sent over a blocking [`netlink_sys::Socket`], framed with netlink-packet-core.
//!
//! The kernel handles rtnetlink requests synchronously, inside the `send` that carries them: when
//! `send` returns, every request in it has been carried out and its ack is queued on the socket.
//! So the cheap way to do many things is to queue them ([`Socket::push`] and its wrappers), send
//! them together, then read all the acks ([`Socket::flush`]). Each request carries
//! `NLM_F_ACK` and its own sequence number; an error ack is tied back to the request that caused
//! it by that number, so the error names the node and interface concerned. The kernel goes on
//! with the requests after a failed one, so the first failure (in sequence order) is the one
//! reported: later ones are usually its consequences.
//!
//! Acks wait in the socket's receive buffer until read; if it overflowed, the kernel would drop
//! acks (and `recv` would fail with `ENOBUFS`). So batches are sent in chunks of at most
//! [`CHUNK_MESSAGES`] requests, each chunk's acks read before the next is sent.
//!
//! # Namespaces
//!
//! A netlink socket works in the network namespace of the thread that opened it, for good:
//! [`Socket::open_in`] opens one with the thread briefly inside a node. Creating links is the
//! exception: a veth or bridge can be created from a socket in *any* namespace and placed by
//! `IFLA_NET_NS_FD` (both ends of a veth, each in its own namespace), which is much cheaper than
//! moving a link afterwards.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, BorrowedFd};

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_CREATE, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_EXCL,
    NLM_F_REPLACE, NLM_F_REQUEST, NLMSG_ERROR, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NlasIterator,
};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage,
};
use netlink_packet_route::link::{
    BridgePortState, InfoBridgePort, InfoData, InfoPortData, InfoVeth, LinkAttribute, LinkFlags,
    LinkInfo, LinkMessage, State,
};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::SocketAddr;
use netlink_sys::protocols::NETLINK_ROUTE;
use nix::libc;
use rtnetlink::{
    AddressMessageBuilder, LinkBridge, LinkMessageBuilder, LinkUnspec, LinkVeth,
    RouteMessageBuilder,
};

use crate::{Error, Result, netns};

/// At most this many requests are sent before their acks are read (see the module docs).
const CHUNK_MESSAGES: usize = 64;

/// At most this many bytes of requests go in one `send`; the kernel refuses a datagram larger
/// than the socket's send buffer (about 200 KiB by default).
const CHUNK_BYTES: usize = 32 * 1024;

/// Room for one datagram from the kernel: it never builds dump datagrams above 32 KiB.
const RECV_BYTES: usize = 64 * 1024;

/// `NLMSGERR_ATTR_MSG`: the extended ack's human-readable message.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// `ifindex` of `lo`, the same in every network namespace.
pub(crate) const LOOPBACK_INDEX: u32 = 1;

/// A blocking rtnetlink socket, bound for good to the namespace it was opened in, with a queue
/// of requests not yet sent.
pub(crate) struct Socket {
    socket: netlink_sys::Socket,
    /// The sequence number of the next message.
    next_seq: u32,
    /// The queued requests, serialised back to back.
    out: Vec<u8>,
    /// One entry per queued request, in order.
    pending: Vec<Pending>,
    /// Receive buffer, kept to avoid allocating per datagram.
    buf: Vec<u8>,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("fd", &self.socket.as_raw_fd())
            .field("pending", &self.pending.len())
            .finish()
    }
}

/// A queued request, as needed to match its ack and to explain its failure.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pending {
    seq: u32,
    /// Where its bytes end in [`Socket::out`].
    end: usize,
    /// What it does, naming the node and interface: `creating veth ...`.
    what: String,
    /// The link kind (`veth`) or qdisc module (`sch_netem`) it needs, if any: failures to
    /// create something the kernel does not have become [`Error::KernelLacks`].
    creates: Option<&'static str>,
}

/// What the kernel said about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ack {
    seq: u32,
    /// 0 for success, else a positive errno.
    errno: i32,
    /// The extended ack message (`Error: ...` in `ip`'s output), when the kernel sent one.
    message: Option<String>,
}

impl Socket {
    /// A socket in the calling thread's namespace.
    pub(crate) fn open() -> io::Result<Socket> {
        let socket = netlink_sys::Socket::new(NETLINK_ROUTE)?;
        // Connecting to the kernel (port 0) binds the socket and lets `send` go without an
        // address.
        socket.connect(&SocketAddr::new(0, 0))?;
        // The kernel answers a request within the `send` that carries it, and produces each
        // further part of a dump within the `recv` that takes the previous one. So whenever an
        // answer is expected it is already queued: with a non-blocking socket, a missing answer
        // becomes an error instead of a test that hangs.
        socket.set_non_blocking(true)?;
        // Both are best effort: extended acks only add the kernel's message to errors, and
        // capped acks only make acks smaller. Every kernel this crate supports has them.
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        Ok(Socket {
            socket,
            next_seq: 1,
            out: Vec::new(),
            pending: Vec::new(),
            buf: Vec::with_capacity(RECV_BYTES),
        })
    }

    /// A socket in the network namespace `ns` (of node `node`, for errors), opened with the
    /// calling thread briefly inside it. The thread is back where it was on return.
    pub(crate) fn open_in(ns: BorrowedFd<'_>, node: &str) -> Result<Socket> {
        let entered = netns::Entered::new(ns).map_err(|source| Error::EnterNamespace {
            node: node.to_string(),
            source,
        })?;
        let socket = Socket::open();
        entered.leave().map_err(|source| Error::EnterNamespace {
            node: node.to_string(),
            source,
        })?;
        socket.map_err(|source| Error::Netlink {
            what: format!("opening a netlink socket in node `{node}`"),
            source,
        })
    }

    /// Queues a request; [`flush`](Self::flush) sends it. `flags` are added to
    /// `NLM_F_REQUEST | NLM_F_ACK`.
    pub(crate) fn push(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
        what: String,
        creates: Option<&'static str>,
    ) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        serialize(
            &mut self.out,
            message,
            NLM_F_REQUEST | NLM_F_ACK | flags,
            seq,
        );
        self.pending.push(Pending {
            seq,
            end: self.out.len(),
            what,
            creates,
        });
    }

    /// Queues the creation of a link of kind `kind` (`veth`, `bridge`).
    pub(crate) fn create_link(&mut self, link: LinkMessage, kind: &'static str, what: String) {
        self.push(
            RouteNetlinkMessage::NewLink(link),
            NLM_F_CREATE | NLM_F_EXCL,
            what,
            Some(kind),
        );
    }

    /// Queues a request about a qdisc (`RTM_NEWQDISC` with `NLM_F_CREATE | NLM_F_REPLACE`, or
    /// `RTM_DELQDISC`); `feature` names the kernel module a new one needs (`sch_netem`).
    pub(crate) fn qdisc(
        &mut self,
        message: RouteNetlinkMessage,
        feature: Option<&'static str>,
        what: String,
    ) {
        let flags = match message {
            RouteNetlinkMessage::NewQueueDiscipline(_) => NLM_F_CREATE | NLM_F_REPLACE,
            _ => 0,
        };
        self.push(message, flags, what, feature);
    }

    /// Queues a change to an existing link.
    pub(crate) fn set_link(&mut self, link: LinkMessage, what: String) {
        self.push(RouteNetlinkMessage::SetLink(link), 0, what, None);
    }

    /// Queues adding an address.
    pub(crate) fn add_address(&mut self, address: AddressMessage, what: String) {
        self.push(
            RouteNetlinkMessage::NewAddress(address),
            NLM_F_CREATE | NLM_F_EXCL,
            what,
            None,
        );
    }

    /// Queues adding a route.
    pub(crate) fn add_route(&mut self, route: RouteMessage, what: String) {
        self.push(
            RouteNetlinkMessage::NewRoute(route),
            NLM_F_CREATE | NLM_F_EXCL,
            what,
            None,
        );
    }

    /// Sends every queued request and reads their acks. Returns the first failure, in the order
    /// the requests were queued; requests of later chunks are then not sent. The queue is empty
    /// afterwards either way.
    pub(crate) fn flush(&mut self) -> Result<()> {
        let out = std::mem::take(&mut self.out);
        let pending = std::mem::take(&mut self.pending);
        let result = self.send_all(&out, &pending);
        // Keep the allocations for the next batch.
        self.out = out;
        self.out.clear();
        self.pending = pending;
        self.pending.clear();
        result
    }

    fn send_all(&mut self, out: &[u8], pending: &[Pending]) -> Result<()> {
        let mut first = 0;
        let mut start = 0;
        while first < pending.len() {
            let last = chunk_end(pending, first, start);
            let chunk = &pending[first..last];
            let end = chunk[chunk.len() - 1].end;
            self.socket
                .send(&out[start..end], 0)
                .map_err(|source| Error::Netlink {
                    what: format!("sending the request for {}", chunk[0].what),
                    source,
                })?;
            let acks = self.read_acks(chunk)?;
            if let Some(error) = first_failure(chunk, &acks) {
                return Err(error);
            }
            first = last;
            start = end;
        }
        Ok(())
    }

    /// Reads until every request of `chunk` has its ack; returns the acks in any order.
    fn read_acks(&mut self, chunk: &[Pending]) -> Result<Vec<Ack>> {
        let first_seq = chunk[0].seq;
        let mut seen = vec![false; chunk.len()];
        let mut acks = Vec::with_capacity(chunk.len());
        while acks.len() < chunk.len() {
            let len = self.recv().map_err(|source| Error::Netlink {
                what: format!("reading the kernel's answer to {}", chunk[0].what),
                source,
            })?;
            for message in messages(&self.buf[..len]) {
                let Some(ack) = parse_ack(message) else {
                    continue;
                };
                let slot = ack.seq.wrapping_sub(first_seq) as usize;
                if slot < chunk.len() && !seen[slot] {
                    seen[slot] = true;
                    acks.push(ack);
                }
            }
        }
        Ok(acks)
    }

    /// Receives one datagram into `self.buf`; returns its length.
    fn recv(&mut self) -> io::Result<usize> {
        self.buf.clear();
        self.buf.reserve(RECV_BYTES);
        let len = match self.socket.recv(&mut self.buf, libc::MSG_TRUNC) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the kernel left a request unanswered",
                ));
            }
            result => result?,
        };
        if len > self.buf.len() {
            return Err(io::Error::other(format!(
                "a netlink datagram of {len} bytes did not fit in {} bytes",
                self.buf.len()
            )));
        }
        Ok(len)
    }

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

    /// Sends a dump request and collects its answer. A dump the kernel marks as interrupted
    /// (the table changed while it was read) is retried a few times.
    fn dump(&mut self, request: RouteNetlinkMessage) -> io::Result<Vec<RouteNetlinkMessage>> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let seq = self.next_seq;
            self.next_seq = self.next_seq.wrapping_add(1);
            let mut bytes = Vec::new();
            serialize(&mut bytes, request.clone(), NLM_F_REQUEST | NLM_F_DUMP, seq);
            self.socket.send(&bytes, 0)?;
            let (messages, interrupted) = self.read_dump(seq)?;
            if !interrupted || attempts == 3 {
                return Ok(messages);
            }
        }
    }

    fn read_dump(&mut self, seq: u32) -> io::Result<(Vec<RouteNetlinkMessage>, bool)> {
        let mut found = Vec::new();
        let mut interrupted = false;
        loop {
            let len = self.recv()?;
            for bytes in messages(&self.buf[..len]) {
                let message = NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                if message.header.sequence_number != seq {
                    continue;
                }
                interrupted |= message.header.flags & NLM_F_DUMP_INTR != 0;
                match message.payload {
                    NetlinkPayload::Done(_) => return Ok((found, interrupted)),
                    NetlinkPayload::Error(error) => {
                        return Err(io::Error::from_raw_os_error(error.raw_code().abs()));
                    }
                    NetlinkPayload::InnerMessage(inner) => found.push(inner),
                    _ => {}
                }
            }
        }
    }
}

/// Appends `message` to `out` with a netlink header, padded to the 4-byte alignment the kernel
/// expects between messages.
fn serialize(out: &mut Vec<u8>, message: RouteNetlinkMessage, flags: u16, seq: u32) {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut message = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
    message.finalize();
    let start = out.len();
    out.resize(start + message.buffer_len(), 0);
    message.serialize(&mut out[start..]);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// The index after the last request of the chunk that starts at request `first`, byte `start`.
fn chunk_end(pending: &[Pending], first: usize, start: usize) -> usize {
    let mut last = first + 1;
    while last < pending.len()
        && last - first < CHUNK_MESSAGES
        && pending[last].end - start <= CHUNK_BYTES
    {
        last += 1;
    }
    last
}

/// The netlink messages of one datagram, each with its header. Stops at a malformed length.
fn messages(datagram: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = datagram;
    std::iter::from_fn(move || {
        let len = u32::from_ne_bytes(rest.get(0..4)?.try_into().ok()?) as usize;
        if len < 16 || len > rest.len() {
            return None;
        }
        let message = &rest[..len];
        rest = rest.get(len.next_multiple_of(4)..).unwrap_or_default();
        Some(message)
    })
}

/// The ack in `message`, if it is an `NLMSG_ERROR` (which, with code 0, is how acks come).
fn parse_ack(message: &[u8]) -> Option<Ack> {
    let message_type = u16::from_ne_bytes(message.get(4..6)?.try_into().ok()?);
    if message_type != NLMSG_ERROR {
        return None;
    }
    let flags = u16::from_ne_bytes(message.get(6..8)?.try_into().ok()?);
    let seq = u32::from_ne_bytes(message.get(8..12)?.try_into().ok()?);
    let code = i32::from_ne_bytes(message.get(16..20)?.try_into().ok()?);
    // The request's header follows the code; then, unless the ack is capped, the rest of the
    // request; then the extended ack attributes.
    let mut tlvs = 36;
    if flags & NLM_F_CAPPED == 0 {
        let request_len = u32::from_ne_bytes(message.get(20..24)?.try_into().ok()?) as usize;
        tlvs = 20 + request_len.next_multiple_of(4);
    }
    let text = if flags & NLM_F_ACK_TLVS != 0 {
        message.get(tlvs..).and_then(extack_message)
    } else {
        None
    };
    Some(Ack {
        seq,
        errno: code.saturating_abs(),
        message: text,
    })
}

/// The `NLMSGERR_ATTR_MSG` string among extended ack attributes.
fn extack_message(attributes: &[u8]) -> Option<String> {
    NlasIterator::new(attributes)
        .filter_map(|nla| nla.ok())
        .find(|nla| nla.kind() == NLMSGERR_ATTR_MSG)
        .map(|nla| {
            let value = nla.value();
            let text = value.split(|&b| b == 0).next().unwrap_or_default();
            String::from_utf8_lossy(text).into_owned()
        })
        .filter(|text| !text.is_empty())
}

/// The error for the first failed request of `chunk` (in queue order), if any failed.
fn first_failure(chunk: &[Pending], acks: &[Ack]) -> Option<Error> {
    chunk.iter().find_map(|pending| {
        let ack = acks.iter().find(|ack| ack.seq == pending.seq)?;
        (ack.errno != 0).then(|| error_for(pending, ack))
    })
}

/// Turns a failed ack into the crate's error, naming what was being done.
fn error_for(pending: &Pending, ack: &Ack) -> Error {
    let source = io::Error::from_raw_os_error(ack.errno);
    if let Some(feature) = pending.creates {
        // A link kind the kernel lacks (no module, or not built): `rtnl_newlink` answers
        // EOPNOTSUPP with the extended message "Unknown device type".
        let unknown_kind = ack.message.as_deref() == Some("Unknown device type");
        // A qdisc kind the kernel lacks: `qdisc_create` answers ENOENT with "Specified qdisc
        // kind is unknown".
        let unknown_qdisc = feature.starts_with("sch_") && ack.errno == libc::ENOENT;
        if ack.errno == libc::EOPNOTSUPP || unknown_kind || unknown_qdisc {
            let needed_for = pending.what.clone();
            return Error::KernelLacks {
                feature,
                needed_for,
                source,
            };
        }
    }
    let what = match &ack.message {
        Some(message) => format!("{} (the kernel says: {message})", pending.what),
        None => pending.what.clone(),
    };
    Error::Netlink { what, source }
}

// ---------------------------------------------------------------------------------------------
// Messages.

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
    /// The MTU of both ends; the kernel's default (1500) if `None`.
    pub mtu: Option<u32>,
}

impl VethSpec<'_> {
    pub(crate) fn message(&self) -> LinkMessage {
        let mut peer = LinkUnspec::new_with_name(self.peer)
            .index(self.peer_index)
            .setns_by_fd(self.peer_ns.as_raw_fd());
        if let Some(mtu) = self.mtu {
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

// ---------------------------------------------------------------------------------------------
// What dumps return.

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
    fn from_message(message: &RouteMessage) -> Route {
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

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use netlink_packet_core::NLM_F_REQUEST;
    use netlink_packet_route::link::InfoKind;

    use super::*;

    fn pending(seq: u32, what: &str, creates: Option<&'static str>) -> Pending {
        Pending {
            seq,
            end: 0,
            what: what.to_string(),
            creates,
        }
    }

    fn ack(seq: u32, errno: i32, message: Option<&str>) -> Ack {
        Ack {
            seq,
            errno,
            message: message.map(str::to_string),
        }
    }

    /// Builds an `NLMSG_ERROR` datagram as the kernel does, capped or not, with an optional
    /// extended ack message.
    fn error_message(seq: u32, code: i32, capped: bool, text: Option<&str>) -> Vec<u8> {
        let request_len: u32 = 40;
        let mut flags = 0u16;
        let mut body = Vec::new();
        body.extend_from_slice(&code.to_ne_bytes());
        // The request's header: length, type RTM_NEWLINK, flags, seq, port.
        body.extend_from_slice(&request_len.to_ne_bytes());
        body.extend_from_slice(&16u16.to_ne_bytes());
        body.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        body.extend_from_slice(&seq.to_ne_bytes());
        body.extend_from_slice(&0u32.to_ne_bytes());
        if capped {
            flags |= NLM_F_CAPPED;
        } else {
            body.extend_from_slice(&[0xAA; 24]);
        }
        if let Some(text) = text {
            flags |= NLM_F_ACK_TLVS;
            let value_len = text.len() + 1;
            body.extend_from_slice(&((4 + value_len) as u16).to_ne_bytes());
            body.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
            body.extend_from_slice(text.as_bytes());
            body.push(0);
            body.resize(body.len().next_multiple_of(4), 0);
        }
        let mut message = Vec::new();
        message.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
        message.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        message.extend_from_slice(&flags.to_ne_bytes());
        message.extend_from_slice(&seq.to_ne_bytes());
        message.extend_from_slice(&0u32.to_ne_bytes());
        message.extend_from_slice(&body);
        message
    }

    #[test]
    fn acks_are_parsed_with_their_sequence_number_and_errno() {
        let datagram = [
            error_message(7, 0, true, None),
            error_message(8, -libc::EEXIST, true, Some("File exists")),
            error_message(9, -libc::EOPNOTSUPP, false, Some("Unknown device type")),
        ]
        .concat();
        let acks: Vec<Ack> = messages(&datagram).filter_map(parse_ack).collect();
        assert_eq!(
            acks,
            [
                ack(7, 0, None),
                ack(8, libc::EEXIST, Some("File exists")),
                ack(9, libc::EOPNOTSUPP, Some("Unknown device type")),
            ]
        );
    }

    #[test]
    fn a_truncated_datagram_yields_only_whole_messages() {
        let mut datagram = error_message(1, 0, true, None);
        let whole = datagram.len();
        datagram.extend_from_slice(&error_message(2, 0, true, None)[..10]);
        assert_eq!(messages(&datagram).count(), 1);
        assert_eq!(messages(&datagram[..whole - 1]).count(), 0);
    }

    #[test]
    fn the_first_failure_in_queue_order_is_reported() {
        let chunk = [
            pending(10, "creating veth a", Some("veth")),
            pending(11, "adding 10.0.1.1/24 to node `a` eth0", None),
            pending(12, "adding a route in node `a`", None),
        ];
        // Acks may be read in any order; the failure of seq 11 comes first in the queue.
        let acks = [
            ack(12, libc::ENETUNREACH, None),
            ack(10, 0, None),
            ack(11, libc::ENODEV, None),
        ];
        match first_failure(&chunk, &acks) {
            Some(Error::Netlink { what, source }) => {
                assert_eq!(what, "adding 10.0.1.1/24 to node `a` eth0");
                assert_eq!(source.raw_os_error(), Some(libc::ENODEV));
            }
            other => panic!("expected a netlink error, got {other:?}"),
        }
        let fine = [ack(10, 0, None), ack(11, 0, None), ack(12, 0, None)];
        assert!(first_failure(&chunk, &fine).is_none());
    }

    #[test]
    fn an_unknown_link_kind_means_the_kernel_lacks_it() {
        let creating = pending(1, "creating veth x", Some("veth"));
        let error = error_for(
            &creating,
            &ack(1, libc::EOPNOTSUPP, Some("Unknown device type")),
        );
        match error {
            Error::KernelLacks {
                feature,
                needed_for,
                source,
            } => {
                assert_eq!(feature, "veth");
                assert_eq!(needed_for, "creating veth x");
                assert_eq!(source.raw_os_error(), Some(libc::EOPNOTSUPP));
            }
            other => panic!("expected KernelLacks, got {other:?}"),
        }
        // The same errno for a request that creates no link kind is a plain netlink error.
        let setting = pending(2, "setting lo up in node `a`", None);
        assert!(matches!(
            error_for(&setting, &ack(2, libc::EOPNOTSUPP, None)),
            Error::Netlink { .. }
        ));
        // A qdisc kind the kernel lacks is ENOENT.
        let netem = pending(3, "`delay=5ms` on node `a` eth0", Some("sch_netem"));
        let lacks = error_for(
            &netem,
            &ack(3, libc::ENOENT, Some("Specified qdisc kind is unknown")),
        );
        assert_eq!(
            lacks.to_string(),
            "this kernel lacks sch_netem, needed for `delay=5ms` on node `a` eth0"
        );
        // Another failure to create a link keeps the kernel's own message.
        match error_for(&creating, &ack(1, libc::EEXIST, Some("File exists"))) {
            Error::Netlink { what, source } => {
                assert_eq!(what, "creating veth x (the kernel says: File exists)");
                assert_eq!(source.raw_os_error(), Some(libc::EEXIST));
            }
            other => panic!("expected a netlink error, got {other:?}"),
        }
    }

    #[test]
    fn chunks_respect_the_message_and_byte_limits() {
        let many: Vec<Pending> = (0..150)
            .map(|i| Pending {
                end: (i + 1) * 100,
                ..pending(i as u32, "x", None)
            })
            .collect();
        assert_eq!(chunk_end(&many, 0, 0), CHUNK_MESSAGES);
        assert_eq!(chunk_end(&many, 128, 128 * 100), 150);
        let big: Vec<Pending> = (0..4)
            .map(|i| Pending {
                end: (i + 1) * 20_000,
                ..pending(i as u32, "x", None)
            })
            .collect();
        // One oversized request still goes alone rather than never.
        assert_eq!(chunk_end(&big, 0, 0), 1);
        assert_eq!(chunk_end(&big, 1, 20_000), 2);
    }

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
