//! NAT behaviour discovery in the manner of RFC 5780, hole punching and port-forward probes:
//! what a suite runs to show that a NAT maps and filters as its type says.
//!
//! Every helper returns what it observed and lets the test assert; a helper panics only when
//! the setup is broken (a server that never answers the first request, a port already bound).
//! Every wait is bounded: a request is sent [`TRIES`] times, [`TRY_WAIT`] apart.
//!
//! # The servers
//!
//! [`BehaviourServer`] has four UDP sockets and four TCP listeners: on the primary node's and on
//! the alternate node's address (two nodes, since a node has one address on a link), each on
//! [`PORTS`]. Every socket is made in its node (a socket keeps the namespace it was made in);
//! the UDP sockets are served by one thread each, the TCP listeners of a node by one thread
//! started in that node, so that the connections it makes back start there too. Dropping the
//! server raises a stop flag every thread reads at least every 50 ms, and joins them.
//!
//! [`Rendezvous`] is one UDP socket where peers register and learn each other's endpoint as the
//! server saw it (the public endpoint, behind a NAT).
//!
//! # The protocol (text, one request a datagram or a line, our own; not STUN's encoding)
//!
//! UDP, to any of the four sockets:
//! - `NTB1 <txid> <same|port|addr|both>`: answer from the same socket, from the other port of
//!   the same address, from the other address on the same port, or from the other address and
//!   port;
//! - answer `NTB1 <txid> <mapped> <answering>`: the source the server saw, and the socket that
//!   answers (both `ip:port`). The client drops answers of another `txid`, so a late answer to
//!   one test is never taken for the answer of the next.
//!
//! TCP, one line on a connection to any of the four listeners:
//! - `MAPPED` answered `MAPPED <ip:port>`: the source of this connection as the server saw it;
//! - `CALLBACK <port|addr> <ip:port>`: connect to that endpoint from the listener's own address
//!   and a new port (`port`), or from the other node's address and a new port (`addr`), write
//!   `NTB1 callback` on that connection, and answer `CALLBACK ok` or `CALLBACK failed <why>`
//!   on the first connection once the callback connected or gave up (after [`CALLBACK_WAIT`]).
//!
//! Rendezvous, UDP: `NTR1 REGISTER <name>` answered `NTR1 SEEN <name> <ip:port>`; `NTR1 LOOKUP
//! <name>` answered `NTR1 PEER <name> <ip:port>` or `NTR1 UNKNOWN <name>`. Peers send each other
//! `NTP1 PUNCH <from>` and answer `NTP1 ACK <from>`; the hairpin probe sends `NTP1 HAIRPIN
//! <from>`. Port-forward servers answer `NTF1 SAW <ip:port>`.
//!
//! # Timings
//!
//! A UDP test that gets its answer takes one round trip; one that never does takes
//! `TRIES * TRY_WAIT` = 450 ms. Mapping tests are answered by the socket asked, which any NAT
//! lets through; so a UDP discovery takes a few milliseconds with EIF, and about 0.9 s at most
//! (two filtering tests unanswered) with APDF. A TCP filtering test waits at most
//! [`CALLBACK_WAIT`] for the callback, then [`ACCEPT_WAIT`] for it to be accepted.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use netns_test::Net;
use netns_test::topology::{Filtering, Mapping};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    AddressFamily, Backlog, SockFlag, SockType, SockaddrIn, bind, connect, getsockname, listen,
    setsockopt, socket, sockopt,
};

