//! UDP between nodes, for the NAT suites: a socket made in a node, and one datagram sent and
//! received, or found missing after [`PATIENCE`].

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use netns_test::Net;

/// How long a datagram may take before it counts as dropped: answers on a test network take
/// well under a millisecond.
pub const PATIENCE: Duration = Duration::from_millis(400);

/// A UDP socket bound in `node` on `port` (0: any), with [`PATIENCE`] as its read timeout.
pub fn udp(net: &Net, node: &str, port: u16) -> UdpSocket {
    let socket = net
        .node(node)
        .run(move || UdpSocket::bind(("0.0.0.0", port)).unwrap());
    socket.set_read_timeout(Some(PATIENCE)).unwrap();
    socket
}

/// A UDP server on port 3478 of node `server`, and the address to send to it at.
pub fn server(net: &Net) -> (UdpSocket, SocketAddr) {
    let target = SocketAddr::from((net.node("server").ip(), 3478));
    (udp(net, "server", 3478), target)
}

/// [`server`], and a peer's socket on port 4000 of node `peer`: the start of most NAT tests.
pub fn server_and_peer(net: &Net) -> (UdpSocket, UdpSocket, SocketAddr) {
    let (server, target) = server(net);
    (server, udp(net, "peer", 4000), target)
}

/// The next datagram on `socket` within [`PATIENCE`], with its source, if one comes.
pub fn receive(socket: &UdpSocket) -> Option<(String, SocketAddr)> {
    let mut buf = [0; 256];
    match socket.recv_from(&mut buf) {
        Ok((n, from)) => Some((String::from_utf8_lossy(&buf[..n]).into_owned(), from)),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => None,
        Err(e) => panic!("recv_from: {e}"),
    }
}

/// Sends `text` from `from` to `target`, where `to` listens, and returns where `to` received
/// it from, if it did.
pub fn send(
    from: &UdpSocket,
    to: &UdpSocket,
    target: SocketAddr,
    text: &str,
) -> Option<SocketAddr> {
    from.send_to(text.as_bytes(), target).unwrap();
    receive(to).map(|(got, source)| {
        assert_eq!(got, text);
        source
    })
}
