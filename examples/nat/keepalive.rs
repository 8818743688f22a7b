//! Why a long-lived connection needs keepalives behind a NAT: a NAT forgets a TCP connection
//! that stays idle longer than its timeout, and from then on drops its packets without a word.
//!
//! ```text
//!   laptop 192.168.1.1 -- home (NAT, tcp-timeout=2s) 192.0.2.254 -- 192.0.2.1 server
//! ```
//!
//! The shape to copy: the timeout is declared in the topology (`tcp-timeout=2s`, short so that
//! the test is quick; real NATs wait minutes to hours, and `net.nat("home").set_tcp_timeout`
//! changes it at run time), the client goes quiet for longer than that, and the test asserts
//! what the server receives afterwards: nothing without keepalives, everything with them.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use netns_test::{Net, netns_test};
use socket2::{SockRef, TcpKeepalive};

/// Longer than the NAT's `tcp-timeout=2s`.
const QUIET: Duration = Duration::from_millis(3500);

/// A connection from the laptop to the server, through the NAT: the laptop's end and the
/// server's, which gives up reading after a second.
fn connect(net: &Net) -> (TcpStream, TcpStream) {
    let listener = net
        .node("server")
        .run(|| TcpListener::bind("0.0.0.0:9000").unwrap());
    let server = SocketAddr::from((net.node("server").ip(), 9000));
    let laptop = net
        .node("laptop")
        .run(move || TcpStream::connect_timeout(&server, Duration::from_secs(2)).unwrap());
    let (accepted, _) = listener.accept().unwrap();
    accepted
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    (laptop, accepted)
}

/// What the server reads within a second, if anything.
fn read(mut server: &TcpStream) -> Option<String> {
    let mut buf = [0; 64];
    match server.read(&mut buf) {
        Ok(n) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(e) => panic!("the server's read failed: {e}"),
    }
}

#[netns_test(topology = "laptop -- home -- server; nat home [outside=server, tcp-timeout=2s]")]
fn without_keepalives_a_quiet_connection_is_lost(net: &Net) {
    let (mut laptop, server) = connect(net);
    laptop.write_all(b"hello").unwrap();
    assert_eq!(read(&server).as_deref(), Some("hello"));
    thread::sleep(QUIET);
    // The write succeeds (the laptop's kernel takes the data), but the NAT has forgotten the
    // connection: nothing arrives, and neither side is told.
    laptop.write_all(b"still there?").unwrap();
    assert_eq!(read(&server), None);
}

#[netns_test(topology = "laptop -- home -- server; nat home [outside=server, tcp-timeout=2s]")]
fn keepalives_keep_a_quiet_connection_open(net: &Net) {
    let (mut laptop, server) = connect(net);
    // A probe after a second of silence, then every second: each refreshes the NAT's timeout.
    let keepalive = TcpKeepalive::new()
        .with_time(Duration::from_secs(1))
        .with_interval(Duration::from_secs(1));
    SockRef::from(&laptop)
        .set_tcp_keepalive(&keepalive)
        .unwrap();
    laptop.write_all(b"hello").unwrap();
    assert_eq!(read(&server).as_deref(), Some("hello"));
    thread::sleep(QUIET);
    laptop.write_all(b"still there?").unwrap();
    assert_eq!(read(&server).as_deref(), Some("still there?"));
}

netns_test::main!();