/// The two ports of each server address.
pub const PORTS: [u16; 2] = [3478, 3479];
/// The rendezvous server's UDP port.
pub const RENDEZVOUS_PORT: u16 = 3480;
/// How many times a UDP request is sent before the helper says no answer came.
pub const TRIES: u32 = 3;
/// How long each try waits for its answer.
pub const TRY_WAIT: Duration = Duration::from_millis(150);
/// How long the server tries to connect back to a client (TCP filtering).
pub const CALLBACK_WAIT: Duration = Duration::from_millis(400);
/// How long the client waits, once the server said the callback connected, to accept it.
pub const ACCEPT_WAIT: Duration = Duration::from_millis(200);
/// How long two peers punch, at most.
pub const PUNCH_TIME: Duration = Duration::from_secs(1);
/// How often a punching peer sends.
pub const PUNCH_EVERY: Duration = Duration::from_millis(30);
/// How often a server thread looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);

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
}

/// The addresses of a [`BehaviourServer`]: primary and alternate, each on [`PORTS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerAddrs {
    pub primary: Ipv4Addr,
    pub alternate: Ipv4Addr,
}

impl ServerAddrs {
    /// Socket `node` (0 primary, 1 alternate), port `port` (index into [`PORTS`]).
    pub fn endpoint(&self, node: usize, port: usize) -> SocketAddrV4 {
        let ip = if node == 0 {
            self.primary
        } else {
            self.alternate
        };
        SocketAddrV4::new(ip, PORTS[port])
    }
}

/// A behaviour-discovery server on two nodes; stops and joins its threads when dropped.
#[derive(Debug)]
pub struct BehaviourServer {
    addrs: ServerAddrs,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// A job for a node's TCP thread: connect to `to`, say how it went on `reply`.
type Callback = (SocketAddrV4, mpsc::Sender<String>);

impl BehaviourServer {
    /// Starts the server on `primary` and `alternate` (their first IPv4 address), [`PORTS`].
    ///
    /// # Panics
    ///
    /// If a port cannot be bound there.
    pub fn start(net: &Net, primary: &str, alternate: &str) -> BehaviourServer {
        let addrs = ServerAddrs {
            primary: net.node(primary).ip(),
            alternate: net.node(alternate).ip(),
        };
        let names = [primary, alternate];
        let stop = Arc::new(AtomicBool::new(false));
        let mut udp = Vec::new();
        for (n, name) in names.iter().enumerate() {
            for p in 0..2 {
                let at = addrs.endpoint(n, p);
                let socket = net.node(name).run(|| UdpSocket::bind(at));
                let socket =
                    socket.unwrap_or_else(|e| panic!("cannot bind UDP {at} in {name}: {e}"));
                socket
                    .set_read_timeout(Some(STOP_POLL))
                    .expect("read timeout");
                udp.push(socket);
            }
        }
        let udp = Arc::new(udp);
        let mut threads = Vec::new();
        for index in 0..4 {
            let (udp, stop) = (Arc::clone(&udp), Arc::clone(&stop));
            threads.push(thread::spawn(move || serve_udp(&udp, index, &stop)));
        }
        let (primary_jobs, primary_rx) = mpsc::channel::<Callback>();
        let (alternate_jobs, alternate_rx) = mpsc::channel::<Callback>();
        let receivers = [primary_rx, alternate_rx];
        for (n, (name, jobs)) in names.iter().zip(receivers).enumerate() {
            let listeners: Vec<TcpListener> = (0..2)
                .map(|p| {
                    let at = addrs.endpoint(n, p);
                    let listener = net.node(name).run(|| TcpListener::bind(at));
                    let listener =
                        listener.unwrap_or_else(|e| panic!("cannot bind TCP {at} in {name}: {e}"));
                    listener
                        .set_nonblocking(true)
                        .expect("nonblocking listener");
                    listener
                })
                .collect();
            let other = if n == 0 {
                alternate_jobs.clone()
            } else {
                primary_jobs.clone()
            };
            let stop = Arc::clone(&stop);
            threads.push(
                net.node(name)
                    .spawn(move || serve_tcp(&listeners, &jobs, &other, &stop)),
            );
        }
        BehaviourServer {
            addrs,
            stop,
            threads,
        }
    }

