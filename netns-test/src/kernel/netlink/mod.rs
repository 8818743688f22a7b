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
//! [`CHUNK_MESSAGES`](socket::CHUNK_MESSAGES) requests, each chunk's acks read before the next
//! is sent.
//!
//! # Namespaces
//!
//! A netlink socket works in the network namespace of the thread that opened it, for good:
//! [`Socket::open_in`] opens one with the thread briefly inside a node. Creating links is the
//! exception: a veth or bridge can be created from a socket in *any* namespace and placed by
//! `IFLA_NET_NS_FD` (both ends of a veth, each in its own namespace), which is much cheaper than
//! moving a link afterwards.
//!
//! # The parts
//!
//! - `socket`: the [`Socket`] itself: queueing requests, sending them in chunks, reading acks,
//!   and the raw dump exchange.
//! - `ack`: what the kernel answers to one request, and how a failure becomes an [`Error`].
//! - `messages`: the requests this crate sends (veth pairs, bridges, addresses, routes).
//! - `dump`: reading a namespace's links, addresses, routes and neighbours back.
//!
//! [`Error`]: crate::Error

mod ack;
mod dump;
mod messages;
mod socket;

pub(crate) use ack::{Ack, messages, parse_ack};
pub(crate) use dump::{Address, Link, Neighbour, Route, state_name};
pub(crate) use messages::{
    VethSpec, address_message, bridge_message, ipv4_route_message, ipv6_route_message,
    port_message, up_message,
};
pub(crate) use socket::Socket;

/// `ifindex` of `lo`, the same in every network namespace.
pub(crate) const LOOPBACK_INDEX: u32 = 1;
