//! The rendezvous server, UDP hole punching between two peers, and the hairpin probe.

use std::collections::HashMap;
use std::net::{SocketAddrV4, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use netns_test::Net;

use super::ask::ask;
use super::{PUNCH_EVERY, PUNCH_TIME, RENDEZVOUS_PORT, STOP_POLL};

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