    /// Its addresses.
    pub fn addrs(&self) -> ServerAddrs {
        self.addrs
    }
}

impl Drop for BehaviourServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            // A panic in a server thread shows in the test's output already.
            let _ = thread.join();
        }
    }
}

/// Serves UDP socket `index` (node `index / 2`, port `index % 2`) until `stop`.
fn serve_udp(sockets: &[UdpSocket], index: usize, stop: &AtomicBool) {
    let mut buffer = [0u8; 512];
    while !stop.load(Ordering::Relaxed) {
        let Ok((len, from)) = sockets[index].recv_from(&mut buffer) else {
            continue;
        };
        let text = String::from_utf8_lossy(&buffer[..len]);
        let mut words = text.split_whitespace();
        let (Some("NTB1"), Some(txid), Some(change)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        let (node, port) = (index / 2, index % 2);
        let (node, port) = match change {
            "same" => (node, port),
            "port" => (node, 1 - port),
            "addr" => (1 - node, port),
            "both" => (1 - node, 1 - port),
            _ => continue,
        };
        let answering = &sockets[node * 2 + port];
        let Ok(std::net::SocketAddr::V4(at)) = answering.local_addr() else {
            continue;
        };
        let answer = format!("NTB1 {txid} {from} {at}");
        let _ = answering.send_to(answer.as_bytes(), from);
    }
}

/// Serves one node's TCP listeners and the callbacks asked of it, until `stop`. Each connection
/// gets a thread, started from this one so that it is in the same node (a thread starts in its
/// creator's network namespace) and its callbacks connect from there.
fn serve_tcp(
    listeners: &[TcpListener],
    jobs: &mpsc::Receiver<Callback>,
    other: &mpsc::Sender<Callback>,
    stop: &Arc<AtomicBool>,
) {
    let mut connections = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let mut idle = true;
        for listener in listeners {
            if let Ok((stream, std::net::SocketAddr::V4(from))) = listener.accept() {
                idle = false;
                let (other, stop) = (other.clone(), Arc::clone(stop));
                connections.push(thread::spawn(move || {
                    let _ = answer_tcp(stream, from, &other, &stop);
                }));
            }
        }
        while let Ok((to, reply)) = jobs.try_recv() {
            idle = false;
            let _ = reply.send(call_back(to));
        }
        if idle {
            thread::sleep(Duration::from_millis(5));
        }
    }
    for connection in connections {
        let _ = connection.join();
    }
}

/// Answers the lines of one TCP connection from `from`, until it ends or `stop`.
fn answer_tcp(
    stream: TcpStream,
    from: SocketAddrV4,
    other: &mpsc::Sender<Callback>,
    stop: &AtomicBool,
) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(STOP_POLL))?;
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    while !stop.load(Ordering::Relaxed) {
        match reader.read_line(&mut line) {
            Ok(0) => return Ok(()),
            Ok(_) if line.ends_with('\n') => {}
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) => return Err(e),
        }
        let answer = answer_line(&line, from, other);
        line.clear();
        (&stream).write_all(format!("{answer}\n").as_bytes())?;
    }
    Ok(())
}

/// The answer to one request line of a TCP connection from `from`.
fn answer_line(line: &str, from: SocketAddrV4, other: &mpsc::Sender<Callback>) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words[..] {
        ["MAPPED"] => format!("MAPPED {from}"),
        ["CALLBACK", how, to] => {
            let Ok(to) = to.parse::<SocketAddrV4>() else {
                return "ERROR a bad endpoint".into();
            };
            let outcome = match how {
                "port" => call_back(to),
                "addr" => {
                    let (reply, outcome) = mpsc::channel();
                    let _ = other.send((to, reply));
                    outcome
                        .recv_timeout(CALLBACK_WAIT * 2)
                        .unwrap_or_else(|_| "failed the other node did not answer".into())
                }
                _ => "failed unknown callback".into(),
            };
            format!("CALLBACK {outcome}")
        }
        _ => "ERROR unknown request".into(),
    }
}

