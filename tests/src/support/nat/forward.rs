//! Port-forward probes: a server inside, a client that reaches it through an address.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use netns_test::Net;

use super::ask::ask;
use super::{CALLBACK_WAIT, STOP_POLL};

/// The address of node `node` on the subnet of node `peer`'s first address: a NAT router's
/// outside address, seen from a node on its outside (`address_facing(net, "home", "stun")`).
///
/// # Panics
///
/// If `node` has no address on that subnet.
pub fn address_facing(net: &Net, node: &str, peer: &str) -> Ipv4Addr {
    let peer_ip = net.node(peer).ip();
    net.node(node)
        .addrs()
        .find(|cidr| cidr.contains(peer_ip))
        .map(|cidr| cidr.addr())
        .unwrap_or_else(|| panic!("{node} has no address on the subnet of {peer} ({peer_ip})"))
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
