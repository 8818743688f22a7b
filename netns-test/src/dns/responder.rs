//! The responder: one UDP socket on `[::1]:53` in each namespace, one thread for all of them.
//!
//! A socket belongs for good to the namespace of the thread that made it, so [`start`] enters
//! each node in turn to make its socket (a `setns` and back, microseconds), then hands every
//! socket to one thread that waits on them all with `epoll` and answers from the [`Names`]
//! table, as that namespace's node sees it (with NATs, names depend on who asks: see
//! `names.rs`). A test with 200 nodes has 200 sockets and still one thread; the thread lives as long
//! as the test process, and the kernel closes the sockets with it.
//!
//! Why `[::1]:53` with `IPV6_V6ONLY`: a socket on an IPv4 loopback address (`127.0.0.53:53`)
//! would make a user's `bind 0.0.0.0:53` in the node fail with `EADDRINUSE`, and servers of
//! DNS bind that. An IPv6-only socket on `::1` shares port 53 with every IPv4 socket, wildcard
//! or not; only an IPv6 bind of `[::]:53` or `[::1]:53` meets it, and `SO_REUSEADDR` on both
//! sides lets even those through (the kernel then gives queries to `::1` to the more specific
//! socket, this one). Where IPv6 is off in a node's kernel (`disable_ipv6`, or a kernel booted
//! with `ipv6.disable=1`), `::1` does not exist: that node gets no socket, and a lookup there
//! fails at once (the datagram to `::1` cannot be sent), leaving `/etc/hosts`.

use std::io::{self, ErrorKind};
use std::net::{Ipv6Addr, SocketAddrV6, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::thread;

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::socket::{
    AddressFamily, SockFlag, SockType, SockaddrIn6, bind, setsockopt, socket, sockopt,
};

use super::names::{Found, Names, Viewer};
use super::wire::{self, NOERROR, NXDOMAIN, Request};
use crate::kernel::netns::Entered;
use crate::kernel::sockets;
use crate::{Error, Result};

/// The port, on `::1`.
pub(crate) const PORT: u16 = 53;

/// One namespace the responder answers in.
pub(crate) struct Asker<'a> {
    /// Its node's name, for errors.
    pub(crate) name: &'a str,
    /// The namespace; `None` for the calling thread's own, which is not entered.
    pub(crate) ns: Option<BorrowedFd<'a>>,
    /// Its node's number in the plan; `None` for `host` when the topology does not name it.
    pub(crate) node: Option<usize>,
}

/// Starts answering for `names` in each of `namespaces`, as `names` says at each query (the
/// network may change addresses at run time: see `Nat::rebind_address`).
pub(crate) fn start<'a>(
    names: Arc<RwLock<Names>>,
    namespaces: impl IntoIterator<Item = Asker<'a>>,
) -> Result<()> {
    let mut sockets = Vec::new();
    let mut viewers = Vec::new();
    for Asker {
        name: node,
        ns,
        node: index,
    } in namespaces
    {
        let made = match ns {
            Some(ns) => {
                let entered_error = |source| Error::EnterNamespace {
                    node: node.to_string(),
                    source,
                };
                let entered = Entered::new(ns).map_err(entered_error)?;
                let made = open();
                entered.leave().map_err(entered_error)?;
                made
            }
            None => open(),
        };
        match made {
            Ok(socket) => {
                sockets.push(socket);
                viewers.push(read(&names).viewer(index));
            }
            // No IPv6 in this node: no `::1` to answer on (see the module's docs).
            Err(Errno::EAFNOSUPPORT | Errno::EADDRNOTAVAIL) => {}
            Err(errno) => {
                return Err(Error::Io {
                    what: format!(
                        "cannot start the test's DNS responder in node `{node}`: binding \
                         [::1]:{PORT} failed (set NETNS_TEST_DNS=off to run without it)"
                    ),
                    source: io::Error::from(errno),
                });
            }
        }
    }
    if sockets.is_empty() {
        return Ok(());
    }
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).map_err(|errno| Error::Io {
        what: "cannot start the test's DNS responder: epoll_create failed".to_string(),
        source: errno.into(),
    })?;
    let sockets: Vec<UdpSocket> = sockets.into_iter().map(UdpSocket::from).collect();
    for (index, socket) in sockets.iter().enumerate() {
        sockets::hide(socket.as_fd());
        epoll
            .add(socket, EpollEvent::new(EpollFlags::EPOLLIN, index as u64))
            .map_err(|errno| Error::Io {
                what: "cannot start the test's DNS responder: epoll_ctl failed".to_string(),
                source: errno.into(),
            })?;
    }
    thread::Builder::new()
        .name("netns-test-dns".to_string())
        .spawn(move || serve(&epoll, &sockets, &viewers, &names))
        .map_err(|source| Error::Io {
            what: "cannot start the thread of the test's DNS responder".to_string(),
            source,
        })?;
    Ok(())
}