/// Connects to `to` from this thread's node, a new port; `ok` or `failed <why>`.
fn call_back(to: SocketAddrV4) -> String {
    match TcpStream::connect_timeout(&to.into(), CALLBACK_WAIT) {
        Ok(mut stream) => match stream.write_all(b"NTB1 callback\n") {
            Ok(()) => "ok".into(),
            Err(e) => format!("failed {e}"),
        },
        Err(e) => format!("failed {e}"),
    }
}

/// A transaction id no other request of this process has.
fn txid() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Sends `request` to `to` up to [`TRIES`] times and returns the first answer whose words start
/// with `expect`, from anywhere; `None` if none came in `TRIES * TRY_WAIT`.
fn ask(socket: &UdpSocket, to: SocketAddrV4, request: &str, expect: &[&str]) -> Option<String> {
    let mut buffer = [0u8; 512];
    for _ in 0..TRIES {
        // A connected socket sends to its peer only with `send`; `send_to` works for both.
        let _ = socket.send_to(request.as_bytes(), to);
        let deadline = Instant::now() + TRY_WAIT;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if left.is_zero() {
                break;
            }
            socket.set_read_timeout(Some(left)).expect("read timeout");
            let Ok(len) = socket.recv(&mut buffer) else {
                break;
            };
            let text = String::from_utf8_lossy(&buffer[..len]).into_owned();
            if text.split_whitespace().zip(expect).all(|(a, b)| a == *b)
                && text.split_whitespace().count() > expect.len()
            {
                return Some(text);
            }
        }
    }
    None
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
                panic!("the behaviour server at {to} never answered {client} (3 tries of 150 ms)")
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
        let filtering = if binding_test(&fresh, primary, "both", addrs.endpoint(1, 1)).is_some() {
            Filtering::EndpointIndependent
        } else if binding_test(&fresh, primary, "port", addrs.endpoint(0, 1)).is_some() {
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
        listen(&probe, Backlog::MAXCONN).expect("listen on the filtering port");
        let listener = TcpListener::from(probe);
        let (control, mapped) = tcp_mapped(fresh, first)
            .unwrap_or_else(|e| panic!("TCP from port {port} to {first}: {e}"));
        let called_back = |how: &str| {
            request_line(&control, &format!("CALLBACK {how} {mapped}"))
                .is_ok_and(|answer| answer.starts_with("CALLBACK "))
                && accepts_callback(&listener)
        };
        let filtering = if called_back("addr") {
            Filtering::EndpointIndependent
        } else if called_back("port") {
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
    })
}

/// A rendezvous server: peers register and look each other up; stops when dropped.
#[derive(Debug)]
pub struct Rendezvous {
    at: SocketAddrV4,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Rendezvous {
    /// Starts it on node `node`'s first address, [`RENDEZVOUS_PORT`].
    ///
    /// # Panics
    ///
    /// If the port cannot be bound.
    pub fn start(net: &Net, node: &str) -> Rendezvous {
        let at = SocketAddrV4::new(net.node(node).ip(), RENDEZVOUS_PORT);
        let socket = net.node(node).run(|| UdpSocket::bind(at));
        let socket = socket.unwrap_or_else(|e| panic!("cannot bind UDP {at} in {node}: {e}"));
        socket
            .set_read_timeout(Some(STOP_POLL))
            .expect("read timeout");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || serve_rendezvous(&socket, &flag));
        Rendezvous {
            at,
            stop,
            thread: Some(thread),
        }
    }

    /// Where it listens.
    pub fn at(&self) -> SocketAddrV4 {
        self.at
    }
}

