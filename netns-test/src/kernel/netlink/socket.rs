//! The [`Socket`]: a queue of requests sent in chunks with their acks read back, and the raw
//! exchange of a dump. Why it works this way is told in the [module docs](super).

use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST,
    NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::route::RouteMessage;
use netlink_sys::SocketAddr;
use netlink_sys::protocols::NETLINK_ROUTE;
use nix::libc;

use super::ack::{Ack, Pending, first_failure, messages, parse_ack};
use crate::kernel::netns;
use crate::{Error, Result};

/// At most this many requests are sent before their acks are read (see the module docs).
pub(super) const CHUNK_MESSAGES: usize = 64;

/// At most this many bytes of requests go in one `send`; the kernel refuses a datagram larger
/// than the socket's send buffer (about 200 KiB by default).
const CHUNK_BYTES: usize = 32 * 1024;

/// Room for one datagram from the kernel: it never builds dump datagrams above 32 KiB.
const RECV_BYTES: usize = 64 * 1024;

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

    /// Queues removing an address.
    pub(crate) fn delete_address(&mut self, address: AddressMessage, what: String) {
        self.push(RouteNetlinkMessage::DelAddress(address), 0, what, None);
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

    /// Sends a dump request and collects its answer. A dump the kernel marks as interrupted
    /// (the table changed while it was read) is retried a few times.
    pub(super) fn dump(
        &mut self,
        request: RouteNetlinkMessage,
    ) -> io::Result<Vec<RouteNetlinkMessage>> {
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
pub(super) fn serialize(out: &mut Vec<u8>, message: RouteNetlinkMessage, flags: u16, seq: u32) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(seq: u32, end: usize) -> Pending {
        Pending {
            seq,
            end,
            what: "x".to_string(),
            creates: None,
        }
    }

    #[test]
    fn chunks_respect_the_message_and_byte_limits() {
        let many: Vec<Pending> = (0..150).map(|i| pending(i as u32, (i + 1) * 100)).collect();
        assert_eq!(chunk_end(&many, 0, 0), CHUNK_MESSAGES);
        assert_eq!(chunk_end(&many, 128, 128 * 100), 150);
        let big: Vec<Pending> = (0..4)
            .map(|i| pending(i as u32, (i + 1) * 20_000))
            .collect();
        // One oversized request still goes alone rather than never.
        assert_eq!(chunk_end(&big, 0, 0), 1);
        assert_eq!(chunk_end(&big, 1, 20_000), 2);
    }
}
