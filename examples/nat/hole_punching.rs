//! UDP hole punching between two peers behind NATs, through a rendezvous server on the
//! internet: the whole matrix of NAT types, one test per pair.
//!
//! ```text
//!                        switch internet (192.0.2.0/24)
//!          home-a .254 ------------+------------ .253 home-b
//!           (NAT, type A)          |          (NAT, type B)
//!               |              rendezvous .1         |
//!   peer-a 192.168.1.1                          peer-b 192.168.1.1
//! ```
//!
//! Both homes use `192.168.1.0/24`, as two real homes would, and nothing outside a home has a
//! route into it: the only way from one peer to the other is through both NATs. Each peer asks
//! the rendezvous server what its public endpoint is and learns the other's, then both send to
//! each other's public endpoint at once. Punching works when each NAT lets the other's packets
//! in: for every pair of cone NATs (their mapping does not depend on the destination), and for a
//! symmetric NAT against a NAT that filters by address only, or not at all; it fails for
//! symmetric against symmetric and against port-restricted, where each side's packets arrive
//! from a port the other never sent to.
//!
//! The shape to copy: [`punch`] returns what each peer heard, the test matrix is written once
//! by a `macro_rules!` over the NAT types (`topology = concat!(...)` builds each topology
//! string at compile time, so every one is still checked by the compiler), and each test
//! asserts one cell.

use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use netns_test::{Net, netns_test};

/// The port the rendezvous server listens on, and the port each peer punches from.
const RENDEZVOUS_PORT: u16 = 3478;
const PEER_PORT: u16 = 4000;

/// How long both peers keep punching before they give up.
const PUNCHING: Duration = Duration::from_millis(1200);

/// What each peer heard from the other.
#[derive(Debug, PartialEq, Eq)]
struct Punched {
    a_heard_b: bool,
    b_heard_a: bool,
}

impl Punched {
    fn both_ways(&self) -> bool {
        self.a_heard_b && self.b_heard_a
    }
}

/// Runs the rendezvous server on `rendezvous` and the two peers, and says who heard whom.
fn punch(net: &Net) -> Punched {
    let server = net
        .node("rendezvous")
        .run(|| UdpSocket::bind(("0.0.0.0", RENDEZVOUS_PORT)).unwrap());
    let rendezvous = SocketAddr::from((net.node("rendezvous").ip(), RENDEZVOUS_PORT));
    // The server answers each peer, once both have asked, with the other's public endpoint:
    // the source address and port the peer's packets arrived with.
    let introductions = thread::spawn(move || {
        let mut seen: Vec<SocketAddr> = Vec::new();
        let mut buf = [0; 16];
        while seen.len() < 2 {
            let (_, from) = server.recv_from(&mut buf).unwrap();
            if !seen.contains(&from) {
                seen.push(from);
            }
        }
        server
            .send_to(seen[1].to_string().as_bytes(), seen[0])
            .unwrap();
        server
            .send_to(seen[0].to_string().as_bytes(), seen[1])
            .unwrap();
    });
    let start = Arc::new(Barrier::new(2));
    let peers: Vec<_> = ["peer-a", "peer-b"]
        .into_iter()
        .map(|name| {
            let start = Arc::clone(&start);
            net.node(name).spawn(move || peer(rendezvous, &start))
        })
        .collect();
    let heard: Vec<bool> = peers.into_iter().map(|p| p.join().unwrap()).collect();
    introductions.join().unwrap();
    Punched {
        a_heard_b: heard[0],
        b_heard_a: heard[1],
    }
}

/// One peer: learns the other's public endpoint from the rendezvous server, then sends to it
/// every 20 ms while listening, and says whether anything came back from it. Once something
/// comes from the other's address, it answers where that came from (as ICE does with a
/// peer-reflexive candidate): behind a symmetric NAT the other's packets to us leave from a
/// port of their own, not the one the rendezvous server saw.
fn peer(rendezvous: SocketAddr, start: &Barrier) -> bool {
    let socket = UdpSocket::bind(("0.0.0.0", PEER_PORT)).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut buf = [0; 64];
    // Ask until the server answers (it answers once both peers have asked).
    let other: SocketAddr = loop {
        socket.send_to(b"hello", rendezvous).unwrap();
        if let Ok((n, from)) = socket.recv_from(&mut buf)
            && from == rendezvous
        {
            break std::str::from_utf8(&buf[..n]).unwrap().parse().unwrap();
        }
    };
    start.wait();
    let deadline = Instant::now() + PUNCHING;
    let (mut heard, mut target) = (false, other);
    while Instant::now() < deadline {
        socket.send_to(b"punch", target).unwrap();
        if let Ok((_, from)) = socket.recv_from(&mut buf)
            && from.ip() == other.ip()
        {
            heard = true;
            target = from;
        }
    }
    heard
}

/// One test per pair of NAT types: `name: type_a, type_b => punching works;`.
macro_rules! matrix {
    ($($name:ident: $a:literal, $b:literal => $works:expr;)*) => {$(
        #[netns_test(topology = concat!(
            "switch internet
             {home-a home-b rendezvous} -- internet
             peer-a -- home-a
             peer-b -- home-b
             nat home-a [outside=internet, type=", $a, "]
             nat home-b [outside=internet, type=", $b, "]"
        ))]
        fn $name(net: &Net) {
            let punched = punch(net);
            assert_eq!(
                punched.both_ways(),
                $works,
                "{} against {}: {punched:?}; the NATs' mappings now: {:?} and {:?}",
                $a,
                $b,
                net.nat("home-a").mappings().unwrap(),
                net.nat("home-b").mappings().unwrap(),
            );
        }
    )*};
}

matrix! {
    full_cone_and_full_cone: "full-cone", "full-cone" => true;
    full_cone_and_restricted_cone: "full-cone", "restricted-cone" => true;
    full_cone_and_port_restricted: "full-cone", "port-restricted" => true;
    full_cone_and_symmetric: "full-cone", "symmetric" => true;
    restricted_cone_and_restricted_cone: "restricted-cone", "restricted-cone" => true;
    restricted_cone_and_port_restricted: "restricted-cone", "port-restricted" => true;
    restricted_cone_and_symmetric: "restricted-cone", "symmetric" => true;
    port_restricted_and_port_restricted: "port-restricted", "port-restricted" => true;
    port_restricted_and_symmetric: "port-restricted", "symmetric" => false;
    symmetric_and_symmetric: "symmetric", "symmetric" => false;
    cgnat_and_port_restricted: "cgnat", "port-restricted" => true;
    cgnat_and_symmetric: "cgnat", "symmetric" => true;
}

/// A home NAT behind the ISP's carrier-grade NAT (double NAT) against an ordinary home:
/// punching still works, since both layers map endpoint-independently.
#[netns_test(topology = "
    switch internet
    {isp home-b rendezvous} -- internet
    peer-a -- home-a -- isp
    peer-b -- home-b
    nat home-a [outside=isp, type=port-restricted]
    nat isp [outside=internet, type=cgnat]
    nat home-b [outside=internet, type=port-restricted]
")]
fn double_nat_and_port_restricted(net: &Net) {
    let punched = punch(net);
    assert!(punched.both_ways(), "{punched:?}");
    // The home's own outside address is a carrier one (100.64.0.0/10), not public.
    assert_eq!(net.nat("home-a").outside_ip().octets()[..2], [100, 64]);
}

netns_test::main!();
