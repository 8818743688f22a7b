//! One `NETLINK_NETFILTER` socket: a batch sent in one `send` with every ack read back, a
//! request with its ack, and a dump. Acks are matched and parsed by the rtnetlink client's code
//! (`netlink::parse_ack`), which does not depend on the protocol.
//!
//! nfnetlink handles a batch inside the `send` that carries it (a module it loads on the way
//! makes it replay the batch, still inside that call), so every answer is queued when `send`
//! returns: the socket is non-blocking, and reading stops when it would block.

use std::io;

use netlink_sys::SocketAddr;
use netlink_sys::protocols::NETLINK_NETFILTER;
use nix::libc;

use super::features;
use super::message::{Batch, NLM_F_ACK, NLM_F_REQUEST, Part};
use crate::kernel::netlink::{Ack, messages, parse_ack};
use crate::{Error, Result};

const RECV_BYTES: usize = 64 * 1024;
/// `NLMSG_DONE` and `NLMSG_ERROR`.
const NLMSG_DONE: u16 = 3;
const NLMSG_ERROR: u16 = 2;

pub(super) struct Socket {
    socket: netlink_sys::Socket,
    buf: Vec<u8>,
    next_seq: u32,
}

impl Socket {
    /// A socket in the calling thread's network namespace.
    pub(super) fn open() -> Result<Socket> {
        let open = || -> io::Result<netlink_sys::Socket> {
            let socket = netlink_sys::Socket::new(NETLINK_NETFILTER)?;
            socket.connect(&SocketAddr::new(0, 0))?;
            socket.set_non_blocking(true)?;
            let _ = socket.set_ext_ack(true);
            let _ = socket.set_cap_ack(true);
            Ok(socket)
        };
        let socket = open().map_err(|source| {
            if source.raw_os_error() == Some(libc::EPROTONOSUPPORT) {
                Error::KernelLacks {
                    feature: features::NETFILTER_NETLINK,
                    needed_for: "talking to netfilter".into(),
                    source,
                }
            } else {
                Error::Netlink {
                    what: "opening a netfilter netlink socket".into(),
                    source,
                }
            }
        })?;
        Ok(Socket {
            socket,
            buf: Vec::with_capacity(RECV_BYTES),
            next_seq: 1 << 20,
        })
    }

    /// Sends `batch` in one datagram and reads every ack; the first failure, in the batch's
    /// order, is the error, naming the message that caused it.
    pub(super) fn apply(&mut self, batch: Batch) -> Result<()> {
        let (bytes, parts) = batch.end();
        self.socket
            .send(&bytes, 0)
            .map_err(|source| Error::Netlink {
                what: format!(
                    "sending an nf_tables batch ({})",
                    parts[1..].first().map_or("empty", |p| p.what.as_str())
                ),
                source,
            })?;
        let acks = self.read_acks(&parts[0].what)?;
        match first_failure(&parts, &acks) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// Sends one request outside any batch (`bytes`, described by `part`) and reads its ack.
    pub(super) fn request(&mut self, bytes: Vec<u8>, part: Part) -> Result<()> {
        self.socket
            .send(&bytes, 0)
            .map_err(|source| Error::Netlink {
                what: format!("sending the request for {}", part.what),
                source,
            })?;
        let acks = self.read_acks(&part.what)?;
        match first_failure(std::slice::from_ref(&part), &acks) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// A sequence number for a request outside a batch.
    pub(super) fn seq(&mut self) -> u32 {
        self.next_seq += 1;
        self.next_seq
    }

    fn read_acks(&mut self, what: &str) -> Result<Vec<Ack>> {
        let mut acks = Vec::new();
        loop {
            match self.recv() {
                Ok(len) => acks.extend(messages(&self.buf[..len]).filter_map(parse_ack)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(acks),
                Err(source) => {
                    return Err(Error::Netlink {
                        what: format!("reading the kernel's answer to {what}"),
                        source,
                    });
                }
            }
        }
    }

    fn recv(&mut self) -> io::Result<usize> {
        self.buf.clear();
        self.buf.reserve(RECV_BYTES);
        let len = self.socket.recv(&mut self.buf, libc::MSG_TRUNC)?;
        if len > self.buf.len() {
            return Err(io::Error::other(format!(
                "a netlink datagram of {len} bytes did not fit in {} bytes",
                self.buf.len()
            )));
        }
        Ok(len)
    }

    /// Sends a dump request (`bytes`, sequence number `seq`) and returns the payload of every
    /// message of the answer, after the netlink header.
    pub(super) fn dump(&mut self, bytes: &[u8], seq: u32) -> io::Result<Vec<Vec<u8>>> {
        self.socket.send(bytes, 0)?;
        let mut found = Vec::new();
        loop {
            let len = match self.recv() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the kernel left a dump unfinished",
                    ));
                }
                result => result?,
            };
            for message in messages(&self.buf[..len]) {
                let kind = u16::from_ne_bytes([message[4], message[5]]);
                let message_seq = u32::from_ne_bytes(message[8..12].try_into().unwrap());
                if message_seq != seq {
                    continue;
                }
                match kind {
                    NLMSG_DONE => return Ok(found),
                    NLMSG_ERROR => {
                        let errno = parse_ack(message).map_or(libc::EIO, |a| a.errno);
                        if errno != 0 {
                            return Err(io::Error::from_raw_os_error(errno));
                        }
                    }
                    _ => found.push(message[16..].to_vec()),
                }
            }
        }
    }
}

/// The flags of a request that wants its ack.
pub(super) const REQUEST_ACK: u16 = NLM_F_REQUEST | NLM_F_ACK;

/// The error for the first failed message (in the batch's order), if any failed.
pub(super) fn first_failure(parts: &[Part], acks: &[Ack]) -> Option<Error> {
    parts.iter().find_map(|part| {
        let ack = acks
            .iter()
            .find(|ack| ack.seq == part.seq && ack.errno != 0)?;
        Some(features::error_for(part, ack))
    })
}
