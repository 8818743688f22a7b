//! RFC 5780's mapping and filtering tests, over UDP and over TCP, run from a client node.

use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::thread;
use std::time::{Duration, Instant};

use netns_test::Net;
use netns_test::topology::{Filtering, Mapping};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    AddressFamily, Backlog, SockFlag, SockType, SockaddrIn, bind, connect, getsockname, listen,
    setsockopt, socket, sockopt,
};

use super::ask::{ask, txid};
use super::{ACCEPT_WAIT, BehaviourServer, CALLBACK_WAIT, TRIES, TRY_WAIT};

/// What a discovery found (RFC 5780 sections 4.3 and 4.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Discovered {
    pub mapping: Mapping,
    pub filtering: Filtering,
    /// The endpoint the primary address saw in test I: the client's public endpoint.
    pub mapped: SocketAddrV4,
    /// The client's own endpoint in test I (its address on `eth0`, the socket's port).
    pub local: SocketAddrV4,
    /// What tests I, II and III saw (primary:P1, alternate:P1, alternate:P2).
    pub seen: [SocketAddrV4; 3],
}

/// Knobs of [`discover_udp_with`].
#[derive(Clone, Copy, Debug, Default)]
pub struct DiscoveryOptions {
    /// `connect()` the filtering test's socket to primary:P1, so the client's own socket API
    /// receives from that endpoint only: filtering without a NAT that reports APDF, to show the
    /// filtering tests can tell it.
    pub connect_filter_socket: bool,
    /// TCP: leave the filtering port without a listener, so the client's own kernel refuses
    /// every callback (a reset): filtering without a NAT that reports APDF.
    pub refuse_callbacks: bool,
}

/// One UDP binding test: the mapped endpoint the server saw, if an answer came from `answerer`.
fn binding_test(
    socket: &UdpSocket,
    to: SocketAddrV4,
    change: &str,
    answerer: SocketAddrV4,
) -> Option<SocketAddrV4> {
    let id = txid();
    let answer = ask(socket, to, &format!("NTB1 {id} {change}"), &["NTB1", &id])?;
    let words: Vec<&str> = answer.split_whitespace().collect();
    let mapped: SocketAddrV4 = words.get(2)?.parse().ok()?;
    let from: SocketAddrV4 = words.get(3)?.parse().ok()?;
    (from == answerer).then_some(mapped)
}

/// The mapping behaviour from the endpoints three tests saw (RFC 5780 section 4.3).
fn classify_mapping(seen: [SocketAddrV4; 3]) -> Mapping {
    if seen[0] == seen[1] {
        Mapping::EndpointIndependent
    } else if seen[1] == seen[2] {
        Mapping::AddressDependent
    } else {
        Mapping::AddressAndPortDependent
    }
}

/// What discovery found, from the endpoints the mapping tests saw and the filtering tests'
/// answers: whether something got in from the other address and port (`eif`), and, asked only
/// if not, from the other port of the same address (`adf`).
fn discovered(
    seen: [SocketAddrV4; 3],
    local: SocketAddrV4,
    eif: bool,
    adf: impl FnOnce() -> bool,
) -> Discovered {
    let filtering = if eif {
        Filtering::EndpointIndependent
    } else if adf() {
        Filtering::AddressDependent
    } else {
        Filtering::AddressAndPortDependent
    };
    Discovered {
        mapping: classify_mapping(seen),
        filtering,
        mapped: seen[0],
        local,
        seen,
    }
}

/// [`discover_udp_with`] with the default options.
pub fn discover_udp(net: &Net, client: &str, server: &BehaviourServer) -> Discovered {
    discover_udp_with(net, client, server, DiscoveryOptions::default())
}

/// Runs RFC 5780's UDP tests from node `client` against `server`: mapping (tests I, II, III on
/// one socket) and filtering (from a fresh socket that has sent to primary:P1 only: an answer
/// from the other address and port means EIF, else one from the other port means ADF, else
/// APDF).
///
/// # Panics
///
/// If a mapping test, or the filtering socket's first request, gets no answer: the server is
/// not reachable from `client`, whatever the NAT.
pub fn discover_udp_with(
    net: &Net,
    client: &str,
    server: &BehaviourServer,
    options: DiscoveryOptions,
) -> Discovered {
    let addrs = server.addrs();
    let own_ip = net.node(client).ip();
    net.node(client).run(|| {
        let bind = || UdpSocket::bind("0.0.0.0:0").expect("bind a UDP socket");
        let socket = bind();
        let local = SocketAddrV4::new(own_ip, socket.local_addr().expect("local address").port());
        let tests = [(0, 0), (1, 0), (1, 1)];
        let seen = tests.map(|(n, p)| {
            let to = addrs.endpoint(n, p);
            binding_test(&socket, to, "same", to).unwrap_or_else(|| {
                panic!(
                    "the behaviour server at {to} never answered {client} ({TRIES} tries of \
                     {TRY_WAIT:?}): is it started, and is there a route?"
                )
            })
        });
        let fresh = bind();
        let primary = addrs.endpoint(0, 0);
        if options.connect_filter_socket {
            fresh
                .connect(primary)
                .expect("connect the filtering socket");
        }
        binding_test(&fresh, primary, "same", primary).unwrap_or_else(|| {
            panic!("the behaviour server at {primary} never answered {client}'s filtering socket")
        });
        let eif = binding_test(&fresh, primary, "both", addrs.endpoint(1, 1)).is_some();
        discovered(seen, local, eif, || {
            binding_test(&fresh, primary, "port", addrs.endpoint(0, 1)).is_some()
        })
    })
}