fn read(names: &RwLock<Names>) -> RwLockReadGuard<'_, Names> {
    names.read().unwrap_or_else(|e| e.into_inner())
}

/// A non-blocking IPv6-only UDP socket on `[::1]:53` in the calling thread's namespace.
fn open() -> nix::Result<OwnedFd> {
    let socket = socket(
        AddressFamily::Inet6,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )?;
    setsockopt(&socket, sockopt::Ipv6V6Only, &true)?;
    setsockopt(&socket, sockopt::ReuseAddr, &true)?;
    let addr = SockaddrIn6::from(SocketAddrV6::new(Ipv6Addr::LOCALHOST, PORT, 0, 0));
    bind(std::os::fd::AsRawFd::as_raw_fd(&socket), &addr)?;
    Ok(socket)
}

/// Answers every query that arrives, for ever: on `sockets[k]`, as `viewers[k]` sees the names.
fn serve(epoll: &Epoll, sockets: &[UdpSocket], viewers: &[Viewer], names: &RwLock<Names>) {
    let mut events = vec![EpollEvent::empty(); sockets.len().min(64)];
    let mut buffer = [0u8; 1500];
    loop {
        let ready = match epoll.wait(&mut events, EpollTimeout::NONE) {
            Ok(ready) => ready,
            Err(Errno::EINTR) => continue,
            // Nothing makes a wait on a valid epoll fail. If it did, returning closes the
            // sockets, so lookups fail at once rather than wait for an answer that never comes.
            Err(_) => return,
        };
        for event in &events[..ready] {
            let Some((socket, viewer)) = usize::try_from(event.data())
                .ok()
                .and_then(|i| Some((sockets.get(i)?, viewers.get(i)?)))
            else {
                continue;
            };
            loop {
                let (length, peer) = match socket.recv_from(&mut buffer) {
                    Ok(received) => received,
                    Err(error) if error.kind() == ErrorKind::WouldBlock => break,
                    Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                    // An ICMP error for an earlier answer, queued on the socket: read on.
                    Err(error)
                        if matches!(
                            error.kind(),
                            ErrorKind::ConnectionRefused
                                | ErrorKind::HostUnreachable
                                | ErrorKind::NetworkUnreachable
                        ) =>
                    {
                        continue;
                    }
                    Err(_) => break,
                };
                if let Some(answer) = answer(&buffer[..length], &read(names), viewer) {
                    // A client that left before its answer is no concern of the responder.
                    let _ = socket.send_to(&answer, peer);
                }
            }
        }
    }
}

/// The answer to one datagram from `viewer`, if it gets one.
fn answer(packet: &[u8], names: &Names, viewer: &Viewer) -> Option<Vec<u8>> {
    match wire::parse(packet) {
        Request::Query(query) => Some(match names.lookup(&query.name, query.qtype, viewer) {
            Found::Records(records) => query.answer(NOERROR, &records),
            Found::Nothing => query.answer(NXDOMAIN, &[]),
        }),
        Request::Refuse { id, rd, rcode } => Some(wire::refusal(id, rd, rcode)),
        Request::Ignore => None,
    }
}
