//! What a NAT rebinding does to a UDP protocol, and how a server survives it: the NAT moves
//! the client's mapping to a new outside port mid-conversation (`net.nat("home").rebind()`),
//! or itself to a new outside address (`net.nat("home").rebind_address()`, as when the ISP
//! hands out another lease), so the server sees the same client arrive from a new address, as
//! QUIC servers must expect (RFC 9000 section 9).
//!
//! ```text
//!   phone 192.168.1.1 -- home (NAT) 192.0.2.254 -- 192.0.2.1 server
//! ```
//!
//! The shape to copy: the server under test keeps its peers by something in the datagrams
//! (here a connection id, as QUIC does) and answers where the latest datagram came from; the
//! test rebinds the NAT between two exchanges and asserts that the answers still arrive. A
//! server that answers where a conversation started loses the client, which the second test
//! shows.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use netns_test::{Net, netns_test};

/// A tiny server: each datagram is `ID TEXT`; it answers `TEXT` back, either to where the
/// latest datagram of that id came from, or to where the id was first seen.
struct Server {
    socket: UdpSocket,
    peers: HashMap<String, SocketAddr>,
    follow: bool,
}

impl Server {
    fn start(net: &Net, follow: bool) -> Server {
        let socket = net
            .node("server")
            .run(|| UdpSocket::bind("0.0.0.0:4433").unwrap());
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        Server {
            socket,
            peers: HashMap::new(),
            follow,
        }
    }

    /// Reads one datagram and answers it.
    fn serve_one(&mut self) {
        let mut buf = [0; 256];
        let (n, from) = (self.socket.recv_from(&mut buf)).expect("the server hears the phone");
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        let (id, body) = text.split_once(' ').unwrap();
        let known = self.peers.entry(id.to_string()).or_insert(from);
        if self.follow {
            *known = from;
        }
        self.socket.send_to(body.as_bytes(), *known).unwrap();
    }
}

/// The phone's socket, which gives up waiting for an answer after half a second.
fn phone(net: &Net) -> UdpSocket {
    let socket = net
        .node("phone")
        .run(|| UdpSocket::bind("0.0.0.0:5000").unwrap());
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    socket
}

/// Sends `text` on connection 7 and returns the answer, if one comes.
fn ask(net: &Net, phone: &UdpSocket, server: &mut Server, text: &str) -> Option<String> {
    let to = SocketAddr::from((net.node("server").ip(), 4433));
    phone.send_to(format!("7 {text}").as_bytes(), to).unwrap();
    server.serve_one();
    let mut buf = [0; 256];
    let n = phone.recv(&mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[netns_test(topology = "phone -- home -- server; nat home [outside=server]")]
fn a_server_that_follows_its_peer_survives_a_rebinding(net: &Net) {
    let (phone, mut server) = (phone(net), Server::start(net, true));
    assert_eq!(
        ask(net, &phone, &mut server, "hello").as_deref(),
        Some("hello")
    );
    net.nat("home").rebind().unwrap();
    assert_eq!(
        ask(net, &phone, &mut server, "again").as_deref(),
        Some("again")
    );
    // The server saw connection 7 move to a new port of the NAT.
    assert_ne!(server.peers["7"].port(), 5000);
}

#[netns_test(topology = "phone -- home -- server; nat home [outside=server]")]
fn a_server_that_follows_its_peer_survives_an_address_change(net: &Net) {
    let (phone, mut server) = (phone(net), Server::start(net, true));
    assert_eq!(
        ask(net, &phone, &mut server, "hello").as_deref(),
        Some("hello")
    );
    let first = server.peers["7"];
    let new = net.nat("home").rebind_address().unwrap();
    assert_eq!(
        ask(net, &phone, &mut server, "again").as_deref(),
        Some("again")
    );
    // Connection 7 arrived from the NAT's new address, on the port it had.
    assert_eq!(server.peers["7"], SocketAddr::from((new, first.port())));
    assert_ne!(server.peers["7"].ip(), first.ip());
}

#[netns_test(topology = "phone -- home -- server; nat home [outside=server]")]
fn a_server_that_answers_the_first_address_loses_its_peer(net: &Net) {
    let (phone, mut server) = (phone(net), Server::start(net, false));
    assert_eq!(
        ask(net, &phone, &mut server, "hello").as_deref(),
        Some("hello")
    );
    net.nat("home").rebind().unwrap();
    assert_eq!(ask(net, &phone, &mut server, "again"), None);
}

netns_test::main!();