/// A TCP socket bound to `local` with `SO_REUSEADDR` and `SO_REUSEPORT`, so several can share
/// one local port (connections to different servers, and a listener).
fn reusable(local: SocketAddrV4) -> io::Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )?;
    setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    setsockopt(&fd, sockopt::ReusePort, &true)?;
    bind(fd.as_raw_fd(), &SockaddrIn::from(local))?;
    Ok(fd)
}

/// Connects a [`reusable`] socket to `to`, waiting [`CALLBACK_WAIT`] at most.
fn connect_from(local: SocketAddrV4, to: SocketAddrV4) -> io::Result<TcpStream> {
    let fd = reusable(local)?;
    match connect(fd.as_raw_fd(), &SockaddrIn::from(to)) {
        Ok(()) | Err(nix::Error::EINPROGRESS) => {}
        Err(e) => return Err(e.into()),
    }
    let timeout = PollTimeout::try_from(CALLBACK_WAIT).expect("a short timeout");
    let ready = poll(&mut [PollFd::new(fd.as_fd(), PollFlags::POLLOUT)], timeout)?;
    if ready == 0 {
        return Err(io::Error::new(
            ErrorKind::TimedOut,
            format!("connect to {to}"),
        ));
    }
    match nix::sys::socket::getsockopt(&fd, sockopt::SocketError)? {
        0 => {}
        errno => return Err(io::Error::from_raw_os_error(errno)),
    }
    let stream = TcpStream::from(fd);
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    Ok(stream)
}

/// Sends one line on `stream` and reads the answer's line.
fn request_line(stream: &TcpStream, line: &str) -> io::Result<String> {
    let mut stream_ref = stream;
    stream_ref.write_all(format!("{line}\n").as_bytes())?;
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer)?;
    Ok(answer.trim_end().to_string())
}

/// `MAPPED` on a new connection from `local` to `to`: the connection (kept open by the caller
/// while the local port is reused) and the source the server saw.
fn tcp_mapped(local: SocketAddrV4, to: SocketAddrV4) -> io::Result<(TcpStream, SocketAddrV4)> {
    let stream = connect_from(local, to)?;
    let answer = request_line(&stream, "MAPPED")?;
    let mapped = answer
        .strip_prefix("MAPPED ")
        .and_then(|m| m.parse().ok())
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidData, answer.clone()))?;
    Ok((stream, mapped))
}

/// Whether `listener` accepts the server's callback within [`ACCEPT_WAIT`].
fn accepts_callback(listener: &TcpListener) -> bool {
    let deadline = Instant::now() + ACCEPT_WAIT;
    while Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(ACCEPT_WAIT));
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                if line.trim_end() == "NTB1 callback" {
                    return true;
                }
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
    false
}

/// RFC 5780's tests over TCP, from node `client`.
///
/// Mapping: three connections from one local port (bound before connecting, `SO_REUSEADDR` and
/// `SO_REUSEPORT`) to primary:P1, alternate:P1 and alternate:P2; the sources the server saw are
/// compared as in [`discover_udp`]. Filtering: a fresh local port, a listener on it
/// (`SO_REUSEPORT`) and one connection from it to primary:P1, which asks for a connection back
/// to the mapped endpoint first from the alternate address (accepted: EIF), else from the
/// primary address and a new port (accepted: ADF), else APDF. What is measured is whether a SYN
/// from an endpoint the client never connected to reaches the client's listener on its mapped
/// endpoint, and the callback's own line arrives on it.
///
/// # Panics
///
/// If a mapping connection fails: the server is not reachable from `client` over TCP.
pub fn discover_tcp(net: &Net, client: &str, server: &BehaviourServer) -> Discovered {
    discover_tcp_with(net, client, server, DiscoveryOptions::default())
}

/// [`discover_tcp`] with `options` (see [`DiscoveryOptions::refuse_callbacks`]).
///
/// # Panics
///
/// As [`discover_tcp`].
pub fn discover_tcp_with(
    net: &Net,
    client: &str,
    server: &BehaviourServer,
    options: DiscoveryOptions,
) -> Discovered {
    let addrs = server.addrs();
    let own_ip = net.node(client).ip();
    net.node(client).run(|| {
        let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);
        let first = addrs.endpoint(0, 0);
        let (keep, mapped) = tcp_mapped(any, first)
            .unwrap_or_else(|e| panic!("TCP to the behaviour server at {first}: {e}"));
        let port = keep.local_addr().expect("local address").port();
        let local = SocketAddrV4::new(own_ip, port);
        let mut kept = vec![keep];
        let mut seen = [mapped; 3];
        for (i, (n, p)) in [(1, 0), (1, 1)].into_iter().enumerate() {
            let to = addrs.endpoint(n, p);
            let from = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
            let (stream, mapped) = tcp_mapped(from, to)
                .unwrap_or_else(|e| panic!("TCP from port {port} to {to}: {e}"));
            kept.push(stream);
            seen[i + 1] = mapped;
        }
        drop(kept);
        let probe = reusable(any).expect("a TCP socket for the filtering test");
        let port: SockaddrIn = getsockname(probe.as_raw_fd()).expect("its port");
        let port = port.port();
        let fresh = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
        if !options.refuse_callbacks {
            listen(&probe, Backlog::MAXCONN).expect("listen on the filtering port");
        }
        let listener = TcpListener::from(probe);
        let (control, mapped) = tcp_mapped(fresh, first)
            .unwrap_or_else(|e| panic!("TCP from port {port} to {first}: {e}"));
        let called_back = |how: &str| {
            request_line(&control, &format!("CALLBACK {how} {mapped}"))
                .is_ok_and(|answer| answer.starts_with("CALLBACK "))
                && accepts_callback(&listener)
        };
        let eif = called_back("addr");
        discovered(seen, local, eif, || called_back("port"))
    })
}