impl Drop for Rendezvous {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve_rendezvous(socket: &UdpSocket, stop: &AtomicBool) {
    let mut peers: HashMap<String, std::net::SocketAddr> = HashMap::new();
    let mut buffer = [0u8; 512];
    while !stop.load(Ordering::Relaxed) {
        let Ok((len, from)) = socket.recv_from(&mut buffer) else {
            continue;
        };
        let text = String::from_utf8_lossy(&buffer[..len]);
        let words: Vec<&str> = text.split_whitespace().collect();
        let answer = match words[..] {
            ["NTR1", "REGISTER", name] => {
                peers.insert(name.to_string(), from);
                format!("NTR1 SEEN {name} {from}")
            }
            ["NTR1", "LOOKUP", name] => match peers.get(name) {
                Some(at) => format!("NTR1 PEER {name} {at}"),
                None => format!("NTR1 UNKNOWN {name}"),
            },
            _ => continue,
        };
        let _ = socket.send_to(answer.as_bytes(), from);
    }
}

/// Registers `name` from `socket`; the endpoint the rendezvous saw.
fn register(socket: &UdpSocket, rendezvous: SocketAddrV4, name: &str) -> SocketAddrV4 {
    let answer = ask(
        socket,
        rendezvous,
        &format!("NTR1 REGISTER {name}"),
        &["NTR1", "SEEN", name],
    )
    .unwrap_or_else(|| panic!("the rendezvous at {rendezvous} never answered {name}"));
    last_endpoint(&answer)
}

/// Looks `name` up from `socket`: its public endpoint.
fn lookup(socket: &UdpSocket, rendezvous: SocketAddrV4, name: &str) -> SocketAddrV4 {
    let answer = ask(
        socket,
        rendezvous,
        &format!("NTR1 LOOKUP {name}"),
        &["NTR1", "PEER", name],
    )
    .unwrap_or_else(|| panic!("the rendezvous at {rendezvous} does not know {name}"));
    last_endpoint(&answer)
}

fn last_endpoint(answer: &str) -> SocketAddrV4 {
    let last = answer.split_whitespace().last().unwrap_or_default();
    last.parse()
        .unwrap_or_else(|_| panic!("a bad endpoint in {answer:?}"))
}

/// Two peers' sockets, registered at a rendezvous, each knowing the other's public endpoint.
fn registered_pair(
    net: &Net,
    a: &str,
    b: &str,
    rendezvous: &Rendezvous,
) -> [(UdpSocket, SocketAddrV4); 2] {
    let bind = |node: &str| {
        net.node(node)
            .run(|| UdpSocket::bind("0.0.0.0:0"))
            .unwrap_or_else(|e| panic!("cannot bind a UDP socket in {node}: {e}"))
    };
    let (socket_a, socket_b) = (bind(a), bind(b));
    let at = rendezvous.at();
    register(&socket_a, at, a);
    register(&socket_b, at, b);
    let b_public = lookup(&socket_a, at, b);
    let a_public = lookup(&socket_b, at, a);
    [(socket_a, a_public), (socket_b, b_public)]
}

/// What two peers saw while punching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Punch {
    pub a_heard_b: bool,
    pub b_heard_a: bool,
    /// Their public endpoints, as the rendezvous saw them.
    pub a_public: SocketAddrV4,
    pub b_public: SocketAddrV4,
    /// Where the first datagram each heard came from.
    pub a_heard_b_from: Option<SocketAddrV4>,
    pub b_heard_a_from: Option<SocketAddrV4>,
}

