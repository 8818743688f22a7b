//! A server behind a home NAT, reached through a port forward, and what a visitor on the
//! internet can and cannot reach.
//!
//! ```text
//!   server 192.168.1.1 -- home (NAT) 192.0.2.254 -- switch internet -- 192.0.2.1 visitor
//!            :80           outside :8080 -> server:80
//! ```
//!
//! The shape to copy: the forward is declared in the topology
//! (`forward=tcp:8080:server:80`), the visitor connects to the NAT's outside address
//! (`net.nat("home").outside_ip()`), and the test asserts what each side sees.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use netns_test::{Net, netns_test};

/// Serves one connection on the server: answers with the address it saw the client at.
fn serve_once(net: &Net) -> std::thread::JoinHandle<SocketAddr> {
    let listener = net
        .node("server")
        .run(|| TcpListener::bind("0.0.0.0:80").unwrap());
    std::thread::spawn(move || {
        let (mut stream, peer) = listener.accept().unwrap();
        stream.write_all(peer.to_string().as_bytes()).unwrap();
        peer
    })
}

#[netns_test(topology = "
    switch internet
    {home visitor} -- internet
    server -- home
    nat home [outside=internet, forward=tcp:8080:server:80]
")]
fn a_visitor_reaches_the_server_through_the_forward(net: &Net) {
    let server = serve_once(net);
    let outside = SocketAddr::from((net.nat("home").outside_ip(), 8080));
    let seen = net.node("visitor").run(move || {
        let mut stream = TcpStream::connect_timeout(&outside, Duration::from_secs(2)).unwrap();
        let mut seen = String::new();
        stream.read_to_string(&mut seen).unwrap();
        seen
    });
    // A port forward translates the destination only: the server sees the visitor itself.
    let peer = server.join().unwrap();
    assert_eq!(peer.ip(), net.node("visitor").ip());
    assert_eq!(seen, peer.to_string());
    // The NAT lists the forwarded flow among its mappings.
    let mappings = net.nat("home").mappings().unwrap();
    assert!(
        mappings
            .iter()
            .any(|m| m.outside.port() == 8080 && m.inside.port() == 80),
        "{mappings:?}"
    );
}

#[netns_test(topology = "
    switch internet
    {home visitor} -- internet
    server -- home
    nat home [outside=internet, forward=tcp:8080:server:80]
")]
fn nothing_else_gets_in(net: &Net) {
    let _listener = net
        .node("server")
        .run(|| TcpListener::bind("0.0.0.0:22").unwrap());
    let home = net.nat("home").outside_ip();
    let server = net.node("server").ip();
    net.node("visitor").run(|| {
        // A port that is not forwarded: the NAT drops the SYN, so the connection times out.
        let unforwarded = SocketAddr::from((home, 22));
        let error =
            TcpStream::connect_timeout(&unforwarded, Duration::from_millis(500)).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::TimedOut, "{error}");
        // The server's private address: the visitor has no route to it at all.
        let private = SocketAddr::from((server, 22));
        let error = TcpStream::connect_timeout(&private, Duration::from_millis(500)).unwrap_err();
        assert_eq!(
            error.raw_os_error(),
            Some(101),
            "ENETUNREACH expected, got {error}"
        );
    });
}

netns_test::main!();