/// UDP hole punching between nodes `a` and `b`: both register at `rendezvous` and learn the
/// other's public endpoint; then, started together at a barrier on threads in their nodes, each
/// sends `PUNCH` to the other's public endpoint every [`PUNCH_EVERY`] and answers every `PUNCH`
/// with `ACK`, for [`PUNCH_TIME`] or until it heard the other and the other heard it.
///
/// # Panics
///
/// If the rendezvous does not answer either peer.
pub fn punch(net: &Net, a: &str, b: &str, rendezvous: &Rendezvous) -> Punch {
    let [(socket_a, a_public), (socket_b, b_public)] = registered_pair(net, a, b, rendezvous);
    let barrier = Arc::new(Barrier::new(2));
    let start = |node: &str, other: &str, socket: UdpSocket, to: SocketAddrV4| {
        let (me, other, barrier) = (node.to_string(), other.to_string(), Arc::clone(&barrier));
        net.node(node).spawn(move || {
            barrier.wait();
            punch_loop(&socket, &me, &other, to)
        })
    };
    let thread_a = start(a, b, socket_a, b_public);
    let thread_b = start(b, a, socket_b, a_public);
    let a_heard_b_from = thread_a.join().expect("peer a's thread");
    let b_heard_a_from = thread_b.join().expect("peer b's thread");
    Punch {
        a_heard_b: a_heard_b_from.is_some(),
        b_heard_a: b_heard_a_from.is_some(),
        a_public,
        b_public,
        a_heard_b_from,
        b_heard_a_from,
    }
}

/// One peer's punching; where it first heard `other` from.
fn punch_loop(socket: &UdpSocket, me: &str, other: &str, to: SocketAddrV4) -> Option<SocketAddrV4> {
    let punch = format!("NTP1 PUNCH {me}");
    let ack = format!("NTP1 ACK {me}");
    let deadline = Instant::now() + PUNCH_TIME;
    let mut next_send = Instant::now();
    let mut heard = None;
    let mut heard_by_other = false;
    let mut buffer = [0u8; 512];
    while Instant::now() < deadline {
        if Instant::now() >= next_send {
            let _ = socket.send_to(punch.as_bytes(), to);
            next_send += PUNCH_EVERY;
        }
        let wake = next_send.min(deadline);
        let wait = wake.saturating_duration_since(Instant::now());
        socket
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .expect("read timeout");
        let Ok((len, std::net::SocketAddr::V4(from))) = socket.recv_from(&mut buffer) else {
            continue;
        };
        let text = String::from_utf8_lossy(&buffer[..len]);
        let words: Vec<&str> = text.split_whitespace().collect();
        match words[..] {
            ["NTP1", "PUNCH", name] if name == other => {
                heard.get_or_insert(from);
                let _ = socket.send_to(ack.as_bytes(), from);
            }
            ["NTP1", "ACK", name] if name == other => {
                heard.get_or_insert(from);
                heard_by_other = true;
            }
            _ => continue,
        }
        if let (Some(from), true) = (heard, heard_by_other) {
            // The other may still wait for an answer to its own punch.
            let _ = socket.send_to(ack.as_bytes(), from);
            break;
        }
    }
    heard
}

/// What a hairpin probe saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hairpin {
    /// Whether `to` received the probe.
    pub delivered: bool,
    /// Where it came from, as `to` saw it (RFC 4787 REQ-9 wants `from`'s public endpoint).
    pub source: Option<SocketAddrV4>,
    /// `from`'s and `to`'s public endpoints, as the rendezvous saw them.
    pub from_public: SocketAddrV4,
    pub to_public: SocketAddrV4,
}

/// A hairpin probe: `from` sends to `to`'s PUBLIC endpoint (learnt at `rendezvous`) every
/// [`PUNCH_EVERY`] for half of [`PUNCH_TIME`]; `to` only listens, having sent nothing but its
/// registration. Behind one NAT, delivery needs hairpinning and a filter that lets `from`'s
/// public endpoint in (EIF); with a filtering NAT, [`punch`] the two instead.
///
/// # Panics
///
/// If the rendezvous does not answer either peer.
pub fn hairpin(net: &Net, from: &str, to: &str, rendezvous: &Rendezvous) -> Hairpin {
    let [(sender, from_public), (receiver, to_public)] = registered_pair(net, from, to, rendezvous);
    let time = PUNCH_TIME / 2;
    let probe = format!("NTP1 HAIRPIN {from}");
    let listen = thread::spawn(move || {
        let deadline = Instant::now() + time;
        let mut buffer = [0u8; 512];
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let left = left.max(Duration::from_millis(1));
            receiver.set_read_timeout(Some(left)).expect("read timeout");
            if let Ok((len, std::net::SocketAddr::V4(source))) = receiver.recv_from(&mut buffer)
                && buffer[..len].starts_with(b"NTP1 HAIRPIN")
            {
                return Some(source);
            }
        }
        None
    });
    let deadline = Instant::now() + time;
    while Instant::now() < deadline && !listen.is_finished() {
        let _ = sender.send_to(probe.as_bytes(), to_public);
        thread::sleep(PUNCH_EVERY);
    }
    let source = listen.join().expect("the listening peer");
    Hairpin {
        delivered: source.is_some(),
        source,
        from_public,
        to_public,
    }
}

/// What a port-forward probe saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Forwarded {
    /// Whether the server's answer reached the client.
    pub answered: bool,
    /// The source the server saw, if the probe reached it.
    pub server_saw: Option<SocketAddrV4>,
}

/// UDP from node `client` to `target` (say the NAT's outside address and a forwarded port),
/// with a server in node `server` on `0.0.0.0:port` that answers `NTF1 SAW <source>`.
///
/// # Panics
///
/// If `port` cannot be bound in `server`.
pub fn udp_forward(
    net: &Net,
    client: &str,
    target: SocketAddrV4,
    server: &str,
    port: u16,
) -> Forwarded {
    let socket = net
        .node(server)
        .run(|| UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)))
        .unwrap_or_else(|e| panic!("cannot bind UDP port {port} in {server}: {e}"));
    socket
        .set_read_timeout(Some(STOP_POLL))
        .expect("read timeout");
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let serve = thread::spawn(move || {
        let mut saw = None;
        let mut buffer = [0u8; 512];
        while !flag.load(Ordering::Relaxed) {
            if let Ok((_, std::net::SocketAddr::V4(from))) = socket.recv_from(&mut buffer) {
                saw.get_or_insert(from);
                let _ = socket.send_to(format!("NTF1 SAW {from}").as_bytes(), from);
            }
        }
        saw
    });
    let answered = net.node(client).run(|| {
        let socket = UdpSocket::bind("0.0.0.0:0").expect("bind a UDP socket");
        ask(&socket, target, "NTF1 PROBE", &["NTF1", "SAW"]).is_some()
    });
    stop.store(true, Ordering::Relaxed);
    let server_saw = serve.join().expect("the forward server");
    Forwarded {
        answered,
        server_saw,
    }
}

/// TCP from node `client` to `target`, with a server in node `server` listening on
/// `0.0.0.0:port` that writes `NTF1 SAW <source>`; the connection waits [`CALLBACK_WAIT`] at
/// most, the answer one second.
///
/// # Panics
///
/// If `port` cannot be bound in `server`.
pub fn tcp_forward(
    net: &Net,
    client: &str,
    target: SocketAddrV4,
    server: &str,
    port: u16,
) -> Forwarded {
    let listener = net
        .node(server)
        .run(|| TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)))
        .unwrap_or_else(|e| panic!("cannot listen on TCP port {port} in {server}: {e}"));
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let serve = thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut stream, std::net::SocketAddr::V4(from))) => {
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.write_all(format!("NTF1 SAW {from}\n").as_bytes());
                    return Some(from);
                }
                _ => thread::sleep(Duration::from_millis(5)),
            }
        }
        None
    });
    let answered = net.node(client).run(|| {
        let Ok(stream) = TcpStream::connect_timeout(&target.into(), CALLBACK_WAIT) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut line = String::new();
        let _ = BufReader::new(&stream).read_line(&mut line);
        line.starts_with("NTF1 SAW ")
    });
    stop.store(true, Ordering::Relaxed);
    let server_saw = serve.join().expect("the forward server");
    Forwarded {
        answered,
        server_saw,
    }
}
